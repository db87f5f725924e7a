"""Bad input: located French messages (file, line, column) and an unchanged store."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from data.importers import ImportValidationError, import_file, write_structures
from data.store import NATURE_FICTIF, PROJECT_ROOT

FIX = Path(__file__).parent / "fixtures" / "imports"
STRUCT_HEADER = "code_insee;type;nom;places;psu;gestion;date_ouverture;date_fermeture;latitude;longitude\n"


def snapshot(store) -> dict:
    """Manifest bytes plus (mtime, sha256) of every layer file."""
    snap = {"manifest": store.manifest_path.read_bytes()}
    for p in sorted(store.layers_dir.iterdir()):
        snap[p.name] = (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
    return snap


def rejected(store, kind, path, **kw) -> ImportValidationError:
    before = snapshot(store)
    with pytest.raises(ImportValidationError) as exc:
        import_file(kind, path, store, **kw)
    assert snapshot(store) == before, "le magasin ne doit pas changer quand l'import est refusé"
    return exc.value


def write(tmp_path, name, text, encoding="utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_problem_str_is_french_and_located():
    from data.importers import Problem

    p = Problem("qpv.csv", 12, "insee_com", "code INSEE « 7A123 » invalide — corrigez-le")
    assert str(p) == "qpv.csv, ligne 12, colonne « insee_com » : code INSEE « 7A123 » invalide — corrigez-le"


def test_invalid_code_names_file_line_column(tmp_store, tmp_path):
    path = write(tmp_path, "qpv.csv", "code_qp;lib_qp;insee_com;lib_com\nQN08901I;A;89024;Auxerre\n"
                                      "QN08902I;B;7A123;Nulle part\n")
    err = rejected(tmp_store, "qpv", path)
    msg = str(err.errors[0])
    assert msg.startswith("qpv.csv, ligne 3, colonne « insee_com » : code INSEE « 7A123 » invalide")


def test_wrong_separator(tmp_store, tmp_path):
    path = write(tmp_path, "frr.csv", "codgeo:codefrr\n89024:0\n")
    err = rejected(tmp_store, "frr", path)
    assert "séparateur" in str(err.errors[0]) and "frr.csv, ligne 1" in str(err.errors[0])


def test_cp1252_accepted_and_reported(tmp_store, tmp_path):
    path = write(tmp_path, "structures.csv", STRUCT_HEADER +
                 "89024;EAJE;Crèche Les Câlins;30;oui;publique;01/09/2015;;;\n", encoding="cp1252")
    report = import_file("structures", path, tmp_store)
    assert report.encoding == "Windows-1252"
    assert tmp_store.read("structures")["nom"].tolist() == ["Crèche Les Câlins"]


def test_missing_column_lists_found_and_expected(tmp_store, tmp_path):
    path = write(tmp_path, "frr.csv", "codgeo;libgeo\n89024;Auxerre\n")
    err = rejected(tmp_store, "frr", path)
    msg = str(err.errors[0])
    assert "frr.csv, ligne 1" in msg and "« codefrr »" in msg and "« codgeo »" in msg and "« libgeo »" in msg


def test_renamed_column_alias_accepted(tmp_store, tmp_path):
    # "Code INSEE" and "Code FRR" instead of codgeo / codefrr
    path = write(tmp_path, "frr.csv", "Code INSEE;Code FRR\n89024;4\n")
    import_file("frr", path, tmp_store)
    assert tmp_store.read("frr")["classement"].tolist() == ["FRR"]


def test_unknown_insee_code_is_a_listed_warning(tmp_store, tmp_path):
    path = write(tmp_path, "frr.csv", "codgeo;codefrr\n89024;4\n99999;4\n")
    report = import_file("frr", path, tmp_store)
    assert tmp_store.read("frr")["code_insee"].tolist() == ["89024"]
    w = [str(x) for x in report.warnings]
    assert any(s.startswith("Avertissement — frr.csv, ligne 3, colonne « codgeo » : code INSEE « 99999 »") for s in w)


def test_duplicates_exact_warning_conflict_error(tmp_store, tmp_path):
    ok = write(tmp_path, "frr.csv", "codgeo;codefrr\n89024;4\n89024;4\n")
    report = import_file("frr", ok, tmp_store)
    assert len(tmp_store.read("frr")) == 1 and any("ligne 3" in str(w) and "double" in str(w) for w in report.warnings)
    bad = write(tmp_path, "frr2.csv", "codgeo;codefrr\n89024;4\n89024;5\n")
    err = rejected(tmp_store, "frr", bad)
    msg = str(err.errors[0])
    assert "frr2.csv, ligne 3, colonne « codgeo »" in msg and "lignes 2, 3" in msg


def test_negative_places(tmp_store, tmp_path):
    path = write(tmp_path, "structures.csv", STRUCT_HEADER + "89024;EAJE;Crèche A;-5;oui;publique;01/09/2015;;;\n")
    err = rejected(tmp_store, "structures", path)
    assert str(err.errors[0]).startswith("structures.csv, ligne 2, colonne « places » : nombre de places négative")


def test_absurd_numbers(tmp_store, tmp_path):
    path = write(tmp_path, "structures.csv",
                 "code_insee;type;nom;places;psu;gestion;date_ouverture;etp_animation;latitude;longitude\n"
                 "89024;EAJE;Crèche A;1500;oui;publique;01/09/2015;;;\n"
                 "89024;RPE;Relais B;0;non;publique;01/09/2015;75;;\n"
                 "89024;EAJE;Crèche C;20;oui;publique;01/09/2015;;40,0;-74,0\n")
    err = rejected(tmp_store, "structures", path)
    msgs = [str(e) for e in err.errors]
    assert any(m.startswith("structures.csv, ligne 2, colonne « places »") and "invraisemblable" in m for m in msgs)
    assert any(m.startswith("structures.csv, ligne 3, colonne « etp_animation »") for m in msgs)
    assert any(m.startswith("structures.csv, ligne 4, colonne « latitude »") and "hors de France" in m for m in msgs)


def test_children_more_than_population(tmp_store, tmp_path):
    path = write(tmp_path, "base-cc-evol-struct-pop-2021.CSV", "CODGEO;P21_POP;P21_POP0002\n89024;100;250\n")
    err = rejected(tmp_store, "enfants_moins_3", path)
    assert str(err.errors[0]).startswith("base-cc-evol-struct-pop-2021.CSV, ligne 2, colonne « P21_POP0002 »")


def test_drom_coordinates_accepted(tmp_store, tmp_path):
    # Saint-Denis de La Réunion (97411): -20.88, 55.45
    path = write(tmp_path, "structures.csv", STRUCT_HEADER +
                 "97411;EAJE;Crèche Réunion;30;oui;publique;2015-09-01;;-20,88;55,45\n")
    import_file("structures", path, tmp_store)
    assert tmp_store.read("structures")["latitude"].tolist() == [-20.88]


def test_huge_file_rejected_before_reading(tmp_store, tmp_path):
    path = write(tmp_path, "qpv.csv", "code_qp;insee_com\n" + "QN08901I;89024\n" * 20000)  # about 300 kB
    err = rejected(tmp_store, "qpv", path, max_mb=0.1)
    assert "qpv.csv" in str(err.errors[0]) and "trop volumineux" in str(err.errors[0])


def test_formula_cell(tmp_store, tmp_path):
    path = write(tmp_path, "structures.csv", STRUCT_HEADER +
                 '89024;EAJE;=HYPERLINK("http://x");30;oui;publique;01/09/2015;;;\n')
    err = rejected(tmp_store, "structures", path)
    msg = str(err.errors[0])
    assert msg.startswith("structures.csv, ligne 2, colonne « nom »") and "supprimez la formule" in msg


def test_official_code_protection_is_not_a_formula(tmp_store, tmp_path):
    path = write(tmp_path, "qpv.csv", 'code_qp;insee_com\nQN08901I;="89024"\n')
    import_file("qpv", path, tmp_store)
    assert tmp_store.read("qpv")["code_insee"].tolist() == ["89024"]


def test_html_cell(tmp_store, tmp_path):
    path = write(tmp_path, "qpv.csv", "code_qp;lib_qp;insee_com\nQN08901I;<script>alert(1)</script>;89024\n")
    err = rejected(tmp_store, "qpv", path)
    msg = str(err.errors[0])
    assert msg.startswith("qpv.csv, ligne 2, colonne « lib_qp »") and "supprimez la balise" in msg


def test_unparseable_date_and_closing_before_opening(tmp_store, tmp_path):
    path = write(tmp_path, "structures.csv", STRUCT_HEADER +
                 "89024;EAJE;Crèche A;30;oui;publique;32/13/2015;;;\n"
                 "89024;EAJE;Crèche B;30;oui;publique;01/09/2015;01/09/2014;;\n")
    err = rejected(tmp_store, "structures", path)
    msgs = [str(e) for e in err.errors]
    assert msgs[0].startswith("structures.csv, ligne 2, colonne « date_ouverture » : date « 32/13/2015 » illisible")
    assert any(m.startswith("structures.csv, ligne 3, colonne « date_fermeture » : fermeture le 01/09/2014 avant")
               for m in msgs)


def test_empty_file(tmp_store, tmp_path):
    err = rejected(tmp_store, "qpv", write(tmp_path, "qpv.csv", ""))
    assert "qpv.csv" in str(err.errors[0]) and "vide" in str(err.errors[0])


def test_spreadsheet_line_numbers_survive_blank_and_multiline_rows(tmp_store, tmp_path):
    # line 2 valid, line 3 blank, line 4 has a two-line quoted cell, line 5 is bad
    path = write(tmp_path, "qpv.csv", 'code_qp;lib_qp;insee_com\nQN08901I;A;89024\n;;\n'
                                      'QN08902I;"deux\nlignes";89024\nQN08903M;C;ABCDE\n')
    err = rejected(tmp_store, "qpv", path)
    assert str(err.errors[0]).startswith("qpv.csv, ligne 5, colonne « insee_com »")


def test_write_structures_validates_a_frame(tmp_store):
    frame = pd.DataFrame([
        {"code_insee": "89024", "type": "EAJE", "nom": "Crèche fictive", "places": 24, "psu": True,
         "gestion": "publique", "date_ouverture": pd.Timestamp("2012-09-01"), "date_fermeture": pd.NaT,
         "latitude": 47.8, "longitude": 3.57, "etp_animation": float("nan"), "nb_assistants_maternels": float("nan")},
    ])
    report = write_structures(frame, tmp_store, nature=NATURE_FICTIF, source="démo", vintage="fictif",
                              extra={"seed": 1})
    s = tmp_store.read("structures")
    assert report.rows == 1 and s["id"].str.startswith("S-89024-").all() and s["places"].tolist() == [24]
    info = tmp_store.info("structures")
    assert info.nature == NATURE_FICTIF and info.extra == {"seed": 1}
    bad = frame.assign(places=-3)
    before = snapshot(tmp_store)
    with pytest.raises(ImportValidationError) as exc:
        write_structures(bad, tmp_store, nature=NATURE_FICTIF, source="démo", vintage="fictif")
    assert "ligne 2, colonne « places »" in str(exc.value.errors[0])
    assert snapshot(tmp_store) == before


def test_cli_bad_file_exits_non_zero_in_french(tmp_store, tmp_path):
    bad = write(tmp_path, "qpv.csv", "code_qp;insee_com\nQN08901I;7A123\n")
    before = snapshot(tmp_store)
    env = {"ATLAS_DATA_DIR": str(tmp_store.root), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "data", "import", "qpv", str(bad)], cwd=PROJECT_ROOT,
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert "qpv.csv, ligne 2, colonne « insee_com » : code INSEE « 7A123 » invalide" in r.stderr
    assert snapshot(tmp_store) == before
