"""Diagnostic of the schéma pluriannuel: open the .docx and the PDF, check the décret's headings and the
figures against the planning functions (hand-made structure list of the Yonne, see test_exports_documents)."""
from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest
from docx import Document as Word
from pypdf import PdfReader

from tests.test_exports_documents import store  # noqa: F401  (module fixture: Yonne structures, « fictif »)

QUAND = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def files(store):  # noqa: F811
    from exports.diagnostic import build_diagnostic

    return build_diagnostic("89387", store=store, quand=QUAND)     # Sens


def _docx(files) -> Word:
    return Word(io.BytesIO(next(v for k, v in files.items() if k.endswith(".docx"))))


def test_docx_has_the_decree_headings_in_order(files):
    from exports.diagnostic import TITRES

    doc = _docx(files)
    heads = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert [h for h in heads if h[0].isdigit()] == list(TITRES)
    assert doc.paragraphs[0].text == "Diagnostic pour le schéma pluriannuel — Sens"
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Données fictives de démonstration" in text
    completer = [p for p in doc.paragraphs if p.text.startswith("À compléter par la commune")]
    assert len(completer) >= 7 and all(p.runs[0].font.highlight_color is not None for p in completer)
    assert doc.inline_shapes[0]._inline.docPr.get("descr")           # the map has an alternative text


def test_docx_figures_match_the_planning_functions(files, store):  # noqa: F811
    from planning import besoins as bz
    from planning.coverage import indicateurs, load_inputs

    inp = load_inputs(store)
    doc = _docx(files)
    text = "\n".join(p.text for p in doc.paragraphs).replace("\u202f", " ")
    # Sens: 27 106 inhabitants, a town over 10 000 without RPE (the test list has none in Sens)
    assert "27 106 habitants" in text and "plus de 10 000 habitants" in text
    assert "RPE situé dans le territoire : non — obligation : non remplie" in text
    # offer: the test list opens 30 PSU places in Sens on 1 March 2025 → 30 EAJE places at 31 December 2026
    offre = doc.tables[0]
    rows = {r.cells[0].text: r.cells[1].text for r in offre.rows[1:]}
    assert rows["Places d'EAJE (crèches, micro-crèches)"] == "30" and rows["dont financées par la PSU"] == "30"
    # objectives: target = the département's EAJE rate; places to create in the horizon year recomputed here
    dep = indicateurs(inp, "departement", 2026, ("departement", "89")).iloc[0]
    serie = bz.naissances_territoire(inp.naissances, ["89387"])
    b = bz.besoin(serie, 30, 2026, taux_cible=float(dep["taux_eaje"]))
    last = b.iloc[-1]
    assert f"Places à créer d'ici {int(last['annee'])} : {int(last['places_a_creer']):,}".replace(",", " ") in text
    # staffing = places ÷ 6 × 1,6 ; investment = places × 7 400 € … 26 000 €
    etp = last["places_a_creer"] / 6 * 1.6
    assert f"= {etp:.1f}".replace(".", ",") + " ETP" in text
    assert f"{int(last['places_a_creer'] * 7400):,} €".replace(",", " ") in text


def test_pdf_has_the_same_headings(files):
    pdf = next(v for k, v in files.items() if k.endswith(".pdf"))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for h in ("1. Offre d'accueil existante", "4. Objectifs de développement de l'offre", "8. Indicateurs d'évaluation"):
        assert h in text


def test_cli_schema_writes_files_and_refuses_in_french(store, tmp_path, monkeypatch, capsys):  # noqa: F811
    from exports.__main__ import main

    monkeypatch.setenv("ATLAS_DATA_DIR", str(store.root))
    assert main(["schema", "--commune", "89024", "--out", str(tmp_path), "--date", "2026-11-26"]) == 0
    assert len(list(tmp_path.glob("*.docx"))) == 1 and len(list(tmp_path.glob("*.pdf"))) == 1
    assert "[1/1] Diagnostic 89024" in capsys.readouterr().out
    assert main(["schema", "--commune", "99999", "--out", str(tmp_path)]) == 1
    assert "inconnu" in capsys.readouterr().err
    assert main(["schema", "--departement", "89", "--out", str(tmp_path)]) == 1     # --tous missing
