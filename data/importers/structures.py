"""The Caf's own list of structures (EAJE, micro-crèches, MAM, RPE…).

One validation path for both sources:
* ``build_structures`` reads a CSV/xlsx file (import page, CLI);
* ``write_structures`` validates a DataFrame (the demo generator) and writes it.
Both end in ``validate_structures`` which works on text cells and reports
French, located problems.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planning.formats import fr_decimal, fr_int

from ..store import NATURE_IMPORTE, LayerInfo, Store
from .common import (Built, check_cells, code_column, commune_reference, date_column, fold_codes, number_column,
                     parse_bool, text_column, year_in)
from .problems import Problems, shorten
from .structures_cells import (  # noqa: F401 - the vocabulary, re-exported from here
    BOXES, COMPARED, MAX_AM, MAX_ETP, MAX_PLACES_IMPORT, MAX_PLACES_MICRO, STRUCT_COLS, TYPE_ALIASES, TYPE_KEYWORDS,
    TYPES, default_millesime, headerless, in_france, parse_coordinates, parse_gestion, parse_millesime,
    parse_structure_type,
)
from .table import normalise_header, read_table, resolve_columns, Table



def validate_structures(table: Table, probs: Problems, store: Store, *, mapping: dict[str, str] | None = None,
                        departements: frozenset[str] | None = None,
                        millesime: pd.Timestamp | None = None, millesime_source: str = "") -> pd.DataFrame:
    """Check every row of a structure list; French, located problems; summaries for whole-file facts.

    ``mapping``: user column mapping (field → column).  ``millesime``: opening date given to every
    structure when the file has no opening-date column (open-data lists), flagged
    ``ouverture_estimee``.
    """
    data_cells = headerless(table)
    if not mapping and len(data_cells) >= 2:
        shown = ", ".join(f"« {shorten(c, 20)} »" for c in data_cells[:4])
        raise probs.fatal(
            f"le fichier n'a pas de ligne d'en-tête : la première ligne contient déjà des données ({shown}). "
            "Ajoutez en ligne 1 le nom de chaque colonne (par exemple code_insee;type;nom;places;gestion) "
            "puis importez de nouveau.", table.header_line)
    m = resolve_columns(table, STRUCT_COLS, probs, mapping=mapping)
    check_cells(table, [m[c] for c in ("nom", "gestionnaire", "adresse", "id", "type", "gestion") if c in m], probs)
    df = pd.DataFrame({"_ligne": table.lines})
    df["code_orig"] = code_column(table, m["code_insee"], probs)
    types = _types_and_names(table, m, probs, df)
    _places(table, m, probs, df, types)
    _psu_and_gestion(table, m, probs, df)
    millesime, millesime_source = _dates(table, m, probs, df, millesime, millesime_source)
    _coordinates_columns(table, m, probs, df)
    _rpe_figures(table, m, probs, df, types)
    df["gestionnaire"] = text_column(table, m.get("gestionnaire"))
    df["adresse"] = text_column(table, m.get("adresse"))
    df["id"] = text_column(table, m.get("id"))
    probs.raise_if_errors()
    df = _known_communes(df, table, m, probs, store, departements)
    df = _identifiers(df, table, m, probs)
    _summaries(df, table, m, probs, millesime, millesime_source)
    return _typed(df)


def _types_and_names(table: Table, m: dict, probs: Problems, df: pd.DataFrame) -> list[str]:
    """Structure type (original label kept) and name of every row; returns the types."""
    lines = table.lines
    types = []
    tlabel = table.label(m["type"])
    raw_types = [v.strip() for v in table.frame[m["type"]].tolist()]
    for i, v in enumerate(raw_types):
        t = parse_structure_type(v)
        if t is None:
            probs.error(f"type « {shorten(v)} » inconnu — valeurs acceptées : {', '.join(TYPES)} (ou les libellés "
                        "usuels : multi-accueil, micro-crèche, crèche familiale…).", lines[i], tlabel)
        types.append(t or "")
    df["type"] = types
    df["type_libelle"] = raw_types
    df["nom"] = text_column(table, m["nom"])
    for i, nm in enumerate(df["nom"]):
        if not nm:
            probs.error("nom de la structure manquant — renseignez-le.", lines[i], table.label(m["nom"]))
    return types


def _places(table: Table, m: dict, probs: Problems, df: pd.DataFrame, types: list[str]) -> None:
    lines = table.lines
    places = number_column(table, m["places"], probs, minimum=0, maximum=MAX_PLACES_IMPORT, integer=True,
                           what="nombre de places", hint=" pour une seule structure")
    for i, (pl, t) in enumerate(zip(places, types)):
        if np.isnan(pl) and t != "RPE":
            probs.error("nombre de places manquant — renseignez-le (0 pour un RPE).", lines[i],
                        table.label(m["places"]))
        elif t == "MICRO_CRECHE" and pl > MAX_PLACES_MICRO:
            probs.warn(f"micro-crèche de {int(pl)} places (12 au plus depuis 2021) — vérifiez le type.", lines[i],
                       table.label(m["places"]))
    df["places"] = [0.0 if np.isnan(pl) else pl for pl in places]


def _psu_and_gestion(table: Table, m: dict, probs: Problems, df: pd.DataFrame) -> None:
    """PSU (never guessed: an absent column or an empty cell is « non renseigné », NA) and gestion."""
    lines, n = table.lines, len(table.lines)
    psu: list[Any] = []
    if "psu" in m:
        for i, v in enumerate(table.frame[m["psu"]].tolist()):
            if not v.strip():
                psu.append(pd.NA)
                continue
            b = parse_bool(v)
            if b is None:
                probs.error(f"valeur PSU « {shorten(v)} » non reconnue — écrivez oui ou non (ou laissez vide si "
                            "vous ne savez pas).", lines[i], table.label(m["psu"]))
            psu.append(bool(b))
    else:
        psu = [pd.NA] * n
    df["psu"] = pd.array(psu, dtype="boolean")
    gestion = []
    glabel = table.label(m["gestion"])
    raw_gestion = [v.strip() for v in table.frame[m["gestion"]].tolist()]
    for i, v in enumerate(raw_gestion):
        g = parse_gestion(v)
        if g is None:
            probs.error(f"gestion « {shorten(v)} » non reconnue — écrivez publique ou privee (ou commune, "
                        "associatif, privé, département…).", lines[i], glabel)
        gestion.append(g or "")
    df["gestion"] = gestion
    df["gestion_libelle"] = raw_gestion


def _dates(table: Table, m: dict, probs: Problems, df: pd.DataFrame, millesime, millesime_source: str):
    """Opening and closing dates; without an opening-date column every structure opens at the file's
    vintage (``ouverture_estimee``). Returns the vintage used and where it comes from."""
    lines, n = table.lines, len(table.lines)
    closed = date_column(table, m["date_fermeture"], probs) if "date_fermeture" in m else [pd.NaT] * n
    if "date_ouverture" in m:
        opened = date_column(table, m["date_ouverture"], probs)
        estimated = [False] * n
        for i, o in enumerate(opened):
            if pd.isna(o) and not any(p.ligne == lines[i] and p.colonne == table.label(m["date_ouverture"])
                                      for p in probs.errors):
                probs.error("date d'ouverture manquante — renseignez-la (JJ/MM/AAAA).", lines[i],
                            table.label(m["date_ouverture"]))
    else:
        if millesime is None:
            millesime, millesime_source = pd.Timestamp.now().normalize(), "date de l'import"
        opened = [millesime] * n
        estimated = [True] * n
    for i, (o, c) in enumerate(zip(opened, closed)):
        if not pd.isna(o) and not pd.isna(c) and c < o:
            probs.error(f"fermeture le {c:%d/%m/%Y} avant l'ouverture le {o:%d/%m/%Y} — corrigez l'une des deux "
                        "dates.", lines[i], table.label(m["date_fermeture"]))
    df["date_ouverture"] = pd.to_datetime(pd.Series(opened, dtype="datetime64[ns]"))
    df["date_fermeture"] = pd.to_datetime(pd.Series(closed, dtype="datetime64[ns]"))
    df["ouverture_estimee"] = estimated
    return millesime, millesime_source


def _coordinates_columns(table: Table, m: dict, probs: Problems, df: pd.DataFrame) -> None:
    """Latitude/longitude columns, else « lat, lon » (geo_point_2d), else a GeoJSON point; in France."""
    lines, n = table.lines, len(table.lines)
    coord_label = None
    if "latitude" in m or "longitude" in m:
        lat = number_column(table, m["latitude"], probs, minimum=-90, maximum=90, what="latitude") \
            if "latitude" in m else [np.nan] * n
        lon = number_column(table, m["longitude"], probs, minimum=-180, maximum=180, what="longitude") \
            if "longitude" in m else [np.nan] * n
        coord_label = table.label(m["latitude"] if "latitude" in m else m["longitude"])
    elif "geo_point" in m or "geo_shape" in m:
        col = m.get("geo_point") or m["geo_shape"]
        lat, lon = parse_coordinates(table, col, probs, geojson="geo_point" not in m)
        coord_label = table.label(col)
    else:
        lat, lon = [np.nan] * n, [np.nan] * n
    for i, (a, o) in enumerate(zip(lat, lon)):
        if np.isnan(a) != np.isnan(o):
            probs.error("latitude et longitude vont ensemble — renseignez les deux ou aucune.", lines[i],
                        table.label(m["latitude"] if np.isnan(a) and "latitude" in m else m.get("longitude", "")) or
                        coord_label)
        elif not np.isnan(a) and -90 <= a <= 90 and -180 <= o <= 180 and not in_france(a, o):
            probs.error(f"coordonnées ({fr_decimal(a)} ; {fr_decimal(o)}) hors de France (métropole et DROM) — vérifiez "
                        "l'ordre latitude/longitude (WGS 84, degrés décimaux).", lines[i], coord_label)
    df["latitude"], df["longitude"] = lat, lon


def _rpe_figures(table: Table, m: dict, probs: Problems, df: pd.DataFrame, types: list[str]) -> None:
    """ETP d'animation and assistants maternels, meaningful for an RPE only."""
    lines, n = table.lines, len(table.lines)
    etp = number_column(table, m["etp_animation"], probs, minimum=0, maximum=MAX_ETP, what="ETP d'animation") \
        if "etp_animation" in m else [np.nan] * n
    am = number_column(table, m["nb_assistants_maternels"], probs, minimum=0, maximum=MAX_AM, integer=True,
                       what="nombre d'assistants maternels") \
        if "nb_assistants_maternels" in m else [np.nan] * n
    for i, t in enumerate(types):
        if t != "RPE" and (not np.isnan(etp[i]) or not np.isnan(am[i])):
            etp[i], am[i] = np.nan, np.nan  # only meaningful for an RPE
        if t == "RPE" and np.isnan(etp[i]):
            probs.warn("RPE sans ETP d'animation : le calcul de l'objectif RPE l'ignorera.", lines[i],
                       table.label(m["etp_animation"]) if "etp_animation" in m else "etp_animation")
    df["etp_animation"], df["nb_assistants_maternels"] = etp, am
    df["gestionnaire"] = text_column(table, m.get("gestionnaire"))
    df["adresse"] = text_column(table, m.get("adresse"))
    df["id"] = text_column(table, m.get("id"))


