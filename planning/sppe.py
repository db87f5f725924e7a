"""Service public de la petite enfance (SPPE): who must do what, and whether it is done.

Law (loi 2023-1196, art. 17; CASF L.214-1-3; ``../shared/docs/DOMAIN.md`` §2 and §10): every commune
is an *autorité organisatrice* since 1 January 2025; over 3 500 inhabitants it also plans the offer and
supports its quality; over 10 000 it adopts a **schéma pluriannuel** (a CTG with the same content counts)
and has an **RPE** since 1 January 2026.  When an EPCI holds the petite-enfance competence, the EPCI is
the authority and the thresholds apply to the total population of its communes.

Pure: every input is passed in (communes, competence list, structure list, schéma statuses, date,
barèmes); the command line (:mod:`planning.cli_sppe`) and the page load them through ``data/``.

* :func:`seuils` — thresholds and start dates, from the dated parameters.
* :func:`palier` — « toutes » / « 3500 » / « 10000 » (strictly more than the threshold: « plus de »).
* :func:`autorites` — one row per competent authority (commune, or EPCI / EPT holding the competence).
* :func:`rpe_par_commune` — RPE open at a date per commune, since when; NaN where no list covers it.
* :func:`obligations` — the authorities with the status of each obligation.
* :func:`resultat` — everything above for a perimeter, with its :meth:`ResultatSppe.to_dict` (CLI JSON).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .parametres import Baremes

PALIERS = ("toutes", "3500", "10000")   # stable keys; labels come from the parameters (:func:`libelle_palier`)
PARAM_PLANIFICATION = "couverture.seuil_population_qualite"
PARAM_SCHEMA = "sppe.seuil_schema_pluriannuel"
PARAM_RPE = "objectifs_cog.seuil_population_obligation_rpe"
STATUTS_SCHEMA = {
    "adopte": "schéma adopté",
    "ctg": "CTG en tenant lieu",
    "en_cours": "en cours d'élaboration",
    "aucun": "aucun schéma",
}
STATUTS_REMPLIS = ("adopte", "ctg")
NON_RENSEIGNE = "non renseigné"
NOTE_INFORMATION = ("Information des familles (toutes les communes) : non suivie par l'atlas — aucune donnée "
                    "ne la renseigne ; à vérifier auprès de chaque commune.")
COLONNES_COMMUNES = ("code_insee", "nom", "dep", "reg", "population", "epci_siren", "epci_nom", "ept_code",
                     "ept_nom")


@dataclass(frozen=True)
class Seuils:
    """Thresholds of the obligations at a date, with the date each obligation starts."""

    planification: int
    schema: int
    rpe: int
    debut_schema: dt.date
    debut_rpe: dt.date
    population: str                     # "totale" or "municipale" (rule sppe.population_legale)
    sources: dict[str, str] = field(default_factory=dict)

    def en_vigueur(self, obligation: str, quand: dt.date) -> bool:
        return quand >= (self.debut_schema if obligation == "schema" else self.debut_rpe)


def _valeur_ou_premiere(b: Baremes, name: str, quand: dt.date):
    """The value in force, or the first one before a law applies (a threshold is known before its date)."""
    pv = b.get_or_none(name, quand)
    return pv if pv is not None else b.historique(name)[0]


def seuils(quand: dt.date, baremes: Baremes | None = None) -> Seuils:
    b = baremes or Baremes()
    p = {k: _valeur_ou_premiere(b, n, quand) for k, n in
         (("planification", PARAM_PLANIFICATION), ("schema", PARAM_SCHEMA), ("rpe", PARAM_RPE))}
    return Seuils(int(p["planification"].valeur), int(p["schema"].valeur), int(p["rpe"].valeur),
                  b.definition(PARAM_SCHEMA).premiere_date, b.definition(PARAM_RPE).premiere_date,
                  str(_valeur_ou_premiere(b, "sppe.population_legale", quand).valeur),
                  {k: v.source for k, v in p.items()})


def palier(population: float, s: Seuils) -> str | None:
    """« plus de 10 000 » means strictly more: 10 000 inhabitants is palier "3500"."""
    if population is None or not np.isfinite(population):
        return None
    if population > s.schema:
        return "10000"
    if population > s.planification:
        return "3500"
    return "toutes"


def libelle_palier(p: str | None, s: Seuils) -> str:
    from .formats import fr_int

    return {"10000": f"plus de {fr_int(s.schema)} habitants", "3500": f"plus de {fr_int(s.planification)} habitants",
            "toutes": f"{fr_int(s.planification)} habitants ou moins"}.get(p or "", NON_RENSEIGNE)


# ---------------------------------------------------------------------------
# Authorities
# ---------------------------------------------------------------------------
def competences_en_vigueur(competences: pd.DataFrame | None, quand: dt.date) -> dict[str, dt.date | None]:
    """SIREN of the EPCI (or EPT) holding the competence at ``quand`` → transfer date (None if unknown)."""
    if competences is None or not len(competences):
        return {}
    c = competences.copy()
    c["competence"] = c["competence"].astype("boolean").fillna(True) if "competence" in c else True
    dates = pd.to_datetime(c["date_transfert"], errors="coerce") if "date_transfert" in c else pd.Series(pd.NaT,
                                                                                                       index=c.index)
    keep = c["competence"].astype(bool) & (dates.isna() | (dates <= pd.Timestamp(quand)))
    return {str(s): (None if pd.isna(d) else d.date()) for s, d in zip(c.loc[keep, "siren_epci"], dates[keep])}


def _population(communes: pd.DataFrame, s: Seuils) -> pd.Series:
    pmun = pd.to_numeric(communes["population"], errors="coerce").astype(float)
    if s.population == "totale" and "ptot" in communes.columns:
        ptot = pd.to_numeric(communes["ptot"], errors="coerce").astype(float)
        return ptot.where(ptot.notna(), pmun)
    return pmun


def rattachement(communes: pd.DataFrame, competences: pd.DataFrame | None, quand: dt.date) -> pd.DataFrame:
    """Per commune: the competent authority (``autorite``, ``type_autorite``, ``nom_autorite``, ``date_transfert``).

    An EPT listed in the competence file wins over its EPCI (Métropole du Grand Paris).
    """
    held = competences_en_vigueur(competences, quand)
    c = communes.reset_index(drop=True)
    ept = c["ept_code"].where(c["ept_code"].isin(held)) if "ept_code" in c else pd.Series(np.nan, index=c.index)
    epci = c["epci_siren"].where(c["epci_siren"].isin(held))
    grp = ept.where(ept.notna(), epci)
    grp_nom = (c["ept_nom"].where(ept.notna(), c["epci_nom"]) if "ept_nom" in c else c["epci_nom"])
    out = pd.DataFrame({"code_insee": c["code_insee"].astype(str)})
    is_grp = grp.notna().to_numpy()
    out["autorite"] = np.where(is_grp, grp.astype(object), c["code_insee"].astype(str))
    out["type_autorite"] = np.where(is_grp, "epci", "commune")
    out["nom_autorite"] = np.where(is_grp, grp_nom.astype(object), c["nom"].astype(object))
    out["date_transfert"] = [held.get(g) if isinstance(g, str) else None for g in grp]
    return out


def autorites(communes: pd.DataFrame, competences: pd.DataFrame | None, quand: dt.date,
              s: Seuils, dans: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per competent authority: code, type, nom, population, palier, dep, communes (codes), date_transfert.

    ``dans``: INSEE codes of the perimeter; an EPCI is kept when one of its communes is inside and its
    population is always that of all its communes (the law counts the whole EPCI).
    """
    c = communes.reset_index(drop=True)
    r = rattachement(c, competences, quand)
    r["population"] = _population(c, s).to_numpy()
    r["dep"] = c["dep"].to_numpy()
    if dans is not None:
        wanted = set(r.loc[r["code_insee"].isin(set(dans)), "autorite"])
        r = r[r["autorite"].isin(wanted)]
    order = r.sort_values("population", ascending=False, kind="stable")
    g = order.groupby("autorite", sort=False)
    out = pd.DataFrame({
        "code": list(g.groups),
        "type": g["type_autorite"].first().to_numpy(),
        "nom": g["nom_autorite"].first().to_numpy(),
        "population": g["population"].sum(min_count=1).to_numpy(),
        "dep": g["dep"].first().to_numpy(),     # département of the most populated commune
        "communes": g["code_insee"].apply(lambda x: sorted(x)).to_numpy(),
        "date_transfert": g["date_transfert"].first().to_numpy(),
    })
    out["palier"] = [palier(p, s) for p in out["population"]]
    return out.sort_values(["population", "code"], ascending=[False, True]).reset_index(drop=True)


