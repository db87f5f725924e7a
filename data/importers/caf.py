"""data.caf.fr exports: coverage rates (``txcouv_pe_*``) and places (``nbpla_pe_*``).

Built to the files as published (``../shared/docs/DATA.md`` §2-3), for the five levels
(commune, EPCI, département, région, nation) and the three shapes they come in:

* the portal's CSV export **with labels** (``Date référence;Numéro Département;…;Taux de couv
  global``, ``;``, UTF-8 with BOM, CRLF), wording variants included ("assistante maternelle" /
  "assistantes maternelles", "salariée à domicile" / "salarié à domicile");
* the **API / JSON field names** (``annee``, ``numcom``, ``txcouv_psu_col_com``, ``txcouv_com``,
  ``pl_am_ind_dep``, ``tot_offre_dep``…; the national file has ``national`` and a date in
  ``annee``);
* **snake_case re-exports** (``date_reference,numero_commune,…,taux_de_couv_global``,
  ``num_commune,…,places_offertes_ensemble``).

The level is detected from the code columns (the finest one present), else from the file
name.  Quirks handled: codes that lost their leading zero (resolved against the référentiel
and the file's département column, refused when they disagree), ``XX``/``XXX`` placeholder
rows (skipped, one warning), overseas collectivities outside the référentiel (one warning),
rows whose rates are all empty (kept: « donnée non disponible »), several years in one file,
and the "hist" exports (2017 on) imported next to the current ones: the layer keeps every
year; where a "hist" file and a current file give the same territory and year, the current
file wins (warning).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..codes import is_arrondissement
from ..store import Store
from .common import Built, check_cells, number_column, parse_date, report_duplicates
from .problems import Problems, shorten
from .table import Col, read_table, Table
from .official import layer_info
from .caf_codes import CITY_NAMES, drop_unknown_territories, fold_arrondissement_rows, territory_codes  # noqa: F401 - CITY_NAMES re-exported

LEVELS = ("com", "epci", "dep", "reg", "nat")
LEVEL_LABEL = {"com": "communes", "epci": "EPCI", "dep": "départements", "reg": "régions", "nat": "France"}

# Code and name columns of each level, normalised (field names, labels, snake_case re-exports).
CODE_FIELDS = {
    "com": ("numcom", "num_com", "numero_commune", "numero_de_commune", "num_commune", "numero_de_la_commune",
            "code_commune", "code_insee", "codgeo", "insee_com"),
    "epci": ("numepci", "num_epci", "numero_epci", "numero_d_epci", "numero_de_l_epci", "code_epci", "siren_epci"),
    "dep": ("numdep", "num_dep", "numero_departement", "numero_de_departement", "numero_du_departement",
            "num_departement", "code_departement", "departement_code"),
    "reg": ("numregi", "numreg", "num_reg", "num_regi", "numero_region", "numero_de_region", "numero_de_la_region",
            "num_region", "code_region"),
}
NAME_FIELDS = {
    "com": ("nomcom", "nom_com", "nom_commune", "nom_de_la_commune", "libelle_commune"),
    "epci": ("nomepci", "nom_epci", "nom_de_l_epci", "libelle_epci"),
    "dep": ("nomdep", "nom_dep", "nom_departement", "nom_du_departement", "libelle_departement"),
    "reg": ("nomregi", "nomreg", "nom_reg", "nom_region", "nom_de_la_region", "libelle_region"),
    "nat": ("national", "nomnat", "nom_national", "territoire"),
}
YEAR_FIELDS = ("annee", "date_reference", "date_de_reference", "annee_de_reference", "annee_reference", "exercice",
               "year", "date", "millesime")

# Layer columns, in order.  Rates: places per 100 children under 3; places: number of places.
RATE_COLUMNS = ("txcouv", "txcouv_eaje", "txcouv_psu_col", "txcouv_hors_psu_col", "txcouv_prescol",
                "txcouv_am_ind", "txcouv_gad_ind", "txcouv_ind")
PLACE_COLUMNS = ("tot_offre", "pl_eaje", "pl_psu_col", "pl_hors_psu_col", "pl_prescol", "pl_am_ind",
                 "pl_gad_ind", "pl_ind")
RATE_LABELS = {
    "txcouv": "Taux de couverture global", "txcouv_eaje": "Taux de couverture EAJE (ensemble)",
    "txcouv_psu_col": "Taux de couverture EAJE PSU", "txcouv_hors_psu_col": "Taux de couverture EAJE hors PSU",
    "txcouv_prescol": "Taux de couverture préscolarisation",
    "txcouv_am_ind": "Taux de couverture assistants maternels",
    "txcouv_gad_ind": "Taux de couverture salariés à domicile",
    "txcouv_ind": "Taux de couverture accueil individuel (ensemble)",
}

# Field-name stems (after the level suffix is removed) -> mode
_FIELD_MODES = {
    "": "global", "psu_col": "psu_col", "psu": "psu_col", "hors_psu_col": "hors_psu_col", "hors_psu": "hors_psu_col",
    "eaje": "eaje", "prescol": "prescol", "am_ind": "am_ind", "am": "am_ind", "gad_ind": "gad_ind", "gad": "gad_ind",
    "ind": "ind",
}
# Label keywords (normalised header) -> mode; first match wins
_LABEL_MODES = (
    (("hors", "psu"), "hors_psu_col"),
    (("psu",), "psu_col"),
    (("prescol",), "prescol"),
    (("ecole",), "prescol"),
    (("assistant",), "am_ind"),
    (("domicile",), "gad_ind"),
    (("individuel",), "ind"),
    (("eaje",), "eaje"),
    (("creche",), "eaje"),
    (("offert",), "total"),
    (("global",), "global"),
    (("total",), "total"),
    (("ensemble",), "total"),
)
_MODE_TO_RATE = {"global": "txcouv", "total": "txcouv", "eaje": "txcouv_eaje", "psu_col": "txcouv_psu_col",
                 "hors_psu_col": "txcouv_hors_psu_col", "prescol": "txcouv_prescol", "am_ind": "txcouv_am_ind",
                 "gad_ind": "txcouv_gad_ind", "ind": "txcouv_ind"}
_MODE_TO_PLACES = {"global": "tot_offre", "total": "tot_offre", "eaje": "pl_eaje", "psu_col": "pl_psu_col",
                   "hors_psu_col": "pl_hors_psu_col", "prescol": "pl_prescol", "am_ind": "pl_am_ind",
                   "gad_ind": "pl_gad_ind", "ind": "pl_ind"}



def _strip_level(h: str) -> str:
    return re.sub(r"_(com|epci|dep|reg|regi|nat)$", "", h)


def _value_column(h: str, what: str) -> str | None:
    """Layer column of a value header (normalised), or None when it is not a value of this kind."""
    if what == "couverture":
        if h.startswith("txcouv") or h.startswith("tx_couv"):
            stem = _strip_level(re.sub(r"^tx_?couv_?", "", h))
            stem = "" if stem in LEVELS or stem == "regi" else stem
            mode = _FIELD_MODES.get(stem)
            return _MODE_TO_RATE[mode] if mode else None
        if not ("taux" in h or "couv" in h):
            return None
        table = _MODE_TO_RATE
    else:
        if h.startswith("pl_") or h.startswith("tot_offre"):
            if h.startswith("tot_offre"):
                return "tot_offre"
            stem = _strip_level(h[3:])
            mode = _FIELD_MODES.get(stem)
            return _MODE_TO_PLACES[mode] if mode and mode != "global" else None
        if not ("place" in h or "offre" in h or "capacite" in h):
            return None
        table = _MODE_TO_PLACES
    for parts, mode in _LABEL_MODES:
        if all(p in h for p in parts):
            return table[mode]
    return None


def _find(columns, names) -> str | None:
    return next((c for c in columns if c in names), None)


def _detect_level(table: Table, fichier: str, probs: Problems) -> str:
    cols = list(table.frame.columns)
    for level in ("com", "epci", "dep", "reg"):
        if _find(cols, CODE_FIELDS[level]):
            return level
    if _find(cols, NAME_FIELDS["nat"]):
        return "nat"
    m = re.search(r"_(com|epci|dep|reg|nat)(?:[_.\-\s]|$)", fichier.lower())
    if m:
        return m.group(1)
    found = ", ".join(f"« {table.label(c)} »" for c in cols)
    raise probs.fatal("niveau géographique introuvable : aucune colonne de code (numcom / « Numéro commune », "
                      "numepci, numdep / « Numéro Département », numregi / « Numéro Région ») et un nom de fichier "
                      f"sans _com/_epci/_dep/_reg/_nat. Colonnes trouvées : {found}. Gardez le nom de fichier "
                      "d'origine (ex. txcouv_pe_dep.csv).", table.header_line)


def _year(value: str) -> int | None:
    s = value.strip()
    m = re.match(r"^((?:19|20)\d{2})(?:$|[-/T ])", s)
    if m:
        return int(m.group(1))
    if re.fullmatch(r"(19|20)\d{2}\.0+", s):
        return int(float(s))
    d = parse_date(s)
    return d.year if d is not None and not pd.isna(d) else None


def _read_json(path: Path, fichier: str, probs: Problems) -> Table:
    """An API / JSON export: a list of records, ``{"results": [...]}`` (API v2.1 ``records``) or
    ``{"records": [{"fields": {...}}]}`` (API v1).  "Lines" are record numbers (first record = 1)."""
    import json

    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise probs.fatal("fichier JSON illisible (texte non UTF-8 ou JSON mal formé) — exportez-le de nouveau "
                          "depuis data.caf.fr (format JSON ou CSV).") from None
    if isinstance(data, dict):
        data = data.get("results", data.get("records", []))
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise probs.fatal("fichier JSON inattendu : une liste d'enregistrements est attendue (export JSON de "
                          "data.caf.fr).")
    records = [r.get("fields", r) if isinstance(r.get("fields"), dict) else r for r in data]
    if not records:
        raise probs.fatal("le fichier JSON ne contient aucun enregistrement.")
    from .table import normalise_header

    keys: dict[str, str] = {}
    for r in records:
        for k in r:
            keys.setdefault(normalise_header(k), str(k))

    def cell(v) -> str:
        if v is None:
            return ""
        if isinstance(v, bool):
            return str(v)
        if isinstance(v, float):
            return str(int(v)) if v.is_integer() else repr(v)
        if isinstance(v, (dict, list)):
            return json.dumps(v, ensure_ascii=False)
        return str(v)

    rows = [[cell(next((r[k] for k in r if normalise_header(k) == n), None)) for n in keys] for r in records]
    frame = pd.DataFrame(rows, columns=list(keys), dtype=object)
    return Table(frame=frame, headers=keys, fichier=fichier, lines=list(range(1, len(rows) + 1)), encoding="UTF-8",
                 header_line=1)


def _read(path: Path, fichier: str, probs: Problems, what: str) -> Table:
    if path.suffix.lower() == ".json":
        return _read_json(path, fichier, probs)
    year_col = Col("annee", YEAR_FIELDS)
    any_code = Col("code", tuple(f for v in CODE_FIELDS.values() for f in v) + NAME_FIELDS["nat"], required=False)
    value_re = r"(txcouv|tx_couv|taux|pl_|tot_offre|place).*"
    import warnings

    with warnings.catch_warnings():  # openpyxl: "Workbook contains no default style" (English, harmless)
        warnings.simplefilter("ignore")
        return read_table(path, fichier, [year_col, any_code, Col("valeur", regex=value_re, required=False)], probs)


def _build(path: Path, fichier: str, store: Store, probs: Problems, publisher: str, what: str) -> Built:
    table = _read(path, fichier, probs, what)
    cols = list(table.frame.columns)
    year_col = _find(cols, YEAR_FIELDS)
    if year_col is None:
        found = ", ".join(f"« {table.label(c)} »" for c in cols) or "aucune"
        raise probs.fatal(f"colonne de l'année absente (« Date référence », annee ou date_reference). Colonnes "
                          f"trouvées : {found}.", table.header_line, "annee")
    level = _detect_level(table, fichier, probs)
    code_col = _find(cols, CODE_FIELDS[level]) if level != "nat" else None
    name_col = _find(cols, NAME_FIELDS[level])
    dep_col = _find(cols, CODE_FIELDS["dep"]) if level in ("com", "epci") else None
    if level != "nat" and code_col is None:
        raise probs.fatal(f"colonne du code ({CODE_FIELDS[level][0]}) absente.", table.header_line)
    values = _value_columns(table, cols, (year_col, code_col, name_col), what, probs)
    check_cells(table, [c for c in (name_col,) if c], probs)
    lines = table.lines
    ylabel = table.label(year_col)
    years = []
    for i, v in enumerate(table.frame[year_col].tolist()):
        y = _year(v)
        if y is None:
            probs.error(f"année « {shorten(v)} » illisible — attendu 2022 ou 2022-01-01.", lines[i], ylabel)
        years.append(y or 0)
    # values (rates 0-1000: a small territory can exceed 100; places up to the national total)
    maximum = 1000.0 if what == "couverture" else 5_000_000.0
    vals = {target: number_column(table, c, probs, minimum=0, maximum=maximum, what="nombre de places"
                                  if what == "places" else "taux de couverture")
            for target, c in values.items()}
    clabel = table.label(code_col) if code_col else "national"
    codes, placeholder = territory_codes(table, level, code_col, dep_col, clabel, store, probs)
    probs.raise_if_errors()
    if placeholder:
        shown = ", ".join(str(x) for x in placeholder[:10]) + (" …" if len(placeholder) > 10 else "")
        probs.warn(f"{len(placeholder)} ligne(s) de remplissage (code « XX », « XXX » ou vide, territoire non "
                   f"défini) ignorée(s) : lignes {shown}.", None, clabel)
    names = text_values(table, name_col, len(lines), "France" if level == "nat" else "")
    df = pd.DataFrame({"_ligne": lines, "code_orig": codes, "annee": years, "nom": names, **vals})
    df = df[df["code_orig"].notna()].reset_index(drop=True)
    if df.empty:
        raise probs.fatal("aucune ligne de territoire : le fichier ne contient que des lignes de remplissage "
                          "(XX, XXX) — exportez-le de nouveau depuis data.caf.fr.", table.header_line)
    notes: list[str] = []
    if level == "com":
        df = fold_arrondissement_rows(df, list(vals), what, probs, clabel, notes)
    df["code"] = df["code_orig"]
    df = drop_unknown_territories(df, level, store, probs, clabel)
    df = report_duplicates(df, ["code", "annee"], list(vals), "_ligne", probs, clabel, "territoire / année")
    probs.raise_if_errors()
    return _layer(df, vals, values, table, level, what, fichier, publisher, store, probs, notes)


def _value_columns(table: Table, cols: list[str], skip: tuple, what: str, probs: Problems) -> dict[str, str]:
    """Published column → file column, for the rates (``couverture``) or the places; a file of the
    other kind is named in the refusal."""
    year_col, code_col, name_col = skip
    kind_label = "taux de couverture" if what == "couverture" else "places"
    values: dict[str, str] = {}
    for c in cols:
        if c in (year_col, code_col, name_col) or any(c in v for v in CODE_FIELDS.values()) \
                or any(c in v for v in NAME_FIELDS.values()):
            continue
        target = _value_column(c, what)
        if target and target not in values:
            values[target] = c
    if not values:
        found = ", ".join(f"« {table.label(c)} »" for c in cols)
        other = "caf_places" if what == "couverture" else "caf_couverture"
        hint = (f" Ce fichier ressemble à un fichier de {'places' if what == 'couverture' else 'taux'} : "
                f"choisissez le type « {other} ».") if any(_value_column(c, "places" if what == "couverture"
                                                                          else "couverture") for c in cols) else ""
        raise probs.fatal(f"aucune colonne de {kind_label} reconnue — colonnes trouvées : {found}.{hint}",
                          table.header_line)
    return values


def _layer(df: pd.DataFrame, vals: dict, values: dict, table: Table, level: str, what: str, fichier: str,
           publisher: str, store: Store, probs: Problems, notes: list[str]) -> Built:
    """The published columns in their fixed order, merged with the years already imported, and the
    layer's manifest entry."""
    columns = RATE_COLUMNS if what == "couverture" else PLACE_COLUMNS
    is_hist = bool(re.search(r"hist", fichier, re.I))
    out = pd.DataFrame({"code": df["code"].astype(str), "nom": df["nom"].astype(str),
                        "annee": df["annee"].astype("int64")})
    for c in columns:
        out[c] = df[c].astype(float) if c in df.columns else np.nan
    out["fichier"] = fichier
    out["hist"] = is_hist
    empty = out[[c for c in columns if c in vals]].isna().all(axis=1)
    if empty.any():
        notes.append(f"{int(empty.sum())} ligne(s) sans aucune valeur publiée : gardée(s) comme « donnée non "
                     "disponible ».")
    layer = f"caf_{what}_{level}"
    merged = _merge_with_layer(out, layer, store, probs, notes)
    merged = merged.sort_values(["code", "annee"]).reset_index(drop=True)
    years_found = sorted(set(merged["annee"]))
    vintage = (str(years_found[0]) if len(years_found) == 1 else f"{years_found[0]}-{years_found[-1]}") \
        if years_found else "année non précisée"
    files = list(dict.fromkeys(merged["fichier"]))
    title = "Taux de couverture petite enfance" if what == "couverture" else "Places d'accueil petite enfance"
    info = layer_info(f"{title} (Cnaf, {LEVEL_LABEL[level]})", vintage, f"{', '.join(files)} — {publisher}")
    info.extra = {"niveau": level, "fichiers": files}
    notes.insert(0, f"Niveau détecté : {LEVEL_LABEL[level]} ; {len(out)} ligne(s), années "
                    f"{', '.join(str(y) for y in sorted(set(out['annee'])))} ; colonnes lues : "
                    + ", ".join(f"{table.label(c)} → {t}" for t, c in values.items()) + ".")
    return Built({layer: (merged, info)}, vintage, len(out), table.encoding, notes)


