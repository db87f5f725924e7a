"""User and file text is never read as Markdown or HTML (issue 9, item 4).

A commune, a structure, a scenario and an imported file carry names such as
``![x](http://198.51.100.7/a.png)``; every page is walked (AppTest) and every string that Streamlit
reads as Markdown (markdown, captions, alerts, headers, toasts, labels of metrics, buttons, widgets,
expanders) must hold the name only in its escaped form: an unescaped « 198.51.100.7 » there could become
an image fetched from outside or a link.  The browser check of the same pages is in tests/test_e2e.py.
"""
from __future__ import annotations

import dataclasses

import pytest
from streamlit.testing.v1 import AppTest

from data.store import PROJECT_ROOT
from pages._texte import html_texte, md, md_lignes

APP = PROJECT_ROOT / "app.py"
IP = "198.51.100.7"
HOSTILE = (f"![x](http://{IP}/a.png) [Valider](http://{IP}/v) <img src=http://{IP}/b.png> "
           f"<http://{IP}/c> :red[rouge] $x^2$ **gras**")
HOSTILE_COURT = f"![x](http://{IP}/a.png) [Valider](http://{IP}/v) <b>g</b> :red[r]"   # a scenario name: 120 chars max
ESCAPED_IP = IP.replace(".", "\\.")


# -- the helper ------------------------------------------------------------------------------------

def test_md_escapes_every_markdown_construct():
    # escapes, plus an invisible word joiner (U+2060) that breaks GFM autolinks (http://, www., e-mail)
    assert md("Crèche ![x](http://a.b/i.png)") == "Crèche \\!\\[x\\]\\(http\\:\u2060\\/\\/a\\.b\\/i\\.png\\)"
    assert md("www.a.fr contact@a.fr") == "www\u2060\\.a\\.fr contact\\@\u2060a\\.fr"
    assert md("Multi-accueil « Les P'tits Loups »") == "Multi\\-accueil « Les P\\'tits Loups »"
    assert md("ligne 1\nligne 2\r\n# titre") == "ligne 1 ligne 2  \\# titre"    # one line: no heading, no list
    assert md("<b>x</b> :red[y] $z$") == "\\<b\\>x\\<\\/b\\> \\:red\\[y\\] \\$z\\$"
    assert md(None) == "" and md(12.5) == "12\\.5"
    assert md_lignes(["a*b", "[c](d)"]) == "- a\\*b\n- \\[c\\]\\(d\\)"
    assert html_texte('<a href="http://x">y</a>') == "&lt;a href=&quot;http://x&quot;&gt;y&lt;/a&gt;"


# -- every page --------------------------------------------------------------------------------------

def _markdown_strings(at: AppTest) -> list[str]:
    """Every string of the rendered page that Streamlit interprets as Markdown."""
    out: list[str] = []
    for coll in ("markdown", "caption", "error", "warning", "info", "success", "title", "header", "subheader",
                 "toast", "exception"):
        for e in getattr(at, coll, []):
            v = getattr(e, "value", None)
            if isinstance(v, str):
                out.append(v)
    for coll in ("metric", "button", "selectbox", "multiselect", "text_input", "number_input", "checkbox",
                 "toggle", "radio", "slider", "expander", "tabs", "date_input"):
        for e in getattr(at, coll, []):
            label = getattr(e, "label", None)
            if isinstance(label, str):
                out.append(label)
            if coll == "radio":
                out.extend(str(o) for o in getattr(e, "options", []))
    for e in at.sidebar.markdown:
        out.append(e.value)
    return out


