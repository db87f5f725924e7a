"""The dated parameter files themselves: shape, sources, start dates, consistency, history and the
« what changed between two dates » comparison."""
import datetime as dt

import pytest
import yaml

from planning.parametres import BAREMES_DIR, CONFIDENCES, Baremes, ParametreAbsent, _parse_file
from planning.simulation import PARAMETRES_REQUIS, REGLES_DATEES, controle_parametres

B = Baremes()
PREMIERE_ANNEE = dt.date(2018, 1, 1)


def test_every_value_has_date_source_confidence_and_no_project_note_as_source():
    for name in B.names():
        d = B.definition(name)
        assert d.description and d.unite, name
        for v in d.valeurs:
            assert isinstance(v.depuis, dt.date) and v.confiance in CONFIDENCES, name
            assert v.confiance_date in (None, *CONFIDENCES), name
            low = v.source.lower()
            # sources shown to users name the real text, never the project's own notes
            for bad in ("référentiel métier", "domain.md", "docs/", "§"):
                assert bad not in low, (name, v.source)
            assert v.url == "" or v.url.startswith("https://"), name


def test_engine_parameters_have_a_value_from_2018_or_say_why_not():
    """Every parameter the simulator reads has a value on 1 Jan 2018, or is explicitly « not in force
    before its first date » with the reason (« avant »), shown on the Barèmes page and in messages."""
    used = set(PARAMETRES_REQUIS)
    for _label, key, members in REGLES_DATEES.values():
        used |= {key, *members}
    used |= {"psu.seuils_paliers_facturation", "psu.seuils_lineaire_facturation", "psu.annee_gel_plateau_haut",
             "psu.revalorisation_2025_plateau_haut", "bonus.attractivite_par_place",
             "bonus.trajectoire_seuils_croissance", "bonus.trajectoire_montants", "bonus.trajectoire_annee_reference",
             "bonus.trajectoire_annee_fin", "participations.plancher_ressources", "participations.plafond_ressources",
             "participations.taux_effort_collectif", "participations.taux_effort_familial",
             "participations.bareme_micro_creche", "participations.decalage_aeeh"}
    for name in sorted(used):
        d = B.definition(name)
        if d.premiere_date > PREMIERE_ANNEE:
            assert d.avant, f"{name} starts on {d.premiere_date} without saying why (« avant »)"
        else:
            B.get(name, PREMIERE_ANNEE)
    # and a scenario over 2018–2040 passes the up-front check
    assert controle_parametres(B, 2018, 2040) == []


def test_missing_value_message_says_why():
    with pytest.raises(ParametreAbsent, match="bonus rattrapage versé à partir de 2021"):
        B.get("bonus.rattrapage_montant_max", "2020-12-31")


@pytest.mark.parametrize("name,veille,jour,avant,apres", [
    ("bonus.mixite_seuils_participation", "2023-12-31", "2024-01-01", [0.75, 1.00, 1.25], [0.87, 1.15, 1.46]),
    ("bonus.territoire_nouvelles_montant_max", "2020-12-31", "2021-01-01", 3100, 3600),
    ("bonus.territoire_nouvelles_montant_min", "2020-12-31", "2021-01-01", 2100, 2600),
    ("bonus.handicap_plafond_par_place", "2019-12-31", "2020-01-01", 1300, 1300),
    ("psu.regle_taux_facturation", "2024-12-31", "2025-01-01", "paliers", "lineaire"),
    ("psu.prix_plafond_reference", "2021-12-31", "2022-01-01", 8.15, 8.56),
    ("psu.prix_plafond_reference", "2022-12-31", "2023-01-01", 8.56, 9.13),
    ("psu.prix_plafond_reference", "2023-12-31", "2024-01-01", 9.13, 9.45),
    ("psu.prix_plafond_reference", "2024-12-31", "2025-01-01", 9.45, 9.64),
    ("psu.revalorisation_prix_plafond", "2021-12-31", "2022-01-01", 0.01, 0.05),
    ("psu.revalorisation_prix_plafond", "2024-12-31", "2025-01-01", 0.0349, 0.02),
    ("participations.bareme_micro_creche", "2019-08-31", "2019-09-01", "familial", "collectif"),
])
def test_step_boundaries(name, veille, jour, avant, apres):
    assert B.value(name, veille) == avant
    assert B.value(name, jour) == apres


