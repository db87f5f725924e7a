"""Reading a year's barème file (YAML or Excel, the template of ``python -m planning baremes export``,
docs/BAREMES.md) into rows to validate.  Limits are checked before anything grows in memory; every
problem is a French message naming the file and the line (YAML) or the cell (Excel)."""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from typing import Any

import yaml

from planning.bareme_saisie import BaremeInvalide, LigneSaisie

TAILLE_MAX = 2_000_000          # bytes of the file
TAILLE_DECOMPRESSEE_MAX = 20_000_000  # bytes of an Excel file once unzipped
LIGNES_MAX = 2_000
ENTETES_REQUIS = ("Paramètre", "Valeur")


@dataclass(frozen=True)
class FichierBareme:
    annee: Any
    portee: Any
    source: Any
    lignes: list[LigneSaisie]


def _refus(nom: str, message: str) -> BaremeInvalide:
    return BaremeInvalide([f"{nom} : {message}"])


def lire_fichier_bareme(contenu: bytes, nom: str) -> FichierBareme:
    if len(contenu) > TAILLE_MAX:
        raise _refus(nom, f"fichier de {len(contenu) / 1e6:.1f} Mo, {TAILLE_MAX // 1_000_000} Mo au plus".replace(".", ","))
    bas = nom.lower()
    if bas.endswith((".yaml", ".yml")):
        return _lire_yaml(contenu, nom)
    if bas.endswith(".xlsx"):
        return _lire_xlsx(contenu, nom)
    raise _refus(nom, "format non reconnu : fichier .yaml ou .xlsx attendu (modèle de `python -m planning baremes "
                      "export`)")


# -- YAML ----------------------------------------------------------------------------------------------

def _lire_yaml(contenu: bytes, nom: str) -> FichierBareme:
    try:
        texte = contenu.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refus(nom, "encodage illisible : enregistrez le fichier en UTF-8") from None
    try:
        noeud = yaml.compose(texte, Loader=yaml.SafeLoader)
        doc = yaml.safe_load(texte)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        ou = f"ligne {mark.line + 1}" if mark else "syntaxe"
        raise _refus(nom, f"{ou} : YAML illisible ({getattr(e, 'problem', None) or e})") from None
    if not isinstance(doc, dict):
        raise _refus(nom, "le fichier doit contenir les clés annee, portee, source et valeurs (voir docs/BAREMES.md)")
    manquantes = [k for k in ("annee", "portee", "source", "valeurs") if k not in doc]
    if manquantes:
        raise _refus(nom, "clé(s) manquante(s) : " + ", ".join(manquantes))
    valeurs = doc["valeurs"]
    if not isinstance(valeurs, list):
        raise _refus(nom, "« valeurs » doit être une liste de lignes {parametre, depuis, valeur}")
    if len(valeurs) > LIGNES_MAX:
        raise _refus(nom, f"{len(valeurs)} lignes, {LIGNES_MAX} au plus")
    numeros = []
    for k, v in noeud.value:
        if k.value == "valeurs" and isinstance(v, yaml.SequenceNode):
            numeros = [item.start_mark.line + 1 for item in v.value]
    lignes, erreurs = [], []
    for i, item in enumerate(valeurs):
        lieu = f"{nom}, ligne {numeros[i] if i < len(numeros) else '?'}"
        if not isinstance(item, dict) or "parametre" not in item or "valeur" not in item:
            erreurs.append(f"{lieu} — ligne attendue sous la forme {{parametre: …, depuis: …, valeur: …}}")
            continue
        inconnues = set(item) - {"parametre", "depuis", "valeur"}
        if inconnues:
            erreurs.append(f"{lieu} — clé(s) inconnue(s) : {', '.join(sorted(map(str, inconnues)))}")
            continue
        lignes.append(LigneSaisie(str(item["parametre"]), item.get("depuis"), item["valeur"], lieu))
    if erreurs:
        raise BaremeInvalide(erreurs)
    return FichierBareme(doc["annee"], doc["portee"], doc["source"], lignes)


# -- Excel -----------------------------------------------------------------------------------------------

def _texte(v: Any) -> Any:
    return v.strip() if isinstance(v, str) else v


def _lire_xlsx(contenu: bytes, nom: str) -> FichierBareme:
    try:
        with zipfile.ZipFile(io.BytesIO(contenu)) as z:
            total = sum(i.file_size for i in z.infolist())
    except zipfile.BadZipFile:
        raise _refus(nom, "ce n'est pas un classeur Excel .xlsx lisible") from None
    if total > TAILLE_DECOMPRESSEE_MAX:
        raise _refus(nom, f"classeur de {total / 1e6:.0f} Mo une fois décompressé, "
                          f"{TAILLE_DECOMPRESSEE_MAX // 1_000_000} Mo au plus")
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        wb = load_workbook(io.BytesIO(contenu), read_only=True, data_only=False)
    except Exception as e:  # openpyxl raises many types on a damaged file
        raise _refus(nom, f"classeur illisible ({type(e).__name__})") from None
    try:
        ws = wb["Barème"] if "Barème" in wb.sheetnames else wb.worksheets[0]
        entete: dict[str, Any] = {}
        colonnes: dict[str, int] = {}
        lignes: list[LigneSaisie] = []
        erreurs: list[str] = []
        for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if n > LIGNES_MAX + 20:
                raise _refus(nom, f"plus de {LIGNES_MAX} lignes")
            cells = [_texte(c) for c in row]
            if not colonnes:
                a = cells[0] if cells else None
                if a in ("Année", "Portée", "Source"):
                    entete[a] = cells[1] if len(cells) > 1 else None
                elif a == "Paramètre":
                    colonnes = {str(c): j for j, c in enumerate(cells) if c}
                    manque = [h for h in ENTETES_REQUIS if h not in colonnes]
                    if manque:
                        raise _refus(nom, f"ligne {n} : colonne(s) manquante(s) : {', '.join(manque)}")
                continue
            jp, jv, jd = colonnes["Paramètre"], colonnes["Valeur"], colonnes.get("En vigueur depuis")
            get = (lambda j: cells[j] if j is not None and j < len(cells) else None)
            if not get(jp) and get(jv) in (None, ""):
                continue  # blank line
            for j in (jp, jv, jd):
                v = get(j)
                if isinstance(v, str) and v.startswith("="):
                    erreurs.append(f"{nom}, cellule {get_column_letter(j + 1)}{n} — formule refusée : saisissez la valeur")
                    break
            else:
                depuis = get(jd)
                if isinstance(depuis, dt.datetime):
                    depuis = depuis.date()
                lignes.append(LigneSaisie(str(get(jp) or ""), depuis, get(jv),
                                          f"{nom}, ligne {n} (cellule {get_column_letter(jv + 1)}{n})"))
        if not colonnes:
            raise _refus(nom, "ligne d'en-tête « Paramètre | En vigueur depuis | Valeur » introuvable (voir le "
                              "modèle de `python -m planning baremes export --format xlsx`)")
        manque = [k for k in ("Année", "Portée", "Source") if k not in entete]
        if manque:
            raise _refus(nom, "cellule(s) manquante(s) en colonne A avant le tableau : " + ", ".join(manque))
        if erreurs:
            raise BaremeInvalide(erreurs)
        return FichierBareme(entete["Année"], entete["Portée"], entete["Source"], lignes)
    finally:
        wb.close()
