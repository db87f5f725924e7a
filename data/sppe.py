"""Persistence of the SPPE settings: which EPCI holds the petite-enfance competence, and the status of
each authority's schéma pluriannuel.  Two store layers, written atomically under the store lock:

* ``competences``: siren_epci, nom, competence (bool), date_transfert (datetime, NaT = unknown),
  origine (« import » or « saisie »), source (file or « page SPPE »), modifie_le.
* ``schemas_pluriannuels``: code (INSEE of a commune or SIREN of an EPCI), statut (adopte, ctg, en_cours,
  aucun), date_statut (datetime, NaT), origine, source, modifie_le.

An import replaces the imported rows (the file is the list) and keeps what was set on the page for
codes the file does not mention; a page setting replaces the row of its code.  The importers are in
:mod:`data.importers.sppe`; the rules that use these layers are in :mod:`planning.sppe`.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from .store import NATURE_IMPORTE, LayerInfo, Store

COMPETENCES = "competences"
SCHEMAS = "schemas_pluriannuels"
NATURE_SAISI = "saisi"
ORIGINE_IMPORT, ORIGINE_SAISIE = "import", "saisie"
SOURCE_PAGE = "page Service public de la petite enfance"
COLONNES = {
    COMPETENCES: ["siren_epci", "nom", "competence", "date_transfert", "origine", "source", "modifie_le"],
    SCHEMAS: ["code", "statut", "date_statut", "origine", "source", "modifie_le"],
}
CLE = {COMPETENCES: "siren_epci", SCHEMAS: "code"}
STATUTS = ("adopte", "ctg", "en_cours", "aucun")
LIBELLES = {COMPETENCES: "Compétence petite enfance des EPCI", SCHEMAS: "Schémas pluriannuels des autorités"}


class SaisieInvalide(ValueError):
    """A page setting refused (French message)."""


def vide(layer: str) -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in COLONNES[layer]})
    for c in ("date_transfert", "date_statut", "modifie_le"):
        if c in df:
            df[c] = pd.Series(dtype="datetime64[ns]")
    if "competence" in df:
        df["competence"] = pd.Series(dtype="boolean")
    return df


def lire(store: Store, layer: str) -> pd.DataFrame:
    """The layer, or an empty frame with its columns."""
    if not store.has(layer):
        return vide(layer)
    df = store.read(layer)
    for c in COLONNES[layer]:
        if c not in df:
            df[c] = vide(layer)[c]
    return df[COLONNES[layer]]


def fusion(existant: pd.DataFrame, nouveau: pd.DataFrame, layer: str, *, import_: bool) -> pd.DataFrame:
    """Rows after an import (``import_``: earlier imported rows are dropped, the file is the list) or a
    page setting (the new rows replace those of their codes)."""
    cle = CLE[layer]
    garde = existant[~existant[cle].isin(set(nouveau[cle]))]
    if import_:
        garde = garde[garde["origine"] != ORIGINE_IMPORT]
    parts = [p for p in (garde, nouveau[COLONNES[layer]]) if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else vide(layer)
    return out.sort_values(cle).reset_index(drop=True)


def info(layer: str, out: pd.DataFrame, source: str) -> LayerInfo:
    nature = NATURE_IMPORTE if (out["origine"] == ORIGINE_IMPORT).any() else NATURE_SAISI
    return LayerInfo(layer, len(out), nature, dt.date.today().isoformat(), source, label=LIBELLES[layer])


def _ecrire_saisie(store: Store, layer: str, ligne: dict) -> pd.DataFrame:
    with store.lock():   # read-modify-write: two advisers saving at once never lose a row
        ligne = dict(ligne, origine=ORIGINE_SAISIE, source=SOURCE_PAGE, modifie_le=pd.Timestamp.now().floor("s"))
        new = pd.DataFrame([ligne])
        out = fusion(lire(store, layer), new, layer, import_=False)
        store.write_layer(layer, out, info(layer, out, SOURCE_PAGE))
    return out


def _date(d) -> pd.Timestamp:
    if d is None or d == "" or (not isinstance(d, str) and pd.isna(d)):
        return pd.NaT
    try:
        return pd.Timestamp(d).normalize()
    except (ValueError, TypeError):
        raise SaisieInvalide(f"date « {d} » illisible : écrivez-la au format JJ/MM/AAAA.") from None


def enregistrer_competence(store: Store, siren: str, nom: str, competence: bool,
                           date_transfert: object = None) -> pd.DataFrame:
    """The page's toggle: this EPCI (or EPT) holds the competence, or not."""
    siren = str(siren).strip()
    if not (siren.isdigit() and len(siren) == 9):
        raise SaisieInvalide(f"SIREN « {siren} » invalide : 9 chiffres attendus.")
    return _ecrire_saisie(store, COMPETENCES, {"siren_epci": siren, "nom": str(nom), "competence": bool(competence),
                                               "date_transfert": _date(date_transfert)})


def enregistrer_statut_schema(store: Store, code: str, statut: str, date_statut: object = None) -> pd.DataFrame:
    """The page's setting of a schéma status for one authority (commune INSEE code or EPCI SIREN)."""
    code = str(code).strip().upper()
    if statut not in STATUTS:
        raise SaisieInvalide(f"statut « {statut} » inconnu : {', '.join(STATUTS)}.")
    if not (len(code) == 5 or (code.isdigit() and len(code) == 9)):
        raise SaisieInvalide(f"code « {code} » invalide : code INSEE (5 caractères) ou SIREN (9 chiffres).")
    return _ecrire_saisie(store, SCHEMAS, {"code": code, "statut": statut, "date_statut": _date(date_statut)})
