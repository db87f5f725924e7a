"""The two modes of the launcher (scripts/serve.py) and the login gate of app.py.

* local: listens on 127.0.0.1 only (read from the kernel's socket table), refuses any other address;
* service: refuses to start without a complete identity provider configuration and names what is
  missing, in French; the gate shows only the sign-in screen to a visitor who is not signed in, and the
  signed-in user's name, roles and départements otherwise (AppTest seeds ``st.user``).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data.store import PROJECT_ROOT
from tests.app_server import free_port as _free_port
from tests.test_service_config import COMPLETE_ENV

SERVE = PROJECT_ROOT / "scripts" / "serve.py"
APP = PROJECT_ROOT / "app.py"
NO_SECRETS = ["--secrets.files", "/nonexistent/atlas/secrets.toml"]  # ignore any secrets.toml of the checkout


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATLAS_OIDC_", "STREAMLIT_"))}
    env.pop("ATLAS_MODE", None)
    env.update(extra)
    return env


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on ``port`` (/proc/net/tcp and tcp6, state 0A)."""
    out = set()
    for name, width in (("tcp", 8), ("tcp6", 32)):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            addr, p = fields[1].split(":")
            if fields[3] != "0A" or int(p, 16) != port:
                continue
            if width == 8:  # little-endian IPv4
                out.add(".".join(str(int(addr[i:i + 2], 16)) for i in (6, 4, 2, 0)))
            else:
                out.add("::1" if addr == "0" * 24 + "01000000" else ("::" if set(addr) == {"0"} else addr))
    return out


def test_local_mode_listens_on_127_0_0_1_only():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(SERVE), "--server.port", str(port), "--server.headless", "true"],
                            cwd=PROJECT_ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("le lanceur n'a pas démarré en 60 s")
        assert _listening_addresses(port) == {"127.0.0.1"}
    finally:
        proc.terminate()
        out = proc.communicate(timeout=15)[0].decode()
    assert "mode local (cette machine seulement, sans authentification)" in out


@pytest.mark.parametrize("how", ["option", "variable"])
def test_local_mode_refuses_to_listen_on_the_network(how):
    port = _free_port()
    args = [sys.executable, str(SERVE), "--server.port", str(port)]
    env = _env()
    if how == "option":
        args += ["--server.address", "0.0.0.0"]
    else:
        env["STREAMLIT_SERVER_ADDRESS"] = "0.0.0.0"
    r = subprocess.run(args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=90)
    assert r.returncode == 2
    assert "Le mode local n'écoute que sur cette machine (127.0.0.1) : l'adresse d'écoute « 0.0.0.0 »" in r.stderr
    assert "ATLAS_MODE=service" in r.stderr
    assert _listening_addresses(port) == set()


def test_service_mode_without_provider_refuses_to_start_and_says_what_is_missing():
    port = _free_port()
    r = subprocess.run([sys.executable, str(SERVE), "--mode", "service", "--server.port", str(port), *NO_SECRETS],
                       cwd=PROJECT_ROOT, env=_env(), capture_output=True, text=True, timeout=90)
    assert r.returncode == 2
    assert "Mode service : le fournisseur d'identité (OpenID Connect) n'est pas configuré complètement" in r.stderr
    for env in ("ATLAS_OIDC_METADATA_URL", "ATLAS_OIDC_CLIENT_ID", "ATLAS_OIDC_CLIENT_SECRET",
                "ATLAS_OIDC_REDIRECT_URI", "ATLAS_OIDC_COOKIE_SECRET"):
        assert env in r.stderr
    assert "Traceback" not in r.stderr
    assert _listening_addresses(port) == set()


def test_service_mode_reads_secrets_toml_and_the_environment_together(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nclient_id = "atlas"\nclient_secret = "s"\n'
                       'server_metadata_url = "https://sso.example/.well-known/openid-configuration"\n'
                       'redirect_uri = "https://atlas.example/oauth2callback"\n', encoding="utf-8")
    r = subprocess.run([sys.executable, str(SERVE), "--server.port", str(_free_port()),
                        "--secrets.files", str(secrets)],
                       cwd=PROJECT_ROOT, env=_env(ATLAS_MODE="service", ATLAS_OIDC_COOKIE_SECRET="trop-court"),
                       capture_output=True, text=True, timeout=90)
    assert r.returncode == 2
    missing = [line for line in r.stderr.splitlines() if line.startswith("  - ")]
    # only the cookie secret is wrong: the four other settings came from the file
    assert missing == ["  - le secret qui signe les cookies de connexion (32 caractères au moins, le même pour "
                       "toutes les instances) : celui donné (ATLAS_OIDC_COOKIE_SECRET) n'a que 10 caractères ; "
                       "générez-en un avec python3 -c \"import secrets; print(secrets.token_urlsafe(32))\""]


