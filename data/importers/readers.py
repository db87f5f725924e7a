"""What the streaming readers of imported files share: their limits, the reading context, the row source.

The readers (:mod:`data.importers.csv_reader`, :mod:`data.importers.xlsx_reader`) yield ``(line, cells)`` one row at a time (``line`` is the line a person sees
in a spreadsheet, ``cells`` a list of ``str``); ``common.read_table`` keeps only what the
limits allow.  Nothing is ever sized from what a file *declares* (an xlsx
``<dimension ref="A1:XFD1048576"/>`` is ignored): only values actually present count.

Limits (``Limits``, every one set by an environment variable, see docs/LIMITES.md):

* file size on disk (``ATLAS_IMPORT_MAX_MB``), checked before opening;
* xlsx: uncompressed size of the sheet and shared strings (``ATLAS_IMPORT_MAX_DECOMPRESSE_MB``),
  checked on the sizes the zip declares *and* on the bytes actually inflated;
* rows, columns, cells, characters per cell, reading time.

CSV decoding follows strict rules: UTF-8 (with or without BOM) when the whole file is valid
UTF-8; UTF-16 with a BOM (Excel « Texte Unicode »); Windows-1252 only when *no* line holds a
valid UTF-8 accent.  A file mixing valid UTF-8 and invalid bytes is refused, naming the lines,
instead of being decoded whole as Windows-1252 (which would garble every accent).

The reading context (limits, progress callback, deadline) is a context variable set by
``import_file`` so that every importer's ``read_table`` call gets it without a new argument.
"""
from __future__ import annotations

import contextvars
import math
import os
import re
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Iterator

from planning.formats import fr_int

if TYPE_CHECKING:  # pragma: no cover
    from .problems import Problems

ProgressFn = Callable[[float, str], None]


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip().replace(",", ".")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value > 0 and math.isfinite(value) else default


@dataclass(frozen=True)
class Limits:
    """What one import may consume.  Defaults fit the largest official files with a wide margin
    (INSEE births per commune: 35 000 rows × 19 columns, 27 Mo of sheet XML; data.caf.fr commune
    coverage 2017-2023: 245 000 rows × 15 columns)."""

    max_file_mb: float = 50.0            # file on disk (compressed size for an xlsx)
    max_uncompressed_mb: float = 300.0   # xlsx: sheet XML + shared strings, inflated
    max_rows: int = 500_000              # data rows
    max_columns: int = 1_000
    max_cells: int = 10_000_000          # rows × columns of the header
    max_cell_chars: int = 32_767         # Excel's own limit for one cell
    max_seconds: float = 300.0           # reading and checking one file
    max_memory_mb: int = 4_096           # address space of an import run in its own process
    max_errors: int = 1_000              # errors listed before the check stops
    max_warnings: int = 1_000            # warnings listed (the rest are counted)

    @classmethod
    def from_env(cls) -> "Limits":
        d = cls()
        return cls(
            max_file_mb=_env_number("ATLAS_IMPORT_MAX_MB", d.max_file_mb),
            max_uncompressed_mb=_env_number("ATLAS_IMPORT_MAX_DECOMPRESSE_MB", d.max_uncompressed_mb),
            max_rows=int(_env_number("ATLAS_IMPORT_MAX_LIGNES", d.max_rows)),
            max_columns=int(_env_number("ATLAS_IMPORT_MAX_COLONNES", d.max_columns)),
            max_cells=int(_env_number("ATLAS_IMPORT_MAX_CELLULES", d.max_cells)),
            max_cell_chars=int(_env_number("ATLAS_IMPORT_MAX_CARACTERES_CELLULE", d.max_cell_chars)),
            max_seconds=_env_number("ATLAS_IMPORT_MAX_SECONDES", d.max_seconds),
            max_memory_mb=int(_env_number("ATLAS_IMPORT_MAX_MEMOIRE_MO", d.max_memory_mb)),
            max_errors=int(_env_number("ATLAS_IMPORT_MAX_ERREURS", d.max_errors)),
            max_warnings=int(_env_number("ATLAS_IMPORT_MAX_AVERTISSEMENTS", d.max_warnings)),
        )

    def to_env(self) -> dict[str, str]:
        """The environment variables that give these limits to another process (``from_env``)."""
        return {"ATLAS_IMPORT_MAX_MB": repr(self.max_file_mb),
                "ATLAS_IMPORT_MAX_DECOMPRESSE_MB": repr(self.max_uncompressed_mb),
                "ATLAS_IMPORT_MAX_LIGNES": str(self.max_rows), "ATLAS_IMPORT_MAX_COLONNES": str(self.max_columns),
                "ATLAS_IMPORT_MAX_CELLULES": str(self.max_cells),
                "ATLAS_IMPORT_MAX_CARACTERES_CELLULE": str(self.max_cell_chars),
                "ATLAS_IMPORT_MAX_SECONDES": repr(self.max_seconds),
                "ATLAS_IMPORT_MAX_MEMOIRE_MO": str(self.max_memory_mb),
                "ATLAS_IMPORT_MAX_ERREURS": str(self.max_errors),
                "ATLAS_IMPORT_MAX_AVERTISSEMENTS": str(self.max_warnings)}

    def with_(self, **changes) -> "Limits":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


