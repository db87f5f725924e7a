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

if __name__ == "__main__":
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *sys.argv[1:]]
    sys.exit(cli.main())
