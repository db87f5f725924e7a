"""Demo territory: Yonne (89) and Seine-Saint-Denis (93), on real published figures.

* QPV, FRR and the INSEE density grid are imported from ``../shared/data``
  (when that folder is present) through the project's own importers, by path.
* Every official file of ``../shared/data/reel`` is imported too, through the importers, by
  path (kind chosen from the file name, see :func:`kind_of`): the Cnaf's published coverage
  rates and places (data.caf.fr, « hist » files first so that the current export wins), the
  INSEE births (which replace the « population × 3 % » estimate of children under 3) and the
  ANCT QPV contours.
* Structures (crèches PSU and non-PSU, micro-crèches, MAM, RPE) are
  fictitious: drawn by a seeded generator in real communes and calibrated so
  that the departmental EAJE coverage looks plausible (Seine-Saint-Denis had a
  global coverage of 32.2 places per 100 children under 3 in 2020, the
  national figure is about 60 of which about 23.5 in crèches).  The layer is
  written with nature ``fictif`` and every screen labels it
  "données fictives de démonstration".
"""
from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .store import DEMO_LABEL, NATURE_FICTIF, PROJECT_ROOT, Store

DEMO_DEPARTEMENTS = ("89", "93")
DEFAULT_SHARED = PROJECT_ROOT.parent / "shared" / "data"
SHARED_FILES = {
    "qpv": "qpv2024_communes.csv",
    "frr": "frr_2025_communes.csv",
    "grille_densite": "grilles_communales_2025.csv",
}
REAL_FOLDER = "reel"


def kind_of(name: str) -> str | None:
    """Import kind of an official file, from its published name (None: not an importable file)."""
    n = name.lower()
    if n.startswith("txcouv_pe_") and n.endswith((".csv", ".json", ".xlsx")):
        return "caf_couverture"
    if n.startswith("nbpla_pe_") and n.endswith((".csv", ".json", ".xlsx")):
        return "caf_places"
    if "naissance" in n and n.endswith((".xlsx", ".csv")):
        return "naissances"
    if "qpv" in n and n.endswith((".geojson", ".json")):
        return "qpv_polygones"
    return None


def real_files(folder: Path) -> list[tuple[str, Path]]:
    """(kind, path) of every importable file of ``folder``, in import order: « hist » exports
    before the current ones (the current file then wins where they overlap)."""
    if not folder.is_dir():
        return []
    found = [(kind_of(p.name), p) for p in sorted(folder.iterdir()) if p.is_file()]
    found = [(k, p) for k, p in found if k]
    return sorted(found, key=lambda kp: (kp[0], "hist" not in kp[1].name.lower(), kp[1].name))


@dataclass(frozen=True)
class Calibration:
    """Target EAJE places per 100 children under 3 and the mix of structures."""

    eaje_per_100: float
    share_psu: float          # share of collective places under PSU
    share_micro: float        # share of places in micro-crèches
    rpe_in_big_towns: float   # probability that a town over 10 000 has an RPE in town
    min_pop_for_creche: int
    max_big_towns_with_rpe: int | None = None  # leave the others "covered from elsewhere"


CALIBRATION = {
    # Dense, under-equipped: EAJE about 20 per 100 (global rate 32.2 in 2020 incl. assistants maternels)
    "93": Calibration(eaje_per_100=18.0, share_psu=0.85, share_micro=0.22, rpe_in_big_towns=0.86, min_pop_for_creche=0),
    # Rural: most of the offer is assistants maternels; crèches in the towns
    "89": Calibration(eaje_per_100=13.0, share_psu=0.80, share_micro=0.25, rpe_in_big_towns=1.0,
                      min_pop_for_creche=1500, max_big_towns_with_rpe=1),
}

