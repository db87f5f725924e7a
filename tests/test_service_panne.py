"""Fault and load test of the reference deployment (issue 13, item 6; markers ``slow`` and ``e2e``).

Two instances of ``scripts/serve.py --mode service`` behind Debian's nginx, scenarios in PostgreSQL
(a private schema), the PyPI OpenID Connect provider process; ten browser sessions, each signed in
through the provider's page as its own conseiller, five pinned to each instance by nginx's affinity
cookie.

1. every session saves a scenario for an EPCI of the Yonne (version 1);
2. every session switches territory in the sidebar and, while those reruns are under way, instance 1
   is killed (SIGKILL): its five sessions see Streamlit's reconnection, nginx sends them to instance 2,
   the page comes back on the territory held in its address, signed in; every session saves a second
   scenario there;
3. every session goes back to its first EPCI, opens its first scenario and saves it again (version 2).

Then: the database holds exactly the 20 scenarios and every version the screens confirmed (nothing
lost), no session ever showed an error (other than the reconnection itself), and nginx's log shows
the killed instance's sessions served by the other one afterwards.
"""
from __future__ import annotations

import shutil
import time

import pytest

from deploy.atlas_deploy import Banc
from data.scenarios_db import ScenarioStore
from tests.service_harness import (attendre, demarrer_connexion, erreurs_visibles, finir_connexion,
                                   nouveau_contexte, require_service_tools, schema_postgres, suivre,
                                   violations_csp)
from tests.test_e2e import SHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

N_SESSIONS = 10


def epci_avec_creches_psu() -> list[tuple[str, str]]:
    """EPCI of the Yonne (SIREN, name) whose structure list has PSU crèches: the simulator can compute a
    scenario for them (an EPCI without any opens on « Aucune structure PSU à simuler »)."""
    from data.store import Store

    store = Store()
    com = store.read("communes", columns=["code_insee", "dep", "epci_siren", "epci_nom"])
    st = store.read("structures", columns=["code_insee", "psu"]).merge(com, on="code_insee")
    noms = sorted(set(com.loc[com["dep"] == "89", "epci_nom"].dropna()))
    out = []
    for (siren, nom), grp in st[st["dep"] == "89"].groupby(["epci_siren", "epci_nom"]):
        # typed in the picker, the name must not also be part of another EPCI's name
        if grp["psu"].fillna(False).astype(bool).any() and sum(nom in n for n in noms) == 1:
            out.append((siren, nom))
    return sorted(out, key=lambda x: x[1])


def _idle(pg) -> bool:
    """Rendered, not running, not reconnecting."""
    return (pg.locator('[data-testid="stApp"]').count() > 0 and pg.locator("h1").count() > 0
            and pg.locator('[data-testid="stStatusWidget"]').count() == 0
            and pg.locator('[data-testid="stSkeleton"]').count() == 0
            and pg.locator('[data-stale="true"]').count() == 0)


def _wait_all(pages, timeout: float = 120.0, quiet: float = 1.0) -> None:
    """Wait until every page has been idle for ``quiet`` seconds (checked round-robin)."""
    since: dict[int, float | None] = {i: None for i in range(len(pages))}
    deadline = time.time() + timeout
    while time.time() < deadline:
        for i, pg in enumerate(pages):
            if _idle(pg):
                since[i] = since[i] or time.time()
            else:
                since[i] = None
        if all(s is not None and time.time() - s >= quiet for s in since.values()):
            return
        time.sleep(0.2)
    busy = [i for i, s in since.items() if s is None]
    raise AssertionError(f"sessions encore occupées après {timeout:.0f} s : {busy}")


def _pick_epci(pg, text: str) -> None:
    pg.locator('[data-testid="stSelectbox"]').filter(has_text="EPCI ou territoire").first.click()
    pg.keyboard.type(text)
    pg.keyboard.press("Enter")


def _epci_shown(pg) -> str:
    box = pg.locator('[data-testid="stSelectbox"]').filter(has_text="EPCI ou territoire").first
    return box.locator("input").input_value()


def _save_as(pg, name: str) -> None:
    box = pg.get_by_label("Nom du scénario")
    box.fill(name)
    box.press("Enter")


