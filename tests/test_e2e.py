"""Browser tests: a real `streamlit run`, driven by Debian's headless Chromium through Playwright.

Harness in the spirit of streamlit-folium's tests: wait for /_stcore/health, then, on each page,
wait until the app is no longer running before asserting.  A screenshot of every page is saved in
tests/_artifacts/screenshots/ (to look at).  No network: assets (Leaflet) are served locally.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from data.store import PROJECT_ROOT, Store

pytestmark = pytest.mark.e2e
SHOTS = PROJECT_ROOT / "tests" / "_artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

PAGES = {
    "accueil": "Atlas Petite Enfance",
    "couverture": "Couverture en EAJE et RPE",
    "rpe": "Objectif RPE",
    "simulateur": "Simulateur",
    "scenarios": "Comparer",
    "documents": "Documents pour le comité",
    "import": "Import de données",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url():
    port = _free_port()
    env = dict(os.environ)
    proc = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "serve.py"), "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
        pytest.fail(f"streamlit n'a pas démarré en 60 s :\n{out[-3000:]}")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture()
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    pg = ctx.new_page()
    external: list[str] = []
    pg.on("request", lambda req: external.append(req.url)
          if not req.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")) else None)
    pg.external_requests = external  # type: ignore[attr-defined]
    yield pg
    ctx.close()


def wait_idle(pg, timeout: float = 60.0) -> None:
    """Wait until Streamlit has rendered and is no longer running the script."""
    pg.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    pg.wait_for_selector("h1", timeout=timeout * 1000)
    deadline = time.time() + timeout
    quiet_since = None
    while time.time() < deadline:
        running = pg.locator('[data-testid="stStatusWidget"]').count() > 0
        skeleton = pg.locator('[data-testid="stSkeleton"]').count() > 0
        if not running and not skeleton:
            quiet_since = quiet_since or time.time()
            if time.time() - quiet_since > 1.5:
                return
        else:
            quiet_since = None
        time.sleep(0.2)
    raise AssertionError("l'application tourne encore après le délai")


def goto(pg, url: str) -> None:
    pg.goto(url, wait_until="domcontentloaded")
    wait_idle(pg)


def assert_no_exception(pg) -> None:
    exc = pg.locator('[data-testid="stException"]')
    assert exc.count() == 0, exc.first.inner_text()
    assert "Traceback" not in pg.content()
    assert "Page not found" not in pg.content(), "page introuvable"


@pytest.mark.parametrize("slug,heading", list(PAGES.items()))
def test_each_page_renders_offline_without_exception(app_url, page, slug, heading):
    path = "" if slug == "accueil" else slug  # the default page lives at /
    goto(page, f"{app_url}/{path}?dep=89")
    assert_no_exception(page)
    assert heading in page.locator("h1").first.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{slug}.png"), full_page=True)
    assert page.external_requests == [], f"requêtes hors de la machine : {page.external_requests[:5]}"


def test_territory_link_is_shareable(app_url, page):
    goto(page, f"{app_url}/?dep=93")
    assert "dep=93" in page.url
    assert "93 – Seine-Saint-Denis" in page.locator('[data-testid="stSidebar"]').inner_html()


def test_coverage_map_is_drawn_offline(app_url, page):
    goto(page, f"{app_url}/couverture?dep=93")
    frame = page.frame_locator("iframe").first
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=30000)
    # 39 communes of Seine-Saint-Denis drawn, legend with the national references
    assert frame.locator("path.leaflet-interactive").count() >= 39
    if not frame.locator(".atlas-legend details").evaluate("d => d.open"):   # folded on a map under 1 000 px
        frame.locator(".atlas-legend summary").click()
    legend = frame.locator(".atlas-legend").inner_text()
    assert "50" in legend and "60" in legend and "donnée non disponible" in legend
    assert page.external_requests == []
    page.screenshot(path=str(SHOTS / "couverture_93.png"))


def _has_published_rates() -> bool:
    from data.store import Store

    s = Store()
    return s.has("caf_couverture_dep") and s.has("caf_couverture_com")


def test_france_view_shows_published_cnaf_coverage(app_url, page):
    """The demo imports the real data.caf.fr files: the France view shows the published global rate by
    département (with its year and source), then by town over 10 000 inhabitants."""
    if not _has_published_rates():
        pytest.skip("taux data.caf.fr non importés (dossier ../shared/data/reel absent lors de la démonstration)")
    page.set_viewport_size({"width": 1366, "height": 768})     # a laptop screen
    goto(page, f"{app_url}/couverture?dep=")
    assert_no_exception(page)
    frame = page.frame_locator("iframe").first
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=30000)
    srcdoc = page.locator("iframe").first.get_attribute("srcdoc") or ""
    assert "Taux de couverture global (Caf)" in srcdoc and "publié pour 2023" in srcdoc
    assert "txcouv_pe_dep.csv" in srcdoc and "data.caf.fr" in srcdoc       # source in the legend
    assert frame.locator("path.leaflet-interactive").count() >= 100          # 100 départements published
    # the map takes the width and its legend starts folded (it would hide a large part of the map)
    box = page.locator("iframe").first.bounding_box()
    assert box["width"] > 800
    assert frame.locator(".atlas-legend details").evaluate("d => d.open") is False
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "publié pour 2023" in body and "data.caf.fr" in body
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("iframe").first.scroll_into_view_if_needed()
    frame.locator(".atlas-legend summary").click()
    page.screenshot(path=str(SHOTS / "couverture_france_caf_departements.png"))
    # by town: the ~1 000 towns over 10 000 inhabitants the Cnaf publishes (2017-2022)
    page.get_by_text("Communes publiées (Caf)", exact=True).click()
    wait_idle(page)
    frame = page.frame_locator("iframe").first
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=30000)
    assert frame.locator("path.leaflet-interactive").count() > 900
    srcdoc = page.locator("iframe").first.get_attribute("srcdoc") or ""
    assert "publié 2017 à 2022 selon les territoires" in srcdoc or "publié pour 2022" in srcdoc
    assert "communes publiées par la Cnaf" in page.locator('[data-testid="stMain"]').inner_text()
    assert_no_exception(page)
    assert page.external_requests == []
    page.locator("iframe").first.scroll_into_view_if_needed()
    frame.locator(".atlas-legend summary").click()
    page.screenshot(path=str(SHOTS / "couverture_france_caf_communes.png"))


# -- hostile names ---------------------------------------------------------------------

HOSTILE_COMMUNE = "<script>alert(1)</script>Auxerre"
HOSTILE_STRUCTURE = "<img src=x onerror=alert(2)>Crèche"


_HOSTILE_ROOTS: dict[int, Path] = {}


def hostile_store_root(url: str) -> Path:
    """The private store folder behind the hostile_url app."""
    return _HOSTILE_ROOTS[int(url.rsplit(":", 1)[1])]


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory):
    """A second app on a private store where Auxerre and one crèche have names with HTML in them."""
    import shutil as sh

    from data.store import Store

    src = Store()
    root = tmp_path_factory.mktemp("hostile_store")
    (root / "layers").mkdir()
    for p in src.layers_dir.glob("*.parquet"):
        os.link(p, root / "layers" / p.name)
    sh.copy2(src.manifest_path, root / "manifest.json")
    store = Store(root)
    com = store.read("communes")
    com.loc[com["code_insee"] == "89024", "nom"] = HOSTILE_COMMUNE
    structures = store.read("structures")
    i = structures.index[(structures["code_insee"] == "89024") & (structures["type"] == "EAJE")][0]
    structures.loc[i, "nom"] = HOSTILE_STRUCTURE
    store.write_layers({"communes": (com, store.info("communes")), "structures": (structures, store.info("structures"))})
    port = _free_port()
    _HOSTILE_ROOTS[port] = root
    env = dict(os.environ, ATLAS_DATA_DIR=str(root))
    proc = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "scripts" / "serve.py"), "--server.port", str(port),
                             "--server.headless", "true", "--server.address", "127.0.0.1"],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_names_with_html_are_shown_as_text_in_map_tooltips_and_popups(hostile_url, page):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    goto(page, f"{hostile_url}/couverture?dep=89&grp=200067114")  # CA de l'Auxerrois
    assert_no_exception(page)
    frame = page.frame_locator("iframe").first
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=30000)
    # the map document carries the names escaped, never as live markup
    iframe_html = page.locator("iframe").first.get_attribute("srcdoc") or ""
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Auxerre" in iframe_html
    assert "<script>alert(1)</script>" not in iframe_html
    assert "<img src=x onerror" not in iframe_html
    # keyboard focus on each commune shows its tooltip: the hostile name appears as text
    texts = []
    paths = frame.locator("path.leaflet-interactive")
    for k in range(min(paths.count(), 40)):
        try:
            paths.nth(k).focus(timeout=2000)
        except Exception:  # noqa: BLE001 - non-focusable overlay paths
            continue
        tip = frame.locator(".leaflet-tooltip")
        if tip.count():
            texts.append(tip.last.inner_text())
    assert any(HOSTILE_COMMUNE in t for t in texts), texts[:5]
    assert dialogs == [], f"du HTML des données a été exécuté : {dialogs}"


def test_hostile_names_in_rpe_and_home_pages_do_not_execute(hostile_url, page):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    goto(page, f"{hostile_url}/rpe?dep=89")
    assert_no_exception(page)
    page.wait_for_timeout(1500)
    assert dialogs == []


def test_import_page_refuses_a_bad_file_with_line_and_column_then_accepts_a_good_one(hostile_url, page, tmp_path):
    """Upload through the browser (private store of the hostile_url app): a refused file changes nothing."""
    bad = tmp_path / "structures_caf.csv"
    bad.write_text("code_insee;type;nom;places;psu;gestion;date_ouverture\n"
                   "89024;EAJE;Crèche A;-5;oui;publique;2020-01-01\n", encoding="utf-8")
    goto(page, f"{hostile_url}/import?dep=89")
    page.get_by_text("Liste des structures", exact=False).first.wait_for()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad))
    page.get_by_text("structures_caf.csv").first.wait_for()
    wait_idle(page)  # the upload reruns the script: click only once the button is the final one
    page.get_by_role("button", name="Vérifier et importer").click()
    page.get_by_text("Import refusé").wait_for(timeout=30000)
    wait_idle(page)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "Les données existantes n'ont pas été modifiées" in body
    assert_no_exception(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "import_refus.png"))

    good = PROJECT_ROOT / "tests" / "fixtures" / "imports" / "qpv_liste.csv"
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Type de fichier").first.click()
    page.keyboard.type("Liste des quartiers")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(good))
    page.get_by_text("qpv_liste.csv").first.wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Vérifier et importer").click()
    try:
        page.get_by_text("ligne(s) écrite(s) dans qpv", exact=False).first.wait_for(timeout=30000)
    finally:
        page.screenshot(path=str(SHOTS / "import_succes.png"))
    assert_no_exception(page)


# -- the Import page against hostile files (issue 9): own process, progress, cancel, French refusals ------

def choose_kind(pg, label: str) -> None:
    pg.locator('[data-testid="stSelectbox"]').filter(has_text="Type de fichier").first.click()
    pg.keyboard.type(label)
    pg.keyboard.press("Enter")
    wait_idle(pg)


# -- Markdown in names (issue 9, item 4) and missing data on the RPE page (item 8) ---------------

MD_IP = "198.51.100.7"
MD_NAME = f"![x](http://{MD_IP}/a.png) [Valider](http://{MD_IP}/v) <b>g</b>"


@pytest.fixture(scope="module")
def markdown_url(tmp_path_factory):
    """An app whose commune Toucy, one of its crèches, the structure list's source and a saved scenario
    carry Markdown that would fetch an outside image or make a link if it were interpreted."""
    import dataclasses
    import json
    import shutil as sh

    from data.store import Store
    from planning.scenarios_db import ScenarioStore

    src = Store()
    root = tmp_path_factory.mktemp("markdown_store")
    (root / "layers").mkdir()
    for p in src.layers_dir.glob("*.parquet"):
        os.link(p, root / "layers" / p.name)
    sh.copy2(src.manifest_path, root / "manifest.json")
    store = Store(root)
    com = store.read("communes")
    com.loc[com["code_insee"] == "89419", "nom"] = "Toucy " + MD_NAME
    structures = store.read("structures")
    i = structures.index[structures["code_insee"] == "89419"][0]
    structures.loc[i, "nom"] = "Crèche " + MD_NAME
    info = dataclasses.replace(store.info("structures"), source=f"liste {MD_NAME}.csv")
    store.write_layers({"communes": (com, store.info("communes")), "structures": (structures, info)})
    db_url = f"sqlite:///{root / 'scenarios.sqlite'}"
    ex = json.loads((PROJECT_ROOT / "examples" / "scenarios" / "ctg_yonne_rural.json").read_text(encoding="utf-8"))
    db = ScenarioStore(db_url)
    db.create("Référence", "epci:200067130", ex)
    ex["structures"][0]["nom"] = "Structure " + MD_NAME
    ex["structures"][0]["prix_revient_horaire"] = 8.0          # Caf share > 80 %: alerts name the structure
    ex["structures"][0]["participation_horaire_moyenne"] = 0.5  # (low participations: PSU and bonus mixité up)
    ex["structures"][0]["part_regime_general"] = 1.0
    db.create("Scénario " + MD_NAME, "epci:200067130", ex)
    db.close()
    port = _free_port()
    env = dict(os.environ, ATLAS_DATA_DIR=str(root), DATABASE_URL=db_url)
    proc = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "scripts" / "serve.py"), "--server.port", str(port),
                             "--server.headless", "true", "--server.address", "127.0.0.1"],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _assert_nothing_from_names(pg) -> None:
    html = pg.content()
    assert pg.locator(f'img[src*="{MD_IP}"]').count() == 0, "image créée depuis un nom"
    assert pg.locator(f'a[href*="{MD_IP}"]').count() == 0, "lien créé depuis un nom"
    assert "<b>g</b>" not in html
    assert pg.external_requests == [], f"requêtes hors de la machine : {pg.external_requests[:5]}"


def _pick(pg, label: str, text: str) -> None:
    pg.locator('[data-testid="stSelectbox"], [data-testid="stMultiSelect"]').filter(has_text=label).first.click()
    pg.keyboard.type(text)
    pg.keyboard.press("Enter")
    wait_idle(pg)


def upload(pg, path: Path) -> None:
    pg.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    pg.get_by_role("button", name="Vérifier et importer").wait_for(timeout=60000)
    wait_idle(pg)


def test_big_import_shows_progress_and_can_be_cancelled(hostile_url, page, tmp_path):
    url, store = hostile_url, Store(hostile_store_root(hostile_url))
    manifest = store.manifest_path.read_bytes()
    big = tmp_path / "txcouv_pe_com_2012_2023.csv"
    sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
    from bench_import import make_caf_file

    make_caf_file(big, Store())
    goto(page, f"{url}/import?dep=89")
    choose_kind(page, "Taux de couverture petite enfance")
    upload(page, big)
    page.get_by_role("button", name="Vérifier et importer").click()
    bar = page.locator('[data-testid="stProgress"]').first
    bar.wait_for(timeout=30000)
    page.get_by_text("lignes lues", exact=False).first.wait_for(timeout=30000)   # the reading advances
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "import_progression.png"))
    page.get_by_role("button", name="Annuler l'import").click()
    page.get_by_text("Import interrompu").wait_for(timeout=30000)
    wait_idle(page)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "import annulé à votre demande" in body and "n'ont pas été modifiées" in body
    assert_no_exception(page)
    assert store.manifest_path.read_bytes() == manifest      # nothing written


def test_import_refusals_are_french_and_file_names_are_text(hostile_url, page, tmp_path):
    url, store = hostile_url, Store(hostile_store_root(hostile_url))
    manifest = store.manifest_path.read_bytes()
    external: list[str] = page.external_requests  # type: ignore[attr-defined]
    # a workbook declaring A1:XFD1048576, under a name that is Markdown for an outside image
    from tests import hostile_files as hf

    bomb = hf.dimension_bomb_xlsx(tmp_path / "![x](http:198.51.100.7 a.png).xlsx")
    goto(page, f"{url}/import?dep=89")
    upload(page, bomb)
    page.get_by_role("button", name="Vérifier et importer").click()
    page.get_by_text("Import refusé").wait_for(timeout=60000)
    wait_idle(page)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "A1:XFD1048576" in body and "ATLAS_IMPORT_MAX_LIGNES" in body
    assert "Les données existantes n'ont pas été modifiées" in body
    assert_no_exception(page)
    page.screenshot(path=str(SHOTS / "import_refus_limite.png"))
    # a UTF-8 file with one Windows-1252 byte: refused naming the line
    mixed = tmp_path / "frr.csv"
    mixed.write_bytes((PROJECT_ROOT / "tests" / "fixtures" / "hostile" / "utf8_octet_cp1252.csv").read_bytes())
    choose_kind(page, "France Ruralités")
    upload(page, mixed)
    page.get_by_role("button", name="Vérifier et importer").click()
    page.get_by_text("encodage mélangé", exact=False).first.wait_for(timeout=60000)
    wait_idle(page)
    assert_no_exception(page)
    page.screenshot(path=str(SHOTS / "import_refus_encodage.png"))
    assert store.manifest_path.read_bytes() == manifest
    assert not [u for u in external if "198.51.100.7" in u], external


def test_markdown_in_names_is_text_on_every_page(markdown_url, page):
    for path in ("?dep=89&grp=200067130&com=89419", "couverture?dep=89&grp=200067130&com=89419", "rpe?dep=89",
                 "documents?dep=89&grp=200067130", "import?dep=89"):
        goto(page, f"{markdown_url}/{path}")
        assert_no_exception(page)
        _assert_nothing_from_names(page)
    goto(page, f"{markdown_url}/?dep=89&grp=200067130&com=89419")
    heading = page.locator('[data-testid="stMain"] h3').first.inner_text().replace("\u2060", "")   # word joiners of md()
    assert f"Chiffres clés — Commune Toucy ![x](http://{MD_IP}/a.png)" in heading


def test_simulator_and_comparison_show_a_hostile_scenario_as_text(markdown_url, page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    goto(page, f"{markdown_url}/simulateur?dep=89&grp=200067130")
    _pick(page, "Scénarios enregistrés pour ce territoire", "Scénario")
    page.get_by_role("button", name="Ouvrir").click()
    wait_idle(page)
    assert_no_exception(page)
    main = page.locator('[data-testid="stMain"]').inner_text().replace("\u2060", "")  # word joiners of md()
    assert f"Scénario ![x](http://{MD_IP}/a.png) [Valider](http://{MD_IP}/v) <b>g</b> — version 1" in main
    assert f"2023 — Structure ![x](http://{MD_IP}/a.png)" in main                 # an alert
    _assert_nothing_from_names(page)
    page.screenshot(path=str(SHOTS / "simulateur_nom_hostile.png"), full_page=True)

    goto(page, f"{markdown_url}/scenarios?dep=89&grp=200067130")
    _pick(page, "Scénarios à comparer", "Référence")
    _pick(page, "Scénarios à comparer", "Scénario")
    page.keyboard.press("Escape")                                # close the options list
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=30000)
    assert_no_exception(page)
    assert f"Écart par année avec « Référence »" in page.locator('[data-testid="stMain"]').inner_text()
    legend = page.locator('[data-testid="stPlotlyChart"] .legend').first.text_content()
    assert "<b>g</b>" in legend                                  # shown literally, not bold markup
    _assert_nothing_from_names(page)
    page.screenshot(path=str(SHOTS / "scenarios_nom_hostile.png"), full_page=True)


def test_rpe_page_says_data_is_missing_without_a_structure_list(app_url, page):
    goto(page, f"{app_url}/rpe?dep=01")
    assert_no_exception(page)
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "Donnée non disponible : aucune liste de structures ne couvre ce territoire" in main
    assert "Impossible de calculer" not in main and "0 commune(s) n'en ont pas" not in main
    page.screenshot(path=str(SHOTS / "rpe_01.png"), full_page=True)
    goto(page, f"{app_url}/rpe?dep=93")
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "Donnée non disponible" not in main and "Impossible de calculer" not in main
    page.screenshot(path=str(SHOTS / "rpe_93.png"), full_page=True)
    assert page.external_requests == []