# ---------------------------------------------------------------------------
# RPE located in the territory
# ---------------------------------------------------------------------------
def rpe_par_commune(structures: pd.DataFrame | None, codes: Iterable[str], quand: dt.date,
                    connues: Iterable[str]) -> pd.DataFrame:
    """RPE open at ``quand`` per commune: ``nb_rpe`` (NaN when no structure list covers the commune),
    ``rpe_depuis`` (opening date of the oldest open RPE; NaT when unknown or estimated).

    ``connues``: INSEE codes whose structures are known (départements covered by the list).
    """
    codes = pd.Index([str(c) for c in codes])
    known = codes.isin(set(connues))
    nb = pd.Series(0.0, index=codes)
    depuis = pd.Series(pd.NaT, index=codes, dtype="datetime64[ns]")
    if structures is not None and len(structures):
        s = structures[structures["type"].astype(str).str.upper() == "RPE"]
        t = pd.Timestamp(quand)
        ouv = pd.to_datetime(s["date_ouverture"], errors="coerce") if "date_ouverture" in s else pd.Series(pd.NaT)
        ferm = pd.to_datetime(s["date_fermeture"], errors="coerce") if "date_fermeture" in s else pd.Series(pd.NaT)
        open_ = (ouv.isna() | (ouv <= t)) & (ferm.isna() | (ferm > t))
        s = s[open_.to_numpy()]
        ouv = ouv[open_.to_numpy()]
        if "ouverture_estimee" in s:
            ouv = ouv.where(~s["ouverture_estimee"].fillna(False).astype(bool))
        code = s["code_insee"].astype(str)
        nb = nb.add(code.value_counts().reindex(codes).fillna(0), fill_value=0)
        depuis = ouv.groupby(code.to_numpy()).min().reindex(codes)
    out = pd.DataFrame({"code_insee": codes, "nb_rpe": nb.to_numpy(dtype=float),
                        "rpe_depuis": pd.to_datetime(depuis.to_numpy())})
    out.loc[~known, "nb_rpe"] = np.nan
    out.loc[~known, "rpe_depuis"] = pd.NaT
    return out


