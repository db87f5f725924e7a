"""Importer of the QPV contours (ANCT GeoJSON, or GeoPackage / shapefile): validated feature by
feature, reprojected to EPSG:4326, bow-ties repaired, communes resolved."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from planning.formats import fr_decimal

from ..codes import fold_arrondissement, is_valid_commune_code, normalise_insee
from ..store import Store
from .common import Built, commune_reference, unsafe_cell
from .problems import Problems, shorten
from .official import QP_RE, layer_info, norm_name, vintage_of

# Where a QPV can be (lat_min, lat_max, lon_min, lon_max): mainland and Corsica, DROM, and the
# overseas collectivities that have QPV (Saint-Martin, Polynésie française); a contour outside
# every box is refused (latitude and longitude swapped, wrong CRS…).
QPV_BOXES = {
    "métropole et Corse": (41.0, 51.5, -5.8, 10.0),
    "Antilles (Guadeloupe, Martinique, Saint-Martin, Saint-Barthélemy)": (14.2, 18.2, -63.3, -60.7),
    "Guyane": (1.9, 6.1, -54.8, -51.4),
    "La Réunion": (-21.6, -20.7, 55.0, 56.0),
    "Mayotte": (-13.2, -12.5, 44.8, 45.5),
    "Saint-Pierre-et-Miquelon": (46.7, 47.2, -56.6, -56.0),
    "Polynésie française": (-28.5, -7.0, -155.0, -134.0),
    "Nouvelle-Calédonie": (-23.0, -19.0, 163.0, 169.0),
    "Wallis-et-Futuna": (-14.6, -13.0, -178.3, -176.0),
}
_OVERSEAS_COLLECTIVITY = re.compile(r"^(975|977|978|98\d)")


def _in_boxes(bounds: tuple[float, float, float, float]) -> bool:
    minx, miny, maxx, maxy = bounds
    return any(a <= miny and maxy <= b and c <= minx and maxx <= d for a, b, c, d in QPV_BOXES.values())


def _read_features(path: Path, probs: Problems) -> tuple[list[dict], list, str | None]:
    """(properties, shapely geometries or None, declared CRS name) of every feature.

    GeoJSON is read with ``json`` so that each feature is checked on its own (feature number, no
    GDAL warning); GeoPackage / shapefile go through geopandas with its warnings captured."""
    import json
    import warnings

    from shapely.geometry import shape

    if path.suffix.lower() in (".geojson", ".json"):
        try:
            data = json.loads(path.read_bytes().decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise probs.fatal("GeoJSON illisible (le texte n'est pas en UTF-8) — vérifiez que c'est bien le GeoJSON "
                              "des contours publié par l'ANCT.") from None
        except ValueError as exc:
            where = f" (ligne {exc.lineno}, colonne {exc.colno})" if hasattr(exc, "lineno") else ""
            raise probs.fatal(f"GeoJSON mal formé{where} — vérifiez que c'est bien le GeoJSON des contours publié par "
                              "l'ANCT.", getattr(exc, "lineno", None)) from None
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection" \
                or not isinstance(data.get("features"), list):
            raise probs.fatal("le fichier n'est pas une collection d'objets GeoJSON (FeatureCollection).")
        crs = data.get("crs")
        crs_name = (crs.get("properties") or {}).get("name") if isinstance(crs, dict) else None
        props, geoms = [], []
        for i, f in enumerate(data["features"]):
            if not isinstance(f, dict):
                probs.error("objet GeoJSON invalide (ce n'est pas un « Feature »).", i + 1, "geometry")
                props.append({})
                geoms.append(None)
                continue
            props.append(f.get("properties") or {})
            g = f.get("geometry")
            if not g:
                geoms.append(None)
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    geoms.append(shape(g))
            except Exception:  # noqa: BLE001 - malformed coordinates
                probs.error("géométrie illisible — coordonnées mal formées (type ou nombre de coordonnées).", i + 1,
                            "geometry")
                geoms.append(None)
        return props, geoms, crs_name
    import geopandas as gpd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf = gpd.read_file(path)
    except Exception:  # noqa: BLE001
        raise probs.fatal("fichier géographique illisible — fournissez le GeoJSON publié par l'ANCT.") from None
    name = gdf.geometry.name
    props = gdf.drop(columns=name).to_dict("records")
    crs_name = gdf.crs.to_string() if gdf.crs is not None else None
    return props, [None if g is None or g.is_empty else g for g in gdf.geometry], crs_name


def _epsg_of(crs_name: str | None, probs: Problems) -> int | None:
    if crs_name is None:
        return None
    if "CRS84" in crs_name.upper():
        return 4326
    try:
        import pyproj

        epsg = pyproj.CRS.from_user_input(crs_name).to_epsg()
    except Exception:  # noqa: BLE001
        epsg = None
    if epsg is None:
        raise probs.fatal(f"système de coordonnées « {shorten(crs_name, 60)} » non reconnu — exportez les contours en "
                          "WGS 84 (EPSG:4326) ou en Lambert-93 (EPSG:2154) déclaré.", None, "crs")
    return epsg


def build_qpv_polygones(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    """QPV contours, validated feature by feature (the "ligne" of a message is the feature number,
    the "colonne" the attribute).  Decisions:

    * self-intersecting contours (bow-ties) are **repaired** with ``make_valid`` and listed in one
      warning: the ANCT's own simplified file has 85 of them (rounding to 5 decimals), so refusing
      would refuse the official file; the repair keeps the same outline split at the crossing;
    * points or lines instead of polygons, NaN or infinite coordinates, coordinates outside WGS 84
      bounds, a contour outside France and its overseas territories, or metres without a declared
      system (Lambert-93 read as degrees) are **refused**, naming the feature;
    * a QPV over several communes (``insee_com`` "93059, 93072" or "A;B") keeps every code
      (``codes_insee``); communes of overseas collectivities outside the référentiel (97801, 987xx)
      are dropped with one summarised warning.
    """
    if path.suffix.lower() not in (".geojson", ".json", ".gpkg", ".shp", ".zip"):
        raise probs.fatal("format non reconnu pour les contours QPV — fournissez le GeoJSON publié par l'ANCT.")
    props, geoms, crs_name = _read_features(path, probs)
    if not props:
        raise probs.fatal("le fichier ne contient aucun contour.")
    cols = _columns(props, probs)
    epsg = _epsg_of(crs_name, probs)
    notes: list[str] = []
    _check_geometries(geoms, probs)
    geoms = _in_wgs84(geoms, epsg, probs, notes)
    collapsed, repaired = _repair(geoms, probs)
    rows, overseas = _rows(props, geoms, cols, store, probs)
    return _layer(rows, overseas, collapsed, repaired, props, cols, fichier, publisher, probs, notes)


def _columns(props: list[dict], probs: Problems) -> dict[str, str | None]:
    """The attributes holding the QPV code, its name, its communes and its département."""
    keys: dict[str, str] = {}
    for p in props[:50]:
        for k in p:
            keys.setdefault(norm_name(k), k)

    def find(*names):
        return next((keys[n] for n in names if n in keys), None)

    cols = {"code": find("code_qp", "code_qpv", "codeqp", "code_quartier"),
            "nom": find("nom_qp", "lib_qp", "libelle_qp", "nom_quartier"),
            "com": find("insee_com", "code_insee", "commune_qp", "insee_commune", "codgeo", "codes_insee"),
            "dep": find("insee_dep", "code_dep", "dep")}
    if cols["code"] is None:
        found = ", ".join(f"« {c} »" for c in keys.values()) or "aucune"
        raise probs.fatal(f"propriété « code_qp » absente. Propriétés trouvées : {found}. "
                          "Vérifiez que c'est le fichier des contours QPV.", None, "code_qp")
    return cols


def _check_geometries(geoms: list, probs: Problems) -> None:
    """Geometry checks that do not depend on the CRS: a polygon, with finite coordinates."""
    import shapely

    ok = []
    for i, g in enumerate(geoms):
        feat = i + 1
        if g is None or g.is_empty:
            probs.error("objet sans géométrie — vérifiez l'export (chaque QPV doit avoir son contour).", feat,
                        "geometry")
            ok.append(False)
            continue
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            probs.error(f"géométrie de type {g.geom_type} au lieu d'un polygone — le fichier ne contient pas des "
                        "contours de quartiers.", feat, "geometry")
            ok.append(False)
            continue
        xy = shapely.get_coordinates(g)
        if not np.isfinite(xy).all():
            probs.error("coordonnées non numériques (NaN ou infini) — contour inutilisable, corrigez l'export.", feat,
                        "geometry")
            ok.append(False)
            continue
        ok.append(True)
    probs.raise_if_errors()


def _in_wgs84(geoms: list, epsg: int | None, probs: Problems, notes: list[str]) -> list:
    """Contours in EPSG:4326: the CRS declared, or degrees assumed when every coordinate is within WGS 84
    bounds; a contour outside France and its overseas territories is refused."""
    import warnings

    import shapely

    bounds = np.array([g.bounds for g in geoms])
    in_degrees = (np.abs(bounds[:, [0, 2]]) <= 180).all(axis=1) & (np.abs(bounds[:, [1, 3]]) <= 90).all(axis=1)
    if epsg is None:
        if not in_degrees.all():
            i = int(np.flatnonzero(~in_degrees)[0])
            x, y = bounds[i, 0], bounds[i, 1]
            raise probs.fatal(f"aucun système de coordonnées déclaré et des coordonnées en mètres "
                              f"({fr_decimal(x)} ; {fr_decimal(y)}), sans doute en Lambert-93 : ajoutez la déclaration "
                              "« crs » EPSG:2154 au fichier ou exportez-le en WGS 84 (EPSG:4326).", i + 1, "geometry")
        probs.warn("aucun système de coordonnées déclaré : WGS 84 (EPSG:4326) supposé (coordonnées en degrés).")
        epsg = 4326
    if epsg == 4326:
        if not in_degrees.all():
            i = int(np.flatnonzero(~in_degrees)[0])
            raise probs.fatal(f"coordonnées hors des bornes du WGS 84 ({fr_decimal(bounds[i, 0])} ; {fr_decimal(bounds[i, 1])}) "
                              "alors que le fichier déclare des degrés (EPSG:4326) : ce sont sans doute des mètres "
                              "(Lambert-93, EPSG:2154) — corrigez la déclaration « crs » du fichier.", i + 1, "crs")
    else:
        import pyproj

        tr = pyproj.Transformer.from_crs(epsg, 4326, always_xy=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            geoms = [shapely.transform(g, lambda a: np.column_stack(tr.transform(a[:, 0], a[:, 1]))) for g in geoms]
        notes.append(f"Contours reprojetés de EPSG:{epsg} vers EPSG:4326.")
        bounds = np.array([g.bounds for g in geoms])
    for i, b in enumerate(bounds):
        if not np.isfinite(b).all() or not _in_boxes(tuple(b)):
            probs.error(f"contour hors de France et de ses outre-mer (longitude {fr_decimal(b[0])}, latitude {fr_decimal(b[1])}) "
                        "— latitude et longitude inversées, ou mauvais système de coordonnées ?", i + 1, "geometry")
    probs.raise_if_errors()
    return geoms


def _repair(geoms: list, probs: Problems) -> tuple[list[int], list[int]]:
    """Invalid polygons (bow-ties) repaired in place with make_valid; those reduced to a point or a line
    are dropped (None). Returns (collapsed indexes, repaired feature numbers)."""
    import warnings

    import shapely

    repaired, collapsed = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, g in enumerate(geoms):
            if g.is_valid:
                continue
            fixed = shapely.make_valid(g)
            if fixed.geom_type == "GeometryCollection":
                polys = [p for p in fixed.geoms if p.geom_type in ("Polygon", "MultiPolygon")]
                fixed = shapely.union_all(polys) if polys else None
            if fixed is None or fixed.is_empty or fixed.geom_type not in ("Polygon", "MultiPolygon"):
                collapsed.append(i)   # reduced to a point or a line (the simplified ANCT file has 3)
                geoms[i] = None
                continue
            geoms[i] = fixed
            repaired.append(i + 1)
    probs.raise_if_errors()
    return collapsed, repaired


def _rows(props: list[dict], geoms: list, cols: dict, store: Store, probs: Problems) -> tuple[list[dict], dict]:
    """One row per valid QPV with its communes; the overseas collectivities outside the référentiel counted."""
    c_code, c_nom, c_com, c_dep = cols["code"], cols["nom"], cols["com"], cols["dep"]
    ref = commune_reference(store)
    by_dep_name = {(d, norm_name(n)): c for c, n, d in zip(ref["code_insee"], ref["nom"], ref["dep"])}
    dep_of = dict(zip(ref["code_insee"], ref["dep"]))
    known = set(ref["code_insee"])
    rows = []
    overseas: dict[str, int] = {}
    for i, p in enumerate(props):
        feat = i + 1
        if geoms[i] is None:
            continue
        raw_code = p.get(c_code)
        code_qp = normalise_insee(raw_code)
        if not QP_RE.match(code_qp):
            probs.error(f"code QPV « {shorten(str(raw_code))} » invalide — il doit ressembler à QN08901I.", feat, c_code)
            continue
        nom = "" if c_nom is None or p.get(c_nom) is None else str(p.get(c_nom)).strip()
        reason = unsafe_cell(nom)
        if reason:
            probs.error(reason, feat, c_nom)
        codes: list[str] = []
        out_of_ref: list[str] = []
        raw = "" if c_com is None or p.get(c_com) is None else str(p.get(c_com))
        for part in [x.strip() for x in re.split(r"[;,|/\n]", raw) if x.strip()]:
            cand = fold_arrondissement(normalise_insee(part))
            if cand in known:
                codes.append(cand)
            elif is_valid_commune_code(cand):
                out_of_ref.append(cand)
            else:  # a commune name: looked up in the QPV's département (QN + 3 characters)
                dep = code_qp[2:5].lstrip("0") if len(code_qp) > 5 else ""
                dep = dep.zfill(2) if dep.isdigit() and len(dep) < 3 else dep
                com = by_dep_name.get((dep, norm_name(part)), "")
                if com:
                    codes.append(com)
                else:
                    probs.warn(f"commune « {shorten(part)} » non reconnue : contour gardé sans cette commune.", feat,
                               c_com)
        codes = list(dict.fromkeys(codes))
        for c in out_of_ref:
            if _OVERSEAS_COLLECTIVITY.match(c):
                overseas[c] = overseas.get(c, 0) + 1
            else:
                probs.warn(f"code INSEE « {c} » inconnu du référentiel (COG 2025) — commune fusionnée ?", feat, c_com)
        if not codes and out_of_ref and all(_OVERSEAS_COLLECTIVITY.match(c) for c in out_of_ref):
            continue       # a QPV of an overseas collectivity outside the référentiel
        dep = dep_of.get(codes[0], "") if codes else (str(p.get(c_dep) or "").strip() if c_dep else "")
        rows.append({"code_qp": code_qp, "nom_qp": nom, "code_insee": codes[0] if codes else "",
                     "codes_insee": ",".join(codes), "dep": dep, "geometry": geoms[i]})
    return rows, overseas


def _layer(rows, overseas, collapsed, repaired, props, cols, fichier, publisher, probs, notes) -> Built:
    """The warnings of the whole file, then the layer (duplicates merged) and its manifest entry."""
    import warnings

    import geopandas as gpd

    c_code, c_com = cols["code"], cols["com"]
    if overseas:
        n_feat = sum(overseas.values())
        probs.warn(f"{n_feat} contour(s) de collectivités d'outre-mer hors du référentiel (communes "
                   f"{', '.join(sorted(overseas)[:12])}{' …' if len(overseas) > 12 else ''}) ignoré(s).", None, c_com)
    if collapsed:
        names = ", ".join(str(props[i].get(c_code)) for i in collapsed[:10])
        probs.warn(f"{len(collapsed)} contour(s) de surface nulle (réduits à un point ou une ligne, sans doute par la "
                   f"simplification du fichier) ignoré(s) : objets n° {', '.join(str(i + 1) for i in collapsed[:10])} "
                   f"({names}) ; ces QPV restent dans la liste des QPV par commune.", None, "geometry")
    if repaired:
        shown = ", ".join(str(x) for x in repaired[:15]) + (" …" if len(repaired) > 15 else "")
        probs.warn(f"{len(repaired)} contour(s) non valide(s) (auto-intersection, « nœud papillon ») réparé(s) avec "
                   f"make_valid : objets n° {shown}.", None, "geometry")
    probs.raise_if_errors()
    if not rows:
        raise probs.fatal("aucun contour de QPV dans une commune du référentiel.")
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    dup = out["code_qp"].duplicated()
    if dup.any():
        probs.warn(f"{int(dup.sum())} code(s) QPV en double : les contours sont fusionnés.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            geom = out.dissolve(by="code_qp", as_index=False, aggfunc="first")
        out = geom[["code_qp", "nom_qp", "code_insee", "codes_insee", "dep", "geometry"]]
    out = out.astype({"code_qp": str, "nom_qp": str, "code_insee": str, "codes_insee": str, "dep": str})
    out = out.sort_values("code_qp").reset_index(drop=True)
    multi = int(out["codes_insee"].str.contains(",").sum())
    notes.append(f"{len(out)} contour(s) de QPV, dont {multi} sur plusieurs communes.")
    y, vintage = vintage_of(fichier, None, "QPV (date non précisée)")
    vintage = f"QPV {y}" if y else vintage
    info = layer_info("Contours des QPV", vintage, f"{fichier} — {publisher}")
    return Built({"qpv_polygones": (out, info)}, vintage, len(out), None, notes)


