"""Coverage indicators of every territory of one level: EAJE places per 100 children under 3,
RPE staffing, QPV and FRR/ZRR, published Cnaf rates and births, by summing the communes.

The inputs come ready in a :class:`~planning.entrees.CoverageInputs` (read from the store by
:mod:`data.entrees`); the per-commune arrays of a year come from :mod:`planning.stock`, the
catalogue of indicators from :mod:`planning.catalogue`, the flows from :mod:`planning.flux`.

The counting rules (EAJE types, open on 31 December, NaN for unknown) are those of
:mod:`planning.stock`; territories sum numerators and denominators, never average ratios.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .catalogue import parametre, sources
from .cnaf import caf_valeurs, enfants_au_31_decembre, naissances_annee
from .entrees import CoverageInputs
from .formats import fr_int
from .parametres import Baremes
from .stock import commune_stock
from .territoires import COLONNES, check_niveau, masque, parse_territoire

PARAM_TAILLE_BAS = "couverture.seuil_population_qualite"
PARAM_TAILLE_HAUT = "objectifs_cog.seuil_population_obligation_rpe"


# ---------------------------------------------------------------------------
# Aggregation
# ---------------------------------------------------------------------------
def ratio(num, den, factor: float = 1.0):
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = factor * num / den
    r[~(den > 0)] = np.nan
    return r


def tailles(annee: int, baremes: Baremes | None = None) -> tuple[str, str, str]:
    """The three size classes of communes, labelled from their two dated thresholds (3 500 and
    10 000 inhabitants in 2026): « moins de 3 500 », « 3 500 à 10 000 », « plus de 10 000 »."""
    bas = fr_int(parametre(PARAM_TAILLE_BAS, annee, baremes)[0])
    haut = fr_int(parametre(PARAM_TAILLE_HAUT, annee, baremes)[0])
    return f"moins de {bas}", f"{bas} à {haut}", f"plus de {haut}"


def _taille(pop: np.ndarray, seuil_bas: float, seuil_haut: float, libelles: tuple[str, str, str]) -> np.ndarray:
    out = np.where(pop > seuil_haut, libelles[2], np.where(pop > seuil_bas, libelles[1], libelles[0])).astype(object)
    out[~np.isfinite(pop)] = None
    return out


def _desert(enfants: np.ndarray, places: np.ndarray, par_place: float, sans_place: float) -> np.ndarray:
    out = pd.array([pd.NA] * len(enfants), dtype="boolean")
    known = np.isfinite(enfants) & np.isfinite(places)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(places > 0, enfants / places, np.inf)
    val = np.where(places > 0, ratio > par_place, enfants >= sans_place)
    out[known] = val[known]
    return out


def bin_sum(ids: np.ndarray, k: int, values, strict: bool) -> np.ndarray:
    """Sum per group id (``-1`` = no group).  ``strict``: NaN if any member is NaN;
    otherwise NaN only when every member is NaN."""
    v = np.asarray(values, dtype=float)
    ok = ids >= 0
    nan = np.isnan(v)
    out = np.bincount(ids[ok], weights=np.where(nan, 0.0, v)[ok], minlength=k)
    if strict:
        bad = np.bincount(ids[ok], weights=nan[ok].astype(float), minlength=k) > 0
    else:
        bad = np.bincount(ids[ok], weights=(~nan[ok]).astype(float), minlength=k) == 0
    out[bad] = np.nan
    return out


def _qpv_distincts(inputs: CoverageInputs, ids: np.ndarray, k: int) -> np.ndarray:
    """Distinct QPV per group (a QPV over two communes of the group counts once); NaN without the layer."""
    if inputs.qpv_pairs is None:
        return np.full(k, np.nan)
    pairs = inputs.qpv_pairs
    pos = inputs.index.get_indexer(pairs["code_insee"])
    uniq = pd.DataFrame({"g": ids[pos[pos >= 0]], "q": pairs["code_qp"].to_numpy(dtype=object)[pos >= 0]})
    uniq = uniq[uniq["g"] >= 0].drop_duplicates()
    return np.bincount(uniq["g"].to_numpy(), minlength=k).astype(float)


def level_ids(inputs: CoverageInputs, niveau: str) -> tuple[np.ndarray, int, pd.DataFrame]:
    """Group id of every commune for a level, and the year-independent columns (cached)."""
    key = ("level", niveau)
    if key in inputs.cache:
        return inputs.cache[key]
    base = inputs.base
    n = len(base)
    nb_qpv = base["nb_qpv"].to_numpy(dtype=float)
    frr = base["frr_zrr"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    enf = base["enfants_moins_3"].to_numpy(dtype=float)
    if niveau == "commune":
        ids = np.arange(n)
        static = pd.DataFrame({
            "code": base["code_insee"], "nom": base["nom"], "niveau": "commune",
            "dep": base["dep"], "reg": base["reg"], "epci_siren": base["epci_siren"],
            "ept_code": base["ept_code"], "n_communes": 1.0, "population": base["population"],
            "enfants_moins_3": enf, "nb_qpv": nb_qpv, "qpv": base["qpv"],
            "nb_communes_qpv": np.where(np.isnan(nb_qpv), np.nan, (nb_qpv > 0).astype(float)),
            "classement_frr": base["classement_frr"], "frr_zrr": base["frr_zrr"],
            "nb_communes_frr_zrr": frr, "niveau_densite": base["niveau_densite"],
            "communes_sans_donnee_enfants": np.isnan(enf).astype(float),
        })
        inputs.cache[key] = (ids, n, static)
        return inputs.cache[key]
    if niveau == "france":
        ids = np.zeros(n, dtype=np.intp)
        codes = np.array(["FR"], dtype=object)
        first = np.array([0])
    else:
        col = COLONNES[niveau][0]
        ids, uniques = pd.factorize(base[col], use_na_sentinel=True)
        codes = np.asarray(uniques, dtype=object)
        _, first = np.unique(ids[ids >= 0], return_index=True)
        first = np.flatnonzero(ids >= 0)[first]
    k = len(codes)
    static = pd.DataFrame({"code": codes})
    if niveau == "france":
        static["nom"] = "France"
        static["dep"] = np.nan
        static["reg"] = np.nan
    else:
        static["nom"] = base[COLONNES[niveau][1]].to_numpy(dtype=object)[first]
        if niveau == "departement":
            static["dep"] = codes
            static["reg"] = base["reg"].to_numpy(dtype=object)[first]
        elif niveau == "region":
            static["dep"] = np.nan
            static["reg"] = codes
        else:
            dep = inputs.dep_principal[niveau].reindex(codes).to_numpy(dtype=object)
            static["dep"] = dep
            static["reg"] = base.drop_duplicates("dep").set_index("dep")["reg"].reindex(dep).to_numpy(dtype=object)
    static.insert(2, "niveau", niveau)
    static["n_communes"] = bin_sum(ids, k, np.ones(n), strict=False)
    static["population"] = bin_sum(ids, k, base["population"].to_numpy(dtype=float), strict=False)
    static["enfants_moins_3"] = bin_sum(ids, k, enf, strict=False)
    static["nb_qpv"] = _qpv_distincts(inputs, ids, k)
    static["qpv"] = static["nb_qpv"] > 0 if inputs.qpv_pairs is not None else pd.array([pd.NA] * k, dtype="boolean")
    static["nb_communes_qpv"] = bin_sum(ids, k, np.where(np.isnan(nb_qpv), np.nan, (nb_qpv > 0).astype(float)),
                                         strict=True)
    static["classement_frr"] = pd.array([pd.NA] * k, dtype="str")
    nf = bin_sum(ids, k, frr, strict=True)
    flag = pd.array(nf > 0, dtype="boolean")
    flag[np.isnan(nf)] = pd.NA
    static["frr_zrr"] = flag
    static["nb_communes_frr_zrr"] = nf
    static["niveau_densite"] = np.nan
    static["communes_sans_donnee_enfants"] = bin_sum(ids, k, np.isnan(enf).astype(float), strict=False)
    inputs.cache[key] = (ids, k, static)
    return inputs.cache[key]


SUM_STRICT = ["places_psu", "places_hors_psu", "places_eaje", "places_mam", "nb_rpe", "etp_rpe", "am_rpe",
              "places_psu_non_renseigne"]


def indicateurs(inputs: CoverageInputs, niveau: str, annee: int, territoire=None) -> pd.DataFrame:
    """Coverage indicators of every territory of one level in ``annee`` (stock at 31 December).

    ``niveau``: commune, epci, ept, departement, region or france.  ``territoire``
    (``"departement:89"``, ``("epci", siren)``, a :class:`~planning.territoires.Territoire`)
    keeps the units that have at least one commune in it; an EPCI straddling two
    départements is always computed on all its member communes.

    Columns: code, nom, niveau, dep, reg, n_communes, population, enfants_moins_3,
    places_psu, places_hors_psu, places_eaje, places_mam, taux_eaje_psu, taux_eaje_hors_psu,
    taux_eaje, enfants_par_place, desert, nb_rpe, etp_rpe, am_rpe, am_par_etp, nb_qpv, qpv,
    nb_communes_qpv, classement_frr (commune level), frr_zrr, nb_communes_frr_zrr,
    niveau_densite (commune level), taille, rang_dans_departement, txcouv_caf, annee_txcouv_caf,
    communes_sans_donnee_enfants, annee.  NaN means « donnée non disponible ».
    """
    niveau = check_niveau(niveau)
    annee = int(annee)
    base = inputs.base
    stock = commune_stock(inputs, annee)
    seuil_bas = float(parametre(PARAM_TAILLE_BAS, annee, inputs.baremes)[0])
    seuil_haut = float(parametre(PARAM_TAILLE_HAUT, annee, inputs.baremes)[0])
    d_ratio = float(parametre("couverture.desert_enfants_par_place", annee, inputs.baremes)[0])
    d_min = float(parametre("couverture.desert_enfants_sans_place", annee, inputs.baremes)[0])

    ids, k, static = level_ids(inputs, niveau)
    out = static.copy()
    _enfants_de_l_annee(inputs, niveau, annee, ids, k, out)   # year-aware children (births), planning.cnaf
    for c in SUM_STRICT:
        out[c] = stock[c] if niveau == "commune" else bin_sum(ids, k, stock[c], strict=True)

    enf = out["enfants_moins_3"].to_numpy(dtype=float)
    # PSU « non renseigné »: places_psu / places_hors_psu and their rates count the known places only,
    # places_psu_non_renseigne says how many are left out (NaN-free: 0 when everything is known)
    out["taux_eaje_psu"] = ratio(out["places_psu"], enf, 100.0)
    out["taux_eaje_hors_psu"] = ratio(out["places_hors_psu"], enf, 100.0)
    out["taux_eaje"] = ratio(out["places_eaje"], enf, 100.0)
    out["enfants_par_place"] = ratio(enf, out["places_eaje"])
    out["desert"] = _desert(enf, out["places_eaje"].to_numpy(dtype=float), d_ratio, d_min)
    out["am_par_etp"] = ratio(out["am_rpe"], out["etp_rpe"])
    out["taille"] = _taille(out["population"].to_numpy(dtype=float), seuil_bas, seuil_haut,
                            tailles(annee, inputs.baremes))
    if niveau in ("commune", "epci", "ept"):
        out["rang_dans_departement"] = (out.groupby("dep", sort=False)["taux_eaje"]
                                        .rank(method="min", ascending=False))
    else:
        out["rang_dans_departement"] = np.nan
    _publie_et_naissances(inputs, niveau, annee, ids, k, out)  # data.caf.fr rates, births, planning.cnaf
    out["annee"] = annee
    if territoire is not None:
        tn, tc = parse_territoire(territoire)
        if tn != "france":
            m = masque(base, tn, tc).to_numpy()
            if niveau == "france":
                raise ValueError("Le niveau « france » ne se restreint pas à un territoire.")
            wanted = set(base.loc[m, COLONNES[niveau][0]].dropna().astype(str))
            out = out[out["code"].astype(str).isin(wanted)]
    out = out.reset_index(drop=True)
    out.attrs["annee"] = annee
    out.attrs["niveau"] = niveau
    out.attrs["sources"] = sources(inputs)
    return out


# ---------------------------------------------------------------------------
# Children by year, published Cnaf rates, births (planning.cnaf) — hooks of indicateurs()
# ---------------------------------------------------------------------------
def _enfants_de_l_annee(inputs: CoverageInputs, niveau: str, annee: int, ids: np.ndarray, k: int,
                        out: pd.DataFrame) -> None:
    """Children under 3 at the stock date (31 December ``annee`` ≈ 1 January ``annee + 1``): census,
    else births of ``annee - 2`` … ``annee``, else the layer's value (see planning.cnaf)."""
    if inputs.naissances is None:
        return
    vals, _nature, info = enfants_au_31_decembre(inputs, annee)
    if niveau == "commune":
        out["enfants_moins_3"] = vals
        out["communes_sans_donnee_enfants"] = np.isnan(vals).astype(float)
    else:
        out["enfants_moins_3"] = bin_sum(ids, k, vals, strict=False)
        out["communes_sans_donnee_enfants"] = bin_sum(ids, k, np.isnan(vals).astype(float), strict=False)
    out.attrs["enfants"] = info


def _publie_et_naissances(inputs: CoverageInputs, niveau: str, annee: int, ids: np.ndarray, k: int,
                          out: pd.DataFrame) -> None:
    """Columns txcouv_caf… (published, latest year ≤ annee, with annee_txcouv_caf), ecart_eaje_caf
    (computed minus published EAJE rate, same year only), naissances (with annee_naissances)."""
    pub = caf_valeurs(inputs, niveau, out["code"], annee)
    for c in pub.columns:
        out[c] = pub[c].to_numpy()
    same_year = out["annee_txcouv_caf"].to_numpy(dtype=float) == float(annee)
    out["ecart_eaje_caf"] = np.where(same_year, out["taux_eaje"].to_numpy(dtype=float)
                                     - out["txcouv_caf_eaje"].to_numpy(dtype=float), np.nan)
    births, year = naissances_annee(inputs, annee)
    out["naissances"] = births if niveau == "commune" else bin_sum(ids, k, births, strict=False)
    out["annee_naissances"] = np.nan if year is None else float(year)
