"""Streaming readers of imported CSV and xlsx files, with limits checked before memory grows.

Both readers yield ``(line, cells)`` one row at a time (``line`` is the line a person sees
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

import codecs
import contextvars
import csv
import io
import math
import os
import re
import time
import unicodedata
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:  # pragma: no cover
    from .common import Problems

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


def fr_int(n: float) -> str:
    return f"{int(n):,}".replace(",", "\u202f")


def fr_mb(x: float) -> str:
    return f"{x:.1f}".replace(".", ",").removesuffix(",0")


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
# CSV
# ---------------------------------------------------------------------------
SEPARATORS = (";", ",", "\t", "|")
SNIFF_CHARS = 200_000
_MULTILINE_RECORD = 100        # physical lines in one record before « unclosed quote » is suspected


def detect_encoding(path: Path, probs: "Problems", ctx: ReadContext) -> tuple[str, str]:
    """(Python codec, label shown to the user), by the strict rules of the module docstring."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", "UTF-16 (avec BOM)"
    bom = head.startswith(b"\xef\xbb\xbf")
    size = max(1, path.stat().st_size)
    decoder = codecs.getincrementaldecoder("utf-8")()
    done = 0
    valid = True
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 20)
            done += len(chunk)
            if b"\x00" in chunk:
                _refuse_nul(path, probs)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError:
                valid = False
                break
            if not chunk:
                break
            ctx.report(0.1 * done / size, "Lecture du fichier : détection de l'encodage…")
            ctx.check_time(probs)
    if valid:
        return ("utf-8-sig", "UTF-8 (avec BOM)") if bom else ("utf-8", "UTF-8")
    # Not valid UTF-8 as a whole: classify line by line.
    bad: list[int] = []
    utf8_lines = 0
    with open(path, "rb") as fh:
        for n, line in enumerate(fh, start=1):
            if line.isascii():
                continue
            if b"\x00" in line:
                _refuse_nul(path, probs)
            try:
                line.decode("utf-8")
                utf8_lines += 1
            except UnicodeDecodeError:
                bad.append(n)
            if n % 50_000 == 0:
                ctx.check_time(probs)
    shown = ", ".join(map(str, bad[:10])) + (f" et {fr_int(len(bad) - 10)} autre(s)" if len(bad) > 10 else "")
    if bom or utf8_lines:
        what = "s'annonce en UTF-8 (marque BOM)" if bom and not utf8_lines else \
            f"est en UTF-8 ({fr_int(utf8_lines)} ligne(s) avec accents lisibles)"
        raise probs.fatal(f"encodage mélangé : le fichier {what} mais la ou les lignes {shown} (lignes du fichier "
                          "texte) contiennent des caractères dans un autre encodage (Windows-1252 ?). Les décoder "
                          "tous de la même façon abîmerait les accents — corrigez ces lignes ou réenregistrez tout "
                          "le fichier en « CSV UTF-8 ».", bad[0])
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                chunk.decode("cp1252")
        return "cp1252", "Windows-1252"
    except UnicodeDecodeError:
        return "latin-1", "ISO-8859-1"


def _refuse_nul(path: Path, probs: "Problems") -> None:
    raise probs.fatal("le fichier n'est pas un texte CSV (il contient des octets nuls : fichier binaire, ou texte "
                      "UTF-16 sans marque BOM) — fournissez un CSV enregistré en UTF-8 ou un classeur .xlsx.")


