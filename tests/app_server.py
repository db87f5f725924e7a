"""Starting the app for browser tests: one harness for every server a test needs.

:func:`running_app` starts ``scripts/serve.py`` (or any command) on a free port, waits for
``/_stcore/health`` and **fails the test loudly**, with the end of the server's output, when the
server exits or does not answer in time — a test never runs against a server that is not there.
:func:`private_store` makes a private copy (hard links) of the default store for an app whose data a
test changes.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from data.store import PROJECT_ROOT, Store

START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command(port: int) -> list[str]:
    """The launcher the deployment uses (``scripts/serve.py``), on 127.0.0.1 only."""
    return [sys.executable, str(PROJECT_ROOT / "scripts" / "serve.py"), "--server.port", str(port),
            "--server.headless", "true", "--server.address", "127.0.0.1"]


def wait_for_health(url: str, proc: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT) -> None:
    """Return when ``url`` answers ``/_stcore/health``; else kill the server and fail with its output."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    code = proc.poll()
    if code is None:
        proc.kill()
        proc.wait(timeout=10)
    out = log.read_text(encoding="utf-8", errors="replace")[-3000:] if log.exists() else ""
    why = f"s'est arrêté (code {code})" if code is not None else f"n'a pas répondu en {timeout:.0f} s"
    pytest.fail(f"Le serveur de l'application {why} :\n{out}")


@contextmanager
def running_app(env: dict[str, str] | None = None, command=serve_command) -> Iterator[str]:
    """The app served on a free port with ``env`` added to the environment; yields its URL."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="atlas-app-") as tmp:
        log = Path(tmp) / "serveur.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(command(port), cwd=PROJECT_ROOT, env={**os.environ, **(env or {})},
                                    stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_health(url, proc, log)
            yield url
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def private_store(root: Path) -> Store:
    """A private copy of the default store's layers and manifest in ``root`` (hard links: layers are
    replaced, never modified in place)."""
    return Store().copie(root)
