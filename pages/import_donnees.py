"""Import page: official open-data files and the Caf's structure list, same importers as the CLI."""
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from pages._ui import NATURE_BADGE, guard, require_store, store, territory_picker

st.title("Import de données")
require_store()
territory_picker()

st.markdown(
    "Importez un fichier officiel (QPV, FRR, INSEE, data.caf.fr, DGCL) ou la **liste des structures** de "
    "votre Caf. Le fichier est **entièrement vérifié avant d'être enregistré** : en cas d'erreur, rien n'est "
    "modifié et chaque problème est indiqué avec sa ligne et sa colonne. Mêmes contrôles qu'en ligne de "
    "commande (`python -m data import TYPE FICHIER`). Formats : CSV (`;` ou `,`, UTF-8 ou Windows-1252) "
    "et Excel (xlsx)."
)

with guard("charger la liste des types de fichiers"):
    from data.importers import KINDS, ImportValidationError, import_file

    kinds = list(KINDS)
    kind = st.selectbox("Type de fichier", kinds, format_func=lambda k: f"{KINDS[k].label} ({k})",
                        key="import_kind",
                        index=kinds.index("structures") if "structures" in kinds else 0)
    spec = KINDS[kind]
    def as_list(v, default):
        return [v] if isinstance(v, str) else list(v or default)

    st.caption(f"**{spec.label}** — éditeur : {getattr(spec, 'publisher', '') or 'la Caf'} ; couche(s) : "
               f"{', '.join(as_list(getattr(spec, 'layers', None), [kind]))} ; formats : "
               f"{', '.join(as_list(getattr(spec, 'extensions', None), ['csv', 'xlsx']))}. Colonnes attendues et "
               "variantes acceptées : voir « Formats acceptés » en bas de page.")
    uploaded = st.file_uploader("Fichier à importer", type=["csv", "txt", "xlsx", "geojson", "json"],
                                key="import_file")
    from pages._mapping import mapping_step

    options = mapping_step(kind, uploaded, store())  # structure lists: column mapping, millésime
    if uploaded is not None and st.button("Vérifier et importer", type="primary", key="import_go"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(uploaded.name).name
            path.write_bytes(uploaded.getvalue())
            try:
                with st.spinner("Vérification du fichier…"):
                    report = import_file(kind, path, store(), filename=uploaded.name, **options)
            except ImportValidationError as exc:
                st.error(f"Import refusé : {len(exc.problems)} problème(s). Les données existantes n'ont pas "
                         "été modifiées.")
                st.dataframe(pd.DataFrame([{"Niveau": p.niveau, "Fichier": p.fichier, "Ligne": p.ligne or "—",
                                            "Colonne": p.colonne or "—", "Message": p.message}
                                           for p in exc.problems]).astype(str),
                             hide_index=True, width="stretch")
            else:
                st.success(report.summary())
                if report.warnings:
                    st.warning(f"{len(report.warnings)} avertissement(s) : lignes écartées ou corrigées.")
                    st.dataframe(pd.DataFrame([{"Fichier": p.fichier, "Ligne": p.ligne or "—",
                                                "Colonne": p.colonne or "—", "Message": p.message}
                                               for p in report.warnings]).astype(str),
                                 hide_index=True, width="stretch")
                st.cache_data.clear()

with guard("afficher les couches importées"):
    st.subheader("Couches actuellement chargées")
    rows = [{"Couche": i.label or n, "Nature": NATURE_BADGE.get(i.nature, i.nature), "Lignes": i.rows,
             "Millésime": i.vintage, "Source": i.source, "Mise à jour": (i.updated_at or "")[:16]}
            for n, i in sorted(store().layers().items())]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

doc = Path(__file__).resolve().parent.parent / "docs" / "IMPORTS.md"
if doc.exists():
    with st.expander("Formats acceptés et schéma de la liste des structures"):
        st.markdown(doc.read_text(encoding="utf-8"))
