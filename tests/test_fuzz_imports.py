"""Fuzz suite of issue 9: generated CSV, xlsx and GeoJSON files fed to every import kind through
``import_file``.

Every case must end in a clean refusal (``ImportValidationError``, French messages, the store
unchanged) or a correct result (each layer written with the row count its manifest entry states,
its source naming the file) — never another exception, « Erreur inattendue » or English text.

The CSV and xlsx strategies start from the real header of each kind's fixture (so that cases go
deep into the checks) and mutate it (columns dropped, duplicated, renamed, shuffled), with cells
drawn from the fixture's own values and from a list of hostile values; encodings, separators and
line ends vary.  Deterministic in CI (``derandomize``); about 20 s in all.  Longer local runs:
``ATLAS_FUZZ_FACTEUR=20``; ``ATLAS_FUZZ_STRICT=1`` also fails on internal errors of the kinds' own
builders (reported as warnings otherwise).
"""
from __future__ import annotations

import csv
import io
import json
import os
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from data.importers import ImportValidationError, Limits, import_file
from data.store import Store
from tests import hostile_files as hf

FIX = Path(__file__).parent / "fixtures"
KIND_FIXTURE = {   # kind -> a fixture in the shape of the real file (its header and rows seed the cases)
    "qpv": "imports/qpv_liste.csv", "frr": "imports/frr_communes.csv", "zrr": "imports/zrr.csv",
    "enfants_moins_3": "imports/base-cc-evol-struct-pop-2021.CSV", "populations": "imports/donnees_communes.csv",
    "caf_couverture": "caf/txcouv_pe_com_libelles.csv", "caf_places": "caf/nbpla_pe_dep.csv",
    "dgcl_criteres": "imports/criteres_repartition_2025.csv",
    "grille_densite": "imports/grille_densite_2025_fictif.csv",
    "structures": "imports/etablissements-daccueil-de-la-petite-enfance-pe.csv",
    "naissances": "naissances/base_naissances_2022.csv",
}
HOSTILE_CELLS = [
    "", " ", "=1+1", "@SOMME(A1)", "+33 6", "-2", "<svg/onload=alert(1)>", "<img src=x onerror=alert(1)",
    "javascript:alert(1)", "1_0", "١٢", "１２", "12%", "1e999", "inf", "NaN", "00001", "99999", "2A004", "75101",
    "7A123", "QN08901I", "XX", '"', 'a"b', "a;b", "a,b", "deux\nlignes", "\ufeff", "é", "Ã©", "-9999", "oui",
    "non", "1,5", "1.234,5", "1 234", "2020-01-01", "31/02/2020", "43831", "1899-12-31", "9" * 30, "x" * 300,
    "![x](http://198.51.100.7/a.png)", "[Valider](http://198.51.100.7)", "\u202e gnp.exe", "None", "null",
]
SETTINGS = dict(deadline=None, database=None, derandomize=bool(os.environ.get("CI")),
                phases=(Phase.explicit, Phase.reuse, Phase.generate),   # no shrinking: a failure stays fast
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
LIMITS = Limits(max_seconds=60)
SCALE = int(os.environ.get("ATLAS_FUZZ_FACTEUR", "1"))      # longer local runs: ATLAS_FUZZ_FACTEUR=20
GENERIC_LAYER = ("data/importers/common.py", "data/importers/problems.py", "data/importers/table.py",
                 "data/importers/readers.py", "data/importers/csv_reader.py",
                 "data/importers/xlsx_reader.py", "data/importers/xlsx_cells.py", "data/importers/__init__.py",
                 "data/store.py")


def _fixture_table(kind: str) -> tuple[list[str], list[list[str]]]:
    raw = (FIX / KIND_FIXTURE[kind]).read_text(encoding="utf-8-sig")
    sep = max(";,\t", key=lambda s: raw.splitlines()[0].count(s))
    rows = list(csv.reader(io.StringIO(raw), delimiter=sep))
    return rows[0], [r for r in rows[1:] if any(r)]


TABLES = {k: _fixture_table(k) for k in KIND_FIXTURE}


@pytest.fixture(scope="module")
def store(reference_store, tmp_path_factory) -> Store:
    return reference_store.copie(tmp_path_factory.mktemp("fuzz_store"))


def light_snapshot(store: Store) -> dict:
    """Manifest bytes and (inode, size, mtime) of each layer file: layers are only ever replaced by rename."""
    snap = {"manifest": store.manifest_path.read_bytes()}
    for p in sorted(store.layers_dir.iterdir()):
        s = p.stat()
        snap[p.name] = (s.st_ino, s.st_size, s.st_mtime_ns)
    return snap


def check(store: Store, kind: str, path: Path, must_import: bool = False) -> str:
    """Import and check the outcome; returns 'refus' or 'import' (for the statistics of hypothesis)."""
    before = light_snapshot(store)
    try:
        report = import_file(kind, path, store, limits=LIMITS)
    except ImportValidationError as exc:
        assert light_snapshot(store) == before, "un import refusé a modifié le magasin"
        assert exc.errors, "refus sans erreur"
        for p in exc.problems:
            assert "Erreur inattendue" not in p.message
            assert not hf.english_in(p.message, p.fichier), p.message
        if exc.origine:
            # The catch-all of import_file turned an internal exception into a clean French refusal (what
            # the issue asks). It is a bug all the same: one in the generic layer fails here; one in a
            # kind's own builder fails with ATLAS_FUZZ_STRICT=1 and is otherwise reported as a warning.
            generic = exc.origine.startswith(GENERIC_LAYER)
            if generic or os.environ.get("ATLAS_FUZZ_STRICT", "") not in ("", "0"):
                raise AssertionError(f"exception interne dans {exc.origine} pour {path.name}")
            warnings.warn(f"import {kind} : exception interne dans {exc.origine} (refus propre en français)",
                          stacklevel=2)
            event(f"exception interne dans {exc.origine}")
        else:
            assert not must_import or any("aucune ligne" in p.message for p in exc.errors), \
                f"fichier valide refusé : {[str(p) for p in exc.errors][:3]}"
        event("refus")
        return "refus"
    for layer in report.layers:
        info = store.info(layer)
        assert info is not None and info.rows == len(store.read(layer)), layer
        assert path.name in info.source, info.source      # (data.caf.fr layers also name the files kept)
    for w in report.warnings:
        assert not hf.english_in(w.message, w.fichier), w.message
    event("import")
    return "import"


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------
@st.composite
def tables(draw, kind: str, clean: bool = False) -> list[list[str]]:
    """The fixture's header and rows; ``clean``: valid rows only (a subset, in any order, some repeated)."""
    header, rows = TABLES[kind]
    header = list(header)
    if clean:
        return [header] + draw(st.lists(st.sampled_from(rows), min_size=1, max_size=8))
    mutation = draw(st.sampled_from(["aucune", "aucune", "supprime", "double", "renomme", "melange"]))
    if mutation == "supprime" and len(header) > 1:
        del header[draw(st.integers(0, len(header) - 1))]
    elif mutation == "double":
        j = draw(st.integers(0, len(header) - 1))
        header.append(draw(st.sampled_from([header[j], header[j].upper(), header[j] + " "])))
    elif mutation == "renomme":
        header[draw(st.integers(0, len(header) - 1))] = draw(st.sampled_from(HOSTILE_CELLS + ["colonne"]))
    elif mutation == "melange":
        header = draw(st.permutations(header))
    cell = st.one_of(st.sampled_from(HOSTILE_CELLS), st.text(max_size=12),
                     st.sampled_from([v for r in rows for v in r] or [""]))
    out = [header]
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            base = list(draw(st.sampled_from(rows)))                  # a valid row, one cell changed
            if base and draw(st.booleans()):
                base[draw(st.integers(0, len(base) - 1))] = draw(cell)
        else:
            base = draw(st.lists(cell, min_size=0, max_size=len(header) + 2))
        out.append(base)
    return out


@st.composite
def csv_bytes(draw, kind: str) -> tuple[bytes, bool]:
    """(file, must_import): a clean table written by a CSV writer must be imported, whatever the
    separator, line end or encoding."""
    clean = draw(st.integers(0, 2)) == 0
    rows = draw(tables(kind, clean))
    sep = draw(st.sampled_from([";", ",", "\t", "|"]))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    quoted = clean or draw(st.booleans())
    if quoted:
        buf = io.StringIO()
        csv.writer(buf, delimiter=sep, lineterminator=end).writerows(rows)
        text = buf.getvalue()
    else:  # joined without quoting: separators and quotes inside cells break the rows
        text = end.join(sep.join(r) for r in rows) + end
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "cp1252", "utf-16"] + ([] if clean else ["mélangé"])))
    if encoding == "mélangé":
        return text.encode("utf-8") + "Crèche Été".encode("cp1252") + end.encode(), False
    return text.encode(encoding, errors="replace"), clean