def _known_communes(df: pd.DataFrame, table: Table, m: dict, probs: Problems, store: Store,
                    departements: frozenset[str] | None = None) -> pd.DataFrame:
    """Codes folded (arrondissements); a structure of a commune outside the référentiel is dropped.
    ``departements``: the importing Caf's scope; a commune of another département is an error."""
    lines = table.lines
    clabel = table.label(m["code_insee"])
    df["code_insee"] = fold_codes(df["code_orig"].tolist(), lines, probs, clabel)
    ref = commune_reference(store)
    dep_of = dict(zip(ref["code_insee"], ref["dep"]))
    scope = ", ".join(sorted(departements or ()))
    keep = []
    for code, line in zip(df["code_insee"], df["_ligne"]):
        ok = code in dep_of
        if not ok:
            probs.warn(f"code INSEE « {code} » inconnu du référentiel (COG 2025) : structure ignorée — "
                       "corrigez le code (commune fusionnée ?).", int(line), clabel)
        elif departements is not None and dep_of[code] not in departements:
            probs.error(f"la commune {code} est dans le département {dep_of[code]}, hors du périmètre de votre Caf "
                        f"({scope}) : votre liste ne peut contenir que les structures de vos départements — "
                        "retirez cette ligne (l'administrateur national importe les listes de plusieurs "
                        "départements).", int(line), clabel)
        keep.append(ok)
    probs.raise_if_errors()
    df = df[keep].reset_index(drop=True)
    return df


