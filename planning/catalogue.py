"""The indicator catalogue: what each indicator is (label, unit, definition, layers, COG target),
the parameters it reads, and the French source line and legend a page or a document prints with it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from .cnaf import enfants_au_31_decembre
from .entrees import LAYER_NAMES_FR, CoverageInputs
from .formats import NA_LABEL, fr_ratio
from .parametres import Baremes, ParametreAbsent
from .stock import psu_non_renseigne


@dataclass(frozen=True)
class Indicateur:
    code: str
    label: str
    unite: str
    description: str
    higher_is_better: bool | None = None
    format: str = "nombre"          # nombre | taux (per 100) | ratio (0-1) | texte | booleen
    couches: tuple[str, ...] = ()   # layers it is computed from (for the source line)
    cible: str | None = None        # parameter holding the COG target, when there is one


INDICATEURS: dict[str, Indicateur] = {i.code: i for i in [
    Indicateur("taux_eaje", "Places d'EAJE pour 100 enfants de moins de 3 ans",
               "places pour 100 enfants de moins de 3 ans",
               "Places en crèche (EAJE collectifs et familiaux, micro-crèches comprises, PSU et hors PSU) "
               "ouvertes au 31 décembre de l'année, pour 100 enfants de moins de 3 ans. Les places en MAM "
               "et chez les assistants maternels ne sont pas comptées : ce n'est pas le taux de couverture "
               "global de la Caf.", True, "taux", ("structures", "enfants_moins_3")),
    Indicateur("taux_eaje_psu", "Places d'EAJE financées par la PSU pour 100 enfants de moins de 3 ans",
               "places pour 100 enfants de moins de 3 ans",
               "Places d'EAJE sous prestation de service unique (PSU) ouvertes au 31 décembre, "
               "pour 100 enfants de moins de 3 ans.", True, "taux", ("structures", "enfants_moins_3")),
    Indicateur("taux_eaje_hors_psu", "Places d'EAJE hors PSU pour 100 enfants de moins de 3 ans",
               "places pour 100 enfants de moins de 3 ans",
               "Places d'EAJE non financées par la PSU (micro-crèches PAJE, crèches d'entreprise…) ouvertes "
               "au 31 décembre, pour 100 enfants de moins de 3 ans.", True, "taux",
               ("structures", "enfants_moins_3")),
    Indicateur("places_eaje", "Places d'EAJE", "places",
               "Places d'EAJE (PSU et hors PSU, micro-crèches comprises) ouvertes au 31 décembre ; "
               "MAM non comprises.", True, "nombre", ("structures",)),
    Indicateur("places_psu", "Places d'EAJE en PSU", "places",
               "Places d'EAJE financées par la PSU ouvertes au 31 décembre.", True, "nombre", ("structures",)),
    Indicateur("places_hors_psu", "Places d'EAJE hors PSU", "places",
               "Places d'EAJE non financées par la PSU ouvertes au 31 décembre.", True, "nombre", ("structures",)),
    Indicateur("places_psu_non_renseigne", "Places d'EAJE au financement PSU « non renseigné »", "places",
               "Places d'EAJE ouvertes au 31 décembre dont la liste des structures ne dit pas si elles sont "
               "financées par la PSU (listes open data des départements et des villes) : comptées dans les places "
               "d'EAJE, ni en PSU ni hors PSU — le financement n'est jamais deviné.", None, "nombre",
               ("structures",)),
    Indicateur("places_mam", "Places en MAM", "places",
               "Places en maisons d'assistants maternels (MAM) ouvertes au 31 décembre : comptées à part, "
               "ce ne sont pas des places d'EAJE.", True, "nombre", ("structures",)),
    Indicateur("enfants_moins_3", "Enfants de moins de 3 ans", "enfants", "Enfants de 0 à 2 ans révolus.",
               None, "nombre", ("enfants_moins_3",)),
    Indicateur("enfants_par_place", "Enfants de moins de 3 ans par place d'EAJE",
               "enfants de moins de 3 ans par place d'EAJE",
               "Lecture « désert de garde » du Center for American Progress (repère extérieur, pas une "
               "norme française) : plus de 3 enfants par place, ou aucune place pour un nombre d'enfants "
               "au moins égal au seuil retenu. Seules les places d'EAJE sont comptées (ni assistants maternels "
               "ni MAM) : cette lecture surestime les déserts.", False, "nombre", ("structures", "enfants_moins_3")),
    Indicateur("desert", "« Désert de garde » (lecture Center for American Progress)", "oui / non",
               "Plus de 3 enfants de moins de 3 ans par place d'EAJE, ou aucune place d'EAJE avec au moins "
               "le nombre d'enfants retenu (repère du Center for American Progress, à titre indicatif).",
               False, "booleen", ("structures", "enfants_moins_3")),
    Indicateur("nb_rpe", "Relais petite enfance (RPE) situés dans la commune", "RPE",
               "Nombre de RPE ouverts au 31 décembre dont l'adresse est dans la commune (un RPE "
               "intercommunal est compté dans sa commune d'implantation).", True, "nombre", ("structures",)),
    Indicateur("am_par_etp", "Assistants maternels par ETP d'animation de RPE",
               "assistants maternels par ETP d'animation",
               "Somme des assistants maternels du ressort des RPE divisée par la somme de leurs ETP "
               "d'animation (RPE ouverts au 31 décembre ; RPE sans ETP ou sans effectif renseigné exclus). "
               "Cible COG-01-10.", False, "nombre", ("structures",), "objectifs_cog.assistants_maternels_par_etp_rpe"),
    Indicateur("txcouv_caf", "Taux de couverture global (Caf)", "places pour 100 enfants de moins de 3 ans",
               "Capacité théorique d'accueil (EAJE, assistants maternels, salariés à domicile, "
               "préscolarisation) pour 100 enfants de moins de 3 ans, publiée par la Cnaf (data.caf.fr).",
               True, "taux", ("caf_couverture_com",)),
    # Published by the Cnaf (data.caf.fr): the latest year on or before the year asked, shown with its year
    Indicateur("txcouv_caf_eaje", "Taux de couverture EAJE publié (Caf)", "places pour 100 enfants de moins de 3 ans",
               "Places en EAJE (PSU et hors PSU, micro-crèches Paje comprises) pour 100 enfants de moins de 3 ans, "
               "publiées par la Cnaf (data.caf.fr).", True, "taux", ("caf_couverture_com",)),
    Indicateur("txcouv_caf_psu", "Taux de couverture EAJE PSU publié (Caf)",
               "places pour 100 enfants de moins de 3 ans",
               "Places en EAJE financés par la PSU pour 100 enfants de moins de 3 ans (Cnaf, data.caf.fr).", True,
               "taux", ("caf_couverture_com",)),
    Indicateur("txcouv_caf_hors_psu", "Taux de couverture EAJE hors PSU publié (Caf)",
               "places pour 100 enfants de moins de 3 ans",
               "Places en EAJE hors PSU (micro-crèches Paje, crèches d'entreprise…) pour 100 enfants de moins de "
               "3 ans (Cnaf, data.caf.fr).", True, "taux", ("caf_couverture_com",)),
    Indicateur("txcouv_caf_am", "Taux de couverture assistants maternels publié (Caf)",
               "places pour 100 enfants de moins de 3 ans",
               "Places chez les assistants maternels accueillant effectivement un enfant, pour 100 enfants de moins "
               "de 3 ans (Cnaf, data.caf.fr).", True, "taux", ("caf_couverture_com",)),
    Indicateur("txcouv_caf_prescol", "Taux de couverture préscolarisation publié (Caf)",
               "places pour 100 enfants de moins de 3 ans",
               "Enfants de 2 ans scolarisés, pour 100 enfants de moins de 3 ans (Cnaf, data.caf.fr).", True, "taux",
               ("caf_couverture_com",)),
    Indicateur("txcouv_caf_gad", "Taux de couverture salariés à domicile publié (Caf)",
               "places pour 100 enfants de moins de 3 ans",
               "Garde par un salarié à domicile, pour 100 enfants de moins de 3 ans (Cnaf, data.caf.fr).", True,
               "taux", ("caf_couverture_com",)),
    Indicateur("ecart_eaje_caf", "Écart entre le taux EAJE calculé et le taux EAJE publié par la Caf",
               "points (places pour 100 enfants de moins de 3 ans)",
               "Taux EAJE calculé à partir de la liste des structures moins le taux EAJE publié par la Cnaf pour la "
               "même année (vide quand la Cnaf n'a rien publié pour cette année). Un écart signale des structures "
               "absentes ou en trop dans la liste, ou une autre estimation des enfants de moins de 3 ans.", None,
               "nombre", ("structures", "enfants_moins_3", "caf_couverture_com")),
    Indicateur("naissances", "Naissances domiciliées", "naissances dans l'année",
               "Naissances vivantes de l'année dont la mère est domiciliée dans le territoire (INSEE, état civil). "
               "Année la plus récente disponible quand l'année demandée n'est pas encore publiée.", None, "nombre",
               ("naissances",)),
    Indicateur("variation_nette_psu", "Variation nette des places d'EAJE en PSU", "places par an",
               "Places PSU créées moins places PSU fermées dans l'année (COG-01-01), avec la part des "
               "communes comptant un QPV et des communes FRR / FRR+ / ancienne ZRR en transition ou ZRR.",
               True, "nombre", ("structures",), "objectifs_cog.variation_nette_places_psu"),
    Indicateur("part_villes_10000_avec_rpe",
               "Part des communes au-dessus du seuil légal de population disposant d'un RPE dans la commune", "%",
               "COG-01-11 et obligation légale au 1er janvier 2026 : un RPE intercommunal situé dans une "
               "autre commune ne compte pas.", True, "ratio", ("structures", "communes"),
               "objectifs_cog.part_villes_10000_avec_rpe"),
]}


PSU_INDICATEURS = ("taux_eaje_psu", "taux_eaje_hors_psu", "places_psu", "places_hors_psu", "variation_nette_psu",
                   "places_psu_non_renseigne")


def parametre(name: str, annee: int, baremes: Baremes | None = None) -> tuple[Any, str, str]:
    """(value, source, confiance) of a parameter in force in ``annee``.

    Before a parameter's first date, its first value is used (a threshold set by a law is
    the same before it applies).  Every parameter is declared in ``planning/baremes``.
    """
    b = baremes or Baremes()
    try:
        p = b.get(name, annee)
        return p.valeur, p.source, p.confiance
    except ParametreAbsent:
        d = b.definition(name)
        _depuis, valeur, source, conf = d.valeurs[0]
        return valeur, source, conf


def cible_cog(name: str, annee: int, baremes: Baremes | None = None) -> float | None:
    """Target of a COG indicator for ``annee``, or None outside the convention's years."""
    b = baremes or Baremes()
    try:
        return float(b.value(name, annee))
    except ParametreAbsent:
        return None


