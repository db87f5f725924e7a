"""`python -m planning simulate`: example scenarios run, bad input gives French messages and exit 2."""
import json
import subprocess
import sys

import pytest

from data.store import PROJECT_ROOT
from planning.cli_simulate import main

EXAMPLES = PROJECT_ROOT / "examples" / "scenarios"


@pytest.mark.parametrize("name", ["ctg_yonne_rural.json", "ctg_seine_saint_denis.json"])
def test_examples_run_json(name, reference_store, capsys):
    assert main([str(EXAMPLES / name), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [a["annee"] for a in d["annees"]] == [2023, 2024, 2025, 2026, 2027]
    assert d["cumul"]["total_caf"] > 0
    assert d["annees"][0]["structures"][0]["detail"]["psu"]["formule"].startswith("PSU = ")


def test_examples_table(reference_store, capsys):
    assert main([str(EXAMPLES / "ctg_yonne_rural.json")]) == 0
    out = capsys.readouterr().out
    assert "Cumul" in out and "Bonus trajectoire" in out and "€" in out


def test_module_dispatch(reference_store):
    p = subprocess.run([sys.executable, "-m", "planning", "simulate", str(EXAMPLES / "ctg_seine_saint_denis.json"),
                        "--json"], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["territoire"]["nom"] == "EPT Plaine Commune"


def test_bad_scenario(tmp_path, reference_store, capsys):
    data = json.loads((EXAMPLES / "ctg_yonne_rural.json").read_text(encoding="utf-8"))
    data["structures"][2]["places_ouvertes"]["2026"] = -4
    data["structures"][0]["code_insee"] = "00000"
    del data["structures"][1]["taux_facturation"]
    f = tmp_path / "s.json"
    f.write_text(json.dumps(data), encoding="utf-8")
    assert main([str(f)]) == 2
    err = capsys.readouterr().err
    assert "structures[2].places_ouvertes.2026 : nombre négatif" in err
    assert "structures[0].code_insee : commune inconnue « 00000 »" in err
    assert "structures[1].taux_facturation : champ manquant" in err
    assert "Traceback" not in err


def test_bad_json_and_usage(tmp_path, capsys):
    f = tmp_path / "s.json"
    f.write_text('{"nom": "x",\n "territoire": }', encoding="utf-8")
    assert main([str(f)]) == 2
    assert "ligne 2, colonne" in capsys.readouterr().err
    assert main([str(tmp_path / "absent.json")]) == 2
    assert "fichier introuvable" in capsys.readouterr().err
    assert main([]) == 2
    assert main([str(f), "--inconnu"]) == 2
