"""Generators of hostile import files (issue 9), shared by the tests and the benchmarks.

Big files are generated on the fly (never committed). The xlsx writer emits the
SpreadsheetML parts directly with ``zipfile`` so that a file of a million rows is
written in seconds and so that a sheet can *declare* anything (``<dimension>``)
independently of what it holds.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Iterable, Sequence
from xml.sax.saxutils import escape

from data.importers.readers import column_name

_CT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WB = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Feuil1" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WB_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""
# style 0: General; 1: date (numFmtId 14); 2: "00000" (zero-padded code); 3: percent (numFmtId 10)
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="1"><numFmt numFmtId="164" formatCode="00000"/></numFmts>
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border/></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>
</styleSheet>"""
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def _workbook_parts(z: zipfile.ZipFile) -> None:
    """Every part of a one-sheet workbook but the sheet itself."""
    for name, text in (("[Content_Types].xml", _CT), ("_rels/.rels", _RELS), ("xl/workbook.xml", _WB),
                       ("xl/_rels/workbook.xml.rels", _WB_RELS), ("xl/styles.xml", _STYLES)):
        z.writestr(name, text)


def _cell(ref: str, v: object) -> str:
    """A cell: str → inline string; int/float → number; (value, style) → number with a style."""
    if isinstance(v, tuple):
        value, style = v
        return f'<c r="{ref}" s="{style}"><v>{value}</v></c>'
    if isinstance(v, bool):
        return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, (int, float)):
        return f'<c r="{ref}"><v>{v}</v></c>'
    if v is None or v == "":
        return ""
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(str(v))}</t></is></c>'


def write_xlsx(path: Path, rows: Iterable[Sequence[object]], *, dimension: str | None = None,
               extra_sheet_xml: str = "", compresslevel: int = 6) -> Path:
    """Write a one-sheet xlsx from rows (streamed: rows may be a generator of millions)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as z:
        _workbook_parts(z)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            head = _SHEET_HEAD + (f'<dimension ref="{dimension}"/>' if dimension else "") + extra_sheet_xml
            fh.write((head + "<sheetData>").encode())
            buf: list[str] = []
            for i, row in enumerate(rows, start=1):
                cells = "".join(_cell(f"{column_name(j)}{i}", v) for j, v in enumerate(row))
                buf.append(f'<row r="{i}">{cells}</row>')
                if len(buf) >= 2000:
                    fh.write("".join(buf).encode())
                    buf.clear()
            fh.write(("".join(buf) + "</sheetData></worksheet>").encode())
    return path


def dimension_bomb_xlsx(path: Path) -> Path:
    """A 2 KB workbook whose sheet declares A1:XFD1048576 (17 billion cells): two real rows and one
    empty-string cell in the sheet's last row, so that a reader trusting the dimension pads a million
    rows of 16 384 cells."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        _workbook_parts(z)
        head = "".join(_cell(f"{column_name(j)}1", v) for j, v in enumerate(STRUCT_HEADER))
        row = "".join(_cell(f"{column_name(j)}2", v) for j, v in
                      enumerate(["89024", "EAJE", "Crèche", 20, "oui", "publique", "2020-01-01"]))
        z.writestr("xl/worksheets/sheet1.xml", _SHEET_HEAD + '<dimension ref="A1:XFD1048576"/><sheetData>'
                   f'<row r="1">{head}</row><row r="2">{row}</row>'
                   '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t></t></is></c></row>'
                   "</sheetData></worksheet>")
    return path


def far_cell_xlsx(path: Path) -> Path:
    """Two real rows plus one value in the very last cell of the sheet (XFD1048576)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        _workbook_parts(z)
        z.writestr("xl/worksheets/sheet1.xml", _SHEET_HEAD + "<sheetData>"
                   '<row r="1"><c r="A1" t="inlineStr"><is><t>codgeo</t></is></c>'
                   '<c r="B1" t="inlineStr"><is><t>codefrr</t></is></c></row>'
                   '<row r="2"><c r="A2" t="inlineStr"><is><t>89024</t></is></c><c r="B2"><v>4</v></c></row>'
                   '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>')
    return path


def zip_bomb_xlsx(path: Path, megabytes: int = 400) -> Path:
    """A sheet of ``megabytes`` MB of blanks (whitespace between rows) compressed to a few hundred KB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        _workbook_parts(z)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write((_SHEET_HEAD + "<sheetData>").encode())
            chunk = b" " * (1 << 20)
            for _ in range(megabytes):
                fh.write(chunk)
            fh.write(b"</sheetData></worksheet>")
    return path


STRUCT_HEADER = ["code_insee", "type", "nom", "places", "psu", "gestion", "date_ouverture"]
_CODES = ["89024", "89387", "89206", "93066", "93008", "93048", "89025", "89003"]


def big_structures_csv(path: Path, rows: int = 650_000) -> Path:
    """About 45 MB for 650 000 rows: a plausible structure list, every line distinct."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(";".join(STRUCT_HEADER) + "\n")
        for i in range(rows):
            fh.write(f"{_CODES[i % len(_CODES)]};EAJE;Multi-accueil numéro {i};{10 + i % 50};oui;publique;"
                     f"01/09/20{10 + i % 15:02d}\n")
    return path


def big_structures_xlsx(path: Path, rows: int = 1_000_000) -> Path:
    """A million structure rows in one sheet (about 35 MB compressed)."""
    def gen():
        yield STRUCT_HEADER
        for i in range(rows):
            yield [_CODES[i % len(_CODES)], "EAJE", f"Multi-accueil numéro {i}", 10 + i % 50, "oui", "publique",
                   (40000 + i % 5000, 1)]
    return write_xlsx(path, gen())


# ---------------------------------------------------------------------------
# Checks on messages shown to users
# ---------------------------------------------------------------------------
import re as _re

_QUOTED = _re.compile(r"«[^»]*»")
_ENGLISH = _re.compile(
    r"\b(the|error|errors|invalid|expected|unexpected|cannot|can't|could not|failed|not found|object|attribute|"
    r"codec|decode|encode|field larger|Errno|Traceback|NoneType|KeyError|ValueError|TypeError|IndexError|"
    r"Exception|line contains|has no|is not|does not|no such|file or directory|permission denied|"
    r"too long|warning|index out of range|unsupported|Erreur inattendue)\b", _re.I)


def english_in(message: str, fichier: str = "") -> list[str]:
    """English or technical words in a message, ignoring quoted cell values « … » and the file name."""
    text = _QUOTED.sub("«»", message.replace(fichier, "") if fichier else message)
    return _ENGLISH.findall(text)
