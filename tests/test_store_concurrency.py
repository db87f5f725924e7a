"""Issue 9, item 3: concurrent imports must not lose manifest entries.

Before the lock, 7 imports at once lost an entry (or kept an old source and row count) in 2
trials out of 12: each writer read the manifest, added its entry and wrote it back, so the last
writer erased what the others had added meanwhile.  These tests run writers in parallel
*processes* on one store and check every entry.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from data.store import PROJECT_ROOT, Store

FIX = Path(__file__).parent / "fixtures"

WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    import pandas as pd
    from data.store import LayerInfo, Store

    store, worker, n = Store(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    for i in range(n):
        name = f"w{worker}_{i}"
        frame = pd.DataFrame({"x": range(worker * 100 + i)})
        store.write_layer(name, frame, LayerInfo(name=name, rows=0, nature="importé", vintage="t",
                                                 source=f"processus {worker}, écriture {i}"))
        store.set_meta(f"meta_w{worker}", i)
""")


@pytest.mark.slow
def test_parallel_writer_processes_keep_every_manifest_entry(tmp_path):
    """8 processes × 12 layer writes + 12 metadata writes each, all at once on one store."""
    root = tmp_path / "store"
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    workers, n = 8, 12
    procs = [subprocess.Popen([sys.executable, str(script), str(PROJECT_ROOT), str(root), str(w), str(n)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for w in range(workers)]
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode(errors="replace")
    store = Store(root)
    m = store.manifest()
    assert len(m["layers"]) == workers * n
    for w in range(workers):
        assert m[f"meta_w{w}"] == n - 1
        for i in range(n):
            entry = m["layers"][f"w{w}_{i}"]
            # worker w, write i: a frame of w × 100 + i rows (worker 3, write 5 → 305 rows)
            assert entry["rows"] == w * 100 + i
            assert entry["source"] == f"processus {w}, écriture {i}"
            assert len(store.read(f"w{w}_{i}")) == w * 100 + i
    assert not list(store.layers_dir.glob(".*.parquet")), "fichiers temporaires laissés"


IMPORTS = [  # kind, fixture, layer written
    ("qpv", "imports/qpv_liste.csv", "qpv"),
    ("frr", "imports/frr_communes.csv", "frr"),
    ("zrr", "imports/zrr.csv", "zrr"),
    ("populations", "imports/donnees_communes.csv", "populations"),
    ("grille_densite", "imports/grille_densite_2025_fictif.csv", "grille_densite"),
    ("caf_couverture", "caf/txcouv_pe_com.csv", "caf_couverture_com"),
    ("caf_places", "caf/nbpla_pe_dep.csv", "caf_places_dep"),
]


@pytest.mark.slow
def test_seven_imports_at_once_in_separate_processes(tmp_store):
    """The scenario of the issue: 7 `python -m data import` at once; every entry has its own source and rows."""
    env = dict(os.environ, ATLAS_DATA_DIR=str(tmp_store.root))
    procs = [(kind, fixture, layer,
              subprocess.Popen([sys.executable, "-m", "data", "import", kind, str(FIX / fixture), "--json"],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
             for kind, fixture, layer in IMPORTS]
    m_layers = None
    for kind, fixture, layer, p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err.decode(errors="replace")
        report = json.loads(out)
        assert report["ok"] and report["layers"] == [layer]
    store = Store(tmp_store.root)
    m_layers = store.manifest()["layers"]
    for kind, fixture, layer, _p in procs:
        entry = m_layers[layer]
        assert Path(fixture).name in entry["source"], (layer, entry["source"])   # (data.caf.fr: files kept too)
        assert entry["nature"] == "importé"
        assert entry["rows"] == len(store.read(layer)), layer
    # the reference layers written before are all still there
    for name in ("communes", "epci", "departements"):
        assert name in m_layers and store.has(name)


def test_lock_is_reentrant_within_a_thread(tmp_path):
    store = Store(tmp_path / "s")
    from data.store import LayerInfo

    with store.lock():
        store.write_layer("a", pd.DataFrame({"x": [1]}), LayerInfo("a", 0, "importé", "t", "s"))
        store.set_meta("k", 1)
    assert store.manifest()["k"] == 1 and store.info("a").rows == 1
