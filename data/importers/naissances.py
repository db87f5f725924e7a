"""INSEE births domiciled per commune (kind ``naissances``) and the children-under-3 layer derived from them.

Formats accepted, built to the files as published:

* the INSEE workbook « Nombre de naissances annuelles domiciliées par commune »
  (``NAIS_DOM_ANNUELLES``): a « Métadonnées » sheet, then one sheet per level (``COM``, ``ARM``,
  ``EPCI``, ``DEP``, ``REG``…).  Sheet ``COM`` is read: a title line, two empty lines, a header
  line **without labels over the code and name columns** and one year per column (``2008`` …
  ``2024``), then one line per commune; ``so`` (« sans objet ») cells for Mayotte before 2014;
  footer lines (notes, « so : sans objet », « Champ : … », « Source : État civil »);
* the CSV ``base_naissances_YYYY.csv`` and the « comparateur de territoires » columns:
  ``CODGEO;[LIBGEO;]NAISD14;NAISD15;…`` (``NAISDyy`` = births domiciled in 20yy);
* the same table saved as CSV (``code;libellé;2008;…;2024``) and the long "Melodi" form
  (``GEO;GEO_OBJECT;…;TIME_PERIOD;OBS_VALUE``, lines of ``GEO_OBJECT`` COM only).

Layer ``naissances``: code_insee, annee, naissances (float, NaN = sans objet / non disponible).

From births, **children under 3 on 1 January of year Y ≈ births of Y-3, Y-2 and Y-1**
(:func:`enfants_depuis_naissances`).  Importing births rewrites the ``enfants_moins_3`` layer in
the same atomic step: a commune with an imported census count (``PYY_POP0002``) keeps it; a commune
with births for the three years gets the births estimate (``nature`` « naissances », ``annee`` = Y,
the latest Y the file allows); any other commune keeps its previous value (the « population × 3 % »
estimate).  planning.coverage recomputes the births estimate for the year asked.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..codes import fold_arrondissement
from ..store import NATURE_ESTIME, NATURE_IMPORTE, LayerInfo, Store
from .common import (Built, Col, Problems, Table, _short, base_frame, commune_reference, fold_frame, number_column,
                     read_table, report_duplicates)

NATURE_RECENSEMENT = "recensement"
NATURE_NAISSANCES = "naissances"
NATURE_ESTIMATION = "estimation"
LIBELLE_NAISSANCES = "estimation à partir des naissances domiciliées (INSEE)"
LIBELLE_NATURE = {
    NATURE_RECENSEMENT: "recensement (INSEE, enfants de 0 à 2 ans)",
    NATURE_NAISSANCES: LIBELLE_NAISSANCES,
    NATURE_ESTIMATION: "estimation : population × 3,0 %",
}
MAX_BIRTHS = 100_000           # per commune and year (Paris: about 31 000 in 2010)

_CODE = Col("code_insee", ("codgeo", "code_insee", "code", "code_commune", "codecommune", "com", "depcom", "insee_com",
                           "geo", "code_geo"), required=False)
_YEARS = Col("annees", regex=r"(naisd\d{2}|naissances_?(19|20)\d{2}|(19|20)\d{2}|time_period)")
_NAISD = re.compile(r"^naisd(\d{2})$")
_YEAR = re.compile(r"^(?:naissances_?)?((?:19|20)\d{2})$")
_OUTRE_MER = re.compile(r"^(975|977|978|98\d)")
_INT = re.compile(r"^\d+$")


def _year_of(header: str) -> int | None:
    m = _NAISD.match(header)
    if m:
        return 2000 + int(m.group(1))
    m = _YEAR.match(header)
    return int(m.group(1)) if m else None


def build_naissances(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    with warnings.catch_warnings():  # openpyxl: "Workbook contains no default style" on INSEE workbooks
        warnings.simplefilter("ignore")
        table = read_table(path, fichier, [_YEARS, _CODE], probs, sheet_hint="COM")
    cols = list(table.frame.columns)
    if "time_period" in cols and "obs_value" in cols:
        long, code_label = _long_form(table, probs)
    else:
        long, code_label = _wide_form(table, probs)
    probs.raise_if_errors()
    ref = commune_reference(store)
    known = set(ref["code_insee"])
    unknown = ~long["code_insee"].isin(known)
    if unknown.any():
        bad = long[unknown].drop_duplicates("code_insee")
        overseas = bad["code_insee"].str.match(_OUTRE_MER)
        if overseas.any():
            probs.warn(f"{int(overseas.sum())} collectivité(s) d'outre-mer hors du référentiel ignorée(s) : "
                       f"{', '.join(sorted(bad.loc[overseas, 'code_insee'])[:10])}.", None, code_label)
        for _, r in bad[~overseas].iterrows():
            probs.warn(f"code INSEE « {r['code_insee']} » inconnu du référentiel (COG 2025) : ligne ignorée — commune "
                       "fusionnée ?", int(r["_ligne"]), code_label)
        long = long[~unknown]
    naissances = (long[["code_insee", "annee", "naissances"]]
                  .astype({"code_insee": str, "annee": "int64", "naissances": float})
                  .sort_values(["code_insee", "annee"]).reset_index(drop=True))
    if naissances.empty:
        raise probs.fatal("aucune naissance lue pour une commune du référentiel — vérifiez que c'est le fichier des "
                          "naissances domiciliées par commune (feuille COM).")
    years = sorted(set(naissances["annee"]))
    vintage = f"naissances {years[0]}-{years[-1]}" if len(years) > 1 else f"naissances {years[0]}"
    source = f"{fichier} — {publisher}"
    info = LayerInfo(name="", rows=0, nature=NATURE_IMPORTE, vintage=vintage, source=source,
                     label="Naissances domiciliées par commune (INSEE, état civil)")
    info.extra = {"annees": [int(y) for y in years]}
    enfants, einfo, enotes = derive_enfants_layer(naissances, store, source)
    notes = [f"{naissances['code_insee'].nunique()} commune(s), années {years[0]} à {years[-1]} "
             f"({len(naissances)} valeurs)."] + enotes
    return Built({"naissances": (naissances, info), "enfants_moins_3": (enfants, einfo)}, vintage,
                 len(naissances), table.encoding, notes)


def _wide_form(table: Table, probs: Problems) -> tuple[pd.DataFrame, str]:
    cols = list(table.frame.columns)
    year_cols = [(c, _year_of(c)) for c in cols if _year_of(c) is not None]
    if not year_cols:
        found = ", ".join(f"« {table.label(c)} »" for c in cols)
        raise probs.fatal("aucune colonne d'année (NAISD22, 2022…) — colonnes trouvées : "
                          f"{found}. Vérifiez que c'est le fichier des naissances domiciliées.", table.header_line)
    code_col = next((c for c in cols if _CODE.matches(c)), None)
    if code_col is None:   # INSEE workbook: no label above the code column, it is the first one
        first = cols[0]
        if first.startswith("colonne_") or not table.headers.get(first, "").strip():
            code_col = first
    if code_col is None:
        found = ", ".join(f"« {table.label(c)} »" for c in cols[:12])
        raise probs.fatal("ce fichier ne ressemble pas aux naissances domiciliées de l'INSEE : ni colonne CODGEO "
                          "avec des colonnes NAISDyy, ni tableau « code ; libellé ; 2008 ; 2009 ; … » (feuille COM). "
                          f"En-tête lu : {found} — vérifiez le fichier et le type d'import.", table.header_line, "CODGEO")
    frame = table.frame
    # footer lines: no code-like first cell and no number anywhere (notes, « so : sans objet », « Source : … »)
    codes_raw = frame[code_col].str.strip()
    values_empty = np.ones(len(frame), dtype=bool)
    for c, _y in year_cols:
        values_empty &= frame[c].str.strip().eq("").to_numpy()
    code_like = codes_raw.str.fullmatch(r'(="?)?[0-9AB]{4,5}"?').to_numpy()
    footer = values_empty & ~code_like
    if footer.any():
        keep = ~footer
        table = Table(frame=frame[keep].reset_index(drop=True), headers=table.headers, fichier=table.fichier,
                      lines=[ln for ln, k in zip(table.lines, keep) if k], encoding=table.encoding,
                      separator=table.separator, header_line=table.header_line, preamble=table.preamble)
        frame = table.frame
    df = base_frame(table, code_col, probs)
    so = 0
    values = {}
    for c, y in year_cols:
        s = frame[c].str.strip()
        is_so = s.str.lower().eq("so")
        so += int(is_so.sum())
        fast = s.str.fullmatch(_INT.pattern) | s.eq("") | is_so
        if bool(fast.all()):
            v = pd.to_numeric(s.where(~is_so & s.ne(""), None), errors="coerce").astype(float)
            over = v > MAX_BIRTHS
            for i in np.flatnonzero(over.to_numpy()):
                probs.error(f"{int(v.iloc[i])} naissances dans une commune en un an : valeur invraisemblable "
                            f"(maximum {MAX_BIRTHS}) — vérifiez la cellule.", table.lines[i], table.label(c))
            values[y] = v.to_numpy()
        else:   # slow path: the shared parser names line and column of every bad cell
            sub = Table(frame=frame.assign(**{c: s.where(~is_so, "")}), headers=table.headers, fichier=table.fichier,
                        lines=table.lines)
            values[y] = np.asarray(number_column(sub, c, probs, minimum=0, maximum=MAX_BIRTHS, integer=True,
                                                 what="nombre de naissances"), dtype=float)
    probs.raise_if_errors()
    label = table.label(code_col)
    if label.startswith("colonne"):
        label = "code commune (colonne A)"
    ycols = [f"y{y}" for _c, y in year_cols]
    for (_c, y), yc in zip(year_cols, ycols):
        df[yc] = values[y]
    df = fold_frame(df, probs, label, ycols, "sum")
    df = report_duplicates(df, ["code_insee"], ycols, "_ligne", probs, label, "commune")
    probs.raise_if_errors()
    long = df.melt(id_vars=["_ligne", "code_insee"], value_vars=ycols, var_name="annee", value_name="naissances")
    long["annee"] = long["annee"].str[1:].astype(int)
    if so:
        probs.warn(f"{so} cellule(s) « so » (sans objet : commune hors du champ cette année-là, Mayotte avant 2014) "
                   "lues comme « donnée non disponible ».", None, None)
    if footer.any():
        probs.warn(f"{int(footer.sum())} ligne(s) de notes sous le tableau ignorée(s) (« Champ », « Source »…).")
    return long, label


def _long_form(table: Table, probs: Problems) -> tuple[pd.DataFrame, str]:
    frame = table.frame
    code_col = "geo" if "geo" in frame.columns else next((c for c in frame.columns if _CODE.matches(c)), None)
    if code_col is None:
        raise probs.fatal("colonne GEO absente.", table.header_line, "GEO")
    keep = np.ones(len(frame), dtype=bool)
    if "geo_object" in frame.columns:
        keep &= frame["geo_object"].str.strip().str.upper().isin(["COM", ""]).to_numpy()
    if "ec_measure" in frame.columns:
        keep &= frame["ec_measure"].str.strip().str.upper().isin(["LVB", ""]).to_numpy()
    sub = Table(frame=frame[keep].reset_index(drop=True), headers=table.headers, fichier=table.fichier,
                lines=[ln for ln, k in zip(table.lines, keep) if k], encoding=table.encoding)
    df = base_frame(sub, code_col, probs)
    years = []
    for i, v in enumerate(sub.frame["time_period"].tolist()):
        m = re.match(r"^\s*((?:19|20)\d{2})", v)
        if not m:
            probs.error(f"période « {_short(v)} » illisible — année attendue.", sub.lines[i], sub.label("time_period"))
        years.append(int(m.group(1)) if m else 0)
    df["annee"] = years
    df["naissances"] = number_column(sub, "obs_value", probs, minimum=0, maximum=MAX_BIRTHS, integer=True,
                                     what="nombre de naissances")
    probs.raise_if_errors()
    label = sub.label(code_col)
    # arrondissements: summed into the commune unless the commune has its own line that year
    arm = df["code_orig"] != df["code_insee"]
    if arm.any():
        own = set(zip(df.loc[~arm, "code_insee"], df.loc[~arm, "annee"]))
        extra = (df[arm].groupby(["code_insee", "annee"], as_index=False)
                 .agg(_ligne=("_ligne", "first"), naissances=("naissances", lambda s: s.sum(min_count=1))))
        extra = extra[[(c, y) not in own for c, y in zip(extra["code_insee"], extra["annee"])]]
        df = pd.concat([df[~arm], extra], ignore_index=True)
    df = report_duplicates(df, ["code_insee", "annee"], ["naissances"], "_ligne", probs, label, "commune / année")
    probs.raise_if_errors()
    return df[["_ligne", "code_insee", "annee", "naissances"]], label


# ---------------------------------------------------------------------------
# Children under 3 from births
# ---------------------------------------------------------------------------
def fenetre(annee: int) -> tuple[int, int, int]:
    """Birth years of the children under 3 on 1 January ``annee``: Y-3, Y-2, Y-1."""
    return (annee - 3, annee - 2, annee - 1)


def enfants_depuis_naissances(naissances: pd.DataFrame, annee: int) -> pd.Series:
    """Children under 3 on 1 January ``annee`` per commune = births of Y-3 + Y-2 + Y-1.

    Worked example: a commune with 316 births in 2024, 339 in 2023 and 353 in 2022 has
    353 + 339 + 316 = 1 008 children under 3 on 1 January 2025.  A commune missing one of the
    three years is left out (NaN), never counted as zero.
    """
    years = fenetre(annee)
    sub = naissances[naissances["annee"].isin(years)]
    wide = sub.pivot_table(index="code_insee", columns="annee", values="naissances", aggfunc="sum")
    if any(y not in wide.columns for y in years):
        return pd.Series(dtype=float, name="enfants_moins_3")
    return wide[list(years)].sum(axis=1, min_count=3).dropna().rename("enfants_moins_3")


def annee_reference(naissances: pd.DataFrame) -> int | None:
    """Latest 1 January the births allow (three consecutive years ending the year before)."""
    years = set(int(y) for y in naissances["annee"].unique())
    best = None
    for y in sorted(years):
        if {y - 2, y - 1, y} <= years:
            best = y + 1
    return best


def nature_column(enfants: pd.DataFrame) -> pd.Series:
    """Nature of each row of an ``enfants_moins_3`` layer (older layers have only ``estimation``)."""
    if "nature" in enfants.columns:
        return enfants["nature"].astype(str)
    est = enfants["estimation"].astype(bool) if "estimation" in enfants.columns else pd.Series(True, enfants.index)
    return est.map({True: NATURE_ESTIMATION, False: NATURE_RECENSEMENT})


def derive_enfants_layer(naissances: pd.DataFrame, store: Store, source: str
                         ) -> tuple[pd.DataFrame, LayerInfo, list[str]]:
    """New ``enfants_moins_3`` layer: census counts kept, births estimate where births exist, else the
    previous value (estimate)."""
    old = store.read("enfants_moins_3") if store.has("enfants_moins_3") else None
    y = annee_reference(naissances)
    notes = []
    if old is None:
        ref = commune_reference(store)
        old = pd.DataFrame({"code_insee": ref["code_insee"], "enfants_moins_3": np.nan, "annee": 0,
                            "estimation": True})
    old = old.assign(nature=nature_column(old))
    if y is None:
        notes.append("Moins de trois années de naissances consécutives : les enfants de moins de 3 ans ne sont pas "
                     "estimés à partir de ce fichier.")
        return old, _enfants_info(old, store.info("enfants_moins_3"), source, None), notes
    est = enfants_depuis_naissances(naissances, y)
    census = old["nature"] == NATURE_RECENSEMENT
    use = ~census & old["code_insee"].isin(est.index)
    out = old.copy()
    if use.any():   # (every commune of the file may keep its census count: nothing to replace)
        out.loc[use, "enfants_moins_3"] = old.loc[use, "code_insee"].map(est).to_numpy()
        out.loc[use, "annee"] = y
        out.loc[use, "estimation"] = True
        out.loc[use, "nature"] = NATURE_NAISSANCES
    out = out.astype({"code_insee": str, "enfants_moins_3": float, "annee": "int64", "estimation": bool,
                      "nature": str}).sort_values("code_insee").reset_index(drop=True)
    a, b, c = fenetre(y)
    notes.append(f"Enfants de moins de 3 ans au 1er janvier {y} = naissances {a} + {b} + {c} pour "
                 f"{int(use.sum())} commune(s) ; {int(census.sum())} commune(s) gardent le recensement importé, "
                 f"{int((out['nature'] == NATURE_ESTIMATION).sum())} l'estimation population × 3 %.")
    return out, _enfants_info(out, store.info("enfants_moins_3"), source, y), notes


def _enfants_info(df: pd.DataFrame, previous: LayerInfo | None, source: str, y: int | None) -> LayerInfo:
    counts = df["nature"].value_counts().to_dict() if "nature" in df.columns else {}
    n_nais = int(counts.get(NATURE_NAISSANCES, 0))
    n_rec = int(counts.get(NATURE_RECENSEMENT, 0))
    parts = []
    if n_rec:
        years = sorted(set(df.loc[df["nature"] == NATURE_RECENSEMENT, "annee"]))
        parts.append(f"recensement {'/'.join(map(str, years))} (INSEE)")
    if n_nais:
        parts.append(LIBELLE_NAISSANCES)
    if not parts:
        return previous or LayerInfo("", 0, NATURE_ESTIME, "estimation", source)
    label = " et ".join(parts)
    label = label[0].upper() + label[1:]
    vintage_parts = []
    if n_nais and y:
        a, _b, c = fenetre(y)
        vintage_parts.append(f"au 1er janvier {y} (naissances {a}-{c})")
    if n_rec:
        vintage_parts.append("recensement " + "/".join(
            map(str, sorted(set(df.loc[df["nature"] == NATURE_RECENSEMENT, "annee"])))))
    prev_src = previous.source if previous is not None and previous.nature == NATURE_IMPORTE else ""
    src = source if not prev_src or source in prev_src else f"{source} ; {prev_src}"
    info = LayerInfo(name="", rows=0, nature=NATURE_IMPORTE, vintage=" ; ".join(vintage_parts), source=src,
                     label=label)
    info.extra = {"natures": {k: int(v) for k, v in counts.items()}, "annee_reference": y}
    return info


def fold_naissances(naissances: pd.DataFrame) -> pd.DataFrame:
    """Births with arrondissement codes folded (a layer written by another tool may hold them)."""
    n = naissances.assign(code_insee=naissances["code_insee"].astype(str).map(fold_arrondissement))
    return n.groupby(["code_insee", "annee"], as_index=False)["naissances"].sum(min_count=1)
