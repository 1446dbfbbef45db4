"""Blind spots: adjacent low-coverage grids (sharing an edge, found in metres) merged into one area."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import METRIC
from geo.office.lagging import DEFAULT_BELOW


def grid_adjacency(
    geoms: Sequence[shapely.Geometry] | np.ndarray,
    *,
    min_shared_m: float = 5.0,
    gap_m: float = 0.5,
) -> np.ndarray:
    """Return the pairs ``(i, j)``, ``i < j``, of polygons that share an edge.

    Two polygons share an edge when at least ``min_shared_m`` of one's
    boundary lies within ``gap_m`` of the other's boundary: a common edge
    counts, a common corner does not, and slivers up to ``gap_m`` wide
    (digitising errors in imported grids) are bridged. Geometries must be in
    a metric CRS. Candidates come from an STRtree (``dwithin``), so the cost
    grows with the number of neighbours, not with the square of the grids.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> grid = [box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 100, 300, 200)]
    >>> grid_adjacency(grid).tolist()  # the third touches the second at one corner only
    [[0, 1]]
    """
    arr = np.asarray(geoms, dtype=object)
    if len(arr) < 2:
        return np.empty((0, 2), dtype=np.int64)
    tree = shapely.STRtree(arr)
    left, right = tree.query(arr, predicate="dwithin", distance=gap_m)
    keep = left < right
    left, right = left[keep], right[keep]
    if len(left) == 0:
        return np.empty((0, 2), dtype=np.int64)
    edges = shapely.boundary(arr)
    # Exactly shared edges first (a tiling's neighbours share their vertices), then the
    # remaining candidates with the tolerance: a buffer around one boundary.
    ok = shapely.length(shapely.intersection(edges[left], edges[right])) >= min_shared_m
    rest = np.flatnonzero(~ok)
    if gap_m > 0 and len(rest):
        near = shapely.buffer(edges[right[rest]], gap_m, quad_segs=2)
        shared = shapely.length(shapely.intersection(edges[left[rest]], near))
        # A corner contact still leaves up to 2 * gap_m of boundary inside the buffer.
        ok[rest] = shared >= max(min_shared_m, 2.5 * gap_m)
    pairs = np.stack([left[ok], right[ok]], axis=1).astype(np.int64)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def _components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Label connected components of ``n`` nodes joined by ``pairs`` (smallest member first)."""
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in pairs.tolist():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.asarray([find(i) for i in range(n)], dtype=np.int64)


def _joined(values: Iterable[object]) -> str:
    seen: dict[str, None] = {}
    for v in values:
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            seen.setdefault(str(v), None)
    return "、".join(seen)


_SPOT_COLUMNS = [
    "grids",
    "grid_ids",
    "grid_names",
    "committee_names",
    "street_names",
    "households",
    "visited",
    "unvisited",
    "coverage",
    "residents",
    "residents_covered",
    "area_km2",
    "_first",
]
"""The columns of a spot while it is built (``_first``: its first grid id, for a stable order)."""


