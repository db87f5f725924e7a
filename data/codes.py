"""INSEE code helpers shared by the reference build and the importers."""
from __future__ import annotations

import re

PARIS, LYON, MARSEILLE = "75056", "69123", "13055"

_COMMUNE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


def fold_arrondissement(code: str) -> str:
    """Fold a Paris/Lyon/Marseille municipal arrondissement into its commune.

    >>> fold_arrondissement("75112"), fold_arrondissement("69383"), fold_arrondissement("13201")
    ('75056', '69123', '13055')
    """
    if len(code) == 5 and code.isdigit():
        n = int(code)
        if 75101 <= n <= 75120:
            return PARIS
        if 69381 <= n <= 69389:
            return LYON
        if 13201 <= n <= 13216:
            return MARSEILLE
    return code


def is_arrondissement(code: str) -> bool:
    return fold_arrondissement(code) != code


def normalise_insee(value: object) -> str:
    """Normalise a cell into a 5-character INSEE code, or '' when impossible.

    Accepts Excel-protected values (``="01004"``), numbers that lost their
    leading zero (``1004`` or ``1004.0``), and lower-case Corsican codes.
    """
    if value is None:
        return ""
    s = str(value).strip()
    if s.lower() in ("", "nan", "none", "<na>"):
        return ""
    if s.startswith('="') and s.endswith('"'):
        s = s[2:-1]
    s = s.strip().strip('"').strip("'").upper()
    if re.fullmatch(r"\d+\.0+", s):
        s = s.split(".")[0]
    if s.isdigit() and len(s) == 4:
        s = "0" + s
    return s


def is_valid_commune_code(code: str) -> bool:
    return bool(_COMMUNE_RE.match(code))


