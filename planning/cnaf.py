"""Published Cnaf coverage (data.caf.fr) and children under 3 by year, for planning.coverage.

Pure pandas, no UI, no file: everything comes from a :class:`planning.coverage.CoverageInputs`.

* :func:`caf_valeurs`: the published rates of every territory of a level for a year (global and by
  mode), the latest year on or before the year asked, with that year — the map and table columns
  ``txcouv_caf`` … ``txcouv_caf_gad`` and ``annee_txcouv_caf``.
* :func:`caf_publie`: the figures published for one territory and exactly one year, as in the file
  (``None`` when nothing is published) — what ``python -m planning couverture`` prints.
* :func:`serie_caf`: the global rate 2017 → latest for a territory, its département and France.
* :func:`enfants_annee`: children under 3 per commune for a year: the imported census count
  (``PYY_POP0002``) where present, else **births of Y-3, Y-2 and Y-1** (children under 3 on
  1 January Y, « estimation à partir des naissances domiciliées (INSEE) »), else the layer's value
  (the « population × 3 % » estimate).  Years beyond the births available use the nearest complete
  window, and say so.
* :func:`enfants_au_31_decembre`: what the indicators of year N use — the stock of places is
  counted on 31 December N, so the children are those of 1 January N+1 (births N-2, N-1, N).
  Checked on the real files: over 4 949 commune-years 2018-2022, the children implied by the
  Cnaf's own figures (places offertes ÷ taux global × 100) are 0,983 times births N-2..N (median,
  quartiles 0,91-1,06) against 0,968 times births N-3..N-1.
* :func:`naissances_annee` and :func:`serie_naissances`: births domiciled per year.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from data.codes import fold_arrondissement

if TYPE_CHECKING:  # pragma: no cover
    from .coverage import CoverageInputs

# indicator column -> column of the caf_couverture_* layers
CAF_MODES: dict[str, str] = {
    "txcouv_caf": "txcouv",
    "txcouv_caf_eaje": "txcouv_eaje",
    "txcouv_caf_psu": "txcouv_psu_col",
    "txcouv_caf_hors_psu": "txcouv_hors_psu_col",
    "txcouv_caf_am": "txcouv_am_ind",
    "txcouv_caf_prescol": "txcouv_prescol",
    "txcouv_caf_gad": "txcouv_gad_ind",
}
# keys of the CLI's « caf » object -> layer column
CAF_CLI: dict[str, str] = {
    "taux_global": "txcouv", "taux_eaje": "txcouv_eaje", "taux_eaje_psu": "txcouv_psu_col",
    "taux_hors_psu": "txcouv_hors_psu_col", "taux_assistants_maternels": "txcouv_am_ind",
    "taux_prescolarisation": "txcouv_prescol", "taux_salaries_domicile": "txcouv_gad_ind",
}
CAF_NIVEAUX = {"commune": "com", "epci": "epci", "departement": "dep", "region": "reg", "france": "nat"}
NATURE_RECENSEMENT, NATURE_NAISSANCES, NATURE_ESTIMATION = "recensement", "naissances", "estimation"
LIBELLES_NATURE = {
    NATURE_RECENSEMENT: "recensement (INSEE)",
    NATURE_NAISSANCES: "estimation à partir des naissances domiciliées (INSEE)",
    NATURE_ESTIMATION: "estimation : population × 3,0 %",
}


# ---------------------------------------------------------------------------
# Published rates
# ---------------------------------------------------------------------------
def _layer(inputs: "CoverageInputs", niveau: str) -> pd.DataFrame | None:
    k = CAF_NIVEAUX.get(niveau)
    f = inputs.caf_couverture.get(k) if k else None
    if f is None or f.empty or "annee" not in f.columns:
        return None
    key = ("caf_layer", k)
    if key not in inputs._cache:
        g = f.copy()
        g["code"] = "FR" if k == "nat" else g["code"].astype(str)
        g["annee"] = pd.to_numeric(g["annee"], errors="coerce")
        inputs._cache[key] = g.dropna(subset=["annee"]).sort_values(["code", "annee"])
    return inputs._cache[key]


def caf_valeurs(inputs: "CoverageInputs", niveau: str, codes: pd.Series, annee: int) -> pd.DataFrame:
    """Published rates per code: the latest year on or before ``annee`` (NaN when none)."""
    codes = pd.Series(codes).astype(str).reset_index(drop=True)
    out = pd.DataFrame(index=codes.index)
    for c in CAF_MODES:
        out[c] = np.nan
    out["annee_txcouv_caf"] = np.nan
    f = _layer(inputs, niveau)
    if f is None:
        return out
    f = f[f["annee"] <= int(annee)]
    if f.empty:
        return out
    last = f.drop_duplicates("code", keep="last").set_index("code")
    look = codes if niveau != "france" else pd.Series(["FR"] * len(codes))
    for c, col in CAF_MODES.items():
        if col in last.columns:
            out[c] = pd.to_numeric(last[col], errors="coerce").reindex(look).to_numpy(dtype=float)
    out["annee_txcouv_caf"] = last["annee"].reindex(look).to_numpy(dtype=float)
    return out


def caf_publie(inputs: "CoverageInputs", niveau: str, code: str | None, annee: int) -> dict[str, Any] | None:
    """Figures published for one territory and year, as in the file; None when nothing is published."""
    f = _layer(inputs, niveau)
    if f is None:
        return None
    code = "FR" if niveau == "france" else str(code)
    row = f[(f["code"] == code) & (f["annee"] == int(annee))]
    if row.empty:
        return None
    r = row.iloc[-1]
    out: dict[str, Any] = {}
    for key, col in CAF_CLI.items():
        v = r.get(col, np.nan)
        out[key] = None if v is None or pd.isna(v) else float(v)
    out["source"] = str(r.get("fichier", "")) or None
    return out


def annees_publiees(inputs: "CoverageInputs", niveau: str, code: str | None) -> list[int]:
    f = _layer(inputs, niveau)
    if f is None:
        return []
    code = "FR" if niveau == "france" else str(code)
    return sorted(int(y) for y in f.loc[f["code"] == code, "annee"].unique())


def serie_caf(inputs: "CoverageInputs", niveau: str, code: str | None, colonne: str = "txcouv") -> pd.DataFrame:
    """Published rate by year for a territory, its département (or region) and France.

    Columns: annee, serie (label), niveau, code, valeur; one row per published year and series
    (a year without publication has no row).  ``attrs["libelles"]`` lists the series in order.
    """
    base = inputs.base
    series: list[tuple[str, str, str | None]] = []
    if niveau == "commune":
        row = base[base["code_insee"] == code]
        nom = row["nom"].iloc[0] if len(row) else code
        dep = row["dep"].iloc[0] if len(row) else None
        series = [(f"{nom} (commune)", "commune", code)]
        if dep:
            series.append((f"{_dep_name(base, dep)} (département)", "departement", dep))
    elif niveau in ("epci", "ept"):
        col = "epci_siren" if niveau == "epci" else "ept_code"
        name_col = "epci_nom" if niveau == "epci" else "ept_nom"
        row = base[base[col] == code]
        nom = row[name_col].iloc[0] if len(row) else code
        if niveau == "epci":
            series = [(f"{nom} (EPCI)", "epci", code)]
        dep = inputs._dep_of[niveau].get(code) if code in inputs._dep_of[niveau].index else None
        if dep:
            series.append((f"{_dep_name(base, dep)} (département)", "departement", dep))
    elif niveau == "departement":
        series = [(f"{_dep_name(base, code)} (département)", "departement", code)]
    elif niveau == "region":
        row = base[base["reg"] == code]
        nom = row["reg_nom"].iloc[0] if len(row) else code
        series = [(f"{nom} (région)", "region", code)]
    series.append(("France", "france", None))
    rows = []
    for label, niv, c in series:
        f = _layer(inputs, niv)
        if f is None or colonne not in f.columns:
            continue
        sub = f[f["code"] == ("FR" if niv == "france" else str(c))]
        for _, r in sub.iterrows():
            v = r[colonne]
            rows.append({"annee": int(r["annee"]), "serie": label, "niveau": niv, "code": c,
                         "valeur": float(v) if pd.notna(v) else np.nan})
    out = pd.DataFrame(rows, columns=["annee", "serie", "niveau", "code", "valeur"])
    out.attrs["libelles"] = [s[0] for s in series]
    out.attrs["absentes"] = [s[0] for s in series if s[0] not in set(out["serie"])]
    return out


def _dep_name(base: pd.DataFrame, dep: str) -> str:
    rows = base.loc[base["dep"] == dep, "dep_nom"]
    return str(rows.iloc[0]) if len(rows) and isinstance(rows.iloc[0], str) else str(dep)


# ---------------------------------------------------------------------------
# Births and children under 3 by year
# ---------------------------------------------------------------------------
def _pivot(inputs: "CoverageInputs") -> pd.DataFrame | None:
    """Births per commune (base order) × year."""
    n = getattr(inputs, "naissances", None)
    if n is None or len(n) == 0:
        return None
    if ("naissances_pivot",) not in inputs._cache:
        codes = n["code_insee"].astype(str).map(fold_arrondissement)
        wide = (n.assign(code_insee=codes).groupby(["code_insee", "annee"])["naissances"].sum(min_count=1)
                .unstack("annee"))
        wide.columns = [int(c) for c in wide.columns]
        inputs._cache[("naissances_pivot",)] = wide.reindex(inputs.index)
    return inputs._cache[("naissances_pivot",)]


def _natures(inputs: "CoverageInputs") -> np.ndarray:
    key = ("enfants_natures",)
    if key not in inputs._cache:
        e = inputs.enfants
        n = len(inputs.base)
        if e is None or len(e) == 0:
            inputs._cache[key] = np.full(n, "", dtype=object)
        else:
            if "nature" in e.columns:
                nat = e["nature"].astype(str)
            else:
                est = e["estimation"].astype(bool) if "estimation" in e.columns else pd.Series(True, index=e.index)
                nat = est.map({True: NATURE_ESTIMATION, False: NATURE_RECENSEMENT})
            s = pd.Series(nat.to_numpy(), index=e["code_insee"].astype(str).map(fold_arrondissement))
            s = s[~s.index.duplicated()]
            inputs._cache[key] = s.reindex(inputs.index).fillna("").to_numpy(dtype=object)
    return inputs._cache[key]


def fenetres_disponibles(inputs: "CoverageInputs") -> list[int]:
    """Years Y (1 January) for which births of Y-3, Y-2 and Y-1 are all available."""
    p = _pivot(inputs)
    if p is None:
        return []
    years = set(p.columns)
    return [y + 1 for y in sorted(years) if {y - 2, y - 1, y} <= years]


def enfants_annee(inputs: "CoverageInputs", annee: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(children under 3 per commune, nature per commune, info) for ``annee`` (1 January).

    Census counts win; births of Y-3..Y-1 next; the layer's value otherwise.  ``info``:
    annee_reference (the 1 January used for births), naissances (first, last birth year),
    decale (True when the births of the year asked are not all available), libelle (French).
    """
    key = ("enfants_annee", int(annee))
    if key in inputs._cache:
        return inputs._cache[key]
    base = inputs.base["enfants_moins_3"].to_numpy(dtype=float)
    nature = _natures(inputs).copy()
    info: dict[str, Any] = {"annee": int(annee), "annee_reference": None, "naissances": None, "decale": False}
    p = _pivot(inputs)
    windows = fenetres_disponibles(inputs)
    vals = base.copy()
    if p is not None and windows:
        y = int(annee) if int(annee) in windows else (windows[-1] if int(annee) > windows[-1] else windows[0])
        est = p[[y - 3, y - 2, y - 1]].sum(axis=1, min_count=3).to_numpy(dtype=float)
        use = (nature != NATURE_RECENSEMENT) & np.isfinite(est)
        vals = np.where(use, est, base)
        nature = np.where(use, NATURE_NAISSANCES, nature)
        info.update(annee_reference=y, naissances=(y - 3, y - 1), decale=(y != int(annee)))
    counts = pd.Series(nature).value_counts().to_dict()
    info["natures"] = {str(k): int(v) for k, v in counts.items() if k}
    info["libelle"] = libelle_enfants(info)
    inputs._cache[key] = (vals, nature, info)
    return inputs._cache[key]


