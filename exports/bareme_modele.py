"""Template of a year's barème (YAML or Excel), prefilled with the values in force: what
``python -m planning baremes export`` writes and ``… baremes import`` reads back (``data/bareme_fichier.py``).
The layout is documented in docs/BAREMES.md."""
from __future__ import annotations

import io
import json
from typing import Any

from exports.safe import neutralise_cell, neutralise_text
from planning.bareme_saisie import SOURCE_A_COMPLETER
from planning.formats import fr_parameter_value

TITRE = "Barème des aides aux partenaires (Cnaf) — modèle de saisie Atlas Petite Enfance"
SOURCE_VIDE = f"{SOURCE_A_COMPLETER} : texte officiel (lettre circulaire n°, délibération du CA de la Cnaf, date)"
FEUILLE = "Barème"
ENTETES = ("Paramètre", "En vigueur depuis", "Valeur", "Lecture", "Unité", "Description", "Source actuelle")


def _source(source: str | None) -> str:
    return source or SOURCE_VIDE


def modele_yaml(annee: int, portee: str, lignes: list[dict[str, Any]], source: str | None = None) -> str:
    out = [
        f"# {TITRE}",
        "# Une ligne par paramètre et date d'effet. « valeur » : nombre avec virgule ou point (0,66 ; 66 % ;",
        "# 814,62), liste « a ; b ; c », table « clé : valeur ; … », règle par son code. Supprimez les lignes",
        "# que le barème de l'année ne fixe pas. Voir docs/BAREMES.md.",
        f"annee: {int(annee)}",
        f"portee: {json.dumps(str(portee))}   # « national » ou code du département (barème local)",
        f"source: {json.dumps(_source(source), ensure_ascii=False)}",
        "valeurs:",
    ]
    for r in lignes:
        out.append(f"  - {{parametre: {r['parametre']}, depuis: {r['depuis'].isoformat()}, "
                   f"valeur: {json.dumps(r['texte'], ensure_ascii=False)}}}"
                   f"   # {' '.join(str(r['description']).split())[:120]} ({r['unite']})")
    return "\n".join(out) + "\n"


def modele_xlsx(annee: int, portee: str, lignes: list[dict[str, Any]], source: str | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = FEUILLE
    ws.append([TITRE])
    ws["A1"].font = Font(bold=True)
    ws.append(["Année", int(annee)])
    ws.append(["Portée", neutralise_text(portee), "« national » ou code du département (barème local)"])
    ws.append(["Source", neutralise_text(_source(source))])
    ws.append(["Valeur : nombre avec virgule (0,66 ; 66 % ; 814,62), liste « a ; b ; c », table « clé : valeur ; … », "
               "règle par son code. Supprimez les lignes que le barème de l'année ne fixe pas."])
    ws.append(list(ENTETES))
    for c in ws[6]:
        c.font = Font(bold=True)
    for r in lignes:
        ws.append([neutralise_cell(v) for v in (
            r["parametre"], r["depuis"].strftime("%d/%m/%Y"), r["texte"],
            fr_parameter_value(r["valeur"], r["unite"], r.get("choix")), r["unite"], r["description"], r["source"])])
    for row in ws.iter_rows(min_row=7, min_col=2, max_col=3):
        for c in row:
            c.number_format = "@"  # typed as text: « 0,66 » stays what the administrator wrote
    for col, width in zip("ABCDEFG", (42, 18, 30, 30, 22, 60, 60)):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
