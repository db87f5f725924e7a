"""Importers of official files keyed by commune: QPV, FRR, ZRR, INSEE, DGCL, density grid."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..codes import fold_arrondissement, is_valid_commune_code, normalise_insee
from ..store import NATURE_IMPORTE, LayerInfo, Store
from .common import (Built, Col, Problems, Table, _short, base_frame, check_cells, commune_reference, drop_unknown, fold_codes, fold_frame, number_column,
                     parse_bool, read_table, report_duplicates, resolve_columns, text_column, year_in)

CODE_COMMUNE = Col("code_insee", ("codgeo", "insee_com", "code_commune", "com", "codecommune", "code_insee_commune",
                                  "insee", "depcom", "code_geo", "code"))


def _info(label: str, vintage: str, source: str) -> LayerInfo:
    return LayerInfo(name="", rows=0, nature=NATURE_IMPORTE, vintage=vintage, source=source, label=label)


def _known_filter(df: pd.DataFrame, known: set[str], probs: Problems, colonne: str, what="code INSEE"):
    keep = drop_unknown(df["code_insee"].tolist(), known, df["_ligne"].tolist(), probs, colonne, what)
    return df[keep].reset_index(drop=True)


def _one_row_per_commune(df: pd.DataFrame, probs: Problems, colonne: str, value_cols: list[str], how: str,
                         store, known: set[str] | None = None) -> pd.DataFrame:
    """The shared steps of every commune-level file: fold Paris/Lyon/Marseille arrondissements
    (``how``: "sum" or "same"), drop unknown INSEE codes with a warning, report duplicates."""
    df = fold_frame(df, probs, colonne, value_cols, how)
    known = known if known is not None else set(commune_reference(store)["code_insee"])
    df = _known_filter(df, known, probs, colonne)
    return report_duplicates(df, ["code_insee"], value_cols, "_ligne", probs, colonne, "commune")


def _vintage(fichier: str, table: Table | None, default: str) -> tuple[int | None, str]:
    y = year_in(fichier, *(table.preamble if table else []))
    return y, (str(y) if y else default)


# ---------------------------------------------------------------------------
# QPV list (ANCT)
# ---------------------------------------------------------------------------
QPV_COLS = [
    Col("code_qp", ("code_quartier", "codeqp", "code_qpv", "qp", "code_du_quartier", "cod_qp")),
    Col("lib_qp", ("nom_qp", "libelle_qp", "nom_quartier", "libelle_quartier", "nom_du_quartier", "lib_qpv"),
        required=False),
    Col("insee_com", ("code_insee", "codgeo", "insee_commune", "code_commune", "insee_com_qp", "commune_qp",
                      "codes_insee", "com")),
    Col("lib_com", ("nom_com", "nom_commune", "libelle_commune", "commune", "communes", "lib_commune"),
        required=False),
]
_QP_RE = re.compile(r"^Q[A-Z][0-9A-Z]{4,8}$")


def build_qpv(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, QPV_COLS, probs)
    m = resolve_columns(table, QPV_COLS, probs)
    check_cells(table, [m[c] for c in ("lib_qp", "lib_com") if c in m], probs)
    ref = commune_reference(store)
    names = dict(zip(ref["code_insee"], ref["nom"]))
    rows = []
    qp_label = table.label(m["code_qp"])
    com_label = table.label(m["insee_com"])
    libs_qp = text_column(table, m.get("lib_qp"))
    libs_com = text_column(table, m.get("lib_com"))
    for i, (qp, cell) in enumerate(zip(table.frame[m["code_qp"]].tolist(), table.frame[m["insee_com"]].tolist())):
        line = table.lines[i]
        code_qp = normalise_insee(qp)
        if not _QP_RE.match(code_qp):
            probs.error(f"code QPV « {_short(qp)} » invalide — il doit ressembler à QN08901I.", line, qp_label)
            continue
        parts = [p for p in re.split(r"[;,|/\n]", cell) if p.strip()]
        if not parts:
            probs.error("code INSEE de la commune manquant — renseignez-le.", line, com_label)
            continue
        codes = []
        for p in parts:
            s = p.strip()
            if s.startswith("=") and not re.fullmatch(r'="[^"]*"', s):
                probs.error(f"la cellule « {_short(s)} » ressemble à une formule de tableur — supprimez la formule.",
                            line, com_label)
                continue
            c = normalise_insee(s)
            if not is_valid_commune_code(c):
                probs.error(f"code INSEE « {_short(s)} » invalide — corrigez-le (5 caractères, ex. 01004).",
                            line, com_label)
                continue
            codes.append(c)
        lib_parts = [p.strip() for p in re.split(r"[;\n]", libs_com[i]) if p.strip()]
        for k, c in enumerate(codes):
            lib = lib_parts[k] if len(lib_parts) == len(codes) else (libs_com[i] if len(codes) == 1 else "")
            rows.append({"_ligne": line, "code_orig": c, "code_qp": code_qp, "lib_qp": libs_qp[i], "lib_com": lib})
    probs.raise_if_errors()
    df = pd.DataFrame(rows, columns=["_ligne", "code_orig", "code_qp", "lib_qp", "lib_com"])
    df["code_insee"] = fold_codes(df["code_orig"].tolist(), df["_ligne"].tolist(), probs, com_label)
    # overseas collectivities (Saint-Martin 97801, Polynésie 987xx…) are outside the référentiel: one warning
    overseas = ~df["code_insee"].isin(names) & df["code_insee"].str.match(r"^(975|977|978|98\d)")
    if overseas.any():
        codes = sorted(set(df.loc[overseas, "code_insee"]))
        probs.warn(f"{int(overseas.sum())} ligne(s) de collectivités d'outre-mer hors du référentiel (COG 2025) "
                   f"ignorée(s) : {df.loc[overseas, 'code_qp'].nunique()} QPV, communes {', '.join(codes[:12])}"
                   f"{' …' if len(codes) > 12 else ''}.", None, com_label)
        df = df[~overseas].reset_index(drop=True)
    df = _known_filter(df, set(names), probs, com_label)
    # one row per (commune, QPV); folded arrondissements collapse silently (already listed)
    arm_dup = df.duplicated(["code_insee", "code_qp"]) & (df["code_orig"] != df["code_insee"])
    df = df[~arm_dup]
    df = report_duplicates(df, ["code_insee", "code_qp"], [], "_ligne", probs, com_label, "commune / QPV")
    probs.raise_if_errors()
    # lib_com: the commune's own name when the cell held several names or an arrondissement
    multi = (df["lib_com"] == "") | (df["code_orig"] != df["code_insee"]) | df["lib_com"].str.contains("[;\n]")
    df["lib_com"] = np.where(multi, df["code_insee"].map(names), df["lib_com"])
    out = (df[["code_qp", "lib_qp", "code_insee", "lib_com"]].astype(str)
           .sort_values(["code_insee", "code_qp"]).reset_index(drop=True))
    y, vintage = _vintage(fichier, table, "QPV (date non précisée)")
    vintage = f"QPV {y}" if y else vintage
    info = _info("Quartiers prioritaires de la politique de la ville (QPV)", vintage, f"{fichier} — {publisher}")
    notes = [f"{out['code_qp'].nunique()} QPV dans {out['code_insee'].nunique()} communes."]
    return Built({"qpv": (out, info)}, vintage, len(out), table.encoding, notes)


# ---------------------------------------------------------------------------
# QPV polygons (GeoJSON)
# ---------------------------------------------------------------------------
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

    import shapely
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
        raise probs.fatal(f"système de coordonnées « {_short(crs_name, 60)} » non reconnu — exportez les contours en "
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
    import warnings

    import geopandas as gpd
    import numpy as np
    import shapely

    if path.suffix.lower() not in (".geojson", ".json", ".gpkg", ".shp", ".zip"):
        raise probs.fatal("format non reconnu pour les contours QPV — fournissez le GeoJSON publié par l'ANCT.")
    props, geoms, crs_name = _read_features(path, probs)
    if not props:
        raise probs.fatal("le fichier ne contient aucun contour.")
    keys: dict[str, str] = {}
    for p in props[:50]:
        for k in p:
            keys.setdefault(_norm(k), k)

    def find(*names):
        return next((keys[n] for n in names if n in keys), None)

    c_code = find("code_qp", "code_qpv", "codeqp", "code_quartier")
    c_nom = find("nom_qp", "lib_qp", "libelle_qp", "nom_quartier")
    c_com = find("insee_com", "code_insee", "commune_qp", "insee_commune", "codgeo", "codes_insee")
    c_dep = find("insee_dep", "code_dep", "dep")
    if c_code is None:
        found = ", ".join(f"« {c} »" for c in keys.values()) or "aucune"
        raise probs.fatal(f"propriété « code_qp » absente. Propriétés trouvées : {found}. "
                          "Vérifiez que c'est le fichier des contours QPV.", None, "code_qp")
    epsg = _epsg_of(crs_name, probs)
    notes = []
    # -- geometry checks that do not depend on the CRS
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
    # -- CRS: declared, or degrees assumed when every coordinate is within WGS 84 bounds
    bounds = np.array([g.bounds for g in geoms])
    in_degrees = (np.abs(bounds[:, [0, 2]]) <= 180).all(axis=1) & (np.abs(bounds[:, [1, 3]]) <= 90).all(axis=1)
    if epsg is None:
        if not in_degrees.all():
            i = int(np.flatnonzero(~in_degrees)[0])
            x, y = bounds[i, 0], bounds[i, 1]
            raise probs.fatal(f"aucun système de coordonnées déclaré et des coordonnées en mètres "
                              f"({_fmt(x)} ; {_fmt(y)}), sans doute en Lambert-93 : ajoutez la déclaration "
                              "« crs » EPSG:2154 au fichier ou exportez-le en WGS 84 (EPSG:4326).", i + 1, "geometry")
        probs.warn("aucun système de coordonnées déclaré : WGS 84 (EPSG:4326) supposé (coordonnées en degrés).")
        epsg = 4326
    if epsg == 4326:
        if not in_degrees.all():
            i = int(np.flatnonzero(~in_degrees)[0])
            raise probs.fatal(f"coordonnées hors des bornes du WGS 84 ({_fmt(bounds[i, 0])} ; {_fmt(bounds[i, 1])}) "
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
            probs.error(f"contour hors de France et de ses outre-mer (longitude {_fmt(b[0])}, latitude {_fmt(b[1])}) "
                        "— latitude et longitude inversées, ou mauvais système de coordonnées ?", i + 1, "geometry")
    probs.raise_if_errors()
    # -- invalid polygons (bow-ties): repaired, one warning
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
    # -- attributes
    ref = commune_reference(store)
    by_dep_name = {(d, _norm(n)): c for c, n, d in zip(ref["code_insee"], ref["nom"], ref["dep"])}
    dep_of = dict(zip(ref["code_insee"], ref["dep"]))
    known = set(ref["code_insee"])
    rows = []
    overseas: dict[str, int] = {}
    from .common import unsafe_cell

    for i, p in enumerate(props):
        feat = i + 1
        if geoms[i] is None:
            continue
        raw_code = p.get(c_code)
        code_qp = normalise_insee(raw_code)
        if not _QP_RE.match(code_qp):
            probs.error(f"code QPV « {_short(str(raw_code))} » invalide — il doit ressembler à QN08901I.", feat, c_code)
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
                com = by_dep_name.get((dep, _norm(part)), "")
                if com:
                    codes.append(com)
                else:
                    probs.warn(f"commune « {_short(part)} » non reconnue : contour gardé sans cette commune.", feat,
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
    y, vintage = _vintage(fichier, None, "QPV (date non précisée)")
    vintage = f"QPV {y}" if y else vintage
    info = _info("Contours des QPV", vintage, f"{fichier} — {publisher}")
    return Built({"qpv_polygones": (out, info)}, vintage, len(out), None, notes)


def _norm(s: object) -> str:
    from .common import normalise_header

    return normalise_header(s)


# ---------------------------------------------------------------------------
# FRR (Observatoire des territoires) and legacy ZRR
# ---------------------------------------------------------------------------
FRR_COLS = [CODE_COMMUNE, Col("codefrr", ("code_frr", "frr", "classement_frr", "cod_frr"), regex=r"codefrr_?\d*"),
            Col("libgeo", ("lib_com", "nom_commune", "libelle", "nom"), required=False)]
FRR_LABELS = {0: "Non classée", 1: "Ancienne ZRR en transition", 2: "Cas particulier", 3: "Cas particulier",
              4: "FRR", 5: "FRR+"}


def build_frr(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, FRR_COLS, probs)
    m = resolve_columns(table, FRR_COLS, probs)
    check_cells(table, [m["libgeo"]] if "libgeo" in m else [], probs)
    df = base_frame(table, m["code_insee"], probs)
    label = table.label(m["codefrr"])
    values = []
    for i, v in enumerate(table.frame[m["codefrr"]].tolist()):
        s = v.strip()
        if s in ("", "-9999", "-9999.0", "NA", "nd", "N/A"):
            values.append(0)
            continue
        try:
            x = float(s.replace(",", "."))
        except ValueError:
            x = -1
        if not float(x).is_integer() or int(x) not in FRR_LABELS:
            probs.error(f"code FRR « {_short(s)} » inconnu — valeurs attendues 0 à 5 (vide ou -9999 = non classée).",
                        table.lines[i], label)
            values.append(0)
        else:
            values.append(int(x))
    df["codefrr"] = values
    probs.raise_if_errors()
    df = _one_row_per_commune(df, probs, table.label(m["code_insee"]), ["codefrr"], "same", store)
    probs.raise_if_errors()
    out = pd.DataFrame({"code_insee": df["code_insee"].astype(str),
                        "codefrr": pd.array(df["codefrr"].astype(int), dtype="Int64")})
    out["classement"] = out["codefrr"].map(FRR_LABELS).astype(str)
    out = out.sort_values("code_insee").reset_index(drop=True)
    y = year_in(fichier, *table.preamble, table.label(m["codefrr"]))
    vintage = f"FRR {y}" if y else "FRR (date non précisée)"
    info = _info("France Ruralités Revitalisation (FRR)", vintage, f"{fichier} — {publisher}")
    counts = out["classement"].value_counts()
    notes = [f"FRR : {int(counts.get('FRR', 0))} ; FRR+ : {int(counts.get('FRR+', 0))} ; "
             f"ancienne ZRR en transition : {int(counts.get('Ancienne ZRR en transition', 0))}."]
    return Built({"frr": (out, info)}, vintage, len(out), table.encoding, notes)


ZRR_COLS = [CODE_COMMUNE, Col("zrr_simp", ("zrr", "classement_zrr", "zrr_simplifie")),
            Col("libgeo", ("lib_com", "nom_commune", "libelle"), required=False)]


def build_zrr(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, ZRR_COLS, probs)
    m = resolve_columns(table, ZRR_COLS, probs)
    check_cells(table, [m["zrr_simp"]] + ([m["libgeo"]] if "libgeo" in m else []), probs)
    df = base_frame(table, m["code_insee"], probs)
    label = table.label(m["zrr_simp"])
    zrr, lib = [], []
    for i, v in enumerate(table.frame[m["zrr_simp"]].tolist()):
        s = v.strip()
        letter = s[:1].upper()
        if letter not in ("C", "P", "N"):
            probs.error(f"valeur ZRR « {_short(s)} » inconnue — elle doit commencer par C (classée), "
                        "P (partiellement classée) ou N (non classée).", table.lines[i], label)
        zrr.append(letter)
        lib.append(s)
    df["zrr"], df["libelle"] = zrr, lib
    probs.raise_if_errors()
    col = table.label(m["code_insee"])
    df = _one_row_per_commune(df, probs, col, ["zrr"], "same", store)
    probs.raise_if_errors()
    out = df[["code_insee", "zrr", "libelle"]].astype(str).sort_values("code_insee").reset_index(drop=True)
    y = year_in(fichier, *table.preamble)
    vintage = f"ZRR {y}" if y else "ZRR (classement historique, fin le 30 juin 2024)"
    info = _info("Zones de revitalisation rurale (ZRR, historique)", vintage, f"{fichier} — {publisher}")
    return Built({"zrr": (out, info)}, vintage, len(out), table.encoding)


# ---------------------------------------------------------------------------
# INSEE: children under 3, legal populations
# ---------------------------------------------------------------------------
ENFANTS_COLS = [CODE_COMMUNE, Col("pop0002", regex=r"p(\d{2})_pop0002")]


def build_enfants(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, ENFANTS_COLS, probs)
    m = resolve_columns(table, ENFANTS_COLS, probs)
    # the most recent PYY_POP0002 column
    candidates = sorted((c for c in table.frame.columns if re.fullmatch(r"p(\d{2})_pop0002", c)), reverse=True)
    col = candidates[0]
    yy = int(col[1:3])
    year = 2000 + yy
    df = base_frame(table, m["code_insee"], probs)
    df["enfants"] = number_column(table, col, probs, minimum=0, maximum=100_000, what="nombre d'enfants")
    pop_col = f"p{yy:02d}_pop"
    if pop_col in table.frame.columns:
        df["pop"] = number_column(table, pop_col, probs, minimum=0, what="population")
        over = df["enfants"] > df["pop"]
        for _, r in df[over].iterrows():
            probs.error(f"{_fmt(r['enfants'])} enfants de moins de 3 ans pour une population de {_fmt(r['pop'])} — "
                        "valeur impossible, vérifiez la ligne.", int(r["_ligne"]), table.label(col))
    probs.raise_if_errors()
    ccol = table.label(m["code_insee"])
    ref = commune_reference(store)
    df = _one_row_per_commune(df, probs, ccol, ["enfants"], "sum", store, known=set(ref["code_insee"]))
    if "pop" not in df.columns:  # fall back on the référentiel population (other year: only a gross check)
        pop = pd.to_numeric(df["code_insee"].map(dict(zip(ref["code_insee"], ref["population"]))), errors="coerce")
        for _, r in df[df["enfants"] > pop * 1.5].iterrows():
            probs.error(f"{_fmt(r['enfants'])} enfants de moins de 3 ans : plus que la population de la commune "
                        "— valeur impossible, vérifiez la ligne.", int(r["_ligne"]), table.label(col))
    probs.raise_if_errors()
    from .naissances import NATURE_RECENSEMENT, _enfants_info, nature_column

    imported = pd.DataFrame({"code_insee": df["code_insee"].astype(str), "enfants_moins_3": df["enfants"].astype(float),
                             "annee": year, "estimation": False, "nature": NATURE_RECENSEMENT})
    imported = imported[imported["enfants_moins_3"].notna()]
    notes = []
    previous = store.info("enfants_moins_3")
    if store.has("enfants_moins_3"):
        old = store.read("enfants_moins_3")
        old = old.assign(nature=nature_column(old))
        rest = old[~old["code_insee"].isin(imported["code_insee"])]
        if len(rest):
            kinds = ", ".join(f"{n} : {k}" for k, n in rest["nature"].value_counts().items())
            notes.append(f"{len(rest)} commune(s) absente(s) du fichier gardent leur valeur précédente ({kinds}).")
        out = pd.concat([imported, rest[imported.columns]], ignore_index=True)
    else:
        out = imported
    out = out.astype({"code_insee": str, "enfants_moins_3": float, "annee": "int64", "estimation": bool,
                      "nature": str})
    out = out.sort_values("code_insee").reset_index(drop=True)
    vintage = f"recensement {year} (INSEE)"
    y_ref = (previous.extra or {}).get("annee_reference") if previous is not None else None
    info = _enfants_info(out, previous, f"{fichier} — {publisher}, colonne {table.label(col)}", y_ref)
    notes.insert(0, f"{len(imported)} commune(s) : enfants de 0 à 2 ans du recensement {year} "
                    f"(colonne {table.label(col)}).")
    return Built({"enfants_moins_3": (out, info)}, vintage, len(imported), table.encoding, notes)


def _fmt(x: float) -> str:
    return (f"{x:,.1f}".replace(",", "\u202f").replace(".", ",")).removesuffix(",0")


POP_COLS = [Col("code_insee", ("com", "codgeo", "code_commune", "depcom", "insee_com")),
            Col("pmun", ("population_municipale", "pop_mun", "p_mun")),
            Col("ptot", ("population_totale", "pop_tot", "p_tot"), required=False),
            Col("commune", ("nom_commune", "libgeo", "lib_com", "nom"), required=False)]


def build_populations(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, POP_COLS, probs)
    m = resolve_columns(table, POP_COLS, probs)
    check_cells(table, [m["commune"]] if "commune" in m else [], probs)
    df = base_frame(table, m["code_insee"], probs)
    df["pmun"] = number_column(table, m["pmun"], probs, minimum=0, maximum=3_000_000, integer=True,
                               what="population municipale")
    if "ptot" in m:
        df["ptot"] = number_column(table, m["ptot"], probs, minimum=0, maximum=3_000_000, integer=True,
                                   what="population totale")
        for _, r in df[df["ptot"] < df["pmun"]].iterrows():
            probs.error(f"population totale ({_fmt(r['ptot'])}) inférieure à la population municipale "
                        f"({_fmt(r['pmun'])}) — impossible, vérifiez les colonnes.", int(r["_ligne"]),
                        table.label(m["ptot"]))
    else:
        df["ptot"] = np.nan
    missing = df["pmun"].isna()
    for _, r in df[missing].iterrows():
        probs.error("population municipale manquante — renseignez-la.", int(r["_ligne"]), table.label(m["pmun"]))
    probs.raise_if_errors()
    ccol = table.label(m["code_insee"])
    df = _one_row_per_commune(df, probs, ccol, ["pmun", "ptot"], "sum", store)
    probs.raise_if_errors()
    out = pd.DataFrame({"code_insee": df["code_insee"].astype(str),
                        "pmun": pd.array(df["pmun"].round(), dtype="Int64"),
                        "ptot": pd.array(df["ptot"].round(), dtype="Int64")})
    out = out.sort_values("code_insee").reset_index(drop=True)
    y = year_in(fichier, *table.preamble)
    vintage = f"populations légales {y}" if y else "populations légales (millésime non précisé)"
    info = _info("Populations légales (INSEE)", vintage, f"{fichier} — {publisher}")
    return Built({"populations": (out, info)}, vintage, len(out), table.encoding)


# ---------------------------------------------------------------------------
# INSEE communal density grid
# ---------------------------------------------------------------------------
DENSITE_LABELS = {
    "grands_centres_urbains": 1, "centres_urbains_intermediaires": 2, "ceintures_urbaines": 3,
    "petites_villes": 4, "bourgs_ruraux": 5, "rural_a_habitat_disperse": 6, "rural_a_habitat_tres_disperse": 7,
}
GRILLE_COLS = [CODE_COMMUNE,
               Col("niveau_densite", ("dens7", "degre_de_densite", "densite", "grille_densite", "typo_densite",
                                      "niveau_de_densite", "degre_densite")),
               Col("niveau_ruralite", ("ruralite", "typologie_ruralite"), required=False),
               Col("niveau_centralite", ("centralite", "niveau_de_centralite"), required=False),
               Col("lib_com", ("libgeo", "nom_commune", "nom"), required=False)]


def build_grille(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, GRILLE_COLS, probs)
    m = resolve_columns(table, GRILLE_COLS, probs)
    check_cells(table, [m[c] for c in ("niveau_ruralite", "niveau_centralite", "lib_com") if c in m], probs)
    df = base_frame(table, m["code_insee"], probs)
    label = table.label(m["niveau_densite"])
    levels = []
    for i, v in enumerate(table.frame[m["niveau_densite"]].tolist()):
        s = v.strip()
        n = DENSITE_LABELS.get(_norm(s))
        if n is None and re.fullmatch(r"[1-7](\.0+)?", s):
            n = int(float(s))
        if n is None:
            probs.error(f"niveau de densité « {_short(s)} » inconnu — attendu 1 à 7 ou un libellé INSEE "
                        "(« Grands centres urbains » … « Rural à habitat très dispersé »).", table.lines[i], label)
        levels.append(n if n is not None else 0)
    df["niveau_densite"] = levels
    undefined = {"- undefined", "undefined", "-"}
    df["niveau_ruralite"] = [("" if v in undefined else v) for v in text_column(table, m.get("niveau_ruralite"))]
    df["niveau_centralite"] = [("" if v in undefined else v) for v in text_column(table, m.get("niveau_centralite"))]
    probs.raise_if_errors()
    ccol = table.label(m["code_insee"])
    vals = ["niveau_densite", "niveau_ruralite", "niveau_centralite"]
    df = _one_row_per_commune(df, probs, ccol, vals, "same", store)
    probs.raise_if_errors()
    out = pd.DataFrame({"code_insee": df["code_insee"].astype(str),
                        "niveau_densite": df["niveau_densite"].astype("int64"),
                        "niveau_ruralite": df["niveau_ruralite"].astype(str),
                        "niveau_centralite": df["niveau_centralite"].astype(str)})
    out = out.sort_values("code_insee").reset_index(drop=True)
    y = year_in(fichier, *table.preamble)
    vintage = f"grille communale {y}" if y else "grille communale (millésime non précisé)"
    info = _info("Grille communale de densité (INSEE, 7 niveaux)", vintage, f"{fichier} — {publisher}")
    return Built({"grille_densite": (out, info)}, vintage, len(out), table.encoding)


# ---------------------------------------------------------------------------
# DGCL criteria (criteres_repartition_YYYY.csv)
# ---------------------------------------------------------------------------
DGCL_COLS = [
    Col("code_insee", ("code_insee", "codgeo", "code_commune"), contains=(("code_insee_de_la_commune",),)),
    Col("potentiel_financier_hab", ("potentiel_financier_par_habitant",),
        contains=(("potentiel_financier_par_habitant_final",), ("potentiel_financier_par_habitant",))),
    Col("frr_ou_zrr", ("frr", "zrr"), contains=(("commune_classee_ou_beneficiaire_frr",), ("commune_situee_en_zrr",),
                                                ("beneficiaire_frr",)), required=False),
    Col("population_qpv", (), contains=(("population_qpv",),), required=False),
    Col("nom", (), contains=(("nom_de_la_commune",),), required=False),
]


def build_dgcl(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, DGCL_COLS, probs)
    # prefer the "final" financial potential when several columns match
    m = resolve_columns(table, DGCL_COLS, probs)
    finals = [c for c in table.frame.columns if "potentiel_financier_par_habitant_final" in c]
    if finals:
        m["potentiel_financier_hab"] = finals[0]
    check_cells(table, [m["nom"]] if "nom" in m else [], probs)
    df = base_frame(table, m["code_insee"], probs)
    df["potentiel_financier_hab"] = number_column(table, m["potentiel_financier_hab"], probs, minimum=0,
                                                  maximum=100_000, what="potentiel financier par habitant")
    if "frr_ou_zrr" in m:
        label = table.label(m["frr_ou_zrr"])
        flags = []
        for i, v in enumerate(table.frame[m["frr_ou_zrr"]].tolist()):
            b = parse_bool(v)
            if b is None:
                probs.error(f"valeur « {_short(v)} » non reconnue — attendu OUI/NON ou 1/0.", table.lines[i], label)
            flags.append(bool(b))
        df["frr_ou_zrr"] = flags
    else:
        df["frr_ou_zrr"] = False
        probs.warn("colonne « Commune classée ou bénéficiaire FRR » (ou « Commune située en ZRR ») absente : "
                   "aucune commune marquée FRR/ZRR.")
    if "population_qpv" in m:
        df["population_qpv"] = number_column(table, m["population_qpv"], probs, minimum=0, maximum=1_000_000,
                                             what="population QPV")
    else:
        df["population_qpv"] = np.nan
    probs.raise_if_errors()
    ccol = table.label(m["code_insee"])
    vals = ["potentiel_financier_hab", "frr_ou_zrr", "population_qpv"]
    df = _one_row_per_commune(df, probs, ccol, vals, "same", store)
    probs.raise_if_errors()
    out = pd.DataFrame({"code_insee": df["code_insee"].astype(str),
                        "potentiel_financier_hab": df["potentiel_financier_hab"].astype(float),
                        "frr_ou_zrr": df["frr_ou_zrr"].astype(bool),
                        "population_qpv": df["population_qpv"].astype(float)})
    out = out.sort_values("code_insee").reset_index(drop=True)
    y = year_in(fichier, *table.preamble)
    vintage = f"critères DGCL {y}" if y else "critères DGCL (année non précisée)"
    kind = "FRR" if "frr_ou_zrr" in m and "frr" in m["frr_ou_zrr"] else "ZRR"
    info = _info("Critères de répartition des dotations (DGCL)", vintage, f"{fichier} — {publisher}")
    notes = [f"Colonne FRR/ZRR lue : « {table.label(m['frr_ou_zrr'])} » ({kind})." if "frr_ou_zrr" in m else ""]
    return Built({"dgcl_criteres": (out, info)}, vintage, len(out), table.encoding, [n for n in notes if n])
