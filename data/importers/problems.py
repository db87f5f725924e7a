"""The French, located messages of an import: one problem (file, spreadsheet line, column), the
capped collector every importer reports to, the refusal and the report of a finished import."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planning.formats import fr_int

from .readers import Limits

ERREUR = "erreur"
AVERTISSEMENT = "avertissement"


# ---------------------------------------------------------------------------
# Problems, errors, report
# ---------------------------------------------------------------------------
@dataclass
class Problem:
    """One located problem in an imported file (message in French)."""

    fichier: str
    ligne: int | None
    colonne: str | None
    message: str
    niveau: str = ERREUR

    def __str__(self) -> str:
        parts = [self.fichier]
        if self.ligne is not None:
            parts.append(f"ligne {self.ligne}")
        if self.colonne:
            parts.append(f"colonne « {self.colonne} »")
        prefix = "Avertissement — " if self.niveau == AVERTISSEMENT else ""
        return f"{prefix}{', '.join(parts)} : {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"fichier": self.fichier, "ligne": self.ligne, "colonne": self.colonne,
                "message": self.message, "niveau": self.niveau}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Problem":
        ligne = d.get("ligne")
        return cls(str(d.get("fichier", "")), int(ligne) if isinstance(ligne, (int, float)) else None,
                   d.get("colonne") or None, str(d.get("message", "")), d.get("niveau") or ERREUR)


class ImportValidationError(Exception):
    """The file was rejected; ``problems`` lists every error (and warnings found so far)."""

    origine: str | None = None     # file:line of an internal error turned into a French message

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.niveau == ERREUR]
        shown = "\n".join(str(p) for p in errors[:20])
        more = f"\n… et {len(errors) - 20} autres erreurs" if len(errors) > 20 else ""
        super().__init__(f"Import refusé ({len(errors)} erreur(s)), le magasin de données n'a pas été modifié :\n"
                         f"{shown}{more}")

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.niveau == ERREUR]


@dataclass
class ImportReport:
    kind: str
    fichier: str
    layers: list[str]
    rows: int
    warnings: list[Problem] = field(default_factory=list)
    vintage: str = ""
    source: str = ""
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self, max_warnings: int = 15, *, with_warnings: bool = True) -> str:
        lines = [f"Import « {self.kind} » depuis {self.fichier} : {fr_int(self.rows)} ligne(s) écrite(s) "
                 f"dans {', '.join(self.layers)} (millésime : {self.vintage or 'non précisé'})."]
        if self.encoding:
            lines.append(f"Encodage détecté : {self.encoding}.")
        lines.extend(self.notes)
        if self.warnings and with_warnings:
            lines.append(f"{len(self.warnings)} avertissement(s) :")
            lines.extend(f"  - {w}" for w in self.warnings[:max_warnings])
            if len(self.warnings) > max_warnings:
                lines.append(f"  … et {len(self.warnings) - max_warnings} autre(s) avertissement(s).")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "fichier": self.fichier, "layers": self.layers, "rows": self.rows,
                "vintage": self.vintage, "source": self.source, "encoding": self.encoding,
                "notes": self.notes, "warnings": [w.to_dict() for w in self.warnings]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ImportReport":
        return cls(kind=str(d.get("kind", "")), fichier=str(d.get("fichier", "")), layers=list(d.get("layers", [])),
                   rows=int(d.get("rows", 0)), warnings=[Problem.from_dict(w) for w in d.get("warnings", [])],
                   vintage=str(d.get("vintage", "")), source=str(d.get("source", "")), encoding=d.get("encoding"),
                   notes=list(d.get("notes", [])))


class Problems:
    """Collector bound to one file name.

    At most ``max_errors`` errors are collected: the next one stops the check at once
    (an ``ImportValidationError`` listing them plus a last line saying so), so that a
    file of a million bad rows cannot fill the memory with messages.  Warnings beyond
    ``max_warnings`` are counted, not stored.
    """

    def __init__(self, fichier: str, *, max_errors: int | None = None, max_warnings: int | None = None):
        self.fichier = fichier
        self.items: list[Problem] = []
        d = Limits()
        self.max_errors = max_errors or d.max_errors
        self.max_warnings = max_warnings or d.max_warnings
        self._n_errors = 0
        self._n_warnings = 0
        self.dropped_warnings = 0
        self.refused_cells: set[tuple[int | None, str | None]] = set()   # already refused when the file was read

    def error(self, message: str, ligne: int | None = None, colonne: str | None = None) -> None:
        if self._n_errors >= self.max_errors:
            self.items.append(Problem(self.fichier, None, None,
                                      f"plus de {fr_int(self.max_errors)} erreurs : la vérification s'arrête là — "
                                      "corrigez d'abord celles-ci (souvent une même cause : mauvais fichier, mauvaise "
                                      "colonne ou mauvais type d'import).", ERREUR))
            self._n_errors += 1
            raise ImportValidationError(self.items)
        self._n_errors += 1
        self.items.append(Problem(self.fichier, ligne, colonne, message, ERREUR))

    def warn(self, message: str, ligne: int | None = None, colonne: str | None = None) -> None:
        if self._n_warnings >= self.max_warnings:
            self.dropped_warnings += 1
            return
        self._n_warnings += 1
        self.items.append(Problem(self.fichier, ligne, colonne, message, AVERTISSEMENT))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.niveau == ERREUR]

    @property
    def warnings(self) -> list[Problem]:
        out = [p for p in self.items if p.niveau == AVERTISSEMENT]
        if self.dropped_warnings:
            out.append(Problem(self.fichier, None, None,
                               f"… et {fr_int(self.dropped_warnings)} autre(s) avertissement(s) non détaillé(s).",
                               AVERTISSEMENT))
        return out

    def fatal(self, message: str, ligne: int | None = None, colonne: str | None = None) -> ImportValidationError:
        self.items.append(Problem(self.fichier, ligne, colonne, message, ERREUR))
        self._n_errors += 1
        return ImportValidationError(self.items)

    def raise_if_errors(self) -> None:
        if self._n_errors or self.errors:
            raise ImportValidationError(self.items)


def shorten(s: str, n: int = 40) -> str:
    s = s.replace("\n", " ")
    return s if len(s) <= n else s[: n - 1] + "…"
