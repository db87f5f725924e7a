"""What the browser benchmarks share: a free port, the app started on it (waited for until healthy),
the Chromium flags."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demarrer_app(app_root: Path, env: dict | None = None, timeout: float = 60) -> tuple[subprocess.Popen, str]:
    """``scripts/serve.py`` of ``app_root`` on a free port of 127.0.0.1; returns once ``/_stcore/health``
    answers (the process and the URL). Raises ``RuntimeError`` (French) if it never does."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(Path(app_root) / "scripts" / "serve.py"), "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=app_root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env or dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    fin = time.monotonic() + timeout
    while time.monotonic() < fin:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"l'application ne répond pas sur {url} (serveur arrêté ou trop lent à démarrer)")
