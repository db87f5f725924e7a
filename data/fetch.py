"""Download the official open-data files and import them: ``python -m data fetch``.

The catalogue below names, for each source, the publisher's download address.
These addresses are the publishers' (data.gouv.fr, Observatoire des territoires,
INSEE, data.caf.fr) as known when this was written: publishers do move files
(new vintage, new resource id). When a download fails, the message says which
page to visit; the file can then be imported by hand (``python -m data import``
or the import page). ``--base-url`` maps every source to ``<base-url>/<file name>``
(a mirror inside an administration network, or a local test server).

Without network the command fails fast: one short connection check (≤ 3 s)
before any download.
"""
from __future__ import annotations

import shutil
import socket
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from .store import Store

USER_AGENT = "atlas-petite-enfance/1.0 (+import open data)"
CHECK_TIMEOUT = 3.0
MAX_DOWNLOAD_MB = 200


@dataclass(frozen=True)
class Source:
    kind: str
    filename: str          # name of the downloaded file (also its name under --base-url)
    url: str
    publisher: str
    page: str              # human page to visit when the address has moved
    member: str | None = None   # file to take inside a zip


_ODS = "https://data.caf.fr/api/explore/v2.1/catalog/datasets/{ds}/exports/csv?delimiter=%3B&use_labels=false"

CATALOGUE: list[Source] = [
    Source("qpv", "qpv2024_communes.csv",
           "https://www.data.gouv.fr/fr/datasets/r/quartiers-prioritaires-2024-liste-communes.csv",
           "ANCT", "https://www.data.gouv.fr/fr/datasets/quartiers-prioritaires-de-la-politique-de-la-ville-qpv/"),
    Source("frr", "frr_2025_communes.xlsx",
           "https://www.observatoire-des-territoires.gouv.fr/outils/cartographie-interactive/api/v1/functions/"
           "GC_API_download.php?type=stat&nivgeo=com2025&dataset=frr&indic=codefrr",
           "ANCT — Observatoire des territoires",
           "https://www.observatoire-des-territoires.gouv.fr/france-ruralites-revitalisation-frr"),
    Source("grille_densite", "grille_densite_7_niveaux_2025.xlsx",
           "https://www.insee.fr/fr/statistiques/fichier/6439600/grille_densite_7_niveaux_2025.xlsx",
           "INSEE", "https://www.insee.fr/fr/information/6439600"),
    Source("populations", "populations_legales_ensemble.zip",
           "https://www.insee.fr/fr/statistiques/fichier/8290591/ensemble.zip",
           "INSEE", "https://www.insee.fr/fr/statistiques/8290591", member="donnees_communes.csv"),
    Source("enfants_moins_3", "base-cc-evol-struct-pop-2021_csv.zip",
           "https://www.insee.fr/fr/statistiques/fichier/7632446/base-cc-evol-struct-pop-2021_csv.zip",
           "INSEE", "https://www.insee.fr/fr/statistiques/7632446", member="base-cc-evol-struct-pop-2021.CSV"),
    Source("naissances", "base_naissances_2008-2024_geo2025_csv.zip",
           "https://www.insee.fr/fr/statistiques/fichier/1893255/base_naissances_2008-2024_geo2025_csv.zip",
           "INSEE", "https://www.insee.fr/fr/statistiques/1893255"),
    # data.caf.fr: the "hist" exports (2017 on) first, then the current ones (which win where they overlap)
    *[Source(kind, f"{ds}_pe_{level}{hist}.csv", _ODS.format(ds=f"{ds}_pe_{level}{hist}"), "Cnaf (data.caf.fr)",
             f"https://data.caf.fr/explore/dataset/{ds}_pe_{level}{hist}/")
      for hist in ("_hist", "")
      for ds, kind in (("txcouv", "caf_couverture"), ("nbpla", "caf_places"))
      for level in ("com", "epci", "dep", "reg", "nat")],
]


class FetchError(Exception):
    """A French message for the user (no network, nothing downloaded…)."""


@dataclass
class SourceResult:
    source: Source
    ok: bool
    message: str
    layers: list[str] = field(default_factory=list)


@dataclass
class FetchReport:
    results: list[SourceResult]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def summary(self) -> str:
        lines = []
        for r in self.results:
            mark = "OK " if r.ok else "ÉCHEC"
            lines.append(f"[{mark}] {r.source.filename} ({r.source.publisher}) : {r.message}")
        n_ok = sum(r.ok for r in self.results)
        lines.append(f"{n_ok} fichier(s) importé(s) sur {len(self.results)}.")
        return "\n".join(lines)


