"""French formatting (planning/formats.py): one test per format, values written out by hand.

U+202F (narrow no-break space) separates thousands and precedes « € » and « % »; it is written
``\\u202f`` below so that the expected strings show it.
"""
import datetime as dt
import math

import pandas as pd

from planning.formats import (
    NA_LABEL,
    NNBSP,
    fr_date,
    fr_euros,
    fr_frame,
    fr_int,
    fr_number,
    fr_parameter_value,
    fr_percent,
    fr_ratio,
    fr_small_ratio,
    fr_year,
    is_missing,
)


def test_separator_is_the_narrow_no_break_space():
    assert NNBSP == "\u202f"
    assert NA_LABEL == "donnée non disponible"


def test_missing_values():
    for v in (None, math.nan, pd.NA, pd.NaT, float("nan")):
        assert is_missing(v)
    for v in (0, 0.0, "", "texte", 2023):
        assert not is_missing(v)


def test_number():
    assert fr_number(1234.5) == "1\u202f234,5"
    assert fr_number(1234567.891, 2) == "1\u202f234\u202f567,89"
    assert fr_number(673852, 0) == "673\u202f852"          # never « 673,852 »
    assert fr_number(-0.04) == "0,0"                      # never « -0,0 »
    assert fr_number(-1234.56, 1) == "-1\u202f234,6"
    assert fr_number(math.nan) == NA_LABEL
    assert fr_number(None, na="n.d.") == "n.d."


def test_int():
    assert fr_int(35000) == "35\u202f000"
    assert fr_int(1234.6) == "1\u202f235"                 # rounded
    assert fr_int(None) == NA_LABEL


def test_year_has_no_thousands_separator():
    assert fr_year(2023) == "2023"                        # never « 2 023 »
    assert fr_year(2023.0) == "2023"
    assert fr_year(None) == NA_LABEL


def test_euros():
    assert fr_euros(1234.6) == "1\u202f235\u202f€"
    # 3 254 641 € (cumul Caf of the Yonne example), and 2 decimals for a tarif
    assert fr_euros(3254641.4) == "3\u202f254\u202f641\u202f€"
    assert fr_euros(1.2345, 2) == "1,23\u202f€"
    assert fr_euros(None) == NA_LABEL


def test_percent_takes_a_percent():
    assert fr_percent(56.34) == "56,3\u202f%"
    assert fr_percent(100, 0) == "100\u202f%"
    assert fr_percent(None) == NA_LABEL


def test_ratio_takes_a_ratio():
    assert fr_ratio(0.563) == "56,3\u202f%"
    assert fr_ratio(0.95, 0) == "95\u202f%"
    # 32 towns with an RPE out of 35: 32 / 35 = 0.914285… → 91,4 %
    assert fr_ratio(32 / 35) == "91,4\u202f%"
    assert fr_ratio(None) == NA_LABEL


def test_small_ratio_keeps_four_decimals_of_percent():
    # taux d'effort 2025 for one child, 0.0619 % of monthly resources per hour
    assert fr_small_ratio(0.000619) == "0,0619\u202f%"
    assert fr_small_ratio(0.0005) == "0,05\u202f%"
    assert fr_small_ratio(0.66) == "66\u202f%"


def test_date():
    assert fr_date(dt.date(2026, 1, 1)) == "1er janvier 2026"
    assert fr_date(dt.date(2026, 11, 26)) == "26 novembre 2026"


def test_parameter_value():
    assert fr_parameter_value(2023, "année") == "2023"
    assert fr_parameter_value(0.66, "ratio") == "66\u202f%"
    assert fr_parameter_value(0.000619, "ratio des ressources mensuelles par heure") == "0,0619\u202f%"
    assert fr_parameter_value(10000, "habitants") == "10\u202f000"
    assert fr_parameter_value(8.6, "€/heure") == "8,60"
    assert fr_parameter_value([0.5, 0.6], "ratio") == "50\u202f% ; 60\u202f%"
    assert fr_parameter_value({"bas": 1.0, "haut": 1.2}) == "bas : 1 ; haut : 1,20"
    assert fr_parameter_value("lineaire", "règle", {"lineaire": "règle linéaire"}) == "règle linéaire"
    assert fr_parameter_value(True) == "oui"


def test_frame_for_a_screen():
    df = pd.DataFrame({"Année": [2023, 2024], "Places": [673852, None], "Taux": [0.563, 0.6],
                       "Nom": ["Auxerre", None]})
    out = fr_frame(df, {"Année": "annee", "Places": "entier", "Taux": "ratio"})
    assert out["Année"].tolist() == ["2023", "2024"]
    assert out["Places"].tolist() == ["673\u202f852", ""]          # never « 673,852 » nor « None »
    assert out["Taux"].tolist() == ["56,3\u202f%", "60,0\u202f%"]
    assert out["Nom"].tolist() == ["Auxerre", ""]
    assert df["Places"].iloc[0] == 673852                          # the input is not modified


def test_frame_guesses_the_numeric_columns():
    df = pd.DataFrame({"Année publiée": [2022.0, None], "Places": [12.0, None], "Taux": [56.25, 3.0],
                       "QPV": [True, False], "Lignes": [1234, 5]})
    out = fr_frame(df)
    assert out["Année publiée"].tolist() == ["2022", ""]
    assert out["Places"].tolist() == ["12", ""]                     # whole floats as whole numbers
    assert out["Taux"].tolist() == ["56,2", "3,0"]                  # one decimal (56.25 rounds half to even)
    assert out["QPV"].tolist() == ["oui", "non"]
    assert out["Lignes"].tolist() == ["1\u202f234", "5"]


def test_stored_instants_are_shown_at_paris_time():
    import datetime as dt

    from planning.formats import fr_horodatage

    # 19:30 UTC on 1 December is 20:30 in Paris (UTC+1 in winter); 12:00 UTC on 1 July is 14:00 (UTC+2)
    assert fr_horodatage(dt.datetime(2026, 12, 1, 19, 30)) == "01/12/2026 20:30"        # naive = UTC (SQLite)
    assert fr_horodatage(dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.timezone.utc)) == "01/07/2026 14:00"
    assert fr_horodatage(None) == "donnée non disponible"
