"""python -m data fetch against a local HTTP server, and the no-network path."""
from __future__ import annotations

import functools
import http.server
import shutil
import socket
import threading
import zipfile
from pathlib import Path

import pytest

from data.fetch import CATALOGUE, FetchError, fetch_all, run_fetch_cli

FIX = Path(__file__).parent / "fixtures" / "imports"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture()
def server(tmp_path):
    """Serve a folder on 127.0.0.1 (random port) holding files under the catalogue's names."""
    root = tmp_path / "www"
    root.mkdir()
    shutil.copy(FIX / "qpv_liste.csv", root / "qpv2024_communes.csv")
    shutil.copy(FIX.parent / "caf" / "txcouv_pe_com.csv", root / "txcouv_pe_com.csv")
    with zipfile.ZipFile(root / "base_naissances_2008-2024_geo2025_csv.zip", "w") as zf:
        zf.write(FIX.parent / "naissances" / "base_naissances_2022.csv", "base_naissances_2022.csv")
    with zipfile.ZipFile(root / "base-cc-evol-struct-pop-2021_csv.zip", "w") as zf:
        zf.write(FIX / "base-cc-evol-struct-pop-2021.CSV", "base-cc-evol-struct-pop-2021.CSV")
        zf.writestr("meta_base-cc-evol-struct-pop-2021.CSV", "COD_VAR;LIB_VAR\n")
    handler = functools.partial(_Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_catalogue_covers_official_sources():
    kinds = {s.kind for s in CATALOGUE}
    assert {"qpv", "frr", "grille_densite", "populations", "enfants_moins_3", "caf_couverture", "caf_places",
            "naissances"} <= kinds
    names = [s.filename for s in CATALOGUE]
    # every level of data.caf.fr, the "hist" exports before the current ones
    for level in ("com", "epci", "dep", "reg", "nat"):
        assert names.index(f"txcouv_pe_{level}_hist.csv") < names.index(f"txcouv_pe_{level}.csv")
        assert f"nbpla_pe_{level}.csv" in names
    assert all(s.url.startswith("https://") and s.page.startswith("https://") for s in CATALOGUE)


def test_fetch_from_local_server(server, tmp_store):
    report = fetch_all(base_url=server, timeout=5, store=tmp_store,
                       kinds=["qpv", "enfants_moins_3", "caf_couverture", "naissances"])
    by_file = {r.source.filename: r for r in report.results}
    assert by_file["qpv2024_communes.csv"].ok and by_file["txcouv_pe_com.csv"].ok
    assert by_file["base-cc-evol-struct-pop-2021_csv.zip"].ok      # CSV taken inside the zip
    # the other coverage levels are not served: 404, named, the rest still imported
    assert not by_file["txcouv_pe_dep.csv"].ok and "404" in by_file["txcouv_pe_dep.csv"].message
    assert not report.ok
    assert set(tmp_store.read("qpv")["code_qp"]) == {"QN08901I", "QN08906M", "QN09301M", "QN07501M"}
    assert tmp_store.read("caf_couverture_com").set_index(["code", "annee"]).loc[("89024", 2022), "txcouv"] == 61.2
    e = tmp_store.read("enfants_moins_3").set_index("code_insee")
    assert e.loc["89024", "enfants_moins_3"] == pytest.approx(1012.3) and not e.loc["89024", "estimation"]
    assert "qpv2024_communes.csv" in tmp_store.info("qpv").source
    assert by_file["base_naissances_2008-2024_geo2025_csv.zip"].ok
    assert tmp_store.read("naissances").set_index(["code_insee", "annee"]).loc[("75056", 2022), "naissances"] == 190


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_no_network_fails_fast_in_french(tmp_store, capsys):
    before = tmp_store.manifest_path.read_bytes()
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(FetchError) as exc:
        fetch_all(base_url=url, timeout=2, store=tmp_store)
    assert "Pas d'accès réseau" in str(exc.value) and "python -m data import" in str(exc.value)
    assert tmp_store.manifest_path.read_bytes() == before


def test_cli_no_network(monkeypatch, tmp_store, capsys):
    monkeypatch.setenv("ATLAS_DATA_DIR", str(tmp_store.root))
    code = run_fetch_cli(base_url=f"http://127.0.0.1:{_closed_port()}", timeout=2)
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("Erreur : Pas d'accès réseau") and "Traceback" not in err
