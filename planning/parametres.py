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
          url: https://…      # optional: where the text can be read
          confiance_date: "?" # optional: confidence of the start date itself (default: same as the value)
          note: "…"           # optional: how a derived value was computed, what is uncertain

A parameter may also carry ``choix`` (the allowed values of a rule, with a French label each) and
``avant`` (a French sentence saying why there is no value before the first date: « bonus créé en
2019 », « montant non trouvé avant 2025 »).  A value is « à vérifier » when its confidence *or* the
confidence of its start date is ``?`` (the 2024 bonus mixité thresholds are confirmed, the date they
apply from is not).

A parameter is addressed as ``<file stem>.<name>`` (``psu.taux_psu``) and read
for a year or a date: the value in force is the last one whose ``depuis`` is
on or before that date (1 January for a bare year).  Values marked ``?`` are
editable defaults: ``ParamValue.a_verifier`` is true and the UI must say so.

A scenario may override any parameter; the override is returned as a
``ParamValue`` whose source says it was entered by the user.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

BAREMES_DIR = Path(__file__).resolve().parent / "baremes"
CONFIDENCES = ("C", "P", "?")
SOURCE_UTILISATEUR = "Saisie de l'utilisateur (scénario)"
# Where a value comes from: shipped in planning/baremes/*.yaml, or entered once a year by an
# administrator (national barème, or the local barème of a département: data/baremes_db.py).
NATURE_DEFAUT = "barème livré"
NATURE_SAISIE = "barème saisi"
NATURE_SCENARIO = "saisie du scénario"
LIBELLES_CONFIANCE = {"C": "confirmé", "P": "partiel", "?": "à vérifier"}
PORTEE_NATIONALE = "national"  # scope of a barème saisi: "national" or a département code ("89", "2A", "971")


class ParametreInconnu(KeyError):
    def __str__(self) -> str:  # French message for the UI / CLI
        return f"Paramètre inconnu : {self.args[0]}"


class ParametreAbsent(LookupError):
    """No value in force at the requested date."""


class ValeurDatee(tuple):
    """One dated value: unpacks as ``(depuis, valeur, source, confiance)`` like before, and carries
    the optional ``url``, ``confiance_date``, ``note`` and ``nature`` as attributes."""

    def __new__(cls, depuis: dt.date, valeur: Any, source: str, confiance: str, *, url: str = "",
                confiance_date: str | None = None, note: str = "", nature: str = NATURE_DEFAUT):
        self = super().__new__(cls, (depuis, valeur, source, confiance))
        self.url = url
        self.confiance_date = confiance_date
        self.note = note
        self.nature = nature
        return self

    depuis = property(lambda self: self[0])
    valeur = property(lambda self: self[1])
    source = property(lambda self: self[2])
    confiance = property(lambda self: self[3])

    @property
    def a_verifier(self) -> bool:
        return self.confiance == "?" or self.confiance_date == "?"


@dataclass(frozen=True)
class ValeurSaisie:
    """One value of a barème entered by an administrator (stored in the scenario database)."""
    parametre: str
    depuis: dt.date
    valeur: Any
    source: str
    portee: str = PORTEE_NATIONALE
    auteur: str | None = None
    saisi_le: dt.datetime | None = None

    @property
    def libelle_portee(self) -> str:
        return "barème national" if self.portee == PORTEE_NATIONALE else f"barème local du {self.portee}"

    def valeur_datee(self) -> "ValeurDatee":
        qui = f" par {self.auteur}" if self.auteur else ""
        quand = f" le {self.saisi_le:%d/%m/%Y}" if self.saisi_le else ""
        return ValeurDatee(self.depuis, self.valeur, self.source, "C", nature=NATURE_SAISIE,
                           note=f"{self.libelle_portee[0].upper()}{self.libelle_portee[1:]}, saisi{qui}{quand}.")


def saisies_applicables(saisies: Iterable[ValeurSaisie], departement: str | None) -> dict[str, list[ValeurSaisie]]:
    """The entered values that apply to a territory, by parameter: the national ones, and those of
    ``departement``, which outrank a national value at the same date."""
    best: dict[tuple[str, dt.date], ValeurSaisie] = {}
    for v in saisies:
        if v.portee != PORTEE_NATIONALE and v.portee != departement:
            continue
        key = (v.parametre, v.depuis)
        if key not in best or v.portee != PORTEE_NATIONALE:
            best[key] = v
    out: dict[str, list[ValeurSaisie]] = {}
    for (name, _), v in sorted(best.items(), key=lambda kv: kv[0][1]):
        out.setdefault(name, []).append(v)
    return out


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
    confiance_date: str | None = None
    url: str = ""
    note: str = ""
    nature: str = NATURE_DEFAUT

    @property
    def a_verifier(self) -> bool:
        """True for a value the user must check: confidence ``?`` (of the value or of its start date),
        or entered in the scenario."""
        return self.confiance == "?" or self.confiance_date == "?"

    def explain(self) -> dict[str, Any]:
        """JSON-ready record for a 'détail du calcul'."""
        return {
            "parametre": self.name,
            "valeur": self.valeur,
            "depuis": self.depuis.isoformat() if self.depuis else None,
            "source": self.source,
            "confiance": self.confiance,
            "confiance_date": self.confiance_date or self.confiance,
            "a_verifier": self.a_verifier,
            "surcharge": self.surcharge,
            "unite": self.unite,
            "url": self.url,
            "note": self.note,
            "nature": self.nature,
        }


