"""Import page, in Chromium: a crèche list whose columns are not recognised goes through the mapping
step (pick the columns, preview 5 rows, save the mapping under a name), then imports."""
from __future__ import annotations


import pytest

from tests.app_server import private_store, running_app
from tests.test_e2e import SHOTS, assert_no_exception, goto, page, wait_idle  # noqa: F401

pytestmark = pytest.mark.e2e

ODD = ("Nom de l'établissement;Catégorie d'accueil;Capacité, total;Statut juridique;Commune (code)\n"
       "Les Mésanges;Multi-accueil;60;Commune;92025\n"
       "Petits Pas;Micro crèche;10;Privé;92050\n")


@pytest.fixture(scope="module")
def private_app(tmp_path_factory):
    root = tmp_path_factory.mktemp("mapping_store")
    store = private_store(root)
    with running_app({"ATLAS_DATA_DIR": str(root)}) as url:
        yield url, store


def _pick(pg, label: str, option: str) -> None:
    box = pg.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    pg.keyboard.type(option)
    pg.keyboard.press("Enter")
    wait_idle(pg)


def test_import_page_mapping_step_preview_save_and_import(private_app, page, tmp_path):
    url, store = private_app
    f = tmp_path / "liste_ville_2025.csv"
    f.write_text(ODD, encoding="utf-8")
    goto(page, f"{url}/import?dep=92")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(f))
    page.get_by_text("Colonnes non reconnues").first.wait_for(timeout=30000)
    wait_idle(page)
    _pick(page, "Code INSEE de la commune", "Commune (code)")
    _pick(page, "Type de structure", "Catégorie d'accueil")
    _pick(page, "Nom de la structure", "Nom de l'établissement")
    _pick(page, "Nombre de places", "Capacité, total")
    _pick(page, "Gestion (publique", "Statut juridique")
    main = page.locator('[data-testid="stMain"]')
    assert "À choisir encore" not in main.inner_text()
    # the preview (a data grid drawn on a canvas: looked at on the screenshot) is there
    assert "Aperçu des 5 premières lignes" in main.inner_text()
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1
    page.get_by_label("Enregistrer cette correspondance sous le nom").fill("Ville *test*")
    page.get_by_label("Enregistrer cette correspondance sous le nom").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    page.get_by_text("enregistrée : elle sera proposée").first.wait_for(timeout=30000)
    assert "Ville *test*" in main.inner_text()   # shown as typed, not as Markdown
    from data.importers.mapping import list_mappings

    assert list_mappings(store, "structures")["Ville *test*"]["places"] == "Capacité, total"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "import_correspondance_colonnes.png"), full_page=True)
    page.get_by_role("button", name="Vérifier et importer").click()
    page.get_by_text("ligne(s) écrite(s) dans structures", exact=False).first.wait_for(timeout=30000)
    wait_idle(page)
    assert_no_exception(page)
    s = store.read("structures")
    assert sorted(s["nom"]) == ["Les Mésanges", "Petits Pas"] and int(s["places"].sum()) == 70
    assert s["psu"].isna().all()
    assert (s["date_ouverture"].dt.year == 2025).all()   # millésime read from the file name
    page.screenshot(path=str(SHOTS / "import_correspondance_resultat.png"), full_page=True)
