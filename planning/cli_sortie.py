"""How the three command lines (`python -m data`, `planning`, `exports`) stop when their reader goes away."""
from __future__ import annotations

import os
import sys

EXIT_TUBE_FERME = 141   # 128 + SIGPIPE, as a shell reports a command whose reader went away


def tube_ferme() -> int:
    """Output piped into a reader that stopped early (`| head`): not an error. Point stdout at /dev/null so
    the interpreter's final flush stays silent, and return the shell's code for it."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_TUBE_FERME
