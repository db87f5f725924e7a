"""The territory of every line of a data.caf.fr file (part of :mod:`data.importers.caf`).

Codes as written (leading zero lost, ``="01001"``, ``XX``/``XXX`` placeholder rows), Paris, Lyon and
Marseille arrondissements, and codes outside the référentiel (overseas collectivities, other vintages).
"""
from __future__ import annotations

import re

import pandas as pd

from ..codes import fold_arrondissement, is_valid_commune_code
from ..store import Store
from .common import commune_reference
from .problems import Problems, shorten
from .table import Table


# Overseas collectivities (not in the référentiel of communes, EPCI and départements)
_OUTRE_MER_COM = re.compile(r"^(975|977|978|98\d)")
_PLACEHOLDER = re.compile(r"^X+$")
CITY_NAMES = {"75056": "Paris", "69123": "Lyon", "13055": "Marseille"}


def _dep_of_column(value: str) -> str:
    """Département as written in the file's département column ('6' → '06', '69D' → '69', '20R' → '20')."""
    s = value.strip().upper()
    if s.startswith('="') and s.endswith('"'):
        s = s[2:-1]
    if re.fullmatch(r"\d+\.0+", s):
        s = s.split(".")[0]
    if s.isdigit() and len(s) == 1:
        s = "0" + s
    if re.fullmatch(r"69[DM]", s):
        return "69"
    if s in ("20R", "2A", "2B"):
        return "20"
    return s


def _dep2(dep: str) -> str:
    return "20" if dep in ("2A", "2B", "20") else dep[:2]


def _clean_code(value: str) -> str:
    s = value.strip().upper()
    if s.startswith('="') and s.endswith('"'):
        s = s[2:-1]
    s = s.strip().strip('"').strip("'")
    if re.fullmatch(r"\d+\.0+", s):
        s = s.split(".")[0]
    return s


def _commune_code(raw: str, dep_cell: str | None, ref_dep: dict[str, str], line: int, label: str,
                  dep_label: str | None, probs: Problems) -> str | None:
    """Commune code of a cell; a code that lost its leading zero is padded and checked against
    the file's département column and the référentiel.  None after an error."""
    s = _clean_code(raw)
    if is_valid_commune_code(s):
        return s
    if s.isdigit() and len(s) == 4:
        cand = "0" + s
        dep = _dep_of_column(dep_cell) if dep_cell else ""
        cand_dep = ref_dep.get(fold_arrondissement(cand), cand[:2])
        if dep and _dep2(cand_dep) != _dep2(dep):
            probs.error(f"code commune « {shorten(raw)} » ambigu : complété en {cand} (département {cand_dep}) mais la "
                        f"colonne « {dep_label} » indique le département {dep_cell.strip()} — corrigez le code "
                        "(5 caractères, zéro initial compris).", line, label)
            return None
        return cand
    probs.error(f"code commune « {shorten(raw)} » invalide — 5 caractères attendus (ex. 89024, 2A004).", line, label)
    return None


def territory_codes(table: Table, level: str, code_col: str | None, dep_col: str | None, clabel: str,
                    store: Store, probs: Problems) -> tuple[list[str | None], list[int]]:
    """The territory code of every line (None for a placeholder « XX » line, listed)."""
    lines = table.lines
    raw_codes = table.frame[code_col].tolist() if code_col else ["FR"] * len(lines)
    dep_cells = table.frame[dep_col].tolist() if dep_col else [None] * len(lines)
    dep_label = table.label(dep_col) if dep_col else None
    ref = commune_reference(store)
    ref_dep = dict(zip(ref["code_insee"], ref["dep"]))
    codes: list[str | None] = []
    placeholder: list[int] = []
    for i, v in enumerate(raw_codes):
        s = _clean_code(v)
        if level == "nat":
            codes.append("FR")
        elif not s or _PLACEHOLDER.match(s):
            placeholder.append(lines[i])
            codes.append(None)
        elif level == "com":
            codes.append(_commune_code(v, dep_cells[i], ref_dep, lines[i], clabel, dep_label, probs))
        elif level == "dep":
            s = "0" + s if s.isdigit() and len(s) == 1 else s
            if not re.fullmatch(r"\d{2}|2[AB]|9[78]\d", s):
                probs.error(f"code département « {shorten(v)} » invalide — ex. 01, 2A, 971.", lines[i], clabel)
                s = None
            codes.append(s)
        elif level == "reg":
            s = "0" + s if s.isdigit() and len(s) == 1 else s
            if s == "COM":        # the Cnaf's « collectivités d'outre-mer » pseudo-region
                codes.append("COM")
            elif not re.fullmatch(r"\d{2,3}", s):
                probs.error(f"code région « {shorten(v)} » invalide — ex. 11, 84, 01.", lines[i], clabel)
                codes.append(None)
            else:
                codes.append(s)
        else:  # epci
            if not re.fullmatch(r"\d{9}", s):
                probs.error(f"code EPCI « {shorten(v)} » invalide — SIREN à 9 chiffres attendu.", lines[i], clabel)
                s = None
            codes.append(s)
    return codes, placeholder


