"""Shared fixtures.

* ``reference_store``: the national référentiel (built once if missing), read-only.
* ``tmp_store``: a private store holding the reference layers, for tests that import
  or write; the default store is never touched by tests.
* ``shared_data``: ``../shared/data`` (QPV, FRR, grids); tests skip when it is absent.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from data.store import PROJECT_ROOT, Store

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def reference_store() -> Store:
    from data.reference import build_reference

    store = Store()
    build_reference(store, log=lambda _m: None)
    return store


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)  # layers are replaced with os.replace, never modified in place
    except OSError:
        shutil.copy2(src, dst)


@pytest.fixture()
def tmp_store(reference_store: Store, tmp_path: Path) -> Store:
    root = tmp_path / "store"
    (root / "layers").mkdir(parents=True)
    m = reference_store.manifest()
    for name in m["layers"]:
        src = reference_store.layer_path(name)
        if src.exists():
            _link_or_copy(src, root / "layers" / src.name)
    shutil.copy2(reference_store.manifest_path, root / "manifest.json")
    return Store(root)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"dossier partagé absent : {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for every browser test module (Playwright's sync API allows one
    running instance per process)."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("Chromium est absent : lancez scripts/installer.sh --tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


@pytest.fixture()
def estimate_store(tmp_store: Store) -> Store:
    """``tmp_store`` reduced to the référentiel as built from the registries: children under 3 back to
    the estimate (population × 3 %), no imported layer — the state before any official file (the
    demo imports the real Cnaf rates, births and QPV contours into the default store)."""
    from data.reference import ESTIMATE_SHARE_UNDER_3, ESTIMATE_SOURCE, REFERENCE_LAYERS
    from data.store import NATURE_ESTIME, LayerInfo

    for name in list(tmp_store.manifest()["layers"]):
        if name not in REFERENCE_LAYERS:
            tmp_store.delete_layer(name)
    com = tmp_store.read("communes", columns=["code_insee", "population"])
    enfants = com.assign(enfants_moins_3=(com["population"] * ESTIMATE_SHARE_UNDER_3).round(1), annee=2023,
                         estimation=True)[["code_insee", "enfants_moins_3", "annee", "estimation"]]
    tmp_store.write_layer("enfants_moins_3", enfants, LayerInfo("enfants_moins_3", 0, NATURE_ESTIME, "estimation 2023",
                                                                ESTIMATE_SOURCE, label="Enfants de moins de 3 ans "
                                                                "(estimation)"))
    m = tmp_store.manifest()
    m.pop("demo_imports", None)
    tmp_store._write_manifest(m)
    return tmp_store
