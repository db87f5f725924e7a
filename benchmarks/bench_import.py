"""Benchmark: a 45 MB import in the background while another browser session switches maps.

    .venv/bin/python benchmarks/bench_import.py            # alone (also run by benchmarks/bench.py)

A private copy of the store (hard links) and a private server are used: the import really writes.
Session A uploads a 45 MB data.caf.fr commune file (every commune of France, 2012-2023: about
420 000 rows, accepted by the importer) on the Import page and starts the import; session B
switches between two départements on the coverage page, first with the server idle, then while
A's import runs.  Printed: B's time-to-map idle and during the import (median and worst), their
ratio against the budget (≤ 2×), and the import's own duration and outcome.
"""
from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_RATIO = 2.0
SWITCHES = 6


def _record_default(what: str, value: float, unit: str = "s", budget: float | None = None) -> None:
    shown = f"{value:,.3f} {unit}".replace(",", " ").replace(".", ",") if unit == "s" else \
        f"{value:.2f} {unit}".replace(".", ",")
    verdict = "" if budget is None else ("OK" if value <= budget else "DÉPASSÉ")
    b = "" if budget is None else f"≤ {budget:g} {unit}".replace(".", ",")
    print(f"  {what:<62} {shown:>14}  {b:>10}  {verdict}", flush=True)


def make_caf_file(path: Path, store) -> Path:
    """About 45 MB: annee;numcom;nomcom;numepci;nomepci;numdep;nomdep;txcouv_* for every commune, 12 years."""
    com = store.read("communes", columns=["code_insee", "nom", "epci_siren", "epci_nom", "dep", "dep_nom"])
    rnd = random.Random(2026)
    rows = list(zip(com["code_insee"], com["nom"], com["epci_siren"].fillna(""), com["epci_nom"].fillna(""),
                    com["dep"], com["dep_nom"]))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("annee;numcom;nomcom;numepci;nomepci;numdep;nomdep;txcouv_com;txcouv_eaje_com;txcouv_psu_col_com;"
                 "txcouv_hors_psu_col_com;txcouv_am_ind_com;txcouv_gad_ind_com;txcouv_prescol_com\n")
        for year in range(2012, 2024):
            for code, nom, siren, enom, dep, dnom in rows:
                v = [rnd.uniform(0, 40) for _ in range(5)]
                fh.write(f"{year};{code};{nom.upper()};{siren};{enom.upper()};{dep};{dnom.upper()};{sum(v):.1f};"
                         f"{v[0] + v[1]:.1f};{v[0]:.1f};{v[1]:.1f};{v[2]:.1f};{v[3]:.1f};{v[4]:.1f}\n")
    return path


