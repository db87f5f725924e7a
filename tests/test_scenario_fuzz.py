"""Hostile scenario files fed to `python -m planning simulate` (issue 9 item 5, issue 8 « also found »).

Every case ends in exit 0 with finite, valid JSON, or exit 2 with French messages that each name a field
(or the file); never exit 1, a traceback or an English message.  The fixed cases are the ones of the
issue; the hypothesis part mutates a valid scenario at random places with hostile values.
"""
from __future__ import annotations

import copy
import json
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.store import PROJECT_ROOT
from planning.cli_simulate import main
from planning.simulation import MAX_STRUCTURES, controle_parametres, validate_scenario

EXAMPLE = json.loads((PROJECT_ROOT / "examples" / "scenarios" / "ctg_yonne_rural.json").read_text(encoding="utf-8"))
FIELD = re.compile(r"^  - (scénario|nom|periode|territoire|structures|parametres)\b[^:]* : \S")
ENGLISH = re.compile(r"Traceback|Error\b|Expecting|invalid literal|object of type|NoneType|not supported|"
                     r"unhashable|Exceeds the limit|codec|Erreur inattendue")


def _strict_loads(text: str):
    def refuse(token):
        raise AssertionError(f"{token} dans la sortie JSON")
    return json.loads(text, parse_constant=refuse)


def _finite(x) -> bool:
    if isinstance(x, float):
        return math.isfinite(x)
    if isinstance(x, dict):
        return all(_finite(v) for v in x.values())
    if isinstance(x, list):
        return all(_finite(v) for v in x)
    return True


def run(tmp_path, capsys, data=None, raw: bytes | None = None):
    """(exit code, stdout, stderr) of `simulate FILE --json`; checks the contract of every outcome."""
    f = tmp_path / "scenario.json"
    f.write_bytes(raw if raw is not None else json.dumps(data, ensure_ascii=False).encode("utf-8"))
    capsys.readouterr()
    code = main([str(f), "--json"])
    out, err = capsys.readouterr()
    assert code in (0, 2), (code, err)
    assert not ENGLISH.search(err), err
    if code == 0:
        d = _strict_loads(out)
        assert _finite(d)
    else:
        assert err.strip()
        lines = err.strip().splitlines()
        if "scénario invalide" in lines[0]:
            bad = [l for l in lines[1:] if not FIELD.match(l)]
            assert not bad, bad
        else:  # file-level refusal: names the file
            assert lines[0].startswith(str(f)), lines[0]
    return code, out, err


def scen(**changes):
    d = copy.deepcopy(EXAMPLE)
    d.update(changes)
    return d


# -- the cases of the issue ------------------------------------------------------------------

@pytest.mark.parametrize("value, reason", [
    (float("nan"), "nombre fini attendu"),
    (float("inf"), "nombre fini attendu"),
    ("900", "nombre attendu"),
    (-5, "nombre négatif"),
    (1e308, "valeur hors limites"),
    (10 ** 400, "nombre trop grand"),
])
def test_parameter_overrides_are_checked(tmp_path, capsys, reference_store, value, reason):
    raw = json.dumps(scen(parametres={"bonus.mixite_montant_intermediaire": value})).encode()
    code, _, err = run(tmp_path, capsys, raw=raw)
    assert code == 2
    assert f"parametres.bonus.mixite_montant_intermediaire : {reason}" in err


def test_parameter_overrides_keep_their_shape(tmp_path, capsys, reference_store):
    code, _, err = run(tmp_path, capsys, scen(parametres={
        "bonus.trajectoire_seuils_croissance": [0.12, 0.08, 0.04],      # not increasing
        "psu.regle_taux_facturation": "forfait",                        # unknown rule
        "bonus.attractivite_par_place": {"publique": 475},              # missing key
        "bonus.trajectoire_montants": [100, 200]}))                     # wrong length
    assert code == 2
    assert "parametres.bonus.trajectoire_seuils_croissance : valeurs croissantes attendues" in err
    assert "parametres.psu.regle_taux_facturation : valeur attendue parmi : lineaire, paliers" in err
    assert "parametres.bonus.attractivite_par_place : objet attendu avec les clés privee, publique" in err
    assert "parametres.bonus.trajectoire_montants : liste de 3 nombres attendue" in err


