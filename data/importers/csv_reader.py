"""The CSV reader: strict decoding (UTF-8, UTF-16 with BOM, Windows-1252 only without any UTF-8 accent),
separator sniffing, and records streamed one at a time under the limits of :mod:`data.importers.readers`."""
from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from planning.formats import fr_int

from .readers import Limits, ReadContext, RowSource, current_context

if TYPE_CHECKING:  # pragma: no cover
    from .problems import Problems




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
