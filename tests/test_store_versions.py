"""Versioned store: every write makes a new file, the manifest is the one switch point, the previous
version stays readable for a reader that loaded the manifest before the switch."""
from __future__ import annotations

import threading

import pandas as pd

import data.store as store_module
from data.store import LayerInfo, Store


def _info(name: str) -> LayerInfo:
    return LayerInfo(name=name, rows=0, nature="importé", vintage="test", source="test")


def _ecrire(store: Store, k: int) -> None:
    """One import writing two layers that must be seen together (like coverage by commune and by département)."""
    store.write_layers({"a": (pd.DataFrame({"v": [k]}), _info("a")), "b": (pd.DataFrame({"v": [k]}), _info("b"))})


def test_each_write_is_a_new_version_and_the_previous_one_is_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "GARDE_SECONDES", 0)   # older versions deleted at once (default: 10 min)
    store = Store(tmp_path)
    _ecrire(store, 1)
    v1 = store.layer_path("a").name
    old_view = store.instantane()              # a reader that loaded the manifest before the next import
    _ecrire(store, 2)
    v2 = store.layer_path("a").name
    assert v1 != v2 and v2.startswith("a.") and v2.endswith(".parquet")
    assert store.read("a")["v"].tolist() == [2]
    assert old_view.read("a")["v"].tolist() == [1]        # still readable: version 1 is the previous one
    assert store.manifest()["layers"]["a"]["fichier_precedent"] == v1
    _ecrire(store, 3)
    # three writes: the current and the previous versions of each layer remain, the first one is gone
    assert sorted(p.name for p in tmp_path.joinpath("layers").glob("a.*.parquet")) == sorted(
        [v2, store.layer_path("a").name])
    store.delete_layer("a")
    assert not list(tmp_path.joinpath("layers").glob("a.*.parquet")) and not store.has("a")


def test_a_store_written_before_versions_is_read_then_upgraded(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "GARDE_SECONDES", 0)
    store = Store(tmp_path)
    (tmp_path / "layers").mkdir()
    pd.DataFrame({"v": [0]}).to_parquet(tmp_path / "layers" / "a.parquet", index=False)
    store._write_manifest({"layers": {"a": _info("a").to_dict()}})
    assert store.read("a")["v"].tolist() == [0]
    store.write_layer("a", pd.DataFrame({"v": [1]}), _info("a"))
    assert store.manifest()["layers"]["a"]["fichier_precedent"] == "a.parquet"
    store.write_layer("a", pd.DataFrame({"v": [2]}), _info("a"))
    assert not (tmp_path / "layers" / "a.parquet").exists()


def test_readers_never_see_two_layers_of_different_imports(tmp_path):
    store = Store(tmp_path)
    _ecrire(store, 0)
    stop = threading.Event()
    mixed: list[tuple[int, int]] = []

    def writer():
        for k in range(1, 25):
            _ecrire(store, k)
        stop.set()

    t = threading.Thread(target=writer)
    t.start()
    reads = 0
    while not stop.is_set() or reads == 0:
        view = store.instantane()
        a, b = view.read("a")["v"].iloc[0], view.read("b")["v"].iloc[0]
        reads += 1
        if a != b:
            mixed.append((a, b))
    t.join()
    assert reads > 0 and mixed == []
    # with the default delay no version was deleted under a reader: all 25 are still on disk
    assert len(list(tmp_path.joinpath("layers").glob("a.*.parquet"))) == 25
    assert store.read("a")["v"].iloc[0] == 24


def test_a_copy_holds_the_current_layers_and_writes_stay_in_the_copy(tmp_path):
    src = Store(tmp_path / "source")
    _ecrire(src, 1)
    _ecrire(src, 2)                                    # the source holds versions 1 (previous) and 2
    copie = src.copie(tmp_path / "copie")
    assert copie.read("a")["v"].tolist() == [2] and copie.read("b")["v"].tolist() == [2]
    assert sorted(p.name for p in copie.layers_dir.iterdir()) == sorted([src.layer_path("a").name,
                                                                          src.layer_path("b").name])
    _ecrire(copie, 3)
    assert copie.read("a")["v"].tolist() == [3] and src.read("a")["v"].tolist() == [2]