# ---------------------------------------------------------------------------
# Reading context: limits, progress, deadline
# ---------------------------------------------------------------------------
@dataclass
class ReadContext:
    limits: Limits
    progress: ProgressFn | None = None
    started: float = field(default_factory=time.monotonic)
    _last_report: float = 0.0

    @property
    def deadline(self) -> float:
        return self.started + self.limits.max_seconds

    def report(self, fraction: float, message: str, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if force or now - self._last_report >= 0.2:
            self._last_report = now
            try:
                self.progress(max(0.0, min(1.0, fraction)), message)
            except Exception:  # noqa: BLE001 - a progress display never stops an import
                pass

    def check_time(self, probs: "Problems") -> None:
        if time.monotonic() > self.deadline:
            raise probs.fatal(time_limit_message(self.limits))


def time_limit_message(limits: Limits) -> str:
    return (f"lecture arrêtée : durée maximale de {fr_int(limits.max_seconds)} s dépassée — découpez le fichier "
            "(par exemple un département par fichier) ou augmentez ATLAS_IMPORT_MAX_SECONDES.")


_CONTEXT: contextvars.ContextVar[ReadContext | None] = contextvars.ContextVar("atlas_import_context", default=None)


def current_context() -> ReadContext:
    """The context set by ``reading_context`` (``import_file``), else a fresh one with the limits of the
    environment (never cached: its deadline starts now)."""
    ctx = _CONTEXT.get()
    return ctx if ctx is not None else ReadContext(Limits.from_env())


def has_context() -> bool:
    return _CONTEXT.get() is not None


@contextmanager
def reading_context(limits: Limits | None = None, progress: ProgressFn | None = None) -> Iterator[ReadContext]:
    ctx = ReadContext(limits or Limits.from_env(), progress)
    token = _CONTEXT.set(ctx)
    try:
        yield ctx
    finally:
        _CONTEXT.reset(token)


# ---------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------
@dataclass
class RowSource:
    """Rows of one file: ``rows`` yields (spreadsheet line, cells)."""

    rows: Iterator[tuple[int, list[str]]]
    encoding: str | None = None        # label shown to the user (CSV)
    separator: str | None = None       # CSV
    sheet: str | None = None           # xlsx sheet read
    kind: str = "csv"


def column_name(j: int) -> str:
    """0 → A, 26 → AA (spreadsheet column letters)."""
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


# ---------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------
NON_ASCII_DIGIT = re.compile(r"(?![0-9])\d")      # a decimal digit of another script: '١', '１'
_NUMERIC_LOOKING = re.compile(r"[\s+\-\u2212.,%/:\d]+")


def non_latin_digits(value: str) -> bool:
    """True for a number written with non-ASCII decimal digits ('١٢', '１２')."""
    if value.isascii() or not _NUMERIC_LOOKING.fullmatch(value):
        return False
    return any(ch.isdigit() and not ch.isascii() and unicodedata.category(ch) == "Nd" for ch in value)