def _identifiers(df: pd.DataFrame, table: Table, m: dict, probs: Problems) -> pd.DataFrame:
    """Given ids must be unique; missing ones are generated from the content (stable across imports)."""
    idlabel = table.label(m["id"]) if "id" in m else "id"
    given = df["id"] != ""
    dup_id = df[given & df["id"].duplicated(keep=False)]
    for ident, grp in dup_id.groupby("id"):
        probs.error(f"identifiant « {ident} » utilisé plusieurs fois (lignes "
                    f"{', '.join(str(int(x)) for x in grp['_ligne'])}) — chaque structure doit avoir le sien.",
                    int(grp["_ligne"].iloc[-1]), idlabel)
    rest = _duplicates(df[~given].reset_index(drop=True), table, m, probs)
    df = pd.concat([df[given], rest]).sort_values("_ligne", kind="stable").reset_index(drop=True)
    probs.raise_if_errors()
    gen = []
    for _, r in df.iterrows():
        if r["id"]:
            gen.append(r["id"])
            continue
        # the estimated opening date (the file's vintage) is left out: the id survives a new vintage
        basis = f"{r['code_insee']}|{r['type']}|{r['nom']}|" + (
            f"{r['adresse']}" if r["ouverture_estimee"] else f"{r['date_ouverture']}")
        gen.append(f"S-{r['code_insee']}-{hashlib.sha1(basis.encode()).hexdigest()[:8].upper()}")
    df["id"] = gen
    return df


