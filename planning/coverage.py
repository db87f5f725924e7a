"""Coverage indicators: EAJE places per 100 children under 3, RPE staffing, net change of PSU places.

Pure pandas, no UI.  :func:`load_inputs` reads the store once and prepares the
joins (children, QPV, FRR/ZRR, density grid, Caf coverage) in a
:class:`CoverageInputs`; the functions below only take that object, so a
page can cache it and tests can build one from small hand-made frames.

Rules (see ``../shared/docs/DOMAIN.md`` §2-3):

* EAJE = every collective or family crèche type (crèche, multi-accueil, halte-garderie,
  jardin d'enfants, crèche familiale, parentale, d'entreprise, **micro-crèche**).  MAM places are
  counted apart (« places en MAM ») and are not EAJE places; an RPE has no places.
* A structure counts in year Y when it opened on or before 31 December Y and has not closed
  on or before that day (``date_fermeture`` NaT or after 31 December Y).  A structure without
  an opening date is taken as open in every year (but never counted as a creation).
* Territories are aggregated by summing numerators and denominators, never by averaging ratios.
* "Unknown" is NaN, never 0: without a structures layer, or for a commune of a département the
  structure list does not cover, places and RPE are NaN; a ratio with a zero denominator is NaN.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable

import numpy as np
import pandas as pd

from data.codes import fold_arrondissement

from .parametres import Baremes, ParametreAbsent, ParametreInconnu
from .territoires import COLONNES, check_niveau, masque, parse_territoire, resoudre

NA_LABEL = "donnée non disponible"
DEMO_LABEL = "données fictives de démonstration"

# Structure types (``structures.type``, normalised upper-case with underscores).
TYPES_EAJE = frozenset({
    "EAJE", "CRECHE", "CRECHE_COLLECTIVE", "MULTI_ACCUEIL", "MULTIACCUEIL", "HALTE_GARDERIE",
    "JARDIN_ENFANTS", "JARDIN_D_ENFANTS", "CRECHE_FAMILIALE", "CRECHE_PARENTALE",
    "CRECHE_ENTREPRISE", "CRECHE_D_ENTREPRISE", "CRECHE_PERSONNEL", "MICRO_CRECHE", "MICROCRECHE",
    "EAJE_COLLECTIF", "EAJE_FAMILIAL", "JARDIN_EVEIL",
})
TYPE_MAM = "MAM"
TYPE_RPE = "RPE"
KIND_EAJE, KIND_MAM, KIND_RPE, KIND_AUTRE = 0, 1, 2, 3

# FRR classes that count as "FRR" for the COG QPV/ZRR split (ZRR replaced by FRR on 1 July 2024).
CLASSEMENTS_FRR = ("FRR", "FRR+", "Ancienne ZRR en transition")
ZRR_CLASSEES = ("C", "P")

TAILLES = ("moins de 3 500", "3 500 à 10 000", "plus de 10 000")

# Parameters read from planning/baremes when present, with a default used otherwise.  The
# defaults are flagged "à vérifier" (confidence ?) and their source says they are built in.
_DEFAULTS: dict[str, tuple[Any, str, str]] = {
    # name: (value, source, confiance)
    "couverture.seuil_population_qualite": (
        3500, "Loi 2023-1196, art. 17 (CASF L.214-1-3) : communes de plus de 3 500 habitants "
              "(valeur intégrée au code, à déclarer dans planning/baremes)", "?"),
    "couverture.desert_enfants_par_place": (
        3, "Center for American Progress, « childcare desert » : plus de 3 enfants par place "
           "(valeur intégrée au code, à déclarer dans planning/baremes)", "?"),
    "couverture.desert_enfants_sans_place": (
        30, "Repère adapté du Center for American Progress (50 enfants de moins de 5 ans, "
            "soit environ 30 de moins de 3 ans) — à vérifier", "?"),
}

LAYER_NAMES_FR = {
    "communes": "communes",
    "enfants_moins_3": "enfants de moins de 3 ans",
    "structures": "structures",
    "qpv": "QPV",
    "frr": "classement FRR",
    "zrr": "ZRR (historique)",
    "grille_densite": "grille de densité",
    "caf_couverture_com": "taux de couverture Caf (communes)",
    "caf_couverture_epci": "taux de couverture Caf (EPCI)",
    "caf_couverture_dep": "taux de couverture Caf (départements)",
    "caf_couverture_nat": "taux de couverture Caf (France)",
    "caf_couverture_reg": "taux de couverture Caf (régions)",
    "naissances": "naissances domiciliées (INSEE)",
}

COMMUNE_COLUMNS = ["code_insee", "nom", "dep", "dep_nom", "reg", "reg_nom", "zone", "population",
                   "epci_siren", "epci_nom", "epci_type", "ept_code", "ept_nom"]
CAF_NIVEAUX = {"commune": "com", "epci": "epci", "departement": "dep", "region": "reg", "france": "nat"}


class CoucheAbsente(LookupError):
    """A layer the computation cannot do without (French message)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "Couche de données absente."


# ---------------------------------------------------------------------------
# Provenance and indicator metadata
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Provenance:
    """Where a layer comes from, as the store's manifest says."""

    name: str
    present: bool
    nature: str = ""
    vintage: str = ""
    source: str = ""
    label: str = ""

    @property
    def libelle(self) -> str:
        """Short French mention for a legend: « structures : données fictives de démonstration »."""
        what = LAYER_NAMES_FR.get(self.name, self.name)
        if not self.present:
            return f"{what} : {NA_LABEL}"
        if self.nature == "fictif":
            return f"{what} : {DEMO_LABEL}"
        if self.nature == "estimé":
            return f"{what} : estimation" + (f" ({self.vintage})" if self.vintage else "")
        detail = self.label or self.source
        if self.vintage and self.vintage not in detail:
            detail = f"{detail}, {self.vintage}" if detail else self.vintage
        return f"{what} : {detail}" if detail else what

    def to_dict(self) -> dict[str, Any]:
        return {"couche": self.name, "presente": self.present, "nature": self.nature,
                "millesime": self.vintage, "source": self.source, "libelle": self.libelle}


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
               "Part des communes de plus de 10 000 habitants disposant d'un RPE dans la commune", "%",
               "COG-01-11 et obligation légale au 1er janvier 2026 : un RPE intercommunal situé dans une "
               "autre commune ne compte pas.", True, "ratio", ("structures", "communes"),
               "objectifs_cog.part_villes_10000_avec_rpe"),
]}


