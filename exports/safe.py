"""Neutralisation of cell values and escaping of names for the exports.

* Spreadsheets: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return would be read as a formula by Excel/LibreOffice (CSV/formula
  injection, OWASP). Such a text gets a leading apostrophe and is stored as a text
  cell; numbers stay numbers (a negative number is not text, it is never touched).
* PDF: reportlab ``Paragraph`` parses a small XML markup; every name coming from the
  data is escaped (``<``, ``>``, ``&``) so that ``<b>x</b> & =1+1`` appears literally.
* XML control characters (not allowed in xlsx/pptx files) are removed from texts.
"""
from __future__ import annotations

import math
import re
from numbers import Number
from xml.sax.saxutils import escape

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Characters that XML 1.0 forbids (openpyxl raises IllegalCharacterError on them).
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean_text(s: object) -> str:
    """Text without XML-forbidden control characters (tab, LF and CR are kept)."""
    return _ILLEGAL_XML.sub("", "" if s is None else str(s))


def is_formula_like(s: str) -> bool:
    return isinstance(s, str) and s.startswith(FORMULA_PREFIXES)


def neutralise_text(s: object) -> str:
    """A text safe for a spreadsheet cell: ``=1+1`` → ``'=1+1``."""
    t = clean_text(s)
    return "'" + t if is_formula_like(t) else t


def neutralise_cell(value: object):
    """Value to put in a spreadsheet cell: numbers (not NaN) unchanged, texts neutralised."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, Number):
        f = float(value)
        return None if math.isnan(f) else value
    if isinstance(value, str):
        return neutralise_text(value)
    return value  # dates and datetimes


def escape_markup(s: object) -> str:
    """Text for a reportlab ``Paragraph``: markup characters escaped, control chars removed."""
    return escape(clean_text(s)).replace("\n", "<br/>")
