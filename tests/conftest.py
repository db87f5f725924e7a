"""Shared fixtures and the one policy for missing external tools.

* ``reference_store``: the default store (``ATLAS_DATA_DIR``, else ``data/store``) with the national
  référentiel: :func:`data.reference.build_reference` builds it when it is missing or outdated
  (about 20 s; < 0.1 s when up to date) — the only fixture that writes the default store. Tests
  read it; the demo layers in it come from ``python -m data demo`` (run by ``scripts/tester.sh``).
* ``tmp_store``: a private copy (hard links) of the default store's layers, for tests that import
  or write; ``estimate_store``: that copy reduced to the référentiel as built from the registries.
* ``shared_data``: ``../shared/data`` (QPV, FRR, grids); tests skip when it is absent.
* ``browser``: one headless Debian Chromium for every browser test.

Missing external tools (Chromium, LibreOffice, poppler, PostgreSQL, nginx, an OIDC provider):
:func:`require_tool` skips the test with the reason on a developer's machine, and fails it under
``CI=true`` (CI installs everything: a missing tool there is a broken install, not a skip).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from data.store import PROJECT_ROOT, Store

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def require_tool(available: bool, reason: str) -> None:
    """Skip (locally) or fail (under ``CI=true``) a test that needs a tool that is not there.

    ``reason`` is French and says how to get the tool, e.g. « pdftoppm (poppler-utils) manque :
    scripts/installer.sh --tests l'installe ».
    """
    if available:
        return
    if in_ci():
        pytest.fail(f"En CI, l'outil doit être installé : {reason}")
    pytest.skip(reason)


def require_program(name: str, how: str = "scripts/installer.sh --tests l'installe") -> str:
    """Path of an executable on PATH, else :func:`require_tool` (skip locally, fail in CI)."""
    path = shutil.which(name)
    require_tool(path is not None, f"{name} manque : {how}")
    return path or name


@pytest.fixture(scope="session")
def reference_store() -> Store:
    from data.reference import build_reference

    store = Store()
    build_reference(store, log=lambda _m: None)
    return store


@pytest.fixture()
def tmp_store(reference_store: Store, tmp_path: Path) -> Store:
    return reference_store.copie(tmp_path / "store")


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
    require_tool(Path(chromium).exists(), "Chromium est absent : lancez scripts/installer.sh --tests")
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