XLSX_VALUE = st.one_of(st.sampled_from(HOSTILE_CELLS), st.integers(-10, 100_000), st.booleans(),
                       st.floats(allow_nan=False, allow_infinity=False, width=32),
                       st.tuples(st.integers(0, 80_000), st.sampled_from([1, 2, 3])))


@st.composite
def xlsx_rows(draw, kind: str) -> tuple[list[list[object]], str | None]:
    clean = draw(st.integers(0, 2)) == 0
    rows = [list(r) for r in draw(tables(kind, clean))]
    for r in rows[1:]:
        for j in range(len(r)):
            if not clean and draw(st.integers(0, 4)) == 0:
                r[j] = draw(XLSX_VALUE)
            elif isinstance(r[j], str) and r[j].isascii() and r[j].isdigit() and len(r[j]) < 6 \
                    and draw(st.booleans()):
                r[j] = int(r[j])          # what Excel does to a code typed without a text format
    dim = draw(st.sampled_from([None, None, "A1:C3", "A1:XFD1048576", "A1:Z600000", "n'importe quoi"]))
    return rows, dim


def _coord():
    return st.one_of(st.floats(-200, 200, allow_nan=False), st.sampled_from([float("nan"), float("inf"), 1e308, 0.0]))


@st.composite
def geojson_text(draw) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(['{"type": "FeatureCollection", "features": [', "[]", "null", "{}", "\ufeff{}",
                                     '{"type": "FeatureCollection", "features": []}']))
    feats = []
    for i in range(draw(st.integers(1, 4))):
        ring = [[draw(_coord()), draw(_coord())] for _ in range(draw(st.integers(0, 5)))]
        if ring and draw(st.booleans()):
            ring.append(ring[0])
        geom = draw(st.sampled_from([
            {"type": "Polygon", "coordinates": [ring]},
            {"type": "MultiPolygon", "coordinates": [[ring]]},
            {"type": "Point", "coordinates": ring[0] if ring else []},
            None,
        ]))
        props = {"code_qp": draw(st.sampled_from(["QN08901I", "QN09301M", "QN08901I", "X", "", None, 12])),
                 "lib_qp": draw(st.sampled_from(HOSTILE_CELLS)),
                 "insee_com": draw(st.sampled_from(["89024", "93059, 93072", "Auxerre", "97801", "", None, "7A123"]))}
        if draw(st.booleans()):
            del props[draw(st.sampled_from(list(props)))]
        feats.append({"type": "Feature", "id": draw(st.sampled_from([i, 1])), "properties": props, "geometry": geom})
    doc = {"type": "FeatureCollection", "features": feats}
    if draw(st.booleans()):
        doc["crs"] = {"type": "name", "properties": {"name": draw(st.sampled_from(
            ["urn:ogc:def:crs:EPSG::2154", "urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:999999", "n'importe quoi"]))}}
    return json.dumps(doc)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(KIND_FIXTURE))
