"""The layers as docs/DEVELOPPEMENT.md draws them, checked on the imports of every module.

planning/ is pure (no store, no database, no Streamlit, no folium) except its command-line modules,
which are the composition root; geo/ imports no Streamlit; only pages/ and app.py touch Streamlit.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = {"__main__.py", "cli_commun.py", "cli_couverture.py", "cli_rpe.py", "cli_simulate.py", "cli_sppe.py",
       "cli_baremes.py"}


def imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def offenders(folder: str, forbidden: tuple[str, ...], skip: set[str] = frozenset()) -> dict[str, list[str]]:
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        if path.name in skip:
            continue
        bad = sorted(m for m in imports(path) if m.startswith(forbidden))
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def test_planning_is_pure():
    assert offenders("planning", ("data.store", "data.entrees", "data.scenarios_db", "sqlalchemy", "alembic",
                                  "streamlit", "folium"), skip=CLI) == {}


def test_geo_and_exports_do_not_touch_streamlit():
    assert offenders("geo", ("streamlit",)) == {}
    assert offenders("exports", ("streamlit",)) == {}


def test_the_checker_sees_function_level_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from data.store import Store\n    return Store\n", encoding="utf-8")
    assert "data.store" in imports(f)
