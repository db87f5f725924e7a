"""The demo's fictitious structures are regenerated when what they are generated from changes (seed,
generator code, communes, children under 3), and only then: a clean checkout and a developer's store
built earlier then hold the same structures."""
from __future__ import annotations

import dataclasses

from data.demo import build_demo
from data.store import Store
from tests.service_harness import copie_magasin


def test_demo_structures_follow_their_inputs(tmp_path):
    store = Store(copie_magasin(tmp_path / "magasin"))
    logs: list[str] = []
    absent = tmp_path / "pas_de_fichiers_partages"    # no shared folder: only the structures step runs
    build_demo(store, shared=absent, log=logs.append)
    first = store.read("structures")
    logs.clear()
    build_demo(store, shared=absent, log=logs.append)
    assert any("déjà générées" in m for m in logs)     # same inputs: nothing rewritten
    assert store.read("structures").equals(first)

    # new children figures, 10 % more (as when the INSEE births are imported after a first demo): regenerated
    info = store.info("enfants_moins_3")
    enfants = store.read("enfants_moins_3")
    enfants["enfants_moins_3"] = enfants["enfants_moins_3"] * 1.1
    store.write_layer("enfants_moins_3", enfants, dataclasses.replace(info, vintage=info.vintage + " (test ×1,1)"))
    logs.clear()
    build_demo(store, shared=absent, log=logs.append)
    assert not any("déjà générées" in m for m in logs)
    assert any("structures fictives générées" in m for m in logs)
    assert not store.read("structures").equals(first)  # drawn from the new children figures
