"""Shared UI pieces for every page: cached store access, the territory picker
kept in the URL, provenance badges, HTML escaping and error guard.

Not a page itself (it is not listed in ``st.navigation``).
"""
from __future__ import annotations

import html
import traceback
from contextlib import contextmanager
from typing import Iterator

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from pages._texte import html_texte, md, md_lignes  # noqa: F401  (re-exported: one helper for every page)
from data.store import DEMO_LABEL, NATURE_ESTIME, NATURE_FICTIF, NATURE_IMPORTE, NATURE_REEL, Store
from planning.territoires import FRANCE, Territoire

NATURE_BADGE = {
    NATURE_REEL: "réel",
    NATURE_IMPORTE: "importé",
    NATURE_ESTIME: "estimation",
    NATURE_FICTIF: "fictif (démonstration)",
}


def store() -> Store:
    return Store()


def manifest_token() -> str:
    """Changes whenever the store changes: part of every cache key."""
    s = store()
    try:
        return f"{s.root}:{s.manifest_path.stat().st_mtime_ns}"
    except FileNotFoundError:
        return f"{s.root}:absent"


@st.cache_data(show_spinner=False, max_entries=4)
def communes_table(token: str) -> pd.DataFrame:
    cols = ["code_insee", "nom", "dep", "dep_nom", "reg", "reg_nom", "population",
            "epci_siren", "epci_nom", "epci_type", "ept_code", "ept_nom"]
    return store().read("communes", columns=cols)


def store_ready() -> bool:
    s = store()
    return s.has("communes") and s.has("epci") and s.has("departements")


NAVIGATION_MARKER = "_atlas_navigation"


