"""A command piped into `head` stops quietly: no « Erreur inattendue (BrokenPipeError) » on stderr."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_simulation_json_piped_into_a_reader_that_stops_early():
    # the JSON result of the Yonne example is about 1,6 Mo: far more than a pipe buffer (64 Kio), so the
    # command is still writing when the reader closes its end after 10 bytes
    proc = subprocess.Popen([sys.executable, "-m", "planning", "simulate",
                             "examples/scenarios/ctg_yonne_rural.json", "--json"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    rc = proc.wait(timeout=120)
    assert head.startswith(b"{")
    assert err == "" and rc == 141