def source_url(src: Source, base_url: str | None) -> str:
    return f"{base_url.rstrip('/')}/{src.filename}" if base_url else src.url


def check_connection(url: str, timeout: float = CHECK_TIMEOUT) -> None:
    """One short TCP connection to the first host; FetchError in French when it fails."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(parsed.scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        # behind an administration proxy: check the proxy, which is what urllib will use
        p = urlparse(proxy if "://" in proxy else f"http://{proxy}")
        host, port = p.hostname or host, p.port or 3128
    try:
        with socket.create_connection((host, port), timeout=min(timeout, CHECK_TIMEOUT)):
            pass
    except OSError as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise FetchError(
            f"Pas d'accès réseau vers {host}:{port} ({reason}). Les fichiers open data n'ont pas été téléchargés. "
            "Téléchargez-les depuis un poste connecté puis importez-les avec `python -m data import TYPE FICHIER` "
            "(ou la page Import), ou indiquez un miroir avec --base-url.") from None


def download(url: str, dest: Path, timeout: float) -> None:
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    limit = MAX_DOWNLOAD_MB * 1024 * 1024
    with urllib.request.urlopen(req, timeout=timeout) as resp, open(dest, "wb") as fh:
        total = 0
        while True:
            chunk = resp.read(1 << 16)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise FetchError(f"téléchargement interrompu : plus de {MAX_DOWNLOAD_MB} Mo.")
            fh.write(chunk)


def _unzip(path: Path, member: str | None, workdir: Path) -> Path:
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        pick = None
        if member:
            pick = next((n for n in names if Path(n).name.lower() == member.lower()), None)
        if pick is None:
            pick = next((n for n in names if n.lower().endswith((".csv", ".xlsx"))), None)
        if pick is None:
            raise FetchError(f"archive sans fichier CSV ou xlsx ({', '.join(names[:5])}).")
        out = workdir / Path(pick).name
        with zf.open(pick) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
        return out


def fetch_all(base_url: str | None = None, timeout: float = 10.0, store: Store | None = None,
              kinds: list[str] | None = None, log=lambda m: None) -> FetchReport:
    """Download every catalogued file (or those of ``kinds``) and import it.

    Raises ``FetchError`` at once when the network is unreachable; otherwise one
    failure (404, moved file, rejected content) does not stop the other sources.
    """
    from .identite import utilisateur_local
    from .importers import ImportValidationError, import_file

    store = store or Store()
    sources = [s for s in CATALOGUE if kinds is None or s.kind in kinds]
    if not sources:
        raise FetchError("aucune source à télécharger pour ces types.")
    check_connection(source_url(sources[0], base_url), timeout)
    results: list[SourceResult] = []
    with tempfile.TemporaryDirectory(prefix="atlas-fetch-") as tmp:
        workdir = Path(tmp)
        for src in sources:
            url = source_url(src, base_url)
            log(f"Téléchargement de {src.filename} …")
            dest = workdir / src.filename
            try:
                download(url, dest, timeout)
            except urllib.error.HTTPError as exc:
                results.append(SourceResult(src, False, f"adresse {url} : erreur HTTP {exc.code} — le fichier a "
                                                        f"peut-être changé d'adresse, voir {src.page}"))
                continue
            except (urllib.error.URLError, OSError, FetchError) as exc:
                reason = getattr(exc, "reason", None) or exc
                results.append(SourceResult(src, False, f"téléchargement impossible ({reason}) — réessayez ou "
                                                        f"téléchargez le fichier depuis {src.page}"))
                continue
            try:
                path = _unzip(dest, src.member, workdir) if zipfile.is_zipfile(dest) else dest
                report = import_file(src.kind, path, store, filename=src.filename if path == dest else path.name,
                                     utilisateur=utilisateur_local())  # operator command: every right
            except ImportValidationError as exc:
                first = exc.errors[0] if exc.errors else exc.problems[0]
                results.append(SourceResult(src, False, f"import refusé : {first}"))
                continue
            except FetchError as exc:
                results.append(SourceResult(src, False, str(exc)))
                continue
            results.append(SourceResult(src, True, f"{report.rows} ligne(s) → {', '.join(report.layers)}",
                                        report.layers))
    return FetchReport(results)


def run_fetch_cli(base_url: str | None = None, timeout: float = 10.0) -> int:
    try:
        report = fetch_all(base_url=base_url, timeout=timeout, log=lambda m: print(m, file=sys.stderr, flush=True))
    except FetchError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0 if report.ok else 1
