"""Simulator page: the scenario is validated once per rerun (issue 9, item 5)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from data.store import PROJECT_ROOT


@pytest.fixture
def fresh_caches():
    """The page caches its ScenarioStore: use this test's database, then forget it."""
    import streamlit as st

    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_scenario_is_validated_once_per_rerun(reference_store, tmp_path, monkeypatch, fresh_caches):
    import planning.simulation as sim
    import planning.validation as val

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'scenarios.sqlite'}")
    calls = []
    real = val.validate_scenario

    def counting(data, communes=None):
        calls.append(1)
        return real(data, communes=communes)

    monkeypatch.setattr(val, "validate_scenario", counting)   # the page's import
    monkeypatch.setattr(sim, "validate_scenario", counting)   # simulate()'s own check, skipped when deja_valide
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params["dep"] = "89"
    at.query_params["grp"] = "200067130"
    at.run()
    at.switch_page("pages/simulateur.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Bonus trajectoire" in i.value for i in at.info)      # the result is shown
    calls.clear()
    at.run()                                                           # one rerun
    assert not at.exception
    assert len(calls) == 1, f"{len(calls)} validations pour une exécution de la page"


def test_reopening_a_scenario_says_when_the_bareme_changed(reference_store, tmp_path, monkeypatch, fresh_caches):
    """Saved with the shipped barème; a national value is entered since: reopening it says so, in French,
    and the caption names the barème version and the entered source."""
    from data.baremes_db import BaremeStore
    from data.identite import utilisateur_local
    from data.scenarios_db import ScenarioStore
    from planning.bareme_saisie import LigneSaisie
    from planning.parametres import Baremes

    url = f"sqlite:///{tmp_path / 'scenarios.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params["dep"] = "89"
    at.query_params["grp"] = "200067130"
    at.run()
    at.switch_page("pages/simulateur.py").run()
    at.button(key="sim_save").click().run()                            # saved with the shipped barème
    assert not at.exception, [e.value for e in at.exception]
    db = ScenarioStore(url)
    (meta,) = db.list()
    assert db.get(meta.id).data["bareme"] == {"version": Baremes().version, "departement": "89"}
    assert not any("Le barème a changé" in i.value for i in at.info)
    BaremeStore(db).enregistrer(utilisateur_local(), "national", 2026,
                                [LigneSaisie("psu.taux_psu", None, "0,66")], "Cnaf, LC de test")
    st_ = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    st_.query_params["dep"] = "89"
    st_.query_params["grp"] = "200067130"
    st_.run()
    st_.switch_page("pages/simulateur.py").run()
    st_.selectbox(key="sim_pick").select(meta.id).run()
    st_.button(key="sim_open").click().run()
    assert not st_.exception, [e.value for e in st_.exception]
    notice = [i.value for i in st_.info if "Le barème a changé" in i.value]
    assert notice and Baremes().version[:8] in notice[0]
    from pages._texte import md

    wanted = f"Montants calculés avec le **barème saisi** — source : {md('Cnaf, LC de test')} — pour {md('psu.taux_psu')}."
    assert wanted in [c.value for c in st_.caption]


def test_an_old_version_is_restored_from_the_history(reference_store, tmp_path, monkeypatch, fresh_caches):
    """Save (v1), rename and save (v2), restore v1 from the history: v3 carries v1's data (whose « nom » is
    the first name); the scenario keeps its current name in the list (the store restores data, not names)."""
    from data.scenarios_db import ScenarioStore

    url = f"sqlite:///{tmp_path / 'scenarios.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params["dep"] = "89"
    at.query_params["grp"] = "200067130"
    at.run()
    at.switch_page("pages/simulateur.py").run()
    at.button(key="sim_save").click().run()                                     # version 1
    first_name = at.session_state["sim_name"]
    [name_box] = [t for t in at.text_input if t.key and t.key.startswith("sim_name_input_")]
    name_box.input("CTG Puisaye — variante").run()
    at.button(key="sim_save").click().run()                                     # version 2, renamed
    assert at.session_state["sim_version"] == 2
    sid = at.session_state["sim_id"]
    at.selectbox(key=f"sim_restore_pick_{sid}").set_value(1)
    at.button(key="sim_restore").click().run()
    assert not at.exception, [e.value for e in at.exception]
    db = ScenarioStore(url)
    try:
        s = db.get(sid)
        history = db.history(sid)
        assert s.version == 3 and [v.action for v in history][-1] == "restauration"
        assert s.data == history[0].data and s.data["nom"] == first_name
        assert history[1].data["nom"] == "CTG Puisaye — variante"
    finally:
        db.close()


def test_a_territory_without_structures_says_what_to_do(reference_store, tmp_path, monkeypatch, fresh_caches):
    """The Ain (01) has no structure list in the demo: no red error, a French hint to add or import some."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'scenarios.sqlite'}")
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params["dep"] = "01"
    at.run()
    at.switch_page("pages/simulateur.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(i.value.startswith("Aucune structure PSU à simuler pour ce territoire") for i in at.info)
