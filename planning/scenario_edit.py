"""Build and edit CTG scenarios (docs/SCENARIOS.md) from the store and from editable tables.

Pure pandas: the simulator page shows these frames in ``st.data_editor`` and
turns the edited frames back into a scenario dict.
"""
from __future__ import annotations

import copy
import re
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from .stock import ouvertes
from .parametres import Baremes
from .scenario_format import value_for_year

EAJE_PSU_TYPES = ("EAJE", "CRECHE_FAMILIALE", "MICRO_CRECHE", "CRECHE_COLLECTIVE", "MULTI_ACCUEIL",
                  "HALTE_GARDERIE", "JARDIN_ENFANTS", "CRECHE_PARENTALE")

# scalar columns of the structures table, with their French header
SCALAR_FIELDS: dict[str, str] = {
    "prix_revient_horaire": "Prix de revient (€/h)",
    "heures_facturees_par_place": "Heures facturées / place / an",
    "taux_facturation": "Taux de facturation",
    "participation_horaire_moyenne": "Participation familiale moyenne (€/h)",
    "part_regime_general": "Part régime général",
    "part_enfants_handicap": "Part d'enfants en situation de handicap",
    "journees_pedagogiques": "Journées pédagogiques / an",
}
BOOL_FIELDS = {"fournit_couches": "Couches fournies", "fournit_repas": "Repas fournis"}


def places_column(annee: int) -> str:
    return f"places_{annee}"


def scenario_from_store(
    territoire_nom: str,
    communes: Iterable[str],
    structures: pd.DataFrame | None,
    *,
    periode: tuple[int, int] = (2023, 2027),
    qpv_communes: Iterable[str] = (),
    frr_communes: Iterable[str] = (),
    potentiel_financier: float | None = None,
    baremes: Baremes | None = None,
) -> dict[str, Any]:
    """A scenario pre-filled with the PSU crèches of the territory found in the store.

    Places per year follow the opening and closing dates; costs and hours are
    the editable defaults of ``planning/baremes/saisie.yaml`` (flagged « à vérifier »).
    """
    bar = baremes or Baremes()
    debut, fin = periode
    codes = sorted(set(communes))
    qpv, frr = set(qpv_communes), set(frr_communes)
    defaults = {k: bar.value(f"saisie.{k}", debut) for k in
                ("prix_revient_horaire", "heures_facturees_par_place", "taux_facturation",
                 "participation_horaire_moyenne", "part_enfants_handicap")}
    structs: list[dict[str, Any]] = []
    if structures is not None and len(structures):
        sub = structures[structures["code_insee"].isin(codes) & structures["type"].isin(EAJE_PSU_TYPES)
                         & structures["psu"].astype("boolean").fillna(False).astype(bool)]
        sub = sub.sort_values(["code_insee", "nom"])
        open_by_year = {y: ouvertes(sub, y) for y in range(debut, fin + 1)}
        for i, s in sub.iterrows():
            places = {str(y): int(s["places"]) if open_by_year[y][i] else 0 for y in range(debut, fin + 1)}
            if not any(places.values()):
                continue
            # compact per-year value: keep only the changes
            compact, last = {}, None
            for y, v in places.items():
                if v != last:
                    compact[y] = v
                    last = v
            structs.append({
                "id": str(s.get("id") or f"S{len(structs) + 1}"),
                "nom": str(s["nom"]),
                "code_insee": str(s["code_insee"]),
                "gestion": "privee" if str(s.get("gestion", "")).startswith("priv") else "publique",
                "places_ouvertes": compact,
                **defaults,
                "fournit_couches": True,
                "fournit_repas": True,
                "journees_pedagogiques": 0,
                "qpv": s["code_insee"] in qpv,
                "frr_zrr": s["code_insee"] in frr,
            })
    ref_places = sum(value_for_year(s["places_ouvertes"], debut, 0) or 0 for s in structs)
    territoire: dict[str, Any] = {
        "nom": territoire_nom,
        "communes": codes,
        "places_psu_cofinancees_reference": int(ref_places),
        "qpv": bool(qpv & set(codes)),
        "frr_zrr": bool(frr & set(codes)),
    }
    if potentiel_financier is not None and not pd.isna(potentiel_financier):
        territoire["potentiel_financier_par_habitant"] = round(float(potentiel_financier), 2)
    return {
        "nom": f"CTG {territoire_nom} {debut}-{fin}",
        "periode": {"debut": debut, "fin": fin},
        "territoire": territoire,
        "structures": structs,
        "parametres": {},
    }