@dataclass
class Parametre:
    name: str
    description: str
    unite: str
    valeurs: list[ValeurDatee] = field(default_factory=list)
    choix: dict[str, str] = field(default_factory=dict)   # allowed values of a rule → French label
    avant: str = ""                                         # why there is no value before the first date
    # one shared ParamValue per date asked: a simulation asks the same few dates thousands of times
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def premiere_date(self) -> dt.date | None:
        return self.valeurs[0][0] if self.valeurs else None

    def at(self, when: dt.date) -> ParamValue:
        hit = self._cache.get(when)
        if hit is not None:
            return hit
        chosen = None
        for v in self.valeurs:
            if v[0] <= when:
                chosen = v
        if chosen is None:
            first = self.valeurs[0][0].isoformat() if self.valeurs else "?"
            motif = f" ({self.avant})" if self.avant else ""
            raise ParametreAbsent(
                f"Le paramètre {self.name} n'a pas de valeur au {when.isoformat()} (première valeur : {first}){motif}."
            )
        pv = self._param_value(chosen)
        if len(self._cache) < 512:
            self._cache[when] = pv
        return pv

    def _param_value(self, v: ValeurDatee) -> ParamValue:
        depuis, valeur, source, confiance = v
        return ParamValue(self.name, valeur, depuis, source, confiance, self.description, self.unite,
                          confiance_date=getattr(v, "confiance_date", None), url=getattr(v, "url", ""),
                          note=getattr(v, "note", ""), nature=getattr(v, "nature", NATURE_DEFAUT))

    def historique(self) -> list[ParamValue]:
        """Every dated value, oldest first."""
        return [self._param_value(v) for v in self.valeurs]

    def libelle_choix(self, valeur: Any) -> str:
        return self.choix.get(valeur, str(valeur)) if isinstance(valeur, str) else str(valeur)

    def avec_saisies(self, saisies: list[ValeurSaisie]) -> "Parametre":
        """A copy whose timeline holds the entered values: an entered value replaces the shipped one
        of the same date and holds until the next dated value (shipped or entered) — only for its dates."""
        dates = {v.depuis for v in saisies}
        merged = [v for v in self.valeurs if v[0] not in dates] + [v.valeur_datee() for v in saisies]
        merged.sort(key=lambda t: t[0])
        return replace(self, valeurs=merged, _cache={})


def as_date(when: int | dt.date | str) -> dt.date:
    if isinstance(when, dt.datetime):
        return when.date()
    if isinstance(when, dt.date):
        return when
    if isinstance(when, int):
        return dt.date(when, 1, 1)
    return dt.date.fromisoformat(str(when))


_CLES_PARAMETRE = {"description", "unite", "valeurs", "choix", "avant"}
_CLES_VALEUR = {"depuis", "valeur", "source", "confiance", "url", "confiance_date", "note"}


def _parse_file(path: Path) -> dict[str, Parametre]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    out: dict[str, Parametre] = {}
    for key, spec in doc.items():
        name = f"{path.stem}.{key}"
        if not isinstance(spec, dict) or "valeurs" not in spec:
            raise ValueError(f"{path.name} : le paramètre « {key} » n'a pas de liste « valeurs ».")
        extra = set(spec) - _CLES_PARAMETRE
        if extra:
            raise ValueError(f"{path.name} : {key}, clé(s) inconnue(s) : {', '.join(sorted(extra))}.")
        choix = spec.get("choix") or {}
        if not isinstance(choix, dict):
            raise ValueError(f"{path.name} : {key}, « choix » doit associer chaque valeur à un libellé.")
        p = Parametre(name, spec.get("description", ""), spec.get("unite", ""), choix={str(k): str(v) for k, v in choix.items()},
                      avant=str(spec.get("avant") or ""))
        for i, v in enumerate(spec["valeurs"]):
            for required in ("depuis", "valeur", "source", "confiance"):
                if required not in v:
                    raise ValueError(f"{path.name} : {key}, valeur n° {i + 1} sans « {required} ».")
            extra = set(v) - _CLES_VALEUR
            if extra:
                raise ValueError(f"{path.name} : {key}, valeur n° {i + 1} : clé(s) inconnue(s) : {', '.join(sorted(extra))}.")
            conf = str(v["confiance"])
            conf_date = None if v.get("confiance_date") is None else str(v["confiance_date"])
            for c in (conf, conf_date):
                if c is not None and c not in CONFIDENCES:
                    raise ValueError(f"{path.name} : {key}, confiance « {c} » inconnue (C, P ou ?).")
            if p.choix and v["valeur"] not in p.choix:
                raise ValueError(f"{path.name} : {key}, valeur « {v['valeur']} » absente de « choix ».")
            p.valeurs.append(ValeurDatee(as_date(v["depuis"]), v["valeur"], str(v["source"]), conf,
                                         url=str(v.get("url") or ""), confiance_date=conf_date,
                                         note=str(v.get("note") or "")))
        p.valeurs.sort(key=lambda t: t[0])
        dates = [t[0] for t in p.valeurs]
        if len(set(dates)) != len(dates):
            raise ValueError(f"{path.name} : {key}, deux valeurs à la même date.")
        out[name] = p
    return out


