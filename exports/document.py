"""Format-independent model of a committee document: sections, tables, typed columns.

One :class:`Document` is rendered by :mod:`exports.pptx_builder` (slides),
:mod:`exports.pdf_builder` (A4 pages) and :mod:`exports.xlsx` (one sheet per table),
so that the three formats always show the same figures.

French formats: numbers ``1 234,5`` (narrow no-break space, as on the screens, see
:func:`geo.classes.fr_number`), percentages ``56,3 %``, dates « 26 novembre 2026 ».

Statistical secrecy (« secret statistique »): columns of kind ``effectif`` hold counts
that come from individual data (children under 3, assistants maternels, structures
of a commune); a value strictly between 0 and 5 is shown as « < 5 » in every format,
and a column declared ``masque_si=<effectif column>`` (a ratio computed from that
count, e.g. a coverage rate from the children count) is shown as « secret » on the
same rows, so that the count cannot be recomputed. Places are not masked.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from geo.classes import fr_number

DEMO_MENTION = "Données fictives de démonstration"
MASQUE_EFFECTIF = "< 5"
MASQUE_DERIVE = "secret"
NOTE_SECRET = ("Secret statistique : les effectifs de personnes ou de structures compris entre 1 et 4 "
               "sont affichés « < 5 » ; les taux calculés à partir de ces effectifs sont affichés « secret ».")
NA = "n.d."

MOIS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
        "novembre", "décembre")

# Kind of a column → (xlsx number format, decimals for the text form, suffix).
# xlsx number formats are stored in the file's neutral syntax ('#,##0.0'); a French
# Excel or LibreOffice displays them as « # ##0,0 » (1 234,5).
GENRES: dict[str, tuple[str | None, int, str]] = {
    "texte": (None, 0, ""),
    "code": ("@", 0, ""),
    "entier": ("#,##0", 0, ""),
    "effectif": ("#,##0", 0, ""),
    "decimal1": ("#,##0.0", 1, ""),
    "decimal2": ("#,##0.00", 2, ""),
    "pourcent": ('0.0" %"', 1, " %"),          # value already in percent (56.3)
    "euros": ('#,##0" €"', 0, " €"),
    "date": ("dd/mm/yyyy", 0, ""),
    "annee": ("0", 0, ""),
}


def fr_date(d: dt.date | dt.datetime | None = None) -> str:
    """« 26 novembre 2026 », « 1er janvier 2026 »."""
    d = d or dt.date.today()
    jour = "1er" if d.day == 1 else str(d.day)
    return f"{jour} {MOIS[d.month - 1]} {d.year}"


def fr_num(x: Any, decimals: int = 1) -> str:
    return fr_number(x, decimals, na=NA)


def fr_pct(x: Any, decimals: int = 1) -> str:
    """Value in percent → « 56,3 % »."""
    s = fr_number(x, decimals, na=NA)
    return s if s == NA else s + "\u202f%"


def fr_eur(x: Any, decimals: int = 0) -> str:
    s = fr_number(x, decimals, na=NA)
    return s if s == NA else s + "\u202f€"


def _missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(isinstance(v, float) and math.isnan(v)) or v != v  # NaN, pd.NA-like
    except (TypeError, ValueError):
        try:
            import pandas as pd

            return bool(pd.isna(v))
        except Exception:
            return False


def masque_effectif(v: Any) -> bool:
    """True for a count that must be hidden (strictly between 0 and 5)."""
    if _missing(v) or isinstance(v, str):
        return False
    try:
        f = float(v)
    except (TypeError, ValueError):
        return False
    return 0 < f < 5


@dataclass
class Colonne:
    cle: str
    libelle: str
    genre: str = "texte"
    largeur: float | None = None   # xlsx width in characters (default from the content)
    masque_si: str | None = None   # key of an ``effectif`` column whose masking hides this cell

    def __post_init__(self):
        if self.genre not in GENRES:
            raise ValueError(f"genre de colonne inconnu : {self.genre}")


@dataclass
class Tableau:
    titre: str
    colonnes: list[Colonne]
    lignes: list[dict[str, Any]]
    nom_feuille: str = ""
    notes: list[str] = field(default_factory=list)
    police_pdf: float | None = None  # smaller font for a dense table in the PDF

    @classmethod
    def depuis_frame(cls, titre: str, frame, colonnes: Sequence[Colonne], **kw) -> "Tableau":
        keys = [c.cle for c in colonnes]
        missing = [k for k in keys if k not in frame.columns]
        if missing:
            raise KeyError(f"colonnes absentes du tableau « {titre} » : {', '.join(missing)}")
        rows = [dict(zip(keys, r)) for r in frame[keys].itertuples(index=False, name=None)]
        return cls(titre, list(colonnes), rows, **kw)

    @property
    def a_masque(self) -> bool:
        return any(c.genre == "effectif" for c in self.colonnes)

    def _masked(self, row: dict[str, Any], col: Colonne) -> str | None:
        if col.genre == "effectif" and masque_effectif(row.get(col.cle)):
            return MASQUE_EFFECTIF
        if col.masque_si and masque_effectif(row.get(col.masque_si)):
            return MASQUE_DERIVE
        return None

    def valeur(self, row: dict[str, Any], col: Colonne) -> tuple[Any, str | None]:
        """(value for a spreadsheet cell, number format); masked cells are texts."""
        m = self._masked(row, col)
        if m is not None:
            return m, None
        v = row.get(col.cle)
        if _missing(v):
            return None, None
        fmt = GENRES[col.genre][0]
        if col.genre in ("texte", "code"):
            return str(v), fmt
        if col.genre == "date":
            if hasattr(v, "to_pydatetime"):
                v = v.to_pydatetime()
            return v, fmt
        if isinstance(v, str):
            return v, None
        if col.genre in ("entier", "effectif", "annee"):
            f = float(v)
            return (int(round(f)) if f.is_integer() or col.genre != "effectif" else f), fmt
        return float(v), fmt

    def texte(self, row: dict[str, Any], col: Colonne) -> str:
        """French text of a cell (what slides and PDF show)."""
        m = self._masked(row, col)
        if m is not None:
            return m
        v = row.get(col.cle)
        if _missing(v):
            return "" if col.genre in ("texte", "code") else NA
        if isinstance(v, str) or col.genre in ("texte", "code"):
            return str(v)
        g = col.genre
        if g == "date":
            return fr_date(v)
        if g == "annee":
            return str(int(v))
        _fmt, dec, suffix = GENRES[g]
        s = fr_number(v, dec, na=NA)
        return s + ("\u202f" + suffix.strip() if suffix else "")

    def lignes_texte(self) -> list[list[str]]:
        return [[self.texte(r, c) for c in self.colonnes] for r in self.lignes]


@dataclass
class Section:
    """One idea: a title, optionally a picture (chart or map) with its table alternative,
    key figures as bullet points, notes (sources, definitions)."""

    titre: str
    points: list[str] = field(default_factory=list)
    image: bytes | None = None
    message: str = ""              # the one sentence a slide says (its title); the PDF shows it under the heading
    image_alt: str = ""
    tableau: Tableau | None = None
    notes: list[str] = field(default_factory=list)
    tableau_dans_pdf: bool = True
    tableau_dans_pptx: bool = True


@dataclass
class Document:
    titre: str
    sous_titre: str
    sections: list[Section]
    fictif: bool = False
    date: dt.date = field(default_factory=dt.date.today)
    couverture: list[str] = field(default_factory=list)      # lines under the title
    sources: Tableau | None = None                          # data vintages and sources
    tableaux_annexes: list[Tableau] = field(default_factory=list)  # xlsx only

    def tableaux(self) -> list[Tableau]:
        out = [self.sources] if self.sources is not None else []
        out += [s.tableau for s in self.sections if s.tableau is not None]
        out += self.tableaux_annexes
        return out

    @property
    def mention(self) -> str:
        return DEMO_MENTION if self.fictif else ""


def texts(lines: Iterable[Any]) -> list[str]:
    return [str(x) for x in lines if x]