def text_values(table: Table, col: str | None, n: int, default: str) -> list[str]:
    if col is None:
        return [default] * n
    return [v.strip() or default for v in table.frame[col].tolist()]


def _merge_with_layer(new: pd.DataFrame, layer: str, store: Store, probs: Problems, notes: list[str]) -> pd.DataFrame:
    """The layer keeps every year imported so far.  For a territory and year present both in the
    layer and in the new file, the new file wins — except that a "hist" file never replaces a
    current one (the current export carries the revised figures)."""
    if not store.has(layer):
        return new
    old = store.read(layer)
    if "fichier" not in old.columns:
        info = store.info(layer)
        old["fichier"] = (info.source.split(" — ")[0] if info else "import précédent")
    if "hist" not in old.columns:
        old["hist"] = old["fichier"].str.contains("hist", case=False)
    for c in new.columns:
        if c not in old.columns:
            old[c] = np.nan
    old = old[new.columns]
    key_new = set(zip(new["code"], new["annee"]))
    key_old = pd.Series(list(zip(old["code"], old["annee"])), index=old.index)
    overlap = key_old.isin(key_new)
    if not overlap.any():
        return pd.concat([old, new], ignore_index=True)
    both = old[overlap]
    years = sorted(set(both["annee"]))
    new_is_hist = bool(new["hist"].iloc[0]) if len(new) else False
    old_current = both[~both["hist"].astype(bool)]
    value_cols = [c for c in new.columns if c.startswith(("txcouv", "pl_", "tot_offre"))]
    if new_is_hist and len(old_current):
        # the current file already imported wins on its territories and years
        keep_old = set(zip(old_current["code"], old_current["annee"]))
        new_keys = pd.Series(list(zip(new["code"], new["annee"])), index=new.index)
        diff = _count_differences(old_current, new[new_keys.isin(keep_old)], value_cols)
        files = ", ".join(sorted(set(old_current["fichier"])))
        probs.warn(f"année(s) {', '.join(map(str, sorted(set(old_current['annee']))))} présente(s) aussi dans le "
                   f"fichier courant déjà importé ({files}) : ses valeurs sont gardées pour {len(keep_old)} "
                   f"territoire(s)-année(s), dont {diff} avec des valeurs différentes de ce fichier « hist ».")
        new = new[~new_keys.isin(keep_old)]
        old_kept = old[~overlap | ~old["hist"].astype(bool)]
        return pd.concat([old_kept, new], ignore_index=True)
    old_hist = both[both["hist"].astype(bool)]
    if not new_is_hist and len(old_hist):
        new_keys = pd.Series(list(zip(new["code"], new["annee"])), index=new.index)
        replaced = set(zip(old_hist["code"], old_hist["annee"]))
        diff = _count_differences(old_hist, new[new_keys.isin(replaced)], value_cols)
        files = ", ".join(sorted(set(old_hist["fichier"])))
        probs.warn(f"année(s) {', '.join(map(str, sorted(set(old_hist['annee']))))} présente(s) aussi dans le "
                   f"fichier « hist » déjà importé ({files}) : les valeurs de ce fichier courant remplacent les "
                   f"siennes pour {len(replaced)} territoire(s)-année(s), dont {diff} différente(s).")
    else:
        notes.append(f"Année(s) {', '.join(map(str, years))} déjà importée(s) : remplacée(s) par ce fichier "
                     f"({int(overlap.sum())} ligne(s)).")
    return pd.concat([old[~overlap], new], ignore_index=True)


def _count_differences(a: pd.DataFrame, b: pd.DataFrame, value_cols: list[str]) -> int:
    m = a.merge(b, on=["code", "annee"], suffixes=("_a", "_b"))
    if m.empty:
        return 0
    diff = np.zeros(len(m), dtype=bool)
    for c in value_cols:
        x, y = m[f"{c}_a"].to_numpy(dtype=float), m[f"{c}_b"].to_numpy(dtype=float)
        diff |= ~((x == y) | (np.isnan(x) & np.isnan(y)))
    return int(diff.sum())


def build_caf_couverture(path, fichier, store, probs, publisher):
    return _build(path, fichier, store, probs, publisher, "couverture")


def build_caf_places(path, fichier, store, probs, publisher):
    return _build(path, fichier, store, probs, publisher, "places")


__all__ = ["build_caf_couverture", "build_caf_places", "LEVELS", "LEVEL_LABEL", "RATE_COLUMNS", "PLACE_COLUMNS",
           "RATE_LABELS", "is_arrondissement"]
