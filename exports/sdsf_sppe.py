"""SDSF pack, service public de la petite enfance: the authorities that must have a schéma and an RPE,
and the map and table of the zones en tension (part of :func:`exports.sdsf.build_sdsf_document`)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .document import Colonne, Section, Tableau



def sections_sppe(store, inputs, dep: str, nom_dep: str, today: dt.date, fictif: bool, geoms,
                  src_line: str) -> list[Section]:
    """Service public de la petite enfance: the authorities that must have a schéma and an RPE and the
    zones en tension (the same figures as the SPPE page and ``python -m planning sppe``)."""
    from planning.cli_sppe import calculer
    from planning.sppe import NOTE_INFORMATION, STATUTS_SCHEMA, libelle_palier
    from planning.sppe_territoire import zones_departement

    res = calculer(store, ("departement", dep), today)
    r = res.resume()
    t = res.table[res.table["palier"] == "10000"]
    rows = [{"nom": x.nom, "population": x.population, "rpe": x.rpe_statut,
             "schema": STATUTS_SCHEMA.get(x.schema["statut"], "non renseigné"), "etat": x.schema_statut}
            for x in t.itertuples()]
    tab = Tableau(f"Autorités de {libelle_palier('10000', res.seuils)} — {nom_dep}", [
        Colonne("nom", "Autorité"), Colonne("population", "Population", "entier"), Colonne("rpe", "Obligation RPE"),
        Colonne("schema", "Schéma pluriannuel"), Colonne("etat", "Obligation schéma")], rows,
        nom_feuille="SPPE autorités")
    nr = r["obligations_non_remplies"]
    sppe = Section(
        f"Service public de la petite enfance — {nom_dep}", tableau=tab,
        message=f"{nr['rpe']} RPE et {nr['schema']} schéma(s) manquants parmi {r['par_palier']['10000']} autorités de "
                f"{libelle_palier('10000', res.seuils)}",
        points=[f"{r['autorites']} autorités organisatrices ({r['par_type']['epci']} EPCI compétents) ; "
                f"{r['par_palier']['10000']} de {libelle_palier('10000', res.seuils)}, {r['par_palier']['3500']} de "
                f"{libelle_palier('3500', res.seuils)}.",
                f"RPE situé dans le territoire : {nr['rpe']} obligation(s) non remplie(s) ; "
                f"{r['donnees_manquantes']['rpe']} sans liste de structures.",
                f"Schéma pluriannuel : {nr['schema']} non adopté(s) ; {r['donnees_manquantes']['schema']} statut(s) "
                "non renseigné(s).", NOTE_INFORMATION],
        notes=["Loi 2023-1196, art. 17 ; CASF L.214-1-3 : seuils en paramètres datés (page Barèmes).", src_line])
    return [sppe, _section_zones(store, inputs, dep, nom_dep, today, fictif, geoms, src_line, zones_departement)]


def _section_zones(store, inputs, dep, nom_dep, today, fictif, geoms, src_line, zones_departement) -> Section:
    from geo.classes import categories
    from geo.static_maps import static_choropleth_png

    pts = store.read("communes", columns=["code_insee", "lon", "lat"])
    z = zones_departement(inputs, pts, today.year, dep)
    c = z.communes
    cat = c["zone_en_tension"].map(lambda v: np.nan if pd.isna(v) else float(bool(v)))
    g = geoms.merge(pd.DataFrame({"code": c["code"], "cat": cat}), left_on="code_insee", right_on="code", how="left")
    cls = categories(g["cat"], ("Pas en tension", "Zone en tension"), ("#CFE3F3", "#D55E00"))
    png = static_choropleth_png(g, "cat", cls, f"Zones en tension — {nom_dep}", src_line, legend_title="Commune",
                                subtitle="offre insuffisante ou accès difficile (décret 2025-253)", fictif=fictif,
                                figsize=(12.5, 6.4), dpi=110)
    zz = c[c["zone_en_tension"].fillna(False).astype(bool)]
    tab = Tableau.depuis_frame(f"Zones en tension — {nom_dep}", zz, [
        Colonne("code", "Code INSEE", "code"), Colonne("nom", "Commune"), Colonne("motifs", "Motifs", largeur=80)],
        nom_feuille="Zones en tension")
    return Section(f"Zones en tension ({today.year})", image=png, tableau=tab,
                   image_alt=f"Carte des communes de {nom_dep} : zones en tension en orange",
                   message=f"{len(zz)} communes en tension sur {len(c)} : offre insuffisante ou accès difficile",
                   notes=z.notes + [src_line])

