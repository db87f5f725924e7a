"""Column mapping: which column of a file holds which field, when the headers are not recognised.

* ``parse_colonnes("nom=Nom de l'établissement,places=Capacité")`` reads the CLI option
  ``--colonnes``; a column name may itself contain commas (a split happens only before
  ``champ=``).
* ``apply_mapping`` is called by ``resolve_columns`` when a mapping is given: every field must be a
  known field of the kind and every column must exist in the file (French, located errors).
* Named mappings are saved in the store folder (``correspondances_colonnes.json``), per kind, so
  that the next file of the same publisher is mapped in one click (``--correspondance NOM``).
* ``suggest`` gives the automatic guess (aliases) used to pre-fill the Import page's mapping step,
  ``preview`` the first rows as the importer will read them.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .problems import Problems
from .table import Col, normalise_header, Table

if TYPE_CHECKING:
    from ..store import Store

MAPPINGS_FILE = "correspondances_colonnes.json"
MAX_NAME = 60
MAX_MAPPINGS = 200   # per kind: the file stays small

# French labels of the fields a user can map (Import page, --colonnes help), per kind.
FIELD_LABELS: dict[str, dict[str, str]] = {
    "structures": {
        "code_insee": "Code INSEE de la commune",
        "type": "Type de structure (multi-accueil, micro-crèche, RPE…)",
        "nom": "Nom de la structure",
        "places": "Nombre de places (capacité)",
        "psu": "Financement PSU (oui / non)",
        "gestion": "Gestion (publique / privée, commune, associatif…)",
        "date_ouverture": "Date d'ouverture",
        "date_fermeture": "Date de fermeture",
        "latitude": "Latitude (WGS 84)",
        "longitude": "Longitude (WGS 84)",
        "geo_point": "Coordonnées « latitude, longitude » (geo_point_2d)",
        "geo_shape": "Point GeoJSON (geo_shape)",
        "etp_animation": "ETP d'animation (RPE)",
        "nb_assistants_maternels": "Assistants maternels couverts (RPE)",
        "id": "Identifiant",
        "gestionnaire": "Gestionnaire",
        "adresse": "Adresse",
    },
}


class MappingError(ValueError):
    """A mapping that cannot be used (French message)."""


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", str(s))
    return "".join(ch for ch in s if not unicodedata.combining(ch)).strip().lower()


# ---------------------------------------------------------------------------
# --colonnes
# ---------------------------------------------------------------------------
def parse_colonnes(text: str, fields: list[str]) -> dict[str, str]:
    """``"nom=Nom de l'établissement,places=Capacité"`` → {"nom": "Nom de l'établissement", …}.

    Only ``,`` followed by ``champ=`` (a known field) separates two pairs, so a column named
    « Nom, prénom » survives.  Raises :class:`MappingError` in French.
    """
    text = (text or "").strip()
    if not text:
        raise MappingError("--colonnes est vide : écrivez champ=colonne, séparés par des virgules "
                           "(ex. nom=Nom de l'établissement,places=Capacité).")
    alt = "|".join(sorted((re.escape(f) for f in fields), key=len, reverse=True))
    parts = re.split(rf",\s*(?=(?:{alt})\s*=)", text)
    out: dict[str, str] = {}
    for part in parts:
        if "=" not in part:
            raise MappingError(f"« {part.strip()} » n'a pas la forme champ=colonne — champs possibles : "
                               f"{', '.join(fields)}.")
        field, column = part.split("=", 1)
        field, column = field.strip(), column.strip().strip('"').strip("'").strip()
        if field not in fields:
            raise MappingError(f"champ « {field} » inconnu — champs possibles : {', '.join(fields)}.")
        if not column:
            raise MappingError(f"aucune colonne indiquée pour le champ « {field} ».")
        if field in out:
            raise MappingError(f"le champ « {field} » est indiqué deux fois.")
        out[field] = column
    return out


# ---------------------------------------------------------------------------
# Applying a mapping to a table
# ---------------------------------------------------------------------------
def find_column(table: Table, column: str) -> str | None:
    """Normalised header of the column written ``column`` (exact, then case/accents, then normalised)."""
    for norm, written in table.headers.items():
        if written == column:
            return norm
    folded = _fold(column)
    for norm, written in table.headers.items():
        if _fold(written) == folded:
            return norm
    n = normalise_header(column)
    return n if n in table.headers else None


def apply_mapping(table: Table, cols: list[Col], mapping: dict[str, str], probs: Problems) -> dict[str, str]:
    """Logical field → normalised header for the mapped fields; every problem is fatal and located."""
    known = {c.name for c in cols}
    found: dict[str, str] = {}
    present = ", ".join(f"« {w} »" for w in table.headers.values()) or "aucune"
    for field, column in mapping.items():
        if field not in known:
            raise probs.fatal(f"correspondance : champ « {field} » inconnu — champs possibles : "
                              f"{', '.join(c.name for c in cols)}.", table.header_line)
        norm = find_column(table, column)
        if norm is None:
            raise probs.fatal(f"correspondance : la colonne « {column} » indiquée pour « {field} » est absente "
                              f"du fichier. Colonnes trouvées : {present}.", table.header_line)
        other = next((f for f, h in found.items() if h == norm), None)
        if other:
            raise probs.fatal(f"correspondance : la colonne « {table.label(norm)} » est indiquée pour « {other} » "
                              f"et pour « {field} » — une colonne ne sert qu'à un champ.", table.header_line)
        found[field] = norm
    return found


def suggest(table: Table, cols: list[Col]) -> dict[str, str]:
    """Automatic guess (aliases): field → column as written in the file."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for c in cols:
        for h in table.frame.columns:
            if h not in used and c.matches(h):
                out[c.name] = table.label(h)
                used.add(h)
                break
    return out


