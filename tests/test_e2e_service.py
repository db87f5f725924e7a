"""Service mode end to end: the reference deployment (deploy/atlas_deploy.py: two instances of
``scripts/serve.py --mode service`` behind Debian's nginx) and a real OpenID Connect provider process
(PyPI ``oidc-provider-mock``, registered client, user with role and département claims), driven by
headless Chromium.

Checks: sign-in through the provider's page, name/roles/départements in the sidebar, sign-out; the
security headers on every response and no Content-Security-Policy violation on any page (maps are
``srcdoc`` iframes that inherit the policy); session affinity (every request of one browser reaches
one instance, read from nginx's log); the upload limit; the signed-in name recorded as the scenario's
author.
"""
from __future__ import annotations

import csv
import io
import urllib.error
import urllib.request
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from deploy.atlas_deploy import Banc
from data.scenarios_db import ScenarioStore
from tests.service_harness import (copie_magasin, erreurs_visibles, nouveau_contexte, require_service_tools,
                                   se_connecter, suivre, violations_csp)
from tests.test_e2e import PAGES, SHOTS, wait_idle

pytestmark = pytest.mark.e2e

CAMILLE = {"name": "Camille Martin", "email": "camille.martin@caf89.example", "roles": ["conseiller"],
           "departements": ["89"]}
NATIONAL = {"name": "Dominique Cnaf", "email": "dominique@cnaf.example", "roles": ["administrateur_national"]}
HEADERS = {
    "content-security-policy": "default-src 'self'",
    "x-frame-options": "SAMEORIGIN",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
}


@pytest.fixture(scope="module")
def banc(tmp_path_factory):
    require_service_tools()
    root = tmp_path_factory.mktemp("service")
    data = copie_magasin(root / "magasin")
    b = Banc(root / "banc", n_instances=2, data_dir=str(data),
             database_url=f"sqlite:///{root / 'scenarios.sqlite'}")
    b.demarrer()
    b.definir_utilisateur("camille.martin", CAMILLE)
    b.definir_utilisateur("dominique.cnaf", NATIONAL)
    yield b
    b.arreter()


@pytest.fixture()
def ctx(browser, banc):
    c = nouveau_contexte(browser)
    yield c
    c.close()


def _get(url: str, headers: dict | None = None):
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=20)


def test_security_headers_and_affinity_cookie_set_once(banc):
    with _get(f"{banc.url}/") as r:
        assert r.status == 200 and b"<title>" in r.read()
        for name, value in HEADERS.items():
            assert value in (r.headers.get(name) or ""), f"en-tête {name} : {r.headers.get(name)!r}"
        cookie = next((c for c in r.headers.get_all("Set-Cookie") or [] if c.startswith("atlas_instance=")), "")
    assert cookie.startswith("atlas_instance=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    with _get(f"{banc.url}/_stcore/health", {"Cookie": f"atlas_instance={value}"}) as r:
        assert not [c for c in r.headers.get_all("Set-Cookie") or [] if c.startswith("atlas_instance=")]  # not again
        assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    # the same cookie always reaches the same instance
    assert len({banc.instance_du_cookie(value) for _ in range(5)}) == 1


def test_uploads_over_the_limit_are_refused_by_nginx(banc):
    body = b"0" * (61 * 1024 * 1024)  # server.maxUploadSize = 60 MB, client_max_body_size 60m
    req = urllib.request.Request(f"{banc.url}/_stcore/upload_file/session/fichier", data=body, method="PUT")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=60)
    assert err.value.code == 413


