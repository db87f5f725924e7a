"""data.caf.fr coverage and places: one fixture per published shape (tests/fixtures/caf/).

Headers are verbatim: the label export of the département file (BOM, CRLF, ``;``) as downloaded,
the snake_case re-exports of the real 2017-2022 commune files (``,``), and the API field names
(``numcom``, ``txcouv_psu_col_com``, ``tot_offre_dep``, ``national``…).  Values are hand-made;
the real files are checked by the slow test in test_reel.py.
"""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from data.importers import ImportValidationError, import_file

FIX = Path(__file__).parent / "fixtures" / "caf"


def _warn(report, *parts):
    return [str(w) for w in report.warnings if all(p in str(w) for p in parts)]


def test_departement_label_export_bom_crlf_several_years(estimate_store):
    report = import_file("caf_couverture", FIX / "txcouv_pe_dep.csv", estimate_store)
    assert report.layers == ["caf_couverture_dep"] and report.encoding == "UTF-8 (avec BOM)"
    d = estimate_store.read("caf_couverture_dep").set_index(["code", "annee"])
    # 8 lines: 977 and 978 are overseas collectivities outside the référentiel → 6 rows
    assert len(d) == 6 and report.rows == 6
    assert d.loc[("89", 2023), "txcouv"] == 58.0 and d.loc[("89", 2022), "txcouv"] == 58.5
    # every label is mapped: « Taux de couv hors EAJE PSU » → txcouv_hors_psu_col, « … salariée à domicile » → gad
    assert d.loc[("93", 2023), "txcouv_hors_psu_col"] == 1.0 and d.loc[("93", 2023), "txcouv_gad_ind"] == 2.0
    assert d.loc[("93", 2023), "txcouv_am_ind"] == 11.0 and d.loc[("93", 2023), "txcouv_ind"] == 13.0
    # « 1 » lost its leading zero: Ain is 01
    assert d.loc[("01", 2023), "txcouv"] == 67.3 and ("2A", 2023) in d.index
    overseas = _warn(report, "outre-mer")
    assert len(overseas) == 1 and "977" in overseas[0] and "978" in overseas[0] and "2 ligne" in overseas[0]
    assert estimate_store.info("caf_couverture_dep").vintage == "2022-2023"


def test_current_file_wins_over_hist_in_either_order(estimate_store, tmp_path):
    # current then hist: 2022 of Yonne stays 58.5 (current), 2021 comes from hist
    import_file("caf_couverture", FIX / "txcouv_pe_dep.csv", estimate_store)
    report = import_file("caf_couverture", FIX / "txcouv_pe_dep_hist.csv", estimate_store)
    d = estimate_store.read("caf_couverture_dep").set_index(["code", "annee"])
    assert d.loc[("89", 2022), "txcouv"] == 58.5 and d.loc[("89", 2022), "fichier"] == "txcouv_pe_dep.csv"
    assert d.loc[("89", 2021), "txcouv"] == 59.0 and bool(d.loc[("89", 2021), "hist"])
    w = _warn(report, "2022", "fichier courant")
    # 2 territory-years overlap (89 and 93 in 2022); only Yonne's values differ (58.4 vs 58.5, 9.4 vs 9.5)
    assert len(w) == 1 and "2 territoire(s)-année(s), dont 1" in w[0]
    assert sorted(set(d.index.get_level_values("annee"))) == [2021, 2022, 2023]
    assert "txcouv_pe_dep.csv" in estimate_store.info("caf_couverture_dep").source
    assert "txcouv_pe_dep_hist.csv" in estimate_store.info("caf_couverture_dep").source


def test_hist_then_current_replaces_the_overlap(estimate_store):
    import_file("caf_couverture", FIX / "txcouv_pe_dep_hist.csv", estimate_store)
    report = import_file("caf_couverture", FIX / "txcouv_pe_dep.csv", estimate_store)
    d = estimate_store.read("caf_couverture_dep").set_index(["code", "annee"])
    assert d.loc[("89", 2022), "txcouv"] == 58.5 and d.loc[("89", 2021), "txcouv"] == 59.0
    assert len(_warn(report, "fichier « hist »", "remplacent")) == 1


