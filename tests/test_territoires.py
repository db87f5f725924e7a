"""Territory selection helpers."""
from __future__ import annotations

import pandas as pd
import pytest

from planning.territoires import (FRANCE, Territoire, TerritoireInconnu, codes_du_territoire, groupement, liste, masque,
                                  parse_territoire, resolve, territoire)


def communes_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "code_insee": ["01001", "01002", "02001", "75056", "93001"],
        "nom": ["Aval", "Bourg", "Laon", "Paris", "Aubervilliers"],
        "dep": ["01", "01", "02", "75", "93"],
        "dep_nom": ["Ain", "Ain", "Aisne", "Paris", "Seine-Saint-Denis"],
        "reg": ["84", "84", "32", "11", "11"],
        "reg_nom": ["ARA", "ARA", "HDF", "IDF", "IDF"],
        "epci_siren": ["E1", "E2", "E1", None, "MGP"],     # E1 straddles 01 and 02
        "epci_nom": ["CA Un", "CC Deux", "CA Un", None, "Métropole du Grand Paris"],
        "ept_code": [None, None, None, None, "T6"],
        "ept_nom": [None, None, None, None, "Plaine Commune"],
    })


def test_parse_forms():
    assert parse_territoire(None) == ("france", None)
    assert parse_territoire("dep:1") == ("departement", "01")
    assert parse_territoire("departement:2a") == ("departement", "2A")
    assert parse_territoire(("epci", "200067205")) == ("epci", "200067205")
    assert parse_territoire("commune:75112") == ("commune", "75056")  # arrondissement folded
    assert parse_territoire(Territoire("region", "27", "BFC")) == ("region", "27")
    with pytest.raises(TerritoireInconnu, match="niveau:code"):
        parse_territoire("89")
    with pytest.raises(TerritoireInconnu, match="inconnu"):
        parse_territoire("canton:12")


def test_resolve_and_list_communes():
    c = communes_frame()
    t = resolve(c, "departement", "01")
    assert t == Territoire("departement", "01", "Ain") and t.libelle == "Département Ain (01)"
    assert codes_du_territoire(c, "epci:E1") == ["01001", "02001"]
    assert codes_du_territoire(c, "region:11") == ["75056", "93001"]
    assert codes_du_territoire(c, "ept:T6") == ["93001"]
    assert codes_du_territoire(c, None) == sorted(c["code_insee"])
    assert territoire(c, "commune:93001").nom == "Aubervilliers"
    assert resolve(c, "france") is FRANCE and FRANCE.libelle == "France entière"
    assert masque(c, "epci", "E2").tolist() == [False, True, False, False, False]
    with pytest.raises(TerritoireInconnu, match="« 99 » inconnu"):
        resolve(c, "departement", "99")


def test_list_units_inside_a_territory():
    c = communes_frame()
    # an EPCI straddling two départements is listed in both
    assert liste(c, "epci", "dep:02")["code"].tolist() == ["E1"]
    assert liste(c, "epci", "dep:01")["code"].tolist() == ["E1", "E2"]
    assert liste(c, "departement")["code"].tolist() == ["01", "02", "75", "93"]
    assert liste(c, "ept")["nom"].tolist() == ["Plaine Commune"]


def test_real_referentiel_yonne(reference_store):
    c = reference_store.read("communes", columns=["code_insee", "nom", "dep", "dep_nom", "reg", "reg_nom",
                                                  "epci_siren", "epci_nom", "ept_code", "ept_nom"])
    assert len(codes_du_territoire(c, "departement:89")) == 423
    assert len(liste(c, "ept", "dep:93")) == 4  # Seine-Saint-Denis: 4 EPT of the Grand Paris


def test_one_territoire_key_departement_and_group():
    c = communes_frame()
    # the key scenarios are filed under, the département a territory was picked in
    assert resolve(c, "epci", "E1").cle == "epci:E1" and FRANCE.cle == "france"
    assert resolve(c, "departement", "1").departement == "01"
    assert resolve(c, "commune", "93001").departement == "93"
    # the picked département does not change what the territory is
    assert Territoire("epci", "E1", "CA Un", "02") == Territoire("epci", "E1", "CA Un", "01")
    # a commune's map is drawn inside its EPT (Grand Paris), else its EPCI, else alone
    aubervilliers = resolve(c, "commune", "93001")
    assert groupement(c, aubervilliers) == Territoire("ept", "T6", "Plaine Commune")
    assert groupement(c, resolve(c, "commune", "01002")) == Territoire("epci", "E2", "CC Deux")
    paris = resolve(c, "commune", "75056")
    assert groupement(c, paris) is paris
    assert groupement(c, FRANCE) is FRANCE
