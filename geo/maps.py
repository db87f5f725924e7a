"""Interactive choropleth maps (folium / Leaflet) that work fully offline.

The map is a ``folium.Map`` with no tile layer and no CDN asset: :func:`map_html` renders
it with the vendored Leaflet (see :mod:`geo.assets`). The layers are written by this
module as compact JavaScript (one GeoJSON blob per layer, styles computed in the browser
from a class index), not with folium's ``GeoJson``/``GeoJsonTooltip``, so that:

* every text coming from data (names, values, titles) is HTML-escaped in Python before it
  reaches the page, and no data goes through a Jinja template;
* the HTML stays lean (short property keys, rounded coordinates, one style per class).

Use from a Streamlit page::

    m = choropleth_map(gdf, "txcouv", cls, MapOptions(key_col="code", name_col="nom", title=..., legend_title=...))
    components.html(map_html(m), height=620)
"""
from __future__ import annotations

import html as _html
import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import folium
import pandas as pd
from branca.element import Element, MacroElement

from geo.assets import asset_tags
from geo.classes import NA_HATCH_COLOR, Classification, type_structure
from geo.map_layers import (  # noqa: F401 - the overlays, re-exported from here
    LINE_STYLES, STYLE_FRR, STYLE_FRR_PLUS, STYLE_QPV, STYLE_ZRR, STYLE_ZRR_TRANSITION, Layer, layer_communes_qpv,
    layer_qpv, layer_zrr, layers_frr,
)
from geo.simplify import METRO_BOUNDS, to_geojson_light, zone_of
from planning.formats import fr_int, fr_number

from data.store import DEMO_LABEL  # noqa: E402  (one wording everywhere)
BACKGROUND = "#f2f2ef"

Formatter = Callable[[Any], str]


def esc(x: Any) -> str:
    """HTML-escape any value (``None`` → empty string)."""
    return "" if x is None else _html.escape(str(x), quote=True)


def _js(obj: Any) -> str:
    """JSON for a <script>: ``<`` and ``>`` never appear raw (no ``</script>`` break-out)."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return (s.replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _js_raw_json(text: str) -> str:
    """Same protection for an already serialised JSON text."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


