"""The Import page's imports run in their own process (data.importers.jobs): report, refusal, failure
of the process, cancel, and the column mapping passed exactly — all in French, the store unchanged
unless the import succeeds."""
from __future__ import annotations

from pathlib import Path

from data.importers import Limits
from data.importers.jobs import ECHEC, REFUSE, TERMINE, ImportJob, safe_suffix, start_import
from tests.test_importers_validation import snapshot

FIX = Path(__file__).parent / "fixtures"


def test_job_imports_and_reports(tmp_store):
    data = (FIX / "imports" / "frr_communes.csv").read_bytes()
    job = start_import("frr", data, "frr_communes.csv", tmp_store)
    state = job.wait(timeout=120)
    assert state.status == TERMINE, state.problems
    assert state.report.layers == ["frr"] and state.report.fichier == "frr_communes.csv"
    assert state.report.rows == len(tmp_store.read("frr"))
    assert tmp_store.info("frr").source.startswith("frr_communes.csv — ")
    job.cleanup()
    assert not job.dir.exists()


def test_job_refusal_keeps_the_store_and_the_real_name(tmp_store):
    before = snapshot(tmp_store)
    name = "«" + "x" * 300 + "».csv"              # longer than any file system allows: only shown
    job = start_import("qpv", b"code_qp;insee_com\nQN08901I;7A123\n", name, tmp_store)
    state = job.wait(timeout=120)
    assert state.status == REFUSE
    assert state.problems[0].message.startswith("code INSEE « 7A123 » invalide")
    assert state.problems[0].ligne == 2 and state.problems[0].colonne == "insee_com"
    assert state.problems[0].fichier.startswith("«xxx") and len(state.problems[0].fichier) <= 200
    assert job.path.name == "fichier.csv"
    assert snapshot(tmp_store) == before
    job.cleanup()


def test_job_killed_by_its_memory_limit_is_a_french_failure(tmp_store):
    before = snapshot(tmp_store)
    data = (FIX / "imports" / "frr_communes.csv").read_bytes()
    # 150 Mo of address space: not even enough to load pandas — the process dies, the page says so
    job = ImportJob("frr", data, "frr.csv", tmp_store, Limits(max_memory_mb=150)).start()
    state = job.wait(timeout=120)
    assert state.status in (ECHEC, REFUSE)
    assert "mémoire" in state.problems[0].message or "arrêté" in state.problems[0].message
    assert "Traceback" not in state.problems[0].message and "Error" not in state.problems[0].message
    assert snapshot(tmp_store) == before
    job.cleanup()


def test_cancel_stops_the_process_and_changes_nothing(tmp_store):
    before = snapshot(tmp_store)
    rows = "".join(f"QN{i:06d}I;89024\n" for i in range(200_000))
    job = start_import("qpv", ("code_qp;insee_com\n" + rows).encode(), "qpv.csv", tmp_store)
    job.cancel()
    state = job.poll()
    assert state.status == ECHEC and "annulé" in state.problems[0].message
    assert job.proc.poll() is not None
    assert snapshot(tmp_store) == before
    job.cleanup()


def test_column_mapping_reaches_the_process_exactly(tmp_store):
    """Column names with commas and « = » survive (they would not in a --colonnes string)."""
    text = ("Commune, code=INSEE;Sorte;Dénomination;Capacité, places;PSU;Gestion;Ouverture\n"
            "89024;EAJE;Crèche A;20;oui;publique;2020-01-01\n")
    mapping = {"code_insee": "Commune, code=INSEE", "type": "Sorte", "nom": "Dénomination",
               "places": "Capacité, places", "psu": "PSU", "gestion": "Gestion", "date_ouverture": "Ouverture"}
    job = start_import("structures", text.encode(), "liste.csv", tmp_store, mapping=mapping)
    state = job.wait(timeout=120)
    assert state.status == TERMINE, [str(p) for p in state.problems]
    s = tmp_store.read("structures")
    assert s["nom"].tolist() == ["Crèche A"] and s["places"].tolist() == [20]
    job.cleanup()


def test_safe_suffix():
    assert safe_suffix("Liste 2024.XLSX") == ".xlsx" and safe_suffix("a.csv") == ".csv"
    assert safe_suffix("../../etc/passwd") == "" and safe_suffix("x.sh") == "" and safe_suffix("") == ""
