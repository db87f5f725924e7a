"""Demand to the horizon (2030 by default): children under 3 projected from births, places needed.

Children under 3 counted with the stock of places of 31 December N are those of 1 January N+1, i.e. the
births of N-2, N-1 and N (same rule as :mod:`planning.cnaf`).  Births after the last published year are
projected with the recent trend: the mean annual rate between the first and the last year of a window
of ``sppe.besoins_fenetre_tendance`` years, plus a user-chosen adjustment (a scenario « +/− x points a
year »).  Places needed in year N = ⌈ target coverage / 100 × children(N) ⌉; places to create = what is
missing against today's EAJE places (never negative).  Pure: series in, frames out.
"""
from __future__ import annotations

import copy
import math
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .parametres import Baremes

CIBLES = {"departement": "taux du département", "mediane": "médiane du département", "france": "France",
          "utilisateur": "valeur saisie"}


def naissances_territoire(naissances: pd.DataFrame | None, codes: Iterable[str]) -> pd.Series:
    """Births per year over the communes ``codes`` (a year where every commune is missing is dropped)."""
    if naissances is None or not len(naissances):
        return pd.Series(dtype=float)
    sub = naissances[naissances["code_insee"].astype(str).isin(set(map(str, codes)))]
    s = sub.groupby("annee")["naissances"].sum(min_count=1).dropna()
    s.index = s.index.astype(int)
    return s.sort_index()


def tendance(serie: pd.Series, fenetre: int) -> float | None:
    """Mean annual rate over the last ``fenetre`` published years: (B_last / B_first)^(1/(n-1)) − 1."""
    s = serie.dropna()
    s = s[s.index > s.index.max() - int(fenetre)] if len(s) else s
    if len(s) < 2 or s.iloc[0] <= 0:
        return None
    return float((s.iloc[-1] / s.iloc[0]) ** (1.0 / (s.index[-1] - s.index[0])) - 1.0)


def projeter_naissances(serie: pd.Series, annee_fin: int, taux: float) -> pd.DataFrame:
    """annee, naissances, projetee (bool): published years, then B_last × (1 + taux)^(y − last)."""
    s = serie.dropna()
    rows = [{"annee": int(y), "naissances": float(v), "projetee": False} for y, v in s.items()]
    if len(s):
        last_y, last_v = int(s.index[-1]), float(s.iloc[-1])
        rows += [{"annee": y, "naissances": last_v * (1.0 + taux) ** (y - last_y), "projetee": True}
                 for y in range(last_y + 1, int(annee_fin) + 1)]
    return pd.DataFrame(rows, columns=["annee", "naissances", "projetee"])


def besoin(naissances: pd.Series, places_actuelles: float, annee_debut: int, *, taux_cible: float,
           horizon: int | None = None, fenetre: int | None = None, ajustement: float = 0.0,
           baremes: Baremes | None = None) -> pd.DataFrame:
    """Year by year from ``annee_debut`` to ``horizon``: children under 3, places needed for ``taux_cible``
    (places per 100 children), places to create against ``places_actuelles``.

    ``ajustement``: added to the trend rate (0.01 = one more point a year).  ``attrs`` carry the trend,
    the window, the last published year and the French explanation.
    """
    b = baremes or Baremes()
    horizon = int(horizon or b.value("sppe.besoins_horizon", max(annee_debut, 2025)))
    fenetre = int(fenetre or b.value("sppe.besoins_fenetre_tendance", max(annee_debut, 2025)))
    t = tendance(naissances, fenetre)
    taux = (t or 0.0) + float(ajustement)
    proj = projeter_naissances(naissances, horizon, taux).set_index("annee")
    rows = []
    for y in range(int(annee_debut), horizon + 1):
        window = [y - 2, y - 1, y]
        if not all(a in proj.index for a in window):
            continue
        enf = float(proj.loc[window, "naissances"].sum())
        need = math.ceil(taux_cible / 100.0 * enf - 1e-9) if np.isfinite(enf) else np.nan
        rows.append({"annee": y, "enfants_moins_3": enf, "projete": bool(proj.loc[window, "projetee"].any()),
                     "places_necessaires": need,
                     "places_a_creer": max(0, need - int(places_actuelles)) if np.isfinite(places_actuelles) else np.nan})
    out = pd.DataFrame(rows, columns=["annee", "enfants_moins_3", "projete", "places_necessaires", "places_a_creer"])
    last = int(naissances.dropna().index.max()) if len(naissances.dropna()) else None
    out.attrs.update(tendance=t, taux_applique=taux, fenetre=fenetre, derniere_annee=last, horizon=horizon,
                     taux_cible=taux_cible, places_actuelles=places_actuelles, naissances=proj.reset_index())
    return out


def mediane(taux: Iterable[float]) -> float | None:
    v = np.asarray([x for x in taux if x is not None and np.isfinite(x)], dtype=float)
    return float(np.median(v)) if v.size else None


def scenario_depuis_besoin(base: dict[str, Any], besoin_df: pd.DataFrame, code_insee: str,
                           nom: str = "Places nouvelles à créer (besoin SPPE)") -> dict[str, Any]:
    """The simulator's pre-filled scenario (planning.scenario_edit.scenario_from_store) plus one structure
    opening the places to create year by year, within the scenario's period (at most its last year:
    the simulator covers 2018–2040).  Costs are the editable defaults of the first existing structure, or
    of ``saisie.yaml``; they stay « à vérifier »."""
    out = copy.deepcopy(base)
    debut, fin = int(out["periode"]["debut"]), int(out["periode"]["fin"])
    fin = max(fin, int(besoin_df["annee"].max())) if len(besoin_df) else fin
    out["periode"]["fin"] = min(fin, debut + 20)
    places = {str(int(r.annee)): int(r.places_a_creer) for r in besoin_df.itertuples()
              if debut <= int(r.annee) <= out["periode"]["fin"] and np.isfinite(r.places_a_creer)}
    compact, last = {}, None
    for y in sorted(places):
        v = max(places[y], last or 0)            # never close places the need once called for
        if v != last:
            compact[y] = v
            last = v
    modele = dict(out["structures"][0]) if out.get("structures") else {}
    defaults = {k: modele[k] for k in ("prix_revient_horaire", "heures_facturees_par_place", "taux_facturation",
                                       "participation_horaire_moyenne", "part_enfants_handicap") if k in modele}
    if not defaults:
        b = Baremes()
        defaults = {k: b.value(f"saisie.{k}", debut) for k in ("prix_revient_horaire", "heures_facturees_par_place",
                                                              "taux_facturation", "participation_horaire_moyenne",
                                                              "part_enfants_handicap")}
    out.setdefault("structures", []).append({
        "id": "besoin-sppe", "nom": nom, "code_insee": str(code_insee), "gestion": "publique",
        "places_ouvertes": compact or {str(debut): 0}, **defaults, "fournit_couches": True, "fournit_repas": True,
        "journees_pedagogiques": 0, "qpv": bool(out["territoire"].get("qpv")),
        "frr_zrr": bool(out["territoire"].get("frr_zrr"))})
    out["nom"] = f"{out.get('nom', 'CTG')} — besoin SPPE"
    return out
