"""Map values: filters and flows over a period (planning/carte.py)."""
from __future__ import annotations

import pandas as pd

from planning.carte import MAP_INDICATORS, PERIOD_INDICATORS, filtrer, indicator_label


def test_filters_keep_the_right_communes():
    df = pd.DataFrame({
        "code": ["A", "B", "C", "D"],
        "qpv": [True, False, None, True],
        "classement_frr": ["FRR", "FRR+", "Non classée", "Ancienne ZRR en transition"],
        "taille": ["plus de 10 000", "moins de 3 500", "3 500 à 10 000", "plus de 10 000"],
        "niveau_densite": [1, 6, 4, 2],
    })
    assert list(filtrer(df, {})["code"]) == ["A", "B", "C", "D"]
    assert list(filtrer(df, {"qpv": True})["code"]) == ["A", "D"]          # unknown QPV is not "yes"
    assert list(filtrer(df, {"frr": True})["code"]) == ["A", "B"]          # FRR and FRR+ only
    assert list(filtrer(df, {"taille": ("plus de 10 000",), "densite": (1, 6)})["code"]) == ["A"]
    assert list(filtrer(df, {"qpv": True, "frr": True})["code"]) == ["A"]


def test_every_map_indicator_has_a_french_label():
    assert set(PERIOD_INDICATORS) <= set(MAP_INDICATORS)
    assert all(indicator_label(c) for c in MAP_INDICATORS)
    assert "part_villes_10000_avec_rpe" not in MAP_INDICATORS  # an RPE-page figure, not a map value
