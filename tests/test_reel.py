"""Every real official file of ../shared/data/reel through the importers (marker ``slow``, ~15 s).

Row counts and published values were read by hand in the files:

* txcouv_pe_dep.csv (labels, 2022-2023, 204 lines): ``2023;89;YONNE;…;59.6`` and, for 2022,
  ``2022;89;YONNE;…;60.1`` where txcouv_pe_dep_hist.csv says 60.2 — the current file wins;
* txcouv_pe_dep_hist.csv (2017-2022, 610 lines): ``2020;93;SEINE SAINT DENIS;…;32.2`` (also DOMAIN.md §3);
* txcouv_pe_com_2017_2022.csv (snake_case, 6 283 lines): ``2022,89024,AUXERRE,…,68.6``;
* nbpla_pe_com_2017_2022.csv (6 233 lines): ``2022,89024,AUXERRE,…,260,7,267,31,360,12,372,670``;
* insee_naissances_domiciliees_2008_2024.xlsx, sheet COM (34 871 communes): Auxerre 353 (2022),
  339 (2023), 316 (2024);
* qpv2024_contours_simplifies.geojson: 1 609 features, 91 in Saint-Martin / Polynésie (outside the
  référentiel), 3 collapsed to a point by the simplification, 75 in Seine-Saint-Denis.
"""
from __future__ import annotations

import pytest

from data.demo import real_files
from data.importers import import_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reel(shared_data):
    folder = shared_data / "reel"
    if not folder.is_dir():
        pytest.skip(f"dossier des fichiers réels absent : {folder}")
    return folder


def test_every_real_file_imports(estimate_store, reel):
    files = real_files(reel)
    assert {p.name for _k, p in files} == {
        "txcouv_pe_dep.csv", "txcouv_pe_dep_hist.csv", "txcouv_pe_com_2017_2022.csv", "nbpla_pe_com_2017_2022.csv",
        "insee_naissances_domiciliees_2008_2024.xlsx", "qpv2024_contours_simplifies.geojson"}
    reports = {p.name: import_file(kind, p, estimate_store) for kind, p in files}
    s = estimate_store

    # départements: 100 a year (Mayotte unpublished; 977 and 978 outside the référentiel, one warning each file)
    assert reports["txcouv_pe_dep.csv"].rows == 204 - 4 == 200
    assert reports["txcouv_pe_dep_hist.csv"].rows == 610 - 10 == 600
    dep = s.read("caf_couverture_dep").set_index(["code", "annee"])
    assert len(dep) == 7 * 100                                     # 2017-2023
    assert dep.loc[("89", 2023), "txcouv"] == 59.6
    assert dep.loc[("89", 2022), "txcouv"] == 60.1                 # current file, not the hist's 60.2
    assert dep.loc[("93", 2020), "txcouv"] == 32.2
    assert dep.loc[("93", 2020), "txcouv_psu_col"] == 17.7 and dep.loc[("93", 2020), "txcouv_am_ind"] == 10.4
    # hist imported first (demo order): the current file's import says which 2022 values it replaced
    w = [str(x) for x in reports["txcouv_pe_dep.csv"].warnings if "« hist »" in str(x)]
    assert len(w) == 1 and "100 territoire(s)-année(s), dont 97 différente(s)" in w[0]

    # communes over 10 000: 6 283 lines − 270 arrondissement lines − 10 overseas − 18 merged communes (6 × 3)
    assert reports["txcouv_pe_com_2017_2022.csv"].rows == 6283 - 270 - 10 - 18 == 5985
    com = s.read("caf_couverture_com").set_index(["code", "annee"])
    assert com.loc[("89024", 2022), "txcouv"] == 68.6 and com.loc[("89024", 2022), "txcouv_eaje"] == 27.3
    assert com.index.get_level_values("code").nunique() == 1011

    # places: arrondissements added up into Paris, Lyon, Marseille (3 cities × 6 years = 18 rows)
    assert reports["nbpla_pe_com_2017_2022.csv"].rows == 6233 - 270 - 11 - 18 + 18 == 5952
    pl = s.read("caf_places_com").set_index(["code", "annee"])
    assert pl.loc[("89024", 2022), "tot_offre"] == 670 and pl.loc[("89024", 2022), "pl_psu_col"] == 260

    # births: 34 871 communes × 17 years; children under 3 on 1 January 2025 = 353 + 339 + 316 for Auxerre
    n = s.read("naissances").set_index(["code_insee", "annee"])["naissances"]
    assert len(n) == 34871 * 17 and n[("89024", 2024)] == 316
    e = s.read("enfants_moins_3").set_index("code_insee")
    assert e.loc["89024", "enfants_moins_3"] == 353 + 339 + 316 and e.loc["89024", "nature"] == "naissances"

    # QPV contours: 1 609 − 91 overseas collectivities − 3 collapsed = 1 515, 75 in Seine-Saint-Denis
    q = s.read("qpv_polygones")
    assert len(q) == 1515 and (q["dep"] == "93").sum() == 75 and q.geometry.is_valid.all()
    assert (q["codes_insee"].str.contains(",")).sum() == 147
