"""Cell neutralisation, PDF markup escaping, French formats and secrecy of the export model."""
import datetime as dt

from exports.document import Colonne, Tableau, fr_date
from exports.safe import escape_markup, neutralise_cell


def test_formula_like_texts_get_an_apostrophe_numbers_stay_numbers():
    assert neutralise_cell("=1+1") == "'=1+1"
    assert neutralise_cell("+33 1 23") == "'+33 1 23"
    assert neutralise_cell("-x") == "'-x"
    assert neutralise_cell("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise_cell("\tcmd") == "'\tcmd"
    assert neutralise_cell("\rcmd") == "'\rcmd"
    assert neutralise_cell("Auxerre") == "Auxerre"
    assert neutralise_cell(-12.5) == -12.5          # a negative number is not a formula
    assert neutralise_cell(float("nan")) is None
    assert neutralise_cell("a\x00b") == "ab"        # XML-forbidden control character removed


def test_markup_is_escaped_for_reportlab():
    assert escape_markup("<b>x</b> & =1+1") == "&lt;b&gt;x&lt;/b&gt; &amp; =1+1"


def test_french_dates():
    assert fr_date(dt.date(2026, 11, 26)) == "26 novembre 2026"
    assert fr_date(dt.date(2026, 1, 1)) == "1er janvier 2026"


def test_counts_between_1_and_4_are_masked_and_their_rates_too():
    t = Tableau("t", [Colonne("enf", "Enfants", "effectif"),
                      Colonne("taux", "Taux", "decimal1", masque_si="enf"),
                      Colonne("places", "Places", "entier")],
                [{"enf": 3.0, "taux": 333.3, "places": 10},   # 10 places for 3 children: both hidden
                 {"enf": 0.0, "taux": None, "places": 0},     # zero is shown
                 {"enf": 1234.0, "taux": 36.9, "places": 456}])
    assert t.lignes_texte() == [["< 5", "secret", "10"], ["0", "n.d.", "0"],
                                ["1\u202f234", "36,9", "456"]]
    assert t.valeur(t.lignes[0], t.colonnes[0]) == ("< 5", None)
    assert t.valeur(t.lignes[2], t.colonnes[1]) == (36.9, "#,##0.0")