def parametre(name: str, annee: int, baremes: Baremes | None = None) -> tuple[Any, str, str]:
    """(value, source, confiance) of a parameter in force in ``annee``.

    Before a parameter's first date, its first value is used (a threshold set by a law is
    the same before it applies).  Parameters of :data:`_DEFAULTS` fall back to the built-in
    value when ``planning/baremes`` does not declare them.
    """
    b = baremes or Baremes()
    try:
        p = b.get(name, annee)
        return p.valeur, p.source, p.confiance
    except ParametreAbsent:
        d = b.definition(name)
        _depuis, valeur, source, conf = d.valeurs[0]
        return valeur, source, conf
    except ParametreInconnu:
        if name in _DEFAULTS:
            return _DEFAULTS[name]
        raise


def cible_cog(name: str, annee: int, baremes: Baremes | None = None) -> float | None:
    """Target of a COG indicator for ``annee``, or None outside the convention's years."""
    b = baremes or Baremes()
    try:
        return float(b.value(name, annee))
    except ParametreAbsent:
        return None


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------
def _norm_type(t: object) -> str:
    s = str(t).strip().upper()
    for a, b in (("-", "_"), (" ", "_"), ("'", "_"), ("É", "E"), ("È", "E"), ("Ê", "E")):
        s = s.replace(a, b)
    return s