def test_commune_api_fields_lost_zero_empty_rates_placeholder_arrondissement(estimate_store):
    report = import_file("caf_couverture", FIX / "txcouv_pe_com.csv", estimate_store)
    c = estimate_store.read("caf_couverture_com").set_index(["code", "annee"])
    assert c.loc[("89024", 2022), "txcouv"] == 61.2 and c.loc[("93001", 2022), "txcouv_eaje"] == 17.3
    assert c.loc[("89024", 2022), "txcouv_psu_col"] == 21.0 and c.loc[("89024", 2022), "txcouv_prescol"] == 5.0
    # « 1053 » with numdep « 1 »: Bourg-en-Bresse 01053
    assert c.loc[("01053", 2022), "txcouv"] == 64.5
    # Sens: every rate empty → kept, « donnée non disponible »
    assert ("89387", 2022) in c.index and math.isnan(c.loc[("89387", 2022), "txcouv"])
    assert any("sans aucune valeur publiée" in n for n in report.notes)
    # 97701 (Saint-Barthélemy, EPCI « XX ») is outside the référentiel: one summarised warning
    assert len(_warn(report, "outre-mer", "97701")) == 1
    # Marseille 1er: a rate does not add up → not kept for 13055, said once
    assert ("13055", 2022) not in c.index and len(_warn(report, "arrondissement", "Marseille")) == 1
    assert len(c) == 5   # 89024 ×2, 93001, 01053, 89387


def test_commune_label_export_wording_variants(estimate_store):
    report = import_file("caf_couverture", FIX / "txcouv_pe_com_libelles.csv", estimate_store)
    c = estimate_store.read("caf_couverture_com").set_index(["code", "annee"])
    # « Taux de couv assistantes maternelles » and « … salarié à domicile » (variants of the dep labels)
    assert c.loc[("89024", 2021), "txcouv_am_ind"] == 31.0 and c.loc[("89024", 2021), "txcouv_gad_ind"] == 0.7
    # « 6088 » + « Numéro Département » 6 → Nice 06088
    assert c.loc[("06088", 2021), "txcouv"] == 55.0
    assert any("Taux de couv assistantes maternelles → txcouv_am_ind" in n for n in report.notes)


def test_ambiguous_lost_zero_is_refused_with_line_and_column(estimate_store):
    before = estimate_store.manifest()
    with pytest.raises(ImportValidationError) as exc:
        import_file("caf_couverture", FIX / "txcouv_pe_com_ambigu.csv", estimate_store)
    [err] = exc.value.errors
    # 6161 → 06161 (Alpes-Maritimes) but the département column says 61 (Orne)
    assert err.ligne == 3 and err.colonne == "Numéro commune"
    assert "06161" in err.message and "61" in err.message and "ambigu" in err.message
    assert estimate_store.manifest() == before and not estimate_store.has("caf_couverture_com")


def test_commune_snake_case_comma_and_corsica(estimate_store):
    report = import_file("caf_couverture", FIX / "txcouv_pe_com_snake.csv", estimate_store)
    c = estimate_store.read("caf_couverture_com").set_index(["code", "annee"])
    assert c.loc[("89024", 2019), "txcouv"] == 61.3 and c.loc[("89024", 2020), "txcouv"] == 60.8
    # département column « 20R » (Corse) is consistent with 2A004
    assert c.loc[("2A004", 2020), "txcouv_eaje"] == 31.0
    assert not report.warnings


def test_epci_placeholder_xx_skipped_once(estimate_store):
    report = import_file("caf_couverture", FIX / "txcouv_pe_epci.csv", estimate_store)
    e = estimate_store.read("caf_couverture_epci").set_index("code")
    assert list(e.index) == ["200054781", "200067114"]   # the « XX » row (195,8) is dropped
    assert e.loc["200067114", "txcouv"] == 61.8
    w = _warn(report, "remplissage")
    assert len(w) == 1 and "1 ligne" in w[0] and "lignes 3" in w[0]