@pytest.fixture
def hostile_store(tmp_store, tmp_path, monkeypatch):
    """The demo store with a hostile commune name (Toucy, 89419), a hostile structure name and source
    label, and a scenario database holding a hostile scenario."""
    com = tmp_store.read("communes")
    com.loc[com["code_insee"] == "89419", "nom"] = "Toucy " + HOSTILE
    tmp_store.write_layer("communes", com, tmp_store.info("communes"))
    st_ = tmp_store.read("structures")
    i = st_.index[(st_["code_insee"] == "89419")][0]
    st_.loc[i, "nom"] = "Crèche " + HOSTILE
    info = dataclasses.replace(tmp_store.info("structures"), source=f"liste_{HOSTILE}.csv", label="Structures " + HOSTILE)
    tmp_store.write_layer("structures", st_, info)
    monkeypatch.setenv("ATLAS_DATA_DIR", str(tmp_store.root))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'scenarios.sqlite'}")

    import json

    from planning.scenarios_db import ScenarioStore

    ex = json.loads((PROJECT_ROOT / "examples" / "scenarios" / "ctg_yonne_rural.json").read_text(encoding="utf-8"))
    ex["structures"][0]["nom"] = "Structure " + HOSTILE
    ex["structures"][0]["part_regime_general"] = 1.0
    ex["structures"][0]["prix_revient_horaire"] = 8.0      # Caf share > 80 %: an alert names the structure
    ex["structures"][0]["participation_horaire_moyenne"] = 0.5   # (low participations: PSU and bonus mixité up)
    db = ScenarioStore()
    db.create("Scénario " + HOSTILE_COURT, "epci:200067130", ex)
    db.create("Référence", "epci:200067130", json.loads(
        (PROJECT_ROOT / "examples" / "scenarios" / "ctg_yonne_rural.json").read_text(encoding="utf-8")))
    db.close()
    import streamlit as st

    st.cache_resource.clear()          # the pages cache their ScenarioStore: open the one of this test
    st.cache_data.clear()
    yield tmp_store
    st.cache_resource.clear()
    st.cache_data.clear()


def _run(page: str, query: dict) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    if page != "pages/accueil.py":
        at.switch_page(page)
        at.run()
    return at


def _check(at: AppTest, where: str) -> list[str]:
    assert not at.exception, [e.value for e in at.exception]
    texts = _markdown_strings(at)
    bad = [t for t in texts if IP in t]
    assert not bad, f"{where} : texte non échappé lu comme Markdown : {bad[:3]}"
    return [t for t in texts if ESCAPED_IP in t]


Q = {"dep": "89", "grp": "200067130"}          # CC de Puisaye-Forterre (Toucy)


@pytest.mark.parametrize("page, query", [
    ("pages/accueil.py", {"dep": "89", "grp": "200067130", "com": "89419"}),
    ("pages/couverture.py", {"dep": "89", "grp": "200067130", "com": "89419"}),
    ("pages/rpe.py", {"dep": "89"}),
    ("pages/documents.py", Q),
    ("pages/import_donnees.py", Q),
])
def test_pages_show_hostile_names_as_text(hostile_store, page, query):
    shown = _check(_run(page, query), page)
    if page in ("pages/accueil.py", "pages/couverture.py"):
        assert shown, "le nom hostile devait apparaître (échappé) sur la page"


def test_simulator_with_a_hostile_scenario_and_structure(hostile_store):
    at = _run("pages/simulateur.py", Q)
    _check(at, "simulateur (pré-rempli)")
    from planning.scenarios_db import ScenarioStore

    db = ScenarioStore()
    sid = next(m.id for m in db.list() if m.name != "Référence")
    db.close()
    at.selectbox(key="sim_pick").set_value(sid).run()
    at.button(key="sim_open").click().run()
    shown = _check(at, "simulateur (scénario ouvert)")
    assert any("Scénario \\!\\[x\\]" in t for t in shown)                    # the subheader
    assert any(t.startswith("2023 — Structure \\!\\[x\\]") for t in shown)   # an alert naming the structure
    # an invalid edit: the error lists name the structure, escaped
    at.session_state["sim_data"]["structures"][0]["taux_facturation"] = 9
    at.session_state["sim_rev"] += 1
    at.run()
    shown = _check(at, "simulateur (scénario invalide)")
    assert any("Structure \\!\\[x\\]" in t and "Taux de facturation" in t for t in shown)


def test_comparison_page_with_a_hostile_scenario(hostile_store):
    at = _run("pages/scenarios.py", Q)
    _check(at, "comparaison")
    from planning.scenarios_db import ScenarioStore

    db = ScenarioStore()
    ids = [m.id for m in sorted(db.list(), key=lambda m: m.name != "Référence")]
    db.close()
    at.multiselect(key="cmp_pick").set_value(ids).run()
    _check(at, "comparaison (deux scénarios)")
    chart = at.get("plotly_chart")[0].proto.spec
    assert "&lt;b&gt;g&lt;" in chart                                        # trace names are HTML-escaped
