"""AppTest smoke tests: every page renders on the demo store without an exception."""
from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data.store import PROJECT_ROOT, Store

APP = PROJECT_ROOT / "app.py"

PAGES = [
    "pages/accueil.py",
    "pages/couverture.py",
    "pages/rpe.py",
    "pages/simulateur.py",
    "pages/scenarios.py",
    "pages/documents.py",
    "pages/import_donnees.py",
    "pages/baremes.py",
    "pages/sppe.py",
    "pages/administration.py",
]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    # scenarios saved by page tests go to a private SQLite file, never to the user's database
    db = tmp_path_factory.mktemp("scenarios") / "scenarios.sqlite"
    mp = pytest.MonkeyPatch()
    mp.setenv("DATABASE_URL", f"sqlite:///{db}")
    s = Store()
    if not s.has("communes"):
        pytest.fail("Le référentiel n'est pas construit (lancez scripts/installer.sh)")
    yield s
    mp.undo()


def _run(page: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page != "pages/accueil.py":
        at.switch_page(page)
        at.run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(demo_store, page):
    at = _run(page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, "la page n'a pas de titre"
    # an unexpected error caught by pages._ui.guard is shown as « Impossible de … » : none on a demo page
    assert not [e.value for e in at.error if e.value.startswith("Impossible de")], [e.value for e in at.error]


def test_home_lists_layers_and_their_nature(demo_store):
    at = _run("pages/accueil.py")
    df = at.dataframe[0].value
    assert "Communes (référentiel national)" in set(df["Couche"])
    natures = dict(zip(df["Couche"], df["Nature"]))
    assert natures["Communes (référentiel national)"] == "réel"
    # the estimate of children under 3 is said to be an estimate while no INSEE file is imported
    if demo_store.info("enfants_moins_3").nature == "estimé":
        assert natures["Enfants de moins de 3 ans (estimation)"] == "estimation"


def test_territory_is_read_from_and_written_to_the_url(demo_store):
    at = _run("pages/accueil.py", {"dep": "93"})
    assert at.sidebar.selectbox(key="terr_dep").value == "93"
    assert at.query_params["dep"] == ["93"] or at.query_params["dep"] == "93"
    at.sidebar.selectbox(key="terr_dep").set_value("89").run()
    assert at.query_params["dep"] in ("89", ["89"])
    assert not at.exception


def test_simulator_saves_scenarios_and_comparison_page_compares_them(demo_store):
    from data.scenarios_db import ScenarioStore

    q = {"dep": "89", "grp": "200067130"}  # CC de Puisaye-Forterre
    at = _run("pages/simulateur.py", q)
    assert not at.exception
    assert any("Bonus trajectoire" in i.value for i in at.info)
    at.button(key="sim_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    name_box = next(t for t in at.text_input if t.key.startswith("sim_name_input"))
    name_box.set_value("Variante à comparer").run()
    at.button(key="sim_save_as").click().run()
    assert not at.exception
    saved = ScenarioStore().list("epci:200067130")
    assert {m.name for m in saved} >= {"Variante à comparer"} and len(saved) >= 2

    at.switch_page("pages/scenarios.py").run()
    at.multiselect(key="cmp_pick").set_value([m.id for m in saved[:2]]).run()
    assert not at.exception, [e.value for e in at.exception]
    summary = at.dataframe[1].value
    assert "Financement Caf (€)" in set(summary["Indicateur"])


def test_documents_page_produces_the_sdsf_pack_and_ctg_sheet(demo_store):
    at = _run("pages/documents.py", {"dep": "93"})
    at.multiselect(key="doc_formats").set_value(["xlsx"]).run()
    at.button(key="doc_sdsf").click().run()
    assert not at.exception, [e.value for e in at.exception]
    files = at.session_state["doc_sdsf_files"]
    assert list(files) and all(name.endswith(".xlsx") for name in files)
    at.selectbox(key="doc_ctg_pick").set_value(next(o for o in at.selectbox(key="doc_ctg_pick").options
                                                    if o.startswith("Exemple"))).run()
    at.button(key="doc_ctg").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(n.endswith(".pdf") for n in at.session_state["doc_ctg_files"])


def test_html_in_names_is_plain_text_in_tables_and_downloads(tmp_store, monkeypatch):
    """A commune called « <script>…</script>Auxerre » is shown as text in the table beside the map."""
    from exports.frames import frame_to_csv

    hostile = "<script>alert(1)</script>Auxerre"
    com = tmp_store.read("communes")
    com.loc[com["code_insee"] == "89024", "nom"] = hostile
    tmp_store.write_layer("communes", com, tmp_store.info("communes"))
    monkeypatch.setenv("ATLAS_DATA_DIR", str(tmp_store.root))
    at = _run("pages/couverture.py", {"dep": "89"})
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert hostile in set(table["Nom"])  # the exact text, not interpreted
    csv = frame_to_csv(table).decode("utf-8-sig")
    assert hostile in csv
    # a formula-looking name is neutralised in the CSV download
    assert frame_to_csv(table.assign(Nom="=HYPERLINK(\"x\")")).decode("utf-8-sig").count("'=HYPERLINK") == len(table)


def nombre_fr(text: str) -> float:
    """« 1 234,5 » (U+202F between thousands) → 1234.5; « n.d. » or empty → NaN."""
    t = str(text).replace("\u202f", "").replace(",", ".")
    return float("nan") if t in ("", "n.d.") else float(t)


def test_coverage_page_shows_places_created_and_closed_over_a_period(demo_store):
    at = _run("pages/couverture.py", {"dep": "93"})
    at.selectbox(key="cov_ind").set_value("variation_nette_psu").run()
    assert not at.exception, [e.value for e in at.exception]
    at.slider(key="cov_period").set_value((2023, 2026)).run()
    table = at.dataframe[0].value
    col = "Variation nette des places d'EAJE en PSU sur la période 2023-2026"
    assert col in table.columns
    # the map table and the planning function agree, commune by commune
    from data.entrees import load_inputs
    from planning.flux import variation_places

    ref = variation_places(load_inputs(demo_store), 2023, 2026, niveau="commune", territoire=("departement", "93"),
                           par_annee=False).set_index("code")["variation_nette_psu"]
    got = table.set_index("Code")[col].map(nombre_fr)   # French text on screen: « -2 », « 1 234 »
    assert (got == ref.loc[got.index]).all()


def test_coverage_table_puts_the_mapped_figure_first_and_sorts_by_it(demo_store):
    at = _run("pages/couverture.py", {"dep": "89"})
    table = at.dataframe[0].value
    label = "Places d'EAJE pour 100 enfants de moins de 3 ans"
    assert list(table.columns[:3]) == ["Code", "Nom", label]
    assert not table[label].str.contains(r"\d,\d{3}\b").any()  # never English thousands (« 673,852 »)
    v = table[label].map(nombre_fr).to_numpy(dtype=float)
    known = v[~pd.isna(v)]
    assert (known[:-1] >= known[1:]).all()              # best coverage first
    assert pd.isna(v[len(known):]).all()               # « donnée non disponible » last, not mixed with 0
    assert set(table["QPV"]) <= {"oui", "non", "n.d."}


def test_home_key_figures_match_the_coverage_engine(demo_store):
    from data.entrees import load_inputs
    from planning.coverage import indicateurs
    from planning.formats import fr_number

    at = _run("pages/accueil.py", {"dep": "93"})
    year = pd.Timestamp.today().year
    ref = indicateurs(load_inputs(demo_store), "departement", year, territoire=("departement", "93")).iloc[0]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Places d'EAJE pour 100 enfants de moins de 3 ans"] == fr_number(ref["taux_eaje"], 1)
    assert metrics[f"Places d'EAJE au 31/12/{year}"] == fr_number(ref["places_eaje"], 0)


def test_administration_journal_lists_the_scenario_saved_and_exports_it(demo_store):
    """Local mode: the implicit user is an administrator; a scenario saved through the store appears in the
    journal of the Administration page, with its version, and in the CSV export."""
    from data.scenarios_db import ScenarioStore

    db = ScenarioStore()
    try:
        s = db.create("Plan journal", "departement:89", {"n": 1})
        db.update(s.id, {"n": 2}, expected_version=1)
    finally:
        db.close()
    at = _run("pages/administration.py")
    assert not at.exception, [e.value for e in at.exception]
    journal = at.dataframe[0].value
    mine = journal[journal["Objet"] == "Plan journal (departement:89)"]
    assert mine["Action"].tolist() == ["scénario modifié", "scénario créé"]
    assert mine["Département"].tolist() == ["89", "89"] and mine["Utilisateur"].tolist() == ["local", "local"]
    assert mine["Détails"].str.contains("version : 2").iloc[0]


def test_structure_points_offered_only_where_the_list_has_structures(demo_store):
    # the demo list covers the Yonne (89) and the Seine-Saint-Denis (93), not the Ain (01)
    at = _run("pages/couverture.py", {"dep": "89"})
    assert at.checkbox(key="cov_l_pts").value is True and not at.checkbox(key="cov_l_pts").disabled
    at = _run("pages/couverture.py", {"dep": "01"})
    assert at.checkbox(key="cov_l_pts").value is False and at.checkbox(key="cov_l_pts").disabled


def test_home_key_figures_of_a_departement_without_structures(demo_store):
    # Ain (01): no structure list in the demo; children under 3 come from the INSEE births (always there)
    at = _run("pages/accueil.py", {"dep": "01"})
    values = {m.label: m.value for m in at.metric}
    assert values["Places d'EAJE pour 100 enfants de moins de 3 ans"] == "n.d."
    assert values["RPE situés sur le territoire"] == "n.d."
    assert values["Enfants de moins de 3 ans"] not in ("n.d.", "0")
