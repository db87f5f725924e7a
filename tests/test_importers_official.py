"""Every importable kind, from a small hand-written file in the official format.

Values in the resulting layers are checked against the fixture files by hand.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from data.importers import KINDS, import_file
from data.store import NATURE_IMPORTE

FIX = Path(__file__).parent / "fixtures" / "imports"


def test_every_kind_has_a_french_label():
    assert set(KINDS) == {"qpv", "qpv_polygones", "frr", "zrr", "enfants_moins_3", "populations", "caf_couverture",
                          "caf_places", "dgcl_criteres", "grille_densite", "structures", "naissances",
                          "competences", "schemas"}
    assert all(spec.label for spec in KINDS.values())


def test_qpv_anct_format(tmp_store):
    # ';', UTF-8 BOM, ="89024" protected codes, one QPV over two communes, a Paris arrondissement
    report = import_file("qpv", FIX / "qpv_liste.csv", tmp_store)
    q = tmp_store.read("qpv")
    # 3 one-commune rows + 1 row with two communes = 5 (commune, QPV) pairs
    assert len(q) == 5 and report.rows == 5
    assert list(q.columns) == ["code_qp", "lib_qp", "code_insee", "lib_com"]
    assert set(q.loc[q.code_qp == "QN09301M", "code_insee"]) == {"93001", "93066"}
    assert q.loc[q.code_qp == "QN07501M", "code_insee"].item() == "75056"   # 75118 folded
    assert q.loc[q.code_qp == "QN07501M", "lib_com"].item() == "Paris"
    assert q.loc[q.code_qp == "QN08906M", "lib_qp"].item() == "Arènes - Champs Plaisants"
    assert report.encoding == "UTF-8 (avec BOM)"
    assert any("75118" in str(w) for w in report.warnings)
    info = tmp_store.info("qpv")
    assert info.nature == NATURE_IMPORTE and "qpv_liste.csv" in info.source and "ANCT" in info.source


def test_qpv_polygones_reprojected_from_lambert93(tmp_store):
    report = import_file("qpv_polygones", FIX / "qpv_contours_l93.geojson", tmp_store)
    g = tmp_store.read("qpv_polygones")
    assert g.crs.to_epsg() == 4326
    assert list(g["code_qp"]) == ["QN08901I", "QN08906M"]
    # commune given by name ("Auxerre") found in the QPV's département 89; the other by code
    assert list(g["code_insee"]) == ["89024", "89387"]
    # Lambert-93 (742 500, 6 744 500) is in Auxerre: about 3.57 E, 47.80 N
    c = g.geometry.iloc[0].centroid
    assert 3.5 < c.x < 3.65 and 47.75 < c.y < 47.85
    assert any("reprojetés" in n for n in report.notes)


def test_frr_codes_and_labels(tmp_store):
    import_file("frr", FIX / "frr_communes.csv", tmp_store)
    f = tmp_store.read("frr").set_index("code_insee")
    assert str(f["codefrr"].dtype) == "Int64"
    assert f.loc["89005", "classement"] == "FRR" and f.loc["89005", "codefrr"] == 4
    assert f.loc["89003", "classement"] == "FRR+"
    assert f.loc["89006", "classement"] == "Ancienne ZRR en transition"
    # empty and -9999 mean "not classified" (code 0)
    assert f.loc["89206", "codefrr"] == 0 and f.loc["93001", "codefrr"] == 0
    assert f.loc["93001", "classement"] == "Non classée"


def test_frr_xlsx_with_title_lines(tmp_store, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["France Ruralités Revitalisation (FRR) — communes 2025"])
    ws.append(["Source : ANCT, Observatoire des territoires"])
    ws.append([])
    ws.append(["codgeo", "libgeo", "codefrr"])
    ws.append(["89024", "Auxerre", 0])
    ws.append(["89005", "Ancy-le-Franc", 4])
    ws.append(["2A004", "Ajaccio", 0])
    path = tmp_path / "frr_observatoire.xlsx"
    wb.save(path)
    report = import_file("frr", path, tmp_store)
    f = tmp_store.read("frr").set_index("code_insee")
    assert len(f) == 3 and f.loc["89005", "classement"] == "FRR" and "2A004" in f.index
    assert report.vintage == "FRR 2025"   # year read from the title line


def test_zrr_legacy(tmp_store):
    import_file("zrr", FIX / "zrr.csv", tmp_store)
    z = tmp_store.read("zrr").set_index("code_insee")
    assert z.loc["89005", "zrr"] == "C" and z.loc["89003", "zrr"] == "P" and z.loc["89024", "zrr"] == "N"
    assert z.loc["89003", "libelle"].startswith("P - Commune partiellement")


def test_enfants_moins_3_replaces_the_estimate(estimate_store):
    before = estimate_store.read("enfants_moins_3").set_index("code_insee")
    report = import_file("enfants_moins_3", FIX / "base-cc-evol-struct-pop-2021.CSV", estimate_store)
    e = estimate_store.read("enfants_moins_3").set_index("code_insee")
    assert e.loc["89024", "enfants_moins_3"] == pytest.approx(1012.3)
    assert e.loc["93001", "enfants_moins_3"] == pytest.approx(4102.77)
    assert e.loc["89024", "annee"] == 2021 and not e.loc["89024", "estimation"]     # P21 -> 2021
    # communes absent from the file keep the estimate
    assert e.loc["01004", "estimation"] and e.loc["01004", "enfants_moins_3"] == before.loc["01004", "enfants_moins_3"]
    assert len(e) == len(before) and report.rows == 3
    assert estimate_store.info("enfants_moins_3").nature == NATURE_IMPORTE


def test_populations_with_arrondissements_summed(tmp_store):
    report = import_file("populations", FIX / "donnees_communes.csv", tmp_store)
    p = tmp_store.read("populations").set_index("code_insee")
    assert p.loc["89024", "pmun"] == 34451 and p.loc["89024", "ptot"] == 35263
    # Paris 1er + 2e: 15 919 + 20 900 = 36 819 ; 16 083 + 21 096 = 37 179
    assert p.loc["75056", "pmun"] == 36819 and p.loc["75056", "ptot"] == 37179
    assert any("75101" in str(w) and "75102" in str(w) for w in report.warnings)


def test_grille_densite_labels_to_levels(tmp_store):
    import_file("grille_densite", FIX / "grille_densite_2025_fictif.csv", tmp_store)
    g = tmp_store.read("grille_densite").set_index("code_insee")
    assert g.loc["89024", "niveau_densite"] == 2       # Centres urbains intermédiaires
    assert g.loc["89005", "niveau_densite"] == 7       # Rural à habitat très dispersé
    assert g.loc["93001", "niveau_densite"] == 1       # given as a number
    assert g.loc["93001", "niveau_centralite"] == ""   # "- undefined" is not a value
    assert tmp_store.info("grille_densite").vintage == "grille communale 2025"


# data.caf.fr coverage and places: tests/test_importers_caf.py (one fixture per published shape)


def test_dgcl_criteres_comma_decimals_and_long_headers(tmp_store):
    import_file("dgcl_criteres", FIX / "criteres_repartition_2025.csv", tmp_store)
    d = tmp_store.read("dgcl_criteres").set_index("code_insee")
    # the "final" potential is taken, not the strata average: "1 012,34" → 1012.34
    assert d.loc["89024", "potentiel_financier_hab"] == pytest.approx(1012.34)
    assert d.loc["89005", "potentiel_financier_hab"] == pytest.approx(645.5)
    assert d.loc["89005", "frr_ou_zrr"] and not d.loc["89024", "frr_ou_zrr"]
    assert d.loc["89024", "population_qpv"] == 7890
    assert tmp_store.info("dgcl_criteres").vintage == "critères DGCL 2025"


def test_dgcl_criteres_zrr_header_before_2025(tmp_store, tmp_path):
    path = tmp_path / "criteres_repartition_2024.csv"
    path.write_text('"Informations générales - Code INSEE de la commune",'
                    '"Potentiel fiscal et financier des communes - Potentiel financier par habitant final",'
                    '"Dotation de solidarité rurale - Commune située en ZRR"\n'
                    '"89005","650,25","OUI"\n', encoding="utf-8")
    import_file("dgcl_criteres", path, tmp_store)
    d = tmp_store.read("dgcl_criteres")
    assert d["frr_ou_zrr"].tolist() == [True] and d["potentiel_financier_hab"].tolist() == [650.25]
