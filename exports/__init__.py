"""Committee and negotiation documents, generated offline (matplotlib, reportlab, python-pptx, openpyxl).

* :func:`build_sdsf_pack` — SDSF departmental pack (pptx, pdf, xlsx) for a département.
* :func:`build_ctg_onepager` — CTG one-pager of a scenario (pdf, xlsx).

Both return ``{file name: bytes}``. See docs/EXPORTS.md.
"""
from __future__ import annotations


def build_sdsf_pack(departement: str, store=None, formats=("pptx", "pdf", "xlsx"), **kw) -> dict[str, bytes]:
    from .sdsf import build_sdsf_pack as f

    return f(departement, store=store, formats=formats, **kw)


def build_ctg_onepager(scenario: dict, store=None, **kw) -> dict[str, bytes]:
    from .ctg import build_ctg_onepager as f

    return f(scenario, store=store, **kw)
