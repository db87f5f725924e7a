"""The xlsx reader: a workbook (SpreadsheetML in a zip) streamed with lxml, row by row, under the limits of
:mod:`data.importers.readers` (uncompressed sizes declared and inflated, rows, columns, cells, time)."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from planning.formats import fr_decimal, fr_int

if TYPE_CHECKING:  # pragma: no cover
    from .problems import Problems


from .readers import ReadContext, RowSource, column_name, current_context
from .xlsx_cells import (DATE_IDS, NS_MAIN, NS_REL, PCT_IDS, TAG_C, Styles, cell_value, is_date_format, local_name,
                         safe_iterparse)


_SMALL_PART = 20 * 1024 * 1024
HEADER_MARGIN = 1_000               # title and footer rows allowed above the row limit in a declared range       # workbook, rels, styles: never bigger in a real file
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d{1,7})$")
# built-in date formats (ECMA-376 §18.8.30) and percent formats
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
            f"{fr_decimal(lim.max_uncompressed_mb)} Mo de données, limite ATLAS_IMPORT_MAX_DECOMPRESSE_MB) — "
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
            name = local_name(el.tag)
            if name == "workbookPr" and el.get("date1904") in ("1", "true"):
                self.date1904 = True
            if name == "sheet":
                rid = next((el.get(f"{{{ns}}}id") for ns in NS_REL if el.get(f"{{{ns}}}id")), None)
                path = rels.get(rid or "")
                if path and path in self.names:
                    sheets.append((el.get("name") or "", path))
        if not sheets:
            raise self._bad("aucune feuille de calcul trouvée")
        return sheets

    def _styles(self) -> Styles:
        path = next((p for p in self._rels(self.workbook).values() if p.endswith("styles.xml")), None)
        if not path or path not in self.names:
            return Styles([])
        root = self._parse_small(path)
        custom: dict[int, str] = {}
        xfs: list[int] = []
        for el in root:
            if not isinstance(el.tag, str):
                continue
            name = local_name(el.tag)
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
                kinds.append("date" if fid in DATE_IDS else "pct" if fid in PCT_IDS else "")
            elif re.fullmatch(r"0+", code.strip()):
                kinds.append(f"zeros:{len(code.strip())}")
            elif is_date_format(code):
                kinds.append("date")
            elif "%" in re.sub(r'"[^"]*"|\\.', "", code):
                kinds.append("pct")
            else:
                kinds.append("")
        return Styles(kinds)

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
                    for _ev, si in safe_iterparse(fh, tag=tuple(f"{{{ns}}}si" for ns in NS_MAIN)):
                        parts = [t.text or "" for t in si.iter(*(f"{{{ns}}}t" for ns in NS_MAIN))
                                 if local_name(t.getparent().tag) != "rPh"]
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

        row_tags = tuple(f"{{{ns}}}row" for ns in NS_MAIN)
        dim_tags = tuple(f"{{{ns}}}dimension" for ns in NS_MAIN)
        fh = self._open(member, ceiling, on_read)
        try:
            expected = 0
            n = 0
            for _ev, row in safe_iterparse(fh, tag=row_tags + dim_tags):
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
                cells = _row_cells(row, line, shared, styles, epoch, max_cols, max_chars, probs)
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


def _row_cells(row, line: int, shared, styles, epoch: datetime, max_cols: int, max_chars: int,
               probs: Problems) -> dict[int, str]:
    """Column index → value of the cells of one ``<row>`` that hold a value (limits checked)."""
    cells: dict[int, str] = {}
    nxt = 0
    for c in row:
        if c.tag not in TAG_C:
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
        value = cell_value(c, shared, styles, epoch)
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
    return cells


def choose_sheet(book: XlsxBook, has_header: Callable[[list[list[str]]], bool], sheet_hint: str | None) -> tuple[str, str]:
    """The first sheet whose first 30 rows hold the header — the one named like ``sheet_hint`` tried
    first (INSEE workbooks: « COM » after a « Métadonnées » sheet) — else the first sheet tried."""
    from .table import normalise_header

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
