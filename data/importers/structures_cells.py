"""What one cell of a structure list may say: types, gestion, coordinates, vintage; the columns.

The vocabulary of :mod:`data.importers.structures` (which re-exports every public name here): type
labels and the aliases of the open-data lists, plausibility limits, the boxes of France incl. DROM,
the column names, and the parsers of one cell.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .common import parse_date, parse_number, year_in
from .problems import Problems, shorten
from .table import Col, normalise_header, Table


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
    # wording of the open-data lists published by départements and cities
    "petite_creche": "EAJE", "grande_creche": "EAJE", "creche_collective_municipale": "EAJE",
    "multi_accueil_collectif": "EAJE", "multi_accueil_collectif_et_familial": "EAJE",
    "etablissement_multi_accueil": "EAJE", "structure_multi_accueil": "EAJE",
    "accueil_familial": "CRECHE_FAMILIALE", "multi_accueil_familial": "CRECHE_FAMILIALE",
    "creche_familliale": "CRECHE_FAMILIALE", "micro_creche_paje": "MICRO_CRECHE",
    "jardin_d_eveil": "JARDIN_ENFANTS", "halte_garderie_itinerante": "HALTE_GARDERIE",
    "creche_inter_entreprises": "CRECHE_ENTREPRISE", "creche_interentreprises": "CRECHE_ENTREPRISE",
}
# Fallback on words, in this order ("Multi-accueil collectif et familial" is collective first).
TYPE_KEYWORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("micro",), "MICRO_CRECHE"), (("parental",), "CRECHE_PARENTALE"), (("entreprise",), "CRECHE_ENTREPRISE"),
    (("halte",), "HALTE_GARDERIE"), (("jardin",), "JARDIN_ENFANTS"), (("relais",), "RPE"),
    (("maison", "assistant"), "MAM"), (("multi", "accueil"), "EAJE"), (("familial",), "CRECHE_FAMILIALE"),
    (("creche",), "EAJE"),
)
MAX_PLACES_IMPORT = 1000          # one structure
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
    Col("code_insee", ("codgeo", "insee", "code_commune", "insee_com", "commune_insee", "code_insee_commune",
                       "code_insee_de_la_commune", "cog")),
    Col("type", ("type_structure", "type_de_structure", "categorie", "type_equipement", "nature", "type_daccueil",
                 "type_d_accueil", "type_etablissement", "type_d_etablissement", "type_de_l_etablissement",
                 "categorie_de_structure", "type_de_structure_d_accueil")),
    Col("nom", ("nom_structure", "nom_de_la_structure", "raison_sociale", "denomination", "libelle",
                "nom_de_l_etablissement", "nom_etablissement", "nom_equipement")),
    Col("places", ("nb_places", "nombre_de_places", "capacite", "places_agreees", "nb_places_agreees",
                   "capacite_d_accueil", "nbr_place", "nbr_places", "capacite_totale", "capacite_agreee",
                   "nombre_de_places_agreees", "places_autorisees", "capacite_autorisee")),
    Col("psu", ("financement_psu", "psu_oui_non", "prestation_de_service_unique", "beneficie_psu"), required=False),
    Col("gestion", ("mode_de_gestion", "type_gestion", "gestion_publique_privee", "statut", "type_de_gestion",
                    "mode_gestion", "statut_du_gestionnaire", "statut_gestionnaire")),
    Col("date_ouverture", ("ouverture", "date_d_ouverture", "date_ouv", "debut"), required=False),
    Col("date_fermeture", ("fermeture", "date_de_fermeture", "date_ferm", "fin"), required=False),
    Col("latitude", ("lat", "y_wgs84", "coord_y"), required=False),
    Col("longitude", ("lon", "lng", "long", "x_wgs84", "coord_x"), required=False),
    # Opendatasoft exports: "lat, lon" text (geo_point_2d, label "Geo Point") and a GeoJSON geometry
    Col("geo_point", ("geo_point_2d", "geopoint", "geo_point_2d_", "coordonnees", "coordonnees_gps",
                      "geolocalisation", "point_geo", "wgs84"), required=False),
    Col("geo_shape", ("geoshape", "geometrie", "geometry", "geojson", "geom"), required=False),
    Col("etp_animation", ("etp", "etp_animateur", "etp_animatrice", "etp_animation_rpe"), required=False),
    Col("nb_assistants_maternels", ("nb_am", "assistants_maternels", "nombre_d_assistants_maternels",
                                    "nb_assmat", "am_couverts"), required=False),
    Col("id", ("identifiant", "id_structure", "numero", "n_structure", "matricule"), required=False),
    Col("gestionnaire", ("nom_gestionnaire", "organisme_gestionnaire", "porteur", "nom_du_gestionnaire"),
        required=False),
    Col("adresse", ("adresse_postale", "adresse_complete", "voie", "adresse_de_l_etablissement"), required=False),
]
# Columns compared to tell an exact duplicate row from two versions of one structure.
COMPARED = ["places", "psu", "gestion", "date_fermeture", "latitude", "longitude", "etp_animation",
            "nb_assistants_maternels", "gestionnaire", "adresse", "type_libelle"]


def parse_gestion(v: str) -> str | None:
    s = normalise_header(v)
    if s in ("publique", "public", "pub", "collectivite", "commune", "epci", "intercommunal", "municipal",
             "municipale", "ccas", "cias", "public_autre", "autre_public", "departement", "departemental",
             "conseil_departemental", "hospitalier", "hopital", "etablissement_public", "intercommunalite",
             "communaute_de_communes", "communaute_d_agglomeration", "syndicat_intercommunal", "etat",
             "public_hospitalier", "collectivite_territoriale", "regie", "regie_municipale"):
        return "publique"
    if s in ("privee", "prive", "priv", "associatif", "associative", "association", "entreprise",
             "privee_lucrative", "privee_non_lucrative", "prive_lucratif", "prive_non_lucratif", "mutualiste",
             "mutuelle", "societe", "societe_privee", "prive_commercial", "prive_associatif", "entreprise_privee",
             "parental", "parentale", "association_parentale", "cooperative", "fondation", "prive_autre"):
        return "privee"
    return None


def parse_structure_type(v: str) -> str | None:
    s = v.strip()
    if s.upper() in TYPES:
        return s.upper()
    n = normalise_header(s)
    if n in TYPE_ALIASES:
        return TYPE_ALIASES[n]
    if not n:
        return None
    words = n.split("_")
    for parts, t in TYPE_KEYWORDS:
        if all(any(w.startswith(p) for w in words) for p in parts):
            return t
    return None


def parse_millesime(value: object) -> pd.Timestamp:
    """``2024`` → 1 January 2024; ``2024-09-01`` / ``01/09/2024`` → that day.  ValueError in French."""
    s = str(value).strip()
    if re.fullmatch(r"(19|20)\d{2}", s):
        return pd.Timestamp(int(s), 1, 1)
    d = parse_date(s)
    if d is None or pd.isna(d):
        raise ValueError(f"millésime « {s} » illisible — écrivez une année (2024) ou une date (JJ/MM/AAAA).")
    return pd.Timestamp(d).normalize()


def default_millesime(fichier: str, path: Path | None = None) -> tuple[pd.Timestamp, str]:
    """Vintage of a list without opening dates: the year in the file name, else the file's date."""
    y = year_in(fichier)
    if y:
        return pd.Timestamp(y, 1, 1), f"année {y} lue dans le nom du fichier"
    try:
        ts = pd.Timestamp(datetime.fromtimestamp(path.stat().st_mtime)).normalize() if path else None
    except OSError:
        ts = None
    if ts is None:
        ts = pd.Timestamp.now().normalize()
    return ts, f"date du fichier ({ts:%d/%m/%Y})"