def blind_spots(
    grids: gpd.GeoDataFrame,
    metrics: pd.DataFrame,
    *,
    below: float = DEFAULT_BELOW,
    min_grids: int = 1,
    min_shared_m: float = 5.0,
    gap_m: float = 0.5,
    metric_crs: str = METRIC,
) -> gpd.GeoDataFrame:
    """Merge adjacent low-coverage grids into blind spots, largest gap first.

    A grid *qualifies* when it has occupied households and coverage below
    ``below``. Qualifying grids that share an edge (:func:`grid_adjacency`,
    in ``metric_crs``) belong to the same blind spot; a spot is the union of
    its grids' polygons. Every qualifying grid is in exactly one spot, and no
    two spots share an edge.

    Parameters
    ----------
    grids
        ``grid_id`` and polygons (any CRS; EPSG:4326 in the store), optionally
        ``name, committee_name, street_name``.
    metrics
        Coverage per grid indexed by grid id: ``households, visited, coverage``
        and, if present, ``residents, residents_covered``.
    below
        Coverage threshold (share).
    min_grids
        Leave out spots of fewer grids (1 keeps single lagging grids).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per spot, in the grids' CRS: ``spot, grids, grid_ids,
        grid_names, committee_names, street_names, households, visited,
        unvisited, coverage, residents, residents_covered, area_km2`` and the
        merged polygon. Ordered by households not met (most first), then
        households, then the first grid id; ``spot`` numbers them 1, 2, ...

    Examples
    --------
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"grid_id": ["A", "B", "C"]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(300, 0, 400, 100)],
    ...     crs="EPSG:32651")
    >>> m = pd.DataFrame({"households": [10, 10, 10], "visited": [1, 2, 3],
    ...                   "coverage": [0.1, 0.2, 0.3]}, index=["A", "B", "C"])
    >>> blind_spots(g, m)[["spot", "grids", "grid_ids", "households", "unvisited", "area_km2"]]
       spot  grids grid_ids  households  unvisited  area_km2
    0     1      2     A、B          20         17      0.02
    1     2      1        C          10          7      0.01
    """
    if not 0.0 <= below <= 1.0:
        raise ValueError(f"the coverage threshold must be between 0 and 1, got {below}")
    if grids.crs is None:
        raise ValueError("grids have no CRS; expected EPSG:4326 (or any CRS, declared)")
    ids = grids["grid_id"].astype(str).to_numpy(dtype=object)
    m = metrics.reindex(ids)
    households = m["households"].fillna(0).to_numpy()
    cov = m["coverage"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        low = (households > 0) & (cov < below)
    sel = np.flatnonzero(low)
    geoms = grids.geometry.to_numpy()[sel]
    metric = gpd.GeoSeries(geoms, crs=grids.crs).to_crs(metric_crs).to_numpy()
    pairs = grid_adjacency(metric, min_shared_m=min_shared_m, gap_m=gap_m)
    labels = _components(len(sel), pairs)
    cols = ["households", "visited", "residents", "residents_covered"]
    sums = {c: (m[c].fillna(0).to_numpy()[sel] if c in m else np.zeros(len(sel))) for c in cols}
    area = shapely.area(metric) if len(metric) else np.zeros(0)
    name_of = grids["name"].to_numpy(dtype=object) if "name" in grids else ids
    cname = grids["committee_name"].to_numpy(dtype=object) if "committee_name" in grids else None
    sname = grids["street_name"].to_numpy(dtype=object) if "street_name" in grids else None
    rows: list[dict[str, Any]] = []
    spot_geoms: list[shapely.Geometry] = []
    for root in np.unique(labels):
        members = np.flatnonzero(labels == root)
        if len(members) < min_grids:
            continue
        # Order grids inside a spot by id, so the listing is stable.
        members = members[np.argsort(ids[sel[members]], kind="stable")]
        rows_idx = sel[members]
        hh = int(sums["households"][members].sum())
        vis = int(sums["visited"][members].sum())
        rows.append(
            {
                "grids": len(members),
                "grid_ids": "、".join(ids[rows_idx].tolist()),
                "grid_names": _joined(name_of[rows_idx]),
                "committee_names": _joined(cname[rows_idx]) if cname is not None else "",
                "street_names": _joined(sname[rows_idx]) if sname is not None else "",
                "households": hh,
                "visited": vis,
                "unvisited": hh - vis,
                "coverage": vis / hh if hh else float("nan"),
                "residents": int(sums["residents"][members].sum()),
                "residents_covered": int(sums["residents_covered"][members].sum()),
                "area_km2": round(float(area[members].sum()) / 1e6, 4),
                "_first": ids[rows_idx[0]],
            }
        )
        spot_geoms.append(shapely.union_all(geoms[members]))
    return _spots_frame(rows, spot_geoms, grids.crs)


def _spots_frame(
    rows: list[dict[str, Any]], spot_geoms: list[shapely.Geometry], crs: Any
) -> gpd.GeoDataFrame:
    """Return the spots as a frame: most households not met first, numbered from 1."""
    frame = pd.DataFrame(rows, columns=_SPOT_COLUMNS)
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(spot_geoms, crs=crs), crs=crs)
    out = out.sort_values(
        ["unvisited", "households", "_first"], ascending=[False, False, True], kind="stable"
    ).drop(columns="_first")
    out.insert(0, "spot", np.arange(1, len(out) + 1))
    for c in ("grids", "households", "visited", "unvisited", "residents", "residents_covered"):
        out[c] = out[c].astype("int64")
    return out.reset_index(drop=True)
