import streamlit as st

from pages._ui import require_store, territory_picker

require_store()
territory_picker()
st.title("scenarios")
st.info("Cette page arrive bientôt.")