@dataclass
class CoverageInputs:
    """Frames the indicators are computed from, with their joins prepared once.

    ``communes`` needs the :data:`COMMUNE_COLUMNS` (``nom``/``*_nom``/``zone``/``epci_type``
    may be missing in hand-made tests).  Optional frames may be None.
    """

    communes: pd.DataFrame
    enfants: pd.DataFrame | None = None
    structures: pd.DataFrame | None = None
    qpv: pd.DataFrame | None = None
    frr: pd.DataFrame | None = None
    zrr: pd.DataFrame | None = None
    grille_densite: pd.DataFrame | None = None
    caf_couverture: dict[str, pd.DataFrame] = field(default_factory=dict)
    caf_places: dict[str, pd.DataFrame] = field(default_factory=dict)
    provenance: dict[str, Provenance] = field(default_factory=dict)
    structures_departements: tuple[str, ...] | None = None  # départements the structure list covers
    baremes: Baremes | None = None
    naissances: pd.DataFrame | None = None  # births per commune and year (code_insee, annee, naissances)

    def __post_init__(self) -> None:
        self.baremes = self.baremes or Baremes()
        self._prepare_base()
        self._prepare_structures()
        self._cache: dict[Any, Any] = {}

    # -- preparation --------------------------------------------------------
    def _prepare_base(self) -> None:
        c = self.communes.copy()
        missing = [col for col in ("code_insee", "dep", "population") if col not in c.columns]
        if missing:
            raise ValueError(f"Le tableau des communes n'a pas la colonne « {missing[0]} ».")
        for col in COMMUNE_COLUMNS:
            if col not in c.columns:  # optional names (hand-made frames in tests)
                c[col] = pd.array([pd.NA] * len(c), dtype="str")
        c = c[COMMUNE_COLUMNS].reset_index(drop=True)
        c["code_insee"] = c["code_insee"].astype(str)
        c["population"] = pd.to_numeric(c["population"], errors="coerce").astype(float)
        n = len(c)
        self.index = pd.Index(c["code_insee"])
        # children under 3 (NaN when unknown)
        if self.enfants is not None and len(self.enfants):
            e = self.enfants.groupby(self.enfants["code_insee"].astype(str).map(fold_arrondissement))[
                "enfants_moins_3"].sum(min_count=1)
            c["enfants_moins_3"] = e.reindex(self.index).to_numpy(dtype=float)
        else:
            c["enfants_moins_3"] = np.nan
        # QPV: number of QPV touching the commune (0 = none; NaN when the layer is absent)
        if self.qpv is not None:
            q = self.qpv.assign(code_insee=self.qpv["code_insee"].astype(str).map(fold_arrondissement))
            self._qpv_pairs = q[["code_insee", "code_qp"]].drop_duplicates()
            nq = self._qpv_pairs.groupby("code_insee")["code_qp"].nunique()
            c["nb_qpv"] = nq.reindex(self.index).fillna(0).to_numpy(dtype=float)
            c["qpv"] = c["nb_qpv"] > 0
        else:
            self._qpv_pairs = None
            c["nb_qpv"] = np.nan
            c["qpv"] = pd.array([pd.NA] * n, dtype="boolean")
        # FRR classification and legacy ZRR
        if self.frr is not None:
            f = self.frr.set_index(self.frr["code_insee"].astype(str))["classement"]
            f = f[~f.index.duplicated()]
            c["classement_frr"] = f.reindex(self.index).fillna("Non classée").astype(str).to_numpy()
        else:
            c["classement_frr"] = pd.array([pd.NA] * n, dtype="str")
        if self.zrr is not None:
            z = self.zrr.set_index(self.zrr["code_insee"].astype(str))["zrr"]
            z = z[~z.index.duplicated()]
            c["zrr"] = z.reindex(self.index).fillna("N").astype(str).to_numpy()
        else:
            c["zrr"] = pd.array([pd.NA] * n, dtype="str")
        if self.frr is None and self.zrr is None:
            c["frr_zrr"] = pd.array([pd.NA] * n, dtype="boolean")
        else:
            flag = np.zeros(n, dtype=bool)
            if self.frr is not None:
                flag |= c["classement_frr"].isin(CLASSEMENTS_FRR).to_numpy()
            if self.zrr is not None:
                flag |= c["zrr"].isin(ZRR_CLASSEES).to_numpy()
            c["frr_zrr"] = flag
        if self.grille_densite is not None:
            g = self.grille_densite.set_index(self.grille_densite["code_insee"].astype(str))["niveau_densite"]
            g = g[~g.index.duplicated()]
            c["niveau_densite"] = pd.to_numeric(g.reindex(self.index), errors="coerce").to_numpy(dtype=float)
        else:
            c["niveau_densite"] = np.nan
        # main département of an EPCI / EPT: the one of its most populated commune
        order = c.sort_values("population", ascending=False, kind="stable")
        self._dep_of = {
            "epci": order.dropna(subset=["epci_siren"]).drop_duplicates("epci_siren").set_index("epci_siren")["dep"],
            "ept": order.dropna(subset=["ept_code"]).drop_duplicates("ept_code").set_index("ept_code")["dep"],
        }
        self.base = c

    def _prepare_structures(self) -> None:
        n = len(self.base)
        s = self.structures
        if s is None:
            self.structures_known = np.zeros(n, dtype=bool)
            self._s = None
            self.structures_hors_referentiel = 0
            self.types_non_reconnus: dict[str, int] = {}
            return
        codes = s["code_insee"].astype(str).map(fold_arrondissement)
        pos = self.index.get_indexer(codes)
        kinds_norm = s["type"].map(_norm_type) if "type" in s.columns else pd.Series("", index=s.index)
        kind = np.full(len(s), KIND_AUTRE, dtype=np.int8)
        kind[kinds_norm.isin(TYPES_EAJE).to_numpy()] = KIND_EAJE
        kind[(kinds_norm == TYPE_MAM).to_numpy()] = KIND_MAM
        kind[(kinds_norm == TYPE_RPE).to_numpy()] = KIND_RPE
        unknown = kinds_norm[kind == KIND_AUTRE]
        self.types_non_reconnus = {str(k): int(v) for k, v in unknown.value_counts().items()}

        def num(col: str) -> np.ndarray:
            if col not in s.columns:
                return np.full(len(s), np.nan)
            return pd.to_numeric(s[col], errors="coerce").to_numpy(dtype=float)

        def date(col: str) -> np.ndarray:
            if col not in s.columns:
                return np.full(len(s), np.datetime64("NaT"), dtype="datetime64[ns]")
            return pd.to_datetime(s[col], errors="coerce").to_numpy(dtype="datetime64[ns]")

        # PSU « non renseigné » (open-data lists): never counted as PSU nor as hors PSU
        if "psu" in s.columns:
            psu_col = s["psu"].astype("boolean")
            psu_nr = psu_col.isna().to_numpy()
            psu = psu_col.fillna(False).to_numpy(dtype=bool)
        else:
            psu, psu_nr = np.zeros(len(s), bool), np.ones(len(s), bool)
        est = s["ouverture_estimee"].fillna(False).astype(bool).to_numpy() if "ouverture_estimee" in s.columns \
            else np.zeros(len(s), bool)
        ok = pos >= 0
        self.structures_hors_referentiel = int((~ok).sum())
        places = np.nan_to_num(num("places"), nan=0.0)
        self._s = {
            "pos": pos[ok], "kind": kind[ok], "psu": psu[ok], "psu_nr": psu_nr[ok], "ouv_est": est[ok],
            "places": places[ok],
            "ouv": date("date_ouverture")[ok], "ferm": date("date_fermeture")[ok],
            "etp": num("etp_animation")[ok], "am": num("nb_assistants_maternels")[ok],
        }
        if self.structures_departements is None:
            deps = self.base["dep"].to_numpy()[pos[ok]]
            self.structures_departements = tuple(sorted(set(deps.tolist())))
        self.structures_known = self.base["dep"].isin(self.structures_departements).to_numpy()

    # -- helpers ------------------------------------------------------------
    def has_structures(self) -> bool:
        return self._s is not None

    def prov(self, name: str) -> Provenance:
        return self.provenance.get(name) or Provenance(name, present=self._layer_present(name))

    def _layer_present(self, name: str) -> bool:
        return {"communes": True, "enfants_moins_3": self.enfants is not None,
                "naissances": self.naissances is not None,
                "structures": self.structures is not None, "qpv": self.qpv is not None,
                "frr": self.frr is not None, "zrr": self.zrr is not None,
                "grille_densite": self.grille_densite is not None}.get(
            name, name.replace("caf_couverture_", "") in self.caf_couverture)

    def with_structures(self, structures: pd.DataFrame | None, provenance: Provenance | None = None,
                        departements: Iterable[str] | None = None) -> "CoverageInputs":
        """A copy with another structure list (e.g. a scenario or a test frame)."""
        prov = dict(self.provenance)
        if provenance is not None:
            prov["structures"] = provenance
        elif structures is None:
            prov["structures"] = Provenance("structures", present=False)
        return replace(self, structures=structures, provenance=prov,
                       structures_departements=tuple(departements) if departements is not None else None)


