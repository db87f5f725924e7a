"""Cells of an xlsx sheet: XML tags, number formats (dates, percents), shared strings and styles, and
the text of one cell as a person sees it in a spreadsheet."""
from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from decimal import Decimal

NS_MAIN = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main",
           "http://purl.oclc.org/ooxml/spreadsheetml/main")
NS_REL = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "http://purl.oclc.org/ooxml/officeDocument/relationships")
DATE_IDS = set(range(14, 23)) | {27, 30, 36, 45, 46, 47, 50, 57}
PCT_IDS = {9, 10}


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def tag_names(name: str) -> frozenset[str]:
    return frozenset(f"{{{ns}}}{name}" for ns in NS_MAIN) | {name}


TAG_C, _V, _F, _IS, _T, _RPH = (tag_names(n) for n in ("c", "v", "f", "is", "t", "rPh"))


def safe_iterparse(source, tag: str | None = None, events=("end",)):
    from lxml import etree

    return etree.iterparse(source, events=events, tag=tag, resolve_entities=False, no_network=True,
                           load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True)


def is_date_format(code: str) -> bool:
    s = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code).lower()   # quoted text, escapes, [Red], [$-40C]
    s = s.split(";")[0]
    return bool(re.search(r"[dmyhs]", s)) and not re.fullmatch(r"[#0.,%\s]*(e[+-]0+)?", s)


class Styles:
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


def number_text(v: str) -> str:
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


def cell_value(c, shared: list[str], styles: Styles, epoch: datetime) -> str | None:
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
        return number_text(v)
    if kind.startswith("zeros:"):
        try:
            x = float(v)
        except ValueError:
            return v
        if math.isfinite(x) and x.is_integer() and 0 <= x < 1e15:
            return str(int(x)).zfill(int(kind[6:]))
        return number_text(v)
    if kind == "pct":
        try:
            x = float(v)
        except ValueError:
            return v
        if math.isfinite(x):
            return number_text(repr(round(x * 100, 10))) + "%"
    return number_text(v)


