"""Helpers for the service-mode browser tests: the reference deployment of deploy/atlas_deploy.py
(instances + nginx + the PyPI mock OpenID Connect provider, all on 127.0.0.1), a private PostgreSQL
schema, a private copy of the data store, and signing in through the provider's page in Chromium."""
from __future__ import annotations

import os
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


from data.store import Store
from tests.conftest import require_program, require_tool
from tests.test_e2e import wait_idle

PG_ENV = "ATLAS_TEST_POSTGRES_URL"
CSP_MARK = "ATLAS-CSP-VIOLATION"
# every `securitypolicyviolation` (in the page and in the map iframes) is written to the console
CSP_LISTENER = ("document.addEventListener('securitypolicyviolation', e => console.error('" + CSP_MARK +
                " ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));")


def pg_base_url() -> str:
    url = os.environ.get(PG_ENV, "").strip()
    require_tool(bool(url), f"PostgreSQL : {PG_ENV} non défini : lancez `bash scripts/postgres.sh` et exportez "
                            "l'URL affichée")
    return url


def require_service_tools() -> None:
    """nginx and the mock OpenID Connect provider (PyPI oidc-provider-mock), by the one tool policy."""
    import importlib.util

    require_program("nginx", "nginx manque : sudo apt-get install nginx (ou bash scripts/installer.sh --tests)")
    require_tool(importlib.util.find_spec("oidc_provider_mock") is not None,
                 "le fournisseur OpenID Connect de test (oidc-provider-mock) manque : "
                 "bash scripts/installer.sh --tests l'installe")


@contextmanager
def schema_postgres() -> Iterator[str]:
    """A fresh PostgreSQL schema; yields a DATABASE_URL that writes into it only."""
    import sqlalchemy as sa

    from data.scenarios_db import normaliser_url

    base = normaliser_url(pg_base_url())
    schema = f"service_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def copie_magasin(dest: Path) -> Path:
    """A private data store (layers hard-linked: they are replaced, never modified in place)."""
    Store().copie(dest)
    return dest


def nouveau_contexte(browser, affinite: str | None = None, url: str | None = None, largeur: int = 1400):
    """A browser context that records CSP violations and requests leaving the machine; the test
    provider's page asks a CDN for its style sheet: that request is cut here (no network)."""
    ctx = browser.new_context(viewport={"width": largeur, "height": 1000}, locale="fr-FR")
    ctx.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    ctx.add_init_script(CSP_LISTENER)
    if affinite and url:
        ctx.add_cookies([{"name": "atlas_instance", "value": affinite, "url": url}])
    return ctx


def suivre(pg) -> None:
    pg.console_errors = []  # type: ignore[attr-defined]
    pg.external_requests = []  # type: ignore[attr-defined]
    pg.websockets_opened = []  # type: ignore[attr-defined]  (time of each websocket opened)
    pg.on("websocket", lambda ws: pg.websockets_opened.append(time.time()) if "_stcore/stream" in ws.url else None)
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("request", lambda r: pg.external_requests.append(r.url)
          if not r.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")) else None)


def violations_csp(pg) -> list[str]:
    return [m for m in pg.console_errors if CSP_MARK in m or "Content Security Policy" in m]


def demarrer_connexion(pg, url: str) -> None:
    """Open the app and press « Se connecter » (does not wait for the provider's page)."""
    pg.goto(f"{url}/", wait_until="domcontentloaded")
    pg.get_by_role("button", name="Se connecter").click(timeout=90000)


def finir_connexion(pg, sub: str) -> None:
    """On the provider's page: type the subject and authorize (does not wait for the app)."""
    pg.wait_for_selector("input[name=sub]", timeout=60000)
    pg.fill("input[name=sub]", sub)
    pg.get_by_role("button", name="Authorize").click()


def se_connecter(pg, url: str, sub: str) -> None:
    demarrer_connexion(pg, url)
    finir_connexion(pg, sub)
    pg.wait_for_url(f"{url}/", timeout=60000)
    wait_idle(pg, timeout=90)


# error-styled alerts that are content, not failures (the RPE page's legal obligation)
ALERTES_DU_DOMAINE = ("Obligation légale :",)


def erreurs_visibles(pg) -> list[str]:
    """Errors a person would see on the page (Streamlit exceptions, error alerts, connection dialog)."""
    out = []
    for sel in ('[data-testid="stException"]', '[data-testid="stAlertContentError"]'):
        loc = pg.locator(sel)
        out += [t for i in range(loc.count()) if not (t := loc.nth(i).inner_text()).startswith(ALERTES_DU_DOMAINE)]
    body = pg.locator("body").inner_text()
    for text in ("Traceback", "Connection error", "Is Streamlit still running", "Page not found"):
        if text in body:
            out.append(text)
    return out


def attendre(cond, timeout: float, pas: float = 0.2, message: str = "délai dépassé"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(pas)
    raise AssertionError(message)
