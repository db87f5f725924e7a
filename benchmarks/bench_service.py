"""Service mode under load: N signed-in browser sessions at once, one instance vs two behind nginx.

    .venv/bin/python benchmarks/bench_service.py                  # 10 sessions, 3 changes of territory each
    .venv/bin/python benchmarks/bench_service.py --sessions 10 --tours 3

For each layout (1 instance, then 2 instances; always behind nginx, with the mock OpenID Connect
provider of the tests, scenarios in SQLite or in PostgreSQL when DATABASE_URL is set), every session
signs in, opens the coverage map of a département, then, all sessions together, picks another
département in the sidebar, ``--tours`` times.  Two figures, p50 and p95:

* server time per rerun: every script run of every session during the measured rounds, written by
  ``scripts/serve.py`` (``ATLAS_TRACE_RERUNS``) from the start to the end of the run — budget: p95 ≤ 1 s;
* time to map: from pressing Enter in the département picker to the map of that département drawn in
  the session's iframe (Chromium headless), for every session and round — reported.

Chromium runs on the same 2 cores as the instances: the figures include that contention.  Prints
lines in the format of benchmarks/bench.py (which calls this file), never asserts.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_RERUN_P95 = 1.0  # s of server time per rerun, 95th percentile, with 10 concurrent sessions
# départements typed in the picker by code (a code appears in one label only), cycled per session
DEPARTEMENTS = ["89", "93", "21"]
MAP_DRAWN_JS = ("n => [...document.querySelectorAll('iframe')].some(f => (f.srcdoc || '').includes(n)"
                " && f.contentDocument && f.contentDocument.querySelector('path.leaflet-interactive'))")


def _print_line(what: str, value: float, budget: float | None = None) -> None:
    verdict = "" if budget is None else ("OK" if value <= budget else "DÉPASSÉ")
    b = "" if budget is None else f"≤ {budget:g} s".replace(".", ",")
    print(f"  {what:<62} {f'{value:.3f} s'.replace('.', ','):>14}  {b:>10}  {verdict}", flush=True)


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def _noms_departements() -> dict[str, str]:
    from data.store import Store

    d = Store().read("departements", columns=["dep", "nom"])
    return dict(zip(d["dep"], d["nom"]))


def measure(browser, n_instances: int, n_sessions: int, tours: int, periode: float,
            folder: Path) -> dict[str, list[float]]:
    from deploy.atlas_deploy import Banc
    from tests.service_harness import demarrer_connexion, finir_connexion, nouveau_contexte

    noms = _noms_departements()
    trace = folder / f"reruns_{n_instances}.jsonl"
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / f'scenarios_{n_instances}.sqlite'}"
    banc = Banc(folder / f"banc_{n_instances}", n_instances=n_instances, database_url=database_url,
                env_extra={"ATLAS_TRACE_RERUNS": str(trace)})
    with banc:
        for i in range(n_sessions):
            banc.definir_utilisateur(f"mesure{i}", {"name": f"Mesure {i}", "roles": ["conseiller"],
                                                    "departements": ["89"]})
        contexts = [nouveau_contexte(browser) for _ in range(n_sessions)]
        pages = [c.new_page() for c in contexts]
        try:
            for pg in pages:
                demarrer_connexion(pg, banc.url)
            for i, pg in enumerate(pages):
                finir_connexion(pg, f"mesure{i}")
            for pg in pages:  # signed in: the sign-in screen has no sidebar
                pg.wait_for_selector('[data-testid="stSidebar"]', timeout=120000)

            pending: dict[int, tuple[str, float]] = {}   # session -> (département, time Enter was pressed)
            to_map: list[float] = []

            def poll() -> None:
                for i, (dep, t0) in list(pending.items()):
                    if pages[i].evaluate(MAP_DRAWN_JS, f"— Département {noms[dep]}"):
                        to_map.append(time.perf_counter() - t0)
                        del pending[i]

            def drain(timeout: float = 180) -> None:
                deadline = time.time() + timeout
                while pending and time.time() < deadline:
                    poll()
                    time.sleep(0.05)
                if pending:
                    raise RuntimeError(f"cartes non dessinées après {timeout:.0f} s : sessions {sorted(pending)}")

            def choose(i: int, dep: str, press: bool = True) -> None:
                pg = pages[i]
                pg.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
                pg.keyboard.type(dep)
                if press:
                    pending[i] = (dep, time.perf_counter())
                    pg.keyboard.press("Enter")

            # warm-up, not measured: every session opens the map, then draws each département once
            for i, pg in enumerate(pages):
                pg.goto(f"{banc.url}/couverture?dep={DEPARTEMENTS[i % len(DEPARTEMENTS)]}", wait_until="commit")
                pending[i] = (DEPARTEMENTS[i % len(DEPARTEMENTS)], time.perf_counter())
            drain()
            for r in range(1, len(DEPARTEMENTS)):
                for i in range(n_sessions):
                    choose(i, DEPARTEMENTS[(i + r) % len(DEPARTEMENTS)])
                drain()
            to_map.clear()
            time.sleep(2)

            # steady load: each session changes département every `periode` seconds, sessions spread evenly
            t_start = time.time()
            base = time.perf_counter()
            events = sorted((r * periode + i * periode / n_sessions, i, DEPARTEMENTS[(i + r + 1) % len(DEPARTEMENTS)])
                            for r in range(tours) for i in range(n_sessions))
            for at, i, dep in events:
                while time.perf_counter() - base < at:
                    poll()
                    time.sleep(0.02)
                if i in pending:  # its previous map is not drawn yet: the person waits for it
                    drain()
                choose(i, dep)
            drain()
            t_steady = time.time()
            steady_maps = list(to_map)
            time.sleep(2)

            # burst: every session presses Enter at the same moment
            to_map.clear()
            for i in range(n_sessions):
                choose(i, DEPARTEMENTS[(i + tours + 1) % len(DEPARTEMENTS)], press=False)
            t_burst = time.time()
            for i, pg in enumerate(pages):
                pending[i] = (DEPARTEMENTS[(i + tours + 1) % len(DEPARTEMENTS)], time.perf_counter())
                pg.keyboard.press("Enter")
            drain()
            burst_maps = list(to_map)
            t_end = time.time()
        finally:
            for c in contexts:
                c.close()
    runs = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines() if line.strip()]

    def between(a: float, b: float) -> list[float]:
        return [r["s"] for r in runs if a <= r["t"] <= b and not r["fragment"]]

    return {"serveur": between(t_start, t_steady), "carte": steady_maps,
            "serveur_rafale": between(t_burst, t_end), "carte_rafale": burst_maps}


def run(n_sessions: int = 10, tours: int = 3, periode: float = 10.0, record=None) -> None:
    """Measure and print; ``record(what, value, budget=…)`` is bench.py's (its summary lists the budgets)."""
    _record = record or _print_line
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists() or not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        print("   Chromium ou nginx absent : mesure sautée (scripts/installer.sh --tests les installe)")
        return
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="atlas-bench-service-"))
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=chromium, headless=True,
                                  args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                        "--disable-component-update", "--disable-sync", "--no-first-run"])
            try:
                for n in (1, 2):
                    m = measure(b, n, n_sessions, tours, periode, folder)
                    label = "1 instance" if n == 1 else f"{n} instances"
                    s, c = m["serveur"], m["carte"]
                    print(f"   {label} derrière nginx, {n_sessions} sessions connectées, chacune change de "
                          f"département toutes les {periode:g} s ({tours} fois) : {len(s)} exécutions, {len(c)} cartes")
                    _record(f"{label} : temps serveur par exécution, p50", quantile(s, 0.5))
                    _record(f"{label} : temps serveur par exécution, p95", quantile(s, 0.95), budget=BUDGET_RERUN_P95)
                    _record(f"{label} : du choix du département à la carte, p50", quantile(c, 0.5))
                    _record(f"{label} : du choix du département à la carte, p95", quantile(c, 0.95))
                    s, c = m["serveur_rafale"], m["carte_rafale"]
                    print(f"   {label}, rafale : les {n_sessions} sessions changent de département au même instant "
                          f"({len(s)} exécutions)")
                    _record(f"{label}, rafale : temps serveur par exécution, p50", quantile(s, 0.5))
                    _record(f"{label}, rafale : temps serveur par exécution, p95", quantile(s, 0.95))
                    _record(f"{label}, rafale : du choix du département à la carte, p95", quantile(c, 0.95))
            finally:
                b.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--tours", type=int, default=3, help="changements de département par session (charge régulière)")
    ap.add_argument("--periode", type=float, default=10.0, help="secondes entre deux changements d'une session")
    a = ap.parse_args()
    print(f"9. Mode service sous charge ({os.cpu_count()} cœurs)")
    run(a.sessions, a.tours, a.periode)


if __name__ == "__main__":
    main()
