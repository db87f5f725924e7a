"""Start the app: ``python scripts/serve.py [streamlit options]``.

Same as ``streamlit run app.py`` except for one thing: Streamlit treats the first
session of a server whose main script sits next to a ``pages/`` folder as a
legacy (v1) multipage app, listing every file of ``pages/`` in the sidebar,
until ``st.navigation`` has run once.  The project's layout mandates ``pages/``
and uses ``st.navigation``, so we declare v2 from the start.
"""
import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

ROOT = Path(__file__).resolve().parent.parent

def preload() -> None:
    """Import the heavy libraries before the server listens, so that the first visitor does not
    wait for them (about 2-3 s on a 2-core machine)."""
    sys.path.insert(0, str(ROOT))
    try:
        import geopandas  # noqa: F401
        import plotly.graph_objects  # noqa: F401

        import geo.coverage_map  # noqa: F401  (folium, shapely, pyarrow)
        import planning.coverage  # noqa: F401
        import planning.simulation  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - the pages report what is missing
        print(f"Préchargement incomplet : {exc}", file=sys.stderr)


if __name__ == "__main__":
    preload()
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *sys.argv[1:]]
    sys.exit(cli.main())