def test_unknown_mode_is_refused():
    r = subprocess.run([sys.executable, str(SERVE), "--mode", "intranet"], cwd=PROJECT_ROOT, env=_env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "ATLAS_MODE='intranet' n'est pas un mode connu" in r.stderr


# -- the gate (AppTest) -----------------------------------------------------------------------------------

@pytest.fixture()
def scenario_db(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'scenarios.sqlite'}")


def _sidebar_text(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in [*at.sidebar.markdown, *at.sidebar.caption])


def test_local_mode_shows_a_discreet_mention_and_no_sign_in(scenario_db, monkeypatch):
    monkeypatch.delenv("ATLAS_MODE", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception
    assert "mode local, sans authentification" in _sidebar_text(at)
    assert not [b for b in at.button if b.key in ("atlas_login", "atlas_logout")]
    assert at.title[0].value == "Atlas Petite Enfance" and len(at.dataframe) >= 1  # the home page itself


def _auth_section() -> dict:
    """What scripts/serve.py hands Streamlit (st.secrets["auth"]) from the ATLAS_OIDC_* variables."""
    from data.service import config_oidc

    return config_oidc(None, COMPLETE_ENV).section_auth()


def test_service_mode_gate_shows_only_the_sign_in_screen(scenario_db, monkeypatch):
    monkeypatch.setenv("ATLAS_MODE", "service")
    for k, v in COMPLETE_ENV.items():
        monkeypatch.setenv(k, v)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.secrets["auth"] = _auth_section()
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Se connecter"]
    assert "Connectez-vous" in at.markdown[0].value
    assert not at.dataframe and not at.selectbox  # no page, no territory picker: nothing shown before sign-in


def test_service_mode_signed_in_user_sees_name_roles_and_departements(scenario_db, monkeypatch):
    monkeypatch.setenv("ATLAS_MODE", "service")
    for k, v in COMPLETE_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("ATLAS_OIDC_CLAIM_DEPARTEMENTS", "caf_departements")
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.secrets["auth"] = _auth_section()
    at.user = {"is_logged_in": True, "sub": "cmartin", "name": "Camille *Martin*", "email": "c@caf89.example",
               "roles": ["conseiller"], "caf_departements": "89"}
    at.run()
    assert not at.exception
    side = _sidebar_text(at)
    assert "Camille \\*Martin\\*" in side          # the name is shown as text, never as Markdown
    assert "conseiller — 89" in side
    assert "mode local" not in side
    assert [b.label for b in at.sidebar.button] == ["Se déconnecter"]
    assert at.title[0].value == "Atlas Petite Enfance" and len(at.dataframe) >= 1


def test_service_mode_gate_refuses_an_incomplete_configuration_under_plain_streamlit_run(scenario_db, monkeypatch):
    monkeypatch.setenv("ATLAS_MODE", "service")
    for k in COMPLETE_ENV:
        monkeypatch.delenv(k, raising=False)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.user = {"is_logged_in": True, "sub": "x"}
    at.run()
    assert not at.exception
    assert "le fournisseur d'identité n'est pas configuré, connexion impossible" in at.error[0].value
    assert not at.dataframe


def test_under_plain_streamlit_run_the_variables_alone_are_not_enough(scenario_db, monkeypatch):
    """Only the launcher turns ATLAS_OIDC_* into Streamlit's [auth] section: st.login would fail without it."""
    monkeypatch.setenv("ATLAS_MODE", "service")
    for k, v in COMPLETE_ENV.items():
        monkeypatch.setenv(k, v)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert "que seul le lanceur lit : démarrez par scripts/serve.py --mode service" in at.error[0].value.replace("\\", "")
    assert not at.button
