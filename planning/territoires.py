"""Territories of the dashboard and the communes that make them up.

A territory is a level (``niveau``) and a code:

===============  ==================  ============================================
niveau           code                column of the ``communes`` layer
===============  ==================  ============================================
``france``       ``None`` (or "FR")  every commune
``region``       "27"                ``reg``
``departement``  "89", "2A", "971"   ``dep``
``epci``         SIREN "200067205"   ``epci_siren``
``ept``          SIREN "200057867"   ``ept_code`` (Grand Paris only)
``commune``      INSEE "89024"       ``code_insee``
===============  ==================  ============================================

The helpers take the ``communes`` frame (geometry not needed) so that tests
can pass a few hand-made rows.  Codes are strings; a Paris/Lyon/Marseille
arrondissement code is folded into its commune.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from data.codes import fold_arrondissement


# niveau -> (code column, name column) in the communes layer
COLONNES: dict[str, tuple[str, str]] = {
    "commune": ("code_insee", "nom"),
    "epci": ("epci_siren", "epci_nom"),
    "ept": ("ept_code", "ept_nom"),
    "departement": ("dep", "dep_nom"),
    "region": ("reg", "reg_nom"),
}

LIBELLES_NIVEAU = {
    "commune": "Commune",
    "epci": "EPCI",
    "ept": "EPT",
    "departement": "Département",
    "region": "Région",
    "france": "",
}

# Aliases accepted by :func:`parse_territoire` (URLs, command line).
_ALIASES = {
    "fr": "france", "france": "france", "nat": "france", "national": "france",
    "reg": "region", "region": "region", "région": "region",
    "dep": "departement", "dept": "departement", "departement": "departement", "département": "departement",
    "epci": "epci", "ept": "ept", "com": "commune", "commune": "commune",
}


class TerritoireInconnu(LookupError):
    """A level or a code that does not exist (message in French)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "Territoire inconnu."


@dataclass(frozen=True)
class Territoire:
    """The one territory of the dashboard: built once (the pages' picker from the URL, the CLIs from
    their options) and passed whole to every computation, map and export.

    ``departement`` is the département it was chosen in (the picker's first level; for an EPCI
    across two départements, the one picked), used for département-wide views; it does not take
    part in equality.
    """
    niveau: str
    code: str | None
    nom: str
    departement: str | None = field(default=None, compare=False)

    @property
    def cle(self) -> str:
        """« departement:89 », « epci:200067205 », « france »: the key scenarios are filed under."""
        return f"{self.niveau}:{self.code}" if self.code else "france"

    @property
    def libelle(self) -> str:
        """« Département Yonne (89) », « France entière »."""
        if self.niveau == "france":
            return "France entière"
        code = f" ({self.code})" if self.niveau in ("departement", "region", "commune") else ""
        return f"{LIBELLES_NIVEAU[self.niveau]} {self.nom}{code}"

    def to_dict(self) -> dict:
        return {"niveau": self.niveau, "code": self.code, "nom": self.nom, "libelle": self.libelle}


FRANCE = Territoire("france", None, "France")


def check_niveau(niveau: str) -> str:
    n = _ALIASES.get(str(niveau).strip().lower())
    if n is None:
        raise TerritoireInconnu(
            f"Niveau de territoire « {niveau} » inconnu : choisissez parmi "
            "france, region, departement, epci, ept, commune."
        )
    return n


def normalise_code(niveau: str, code: object) -> str | None:
    """Clean a code typed by a user: '1' → '01' for a département, arrondissement folded."""
    if code is None or niveau == "france":
        return None
    s = str(code).strip().upper()
    if niveau == "departement" and s.isdigit() and len(s) == 1:
        s = "0" + s
    if niveau == "commune":
        if s.isdigit() and len(s) == 4:
            s = "0" + s
        s = fold_arrondissement(s)
    return s


def parse_territoire(spec: str | tuple | Territoire | None) -> tuple[str, str | None]:
    """``"departement:89"``, ``"dep:89"``, ``("epci", "200067205")``, ``None`` → (niveau, code)."""
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "france", "fr")):
        return "france", None
    if isinstance(spec, Territoire):
        return spec.niveau, spec.code
    if isinstance(spec, tuple):
        niveau = check_niveau(spec[0])
        return niveau, normalise_code(niveau, spec[1] if len(spec) > 1 else None)
    if ":" not in spec:
        raise TerritoireInconnu(
            f"Territoire « {spec} » illisible : écrivez niveau:code, par exemple departement:89 ou epci:200067205."
        )
    niveau, code = spec.split(":", 1)
    niveau = check_niveau(niveau)
    return niveau, normalise_code(niveau, code)