def structures_frame(scenario: Mapping[str, Any]) -> pd.DataFrame:
    """One row per structure, places per year as columns, for ``st.data_editor``."""
    debut, fin = scenario["periode"]["debut"], scenario["periode"]["fin"]
    rows = []
    for s in scenario.get("structures", []):
        row: dict[str, Any] = {
            "id": s.get("id", ""), "nom": s.get("nom", ""), "code_insee": s.get("code_insee", ""),
            "gestion": s.get("gestion", "publique"), "psu": bool(s.get("psu", True)),
        }
        for y in range(debut, fin + 1):
            row[places_column(y)] = value_for_year(s.get("places_ouvertes", 0), y, 0) or 0
        for k in SCALAR_FIELDS:
            v = s.get(k)
            row[k] = value_for_year(v, debut) if v is not None else np.nan
        for k in BOOL_FIELDS:
            row[k] = bool(s.get(k, True))
        rows.append(row)
    cols = (["id", "nom", "code_insee", "gestion", "psu"] + [places_column(y) for y in range(debut, fin + 1)]
            + list(SCALAR_FIELDS) + list(BOOL_FIELDS))
    return pd.DataFrame(rows, columns=cols)


def _clean(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def apply_structures_frame(scenario: Mapping[str, Any], frame: pd.DataFrame) -> dict[str, Any]:
    """Scenario with its structures replaced by the edited table.

    Per-year values of the original scenario (e.g. a cost that changes in 2025)
    are kept when the cell still shows their first-year value; an edited cell
    replaces them by a single value.  Places per year are stored compactly.
    """
    out = copy.deepcopy(dict(scenario))
    debut, fin = out["periode"]["debut"], out["periode"]["fin"]
    originals = {str(s.get("id")): s for s in scenario.get("structures", [])}
    structs = []
    for i, row in enumerate(frame.to_dict("records")):
        sid = str(_clean(row.get("id")) or f"S{i + 1}")
        base = copy.deepcopy(originals.get(sid, {}))
        s: dict[str, Any] = dict(base)
        s.update({"id": sid, "nom": _clean(row.get("nom")) or "", "code_insee": str(_clean(row.get("code_insee")) or ""),
                  "gestion": _clean(row.get("gestion")) or "publique", "psu": bool(_clean(row.get("psu")) is not False)})
        compact, last = {}, None
        for y in range(debut, fin + 1):
            v = _clean(row.get(places_column(y)))
            v = 0 if v is None else v
            if v != last:
                compact[str(y)] = v
                last = v
        s["places_ouvertes"] = compact
        for k in SCALAR_FIELDS:
            v = _clean(row.get(k))
            if v is None:
                s.pop(k, None)
                continue
            if isinstance(base.get(k), dict) and value_for_year(base[k], debut) == v:
                s[k] = base[k]
            else:
                s[k] = v
        for k in BOOL_FIELDS:
            s[k] = bool(_clean(row.get(k)) is not False)
        structs.append(s)
    out["structures"] = structs
    return out


def parametres_frame(baremes: Baremes, annee: int, overrides: Mapping[str, Any]) -> pd.DataFrame:
    """Scalar parameters in force for a year, with the user's overrides, for editing."""
    rows = []
    for r in baremes.table(annee):
        if not isinstance(r["valeur"], (int, float)) or isinstance(r["valeur"], bool):
            continue
        name = r["parametre"]
        rows.append({
            "parametre": name,
            "description": r["description"],
            "valeur_officielle": float(r["valeur"]),
            "valeur": float(overrides.get(name, r["valeur"])),
            "unite": r["unite"],
            "confiance": r["confiance"],
            "a_verifier": bool(r["a_verifier"]),
            "nature": r["nature"],
            "source": r["source"],
            "depuis": r["depuis"],
        })
    return pd.DataFrame(rows)


def overrides_from_frame(frame: pd.DataFrame) -> dict[str, float]:
    """Parameters whose value differs from the one in force."""
    changed = frame[~np.isclose(frame["valeur"].astype(float), frame["valeur_officielle"].astype(float))]
    return {r.parametre: float(r.valeur) for r in changed.itertuples()}


def communes_montant_maximal(frr: pd.DataFrame | None, zrr: pd.DataFrame | None, annee: int,
                             baremes: Baremes | None = None) -> set[str]:
    """Communes treated as « ZRR » for the top bonus-territoire amount.

    FRR classes listed in ``ctg.classements_frr_montant_maximal`` (FRR replaced ZRR on
    1 July 2024); the legacy ZRR list (classée or partiellement) only when no FRR file is imported.
    """
    bar = baremes or Baremes()
    out: set[str] = set()
    if frr is not None:
        classes = bar.value("ctg.classements_frr_montant_maximal", annee)
        out |= set(frr.loc[frr["classement"].isin(classes), "code_insee"])
    elif zrr is not None:
        out |= set(zrr.loc[zrr["zrr"].isin(["C", "P"]), "code_insee"])
    return out


def potentiel_financier_moyen(dgcl: pd.DataFrame | None, population: pd.Series, codes: Iterable[str]) -> float | None:
    """Potentiel financier per inhabitant of a group of communes, weighted by population.

    ``population``: population indexed by code_insee. None when the DGCL file is not imported
    or covers none of the communes.
    """
    if dgcl is None:
        return None
    sub = dgcl[dgcl["code_insee"].isin(set(codes))].dropna(subset=["potentiel_financier_hab"])
    if sub.empty:
        return None
    w = sub["code_insee"].map(population).fillna(0)
    if w.sum() <= 0:
        return float(sub["potentiel_financier_hab"].mean())
    return float((sub["potentiel_financier_hab"] * w).sum() / w.sum())


_PATH_PLACES = re.compile(r"structures\[(\d+)\]\.places_ouvertes\.(\d{4})")
_PATH_FIELD = re.compile(r"structures\[(\d+)\]\.(\w+)")


def message_lisible(message: str, scenario: Mapping[str, Any]) -> str:
    """A validation message in the words of the editable table:
    « structures[0].places_ouvertes.2024 : … » → « Crèche X (ligne 1) — Places 2024 : … »."""
    structs = list(scenario.get("structures", []))

    def name(i: str) -> str:
        k = int(i)
        nom = structs[k].get("nom") if k < len(structs) else None
        return f"« {nom} » (ligne {k + 1})" if nom else f"Ligne {k + 1}"

    out = _PATH_PLACES.sub(lambda m: f"{name(m.group(1))} — Places {m.group(2)}", message)
    labels = {**SCALAR_FIELDS, **BOOL_FIELDS, "nom": "Structure", "code_insee": "Commune (INSEE)",
              "gestion": "Gestion", "places_ouvertes": "Places"}
    return _PATH_FIELD.sub(lambda m: f"{name(m.group(1))} — {labels.get(m.group(2), m.group(2))}", out)


def structures_psu_inconnu(structures: pd.DataFrame | None, communes: Iterable[str], annee: int) -> tuple[int, int]:
    """(structures, places) of EAJE open on 31 December ``annee`` in these communes whose PSU financing is
    « non renseigné » (open-data lists): the pre-fill leaves them out, the page says how many."""
    if structures is None or not len(structures) or "psu" not in structures:
        return 0, 0
    sub = structures[structures["code_insee"].isin(set(communes)) & structures["type"].isin(EAJE_PSU_TYPES)
                     & structures["psu"].astype("boolean").isna()]
    sub = sub[ouvertes(sub, annee)] if len(sub) else sub
    return len(sub), int(pd.to_numeric(sub["places"], errors="coerce").fillna(0).sum())
