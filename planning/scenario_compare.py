"""Side-by-side comparison of simulated scenarios (pure pandas)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pandas as pd

from .simulation import SimulationResult, fini

SUMMARY_ROWS = [
    ("total_caf_territoire", "Financement Caf (€)"),
    ("psu", "dont PSU (€)"),
    ("bonus_territoire_nouvelles", "dont bonus territoire places nouvelles (€)"),
    ("bonus_trajectoire", "dont bonus trajectoire (€)"),
    ("participations_familiales", "Participations familiales (€)"),
    ("cout_fonctionnement", "Coût de fonctionnement (€)"),
    ("reste_a_charge_collectivite", "Reste à charge de la collectivité (€)"),
]


@dataclass
class Comparison:
    reference: str
    summary: pd.DataFrame        # one row per indicator, one column per scenario
    differences: pd.DataFrame    # scenario, annee, ecart_total_caf, ecart_reste_a_charge, ecart_places
    totals: dict[str, dict]


def compare_results(results: Mapping[str, SimulationResult]) -> Comparison:
    """Compare scenarios; the first one is the reference for the differences."""
    names = list(results)
    if len(names) < 2:
        raise ValueError("Il faut au moins deux scénarios à comparer.")
    # figures straight from the results (no to_dict(): that would recompute every détail du calcul)
    cumuls = {n: r.cumul for n, r in results.items()}
    rows = []
    for key, label in SUMMARY_ROWS:
        rows.append({"Indicateur": label, **{n: round(float(cumuls[n].get(key, 0.0)), 0) for n in names}})
    last = {n: fini(results[n].annees[-1].trajectoire.to_dict()) for n in names}
    rows.append({"Indicateur": "Places PSU du territoire la dernière année",
                 **{n: float(last[n]["places"]) for n in names}})
    rows.append({"Indicateur": "Croissance des places PSU depuis la référence (%)",
                 **{n: round(100 * float(last[n]["croissance"] or 0.0), 1) for n in names}})
    rows.append({"Indicateur": "Palier du bonus trajectoire atteint (%)",
                 **{n: round(100 * float(last[n]["palier_atteint"] or 0.0), 0) for n in names}})
    summary = pd.DataFrame(rows)

    frames = {n: results[n].to_frames()["par_annee"].set_index("annee") for n in names}
    ref = names[0]
    diffs = []
    for n in names[1:]:
        years = frames[n].index.intersection(frames[ref].index)
        for y in years:
            a, b = frames[n].loc[y], frames[ref].loc[y]
            diffs.append({
                "scenario": n, "annee": int(y),
                "ecart_total_caf": round(float(a["total_caf_territoire"] - b["total_caf_territoire"]), 0),
                "ecart_reste_a_charge": round(float(a["reste_a_charge_collectivite"] - b["reste_a_charge_collectivite"]), 0),
                "ecart_places": float(a["places_psu_territoire"] - b["places_psu_territoire"]),
            })
    return Comparison(ref, summary, pd.DataFrame(diffs), {n: fini(cumuls[n]) for n in names})
