"""App shell under plain ``streamlit run app.py`` (what any Streamlit user types), in Chromium.

Streamlit runs the first session of a fresh server in legacy multipage mode when the main script
sits next to ``pages/``: a deep link then ran ``pages/rpe.py`` alone and listed ``_data`` and
``_ui`` in the sidebar.  These tests start a *fresh* plain server and open a deep link as its very
first visitor, then check the home page answers its own link ``/accueil``.
"""
from __future__ import annotations

import sys

import pytest

from tests.app_server import running_app
from tests.test_e2e import SHOTS, assert_no_exception, goto, page  # noqa: F401

pytestmark = pytest.mark.e2e


def _plain_command(port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
            "--server.headless", "true", "--server.address", "127.0.0.1"]


@pytest.fixture()
def plain_url():
    """A fresh `streamlit run app.py` per test: the legacy mode only hits a server's first session."""
    with running_app(command=_plain_command) as url:
        yield url


def _nav_text(pg) -> str:
    nav = pg.locator('[data-testid="stSidebarNav"]')
    return nav.inner_text() if nav.count() else ""


def test_plain_streamlit_run_deep_link_first_visit_shows_the_app_navigation(plain_url, page):
    goto(page, f"{plain_url}/rpe?dep=93")
    page.get_by_text("Département 93").first.wait_for(timeout=30000)
    assert_no_exception(page)
    nav = _nav_text(page)
    # the app's own navigation (titles from app.py), not the file names of pages/ that the legacy
    # mode lists as « app, accueil, …, data, import donnees, …, ui »
    assert "Couverture" in nav and "Import de données" in nav, nav
    entries = {line.strip() for line in nav.splitlines()}
    for legacy in ("app", "data", "ui", "import donnees", "_data", "_ui"):
        assert legacy not in entries, f"page héritée « {legacy} » dans la barre latérale : {nav}"
    assert page.locator("h1").first.inner_text().startswith("Objectif RPE")
    assert "dep=93" in page.url and "/rpe" in page.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "streamlit_run_lien_profond_rpe.png"))


def test_plain_streamlit_run_home_answers_its_own_link(plain_url, page):
    goto(page, f"{plain_url}/accueil?dep=93")
    page.get_by_text("Chiffres clés").first.wait_for(timeout=30000)
    assert_no_exception(page)  # includes « Page not found »
    assert page.locator("h1").first.inner_text() == "Atlas Petite Enfance"
    assert "Seine-Saint-Denis" in page.locator('[data-testid="stMain"]').inner_text()
    assert "ui" not in {line.strip() for line in _nav_text(page).splitlines()}
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "accueil_lien_propre.png"))
