"""The real files of ../shared/data through import_file (facts from DATA.md)."""
from __future__ import annotations

from data.importers import import_file


def test_real_qpv_frr_grille(tmp_store, shared_data):
    rq = import_file("qpv", shared_data / "qpv2024_communes.csv", tmp_store)
    import_file("frr", shared_data / "frr_2025_communes.csv", tmp_store)
    import_file("grille_densite", shared_data / "grilles_communales_2025.csv", tmp_store)

    q = tmp_store.read("qpv")
    assert rq.rows == 1684 and len(q) == 1684
    assert q["code_insee"].nunique() == 824 and q["code_qp"].nunique() == 1493
    yonne = q[q["code_insee"].str.startswith("89")]
    assert yonne["code_qp"].nunique() == 7 and yonne["code_insee"].nunique() == 4
    ssd = q[q["code_insee"].str.startswith("93")]
    assert ssd["code_qp"].nunique() == 75 and ssd["code_insee"].nunique() == 34
    assert not rq.warnings          # every code is in the COG 2025 référentiel

    f = tmp_store.read("frr")
    assert len(f) == 34875
    assert not (f["code_insee"].str.startswith("93") & (f["codefrr"] > 0)).any()
    assert set(f.loc[f["code_insee"].str.startswith("89"), "classement"]) >= {"FRR", "FRR+"}

    g = tmp_store.read("grille_densite")
    assert len(g) == 34875 and set(g["niveau_densite"]) == set(range(1, 8))
    assert tmp_store.info("qpv").vintage == "QPV 2024" and tmp_store.info("frr").vintage == "FRR 2025"