class _Lines:
    """Physical lines of the decoded file, with length, progress and time checks."""

    def __init__(self, fh, probs: "Problems", ctx: ReadContext, size: int, max_line: int, start: float, span: float):
        self.fh, self.probs, self.ctx = fh, probs, ctx
        self.size, self.max_line = max(1, size), max_line
        self.start, self.span = start, span
        self.n = 0
        self.chars = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.fh.readline(self.max_line + 1)
        if not line:
            raise StopIteration
        self.n += 1
        if len(line) > self.max_line and not line.endswith(("\n", "\r")):
            raise self.probs.fatal(
                f"ligne de plus de {fr_int(self.max_line)} caractères (ligne {fr_int(self.n)} du fichier texte) — "
                "ce n'est pas un tableau CSV ordinaire ; vérifiez le fichier.", self.n)
        self.chars += len(line)
        if self.n % 4096 == 0:
            self.ctx.check_time(self.probs)
            self.ctx.report(self.start + self.span * min(1.0, self.chars / self.size),
                            f"Lecture du fichier : {fr_int(self.n)} lignes lues…")
        return line


def _sniff(path: Path, codec: str, score: Callable[[list[list[str]]], tuple[int, int]], max_cell: int) -> str:
    with open(path, encoding=codec, newline="", errors="replace") as fh:
        head = fh.read(SNIFF_CHARS)
    best_sep, best = ";", (-1, -1)
    old = csv.field_size_limit()
    csv.field_size_limit(max(max_cell, SNIFF_CHARS))
    try:
        for sep in SEPARATORS:
            sample: list[list[str]] = []
            try:
                for row in csv.reader(io.StringIO(head), delimiter=sep):
                    sample.append(row)
                    if len(sample) >= 30:
                        break
            except csv.Error:
                pass           # keep the rows read before the damage
            s = score(sample)
            if s > best:
                best_sep, best = sep, s
    finally:
        csv.field_size_limit(old)
    return best_sep


def read_csv_rows(path: Path, probs: "Problems", score: Callable[[list[list[str]]], tuple[int, int]]) -> RowSource:
    """Stream the records of a CSV.  ``score(sample_rows)`` ranks the candidate separators."""
    ctx = current_context()
    lim = ctx.limits
    codec, label = detect_encoding(path, probs, ctx)
    sep = _sniff(path, codec, score, lim.max_cell_chars)
    size = path.stat().st_size
    max_line = max(lim.max_cell_chars * 4, 1_000_000)

    def rows() -> Iterator[tuple[int, list[str]]]:
        old = csv.field_size_limit()
        csv.field_size_limit(lim.max_cell_chars)
        try:
            with open(path, encoding=codec, newline="") as fh:
                lines = _Lines(fh, probs, ctx, size, max_line, 0.1, 0.6)
                reader = csv.reader(lines, delimiter=sep)
                record = 0
                width = 0
                while True:
                    first = lines.n + 1
                    try:
                        row = next(reader)
                    except StopIteration:
                        return
                    except csv.Error as exc:
                        raise probs.fatal(_csv_error_message(str(exc), lim, first), record + 1) from None
                    except UnicodeDecodeError:
                        raise probs.fatal("caractère illisible dans l'encodage détecté — réenregistrez le fichier en "
                                          "« CSV UTF-8 ».", record + 1) from None
                    record += 1
                    width = width or len(row)
                    if lines.n > first and _swallowed_rows(row, sep, width, lines.n - first + 1):
                        raise probs.fatal(
                            f"une cellule s'étend sur {fr_int(lines.n - first + 1)} lignes du fichier à partir de "
                            f"la ligne {fr_int(first)} et contient des lignes entières du tableau : un guillemet "
                            "« \" » n'est sans doute pas refermé — corrigez la cellule.", record)
                    yield record, row
        finally:
            csv.field_size_limit(old)

    return RowSource(rows(), encoding=label, separator=sep, kind="csv")


def _swallowed_rows(row: list[str], sep: str, width: int, span: int) -> bool:
    """A quoted cell over several lines is legal (an address); one holding whole rows of the table,
    or over a hundred lines, is an unclosed quote that would silently eat the rows below."""
    if span > _MULTILINE_RECORD:
        return True
    if width < 2:
        return False
    for cell in row:
        if "\n" in cell or "\r" in cell:
            for inner in cell.splitlines()[1:]:
                if inner.count(sep) >= width - 1:
                    return True
    return False