def reperes_couverture(annee: int, baremes: Baremes | None = None) -> tuple[float, float]:
    """The two national coverage references of the COG (low, national), in places per 100 children
    under 3, from ``objectifs_cog.taux_couverture_reference`` (50 and 60 in 2025)."""
    ref = (baremes or Baremes()).value("objectifs_cog.taux_couverture_reference", annee)
    return float(ref["seuil_bas"]), float(ref["national"])


def libelle_cibles(name: str, annees: Iterable[int], baremes: Baremes | None = None) -> str:
    """The targets of a ratio COG indicator over ``annees``, years of equal value grouped, from the
    dated parameter: « 90 % (2023), 95 % (2024), 100 % (2025-2027) »."""
    runs: list[list] = []  # [value, first year, last year]
    for y in sorted(annees):
        v = cible_cog(name, y, baremes)
        if v is None:
            continue
        if runs and runs[-1][0] == v and runs[-1][2] == y - 1:
            runs[-1][2] = y
        else:
            runs.append([v, y, y])
    return ", ".join(f"{fr_ratio(v, 0)} ({a}-{b})" if b > a else f"{fr_ratio(v, 0)} ({a})" for v, a, b in runs)


def sources(inputs: CoverageInputs) -> dict[str, str]:
    """French provenance line of every layer the indicators use."""
    names = ["structures", "enfants_moins_3", "communes", "qpv", "frr", "zrr", "grille_densite",
             "caf_couverture_com", "caf_couverture_epci", "caf_couverture_dep", "caf_couverture_reg",
             "caf_couverture_nat", "naissances"]
    return {n: inputs.prov(n).libelle for n in names}


