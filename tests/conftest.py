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
