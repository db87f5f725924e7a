"""``python -m planning couverture``: the coverage figures of one territory and year, as the page shows them.

    python -m planning couverture (--commune C | --epci S | --departement D | --region R | --france)
                                  [--annee AAAA] [--json]

Prints the territory, the year, the children under 3 and their nature (census, births estimate or
« population × 3 % »), the EAJE places of the structure list open on 31 December, the EAJE rate
computed from them, and the rates published by the Cnaf (data.caf.fr) for that territory and
**that year**, numbers as in the file (``null`` when nothing is published).  Without ``--annee``:
the latest year the Cnaf published for the territory (else the current year).

Exit codes: 0 done, 1 store missing, 2 invalid option or unknown territory.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import sys
from typing import Any

from .formats import NA_LABEL, fr_int, fr_number

USAGE = ("Usage : python -m planning couverture (--commune CODE | --epci SIREN | --departement DD | --region RR | "
         "--france) [--annee AAAA] [--json]\n"
         "  Couverture d'un territoire : enfants de moins de 3 ans, places d'EAJE de la liste des structures, taux "
         "EAJE calculé et taux publiés par la Caf (data.caf.fr) pour l'année.")
_LEVELS = {"--commune": "commune", "--com": "commune", "--epci": "epci", "--departement": "departement",
           "--département": "departement", "--dep": "departement", "--region": "region", "--région": "region",
           "--reg": "region", "--france": "france"}


def _parse(argv: list[str]) -> dict[str, Any]:
    opts: dict[str, Any] = {"niveau": None, "code": None, "annee": None, "json": False}
    i = 0
    while i < len(argv):
        a = argv[i]
        key, val = (a.split("=", 1) + [None])[:2] if a.startswith("--") and "=" in a else (a, None)
        if key in ("-h", "--help", "--aide"):
            opts["aide"] = True
            return opts
        if key == "--json":
            opts["json"] = True
        elif key in _LEVELS:
            if opts["niveau"] is not None:
                raise ValueError("un seul territoire à la fois (--commune, --epci, --departement, --region ou "
                                 "--france).")
            opts["niveau"] = _LEVELS[key]
            if opts["niveau"] != "france":
                if val is None:
                    if i + 1 >= len(argv) or argv[i + 1].startswith("--"):
                        raise ValueError(f"l'option {key} attend un code.")
                    val = argv[i + 1]
                    i += 1
                opts["code"] = val.strip()
        elif key in ("--annee", "--année"):
            if val is None:
                if i + 1 >= len(argv):
                    raise ValueError(f"l'option {key} attend une année.")
                val = argv[i + 1]
                i += 1
            if not str(val).isdigit() or not 1990 <= int(val) <= 2100:
                raise ValueError(f"année « {val} » invalide : écrivez-la sur quatre chiffres (par exemple 2022).")
            opts["annee"] = int(val)
        else:
            raise ValueError(f"option « {a} » inconnue.")
        i += 1
    if opts["niveau"] is None:
        raise ValueError("indiquez le territoire : --commune, --epci, --departement, --region ou --france.")
    return opts


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _round(v: Any) -> float | None:
    """Computed figures: 2 decimals (published ones are printed as in the file)."""
    f = _num(v)
    return None if f is None else round(f, 2)


def couverture(inputs, niveau: str, code: str | None, annee: int | None = None) -> dict[str, Any]:
    """The figures of one territory and year (what the CLI prints as JSON)."""
    from .cnaf import CAF_NIVEAUX, annees_publiees, caf_publie, info_enfants_territoire
    from .coverage import indicateurs, sources
    from .territoires import masque, resoudre

    t = resoudre(inputs.base, niveau, code)
    if annee is None:
        years = annees_publiees(inputs, t.niveau, t.code) if t.niveau in CAF_NIVEAUX else []
        annee = years[-1] if years else dt.date.today().year
    df = indicateurs(inputs, t.niveau, annee, territoire=None if t.niveau == "france" else (t.niveau, t.code))
    row = df[df["code"].astype(str) == ("FR" if t.niveau == "france" else str(t.code))]
    r = row.iloc[0] if len(row) else None
    info = info_enfants_territoire(inputs, annee, masque(inputs.base, t.niveau, t.code).to_numpy())
    caf = caf_publie(inputs, t.niveau, t.code, annee)
    caf_source = caf.pop("source", None) if caf else None
    prov = inputs.prov("structures")
    out: dict[str, Any] = {
        "territoire": t.to_dict(),
        "annee": int(annee),
        "enfants_moins_3": _num(r["enfants_moins_3"]) if r is not None else None,
        "enfants_moins_3_nature": info.get("libelle") or inputs.prov("enfants_moins_3").libelle,
        "enfants_moins_3_date": f"{int(annee) + 1}-01-01",
        "places_eaje": _num(r["places_eaje"]) if r is not None else None,
        "places_eaje_source": prov.libelle,
        "places_eaje_fictives": prov.nature == "fictif",
        "taux_eaje_calcule": _round(r["taux_eaje"]) if r is not None else None,
        "caf": caf,
        "caf_source": (f"{caf_source} — Cnaf (data.caf.fr)" if caf_source else None),
        "ecart_taux_eaje_calcule_publie": _round(_num(r["taux_eaje"]) - caf["taux_eaje"])
        if caf and r is not None and caf.get("taux_eaje") is not None and _num(r["taux_eaje"]) is not None else None,
        "naissances": _num(r["naissances"]) if r is not None else None,
        "naissances_annee": int(r["annee_naissances"]) if r is not None and _num(r["annee_naissances"]) else None,
        "caf_annees_publiees": annees_publiees(inputs, t.niveau, t.code) if t.niveau in CAF_NIVEAUX else [],
        "sources": sources(inputs),
    }
    return out


def format_text(d: dict[str, Any]) -> str:
    t = d["territoire"]
    lines = [f"Couverture — {t['libelle']} — {d['annee']}", ""]

    def line(label: str, value: str) -> None:
        lines.append(f"  {label:<46} {value}")

    line("Enfants de moins de 3 ans", f"{fr_number(d['enfants_moins_3'], 0)}")
    lines.append(f"    ({d['enfants_moins_3_nature']})")
    fict = " — données fictives de démonstration" if d["places_eaje_fictives"] and d["places_eaje"] is not None else ""
    line("Places d'EAJE ouvertes au 31 décembre", f"{fr_int(d['places_eaje'])}{fict}")
    line("Taux EAJE calculé (places pour 100 enfants)", fr_number(d["taux_eaje_calcule"], 1))
    lines.append("")
    if d["caf"] is None:
        years = ", ".join(map(str, d["caf_annees_publiees"])) or "aucune"
        lines.append(f"  Taux publiés par la Caf pour {d['annee']} : {NA_LABEL} (années publiées pour ce territoire : "
                     f"{years}).")
    else:
        lines.append(f"  Taux publiés par la Caf pour {d['annee']} (places pour 100 enfants de moins de 3 ans) — "
                     f"{d['caf_source']} :")
        labels = {"taux_global": "Taux de couverture global", "taux_eaje": "EAJE (ensemble)",
                  "taux_eaje_psu": "EAJE PSU", "taux_hors_psu": "EAJE hors PSU",
                  "taux_assistants_maternels": "Assistants maternels", "taux_prescolarisation": "Préscolarisation",
                  "taux_salaries_domicile": "Salariés à domicile"}
        for k, lab in labels.items():
            line(f"  {lab}", fr_number(d["caf"].get(k), 1))
        if d["ecart_taux_eaje_calcule_publie"] is not None:
            line("Écart taux EAJE calculé − publié", fr_number(d["ecart_taux_eaje_calcule_publie"], 1) + " points")
    if d["naissances"] is not None:
        lines.append("")
        line(f"Naissances domiciliées ({d['naissances_annee']})", fr_number(d["naissances"], 0))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    from data.store import Store

    from .coverage import CoucheAbsente, load_inputs
    from .territoires import TerritoireInconnu

    try:
        opts = _parse(list(argv))
    except ValueError as exc:
        print(f"Erreur : {exc}\n{USAGE}", file=sys.stderr)
        return 2
    if opts.get("aide"):
        print(USAGE)
        return 0
    store = Store()
    try:
        inputs = load_inputs(store)
        d = couverture(inputs, opts["niveau"], opts["code"], opts["annee"])
    except TerritoireInconnu as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    except CoucheAbsente as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 1
    if opts["json"]:
        print(json.dumps(d, ensure_ascii=False, indent=2, allow_nan=False))
    else:
        print(format_text(d))
    return 0
