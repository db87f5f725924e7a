"""Importers of official files keyed by commune: QPV, FRR, ZRR, INSEE, DGCL, density grid."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from planning.formats import fr_decimal

from ..codes import is_valid_commune_code, normalise_insee
from ..store import NATURE_IMPORTE, LayerInfo, Store
from .common import (base_frame, Built, check_cells, commune_reference, drop_unknown, fold_codes, fold_frame,
                     number_column, parse_bool, report_duplicates, text_column, year_in)
from .problems import Problems, shorten
from .table import Col, read_table, resolve_columns, Table

CODE_COMMUNE = Col("code_insee", ("codgeo", "insee_com", "code_commune", "com", "codecommune", "code_insee_commune",
                                  "insee", "depcom", "code_geo", "code"))


def layer_info(label: str, vintage: str, source: str) -> LayerInfo:
    return LayerInfo(name="", rows=0, nature=NATURE_IMPORTE, vintage=vintage, source=source, label=label)


def _known_filter(df: pd.DataFrame, known: set[str], probs: Problems, colonne: str, what="code INSEE"):
    keep = drop_unknown(df["code_insee"].tolist(), known, df["_ligne"].tolist(), probs, colonne, what)
    return df[keep].reset_index(drop=True)


def _one_row_per_commune(df: pd.DataFrame, probs: Problems, colonne: str, value_cols: list[str], how: str,
                         store, known: set[str] | None = None) -> pd.DataFrame:
    """The shared steps of every commune-level file: fold Paris/Lyon/Marseille arrondissements
    (``how``: "sum" or "same"), drop unknown INSEE codes with a warning, report duplicates."""
    df = fold_frame(df, probs, colonne, value_cols, how)
    known = known if known is not None else set(commune_reference(store)["code_insee"])
    df = _known_filter(df, known, probs, colonne)
    return report_duplicates(df, ["code_insee"], value_cols, "_ligne", probs, colonne, "commune")


def vintage_of(fichier: str, table: Table | None, default: str) -> tuple[int | None, str]:
    y = year_in(fichier, *(table.preamble if table else []))
    return y, (str(y) if y else default)


# ---------------------------------------------------------------------------
# QPV list (ANCT)
# ---------------------------------------------------------------------------
QPV_COLS = [
    Col("code_qp", ("code_quartier", "codeqp", "code_qpv", "qp", "code_du_quartier", "cod_qp")),
    Col("lib_qp", ("nom_qp", "libelle_qp", "nom_quartier", "libelle_quartier", "nom_du_quartier", "lib_qpv"),
        required=False),
    Col("insee_com", ("code_insee", "codgeo", "insee_commune", "code_commune", "insee_com_qp", "commune_qp",
                      "codes_insee", "com")),
    Col("lib_com", ("nom_com", "nom_commune", "libelle_commune", "commune", "communes", "lib_commune"),
        required=False),
]
QP_RE = re.compile(r"^Q[A-Z][0-9A-Z]{4,8}$")


def build_qpv(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, QPV_COLS, probs)
    m = resolve_columns(table, QPV_COLS, probs)
    check_cells(table, [m[c] for c in ("lib_qp", "lib_com") if c in m], probs)
    ref = commune_reference(store)
    names = dict(zip(ref["code_insee"], ref["nom"]))
    rows = []
    qp_label = table.label(m["code_qp"])
    com_label = table.label(m["insee_com"])
    libs_qp = text_column(table, m.get("lib_qp"))
    libs_com = text_column(table, m.get("lib_com"))
    for i, (qp, cell) in enumerate(zip(table.frame[m["code_qp"]].tolist(), table.frame[m["insee_com"]].tolist())):
        line = table.lines[i]
        code_qp = normalise_insee(qp)
        if not QP_RE.match(code_qp):
            probs.error(f"code QPV « {shorten(qp)} » invalide — il doit ressembler à QN08901I.", line, qp_label)
            continue
        parts = [p for p in re.split(r"[;,|/\n]", cell) if p.strip()]
        if not parts:
            probs.error("code INSEE de la commune manquant — renseignez-le.", line, com_label)
            continue
        codes = []
        for p in parts:
            s = p.strip()
            if s.startswith("=") and not re.fullmatch(r'="[^"]*"', s):
                probs.error(f"la cellule « {shorten(s)} » ressemble à une formule de tableur — supprimez la formule.",
                            line, com_label)
                continue
            c = normalise_insee(s)
            if not is_valid_commune_code(c):
                probs.error(f"code INSEE « {shorten(s)} » invalide — corrigez-le (5 caractères, ex. 01004).",
                            line, com_label)
                continue
            codes.append(c)
        lib_parts = [p.strip() for p in re.split(r"[;\n]", libs_com[i]) if p.strip()]
        for k, c in enumerate(codes):
            lib = lib_parts[k] if len(lib_parts) == len(codes) else (libs_com[i] if len(codes) == 1 else "")
            rows.append({"_ligne": line, "code_orig": c, "code_qp": code_qp, "lib_qp": libs_qp[i], "lib_com": lib})
    probs.raise_if_errors()
    df = pd.DataFrame(rows, columns=["_ligne", "code_orig", "code_qp", "lib_qp", "lib_com"])
    df["code_insee"] = fold_codes(df["code_orig"].tolist(), df["_ligne"].tolist(), probs, com_label)
    # overseas collectivities (Saint-Martin 97801, Polynésie 987xx…) are outside the référentiel: one warning
    overseas = ~df["code_insee"].isin(names) & df["code_insee"].str.match(r"^(975|977|978|98\d)")
    if overseas.any():
        codes = sorted(set(df.loc[overseas, "code_insee"]))
        probs.warn(f"{int(overseas.sum())} ligne(s) de collectivités d'outre-mer hors du référentiel (COG 2025) "
                   f"ignorée(s) : {df.loc[overseas, 'code_qp'].nunique()} QPV, communes {', '.join(codes[:12])}"
                   f"{' …' if len(codes) > 12 else ''}.", None, com_label)
        df = df[~overseas].reset_index(drop=True)
    df = _known_filter(df, set(names), probs, com_label)
    # one row per (commune, QPV); folded arrondissements collapse silently (already listed)
    arm_dup = df.duplicated(["code_insee", "code_qp"]) & (df["code_orig"] != df["code_insee"])
    df = df[~arm_dup]
    df = report_duplicates(df, ["code_insee", "code_qp"], [], "_ligne", probs, com_label, "commune / QPV")
    probs.raise_if_errors()
    # lib_com: the commune's own name when the cell held several names or an arrondissement
    multi = (df["lib_com"] == "") | (df["code_orig"] != df["code_insee"]) | df["lib_com"].str.contains("[;\n]")
    df["lib_com"] = np.where(multi, df["code_insee"].map(names), df["lib_com"])
    out = (df[["code_qp", "lib_qp", "code_insee", "lib_com"]].astype(str)
           .sort_values(["code_insee", "code_qp"]).reset_index(drop=True))
    y, vintage = vintage_of(fichier, table, "QPV (date non précisée)")
    vintage = f"QPV {y}" if y else vintage
    info = layer_info("Quartiers prioritaires de la politique de la ville (QPV)", vintage, f"{fichier} — {publisher}")
    notes = [f"{out['code_qp'].nunique()} QPV dans {out['code_insee'].nunique()} communes."]
    return Built({"qpv": (out, info)}, vintage, len(out), table.encoding, notes)


def norm_name(s: object) -> str:
    from .table import normalise_header

    return normalise_header(s)


# ---------------------------------------------------------------------------
# FRR (Observatoire des territoires) and legacy ZRR
# ---------------------------------------------------------------------------
FRR_COLS = [CODE_COMMUNE, Col("codefrr", ("code_frr", "frr", "classement_frr", "cod_frr"), regex=r"codefrr_?\d*"),
            Col("libgeo", ("lib_com", "nom_commune", "libelle", "nom"), required=False)]
FRR_LABELS = {0: "Non classée", 1: "Ancienne ZRR en transition", 2: "Cas particulier", 3: "Cas particulier",
              4: "FRR", 5: "FRR+"}


def build_frr(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, FRR_COLS, probs)
    m = resolve_columns(table, FRR_COLS, probs)
    check_cells(table, [m["libgeo"]] if "libgeo" in m else [], probs)
    df = base_frame(table, m["code_insee"], probs)
    label = table.label(m["codefrr"])
    values = []
    for i, v in enumerate(table.frame[m["codefrr"]].tolist()):
        s = v.strip()
        if s in ("", "-9999", "-9999.0", "NA", "nd", "N/A"):
            values.append(0)
            continue
        try:
            x = float(s.replace(",", "."))
        except ValueError:
            x = -1
        if not float(x).is_integer() or int(x) not in FRR_LABELS:
            probs.error(f"code FRR « {shorten(s)} » inconnu — valeurs attendues 0 à 5 (vide ou -9999 = non classée).",
                        table.lines[i], label)
            values.append(0)
        else:
            values.append(int(x))
    df["codefrr"] = values
    probs.raise_if_errors()
    df = _one_row_per_commune(df, probs, table.label(m["code_insee"]), ["codefrr"], "same", store)
    probs.raise_if_errors()
    out = pd.DataFrame({"code_insee": df["code_insee"].astype(str),
                        "codefrr": pd.array(df["codefrr"].astype(int), dtype="Int64")})
    out["classement"] = out["codefrr"].map(FRR_LABELS).astype(str)
    out = out.sort_values("code_insee").reset_index(drop=True)
    y = year_in(fichier, *table.preamble, table.label(m["codefrr"]))
    vintage = f"FRR {y}" if y else "FRR (date non précisée)"
    info = layer_info("France Ruralités Revitalisation (FRR)", vintage, f"{fichier} — {publisher}")
    counts = out["classement"].value_counts()
    notes = [f"FRR : {int(counts.get('FRR', 0))} ; FRR+ : {int(counts.get('FRR+', 0))} ; "
             f"ancienne ZRR en transition : {int(counts.get('Ancienne ZRR en transition', 0))}."]
    return Built({"frr": (out, info)}, vintage, len(out), table.encoding, notes)


ZRR_COLS = [CODE_COMMUNE, Col("zrr_simp", ("zrr", "classement_zrr", "zrr_simplifie")),
            Col("libgeo", ("lib_com", "nom_commune", "libelle"), required=False)]


def build_zrr(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, ZRR_COLS, probs)
    m = resolve_columns(table, ZRR_COLS, probs)
    check_cells(table, [m["zrr_simp"]] + ([m["libgeo"]] if "libgeo" in m else []), probs)
    df = base_frame(table, m["code_insee"], probs)
    label = table.label(m["zrr_simp"])
    zrr, lib = [], []
    for i, v in enumerate(table.frame[m["zrr_simp"]].tolist()):
        s = v.strip()
        letter = s[:1].upper()
        if letter not in ("C", "P", "N"):
            probs.error(f"valeur ZRR « {shorten(s)} » inconnue — elle doit commencer par C (classée), "
                        "P (partiellement classée) ou N (non classée).", table.lines[i], label)
        zrr.append(letter)
        lib.append(s)
    df["zrr"], df["libelle"] = zrr, lib
    probs.raise_if_errors()
    col = table.label(m["code_insee"])
    df = _one_row_per_commune(df, probs, col, ["zrr"], "same", store)
    probs.raise_if_errors()
    out = df[["code_insee", "zrr", "libelle"]].astype(str).sort_values("code_insee").reset_index(drop=True)
    y = year_in(fichier, *table.preamble)
    vintage = f"ZRR {y}" if y else "ZRR (classement historique, fin le 30 juin 2024)"
    info = layer_info("Zones de revitalisation rurale (ZRR, historique)", vintage, f"{fichier} — {publisher}")
    return Built({"zrr": (out, info)}, vintage, len(out), table.encoding)


# ---------------------------------------------------------------------------
# INSEE: children under 3, legal populations
# ---------------------------------------------------------------------------
ENFANTS_COLS = [CODE_COMMUNE, Col("pop0002", regex=r"p(\d{2})_pop0002")]


def build_enfants(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, ENFANTS_COLS, probs)
    m = resolve_columns(table, ENFANTS_COLS, probs)
    # the most recent PYY_POP0002 column
    candidates = sorted((c for c in table.frame.columns if re.fullmatch(r"p(\d{2})_pop0002", c)), reverse=True)
    col = candidates[0]
    yy = int(col[1:3])
    year = 2000 + yy
    df = base_frame(table, m["code_insee"], probs)
    df["enfants"] = number_column(table, col, probs, minimum=0, maximum=100_000, what="nombre d'enfants")
    pop_col = f"p{yy:02d}_pop"
    if pop_col in table.frame.columns:
        df["pop"] = number_column(table, pop_col, probs, minimum=0, what="population")
        over = df["enfants"] > df["pop"]
        for _, r in df[over].iterrows():
            probs.error(f"{fr_decimal(r['enfants'])} enfants de moins de 3 ans pour une population de {fr_decimal(r['pop'])} — "
                        "valeur impossible, vérifiez la ligne.", int(r["_ligne"]), table.label(col))
    probs.raise_if_errors()
    ccol = table.label(m["code_insee"])
    ref = commune_reference(store)
    df = _one_row_per_commune(df, probs, ccol, ["enfants"], "sum", store, known=set(ref["code_insee"]))
    if "pop" not in df.columns:  # fall back on the référentiel population (other year: only a gross check)
        pop = pd.to_numeric(df["code_insee"].map(dict(zip(ref["code_insee"], ref["population"]))), errors="coerce")
        for _, r in df[df["enfants"] > pop * 1.5].iterrows():
            probs.error(f"{fr_decimal(r['enfants'])} enfants de moins de 3 ans : plus que la population de la commune "
                        "— valeur impossible, vérifiez la ligne.", int(r["_ligne"]), table.label(col))
    probs.raise_if_errors()
    from .naissances import NATURE_RECENSEMENT, enfants_info, nature_column

    imported = pd.DataFrame({"code_insee": df["code_insee"].astype(str), "enfants_moins_3": df["enfants"].astype(float),
                             "annee": year, "estimation": False, "nature": NATURE_RECENSEMENT})
    imported = imported[imported["enfants_moins_3"].notna()]
    notes = []
    previous = store.info("enfants_moins_3")
    if store.has("enfants_moins_3"):
        old = store.read("enfants_moins_3")
        old = old.assign(nature=nature_column(old))
        rest = old[~old["code_insee"].isin(imported["code_insee"])]
        if len(rest):
            kinds = ", ".join(f"{n} : {k}" for k, n in rest["nature"].value_counts().items())
            notes.append(f"{len(rest)} commune(s) absente(s) du fichier gardent leur valeur précédente ({kinds}).")
        out = pd.concat([imported, rest[imported.columns]], ignore_index=True)
    else:
        out = imported
    out = out.astype({"code_insee": str, "enfants_moins_3": float, "annee": "int64", "estimation": bool,
                      "nature": str})
    out = out.sort_values("code_insee").reset_index(drop=True)
    vintage = f"recensement {year} (INSEE)"
    y_ref = (previous.extra or {}).get("annee_reference") if previous is not None else None
    info = enfants_info(out, previous, f"{fichier} — {publisher}, colonne {table.label(col)}", y_ref)
    notes.insert(0, f"{len(imported)} commune(s) : enfants de 0 à 2 ans du recensement {year} "
                    f"(colonne {table.label(col)}).")
    return Built({"enfants_moins_3": (out, info)}, vintage, len(imported), table.encoding, notes)


POP_COLS = [Col("code_insee", ("com", "codgeo", "code_commune", "depcom", "insee_com")),
            Col("pmun", ("population_municipale", "pop_mun", "p_mun")),
            Col("ptot", ("population_totale", "pop_tot", "p_tot"), required=False),
            Col("commune", ("nom_commune", "libgeo", "lib_com", "nom"), required=False)]


def build_populations(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, POP_COLS, probs)
    m = resolve_columns(table, POP_COLS, probs)
    check_cells(table, [m["commune"]] if "commune" in m else [], probs)
    df = base_frame(table, m["code_insee"], probs)
    df["pmun"] = number_column(table, m["pmun"], probs, minimum=0, maximum=3_000_000, integer=True,
                               what="population municipale")
    if "ptot" in m:
        df["ptot"] = number_column(table, m["ptot"], probs, minimum=0, maximum=3_000_000, integer=True,
                                   what="population totale")
        for _, r in df[df["ptot"] < df["pmun"]].iterrows():
            probs.error(f"population totale ({fr_decimal(r['ptot'])}) inférieure à la population municipale "
                        f"({fr_decimal(r['pmun'])}) — impossible, vérifiez les colonnes.", int(r["_ligne"]),
                        table.label(m["ptot"]))
    else:
        df["ptot"] = np.nan
    missing = df["pmun"].isna()
    for _, r in df[missing].iterrows():
        probs.error("population municipale manquante — renseignez-la.", int(r["_ligne"]), table.label(m["pmun"]))
    probs.raise_if_errors()
    ccol = table.label(m["code_insee"])
    df = _one_row_per_commune(df, probs, ccol, ["pmun", "ptot"], "sum", store)
    probs.raise_if_errors()
    out = pd.DataFrame({"code_insee": df["code_insee"].astype(str),
                        "pmun": pd.array(df["pmun"].round(), dtype="Int64"),
                        "ptot": pd.array(df["ptot"].round(), dtype="Int64")})
    out = out.sort_values("code_insee").reset_index(drop=True)
    y = year_in(fichier, *table.preamble)
    vintage = f"populations légales {y}" if y else "populations légales (millésime non précisé)"
    info = layer_info("Populations légales (INSEE)", vintage, f"{fichier} — {publisher}")
    return Built({"populations": (out, info)}, vintage, len(out), table.encoding)


# ---------------------------------------------------------------------------
# INSEE communal density grid
# ---------------------------------------------------------------------------
DENSITE_LABELS = {
    "grands_centres_urbains": 1, "centres_urbains_intermediaires": 2, "ceintures_urbaines": 3,
    "petites_villes": 4, "bourgs_ruraux": 5, "rural_a_habitat_disperse": 6, "rural_a_habitat_tres_disperse": 7,
}
GRILLE_COLS = [CODE_COMMUNE,
               Col("niveau_densite", ("dens7", "degre_de_densite", "densite", "grille_densite", "typo_densite",
                                      "niveau_de_densite", "degre_densite")),
               Col("niveau_ruralite", ("ruralite", "typologie_ruralite"), required=False),
               Col("niveau_centralite", ("centralite", "niveau_de_centralite"), required=False),
               Col("lib_com", ("libgeo", "nom_commune", "nom"), required=False)]


def build_grille(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, GRILLE_COLS, probs)
    m = resolve_columns(table, GRILLE_COLS, probs)
    check_cells(table, [m[c] for c in ("niveau_ruralite", "niveau_centralite", "lib_com") if c in m], probs)
    df = base_frame(table, m["code_insee"], probs)
    label = table.label(m["niveau_densite"])
    levels = []
    for i, v in enumerate(table.frame[m["niveau_densite"]].tolist()):
        s = v.strip()
        n = DENSITE_LABELS.get(norm_name(s))
        if n is None and re.fullmatch(r"[1-7](\.0+)?", s):
            n = int(float(s))
        if n is None:
            probs.error(f"niveau de densité « {shorten(s)} » inconnu — attendu 1 à 7 ou un libellé INSEE "
                        "(« Grands centres urbains » … « Rural à habitat très dispersé »).", table.lines[i], label)
        levels.append(n if n is not None else 0)
    df["niveau_densite"] = levels
    undefined = {"- undefined", "undefined", "-"}
    df["niveau_ruralite"] = [("" if v in undefined else v) for v in text_column(table, m.get("niveau_ruralite"))]
    df["niveau_centralite"] = [("" if v in undefined else v) for v in text_column(table, m.get("niveau_centralite"))]
    probs.raise_if_errors()
    ccol = table.label(m["code_insee"])
    vals = ["niveau_densite", "niveau_ruralite", "niveau_centralite"]
    df = _one_row_per_commune(df, probs, ccol, vals, "same", store)
    probs.raise_if_errors()
    out = pd.DataFrame({"code_insee": df["code_insee"].astype(str),
                        "niveau_densite": df["niveau_densite"].astype("int64"),
                        "niveau_ruralite": df["niveau_ruralite"].astype(str),
                        "niveau_centralite": df["niveau_centralite"].astype(str)})
    out = out.sort_values("code_insee").reset_index(drop=True)
    y = year_in(fichier, *table.preamble)
    vintage = f"grille communale {y}" if y else "grille communale (millésime non précisé)"
    info = layer_info("Grille communale de densité (INSEE, 7 niveaux)", vintage, f"{fichier} — {publisher}")
    return Built({"grille_densite": (out, info)}, vintage, len(out), table.encoding)


# ---------------------------------------------------------------------------
# DGCL criteria (criteres_repartition_YYYY.csv)
# ---------------------------------------------------------------------------
DGCL_COLS = [
    Col("code_insee", ("code_insee", "codgeo", "code_commune"), contains=(("code_insee_de_la_commune",),)),
    Col("potentiel_financier_hab", ("potentiel_financier_par_habitant",),
        contains=(("potentiel_financier_par_habitant_final",), ("potentiel_financier_par_habitant",))),
    Col("frr_ou_zrr", ("frr", "zrr"), contains=(("commune_classee_ou_beneficiaire_frr",), ("commune_situee_en_zrr",),
                                                ("beneficiaire_frr",)), required=False),
    Col("population_qpv", (), contains=(("population_qpv",),), required=False),
    Col("nom", (), contains=(("nom_de_la_commune",),), required=False),
]


def build_dgcl(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, DGCL_COLS, probs)
    # prefer the "final" financial potential when several columns match
    m = resolve_columns(table, DGCL_COLS, probs)
    finals = [c for c in table.frame.columns if "potentiel_financier_par_habitant_final" in c]
    if finals:
        m["potentiel_financier_hab"] = finals[0]
    check_cells(table, [m["nom"]] if "nom" in m else [], probs)
    df = base_frame(table, m["code_insee"], probs)
    df["potentiel_financier_hab"] = number_column(table, m["potentiel_financier_hab"], probs, minimum=0,
                                                  maximum=100_000, what="potentiel financier par habitant")
    if "frr_ou_zrr" in m:
        label = table.label(m["frr_ou_zrr"])
        flags = []
        for i, v in enumerate(table.frame[m["frr_ou_zrr"]].tolist()):
            b = parse_bool(v)
            if b is None:
                probs.error(f"valeur « {shorten(v)} » non reconnue — attendu OUI/NON ou 1/0.", table.lines[i], label)
            flags.append(bool(b))
        df["frr_ou_zrr"] = flags
    else:
        df["frr_ou_zrr"] = False
        probs.warn("colonne « Commune classée ou bénéficiaire FRR » (ou « Commune située en ZRR ») absente : "
                   "aucune commune marquée FRR/ZRR.")
    if "population_qpv" in m:
        df["population_qpv"] = number_column(table, m["population_qpv"], probs, minimum=0, maximum=1_000_000,
                                             what="population QPV")
    else:
        df["population_qpv"] = np.nan
    probs.raise_if_errors()
    ccol = table.label(m["code_insee"])
    vals = ["potentiel_financier_hab", "frr_ou_zrr", "population_qpv"]
    df = _one_row_per_commune(df, probs, ccol, vals, "same", store)
    probs.raise_if_errors()
    out = pd.DataFrame({"code_insee": df["code_insee"].astype(str),
                        "potentiel_financier_hab": df["potentiel_financier_hab"].astype(float),
                        "frr_ou_zrr": df["frr_ou_zrr"].astype(bool),
                        "population_qpv": df["population_qpv"].astype(float)})
    out = out.sort_values("code_insee").reset_index(drop=True)
    y = year_in(fichier, *table.preamble)
    vintage = f"critères DGCL {y}" if y else "critères DGCL (année non précisée)"
    kind = "FRR" if "frr_ou_zrr" in m and "frr" in m["frr_ou_zrr"] else "ZRR"
    info = layer_info("Critères de répartition des dotations (DGCL)", vintage, f"{fichier} — {publisher}")
    notes = [f"Colonne FRR/ZRR lue : « {table.label(m['frr_ou_zrr'])} » ({kind})." if "frr_ou_zrr" in m else ""]
    return Built({"dgcl_criteres": (out, info)}, vintage, len(out), table.encoding, [n for n in notes if n])
