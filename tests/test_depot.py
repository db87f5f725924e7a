"""The repository itself: no merge left half done (a README with conflict markers reached main once)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARQUEUR = re.compile(r"^(<{7} |>{7} |\|{7} )", re.M)


def _fichiers_suivis() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        return [ROOT / line for line in out.splitlines() if line]
    except (OSError, subprocess.CalledProcessError):   # an export without .git: every file of the tree
        return [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts and "store" not in p.parts]


def test_no_conflict_markers_in_tracked_text_files():
    trouves = []
    for p in _fichiers_suivis():
        if p.suffix in {".png", ".xlsx", ".pdf", ".docx", ".pptx", ".parquet", ".ico", ".woff2", ".gz", ".zip"}:
            continue
        try:
            texte = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for m in MARQUEUR.finditer(texte):
            trouves.append(f"{p.relative_to(ROOT)}:{texte.count(chr(10), 0, m.start()) + 1}")
    assert trouves == []


def test_the_marker_pattern_finds_a_conflict():
    conflit = "titre\n<<<<<<< HEAD\nA\n=======\nB\n>>>>>>> main\n"
    assert len(MARQUEUR.findall(conflit)) == 2