def _cell_key(v: Any) -> Any:
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def _duplicates(df: pd.DataFrame, table: Table, m: dict[str, str], probs: Problems) -> pd.DataFrame:
    """Rows of one structure (same commune, type, name, opening date).

    Identical in every column: a warning names both lines and the copy is dropped.  Differing in
    places, PSU, gestion or any other column: an error names the lines and the differing columns.
    """
    key = ["code_insee", "type", "nom", "date_ouverture"]
    if df.empty:
        return df
    dup = df.duplicated(key, keep=False)
    if not dup.any():
        return df
    labels = {c: table.label(m[c]) for c in COMPARED if c in m}
    labels["type_libelle"] = table.label(m["type"])
    for c in ("latitude", "longitude"):
        if c not in m and ("geo_point" in m or "geo_shape" in m):
            labels[c] = table.label(m.get("geo_point") or m["geo_shape"])
    drop: set[int] = set()
    for _, grp in df[dup].groupby(key, sort=False, dropna=False):
        seen: list[tuple[int, tuple]] = []
        distinct: list[int] = []
        for idx, row in grp.iterrows():
            sig = tuple(_cell_key(row[c]) for c in COMPARED)
            first = next((line for line, other in seen if other == sig), None)
            if first is not None:
                probs.warn(f"ligne identique à la ligne {first} (structure « {shorten(row['nom'])} », "
                           f"{row['code_insee']}) : copie ignorée.", int(row["_ligne"]), table.label(m["nom"]))
                drop.add(idx)
                continue
            seen.append((int(row["_ligne"]), sig))
            distinct.append(idx)
        if len(distinct) > 1:
            rows = df.loc[distinct]
            differ = [c for c in COMPARED if rows[c].map(_cell_key).nunique(dropna=False) > 1]
            cols = ", ".join(dict.fromkeys(f"« {labels.get(c, c)} »" for c in differ))
            lines_txt = " et ".join(str(int(x)) for x in rows["_ligne"])
            r0 = rows.iloc[0]
            probs.error(f"structure « {shorten(r0['nom'])} » ({r0['code_insee']}, {r0['type']}) présente deux fois "
                        f"avec des valeurs différentes : lignes {lines_txt}, colonne(s) {cols} — gardez une seule "
                        "ligne (ou donnez à chaque structure un identifiant distinct).",
                        int(rows["_ligne"].iloc[-1]), labels.get(differ[0], table.label(m["nom"])) if differ
                        else table.label(m["nom"]))
    return df.drop(index=list(drop))


def _summary_first(probs: Problems, message: str, colonne: str | None) -> None:
    """A whole-file warning, shown before the line-by-line ones."""
    from .problems import AVERTISSEMENT, Problem

    probs.items.insert(0, Problem(probs.fichier, None, colonne, message, AVERTISSEMENT))