def description(code: str, inputs: CoverageInputs | None = None, annee: int | None = None) -> dict[str, Any]:
    """What a page prints under a map or a table: label, unit, year, definition, source, target."""
    ind = INDICATEURS[code]
    out: dict[str, Any] = {
        "code": ind.code, "label": ind.label, "unite": ind.unite, "description": ind.description,
        "higher_is_better": ind.higher_is_better, "format": ind.format, "annee": annee,
    }
    if inputs is not None and (code.startswith("txcouv_caf") or code == "ecart_eaje_caf"):
        out["source"] = source_caf(inputs, computed=code == "ecart_eaje_caf")
        out["fictif"] = code == "ecart_eaje_caf" and inputs.prov("structures").nature == "fictif"
        out["estimation"] = False
    elif inputs is not None:
        out["source"] = " ; ".join(inputs.prov(layer).libelle for layer in ind.couches)
        natures = {inputs.prov(layer).nature for layer in ind.couches}
        out["fictif"] = "fictif" in natures
        out["estimation"] = "estimé" in natures
    if inputs is not None and annee is not None and "enfants_moins_3" in ind.couches:
        out["enfants"] = enfants_au_31_decembre(inputs, annee)[2].get("libelle", "")
    if ind.cible and annee is not None:
        out["cible"] = cible_cog(ind.cible, annee, inputs.baremes if inputs else None)
    if code in PSU_INDICATEURS and inputs is not None and annee is not None:
        nr = psu_non_renseigne(inputs, annee)
        out["psu_non_renseigne"] = nr
        if nr["places"] > 0:
            out["source"] = (f"{out.get('source', '')} ; {nr['libelle']}").lstrip(" ;")
    if code in ("enfants_par_place", "desert") and annee is not None:
        b = inputs.baremes if inputs else None
        r = parametre("couverture.desert_enfants_par_place", annee, b)
        n = parametre("couverture.desert_enfants_sans_place", annee, b)
        out["seuils"] = {"enfants_par_place": r[0], "enfants_sans_place": n[0],
                         "a_verifier": r[2] == "?" or n[2] == "?"}
    parts = [ind.label]
    if ind.format == "nombre" and ind.unite.lower() not in ind.label.lower():
        parts.append(f"({ind.unite})")
    if annee is not None:
        parts.append(f"— {annee}")
    if out.get("source"):
        parts.append(f"— {out['source']}")
    out["legende"] = " ".join(p for p in parts if p)
    return out


def source_caf(inputs: CoverageInputs, computed: bool = False) -> str:
    """Source line of the published rates: every caf_couverture layer present, with its files."""
    parts = []
    for k in ("com", "epci", "dep", "reg", "nat"):
        p = inputs.prov(f"caf_couverture_{k}")
        if p.present:
            files = p.source.split(" — ")[0]
            parts.append(f"{LAYER_NAMES_FR[f'caf_couverture_{k}']} : {files}, {p.vintage}")
    txt = "Cnaf, data.caf.fr — " + ("; ".join(parts) if parts else NA_LABEL)
    if computed:
        txt = f"{inputs.prov('structures').libelle} ; {inputs.prov('enfants_moins_3').libelle} ; {txt}"
    return txt
