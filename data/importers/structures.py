"""The Caf's own list of structures (EAJE, micro-crèches, MAM, RPE…).

One validation path for both sources:
* ``build_structures`` reads a CSV/xlsx file (import page, CLI);
* ``write_structures`` validates a DataFrame (the demo generator) and writes it.
Both end in ``validate_structures`` which works on text cells and reports
French, located problems.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..store import NATURE_IMPORTE, LayerInfo, Store
from .common import (Built, Col, Problems, Table, _fr_num, _short, check_cells, code_column, commune_reference,
                     date_column, fold_codes, normalise_header, number_column, parse_bool, read_table,
                     report_duplicates, resolve_columns, text_column, year_in)

# type -> French label (documented in docs/IMPORTS.md)
TYPES = {
    "EAJE": "Établissement d'accueil du jeune enfant (crèche collective, multi-accueil)",
    "MICRO_CRECHE": "Micro-crèche (12 places au plus)",
    "CRECHE_FAMILIALE": "Crèche familiale (assistants maternels salariés d'une structure)",
    "CRECHE_PARENTALE": "Crèche parentale",
    "HALTE_GARDERIE": "Halte-garderie (accueil occasionnel)",
    "JARDIN_ENFANTS": "Jardin d'enfants",
    "CRECHE_ENTREPRISE": "Crèche d'entreprise ou inter-entreprises",
    "MAM": "Maison d'assistants maternels",
    "RPE": "Relais petite enfance (ex-RAM)",
}
TYPE_ALIASES = {
    "creche": "EAJE", "creche_collective": "EAJE", "multi_accueil": "EAJE", "multiaccueil": "EAJE",
    "eaje": "EAJE", "micro_creche": "MICRO_CRECHE", "microcreche": "MICRO_CRECHE", "mc": "MICRO_CRECHE",
    "creche_familiale": "CRECHE_FAMILIALE", "service_d_accueil_familial": "CRECHE_FAMILIALE",
    "creche_parentale": "CRECHE_PARENTALE", "halte_garderie": "HALTE_GARDERIE", "halte_garderie_": "HALTE_GARDERIE",
    "jardin_d_enfants": "JARDIN_ENFANTS", "jardin_enfants": "JARDIN_ENFANTS",
    "creche_d_entreprise": "CRECHE_ENTREPRISE", "creche_entreprise": "CRECHE_ENTREPRISE",
    "mam": "MAM", "maison_d_assistants_maternels": "MAM", "maison_d_assistantes_maternelles": "MAM",
    "rpe": "RPE", "ram": "RPE", "relais_petite_enfance": "RPE", "relais_assistants_maternels": "RPE",
}
MAX_PLACES = 1000          # one structure
MAX_PLACES_MICRO = 12      # micro-crèche (décret 2021-1131): warning above, not an error
MAX_ETP = 50.0
MAX_AM = 5000
# France incl. DROM: (lat_min, lat_max, lon_min, lon_max)
BOXES = {
    "métropole et Corse": (41.2, 51.2, -5.3, 9.7),
    "Guadeloupe": (15.8, 16.6, -61.9, -60.9),
    "Martinique": (14.3, 14.9, -61.3, -60.8),
    "Guyane": (2.0, 6.0, -54.7, -51.5),
    "La Réunion": (-21.5, -20.8, 55.1, 55.9),
    "Mayotte": (-13.1, -12.6, 44.9, 45.4),
}

STRUCT_COLS = [
    Col("code_insee", ("codgeo", "insee", "code_commune", "insee_com", "commune_insee", "code_insee_commune")),
    Col("type", ("type_structure", "type_de_structure", "categorie", "type_equipement", "nature")),
    Col("nom", ("nom_structure", "nom_de_la_structure", "raison_sociale", "denomination", "libelle")),
    Col("places", ("nb_places", "nombre_de_places", "capacite", "places_agreees", "nb_places_agreees",
                   "capacite_d_accueil")),
    Col("psu", ("financement_psu", "psu_oui_non", "prestation_de_service_unique", "beneficie_psu")),
    Col("gestion", ("mode_de_gestion", "type_gestion", "gestion_publique_privee", "statut", "type_de_gestion")),
    Col("date_ouverture", ("ouverture", "date_d_ouverture", "date_ouv", "debut")),
    Col("date_fermeture", ("fermeture", "date_de_fermeture", "date_ferm", "fin"), required=False),
    Col("latitude", ("lat", "y_wgs84", "coord_y"), required=False),
    Col("longitude", ("lon", "lng", "long", "x_wgs84", "coord_x"), required=False),
    Col("etp_animation", ("etp", "etp_animateur", "etp_animatrice", "etp_animation_rpe"), required=False),
    Col("nb_assistants_maternels", ("nb_am", "assistants_maternels", "nombre_d_assistants_maternels",
                                    "nb_assmat", "am_couverts"), required=False),
    Col("id", ("identifiant", "id_structure", "numero", "n_structure", "matricule"), required=False),
    Col("gestionnaire", ("nom_gestionnaire", "organisme_gestionnaire", "porteur"), required=False),
    Col("adresse", ("adresse_postale", "adresse_complete", "voie"), required=False),
]
LAYER_COLUMNS = ["id", "code_insee", "type", "nom", "places", "psu", "gestion", "date_ouverture", "date_fermeture",
                 "latitude", "longitude", "etp_animation", "nb_assistants_maternels", "gestionnaire", "adresse"]


def _gestion(v: str) -> str | None:
    s = normalise_header(v)
    if s in ("publique", "public", "pub", "collectivite", "commune", "epci", "intercommunal", "municipal",
             "municipale", "ccas", "cias"):
        return "publique"
    if s in ("privee", "prive", "priv", "associatif", "associative", "association", "entreprise",
             "privee_lucrative", "privee_non_lucrative", "prive_lucratif", "prive_non_lucratif", "mutualiste"):
        return "privee"
    return None


def _in_france(lat: float, lon: float) -> bool:
    return any(a <= lat <= b and c <= lon <= d for a, b, c, d in BOXES.values())


def validate_structures(table: Table, probs: Problems, store: Store) -> pd.DataFrame:
    m = resolve_columns(table, STRUCT_COLS, probs)
    check_cells(table, [m[c] for c in ("nom", "gestionnaire", "adresse", "id", "type", "gestion") if c in m], probs)
    lines = table.lines
    df = pd.DataFrame({"_ligne": lines})
    codes = code_column(table, m["code_insee"], probs)
    df["code_orig"] = codes
    # type
    types = []
    tlabel = table.label(m["type"])
    for i, v in enumerate(table.frame[m["type"]].tolist()):
        s = v.strip()
        t = s.upper() if s.upper() in TYPES else TYPE_ALIASES.get(normalise_header(s))
        if t is None:
            probs.error(f"type « {_short(s)} » inconnu — valeurs acceptées : {', '.join(TYPES)}.", lines[i], tlabel)
        types.append(t or "")
    df["type"] = types
    df["nom"] = text_column(table, m["nom"])
    for i, n in enumerate(df["nom"]):
        if not n:
            probs.error("nom de la structure manquant — renseignez-le.", lines[i], table.label(m["nom"]))
    # places
    places = number_column(table, m["places"], probs, minimum=0, maximum=MAX_PLACES, integer=True,
                           what="nombre de places", hint=" pour une seule structure")
    for i, (p, t) in enumerate(zip(places, types)):
        if np.isnan(p) and t != "RPE":
            probs.error("nombre de places manquant — renseignez-le (0 pour un RPE).", lines[i],
                        table.label(m["places"]))
        elif t == "MICRO_CRECHE" and p > MAX_PLACES_MICRO:
            probs.warn(f"micro-crèche de {int(p)} places (12 au plus depuis 2021) — vérifiez le type.", lines[i],
                       table.label(m["places"]))
    df["places"] = [0.0 if np.isnan(p) else p for p in places]
    # psu, gestion
    psu = []
    for i, v in enumerate(table.frame[m["psu"]].tolist()):
        b = parse_bool(v)
        if b is None:
            probs.error(f"valeur PSU « {_short(v)} » non reconnue — écrivez oui ou non.", lines[i],
                        table.label(m["psu"]))
        psu.append(bool(b))
    df["psu"] = psu
    gestion = []
    for i, v in enumerate(table.frame[m["gestion"]].tolist()):
        g = _gestion(v)
        if g is None:
            probs.error(f"gestion « {_short(v)} » non reconnue — écrivez publique ou privee.", lines[i],
                        table.label(m["gestion"]))
        gestion.append(g or "")
    df["gestion"] = gestion
    # dates
    opened = date_column(table, m["date_ouverture"], probs)
    closed = date_column(table, m["date_fermeture"], probs) if "date_fermeture" in m else [pd.NaT] * len(lines)
    for i, (o, c) in enumerate(zip(opened, closed)):
        if pd.isna(o) and not any(p.ligne == lines[i] and p.colonne == table.label(m["date_ouverture"])
                                  for p in probs.errors):
            probs.error("date d'ouverture manquante — renseignez-la (JJ/MM/AAAA).", lines[i],
                        table.label(m["date_ouverture"]))
        if not pd.isna(o) and not pd.isna(c) and c < o:
            probs.error(f"fermeture le {c:%d/%m/%Y} avant l'ouverture le {o:%d/%m/%Y} — corrigez l'une des deux "
                        "dates.", lines[i], table.label(m["date_fermeture"]))
    df["date_ouverture"] = pd.to_datetime(pd.Series(opened, dtype="datetime64[ns]"))
    df["date_fermeture"] = pd.to_datetime(pd.Series(closed, dtype="datetime64[ns]"))
    # coordinates
    lat = number_column(table, m["latitude"], probs, minimum=-90, maximum=90, what="latitude") \
        if "latitude" in m else [np.nan] * len(lines)
    lon = number_column(table, m["longitude"], probs, minimum=-180, maximum=180, what="longitude") \
        if "longitude" in m else [np.nan] * len(lines)
    for i, (a, o) in enumerate(zip(lat, lon)):
        if np.isnan(a) != np.isnan(o):
            probs.error("latitude et longitude vont ensemble — renseignez les deux ou aucune.", lines[i],
                        table.label(m["latitude"] if np.isnan(a) else m["longitude"]))
        elif not np.isnan(a) and -90 <= a <= 90 and -180 <= o <= 180 and not _in_france(a, o):
            probs.error(f"coordonnées ({_fr_num(a)} ; {_fr_num(o)}) hors de France (métropole et DROM) — vérifiez "
                        "l'ordre latitude/longitude (WGS 84, degrés décimaux).", lines[i], table.label(m["latitude"]))
    df["latitude"], df["longitude"] = lat, lon
    # RPE figures
    etp = number_column(table, m["etp_animation"], probs, minimum=0, maximum=MAX_ETP, what="ETP d'animation") \
        if "etp_animation" in m else [np.nan] * len(lines)
    am = number_column(table, m["nb_assistants_maternels"], probs, minimum=0, maximum=MAX_AM, integer=True,
                       what="nombre d'assistants maternels") \
        if "nb_assistants_maternels" in m else [np.nan] * len(lines)
    for i, t in enumerate(types):
        if t != "RPE" and (not np.isnan(etp[i]) or not np.isnan(am[i])):
            etp[i], am[i] = np.nan, np.nan  # only meaningful for an RPE
        if t == "RPE" and np.isnan(etp[i]):
            probs.warn("RPE sans ETP d'animation : le calcul de l'objectif RPE l'ignorera.", lines[i],
                       table.label(m["etp_animation"]) if "etp_animation" in m else "etp_animation")
    df["etp_animation"], df["nb_assistants_maternels"] = etp, am
    df["gestionnaire"] = text_column(table, m.get("gestionnaire"))
    df["adresse"] = text_column(table, m.get("adresse"))
    df["id"] = text_column(table, m.get("id"))
    probs.raise_if_errors()
    # communes
    clabel = table.label(m["code_insee"])
    df["code_insee"] = fold_codes(df["code_orig"].tolist(), lines, probs, clabel)
    known = set(commune_reference(store)["code_insee"])
    keep = []
    for code, line in zip(df["code_insee"], df["_ligne"]):
        ok = code in known
        if not ok:
            probs.warn(f"code INSEE « {code} » inconnu du référentiel (COG 2025) : structure ignorée — "
                       "corrigez le code (commune fusionnée ?).", int(line), clabel)
        keep.append(ok)
    df = df[keep].reset_index(drop=True)
    # ids: given ones must be unique; missing ones are generated from the content (stable across imports)
    idlabel = table.label(m["id"]) if "id" in m else "id"
    given = df["id"] != ""
    dup_id = df[given & df["id"].duplicated(keep=False)]
    for ident, grp in dup_id.groupby("id"):
        probs.error(f"identifiant « {ident} » utilisé plusieurs fois (lignes "
                    f"{', '.join(str(int(x)) for x in grp['_ligne'])}) — chaque structure doit avoir le sien.",
                    int(grp["_ligne"].iloc[-1]), idlabel)
    # exact duplicate structures (same commune, type, name, places, opening) → warning, dropped
    key = ["code_insee", "type", "nom", "places", "date_ouverture"]
    exact = df.duplicated(key + ["psu", "gestion"], keep="first") & ~given
    for _, r in df[exact].iterrows():
        probs.warn(f"structure en double « {_short(r['nom'])} » ({r['code_insee']}) : ligne ignorée.",
                   int(r["_ligne"]), table.label(m["nom"]))
    df = df[~exact].reset_index(drop=True)
    df = report_duplicates(df, ["code_insee", "type", "nom", "date_ouverture"], [], "_ligne", probs,
                           table.label(m["nom"]), "structure")
    probs.raise_if_errors()
    gen = []
    for _, r in df.iterrows():
        if r["id"]:
            gen.append(r["id"])
            continue
        h = hashlib.sha1(f"{r['code_insee']}|{r['type']}|{r['nom']}|{r['date_ouverture']}".encode()).hexdigest()[:8]
        gen.append(f"S-{r['code_insee']}-{h.upper()}")
    df["id"] = gen
    return _typed(df)


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "id": df["id"].astype(str), "code_insee": df["code_insee"].astype(str), "type": df["type"].astype(str),
        "nom": df["nom"].astype(str), "places": df["places"].astype("int64"), "psu": df["psu"].astype(bool),
        "gestion": df["gestion"].astype(str),
        "date_ouverture": pd.to_datetime(df["date_ouverture"]).astype("datetime64[ns]"),
        "date_fermeture": pd.to_datetime(df["date_fermeture"]).astype("datetime64[ns]"),
        "latitude": df["latitude"].astype(float), "longitude": df["longitude"].astype(float),
        "etp_animation": df["etp_animation"].astype(float),
        "nb_assistants_maternels": df["nb_assistants_maternels"].astype(float),
        "gestionnaire": df["gestionnaire"].astype(str), "adresse": df["adresse"].astype(str),
    })
    return out.sort_values(["code_insee", "type", "nom"]).reset_index(drop=True)


def _notes(out: pd.DataFrame) -> list[str]:
    counts = out["type"].value_counts()
    parts = [f"{k} : {int(v)}" for k, v in counts.items()]
    ouvertes = out["date_fermeture"].isna()
    return [f"{len(out)} structure(s) ({', '.join(parts)}) ; {int(out.loc[ouvertes, 'places'].sum())} places dans "
            "les structures ouvertes."]


def build_structures(path: Path, fichier: str, store: Store, probs: Problems, publisher: str) -> Built:
    table = read_table(path, fichier, STRUCT_COLS, probs)
    out = validate_structures(table, probs, store)
    y = year_in(fichier)
    vintage = f"liste {y}" if y else f"liste importée le {pd.Timestamp.now():%d/%m/%Y}"
    info = LayerInfo(name="", rows=0, nature=NATURE_IMPORTE, vintage=vintage, source=f"{fichier} — {publisher}",
                     label="Structures d'accueil et RPE (liste de la Caf)")
    return Built({"structures": (out, info)}, vintage, len(out), table.encoding, _notes(out))


def frame_to_table(frame: pd.DataFrame, fichier: str) -> Table:
    """A DataFrame (demo generator) as a text table, so that it goes through the same checks."""
    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
            return ""
        if isinstance(v, (bool, np.bool_)):
            return "oui" if v else "non"
        if isinstance(v, pd.Timestamp):
            return "" if pd.isna(v) else v.strftime("%Y-%m-%d")
        if isinstance(v, (float, np.floating)):
            return str(int(v)) if float(v).is_integer() else repr(float(v))
        return str(v)

    cols = {normalise_header(c): c for c in frame.columns}
    data = pd.DataFrame({n: [cell(v) for v in frame[c].tolist()] for n, c in cols.items()}, dtype=object)
    return Table(frame=data, headers={n: str(c) for n, c in cols.items()}, fichier=fichier,
                 lines=list(range(2, len(frame) + 2)))


def write_structures(frame: pd.DataFrame, store: Store, nature: str, source: str, vintage: str,
                     extra: dict | None = None, label: str | None = None):
    """Validate a DataFrame of structures with the import rules, then write the ``structures`` layer.

    Raises ``ImportValidationError`` (store untouched) when a row is invalid.
    Returns the ``ImportReport``.
    """
    from . import ImportReport

    fichier = "structures (tableau)"
    probs = Problems(fichier)
    table = frame_to_table(frame, fichier)
    out = validate_structures(table, probs, store)
    from ..store import DEMO_LABEL, NATURE_FICTIF

    default_label = "Structures d'accueil et RPE" + (f" — {DEMO_LABEL}" if nature == NATURE_FICTIF else "")
    info = LayerInfo(name="structures", rows=0, nature=nature, vintage=vintage, source=source,
                     label=label or default_label, extra=extra)
    store.write_layers({"structures": (out, info)})
    return ImportReport(kind="structures", fichier=fichier, layers=["structures"], rows=len(out),
                        warnings=probs.warnings, vintage=vintage, source=source, notes=_notes(out))