def run(record=_record_default, shots: Path | None = None, app_root: Path = ROOT) -> dict:
    """Run the measurement; ``record(label, value, unit, budget)`` prints a line. Returns the figures.

    ``app_root``: the checkout whose app is served (another one measures the code before a change)."""
    from data.store import Store

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        print("   Chromium absent : mesure sautée (scripts/installer.sh --tests l'installe)")
        return {}
    tmp = Path(tempfile.mkdtemp(prefix="atlas-bench-import-"))
    out: dict = {}
    proc = None
    try:
        store = Store().copie(tmp / "store")
        big = make_caf_file(tmp / "txcouv_pe_com_2012_2023.csv", store)
        size_mb = big.stat().st_size / 1e6
        from serveur import CHROMIUM_ARGS, demarrer_app

        proc, url = demarrer_app(app_root, dict(os.environ, ATLAS_DATA_DIR=str(store.root)))
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            args = CHROMIUM_ARGS
            # two browsers, as two users on two computers (one browser would composite both pages in one process)
            b = p.chromium.launch(executable_path=chromium, headless=True, args=args)
            b_import = p.chromium.launch(executable_path=chromium, headless=True, args=args)
            viewer = b.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            importer = b_import.new_context(viewport={"width": 1400, "height": 1000}).new_page()

            def map_drawn(needle: str, t0: float) -> float:
                viewer.wait_for_function(
                    "n => [...document.querySelectorAll('iframe')].some(f => (f.srcdoc || '').includes(n)"
                    " && f.contentDocument && f.contentDocument.querySelector('path.leaflet-interactive'))",
                    arg=needle, timeout=120000)
                return time.perf_counter() - t0

            viewer.goto(f"{url}/couverture?dep=89")
            map_drawn("— Département Yonne", time.perf_counter())
            picker = viewer.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
            targets = [("Seine-Saint-Denis", "— Département Seine-Saint-Denis"), ("Yonne", "— Département Yonne")]

            def switch(k: int) -> float:
                typed, needle = targets[k % 2]
                picker.click()
                viewer.keyboard.type(typed)
                viewer.wait_for_timeout(150)
                t0 = time.perf_counter()
                viewer.keyboard.press("Enter")
                return map_drawn(needle, t0)

            for k in range(2):          # warm both maps
                switch(k)
            idle = [switch(k) for k in range(SWITCHES)]

            importer.goto(f"{url}/import?dep=89")
            importer.get_by_text("Type de fichier").first.wait_for(timeout=60000)
            importer.locator('[data-testid="stSelectbox"]').filter(has_text="Type de fichier").first.click()
            importer.keyboard.type("Taux de couverture petite enfance")
            importer.keyboard.press("Enter")
            importer.wait_for_timeout(1500)
            importer.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(big))
            try:
                importer.get_by_role("button", name="Vérifier et importer").wait_for(timeout=120000)
            except Exception:
                if shots:
                    importer.screenshot(path=str(shots / "import_televersement.png"), full_page=True)
                raise
            importer.wait_for_timeout(2000)
            t_import = time.perf_counter()
            importer.get_by_role("button", name="Vérifier et importer").click()
            # the import has started: a progress bar (or, in the code before, the spinner of the page)
            started = time.perf_counter()
            while time.perf_counter() - started < 30 and not (
                    importer.locator('[data-testid="stProgress"]').count()
                    or importer.get_by_text("Vérification du fichier").count()):
                importer.wait_for_timeout(100)
            if shots:
                importer.wait_for_timeout(1500)
                importer.screenshot(path=str(shots / "import_en_cours.png"))

            def finished() -> str | None:
                for text, outcome in (("Import réussi", "réussi"), ("ligne(s) écrite(s)", "réussi"),
                                      ("Import refusé", "refusé"),
                                      ("Import interrompu", "interrompu")):
                    # only the message boxes: elsewhere on the page (collapsed help) these words may appear too
                    if importer.locator('[data-testid="stAlert"]').filter(has_text=text).count():
                        return outcome
                return None

            manifest_mtime = store.manifest_path.stat().st_mtime_ns

            def committed() -> bool:   # the import has written its layer: every session's caches change
                return store.manifest_path.stat().st_mtime_ns != manifest_mtime

            busy = []      # switches started while the import was running (before it wrote its layer)
            k = 0
            while finished() is None and not committed() and k < SWITCHES * 4:
                busy.append(switch(k))
                k += 1
            deadline = time.perf_counter() + 600
            while (outcome := finished()) is None and time.perf_counter() < deadline:
                importer.wait_for_timeout(250)
            t_done = time.perf_counter() - t_import
            outcome = outcome or "non terminé"
            for k in range(2):          # after the import every cache is cold again: warm, then measure idle
                switch(k)
            idle_after = [switch(k) for k in range(SWITCHES)]
            if shots:
                importer.wait_for_timeout(1000)
                importer.screenshot(path=str(shots / "import_termine.png"), full_page=True)
            b.close()
            b_import.close()
        idle_med = statistics.median(idle + idle_after)
        busy_med = statistics.median(busy) if busy else float("nan")
        secs = f"{t_done:.1f}".replace(".", ",")
        print(f"   fichier : {size_mb:.0f} Mo ({big.name}), import {outcome} en {secs} s ; "
              f"{len(busy)} changements de carte pendant l'import")
        record("carte d'une autre session, serveur au repos avant/après (médiane)", idle_med)
        record("carte d'une autre session pendant l'import de 45 Mo (médiane)", busy_med)
        record("carte d'une autre session pendant l'import (pire cas)", max(busy) if busy else float("nan"))
        ratio = busy_med / idle_med if busy else float("nan")
        record("rapport pendant l'import / au repos (médianes)", ratio, unit="×", budget=BUDGET_RATIO)
        record("durée de l'import de 45 Mo (en arrière-plan)", t_done)
        out = {"idle": idle, "idle_after": idle_after, "busy": busy, "ratio": ratio, "import_s": t_done, "outcome": outcome, "mb": size_mb}
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--racine", type=Path, default=ROOT, help="application servie (autre copie : mesure « avant »)")
    args = ap.parse_args()
    print("Import de 45 Mo en arrière-plan pendant qu'une autre session change de carte")
    shots = ROOT / "tests" / "_artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    run(shots=shots if args.racine == ROOT else None, app_root=args.racine.resolve())
