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
>>> m = grid_map(grids, metrics)
>>> html = m.get_root().render()
>>> find_external_urls(html)
[]
"""

from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import json
import math
import os
import re
import tempfile
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.map import Layer
from folium.template import Template

from geo import words
from geo.text import plain

__all__ = [
    "ASSETS_DIR",
    "BASEMAPS",
    "GENERATED_DIR",
    "METRICS",
    "NO_DATA_COLOUR",
    "NO_HOUSEHOLDS_COLOUR",
    "SCHEMES",
    "Classes",
    "GridLayer",
    "OutlineLayer",
    "Restyle",
    "base_map",
    "basemap_tiles",
    "blank_style",
    "build_assets",
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
    "style_payload",
    "write_geometry",
]

Metric = Literal["coverage", "open_issues_per_100", "overdue_issues", "bivariate"]
Scheme = Literal["fixed", "quantiles", "natural_breaks"]
Lang = Literal["zh", "en"]
Basemap = Literal["none", "osm", "tianditu", "amap"]

#: Metrics a grid can be coloured by.
METRICS: Final = ("coverage", "open_issues_per_100", "overdue_issues", "bivariate")
#: Classification schemes: fixed thresholds, quantiles, natural breaks (Fisher–Jenks).
SCHEMES: Final = ("fixed", "quantiles", "natural_breaks")
#: Basemaps; every one but ``"none"`` loads tiles from the internet.
BASEMAPS: Final = ("none", "osm", "tianditu", "amap")

#: This module's own browser code and the folder built from it and Leaflet.
ASSETS_DIR: Final = Path(__file__).with_name("assets")
#: Git-ignored; filled by :func:`build_assets` and :func:`write_geometry`.
GENERATED_DIR: Final = ASSETS_DIR / "_generated"

#: Fill of grids with no occupied households (drawn hatched over this grey).
NO_HOUSEHOLDS_COLOUR: Final = "#d9d9d9"
#: Fill of grids that have no row in the metrics (drawn faint and dashed).
NO_DATA_COLOUR: Final = "#ffffff"
#: Outline of the bivariate cell "low coverage and many open issues".
EMPHASIS_COLOUR: Final = "#b2182b"

#: Class index of a grid with no occupied households / with no metrics row.
NO_HOUSEHOLDS: Final = -1
NO_DATA: Final = -2

# ColorBrewer (Cynthia Brewer, Apache-2.0 licensed colour specifications).
# RdYlBu: low coverage red, high coverage blue (safe for red-green colour blindness).
_RDYLBU: Final[dict[int, tuple[str, ...]]] = {
    1: ("#ffffbf",),
    2: ("#fc8d59", "#91bfdb"),
    3: ("#fc8d59", "#ffffbf", "#91bfdb"),
    4: ("#d7191c", "#fdae61", "#abd9e9", "#2c7bb6"),
    5: ("#d7191c", "#fdae61", "#ffffbf", "#abd9e9", "#2c7bb6"),
    6: ("#d73027", "#fc8d59", "#fee090", "#e0f3f8", "#91bfdb", "#4575b4"),
    7: ("#d73027", "#fc8d59", "#fee090", "#ffffbf", "#e0f3f8", "#91bfdb", "#4575b4"),
}
# YlOrRd: more issues, darker red.
_YLORRD: Final[dict[int, tuple[str, ...]]] = {
    1: ("#fd8d3c",),
    2: ("#ffeda0", "#f03b20"),
    3: ("#ffeda0", "#feb24c", "#f03b20"),
    4: ("#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"),
    5: ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
    6: ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"),
    7: ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"),
}
# Joshua Stevens' 3x3 bivariate scheme, indexed [issues][coverage deficit]:
# row 0 few issues ... row 2 many; column 0 high coverage ... column 2 low.
# The darkest cell, index 8, is low coverage AND many open issues.
BIVARIATE_COLOURS: Final = (
    "#e8e8e8", "#e4acac", "#c85a5a",
    "#b0d5df", "#ad9ea5", "#985356",
    "#64acbe", "#627f8c", "#574249",
)  # fmt: skip

#: Fixed class thresholds (lower edges of classes 2..k, classes closed on the left).
FIXED_THRESHOLDS: Final[dict[str, tuple[float, ...]]] = {
    "coverage": (0.5, 0.75, 0.9),
    "open_issues_per_100": (1.0, 2.0, 5.0),
    "overdue_issues": (1.0, 2.0, 5.0),
}
#: Fixed low/medium/high thresholds of the bivariate view.
BIVARIATE_THRESHOLDS: Final[dict[str, tuple[float, ...]]] = {
    "coverage": (0.5, 0.9),
    "open_issues_per_100": (1.0, 3.0),
}
# Fisher-Jenks is O(k n^2) in pure Python (mapclassify without numba takes ~8 s
# for 2,000 values), so larger inputs are classified on a quantile sketch.
_JENKS_SKETCH: Final = 128

_TEXT: Final[dict[str, dict[str, str]]] = words.by_lang("maps.")

_GRID_COLUMNS: Final = (
    "grid_id",
    "committee_id",
    "street_id",
    "name",
    "committee_name",
    "street_name",
)
_METRIC_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "coverage": ("households", "coverage"),
    "open_issues_per_100": ("households", "open_issues"),
    "overdue_issues": ("households", "overdue_issues"),
    "bivariate": ("households", "coverage", "open_issues"),
}
# Projected CRS for metric work in Shanghai (UTM zone 51N).
_METRIC_CRS: Final = 32651
_URL_RE: Final = re.compile(r"""(?i)(?:https?:)?//[^\s"'<>()\\]+""")
_SCHEME_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


