"""Import page: official open-data files and the Caf's structure list, same importers as the CLI.

The import runs in its own process (``data.importers.jobs``: ``python -m data import`` under
memory and time limits), so the other sessions keep their speed; this page follows it from a
fragment that reruns every second (progress bar), then shows the French report or refusal.
Text coming from the user (file name, cell values quoted in messages) is never rendered as
Markdown: it goes through ``st.text`` or a table.
"""
from pathlib import Path

import pandas as pd
import streamlit as st

from pages._ui import NATURE_BADGE, guard, md, require_store, store, territory_picker
from planning.formats import fr_frame

JOB_KEY = "import_job"
RESULT_KEY = "import_resultat"

st.title("Import de données")
require_store()
territory_picker()

st.markdown(
    "Importez un fichier officiel (QPV, FRR, INSEE, data.caf.fr, DGCL) ou la **liste des structures** de "
    "votre Caf. Le fichier est **entièrement vérifié avant d'être enregistré** : en cas d'erreur, rien n'est "
    "modifié et chaque problème est indiqué avec sa ligne et sa colonne. Mêmes contrôles qu'en ligne de "
    "commande (`python -m data import TYPE FICHIER`). Formats : CSV (`;` ou `,`, UTF-8 ou Windows-1252) "
    "et Excel (xlsx). La vérification tourne à part, sans ralentir les autres utilisateurs."
)


def _problems_table(problems, with_level: bool = True) -> pd.DataFrame:
    rows = []
    for p in problems:
        row = {"Niveau": p.niveau} if with_level else {}
        row.update({"Fichier": p.fichier, "Ligne": p.ligne or "—", "Colonne": p.colonne or "—", "Message": p.message})
        rows.append(row)
    return pd.DataFrame(rows).astype(str)


def _show_result(state) -> None:
    from data.importers.jobs import ECHEC, REFUSE, TERMINE
    from planning.formats import fr_int

    secs = f"{state.seconds:.1f}".replace(".", ",")
    if state.status == TERMINE and state.report is not None:
        report = state.report
        st.success(f"Import réussi en {secs} s : {fr_int(report.rows)} ligne(s) écrite(s).")
        st.text(report.summary(with_warnings=False))
        if report.warnings:
            st.warning(f"{len(report.warnings)} avertissement(s) : lignes écartées ou corrigées.")
            st.dataframe(_problems_table(report.warnings, with_level=False), hide_index=True, width="stretch")
    elif state.status == REFUSE:
        errors = [p for p in state.problems if p.niveau == "erreur"]
        st.error(f"Import refusé : {len(state.problems)} problème(s). Les données existantes n'ont pas été "
                 "modifiées.")
        st.text("\n".join(str(p) for p in errors[:5]) + (f"\n… et {len(errors) - 5} autre(s) erreur(s), toutes "
                                                        "dans le tableau ci-dessous." if len(errors) > 5 else ""))
        if len(state.problems) > 1:
            st.dataframe(_problems_table(state.problems), hide_index=True, width="stretch")
    elif state.status == ECHEC:
        st.error("Import interrompu. Les données existantes n'ont pas été modifiées.")
        for p in state.problems:
            st.text(p.message)


@st.fragment(run_every=1.0)
def _follow() -> None:
    """Progress of the running import (every second); a full rerun once it ends (report, layer list, caches)."""
    job = st.session_state.get(JOB_KEY)
    if job is None:
        return
    state = job.poll()
    if not state.running:
        st.rerun(scope="app")
    secs = int(state.seconds)
    st.progress(state.fraction, text=f"{state.message or 'Import en cours…'} ({secs} s)")
    if st.button("Annuler l'import", key="import_cancel"):
        job.cancel()
        st.rerun(scope="app")


