"""Open-data crèche lists (départements, cities), column mapping, header-less files, duplicates,
and indicators with PSU « non renseigné ».

Fixtures in the exact shape of the published files (headers real, rows synthetic):
* ``etablissements-daccueil-de-la-petite-enfance-pe.csv`` — Hauts-de-Seine, Opendatasoft export with
  labels (``NOM;TYPE;ADRESSE;CODE POSTAL;…;geo_shape;geo_point_2d``), ``;``, UTF-8 BOM, CRLF, GeoJSON
  cell quoted with doubled quotes, ``geo_point_2d`` = "lat, lon";
* ``eaje_cd93_l93.csv`` — Seine-Saint-Denis, Opendatasoft export with field names
  (``geo_point_2d,geo_shape,statut,id,nom,type_daccueil,nbr_place,…``), ``,`` separator, so the
  "lat, lon" cell is quoted.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data.importers import import_file
from data.importers.mapping import MappingError, list_mappings, parse_colonnes, save_mapping
from data.store import PROJECT_ROOT
from planning.catalogue import description
from planning.coverage import indicateurs
from planning.entrees import CoverageInputs
from planning.flux import variation_places
from planning.stock import psu_non_renseigne
from tests.test_importers_validation import rejected, snapshot, write

FIX = Path(__file__).parent / "fixtures" / "imports"
HDS = FIX / "etablissements-daccueil-de-la-petite-enfance-pe.csv"
SSD = FIX / "eaje_cd93_l93.csv"


def test_hauts_de_seine_labels_export_imports_with_psu_unknown_and_two_summary_warnings(tmp_store):
    report = import_file("structures", HDS, tmp_store, millesime="2024")
    s = tmp_store.read("structures").set_index("nom")
    assert len(s) == 7 and report.rows == 7
    # types mapped, original labels kept
    assert s.loc["Les Mésanges", ["type", "type_libelle"]].tolist() == ["EAJE", "Multi-accueil"]
    assert s.loc["Petits Pas", "type"] == "MICRO_CRECHE"
    assert s.loc["Les Lutins", "type"] == "CRECHE_PARENTALE"
    assert s.loc["Service d'accueil familial Nord", "type"] == "CRECHE_FAMILIALE"
    assert s.loc["Jardin des Tilleuls", "type"] == "JARDIN_ENFANTS"
    assert s.loc["La Ribambelle", "type"] == "HALTE_GARDERIE"
    assert s.loc["Les Coccinelles", ["type", "type_libelle"]].tolist() == ["EAJE", "Petite crèche"]
    # gestion mapped, label kept: Commune / Département / Public autre → publique ; Privé / Associatif → privee
    assert s.loc["Jardin des Tilleuls", ["gestion", "gestion_libelle"]].tolist() == ["publique", "Public autre"]
    assert s.loc["Les Coccinelles", "gestion"] == "publique" and s.loc["Petits Pas", "gestion"] == "privee"
    assert s.loc["Les Lutins", "gestion"] == "privee"
    # PSU never guessed, opening date = the vintage, flagged as estimated
    assert s["psu"].isna().all()
    assert (s["date_ouverture"] == pd.Timestamp("2024-01-01")).all() and s["ouverture_estimee"].all()
    # geo_point_2d "lat, lon" wins over the GeoJSON column; both hold the same point here
    assert s.loc["Les Mésanges", ["latitude", "longitude"]].tolist() == [48.9231, 2.2541]
    assert s["code_insee"].tolist().count("92025") == 2
    # capacities: 60 + 10 + 16 + 45 + 40 + 20 + 24 = 215
    assert int(s["places"].sum()) == 215
    # whole-file facts are two summaries, not one line per structure
    w = [str(x) for x in report.warnings]
    assert len(w) == 2, w
    assert "PSU « non renseigné » pour 7 structure(s) d'accueil (215 places) — colonne PSU absente" in w[0] \
        or "PSU « non renseigné » pour 7 structure(s) d'accueil (215 places) — colonne PSU absente" in w[1]
    assert any("comptées ouvertes à partir du 01/01/2024" in x for x in w)
    assert "215 « PSU non renseigné »" in report.summary()
    assert tmp_store.info("structures").vintage == "liste au 01/01/2024"


def test_seine_saint_denis_field_names_export_comma_separated(tmp_store):
    report = import_file("structures", SSD, tmp_store, millesime="01/09/2023")
    s = tmp_store.read("structures").set_index("id")
    assert len(s) == 8 and report.encoding == "UTF-8"
    assert s.loc["103", "nom"] == "Les Petits Loups, crèche parentale"   # quoted cell with a comma
    assert s.loc["101", ["type", "gestion", "gestion_libelle"]].tolist() == ["EAJE", "publique", "Département"]
    assert s.loc["105", "gestion"] == "publique"          # Hospitalier
    assert s.loc["104", ["type", "gestion"]].tolist() == ["MICRO_CRECHE", "privee"]   # Société
    assert s.loc["102", "type"] == "CRECHE_FAMILIALE"
    assert s.loc["106", ["type", "type_libelle"]].tolist() == ["EAJE", "multi-accueil collectif et familial"]
    assert s.loc["103", ["latitude", "longitude"]].tolist() == [48.914, 2.383]
    assert (s["date_ouverture"] == pd.Timestamp("2023-09-01")).all()
    assert int(s["places"].sum()) == 60 + 40 + 18 + 12 + 50 + 70 + 20 + 45 == 315
    assert len(report.warnings) == 2


def test_vintage_defaults_to_the_year_in_the_file_name_then_to_the_file_date(tmp_store, tmp_path):
    named = tmp_path / "eaje_cd93_2022.csv"
    named.write_bytes(SSD.read_bytes())
    import_file("structures", named, tmp_store)
    assert (tmp_store.read("structures")["date_ouverture"] == pd.Timestamp("2022-01-01")).all()
    plain = tmp_path / "eaje_cd93.csv"
    plain.write_bytes(SSD.read_bytes())
    t = time.mktime((2021, 3, 15, 12, 0, 0, 0, 0, -1))
    os.utime(plain, (t, t))
    report = import_file("structures", plain, tmp_store)
    assert (tmp_store.read("structures")["date_ouverture"] == pd.Timestamp("2021-03-15")).all()
    assert any("date du fichier (15/03/2021)" in str(w) for w in report.warnings)


def test_bad_vintage_is_refused_in_french(tmp_store):
    err = rejected(tmp_store, "structures", SSD, millesime="l'an dernier")
    assert "millésime « l'an dernier » illisible" in str(err.errors[0])


def test_geojson_point_column_alone_and_lat_lon_columns(tmp_store, tmp_path):
    geo = write(tmp_path, "creches.csv",
                'nom;type;capacite;gestion;code_insee;geo_shape\n'
                'A;Multi-accueil;30;Commune;93066;"{""coordinates"": [2.3574, 48.9362], ""type"": ""Point""}"\n')
    import_file("structures", geo, tmp_store, millesime="2024")
    assert tmp_store.read("structures")[["latitude", "longitude"]].values.tolist() == [[48.9362, 2.3574]]
    bad = write(tmp_path, "creches2.csv",
                'nom;type;capacite;gestion;code_insee;geo_shape\n'
                'A;Multi-accueil;30;Commune;93066;"{""type"": ""Polygon"", ""coordinates"": []}"\n')
    err = rejected(tmp_store, "structures", bad, millesime="2024")
    assert str(err.errors[0]).startswith("creches2.csv, ligne 2, colonne « geo_shape » : coordonnées")
    latlon = write(tmp_path, "creches3.csv", "nom,type,capacite,gestion,code_insee,lat,lon\nB,Micro-crèche,10,Privé,93008,48.91,2.439\n")
    import_file("structures", latlon, tmp_store, millesime="2024")
    assert tmp_store.read("structures")[["latitude", "longitude", "type"]].values.tolist() == [[48.91, 2.439, "MICRO_CRECHE"]]


def test_empty_psu_cell_is_unknown_not_no(tmp_store, tmp_path):
    path = write(tmp_path, "structures.csv",
                 "code_insee;type;nom;places;psu;gestion;date_ouverture\n"
                 "89024;EAJE;A;40;oui;publique;2010-01-01\n89024;EAJE;B;20;;publique;2011-01-01\n"
                 "89024;EAJE;C;10;non;privee;2012-01-01\n")
    report = import_file("structures", path, tmp_store)
    psu = tmp_store.read("structures").set_index("nom")["psu"]
    assert psu["A"] is True or psu["A"] == True  # noqa: E712
    assert pd.isna(psu["B"]) and psu["C"] == False  # noqa: E712
    assert any("PSU « non renseigné » pour 1 structure(s) d'accueil (20 places) — cellule PSU vide" in str(w)
               for w in report.warnings)


# -- header-less files -------------------------------------------------------------------------------
def test_file_without_header_row_is_refused_saying_so(tmp_store, tmp_path):
    path = write(tmp_path, "sans_entete.csv", "92025;Multi-accueil;Les Mésanges;60;Commune\n"
                                              "92050;Micro crèche;Petits Pas;10;Privé\n")
    err = rejected(tmp_store, "structures", path)
    msg = str(err.errors[0])
    assert msg.startswith("sans_entete.csv, ligne 1 : le fichier n'a pas de ligne d'en-tête")
    assert "« 92025 »" in msg and "Ajoutez en ligne 1 le nom de chaque colonne" in msg


# -- column mapping -------------------------------------------------------------------------------
ODD = ("Nom de l'établissement;Catégorie d'accueil;Capacité, total;Statut juridique;Commune (code)\n"
       "Les Mésanges;Multi-accueil;60;Commune;92025\n"
       "Petits Pas;Micro crèche;10;Privé;92050\n")


def test_parse_colonnes_keeps_commas_inside_column_names():
    fields = ["nom", "places", "type", "code_insee", "gestion"]
    assert parse_colonnes("nom=Nom de l'établissement,places=Capacité, total", fields) == {
        "nom": "Nom de l'établissement", "places": "Capacité, total"}
    with pytest.raises(MappingError, match="champ « prix » inconnu"):
        parse_colonnes("prix=Tarif", fields)
    with pytest.raises(MappingError, match="n'a pas la forme champ=colonne"):
        parse_colonnes("Nom", fields)


def test_unrecognised_columns_are_refused_then_imported_with_a_mapping(tmp_store, tmp_path):
    path = write(tmp_path, "liste_ville.csv", ODD)
    err = rejected(tmp_store, "structures", path)
    assert "colonne(s) obligatoire(s) absente(s)" in str(err.errors[0])
    mapping = {"nom": "Nom de l'établissement", "type": "Catégorie d'accueil", "places": "Capacité, total",
               "gestion": "Statut juridique", "code_insee": "Commune (code)"}
    import_file("structures", path, tmp_store, mapping=mapping, millesime="2025")
    s = tmp_store.read("structures").set_index("nom")
    assert s.loc["Les Mésanges", ["places", "type", "gestion", "code_insee"]].tolist() == [60, "EAJE", "publique", "92025"]
    assert tmp_store.info("structures").extra["mapping"] == mapping
    # a mapped column that is not in the file: located French error, store unchanged
    err = rejected(tmp_store, "structures", path, mapping={**mapping, "nom": "Raison sociale"})
    assert "la colonne « Raison sociale » indiquée pour « nom » est absente du fichier" in str(err.errors[0])
    err = rejected(tmp_store, "structures", path, mapping={**mapping, "adresse": "Statut juridique"})
    assert "est indiquée pour « gestion » et pour « adresse »" in str(err.errors[0])


def _cli(store, *args):
    env = {"ATLAS_DATA_DIR": str(store.root), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "data", "import", "structures", *args], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, env=env, timeout=120)


def test_cli_colonnes_millesime_and_saved_mapping(tmp_store, tmp_path):
    path = write(tmp_path, "liste_ville.csv", ODD)
    r = _cli(tmp_store, str(path), "--colonnes",
             "nom=Nom de l'établissement,type=Catégorie d'accueil,places=Capacité, total,"
             "gestion=Statut juridique,code_insee=Commune (code)", "--millesime", "2023")
    assert r.returncode == 0, r.stderr
    assert "2 ligne(s) écrite(s) dans structures" in r.stdout and "01/01/2023" in r.stdout
    assert tmp_store.read("structures")["places"].sum() == 70
    # a saved mapping is reused by name
    save_mapping(tmp_store, "structures", "Ville test", {
        "nom": "Nom de l'établissement", "type": "Catégorie d'accueil", "places": "Capacité, total",
        "gestion": "Statut juridique", "code_insee": "Commune (code)"})
    assert list(list_mappings(tmp_store, "structures")) == ["Ville test"]
    r = _cli(tmp_store, str(path), "--correspondance", "Ville test", "--json")
    assert r.returncode == 0, r.stderr
    before = snapshot(tmp_store)
    r = _cli(tmp_store, str(path), "--colonnes", "nom=Inexistante")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "la colonne « Inexistante » indiquée pour « nom » est absente du fichier" in r.stderr
    r = _cli(tmp_store, str(path), "--colonnes", "tarif=Prix")
    assert r.returncode == 2 and "champ « tarif » inconnu" in r.stderr
    r = _cli(tmp_store, str(path), "--correspondance", "Absente")
    assert r.returncode == 2 and "correspondance « Absente » introuvable" in r.stderr
    assert snapshot(tmp_store) == before


def test_mapping_names_are_checked(tmp_store):
    with pytest.raises(MappingError, match="donnez un nom"):
        save_mapping(tmp_store, "structures", "  ", {"nom": "Nom"})
    with pytest.raises(MappingError, match="champ\\(s\\) inconnu\\(s\\) : prix"):
        save_mapping(tmp_store, "structures", "x", {"prix": "Tarif"})


# -- duplicates (issue 9 item 2) -------------------------------------------------------------------
HEAD = "code_insee;type;nom;places;psu;gestion;date_ouverture\n"


@pytest.mark.parametrize("second,column", [
    ("89024;EAJE;Crèche A;25;oui;publique;2015-09-01", "places"),
    ("89024;EAJE;Crèche A;20;non;publique;2015-09-01", "psu"),
    ("89024;EAJE;Crèche A;20;oui;privee;2015-09-01", "gestion"),
])
def test_same_structure_with_different_values_is_refused_naming_lines_and_columns(tmp_store, tmp_path, second, column):
    path = write(tmp_path, "structures.csv", HEAD + "89024;EAJE;Crèche A;20;oui;publique;2015-09-01\n"
                 "89024;EAJE;Autre;10;oui;publique;2015-09-01\n" + second + "\n")
    err = rejected(tmp_store, "structures", path)
    msg = str(err.errors[0])
    assert msg.startswith(f"structures.csv, ligne 4, colonne « {column} » : structure « Crèche A » (89024, EAJE) "
                          "présente deux fois avec des valeurs différentes : lignes 2 et 4")
    assert f"colonne(s) « {column} »" in msg


def test_exact_duplicate_is_kept_once_with_a_warning_naming_both_lines(tmp_store, tmp_path):
    row = "89024;EAJE;Crèche A;20;oui;publique;2015-09-01\n"
    path = write(tmp_path, "structures.csv", HEAD + row + "89024;EAJE;Autre;10;oui;publique;2015-09-01\n" + row)
    report = import_file("structures", path, tmp_store)
    assert sorted(tmp_store.read("structures")["nom"]) == ["Autre", "Crèche A"]
    w = [str(x) for x in report.warnings]
    assert any(x.startswith("Avertissement — structures.csv, ligne 4, colonne « nom » : ligne identique à la "
                            "ligne 2") for x in w), w


# -- indicators with PSU « non renseigné » (worked example) ----------------------------------------
def test_indicators_count_psu_unknown_places_apart():
    """One commune, 200 children under 3, three crèches open since 2020:
    A 40 places PSU, B 20 places PSU « non renseigné », C micro-crèche 10 places PSU « non renseigné ».

    places_eaje = 40 + 20 + 10 = 70 ; places_psu = 40 ; places_hors_psu = 0 ;
    places_psu_non_renseigne = 20 + 10 = 30 ; taux_eaje = 70 / 200 × 100 = 35,0 ;
    taux_eaje_psu (known places only) = 40 / 200 × 100 = 20,0.
    """
    communes = pd.DataFrame({"code_insee": ["01001"], "nom": ["Aval"], "dep": ["01"], "reg": ["84"],
                             "population": [6000], "epci_siren": ["E1"]})
    enfants = pd.DataFrame({"code_insee": ["01001"], "enfants_moins_3": [200.0]})
    t = pd.Timestamp
    structures = pd.DataFrame({
        "id": ["A", "B", "C"], "code_insee": ["01001"] * 3, "type": ["EAJE", "EAJE", "MICRO_CRECHE"],
        "places": [40, 20, 10], "psu": pd.array([True, pd.NA, pd.NA], dtype="boolean"),
        "date_ouverture": [t("2020-01-01")] * 3, "date_fermeture": [pd.NaT] * 3,
        "ouverture_estimee": [False, True, True]})
    inp = CoverageInputs(communes=communes, enfants=enfants, structures=structures)
    row = indicateurs(inp, "commune", 2024).iloc[0]
    assert row["places_eaje"] == 70 and row["places_psu"] == 40 and row["places_hors_psu"] == 0
    assert row["places_psu_non_renseigne"] == 30
    assert row["taux_eaje"] == pytest.approx(35.0) and row["taux_eaje_psu"] == pytest.approx(20.0)
    dep = indicateurs(inp, "departement", 2024).iloc[0]
    assert dep["places_psu_non_renseigne"] == 30
    nr = psu_non_renseigne(inp, 2024)
    assert (nr["places"], nr["structures"]) == (30, 2)
    d = description("taux_eaje_psu", inp, 2024)
    assert "PSU « non renseigné » pour 30 places d'EAJE (2 structure(s))" in d["source"]
    # estimated openings (the file's vintage) are not creations of places: only A counts in 2020
    flows = variation_places(inp, 2020, 2020, niveau="commune")
    assert flows.loc[0, "places_creees"] == 40 and flows.loc[0, "places_creees_psu"] == 40
    # before the vintage nothing is open; after, A/B/C are
    assert indicateurs(inp, "commune", 2019).iloc[0]["places_eaje"] == 0


def test_imported_open_data_list_gives_unknown_psu_in_the_indicators(tmp_store):
    from data.entrees import load_inputs

    import_file("structures", SSD, tmp_store, millesime="2024")
    inp = load_inputs(tmp_store)
    dep = indicateurs(inp, "departement", 2024, territoire="departement:93").iloc[0]
    assert dep["places_eaje"] == 315 and dep["places_psu_non_renseigne"] == 315
    assert dep["places_psu"] == 0 and dep["places_hors_psu"] == 0
    assert np.isnan(indicateurs(inp, "departement", 2024, territoire="departement:92").iloc[0]["places_eaje"])


def test_sdsf_pack_says_how_many_places_have_psu_unknown(tmp_store):
    """The 93 list of the fixture: 315 places, all « PSU non renseigné » → the key figures say so and
    the commune table has the column."""
    import io

    from openpyxl import load_workbook

    from exports import build_sdsf_pack

    import_file("structures", SSD, tmp_store, millesime="2024")
    from pypdf import PdfReader

    files = build_sdsf_pack("93", store=tmp_store, formats=["xlsx", "pdf"], annee=2024)
    wb = load_workbook(io.BytesIO(next(v for k, v in files.items() if k.endswith(".xlsx"))))
    text = "\n".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c)
    assert "Places EAJE au PSU non renseigné" in text
    pdf = PdfReader(io.BytesIO(next(v for k, v in files.items() if k.endswith(".pdf"))))
    text = " ".join(" ".join(pg.extract_text().split()) for pg in pdf.pages)
    assert "dont 0 en PSU et 315 au PSU « non renseigné »" in text
