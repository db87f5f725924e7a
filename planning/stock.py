"""Per-commune stock and flows of one year: places, RPE and staffing at 31 December, places created
and closed during the year, and the EAJE places whose PSU financing is « non renseigné ».

Rules (see ``../shared/docs/DOMAIN.md`` §2-3):

* EAJE = every collective or family crèche type (crèche, multi-accueil, halte-garderie,
  jardin d'enfants, crèche familiale, parentale, d'entreprise, **micro-crèche**).  MAM places are
  counted apart (« places en MAM ») and are not EAJE places; an RPE has no places.
* A structure counts in year Y when it opened on or before 31 December Y and has not closed
  on or before that day (``date_fermeture`` NaT or after 31 December Y).  A structure without
  an opening date is taken as open in every year (but never counted as a creation).
* Territories are aggregated by summing numerators and denominators, never by averaging ratios.
* "Unknown" is NaN, never 0: without a structures layer, or for a commune of a département the
  structure list does not cover, places and RPE are NaN; a ratio with a zero denominator is NaN.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .entrees import KIND_EAJE, KIND_MAM, KIND_RPE, CoverageInputs
from .formats import fr_number
from .territoires import masque, parse_territoire


def year_end(annee: int) -> np.datetime64:
    return np.datetime64(f"{int(annee):04d}-12-31", "ns")


def open_mask(s: dict, annee: int) -> np.ndarray:
    end = year_end(annee)
    ouv, ferm = s["ouv"], s["ferm"]
    opened = np.isnat(ouv) | (ouv <= end)
    not_closed = np.isnat(ferm) | (ferm > end)
    return opened & not_closed


def ouvertes(structures: pd.DataFrame, annee: int) -> pd.Series:
    """Structures open on 31 December of ``annee`` (same rule as every indicator: opened on or
    before that day, not closed by then; a missing opening date counts as open)."""
    s = {"ouv": pd.to_datetime(structures["date_ouverture"], errors="coerce").to_numpy("datetime64[ns]"),
         "ferm": pd.to_datetime(structures["date_fermeture"], errors="coerce").to_numpy("datetime64[ns]")}
    return pd.Series(open_mask(s, annee), index=structures.index)


def commune_stock(inputs: CoverageInputs, annee: int) -> dict[str, np.ndarray]:
    """Places, RPE counts and staffing per commune (NaN where the structure list is unknown)."""
    key = ("stock", int(annee))
    if key in inputs.cache:
        return inputs.cache[key]
    n = len(inputs.base)
    s = inputs.structure_arrays
    cols = ("places_psu", "places_hors_psu", "places_eaje", "places_mam", "nb_rpe", "etp_rpe", "am_rpe",
            "places_psu_non_renseigne")
    if s is None:
        out = {c: np.full(n, np.nan) for c in cols}
    else:
        m = open_mask(s, annee)
        pos, kind, psu, places = s["pos"], s["kind"], s["psu"], s["places"]
        eaje = m & (kind == KIND_EAJE)
        rpe = m & (kind == KIND_RPE)
        staffed = rpe & np.isfinite(s["etp"]) & (s["etp"] > 0) & np.isfinite(s["am"])

        def bc(mask: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
            return np.bincount(pos[mask], weights=None if w is None else w[mask], minlength=n).astype(float)

        out = {
            "places_psu": bc(eaje & psu, places),
            "places_hors_psu": bc(eaje & ~psu & ~s["psu_nr"], places),
            "places_psu_non_renseigne": bc(eaje & s["psu_nr"], places),
            "places_mam": bc(m & (kind == KIND_MAM), places),
            "nb_rpe": bc(rpe),
            "etp_rpe": bc(staffed, s["etp"]),
            "am_rpe": bc(staffed, s["am"]),
        }
        out["places_eaje"] = out["places_psu"] + out["places_hors_psu"] + out["places_psu_non_renseigne"]
        unknown = ~inputs.structures_known
        for c in cols:
            out[c][unknown] = np.nan
    inputs.cache[key] = out
    return out


def commune_flows(inputs: CoverageInputs, annee: int) -> dict[str, np.ndarray]:
    """EAJE places created and closed during ``annee`` per commune (PSU and total)."""
    n = len(inputs.base)
    s = inputs.structure_arrays
    cols = ("places_creees_psu", "places_fermees_psu", "places_creees", "places_fermees",
            "places_creees_psu_non_renseigne", "places_fermees_psu_non_renseigne")
    if s is None:
        return {c: np.full(n, np.nan) for c in cols}
    start, end = year_end(annee - 1), year_end(annee)
    eaje = s["kind"] == KIND_EAJE
    created = eaje & ~np.isnat(s["ouv"]) & ~s["ouv_est"] & (s["ouv"] > start) & (s["ouv"] <= end)
    closed = eaje & ~np.isnat(s["ferm"]) & (s["ferm"] > start) & (s["ferm"] <= end)
    # a structure closed before it opened is bad data: ignore its closure
    closed &= np.isnat(s["ouv"]) | (s["ouv"] < s["ferm"])
    pos, psu, w = s["pos"], s["psu"], s["places"]

    def bc(mask):
        return np.bincount(pos[mask], weights=w[mask], minlength=n).astype(float)

    out = {"places_creees_psu": bc(created & psu), "places_fermees_psu": bc(closed & psu),
           "places_creees": bc(created), "places_fermees": bc(closed),
           "places_creees_psu_non_renseigne": bc(created & s["psu_nr"]),
           "places_fermees_psu_non_renseigne": bc(closed & s["psu_nr"])}
    unknown = ~inputs.structures_known
    for c in cols:
        out[c][unknown] = np.nan
    return out


def psu_non_renseigne(inputs: CoverageInputs, annee: int, territoire=None) -> dict[str, Any]:
    """EAJE places and structures open on 31 December ``annee`` whose PSU financing is « non renseigné ».

    ``{"places": int, "structures": int, "libelle": str}`` for the whole list, or for the communes
    of ``territoire``.  Every figure that splits PSU / hors PSU shows this next to it.
    """
    s = inputs.structure_arrays
    if s is None:
        return {"places": 0, "structures": 0, "libelle": ""}
    m = open_mask(s, annee) & (s["kind"] == KIND_EAJE) & s["psu_nr"]
    if territoire is not None and parse_territoire(territoire)[0] != "france":
        tn, tc = parse_territoire(territoire)
        inside = masque(inputs.base, tn, tc).to_numpy()
        m &= inside[s["pos"]]
    places, nb = int(s["places"][m].sum()), int(m.sum())
    lib = ""
    if nb:
        lib = (f"PSU « non renseigné » pour {fr_number(places, 0)} places d'EAJE ({fr_number(nb, 0)} structure(s)) : "
               "ni en PSU ni hors PSU")
    return {"places": places, "structures": nb, "libelle": lib}