def test_a_valid_override_is_used(tmp_path, capsys, reference_store):
    code, out, _ = run(tmp_path, capsys, scen(parametres={"bonus.attractivite_par_place": {"publique": 500,
                                                                                           "privee": 1000}}))
    assert code == 0
    d = json.loads(out)
    # 2024, Toucy: 24 places × 500 € (publique) = 12 000 €
    toucy = next(s for s in d["annees"][1]["structures"] if s["structure_id"] == "toucy")
    assert toucy["valeurs"]["bonus_attractivite"] == 12000


def test_plain_number_places_get_the_per_inhabitant_check(tmp_path, capsys, reference_store):
    d = scen()
    d["structures"][0]["places_ouvertes"] = 5000     # Toucy, 2 571 inhabitants: 0,25 × 2 571 = 643 at most
    code, _, err = run(tmp_path, capsys, d)
    assert code == 2
    assert "structures[0].places_ouvertes : 5\u202f000 places pour une commune de" in err


@pytest.mark.parametrize("periode, expected", [
    ({"debut": 2023, "fin": 9999}, "periode.fin : 9999 hors des années simulables (2018 à 2040)"),
    ({"debut": 10 ** 20, "fin": 10 ** 20}, "periode.debut : valeur hors des années simulables"),
    ({"debut": 2016, "fin": 2020}, "periode.debut : 2016 hors des années simulables (2018 à 2040)"),
    ({"debut": "2023", "fin": 2027}, "periode.debut : année entière attendue"),
    ({"debut": 2018, "fin": 2040}, "periode : 23 années, c'est trop (21 au plus)"),
])
def test_period_bounds(tmp_path, capsys, reference_store, periode, expected):
    code, _, err = run(tmp_path, capsys, scen(periode=periode))
    assert code == 2 and expected in err


def test_odd_ids_and_numbers(tmp_path, capsys, reference_store):
    d = scen()
    d["structures"][0]["id"] = ["a", "b"]
    d["structures"][1]["prix_revient_horaire"] = 10 ** 400
    d["structures"][2]["places_ouvertes"] = {"2_026": 12, "2026": "douze"}
    code, _, err = run(tmp_path, capsys, d)
    assert code == 2
    assert "structures[0].id : texte attendu" in err
    assert "structures[1].prix_revient_horaire : nombre trop grand" in err
    assert "structures[2].places_ouvertes : la clé « 2_026 » doit être une année sur quatre chiffres" in err
    assert "structures[2].places_ouvertes.2026 : nombre attendu" in err


def test_deep_nesting_and_huge_integers_in_the_file(tmp_path, capsys):
    code, _, err = run(tmp_path, capsys, raw=b"[" * 100_000 + b"]" * 100_000)
    assert code == 2 and "imbriqués trop profondément" in err
    code, _, err = run(tmp_path, capsys, raw=b'{"nom": ' + b"9" * 5000 + b"}")
    assert code == 2 and "nombre démesuré" in err
    nested: dict = {"fin": 1}
    for k in "abcdefghijklm":
        nested = {k: nested}
    code, _, err = run(tmp_path, capsys, scen(parametres={"x": nested}))
    assert code == 2 and "imbriqués trop profondément (12 niveaux au plus)" in err
    assert validate_scenario(scen(parametres={"x": nested})) == [
        "scénario : objets et listes imbriqués sur plus de 12 niveaux (voir docs/SCENARIOS.md)"]


