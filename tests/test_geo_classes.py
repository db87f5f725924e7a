"""Classification and palettes (geo/classes.py); French formats are tested in test_formats.py."""
import math

import pytest

from planning.formats import NA_LABEL
from geo.classes import (
    NA_COLOR,
    YLGNBU,
    classify,
    palette,
    seuils_couverture,
    type_structure,
)


def test_seuils_classes_and_missing_class():
    # seuils [0, 50, 60]: 0 is the bottom of the scale, breaks at 50 and 60 → 3 classes
    # 10 → « moins de 50 », 45 → « moins de 50 », 55 → « 50 à moins de 60 », 70 → « 60 et plus »,
    # NaN → « donnée non disponible » (index -1)
    values = [10, 45, 55, 70, math.nan]
    cls = classify(values, method="seuils", seuils=[0, 50, 60])
    assert cls.labels == ("moins de 50", "50 à moins de 60", "60 et plus")
    assert list(cls.assign(values)) == [0, 0, 1, 2, -1]
    assert cls.counts == (2, 1, 1)
    assert cls.na_count == 1
    assert cls.na_label == NA_LABEL == "donnée non disponible"
    # the missing class is drawn distinctly from every class (including the one holding 0)
    assert cls.na_color == NA_COLOR and NA_COLOR not in cls.colors
    assert cls.legend_items()[-1] == (NA_LABEL, NA_COLOR, 1, True)


def test_seuils_bounds_are_lower_inclusive():
    cls = classify([0], method="seuils", seuils=[0, 50, 60])
    # 50 is the lower bound of « 50 à moins de 60 »; 60 opens « 60 et plus »; 49.99 stays below
    assert list(cls.assign([49.99, 50, 59.99, 60, 0, -3])) == [0, 1, 1, 2, 0, 0]


def test_quantiles_on_ten_values():
    # 1..10, k=2: the median is (5 + 6) / 2 = 5.5 → « moins de 5,5 » (1..5) and « 5,5 et plus » (6..10)
    cls = classify(list(range(1, 11)), method="quantiles", k=2)
    assert cls.bins == (5.5,)
    assert cls.labels == ("moins de 5,5", "5,5 et plus")
    assert cls.counts == (5, 5)


def test_quantiles_repeated_values_give_fewer_classes():
    cls = classify([1, 1, 1, 1, 2], method="quantiles", k=5)
    assert cls.k < 5
    assert sum(cls.counts) == 5


def test_default_coverage_thresholds_hold_national_references():
    s = seuils_couverture(2025)
    # 50 (seuil bas) and 60 (repère national) come from objectifs_cog.taux_couverture_reference
    assert s == [0, 20, 35, 50, 60, 75]


def test_bad_thresholds_give_french_message():
    with pytest.raises(ValueError, match="strictement croissants"):
        classify([1, 2], method="seuils", seuils=[0, 60, 50])
    with pytest.raises(ValueError, match="Méthode de classification inconnue"):
        classify([1, 2], method="jenks")


def test_palettes():
    assert palette("YlGnBu", 5) == YLGNBU[5]
    assert palette("YlGnBu", 5)[0] == "#ffffcc"  # ColorBrewer YlGnBu 5, lightest
    assert len(palette("cividis", 6)) == 6
    assert len(set(palette("YlGnBu", 12))) == 12
    with pytest.raises(ValueError):
        palette("rainbow", 3)


def test_structure_types_okabe_ito():
    assert type_structure("EAJE") == ("Crèche (EAJE)", "#0072B2")
    assert type_structure("INCONNU")[0] == "INCONNU"
