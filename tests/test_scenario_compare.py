"""Comparison of scenarios: differences by year against the first (reference) scenario."""
from __future__ import annotations

import copy
import json

import pytest

from data.store import PROJECT_ROOT
from planning.scenario_compare import compare_results
from planning.simulation import simulate


def _example():
    return json.loads((PROJECT_ROOT / "examples" / "scenarios" / "ctg_yonne_rural.json").read_text(encoding="utf-8"))


def test_extra_structure_from_2026_changes_only_2026_and_after():
    base = _example()
    more = copy.deepcopy(base)
    extra = copy.deepcopy(base["structures"][0])
    extra.update({"id": "nouvelle", "nom": "Nouvelle micro-crèche", "places_ouvertes": {"2026": 10}})
    more["structures"].append(extra)
    cmp_ = compare_results({"Base": simulate(base), "Plus 10 places": simulate(more)})
    d = cmp_.differences.set_index("annee")
    # 10 more places in 2026 and 2027, none before
    assert list(d["ecart_places"]) == [0, 0, 0, 10, 10]
    assert (d.loc[[2023, 2024, 2025], "ecart_total_caf"] == 0).all()
    assert (d.loc[[2026, 2027], "ecart_total_caf"] > 0).all()
    # the summary's Caf total is the cumulated total of each scenario
    row = cmp_.summary.set_index("Indicateur").loc["Financement Caf (€)"]
    assert row["Base"] == pytest.approx(round(simulate(base).to_dict()["cumul"]["total_caf_territoire"]), abs=1)
    assert row["Plus 10 places"] > row["Base"]


def test_needs_two_scenarios():
    with pytest.raises(ValueError):
        compare_results({"Seul": simulate(_example())})