_NAMES = ["Les Petits Loups", "Les Lucioles", "Pomme d'Api", "Les Coccinelles", "L'Île aux Enfants",
          "Les Farfadets", "Arc-en-ciel", "Les Marmousets", "Les Bout'chous", "Le Jardin des Câlins",
          "Les P'tits Mousses", "La Ribambelle", "Les Galipettes", "Les Doudous", "Les Lutins",
          "Le Nid", "Les Pitchouns", "Brin d'Éveil", "Les Écureuils", "La Maison des Oursons"]


def _open_date(rng: np.random.Generator, recent: bool) -> pd.Timestamp:
    if recent:
        year = int(rng.integers(2023, 2027))
    else:
        year = int(rng.choice(np.arange(1975, 2023), p=None))
    month = int(rng.integers(1, 13))
    return pd.Timestamp(year=year, month=month, day=1)


def generate_structures(communes: pd.DataFrame, enfants: pd.DataFrame, seed: int = 2026) -> pd.DataFrame:
    """Fictitious structures for the demo départements (deterministic for a seed).

    ``communes`` needs code_insee, nom, dep, population, epci_siren, lon, lat
    (and geometry when available, to place points inside the commune).
    """
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    kids = enfants.set_index("code_insee")["enfants_moins_3"]
    for dep, cal in CALIBRATION.items():
        com = communes[communes["dep"] == dep].sort_values("code_insee")
        for _, c in com.iterrows():
            n_kids = float(kids.get(c["code_insee"], 0.0))
            pop = int(c["population"])
            if pop < cal.min_pop_for_creche:
                # A few villages still have a MAM or a micro-crèche
                if rng.random() < min(0.12, pop / 8000):
                    kind = "MAM" if rng.random() < 0.6 else "MICRO_CRECHE"
                    rows.append(_structure(rng, c, kind, psu=False if kind == "MAM" else rng.random() < 0.3))
                continue
            target = n_kids * cal.eaje_per_100 / 100 * float(rng.lognormal(0, 0.45))
            placed = 0.0
            while placed < target:
                r = rng.random()
                if r < cal.share_micro:
                    s = _structure(rng, c, "MICRO_CRECHE", psu=rng.random() < 0.25)
                elif r < cal.share_micro + 0.06:
                    s = _structure(rng, c, "CRECHE_FAMILIALE", psu=True)
                else:
                    s = _structure(rng, c, "EAJE", psu=rng.random() < cal.share_psu)
                rows.append(s)
                placed += s["places"]
            if pop > 3000 and rng.random() < 0.25:
                rows.append(_structure(rng, c, "MAM", psu=False))
        # RPE: in towns over 10 000 with a calibrated probability, then one intercommunal RPE per EPCI
        big = com[com["population"] > 10000].sort_values("population", ascending=False)
        with_rpe = set()
        for _, c in big.iterrows():
            if cal.max_big_towns_with_rpe is not None and len(with_rpe) >= cal.max_big_towns_with_rpe:
                break
            if rng.random() < cal.rpe_in_big_towns:
                rows.append(_rpe(rng, c, n_kids=float(kids.get(c["code_insee"], 0.0))))
                with_rpe.add(c["code_insee"])
        for epci, members in com.groupby("epci_siren"):
            if members["code_insee"].isin(with_rpe).any() and dep == "93":
                continue
            # the intercommunal RPE sits in the largest member commune that has none;
            # a town over 10 000 of the same EPCI is then "covered from elsewhere"
            candidates = members[~members["code_insee"].isin(with_rpe) & (members["population"] <= 10000)]
            if candidates.empty or members["code_insee"].isin(with_rpe).any() and len(members) < 3:
                continue
            seat = candidates.sort_values("population", ascending=False).iloc[0]
            rows.append(_rpe(rng, seat, n_kids=float(kids[members["code_insee"]].sum()), intercommunal=True))
    df = pd.DataFrame(rows)
    df.insert(0, "id", [f"DEMO-{i:05d}" for i in range(1, len(df) + 1)])
    return df


