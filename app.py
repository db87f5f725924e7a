"""Atlas Petite Enfance — entry point: page config, navigation, shared territory picker.

No logic here: pages live in pages/, computation in planning/ and geo/, data in data/.
"""
import streamlit as st

st.set_page_config(
    page_title="Atlas Petite Enfance",
    page_icon="static/favicon.png",
    layout="wide",
    initial_sidebar_state="expanded",
)

# Service mode: only a signed-in visitor gets past this line (data/service.py, pages/_session.py).
from pages._session import encart_utilisateur, porte, reprendre_apres_reconnexion  # noqa: E402

utilisateur = porte()

# The home page lives at "/" (the default page of st.navigation always does) and also answers its own
# link "/accueil" (a hidden twin: st.navigation gives the default page an empty URL, so "/accueil" would
# otherwise open « Page not found »).
HOME = "pages/accueil.py"
PAGES = {
    "Atlas": [
        st.Page(HOME, title="Accueil", icon=":material/home:", default=True, url_path=""),
        st.Page(HOME, title="Accueil", icon=":material/home:", url_path="accueil", visibility="hidden"),
        st.Page("pages/couverture.py", title="Couverture", icon=":material/map:", url_path="couverture"),
        st.Page("pages/rpe.py", title="Objectif RPE", icon=":material/diversity_3:", url_path="rpe"),
        st.Page("pages/sppe.py", title="Service public de la petite enfance", icon=":material/account_balance:",
                url_path="sppe"),
    ],
    "Financement CTG": [
        st.Page("pages/simulateur.py", title="Simulateur", icon=":material/euro:", url_path="simulateur"),
        st.Page("pages/scenarios.py", title="Comparer les scénarios", icon=":material/compare_arrows:", url_path="scenarios"),
        st.Page("pages/baremes.py", title="Barèmes", icon=":material/rule:", url_path="baremes"),
    ],
    "Documents et données": [
        st.Page("pages/documents.py", title="Documents", icon=":material/description:", url_path="documents"),
        st.Page("pages/import_donnees.py", title="Import de données", icon=":material/upload_file:", url_path="import"),
    ],
}

from data.droits import est_administrateur  # noqa: E402

if est_administrateur(utilisateur):  # administrators only (the layers refuse the others anyway)
    PAGES["Documents et données"].append(
        st.Page("pages/administration.py", title="Administration", icon=":material/admin_panel_settings:",
                url_path="administration"))

try:  # simplify the national layers in the background, once per server
    from pages._data import warm_up

    warm_up()
except Exception:  # noqa: BLE001 - the store may not be built yet; pages say so
    pass

nav = st.navigation(PAGES)
encart_utilisateur(utilisateur)
reprendre_apres_reconnexion()
st.session_state["_atlas_navigation"] = True  # pages._ui.NAVIGATION_MARKER: app.py ran in this session
nav.run()
