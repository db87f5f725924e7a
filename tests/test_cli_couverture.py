"""``python -m planning couverture``: figures checked by hand against the fixtures.

Store: the référentiel, the Cnaf commune fixture (API field names), the INSEE births workbook fixture
and two structures in Auxerre (hand-written below).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data.importers import import_file, write_structures
from planning.cli_couverture import couverture, main
from planning.coverage import load_inputs

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture()
def store(estimate_store, monkeypatch):
    import_file("caf_couverture", FIX / "caf" / "txcouv_pe_com.csv", estimate_store)
    import_file("caf_couverture", FIX / "caf" / "txcouv_pe_dep.csv", estimate_store)
    import_file("naissances", FIX / "naissances" / "naissances_domiciliees_2019_2024.xlsx", estimate_store)
    s = pd.DataFrame({
        "id": ["A1", "A2"], "code_insee": ["89024", "89024"], "type": ["EAJE", "MICRO_CRECHE"],
        "nom": ["Multi-accueil Test", "Micro-crèche Test"], "places": [40, 12], "psu": [True, False],
        "gestion": ["publique", "privee"],
        "date_ouverture": pd.to_datetime(["2010-09-01", "2023-03-01"]), "date_fermeture": pd.NaT,
        "latitude": np.nan, "longitude": np.nan, "etp_animation": np.nan, "nb_assistants_maternels": np.nan})
    write_structures(s, estimate_store, nature="importé", source="test", vintage="2026",
                     extra={"departements": ["89"]})
    monkeypatch.setenv("ATLAS_DATA_DIR", str(estimate_store.root))
    return estimate_store


def test_commune_year_with_publication(store):
    d = couverture(load_inputs(store), "commune", "89024", 2022)
    assert d["territoire"]["nom"] == "Auxerre" and d["annee"] == 2022
    # children on 1 January 2023 = births 2020 + 2021 + 2022 = 390 + 380 + 350 = 1 120
    assert d["enfants_moins_3"] == 1120 and "naissances domiciliées" in d["enfants_moins_3_nature"]
    assert d["enfants_moins_3_date"] == "2023-01-01"
    # the micro-crèche opened in March 2023: 40 places on 31 December 2022
    assert d["places_eaje"] == 40
    assert d["taux_eaje_calcule"] == round(100 * 40 / 1120, 2) == 3.57
    # published as in the file (txcouv_pe_com.csv, Auxerre 2022)
    assert d["caf"] == {"taux_global": 61.2, "taux_eaje": 25.4, "taux_eaje_psu": 21.0, "taux_hors_psu": 4.4,
                        "taux_assistants_maternels": 30.1, "taux_prescolarisation": 5.0,
                        "taux_salaries_domicile": 0.7}
    assert d["caf_source"].startswith("txcouv_pe_com.csv")
    assert d["ecart_taux_eaje_calcule_publie"] == round(3.57 - 25.4, 2) == -21.83
    assert d["naissances"] == 350 and d["naissances_annee"] == 2022


def test_year_without_publication_is_null(store):
    d = couverture(load_inputs(store), "commune", "89024", 2023)
    assert d["caf"] is None and d["caf_annees_publiees"] == [2021, 2022]
    # 31 December 2023: 40 + 12 places ; children of 1 January 2024 = 380 + 350 + 340 = 1 070
    assert d["places_eaje"] == 52 and d["enfants_moins_3"] == 1070


def test_departement_and_default_year(store):
    d = couverture(load_inputs(store), "departement", "89", None)
    assert d["annee"] == 2023                       # latest year published for the Yonne
    assert d["caf"]["taux_global"] == 58.0 and d["caf"]["taux_eaje_psu"] == 10.0


def test_cli_json_and_text(store, capsys):
    assert main(["--commune", "89024", "--annee", "2022", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["caf"]["taux_global"] == 61.2 and d["places_eaje"] == 40
    assert main(["--departement=89"]) == 0
    out = capsys.readouterr().out
    assert "Taux de couverture global" in out and "58,0" in out and "Département Yonne (89)" in out


def test_cli_errors_in_french(store, capsys):
    assert main(["--commune", "99999"]) == 2
    assert "inconnu" in capsys.readouterr().err
    assert main([]) == 2 and "indiquez le territoire" in capsys.readouterr().err
    assert main(["--commune", "89024", "--france"]) == 2 and "un seul territoire" in capsys.readouterr().err
    assert main(["--france", "--annee", "22"]) == 2 and "année" in capsys.readouterr().err


def test_indicator_columns_latest_published_year_and_gap(store):
    from planning.coverage import indicateurs

    inp = load_inputs(store)
    d = indicateurs(inp, "departement", 2026).set_index("code")
    # nothing published for 2026: the 2023 figures, with their year
    assert d.loc["89", "txcouv_caf"] == 58.0 and d.loc["89", "annee_txcouv_caf"] == 2023
    assert d.loc["93", "txcouv_caf_psu"] == 18.0 and d.loc["01", "txcouv_caf"] == 67.3   # « 1 » → 01
    assert np.isnan(d.loc["89", "ecart_eaje_caf"])          # computed 2026 vs published 2023: no gap
    c = indicateurs(inp, "commune", 2022).set_index("code")
    assert c.loc["89024", "ecart_eaje_caf"] == pytest.approx(100 * 40 / 1120 - 25.4)
    assert c.loc["89024", "naissances"] == 350 and c.loc["89024", "annee_naissances"] == 2022


def test_series_commune_departement_france(store):
    from planning.cnaf import serie_caf

    s = serie_caf(load_inputs(store), "commune", "89024")
    assert s.attrs["libelles"] == ["Auxerre (commune)", "Yonne (département)", "France"]
    assert s.attrs["absentes"] == ["France"]          # no national file in this store
    com = s[s["niveau"] == "commune"].set_index("annee")["valeur"]
    dep = s[s["niveau"] == "departement"].set_index("annee")["valeur"]
    assert com.to_dict() == {2021: 61.2, 2022: 61.2} and dep.to_dict() == {2022: 58.5, 2023: 58.0}
