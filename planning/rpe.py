"""RPE target: COG-01-11 and the legal obligation of 1 January 2026.

Towns over the legal threshold (population légale of the communes layer, strictly more than
``objectifs_cog.seuil_population_obligation_rpe``) must have a relais petite enfance (RPE)
**located in the town**.  An intercommunal RPE located in another commune of the same EPCI
(of the same EPT inside the Métropole du Grand Paris) does not count: such a town is flagged
« couverte depuis une autre commune ».

:func:`rpe_target` serves the page and ``python -m planning rpe-target`` (:mod:`planning.cli_rpe`);
:func:`rpe_table` gives the staffing of every RPE against the COG-01-10 target.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from data.codes import fold_arrondissement

from .catalogue import cible_cog, parametre
from .coverage import ratio
from .entrees import TYPE_RPE, CoucheAbsente, CoverageInputs, norm_type
from .formats import fr_int, fr_number, fr_ratio
from .parametres import ParametreAbsent
from .stock import commune_stock, open_mask
from .territoires import FRANCE, Territoire, TerritoireInconnu, masque, parse_territoire, resolve

PARAM_CIBLE = "objectifs_cog.part_villes_10000_avec_rpe"
PARAM_SEUIL = "objectifs_cog.seuil_population_obligation_rpe"


def _py(v: Any) -> Any:
    """JSON-ready scalar (NaN → None, numpy → Python)."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not np.isfinite(v) else float(v)
    return v


@dataclass
class VilleObligee:
    """A town over the threshold and its RPE situation."""

    code: str
    nom: str
    population: int
    dep: str
    epci_siren: str | None
    epci_nom: str | None
    ept_code: str | None
    qpv: bool | None
    taux_eaje: float | None           # EAJE places per 100 children under 3 (NaN → None)
    nb_rpe: int                       # RPE located in the town
    couverte_ailleurs: bool           # no RPE in town, but one elsewhere in the EPCI / EPT
    rpe_ailleurs: list[dict] = field(default_factory=list)  # communes hosting those RPE

    @property
    def avec_rpe(self) -> bool:
        return self.nb_rpe > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "nom": self.nom, "population": int(self.population), "dep": self.dep,
            "epci_siren": self.epci_siren, "epci_nom": self.epci_nom, "ept_code": self.ept_code,
            "qpv": _py(self.qpv), "taux_eaje": _py(self.taux_eaje), "nb_rpe": int(self.nb_rpe),
            "avec_rpe": self.avec_rpe, "couverte_ailleurs": self.couverte_ailleurs,
            "rpe_ailleurs": self.rpe_ailleurs,
        }


