"""Local (vendored) Leaflet assets for offline maps.

Leaflet 1.9.4 and leaflet.markercluster 1.5.3 live in ``static/vendor/``. Two modes:

* ``"static"`` (default): ``<script src="/app/static/vendor/...">`` links, served by
  Streamlit when ``server.enableStaticServing = true`` (a ``components.html`` srcdoc iframe
  resolves absolute paths against the Streamlit server).
* ``"inline"``: the JS/CSS text is embedded in the page (self-contained downloadable HTML);
  images referenced by the CSS become ``data:`` URIs.
"""
from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor"
STATIC_PREFIX = "/app/static/vendor"
ASSET_MODES = ("static", "inline")

# bundle name → list of (kind, path relative to VENDOR_DIR)
BUNDLES: dict[str, list[tuple[str, str]]] = {
    "leaflet": [("css", "leaflet/leaflet.css"), ("js", "leaflet/leaflet.js")],
    "markercluster": [
        ("css", "markercluster/MarkerCluster.css"),
        ("css", "markercluster/MarkerCluster.Default.css"),
        ("js", "markercluster/leaflet.markercluster.js"),
    ],
}


class AssetManquant(FileNotFoundError):
    def __str__(self) -> str:
        return (f"Fichier de la bibliothèque cartographique introuvable : {self.args[0]}. "
                "Réinstallez le dossier static/vendor/ du projet.")


def _read(rel: str) -> str:
    path = VENDOR_DIR / rel
    if not path.exists():
        raise AssetManquant(str(path))
    return path.read_text(encoding="utf-8")


_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_URL = re.compile(r"url\((['\"]?)(images/[^)'\"]+)\1\)")


@lru_cache(maxsize=None)
def inline_css(rel: str) -> str:
    """CSS text without comments, its ``images/…`` turned into data URIs."""
    css = _CSS_COMMENT.sub("", _read(rel))
    base = (VENDOR_DIR / rel).parent

    def to_data_uri(m: re.Match) -> str:
        img = base / m.group(2)
        if not img.exists():
            return "none"
        b64 = base64.b64encode(img.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{b64})"

    return _CSS_URL.sub(to_data_uri, css)


@lru_cache(maxsize=None)
def inline_js(rel: str) -> str:
    # a literal "</script" would end the inline element early
    return _read(rel).replace("</script", "<\\/script")


def asset_tags(bundles: list[str], mode: str = "static") -> str:
    """HTML for the ``<head>``: CSS then JS of each bundle, in order."""
    if mode not in ASSET_MODES:
        raise ValueError(f"Mode de ressources inconnu : « {mode} » (static ou inline).")
    css_parts: list[str] = []
    js_parts: list[str] = []
    for name in bundles:
        for kind, rel in BUNDLES[name]:
            if mode == "static":
                url = f"{STATIC_PREFIX}/{rel}"
                if kind == "css":
                    css_parts.append(f'<link rel="stylesheet" href="{url}"/>')
                else:
                    js_parts.append(f'<script src="{url}"></script>')
            else:
                if kind == "css":
                    css_parts.append(f"<style>{inline_css(rel)}</style>")
                else:
                    js_parts.append(f"<script>{inline_js(rel)}</script>")
    return "\n".join(css_parts + js_parts)


def vendored_texts(bundles: list[str]) -> list[str]:
    """The inlined texts of the bundles (used by tests to look at everything else)."""
    out = []
    for name in bundles:
        for kind, rel in BUNDLES[name]:
            out.append(inline_css(rel) if kind == "css" else inline_js(rel))
    return out
