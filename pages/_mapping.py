"""Column-mapping step of the Import page (structure lists): pick the column of each field, preview
5 rows, save the mapping under a name, and the vintage of a list without opening dates.

Not a page (not listed in ``st.navigation``).  ``pages/import_donnees.py`` calls
:func:`mapping_step` once and passes what it returns to ``import_file``.
"""
from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

import streamlit as st

NONE = "— aucune —"
_MD = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def _plain(text: object) -> str:
    """User text (file or mapping name) shown inside Markdown: every Markdown character escaped."""
    return _MD.sub(r"\\\1", str(text))


def mapping_step(kind: str, uploaded, store) -> dict:
    """Show the mapping step for a structure list; return the keyword options of ``import_file``
    (``mapping`` and ``millesime``), ``{}`` when there is nothing to choose."""
    if kind != "structures" or uploaded is None:
        return {}
    from data.importers.common import ImportValidationError, Problems, read_table, year_in
    from data.importers.mapping import (FIELD_LABELS, MappingError, list_mappings, preview, save_mapping,
                                        suggest)
    from data.importers.structures import STRUCT_COLS

    name = Path(uploaded.name).name
    data = uploaded.getvalue()
    fid = hashlib.sha1(data[:65536] + name.encode()).hexdigest()[:10]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            # the head only: the preview needs 5 rows, and a 45 MB list must not be read in the server
            table = read_table(path, name, STRUCT_COLS, Problems(name), max_data_rows=200)
    except ImportValidationError:
        return {}  # the import itself will report the problem, located
    except Exception:  # noqa: BLE001 - an unreadable file is reported by the import
        return {}
    headers = list(table.headers.values())
    fields = FIELD_LABELS["structures"]
    required = [c.name for c in STRUCT_COLS if c.required]
    auto = suggest(table, STRUCT_COLS)
    missing = [f for f in required if f not in auto]
    saved = list_mappings(store, "structures")

    st.markdown("#### Colonnes du fichier")
    options: dict = {}
    choice = NONE
    if saved:
        choice = st.selectbox("Correspondance enregistrée", [NONE] + list(saved), key=f"map_saved_{fid}",
                              help="Une correspondance enregistrée lors d'un import précédent (même éditeur).")
    if missing:
        st.warning("Colonnes non reconnues : choisissez la colonne du fichier qui contient chaque champ "
                   f"obligatoire ({', '.join(fields[f].split(' (')[0] for f in missing)}).",
                   icon=":material/table_edit:")
    manual = bool(missing) or choice != NONE or st.toggle(
        "Choisir les colonnes moi-même", key=f"map_manual_{fid}",
        help="Toutes les colonnes obligatoires ont été reconnues ; ouvrez pour vérifier ou corriger.")
    if manual:
        initial = dict(auto)
        if choice != NONE:
            initial = {f: c for f, c in saved[choice].items() if c in headers}
        mapping: dict[str, str] = {}
        cols = st.columns(2)
        for i, (field, label) in enumerate(fields.items()):
            opts = [NONE] + headers
            default = initial.get(field)
            idx = opts.index(default) if default in opts else 0
            pick = cols[i % 2].selectbox(f"{label}{' (obligatoire)' if field in required else ''}", opts,
                                         index=idx, key=f"map_{fid}_{choice}_{field}")
            if pick != NONE:
                mapping[field] = pick
        used = [c for c in mapping.values()]
        twice = sorted({c for c in used if used.count(c) > 1})
        if twice:
            st.error("Une colonne ne sert qu'à un champ : " + ", ".join(f"« {_plain(c)} »" for c in twice) + ".")
        still = [f for f in required if f not in mapping]
        if still:
            st.info("À choisir encore : " + ", ".join(fields[f] for f in still) + ".")
        st.caption("Aperçu des 5 premières lignes telles qu'elles seront lues :")
        st.dataframe(preview(table, mapping, 5).astype(str), width="stretch")
        c1, c2 = st.columns([3, 1])
        new_name = c1.text_input("Enregistrer cette correspondance sous le nom", key=f"map_name_{fid}",
                                 max_chars=60, placeholder="ex. Open data Hauts-de-Seine")
        if c2.button("Enregistrer", key=f"map_save_{fid}"):
            try:
                save_mapping(store, "structures", new_name, mapping)
                st.success(f"Correspondance « {_plain(new_name.strip())} » enregistrée : elle sera proposée au "
                           "prochain import (et en ligne de commande : --correspondance).")
            except MappingError as exc:
                st.error(f"Correspondance non enregistrée : {_plain(exc)}")
        options["mapping"] = mapping
    opening = (options.get("mapping") or auto).get("date_ouverture")
    if not opening:
        y = year_in(name)
        default = str(y) if y else f"{__import__('datetime').date.today():%d/%m/%Y}"
        options["millesime"] = st.text_input(
            "Millésime de la liste (aucune date d'ouverture dans le fichier)", value=default,
            key=f"map_millesime_{fid}",
            help="Les structures sont comptées ouvertes à partir de cette date (année AAAA ou date JJ/MM/AAAA) ; "
                 "par défaut l'année lue dans le nom du fichier, sinon la date du jour.").strip()
    return options
