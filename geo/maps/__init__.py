"""Build the district's folium maps, offline, and the compact data they draw.

Every map here is a :class:`folium.Map` whose HTML asks no other host for
anything: Leaflet comes from the ``xstatic-leaflet`` package, either inlined
as ``data:`` URIs (the default, a self-contained page) or from a folder that
the app serves itself (:func:`build_assets`). Online basemaps (OpenStreetMap,
Tianditu, AMap) appear only when the caller asks for one.

The grids travel as a compact payload (:func:`geometry_payload`: shared-edge
simplification, 1 m integer coordinates, delta-encoded), and the colours as a
separate small style object (:func:`style_payload`) that the browser applies
with ``setStyle`` (``geo/assets/sibai_map.js``), so a change of metric or
period need not resend geometry. Builders return maps and never display them;
``docs/maps.md`` explains the formats, the sizes measured and how the district
page uses them.

The package, in the order a map is made: :mod:`~geo.maps.classify` (metrics to
classes and colours), :mod:`~geo.maps.payload` (geometry, sent once),
:mod:`~geo.maps.style` (colours, per rerun), :mod:`~geo.maps.assets` (Leaflet
and the served files) and :mod:`~geo.maps.builders` (every folium map of the
product, the office's and the walks' included). The public names are
re-exported here, so callers write ``from geo import maps; maps.grid_map(...)``.

Examples
--------
>>> import geopandas as gpd, pandas as pd
>>> from shapely.geometry import box
>>> grids = gpd.GeoDataFrame(
...     {"grid_id": ["G1", "G2"], "committee_id": ["C1", "C1"], "street_id": ["S1", "S1"],
...      "name": ["一村第1网格", "一村第2网格"], "committee_name": ["一村", "一村"],
...      "street_name": ["长寿路街道", "长寿路街道"]},
...     geometry=[box(121.40, 31.24, 121.41, 31.25), box(121.41, 31.24, 121.42, 31.25)],
...     crs="EPSG:4326")
>>> metrics = pd.DataFrame(
...     {"households": [100, 0], "visited": [95, 0], "coverage": [0.95, float("nan")],
...      "residents": [250, 0], "open_issues": [2, 0], "overdue_issues": [0, 0]},
...     index=pd.Index(["G1", "G2"], name="grid_id"))
>>> from geo.maps import grid_map  # folium's maps load on first use
>>> m = grid_map(grids, metrics)
>>> html = m.get_root().render()
>>> find_external_urls(html)
[]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from geo.maps.assets import (
    ASSETS_DIR,
    GENERATED_DIR,
    _leaflet_dir,  # noqa: F401  (tests read where Leaflet comes from)
    build_assets,
    find_external_urls,
    leaflet_links,
    write_geometry,
)
from geo.maps.component import basemap_tiles, gridmap_args

if TYPE_CHECKING:
    from geo.maps.builders import (
        GridLayer,
        OutlineLayer,
        Restyle,
        base_map,
        blind_spot_map,
        building_map,
        grid_map,
        offline_map,
        selection_outline,
        walk_map,
    )
from geo.maps.classify import (
    BASEMAPS,
    METRICS,
    NO_DATA_COLOUR,
    NO_HOUSEHOLDS_COLOUR,
    SCHEMES,
    Basemap,
    Classes,
    Lang,
    Metric,
    Scheme,
    classify,
    classify_bivariate,
    colour_for,
)
from geo.maps.payload import (
    geometry_from_payload,
    geometry_payload,
    grid_id_at,
    payload_json,
)
from geo.maps.style import (
    blank_style,
    style_payload,
)

__all__ = [
    "ASSETS_DIR",
    "BASEMAPS",
    "GENERATED_DIR",
    "METRICS",
    "NO_DATA_COLOUR",
    "NO_HOUSEHOLDS_COLOUR",
    "SCHEMES",
    "Basemap",
    "Classes",
    "GridLayer",
    "Lang",
    "Metric",
    "OutlineLayer",
    "Restyle",
    "Scheme",
    "base_map",
    "basemap_tiles",
    "blank_style",
    "blind_spot_map",
    "build_assets",
    "building_map",
    "classify",
    "classify_bivariate",
    "colour_for",
    "find_external_urls",
    "geometry_from_payload",
    "geometry_payload",
    "grid_id_at",
    "grid_map",
    "gridmap_args",
    "leaflet_links",
    "offline_map",
    "payload_json",
    "selection_outline",
    "style_payload",
    "walk_map",
    "write_geometry",
]

_FOLIUM = frozenset(
    {"GridLayer", "OutlineLayer", "Restyle", "base_map", "blind_spot_map", "building_map", "grid_map",
     "offline_map", "selection_outline", "walk_map"}
)  # fmt: skip
"""The folium maps (:mod:`~geo.maps.builders`), imported on first use: the district map needs none."""


def __getattr__(name: str) -> Any:
    if name in _FOLIUM:
        return getattr(importlib.import_module("geo.maps.builders"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