# --------------------------------------------------------------------------
# Classes and colours
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Classes:
    """Classes of one metric: where they break, what they are called, their colours.

    ``breaks`` are the ``k - 1`` inner boundaries. With ``right_closed=False``
    (fixed thresholds) class ``i`` is ``[breaks[i-1], breaks[i])``; with
    ``right_closed=True`` (quantiles, natural breaks, as in mapclassify) it is
    ``(breaks[i-1], breaks[i]]``. The first class is open below, the last above.

    Examples
    --------
    >>> c = Classes("coverage", "fixed", (0.5, 0.9), False, ("<50%", "50–90%", "≥90%"),
    ...             ("#fc8d59", "#ffffbf", "#91bfdb"))
    >>> c.index([0.2, 0.5, 0.9, float("nan")]).tolist()
    [0, 1, 2, -1]
    """

    metric: str
    scheme: str
    breaks: tuple[float, ...]
    right_closed: bool
    labels: tuple[str, ...]
    colours: tuple[str, ...]

    def __post_init__(self) -> None:
        k = len(self.colours)
        if len(self.labels) != k or (k and len(self.breaks) != k - 1):
            raise ValueError(
                f"{k} colours need {k} labels and {max(k - 1, 0)} breaks, "
                f"got {len(self.labels)} labels and {len(self.breaks)} breaks"
            )

    @property
    def k(self) -> int:
        """Return the number of classes."""
        return len(self.colours)

    def index(self, values: Iterable[float] | np.ndarray) -> np.ndarray:
        """Return each value's class (0 … k-1), and -1 where it is NaN."""
        v = np.asarray(values, dtype=float)
        side: Literal["left", "right"] = "left" if self.right_closed else "right"
        out = np.searchsorted(np.asarray(self.breaks, dtype=float), v, side=side)
        out = out.astype(np.int64)
        out[~np.isfinite(v)] = NO_HOUSEHOLDS
        return out


def _text(lang: str) -> dict[str, str]:
    if lang not in _TEXT:
        raise ValueError(f"lang must be one of {sorted(_TEXT)}, got {lang!r}")
    return _TEXT[lang]


def _trim(x: float, digits: int) -> str:
    s = f"{x:.{digits}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def _fmt(metric: str, x: float) -> str:
    if metric == "coverage":
        return _trim(x * 100, 1) + "%"
    if metric == "overdue_issues":
        return str(round(x))
    return _trim(x, 1)


def _range(metric: str, a: float, b: float) -> str:
    if _fmt(metric, a) == _fmt(metric, b):
        return _fmt(metric, a)
    if metric == "coverage":
        return f"{_trim(a * 100, 1)}–{_trim(b * 100, 1)}%"
    return f"{_fmt(metric, a)}–{_fmt(metric, b)}"


def _palette(metric: str, k: int) -> tuple[str, ...]:
    if k == 0:
        return ()
    table = _RDYLBU if metric == "coverage" else _YLORRD
    if k not in table:
        raise ValueError(f"k must be between 1 and {max(table)}, got {k}")
    return table[k]


def _fixed_labels(metric: str, edges: Sequence[float]) -> tuple[str, ...]:
    f = functools.partial(_fmt, metric)
    integer = metric == "overdue_issues" and all(float(e).is_integer() for e in edges)
    if integer:
        # Counts: [a, b) holds a … b-1.
        bounds = [0, *(int(e) for e in edges)]
        labels = []
        for lo, hi in itertools.pairwise(bounds):
            labels.append(str(lo) if hi - lo == 1 else f"{lo}–{hi - 1}")
        labels.append(f"≥ {bounds[-1]}")
        return tuple(labels)
    labels = [f"< {f(edges[0])}"]
    labels += [_range(metric, a, b) for a, b in itertools.pairwise(edges)]
    labels.append(f"≥ {f(edges[-1])}")
    return tuple(labels)


def _upper_labels(metric: str, lo: float, uppers: Sequence[float]) -> tuple[str, ...]:
    """Label right-closed classes [lo, u0], (u0, u1], … ."""
    if metric == "overdue_issues":
        labels = []
        prev = None
        for u in uppers:
            a = round(lo) if prev is None else math.floor(prev) + 1
            b = math.floor(u)
            labels.append(str(b) if a >= b else f"{a}–{b}")
            prev = u
        return tuple(labels)
    edges = [lo, *uppers]
    return tuple(_range(metric, a, b) for a, b in itertools.pairwise(edges))


def _data_breaks(finite: np.ndarray, scheme: str, k: int) -> np.ndarray:
    """Return the upper bounds (mapclassify ``bins``) of at most ``k`` classes."""
    import mapclassify

    unique = np.unique(finite)
    k = min(k, len(unique))
    if k <= 1:
        return unique[-1:]
    with warnings.catch_warnings():
        # mapclassify warns about ties and a missing numba; both are handled here.
        warnings.simplefilter("ignore")
        if scheme == "quantiles":
            bins = mapclassify.Quantiles(finite, k=k).bins
        else:
            sample = finite
            if len(finite) > _JENKS_SKETCH:
                sample = np.quantile(finite, np.linspace(0.0, 1.0, _JENKS_SKETCH))
            k = min(k, len(np.unique(sample)))
            bins = mapclassify.FisherJenks(sample, k=k).bins
    bins = np.unique(np.asarray(bins, dtype=float))
    bins[-1] = unique[-1]
    return bins