def _subheader(pg) -> str:
    loc = pg.locator('[data-testid="stMain"] h3')
    return loc.first.inner_text() if loc.count() else ""


def _wait_saved(pages, expected: list[str], timeout: float = 120.0) -> None:
    """Wait until each page's title line says its scenario is saved at the expected version."""
    attendre(lambda: all(_subheader(pg) == e for pg, e in zip(pages, expected)), timeout,
             message=f"enregistrements non confirmés : {[(_subheader(pg), e) for pg, e in zip(pages, expected)]}")
    _wait_all(pages)


def test_two_instances_ten_sessions_one_instance_killed(browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    steps: list[str] = []

    def step(what: str) -> None:
        steps.append(f"{time.time() - t0:6.1f} s  {what}")

    folder = SHOTS.parent / "service_panne"  # logs of the instances and nginx, kept for reading
    shutil.rmtree(folder, ignore_errors=True)
    epci = epci_avec_creches_psu()
    assert len(epci) >= 2, epci
    half = len(epci) // 2
    A, B = epci[:half], epci[half:]  # session i starts on A[i % len(A)], moves to B[i % len(B)]
    a = [A[i % len(A)] for i in range(N_SESSIONS)]
    b = [B[i % len(B)] for i in range(N_SESSIONS)]
    require_service_tools()
    with schema_postgres() as db_url, Banc(folder, n_instances=2, database_url=db_url) as banc:
        step("banc démarré (2 instances, nginx, fournisseur OIDC, PostgreSQL)")
        inst1, inst2 = (f"127.0.0.1:{p.port}" for p in banc.instances)
        cookies = banc.cookies_par_instance(N_SESSIONS // 2)
        affinity = [cookies[inst1][i // 2] if i % 2 == 0 else cookies[inst2][i // 2] for i in range(N_SESSIONS)]
        on_killed = [i for i in range(N_SESSIONS) if i % 2 == 0]
        for i in range(N_SESSIONS):
            banc.definir_utilisateur(f"conseiller{i}", {"name": f"Conseiller {i}", "roles": ["conseiller"],
                                                        "departements": ["89"]})
        contexts = [nouveau_contexte(browser, affinity[i], banc.url) for i in range(N_SESSIONS)]
        pages = [c.new_page() for c in contexts]
        for pg in pages:
            suivre(pg)
        try:
            # -- sign in, ten at once, through the provider's page --------------------------------------
            for pg in pages:
                demarrer_connexion(pg, banc.url)
            for i, pg in enumerate(pages):
                finir_connexion(pg, f"conseiller{i}")
            _wait_all(pages)
            for i, pg in enumerate(pages):
                assert f"Conseiller {i}" in pg.locator('[data-testid="stSidebar"]').inner_text()
            step("10 sessions connectées")

            # -- 1. a first scenario each ---------------------------------------------------------------
            for i, pg in enumerate(pages):
                pg.goto(f"{banc.url}/simulateur?dep=89&grp={a[i][0]}", wait_until="domcontentloaded")
            _wait_all(pages)
            for i, pg in enumerate(pages):
                _save_as(pg, f"Plan {i}")
            _wait_all(pages)
            for pg in pages:
                pg.get_by_role("button", name="Enregistrer", exact=True).click()
            _wait_saved(pages, [f"Plan {i} — version 1" for i in range(N_SESSIONS)])
            confirmed = {}
            for i, pg in enumerate(pages):
                assert _subheader(pg) == f"Plan {i} — version 1", _subheader(pg)
                confirmed[(f"Plan {i}", f"epci:{a[i][0]}")] = 1
            step("10 scénarios enregistrés (version 1)")

            # -- 2. switch territory; instance 1 dies while those reruns run ---------------------------------
            for i, pg in enumerate(pages):
                _pick_epci(pg, b[i][1])
            killed_at = time.time()
            banc.instances[0].tuer()
            step("instance 1 tuée (SIGKILL) pendant les changements de territoire")
            _wait_all(pages, timeout=120, quiet=2.0)
            step("sessions rétablies")
            redone = []
            for i, pg in enumerate(pages):
                if b[i][1] not in _epci_shown(pg):  # the switch died with the instance: do it again
                    redone.append(i)
                    _pick_epci(pg, b[i][1])
            _wait_all(pages)
            for i, pg in enumerate(pages):
                assert b[i][1] in _epci_shown(pg), (i, _epci_shown(pg), pg.url, redone)
                assert f"grp={b[i][0]}" in pg.url
                assert f"Conseiller {i}" in pg.locator('[data-testid="stSidebar"]').inner_text()  # still signed in
                assert erreurs_visibles(pg) == [], (i, erreurs_visibles(pg))
            pages[on_killed[0]].screenshot(path=str(SHOTS / "service_apres_panne.png"), full_page=True)
            for i, pg in enumerate(pages):
                _save_as(pg, f"Plan {i} bis")
            _wait_all(pages)
            for pg in pages:
                pg.get_by_role("button", name="Enregistrer", exact=True).click()
            _wait_saved(pages, [f"Plan {i} bis — version 1" for i in range(N_SESSIONS)])
            for i, pg in enumerate(pages):
                assert _subheader(pg) == f"Plan {i} bis — version 1", (i, _subheader(pg))
                confirmed[(f"Plan {i} bis", f"epci:{b[i][0]}")] = 1
            step(f"10 scénarios enregistrés après la panne (changement refait : sessions {redone})")

            # -- 3. back to the first territory, reopen the first scenario, save version 2 ------------------
            for i, pg in enumerate(pages):
                _pick_epci(pg, a[i][1])
            _wait_all(pages)
            for i, pg in enumerate(pages):
                pg.locator('[data-testid="stSelectbox"]').filter(
                    has_text="Scénarios enregistrés pour ce territoire").first.click()
                pg.keyboard.type(f"Plan {i} (v1")
                pg.keyboard.press("Enter")
            _wait_all(pages)
            for pg in pages:
                pg.get_by_role("button", name="Ouvrir").click()
            _wait_saved(pages, [f"Plan {i} — version 1" for i in range(N_SESSIONS)])
            for pg in pages:
                pg.get_by_role("button", name="Enregistrer", exact=True).click()
            _wait_saved(pages, [f"Plan {i} — version 2" for i in range(N_SESSIONS)])
            for i, pg in enumerate(pages):
                assert _subheader(pg) == f"Plan {i} — version 2", (i, _subheader(pg))
                confirmed[(f"Plan {i}", f"epci:{a[i][0]}")] = 2
                assert erreurs_visibles(pg) == [], (i, erreurs_visibles(pg))
                assert violations_csp(pg) == []
            step("10 scénarios rouverts et enregistrés (version 2)")
            ws_opened = [list(pg.websockets_opened) for pg in pages]
        except BaseException:
            for i, pg in enumerate(pages):  # what each person saw when the test failed
                try:
                    pg.screenshot(path=str(folder / f"echec_session{i}.png"), full_page=True)
                except Exception:  # noqa: BLE001
                    pass
            print("\n".join(steps))
            raise
        finally:
            for c in contexts:
                c.close()

        # -- nothing lost --------------------------------------------------------------------------------
        db = ScenarioStore(db_url)
        try:
            metas = db.list()
            stored = {(m.name, m.territoire): m.version for m in metas}
            assert stored == confirmed
            for m in metas:
                assert [v.version for v in db.history(m.id)] == list(range(1, m.version + 1))
            authors = {m.name: m.auteur for m in metas}
            assert authors["Plan 3 bis"] == "Conseiller 3"
            # filed under the conseillers' Caf, and every saved version is in the audit trail
            assert {m.departement for m in metas} == {"89"}
            import json

            import sqlalchemy as sa

            from data.audit import journal
            with db.transaction() as conn:
                details = conn.execute(sa.select(journal.c.details).where(journal.c.action.like("scenario_%"))).scalars()
                journaled = sorted((json.loads(d)["scenario"], json.loads(d)["version"]) for d in details)
            assert journaled == sorted((m.id, v) for m in metas for v in range(1, m.version + 1))
        finally:
            db.close()

        # -- the killed instance's sessions, and only them, reconnected; nginx sends them to instance 2 ----
        for i in range(N_SESSIONS):
            reopened = [t for t in ws_opened[i] if t > killed_at]
            assert bool(reopened) == (i in on_killed), (i, reopened)
            assert banc.instance_du_cookie(affinity[i]) == inst2
    print("\n".join(steps))
