"""Browser test of the « Service public de la petite enfance » page (real server, headless Chromium):
for the Yonne and Seine-Saint-Denis (demo structure lists) and the Ain (no structure list), one screen
shows the authorities' tiers and obligations on a map with the zones en tension and the table beside it.
Screenshots in tests/_artifacts/screenshots/sppe_*.png (looked at)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from data.store import PROJECT_ROOT
from tests.test_e2e import SHOTS, app_url, assert_no_exception, goto, page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e


def _cli(dep: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "planning", "sppe", "--departement", dep, "--json"], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("dep", ["89", "93", "01"])
def test_sppe_page_in_one_screen_agrees_with_the_cli(app_url, page, dep):  # noqa: F811
    goto(page, f"{app_url}/sppe?dep={dep}")
    assert_no_exception(page)
    assert "Service public de la petite enfance" in page.locator("h1").first.inner_text()
    main = page.locator('[data-testid="stMain"]')
    metrics = {m.locator('[data-testid="stMetricLabel"]').inner_text().strip():
               m.locator('[data-testid="stMetricValue"]').inner_text().strip()
               for m in main.locator('[data-testid="stMetric"]').all()}
    r = _cli(dep)["resume"]
    nombre = lambda n: f"{n:,}".replace(",", "\u202f")  # noqa: E731
    assert metrics["Autorités organisatrices"] == nombre(r["autorites"])
    assert metrics["Plus de 10\u202f000 habitants"] == nombre(r["par_palier"]["10000"])
    assert metrics["RPE manquant"] == nombre(r["obligations_non_remplies"]["rpe"])
    frame = page.frame_locator("iframe").first
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=30000)
    srcdoc = page.locator("iframe").first.get_attribute("srcdoc") or ""
    assert "obligation non remplie" in srcdoc
    if dep == "01":
        assert "sans liste de structures" in main.inner_text()     # missing, never « 0 RPE »
    else:
        assert "Zones en tension" in srcdoc                          # hatched overlay
    assert main.locator('[data-testid="stDataFrame"]').count() >= 1
    assert page.external_requests == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"sppe_{dep}.png"))