def test_utf8_bom_is_accepted_and_other_encodings_refused_in_french(tmp_path, capsys, reference_store):
    text = json.dumps(EXAMPLE, ensure_ascii=False)
    code, out, _ = run(tmp_path, capsys, raw=b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert code == 0 and json.loads(out)["territoire"]["nom"] == "CC de Puisaye-Forterre"
    code, _, err = run(tmp_path, capsys, raw=text.encode("cp1252"))
    assert code == 2 and "n'est pas en UTF-8" in err
    code, _, err = run(tmp_path, capsys, raw=b'{"nom": "x",}')
    assert code == 2 and "JSON invalide (nom de champ entre guillemets attendu)" in err


def test_too_many_structures_is_refused_at_once(tmp_path, capsys):
    d = scen()
    d["structures"] = [dict(EXAMPLE["structures"][0], id=f"s{i}") for i in range(MAX_STRUCTURES + 1)]
    code, _, err = run(tmp_path, capsys, d)
    assert code == 2
    assert "structures : 2\u202f001 structures, c'est trop (2\u202f000 au plus par scénario)" in err


def test_file_size_limit(tmp_path, capsys):
    code, _, err = run(tmp_path, capsys, raw=b" " * 5_000_001 + b"{}")
    assert code == 2 and "trop gros pour un scénario (5 Mo au plus" in err


def test_growth_from_zero_places_is_written_null_not_infinity(tmp_path, capsys, reference_store):
    d = scen()
    d["territoire"]["places_psu_cofinancees_reference"] = 0
    code, out, _ = run(tmp_path, capsys, d)
    assert code == 0
    assert "Infinity" not in out and json.loads(out)["annees"][-1]["trajectoire"]["croissance"] is None


# -- periods before 2023 (issue 8, « also found ») ---------------------------------------------

def test_a_ctg_signed_in_2020_runs_from_2018(tmp_path, capsys, reference_store):
    d = scen(periode={"debut": 2018, "fin": 2024})
    for s in d["structures"]:
        s["places_ouvertes"] = {"2018": 10}
        s["prix_revient_horaire"] = 11.0
    code, out, _ = run(tmp_path, capsys, d)
    assert code == 0
    r = json.loads(out)
    y2018 = r["annees"][0]
    # bonuses that did not exist yet are 0, with the reason in the détail; the PSU is computed
    assert y2018["totaux"]["bonus_mixite"] == 0 and y2018["totaux"]["bonus_territoire_nouvelles"] == 0
    det = y2018["structures"][0]["detail"]["bonus_mixite"]["formule"]
    assert det == "pas de bonus mixité sociale en 2018 (en vigueur à partir de 2019)"
    assert y2018["totaux"]["psu"] > 0
    assert r["annees"][1]["totaux"]["bonus_mixite"] > 0                       # 2019
    assert r["annees"][2]["totaux"]["bonus_territoire_existantes"] > 0        # 2020
    # no alert threshold before 2023: said once, never an error
    assert any("Pas d'alerte de cofinancement pour 2018 à 2022" in n for n in r["notes"])


def test_text_output_before_2023(tmp_path, capsys, reference_store):
    d = scen(periode={"debut": 2019, "fin": 2023})
    for s in d["structures"]:
        s["places_ouvertes"] = {"2019": 10}
        s["prix_revient_horaire"] = 11.0
    f = tmp_path / "s.json"
    f.write_text(json.dumps(d), encoding="utf-8")
    assert main([str(f)]) == 0
    out = capsys.readouterr().out
    assert "2019–2023" in out and "Pas d'alerte de cofinancement pour 2019 à 2022" in out


def test_missing_parameter_is_refused_up_front_naming_it(tmp_path):
    """A parameter file whose PSU ceiling starts in 2021: 2019-2020 cannot be simulated."""
    import shutil

    from planning.parametres import BAREMES_DIR, Baremes

    for p in BAREMES_DIR.glob("*.yaml"):
        shutil.copy(p, tmp_path / p.name)
    psu = (tmp_path / "psu.yaml").read_text(encoding="utf-8")
    psu = "\n".join(line for line in psu.splitlines()
                    if not any(f"{{depuis: {y}-01-01, valeur: {v}," in line
                               for y, v in (("2018", "7.87"), ("2019", "7.97"), ("2020", "8.07"))))
    (tmp_path / "psu.yaml").write_text(psu, encoding="utf-8")
    msgs = controle_parametres(Baremes(directory=tmp_path), 2019, 2024)
    assert msgs == ["periode : le paramètre psu.prix_plafond_reference n'a pas de valeur pour 2019 à 2020 "
                    "(première valeur connue : 01/01/2021) ; commencez la période plus tard ou saisissez sa "
                    "valeur dans « parametres »"]
    assert controle_parametres(Baremes(), 2018, 2040) == []


# -- fuzz ----------------------------------------------------------------------------------------

HOSTILE = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10 ** 6), st.integers(min_value=10 ** 300, max_value=10 ** 400),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e308, -0.0, 0, 2023, 9999, 10 ** 20]),
    st.text(max_size=30), st.sampled_from(["2023", "", "publique", "89419", "![x](http://198.51.100.7/a.png)"]),
    st.lists(st.integers(0, 3000), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(-5, 50), max_size=3),
    st.dictionaries(st.sampled_from(["2018", "2023", "2025", "abcd", "2_026"]), st.floats(-10, 1e6), max_size=3),
)
PATHS = [
    ("nom",), ("periode",), ("periode", "debut"), ("periode", "fin"), ("territoire",), ("territoire", "nom"),
    ("territoire", "communes"), ("territoire", "communes", 0), ("territoire", "places_psu_cofinancees_reference"),
    ("territoire", "potentiel_financier_par_habitant"), ("territoire", "annee_reference"), ("territoire", "qpv"),
    ("territoire", "montant_cej_par_place"), ("structures",), ("structures", 0), ("structures", 1, "id"),
    ("parametres",), ("parametres", "bonus.mixite_montant_max"), ("parametres", "psu.taux_psu"),
    ("parametres", "bonus.trajectoire_seuils_croissance"), ("parametres", "ctg.periode_defaut"),
    ("parametres", "bonus.trajectoire_annee_reference"), ("parametres", "inconnu"),
] + [("structures", i, k) for i in (0, 2) for k in (
    "nom", "code_insee", "gestion", "psu", "places_ouvertes", "prix_revient_horaire", "heures_facturees_par_place",
    "taux_facturation", "part_regime_general", "participation_horaire_moyenne", "participations_familiales",
    "part_enfants_handicap", "cout_annuel_par_place", "journees_pedagogiques", "cofinancements", "fournit_repas")]