@dataclass
class RpeTargetResult:
    annee: int
    territoire: Territoire
    seuil: int
    villes: list[VilleObligee]            # towns over the threshold with known structures
    villes_sans_donnee: list[str]         # towns over the threshold outside the structure list
    cible: float | None                   # COG-01-11 target of the year (ratio), None outside 2023-2027
    cible_source: str
    echeance_legale: dt.date
    source_structures: str
    departements_structures: tuple[str, ...] = ()

    def restreint(self, territoire: Territoire, communes=None) -> "RpeTargetResult":
        """The same figures for the towns of one EPCI or EPT (a CTG territory) only; ``communes`` (the
        territory's INSEE codes) also keeps its towns that no structure list covers."""
        key = "ept_code" if territoire.niveau == "ept" else "epci_siren"
        keep = [v for v in self.villes if getattr(v, key) == territoire.code]
        codes = set(communes or ())
        sans = [c for c in self.villes_sans_donnee if c in codes]
        return replace(self, villes=keep, villes_sans_donnee=sans, territoire=territoire)

    # -- figures --------------------------------------------------------------
    @property
    def nb_communes(self) -> int:
        """Towns over the threshold whose structures are known (the indicator's denominator)."""
        return len(self.villes)

    @property
    def nb_communes_perimetre(self) -> int:
        return len(self.villes) + len(self.villes_sans_donnee)

    @property
    def nb_avec_rpe(self) -> int:
        return sum(v.avec_rpe for v in self.villes)

    @property
    def part(self) -> float | None:
        return self.nb_avec_rpe / self.nb_communes if self.nb_communes else None

    @property
    def atteinte(self) -> bool | None:
        if self.cible is None or self.part is None:
            return None
        return self.part >= self.cible - 1e-12

    @property
    def echeance_depassee(self) -> bool:
        """True when the legal deadline falls on or before 31 December of ``annee``."""
        return self.echeance_legale <= dt.date(self.annee, 12, 31)

    @property
    def sans_liste(self) -> bool:
        """True when no structure list covers any town of the perimeter: the indicator is unknown
        (« donnée non disponible »), not « 0 town »."""
        return not self.villes and bool(self.villes_sans_donnee)

    @property
    def message_donnee_absente(self) -> str | None:
        """The French sentence every page, command and document shows when the data is missing."""
        if not self.sans_liste:
            return None
        couverts = ", ".join(self.departements_structures) or "aucun"
        n = len(self.villes_sans_donnee)
        return (f"Donnée non disponible : aucune liste de structures ne couvre ce territoire ({self.territoire.libelle}, "
                f"{n} commune{'s' if n > 1 else ''} de plus de {fr_number(self.seuil, 0)} habitants). "
                f"Départements couverts par la liste importée : {couverts}. Importez la liste des structures "
                "de ce département (page Import des données ou `python -m data import structures FICHIER`).")

    @property
    def plus_de_seuil(self) -> str:
        """« plus de 10 000 habitants », from the dated threshold."""
        return f"plus de {fr_int(self.seuil)} habitants"

    def phrase_part(self) -> str:
        """« 32 sur 35 (91,4 %) », or « donnée non disponible » when no structure list covers the perimeter."""
        if self.sans_liste:
            return "donnée non disponible (aucune liste de structures pour ce territoire)"
        part = f" ({fr_ratio(self.part)})" if self.part is not None else ""
        return f"{self.nb_avec_rpe} sur {self.nb_communes}{part}"

    @property
    def sans_rpe(self) -> list[VilleObligee]:
        return [v for v in self.villes if not v.avec_rpe]

    @property
    def couvertes_ailleurs(self) -> list[VilleObligee]:
        return [v for v in self.villes if v.couverte_ailleurs]

    def to_dict(self) -> dict[str, Any]:
        return {
            "indicateur": "COG-01-11",
            "libelle": f"Part des communes de {self.plus_de_seuil} disposant d'un RPE situé dans la commune",
            "annee": self.annee,
            "territoire": self.territoire.to_dict(),
            "seuil_population": self.seuil,
            "donnees_disponibles": not self.sans_liste,
            "message_donnee_absente": self.message_donnee_absente,
            "nb_communes_plus_10000": self.nb_communes,
            "nb_communes_plus_10000_perimetre": self.nb_communes_perimetre,
            "nb_avec_rpe": self.nb_avec_rpe,
            "part": _py(self.part),
            "cible": _py(self.cible),
            "cible_source": self.cible_source,
            "atteinte": self.atteinte,
            "echeance_legale": self.echeance_legale.isoformat(),
            "echeance_depassee": self.echeance_depassee,
            "sans_rpe": [v.code for v in self.sans_rpe],
            "couvertes_ailleurs": [v.code for v in self.couvertes_ailleurs],
            "villes_sans_rpe": [v.to_dict() for v in self.sans_rpe],
            "villes_sans_donnee": list(self.villes_sans_donnee),
            "departements_structures": list(self.departements_structures),
            "source_structures": self.source_structures,
            "note": ("Un RPE intercommunal situé dans une autre commune de l'EPCI (ou de l'EPT) ne compte pas "
                     "pour l'indicateur : la commune est signalée « couverte depuis une autre commune »."),
        }

    def table(self) -> pd.DataFrame:
        """One row per town over the threshold (for the page's table)."""
        cols = ["code", "nom", "population", "dep", "epci_siren", "epci_nom", "ept_code", "qpv", "taux_eaje",
                "nb_rpe", "avec_rpe", "couverte_ailleurs"]
        rows = [{k: v.to_dict()[k] for k in cols} for v in self.villes]
        df = pd.DataFrame(rows, columns=cols)
        df["rpe_ailleurs"] = [", ".join(f"{r['nom']} ({r['code']})" for r in v.rpe_ailleurs) for v in self.villes]
        return df


