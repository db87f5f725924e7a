"""Coverage indicators on small hand-made frames (every figure recomputable by hand)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from data.store import LayerInfo
from planning.coverage import (INDICATEURS, CoverageInputs, Provenance, description, indicateurs, load_inputs,
                               rpe_table, trajectoire_cog_psu, variation_places)
from planning.parametres import Baremes

T = pd.Timestamp
NAT = pd.NaT


def communes_frame() -> pd.DataFrame:
    rows = [
        # code, nom, dep, reg, population, epci, ept
        ("01001", "Aval", "01", "84", 5000, "E1", None),
        ("01002", "Bourg", "01", "84", 12000, "E1", None),
        ("01003", "Cize", "01", "84", 800, "E2", None),
        ("01004", "Dortan", "01", "84", 2000, "E2", None),
        ("02001", "Laon", "02", "32", 20000, "E3", None),
        ("75056", "Paris", "75", "11", 2000000, "MGP", "T1"),
    ]
    df = pd.DataFrame(rows, columns=["code_insee", "nom", "dep", "reg", "population", "epci_siren", "ept_code"])
    df["dep_nom"] = df["dep"].map({"01": "Ain", "02": "Aisne", "75": "Paris"})
    df["reg_nom"] = df["reg"].map({"84": "Auvergne-Rhône-Alpes", "32": "Hauts-de-France", "11": "Île-de-France"})
    df["epci_nom"] = df["epci_siren"].map({"E1": "CA Un", "E2": "CC Deux", "E3": "CA Trois", "MGP": "Métropole"})
    df["ept_nom"] = df["ept_code"].map({"T1": "Paris"})
    return df


ENFANTS = pd.DataFrame({"code_insee": ["01001", "01002", "01003", "01004", "02001", "75056"],
                        "enfants_moins_3": [40.0, 60.0, 10.0, 35.0, 100.0, 1000.0]})


def structures_frame() -> pd.DataFrame:
    rows = [
        # id, code, type, places, psu, ouverture, fermeture, etp, am
        ("s1", "01001", "EAJE", 12, True, T("2010-09-01"), NAT, np.nan, np.nan),
        ("s2", "01001", "MICRO_CRECHE", 8, False, T("2015-01-05"), NAT, np.nan, np.nan),
        ("s3", "01002", "EAJE", 15, True, T("2024-12-31"), NAT, np.nan, np.nan),        # opens on the last day
        ("s4", "01002", "CRECHE_FAMILIALE", 10, True, T("2000-01-01"), T("2024-12-31"), np.nan, np.nan),
        ("s5", "01002", "MAM", 12, False, T("2019-01-01"), NAT, np.nan, np.nan),
        ("s6", "01002", "RPE", 0, False, T("2012-01-01"), NAT, 2.0, 100.0),
        ("s7", "01001", "RPE", 0, False, T("2020-01-01"), NAT, 1.5, 50.0),
        ("s8", "01003", "RPE", 0, False, T("2020-01-01"), NAT, np.nan, 30.0),        # no ETP: not in the ratio
        ("s9", "01001", "EAJE", 20, True, T("2025-01-01"), NAT, np.nan, np.nan),
        ("s10", "75112", "EAJE", 60, True, T("2020-01-01"), NAT, np.nan, np.nan),    # arrondissement → 75056
    ]
    return pd.DataFrame(rows, columns=["id", "code_insee", "type", "places", "psu", "date_ouverture",
                                       "date_fermeture", "etp_animation", "nb_assistants_maternels"])


QPV = pd.DataFrame({"code_qp": ["QN00101A", "QN00101A", "QN00102B"],
                    "code_insee": ["01001", "01002", "01002"]})
FRR = pd.DataFrame({"code_insee": ["01001", "01002", "01003", "01004", "02001", "75056"],
                    "classement": ["Non classée", "Non classée", "FRR", "Non classée", "Non classée", "Non classée"]})
ZRR = pd.DataFrame({"code_insee": ["02001"], "zrr": ["C"]})


def make_inputs(structures=True, **kw) -> CoverageInputs:
    args = dict(communes=communes_frame(), enfants=ENFANTS,
                structures=structures_frame() if structures else None, qpv=QPV, frr=FRR, zrr=ZRR,
                provenance={"structures": Provenance("structures", structures, "fictif", "fictif", "test", "")})
    args.update(kw)
    return CoverageInputs(**args)


@pytest.fixture(scope="module")
def inputs() -> CoverageInputs:
    return make_inputs()


def row(df: pd.DataFrame, code: str) -> pd.Series:
    return df.set_index("code").loc[code]


def test_commune_rates_2024(inputs):
    df = indicateurs(inputs, "commune", 2024)
    a = row(df, "01001")
    # Aval: 12 PSU + 8 non-PSU for 40 children → 30 / 20 / 50 per 100; s9 opens in 2025
    assert (a["places_psu"], a["places_hors_psu"], a["places_eaje"]) == (12, 8, 20)
    assert a["taux_eaje_psu"] == pytest.approx(30.0)
    assert a["taux_eaje_hors_psu"] == pytest.approx(20.0)
    assert a["taux_eaje"] == pytest.approx(50.0)
    assert a["enfants_par_place"] == pytest.approx(2.0)  # 40 / 20
    b = row(df, "01002")
    # Bourg: s3 opened on 31/12/2024 counts; s4 closed on 31/12/2024 does not; MAM apart
    assert b["places_psu"] == 15 and b["places_hors_psu"] == 0 and b["places_mam"] == 12
    assert b["taux_eaje"] == pytest.approx(25.0)  # 15 / 60 × 100
    assert b["taille"] == "plus de 10 000" and a["taille"] == "3 500 à 10 000"
    assert row(df, "01003")["taille"] == "moins de 3 500"
    # ranks inside the Ain: Aval 50 > Bourg 25 > Cize 0 = Dortan 0
    assert [row(df, c)["rang_dans_departement"] for c in ("01001", "01002", "01003", "01004")] == [1, 2, 3, 3]


def test_year_boundaries(inputs):
    b23 = row(indicateurs(inputs, "commune", 2023), "01002")
    assert b23["places_psu"] == 10  # s4 still open on 31/12/2023, s3 not yet
    a25 = row(indicateurs(inputs, "commune", 2025), "01001")
    assert a25["places_psu"] == 32  # 12 + s9 (20) opened 1/1/2025


def test_aggregates_sum_numerators_and_denominators(inputs):
    epci = indicateurs(inputs, "epci", 2024)
    e1 = row(epci, "E1")
    # E1 = Aval + Bourg: 27 PSU, 8 non-PSU, 35 places for 100 children → 27 / 8 / 35 per 100
    # (the mean of the two communes' rates would be (50 + 25) / 2 = 37.5)
    assert e1["enfants_moins_3"] == 100
    assert e1["taux_eaje_psu"] == pytest.approx(27.0)
    assert e1["taux_eaje_hors_psu"] == pytest.approx(8.0)
    assert e1["taux_eaje"] == pytest.approx(35.0)
    assert e1["nom"] == "CA Un" and e1["dep"] == "01" and e1["n_communes"] == 2
    # RPE staffing: (100 + 50) assistants maternels / (2 + 1.5) ETP = 42.857…, not (50 + 33.3) / 2
    assert e1["nb_rpe"] == 2
    assert e1["am_par_etp"] == pytest.approx(150 / 3.5)
    # E2: one RPE without ETP: counted as an RPE, ratio unknown
    e2 = row(epci, "E2")
    assert e2["nb_rpe"] == 1 and math.isnan(e2["am_par_etp"])
    dep = row(indicateurs(inputs, "departement", 2024), "01")
    # Ain: 35 places / (40 + 60 + 10 + 35 = 145) children × 100 = 24.137…
    assert dep["taux_eaje"] == pytest.approx(35 / 145 * 100)
    assert dep["nb_rpe"] == 3


def test_arrondissement_folded_into_paris(inputs):
    paris = row(indicateurs(inputs, "commune", 2024), "75056")
    assert paris["places_psu"] == 60  # structure filed under 75112
    assert paris["taux_eaje"] == pytest.approx(6.0)  # 60 / 1000 × 100
    ept = row(indicateurs(inputs, "ept", 2024), "T1")
    assert ept["places_eaje"] == 60


def test_unknown_is_nan_not_zero(inputs):
    com = indicateurs(inputs, "commune", 2024)
    # Laon (Aisne) is outside the départements of the structure list (01 and 75): unknown
    laon = row(com, "02001")
    assert math.isnan(laon["places_eaje"]) and math.isnan(laon["taux_eaje"]) and math.isnan(laon["nb_rpe"])
    # a commune with places = 0 and children: rate 0, children per place NaN (no place)
    dortan = row(com, "01004")
    assert dortan["taux_eaje"] == 0 and math.isnan(dortan["enfants_par_place"])
    # the nation aggregates a département without data: unknown
    fr = indicateurs(inputs, "france", 2024).iloc[0]
    assert math.isnan(fr["places_eaje"]) and math.isnan(fr["taux_eaje"])
    assert fr["enfants_moins_3"] == 1245  # children are still known: 40+60+10+35+100+1000


def test_missing_structures_layer_gives_nan():
    inp = make_inputs(structures=False)
    for niveau in ("commune", "epci", "departement", "france"):
        df = indicateurs(inp, niveau, 2024)
        assert df["places_eaje"].isna().all() and df["taux_eaje"].isna().all() and df["nb_rpe"].isna().all()
        assert df["enfants_moins_3"].notna().all()
    d = description("taux_eaje", inp, 2024)
    assert "structures : donnée non disponible" in d["source"]
    assert rpe_table(inp, 2024).empty


def test_missing_children_gives_nan():
    inp = make_inputs(enfants=None)
    df = indicateurs(inp, "commune", 2024)
    assert df["taux_eaje"].isna().all() and (df["places_eaje"].loc[df["code"] == "01001"] == 20).all()


def test_desert_lens_thresholds_from_parameters(inputs):
    com = indicateurs(inputs, "commune", 2024)
    b = Baremes()
    try:
        n_min = b.value("couverture.desert_enfants_sans_place", 2024)
    except KeyError:
        n_min = 30  # built-in default of planning.coverage when the parameter is not declared
    # Dortan: 0 place and 35 children (≥ 30) → desert; Cize: 0 place, 10 children → not
    assert bool(row(com, "01004")["desert"]) is (35 >= n_min)
    assert bool(row(com, "01003")["desert"]) is (10 >= n_min)
    # Bourg: 60 children / 15 places = 4 > 3 → desert; Aval 40 / 20 = 2 → not
    assert bool(row(com, "01002")["desert"]) is True
    assert bool(row(com, "01001")["desert"]) is False
    assert pd.isna(row(com, "02001")["desert"])


def test_qpv_frr_and_caf_joins():
    caf_com = pd.DataFrame({"code": ["01002", "01002"], "nom": ["Bourg", "Bourg"], "annee": [2023, 2025],
                            "txcouv": [61.5, 70.0]})
    caf_dep = pd.DataFrame({"code": ["01"], "nom": ["Ain"], "annee": [2024], "txcouv": [58.0]})
    inp = make_inputs(caf_couverture={"com": caf_com, "dep": caf_dep})
    com = indicateurs(inp, "commune", 2024)
    # latest Caf year on or before 2024
    assert row(com, "01002")["txcouv_caf"] == 61.5 and row(com, "01002")["annee_txcouv_caf"] == 2023
    assert math.isnan(row(com, "01001")["txcouv_caf"])
    assert row(indicateurs(inp, "departement", 2024), "01")["txcouv_caf"] == 58.0
    assert row(com, "01002")["nb_qpv"] == 2 and bool(row(com, "01002")["qpv"])
    assert bool(row(com, "01003")["frr_zrr"]) and bool(row(com, "02001")["frr_zrr"])  # FRR ; legacy ZRR
    assert row(com, "01003")["classement_frr"] == "FRR"
    e1 = row(indicateurs(inp, "epci", 2024), "E1")
    assert e1["nb_qpv"] == 2  # QN00101A spans both communes: counted once
    assert e1["nb_communes_qpv"] == 2
    inp_noqpv = make_inputs(qpv=None, frr=None, zrr=None)
    c2 = indicateurs(inp_noqpv, "commune", 2024)
    assert c2["nb_qpv"].isna().all() and c2["qpv"].isna().all() and c2["frr_zrr"].isna().all()


def test_territory_filter(inputs):
    df = indicateurs(inputs, "commune", 2024, territoire="epci:E1")
    assert sorted(df["code"]) == ["01001", "01002"]
    deps = indicateurs(inputs, "epci", 2024, territoire=("departement", "01"))
    assert sorted(deps["code"]) == ["E1", "E2"]


def test_flows_per_year_and_identity(inputs):
    v = variation_places(inputs, 2024, 2025, "epci").set_index(["code", "annee"])
    # 2024, Bourg: +15 PSU (s3) and −10 PSU (s4 closed 31/12/2024) → net +5; Bourg has a QPV
    e1_24 = v.loc[("E1", 2024)]
    assert (e1_24["places_creees_psu"], e1_24["places_fermees_psu"], e1_24["variation_nette_psu"]) == (15, 10, 5)
    assert e1_24["variation_nette_psu_qpv"] == 5 and e1_24["variation_nette_psu_frr_zrr"] == 0
    # 2025, Aval: s9 +20 PSU
    assert v.loc[("E1", 2025), "variation_nette_psu"] == 20
    # net change = stock(Y) − stock(Y−1) for the Ain
    dep = variation_places(inputs, 2024, 2024, "departement").set_index("code")
    s23 = row(indicateurs(inputs, "departement", 2023), "01")["places_psu"]
    s24 = row(indicateurs(inputs, "departement", 2024), "01")["places_psu"]
    assert dep.loc["01", "variation_nette_psu"] == s24 - s23 == 5
    tot = variation_places(inputs, 2024, 2025, "epci", par_annee=False).set_index("code")
    assert tot.loc["E1", "variation_nette_psu"] == 25 and tot.loc["E1", "annee"] == "2024-2025"
    assert math.isnan(tot.loc["E3", "variation_nette_psu"])  # Aisne not in the list


def test_trajectory_scaled_by_children_share(inputs):
    tr = trajectoire_cog_psu(inputs, 2024, 2025, "departement:01").set_index("annee")
    b = Baremes()
    share = 145 / 1245  # Ain children / all children of the frame
    for y in (2024, 2025):
        nat = b.value("objectifs_cog.variation_nette_places_psu", y)
        assert tr.loc[y, "cible_nationale"] == nat
        assert tr.loc[y, "cible_territoire"] == pytest.approx(nat * share)
    assert tr.loc[2024, "variation_nette_psu"] == 5 and tr.loc[2025, "variation_nette_psu"] == 20
    assert tr.loc[2025, "variation_nette_psu_qpv"] == 20  # Aval has a QPV
    assert "part des enfants de moins de 3 ans" in tr.attrs["libelle"]


def test_rpe_table_against_target(inputs):
    t = rpe_table(inputs, 2024).set_index("id")
    assert sorted(t.index) == ["s6", "s7", "s8"]
    assert t.loc["s6", "am_par_etp"] == 50  # 100 / 2
    target = Baremes().value("objectifs_cog.assistants_maternels_par_etp_rpe", 2024)
    assert t.loc["s6", "cible_am_par_etp"] == target
    assert t.loc["s6", "ecart_cible"] == 50 - target


def test_metadata_registry_and_provenance(inputs):
    for code in ("taux_eaje", "taux_eaje_psu", "enfants_par_place", "am_par_etp", "nb_rpe", "places_mam"):
        assert code in INDICATEURS
    assert "MAM" in INDICATEURS["taux_eaje"].description
    d = description("taux_eaje", inputs, 2024)
    assert d["unite"] == "places pour 100 enfants de moins de 3 ans"
    assert "structures : données fictives de démonstration" in d["source"] and d["fictif"]
    assert "2024" in d["legende"]
    assert "Center for American Progress" in INDICATEURS["enfants_par_place"].description


def test_load_inputs_from_store(tmp_store):
    tmp_store.delete_layer("structures")
    inp = load_inputs(tmp_store)
    assert inp.structures is None and len(inp.base) == 34875
    # the estimate of the référentiel, or the births estimate once the demo imported the INSEE births
    assert inp.prov("enfants_moins_3").nature == tmp_store.info("enfants_moins_3").nature
    assert "estimation" in description("taux_eaje", inp, 2024)["source"].lower()
    df = indicateurs(inp, "departement", 2024)
    assert df["taux_eaje"].isna().all() and len(df) == 101
    s = structures_frame().iloc[:2].assign(code_insee=["89024", "89024"])
    tmp_store.write_layer("structures", s, LayerInfo("structures", 0, "fictif", "fictif", "test", label="test"))
    inp = load_inputs(tmp_store)
    assert inp.structures_departements == ("89",)
    d = description("taux_eaje", inp, 2024)
    assert "données fictives de démonstration" in d["source"]
    aux = row(indicateurs(inp, "commune", 2024, territoire="commune:89024"), "89024")
    assert aux["places_eaje"] == 20


def test_structures_open_on_31_december():
    from planning.coverage import ouvertes

    df = pd.DataFrame({
        "date_ouverture": ["2024-12-31", "2025-01-01", None, "2010-01-01", "2010-01-01"],
        "date_fermeture": [None, None, None, "2024-12-31", "2025-01-01"],
    })
    # opened on the last day counts; opened the next day does not; unknown opening counts;
    # closed on 31 December is not open at the end of that day; closed the next day still is
    assert ouvertes(df, 2024).tolist() == [True, False, True, False, True]