def _set(d, path, value):
    x = d
    for k in path[:-1]:
        if isinstance(x, dict):
            x = x.setdefault(k, {})
        elif isinstance(x, list) and isinstance(k, int) and k < len(x):
            x = x[k]
        else:
            return
        if not isinstance(x, (dict, list)):
            return
    k = path[-1]
    if isinstance(x, dict):
        x[k] = value
    elif isinstance(x, list) and isinstance(k, int) and k < len(x):
        x[k] = value


@settings(max_examples=int(__import__("os").environ.get("FUZZ_N", 100)), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(PATHS), HOSTILE), min_size=1, max_size=3), st.booleans())
def test_fuzz_cli_never_crashes(tmp_path, capsys, reference_store, changes, bom):
    d = copy.deepcopy(EXAMPLE)
    d["periode"] = {"debut": 2024, "fin": 2025}      # small output: the fuzz stays fast
    for path, value in changes:
        _set(d, path, value)
    try:
        text = json.dumps(d, ensure_ascii=False)      # NaN and Infinity are written as Python's json writes them
    except ValueError:
        return
    raw = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8", "surrogatepass")
    run(tmp_path, capsys, raw=raw)


@settings(max_examples=int(__import__("os").environ.get("FUZZ_N", 150)), deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4),
                    max_leaves=30))
def test_fuzz_validator_on_any_json(data):
    errs = validate_scenario(data, communes=None)
    assert errs and all(isinstance(e, str) and " : " in e for e in errs)
