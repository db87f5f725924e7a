"""The run shared by the planning commands that read the store (``couverture``, ``rpe-target``).

The commands are the composition root: they read the store through :mod:`data.entrees` and hand
the inputs to the pure computations of :mod:`planning`.  Exit codes: 0 done, 1 store or layer
missing, 2 invalid option or unknown territory; every message is in French, never a traceback.
"""
from __future__ import annotations

import json
import sys
from typing import Any, Callable

from .entrees import CoucheAbsente, CoverageInputs
from .territoires import TerritoireInconnu


def run_command(argv: list[str], usage: str, parse: Callable[[list[str]], dict[str, Any]],
             calcul: Callable[[CoverageInputs, dict[str, Any]], Any], texte: Callable[[Any], str],
             en_json: Callable[[Any], Any], couches_requises: tuple[tuple[str, str], ...] = (),
             allow_nan: bool = True) -> int:
    """Parse ``argv``, check the layers the command cannot do without (``(layer, message)``, the
    message may name ``{root}``), load the inputs, compute, print text or JSON."""
    from data.entrees import load_inputs
    from data.store import Store

    try:
        opts = parse(list(argv))
    except ValueError as exc:
        print(f"Erreur : {exc}\n{usage}", file=sys.stderr)
        return 2
    if opts.get("aide"):
        print(usage)
        return 0
    store = Store()
    for couche, message in couches_requises:
        if not store.has(couche):
            print(f"Erreur : {message.format(root=store.root)}", file=sys.stderr)
            return 1
    try:
        resultat = calcul(load_inputs(store), opts)
    except TerritoireInconnu as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    except CoucheAbsente as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 1
    if opts["json"]:
        print(json.dumps(en_json(resultat), ensure_ascii=False, indent=2, allow_nan=allow_nan))
    else:
        print(texte(resultat))
    return 0