@settings(max_examples=25 * SCALE, **SETTINGS)
@given(data=st.data())
def test_fuzz_csv_every_kind(store, tmp_path, kind, data):
    path = tmp_path / Path(KIND_FIXTURE[kind]).name
    raw, must_import = data.draw(csv_bytes(kind))
    path.write_bytes(raw)
    check(store, kind, path, must_import)


@pytest.mark.parametrize("kind", sorted(KIND_FIXTURE))
@settings(max_examples=8 * SCALE, **SETTINGS)
@given(data=st.data())
def test_fuzz_xlsx_every_kind(store, tmp_path, kind, data):
    rows, dim = data.draw(xlsx_rows(kind))
    path = hf.write_xlsx(tmp_path / (Path(KIND_FIXTURE[kind]).stem + ".xlsx"), rows, dimension=dim)
    check(store, kind, path)


@settings(max_examples=60 * SCALE, **SETTINGS)
@given(text=geojson_text())
def test_fuzz_geojson_qpv_contours(store, tmp_path, text):
    path = tmp_path / "qpv_contours.geojson"
    path.write_text(text, encoding="utf-8")
    check(store, "qpv_polygones", path)


@settings(max_examples=40 * SCALE, **SETTINGS)
@given(kind=st.sampled_from(sorted(KIND_FIXTURE) + ["qpv_polygones"]),
       suffix=st.sampled_from([".csv", ".xlsx", ".txt", ".geojson", ".json", ".xls", ""]),
       raw=st.one_of(st.binary(max_size=3000), st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b)))
def test_fuzz_arbitrary_bytes(store, tmp_path, kind, suffix, raw):
    path = tmp_path / f"fichier{suffix}"
    path.write_bytes(raw)
    check(store, kind, path)