with guard("charger la liste des types de fichiers"):
    from data.importers import KINDS
    from data.importers.jobs import TERMINE, start_import
    from data.importers.readers import Limits
    from planning.formats import fr_decimal, fr_int

    from data.importers import ImportRefuse
    from data.identite import ROLE_ADMIN_CAF, ROLE_ADMIN_NATIONAL
    from pages._session import utilisateur_courant

    user = utilisateur_courant()
    if not user.peut(ROLE_ADMIN_CAF):   # the importers refuse anyway (data/droits.py)
        st.info(md(f"Les imports sont réservés aux administrateurs : vous êtes {user.libelle_roles or 'lecteur'}. "
                   "Les couches chargées sont listées ci-dessous."))
        kinds = []
    elif user.peut(ROLE_ADMIN_NATIONAL):
        kinds = list(KINDS)
    else:
        kinds = ["structures"]
        st.caption(md(f"Administrateur Caf : vous importez la liste des structures de vos départements "
                      f"({user.libelle_departements}) ; elle remplace leurs structures, celles des autres "
                      "départements sont conservées. Les fichiers du référentiel national relèvent de "
                      "l'administrateur national."))
    if kinds:
        kind = st.selectbox("Type de fichier", kinds, format_func=lambda k: f"{KINDS[k].label} ({k})",
                            key="import_kind",
                            index=kinds.index("structures") if "structures" in kinds else 0)
        spec = KINDS[kind]

        def as_list(v, default):
            return [v] if isinstance(v, str) else list(v or default)

        lim = Limits.from_env()
        st.caption(f"**{spec.label}** — éditeur : {getattr(spec, 'publisher', '') or 'la Caf'} ; couche(s) : "
                   f"{', '.join(as_list(getattr(spec, 'layers', None), [kind]))} ; formats : "
                   f"{', '.join(as_list(getattr(spec, 'extensions', None), ['csv', 'xlsx']))}. Limites : "
                   f"{fr_decimal(lim.max_file_mb)} Mo, {fr_int(lim.max_rows)} lignes, {fr_int(lim.max_columns)} colonnes, "
                   f"{fr_int(lim.max_seconds)} s (voir « Limites des imports » en bas de page). Colonnes attendues et "
                   "variantes acceptées : voir « Formats acceptés » en bas de page.")
        uploaded = st.file_uploader("Fichier à importer", type=["csv", "txt", "xlsx", "geojson", "json"],
                                    key="import_file")
        from pages._mapping import mapping_step

        options = mapping_step(kind, uploaded, store())  # structure lists: column mapping, millésime
        job = st.session_state.get(JOB_KEY)
        state = job.poll() if job is not None else None
        running = state is not None and state.running
        if uploaded is not None and st.button("Vérifier et importer", type="primary", key="import_go", disabled=running):
            st.session_state.pop(RESULT_KEY, None)
            try:
                st.session_state[JOB_KEY] = start_import(kind, uploaded.getvalue(), uploaded.name, store(),
                                                         utilisateur=user, **options)
            except ImportRefuse as exc:   # role or département: refused before anything is kept
                st.error(md(exc.problems[0].message))
            except OSError:
                st.error("Impossible d'enregistrer le fichier téléversé sur le serveur ou de lancer l'import (disque "
                         "plein ?). Les données existantes n'ont pas été modifiées ; réessayez plus tard.")
            else:
                state = st.session_state[JOB_KEY].poll()
                running = True
        if running:
            _follow()
        elif state is not None:       # the job has ended: keep its result, drop its files
            st.session_state[RESULT_KEY] = state
            st.session_state.pop(JOB_KEY).cleanup()
            if state.status == TERMINE:
                st.cache_data.clear()
        result = st.session_state.get(RESULT_KEY)
        if result is not None and not running:
            _show_result(result)

with guard("afficher les couches importées"):
    st.subheader("Couches actuellement chargées")
    rows = [{"Couche": i.label or n, "Nature": NATURE_BADGE.get(i.nature, i.nature), "Lignes": i.rows,
             "Millésime": i.vintage, "Source": i.source, "Mise à jour": (i.updated_at or "")[:16]}
            for n, i in sorted(store().layers().items())]
    st.dataframe(fr_frame(pd.DataFrame(rows)), hide_index=True, width="stretch")

docs = Path(__file__).resolve().parent.parent / "docs"
for name, title in (("IMPORTS.md", "Formats acceptés et schéma de la liste des structures"),
                    ("LIMITES.md", "Limites des imports")):
    if (docs / name).exists():
        with st.expander(title):
            st.markdown((docs / name).read_text(encoding="utf-8"))
