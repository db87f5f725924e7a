"""The SPPE page's actions (AppTest): the demand tab opens a CTG scenario in the simulator, the settings
tab records a schéma status in the data store, the reference value is typed the French way."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from data import sppe as persist
from data.store import PROJECT_ROOT, Store
from pages._sppe_vue import nombre_fr
from tests.service_harness import copie_magasin

APP = PROJECT_ROOT / "app.py"


@pytest.fixture()
def magasin(tmp_path, monkeypatch):
    """A private copy of the demo store and scenario database: the page writes into them."""
    if not Store().has("structures"):
        pytest.fail("Le magasin de démonstration n'est pas construit (lancez scripts/installer.sh)")
    dest = copie_magasin(tmp_path / "magasin")
    monkeypatch.setenv("ATLAS_DATA_DIR", str(dest))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'scenarios.sqlite'}")
    return Store(dest)


def _sppe(dep: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.query_params["dep"] = dep
    at.run()
    at.switch_page("pages/sppe.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_reference_value_typed_the_french_way():
    assert nombre_fr("20,5", 0, 200) == 20.5
    assert nombre_fr("20.5", 0, 200) == 20.5
    assert nombre_fr(" 18 ", 0, 200) == 18.0
    assert nombre_fr("250", 0, 200) is None        # over the range
    assert nombre_fr("vingt", 0, 200) is None
    assert nombre_fr("", 0, 200) is None


def test_demand_tab_opens_the_simulator_with_a_scenario(magasin):
    at = _sppe("89")
    [bouton] = [b for b in at.button if b.key == "sppe_scenario"]
    bouton.click().run()
    assert not at.exception, [e.value for e in at.exception]
    data = at.session_state["sim_data"]
    assert at.session_state["sim_terr"] == "departement:89"
    assert data["structures"], "le scénario créé n'a pas de structure"
    assert [t.value for t in at.title if "Simulateur" in t.value], "le simulateur ne s'est pas ouvert"


def test_settings_tab_records_a_schema_status(magasin):
    at = _sppe("89")
    at.selectbox(key="sppe_schema_aut").set_value("89387")        # Sens (27 106 habitants, palier 10 000)
    at.selectbox(key="sppe_schema_statut").set_value("adopte")
    at.button(key="FormSubmitter:sppe_schema_form-Enregistrer le statut").click().run()
    assert not at.exception, [e.value for e in at.exception]
    saisies = persist.lire(magasin, persist.SCHEMAS).set_index("code")
    assert saisies.at["89387", "statut"] == "adopte"


def test_demand_inputs_typed_the_french_way(magasin):
    at = _sppe("89")
    at.selectbox(key="sppe_cible").set_value("utilisateur").run()
    at.text_input(key="sppe_cible_val").input("trente").run()
    assert "Valeur cible : nombre de 0 à 150 attendu (ex. 33,5)." in [e.value for e in at.error]
    assert not [b for b in at.button if b.key == "sppe_scenario"]  # no scenario from an invalid target
    at.text_input(key="sppe_cible_val").input("33,5").run()
    at.text_input(key="sppe_ajust").input("-0,5").run()
    assert not [e.value for e in at.error if "attendu" in e.value]
    assert [b for b in at.button if b.key == "sppe_scenario"]