def _structure(rng: np.random.Generator, c: pd.Series, kind: str, psu: bool) -> dict:
    if kind == "MICRO_CRECHE":
        places = int(rng.choice([10, 11, 12]))
        gestion = "privee" if rng.random() < 0.85 else "publique"
        label = "Micro-crèche"
    elif kind == "MAM":
        places = int(rng.choice([8, 12, 16]))
        gestion, label, psu = "privee", "MAM", False
    elif kind == "CRECHE_FAMILIALE":
        places = int(rng.integers(20, 61))
        gestion, label = "publique", "Crèche familiale"
    else:
        places = int(rng.choice([20, 24, 30, 36, 40, 45, 50, 60]))
        gestion = "publique" if (psu and rng.random() < 0.7) else "privee"
        label = "Multi-accueil" if rng.random() < 0.6 else "Crèche"
    recent = rng.random() < 0.12
    opened = _open_date(rng, recent)
    closed = pd.NaT
    if not recent and rng.random() < 0.05:
        closed = pd.Timestamp(year=int(rng.integers(2023, 2026)), month=int(rng.integers(1, 13)), day=1)
    lon, lat = _jitter(rng, c)
    return {
        "code_insee": c["code_insee"], "type": kind,
        "nom": f"{label} {_NAMES[int(rng.integers(len(_NAMES)))]} – {c['nom']}",
        "places": places, "psu": bool(psu), "gestion": gestion,
        "date_ouverture": opened, "date_fermeture": closed,
        "latitude": lat, "longitude": lon, "etp_animation": np.nan, "nb_assistants_maternels": np.nan,
    }


def _rpe(rng: np.random.Generator, c: pd.Series, n_kids: float, intercommunal: bool = False) -> dict:
    # about one assistant maternel for 3 children under 3 in the area, 45 to 75 per ETP
    am = max(8, int(round(n_kids / 3 * float(rng.uniform(0.7, 1.2)))))
    # at most 40 ETP in one (fictitious) relais: the structures importer refuses more than 50 as implausible
    etp = min(40.0, max(0.5, round(am / float(rng.uniform(45, 75)) * 2) / 2))
    lon, lat = _jitter(rng, c)
    return {
        "code_insee": c["code_insee"], "type": "RPE",
        "nom": f"Relais petite enfance {'intercommunal ' if intercommunal else ''}{_de(c['nom'])}",
        "places": 0, "psu": False, "gestion": "publique",
        "date_ouverture": pd.Timestamp(year=int(rng.integers(1995, 2024)), month=9, day=1),
        "date_fermeture": pd.NaT, "latitude": lat, "longitude": lon,
        "etp_animation": etp, "nb_assistants_maternels": float(am),
    }


def _de(nom: str) -> str:
    """French elision: « de Sens », « d'Auxerre »."""
    return f"d'{nom}" if nom[:1].upper() in "AEIOUYÉÈÊH" else f"de {nom}"


def _jitter(rng: np.random.Generator, c: pd.Series) -> tuple[float, float]:
    geom = c.get("geometry")
    if geom is not None and not (isinstance(geom, float)) and not geom.is_empty:
        minx, miny, maxx, maxy = geom.bounds
        from shapely import Point

        for _ in range(30):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if geom.contains(Point(x, y)):
                return round(float(x), 5), round(float(y), 5)
    return round(float(c["lon"]), 5), round(float(c["lat"]), 5)