def enfants_au_31_decembre(inputs: "CoverageInputs", annee: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Children under 3 for the indicators of ``annee`` (stock at 31 December): 1 January annee + 1."""
    return enfants_annee(inputs, int(annee) + 1)


def info_enfants_territoire(inputs: "CoverageInputs", annee: int, mask: np.ndarray) -> dict[str, Any]:
    """:func:`enfants_au_31_decembre` info restricted to the communes of ``mask`` (natures counted there)."""
    _vals, nature, info = enfants_au_31_decembre(inputs, annee)
    counts = pd.Series(nature[np.asarray(mask, dtype=bool)]).value_counts().to_dict()
    sub = dict(info, natures={str(k): int(v) for k, v in counts.items() if k})
    sub["libelle"] = libelle_enfants(sub)
    return sub


def libelle_enfants(info: dict[str, Any]) -> str:
    parts = []
    nat = info.get("natures", {})
    if nat.get(NATURE_NAISSANCES):
        a, b = info["naissances"]
        txt = (f"{LIBELLES_NATURE[NATURE_NAISSANCES]} : enfants de moins de 3 ans au 1er janvier "
               f"{info['annee_reference']} = naissances {a} + {a + 1} + {b}")
        if info.get("decale"):
            txt += f" (naissances de {info['annee'] - 3} à {info['annee'] - 1} pas toutes disponibles)"
        parts.append(txt)
    if nat.get(NATURE_RECENSEMENT):
        parts.append(f"{LIBELLES_NATURE[NATURE_RECENSEMENT]} pour {nat[NATURE_RECENSEMENT]} commune(s)")
    if nat.get(NATURE_ESTIMATION):
        parts.append(f"{LIBELLES_NATURE[NATURE_ESTIMATION]} pour {nat[NATURE_ESTIMATION]} commune(s)")
    return " ; ".join(parts)


def naissances_annee(inputs: "CoverageInputs", annee: int) -> tuple[np.ndarray, int | None]:
    """Births per commune in ``annee`` (the latest year on or before it when not published)."""
    p = _pivot(inputs)
    if p is None or p.shape[1] == 0:
        return np.full(len(inputs.base), np.nan), None
    years = sorted(p.columns)
    before = [y for y in years if y <= int(annee)]
    y = before[-1] if before else years[0]
    return p[y].to_numpy(dtype=float), y


def serie_naissances(inputs: "CoverageInputs", mask: np.ndarray) -> pd.DataFrame:
    """Births per year over the communes of ``mask`` (communes without figures left out, counted)."""
    p = _pivot(inputs)
    if p is None:
        return pd.DataFrame(columns=["annee", "naissances", "communes_sans_donnee"])
    sub = p[np.asarray(mask, dtype=bool)]
    return pd.DataFrame({"annee": [int(y) for y in sub.columns],
                         "naissances": [float(sub[y].sum(min_count=1)) for y in sub.columns],
                         "communes_sans_donnee": [int(sub[y].isna().sum()) for y in sub.columns]})