@pytest.mark.parametrize("name,jour_absent,premier_jour", [
    ("bonus.mixite_montant_max", "2018-12-31", "2019-01-01"),
    ("bonus.handicap_taux", "2018-12-31", "2019-01-01"),
    ("bonus.territoire_nouvelles_montant_max", "2019-12-31", "2020-01-01"),
    ("bonus.rattrapage_montant_max", "2020-12-31", "2021-01-01"),
    ("bonus.attractivite_par_place", "2023-12-31", "2024-01-01"),
    ("psu.journees_pedagogiques_max", "2023-12-31", "2024-01-01"),
    ("bonus.trajectoire_montants", "2024-12-31", "2025-01-01"),
    ("bonus.ctre_places_nouvelles", "2024-12-31", "2025-01-01"),
    ("psu.annee_gel_plateau_haut", "2024-12-31", "2025-01-01"),
])
def test_start_dates(name, jour_absent, premier_jour):
    assert B.get_or_none(name, jour_absent) is None
    assert B.get_or_none(name, premier_jour) is not None


def test_prix_plafond_follows_the_yearly_revaluations():
    # each derived reference = previous × (1 + revaluation of the year), rounded to the cent:
    # 7.87 × 1.0123 = 7.97 ; 7.97 × 1.0123 = 8.07 ; 8.07 × 1.01 = 8.15 ; 8.15 × 1.05 = 8.56 ;
    # 8.56 × 1.0671 = 9.13 ; 9.13 × 1.0349 = 9.45 ; 9.45 × 1.02 = 9.64 ; 2026: + 0 (not found) = 9.64
    for y in range(2019, 2027):
        prev = B.value("psu.prix_plafond_reference", y - 1)
        reval = B.value("psu.revalorisation_prix_plafond", y)
        assert B.value("psu.prix_plafond_reference", y) == pytest.approx(round(prev * (1 + reval), 2)), y
    # the known revaluations are confirmed, 2019, 2020 and 2026 are not
    conf = {y: B.get("psu.revalorisation_prix_plafond", y).confiance for y in range(2019, 2027)}
    assert conf == {2019: "?", 2020: "?", 2021: "C", 2022: "C", 2023: "C", 2024: "C", 2025: "C", 2026: "?"}
    assert "12 novembre 2025" in B.get("psu.revalorisation_prix_plafond", 2025).source
    assert "10 février 2022" in B.get("psu.revalorisation_prix_plafond", 2022).source
    assert "6 septembre 2022" in B.get("psu.revalorisation_prix_plafond", 2022).source


def test_history_and_differences_between_two_years():
    h = B.historique("participations.plafond_ressources")
    assert [p.depuis.isoformat() for p in h] == ["2018-01-01", "2019-09-01", "2020-01-01", "2021-01-01",
                                                  "2022-01-01", "2024-09-01", "2025-09-01"]
    diff = {d["parametre"]: d for d in B.differences(2023, 2024)}
    assert diff["bonus.mixite_seuils_participation"]["avant"].valeur == [0.75, 1.00, 1.25]
    assert diff["bonus.mixite_seuils_participation"]["apres"].valeur == [0.87, 1.15, 1.46]
    assert diff["participations.plancher_ressources"]["apres"].valeur == 765.77
    assert diff["bonus.attractivite_par_place"]["avant"] is None          # did not exist in 2023
    assert "participations.plafond_ressources" not in diff                # 6 000 € on both dates
    assert "participations.plafond_ressources" in {d["parametre"] for d in B.differences("2024-08-31", "2024-09-01")}
    assert B.differences(2023, 2023) == []


def test_file_errors_are_french_and_name_the_parameter(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text(yaml.safe_dump({"p": {"description": "d", "unite": "u", "valeurs": [
        {"depuis": "2020-01-01", "valeur": 1, "source": "s", "confiance": "C", "confiance_date": "X"}]}}),
        encoding="utf-8")
    with pytest.raises(ValueError, match="x.yaml : p, confiance « X » inconnue"):
        _parse_file(bad)
    bad.write_text(yaml.safe_dump({"p": {"description": "d", "unite": "u", "choix": {"a": "A"}, "valeurs": [
        {"depuis": "2020-01-01", "valeur": "b", "source": "s", "confiance": "C"}]}}), encoding="utf-8")
    with pytest.raises(ValueError, match="valeur « b » absente de « choix »"):
        _parse_file(bad)
    bad.write_text(yaml.safe_dump({"p": {"description": "d", "unite": "u", "valeurs": [
        {"depuis": "2020-01-01", "valeur": 1, "source": "s", "confiance": "C", "sourse": "typo"}]}}), encoding="utf-8")
    with pytest.raises(ValueError, match="clé\\(s\\) inconnue\\(s\\) : sourse"):
        _parse_file(bad)


def test_scenario_may_choose_a_rule_among_its_choices_only():
    from planning.simulation import _check_override

    assert _check_override("bonus.handicap_lecture", "toutes_places", B) is None
    assert "proportionnelle" in _check_override("bonus.handicap_lecture", "par_enfant", B)


def test_every_yaml_file_is_listed_in_the_directory():
    assert {p.stem for p in BAREMES_DIR.glob("*.yaml")} >= {"psu", "bonus", "participations", "ctg", "couverture",
                                                              "objectifs_cog", "saisie"}