def classify(
    values: Iterable[float] | np.ndarray,
    *,
    scheme: Scheme = "fixed",
    k: int = 5,
    metric: str = "coverage",
    thresholds: Sequence[float] | None = None,
) -> Classes:
    """Divide ``values`` of ``metric`` into classes with labels and colours.

    Parameters
    ----------
    values
        Metric values; NaN (no occupied households) is ignored.
    scheme
        ``"fixed"`` uses ``thresholds`` (default :data:`FIXED_THRESHOLDS`; ``k``
        is ignored); ``"quantiles"`` and ``"natural_breaks"`` (Fisher–Jenks)
        come from mapclassify and give at most ``k`` classes (fewer when there
        are fewer distinct values).
    k
        Number of classes for the data-driven schemes (1–7).
    metric
        ``"coverage"`` (values in [0, 1]), ``"open_issues_per_100"`` or
        ``"overdue_issues"``; decides the palette and the number format.
    thresholds
        Inner class edges for ``"fixed"``, increasing.

    Returns
    -------
    Classes

    Examples
    --------
    >>> c = classify([0.3, 0.6, 0.8, 0.95])
    >>> c.breaks, c.labels
    ((0.5, 0.75, 0.9), ('< 50%', '50–75%', '75–90%', '≥ 90%'))
    >>> c.index([0.3, 0.6, 0.8, 0.95]).tolist()
    [0, 1, 2, 3]
    >>> classify([0, 0, 1, 3, 7], metric="overdue_issues").labels
    ('0', '1', '2–4', '≥ 5')
    >>> classify([1, 2, 3, 4], scheme="quantiles", k=2, metric="open_issues_per_100").breaks
    (2.5,)
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if metric not in FIXED_THRESHOLDS:
        raise ValueError(f"metric must be one of {tuple(FIXED_THRESHOLDS)}, got {metric!r}")
    v = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
    if scheme == "fixed":
        edges = tuple(float(e) for e in (thresholds or FIXED_THRESHOLDS[metric]))
        if not edges or any(b <= a for a, b in itertools.pairwise(edges)):
            raise ValueError(f"thresholds must be increasing and not empty, got {edges}")
        labels = _fixed_labels(metric, edges)
        return Classes(metric, scheme, edges, False, labels, _palette(metric, len(labels)))
    if not 1 <= k <= 7:
        raise ValueError(f"k must be between 1 and 7, got {k}")
    finite = v[np.isfinite(v)]
    if len(finite) == 0:
        return Classes(metric, scheme, (), True, (), ())
    uppers = _data_breaks(finite, scheme, k)
    labels = _upper_labels(metric, float(finite.min()), [float(u) for u in uppers])
    breaks = tuple(float(b) for b in uppers[:-1])
    return Classes(metric, scheme, breaks, True, labels, _palette(metric, len(labels)))


def classify_bivariate(
    coverage: Iterable[float] | np.ndarray,
    issues_per_100: Iterable[float] | np.ndarray,
    *,
    scheme: Scheme = "fixed",
) -> tuple[Classes, Classes]:
    """Return low/medium/high classes of coverage and of open issues per 100 households.

    The fixed scheme uses :data:`BIVARIATE_THRESHOLDS`; the others give terciles
    (quantiles) or three natural breaks of each variable.

    Examples
    --------
    >>> cov, iss = classify_bivariate([0.2, 0.95], [0.0, 4.0])
    >>> cov.breaks, iss.breaks
    ((0.5, 0.9), (1.0, 3.0))
    """
    cov = classify(
        coverage,
        scheme=scheme,
        k=3,
        metric="coverage",
        thresholds=BIVARIATE_THRESHOLDS["coverage"],
    )
    iss = classify(
        issues_per_100,
        scheme=scheme,
        k=3,
        metric="open_issues_per_100",
        thresholds=BIVARIATE_THRESHOLDS["open_issues_per_100"],
    )
    return cov, iss


def _bivariate_index(cov: Classes, iss: Classes, c: np.ndarray, i: np.ndarray) -> np.ndarray:
    """Combine per-variable classes into 0..8: 3 * issue level + coverage deficit."""
    ci = cov.index(c)
    ii = iss.index(i)
    # Spread fewer than three classes over low/medium/high (two classes: low, high).
    spread = {0: [], 1: [0], 2: [0, 2], 3: [0, 1, 2]}
    cpos = np.asarray(spread[cov.k] or [0])
    ipos = np.asarray(spread[iss.k] or [0])
    deficit = 2 - cpos[np.clip(ci, 0, None)]
    level = ipos[np.clip(ii, 0, None)]
    out = 3 * level + deficit
    out[(ci < 0) | (ii < 0)] = NO_HOUSEHOLDS
    return out


def colour_for(value: float, classes: Classes) -> str:
    """Return the fill colour of one ``value``; NaN gets :data:`NO_HOUSEHOLDS_COLOUR`.

    Examples
    --------
    >>> c = classify([], metric="coverage")
    >>> colour_for(0.95, c), colour_for(0.1, c), colour_for(float("nan"), c)
    ('#2c7bb6', '#d7191c', '#d9d9d9')
    """
    i = int(classes.index([value])[0])
    return NO_HOUSEHOLDS_COLOUR if i < 0 else classes.colours[i]


# --------------------------------------------------------------------------
# Geometry payload
# --------------------------------------------------------------------------


def _check_grids(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    missing = [c for c in _GRID_COLUMNS if c not in grids.columns]
    if missing:
        raise ValueError(f"grids: missing column(s) {missing}; expected {list(_GRID_COLUMNS)}")
    if grids.crs is None:
        raise ValueError("grids: no CRS; expected EPSG:4326 (WGS84) geometry")
    dup = grids["grid_id"][grids["grid_id"].duplicated()]
    if len(dup):
        raise ValueError(f"grids: duplicate grid_id {sorted(dup.astype(str))[:5]}")
    epsg = grids.crs.to_epsg()
    if epsg not in (4326, 4490):
        grids = grids.to_crs(4326)
    return grids


def _simplify(geoms: np.ndarray, crs: Any, simplify_m: float | None) -> np.ndarray:
    """Simplify a polygon coverage in metres, keeping shared edges shared."""
    if not simplify_m:
        return geoms
    projected = gpd.GeoSeries(geoms, crs=crs).to_crs(_METRIC_CRS)
    simple = shapely.coverage_simplify(projected.values, tolerance=float(simplify_m))
    return np.asarray(gpd.GeoSeries(simple, crs=_METRIC_CRS).to_crs(crs).values)


def _encode(geoms: np.ndarray, scale: float, origin: tuple[int, int]) -> list[list[list[list[int]]]]:
    """Encode polygons as [[ring, ...], ...] of flat delta integers (see docs/maps.md)."""
    out: list[list[list[list[int]]]] = [[] for _ in range(len(geoms))]
    parts, part_feature = shapely.get_parts(geoms, return_index=True)
    polygon = shapely.get_type_id(parts) == 3
    parts, part_feature = parts[polygon], part_feature[polygon]
    if len(parts) == 0:
        return out
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    q = np.rint(coords * scale).astype(np.int64)
    n = len(q)
    same_ring = np.zeros(n, dtype=bool)
    same_ring[1:] = coord_ring[1:] == coord_ring[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = ~same_ring[1:]
    repeat = np.zeros(n, dtype=bool)
    repeat[1:] = (q[1:] == q[:-1]).all(axis=1)
    keep = ~last & ~(same_ring & repeat)  # drop the closing point and repeats
    q, coord_ring = q[keep], coord_ring[keep]
    starts = np.flatnonzero(np.r_[True, coord_ring[1:] != coord_ring[:-1]])
    ends = np.r_[starts[1:], len(q)]
    # A ring whose rounding folds its last point onto its first loses that point.
    fold = (ends - starts > 1) & (q[ends - 1] == q[starts]).all(axis=1)
    keep2 = np.ones(len(q), dtype=bool)
    keep2[ends[fold] - 1] = False
    q, coord_ring = q[keep2], coord_ring[keep2]
    if len(q) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, coord_ring[1:] != coord_ring[:-1]])
    delta = np.empty_like(q)
    delta[1:] = q[1:] - q[:-1]
    delta[starts] = q[starts] - np.asarray(origin, dtype=np.int64)
    ring_ids = coord_ring[starts]
    flat = np.split(delta.ravel(), starts[1:] * 2)
    # Rings of a polygon are consecutive, exterior first (shapely.get_rings order);
    # a ring left with fewer than three points has no area at this precision, and
    # a polygon whose exterior went that way is dropped with its holes.
    is_exterior = np.r_[True, ring_part[1:] != ring_part[:-1]]
    open_part = -1
    for ring_id, ring in zip(ring_ids.tolist(), flat, strict=True):
        part = int(ring_part[ring_id])
        if len(ring) < 6:
            continue
        feature = int(part_feature[part])
        if is_exterior[ring_id]:
            out[feature].append([ring.tolist()])
            open_part = part
        elif part == open_part:
            out[feature][-1].append(ring.tolist())
    return out


def _area_table(
    grids: gpd.GeoDataFrame,
    frame: gpd.GeoDataFrame | None,
    key: str,
    name_col: str,
    simple_grids: np.ndarray,
    simplify_m: float | None,
) -> tuple[list[str], list[str], np.ndarray]:
    """Ids, names and outline geometry of the committees or streets in ``grids``."""
    first = grids.drop_duplicates(key).sort_values(key)
    ids = [str(x) for x in first[key]]
    names = [str(x) for x in first[name_col]]
    own: dict[str, Any] = {}
    if frame is not None and len(frame):
        id_col = key if key in frame.columns else "id"
        if id_col not in frame.columns:
            raise ValueError(f"{key[:-3]}s: expected an {key!r} or 'id' column")
        f = frame.to_crs(4326) if frame.crs is not None and frame.crs.to_epsg() != 4326 else frame
        keep = f[f[id_col].astype(str).isin(ids)]
        simple = _simplify(np.asarray(keep.geometry.values), 4326, simplify_m)
        own = dict(zip(keep[id_col].astype(str), simple, strict=True))
    codes = grids[key].astype(str).to_numpy()
    geoms = []
    for area_id in ids:
        if area_id in own:
            geoms.append(own[area_id])
            continue
        members = simple_grids[codes == area_id]
        try:
            geoms.append(shapely.coverage_union_all(members))
        except shapely.errors.GEOSException:
            geoms.append(shapely.union_all(members))
    return ids, names, np.asarray(geoms, dtype=object)


def geometry_payload(
    grids: gpd.GeoDataFrame,
    *,
    streets: gpd.GeoDataFrame | None = None,
    committees: gpd.GeoDataFrame | None = None,
    precision: int = 5,
    simplify_m: float | None = 2.0,
) -> dict[str, Any]:
    """Build the compact geometry sent to the browser once per session.

    The grids are simplified together with :func:`shapely.coverage_simplify`
    (shared edges stay shared, in metres, EPSG:32651), rounded to
    ``precision`` decimals (5 ≈ 1 m) and stored as integer deltas; only the
    ids, names and committee of each grid travel with it. Committee and street
    outlines come from ``committees``/``streets`` when given (an id column
    named ``committee_id``/``street_id`` or ``id``), else from the union of
    their grids. :func:`payload_json` gives the text; the JavaScript decoder
    is ``SibaiMap.decode`` and the Python one :func:`geometry_from_payload`.

    Parameters
    ----------
    grids
        Columns grid_id, committee_id, street_id, name, committee_name,
        street_name, geometry (polygons, with a CRS).
    streets, committees
        Optional outlines.
    precision
        Decimal places kept (4–7).
    simplify_m
        Simplification tolerance in metres; ``None`` or 0 keeps every vertex.

    Returns
    -------
    dict
        ``{"v", "precision", "origin", "bbox", "hash", "grids", "committees",
        "streets"}``; see docs/maps.md.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> grids = gpd.GeoDataFrame(
    ...     {"grid_id": ["G1"], "committee_id": ["C1"], "street_id": ["S1"], "name": ["一号"],
    ...      "committee_name": ["一村"], "street_name": ["长寿路街道"]},
    ...     geometry=[box(121.4, 31.2, 121.40002, 31.20001)], crs="EPSG:4326")
    >>> p = geometry_payload(grids, simplify_m=None)
    >>> p["origin"], p["grids"]["geom"]
    ([12140000, 3120000], [[[[2, 0, 0, 1, -2, 0, 0, -1]]]])
    """
    if not 4 <= precision <= 7:
        raise ValueError(f"precision must be 4–7 decimal places, got {precision}")
    grids = _check_grids(grids)
    scale = 10.0**precision
    geoms = np.asarray(grids.geometry.values)
    bad = ~np.isin(shapely.get_type_id(geoms), [3, 6])
    if bad.any():
        ids = grids["grid_id"].astype(str).to_numpy()[bad][:5].tolist()
        raise ValueError(f"grids: geometry must be Polygon or MultiPolygon; not so for {ids}")
    try:
        simple = _simplify(geoms, 4326, simplify_m)
    except shapely.errors.GEOSException:
        # Not a valid coverage (overlaps from an import): simplify one by one.
        projected = gpd.GeoSeries(geoms, crs=4326).to_crs(_METRIC_CRS)
        simple = np.asarray(projected.simplify(float(simplify_m or 0)).to_crs(4326).values)
    c_ids, c_names, c_geoms = _area_table(
        grids, committees, "committee_id", "committee_name", simple, simplify_m
    )
    s_ids, s_names, s_geoms = _area_table(grids, streets, "street_id", "street_name", simple, simplify_m)
    minx, miny, maxx, maxy = shapely.total_bounds(simple)
    origin = (math.floor(minx * scale), math.floor(miny * scale))
    street_of = {s: i for i, s in enumerate(s_ids)}
    committee_of = {c: i for i, c in enumerate(c_ids)}
    street_of_committee = dict(
        zip(grids["committee_id"].astype(str), grids["street_id"].astype(str), strict=True)
    )
    payload: dict[str, Any] = {
        "v": 1,
        "precision": precision,
        "origin": list(origin),
        "bbox": [round(float(b), precision) for b in (minx, miny, maxx, maxy)],
        "grids": {
            "id": grids["grid_id"].astype(str).tolist(),
            "name": grids["name"].astype(str).tolist(),
            "committee": [committee_of[str(c)] for c in grids["committee_id"]],
            "geom": _encode(simple, scale, origin),
        },
        "committees": {
            "id": c_ids,
            "name": c_names,
            "street": [street_of[street_of_committee[c]] for c in c_ids],
            "geom": _encode(c_geoms, scale, origin),
        },
        "streets": {
            "id": s_ids,
            "name": s_names,
            "geom": _encode(s_geoms, scale, origin),
        },
    }
    payload["hash"] = hashlib.sha256(payload_json(payload).encode()).hexdigest()[:16]
    return payload


def payload_json(payload: Any) -> str:
    """Return compact JSON that is also safe inside an HTML ``<script>``.

    ``<``, ``>``, ``&`` and the JavaScript line separators are written as
    ``\\uXXXX`` escapes, so no text from the data can close the script.

    Examples
    --------
    >>> payload_json({"name": "</script><img src=x onerror=alert(1)>"})
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003cimg src=x onerror=alert(1)\\\\u003e"}'
    """
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def geometry_from_payload(
    payload: Mapping[str, Any], kind: Literal["grids", "committees", "streets"] = "grids"
) -> gpd.GeoDataFrame:
    """Decode one table of a :func:`geometry_payload` back into a GeoDataFrame.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> grids = gpd.GeoDataFrame(
    ...     {"grid_id": ["G1"], "committee_id": ["C1"], "street_id": ["S1"], "name": ["一号"],
    ...      "committee_name": ["一村"], "street_name": ["长寿路街道"]},
    ...     geometry=[box(121.4, 31.2, 121.41, 31.21)], crs="EPSG:4326")
    >>> back = geometry_from_payload(geometry_payload(grids, simplify_m=None))
    >>> back.geometry[0].equals(box(121.4, 31.2, 121.41, 31.21))
    True
    """
    scale = 10.0 ** payload["precision"]
    ox, oy = payload["origin"]
    table = payload[kind]
    geoms = []
    for parts in table["geom"]:
        polygons = []
        for rings in parts:
            shells = []
            for flat in rings:
                xy = np.asarray(flat, dtype=np.int64).reshape(-1, 2).cumsum(axis=0)
                xy += np.asarray([ox, oy], dtype=np.int64)
                shells.append(xy / scale)
            polygons.append(shapely.Polygon(shells[0], shells[1:]))
        geoms.append(shapely.MultiPolygon(polygons) if polygons else shapely.MultiPolygon())
    return gpd.GeoDataFrame({"id": table["id"], "name": table["name"]}, geometry=geoms, crs="EPSG:4326")


def grid_id_at(grids: gpd.GeoDataFrame, *, lat: float, lng: float) -> str | None:
    """Return the grid containing a clicked point, or ``None`` outside every grid.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"grid_id": ["G1", "G2"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4326")
    >>> grid_id_at(g, lat=0.5, lng=1.5), grid_id_at(g, lat=5, lng=5)
    ('G2', None)
    """
    hits = grids.sindex.query(shapely.Point(lng, lat), predicate="intersects")
    if len(hits) == 0:
        return None
    return str(min(grids["grid_id"].iloc[hits].astype(str)))


# --------------------------------------------------------------------------
# Style payload
# --------------------------------------------------------------------------


def _metric_columns(metrics: pd.DataFrame, metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    missing = [c for c in _METRIC_COLUMNS[metric] if c not in metrics.columns]
    if missing:
        raise ValueError(
            f"metrics: missing column(s) {missing} needed for metric {metric!r}; "
            f"the frame is indexed by grid_id with households, visited, coverage, "
            f"residents, open_issues, overdue_issues"
        )


def _int_or_none(values: np.ndarray) -> list[int | None]:
    return [None if not math.isfinite(x) else round(x) for x in values.tolist()]


def style_payload(
    grid_ids: Sequence[str],
    metrics: pd.DataFrame,
    *,
    metric: Metric = "coverage",
    scheme: Scheme = "fixed",
    k: int = 5,
    lang: Lang = "zh",
    selected: str | None = None,
    geometry_hash: str | None = None,
    thresholds: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Build the small object that colours grids already in the browser.

    Arrays follow ``grid_ids`` (the payload's order). ``cls`` holds each
    grid's class: 0 … k-1, or -1 (no occupied households, drawn hatched) or
    -2 (no row in ``metrics``). Grids with no occupied households have no
    coverage and no issues-per-household rate, so they are never classed as
    0 %; the overdue-issues count is classed for every grid with a row.

    Parameters
    ----------
    grid_ids
        Grid ids in the order of :func:`geometry_payload`.
    metrics
        Indexed by grid_id; columns households, coverage, open_issues,
        overdue_issues (those the metric needs).
    metric, scheme, k, thresholds
        What to colour by and how to class it (see :func:`classify`).
    lang
        ``"zh"`` or ``"en"`` for the legend and tooltip labels.
    selected
        Grid to outline; must be one of ``grid_ids``.
    geometry_hash
        The payload's ``hash``; the browser ignores styles for other geometry.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"households": [10, 0], "coverage": [0.8, float("nan")],
    ...                   "open_issues": [1, 0], "overdue_issues": [0, 0]},
    ...                  index=["G1", "G2"])
    >>> s = style_payload(["G1", "G2", "G3"], m)
    >>> s["cls"], s["colours"][2]
    ([2, -1, -2], '#abd9e9')
    """
    _metric_columns(metrics, metric)
    text = _text(lang)
    ids = [str(g) for g in grid_ids]
    index = {g: i for i, g in enumerate(ids)}
    sel = -1
    if selected is not None:
        if str(selected) not in index:
            raise ValueError(f"selected grid {selected!r} is not among the {len(ids)} grids")
        sel = index[str(selected)]
    frame = metrics.copy()
    frame.index = frame.index.astype(str)
    frame = frame[~frame.index.duplicated()].reindex(ids)
    present = frame["households"].notna().to_numpy()
    hh = frame["households"].to_numpy(dtype=float)
    occupied = present & (hh > 0)

    def column(name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.full(len(ids), np.nan)
        return frame[name].to_numpy(dtype=float)

    coverage = np.where(occupied, column("coverage"), np.nan)
    open_issues = column("open_issues")
    overdue = column("overdue_issues")
    with np.errstate(divide="ignore", invalid="ignore"):
        per_100 = np.where(occupied, open_issues / hh * 100.0, np.nan)

    emphasis: list[int] = []
    bivariate: dict[str, Any] | None = None
    if metric == "bivariate":
        cov_c, iss_c = classify_bivariate(coverage, per_100, scheme=scheme)
        cls = _bivariate_index(cov_c, iss_c, coverage, per_100)
        colours = list(BIVARIATE_COLOURS)
        emphasis = [8]
        items: list[dict[str, str]] = []
        bivariate = {
            "rows": list(iss_c.labels),
            "cols": list(reversed(cov_c.labels)),
            "colours": colours,
            "x_title": text["bi_x"],
            "y_title": text["bi_y"],
        }
        if iss_c.k != 3 or cov_c.k != 3:
            # Too few distinct values for three levels: show the levels in use.
            spread = {1: [0], 2: [0, 2], 3: [0, 1, 2]}
            rows, cols = spread.get(iss_c.k, [0]), spread.get(cov_c.k, [0])
            bivariate["colours"] = [colours[3 * r + (2 - c)] for r in rows for c in reversed(cols)]
    else:
        values = {"coverage": coverage, "open_issues_per_100": per_100}.get(metric, overdue)
        classes = classify(values, scheme=scheme, k=k, metric=metric, thresholds=thresholds)
        cls = classes.index(values)
        colours = list(classes.colours)
        items = [
            {"colour": c, "label": label} for c, label in zip(classes.colours, classes.labels, strict=True)
        ]
    cls = np.where(present, cls, NO_DATA)
    title = text[f"title_{metric}"]
    no_households = {"colour": NO_HOUSEHOLDS_COLOUR, "label": text["no_households"]}
    no_data = {"colour": NO_DATA_COLOUR, "label": text["no_data"]}
    return {
        "v": 1,
        "geom": geometry_hash,
        "metric": metric,
        "scheme": scheme,
        "cls": [int(c) for c in cls],
        "colours": colours,
        "emphasis": emphasis,
        "emphasis_colour": EMPHASIS_COLOUR,
        "no_households": no_households,
        "no_data": no_data,
        "sel": sel,
        "households": _int_or_none(hh),
        "coverage": _int_or_none(coverage * 1000.0),
        "open_issues": _int_or_none(open_issues),
        "overdue_issues": _int_or_none(overdue),
        "labels": {
            key: text[key]
            for key in (
                "committee",
                "street",
                "households",
                "coverage",
                "open_issues",
                "overdue_issues",
                "no_households",
                "no_data",
                "sep",
            )
        },
        "locale": text["locale"],
        "legend": {
            "title": title,
            "items": items,
            "bivariate": bivariate,
            "no_households": no_households,
            "no_data": no_data if bool((cls == NO_DATA).any()) else None,
        },
    }


def blank_style(*, lang: Lang = "zh", geometry_hash: str | None = None) -> dict[str, Any]:
    """Return a style that draws every grid as "no data", without a legend.

    For a map that must stay the same while colours change (streamlit-folium
    keys its iframe on the map's script): draw the grids with this, then
    colour them with :class:`Restyle`.

    Examples
    --------
    >>> blank_style(geometry_hash="abc")["geom"]
    'abc'
    """
    text = _text(lang)
    return {
        "v": 1,
        "geom": geometry_hash,
        "metric": "",
        "colours": [],
        "no_households": {"colour": NO_HOUSEHOLDS_COLOUR, "label": text["no_households"]},
        "no_data": {"colour": NO_DATA_COLOUR, "label": text["no_data"]},
        "sel": -1,
        "labels": {key: text[key] for key in ("committee", "street", "households", "no_data", "sep")},
        "locale": text["locale"],
        "legend": None,
    }


# --------------------------------------------------------------------------
# Offline assets
# --------------------------------------------------------------------------


def _leaflet_dir() -> Path:
    import xstatic.pkg.leaflet as xleaflet

    return Path(xleaflet.BASE_DIR)


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@functools.cache
def _inline_leaflet() -> tuple[str, str]:
    src = _leaflet_dir()
    css = (src / "leaflet.css").read_text(encoding="utf-8")
    for png in sorted((src / "images").glob("*.png")):
        css = css.replace(f"url(images/{png.name})", f"url({_data_uri('image/png', png.read_bytes())})")
    js = _data_uri("text/javascript", (src / "leaflet.js").read_bytes())
    return js, _data_uri("text/css", css.encode("utf-8"))


def leaflet_links(assets: str = "inline") -> tuple[str, str]:
    """Return the ``(script, stylesheet)`` URLs of Leaflet for ``assets``.

    ``"inline"`` gives ``data:`` URIs of xstatic-leaflet's files (about
    200 KB + 25 KB, cached); any other value is a *relative* URL prefix of a
    folder built by :func:`build_assets` and served by the app, e.g.
    ``"app/static/sibai"`` (Streamlit static serving) or a component's path.
    Absolute URLs are refused: no page may ask another host for Leaflet.

    Examples
    --------
    >>> leaflet_links("app/static/sibai/")
    ('app/static/sibai/leaflet.js', 'app/static/sibai/leaflet.css')
    >>> leaflet_links("https://cdn.example.org/leaflet")
    Traceback (most recent call last):
    ...
    ValueError: assets must be 'inline' or a relative URL prefix served by the app, got 'https://cdn.example.org/leaflet'
    """
    if assets == "inline":
        return _inline_leaflet()
    if not assets or _SCHEME_RE.match(assets) or assets.startswith(("//", "\\")):
        raise ValueError(
            f"assets must be 'inline' or a relative URL prefix served by the app, got {assets!r}"
        )
    prefix = assets.rstrip("/")
    return f"{prefix}/leaflet.js", f"{prefix}/leaflet.css"


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # Atomic, so that several app processes may build the same folder.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def build_assets(dest: Path | str | None = None) -> Path:
    """Fill the folder the app serves with Leaflet and this module's browser code.

    Copies ``leaflet.js``, ``leaflet.css`` and ``images/`` from the
    xstatic-leaflet package and ``sibai_map.js``, ``gridmap.js`` and
    ``gridmap.html`` (as ``index.html``, the page of the district-map
    component) from ``geo/assets/``. Nothing third-party is committed: the
    default destination ``geo/assets/_generated/web`` is git-ignored.

    Examples
    --------
    >>> import tempfile
    >>> out = build_assets(Path(tempfile.mkdtemp()) / "web")
    >>> sorted(p.name for p in out.iterdir())
    ['gridmap.js', 'images', 'index.html', 'leaflet.css', 'leaflet.js', 'sibai_map.js']
    """
    out = Path(dest) if dest is not None else GENERATED_DIR / "web"
    src = _leaflet_dir()
    copies = {
        "leaflet.js": src / "leaflet.js",
        "leaflet.css": src / "leaflet.css",
        "sibai_map.js": ASSETS_DIR / "sibai_map.js",
        "gridmap.js": ASSETS_DIR / "gridmap.js",
        "index.html": ASSETS_DIR / "gridmap.html",
    }
    copies.update({f"images/{p.name}": p for p in (src / "images").glob("*.png")})
    for name, path in copies.items():
        _write_if_changed(out / name, path.read_bytes())
    return out


def write_geometry(payload: Mapping[str, Any], dest: Path | str | None = None) -> str:
    """Write a payload as ``geometry/<hash>.json`` in the served folder.

    Returns the path relative to that folder. The name changes whenever the
    geometry does, so the browser may cache the file for good.

    Examples
    --------
    >>> import tempfile
    >>> write_geometry({"hash": "abc", "v": 1}, tempfile.mkdtemp())
    'geometry/abc.json'
    """
    out = Path(dest) if dest is not None else GENERATED_DIR / "web"
    digest = str(payload["hash"])
    if not re.fullmatch(r"[0-9a-f]+", digest):
        raise ValueError(f"payload hash must be hexadecimal, got {digest!r}")
    rel = f"geometry/{digest}.json"
    _write_if_changed(out / rel, payload_json(payload).encode("utf-8"))
    return rel


def find_external_urls(page: str) -> list[str]:
    """Return every ``http(s)://`` or protocol-relative URL in an HTML page.

    Examples
    --------
    >>> find_external_urls('<script src="https://cdn.example.org/x.js"></script><p>ok</p>')
    ['https://cdn.example.org/x.js']
    """
    return _URL_RE.findall(page)


# --------------------------------------------------------------------------
# folium elements and maps
# --------------------------------------------------------------------------


@functools.cache
def _library() -> str:
    return (ASSETS_DIR / "sibai_map.js").read_text(encoding="utf-8")


class _MapTweaks(MacroElement):
    """Plain-text Leaflet attribution (no external link) and a metric scale bar."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        if ({{ this._parent.get_name() }}.attributionControl) {
            {{ this._parent.get_name() }}.attributionControl.setPrefix("Leaflet");
        }
        L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


class _FitBounds(MacroElement):
    """Fit the view without animation.

    An animated fit while the map's iframe is still being sized (st_folium,
    components) can leave Leaflet's zoom animation unfinished, after which
    the map ignores every zoom.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.fitBounds({{ this.bounds_js }}, {animate: false});
        {% endmacro %}
        """
    )

    def __init__(self, bounds: Sequence[float]) -> None:
        super().__init__()
        self._name = "FitBounds"
        minx, miny, maxx, maxy = (float(b) for b in bounds)
        self.bounds_js = payload_json([[miny, minx], [maxy, maxx]])


class GridLayer(Layer):
    """Every grid as one ``L.geoJSON`` layer, with its tooltip and legend.

    The script carries ``geo/assets/sibai_map.js`` and the style payload as
    script-safe JSON (see :func:`payload_json`), and either the geometry
    payload itself or a relative URL of its file (:func:`write_geometry`),
    which the browser then fetches once and may cache.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {%- if this.library %}{{ this.library }}{% endif %}
        var {{ this.get_name() }} = SibaiMap.gridLayer(
            {{ this.payload_js }}, {{ this.style_js }}, {{ this.options_js }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        payload: Mapping[str, Any] | str,
        style: Mapping[str, Any],
        *,
        name: str | None = None,
        legend: bool = True,
        select_on_click: bool = False,
        show: bool = True,
        inline_library: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GridLayer"
        if isinstance(payload, str) and (_SCHEME_RE.match(payload) or payload.startswith(("//", "\\"))):
            raise ValueError(f"payload URL must be relative to the app, got {payload!r}")
        # Without the inline copy the page must load sibai_map.js itself
        # (e.g. m.default_js.append(("sibai_map", prefix + "/sibai_map.js"))).
        self.library = _library() if inline_library else ""
        self.payload_js = payload_json(payload)
        self.style = style
        self.style_js = payload_json(style)
        self.options_js = payload_json({"legend": legend, "selectOnClick": select_on_click})


class OutlineLayer(Layer):
    """Street or committee outlines from a geometry payload (clicks pass through)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = SibaiMap.outlineLayer(
            {{ this.payload_js }}, {{ this.kind_js }}, {{ this.options_js }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        payload: Mapping[str, Any],
        kind: Literal["committees", "streets"],
        *,
        name: str | None = None,
        color: str = "#333333",
        weight: float = 1.0,
        dash_array: str | None = None,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "OutlineLayer"
        part = {k: payload[k] for k in ("precision", "origin")}
        part[kind] = {key: payload[kind][key] for key in ("id", "name", "geom")}
        self.payload_js = payload_json(part)
        self.kind_js = payload_json(kind)
        self.options_js = payload_json({"color": color, "weight": weight, "dashArray": dash_array})


class Restyle(MacroElement):
    """Re-colour grid layers already on the page with a :func:`style_payload`.

    For streamlit-folium: put it in a ``folium.FeatureGroup`` passed as
    ``feature_group_to_add``; the base map (and its geometry) stays as it is.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        if (window.SibaiMap) { window.SibaiMap.restyle({{ this.style_js }}); }
        {% endmacro %}
        """
    )

    def __init__(self, style: Mapping[str, Any]) -> None:
        super().__init__()
        self._name = "Restyle"
        self.style_js = payload_json(style)


def offline_map(
    *,
    location: Sequence[float] = (31.258, 121.39),
    zoom_start: int = 13,
    assets: str = "inline",
    **map_options: Any,
) -> folium.Map:
    """Return a folium map with no tiles whose page loads Leaflet only from ``assets``.

    folium's own list (Leaflet, jQuery, Bootstrap, Font Awesome and
    awesome-markers, all from CDNs) is replaced on this map by Leaflet alone,
    as ``data:`` URIs or from the app (:func:`leaflet_links`); Leaflet's
    linked "Leaflet" attribution becomes plain text. Markers with
    ``folium.Icon`` (awesome-markers) are therefore not available.

    Examples
    --------
    >>> m = offline_map()
    >>> find_external_urls(m.get_root().render())
    []
    >>> [name for name, _ in m.default_js]
    ['leaflet']
    """
    js, css = leaflet_links(assets)
    m = folium.Map(
        location=list(location),
        zoom_start=zoom_start,
        tiles=None,
        **map_options,
    )
    # Instance attributes: folium's add_js_link would edit the class-wide lists.
    m.default_js = [("leaflet", js)]
    m.default_css = [("leaflet_css", css)]
    _MapTweaks().add_to(m)
    return m


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


def base_map(
    *,
    bounds: Sequence[float] | None = None,
    basemap: Basemap = "none",
    assets: str = "inline",
    lang: Lang = "zh",
    tianditu_key: str | None = None,
    location: Sequence[float] = (31.258, 121.39),
    zoom_start: int = 13,
) -> folium.Map:
    """Return an offline map, with an online basemap only if one is asked for.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` in degrees to fit the view to.
    basemap
        ``"none"`` (no tiles, no request leaves the app), ``"osm"``,
        ``"tianditu"`` (needs ``tianditu_key``) or ``"amap"`` (GCJ-02 tiles:
        draw GCJ-02 geometry on it).
    assets
        Where Leaflet comes from (:func:`leaflet_links`).

    Examples
    --------
    >>> m = base_map(bounds=(121.32, 31.22, 121.45, 31.30))
    >>> find_external_urls(m.get_root().render())
    []
    >>> len(find_external_urls(base_map(basemap="osm").get_root().render()))
    1
    """
    _text(lang)
    m = offline_map(location=location, zoom_start=zoom_start, assets=assets)
    for t in basemap_tiles(basemap, lang=lang, tianditu_key=tianditu_key):
        folium.TileLayer(
            t["url"],
            attr=t["attr"],
            name=t["name"],
            subdomains=t["subdomains"],
            max_zoom=t["max_zoom"],
            overlay=t["overlay"],
        ).add_to(m)
    if bounds is not None:
        _FitBounds(bounds).add_to(m)
    return m


def _focus_bounds(grids: gpd.GeoDataFrame, focus: str) -> tuple[float, ...]:
    for column in ("grid_id", "committee_id", "street_id"):
        rows = grids[grids[column].astype(str) == str(focus)]
        if len(rows):
            return tuple(float(b) for b in rows.total_bounds)
    raise ValueError(f"focus {focus!r} is not a grid, committee or street in these grids")


def grid_map(
    grids: gpd.GeoDataFrame,
    metrics: pd.DataFrame,
    *,
    metric: Metric = "coverage",
    scheme: Scheme = "fixed",
    k: int = 5,
    basemap: Basemap = "none",
    selected: str | None = None,
    lang: Lang = "zh",
    streets: gpd.GeoDataFrame | None = None,
    committees: gpd.GeoDataFrame | None = None,
    payload: Mapping[str, Any] | None = None,
    assets: str = "inline",
    tianditu_key: str | None = None,
    focus: str | None = None,
    thresholds: Sequence[float] | None = None,
    geometry_crs: Literal["wgs84", "gcj02"] = "wgs84",
) -> folium.Map:
    """Return the district map: every grid coloured by ``metric``, with outlines.

    One GeoJSON layer holds every grid; its tooltip shows grid, committee,
    street, households, coverage and open issues (escaped, in ``lang``); the
    legend is a Leaflet control built from text nodes. Street and committee
    outlines are separate layers in the layer switcher. Grids with no
    occupied households are hatched grey, never 0 %.

    Parameters
    ----------
    grids
        The grids (see :func:`geometry_payload`).
    metrics
        Indexed by grid_id (see :func:`style_payload`).
    metric
        ``"coverage"``, ``"open_issues_per_100"``, ``"overdue_issues"`` or
        ``"bivariate"`` (3×3 coverage × open issues per 100 households; the
        cell "low coverage and many issues" is darkest and outlined red).
    scheme, k, thresholds
        Classification (see :func:`classify`).
    basemap, assets, tianditu_key
        See :func:`base_map`. ``"amap"`` needs GCJ-02 geometry: pass grids
        converted with ``geo.crs`` and ``geometry_crs="gcj02"``.
    selected
        Grid id to outline in black.
    lang
        ``"zh"`` (default) or ``"en"``.
    streets, committees
        Optional outline geometry; by default the union of their grids.
    payload
        A cached :func:`geometry_payload` of ``grids`` (saves rebuilding it).
    focus
        A grid, committee or street id to zoom to (default: every grid).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> grids = gpd.GeoDataFrame(
    ...     {"grid_id": ["G1"], "committee_id": ["C1"], "street_id": ["S1"],
    ...      "name": ["<b>一号</b>"], "committee_name": ["一村"], "street_name": ["长寿路街道"]},
    ...     geometry=[box(121.40, 31.24, 121.41, 31.25)], crs="EPSG:4326")
    >>> metrics = pd.DataFrame({"households": [10], "coverage": [0.4], "open_issues": [0],
    ...                         "overdue_issues": [0]}, index=["G1"])
    >>> page = grid_map(grids, metrics, lang="en").get_root().render()
    >>> "<b>一号" in page, "\\\\u003cb\\\\u003e一号" in page
    (False, True)
    """
    if geometry_crs not in ("wgs84", "gcj02"):
        raise ValueError(f"geometry_crs must be 'wgs84' or 'gcj02', got {geometry_crs!r}")
    if (basemap == "amap") != (geometry_crs == "gcj02"):
        raise ValueError(
            "AMap tiles are GCJ-02 and every other basemap is WGS84: use basemap='amap' "
            "with geometry_crs='gcj02' (grids converted by geo.crs), and only then"
        )
    text = _text(lang)
    grids = _check_grids(grids)
    if payload is None:
        payload = geometry_payload(grids, streets=streets, committees=committees)
    elif list(payload["grids"]["id"]) != grids["grid_id"].astype(str).tolist():
        raise ValueError("payload was built from other grids (ids or their order differ)")
    style = style_payload(
        payload["grids"]["id"],
        metrics,
        metric=metric,
        scheme=scheme,
        k=k,
        lang=lang,
        selected=selected,
        geometry_hash=str(payload["hash"]),
        thresholds=thresholds,
    )
    bounds = _focus_bounds(grids, focus) if focus is not None else tuple(payload["bbox"])
    m = base_map(bounds=bounds, basemap=basemap, assets=assets, lang=lang, tianditu_key=tianditu_key)
    GridLayer(payload, style, name=plain(text["grids"])).add_to(m)
    OutlineLayer(
        payload,
        "committees",
        name=plain(text["committees"]),
        color="#4d4d4d",
        weight=0.9,
        dash_array="4 3",
    ).add_to(m)
    OutlineLayer(payload, "streets", name=plain(text["streets"]), color="#1a1a1a", weight=2.4).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


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
