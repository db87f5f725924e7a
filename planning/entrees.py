"""Inputs of the coverage indicators: the frames they are computed from, with their joins prepared once.

:class:`CoverageInputs` takes plain frames (the store's layers, read by :mod:`data.entrees`, or a few
hand-made rows in tests) and prepares, once, the per-commune base (children, QPV, FRR/ZRR, density
grid) and the structure arrays every year's stock and flows are computed from.  Nothing here reads
a file or a database.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable

import numpy as np
import pandas as pd

from data.codes import fold_arrondissement

from .formats import DEMO_LABEL, NA_LABEL
from .parametres import Baremes

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


class CoucheAbsente(LookupError):
    """A layer the computation cannot do without (French message)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "Couche de données absente."


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


def norm_type(t: object) -> str:
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
        self.cache: dict[Any, Any] = {}

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
            self.qpv_pairs = q[["code_insee", "code_qp"]].drop_duplicates()
            nq = self.qpv_pairs.groupby("code_insee")["code_qp"].nunique()
            c["nb_qpv"] = nq.reindex(self.index).fillna(0).to_numpy(dtype=float)
            c["qpv"] = c["nb_qpv"] > 0
        else:
            self.qpv_pairs = None
            c["nb_qpv"] = np.nan
            c["qpv"] = pd.array([pd.NA] * n, dtype="boolean")
        # FRR classification and legacy ZRR
        c["classement_frr"] = self._par_commune(self.frr, "classement", "Non classée")
        c["zrr"] = self._par_commune(self.zrr, "zrr", "N")
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
        self.dep_principal = {
            "epci": order.dropna(subset=["epci_siren"]).drop_duplicates("epci_siren").set_index("epci_siren")["dep"],
            "ept": order.dropna(subset=["ept_code"]).drop_duplicates("ept_code").set_index("ept_code")["dep"],
        }
        self.base = c

    def _par_commune(self, frame: pd.DataFrame | None, col: str, fill: str):
        """A text column of a per-commune layer aligned on the communes (first row of a repeated
        code, ``fill`` for a commune the layer does not list); NA everywhere without the layer."""
        if frame is None:
            return pd.array([pd.NA] * len(self.index), dtype="str")
        s = frame.set_index(frame["code_insee"].astype(str))[col]
        return s[~s.index.duplicated()].reindex(self.index).fillna(fill).astype(str).to_numpy()

    def _prepare_structures(self) -> None:
        n = len(self.base)
        s = self.structures
        if s is None:
            self.structures_known = np.zeros(n, dtype=bool)
            self.structure_arrays = None
            self.structures_hors_referentiel = 0
            self.types_non_reconnus: dict[str, int] = {}
            return
        codes = s["code_insee"].astype(str).map(fold_arrondissement)
        pos = self.index.get_indexer(codes)
        kinds_norm = s["type"].map(norm_type) if "type" in s.columns else pd.Series("", index=s.index)
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
        self.structure_arrays = {
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
        return self.structure_arrays is not None

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