def _summaries(df: pd.DataFrame, table: Table, m: dict[str, str], probs: Problems,
               millesime: pd.Timestamp | None, millesime_source: str) -> None:
    if df["ouverture_estimee"].any():
        k = int(df["ouverture_estimee"].sum())
        _summary_first(probs, (
            f"date d'ouverture absente du fichier : les {fr_int(k)} structure(s) sont comptées ouvertes à partir "
            f"du {millesime:%d/%m/%Y} (millésime : {millesime_source} ; option --millesime en ligne de commande ou "
            "champ « Millésime » de la page Import pour le changer). Elles ne comptent pas comme des créations "
            "de places."), None)
    accueil = ~df["type"].isin(["RPE", "MAM"])
    unknown = accueil & df["psu"].isna()
    if unknown.any():
        k, pl = int(unknown.sum()), int(df.loc[unknown, "places"].sum())
        why = "colonne PSU absente du fichier" if "psu" not in m else "cellule PSU vide"
        _summary_first(probs, (
            f"PSU « non renseigné » pour {fr_int(k)} structure(s) d'accueil ({fr_int(pl)} places) — {why}. "
            "Le financement PSU n'est jamais deviné : les indicateurs PSU comptent ces places à part "
            "(« PSU non renseigné »)."), table.label(m["psu"]) if "psu" in m else None)


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "id": df["id"].astype(str), "code_insee": df["code_insee"].astype(str), "type": df["type"].astype(str),
        "nom": df["nom"].astype(str), "places": df["places"].astype("int64"), "psu": df["psu"].astype("boolean"),
        "gestion": df["gestion"].astype(str),
        "date_ouverture": pd.to_datetime(df["date_ouverture"]).astype("datetime64[ns]"),
        "date_fermeture": pd.to_datetime(df["date_fermeture"]).astype("datetime64[ns]"),
        "latitude": df["latitude"].astype(float), "longitude": df["longitude"].astype(float),
        "etp_animation": df["etp_animation"].astype(float),
        "nb_assistants_maternels": df["nb_assistants_maternels"].astype(float),
        "gestionnaire": df["gestionnaire"].astype(str), "adresse": df["adresse"].astype(str),
        "type_libelle": df["type_libelle"].astype(str), "gestion_libelle": df["gestion_libelle"].astype(str),
        "ouverture_estimee": df["ouverture_estimee"].astype(bool),
    })
    return out.sort_values(["code_insee", "type", "nom"]).reset_index(drop=True)


def _notes(out: pd.DataFrame) -> list[str]:
    counts = out["type"].value_counts()
    parts = [f"{k} : {int(v)}" for k, v in counts.items()]
    ouvertes = out["date_fermeture"].isna()
    notes = [f"{len(out)} structure(s) ({', '.join(parts)}) ; {int(out.loc[ouvertes, 'places'].sum())} places dans "
             "les structures ouvertes."]
    eaje = ouvertes & ~out["type"].isin(["RPE", "MAM"])
    nr = eaje & out["psu"].isna()
    if nr.any():
        notes.append(f"Places d'accueil ouvertes : {fr_int(int(out.loc[eaje & (out['psu'] == True), 'places'].sum()))} "  # noqa: E712
                     f"en PSU, {fr_int(int(out.loc[eaje & (out['psu'] == False), 'places'].sum()))} hors PSU, "  # noqa: E712
                     f"{fr_int(int(out.loc[nr, 'places'].sum()))} « PSU non renseigné ».")
    return notes


def _keep_other_departements(out: pd.DataFrame, store: Store, departements: frozenset[str]) -> pd.DataFrame:
    """A Caf's list replaces its own départements' structures only: the stored rows of the other
    départements are kept (same columns, same order as a whole import)."""
    if not store.has("structures"):
        return out
    old = store.read("structures")
    dep_of = dict(zip(*[commune_reference(store)[c] for c in ("code_insee", "dep")]))
    others = old[~old["code_insee"].astype(str).map(dep_of).isin(departements)]
    if others.empty:
        return out
    others = others.reindex(columns=out.columns)
    try:
        others = others.astype(out.dtypes.to_dict())
    except (ValueError, TypeError):  # an older layer without a column: keep its own types
        pass
    merged = pd.concat([others, out], ignore_index=True)
    return merged.sort_values(["code_insee", "type", "nom"]).reset_index(drop=True)


