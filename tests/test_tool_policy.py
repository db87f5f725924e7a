"""The one policy for a missing external tool (tests/conftest.py): skip with the reason locally,
fail under CI=true."""
from __future__ import annotations

import pytest

from tests.conftest import require_program, require_tool


def test_a_present_tool_lets_the_test_run(monkeypatch):
    monkeypatch.setenv("CI", "true")
    require_tool(True, "jamais affiché")
    assert require_program("python3").endswith("python3")


def test_a_missing_tool_skips_locally_with_its_reason(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="outil-imaginaire manque"):
        require_program("outil-imaginaire")


def test_a_missing_tool_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="En CI, l'outil doit être installé : pdftoppm"):
        require_tool(False, "pdftoppm manque")


def test_a_server_that_never_starts_fails_the_test_loudly():
    """The app harness (tests/app_server.py) never hands out the URL of a server that is not there."""
    import sys

    from tests.app_server import running_app

    def dies(_port: int) -> list[str]:
        return [sys.executable, "-c", "import sys; print('boum au démarrage'); sys.exit(3)"]

    with pytest.raises(pytest.fail.Exception, match=r"s'est arrêté \(code 3\)[\s\S]*boum au démarrage"):
        with running_app(command=dies):
            pass