def leave_legacy_multipage() -> None:
    """Make plain ``streamlit run app.py`` behave like ``scripts/serve.py``.

    Streamlit runs the *first* session of a server whose main script sits next to a ``pages/``
    folder in legacy (v1) multipage mode until ``st.navigation`` has run once: a deep link such as
    ``/rpe?dep=93`` then executes ``pages/rpe.py`` on its own, with every file of ``pages/``
    (``_data``, ``_ui``…) listed in the sidebar.  Every page calls :func:`require_store` first:
    when the legacy flag is still set, switch it off and rerun, so that ``app.py`` and its
    ``st.navigation`` run and resolve the same URL (page hashes derive from the URL path, identical
    in both modes).  The launcher sets the same flag before the server starts.

    A session in which ``app.py`` already ran (marker set by ``app.py``) is not rerun: AppTest
    resets the flag before every run, and a rerun there would drop the widget event of that run.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if not st.session_state.get(NAVIGATION_MARKER):
            st.rerun()


def require_store() -> None:
    leave_legacy_multipage()
    if not store_ready():
        st.error(
            "Le référentiel national n'est pas construit. Lancez la commande d'installation du README "
            "(`bash scripts/lancer.sh`) ou `python -m data build-reference`."
        )
        st.stop()


# -- territory picker ---------------------------------------------------------

DEFAULT_DEP = "89"


def _options_departements(com: pd.DataFrame) -> dict[str, str]:
    deps = com.drop_duplicates("dep").sort_values("dep")
    out = {"": "France entière"}
    out.update({r.dep: f"{r.dep} – {r.dep_nom}" for r in deps.itertuples()})
    return out


def _sync(level: str) -> None:
    """Widget callback: copy the choice into the plain key, reset the finer levels."""
    ss = st.session_state
    ss[f"_terr_{level}"] = ss.get(f"terr_{level}", "")
    if level == "dep":
        ss["_terr_grp"] = ss["_terr_com"] = ""
    elif level == "grp":
        ss["_terr_com"] = ""


def territory_picker() -> Territoire:
    """Sidebar picker (département → EPCI/EPT → commune), mirrored in the URL: the one place a
    page gets its :class:`planning.territoires.Territoire`, passed whole to the layers below.

    The query parameters ``dep``, ``grp`` (EPCI SIREN or EPT code) and ``com``
    make a view shareable by link; session state keeps the choice across pages.
    """
    com = communes_table(manifest_token())
    qp = st.query_params
    ss = st.session_state
    if "_terr_dep" not in ss:
        dep = qp.get("dep", DEFAULT_DEP)
        ss["_terr_dep"] = dep if dep in set(com["dep"]) or dep == "" else DEFAULT_DEP
        ss["_terr_grp"] = qp.get("grp", "")
        ss["_terr_com"] = qp.get("com", "")
    # Widget state does not survive a page switch: the choice is kept in plain keys
    # and handed back to the widgets on every run.
    for k in ("dep", "grp", "com"):
        ss[f"terr_{k}"] = ss[f"_terr_{k}"]

    sb = st.sidebar
    sb.markdown("### Territoire")
    dep_opts = _options_departements(com)
    dep = sb.selectbox("Département", list(dep_opts), format_func=dep_opts.get, key="terr_dep", on_change=_sync, args=("dep",),
                       help="Tapez pour rechercher un département par numéro ou par nom.")
    grp, code_com = "", ""
    if dep:
        sub = com[com["dep"] == dep]
        groups = {"": "Tout le département"}
        epcis = sub.dropna(subset=["epci_siren"]).drop_duplicates("epci_siren").sort_values("epci_nom")
        groups.update({r.epci_siren: f"EPCI – {r.epci_nom}" for r in epcis.itertuples()})
        epts = sub.dropna(subset=["ept_code"]).drop_duplicates("ept_code").sort_values("ept_nom")
        groups.update({r.ept_code: f"EPT – {r.ept_nom}" for r in epts.itertuples()})
        if ss.get("terr_grp") not in groups:
            ss["terr_grp"] = ss["_terr_grp"] = ""
        grp = sb.selectbox("EPCI ou territoire (EPT)", list(groups), format_func=groups.get, key="terr_grp", on_change=_sync, args=("grp",),
                           help="Territoire d'une CTG : un EPCI, ou un EPT dans la Métropole du Grand Paris.")
        if grp:
            sub = sub[(sub["epci_siren"] == grp) | (sub["ept_code"] == grp)]
        coms = {"": "Toutes les communes"}
        coms.update({r.code_insee: f"{r.nom} ({r.code_insee})" for r in sub.sort_values("nom").itertuples()})
        if ss.get("terr_com") not in coms:
            ss["terr_com"] = ss["_terr_com"] = ""
        code_com = sb.selectbox("Commune", list(coms), format_func=coms.get, key="terr_com", on_change=_sync, args=("com",),
                                help="Tapez le nom ou le code INSEE.")
    # mirror in the URL
    params = {"dep": dep}
    if grp:
        params["grp"] = grp
    if code_com:
        params["com"] = code_com
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)

    if code_com:
        row = com[com["code_insee"] == code_com].iloc[0]
        return Territoire("commune", code_com, row["nom"], dep)
    if grp:
        sub = com[(com["epci_siren"] == grp) | (com["ept_code"] == grp)]
        is_ept = (sub["ept_code"] == grp).any()
        nom = sub["ept_nom" if is_ept else "epci_nom"].dropna().iloc[0]
        return Territoire("ept" if is_ept else "epci", grp, nom, dep)
    if dep:
        return Territoire("departement", dep, dep_opts[dep].split(" – ", 1)[1], dep)
    return FRANCE


# -- provenance ---------------------------------------------------------------


def demo_banner(layers: tuple[str, ...] = ("structures",)) -> None:
    """Show the fictitious-data mention when any of these layers is fictitious."""
    s = store()
    if any((i := s.info(name)) is not None and i.nature == NATURE_FICTIF for name in layers):
        st.warning(f"Structures : **{DEMO_LABEL}** (crèches, MAM et RPE générés pour la démonstration).",
                   icon=":material/science:")


def children_estimate_note() -> None:
    info = store().info("enfants_moins_3")
    if info is not None and info.nature == NATURE_ESTIME:
        st.caption("Attention : enfants de moins de 3 ans : **estimation** (population × 3,0 %) en attendant l'import "
                   "du fichier INSEE (PYY_POP0002) depuis la page Import.")


# -- escaping -----------------------------------------------------------------

def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# -- error guard --------------------------------------------------------------

@contextmanager
def guard(action: str) -> Iterator[None]:
    """Turn any unexpected error into a French message (never a traceback on screen)."""
    try:
        yield
    except ScriptControlException:
        raise
    except Exception as exc:  # noqa: BLE001
        st.error(f"Impossible de {action} : {md(message_erreur(exc))}")
        print(traceback.format_exc())  # server log only


_PROJECT_PACKAGES = {"data", "planning", "geo", "exports", "pages"}


def message_erreur(exc: BaseException) -> str:
    """The text shown for an error: the project's own exceptions carry a French message written for
    the user (file, line, column…); anything else (a library's English message, a KeyError naming an
    internal column) is replaced by a French sentence and a reference to find it in the server log."""
    if type(exc).__module__.split(".")[0] in _PROJECT_PACKAGES and str(exc).strip():
        return str(exc).strip("'\"") if isinstance(exc, KeyError) else str(exc)
    ref = f"{abs(hash((type(exc).__name__, str(exc)))) % 10**6:06d}"
    print(f"[erreur interne {ref}] {type(exc).__name__}: {exc}")
    return (f"erreur interne (référence {ref}, détail dans le journal du serveur). "
            "Réessayez ; si l'erreur persiste, transmettez cette référence à l'administrateur.")
