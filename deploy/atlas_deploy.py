"""Reference deployment of Atlas Petite Enfance: N instances behind nginx, for a test machine.

    # nginx configuration for production (printed; see docs/DEPLOIEMENT.md)
    .venv/bin/python deploy/atlas_deploy.py nginx-conf --listen 443 --tls --server-name atlas.caf.local \\
        --instance 127.0.0.1:8501 --instance 127.0.0.1:8502

    # everything on this machine, until Ctrl-C: 2 instances + nginx (+ a mock identity provider)
    .venv/bin/python deploy/atlas_deploy.py banc --instances 2 --port 8080 --oidc-mock

The same functions start the fault and load test (tests/test_service_deploiement.py) and the
benchmark (benchmarks/bench_service.py): nginx runs as a foreground process with its configuration,
logs and temporary files in a private folder (no root-owned path), every instance is
``scripts/serve.py --mode service`` on a free port of 127.0.0.1, all sharing one data folder
(``ATLAS_DATA_DIR``), one scenario database (``DATABASE_URL``) and one cookie secret.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
SITE_TEMPLATE = ROOT / "deploy" / "nginx" / "atlas.conf"
PYTHON = sys.executable
MAX_UPLOAD = "60m"  # = server.maxUploadSize (MB) in .streamlit/config.toml


def port_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- nginx configuration ------------------------------------------------------------------------------

def nginx_site(instances: list[str], listen: str, *, server_name: str = "_", tls: tuple[str, str] | None = None,
               max_upload: str = MAX_UPLOAD) -> str:
    """deploy/nginx/atlas.conf with its {{…}} filled: ``instances`` as host:port, ``listen`` as nginx's
    ``listen`` argument (``8080``, ``127.0.0.1:8080``, ``443``), ``tls`` = (certificate, key) files."""
    if not instances:
        raise ValueError("au moins une instance")
    servers = "\n".join(f"    server {i} max_fails=3 fail_timeout=10s;" for i in instances)
    if tls:
        cert, key = tls
        listen_lines = (f"    listen {listen} ssl;\n    ssl_certificate {cert};\n"
                        f"    ssl_certificate_key {key};\n    ssl_protocols TLSv1.2 TLSv1.3;")
        hsts = '    add_header Strict-Transport-Security "max-age=31536000" always;'
    else:
        listen_lines, hsts = f"    listen {listen};", ""
    text = SITE_TEMPLATE.read_text(encoding="utf-8")
    for key, value in {"INSTANCES": servers, "LISTEN": listen_lines, "SERVER_NAME": server_name,
                       "MAX_UPLOAD": max_upload, "HSTS": hsts, "COOKIE_SECURE": "; Secure" if tls else ""}.items():
        text = text.replace("{{" + key + "}}", value)
    if re.search(r"\{\{[A-Z_]+\}\}", text):
        raise ValueError("modèle nginx : un {{…}} n'a pas été remplacé")
    return text


def nginx_main(folder: Path, site: Path) -> str:
    """A whole nginx.conf that needs no root-owned path (test machine)."""
    tmp = folder / "tmp"
    lines = []
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # started by root, nginx would run its worker as nobody, who cannot reach a private folder
        # (responses larger than the buffers go to tmp/proxy): keep the folder owner's identity
        import grp
        import pwd

        st = folder.stat()
        lines.append(f"user {pwd.getpwuid(st.st_uid).pw_name} {grp.getgrgid(st.st_gid).gr_name};")
    lines += [
        "worker_processes 1;",
        f"pid {folder / 'nginx.pid'};",
        f"error_log {folder / 'error.log'} warn;",
        "events { worker_connections 1024; }",
        "http {",
        # which instance served each request, and for which affinity cookie (the tests read it)
        "    log_format atlas '$remote_addr [$time_local] \"$request\" $status up=$upstream_addr "
        "cookie=$cookie_atlas_instance';",
        f"    access_log {folder / 'access.log'} atlas;",
        *(f"    {kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
        f"    include {site};",
        "}",
    ]
    return "\n".join(lines) + "\n"


# -- processes --------------------------------------------------------------------------------------

class DemarrageImpossible(RuntimeError):
    pass


@dataclass
class Processus:
    nom: str
    cmd: list[str]
    env: dict[str, str]
    log: Path
    port: int = 0
    proc: subprocess.Popen | None = None

    def demarrer(self) -> "Processus":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")  # noqa: SIM115 - kept open by the child
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        return self

    @property
    def vivant(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tuer(self) -> None:
        """SIGKILL, as a crash would (no clean shutdown, open websockets cut)."""
        if self.vivant:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def arreter(self, timeout: float = 10) -> None:
        if not self.vivant:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def fin_du_journal(self, n: int = 3000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-n:]
        except OSError:
            return ""


def attendre_http(url: str, p: Processus, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not p.vivant:
            raise DemarrageImpossible(f"{p.nom} s'est arrêté :\n{p.fin_du_journal()}")
        try:
            with urllib.request.urlopen(url, timeout=3) as r:
                if r.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise DemarrageImpossible(f"{p.nom} ne répond pas sur {url} après {timeout:.0f} s :\n{p.fin_du_journal()}")


def demarrer_nginx(folder: Path, instances: list[str], port: int) -> Processus:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise DemarrageImpossible("nginx est absent : sudo apt-get install nginx (ou bash scripts/installer.sh --tests)")
    folder.mkdir(parents=True, exist_ok=True)
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        d = folder / "tmp" / kind
        d.mkdir(parents=True, exist_ok=True)
    site = folder / "atlas.conf"
    site.write_text(nginx_site(instances, f"127.0.0.1:{port}"), encoding="utf-8")
    main = folder / "nginx.conf"
    main.write_text(nginx_main(folder, site), encoding="utf-8")
    test = subprocess.run([nginx, "-t", "-q", "-p", str(folder), "-c", str(main), "-e", str(folder / "error.log")],
                          capture_output=True, text=True)
    if test.returncode != 0:
        raise DemarrageImpossible(f"configuration nginx refusée :\n{test.stderr}")
    p = Processus("nginx", [nginx, "-p", str(folder), "-c", str(main), "-e", str(folder / "error.log"),
                            "-g", "daemon off;"], dict(os.environ), folder / "nginx.out", port=port).demarrer()
    return p


# -- identity provider for tests (PyPI oidc-provider-mock) ---------------------------------------------

def demarrer_oidc_mock(folder: Path, port: int | None = None) -> Processus:
    """The mock OpenID Connect provider on 127.0.0.1, clients must register (as with a real provider)."""
    port = port or port_libre()
    exe = Path(PYTHON).parent / "oidc-provider-mock"
    cmd = [str(exe)] if exe.exists() else [PYTHON, "-m", "oidc_provider_mock"]
    p = Processus("fournisseur OIDC (oidc-provider-mock)",
                  [*cmd, "--host", "127.0.0.1", "--port", str(port), "--require-registration"],
                  dict(os.environ, NO_COLOR="1", PYTHONWARNINGS="ignore"), folder / "oidc.log", port=port).demarrer()
    attendre_http(f"http://127.0.0.1:{port}/.well-known/openid-configuration", p, timeout=60)
    return p


def _json(method: str, url: str, body: dict) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.read()


def enregistrer_client(oidc_url: str, redirect_uri: str) -> tuple[str, str]:
    status, raw = _json("POST", f"{oidc_url}/oauth2/clients",
                        {"redirect_uris": [redirect_uri], "token_endpoint_auth_method": "client_secret_basic"})
    data = json.loads(raw)
    return data["client_id"], data["client_secret"]


def definir_utilisateur(oidc_url: str, sub: str, claims: dict) -> None:
    status, _ = _json("PUT", f"{oidc_url}/users/{quote(sub, safe='')}", claims)
    if status != 204:
        raise RuntimeError(f"utilisateur {sub} refusé par le fournisseur ({status})")


UTILISATEURS_DEMO = {
    "camille.martin": {"name": "Camille Martin", "email": "camille.martin@caf89.example",
                       "roles": ["conseiller"], "departements": ["89"]},
    "yanis.benali": {"name": "Yanis Benali", "email": "yanis.benali@caf93.example",
                     "roles": ["conseiller"], "departements": ["93"]},
    "ines.leroy": {"name": "Inès Leroy", "email": "ines.leroy@caf89.example",
                   "roles": ["administrateur_caf"], "departements": ["89"]},
    "paul.durand": {"name": "Paul Durand", "email": "paul.durand@cnaf.example",
                    "roles": ["administrateur_national"], "departements": []},
    "lea.petit": {"name": "Léa Petit", "email": "lea.petit@caf89.example", "roles": ["lecteur"],
                  "departements": ["89"]},
}


# -- the whole bench ---------------------------------------------------------------------------------

@dataclass
class Banc:
    """N instances of the app in service mode behind nginx, on this machine."""

    dossier: Path
    n_instances: int = 2
    port: int = 0
    database_url: str | None = None
    data_dir: str | None = None
    oidc: dict[str, str] | None = None     # ATLAS_OIDC_* variables (None: start the mock provider)
    env_extra: dict[str, str] = field(default_factory=dict)
    instances: list[Processus] = field(default_factory=list)
    nginx: Processus | None = None
    fournisseur: Processus | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env_instance(self) -> dict[str, str]:
        env = dict(os.environ, ATLAS_MODE="service", PYTHONWARNINGS="ignore", **self.oidc, **self.env_extra)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.data_dir:
            env["ATLAS_DATA_DIR"] = self.data_dir
        return env

    def demarrer(self) -> "Banc":
        self.dossier.mkdir(parents=True, exist_ok=True)
        self.port = self.port or port_libre()
        try:
            if self.oidc is None:
                self.fournisseur = demarrer_oidc_mock(self.dossier)
                issuer = f"http://127.0.0.1:{self.fournisseur.port}"
                redirect = f"{self.url}/oauth2callback"
                client_id, client_secret = enregistrer_client(issuer, redirect)
                self.oidc = {
                    "ATLAS_OIDC_METADATA_URL": f"{issuer}/.well-known/openid-configuration",
                    "ATLAS_OIDC_CLIENT_ID": client_id, "ATLAS_OIDC_CLIENT_SECRET": client_secret,
                    "ATLAS_OIDC_REDIRECT_URI": redirect,
                    "ATLAS_OIDC_COOKIE_SECRET": secrets.token_urlsafe(32),  # one secret for every instance
                }
            env = self.env_instance()
            for i in range(self.n_instances):
                port = port_libre()
                self.instances.append(Processus(
                    f"instance {i + 1}",
                    [PYTHON, str(ROOT / "scripts" / "serve.py"), "--mode", "service", "--server.port", str(port),
                     "--server.address", "127.0.0.1", "--server.headless", "true",
                     "--server.fileWatcherType", "none"],
                    env, self.dossier / f"instance{i + 1}.log", port=port).demarrer())
            for p in self.instances:
                attendre_http(f"http://127.0.0.1:{p.port}/_stcore/health", p)
            self.nginx = demarrer_nginx(self.dossier / "nginx", [f"127.0.0.1:{p.port}" for p in self.instances],
                                        self.port)
            attendre_http(f"{self.url}/_stcore/health", self.nginx, timeout=30)
        except BaseException:
            self.arreter()
            raise
        return self

    def definir_utilisateur(self, sub: str, claims: dict) -> None:
        if self.fournisseur is None:
            raise RuntimeError("pas de fournisseur de test")
        definir_utilisateur(f"http://127.0.0.1:{self.fournisseur.port}", sub, claims)

    def journal_nginx(self) -> list[dict[str, str]]:
        """nginx's access log: request, status, instance (host:port) and affinity cookie of each request."""
        path = self.dossier / "nginx" / "access.log"
        if not path.exists():
            return []
        pattern = re.compile(r'"(?P<requete>[^"]*)" (?P<statut>\d+) up=(?P<instance>\S*) cookie=(?P<cookie>\S*)')
        return [m.groupdict() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
                if (m := pattern.search(line))]

    def instance_du_cookie(self, valeur: str) -> str:
        """Which instance nginx sends a browser holding this affinity cookie to (one probe request)."""
        req = urllib.request.Request(f"{self.url}/_stcore/health", headers={"Cookie": f"atlas_instance={valeur}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()
        for _ in range(50):  # nginx writes the line once the request is over, maybe after we read it
            for entry in reversed(self.journal_nginx()):
                if entry["cookie"] == valeur:
                    return entry["instance"]
            time.sleep(0.05)
        raise RuntimeError(f"cookie {valeur} absent du journal nginx")

    def cookies_par_instance(self, n: int) -> dict[str, list[str]]:
        """``n`` affinity cookie values for each instance (host:port), found by probing nginx."""
        out: dict[str, list[str]] = {f"127.0.0.1:{p.port}": [] for p in self.instances}
        for _ in range(200 * n * len(out)):
            if all(len(v) >= n for v in out.values()):
                return out
            value = secrets.token_hex(16)
            inst = self.instance_du_cookie(value)
            if len(out.setdefault(inst, [])) < n:
                out[inst].append(value)
        raise RuntimeError(f"répartition inattendue des cookies : {out}")

    def arreter(self) -> None:
        for p in [self.nginx, *self.instances, self.fournisseur]:
            if p is not None:
                p.arreter()

    def __enter__(self) -> "Banc":
        return self.demarrer()

    def __exit__(self, *exc) -> None:
        self.arreter()


# -- command line ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Déploiement de référence d'Atlas Petite Enfance (nginx + instances).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("nginx-conf", help="écrire la configuration nginx (contexte http) sur la sortie standard")
    c.add_argument("--instance", action="append", required=True, help="hôte:port d'une instance (répéter)")
    c.add_argument("--listen", default="80", help="argument de listen (80, 443, 127.0.0.1:8080…)")
    c.add_argument("--server-name", default="_")
    c.add_argument("--tls", action="store_true", help="HTTPS (certificat et clé : --cert, --key)")
    c.add_argument("--cert", default="/etc/ssl/certs/atlas.pem")
    c.add_argument("--key", default="/etc/ssl/private/atlas.key")
    b = sub.add_parser("banc", help="démarrer N instances + nginx sur cette machine, jusqu'à Ctrl-C")
    b.add_argument("--instances", type=int, default=2)
    b.add_argument("--port", type=int, default=8080)
    b.add_argument("--dossier", default="/tmp/atlas-banc")
    b.add_argument("--oidc-mock", action="store_true",
                   help="démarrer aussi un fournisseur d'identité de test (oidc-provider-mock) avec des comptes fictifs")
    a = ap.parse_args(argv)
    if a.cmd == "nginx-conf":
        print(nginx_site(a.instance, a.listen, server_name=a.server_name, tls=(a.cert, a.key) if a.tls else None))
        return 0
    oidc = None
    if not a.oidc_mock:
        oidc = {k: v for k, v in os.environ.items() if k.startswith("ATLAS_OIDC_")}
    banc = Banc(Path(a.dossier), n_instances=a.instances, port=a.port, oidc=oidc,
                database_url=os.environ.get("DATABASE_URL"), data_dir=os.environ.get("ATLAS_DATA_DIR"))
    try:
        banc.demarrer()
    except DemarrageImpossible as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 1
    if banc.fournisseur is not None:
        for sub_, claims in UTILISATEURS_DEMO.items():
            banc.definir_utilisateur(sub_, claims)
        print("Comptes de test (tapez l'identifiant sur la page du fournisseur) : " + ", ".join(UTILISATEURS_DEMO))
    print(f"Atlas Petite Enfance : {banc.url} ({a.instances} instances derrière nginx ; journaux dans {a.dossier})")
    try:
        while all(p.vivant for p in [banc.nginx, *banc.instances]):
            time.sleep(1)
        print("Un processus s'est arrêté ; arrêt du banc.", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        banc.arreter()
    return 0


if __name__ == "__main__":
    sys.exit(main())