def build_demo(store: Store | None = None, seed: int = 2026, shared: Path | None = None,
               log=lambda m: print(m, file=sys.stderr, flush=True)) -> dict:
    """Import the shared QPV/FRR/grid files (when present) and write the fictitious structures."""
    from .importers import write_structures

    store = store or Store()
    shared = Path(shared) if shared else DEFAULT_SHARED
    imported = []
    if shared.is_dir():
        files = [(kind, shared / fname) for kind, fname in SHARED_FILES.items() if (shared / fname).exists()]
        for kind, path in files + real_files(shared / REAL_FOLDER):
            if _import_once(store, kind, path, log):
                imported.append(kind)
    else:
        log(f"  dossier {shared} absent : QPV, FRR et chiffres officiels non importés (importez-les depuis la page "
            "Import)")

    info = store.info("structures")
    if info is not None and info.nature != NATURE_FICTIF:
        log("  une liste de structures réelle est déjà importée : la démonstration ne l'écrase pas")
        return {"imported": imported, "structures": None}
    empreinte = empreinte_generateur(store, seed)
    if info is not None and (info.extra or {}).get("empreinte") == empreinte:
        log("  structures de démonstration déjà générées")
        return {"imported": imported, "structures": info.rows}
    communes = store.read("communes", columns=["code_insee", "nom", "dep", "population", "epci_siren",
                                               "lon", "lat", "geometry"])
    communes = communes[communes["dep"].isin(DEMO_DEPARTEMENTS)]
    enfants = store.read("enfants_moins_3")
    frame = generate_structures(communes, enfants, seed=seed)
    write_structures(frame, store, nature=NATURE_FICTIF,
                     source=f"Générateur de démonstration d'Atlas Petite Enfance (graine {seed}) — {DEMO_LABEL}",
                     vintage="fictif", extra={"seed": seed, "departements": list(DEMO_DEPARTEMENTS),
                            "empreinte": empreinte})
    log(f"  {len(frame)} structures fictives générées dans l'Yonne (89) et la Seine-Saint-Denis (93)")
    return {"imported": imported, "structures": len(frame)}


def empreinte_generateur(store: Store, seed: int) -> str:
    """What the fictitious structures are generated from: the seed, this generator's code and the layers it
    reads (communes, children under 3).  A new generator or new children figures (e.g. INSEE births imported
    after a first demo) regenerate the demo, so every checkout with the same inputs has the same structures."""
    h = hashlib.sha256(f"graine {seed}\n".encode())
    h.update(Path(__file__).read_bytes())
    for layer in ("communes", "enfants_moins_3"):
        i = store.info(layer)
        h.update(f"{layer}|{i.nature}|{i.vintage}|{i.source}|{i.rows}\n".encode() if i else f"{layer}|absent\n".encode())
    return h.hexdigest()[:16]


def _import_once(store: Store, kind: str, path: Path, log) -> bool:
    """Import ``path`` unless the same file (same content) is already in the store."""
    from .importers import import_file

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    done = store.manifest().get("demo_imports", {})
    entry = done.get(path.name)
    layers = entry.get("layers", []) if isinstance(entry, dict) else []
    up_to_date = (isinstance(entry, dict) and entry.get("sha256") == digest and layers
                  and all(store.has(name) for name in layers))
    if up_to_date and "enfants_moins_3" in layers:   # a rebuilt référentiel resets children to the estimate
        info = store.info("enfants_moins_3")
        up_to_date = info is not None and info.nature != "estimé"
    if up_to_date:
        log(f"  {kind} : déjà importé depuis {path.name}")
        return False
    log(f"  import {kind} depuis {path}")
    report = import_file(kind, path, store)
    if report.warnings:
        log(f"    {len(report.warnings)} avertissement(s), ex. : {report.warnings[0]}")
    done = store.manifest().get("demo_imports", {})
    store.set_meta("demo_imports", {**{k: v for k, v in done.items() if k not in SHARED_FILES},
                                    path.name: {"sha256": digest, "kind": kind, "layers": report.layers}})
    return True


def run_demo_cli(seed: int = 2026, shared: str | None = None) -> int:
    from .importers import ImportValidationError

    print("Territoire de démonstration : Yonne (89) et Seine-Saint-Denis (93)", file=sys.stderr)
    try:
        build_demo(seed=seed, shared=Path(shared) if shared else None)
    except ImportValidationError as exc:
        for p in exc.problems:
            print(str(p), file=sys.stderr)
        return 1
    return 0
