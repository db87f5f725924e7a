"""RPE target (COG-01-11, legal obligation of 1 January 2026) and ``python -m planning rpe-target``."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from data.store import PROJECT_ROOT, LayerInfo
from data.entrees import load_inputs
from planning.entrees import CoucheAbsente, CoverageInputs, Provenance
from planning.parametres import Baremes
from planning.cli_rpe import main
from planning.rpe import communes_obligees, rpe_target
from planning.territoires import Territoire, TerritoireInconnu

T = pd.Timestamp


def communes_frame() -> pd.DataFrame:
    rows = [
        # code, nom, dep, reg, population, epci
        ("01010", "Grandville", "01", "84", 15000, "X"),
        ("01020", "Moyenville", "01", "84", 11000, "Y"),
        ("01021", "Voisin", "01", "84", 3000, "Y"),
        ("01030", "Seuleville", "01", "84", 10500, "Z"),
        ("01040", "Pilepoil", "01", "84", 10000, "Z"),     # exactly 10 000: not "over 10 000"
        ("02010", "Ailleurs", "02", "32", 50000, "W"),     # département without structure list
    ]
    df = pd.DataFrame(rows, columns=["code_insee", "nom", "dep", "reg", "population", "epci_siren"])
    df["dep_nom"] = df["dep"].map({"01": "Ain", "02": "Aisne"})
    df["epci_nom"] = "EPCI " + df["epci_siren"]
    return df


def structures_frame() -> pd.DataFrame:
    rows = [
        ("r1", "01010", "RPE", T("2010-01-01"), pd.NaT),
        ("r2", "01021", "RPE", T("2015-01-01"), pd.NaT),            # intercommunal RPE of EPCI Y
        ("c1", "01030", "EAJE", T("2015-01-01"), pd.NaT),           # a crèche is not an RPE
        ("r3", "01030", "RPE", T("2020-01-01"), T("2022-06-30")),   # closed before the years tested
    ]
    df = pd.DataFrame(rows, columns=["id", "code_insee", "type", "date_ouverture", "date_fermeture"])
    df["places"] = [0, 0, 30, 0]
    df["psu"] = [False, False, True, False]
    df["etp_animation"] = [1.0, 1.0, np.nan, 1.0]
    df["nb_assistants_maternels"] = [50.0, 40.0, np.nan, 30.0]
    return df


@pytest.fixture(scope="module")
def inputs() -> CoverageInputs:
    enfants = pd.DataFrame({"code_insee": communes_frame()["code_insee"],
                            "enfants_moins_3": [450.0, 330.0, 90.0, 300.0, 300.0, 1500.0]})
    return CoverageInputs(communes=communes_frame(), enfants=enfants, structures=structures_frame(),
                          provenance={"structures": Provenance("structures", True, "fictif", "fictif", "t", "")})


def test_three_towns_one_in_town_one_from_elsewhere_one_none(inputs):
    res = rpe_target(inputs, 2024, departement="01")
    b = Baremes()
    # Grandville (RPE in town), Moyenville (RPE in Voisin, same EPCI), Seuleville (none); Pilepoil = 10 000
    assert [v.code for v in res.villes] == ["01010", "01020", "01030"]
    assert res.nb_communes == 3 and res.nb_avec_rpe == 1
    assert res.part == pytest.approx(1 / 3)
    assert res.cible == b.value("objectifs_cog.part_villes_10000_avec_rpe", 2024) == 0.95
    assert res.atteinte is False
    assert [v.code for v in res.sans_rpe] == ["01020", "01030"]
    assert [v.code for v in res.couvertes_ailleurs] == ["01020"]
    assert res.couvertes_ailleurs[0].rpe_ailleurs == [{"code": "01021", "nom": "Voisin", "nb_rpe": 1}]
    # Seuleville: 30 crèche places for 300 children → 10 per 100
    assert res.sans_rpe[1].taux_eaje == pytest.approx(10.0)
    assert res.echeance_legale == dt.date(2026, 1, 1) and res.echeance_depassee is False
    d = res.to_dict()
    json.dumps(d)  # JSON-ready
    assert d["sans_rpe"] == ["01020", "01030"] and d["couvertes_ailleurs"] == ["01020"]
    assert d["nb_communes_plus_10000"] == 3 and d["nb_avec_rpe"] == 1
    table = res.table().set_index("code")
    assert table["avec_rpe"].tolist() == [True, False, False]
    assert table.loc["01020", "rpe_ailleurs"] == "Voisin (01021)"


def test_target_of_2026_and_deadline(inputs):
    res = rpe_target(inputs, 2026, departement="01")
    assert res.cible == 1.0 and res.echeance_depassee is True and res.atteinte is False
    assert rpe_target(inputs, 2022, departement="01").cible is None  # before the COG 2023-2027


def test_national_perimeter_counts_only_listed_departements(inputs):
    res = rpe_target(inputs, 2024)
    # Ailleurs (Aisne) is over 10 000 but the structure list covers only the Ain
    assert res.nb_communes == 3 and res.villes_sans_donnee == ["02010"]
    assert res.to_dict()["nb_communes_plus_10000_perimetre"] == 4


def test_rpe_open_in_year_only(inputs):
    # r1 closes in 2025: in 2025 Grandville has no RPE in town
    s = structures_frame()
    s.loc[s["id"] == "r1", "date_fermeture"] = T("2025-06-30")
    res = rpe_target(inputs.with_structures(s), 2025, departement="01")
    assert res.nb_avec_rpe == 0 and res.part == 0


def test_errors_in_french(inputs):
    with pytest.raises(TerritoireInconnu, match="inconnu"):
        rpe_target(inputs, 2024, departement="99")
    with pytest.raises(CoucheAbsente, match="structures"):
        rpe_target(inputs.with_structures(None), 2024)


def test_real_referentiel_towns_over_10000(reference_store):
    communes = reference_store.read("communes", columns=["code_insee", "nom", "dep", "reg", "population"])
    assert len(communes_obligees(communes, 2026)) == 1048
    yonne = communes_obligees(communes, 2026, departement="89")
    assert sorted(yonne["nom"]) == ["Auxerre", "Sens"] and sorted(yonne["code_insee"]) == ["89024", "89387"]
    # the same perimeter through rpe_target, with one RPE placed in Auxerre
    s = structures_frame().iloc[:1].assign(code_insee="89024")
    inp = load_inputs(reference_store).with_structures(s)
    res = rpe_target(inp, 2026, departement="89")
    assert res.nb_communes == 2 and res.nb_avec_rpe == 1 and [v.code for v in res.sans_rpe] == ["89387"]


def _write_structures(store) -> None:
    s = structures_frame().iloc[:2].copy()
    s["code_insee"] = ["89024", "89464"]  # Auxerre; Villeneuve-sur-Yonne (CA du Grand Sénonais, like Sens)
    s["nom"] = ["RPE d'Auxerre", "RPE intercommunal"]
    s["gestion"] = "publique"
    s["latitude"] = np.nan
    s["longitude"] = np.nan
    store.write_layer("structures", s, LayerInfo("structures", 0, "fictif", "fictif", "test CLI", label="test"))


def test_cli_json_in_subprocess(tmp_store):
    _write_structures(tmp_store)
    env = dict(os.environ, ATLAS_DATA_DIR=str(tmp_store.root))
    out = subprocess.run([sys.executable, "-m", "planning", "rpe-target", "--departement", "89", "--json",
                          "--annee", "2026"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    # Auxerre has an RPE in town; Sens (27 106 inhabitants) is covered from Villeneuve-sur-Yonne only
    assert d["nb_communes_plus_10000"] == 2 and d["nb_avec_rpe"] == 1 and d["part"] == 0.5
    assert d["cible"] == 1.0 and d["atteinte"] is False and d["echeance_depassee"] is True
    assert d["sans_rpe"] == ["89387"] and d["couvertes_ailleurs"] == ["89387"]
    assert d["source_structures"] == "structures : données fictives de démonstration"


def test_cli_text_and_errors(tmp_store, tmp_path, monkeypatch, capsys):
    _write_structures(tmp_store)
    monkeypatch.setenv("ATLAS_DATA_DIR", str(tmp_store.root))
    assert main(["--departement", "89", "--annee", "2024"]) == 0
    text = capsys.readouterr().out
    assert "50,0\u202f%" in text and "cible COG 2024 : 95,0\u202f%" in text and "89387 Sens" in text
    assert main(["--region", "27", "--annee", "2024"]) == 0  # Bourgogne-Franche-Comté
    assert main(["--departement", "98"]) == 2
    assert "inconnu" in capsys.readouterr().err
    assert main(["--annee", "deux-mille"]) == 2
    assert "année" in capsys.readouterr().err
    tmp_store.delete_layer("structures")
    assert main(["--departement", "89"]) == 1
    assert "« structures » est absente" in capsys.readouterr().err
    monkeypatch.setenv("ATLAS_DATA_DIR", str(tmp_path / "vide"))
    assert main([]) == 1
    assert "build-reference" in capsys.readouterr().err


def test_restricting_the_target_to_one_ept_keeps_only_its_towns(reference_store):
    """Plaine Commune (EPT) inside Seine-Saint-Denis: the share is computed on its own towns."""
    from data.entrees import load_inputs
    from planning.rpe import rpe_target

    inputs = load_inputs(reference_store)
    if not inputs.has_structures():
        pytest.skip("pas de liste de structures dans le magasin")
    dep = rpe_target(inputs, 2026, departement="93")
    pc = dep.restreint(Territoire("ept", "200057867", "Plaine Commune"))
    expected = [v for v in dep.villes if v.ept_code == "200057867"]
    assert pc.nb_communes == len(expected) and 0 < pc.nb_communes < dep.nb_communes
    assert pc.nb_avec_rpe == sum(v.nb_rpe > 0 for v in expected)
    assert pc.to_dict()["territoire"]["nom"] == "Plaine Commune"


# -- a perimeter that no structure list covers (issue 9, item 8) ---------------------------------

def test_no_structure_list_reads_as_missing_not_zero(inputs):
    """The Aisne (02) has a town over 10 000 but the structure list covers only the Ain."""
    res = rpe_target(inputs, 2026, departement="02")
    assert res.sans_liste and res.nb_communes == 0 and res.villes_sans_donnee == ["02010"]
    assert res.part is None and res.atteinte is None
    assert res.phrase_part() == "donnée non disponible (aucune liste de structures pour ce territoire)"
    assert res.message_donnee_absente.startswith(
        "Donnée non disponible : aucune liste de structures ne couvre ce territoire (Département Aisne (02), "
        "1 commune de plus de 10\u202f000 habitants). Départements couverts par la liste importée : 01.")
    d = res.to_dict()
    assert d["donnees_disponibles"] is False and d["nb_communes_plus_10000_perimetre"] == 1
    from planning.cli_rpe import format_text

    text = format_text(res)
    assert "Donnée non disponible" in text and "Communes concernées : 02010" in text
    assert "Communes de plus de 10" not in text.splitlines()[3]     # no « 0 commune » line
    # where a list exists, the same sentence gives the count
    covered = rpe_target(inputs, 2024, departement="01")
    assert not covered.sans_liste and covered.phrase_part() == "1 sur 3 (33,3\u202f%)"
    assert covered.to_dict()["message_donnee_absente"] is None


def test_restricting_to_a_territory_keeps_its_towns_without_data(inputs):
    res = rpe_target(inputs, 2026).restreint(Territoire("epci", "W", "EPCI W"), communes=["02010"])
    assert res.sans_liste and res.villes_sans_donnee == ["02010"]


def test_rpe_page_for_a_departement_without_structure_list(reference_store):
    """/rpe?dep=01 on the demo store: « donnée non disponible », no error, no « 0 commune(s) »."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params["dep"] = "01"
    at.run()
    at.switch_page("pages/rpe.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error], [e.value for e in at.error]
    assert any(w.value.startswith("Donnée non disponible") for w in at.warning)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["avec un RPE situé dans la commune"] == "n.d."
    # the label comes from the dated threshold (10 000 inhabitants, U+202F between thousands)
    assert int(metrics["Communes de plus de 10\u202f000 hab."].replace("\u202f", "")) > 0
    table = at.dataframe[0].value
    assert set(table["RPE dans la commune"]) == {"donnée non disponible"}


def test_labels_follow_the_dated_parameters():
    """Targets and thresholds are written from objectifs_cog.yaml, never typed in a label."""
    from planning.catalogue import libelle_cibles
    from planning.coverage import tailles
    from planning.rpe import PARAM_CIBLE

    b = Baremes()
    # COG-01-11: 0.90 from 2023, 0.95 from 2024, 1.00 from 2025 → grouped over 2023-2027
    assert libelle_cibles(PARAM_CIBLE, range(2023, 2028), b) == "90\u202f% (2023), 95\u202f% (2024), 100\u202f% (2025-2027)"
    assert tailles(2026, b) == ("moins de 3\u202f500", "3\u202f500 à 10\u202f000", "plus de 10\u202f000")
    edited = b.with_overrides({"objectifs_cog.seuil_population_obligation_rpe": 12000,
                               "objectifs_cog.part_villes_10000_avec_rpe": 0.97})
    assert tailles(2026, edited)[2] == "plus de 12\u202f000"
    assert libelle_cibles(PARAM_CIBLE, range(2023, 2028), edited) == "97\u202f% (2023-2027)"