def test_region_lost_zero_and_com_pseudo_region(estimate_store):
    report = import_file("caf_couverture", FIX / "txcouv_pe_reg.csv", estimate_store)
    assert report.layers == ["caf_couverture_reg"]
    r = estimate_store.read("caf_couverture_reg").set_index("code")
    assert r.loc["01", "txcouv"] == 36.0 and r.loc["27", "txcouv_am_ind"] == 44.0
    assert "COM" not in r.index and len(_warn(report, "outre-mer")) == 1


def test_national_date_year_and_components(estimate_store):
    report = import_file("caf_couverture", FIX / "txcouv_pe_nat.csv", estimate_store)
    assert report.layers == ["caf_couverture_nat"]
    n = estimate_store.read("caf_couverture_nat").set_index("annee")
    assert list(n["code"]) == ["FR", "FR"] and n.loc[2023, "nom"] == "FRANCE ENTIERE HORS MAYOTTE"
    # 2023 components (DOMAIN.md §3): 19,9 + 3,6 + 3,3 + 31,9 + 2,2 = 60,9
    row = n.loc[2023]
    assert row["txcouv_psu_col"] + row["txcouv_hors_psu_col"] + row["txcouv_prescol"] + row["txcouv_am_ind"] \
        + row["txcouv_gad_ind"] == pytest.approx(60.9)
    assert row["txcouv"] == 60.9 and n.loc[2022, "txcouv"] == 59.5


def test_api_json_records(estimate_store):
    report = import_file("caf_couverture", FIX / "txcouv_pe_dep_api.json", estimate_store)
    d = estimate_store.read("caf_couverture_dep").set_index("code")
    assert d.loc["973", "txcouv"] == 11.6 and d.loc["89", "txcouv_eaje"] == 12.0
    assert math.isnan(d.loc["75", "txcouv"])      # nulls kept as « donnée non disponible »
    assert report.rows == 3


def test_places_departement_api_fields_xxx_placeholder(estimate_store):
    report = import_file("caf_places", FIX / "nbpla_pe_dep.csv", estimate_store)
    assert report.layers == ["caf_places_dep"]
    p = estimate_store.read("caf_places_dep").set_index("code")
    assert list(p.index) == ["2A", "89"]
    assert p.loc["89", "tot_offre"] == 5470 and p.loc["89", "pl_eaje"] == 1170 and p.loc["2A", "pl_psu_col"] == 800
    assert len(_warn(report, "remplissage")) == 1


def test_places_commune_snake_case_bom_arrondissements_summed(estimate_store):
    report = import_file("caf_places", FIX / "nbpla_pe_com_snake.csv", estimate_store)
    p = estimate_store.read("caf_places_com").set_index("code")
    # Paris 1er + 2e: 195 + 251 = 446 places ; EAJE PSU 120 + 150 = 270
    assert p.loc["75056", "tot_offre"] == 446 and p.loc["75056", "pl_psu_col"] == 270
    assert p.loc["75056", "nom"] == "Paris" and p.loc["89024", "pl_am_ind"] == 330
    assert report.encoding == "UTF-8 (avec BOM)"


def test_rates_file_as_places_is_refused_with_a_hint(estimate_store):
    with pytest.raises(ImportValidationError) as exc:
        import_file("caf_places", FIX / "txcouv_pe_dep.csv", estimate_store)
    assert "caf_couverture" in exc.value.errors[0].message


def test_file_of_placeholders_only_is_refused(estimate_store, tmp_path):
    path = tmp_path / "txcouv_pe_epci.csv"
    path.write_text("annee;numepci;nomepci;txcouv_epci\n2023;XX;XX;195.8\n", encoding="utf-8")
    with pytest.raises(ImportValidationError) as exc:
        import_file("caf_couverture", path, estimate_store)
    assert "remplissage" in exc.value.errors[0].message and not estimate_store.has("caf_couverture_epci")