def preview(table: Table, mapping: dict[str, str], n: int = 5) -> pd.DataFrame:
    """First ``n`` rows with one column per mapped field (cells as read, text)."""
    data = {}
    for field, column in mapping.items():
        norm = find_column(table, column)
        if norm is not None:
            data[field] = table.frame[norm].head(n).tolist()
    out = pd.DataFrame(data)
    out.index = table.lines[: len(out)]
    out.index.name = "ligne"
    return out


# ---------------------------------------------------------------------------
# Named mappings, saved in the store folder
# ---------------------------------------------------------------------------
def _path(store: "Store") -> Path:
    return Path(store.root) / MAPPINGS_FILE


def _read_all(store: "Store") -> dict:
    p = _path(store)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise MappingError("donnez un nom à la correspondance (ex. « Hauts-de-Seine open data »).")
    if len(name) > MAX_NAME:
        raise MappingError(f"nom trop long ({len(name)} caractères, {MAX_NAME} au plus).")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise MappingError("le nom contient un caractère de contrôle — écrivez un texte simple.")
    return name


def list_mappings(store: "Store", kind: str) -> dict[str, dict[str, str]]:
    """Saved mappings of a kind: name → {field: column}."""
    entries = _read_all(store).get(kind, {})
    out = {}
    for name, entry in entries.items():
        m = entry.get("colonnes") if isinstance(entry, dict) else None
        if isinstance(m, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in m.items()):
            out[name] = dict(m)
    return dict(sorted(out.items(), key=lambda kv: _fold(kv[0])))


def load_mapping(store: "Store", kind: str, name: str) -> dict[str, str]:
    saved = list_mappings(store, kind)
    if name not in saved:
        known = ", ".join(f"« {n} »" for n in saved) or "aucune"
        raise MappingError(f"correspondance « {name} » introuvable pour « {kind} » — enregistrées : {known}.")
    return saved[name]


def save_mapping(store: "Store", kind: str, name: str, mapping: dict[str, str]) -> None:
    """Save (or replace) a named mapping; atomic replacement of the file."""
    name = check_name(name)
    fields = FIELD_LABELS.get(kind)
    if fields is not None:
        bad = [f for f in mapping if f not in fields]
        if bad:
            raise MappingError(f"champ(s) inconnu(s) : {', '.join(bad)}.")
    if not mapping:
        raise MappingError("la correspondance est vide : choisissez au moins une colonne.")
    data = _read_all(store)
    per_kind = data.setdefault(kind, {})
    if name not in per_kind and len(per_kind) >= MAX_MAPPINGS:
        raise MappingError(f"{MAX_MAPPINGS} correspondances déjà enregistrées pour « {kind} » : "
                           "réutilisez ou remplacez l'une d'elles.")
    per_kind[name] = {"colonnes": dict(mapping), "enregistree_le": datetime.now().isoformat(timespec="seconds")}
    root = Path(store.root)
    root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".mapping-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=2)
        os.replace(tmp, _path(store))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