def fold_arrondissement_rows(df: pd.DataFrame, value_cols: list[str], what: str, probs: Problems, clabel: str,
                             notes: list[str]) -> pd.DataFrame:
    """Paris/Lyon/Marseille: places of the arrondissements are added up into the commune (unless the
    file has a row for the whole commune); rates do not add up, so they are kept only from a row
    for the whole commune."""
    folded = df["code_orig"].map(fold_arrondissement)
    arm = df["code_orig"] != folded
    if not arm.any():
        return df
    own = set(zip(folded[~arm], df.loc[~arm, "annee"]))
    parts = []
    cities = sorted(set(folded[arm]))
    for (code, annee), grp in df[arm].groupby([folded[arm], "annee"]):
        if (code, annee) in own or what != "places":
            continue
        row = grp.iloc[0].copy()
        for c in value_cols:
            row[c] = grp[c].sum(min_count=1)
        row["code_orig"] = code
        row["nom"] = CITY_NAMES.get(code, code)
        parts.append(row)
    names = ", ".join(CITY_NAMES.get(c, c) for c in cities)
    if what == "places":
        notes.append(f"Places des arrondissements additionnées pour : {names} ({int(arm.sum())} lignes "
                     "d'arrondissement).")
    else:
        probs.warn(f"{int(arm.sum())} ligne(s) d'arrondissement municipal ({names}) : la Cnaf publie ces taux par "
                   "arrondissement et un taux ne s'additionne pas ; sans ligne pour la commune entière, ces communes "
                   "restent « donnée non disponible ».", None, clabel)
    rest = df[~arm]
    return pd.concat([rest, pd.DataFrame(parts)], ignore_index=True) if parts else rest.reset_index(drop=True)


def drop_unknown_territories(df: pd.DataFrame, level: str, store: Store, probs: Problems,
                             clabel: str) -> pd.DataFrame:
    """Rows whose territory is not in the référentiel are dropped: overseas collectivities in one
    summarised warning, any other code with its first line."""
    if level == "nat":
        return df
    if level == "com":
        known = set(commune_reference(store)["code_insee"])
    elif level == "epci":
        known = set(store.read("epci", columns=["epci_siren"])["epci_siren"]) if store.has("epci") else None
    elif level == "dep":
        known = set(store.read("departements", columns=["dep"])["dep"]) if store.has("departements") else None
    else:
        known = set(store.read("regions", columns=["reg"])["reg"]) if store.has("regions") else None
        if known is not None:
            known.add("COM")
    if known is None:
        return df
    unknown = ~df["code"].isin(known)
    if level == "reg":
        unknown |= df["code"] == "COM"
    if not unknown.any():
        return df
    bad = df[unknown]
    overseas = bad["code"].str.match(_OUTRE_MER_COM) | (bad["code"] == "COM")
    if overseas.any():
        codes = sorted(set(bad.loc[overseas, "code"]))
        probs.warn(f"{int(overseas.sum())} ligne(s) de collectivités d'outre-mer hors du référentiel (COG 2025 : "
                   f"départements et régions de France et DROM) ignorée(s) : codes {', '.join(codes[:15])}"
                   f"{' …' if len(codes) > 15 else ''}.", None, clabel)
    what = {"com": "code commune", "epci": "code EPCI", "dep": "code département", "reg": "code région"}[level]
    for code, grp in bad[~overseas].groupby("code", sort=True):
        lines = grp["_ligne"].astype(int).tolist()
        more = f" (et {len(lines) - 1} autre(s) ligne(s))" if len(lines) > 1 else ""
        probs.warn(f"{what} « {code} » inconnu du référentiel (COG 2025) : ligne ignorée{more} — commune fusionnée "
                   "ou territoire d'un autre millésime ?", lines[0], clabel)
    return df[~unknown].reset_index(drop=True)
