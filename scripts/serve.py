"""Start the app: ``python scripts/serve.py [--mode local|service] [streamlit options]``.

Same as ``streamlit run app.py`` except for three things:

1. Streamlit treats the first session of a server whose main script sits next to a ``pages/``
   folder as a legacy (v1) multipage app, listing every file of ``pages/`` in the sidebar, until
   ``st.navigation`` has run once.  The project's layout mandates ``pages/`` and uses
   ``st.navigation``, so we declare v2 from the start.
2. Two modes (``--mode`` or ``ATLAS_MODE``, see ``data/service.py`` and docs/DEPLOIEMENT.md):
   *local* (default) listens on 127.0.0.1 only and refuses any other address; *service* refuses to
   start until the identity provider is configured (secrets.toml ``[auth]`` or ``ATLAS_OIDC_*``
   variables, merged into Streamlit's secrets) and says in French what is missing.
3. ``ATLAS_TRACE_RERUNS=FILE`` appends one JSON line per script run (server time, page, query) to
   FILE, for the benchmarks (benchmarks/bench_service.py).
"""
import json
import os
import sys
import threading
import time
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import bootstrap, cli

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data.service import (MODE_ENV, MODE_LOCAL, ConfigurationInvalide, config_oidc,  # noqa: E402
                          mode_courant, verifier_adresse_locale, verifier_service)


def preload() -> None:
    """Import the heavy libraries before the server listens, so that the first visitor does not
    wait for them (about 2-3 s on a 2-core machine)."""
    try:
        import geopandas  # noqa: F401
        import plotly.graph_objects  # noqa: F401

        import geo.coverage_map  # noqa: F401  (folium, shapely, pyarrow)
        import planning.coverage  # noqa: F401
        import planning.simulation  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - the pages report what is missing
        print(f"Préchargement incomplet : {exc}", file=sys.stderr)


def split_mode(argv: list[str]) -> tuple[str | None, list[str]]:
    """Take ``--mode X`` / ``--mode=X`` out of the arguments (the rest goes to Streamlit)."""
    mode, rest, i = None, [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--mode" and i + 1 < len(argv):
            mode, i = argv[i + 1], i + 2
            continue
        if a.startswith("--mode="):
            mode = a.split("=", 1)[1]
        else:
            rest.append(a)
        i += 1
    return mode, rest


def has_option(argv: list[str], name: str) -> bool:
    return any(a == name or a.startswith(name + "=") for a in argv)


def check_before_start(mode: str) -> None:
    """Run once Streamlit's options (config.toml, environment, flags) are loaded, before it listens."""
    from streamlit import config
    from streamlit.runtime.secrets import secrets_singleton

    if mode == MODE_LOCAL:
        verifier_adresse_locale(config.get_option("server.address"))
        return
    file_secrets = secrets_singleton.to_dict() if secrets_singleton.load_if_toml_exists() else {}
    oidc = config_oidc(file_secrets, os.environ)
    verifier_service(oidc)
    for w in oidc.avertissements:
        print(f"Attention : {w}", file=sys.stderr)
    # Streamlit reads the provider from st.secrets["auth"]: hand it the merged section (file + variables).
    secrets_singleton.merge_programmatic_secrets({"auth": oidc.section_auth()})


def install_rerun_trace(path: str) -> None:
    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner

    original = ScriptRunner._run_script
    lock = threading.Lock()

    def traced(self, rerun_data):  # noqa: ANN001
        t0 = time.time()
        p0 = time.perf_counter()
        try:
            return original(self, rerun_data)
        finally:
            line = {"t": round(t0, 3), "s": round(time.perf_counter() - p0, 4), "pid": os.getpid(),
                    "page": rerun_data.page_name or "", "query": rerun_data.query_string or "",
                    "fragment": bool(rerun_data.fragment_id_queue)}
            with lock, open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")

    ScriptRunner._run_script = traced


def main(argv: list[str]) -> int:
    flag_mode, args = split_mode(argv)
    if flag_mode is not None:
        os.environ[MODE_ENV] = flag_mode
    try:
        mode = mode_courant(os.environ)
    except ConfigurationInvalide as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    os.environ[MODE_ENV] = mode  # the app reads the same mode (pages/_session.py)
    if not has_option(args, "--server.address") and not os.environ.get("STREAMLIT_SERVER_ADDRESS"):
        args = ["--server.address", "127.0.0.1", *args]  # both modes: behind nginx in service mode

    run = bootstrap.run

    def checked_run(*a, **kw):  # after the options are loaded, before the server listens
        try:
            check_before_start(mode)
        except ConfigurationInvalide as exc:
            print(f"Erreur : {exc}", file=sys.stderr)
            sys.exit(2)
        print(f"Atlas Petite Enfance — mode {mode}"
              + (" (cette machine seulement, sans authentification)" if mode == MODE_LOCAL
                 else " (connexion par le fournisseur d'identité)"), file=sys.stderr, flush=True)
        return run(*a, **kw)

    bootstrap.run = checked_run
    if os.environ.get("ATLAS_TRACE_RERUNS"):
        install_rerun_trace(os.environ["ATLAS_TRACE_RERUNS"])
    preload()
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *args]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