def load_inputs(store=None, baremes: Baremes | None = None) -> CoverageInputs:
    """Read every layer the indicators use from a :class:`data.store.Store` (default store).

    Raises :class:`CoucheAbsente` when the communes layer is missing; every other
    layer is optional (its indicators are then NaN, « donnée non disponible »).
    """
    from data.store import Store

    store = store or Store()
    if not store.has("communes"):
        raise CoucheAbsente(
            f"Le référentiel des communes est absent du magasin de données ({store.root}). "
            "Lancez `python -m data build-reference` (ou la commande d'installation du README)."
        )
    layers = store.layers()
    prov: dict[str, Provenance] = {}

    def read(name: str, columns: list[str] | None = None) -> pd.DataFrame | None:
        info = layers.get(name)
        present = info is not None and store.layer_path(name).exists()
        prov[name] = Provenance(name, present, info.nature, info.vintage, info.source, info.label) if present \
            else Provenance(name, False)
        if not present:
            return None
        if columns is not None:
            import pyarrow.parquet as pq

            names = set(pq.read_schema(store.layer_path(name)).names)
            columns = [c for c in columns if c in names]
        return store.read(name, columns=columns)

    communes = read("communes", COMMUNE_COLUMNS)
    enfants = read("enfants_moins_3")
    structures = read("structures")
    sinfo = layers.get("structures")
    deps = None
    if structures is not None and sinfo is not None and (sinfo.extra or {}).get("departements"):
        deps = tuple(str(d) for d in sinfo.extra["departements"])
    caf_cov = {}
    caf_pl = {}
    for k in ("com", "epci", "dep", "reg", "nat"):
        f = read(f"caf_couverture_{k}")
        if f is not None:
            caf_cov[k] = f
        p = read(f"caf_places_{k}")
        if p is not None:
            caf_pl[k] = p
    return CoverageInputs(
        communes=communes, enfants=enfants, structures=structures,
        qpv=read("qpv", ["code_qp", "code_insee"]), frr=read("frr"), zrr=read("zrr"),
        grille_densite=read("grille_densite"), caf_couverture=caf_cov, caf_places=caf_pl,
        provenance=prov, structures_departements=deps, baremes=baremes, naissances=read("naissances"),
    )


# ---------------------------------------------------------------------------
# Per-commune arrays for one year
# ---------------------------------------------------------------------------
def _year_end(annee: int) -> np.datetime64:
    return np.datetime64(f"{int(annee):04d}-12-31", "ns")


def _open_mask(s: dict, annee: int) -> np.ndarray:
    end = _year_end(annee)
    ouv, ferm = s["ouv"], s["ferm"]
    opened = np.isnat(ouv) | (ouv <= end)
    not_closed = np.isnat(ferm) | (ferm > end)
    return opened & not_closed


def ouvertes(structures: pd.DataFrame, annee: int) -> pd.Series:
    """Structures open on 31 December of ``annee`` (same rule as every indicator: opened on or
    before that day, not closed by then; a missing opening date counts as open)."""
    s = {"ouv": pd.to_datetime(structures["date_ouverture"], errors="coerce").to_numpy("datetime64[ns]"),
         "ferm": pd.to_datetime(structures["date_fermeture"], errors="coerce").to_numpy("datetime64[ns]")}
    return pd.Series(_open_mask(s, annee), index=structures.index)