def masque(communes: pd.DataFrame, niveau: str, code: str | None) -> pd.Series:
    """Boolean mask of the communes of a territory (no error when empty)."""
    niveau = check_niveau(niveau)
    if niveau == "france":
        return pd.Series(np.ones(len(communes), dtype=bool), index=communes.index)
    col = COLONNES[niveau][0]
    return (communes[col] == normalise_code(niveau, code)).fillna(False).astype(bool)


def resolve(communes: pd.DataFrame, niveau: str, code: str | None = None) -> Territoire:
    """The territory with its name; :class:`TerritoireInconnu` when no commune matches."""
    niveau = check_niveau(niveau)
    if niveau == "france":
        return FRANCE
    code = normalise_code(niveau, code)
    if not code:
        raise TerritoireInconnu(f"Indiquez le code du territoire ({LIBELLES_NIVEAU[niveau].lower()}).")
    col, nom_col = COLONNES[niveau]
    rows = communes[communes[col] == code]
    if rows.empty:
        what = {"commune": "Code commune INSEE", "epci": "SIREN d'EPCI", "ept": "Code d'EPT",
                "departement": "Code de département", "region": "Code de région"}[niveau]
        raise TerritoireInconnu(f"{what} « {code} » inconnu dans le référentiel des communes.")
    nom = rows[nom_col].iloc[0] if nom_col in rows.columns else code
    dep = rows["dep"].iloc[0] if "dep" in rows.columns else None
    return Territoire(niveau, code, str(nom) if isinstance(nom, str) else code,
                      code if niveau == "departement" else (dep if isinstance(dep, str) else None))


def territoire(communes: pd.DataFrame, spec: str | tuple | Territoire | None) -> Territoire:
    """Resolve any accepted form of a territory (see :func:`parse_territoire`)."""
    niveau, code = parse_territoire(spec)
    return resolve(communes, niveau, code)


def communes_du_territoire(communes: pd.DataFrame, spec: str | tuple | Territoire | None) -> pd.DataFrame:
    """Rows of ``communes`` that belong to the territory (raises when it does not exist)."""
    t = territoire(communes, spec)
    return communes[masque(communes, t.niveau, t.code)]


def codes_du_territoire(communes: pd.DataFrame, spec: str | tuple | Territoire | None) -> list[str]:
    """Sorted INSEE codes of the territory's communes."""
    return sorted(communes_du_territoire(communes, spec)["code_insee"].astype(str).tolist())


def groupement(communes: pd.DataFrame, terr: Territoire) -> Territoire:
    """The group a commune belongs to for a map of its surroundings: its EPT in the Grand Paris,
    else its EPCI, else the commune itself; any other territory is returned as it is."""
    if terr.niveau != "commune":
        return terr
    row = communes[communes["code_insee"] == terr.code]
    for niveau in ("ept", "epci"):
        col, nom_col = COLONNES[niveau]
        if col in row.columns and len(row) and isinstance(row[col].iloc[0], str) and row[col].iloc[0]:
            nom = row[nom_col].iloc[0] if nom_col in row.columns else row[col].iloc[0]
            return Territoire(niveau, row[col].iloc[0], str(nom), terr.departement)
    return terr


def liste(communes: pd.DataFrame, niveau: str, dans: str | tuple | Territoire | None = None) -> pd.DataFrame:
    """The territories of one level (code, nom), optionally inside another territory.

    An EPCI that straddles two départements is listed in both.
    """
    niveau = check_niveau(niveau)
    if niveau == "france":
        return pd.DataFrame({"code": ["FR"], "nom": ["France"]})
    sub = communes_du_territoire(communes, dans) if dans is not None else communes
    col, nom_col = COLONNES[niveau]
    out = sub[[col, nom_col]].dropna(subset=[col]).drop_duplicates(col)
    out.columns = ["code", "nom"]
    return out.sort_values("nom" if niveau in ("epci", "ept") else "code").reset_index(drop=True)
