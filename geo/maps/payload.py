"""The grids as a compact geometry payload, sent once: shared-edge simplification, 1 m integers, deltas."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any, Final, Literal

import geopandas as gpd
import numpy as np
import shapely

from geo.settings import Settings

_GRID_COLUMNS: Final = (
    "grid_id",
    "committee_id",
    "street_id",
    "name",
    "committee_name",
    "street_name",
)


# Projected CRS for metric work (settings metric_crs, UTM zone 51N for Shanghai), read once per process.
_METRIC_CRS: Final = Settings.from_env().metric_crs


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