def _commune_stock(inputs: CoverageInputs, annee: int) -> dict[str, np.ndarray]:
    """Places, RPE counts and staffing per commune (NaN where the structure list is unknown)."""
    key = ("stock", int(annee))
    if key in inputs._cache:
        return inputs._cache[key]
    n = len(inputs.base)
    s = inputs._s
    cols = ("places_psu", "places_hors_psu", "places_eaje", "places_mam", "nb_rpe", "etp_rpe", "am_rpe",
            "places_psu_non_renseigne")
    if s is None:
        out = {c: np.full(n, np.nan) for c in cols}
    else:
        m = _open_mask(s, annee)
        pos, kind, psu, places = s["pos"], s["kind"], s["psu"], s["places"]
        eaje = m & (kind == KIND_EAJE)
        rpe = m & (kind == KIND_RPE)
        staffed = rpe & np.isfinite(s["etp"]) & (s["etp"] > 0) & np.isfinite(s["am"])

        def bc(mask: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
            return np.bincount(pos[mask], weights=None if w is None else w[mask], minlength=n).astype(float)

        out = {
            "places_psu": bc(eaje & psu, places),
            "places_hors_psu": bc(eaje & ~psu & ~s["psu_nr"], places),
            "places_psu_non_renseigne": bc(eaje & s["psu_nr"], places),
            "places_mam": bc(m & (kind == KIND_MAM), places),
            "nb_rpe": bc(rpe),
            "etp_rpe": bc(staffed, s["etp"]),
            "am_rpe": bc(staffed, s["am"]),
        }
        out["places_eaje"] = out["places_psu"] + out["places_hors_psu"] + out["places_psu_non_renseigne"]
        unknown = ~inputs.structures_known
        for c in cols:
            out[c][unknown] = np.nan
    inputs._cache[key] = out
    return out


def _commune_flows(inputs: CoverageInputs, annee: int) -> dict[str, np.ndarray]:
    """EAJE places created and closed during ``annee`` per commune (PSU and total)."""
    n = len(inputs.base)
    s = inputs._s
    cols = ("places_creees_psu", "places_fermees_psu", "places_creees", "places_fermees",
            "places_creees_psu_non_renseigne", "places_fermees_psu_non_renseigne")
    if s is None:
        return {c: np.full(n, np.nan) for c in cols}
    start, end = _year_end(annee - 1), _year_end(annee)
    eaje = s["kind"] == KIND_EAJE
    created = eaje & ~np.isnat(s["ouv"]) & ~s["ouv_est"] & (s["ouv"] > start) & (s["ouv"] <= end)
    closed = eaje & ~np.isnat(s["ferm"]) & (s["ferm"] > start) & (s["ferm"] <= end)
    # a structure closed before it opened is bad data: ignore its closure
    closed &= np.isnat(s["ouv"]) | (s["ouv"] < s["ferm"])
    pos, psu, w = s["pos"], s["psu"], s["places"]

    def bc(mask):
        return np.bincount(pos[mask], weights=w[mask], minlength=n).astype(float)

    out = {"places_creees_psu": bc(created & psu), "places_fermees_psu": bc(closed & psu),
           "places_creees": bc(created), "places_fermees": bc(closed),
           "places_creees_psu_non_renseigne": bc(created & s["psu_nr"]),
           "places_fermees_psu_non_renseigne": bc(closed & s["psu_nr"])}
    unknown = ~inputs.structures_known
    for c in cols:
        out[c][unknown] = np.nan
    return out


# ---------------------------------------------------------------------------
# Aggregation
# ---------------------------------------------------------------------------
def _ratio(num, den, factor: float = 1.0):
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = factor * num / den
    r[~(den > 0)] = np.nan
    return r


def _taille(pop: np.ndarray, seuil_bas: float, seuil_haut: float) -> np.ndarray:
    out = np.where(pop > seuil_haut, TAILLES[2], np.where(pop > seuil_bas, TAILLES[1], TAILLES[0])).astype(object)
    out[~np.isfinite(pop)] = None
    return out


def _desert(enfants: np.ndarray, places: np.ndarray, par_place: float, sans_place: float) -> np.ndarray:
    out = pd.array([pd.NA] * len(enfants), dtype="boolean")
    known = np.isfinite(enfants) & np.isfinite(places)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(places > 0, enfants / places, np.inf)
    val = np.where(places > 0, ratio > par_place, enfants >= sans_place)
    out[known] = val[known]
    return out


def _bin_sum(ids: np.ndarray, k: int, values, strict: bool) -> np.ndarray:
    """Sum per group id (``-1`` = no group).  ``strict``: NaN if any member is NaN;
    otherwise NaN only when every member is NaN."""
    v = np.asarray(values, dtype=float)
    ok = ids >= 0
    nan = np.isnan(v)
    out = np.bincount(ids[ok], weights=np.where(nan, 0.0, v)[ok], minlength=k)
    if strict:
        bad = np.bincount(ids[ok], weights=nan[ok].astype(float), minlength=k) > 0
    else:
        bad = np.bincount(ids[ok], weights=(~nan[ok]).astype(float), minlength=k) == 0
    out[bad] = np.nan
    return out


def _level(inputs: CoverageInputs, niveau: str) -> tuple[np.ndarray, int, pd.DataFrame]:
    """Group id of every commune for a level, and the year-independent columns (cached)."""
    key = ("level", niveau)
    if key in inputs._cache:
        return inputs._cache[key]
    base = inputs.base
    n = len(base)
    nb_qpv = base["nb_qpv"].to_numpy(dtype=float)
    frr = base["frr_zrr"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    enf = base["enfants_moins_3"].to_numpy(dtype=float)
    if niveau == "commune":
        ids = np.arange(n)
        static = pd.DataFrame({
            "code": base["code_insee"], "nom": base["nom"], "niveau": "commune",
            "dep": base["dep"], "reg": base["reg"], "epci_siren": base["epci_siren"],
            "ept_code": base["ept_code"], "n_communes": 1.0, "population": base["population"],
            "enfants_moins_3": enf, "nb_qpv": nb_qpv, "qpv": base["qpv"],
            "nb_communes_qpv": np.where(np.isnan(nb_qpv), np.nan, (nb_qpv > 0).astype(float)),
            "classement_frr": base["classement_frr"], "frr_zrr": base["frr_zrr"],
            "nb_communes_frr_zrr": frr, "niveau_densite": base["niveau_densite"],
            "communes_sans_donnee_enfants": np.isnan(enf).astype(float),
        })
        inputs._cache[key] = (ids, n, static)
        return inputs._cache[key]
    if niveau == "france":
        ids = np.zeros(n, dtype=np.intp)
        codes = np.array(["FR"], dtype=object)
        first = np.array([0])
    else:
        col = COLONNES[niveau][0]
        ids, uniques = pd.factorize(base[col], use_na_sentinel=True)
        codes = np.asarray(uniques, dtype=object)
        _, first = np.unique(ids[ids >= 0], return_index=True)
        first = np.flatnonzero(ids >= 0)[first]
    k = len(codes)
    static = pd.DataFrame({"code": codes})
    if niveau == "france":
        static["nom"] = "France"
        static["dep"] = np.nan
        static["reg"] = np.nan
    else:
        static["nom"] = base[COLONNES[niveau][1]].to_numpy(dtype=object)[first]
        if niveau == "departement":
            static["dep"] = codes
            static["reg"] = base["reg"].to_numpy(dtype=object)[first]
        elif niveau == "region":
            static["dep"] = np.nan
            static["reg"] = codes
        else:
            dep = inputs._dep_of[niveau].reindex(codes).to_numpy(dtype=object)
            static["dep"] = dep
            static["reg"] = base.drop_duplicates("dep").set_index("dep")["reg"].reindex(dep).to_numpy(dtype=object)
    static.insert(2, "niveau", niveau)
    static["n_communes"] = _bin_sum(ids, k, np.ones(n), strict=False)
    static["population"] = _bin_sum(ids, k, base["population"].to_numpy(dtype=float), strict=False)
    static["enfants_moins_3"] = _bin_sum(ids, k, enf, strict=False)
    # distinct QPV (a QPV over two communes counts once)
    if inputs._qpv_pairs is not None:
        pairs = inputs._qpv_pairs
        pos = inputs.index.get_indexer(pairs["code_insee"])
        pid = ids[pos[pos >= 0]]
        qp = pairs["code_qp"].to_numpy(dtype=object)[pos >= 0]
        uniq = pd.DataFrame({"g": pid, "q": qp})
        uniq = uniq[uniq["g"] >= 0].drop_duplicates()
        static["nb_qpv"] = np.bincount(uniq["g"].to_numpy(), minlength=k).astype(float)
        static["qpv"] = static["nb_qpv"] > 0
    else:
        static["nb_qpv"] = np.nan
        static["qpv"] = pd.array([pd.NA] * k, dtype="boolean")
    static["nb_communes_qpv"] = _bin_sum(ids, k, np.where(np.isnan(nb_qpv), np.nan, (nb_qpv > 0).astype(float)),
                                         strict=True)
    static["classement_frr"] = pd.array([pd.NA] * k, dtype="str")
    nf = _bin_sum(ids, k, frr, strict=True)
    flag = pd.array(nf > 0, dtype="boolean")
    flag[np.isnan(nf)] = pd.NA
    static["frr_zrr"] = flag
    static["nb_communes_frr_zrr"] = nf
    static["niveau_densite"] = np.nan
    static["communes_sans_donnee_enfants"] = _bin_sum(ids, k, np.isnan(enf).astype(float), strict=False)
    inputs._cache[key] = (ids, k, static)
    return inputs._cache[key]


SUM_STRICT = ["places_psu", "places_hors_psu", "places_eaje", "places_mam", "nb_rpe", "etp_rpe", "am_rpe",
              "places_psu_non_renseigne"]


def indicateurs(inputs: CoverageInputs, niveau: str, annee: int, territoire=None) -> pd.DataFrame:
    """Coverage indicators of every territory of one level in ``annee`` (stock at 31 December).

    ``niveau``: commune, epci, ept, departement, region or france.  ``territoire``
    (``"departement:89"``, ``("epci", siren)``, a :class:`~planning.territoires.Territoire`)
    keeps the units that have at least one commune in it; an EPCI straddling two
    départements is always computed on all its member communes.

    Columns: code, nom, niveau, dep, reg, n_communes, population, enfants_moins_3,
    places_psu, places_hors_psu, places_eaje, places_mam, taux_eaje_psu, taux_eaje_hors_psu,
    taux_eaje, enfants_par_place, desert, nb_rpe, etp_rpe, am_rpe, am_par_etp, nb_qpv, qpv,
    nb_communes_qpv, classement_frr (commune level), frr_zrr, nb_communes_frr_zrr,
    niveau_densite (commune level), taille, rang_dans_departement, txcouv_caf, annee_txcouv_caf,
    communes_sans_donnee_enfants, annee.  NaN means « donnée non disponible ».
    """
    niveau = check_niveau(niveau)
    annee = int(annee)
    base = inputs.base
    stock = _commune_stock(inputs, annee)
    seuil_bas = float(parametre("couverture.seuil_population_qualite", annee, inputs.baremes)[0])
    seuil_haut = float(parametre("objectifs_cog.seuil_population_obligation_rpe", annee, inputs.baremes)[0])
    d_ratio = float(parametre("couverture.desert_enfants_par_place", annee, inputs.baremes)[0])
    d_min = float(parametre("couverture.desert_enfants_sans_place", annee, inputs.baremes)[0])

    ids, k, static = _level(inputs, niveau)
    out = static.copy()
    _enfants_de_l_annee(inputs, niveau, annee, ids, k, out)   # year-aware children (births), planning.cnaf
    for c in SUM_STRICT:
        out[c] = stock[c] if niveau == "commune" else _bin_sum(ids, k, stock[c], strict=True)

    enf = out["enfants_moins_3"].to_numpy(dtype=float)
    # PSU « non renseigné »: places_psu / places_hors_psu and their rates count the known places only,
    # places_psu_non_renseigne says how many are left out (NaN-free: 0 when everything is known)
    out["taux_eaje_psu"] = _ratio(out["places_psu"], enf, 100.0)
    out["taux_eaje_hors_psu"] = _ratio(out["places_hors_psu"], enf, 100.0)
    out["taux_eaje"] = _ratio(out["places_eaje"], enf, 100.0)
    out["enfants_par_place"] = _ratio(enf, out["places_eaje"])
    out["desert"] = _desert(enf, out["places_eaje"].to_numpy(dtype=float), d_ratio, d_min)
    out["am_par_etp"] = _ratio(out["am_rpe"], out["etp_rpe"])
    out["taille"] = _taille(out["population"].to_numpy(dtype=float), seuil_bas, seuil_haut)
    if niveau in ("commune", "epci", "ept"):
        out["rang_dans_departement"] = (out.groupby("dep", sort=False)["taux_eaje"]
                                        .rank(method="min", ascending=False))
    else:
        out["rang_dans_departement"] = np.nan
    _publie_et_naissances(inputs, niveau, annee, ids, k, out)  # data.caf.fr rates, births, planning.cnaf
    out["annee"] = annee
    if territoire is not None:
        tn, tc = parse_territoire(territoire)
        if tn != "france":
            m = masque(base, tn, tc).to_numpy()
            if niveau == "france":
                raise ValueError("Le niveau « france » ne se restreint pas à un territoire.")
            wanted = set(base.loc[m, COLONNES[niveau][0]].dropna().astype(str))
            out = out[out["code"].astype(str).isin(wanted)]
    out = out.reset_index(drop=True)
    out.attrs["annee"] = annee
    out.attrs["niveau"] = niveau
    out.attrs["sources"] = sources(inputs)
    return out


# ---------------------------------------------------------------------------
# Flows: places created / closed, COG-01-01 trajectory
# ---------------------------------------------------------------------------
FLOW_COLS = ["places_creees_psu", "places_fermees_psu", "variation_nette_psu",
             "places_creees", "places_fermees", "variation_nette"]


def variation_places(inputs: CoverageInputs, annee_debut: int, annee_fin: int, niveau: str = "france",
                     territoire=None, par_annee: bool = True) -> pd.DataFrame:
    """EAJE places created, closed and net change over [annee_debut, annee_fin], PSU and total.

    A place is created in year Y when its structure opened between 1 January and
    31 December Y; closed in Y when the structure closed in that interval, so that
    ``variation_nette(Y) = stock(31/12/Y) − stock(31/12/Y−1)``.  The same figures are given
    for the communes with at least one QPV (suffix ``_qpv``) and for the communes classified
    FRR, FRR+ or « ancienne ZRR en transition », or ZRR in the legacy list (suffix
    ``_frr_zrr``): the commune of the structure is used, not the QPV perimeter itself.
    NaN when the structure list, the QPV or the FRR/ZRR layer is missing.

    One row per (code, annee) when ``par_annee``; else one row per code for the whole period
    (``annee`` = "2023-2027").
    """
    niveau = check_niveau(niveau)
    base = inputs.base
    ids, k, static = _level(inputs, niveau)
    qpv = base["qpv"].astype("boolean")
    frr = base["frr_zrr"].astype("boolean")
    rows = []
    for annee in range(int(annee_debut), int(annee_fin) + 1):
        work = dict(_commune_flows(inputs, annee))
        work["variation_nette_psu"] = work["places_creees_psu"] - work["places_fermees_psu"]
        work["variation_nette"] = work["places_creees"] - work["places_fermees"]
        for suffix, flag in (("_qpv", qpv), ("_frr_zrr", frr)):
            known = flag.notna().to_numpy()
            inside = flag.fillna(False).to_numpy(dtype=bool)
            for c in FLOW_COLS:
                v = np.where(inside, work[c], 0.0)
                v[~known | np.isnan(work[c])] = np.nan
                work[c + suffix] = v
        agg = pd.DataFrame({"code": static["code"], "annee": annee})
        for c in FLOW_COLS + [c + s for s in ("_qpv", "_frr_zrr") for c in FLOW_COLS]:
            agg[c] = _bin_sum(ids, k, work[c], strict=True)
        rows.append(agg)
    out = pd.concat(rows, ignore_index=True)
    if not par_annee:
        num = [c for c in out.columns if c not in ("code", "annee")]
        nan_any = out[num].isna().groupby(out["code"], sort=False).sum() > 0
        tot = out.groupby("code", sort=False)[num].sum(min_count=1).mask(nan_any)
        tot.insert(0, "annee", f"{int(annee_debut)}-{int(annee_fin)}")
        out = tot.reset_index()
    if territoire is not None:
        tn, tc = parse_territoire(territoire)
        if tn != "france":
            if niveau == "france":
                raise ValueError("Le niveau « france » ne se restreint pas à un territoire.")
            m = masque(base, tn, tc).to_numpy()
            wanted = set(base.loc[m, COLONNES[niveau][0]].dropna().astype(str))
            out = out[out["code"].astype(str).isin(wanted)]
    return out.reset_index(drop=True)


def trajectoire_cog_psu(inputs: CoverageInputs, annee_debut: int, annee_fin: int, territoire=None) -> pd.DataFrame:
    """Net change of PSU places per year against the national COG-01-01 path scaled to the territory.

    Scale (a choice of the dashboard, not a rule of the COG, which sets only national figures):
    the territory's share of the national number of children under 3
    (``part_enfants = enfants du territoire / enfants de France``, from the children layer).
    ``cible_territoire = cible nationale × part_enfants``.  The QPV and FRR/ZRR parts of the
    net change are shown next to the total (the COG gives no separate figure for them).

    Columns: annee, places_creees_psu, places_fermees_psu, variation_nette_psu,
    variation_nette_psu_qpv, variation_nette_psu_frr_zrr, cible_nationale, part_enfants,
    cible_territoire, ecart, atteinte.  ``attrs["libelle"]`` explains the scale in French.
    """
    base = inputs.base
    if territoire is None or parse_territoire(territoire)[0] == "france":
        t = resoudre(base, "france")
        m = np.ones(len(base), dtype=bool)
    else:
        tn, tc = parse_territoire(territoire)
        t = resoudre(base, tn, tc)
        m = masque(base, tn, tc).to_numpy()
    enf = base["enfants_moins_3"].to_numpy(dtype=float)
    total = np.nansum(enf)
    part = float(np.nansum(enf[m]) / total) if total > 0 else np.nan
    qpv = base["qpv"].astype("boolean")
    frr = base["frr_zrr"].astype("boolean")
    flows = []
    for annee in range(int(annee_debut), int(annee_fin) + 1):
        f = _commune_flows(inputs, annee)

        def tot(v: np.ndarray, flag=None) -> float:
            v = v[m]
            if flag is not None:
                fl = flag.to_numpy()[m]
                if pd.isna(fl).any():
                    return np.nan
                v = np.where(fl.astype(bool), v, 0.0)
            return float(v.sum()) if not np.isnan(v).any() else np.nan

        net = f["places_creees_psu"] - f["places_fermees_psu"]
        cible = cible_cog("objectifs_cog.variation_nette_places_psu", annee, inputs.baremes)
        cible_t = cible * part if cible is not None and np.isfinite(part) else np.nan
        v = tot(net)
        flows.append({
            "annee": annee,
            "places_creees_psu": tot(f["places_creees_psu"]),
            "places_fermees_psu": tot(f["places_fermees_psu"]),
            "places_fermees_psu_non_renseigne": tot(f["places_fermees_psu_non_renseigne"]),
            "variation_nette_psu": v,
            "variation_nette_psu_qpv": tot(net, qpv),
            "variation_nette_psu_frr_zrr": tot(net, frr),
            "cible_nationale": np.nan if cible is None else cible,
            "part_enfants": part,
            "cible_territoire": cible_t,
            "ecart": v - cible_t if np.isfinite(v) and np.isfinite(cible_t) else np.nan,
            "atteinte": (v >= cible_t) if np.isfinite(v) and np.isfinite(cible_t) else None,
        })
    out = pd.DataFrame(flows)
    pct = f"{100 * part:.1f}".replace(".", ",") if np.isfinite(part) else NA_LABEL
    out.attrs["territoire"] = t.libelle
    out.attrs["libelle"] = (
        f"Cible COG-01-01 (variation nette des places PSU) rapportée à {t.libelle} au prorata de sa part "
        f"des enfants de moins de 3 ans de France ({pct} %) — choix de répartition du tableau de bord, "
        "la COG ne fixe que des objectifs nationaux."
    )
    out.attrs["sources"] = sources(inputs)
    return out


# ---------------------------------------------------------------------------
# RPE table and metadata
# ---------------------------------------------------------------------------
def rpe_table(inputs: CoverageInputs, annee: int, territoire=None) -> pd.DataFrame:
    """Every RPE open at 31 December ``annee``: staffing against the COG-01-10 target.

    Columns: id, nom, code_insee, commune, dep, epci_siren, etp_animation,
    nb_assistants_maternels, am_par_etp, cible_am_par_etp, ecart_cible.
    """
    cols = ["id", "nom", "code_insee", "commune", "dep", "epci_siren", "etp_animation",
            "nb_assistants_maternels", "am_par_etp", "cible_am_par_etp", "ecart_cible"]
    if inputs.structures is None:
        return pd.DataFrame(columns=cols)
    s = inputs.structures
    codes = s["code_insee"].astype(str).map(fold_arrondissement)
    pos = inputs.index.get_indexer(codes)
    is_rpe = (s["type"].map(_norm_type) == TYPE_RPE).to_numpy() & (pos >= 0)
    sub = s[is_rpe]
    p = pos[is_rpe]
    st = {"ouv": pd.to_datetime(sub.get("date_ouverture"), errors="coerce").to_numpy(dtype="datetime64[ns]")
          if "date_ouverture" in sub else np.full(len(sub), np.datetime64("NaT"), "datetime64[ns]"),
          "ferm": pd.to_datetime(sub.get("date_fermeture"), errors="coerce").to_numpy(dtype="datetime64[ns]")
          if "date_fermeture" in sub else np.full(len(sub), np.datetime64("NaT"), "datetime64[ns]")}
    m = _open_mask(st, annee)
    sub, p = sub[m], p[m]
    b = inputs.base
    etp = pd.to_numeric(sub.get("etp_animation"), errors="coerce").to_numpy(dtype=float)
    am = pd.to_numeric(sub.get("nb_assistants_maternels"), errors="coerce").to_numpy(dtype=float)
    cible = cible_cog("objectifs_cog.assistants_maternels_par_etp_rpe", annee, inputs.baremes)
    ratio = _ratio(am, etp)
    out = pd.DataFrame({
        "id": sub["id"].to_numpy() if "id" in sub else np.arange(len(sub)),
        "nom": sub["nom"].to_numpy() if "nom" in sub else None,
        "code_insee": b["code_insee"].to_numpy()[p], "commune": b["nom"].to_numpy()[p],
        "dep": b["dep"].to_numpy()[p], "epci_siren": b["epci_siren"].to_numpy()[p],
        "etp_animation": etp, "nb_assistants_maternels": am, "am_par_etp": ratio,
        "cible_am_par_etp": np.nan if cible is None else cible,
    })
    out["ecart_cible"] = out["am_par_etp"] - out["cible_am_par_etp"]
    if territoire is not None:
        tn, tc = parse_territoire(territoire)
        if tn != "france":
            wanted = set(b.loc[masque(b, tn, tc).to_numpy(), "code_insee"])
            out = out[out["code_insee"].isin(wanted)]
    return out.reset_index(drop=True)


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
        from .cnaf import enfants_au_31_decembre

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


PSU_INDICATEURS = ("taux_eaje_psu", "taux_eaje_hors_psu", "places_psu", "places_hors_psu", "variation_nette_psu",
                   "places_psu_non_renseigne")


def psu_non_renseigne(inputs: CoverageInputs, annee: int, territoire=None) -> dict[str, Any]:
    """EAJE places and structures open on 31 December ``annee`` whose PSU financing is « non renseigné ».

    ``{"places": int, "structures": int, "libelle": str}`` for the whole list, or for the communes
    of ``territoire``.  Every figure that splits PSU / hors PSU shows this next to it.
    """
    s = inputs._s
    if s is None:
        return {"places": 0, "structures": 0, "libelle": ""}
    m = _open_mask(s, annee) & (s["kind"] == KIND_EAJE) & s["psu_nr"]
    if territoire is not None and parse_territoire(territoire)[0] != "france":
        tn, tc = parse_territoire(territoire)
        inside = masque(inputs.base, tn, tc).to_numpy()
        m &= inside[s["pos"]]
    places, nb = int(s["places"][m].sum()), int(m.sum())
    lib = ""
    if nb:
        from .formats import fr_number

        lib = (f"PSU « non renseigné » pour {fr_number(places, 0)} places d'EAJE ({fr_number(nb, 0)} structure(s)) : "
               "ni en PSU ni hors PSU")
    return {"places": places, "structures": nb, "libelle": lib}


# ---------------------------------------------------------------------------
# Children by year, published Cnaf rates, births (planning.cnaf) — hooks of indicateurs()
# ---------------------------------------------------------------------------
def _enfants_de_l_annee(inputs: CoverageInputs, niveau: str, annee: int, ids: np.ndarray, k: int,
                        out: pd.DataFrame) -> None:
    """Children under 3 at the stock date (31 December ``annee`` ≈ 1 January ``annee + 1``): census,
    else births of ``annee - 2`` … ``annee``, else the layer's value (see planning.cnaf)."""
    if inputs.naissances is None:
        return
    from .cnaf import enfants_au_31_decembre

    vals, _nature, info = enfants_au_31_decembre(inputs, annee)
    if niveau == "commune":
        out["enfants_moins_3"] = vals
        out["communes_sans_donnee_enfants"] = np.isnan(vals).astype(float)
    else:
        out["enfants_moins_3"] = _bin_sum(ids, k, vals, strict=False)
        out["communes_sans_donnee_enfants"] = _bin_sum(ids, k, np.isnan(vals).astype(float), strict=False)
    out.attrs["enfants"] = info


def _publie_et_naissances(inputs: CoverageInputs, niveau: str, annee: int, ids: np.ndarray, k: int,
                          out: pd.DataFrame) -> None:
    """Columns txcouv_caf… (published, latest year ≤ annee, with annee_txcouv_caf), ecart_eaje_caf
    (computed minus published EAJE rate, same year only), naissances (with annee_naissances)."""
    from .cnaf import caf_valeurs, naissances_annee

    pub = caf_valeurs(inputs, niveau, out["code"], annee)
    for c in pub.columns:
        out[c] = pub[c].to_numpy()
    same_year = out["annee_txcouv_caf"].to_numpy(dtype=float) == float(annee)
    out["ecart_eaje_caf"] = np.where(same_year, out["taux_eaje"].to_numpy(dtype=float)
                                     - out["txcouv_caf_eaje"].to_numpy(dtype=float), np.nan)
    births, year = naissances_annee(inputs, annee)
    out["naissances"] = births if niveau == "commune" else _bin_sum(ids, k, births, strict=False)
    out["annee_naissances"] = np.nan if year is None else float(year)


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