def _csv_error_message(text: str, lim: Limits, first: int) -> str:
    if "field larger than field limit" in text:
        return (f"cellule de plus de {fr_int(lim.max_cell_chars)} caractères à partir de la ligne {fr_int(first)} du "
                "fichier texte : un guillemet « \" » n'est sans doute pas refermé — corrigez la cellule.")
    if "NUL" in text or "null byte" in text:
        return "octet nul dans le fichier : ce n'est pas un texte CSV — fournissez un CSV UTF-8 ou un .xlsx."
    return (f"CSV mal formé à la ligne {fr_int(first)} du fichier texte (guillemets ou séparateurs) — ouvrez-le dans "
            "un tableur et réenregistrez-le en CSV séparé par des points-virgules.")


# ---------------------------------------------------------------------------
# xlsx (SpreadsheetML in a zip), streamed with lxml
# ---------------------------------------------------------------------------
_NS_MAIN = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            "http://purl.oclc.org/ooxml/spreadsheetml/main")
_NS_REL = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
           "http://purl.oclc.org/ooxml/officeDocument/relationships")
_SMALL_PART = 20 * 1024 * 1024
HEADER_MARGIN = 1_000               # title and footer rows allowed above the row limit in a declared range       # workbook, rels, styles: never bigger in a real file
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d{1,7})$")
# built-in date formats (ECMA-376 §18.8.30) and percent formats
_DATE_IDS = set(range(14, 23)) | {27, 30, 36, 45, 46, 47, 50, 57}
_PCT_IDS = {9, 10}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _tags(name: str) -> frozenset[str]:
    return frozenset(f"{{{ns}}}{name}" for ns in _NS_MAIN) | {name}


_C, _V, _F, _IS, _T, _RPH = (_tags(n) for n in ("c", "v", "f", "is", "t", "rPh"))


class _Counting(io.RawIOBase):
    """A zip member read with a ceiling on the bytes actually inflated."""

    def __init__(self, raw, ceiling: int, on_exceed: Callable[[], None], on_read: Callable[[int], None] | None = None):
        self.raw, self.ceiling, self.on_exceed, self.on_read = raw, ceiling, on_exceed, on_read
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.raw.read(len(b))
        n = len(data)
        self.count += n
        if self.count > self.ceiling:
            self.on_exceed()
        b[:n] = data
        if self.on_read:
            self.on_read(self.count)
        return n

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 20
        data = self.raw.read(size)
        self.count += len(data)
        if self.count > self.ceiling:
            self.on_exceed()
        if self.on_read:
            self.on_read(self.count)
        return data


def _safe_iterparse(source, tag: str | None = None, events=("end",)):
    from lxml import etree

    return etree.iterparse(source, events=events, tag=tag, resolve_entities=False, no_network=True,
                           load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True)


def _is_date_format(code: str) -> bool:
    s = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code).lower()   # quoted text, escapes, [Red], [$-40C]
    s = s.split(";")[0]
    return bool(re.search(r"[dmyhs]", s)) and not re.fullmatch(r"[#0.,%\s]*(e[+-]0+)?", s)


class _Styles:
    """Number format of each cell style: 'date', 'pct', 'zeros:N' or ''."""

    def __init__(self, kinds: list[str]):
        self.kinds = kinds

    def kind(self, s: str | None) -> str:
        if not s:
            return self.kinds[0] if self.kinds else ""
        try:
            return self.kinds[int(s)]
        except (ValueError, IndexError):
            return ""


