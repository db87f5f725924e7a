"""An import run in its own process, followed from the Import page.

Why a process and not a thread: a thread of the Streamlit server shares the GIL with
every other session, so a 45 MB file parsed in Python would still slow everybody's
maps; a process runs on the other core, at a lower priority (``nice``), under limits
of the operating system (address space ``RLIMIT_AS``, CPU time ``RLIMIT_CPU``) and a
wall-clock limit enforced here; if it runs out of memory only the import dies, never
the server.  The process is the ordinary command line
``python -m data import KIND FILE --json --nom NAME --progression FILE --isoler``,
so the page and the CLI run exactly the same code.

A job lives in a private temporary folder (the uploaded bytes under a short safe
name, the progress file, the JSON result, the error output).  ``ImportJob.poll()``
never blocks: the page calls it from a fragment that reruns every second.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..store import PROJECT_ROOT, Store
from ..identite import Utilisateur, utilisateur_en_json
from . import verifier_droits_import
from .problems import ImportReport, Problem
from planning.formats import fr_int

from .readers import Limits

JOB_PREFIX = "atlas-import-"
_SAFE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".geojson", ".json", ".gpkg", ".zip", ".ods"}
_STALE_SECONDS = 24 * 3600

EN_COURS, TERMINE, REFUSE, ECHEC = "en_cours", "termine", "refuse", "echec"


@dataclass
class JobState:
    status: str                              # en_cours | termine | refuse | echec
    fraction: float = 0.0
    message: str = ""
    report: ImportReport | None = None       # termine
    problems: list[Problem] = field(default_factory=list)   # refuse / echec
    seconds: float = 0.0

    @property
    def running(self) -> bool:
        return self.status == EN_COURS


def safe_suffix(name: str) -> str:
    """The extension of an uploaded file name, if it is one the importers know ('' otherwise)."""
    m = re.search(r"(\.[A-Za-z0-9]{1,8})$", name or "")
    suffix = m.group(1).lower() if m else ""
    return suffix if suffix in _SAFE_SUFFIXES else ""


def _clean_stale(base: Path) -> None:
    now = time.time()
    for d in base.glob(f"{JOB_PREFIX}*"):
        try:
            if d.is_dir() and now - d.stat().st_mtime > _STALE_SECONDS:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


class ImportJob:
    """One import of uploaded bytes, run by ``python -m data import`` in a child process."""

    def __init__(self, kind: str, data: bytes, filename: str, store: Store | None = None,
                 limits: Limits | None = None, workdir: Path | None = None, *,
                 mapping: dict[str, str] | None = None, millesime: object = None,
                 utilisateur: Utilisateur | None = None):
        self.utilisateur = verifier_droits_import(kind, utilisateur, filename)  # refused before any byte is kept
        self.kind = kind
        self.mapping = dict(mapping) if mapping else None
        self.millesime = str(millesime).strip() if millesime not in (None, "") else None
        self.filename = filename
        self.store = store or Store()
        self.limits = limits or Limits.from_env()
        base = Path(workdir or tempfile.gettempdir())
        _clean_stale(base)
        self.dir = Path(tempfile.mkdtemp(prefix=JOB_PREFIX, dir=base))
        # a short fixed name: the user's name (304 characters, slashes, control characters…) is only shown
        self.path = self.dir / f"fichier{safe_suffix(filename)}"
        self.path.write_bytes(data)
        self.progress_path = self.dir / "progression.json"
        self.result_path = self.dir / "resultat.json"
        self.log_path = self.dir / "erreurs.txt"
        self.proc: subprocess.Popen | None = None
        self.started = 0.0
        self._final: JobState | None = None

    # -- life cycle --------------------------------------------------------
    def start(self) -> "ImportJob":
        env = dict(os.environ, ATLAS_DATA_DIR=str(self.store.root), PYTHONUNBUFFERED="1", **self.limits.to_env())
        cmd = [sys.executable, "-m", "data", "import", self.kind, str(self.path), "--json",
               "--nom", self.filename, "--progression", str(self.progress_path), "--isoler"]
        if self.mapping:   # the page's column mapping, as JSON: exact whatever the column names
            mapping_path = self.dir / "colonnes.json"
            mapping_path.write_text(json.dumps(self.mapping, ensure_ascii=False), encoding="utf-8")
            cmd += ["--colonnes-json", str(mapping_path)]
        if self.millesime:
            cmd += ["--millesime", self.millesime]
        user_path = self.dir / "utilisateur.json"   # the child checks the rights again and journals the import
        user_path.write_text(utilisateur_en_json(self.utilisateur), encoding="utf-8")
        cmd += ["--utilisateur-json", str(user_path)]
        with open(self.result_path, "wb") as out, open(self.log_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, start_new_session=True, close_fds=True)
        self.started = time.monotonic()
        return self

    @property
    def deadline(self) -> float:
        # the child stops itself at max_seconds (alarm) and is killed by the CPU limit; this is the last resort
        return self.started + self.limits.max_seconds + 60

    def cancel(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait(timeout=10)
            self._final = JobState(ECHEC, 1.0, "Import annulé.", problems=[Problem(
                self.filename, None, None, "import annulé à votre demande — le magasin de données n'a pas été "
                "modifié.")], seconds=time.monotonic() - self.started)

    def cleanup(self) -> None:
        self.cancel() if self.proc is not None and self.proc.poll() is None else None
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- state ---------------------------------------------------------------
    def poll(self) -> JobState:
        if self._final is not None:
            return self._final
        if self.proc is None:
            return JobState(EN_COURS, 0.0, "Démarrage de l'import…")
        elapsed = time.monotonic() - self.started
        rc = self.proc.poll()
        if rc is None:
            if time.monotonic() > self.deadline:
                self.cancel()
                self._final = JobState(ECHEC, 1.0, "Durée dépassée.", problems=[Problem(
                    self.filename, None, None,
                    f"import arrêté : durée maximale de {fr_int(self.limits.max_seconds)} s dépassée — découpez le "
                    "fichier ou augmentez ATLAS_IMPORT_MAX_SECONDES. Le magasin de données n'a pas été modifié.")],
                    seconds=elapsed)
                return self._final
            fraction, message = 0.0, "Démarrage de l'import…"
            try:
                d = json.loads(self.progress_path.read_text(encoding="utf-8"))
                fraction, message = float(d.get("fraction", 0.0)), str(d.get("message", ""))
            except (OSError, ValueError, TypeError, AttributeError):
                pass
            return JobState(EN_COURS, fraction, message, seconds=elapsed)
        self._final = self._finish(rc, elapsed)
        return self._final

    def _finish(self, rc: int, elapsed: float) -> JobState:
        try:
            d = json.loads(self.result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            d = None
        try:
            detail = self.log_path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            detail = ""
        if rc in (0, 1, 2) and ("Traceback" in detail or "ERROR" in detail):   # internal error: server log only
            print(f"[import {self.kind} de {self.filename}] {detail[-4000:]}", file=sys.stderr)
        if rc == 0 and isinstance(d, dict) and d.get("ok"):
            return JobState(TERMINE, 1.0, "Import terminé.", report=ImportReport.from_dict(d), seconds=elapsed)
        if rc in (1, 2) and isinstance(d, dict) and not d.get("ok"):
            return JobState(REFUSE, 1.0, "Import refusé.",
                            problems=[Problem.from_dict(p) for p in d.get("problems", [])], seconds=elapsed)
        # killed by the system (memory or CPU limit) or crashed: the store was not changed (atomic write)
        if rc < 0 and -rc in (signal.SIGKILL, signal.SIGXCPU, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS):
            what = ("la limite de temps de calcul" if -rc == signal.SIGXCPU else
                    f"la limite de mémoire ({fr_int(self.limits.max_memory_mb)} Mo, ATLAS_IMPORT_MAX_MEMOIRE_MO)")
            msg = (f"l'import a été arrêté par le système : {what} a sans doute été atteinte — filtrez le fichier "
                   "sur votre territoire ou découpez-le. Le magasin de données n'a pas été modifié.")
        else:
            msg = ("l'import s'est arrêté sans rapport (erreur interne, détail dans le journal du serveur) — le "
                   "magasin de données n'a pas été modifié. Réessayez ; si cela se reproduit, signalez-le avec le "
                   "fichier.")
        print(f"[import {self.kind} de {self.filename}] code de sortie {rc} ; {detail[-4000:]}", file=sys.stderr)
        return JobState(ECHEC, 1.0, "Import interrompu.", problems=[Problem(self.filename, None, None, msg)],
                        seconds=elapsed)

    def wait(self, timeout: float | None = None, interval: float = 0.1) -> JobState:
        """Block until the job ends (CLI-free callers, tests, benchmarks)."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            state = self.poll()
            if not state.running:
                return state
            if end is not None and time.monotonic() > end:
                return state
            time.sleep(interval)


def start_import(kind: str, data: bytes, filename: str, store: Store | None = None,
                 limits: Limits | None = None, *, mapping: dict[str, str] | None = None,
                 millesime: object = None, utilisateur: Utilisateur | None = None) -> ImportJob:
    """Start ``python -m data import`` on the uploaded bytes; ``mapping`` and ``millesime`` are the
    options of the structure lists (Import page's column mapping step).  ``utilisateur``: who imports
    (:class:`data.importers.ImportRefuse` at once when the role or scope does not allow it)."""
    return ImportJob(kind, data, filename, store, limits, mapping=mapping, millesime=millesime,
                     utilisateur=utilisateur).start()
