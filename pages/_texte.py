"""User and file text shown inside Markdown, never read as Markdown or HTML (issue 9, item 4).

Streamlit reads as Markdown the body of ``st.markdown``, ``st.caption``, ``st.write`` (a string),
alerts (``st.error``, ``st.warning``, ``st.info``, ``st.success``), headers, ``st.toast`` and the
labels of widgets, metrics, expanders and tabs.  A name such as ``![x](http://198.51.100.7/a.png)``
would become an image fetched from outside, ``[Valider](http://…)`` a link, ``:red[…]`` coloured text,
``$…$`` a formula.  Every string that contains a scenario, structure, commune, territory or file name, a
source label or an error message goes through :func:`md` before it reaches one of those calls.

Plotly reads a few HTML tags (``<a href>``, ``<b>``…) in trace names and labels: use :func:`html_texte`
there.  Tables (``st.dataframe``), ``st.code``, ``st.json`` and the options of a selectbox or
multiselect show text as is and need nothing.

Not a page (no Streamlit import): tested directly in tests/test_markdown_injection.py.
"""
from __future__ import annotations

import html
import re
import string

# CommonMark: a backslash before any ASCII punctuation character makes it literal.  Escaping them all
# also defeats Streamlit's extensions (:colour[…], :material/icon:, $math$), HTML and links.
_ESCAPE = {ord(c): "\\" + c for c in string.punctuation}
_BLANKS = {ord(c): " " for c in "\r\n\t\v\f\u2028\u2029\x85"}
# GFM « autolink literals » (http://…, www.…, a@b.fr) are found in the text *after* parsing, escapes
# already removed: an invisible WORD JOINER (U+2060) after « http: », « www » and « @ » breaks them.
_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(https?:|www(?=\.)|@)")


def md(text: object) -> str:
    """``text`` ready to be placed inside a Markdown string and shown literally, on one line."""
    s = "" if text is None else str(text)
    s = _AUTOLINK.sub(lambda m: m.group(1) + _JOINER, s.translate(_BLANKS))
    return s.translate(_ESCAPE)


def md_lignes(lines) -> str:
    """A Markdown bullet list whose items are shown literally."""
    return "\n".join(f"- {md(x)}" for x in lines)


def html_texte(text: object) -> str:
    """Text for places that read HTML (Plotly trace names, hover labels)."""
    return html.escape("" if text is None else str(text), quote=True)
