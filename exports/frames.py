"""Downloads of on-screen tables: CSV (French: ``;`` separator, decimal comma, UTF-8 with BOM so
that Excel opens it right) and xlsx, with every text cell neutralised against formula injection.
"""
from __future__ import annotations

import io
import math
from numbers import Number

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .safe import neutralise_cell, neutralise_text


def _csv_cell(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, bool):
        return "oui" if v else "non"
    if isinstance(v, Number):
        f = float(v)
        if f.is_integer() and abs(f) < 1e15:
            return str(int(f))
        return f"{f:.4f}".rstrip("0").rstrip(".").replace(".", ",")
    return neutralise_text(v)


def frame_to_csv(df: pd.DataFrame, notes: list[str] | None = None) -> bytes:
    """French CSV; ``notes`` (source, demo mention) become leading comment lines."""
    out = io.StringIO()
    for n in notes or []:
        out.write("# " + neutralise_text(n).replace("\n", " ") + "\n")
    cols = [neutralise_text(c) for c in df.columns]

    def q(s: str) -> str:
        return '"' + s.replace('"', '""') + '"' if any(ch in s for ch in ';"\n') else s

    out.write(";".join(q(c) for c in cols) + "\n")
    for row in df.itertuples(index=False):
        out.write(";".join(q(_csv_cell(v)) for v in row) + "\n")
    return out.getvalue().encode("utf-8-sig")


def frame_to_xlsx(df: pd.DataFrame, sheet: str = "Tableau", notes: list[str] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    r = 1
    for n in notes or []:
        ws.cell(r, 1, neutralise_text(n)).font = Font(italic=True)
        r += 1
    for j, c in enumerate(df.columns, 1):
        ws.cell(r, j, neutralise_text(c)).font = Font(bold=True)
    header = r
    for row in df.itertuples(index=False):
        r += 1
        for j, v in enumerate(row, 1):
            if isinstance(v, bool):
                v = "oui" if v else "non"
            cell = ws.cell(r, j, neutralise_cell(v))
            if isinstance(v, Number) and not isinstance(v, bool):
                cell.number_format = "#,##0" if float(v).is_integer() else "#,##0.0"
    ws.freeze_panes = ws.cell(header + 1, 1)
    for j, c in enumerate(df.columns, 1):
        width = max([len(str(c))] + [len(str(v)) for v in df.iloc[:200, j - 1]]) + 2
        ws.column_dimensions[get_column_letter(j)].width = min(max(width, 8), 60)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