def build_structures(path: Path, fichier: str, store: Store, probs: Problems, publisher: str, *,
                     mapping: dict[str, str] | None = None, millesime: object = None,
                     departements: frozenset[str] | None = None) -> Built:
    """Read and check a structure list.  ``mapping``: user column mapping; ``millesime``: year or date
    at which structures without an opening date are counted open (default: year of the file name,
    else the file's date).  ``departements``: the importing Caf's scope (None: national, the list
    replaces every structure); rows of other départements are refused and the stored structures of
    other départements are kept."""
    if millesime is not None and str(millesime).strip():
        try:
            ts, source = parse_millesime(millesime), "valeur donnée à l'import"
        except ValueError as exc:
            raise probs.fatal(str(exc))
    else:
        ts, source = default_millesime(fichier, path)
    table = read_table(path, fichier, STRUCT_COLS, probs)
    out = validate_structures(table, probs, store, mapping=mapping, millesime=ts, millesime_source=source,
                              departements=departements)
    rows = len(out)
    notes = _notes(out)
    if departements is not None:
        kept = _keep_other_departements(out, store, departements)
        if len(kept) > rows:
            notes.append(f"Départements {', '.join(sorted(departements))} remplacés ; {fr_int(len(kept) - rows)} "
                         "structure(s) des autres départements conservée(s).")
        out_all = kept
    else:
        out_all = out
    y = year_in(fichier)
    if out["ouverture_estimee"].any():
        vintage = f"liste au {ts:%d/%m/%Y}"
    else:
        vintage = f"liste {y}" if y else f"liste importée le {pd.Timestamp.now():%d/%m/%Y}"
    label = "Structures d'accueil et RPE (liste de la Caf)" if not out["psu"].isna().all() \
        else "Structures d'accueil (liste open data, PSU non renseigné)"
    info = LayerInfo(name="", rows=0, nature=NATURE_IMPORTE, vintage=vintage, source=f"{fichier} — {publisher}",
                     label=label, extra={"mapping": mapping} if mapping else None)
    return Built({"structures": (out_all, info)}, vintage, rows, table.encoding, notes)


def frame_to_table(frame: pd.DataFrame, fichier: str) -> Table:
    """A DataFrame (demo generator) as a text table, so that it goes through the same checks."""
    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
            return ""
        if isinstance(v, (bool, np.bool_)):
            return "oui" if v else "non"
        if isinstance(v, pd.Timestamp):
            return "" if pd.isna(v) else v.strftime("%Y-%m-%d")
        if isinstance(v, (float, np.floating)):
            return str(int(v)) if float(v).is_integer() else repr(float(v))
        return str(v)

    cols = {normalise_header(c): c for c in frame.columns}
    data = pd.DataFrame({n: [cell(v) for v in frame[c].tolist()] for n, c in cols.items()}, dtype=object)
    return Table(frame=data, headers={n: str(c) for n, c in cols.items()}, fichier=fichier,
                 lines=list(range(2, len(frame) + 2)))


def write_structures(frame: pd.DataFrame, store: Store, nature: str, source: str, vintage: str,
                     extra: dict | None = None, label: str | None = None):
    """Validate a DataFrame of structures with the import rules, then write the ``structures`` layer.

    Raises ``ImportValidationError`` (store untouched) when a row is invalid.
    Returns the ``ImportReport``.
    """
    from . import ImportReport

    fichier = "structures (tableau)"
    probs = Problems(fichier)
    table = frame_to_table(frame, fichier)
    out = validate_structures(table, probs, store)
    from ..store import DEMO_LABEL, NATURE_FICTIF

    default_label = "Structures d'accueil et RPE" + (f" — {DEMO_LABEL}" if nature == NATURE_FICTIF else "")
    info = LayerInfo(name="structures", rows=0, nature=nature, vintage=vintage, source=source,
                     label=label or default_label, extra=extra)
    store.write_layers({"structures": (out, info)})
    return ImportReport(kind="structures", fichier=fichier, layers=["structures"], rows=len(out),
                        warnings=probs.warnings, vintage=vintage, source=source, notes=_notes(out))
