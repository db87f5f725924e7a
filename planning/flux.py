"""Flows of EAJE places: created, closed and net change per year (COG-01-01), and the national
trajectory of PSU places scaled to a territory.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .catalogue import cible_cog, sources
from .coverage import bin_sum, level_ids
from .entrees import CoverageInputs
from .formats import fr_ratio
from .stock import commune_flows
from .territoires import COLONNES, check_niveau, masque, parse_territoire, resolve


FLOW_COLS = ["places_creees_psu", "places_fermees_psu", "variation_nette_psu",
             "places_creees", "places_fermees", "variation_nette"]


def variation_places(inputs: CoverageInputs, annee_debut: int, annee_fin: int, niveau: str = "france",
                     territoire=None, par_annee: bool = True) -> pd.DataFrame:
    """EAJE places created, closed and net change over [annee_debut, annee_fin], PSU and total.

    A place is created in year Y when its structure opened between 1 January and
    31 December Y; closed in Y when the structure closed in that interval, so that
    ``variation_nette(Y) = stock(31/12/Y) − stock(31/12/Y−1)``.  The same figures are given
    for the communes with at least one QPV (suffix ``_qpv``) and for the communes classified
    FRR, FRR+ or « ancienne ZRR en transition », or ZRR in the legacy list (suffix
    ``_frr_zrr``): the commune of the structure is used, not the QPV perimeter itself.
    NaN when the structure list, the QPV or the FRR/ZRR layer is missing.

    One row per (code, annee) when ``par_annee``; else one row per code for the whole period
    (``annee`` = "2023-2027").
    """
    niveau = check_niveau(niveau)
    base = inputs.base
    ids, k, static = level_ids(inputs, niveau)
    qpv = base["qpv"].astype("boolean")
    frr = base["frr_zrr"].astype("boolean")
    rows = []
    for annee in range(int(annee_debut), int(annee_fin) + 1):
        work = dict(commune_flows(inputs, annee))
        work["variation_nette_psu"] = work["places_creees_psu"] - work["places_fermees_psu"]
        work["variation_nette"] = work["places_creees"] - work["places_fermees"]
        for suffix, flag in (("_qpv", qpv), ("_frr_zrr", frr)):
            known = flag.notna().to_numpy()
            inside = flag.fillna(False).to_numpy(dtype=bool)
            for c in FLOW_COLS:
                v = np.where(inside, work[c], 0.0)
                v[~known | np.isnan(work[c])] = np.nan
                work[c + suffix] = v
        agg = pd.DataFrame({"code": static["code"], "annee": annee})
        for c in FLOW_COLS + [c + s for s in ("_qpv", "_frr_zrr") for c in FLOW_COLS]:
            agg[c] = bin_sum(ids, k, work[c], strict=True)
        rows.append(agg)
    out = pd.concat(rows, ignore_index=True)
    if not par_annee:
        num = [c for c in out.columns if c not in ("code", "annee")]
        nan_any = out[num].isna().groupby(out["code"], sort=False).sum() > 0
        tot = out.groupby("code", sort=False)[num].sum(min_count=1).mask(nan_any)
        tot.insert(0, "annee", f"{int(annee_debut)}-{int(annee_fin)}")
        out = tot.reset_index()
    if territoire is not None:
        tn, tc = parse_territoire(territoire)
        if tn != "france":
            if niveau == "france":
                raise ValueError("Le niveau « france » ne se restreint pas à un territoire.")
            m = masque(base, tn, tc).to_numpy()
            wanted = set(base.loc[m, COLONNES[niveau][0]].dropna().astype(str))
            out = out[out["code"].astype(str).isin(wanted)]
    return out.reset_index(drop=True)


def trajectoire_cog_psu(inputs: CoverageInputs, annee_debut: int, annee_fin: int, territoire=None) -> pd.DataFrame:
    """Net change of PSU places per year against the national COG-01-01 path scaled to the territory.

    Scale (a choice of the dashboard, not a rule of the COG, which sets only national figures):
    the territory's share of the national number of children under 3
    (``part_enfants = enfants du territoire / enfants de France``, from the children layer).
    ``cible_territoire = cible nationale × part_enfants``.  The QPV and FRR/ZRR parts of the
    net change are shown next to the total (the COG gives no separate figure for them).

    Columns: annee, places_creees_psu, places_fermees_psu, variation_nette_psu,
    variation_nette_psu_qpv, variation_nette_psu_frr_zrr, cible_nationale, part_enfants,
    cible_territoire, ecart, atteinte.  ``attrs["libelle"]`` explains the scale in French.
    """
    base = inputs.base
    if territoire is None or parse_territoire(territoire)[0] == "france":
        t = resolve(base, "france")
        m = np.ones(len(base), dtype=bool)
    else:
        tn, tc = parse_territoire(territoire)
        t = resolve(base, tn, tc)
        m = masque(base, tn, tc).to_numpy()
    enf = base["enfants_moins_3"].to_numpy(dtype=float)
    total = np.nansum(enf)
    part = float(np.nansum(enf[m]) / total) if total > 0 else np.nan
    qpv = base["qpv"].astype("boolean")
    frr = base["frr_zrr"].astype("boolean")
    flows = []
    for annee in range(int(annee_debut), int(annee_fin) + 1):
        f = commune_flows(inputs, annee)

        def tot(v: np.ndarray, flag=None) -> float:
            v = v[m]
            if flag is not None:
                fl = flag.to_numpy()[m]
                if pd.isna(fl).any():
                    return np.nan
                v = np.where(fl.astype(bool), v, 0.0)
            return float(v.sum()) if not np.isnan(v).any() else np.nan

        net = f["places_creees_psu"] - f["places_fermees_psu"]
        cible = cible_cog("objectifs_cog.variation_nette_places_psu", annee, inputs.baremes)
        cible_t = cible * part if cible is not None and np.isfinite(part) else np.nan
        v = tot(net)
        flows.append({
            "annee": annee,
            "places_creees_psu": tot(f["places_creees_psu"]),
            "places_fermees_psu": tot(f["places_fermees_psu"]),
            "places_fermees_psu_non_renseigne": tot(f["places_fermees_psu_non_renseigne"]),
            "variation_nette_psu": v,
            "variation_nette_psu_qpv": tot(net, qpv),
            "variation_nette_psu_frr_zrr": tot(net, frr),
            "cible_nationale": np.nan if cible is None else cible,
            "part_enfants": part,
            "cible_territoire": cible_t,
            "ecart": v - cible_t if np.isfinite(v) and np.isfinite(cible_t) else np.nan,
            "atteinte": (v >= cible_t) if np.isfinite(v) and np.isfinite(cible_t) else None,
        })
    out = pd.DataFrame(flows)
    out.attrs["territoire"] = t.libelle
    out.attrs["libelle"] = (
        f"Cible COG-01-01 (variation nette des places PSU) rapportée à {t.libelle} au prorata de sa part "
        f"des enfants de moins de 3 ans de France ({fr_ratio(part)}) — choix de répartition du tableau de bord, "
        "la COG ne fixe que des objectifs nationaux."
    )
    out.attrs["sources"] = sources(inputs)
    return out
