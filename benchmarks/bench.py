"""Atlas Petite Enfance benchmark: prints figures next to their budgets (no asserts, not a test).

    .venv/bin/python benchmarks/bench.py            # everything, browser included
    .venv/bin/python benchmarks/bench.py --sans-navigateur

Measured on the national référentiel plus the demo structures (Yonne, Seine-Saint-Denis):
1. loading the store; 2. coverage indicators for every commune, EPCI and département;
3. server time to build each coverage map (France, a dense and a rural département), cold and
warm, and the size sent to the browser, next to the naive approach (whole national commune layer
through folium/st_folium on every rerun, see benchmarks/bench_maps.py for its detail);
4. time from navigation to map drawn in headless Chromium; 5. documents (SDSF pack, CTG sheet);
6. import of a real-size open-data crèche list (815 rows, shape of the Hauts-de-Seine export);
7. import of the real official files of ../shared/data/reel (when present) and a first
``python -m data demo`` on a store holding only the référentiel;
8. a 45 MB import running in the background (own process) while another browser session switches
maps: that session's time-to-map against its idle value (benchmarks/bench_import.py);
9. service mode under load (benchmarks/bench_service.py: 10 signed-in sessions, one then two
instances behind nginx).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGETS = {
    "indicateurs_communes": 0.2,   # s, all communes of France, warm inputs
    "interaction_chaude": 1.0,     # s of server time for any warm interaction
    "carte_departement_navigateur": 2.0,
    "carte_france_navigateur": 3.0,
    "document": 10.0,
    "simulateur_limite_s": 120.0,   # s, the largest scenario accepted (2 000 structures × 10 years), --json
    "simulateur_limite_mo": 1024.0,  # MB of peak memory for it
    "simulateur_refus": 5.0,         # s to refuse a scenario over the limit (10 000 structures)
    "import_liste_creches": 5.0,   # s, an open-data crèche list of a département (815 rows in the 92)
    "import_fichier_reel": 5.0,    # s, one real data.caf.fr file (département or commune)
    "demo": 60.0,                  # s, python -m data demo on a store holding only the référentiel
    "diagnostic_ville": 5.0,       # s, diagnostic of the schéma pluriannuel of a town over 10 000 (docx + pdf)
    "diagnostic_departement": 60.0,  # s, every authority over 3 500 inhabitants of a département (docx + pdf)
}
ROWS: list[tuple[str, str, str, str]] = []


def record(what: str, value: float, unit: str = "s", budget: float | None = None) -> None:
    if unit == "s":
        shown = f"{value:,.3f} {unit}".replace(",", " ").replace(".", ",")
    elif unit == "×":
        shown = f"{value:.2f} ×".replace(".", ",")
    else:
        shown = f"{value:,.0f} {unit}".replace(",", " ")
    verdict = "" if budget is None else ("OK" if value <= budget else "DÉPASSÉ")
    b = "" if budget is None else (f"≤ {budget:g} {unit}".replace(".", ","))
    ROWS.append((what, shown, b, verdict))
    print(f"  {what:<62} {shown:>14}  {b:>10}  {verdict}", flush=True)


def timed(fn, *a, **kw):
    t = time.perf_counter()
    out = fn(*a, **kw)
    return out, time.perf_counter() - t


def server_side() -> None:
    from data.store import Store
    from geo import coverage_map
    from geo.coverage_map import coverage_map_html, geometries
    from data.entrees import load_inputs
    from planning.catalogue import description
    from planning.coverage import indicateurs

    store = Store()
    print("1. Chargement du magasin")
    _, t = timed(store.read, "communes")
    record("communes avec contours (34 875 lignes, GeoParquet)", t)
    _, t = timed(store.read, "communes", columns=["code_insee", "nom", "dep", "population", "epci_siren"])
    record("communes sans contours (colonnes utiles)", t)
    inputs, t = timed(load_inputs, store)
    record("entrées du calcul de couverture (toutes couches)", t)

    print("2. Indicateurs de couverture (entrées déjà chargées)")
    indicateurs(inputs, "commune", 2026)  # first call for a year fills its cache
    for niveau in ("commune", "epci", "departement", "region", "france"):
        _, t = timed(indicateurs, inputs, niveau, 2026)
        record(f"tous les territoires, niveau {niveau}", t,
               budget=BUDGETS["indicateurs_communes"] if niveau == "commune" else None)

    print("3. Cartes de couverture (serveur) et taille envoyée au navigateur")
    cases = [("France par département", "departement", None, None),
             ("France par EPCI", "epci", None, None),
             ("Seine-Saint-Denis (93), communes", "commune", ("departement", "93"), "93"),
             ("Yonne (89), communes", "commune", ("departement", "89"), "89")]
    sizes: dict[str, tuple[float, float]] = {}
    def build_map(label: str, echelle: str, spec, dep) -> str:
        """What the coverage page does for one map: indicators, geometry, HTML."""
        vals = indicateurs(inputs, echelle, 2026, territoire=spec)
        g = geometries(store, echelle, dep)
        return coverage_map_html(g[g["code"].isin(vals["code"])], vals,
                                 indicateur=description("taux_eaje", inputs, 2026), annee=2026, titre=label)

    for label, echelle, spec, dep in cases:
        coverage_map._geometries.cache_clear()
        _, cold = timed(build_map, label, echelle, spec, dep)
        html, warm = timed(build_map, label, echelle, spec, dep)
        record(f"{label} : à froid (simplification + carte)", cold)
        record(f"{label} : à chaud (autre indicateur ou année)", warm, budget=BUDGETS["interaction_chaude"])
        record(f"{label} : HTML envoyé", len(html.encode()) / 1024, unit="Ko")
        sizes[label] = (warm, len(html.encode()))
    # the naive approach, measured once (about 20 s): whole unsimplified commune layer via folium GeoJson
    print("   Approche naïve : toutes les communes, non simplifiées, folium GeoJson + GeoJsonTooltip")
    import folium

    com = store.read("communes", columns=["code_insee", "nom", "geometry"])
    com = com[com.geometry.notna()]
    t0 = time.perf_counter()
    m = folium.Map(location=[46.6, 2.4], zoom_start=6, tiles=None)
    folium.GeoJson(com, tooltip=folium.GeoJsonTooltip(fields=["nom"])).add_to(m)
    naive = m.get_root().render()
    naive_t = time.perf_counter() - t0
    record("naïf : construction à chaque rerun", naive_t)
    record("naïf : HTML envoyé à chaque rerun", len(naive.encode()) / 1024, unit="Ko")
    for label, (warm, size) in sizes.items():
        t_ratio = f"{naive_t / warm:,.0f}".replace(",", " ")
        s_ratio = f"{len(naive.encode()) / size:,.0f}".replace(",", " ")
        print(f"     rapport naïf / {label} : ×{t_ratio} en temps serveur, ×{s_ratio} en taille envoyée")

    print("5. Documents")
    from exports import build_ctg_onepager, build_sdsf_pack

    for dep in ("89", "93"):
        _, t = timed(build_sdsf_pack, dep, inputs=inputs)
        record(f"dossier SDSF {dep} (pptx + pdf + xlsx)", t, budget=BUDGETS["document"])
    scenario = json.loads((ROOT / "examples" / "scenarios" / "ctg_yonne_rural.json").read_text(encoding="utf-8"))
    _, t = timed(build_ctg_onepager, scenario, inputs=inputs)
    record("fiche CTG (pdf + xlsx)", t, budget=BUDGETS["document"])
    sppe_diagnostics(store, inputs)


def sppe_diagnostics(store, inputs) -> None:
    """Diagnostic of the schéma pluriannuel: one town over 10 000 (cold context: what the page does on a
    click), then every authority over 3 500 inhabitants of the Yonne and of Seine-Saint-Denis."""
    import datetime as dt

    from exports.diagnostic import Contexte, autorites_du_departement, build_diagnostic

    quand = dt.date.today()
    for code, nom in (("89387", "Sens"), ("93066", "Saint-Denis")):
        _, t = timed(lambda: build_diagnostic(code, contexte=Contexte(store, quand, inputs=inputs)))
        record(f"diagnostic du schéma pluriannuel de {nom} (docx + pdf)", t, budget=BUDGETS["diagnostic_ville"])
    for dep in ("89", "93"):
        def batch():
            ctx = Contexte(store, quand, inputs=inputs)
            codes = autorites_du_departement(ctx, dep)
            for c in codes:
                build_diagnostic(c, contexte=ctx)
            return len(codes)
        n, t = timed(batch)
        record(f"diagnostics de tout le département {dep} ({n} autorités, docx + pdf)", t,
               budget=BUDGETS["diagnostic_departement"])


def real_imports() -> None:
    """Import of the real official files, each into a fresh copy of the référentiel, then a first demo."""
    import tempfile

    from data.demo import DEFAULT_SHARED, REAL_FOLDER, real_files
    from data.importers import import_file
    from data.reference import REFERENCE_LAYERS
    from data.store import Store

    print("7. Import des fichiers officiels réels (../shared/data/reel) et démonstration")
    folder = DEFAULT_SHARED / REAL_FOLDER
    files = real_files(folder)
    if not files:
        print(f"   dossier {folder} absent : mesure sautée")
        return
    src = Store()

    def fresh(tmp: Path) -> Store:
        root = tmp / "store"
        (root / "layers").mkdir(parents=True)
        m = src.manifest()
        m["layers"] = {k: v for k, v in m["layers"].items() if k in REFERENCE_LAYERS}
        m.pop("demo_imports", None)
        for name in m["layers"]:
            os.link(src.layer_path(name), root / "layers" / src.layer_path(name).name)
        (root / "manifest.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
        return Store(root)

    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        for kind, path in files:
            store = fresh(Path(tmp) / path.stem)
            report, t = timed(import_file, kind, path, store)
            budget = BUDGETS["import_fichier_reel"] if path.name in ("txcouv_pe_dep.csv",
                                                                      "txcouv_pe_com_2017_2022.csv") else None
            record(f"import {path.name} ({report.rows} lignes)", t, budget=budget)
        root = fresh(Path(tmp) / "demo").root
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "data", "demo"], cwd=ROOT, capture_output=True, text=True,
                              env=dict(os.environ, ATLAS_DATA_DIR=str(root)))
        t = time.perf_counter() - t0
        if done.returncode != 0:
            print(f"   python -m data demo a échoué : {done.stderr[-500:]}")
        record("python -m data demo (tous les imports + structures fictives)", t, budget=BUDGETS["demo"])


def browser_side() -> None:
    print("4. Du choix du territoire à la carte dessinée (Chromium headless, serveur local)")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        print("   Chromium absent : mesure navigateur sautée (scripts/installer.sh --tests l'installe)")
        return
    from serveur import CHROMIUM_ARGS, demarrer_app

    proc, url = demarrer_app(ROOT, timeout=40)
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            pg = b.new_page(viewport={"width": 1400, "height": 1000})

            def map_drawn(needle: str, t0: float) -> float:
                pg.wait_for_function(
                    "n => [...document.querySelectorAll('iframe')].some(f => (f.srcdoc || '').includes(n)"
                    " && f.contentDocument && f.contentDocument.querySelector('path.leaflet-interactive'))",
                    arg=needle, timeout=90000)
                return time.perf_counter() - t0

            t0 = time.perf_counter()
            pg.goto(f"{url}/couverture?dep=93")
            record("ouverture de l'application sur la carte du 93 (chargement complet)",
                   map_drawn("— Département Seine-Saint-Denis", t0))
            sidebar_dep = pg.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
            for typed, needle, label, budget in (
                # the needle is the map title: département names also appear inside the France map
                ("Yonne", "— Département Yonne", "département rural (89)", None),
                ("Seine-Saint-Denis", "— Département Seine-Saint-Denis", "département dense (93)", None),
                ("France", "— France entière", "France (départements)", None),
                ("Yonne", "— Département Yonne", "département rural (89)", BUDGETS["carte_departement_navigateur"]),
                ("Seine-Saint-Denis", "— Département Seine-Saint-Denis", "département dense (93)",
                 BUDGETS["carte_departement_navigateur"]),
                ("France", "— France entière", "France (départements)", BUDGETS["carte_france_navigateur"]),
            ):
                sidebar_dep.click()
                pg.keyboard.type(typed)
                pg.wait_for_timeout(200)
                t0 = time.perf_counter()
                pg.keyboard.press("Enter")
                run = "à chaud" if budget else "première fois"
                record(f"changement de territoire → carte {label} dessinée, {run}", map_drawn(needle, t0), budget=budget)
            for q, needle, label, budget in (("dep=89", "— Département Yonne", "Yonne (89)",
                                              BUDGETS["carte_departement_navigateur"]),
                                             ("dep=", "— France entière", "France", BUDGETS["carte_france_navigateur"])):
                other = b.new_page(viewport={"width": 1400, "height": 1000})
                t0 = time.perf_counter()
                other.goto(f"{url}/couverture?{q}")
                pg_saved, pg = pg, other
                record(f"nouvel onglet (serveur déjà chaud) → carte {label} dessinée", map_drawn(needle, t0),
                       budget=budget)
                pg = pg_saved
                other.close()
            b.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def simulateur_limites() -> None:
    """The CTG simulator at its limits (docs/SCENARIOS.md « Limites »): the largest accepted scenario,
    2 000 structures over 10 years written with --json, and the immediate refusal of 10 000 structures.
    Each run is a child process: its peak memory (ru_maxrss) is measured alone."""
    import resource
    import tempfile

    example = json.loads((ROOT / "examples" / "scenarios" / "ctg_yonne_rural.json").read_text(encoding="utf-8"))

    def scenario(n: int, fin: int) -> dict:
        d = dict(example, periode={"debut": 2023, "fin": fin})
        d["structures"] = [dict(example["structures"][i % 3], id=f"s{i}", nom=f"Structure {i}") for i in range(n)]
        return d

    with tempfile.TemporaryDirectory() as tmp:
        for n, fin, label, budget in ((2000, 2032, "simulateur : 2 000 structures × 10 ans, --json (limite)",
                                       BUDGETS["simulateur_limite_s"]),
                                      (10000, 2027, "simulateur : 10 000 structures refusées d'emblée",
                                       BUDGETS["simulateur_refus"])):
            f = Path(tmp) / f"s{n}.json"
            f.write_text(json.dumps(scenario(n, fin)), encoding="utf-8")
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            t = time.perf_counter()
            p = subprocess.run([sys.executable, "-m", "planning", "simulate", str(f), "--json"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            elapsed = time.perf_counter() - t
            record(label + f" (code {p.returncode})", elapsed, budget=budget)
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            if n == 2000 and peak > before:
                record("  mémoire maximale du processus", peak / 1024, "Mo", BUDGETS["simulateur_limite_mo"])
def import_side(n: int = 815) -> None:
    """6. Import of a real-size open-data crèche list (shape of the Hauts-de-Seine export, 815 rows)
    into a private copy of the store (the user's store is never touched)."""
    import tempfile

    from data.importers import import_file
    from data.store import Store

    print("6. Import d'une liste de crèches open data (taille réelle)")
    src = Store()
    communes = src.read("communes", columns=["code_insee", "dep", "lat", "lon"])
    communes = communes[communes["dep"] == "92"].reset_index(drop=True)
    types = ["Multi-accueil", "Micro crèche", "Crèche parentale", "Accueil familial", "Jardin d'enfants",
             "Halte-garderie", "Petite crèche", "Crèche collective"]
    gestions = ["Commune", "Associatif", "Privé", "Public autre", "Département"]
    head = ("NOM;TYPE;ADRESSE;CODE POSTAL;COMMUNE;CODE INSEE;TEL;GESTION;GESTIONNAIRE;CAPACITE;NB ACCUEIL FAM;"
            "AGE MINI MOIS;AGE MAXI ANNEE;HANDICAP;geo_shape;geo_point_2d")
    lines = [head]
    for i in range(n):
        c = communes.iloc[i % len(communes)]
        t = types[i % len(types)]
        cap = 10 if t == "Micro crèche" else 20 + (i * 7) % 60
        la, lo = round(float(c["lat"]) + (i % 9) * 1e-4, 5), round(float(c["lon"]) - (i % 7) * 1e-4, 5)
        lines.append(f"Structure {i + 1};{t};{i + 1} RUE DU BANC;92000;COMMUNE;{c['code_insee']};;"
                     f"{gestions[i % len(gestions)]};Gestionnaire {i % 40};{cap};;2;4;Non;"
                     f'"{{""coordinates"": [{lo}, {la}], ""type"": ""Point""}}";{la}, {lo}')
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "store"
        src.copie(root)
        f = Path(tmp) / "etablissements-daccueil-de-la-petite-enfance-pe.csv"
        f.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
        report, t = timed(import_file, "structures", f, Store(root), millesime="2024")
        record(f"import structures open data ({report.rows} lignes, PSU non renseigné)", t,
               budget=BUDGETS["import_liste_creches"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sans-navigateur", action="store_true")
    ap.add_argument("--navigateur-seul", action="store_true")
    ap.add_argument("--sans-import", action="store_true", help="sans la mesure 8 (import de 45 Mo, ≈ 2 min)")
    ap.add_argument("--sans-service", action="store_true",
                    help="sans la mesure du mode service (10 sessions, 1 puis 2 instances derrière nginx, ≈ 3 min)")
    args = ap.parse_args()
    print(f"Atlas Petite Enfance — banc d'essai ({os.cpu_count()} cœurs)\n")
    if not args.navigateur_seul:
        server_side()
        simulateur_limites()
        import_side()
        real_imports()
    if not args.sans_navigateur:
        browser_side()
    if not args.sans_navigateur and not args.sans_import:
        print("8. Import de 45 Mo en arrière-plan (processus séparé) pendant qu'une autre session change de carte")
        from bench_import import run as import_in_background

        import_in_background(record)
    if not args.sans_navigateur and not args.sans_service:
        import bench_service

        print("9. Mode service sous charge (10 sessions connectées ; 1 puis 2 instances derrière nginx)")
        bench_service.run(record=record)
    print("\nRésumé")
    for what, shown, b, verdict in ROWS:
        if verdict:
            print(f"  {verdict:<8} {what} : {shown} (budget {b})")


if __name__ == "__main__":
    main()
