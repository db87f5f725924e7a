"""Helpers shared by the SDSF pack and the CTG one-pager: sources table, store access."""
from __future__ import annotations

import re

from .document import Colonne, Tableau

NATURES = {"réel": "référentiel officiel", "importé": "fichier officiel importé", "fictif": "fictif (démonstration)",
           "estimé": "estimation"}
LIBELLES_COUCHES = {
    "communes": "Communes (contours, populations légales)",
    "epci": "EPCI",
    "enfants_moins_3": "Enfants de moins de 3 ans",
    "structures": "Structures (crèches, MAM, RPE)",
    "qpv": "Quartiers prioritaires (QPV)",
    "frr": "France Ruralités Revitalisation (FRR)",
    "zrr": "Zones de revitalisation rurale (ZRR, historique)",
    "grille_densite": "Grille communale de densité",
    "caf_couverture_com": "Taux de couverture Caf (communes)",
    "caf_couverture_epci": "Taux de couverture Caf (EPCI)",
    "caf_couverture_dep": "Taux de couverture Caf (départements)",
    "caf_couverture_nat": "Taux de couverture Caf (France)",
}


def sources_table(store, layers) -> Tableau:
    """One row per layer: label, nature, vintage, source (from ``Store.info``)."""
    rows = []
    for name in layers:
        info = store.info(name)
        if info is None:
            rows.append({"donnees": LIBELLES_COUCHES.get(name, name), "nature": "absente",
                         "millesime": "", "source": "donnée non disponible (couche non importée)"})
            continue
        rows.append({"donnees": LIBELLES_COUCHES.get(name, info.label or name),
                     "nature": NATURES.get(info.nature, info.nature), "millesime": info.vintage,
                     "source": info.source})
    return Tableau("Sources et millésimes des données", [
        Colonne("donnees", "Données"), Colonne("nature", "Nature"), Colonne("millesime", "Millésime"),
        Colonne("source", "Source", largeur=90)], rows, nom_feuille="Sources")


def is_fictif(store, name: str = "structures") -> bool:
    info = store.info(name)
    return info is not None and info.nature == "fictif"


def slug(s: str) -> str:
    import unicodedata

    t = unicodedata.normalize("NFKD", str(s)).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "_", t).strip("_").lower()[:60] or "document"