def seuil_obligation(annee: int, inputs: CoverageInputs | None = None) -> int:
    """Population threshold of the RPE obligation (the law's value, also before it applies)."""
    return int(parametre(PARAM_SEUIL, annee, inputs.baremes if inputs else None)[0])


def echeance_legale(inputs: CoverageInputs | None = None) -> dt.date:
    """Date the obligation starts: the first date of the threshold parameter (1 January 2026)."""
    from .parametres import Baremes

    b = (inputs.baremes if inputs else None) or Baremes()
    return b.definition(PARAM_SEUIL).valeurs[0][0]


def _perimetre(communes: pd.DataFrame, departement: str | None, region: str | None,
               perimetre: Territoire | None = None) -> Territoire:
    if perimetre is not None:
        if departement or region:
            raise TerritoireInconnu("Indiquez le périmètre ou un code de département ou de région, pas les deux.")
        return perimetre
    if departement and region:
        raise TerritoireInconnu("Choisissez un département ou une région, pas les deux.")
    if departement:
        return resolve(communes, "departement", departement)
    if region:
        return resolve(communes, "region", region)
    return FRANCE


def communes_obligees(communes: pd.DataFrame, annee: int, departement: str | None = None,
                      region: str | None = None, inputs: CoverageInputs | None = None) -> pd.DataFrame:
    """Communes over the threshold in the perimeter (population > seuil), largest first.

    Needs only the communes layer (``code_insee``, ``nom``, ``dep``, ``reg``, ``population``).
    """
    seuil = seuil_obligation(annee, inputs)
    t = _perimetre(communes, departement, region)
    m = masque(communes, t.niveau, t.code).to_numpy()
    pop = pd.to_numeric(communes["population"], errors="coerce")
    return communes[m & (pop > seuil).to_numpy()].sort_values("population", ascending=False)


def rpe_target(inputs: CoverageInputs, annee: int, departement: str | None = None,
               region: str | None = None, perimetre: Territoire | None = None) -> RpeTargetResult:
    """COG-01-11 for the nation, a région or a département in ``annee`` (RPE open at 31 December):
    ``perimetre`` (the France, a région or a département), or their codes ``departement``/``region``.

    Only the towns of départements covered by the structure list count in the share
    (the others are listed in ``villes_sans_donnee``).  Raises :class:`CoucheAbsente`
    without a structures layer and :class:`TerritoireInconnu` for an unknown code.
    """
    annee = int(annee)
    base = inputs.base
    t = _perimetre(base, departement, region, perimetre)
    if not inputs.has_structures():
        raise CoucheAbsente(
            "La couche « structures » est absente : importez la liste des structures de la Caf "
            "(page Import des données, ou `python -m data import structures FICHIER`) "
            "ou générez la démonstration (`python -m data demo`)."
        )
    seuil = seuil_obligation(annee, inputs)
    stock = commune_stock(inputs, annee)
    nb_rpe = stock["nb_rpe"]
    taux = ratio(stock["places_eaje"], base["enfants_moins_3"].to_numpy(dtype=float), 100.0)
    # group of the intercommunal RPE: the EPT inside the Grand Paris, else the EPCI
    group = base["ept_code"].where(base["ept_code"].notna(), base["epci_siren"])
    has_rpe = np.nan_to_num(nb_rpe, nan=0.0) > 0
    rpe_pos = np.flatnonzero(has_rpe)
    hosts: dict[str, list[int]] = {}
    for p in rpe_pos:
        g = group.iat[p]
        if isinstance(g, str):
            hosts.setdefault(g, []).append(int(p))

    m = masque(base, t.niveau, t.code).to_numpy() & (base["population"].to_numpy(dtype=float) > seuil)
    idx = np.flatnonzero(m)
    idx = idx[np.argsort(-base["population"].to_numpy(dtype=float)[idx], kind="stable")]
    villes: list[VilleObligee] = []
    sans_donnee: list[str] = []
    qpv = base["qpv"]

    def txt(v):
        return v if isinstance(v, str) else None

    for p in idx:
        r = base.iloc[p]
        if not inputs.structures_known[p]:
            sans_donnee.append(r["code_insee"])
            continue
        n = int(nb_rpe[p])
        g = group.iat[p]
        elsewhere = [q for q in hosts.get(g, []) if q != p] if isinstance(g, str) and n == 0 else []
        villes.append(VilleObligee(
            code=r["code_insee"], nom=r["nom"], population=int(r["population"]), dep=r["dep"],
            epci_siren=txt(r["epci_siren"]), epci_nom=txt(r["epci_nom"]), ept_code=txt(r["ept_code"]),
            qpv=None if pd.isna(qpv.iat[p]) else bool(qpv.iat[p]),
            taux_eaje=_py(taux[p]), nb_rpe=n, couverte_ailleurs=bool(elsewhere),
            rpe_ailleurs=[{"code": base["code_insee"].iat[q], "nom": base["nom"].iat[q],
                           "nb_rpe": int(nb_rpe[q])} for q in elsewhere],
        ))
    cible = cible_cog(PARAM_CIBLE, annee, inputs.baremes)
    try:
        src = inputs.baremes.get(PARAM_CIBLE, annee).source
    except ParametreAbsent:
        src = "Pas de cible COG pour cette année (COG 2023-2027)."
    return RpeTargetResult(
        annee=annee, territoire=t, seuil=seuil, villes=villes, villes_sans_donnee=sans_donnee,
        cible=cible, cible_source=src, echeance_legale=echeance_legale(inputs),
        source_structures=inputs.prov("structures").libelle,
        departements_structures=tuple(inputs.structures_departements or ()),
    )