def _rpe_autorite(membres: list[str], rpe: pd.DataFrame) -> dict[str, Any]:
    sub = rpe.loc[rpe.index.intersection(membres)]
    n = sub["nb_rpe"]
    if (n > 0).any():
        d = sub.loc[n > 0, "rpe_depuis"].min()
        return {"present": True, "nombre": int(n.sum()), "depuis": None if pd.isna(d) else d.date().isoformat(),
                "communes": sorted(sub.index[n > 0])}
    if n.isna().any() or len(sub) < len(membres):
        return {"present": None, "nombre": None, "depuis": None, "communes": []}
    return {"present": False, "nombre": 0, "depuis": None, "communes": []}


# ---------------------------------------------------------------------------
# Obligations
# ---------------------------------------------------------------------------
def statuts_schema(schemas: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    """code → {statut, date, origine} of the schéma statuses set on the page or imported."""
    if schemas is None or not len(schemas):
        return {}
    out = {}
    for r in schemas.itertuples(index=False):
        d = getattr(r, "date_statut", None)
        out[str(r.code)] = {"statut": str(r.statut),
                            "date": None if d is None or pd.isna(d) else pd.Timestamp(d).date().isoformat(),
                            "origine": str(getattr(r, "origine", "") or "")}
    return out


def _schema(code: str, obligatoire: bool, statuts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    st = statuts.get(code)
    statut = st["statut"] if st else None
    remplie = None if statut is None else statut in STATUTS_REMPLIS
    return {"obligatoire": obligatoire, "statut": statut, "date": st["date"] if st else None,
            "origine": st["origine"] if st else None,
            "obligation_remplie": remplie if obligatoire else None}


def obligations(aut: pd.DataFrame, rpe: pd.DataFrame, schemas: pd.DataFrame | None, quand: dt.date,
                s: Seuils) -> pd.DataFrame:
    """``aut`` (:func:`autorites`) with ``rpe_dans_le_territoire`` and ``schema`` (dicts, see the module),
    and flat columns for tables: ``rpe_statut`` / ``schema_statut`` (« remplie », « non remplie »,
    « donnée non disponible » / « non renseigné », « non concernée », « pas encore en vigueur »)."""
    rpe_idx = rpe.set_index("code_insee")
    statuts = statuts_schema(schemas)
    out = aut.copy()
    rpes, schs = [], []
    for r in aut.itertuples(index=False):
        pop = r.population if r.population is not None else np.nan
        oblig = bool(np.isfinite(pop) and pop > s.rpe and s.en_vigueur("rpe", quand))
        info = {"obligatoire": oblig, **_rpe_autorite(list(r.communes), rpe_idx)}
        info["obligation_remplie"] = info["present"] if oblig else None
        rpes.append(info)
        schs.append(_schema(str(r.code), bool(np.isfinite(pop) and pop > s.schema and s.en_vigueur("schema", quand)),
                            statuts))
    out["rpe_dans_le_territoire"] = rpes
    out["schema"] = schs
    out["rpe_statut"] = [_etat(x, "rpe", r_pal, s, quand) for x, r_pal in zip(rpes, aut["population"])]
    out["schema_statut"] = [_etat(x, "schema", r_pal, s, quand) for x, r_pal in zip(schs, aut["population"])]
    out["non_remplie"] = (out["rpe_statut"] == "non remplie") | (out["schema_statut"] == "non remplie")
    return out


def _etat(o: dict[str, Any], quoi: str, population: float, s: Seuils, quand: dt.date) -> str:
    seuil = s.rpe if quoi == "rpe" else s.schema
    if not (population is not None and np.isfinite(population) and population > seuil):
        return "non concernée"
    if not s.en_vigueur(quoi, quand):
        return "pas encore en vigueur"
    if o["obligation_remplie"] is None:
        return "donnée non disponible" if quoi == "rpe" else NON_RENSEIGNE
    return "remplie" if o["obligation_remplie"] else "non remplie"


# ---------------------------------------------------------------------------
# Result for a perimeter
# ---------------------------------------------------------------------------
@dataclass
class ResultatSppe:
    quand: dt.date
    territoire: dict[str, Any]
    seuils: Seuils
    table: pd.DataFrame                       # :func:`obligations`
    sources: dict[str, str] = field(default_factory=dict)

    def resume(self) -> dict[str, Any]:
        t = self.table
        return {
            "autorites": int(len(t)),
            "par_palier": {p: int((t["palier"] == p).sum()) for p in PALIERS},
            "par_type": {k: int((t["type"] == k).sum()) for k in ("commune", "epci")},
            "obligations_non_remplies": {"rpe": int((t["rpe_statut"] == "non remplie").sum()),
                                         "schema": int((t["schema_statut"] == "non remplie").sum())},
            "obligations_remplies": {"rpe": int((t["rpe_statut"] == "remplie").sum()),
                                     "schema": int((t["schema_statut"] == "remplie").sum())},
            "donnees_manquantes": {"rpe": int((t["rpe_statut"] == "donnée non disponible").sum()),
                                   "schema": int((t["schema_statut"] == NON_RENSEIGNE).sum())},
            "autorites_avec_obligation_non_remplie": int(t["non_remplie"].sum()),
        }

    def to_dict(self) -> dict[str, Any]:
        aut = []
        for r in self.table.itertuples(index=False):
            rpe = {k: v for k, v in r.rpe_dans_le_territoire.items()}
            aut.append({"code": r.code, "type": r.type, "nom": r.nom,
                        "population": None if pd.isna(r.population) else int(r.population),
                        "palier": r.palier, "rpe_dans_le_territoire": rpe, "schema": dict(r.schema)})
        s = self.seuils
        return {
            "date": self.quand.isoformat(), "territoire": self.territoire, "autorites": aut, "resume": self.resume(),
            "seuils": {"planification": s.planification, "schema": s.schema, "rpe": s.rpe,
                       "debut_schema": s.debut_schema.isoformat(), "debut_rpe": s.debut_rpe.isoformat(),
                       "population": s.population},
            "information_des_familles": NOTE_INFORMATION, "sources": self.sources,
        }


def resultat(communes: pd.DataFrame, *, quand: dt.date, territoire: dict[str, Any], dans: Iterable[str] | None,
             competences: pd.DataFrame | None = None, structures: pd.DataFrame | None = None,
             departements_couverts: Iterable[str] = (), schemas: pd.DataFrame | None = None,
             baremes: Baremes | None = None, sources: dict[str, str] | None = None) -> ResultatSppe:
    """Authorities of a perimeter (``dans``: its INSEE codes, None = France) and their obligations."""
    s = seuils(quand, baremes)
    missing = [c for c in ("code_insee", "nom", "dep", "population", "epci_siren", "epci_nom") if c not in communes]
    if missing:
        raise ValueError(f"Le tableau des communes n'a pas la colonne « {missing[0]} ».")
    aut = autorites(communes, competences, quand, s, dans)
    membres = sorted({c for cs in aut["communes"] for c in cs})
    deps = set(map(str, departements_couverts))
    connues = communes.loc[communes["dep"].isin(deps), "code_insee"].astype(str)
    rpe = rpe_par_commune(structures, membres, quand, connues)
    return ResultatSppe(quand, territoire, s, obligations(aut, rpe, schemas, quand, s), dict(sources or {}))
