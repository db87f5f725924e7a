"""Atlas Petite Enfance — entry point: page config, navigation, shared territory picker.

No logic here: pages live in pages/, computation in planning/ and geo/, data in data/.
"""
import streamlit as st

st.set_page_config(
    page_title="Atlas Petite Enfance",
    page_icon="🧸",
    layout="wide",
    initial_sidebar_state="expanded",
)

PAGES = {
    "Atlas": [
        st.Page("pages/accueil.py", title="Accueil", icon="🏠", default=True, url_path="accueil"),
        st.Page("pages/couverture.py", title="Couverture", icon="🗺️", url_path="couverture"),
        st.Page("pages/rpe.py", title="Objectif RPE", icon="🤝", url_path="rpe"),
    ],
    "Financement CTG": [
        st.Page("pages/simulateur.py", title="Simulateur", icon="💶", url_path="simulateur"),
        st.Page("pages/scenarios.py", title="Comparer les scénarios", icon="⚖️", url_path="scenarios"),
    ],
    "Documents et données": [
        st.Page("pages/documents.py", title="Documents", icon="📄", url_path="documents"),
        st.Page("pages/import_donnees.py", title="Import de données", icon="📥", url_path="import"),
    ],
}

nav = st.navigation(PAGES)
nav.run()