# ---------------------------------------------------------------------------
# RPE staffing (COG-01-10)
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
    is_rpe = (s["type"].map(norm_type) == TYPE_RPE).to_numpy() & (pos >= 0)
    sub = s[is_rpe]
    p = pos[is_rpe]
    st = {"ouv": pd.to_datetime(sub.get("date_ouverture"), errors="coerce").to_numpy(dtype="datetime64[ns]")
          if "date_ouverture" in sub else np.full(len(sub), np.datetime64("NaT"), "datetime64[ns]"),
          "ferm": pd.to_datetime(sub.get("date_fermeture"), errors="coerce").to_numpy(dtype="datetime64[ns]")
          if "date_fermeture" in sub else np.full(len(sub), np.datetime64("NaT"), "datetime64[ns]")}
    m = open_mask(st, annee)
    sub, p = sub[m], p[m]
    b = inputs.base
    etp = pd.to_numeric(sub.get("etp_animation"), errors="coerce").to_numpy(dtype=float)
    am = pd.to_numeric(sub.get("nb_assistants_maternels"), errors="coerce").to_numpy(dtype=float)
    cible = cible_cog("objectifs_cog.assistants_maternels_par_etp_rpe", annee, inputs.baremes)
    par_etp = ratio(am, etp)
    out = pd.DataFrame({
        "id": sub["id"].to_numpy() if "id" in sub else np.arange(len(sub)),
        "nom": sub["nom"].to_numpy() if "nom" in sub else None,
        "code_insee": b["code_insee"].to_numpy()[p], "commune": b["nom"].to_numpy()[p],
        "dep": b["dep"].to_numpy()[p], "epci_siren": b["epci_siren"].to_numpy()[p],
        "etp_animation": etp, "nb_assistants_maternels": am, "am_par_etp": par_etp,
        "cible_am_par_etp": np.nan if cible is None else cible,
    })
    out["ecart_cible"] = out["am_par_etp"] - out["cible_am_par_etp"]
    if territoire is not None:
        tn, tc = parse_territoire(territoire)
        if tn != "france":
            wanted = set(b.loc[masque(b, tn, tc).to_numpy(), "code_insee"])
            out = out[out["code_insee"].isin(wanted)]
    return out.reset_index(drop=True)