def test_sign_in_then_every_page_without_csp_violation(banc, ctx):
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg = ctx.new_page()
    suivre(pg)
    pg.goto(f"{banc.url}/?dep=93", wait_until="domcontentloaded")
    pg.get_by_role("button", name="Se connecter").wait_for(timeout=90000)
    assert pg.locator('[data-testid="stSidebar"]').count() == 0   # nothing but the sign-in screen
    pg.screenshot(path=str(SHOTS / "service_connexion.png"))
    se_connecter(pg, banc.url, "camille.martin")
    pg.external_requests.clear()  # the test provider's page asks a CDN for its style sheet (cut): not ours
    side = pg.locator('[data-testid="stSidebar"]').inner_text()
    assert "Camille Martin" in side and "conseiller — 89" in side and "Se déconnecter" in side
    pg.screenshot(path=str(SHOTS / "service_accueil.png"))

    for slug, heading in {**PAGES, "baremes": "Barèmes", "sppe": "Service public de la petite enfance"}.items():
        path = "" if slug == "accueil" else slug
        pg.goto(f"{banc.url}/{path}?dep=89", wait_until="domcontentloaded")
        wait_idle(pg, timeout=90)
        if slug == "couverture":  # Leaflet and the map's inline scripts run inside the srcdoc iframe
            frame = pg.frame_locator("iframe").first
            frame.locator("path.leaflet-interactive").first.wait_for(timeout=60000)
            assert frame.locator("path.leaflet-interactive").count() > 100
            # the table's files are built when clicked (not on every rerun): the Excel file arrives whole
            with pg.expect_download(timeout=60000) as dl:
                pg.get_by_role("button", name="Excel", exact=True).click()
            assert dl.value.suggested_filename.endswith(".xlsx")
            book = openpyxl.load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
            assert book.active.max_row > 400  # the 423 communes of the Yonne, plus headers and notes
        assert heading in pg.locator("h1").first.inner_text()
        assert erreurs_visibles(pg) == [], (slug, erreurs_visibles(pg))
        assert "Camille Martin" in pg.locator('[data-testid="stSidebar"]').inner_text()
        pg.screenshot(path=str(SHOTS / f"service_{slug}.png"), full_page=True)
    assert violations_csp(pg) == []
    assert pg.external_requests == []

    # affinity: every request of this browser went to one instance
    cookie = next(c["value"] for c in ctx.cookies() if c["name"] == "atlas_instance")
    served = {e["instance"] for e in banc.journal_nginx() if e["cookie"] == cookie}
    assert len(served) == 1, served


def test_sign_out_returns_to_the_sign_in_screen(banc, ctx):
    pg = ctx.new_page()
    se_connecter(pg, banc.url, "camille.martin")
    pg.get_by_role("button", name="Se déconnecter").click()
    pg.get_by_role("button", name="End session").click(timeout=60000)  # the provider's confirmation
    pg.get_by_role("button", name="Se connecter").wait_for(timeout=60000)
    assert not any(c["name"] == "_streamlit_user" for c in ctx.cookies())


def test_a_scenario_saved_in_service_mode_records_the_signed_in_author(banc, ctx):
    pg = ctx.new_page()
    se_connecter(pg, banc.url, "camille.martin")
    pg.goto(f"{banc.url}/simulateur?dep=89&grp=200067114", wait_until="domcontentloaded")  # CA de l'Auxerrois
    wait_idle(pg, timeout=90)
    name = pg.get_by_label("Nom du scénario")
    name.fill("Plan Auxerrois (service)")
    name.press("Enter")
    wait_idle(pg)
    pg.get_by_role("button", name="Enregistrer", exact=True).click()
    pg.get_by_text("Plan Auxerrois (service) — version 1").wait_for(timeout=60000)
    db = ScenarioStore(banc.database_url)
    try:
        metas = [m for m in db.list("epci:200067114") if m.name == "Plan Auxerrois (service)"]
    finally:
        db.close()
    assert len(metas) == 1 and metas[0].auteur == "Camille Martin" and metas[0].version == 1


def test_an_import_through_one_instance_is_seen_by_the_other_without_restart(banc, browser):
    """Both instances share ATLAS_DATA_DIR: the QPV list imported through instance 1 (upload through nginx)
    changes the RPE table of instance 2, whose caches are keyed on the manifest's modification time.
    Worked example: in the Seine-Saint-Denis of the demo, five towns over 10 000 inhabitants have no RPE in
    the town, all with a QPV in the 2024 list; the test follows three: Aulnay-sous-Bois (4 QPV), Stains (3)
    and Dugny (2). The test file lists QPV in Auxerre, Sens, Aubervilliers/Saint-Denis and Paris 18e only, so afterwards none
    of the three has one."""
    inst1, inst2 = (f"127.0.0.1:{p.port}" for p in banc.instances)
    pins = banc.cookies_par_instance(1)
    pid2 = banc.instances[1].proc.pid
    ctx_a = nouveau_contexte(browser, pins[inst1][0], banc.url)
    ctx_b = nouveau_contexte(browser, pins[inst2][0], banc.url)
    try:
        a, b = ctx_a.new_page(), ctx_b.new_page()
        se_connecter(a, banc.url, "dominique.cnaf")   # the QPV list is part of the national référentiel
        se_connecter(b, banc.url, "camille.martin")

        def qpv_of(towns: tuple[str, ...]) -> list[str]:
            """The QPV column of the page's own CSV export (the grid draws only the columns in view)."""
            b.goto(f"{banc.url}/rpe?dep=93", wait_until="domcontentloaded")
            wait_idle(b, timeout=90)
            bouton = b.locator(".st-key-rpe_dl_csv button")
            bouton.wait_for(state="visible", timeout=90000)
            # the first run after an import reloads the layers: a click can land on a button that the run
            # then replaces (no download); click again once the page is idle
            for essai in range(3):
                try:
                    with b.expect_download(timeout=30000) as dl:
                        bouton.click()
                    break
                except PlaywrightTimeout:
                    if essai == 2:
                        raise
                    wait_idle(b, timeout=90)
            lines = [ln for ln in Path(dl.value.path()).read_text(encoding="utf-8-sig").splitlines()
                     if not ln.startswith("#")]
            table = list(csv.DictReader(lines, delimiter=";"))
            return [next(r["QPV"] for r in table if r["Commune"] == t) for t in towns]

        towns = ("Aulnay-sous-Bois", "Stains", "Dugny")
        assert qpv_of(towns) == ["oui", "oui", "oui"]

        a.goto(f"{banc.url}/import?dep=89", wait_until="domcontentloaded")
        wait_idle(a, timeout=90)
        a.locator('[data-testid="stSelectbox"]').filter(has_text="Type de fichier").first.click()
        a.keyboard.type("Liste des quartiers")
        a.keyboard.press("Enter")
        wait_idle(a)
        a.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            str(Path(__file__).parent / "fixtures" / "imports" / "qpv_liste.csv"))
        a.get_by_text("qpv_liste.csv").first.wait_for()
        wait_idle(a)
        a.get_by_role("button", name="Vérifier et importer").click()
        a.get_by_text("ligne(s) écrite(s) dans qpv", exact=False).first.wait_for(timeout=60000)

        assert qpv_of(towns) == ["non", "non", "non"]
        assert banc.instances[1].proc.pid == pid2 and banc.instances[1].vivant  # no restart
        served = {e["instance"] for e in banc.journal_nginx()
                  if e["cookie"] == pins[inst1][0] and "upload_file" in e["requete"]}
        assert served == {inst1}  # the upload went to the importing session's instance
    finally:
        ctx_a.close()
        ctx_b.close()


