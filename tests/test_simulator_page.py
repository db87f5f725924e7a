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
