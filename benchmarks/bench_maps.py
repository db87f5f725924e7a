"""Benchmark of the interactive maps on the national référentiel (prints figures, no asserts).

    .venv/bin/python -m benchmarks.bench_maps      (or: .venv/bin/python benchmarks/bench_maps.py)

For each map (France by département, France by EPCI, Yonne communes, Seine-Saint-Denis
communes): server time cold (simplify + build + render) and warm (simplified layer cached,
build + render), the HTML payload (static assets mode), and the GeoJSON payload raw vs
simplified. Then the naive approach: the whole national commune layer, unsimplified, as a
folium ``GeoJson`` with ``GeoJsonTooltip`` (what st_folium would ship on every rerun).
The indicator is a seeded random value (it only drives the colours).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from data.store import Store  # noqa: E402
from geo.classes import classify, seuils_couverture  # noqa: E402
from planning.formats import fr_number  # noqa: E402
from geo.maps import MapOptions, choropleth_map, map_html, payload_size  # noqa: E402
from geo.simplify import TOLERANCES_M, simplify_coverage, to_geojson_light, vertex_count  # noqa: E402


def n(x: float) -> str:
    return f"{x:,.0f}".replace(",", " ")


def kb(n: int) -> str:
    return f"{n / 1024:,.0f} Ko".replace(",", " ")


def build(gdf, key, name, title):
    cls = classify(gdf["valeur"], method="seuils", seuils=seuils_couverture())
    m = choropleth_map(gdf, "valeur", cls, MapOptions(key_col=key, name_col=name,
                       tooltip_fields=[("valeur", "Indicateur (aléatoire)", fr_number), ("rang", "Rang", str)],
                       title=title, legend_title="Indicateur (aléatoire)",
                       subtitle="valeurs aléatoires pour le banc d'essai", source="Banc d'essai"))
    return map_html(m)


def with_values(gdf, seed=0):
    g = gdf.copy()
    g["valeur"] = np.random.default_rng(seed).uniform(10, 90, len(g))
    g["rang"] = g["valeur"].rank(ascending=False, method="min").astype(int).map(lambda r: f"{r} sur {len(g)}")
    return g


def main() -> None:
    store = Store()
    t = time.perf_counter()
    communes = store.read("communes")
    epci = store.read("epci")
    deps = store.read("departements")
    print(f"Lecture du magasin (communes, EPCI, départements) : {time.perf_counter() - t:.2f} s\n")

    cases = [
        ("France par département", deps, "dep", "nom", TOLERANCES_M["departements"]),
        ("France par EPCI", epci, "epci_siren", "nom", TOLERANCES_M["epci"]),
        ("Yonne (89), communes", communes[communes["dep"] == "89"], "code_insee", "nom", TOLERANCES_M["communes"]),
        ("Seine-Saint-Denis (93), communes", communes[communes["dep"] == "93"], "code_insee", "nom",
         TOLERANCES_M["communes"]),
    ]
    header = (f"{'carte':36} {'entités':>7} {'tol. m':>6} {'sommets brut→simpl.':>22} "
              f"{'GeoJSON brut':>13} {'simplifié':>10} {'froid s':>8} {'chaud s':>8} {'HTML':>9}")
    print(header)
    print("-" * len(header))
    sizes: dict[str, int] = {}
    for label, gdf, key, name, tol in cases:
        g = with_values(gdf)
        t0 = time.perf_counter()
        simp = simplify_coverage(g, tol)
        html = build(simp, key, name, label)
        cold = time.perf_counter() - t0
        t1 = time.perf_counter()
        html = build(simp, key, name, label)  # simplified layer cached (st.cache_data)
        warm = time.perf_counter() - t1
        sizes[label] = payload_size(html)
        raw_gj = len(to_geojson_light(g, [key, name], precision=6).encode())
        simp_gj = len(to_geojson_light(simp, [key, name], precision=4).encode())
        print(f"{label:36} {len(g):>7} {tol:>6.0f} {n(vertex_count(g)):>10}→{n(vertex_count(simp)):>10} "
              f"{kb(raw_gj):>13} {kb(simp_gj):>10} {cold:>8.2f} {warm:>8.2f} {kb(payload_size(html)):>9}")
    print("\n(HTML en mode « static » : Leaflet est servi à part par /app/static/vendor et mis en cache "
          "par le navigateur ; le mode « inline » ajoute environ "
          f"{kb(payload_size(map_html_inline_overhead()))}.)")

    # naive approach: national communes, unsimplified, folium GeoJson + GeoJsonTooltip
    import folium

    g = with_values(communes[communes.geometry.notna()])
    t0 = time.perf_counter()
    m = folium.Map(location=[46.6, 2.4], zoom_start=6, tiles=None)
    folium.GeoJson(
        g[["code_insee", "nom", "valeur", "geometry"]],
        style_function=lambda f: {"fillColor": "#41b6c4", "weight": 0.3, "color": "#fff", "fillOpacity": 0.8},
        tooltip=folium.GeoJsonTooltip(fields=["nom", "valeur"], aliases=["Commune", "Indicateur"]),
    ).add_to(m)
    naive = m.get_root().render()
    naive_t = time.perf_counter() - t0
    print(f"\nApproche naïve (toutes les communes, non simplifiées, folium GeoJson ; ce que st_folium "
          f"renverrait à chaque réexécution) : {n(len(g))} communes, {naive_t:.2f} s, "
          f"{kb(payload_size(naive))}")
    for label, size in sizes.items():
        print(f"  naïf / {label} : {n(payload_size(naive) / size)} fois plus lourd")


def map_html_inline_overhead() -> str:
    from geo.assets import asset_tags

    return asset_tags(["leaflet"], "inline")


if __name__ == "__main__":
    main()
