"""What the district-map component (``gridmap.js``) is given: its arguments and an online basemap's tiles.

Kept apart from :mod:`geo.maps.builders` so that the district map, which draws
with the component and not with folium, never imports folium (about 0.2 s of
CPU on the first map after a restart).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from geo.maps.assets import _SCHEME_RE
from geo.maps.classify import BASEMAPS, Basemap, Lang, _text
from geo.maps.payload import payload_json


def basemap_tiles(
    basemap: Basemap, *, lang: Lang = "zh", tianditu_key: str | None = None
) -> list[dict[str, Any]]:
    """Return the tile layers of an online basemap, ``[]`` for ``"none"``.

    Each is ``{"url", "attr", "name", "subdomains", "max_zoom", "overlay"}``,
    for folium or for the district-map component.

    Examples
    --------
    >>> basemap_tiles("none")
    []
    >>> [t["name"] for t in basemap_tiles("tianditu", tianditu_key="0" * 32)]
    ['天地图', '天地图注记']
    """
    if basemap == "none":
        return []
    if basemap == "osm":
        return [
            {
                "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "attr": "© OpenStreetMap contributors",
                "name": "OpenStreetMap",
                "subdomains": "abc",
                "max_zoom": 19,
                "overlay": False,
            }
        ]
    if basemap == "tianditu":
        if not tianditu_key or not re.fullmatch(r"[0-9A-Fa-f]{32}", tianditu_key):
            raise ValueError(
                "basemap 'tianditu' needs tianditu_key, the 32-hex-digit key from "
                "console.tianditu.gov.cn (kept in .streamlit/secrets.toml or the environment)"
            )
        url = (
            "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
            "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk=" + tianditu_key
        )
        zh = lang == "zh"
        common = {"attr": "© 天地图 Tianditu", "subdomains": "01234567", "max_zoom": 18}
        return [
            {"url": url.format(layer="vec"), "name": "天地图" if zh else "Tianditu",
             "overlay": False, **common},
            {"url": url.format(layer="cva" if zh else "eva"),
             "name": "天地图注记" if zh else "Tianditu labels", "overlay": True, **common},
        ]  # fmt: skip
    if basemap == "amap":
        return [
            {
                "url": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1"
                "&scale=1&style=8&x={x}&y={y}&z={z}",
                "attr": "© 高德地图 AutoNavi",
                "name": "高德地图" if lang == "zh" else "AMap",
                "subdomains": "1234",
                "max_zoom": 18,
                "overlay": False,
            }
        ]
    raise ValueError(f"basemap must be one of {BASEMAPS}, got {basemap!r}")


def gridmap_args(
    geometry: str,
    style: Mapping[str, Any],
    *,
    height: int = 600,
    basemap: Basemap = "none",
    lang: Lang = "zh",
    tianditu_key: str | None = None,
    view: Sequence[float] | None = None,
    view_token: str | None = None,
) -> dict[str, Any]:
    """Return the arguments of the district-map component (``gridmap.js``).

    ``geometry`` is the path :func:`write_geometry` returned; ``style`` a
    :func:`style_payload` for that geometry. ``view`` (bounds) is applied
    when ``view_token`` changes, so reruns otherwise keep the user's pan and zoom.

    Examples
    --------
    >>> args = gridmap_args("geometry/abc.json", {"cls": []}, view=(1, 2, 3, 4), view_token="S01")
    >>> sorted(args), args["style"], args["view"]["bounds"]
    (['geometry', 'height', 'names', 'style', 'tiles', 'view'], '{"cls":[]}', [1.0, 2.0, 3.0, 4.0])
    """
    text = _text(lang)
    if _SCHEME_RE.match(geometry) or geometry.startswith(("/", "\\")) or ".." in geometry:
        raise ValueError(f"geometry must be a path inside the served folder, got {geometry!r}")
    return {
        "geometry": geometry,
        # Compact JSON text: Streamlit's own json.dumps would add ~35 % of spaces.
        "style": payload_json(style),
        "height": int(height),
        "tiles": basemap_tiles(basemap, lang=lang, tianditu_key=tianditu_key),
        "names": {key: text[key] for key in ("grids", "committees", "streets")},
        "view": None
        if view is None
        else {"bounds": [float(b) for b in view], "token": str(view_token or "")},
    }
