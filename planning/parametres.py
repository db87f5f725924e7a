"""Dated parameters (barèmes), in the spirit of OpenFisca's parameter files.

Each YAML file in ``planning/baremes/`` holds named parameters; each
parameter has a list of values, one per start date, each with its source and a
confidence mark::

    taux_psu:
      description: Part du prix de revient horaire prise en charge
      unite: ratio
      valeurs:
        - depuis: 2014-01-01
          valeur: 0.66
          source: "Cnaf, lettre circulaire 2014-009"
          confiance: C        # C confirmed, P partial, ? unknown (user parameter)

A parameter is addressed as ``<file stem>.<name>`` (``psu.taux_psu``) and read
for a year or a date: the value in force is the last one whose ``depuis`` is
on or before that date (1 January for a bare year).  Values marked ``?`` are
editable defaults: ``ParamValue.a_verifier`` is true and the UI must say so.

A scenario may override any parameter; the override is returned as a
``ParamValue`` whose source says it was entered by the user.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

BAREMES_DIR = Path(__file__).resolve().parent / "baremes"
CONFIDENCES = ("C", "P", "?")
SOURCE_UTILISATEUR = "Saisie de l'utilisateur (scénario)"


class ParametreInconnu(KeyError):
    def __str__(self) -> str:  # French message for the UI / CLI
        return f"Paramètre inconnu : {self.args[0]}"


class ParametreAbsent(LookupError):
    """No value in force at the requested date."""


@dataclass(frozen=True)
class ParamValue:
    name: str
    valeur: Any
    depuis: dt.date | None
    source: str
    confiance: str
    description: str = ""
    unite: str = ""
    surcharge: bool = False

    @property
    def a_verifier(self) -> bool:
        """True for a value the user must check (confidence ``?``) or entered."""
        return self.confiance == "?"

    def explain(self) -> dict[str, Any]:
        """JSON-ready record for a 'détail du calcul'."""
        return {
            "parametre": self.name,
            "valeur": self.valeur,
            "depuis": self.depuis.isoformat() if self.depuis else None,
            "source": self.source,
            "confiance": self.confiance,
            "a_verifier": self.a_verifier,
            "surcharge": self.surcharge,
            "unite": self.unite,
        }


@dataclass
class Parametre:
    name: str
    description: str
    unite: str
    valeurs: list[tuple[dt.date, Any, str, str]] = field(default_factory=list)
    # one shared ParamValue per date asked: a simulation asks the same few dates thousands of times
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def at(self, when: dt.date) -> ParamValue:
        hit = self._cache.get(when)
        if hit is not None:
            return hit
        chosen = None
        for depuis, valeur, source, confiance in self.valeurs:
            if depuis <= when:
                chosen = (depuis, valeur, source, confiance)
        if chosen is None:
            first = self.valeurs[0][0].isoformat() if self.valeurs else "?"
            raise ParametreAbsent(
                f"Le paramètre {self.name} n'a pas de valeur au {when.isoformat()} (première valeur : {first})."
            )
        depuis, valeur, source, confiance = chosen
        pv = ParamValue(self.name, valeur, depuis, source, confiance, self.description, self.unite)
        if len(self._cache) < 512:
            self._cache[when] = pv
        return pv


def _as_date(when: int | dt.date | str) -> dt.date:
    if isinstance(when, dt.datetime):
        return when.date()
    if isinstance(when, dt.date):
        return when
    if isinstance(when, int):
        return dt.date(when, 1, 1)
    return dt.date.fromisoformat(str(when))


def _parse_file(path: Path) -> dict[str, Parametre]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    out: dict[str, Parametre] = {}
    for key, spec in doc.items():
        name = f"{path.stem}.{key}"
        if not isinstance(spec, dict) or "valeurs" not in spec:
            raise ValueError(f"{path.name} : le paramètre « {key} » n'a pas de liste « valeurs ».")
        p = Parametre(name, spec.get("description", ""), spec.get("unite", ""))
        for i, v in enumerate(spec["valeurs"]):
            for required in ("depuis", "valeur", "source", "confiance"):
                if required not in v:
                    raise ValueError(f"{path.name} : {key}, valeur n° {i + 1} sans « {required} ».")
            conf = str(v["confiance"])
            if conf not in CONFIDENCES:
                raise ValueError(f"{path.name} : {key}, confiance « {conf} » inconnue (C, P ou ?).")
            p.valeurs.append((_as_date(v["depuis"]), v["valeur"], str(v["source"]), conf))
        p.valeurs.sort(key=lambda t: t[0])
        out[name] = p
    return out


@lru_cache(maxsize=8)
def _load_dir(directory: str) -> dict[str, Parametre]:
    params: dict[str, Parametre] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        params.update(_parse_file(path))
    return params


class Baremes:
    """All parameters, with optional user overrides (``{name: value}``)."""

    def __init__(self, overrides: Mapping[str, Any] | None = None, directory: Path | None = None):
        self.directory = Path(directory) if directory else BAREMES_DIR
        self._params = _load_dir(str(self.directory))
        self.overrides = dict(overrides or {})
        self._surcharges: dict[str, ParamValue] = {}
        unknown = [k for k in self.overrides if k not in self._params]
        if unknown:
            raise ParametreInconnu(", ".join(unknown))

    def names(self) -> list[str]:
        return sorted(self._params)

    def definition(self, name: str) -> Parametre:
        try:
            return self._params[name]
        except KeyError:
            raise ParametreInconnu(name) from None

    def get(self, name: str, when: int | dt.date | str) -> ParamValue:
        p = self.definition(name)
        if name in self.overrides:
            pv = self._surcharges.get(name)
            if pv is None:
                pv = self._surcharges[name] = ParamValue(name, self.overrides[name], None, SOURCE_UTILISATEUR, "?",
                                                         p.description, p.unite, surcharge=True)
            return pv
        return p.at(_as_date(when))

    def value(self, name: str, when: int | dt.date | str) -> Any:
        return self.get(name, when).valeur

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Baremes":
        merged = dict(self.overrides)
        merged.update(overrides)
        return Baremes(merged, self.directory)

    def table(self, when: int | dt.date | str) -> list[dict[str, Any]]:
        """Every parameter in force at a date, for the 'hypothèses' screens."""
        rows = []
        for name in self.names():
            try:
                rows.append(self.get(name, when).explain() | {"description": self._params[name].description})
            except ParametreAbsent:
                continue
        return rows
