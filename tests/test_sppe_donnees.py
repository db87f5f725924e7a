"""SPPE settings in the store: the ``competences`` and ``schemas`` imports, the page's settings, the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from data import sppe as persist
from data.importers import ImportValidationError, import_file

FIX = Path(__file__).parent / "fixtures" / "sppe"


def _csv(tmp_path, text, name="liste.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_competences_import_and_page_toggle_merge(tmp_store):
    rep = import_file("competences", FIX / "competences_petite_enfance.csv", tmp_store)
    assert rep.rows == 2
    df = persist.lire(tmp_store, persist.COMPETENCES).set_index("siren_epci")
    assert df.loc["200039758", "date_transfert"] == pd.Timestamp("2020-01-01")
    assert pd.isna(df.loc["200039642", "date_transfert"])
    assert df["competence"].all() and (df["origine"] == "import").all()
    # the page sets a third EPCI and withdraws one of the file
    persist.enregistrer_competence(tmp_store, "200067114", "CA de l'Auxerrois", True, "2025-01-01")
    persist.enregistrer_competence(tmp_store, "200039642", "CC Le Tonnerrois", False)
    df = persist.lire(tmp_store, persist.COMPETENCES).set_index("siren_epci")
    assert len(df) == 3 and not df.loc["200039642", "competence"]
    assert df.loc["200067114", "origine"] == "saisie"
    # a new import (the file is the list) replaces the imported rows and the rows of its codes, keeps the
    # page's setting of a code it does not mention
    f = _csv(tmp_path := tmp_store.root.parent, "siren_epci\n200039758\n")
    import_file("competences", f, tmp_store)
    df = persist.lire(tmp_store, persist.COMPETENCES).set_index("siren_epci")
    assert sorted(df.index) == ["200039642", "200039758", "200067114"]
    assert not df.loc["200039642", "competence"]            # set on the page, kept
    assert tmp_store.info(persist.COMPETENCES).nature == "importé"


def test_competences_refusals_name_line_and_column(tmp_store, tmp_path):
    before = tmp_store.manifest()
    bad = _csv(tmp_path, "siren_epci;date_transfert\n20006711;01/01/2020\n200067114;32/13/2020\n=1+1;\n")
    with pytest.raises(ImportValidationError) as e:
        import_file("competences", bad, tmp_store)
    msgs = [str(p) for p in e.value.errors]
    assert any("ligne 2" in m and "siren_epci" in m and "9 chiffres" in m for m in msgs), msgs
    assert any("ligne 3" in m and "date_transfert" in m for m in msgs), msgs
    assert any("ligne 4" in m for m in msgs), msgs
    assert tmp_store.manifest() == before            # nothing written
    # unknown SIREN: a warning, the line is ignored; renamed column accepted through its alias
    ok = _csv(tmp_path, "N° SIREN;Date d'effet\n999999999;\n200067114;2021-01-01\n", "b.csv")
    rep = import_file("competences", ok, tmp_store)
    assert rep.rows == 1 and any("999999999" in str(w) for w in rep.warnings)
    dup = _csv(tmp_path, "siren_epci;date_transfert\n200067114;01/01/2020\n200067114;01/01/2021\n", "c.csv")
    with pytest.raises(ImportValidationError, match="plusieurs fois"):
        import_file("competences", dup, tmp_store)


def test_schemas_import_and_statuses(tmp_store, tmp_path):
    rep = import_file("schemas", FIX / "schemas_pluriannuels.csv", tmp_store)
    assert rep.rows == 3
    df = persist.lire(tmp_store, persist.SCHEMAS).set_index("code")
    assert df.loc["89024", "statut"] == "adopte" and df.loc["89387", "statut"] == "en_cours"
    assert df.loc["200039758", "statut"] == "ctg"
    bad = _csv(tmp_path, "code;statut\n89024;peut-être\n")
    with pytest.raises(ImportValidationError, match="ligne 2.*statut"):
        import_file("schemas", bad, tmp_store)
    persist.enregistrer_statut_schema(tmp_store, "89387", "adopte", "2026-03-01")
    assert persist.lire(tmp_store, persist.SCHEMAS).set_index("code").loc["89387", "statut"] == "adopte"
    with pytest.raises(persist.SaisieInvalide):
        persist.enregistrer_statut_schema(tmp_store, "89387", "<b>x</b>")


def test_cli_json_for_the_yonne(tmp_store, monkeypatch, capsys):
    """Auxerre (35 097) and Sens (27 106) are the Yonne's towns over 10 000; with the competence list the CC
    Avallon, Vézelay, Morvan (18 432 inhabitants, 48 communes) becomes one authority over 10 000."""
    from planning.cli_sppe import main

    monkeypatch.setenv("ATLAS_DATA_DIR", str(tmp_store.root))
    import_file("competences", FIX / "competences_petite_enfance.csv", tmp_store)
    import_file("schemas", FIX / "schemas_pluriannuels.csv", tmp_store)
    assert main(["--departement", "89", "--json", "--date", "2026-06-01"]) == 0
    d = json.loads(capsys.readouterr().out)
    aut = {a["code"]: a for a in d["autorites"]}
    assert aut["200039758"]["type"] == "epci" and aut["200039758"]["population"] == 18432
    assert aut["200039758"]["palier"] == "10000" and aut["200039758"]["schema"]["statut"] == "ctg"
    # the Tonnerrois (15 032, 52 communes) too; the 48 + 52 communes are no longer authorities
    assert aut["200039642"]["palier"] == "10000"
    assert len(d["autorites"]) == 423 - 48 - 52 + 2
    assert aut["89024"]["schema"]["obligation_remplie"] is True
    assert aut["89387"]["schema"]["obligation_remplie"] is False
    r = d["resume"]
    assert r["par_palier"]["10000"] == 4
    assert sum(r["par_palier"].values()) == len(d["autorites"])
    assert main(["--departement", "999"]) == 2