def test_a_conseiller_89_does_not_see_a_93_scenario_and_the_administrator_reads_the_audit(banc, browser):
    """Scope through the UI, above the layer tests of tests/test_roles.py: two scenarios saved beforehand
    (one per Caf); Camille (conseiller 89) is offered only the 89 one by the comparison page; then the
    national administrator downloads the journal (CSV) and finds Camille's sign-in and both creations."""
    from data.identite import utilisateur_local

    db = ScenarioStore(banc.database_url)
    try:
        for name, terr, commune in (("Plan Bobigny 93", "epci:200054781", "93008"),
                                    ("Plan Sens 89", "epci:200067007", "89387")):
            db.create(name, terr, {"territoire": {"communes": [commune]}}, utilisateur=utilisateur_local())
    finally:
        db.close()
    ctx_c, ctx_n = nouveau_contexte(browser), nouveau_contexte(browser)
    try:
        c = ctx_c.new_page()
        se_connecter(c, banc.url, "camille.martin")
        c.goto(f"{banc.url}/scenarios?dep=89", wait_until="domcontentloaded")
        wait_idle(c, timeout=90)
        c.locator('[data-testid="stMultiSelect"]').first.click()
        options = c.locator('[role="option"]')
        options.first.wait_for(timeout=30000)
        offered = [options.nth(i).inner_text() for i in range(options.count())]
        assert any("Plan Sens 89" in o for o in offered) and not any("Bobigny" in o for o in offered), offered
        assert "Administration" not in c.locator('[data-testid="stSidebar"]').inner_text()

        n = ctx_n.new_page()
        se_connecter(n, banc.url, "dominique.cnaf")
        n.goto(f"{banc.url}/administration", wait_until="domcontentloaded")
        wait_idle(n, timeout=90)
        assert erreurs_visibles(n) == [], erreurs_visibles(n)
        n.screenshot(path=str(SHOTS / "service_administration.png"), full_page=True)
        with n.expect_download(timeout=60000) as dl:
            n.get_by_role("button", name="Télécharger le journal filtré (CSV)").click()
        rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8-sig")),
                                   delimiter=";"))
        seen = {(r["Utilisateur"], r["Action"], r["Objet"], r["Département"]) for r in rows}
        assert ("camille.martin", "connexion", "session", "89") in seen, seen
        assert ("local", "scénario créé", "Plan Bobigny 93 (epci:200054781)", "93") in seen, seen
        assert ("local", "scénario créé", "Plan Sens 89 (epci:200067007)", "89") in seen, seen
        # one entry per sign-in (identity token), not per page load (each load opens a new session)
        jetons = [r["Détails"] for r in rows if r["Utilisateur"] == "camille.martin" and r["Action"] == "connexion"]
        assert all("jeton : " in j and "jeton : ;" not in j for j in jetons), jetons
        assert len(jetons) == len(set(jetons)), jetons
    finally:
        ctx_c.close()
        ctx_n.close()