class XlsxBook:
    """The parts of an xlsx that the importers need, read with limits."""

    def __init__(self, path: Path, probs: "Problems", ctx: ReadContext):
        self.path, self.probs, self.ctx = path, probs, ctx
        try:
            self.zip = zipfile.ZipFile(path)
            names = self.zip.namelist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            raise probs.fatal("classeur Excel illisible (archive .xlsx abîmée ou fichier qui n'est pas un .xlsx) — "
                              "ouvrez-le dans le tableur et réenregistrez-le en .xlsx ou en CSV.") from None
        self.names = set(names)
        self.date1904 = False
        self.sheets = self._sheets()               # [(name, member path)]
        self.styles = self._styles()
        self._shared: list[str] | None = None

    # -- helpers ---------------------------------------------------------
    def _bad(self, what: str) -> Exception:
        return self.probs.fatal(f"classeur Excel illisible ({what}) — ouvrez-le dans le tableur et réenregistrez-le "
                                "en .xlsx ou en CSV.")

    def _info(self, member: str) -> zipfile.ZipInfo:
        try:
            return self.zip.getinfo(member)
        except KeyError:
            raise self._bad(f"partie « {member[:80]} » absente") from None

    def _open(self, member: str, ceiling: int, on_read=None):
        info = self._info(member)
        if info.flag_bits & 0x1:
            raise self.probs.fatal("classeur Excel protégé par un mot de passe — enregistrez-en une copie sans "
                                   "mot de passe, ou exportez-le en CSV.")

        def exceed():
            raise self._uncompressed_refusal(member)
        try:
            raw = self.zip.open(info)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, ValueError):
            raise self._bad(f"partie « {member[:80]} » illisible") from None
        return io.BufferedReader(_Counting(raw, ceiling, exceed, on_read), buffer_size=1 << 16)

    def _uncompressed_refusal(self, member: str) -> Exception:
        lim = self.ctx.limits
        return self.probs.fatal(
            f"classeur trop volumineux une fois décompressé (partie « {member[:60]} » : plus de "
            f"{fr_mb(lim.max_uncompressed_mb)} Mo de données, limite ATLAS_IMPORT_MAX_DECOMPRESSE_MB) — "
            "filtrez-le sur votre territoire ou exportez-le en CSV.")

    def _parse_small(self, member: str):
        from lxml import etree

        info = self._info(member)
        if info.file_size > _SMALL_PART:
            raise self._uncompressed_refusal(member)
        try:
            with self._open(member, _SMALL_PART) as fh:
                parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                                         remove_comments=True, remove_pis=True)
                return etree.parse(fh, parser).getroot()
        except etree.XMLSyntaxError:
            raise self._bad(f"XML mal formé dans « {member[:80]} »") from None

    def _rels(self, member: str) -> dict[str, str]:
        folder, _, base = member.rpartition("/")
        rels = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
        if rels not in self.names:
            return {}
        out = {}
        for el in self._parse_small(rels):
            target, rid = el.get("Target"), el.get("Id")
            if not target or not rid or el.get("TargetMode") == "External":
                continue
            if target.startswith("/"):
                path = target.lstrip("/")
            else:
                parts = (folder.split("/") if folder else []) + target.split("/")
                stack: list[str] = []
                for p in parts:
                    if p == "..":
                        if stack:
                            stack.pop()
                    elif p and p != ".":
                        stack.append(p)
                path = "/".join(stack)
            out[rid] = path
        return out

    def _workbook_path(self) -> str:
        for path in self._rels("").values() if "_rels/.rels" in self.names else []:
            if path.endswith(".xml") and path in self.names and "workbook" in path.lower():
                return path
        if "xl/workbook.xml" in self.names:
            return "xl/workbook.xml"
        raise self._bad("aucune feuille de calcul : est-ce bien un classeur Excel .xlsx ?")

    def _sheets(self) -> list[tuple[str, str]]:
        self.workbook = self._workbook_path()
        root = self._parse_small(self.workbook)
        rels = self._rels(self.workbook)
        sheets = []
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            name = _local(el.tag)
            if name == "workbookPr" and el.get("date1904") in ("1", "true"):
                self.date1904 = True
            if name == "sheet":
                rid = next((el.get(f"{{{ns}}}id") for ns in _NS_REL if el.get(f"{{{ns}}}id")), None)
                path = rels.get(rid or "")
                if path and path in self.names:
                    sheets.append((el.get("name") or "", path))
        if not sheets:
            raise self._bad("aucune feuille de calcul trouvée")
        return sheets

    def _styles(self) -> _Styles:
        path = next((p for p in self._rels(self.workbook).values() if p.endswith("styles.xml")), None)
        if not path or path not in self.names:
            return _Styles([])
        root = self._parse_small(path)
        custom: dict[int, str] = {}
        xfs: list[int] = []
        for el in root:
            if not isinstance(el.tag, str):
                continue
            name = _local(el.tag)
            if name == "numFmts":
                for f in el:
                    try:
                        custom[int(f.get("numFmtId", "-1"))] = f.get("formatCode") or ""
                    except ValueError:
                        continue
            elif name == "cellXfs":
                for xf in el:
                    try:
                        xfs.append(int(xf.get("numFmtId", "0")))
                    except ValueError:
                        xfs.append(0)
        kinds = []
        for fid in xfs:
            code = custom.get(fid)
            if code is None:
                kinds.append("date" if fid in _DATE_IDS else "pct" if fid in _PCT_IDS else "")
            elif re.fullmatch(r"0+", code.strip()):
                kinds.append(f"zeros:{len(code.strip())}")
            elif _is_date_format(code):
                kinds.append("date")
            elif "%" in re.sub(r'"[^"]*"|\\.', "", code):
                kinds.append("pct")
            else:
                kinds.append("")
        return _Styles(kinds)

    def budget_check(self, sheet_member: str) -> None:
        """Refuse on declared sizes before inflating anything."""
        lim = self.ctx.limits.max_uncompressed_mb * 1024 * 1024
        total = self._info(sheet_member).file_size
        sst = self._shared_path()
        if sst:
            total += self._info(sst).file_size
        if total > lim:
            raise self._uncompressed_refusal(sheet_member)

    def _shared_path(self) -> str | None:
        path = next((p for p in self._rels(self.workbook).values() if p.lower().endswith("sharedstrings.xml")), None)
        return path if path and path in self.names else None

    def shared_strings(self) -> list[str]:
        if self._shared is not None:
            return self._shared
        from lxml import etree

        out: list[str] = []
        path = self._shared_path()
        if path:
            ceiling = int(self.ctx.limits.max_uncompressed_mb * 1024 * 1024)
            max_chars = self.ctx.limits.max_cell_chars
            try:
                with self._open(path, ceiling) as fh:
                    for _ev, si in _safe_iterparse(fh, tag=tuple(f"{{{ns}}}si" for ns in _NS_MAIN)):
                        parts = [t.text or "" for t in si.iter(*(f"{{{ns}}}t" for ns in _NS_MAIN))
                                 if _local(t.getparent().tag) != "rPh"]
                        text = "".join(parts)
                        if len(text) > max_chars:
                            raise self.probs.fatal(f"une cellule du classeur dépasse {fr_int(max_chars)} caractères "
                                                   "(limite d'Excel) — classeur abîmé ou hostile.")
                        out.append(text)
                        si.clear()
                        if len(out) % 20_000 == 0:
                            self.ctx.check_time(self.probs)
            except etree.XMLSyntaxError:
                raise self._bad("XML mal formé dans les chaînes partagées") from None
        self._shared = out
        return out

    def check_dimension(self, ref: str | None) -> None:
        """Refuse at once a sheet that *declares* more rows or columns than the limits.

        The declaration is never used to size anything (only values actually present are
        read); a range such as ``A1:XFD1048576`` is the signature of a damaged or hostile
        file, refused before reading a single row.
        """
        if not ref:
            return
        lim = self.ctx.limits
        last = ref.split(":")[-1].replace("$", "").upper()
        m = _CELL_REF.match(last)
        if not m:
            return
        col = 0
        for ch in m.group(1):
            col = col * 26 + ord(ch) - 64
        rows = int(m.group(2))
        if col > lim.max_columns or rows > lim.max_rows + HEADER_MARGIN:
            raise self.probs.fatal(
                f"la feuille déclare la plage {ref[:40]}, soit {fr_int(rows)} lignes × {fr_int(col)} colonnes : au-delà "
                f"des limites ({fr_int(lim.max_rows)} lignes, {fr_int(lim.max_columns)} colonnes ; "
                "ATLAS_IMPORT_MAX_LIGNES, ATLAS_IMPORT_MAX_COLONNES). Classeur abîmé ou mis en forme jusqu'en bas "
                "de la feuille : copiez le tableau utile dans un nouveau classeur, ou exportez-le en CSV.")

    def rows(self, member: str, progress_from: float, progress_span: float,
             check_dimension: bool = False) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) of one sheet; only cells holding a value count."""
        from lxml import etree

        self.budget_check(member)
        shared = self.shared_strings()
        lim = self.ctx.limits
        ceiling = int(lim.max_uncompressed_mb * 1024 * 1024)
        declared = max(1, self._info(member).file_size)
        ctx = self.ctx
        probs = self.probs
        styles = self.styles
        epoch = datetime(1904, 1, 1) if self.date1904 else datetime(1899, 12, 30)
        max_cols = lim.max_columns
        max_chars = lim.max_cell_chars
        # Inflated bytes cannot legitimately exceed what the zip declares: a lying header is refused.
        ceiling = min(ceiling, declared + 1024)

        def on_read(count: int) -> None:
            ctx.report(progress_from + progress_span * min(1.0, count / declared), "Lecture du classeur…")

        row_tags = tuple(f"{{{ns}}}row" for ns in _NS_MAIN)
        dim_tags = tuple(f"{{{ns}}}dimension" for ns in _NS_MAIN)
        fh = self._open(member, ceiling, on_read)
        try:
            expected = 0
            n = 0
            for _ev, row in _safe_iterparse(fh, tag=row_tags + dim_tags):
                if row.tag in dim_tags:
                    if check_dimension:
                        self.check_dimension(row.get("ref"))
                    continue
                r = row.get("r")
                try:
                    line = int(r) if r else expected + 1
                except ValueError:
                    line = expected + 1
                expected = line
                cells: dict[int, str] = {}
                nxt = 0
                for c in row:
                    if c.tag not in _C:
                        continue
                    ref = c.get("r")
                    col = nxt
                    if ref:
                        m = _CELL_REF.match(ref)
                        if m:
                            col = 0
                            for ch in m.group(1):
                                col = col * 26 + ord(ch) - 64
                            col -= 1
                    nxt = col + 1
                    value = _cell_value(c, shared, styles, epoch)
                    if value is None or value == "":
                        continue
                    if col >= max_cols:
                        raise probs.fatal(
                            f"valeur en colonne {column_name(col)} (la {fr_int(col + 1)}e) : plus de "
                            f"{fr_int(max_cols)} colonnes (limite ATLAS_IMPORT_MAX_COLONNES) — supprimez les "
                            "colonnes inutiles ou exportez le tableau utile seul.", line)
                    if len(value) > max_chars:
                        raise probs.fatal(f"cellule de plus de {fr_int(max_chars)} caractères (limite d'Excel).", line,
                                          column_name(col))
                    cells[col] = value
                row.clear()
                while row.getprevious() is not None:
                    del row.getparent()[0]
                n += 1
                if n % 2000 == 0:
                    ctx.check_time(probs)
                if not cells:
                    continue
                width = max(cells) + 1
                out = [""] * width
                for j, v in cells.items():
                    out[j] = v
                yield line, out
        except etree.XMLSyntaxError:
            raise self._bad("XML mal formé dans la feuille") from None
        except zipfile.BadZipFile:
            raise self._bad("données compressées abîmées") from None
        finally:
            fh.close()

    def close(self) -> None:
        self.zip.close()


def _number_text(v: str) -> str:
    """'1' → '1', '1.0' → '1', '1.5E-3' → '0.0015' (never an exponent, never 'inf')."""
    try:
        f = float(v)
    except ValueError:
        return v
    if not math.isfinite(f):
        return v
    if f.is_integer() and abs(f) < 1e16:
        return str(int(f))
    s = repr(f)
    if "e" in s or "E" in s:
        s = format(Decimal(s), "f")
    return s


def _cell_value(c, shared: list[str], styles: _Styles, epoch: datetime) -> str | None:
    t = c.get("t", "n")
    v = f = None
    inline = None
    for child in c:
        tag = child.tag
        if tag in _V:
            v = child.text
        elif tag in _F:
            f = child.text if child.text is not None else ""
        elif tag in _IS:
            inline = "".join(x.text or "" for x in child.iter() if x.tag in _T and x.getparent().tag not in _RPH)
    if f is not None and t != "s":
        # a formula: its text, as openpyxl gave it (the checks then refuse it like a typed formula)
        return "=" + (f or "…")
    if t == "s":
        try:
            return shared[int(v or "")]
        except (ValueError, IndexError):
            return None
    if t == "inlineStr":
        return inline
    if t in ("str", "e"):
        return v
    if t == "b":
        return "oui" if (v or "").strip() in ("1", "true") else "non"
    if t == "d":
        s = (v or "").strip()
        return s[:10] if s.endswith(("T00:00:00", "T00:00:00Z")) else s
    if v is None:
        return None
    kind = styles.kind(c.get("s"))
    if kind == "date":
        try:
            x = float(v)
        except ValueError:
            return v
        if math.isfinite(x) and 0 <= x < 2958466:       # Excel's range: 1900-01-01 … 9999-12-31
            d = epoch + timedelta(days=x)
            if d.hour == d.minute == d.second == 0 and d.microsecond == 0:
                return d.strftime("%Y-%m-%d")
            return d.replace(microsecond=0).isoformat()
        return _number_text(v)
    if kind.startswith("zeros:"):
        try:
            x = float(v)
        except ValueError:
            return v
        if math.isfinite(x) and x.is_integer() and 0 <= x < 1e15:
            return str(int(x)).zfill(int(kind[6:]))
        return _number_text(v)
    if kind == "pct":
        try:
            x = float(v)
        except ValueError:
            return v
        if math.isfinite(x):
            return _number_text(repr(round(x * 100, 10))) + "%"
    return _number_text(v)


def choose_sheet(book: XlsxBook, has_header: Callable[[list[list[str]]], bool], sheet_hint: str | None) -> tuple[str, str]:
    """The first sheet whose first 30 rows hold the header — the one named like ``sheet_hint`` tried
    first (INSEE workbooks: « COM » after a « Métadonnées » sheet) — else the first sheet tried."""
    from .common import normalise_header

    sheets = list(book.sheets)
    if sheet_hint:
        want = normalise_header(sheet_hint)
        sheets.sort(key=lambda s: normalise_header(s[0]) != want)
    if len(sheets) == 1:
        return sheets[0]
    for name, member in sheets:
        head = []
        for _line, cells in book.rows(member, 0.0, 0.0):
            head.append(cells)
            if len(head) >= 30:
                break
        if has_header(head):
            return name, member
    return sheets[0]


def read_xlsx_rows(path: Path, probs: "Problems", has_header: Callable[[list[list[str]]], bool],
                   sheet_hint: str | None = None) -> RowSource:
    ctx = current_context()
    book = XlsxBook(path, probs, ctx)
    name, member = choose_sheet(book, has_header, sheet_hint)
    book.budget_check(member)

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            yield from book.rows(member, 0.05, 0.65, check_dimension=True)
        finally:
            book.close()

    return RowSource(rows(), sheet=name, kind="xlsx")


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
