"""INSEE births (kind ``naissances``) and the children-under-3 estimate derived from them.

Fixtures (tests/fixtures/naissances/, hand-made values in the published shapes):
* naissances_domiciliees_2019_2024.xlsx: the INSEE workbook layout — « Métadonnées » sheet first,
  sheet COM with a title line, two empty lines, a header without labels over code and name,
  years as text, « so » cells (Mayotte), footer notes; sheets ARM and DEP that must not be read;
* base_naissances_2022.csv: ``CODGEO;NAISD19;…;NAISD22``, Paris given by arrondissement;
* base_cc_comparateur.csv: the comparateur's NAISDyy columns among others (two years only).
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from data.importers import ImportValidationError, import_file
from data.importers.naissances import annee_reference, enfants_depuis_naissances
from data.store import NATURE_IMPORTE

FIX = Path(__file__).parent / "fixtures" / "naissances"
FIX_IMPORTS = Path(__file__).parent / "fixtures" / "imports"


def test_children_under_3_from_three_birth_years():
    n = pd.DataFrame({"code_insee": ["A"] * 4 + ["B"] * 2, "annee": [2021, 2022, 2023, 2024, 2023, 2024],
                      "naissances": [999, 353, 339, 316, 10, 12]})
    # on 1 January 2025: born in 2022, 2023 or 2024 → 353 + 339 + 316 = 1 008 ; B lacks 2022 → unknown
    e = enfants_depuis_naissances(n, 2025)
    assert e.to_dict() == {"A": 1008.0}
    # on 1 January 2024: 2021 + 2022 + 2023 = 999 + 353 + 339 = 1 691
    assert enfants_depuis_naissances(n, 2024).to_dict() == {"A": 1691.0}
    assert annee_reference(n) == 2025


def test_insee_workbook(estimate_store):
    report = import_file("naissances", FIX / "naissances_domiciliees_2019_2024.xlsx", estimate_store)
    assert report.layers == ["naissances", "enfants_moins_3"]
    n = estimate_store.read("naissances").set_index(["code_insee", "annee"])["naissances"]
    # 6 communes × 6 years from sheet COM only (ARM's 75101 and DEP's 89 are not communes of COM)
    assert len(n) == 36 and ("75101", 2019) not in n.index
    assert n[("89024", 2024)] == 320 and n[("89005", 2021)] == 0
    assert math.isnan(n[("97611", 2019)])                              # « so » = sans objet
    assert any("« so »" in str(w) and "2 cellule" in str(w) for w in report.warnings)
    assert any("4 ligne(s) de notes" in str(w) for w in report.warnings)
    assert estimate_store.info("naissances").vintage == "naissances 2019-2024"
    # children under 3 on 1 January 2025 = births 2022 + 2023 + 2024
    e = estimate_store.read("enfants_moins_3").set_index("code_insee")
    assert e.loc["89024", "enfants_moins_3"] == 350 + 340 + 320       # 1 010
    assert e.loc["97611", "enfants_moins_3"] == 3100 + 3200 + 3300    # 9 600
    assert e.loc["89024", "annee"] == 2025 and e.loc["89024", "nature"] == "naissances"
    # a commune absent from the file keeps the population × 3 % estimate
    assert e.loc["01004", "nature"] == "estimation" and bool(e.loc["01004", "estimation"])
    info = estimate_store.info("enfants_moins_3")
    assert info.nature == NATURE_IMPORTE and info.label == "Estimation à partir des naissances domiciliées (INSEE)"
    assert info.vintage == "au 1er janvier 2025 (naissances 2022-2024)"


def test_census_count_wins_over_births(estimate_store):
    # census first (P21_POP0002: Auxerre 1 012,3), then births: Auxerre keeps the census count
    import_file("enfants_moins_3", FIX_IMPORTS / "base-cc-evol-struct-pop-2021.CSV", estimate_store)
    report = import_file("naissances", FIX / "naissances_domiciliees_2019_2024.xlsx", estimate_store)
    e = estimate_store.read("enfants_moins_3").set_index("code_insee")
    assert e.loc["89024", "enfants_moins_3"] == pytest.approx(1012.3) and e.loc["89024", "nature"] == "recensement"
    assert e.loc["89387", "nature"] == "naissances" and e.loc["89387", "enfants_moins_3"] == 300 + 290 + 280
    assert estimate_store.info("enfants_moins_3").label.startswith("Recensement 2021 (INSEE) et estimation")
    assert any("gardent le recensement" in n for n in report.notes)
    # and the other way round: a census import after births keeps births elsewhere
    import_file("enfants_moins_3", FIX_IMPORTS / "base-cc-evol-struct-pop-2021.CSV", estimate_store)
    e = estimate_store.read("enfants_moins_3").set_index("code_insee")
    assert e.loc["89387", "nature"] == "naissances" and e.loc["89024", "nature"] == "recensement"


def test_base_naissances_csv_arrondissements_summed(estimate_store):
    import_file("naissances", FIX / "base_naissances_2022.csv", estimate_store)
    n = estimate_store.read("naissances").set_index(["code_insee", "annee"])["naissances"]
    # Paris = 1er + 2e: 2022 → 90 + 100 = 190 ; NAISD19 → 2019
    assert n[("75056", 2022)] == 190 and n[("75056", 2019)] == 250 and n[("2A004", 2020)] == 590
    e = estimate_store.read("enfants_moins_3").set_index("code_insee")
    # 1 January 2023 = 2020 + 2021 + 2022: Auxerre 390 + 380 + 350 = 1 120
    assert e.loc["89024", "enfants_moins_3"] == 1120 and e.loc["89024", "annee"] == 2023


def test_comparateur_columns_without_three_consecutive_years(estimate_store):
    before = estimate_store.read("enfants_moins_3")
    report = import_file("naissances", FIX / "base_cc_comparateur.csv", estimate_store)
    n = estimate_store.read("naissances").set_index(["code_insee", "annee"])["naissances"]
    assert n[("93001", 2016)] == 1600 and n[("89024", 2021)] == 380 and len(n) == 4   # DECESDyy ignored
    assert any("Moins de trois années" in x for x in report.notes)
    pd.testing.assert_series_equal(estimate_store.read("enfants_moins_3")["enfants_moins_3"], before["enfants_moins_3"])


def test_bad_birth_cell_is_refused_with_line_and_column(estimate_store, tmp_path):
    bad = tmp_path / "base_naissances_2022.csv"
    bad.write_text("CODGEO;NAISD21;NAISD22\n89024;380;350\n89387;31O;300\n", encoding="utf-8")
    before = estimate_store.manifest()
    with pytest.raises(ImportValidationError) as exc:
        import_file("naissances", bad, estimate_store)
    [err] = exc.value.errors
    assert (err.ligne, err.colonne) == (3, "NAISD21") and "31O" in err.message
    assert estimate_store.manifest() == before
