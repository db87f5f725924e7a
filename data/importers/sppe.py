"""Importers of the SPPE settings (docs/IMPORTS.md): the EPCI holding the petite-enfance competence
(kind ``competences``) and the status of each authority's schéma pluriannuel (kind ``schemas``).

Both are short lists a Caf keeps itself: CSV or xlsx through the shared reader (limits, strict
decoding, French located messages); the layers and how an import merges with the page's settings are
described in :mod:`data.sppe`.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd

from .. import sppe as persist
from ..codes import fold_arrondissement, is_valid_commune_code, normalise_insee
from ..store import Store
from .common import (Built, Col, Problems, Table, _short, check_cells, date_column, parse_bool, read_table,
                     report_duplicates, resolve_columns, text_column)

SIREN = Col("siren_epci", ("siren", "n_siren", "no_siren", "numero_siren", "siren_groupement", "siren_de_l_epci",
                           "code_epci", "epci", "numero_epci", "siren_epci_competent"))
COMPETENCES_COLS = [
    SIREN,
    Col("date_transfert", ("date_de_transfert", "date_du_transfert", "date_effet", "date_d_effet", "date"),
        required=False),
    Col("competence", ("competence_petite_enfance", "competent", "petite_enfance"), required=False),
    Col("nom", ("nom_epci", "raison_sociale", "nom_du_groupement", "libelle", "nom_groupement"), required=False),
]
SCHEMAS_COLS = [
    Col("code", ("code_insee", "code_commune", "codgeo", "siren", "siren_epci", "code_autorite", "autorite")),
    Col("statut", ("statut_schema", "etat", "schema", "schema_pluriannuel", "situation")),
    Col("date_statut", ("date", "date_adoption", "date_d_adoption", "date_deliberation", "date_de_deliberation"),
        required=False),
    Col("nom", ("nom_autorite", "commune", "nom_commune", "libelle"), required=False),
]
_STATUTS = {
    "adopte": "adopte", "schema_adopte": "adopte", "adoptee": "adopte", "oui": "adopte",
    "ctg": "ctg", "ctg_valant_schema": "ctg", "ctg_en_tenant_lieu": "ctg", "ctg_tenant_lieu": "ctg",
    "en_cours": "en_cours", "en_cours_d_elaboration": "en_cours", "elaboration": "en_cours", "en_preparation": "en_cours",
    "aucun": "aucun", "aucun_schema": "aucun", "non": "aucun", "neant": "aucun", "sans": "aucun",
}


def _norm(s: str) -> str:
    s = unicodedata.normalize("NFKD", str(s).strip().lower())
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def _siren(v: str) -> str:
    s = str(v).strip()
    if s.startswith('="') and s.endswith('"'):
        s = s[2:-1]
    s = s.replace(" ", "").replace("\u202f", "").replace("\u00a0", "")
    if re.fullmatch(r"\d+\.0+", s):
        s = s.split(".")[0]
    return s


def groupements(store: Store) -> dict[str, str]:
    """SIREN → name of every EPCI and EPT of the référentiel."""
    c = store.read("communes", columns=["epci_siren", "epci_nom", "ept_code", "ept_nom"])
    out = dict(zip(c["epci_siren"].dropna(), c.loc[c["epci_siren"].notna(), "epci_nom"]))
    out.update(dict(zip(c["ept_code"].dropna(), c.loc[c["ept_code"].notna(), "ept_nom"])))
    return out


def _sirens(table: Table, col: str, known: dict[str, str], probs: Problems) -> list[str | None]:
    """Valid SIREN per row; unknown ones are warnings (row ignored), malformed ones errors."""
    out: list[str | None] = []
    label = table.label(col)
    for i, v in enumerate(table.frame[col].tolist()):
        s = _siren(v)
        if not (s.isdigit() and len(s) == 9):
            probs.error(f"SIREN « {_short(v)} » invalide — 9 chiffres attendus (ex. 200067205).", table.lines[i], label)
            out.append(None)
        elif s not in known:
            probs.warn(f"SIREN « {s} » absent du référentiel des EPCI et EPT (1er janvier 2025) : ligne ignorée — "
                       "vérifiez le code (EPCI fusionné ?).", table.lines[i], label)
            out.append(None)
        else:
            out.append(s)
    return out


def build_competences(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, COMPETENCES_COLS, probs, une_colonne=True)
    m = resolve_columns(table, COMPETENCES_COLS, probs)
    check_cells(table, [m[k] for k in ("nom",) if k in m], probs)
    known = groupements(store)
    df = pd.DataFrame({"_ligne": table.lines, "siren_epci": _sirens(table, m["siren_epci"], known, probs)})
    df["date_transfert"] = date_column(table, m["date_transfert"], probs) if "date_transfert" in m else pd.NaT
    comp = []
    for i, v in enumerate(text_column(table, m.get("competence"))):
        b = True if "competence" not in m or not v.strip() else parse_bool(v)
        if b is None:
            probs.error(f"valeur « {_short(v)} » illisible — écrivez oui ou non.", table.lines[i],
                        table.label(m["competence"]))
        comp.append(bool(b))
    df["competence"] = comp
    probs.raise_if_errors()
    df = df[df["siren_epci"].notna()]
    df = report_duplicates(df, ["siren_epci"], ["date_transfert", "competence"], "_ligne", probs,
                           table.label(m["siren_epci"]), "EPCI")
    probs.raise_if_errors()
    out = pd.DataFrame({"siren_epci": df["siren_epci"].astype(str), "nom": df["siren_epci"].map(known),
                        "competence": pd.array(df["competence"], dtype="boolean"),
                        "date_transfert": pd.to_datetime(df["date_transfert"]),
                        "origine": persist.ORIGINE_IMPORT, "source": f"{fichier} — {publisher}",
                        "modifie_le": pd.Timestamp.now().floor("s")})
    out = persist.fusion(persist.lire(store, persist.COMPETENCES), out, persist.COMPETENCES, import_=True)
    n = int((out["origine"] == persist.ORIGINE_IMPORT).sum())
    notes = [f"{n} EPCI ou EPT dans la liste importée ({int(df['competence'].sum())} compétents) ; "
             f"{len(out) - n} réglage(s) de la page conservé(s)."]
    info = persist.info(persist.COMPETENCES, out, f"{fichier} — {publisher}")
    return Built({persist.COMPETENCES: (out, info)}, info.vintage, len(df), table.encoding, notes)


def _codes_autorite(table: Table, col: str, known_grp: dict[str, str], known_com: set[str],
                    probs: Problems) -> list[str | None]:
    out: list[str | None] = []
    label = table.label(col)
    for i, v in enumerate(table.frame[col].tolist()):
        s = _siren(v)
        if s.isdigit() and len(s) == 9:
            ok = s in known_grp
        else:
            s = fold_arrondissement(normalise_insee(v))
            if not is_valid_commune_code(s):
                probs.error(f"code « {_short(v)} » invalide — code INSEE de la commune (5 caractères) ou SIREN de "
                            "l'EPCI (9 chiffres).", table.lines[i], label)
                out.append(None)
                continue
            ok = s in known_com
        if not ok:
            probs.warn(f"code « {s} » inconnu du référentiel (COG 2025) : ligne ignorée.", table.lines[i], label)
        out.append(s if ok else None)
    return out


def build_schemas(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, SCHEMAS_COLS, probs)
    m = resolve_columns(table, SCHEMAS_COLS, probs)
    check_cells(table, [m[k] for k in ("nom", "statut") if k in m], probs)
    com = store.read("communes", columns=["code_insee"])
    codes = _codes_autorite(table, m["code"], groupements(store), set(com["code_insee"]), probs)
    statuts = []
    for i, v in enumerate(text_column(table, m["statut"])):
        s = _STATUTS.get(_norm(v))
        if s is None:
            probs.error(f"statut « {_short(v)} » inconnu — écrivez adopté, CTG (valant schéma), en cours ou aucun.",
                        table.lines[i], table.label(m["statut"]))
        statuts.append(s)
    df = pd.DataFrame({"_ligne": table.lines, "code": codes, "statut": statuts})
    df["date_statut"] = date_column(table, m["date_statut"], probs) if "date_statut" in m else pd.NaT
    probs.raise_if_errors()
    df = df[df["code"].notna()]
    df = report_duplicates(df, ["code"], ["statut", "date_statut"], "_ligne", probs, table.label(m["code"]),
                           "autorité")
    probs.raise_if_errors()
    out = pd.DataFrame({"code": df["code"].astype(str), "statut": df["statut"].astype(str),
                        "date_statut": pd.to_datetime(df["date_statut"]), "origine": persist.ORIGINE_IMPORT,
                        "source": f"{fichier} — {publisher}", "modifie_le": pd.Timestamp.now().floor("s")})
    out = persist.fusion(persist.lire(store, persist.SCHEMAS), out, persist.SCHEMAS, import_=True)
    counts = df["statut"].value_counts()
    notes = ["Statuts importés : " + " ; ".join(f"{persist_label(k)} : {int(counts.get(k, 0))}"
                                              for k in persist.STATUTS) + "."]
    info = persist.info(persist.SCHEMAS, out, f"{fichier} — {publisher}")
    return Built({persist.SCHEMAS: (out, info)}, info.vintage, len(df), table.encoding, notes)


def persist_label(statut: str) -> str:
    return {"adopte": "adopté", "ctg": "CTG valant schéma", "en_cours": "en cours", "aucun": "aucun"}[statut]
