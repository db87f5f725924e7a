"""data.caf.fr exports: coverage rates (txcouv_pe_*) and places (nbpla_pe_*).

The Opendatasoft portal exports either field names (``numcom``, ``txcouv_eaje_com``)
or their labels ("Numéro de commune", "Taux de couverture EAJE"); both are accepted.
The level (commune, EPCI, département, nation) comes from the code column or,
failing that, from the file name.  Placeholder rows (code ``XX``/``XXX``) are skipped
with a warning; ``annee`` may be a date (national file).
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..codes import normalise_insee
from ..store import Store
from .common import (Built, Col, Problems, Table, _short, check_cells, commune_reference, fold_codes,
                     number_column, parse_date, read_table, report_duplicates)
from .official import _info

LEVELS = ("com", "epci", "dep", "nat")
LEVEL_LABEL = {"com": "communes", "epci": "EPCI", "dep": "départements", "nat": "France"}
CODE_FIELDS = {"com": ("numcom", "code_commune", "numero_de_commune", "code_insee", "codgeo", "num_com"),
               "epci": ("numepci", "code_epci", "numero_epci", "numero_d_epci", "siren_epci", "num_epci"),
               "dep": ("numdep", "code_departement", "numero_de_departement", "num_dep", "departement_code")}
NAME_FIELDS = {"com": ("nomcom", "nom_commune", "nom_de_la_commune", "libelle_commune", "commune"),
               "epci": ("nomepci", "nom_epci", "nom_de_l_epci", "libelle_epci", "epci"),
               "dep": ("nomdep", "nom_departement", "nom_du_departement", "libelle_departement", "departement")}

# label fragments (normalised) -> field stem, for exports "with labels"
COUV_LABELS = [
    (("eaje",), "txcouv_eaje"),
    (("hors", "psu"), "txcouv_hors_psu_col"),
    (("psu",), "txcouv_psu_col"),
    (("assistant",), "txcouv_am_ind"),
    (("garde", "domicile"), "txcouv_gad_ind"),
    (("salarie", "domicile"), "txcouv_gad_ind"),
    (("prescol",), "txcouv_prescol"),
    (("ecole",), "txcouv_prescol"),
    (("global",), "txcouv"),
    (("taux_de_couverture",), "txcouv"),
]
PLACES_LABELS = [
    (("hors", "psu"), "pl_hors_psu_col"),
    (("psu",), "pl_psu_col"),
    (("prescol",), "pl_prescol"),
    (("ecole",), "pl_prescol"),
    (("assistant",), "pl_am_ind"),
    (("garde", "domicile"), "pl_gad_ind"),
    (("salarie", "domicile"), "pl_gad_ind"),
    (("total",), "tot_offre"),
    (("offre",), "tot_offre"),
]

_ANNEE = Col("annee", ("annee_de_reference", "exercice", "date", "year"))


def _detect_level(table: Table, fichier: str, probs: Problems) -> str:
    cols = set(table.frame.columns)
    for level in ("com", "epci", "dep"):
        if any(f in cols for f in CODE_FIELDS[level]):
            return level
    m = re.search(r"_(com|epci|dep|nat)(?:[_.\-\s]|$)", fichier.lower())
    if m:
        return m.group(1)
    if not (cols & {f for v in CODE_FIELDS.values() for f in v}) and re.search(r"nat|france", fichier.lower()):
        return "nat"
    found = ", ".join(f"« {table.label(c)} »" for c in table.frame.columns)
    raise probs.fatal("niveau géographique introuvable : aucune colonne numcom, numepci ou numdep et un nom de "
                      f"fichier sans _com/_epci/_dep/_nat. Colonnes trouvées : {found}. "
                      "Gardez le nom de fichier d'origine (ex. txcouv_pe_com.csv).", table.header_line)


def _value_stem(header: str, prefix: str, labels: list, level: str) -> str | None:
    """Field stem of a value column: 'txcouv_eaje_com' → 'txcouv_eaje'; labels mapped by keywords."""
    if header.startswith(prefix) or (prefix == "pl_" and header.startswith("tot_offre")):
        stem = re.sub(rf"_({'|'.join(LEVELS)})$", "", header)
        return stem
    if prefix == "txcouv" and not ("taux" in header or "couverture" in header):
        return None
    if prefix == "pl_" and not ("place" in header or "offre" in header or "capacite" in header):
        return None
    for parts, stem in labels:
        if all(p in header for p in parts):
            return stem
    return None


def _build(path: Path, fichier: str, store: Store, probs: Problems, publisher: str, what: str) -> Built:
    prefix = "txcouv" if what == "couverture" else "pl_"
    labels = COUV_LABELS if what == "couverture" else PLACES_LABELS
    any_code = Col("code", tuple(f for v in CODE_FIELDS.values() for f in v), required=False)
    scan_cols = [_ANNEE, any_code, Col("value", regex=rf"({prefix}|tot_offre|taux|nombre_de_places).*")]
    table = read_table(path, fichier, scan_cols, probs)
    from .common import resolve_columns

    m = resolve_columns(table, [_ANNEE], probs)
    level = _detect_level(table, fichier, probs)
    if what == "places" and level == "nat":
        probs.warn("fichier national de places : écrit dans caf_places_nat.")
    code_col = next((c for c in table.frame.columns if c in CODE_FIELDS.get(level, ())), None)
    name_col = next((c for c in table.frame.columns if c in NAME_FIELDS.get(level, ())), None)
    if level != "nat" and code_col is None:
        raise probs.fatal(f"colonne du code ({CODE_FIELDS[level][0]}) absente.", table.header_line)
    stems: dict[str, str] = {}
    for c in table.frame.columns:
        if c in (m["annee"], code_col, name_col):
            continue
        stem = _value_stem(c, prefix, labels, level)
        if stem and stem not in stems.values():
            stems[c] = stem
    if not stems:
        found = ", ".join(f"« {table.label(c)} »" for c in table.frame.columns)
        expected = "txcouv_*_{com,epci,dep,nat}" if what == "couverture" else "pl_*_{com,epci,dep}, tot_offre_*"
        raise probs.fatal(f"aucune colonne de valeurs ({expected}) — colonnes trouvées : {found}. "
                          "Vérifiez le type de fichier (couverture ou places).", table.header_line)
    check_cells(table, [name_col] if name_col else [], probs)
    lines = table.lines
    # years
    years = []
    ylabel = table.label(m["annee"])
    for i, v in enumerate(table.frame[m["annee"]].tolist()):
        s = v.strip()
        y = int(s) if re.fullmatch(r"(19|20)\d{2}", s) else None
        if y is None:
            d = parse_date(s)
            y = d.year if d is not None and not pd.isna(d) else None
        if y is None:
            probs.error(f"année « {_short(s)} » illisible — attendu 2022 ou 2022-01-01.", lines[i], ylabel)
        years.append(y or 0)
    # codes
    raw_codes = table.frame[code_col].tolist() if code_col else ["FR"] * len(table.frame)
    placeholder = []
    codes = []
    clabel = table.label(code_col) if code_col else "code"
    for i, v in enumerate(raw_codes):
        s = normalise_insee(v)
        if re.fullmatch(r"X{2,}|", s):
            placeholder.append(i)
            probs.warn(f"ligne de remplissage « {v.strip() or '(vide)'} » ignorée (pas de territoire).",
                       lines[i], clabel)
        elif level == "com" and not re.fullmatch(r"\d{5}|2[AB]\d{3}", s):
            probs.error(f"code commune « {_short(v)} » invalide — 5 caractères attendus (ex. 89024).", lines[i], clabel)
        elif level == "dep":
            s = s.zfill(2) if s.isdigit() and len(s) < 2 else s
            if not re.fullmatch(r"\d{2}|2[AB]|97\d", s):
                probs.error(f"code département « {_short(v)} » invalide — ex. 01, 2A, 971.", lines[i], clabel)
        elif level == "epci" and not re.fullmatch(r"\d{9}", s):
            probs.error(f"code EPCI « {_short(v)} » invalide — SIREN à 9 chiffres attendu.", lines[i], clabel)
        codes.append(s)
    # values
    maximum = 1000.0 if what == "couverture" else 2_000_000.0
    values = {}
    for c, stem in stems.items():
        values[stem] = number_column(table, c, probs, minimum=0, maximum=maximum,
                                     what="taux de couverture" if what == "couverture" else "nombre de places")
    probs.raise_if_errors()
    df = pd.DataFrame({"_ligne": lines, "code_orig": codes, "annee": years,
                       "nom": [table.frame[name_col].iloc[i].strip() if name_col else "France"
                               for i in range(len(lines))], **values})
    df = df.drop(index=placeholder).reset_index(drop=True)
    if df.empty:
        raise probs.fatal("aucune ligne de territoire : le fichier ne contient que des lignes de remplissage "
                          "(XX, XXX) — exportez-le de nouveau depuis data.caf.fr.", table.header_line)
    if level == "com":
        df["code"] = fold_codes(df["code_orig"].tolist(), df["_ligne"].tolist(), probs, clabel)
        arm = df["code_orig"] != df["code"]
        if arm.any():
            own = set(df.loc[~arm, ["code", "annee"]].itertuples(index=False, name=None))
            parts = []
            for (code, annee), grp in df[arm].groupby(["code", "annee"]):
                if (code, annee) in own:
                    continue
                if what == "places":
                    row = grp.iloc[0].copy()
                    for stem in values:
                        row[stem] = grp[stem].sum(min_count=1)
                    row["nom"] = {"75056": "Paris", "69123": "Lyon", "13055": "Marseille"}[code]
                    parts.append(row)
                else:
                    probs.warn(f"taux des arrondissements de {code} ({annee}) non additionnables et pas de ligne "
                               "pour la commune entière : ignorés.", int(grp["_ligne"].iloc[0]), clabel)
            df = pd.concat([df[~arm], pd.DataFrame(parts)], ignore_index=True) if parts else df[~arm]
            df = df.reset_index(drop=True)
        known = set(commune_reference(store)["code_insee"])
    elif level == "epci":
        df["code"] = df["code_orig"]
        known = set(store.read("epci", columns=["epci_siren"])["epci_siren"]) if store.has("epci") else None
    elif level == "dep":
        df["code"] = df["code_orig"]
        known = set(store.read("departements", columns=["dep"])["dep"]) if store.has("departements") else None
    else:
        df["code"] = "FR"
        known = None
    if known is not None:
        what_code = {"com": "code commune", "epci": "code EPCI", "dep": "code département"}[level]
        mask = []
        for code, line in zip(df["code"], df["_ligne"]):
            ok = code in known
            if not ok:
                probs.warn(f"{what_code} « {code} » inconnu du référentiel : ligne ignorée.", int(line), clabel)
            mask.append(ok)
        df = df[mask].reset_index(drop=True)
    df = report_duplicates(df, ["code", "annee"], list(values), "_ligne", probs, clabel, "territoire / année")
    probs.raise_if_errors()
    out = pd.DataFrame({"code": df["code"].astype(str), "nom": df["nom"].astype(str),
                        "annee": df["annee"].astype("int64")})
    for stem in values:
        out[stem] = df[stem].astype(float)
    out = out.sort_values(["code", "annee"]).reset_index(drop=True)
    layer = f"caf_{what}_{level}"
    years_found = sorted(set(out["annee"]))
    vintage = (str(years_found[0]) if len(years_found) == 1 else f"{years_found[0]}-{years_found[-1]}") if years_found \
        else "année non précisée"
    title = "Taux de couverture petite enfance" if what == "couverture" else "Places d'accueil petite enfance"
    info = _info(f"{title} (Cnaf, {LEVEL_LABEL[level]})", vintage, f"{fichier} — {publisher}")
    notes = [f"Niveau détecté : {LEVEL_LABEL[level]} ; colonnes lues : "
             + ", ".join(f"{table.label(c)} → {s}" for c, s in stems.items()) + "."]
    return Built({layer: (out, info)}, vintage, len(out), table.encoding, notes)


def build_caf_couverture(path, fichier, store, probs, publisher):
    return _build(path, fichier, store, probs, publisher, "couverture")


def build_caf_places(path, fichier, store, probs, publisher):
    return _build(path, fichier, store, probs, publisher, "places")