def _looks_like_data(cell: str) -> bool:
    s = cell.strip()
    if not s:
        return False
    if re.fullmatch(r"(2[ABab]|\d{2})\d{3}", s):   # an INSEE code or a postcode
        return True
    if parse_number(s) not in (None,) and s.lower() not in ("nan", "na", "s", "-"):
        x = parse_number(s)
        return x is not None and not np.isnan(x)
    d = parse_date(s)
    return d is not None and not pd.isna(d)


def headerless(table: Table) -> list[str]:
    """Cells of the header row that look like data (codes, numbers, dates): a file without header."""
    return [w for w in table.headers.values() if _looks_like_data(w)]


def parse_coordinates(table: Table, col: str, probs: Problems, geojson: bool) -> tuple[list[float], list[float]]:
    """(lat, lon) from a « lat, lon » text cell (geo_point_2d) or a GeoJSON Point (geo_shape)."""
    lat: list[float] = []
    lon: list[float] = []
    label = table.label(col)
    for i, v in enumerate(table.frame[col].tolist()):
        s = v.strip()
        a = o = float("nan")
        if s:
            try:
                if geojson or s.startswith("{"):
                    g = json.loads(s)
                    if not isinstance(g, dict) or g.get("type") != "Point":
                        raise ValueError("not a point")
                    o, a = (float(x) for x in g["coordinates"][:2])
                else:
                    parts = [p for p in re.split(r"[,;\s]+", s.strip("[]() ")) if p]
                    if len(parts) != 2:
                        raise ValueError("two numbers")
                    a, o = float(parts[0]), float(parts[1])
                if not (np.isfinite(a) and np.isfinite(o)):
                    raise ValueError("finite")
            except (ValueError, TypeError, KeyError, IndexError):
                what = "un point GeoJSON {\"type\": \"Point\", \"coordinates\": [lon, lat]}" if geojson \
                    else "« latitude, longitude » en degrés décimaux (ex. 48.9244, 2.2530)"
                probs.error(f"coordonnées « {shorten(s)} » illisibles — attendu : {what}.", table.lines[i], label)
                a = o = float("nan")
        lat.append(a)
        lon.append(o)
    return lat, lon


def in_france(lat: float, lon: float) -> bool:
    return any(a <= lat <= b and c <= lon <= d for a, b, c, d in BOXES.values())