@lru_cache(maxsize=8)
def _load_dir(directory: str) -> dict[str, Parametre]:
    params: dict[str, Parametre] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        params.update(_parse_file(path))
    return params


class Baremes:
    """All parameters, with optional user overrides (``{name: value}``) and entered barèmes.

    The lookup goes: scenario override (all dates) → dated values of the parameter.  The dated values
    are those shipped in ``planning/baremes``, merged with the barèmes entered by administrators
    (``saisies``, read from the database by the caller — planning does no I/O): the national ones and
    those of ``departement`` (:func:`saisies_applicables`).  An entered value wins only from its date
    until the next dated value.
    """

    def __init__(self, overrides: Mapping[str, Any] | None = None, directory: Path | None = None,
                 saisies: Iterable[ValeurSaisie] = (), departement: str | None = None):
        self.directory = Path(directory) if directory else BAREMES_DIR
        self._params = _load_dir(str(self.directory))
        self.saisies = tuple(saisies)
        self.departement = departement
        if self.saisies:
            par_nom = saisies_applicables(self.saisies, departement)
            self._params = dict(self._params)
            for name, vals in par_nom.items():
                if name in self._params:  # a value of a parameter removed since is ignored
                    self._params[name] = self._params[name].avec_saisies(vals)
        self.overrides = dict(overrides or {})
        self._surcharges: dict[str, ParamValue] = {}
        self._version: str | None = None
        unknown = [k for k in self.overrides if k not in self._params]
        if unknown:
            raise ParametreInconnu(", ".join(unknown))

    @property
    def version(self) -> str:
        """Stable hash of the effective dated values (shipped and entered; not the scenario's overrides):
        two results computed with the same ``version`` used the same barème."""
        if self._version is None:
            h = hashlib.sha256()
            for name in sorted(self._params):
                h.update(json.dumps([name, [[v[0].isoformat(), v[1]] for v in self._params[name].valeurs]],
                                    sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
            self._version = h.hexdigest()[:16]
        return self._version

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
                                                         p.description, p.unite, surcharge=True,
                                                         nature=NATURE_SCENARIO)
            return pv
        return p.at(as_date(when))

    def value(self, name: str, when: int | dt.date | str) -> Any:
        return self.get(name, when).valeur

    def get_or_none(self, name: str, when: int | dt.date | str) -> ParamValue | None:
        try:
            return self.get(name, when)
        except ParametreAbsent:
            return None

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Baremes":
        merged = dict(self.overrides)
        merged.update(overrides)
        return Baremes(merged, self.directory, self.saisies, self.departement)

    def table(self, when: int | dt.date | str) -> list[dict[str, Any]]:
        """Every parameter in force at a date, for the 'hypothèses' screens."""
        rows = []
        for name in self.names():
            try:
                rows.append(self.get(name, when).explain() | {"description": self._params[name].description})
            except ParametreAbsent:
                continue
        return rows

    def historique(self, name: str) -> list[ParamValue]:
        """Every dated value of a parameter (shipped barème and entered values), oldest first."""
        return self.definition(name).historique()

    def differences(self, avant: int | dt.date | str, apres: int | dt.date | str) -> list[dict[str, Any]]:
        """Parameters whose value in force differs between two dates (a parameter that exists at one date
        only is listed too, with ``None`` on the other side)."""
        d1, d2 = as_date(avant), as_date(apres)
        out = []
        for name in self.names():
            p1 = self.get_or_none(name, d1)
            p2 = self.get_or_none(name, d2)
            if p1 is None and p2 is None:
                continue
            if p1 is not None and p2 is not None and p1.valeur == p2.valeur:
                continue
            out.append({"parametre": name, "description": self._params[name].description,
                        "unite": self._params[name].unite, "avant": p1, "apres": p2})
        return out