class _Raw(Element):
    """A piece of HTML/JS inserted as is (never parsed as a Jinja template)."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:  # noqa: D401
        return self._text


class _AtlasElement(MacroElement):
    """A map element made of raw header/html/script strings; ``__MAP__`` is the map variable."""

    bundles: tuple[str, ...] = ()

    def __init__(self, script: str = "", header: str = "", html: str = ""):
        super().__init__()
        self._script = script
        self._header = header
        self._html = html

    def render(self, **kwargs) -> None:
        figure = self.get_root()
        map_name = self._parent.get_name()
        if self._header:
            figure.header.add_child(_Raw(self._header), name=self.get_name() + "_header")
        if self._html:
            figure.html.add_child(_Raw(self._html), name=self.get_name() + "_html")
        if self._script:
            figure.script.add_child(_Raw(self._script.replace("__MAP__", map_name)),
                                    name=self.get_name() + "_script")


class _ClusterElement(_AtlasElement):
    bundles = ("markercluster",)


# --------------------------------------------------------------------------- building blocks

_CSS = f"""<style>
.leaflet-container{{background:{BACKGROUND};font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}}
.atlas-box{{background:#fff;color:#1a1a1a;padding:6px 9px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.35);font-size:12px;line-height:1.3;max-width:270px}}
.atlas-title{{font-weight:700;font-size:13px}}
.atlas-sub{{font-size:12px;color:#333}}
.atlas-legend{{max-height:52vh;overflow:auto;font-size:11px}}
.atlas-legend summary{{cursor:pointer}}
.atlas-legend ul{{list-style:none;margin:4px 0;padding:0}}
.atlas-legend li{{display:flex;align-items:center;margin:2px 0}}
.atlas-sw{{display:inline-block;width:18px;height:12px;margin-right:6px;border:1px solid #555;flex:none}}
.atlas-sw-na{{background-color:#d9d9d9;background-image:repeating-linear-gradient(45deg,{NA_HATCH_COLOR} 0 1.5px,transparent 1.5px 5px)}}
.atlas-dot{{display:inline-block;width:11px;height:11px;border-radius:50%;margin-right:6px;flex:none}}
.atlas-src{{font-size:11px;color:#333;margin-top:4px}}
.atlas-demo{{font-size:12px;font-weight:700;color:#8a1c1c;margin-top:4px}}
.atlas-line{{display:inline-block;width:22px;height:0;margin-right:5px;vertical-align:middle}}
.atlas-nan{{fill:url(#atlas-nan)}}
.atlas-stroke-only{{pointer-events:visibleStroke!important}}
path.leaflet-interactive:focus{{outline:none;stroke:#000;stroke-width:3px}}
</style>"""


def _pattern(pid: str, line_color: str, background: str | None) -> str:
    bg = f'<rect width="6" height="6" fill="{background}"/>' if background else ""
    return (f'<pattern id="{pid}" patternUnits="userSpaceOnUse" width="6" height="6" '
            f'patternTransform="rotate(45)">{bg}<line x1="0" y1="0" x2="0" y2="6" '
            f'stroke="{line_color}" stroke-width="1.6"/></pattern>')


def _defs_svg(patterns: list[str]) -> str:
    return ('<svg width="0" height="0" style="position:absolute" aria-hidden="true" focusable="false">'
            "<defs>" + "".join(patterns) + "</defs></svg>")


def _bounds_of(gdf) -> list[list[float]] | None:
    geoms = gdf.geometry.to_numpy()
    ok = ~pd.isna(geoms)
    if not ok.any():
        return None
    sub = gdf[ok]
    zones = zone_of(sub.geometry.to_numpy())
    if "metro" in set(zones) and len(set(zones)) > 1:
        # national view: frame mainland France (overseas départements are reachable by panning)
        return [list(METRO_BOUNDS[0]), list(METRO_BOUNDS[1])]
    x0, y0, x1, y1 = sub.total_bounds
    return [[float(y0), float(x0)], [float(y1), float(x1)]]


def _legend_html(
    classification: Classification,
    legend_title: str,
    subtitle: str,
    source: str,
    point_types: list[tuple[str, str]],
    demo: bool,
    points_missing: int,
    legend_open: bool = True,
) -> str:
    parts = [f'<details{" open" if legend_open else ""}><summary class="atlas-title">', esc(legend_title),
             "</summary>"]
    if subtitle:
        parts.append(f'<div class="atlas-sub">{esc(subtitle)}</div>')
    parts.append("<ul>")
    for label, color, count, is_na in classification.legend_items():
        sw = ('<span class="atlas-sw atlas-sw-na"></span>' if is_na
              else f'<span class="atlas-sw" style="background:{esc(color)}"></span>')
        n = f" ({fr_int(count)})" if count is not None else ""
        parts.append(f"<li>{sw}<span>{esc(label)}{esc(n)}</span></li>")
    parts.append("</ul>")
    if point_types:
        parts.append('<div class="atlas-sub"><strong>Structures</strong> (contour plein : PSU ; '
                     "contour en tirets : hors PSU)</div><ul>")
        for label, color in point_types:
            parts.append(f'<li><span class="atlas-dot" style="background:{esc(color)};border:1px solid #000">'
                         f"</span><span>{esc(label)}</span></li>")
        parts.append("</ul>")
        if points_missing:
            parts.append(f'<div class="atlas-src">{esc(fr_int(points_missing))} structure(s) sans '
                         "coordonnées non représentée(s)</div>")
    if demo:
        parts.append(f'<div class="atlas-demo">{esc(DEMO_LABEL.capitalize())}</div>')
    if source:
        parts.append(f'<div class="atlas-src">{esc(source)}</div>')
    parts.append("</details>")
    return "".join(parts)


def _control_js(position: str, class_name: str, inner_html: str, role: str = "") -> str:
    role_js = f"d.setAttribute('role',{_js(role)});" if role else ""
    return (
        "(function(){var c=L.control({position:" + _js(position) + "});"
        "c.onAdd=function(){var d=L.DomUtil.create('div'," + _js(class_name) + ");"
        + role_js + "d.innerHTML=" + _js(inner_html) + ";"
        "L.DomEvent.disableClickPropagation(d);L.DomEvent.disableScrollPropagation(d);return d;};"
        "c.addTo(__MAP__);})();"
    )


def _register_overlay_js(label_html: str, var: str) -> str:
    return ("__MAP__.atlasOverlays=__MAP__.atlasOverlays||[];"
            f"__MAP__.atlasOverlays.push([{_js(label_html)},{var}]);")


def _choropleth_element(
    gdf,
    value_col: str,
    classification: Classification,
    key_col: str,
    name_col: str,
    tooltip_fields: Sequence[tuple[str, str, Formatter]],
    highlight_codes: Iterable[str] | None,
    precision: int,
    keyboard_max: int,
    layer_label: str,
) -> _AtlasElement:
    cls_idx = classification.assign(gdf[value_col])
    names = [esc(n) for n in gdf[name_col].tolist()]
    values = []
    columns = [gdf[col].tolist() for col, _lab, _f in tooltip_fields]
    fmts = [f for _c, _l, f in tooltip_fields]
    for i in range(len(gdf)):
        values.append([esc(fmt(col[i])) for col, fmt in zip(columns, fmts)])
    extra: dict[str, Sequence] = {"c": [int(c) for c in cls_idx], "n": names, "v": values}
    if highlight_codes:
        hl = {str(c) for c in highlight_codes}
        extra["h"] = [1 if str(k) in hl else 0 for k in gdf[key_col].tolist()]
    geojson = to_geojson_light(gdf, {key_col: "k"}, precision=precision, extra_properties=extra)
    params = {
        "colors": list(classification.colors),
        "classLabels": [esc(x) for x in classification.labels],
        "naLabel": esc(classification.na_label),
        "naColor": classification.na_color,
        "fieldLabels": [esc(lab) for _c, lab, _f in tooltip_fields],
        "kb": len(gdf) <= keyboard_max,
    }
    script = (
        "(function(){var P=" + _js(params) + ";var D=" + _js_raw_json(geojson) + ";"
        "function st(f){var p=f.properties,c=p.c,h=p.h;return{fillColor:c<0?P.naColor:P.colors[c],"
        "fillOpacity:0.85,color:h?'#000':'#ffffff',weight:h?3:0.7,opacity:1,className:c<0?'atlas-nan':''};}"
        "var lyr=L.geoJson(D,{style:st,onEachFeature:function(f,l){var p=f.properties;"
        "var t='<strong>'+p.n+'</strong>';for(var i=0;i<P.fieldLabels.length;i++){t+='<br>'+P.fieldLabels[i]+' : '+p.v[i];}"
        "t+='<br>Classe : '+(p.c<0?P.naLabel:P.classLabels[p.c]);"
        "l.bindTooltip(t,{sticky:true,direction:'auto'});"
        "l.on('mouseover',function(e){e.target.setStyle({weight:3,color:'#000'});if(!p.h){e.target.bringToFront();}});"
        "l.on('mouseout',function(e){lyr.resetStyle(e.target);});"
        "if(P.kb){l.on('add',function(){var el=l.getElement();if(!el)return;el.setAttribute('tabindex','0');"
        "var tmp=document.createElement('div');tmp.innerHTML=t.replace(/<br>/g,' ; ');"
        "el.setAttribute('aria-label',tmp.textContent);el.setAttribute('role','img');"
        "el.addEventListener('focus',function(){l.openTooltip(l.getCenter());});"
        "el.addEventListener('blur',function(){l.closeTooltip();});});}"
        "}});lyr.addTo(__MAP__);"
        + _register_overlay_js(layer_label, "lyr")
        + "})();"
    )
    return _AtlasElement(script=script)


def _overlay_element(layer: Layer, index: int) -> tuple[_AtlasElement, str | None]:
    gdf = layer.gdf
    props: dict[str, str] = {}
    extra = None
    if layer.name_col and layer.name_col in gdf.columns:
        extra = {"n": [esc(x) for x in gdf[layer.name_col].tolist()]}
    geojson = to_geojson_light(gdf, props, precision=layer.precision, extra_properties=extra)
    hatched = layer.style == "hachures"
    pid = f"atlas-hatch-{index}"
    pattern = _pattern(pid, layer.color, None) if hatched else None
    dash = LINE_STYLES.get(layer.style)
    style = {"color": layer.color, "weight": layer.weight, "opacity": 1,
             "fill": hatched, "fillOpacity": 1, "dashArray": dash,
             "className": "atlas-stroke-only" + (f" atlas-h{index}" if hatched else "")}
    line_css = f"border-top:{max(2, int(layer.weight))}px {'dashed' if dash == LINE_STYLES['tirets'] else 'dotted' if dash else 'solid'} {layer.color}"
    label = f'<span class="atlas-line" style="{esc(line_css)}"></span>{esc(layer.name)}'
    script = (
        "(function(){if(!__MAP__.getPane('atlasOverlays')){__MAP__.createPane('atlasOverlays').style.zIndex=450;}"
        "var S=" + _js(style) + ";var D=" + _js_raw_json(geojson) + ";"
        "var lyr=L.geoJson(D,{pane:'atlasOverlays',style:function(){return S;},onEachFeature:function(f,l){"
        "if(f.properties.n){l.bindTooltip(f.properties.n,{sticky:true});}}});"
        + ("lyr.addTo(__MAP__);" if layer.show else "")
        + _register_overlay_js(label, "lyr") + "})();"
    )
    header = f"<style>.atlas-h{index}{{fill:url(#{pid})}}</style>" if hatched else ""
    return _AtlasElement(script=script, header=header), pattern


def _points_element(points: pd.DataFrame, demo: bool) -> tuple[_AtlasElement, list[tuple[str, str]], int]:
    pts = points.copy()
    lat = pd.to_numeric(pts.get("latitude"), errors="coerce")
    lon = pd.to_numeric(pts.get("longitude"), errors="coerce")
    ok = lat.notna() & lon.notna()
    missing = int((~ok).sum())
    pts, lat, lon = pts[ok], lat[ok], lon[ok]
    types = [str(t) for t in pts["type"].tolist()] if "type" in pts else ["?"] * len(pts)
    order = list(dict.fromkeys(types))
    type_meta = [type_structure(t) for t in order]
    tindex = {t: i for i, t in enumerate(order)}

    def col(name: str) -> list:
        return pts[name].tolist() if name in pts.columns else [None] * len(pts)

    gestion_fr = {"publique": "publique", "privee": "privée", "privée": "privée"}
    rows = []
    for la, lo, t, nom, places, psu, gestion in zip(lat.tolist(), lon.tolist(), types, col("nom"),
                                                     col("places"), col("psu"), col("gestion")):
        psu_flag = None if psu is None or pd.isna(psu) else (1 if bool(psu) else 0)
        g = "" if gestion is None or pd.isna(gestion) else gestion_fr.get(str(gestion), str(gestion))
        rows.append([round(float(la), 5), round(float(lo), 5), tindex[t], psu_flag, esc(nom),
                     esc(fr_int(places, na="non renseigné")), esc(g or "non renseignée")])
    params = {"types": [[esc(lab), colr] for lab, colr in type_meta],
              "demo": f"<br><em>{esc(DEMO_LABEL)}</em>" if demo else ""}
    script = (
        "(function(){var P=" + _js(params) + ";var D=" + _js(rows) + ";"
        "var g=L.markerClusterGroup({showCoverageOnHover:false,maxClusterRadius:40,disableClusteringAtZoom:14,chunkedLoading:true});"
        "D.forEach(function(d){var pl=parseInt(String(d[5]).replace(/\\D/g,''))||0;"
        "var m=L.circleMarker([d[0],d[1]],{radius:Math.max(4,Math.min(12,3+Math.sqrt(pl))),fillColor:P.types[d[2]][1],"
        "fillOpacity:0.9,color:d[3]===1?'#000':'#333',weight:d[3]===1?2:1.5,dashArray:d[3]===1?null:'3 2'});"
        "m.bindPopup('<strong>'+d[4]+'</strong><br>Type : '+P.types[d[2]][0]+'<br>Places : '+d[5]+"
        "'<br>PSU : '+(d[3]===1?'oui':(d[3]===0?'non':'non renseigné'))+'<br>Gestion : '+d[6]+P.demo);"
        "g.addLayer(m);});g.addTo(__MAP__);"
        + _register_overlay_js("Structures" + (f" ({esc(DEMO_LABEL)})" if demo else ""), "g")
        + "})();"
    )
    return _ClusterElement(script=script), type_meta, missing


# --------------------------------------------------------------------------- public API

@dataclass
class MapOptions:
    """What a choropleth shows around its values (see :func:`choropleth_map`).

    * ``key_col``/``name_col``: code and name columns of the frame; ``title``, ``legend_title``.
    * ``tooltip_fields``: ``(column, French label, formatter)``, e.g.
      ``("txcouv", "Taux de couverture", fr_number)``, ``("rang", "Rang", str)``; the tooltip
      shows the name, these lines and the class. Defaults to the value itself.
    * ``subtitle``: denominator and date (« places pour 100 enfants de moins de 3 ans, 2023 »);
      ``source``: the source line.
    * ``highlight_codes``: ``key_col`` values drawn with a thick black outline.
    * ``layers``: overlays (:class:`Layer`, see :func:`layer_qpv`, :func:`layers_frr`…).
    * ``points``: structures (columns latitude, longitude, nom, type, places, psu, gestion),
      clustered; ``points_fictifs=True`` adds « données fictives de démonstration ».
    * ``tiles_url``: optional tile server (off by default: the app works without internet).
    * Features are keyboard-focusable (tooltip on focus) when there are at most
      ``keyboard_max`` of them.
    * ``legend_open``: the legend starts open (True) or folded to its title (False); None (default)
      decides in the browser: open when the map is at least 1 000 × 560 px, folded on a smaller map
      (a laptop screen: 1 366 × 768 gives a map about 900 px wide), where it would hide part of the map.
    """

    key_col: str
    name_col: str
    title: str
    legend_title: str
    tooltip_fields: Sequence[tuple[str, str, Formatter]] = ()
    subtitle: str = ""
    source: str = ""
    highlight_codes: Iterable[str] | None = None
    layers: Sequence[Layer] = ()
    points: pd.DataFrame | None = None
    points_fictifs: bool = False
    bounds: Sequence[Sequence[float]] | None = None
    tiles_url: str | None = None
    tiles_attribution: str = ""
    precision: int = 4
    keyboard_max: int = 600
    legend_open: bool | None = None


def choropleth_map(gdf, value_col: str, classification: Classification, options: MapOptions) -> folium.Map:
    """A choropleth of ``gdf[value_col]`` (already simplified, see :mod:`geo.simplify`), with the
    title, tooltip, overlays, points and legend of ``options`` (:class:`MapOptions`)."""
    o = options
    key_col, name_col, title, legend_title = o.key_col, o.name_col, o.title, o.legend_title
    tooltip_fields, points, legend_open = o.tooltip_fields, o.points, o.legend_open
    for col in (value_col, key_col, name_col):
        if col not in gdf.columns:
            raise ValueError(f"Carte : la colonne « {col} » est absente des données géographiques.")
    if not tooltip_fields:
        tooltip_fields = [(value_col, legend_title, fr_number)]
    for col, _lab, _f in tooltip_fields:
        if col not in gdf.columns:
            raise ValueError(f"Carte : la colonne « {col} » de l'infobulle est absente des données.")
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    gdf = gdf[~pd.isna(gdf.geometry.to_numpy())]

    m = folium.Map(
        location=[46.6, 2.4], zoom_start=6, tiles=None, control_scale=False,
        keyboard=True, attributionControl=bool(o.tiles_url), zoom_snap=0.25,
    )
    m.atlas_title = title  # type: ignore[attr-defined]
    if o.tiles_url:
        folium.TileLayer(tiles=o.tiles_url, attr=o.tiles_attribution or "fond de carte", name="Fond de carte",
                         control=False).add_to(m)

    patterns = [_pattern("atlas-nan", NA_HATCH_COLOR, classification.na_color)]
    m.add_child(_AtlasElement(header=_CSS))
    # accessible name of the map container, then the choropleth
    m.add_child(_AtlasElement(script=(
        "(function(){__MAP__.setMinZoom(3);__MAP__.setMaxZoom(18);L.control.scale({imperial:false}).addTo(__MAP__);var c=__MAP__.getContainer();c.setAttribute('role','region');"
        "c.setAttribute('aria-label'," + _js("Carte : " + title) + ");})();")))
    m.add_child(_choropleth_element(gdf, value_col, classification, key_col, name_col, tooltip_fields,
                                    o.highlight_codes, o.precision, o.keyboard_max, esc(legend_title)))
    for i, layer in enumerate(o.layers):
        el, pattern = _overlay_element(layer, i)
        if pattern:
            patterns.append(pattern)
        m.add_child(el)
    point_types: list[tuple[str, str]] = []
    missing = 0
    if points is not None and len(points):
        el, point_types, missing = _points_element(points, o.points_fictifs)
        m.add_child(el)
    m.add_child(_AtlasElement(html=_defs_svg(patterns)))

    title_html = f'<div class="atlas-title" role="heading" aria-level="2">{esc(title)}</div>'
    m.add_child(_AtlasElement(script=_control_js("topright", "atlas-box", title_html)))
    legend = _legend_html(classification, legend_title, o.subtitle, o.source, point_types,
                          o.points_fictifs and points is not None and len(points) > 0, missing,
                          legend_open=legend_open is not False)
    m.add_child(_AtlasElement(script=_control_js("bottomright", "atlas-box atlas-legend", legend,
                                                 role="region")))
    if legend_open is None:
        m.add_child(_AtlasElement(script=(
            "(function(){var c=__MAP__.getContainer(),d=c.querySelector('.atlas-legend details');"
            "if(d&&(c.clientWidth<1000||c.clientHeight<560)){d.open=false;}})();")))
    m.add_child(_AtlasElement(script=(
        "(function(){var o={};(__MAP__.atlasOverlays||[]).forEach(function(x){o[x[0]]=x[1];});"
        "L.control.layers(null,o,{collapsed:true,position:'topleft'}).addTo(__MAP__);})();")))

    fb = o.bounds if o.bounds is not None else _bounds_of(gdf)
    if fb is not None:
        m.fit_bounds(fb)
    return m


def _walk(el):
    yield el
    for child in list(el._children.values()):
        yield from _walk(child)


def map_html(m: folium.Map, asset_mode: str = "static") -> str:
    """The full HTML page of a map, with local assets only (``"static"`` or ``"inline"``)."""
    bundles = ["leaflet"]
    for el in _walk(m):
        if hasattr(el, "default_js"):
            el.default_js = []  # drop folium's CDN links (jQuery, Bootstrap, Leaflet from CDNs…)
            el.default_css = []
        for b in getattr(el, "bundles", ()):
            if b not in bundles:
                bundles.append(b)
    root = m.get_root()
    root.header._children.pop("atlas_assets", None)
    root.header.add_child(_Raw(asset_tags(bundles, asset_mode)), name="atlas_assets", index=1)
    out = root.render()
    title = getattr(m, "atlas_title", "")
    out = out.replace("<html>", '<html lang="fr">', 1)
    if title:
        out = out.replace("<head>", f"<head>\n<title>{esc(title)}</title>", 1)
    return out


def payload_size(html: str) -> int:
    """Size in bytes (UTF-8) of the HTML sent to the browser."""
    return len(html.encode("utf-8"))
