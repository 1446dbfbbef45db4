"""Walking distances along a footpath/road network imported from an OpenStreetMap extract.

Fetch, then build with pure functions (as osmnx's ``graph_from_xml`` does):

* :func:`read_osm_lines` reads the ways of an ``.osm`` (XML) or ``.osm.pbf``
  file through GDAL's OSM driver (pyogrio), offline;
* :func:`edges_from_lines` keeps the ways a person may walk along and cuts
  them into straight segments with their length in metres (EPSG:32651) —
  the rows the store keeps (``geo.store.walking.path_edges``);
* :func:`network_from_edges` joins segments where their end points coincide
  (OSM ways share nodes) into a graph (a SciPy sparse matrix);
* :func:`distance_matrix_from_network` gives the walking metres between
  points: each point walks straight to its nearest network node, then along
  the shortest path (Dijkstra, ``scipy.sparse.csgraph``).

Pairs the network cannot join (a point farther than ``max_snap_m`` from any
node, or parts of the network that do not connect) fall back to the straight
line x ``detour_factor``, the planner's default without a network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.crs import metric_xy

__all__ = [
    "NOT_WALKABLE",
    "PathNetwork",
    "distance_matrix_from_network",
    "edges_from_lines",
    "network_from_edges",
    "osm_xml_from_ways",
    "read_osm_lines",
    "street_grid_ways",
]

NOT_WALKABLE = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "construction",
        "proposed",
        "raceway",
        "bus_guideway",
    }
)
"""OSM ``highway`` values nobody walks along (every other ``highway`` way is kept,
unless it is tagged ``foot=no`` or ``access=private``/``no`` without ``foot=yes``)."""

_QUOTE = {'"': "&quot;"}

NODE_DIGITS = 7
"""End points are the same node when their degrees agree to this many decimals (OSM stores 7)."""


def read_osm_lines(path: str | Path) -> gpd.GeoDataFrame:
    """Read the ways (lines) of an OpenStreetMap ``.osm`` or ``.osm.pbf`` file, in EPSG:4326.

    Columns ``osm_id``, ``name``, ``highway``, ``other_tags`` (GDAL's
    ``"key"=>"value"`` text) and ``geometry`` (LineStrings).

    Raises
    ------
    ValueError
        The file is missing, not an OSM file, or holds no ways.
    """
    import pyogrio

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{p}: no such file")
    try:
        lines = pyogrio.read_dataframe(p, layer="lines", columns=["osm_id", "name", "highway", "other_tags"])
    except Exception as exc:  # pyogrio raises several DataSource/Field errors for a bad file
        raise ValueError(f"{p}: not an OpenStreetMap extract (.osm or .osm.pbf): {exc}") from None
    if lines.empty:
        raise ValueError(f"{p}: holds no ways (no lines to walk along)")
    return lines.set_crs("EPSG:4326", allow_override=True)


def _tag(other_tags: pd.Series, key: str) -> pd.Series:
    """Return the value of ``key`` in GDAL's ``"k"=>"v",...`` text (``""`` when absent)."""
    return other_tags.fillna("").astype(str).str.extract(rf'"{key}"=>"([^"]*)"', expand=False).fillna("")


def edges_from_lines(lines: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the walkable segments of ``lines``: one row per pair of consecutive points.

    Columns ``lon1, lat1, lon2, lat2, length_m`` (metres in EPSG:32651),
    ``highway``, ``name``, ``osm_id``. Ways without ``highway``, with a
    value in :data:`NOT_WALKABLE`, tagged ``foot=no``, or private without
    ``foot=yes`` are left out.

    Examples
    --------
    >>> lines = gpd.GeoDataFrame({"osm_id": ["1", "2"], "name": ["", ""],
    ...     "highway": ["footway", "motorway"], "other_tags": [None, None]},
    ...     geometry=[shapely.LineString([(121.4, 31.24), (121.401, 31.24), (121.401, 31.241)]),
    ...               shapely.LineString([(121.4, 31.24), (121.4, 31.25)])], crs="EPSG:4326")
    >>> edges = edges_from_lines(lines)
    >>> edges[["osm_id", "highway"]].values.tolist()
    [['1', 'footway'], ['1', 'footway']]
    >>> edges["length_m"].round(0).tolist()
    [95.0, 111.0]
    """
    highway = lines["highway"].fillna("").astype(str)
    other = lines["other_tags"] if "other_tags" in lines.columns else pd.Series("", index=lines.index)
    foot, access = _tag(other, "foot"), _tag(other, "access")
    keep = (
        (highway != "")
        & ~highway.isin(NOT_WALKABLE)
        & (foot != "no")
        & ~(access.isin(["no", "private"]) & ~foot.isin(["yes", "designated", "permissive"]))
    )
    kept = lines.loc[keep.to_numpy()]
    kept = kept[kept.geometry.notna() & ~kept.geometry.is_empty]
    geoms = shapely.get_parts(kept.geometry.to_numpy())
    # get_parts also splits MultiLineStrings; keep each part's way attributes.
    owner = np.repeat(np.arange(len(kept)), shapely.get_num_geometries(kept.geometry.to_numpy()))
    coords, line_of = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) < 2:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in ("lon1", "lat1", "lon2", "lat2", "length_m")})
    same = line_of[:-1] == line_of[1:]
    a, b = coords[:-1][same], coords[1:][same]
    way = owner[line_of[:-1][same]]
    x1, y1 = metric_xy(a[:, 0], a[:, 1])
    x2, y2 = metric_xy(b[:, 0], b[:, 1])
    attrs = kept.iloc[way]
    out = pd.DataFrame(
        {
            "lon1": a[:, 0],
            "lat1": a[:, 1],
            "lon2": b[:, 0],
            "lat2": b[:, 1],
            "length_m": np.hypot(x2 - x1, y2 - y1),
            "highway": attrs["highway"].fillna("").astype(str).to_numpy(),
            "name": attrs["name"].fillna("").astype(str).to_numpy(),
            "osm_id": attrs["osm_id"].fillna("").astype(str).to_numpy(),
        }
    )
    return out.loc[out["length_m"] > 0].reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class PathNetwork:
    """A walking network: node points in metres (EPSG:32651) and a symmetric sparse graph of metres."""

    xy: np.ndarray
    graph: csr_matrix

    @property
    def nodes(self) -> int:
        """Return the number of nodes."""
        return len(self.xy)


def network_from_edges(edges: pd.DataFrame) -> PathNetwork:
    """Build the graph of ``edges`` (columns ``lon1, lat1, lon2, lat2, length_m``).

    End points equal to :data:`NODE_DIGITS` decimals are one node; of two
    segments joining the same nodes the shorter counts.

    Examples
    --------
    >>> e = pd.DataFrame({"lon1": [121.4, 121.401], "lat1": [31.24, 31.24],
    ...     "lon2": [121.401, 121.401], "lat2": [31.24, 31.241], "length_m": [95.0, 111.0]})
    >>> net = network_from_edges(e)
    >>> net.nodes, float(net.graph.sum())
    (3, 412.0)
    """
    if edges.empty:
        return PathNetwork(np.zeros((0, 2)), csr_matrix((0, 0)))
    ends = np.vstack(
        [edges[["lon1", "lat1"]].to_numpy(float), edges[["lon2", "lat2"]].to_numpy(float)]
    ).round(NODE_DIGITS)
    keys, inverse = np.unique(ends, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    m = len(edges)
    u, v = inverse[:m], inverse[m:]
    length = edges["length_m"].to_numpy(float)
    ok = u != v
    u, v, length = u[ok], v[ok], length[ok]
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    # Keep the shortest of parallel segments: sort by length, first of each pair wins.
    order = np.lexsort((length, hi, lo))
    lo, hi, length = lo[order], hi[order], length[order]
    first = np.ones(len(lo), dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, length = lo[first], hi[first], length[first]
    n = len(keys)
    graph = coo_matrix(
        (np.concatenate([length, length]), (np.concatenate([lo, hi]), np.concatenate([hi, lo]))), shape=(n, n)
    ).tocsr()
    x, y = metric_xy(keys[:, 0], keys[:, 1])
    return PathNetwork(np.column_stack([x, y]), graph)


MAX_SNAP_M = 150.0
"""A point farther than this from every node of the network is not walked to along it."""


def nearest_building_m(network: PathNetwork, buildings_xy: np.ndarray) -> float | None:
    """Return the metres between the network and the building nearest to it (None: no nodes or buildings).

    A network farther than ``max_snap_m`` of :func:`distance_matrix_from_network`
    from every building is never walked on: the wrong area, or coordinates in
    another system.

    >>> net = PathNetwork(np.array([[0.0, 0.0], [100.0, 0.0]]), csr_matrix((2, 2)))
    >>> nearest_building_m(net, np.array([[100.0, 3000.0], [5000.0, 0.0]]))
    3000.0
    """
    if not network.nodes or not len(buildings_xy):
        return None
    dist, _ = cKDTree(network.xy).query(np.asarray(buildings_xy, dtype=float))
    return float(np.min(dist))


def distance_matrix_from_network(
    network: PathNetwork,
    points: pd.DataFrame,
    *,
    detour_factor: float = 1.3,
    max_snap_m: float = MAX_SNAP_M,
) -> pd.DataFrame:
    """Return walking metres between ``points`` (index: labels; columns ``x``, ``y`` in metres).

    Distance = straight walk to the nearest node + shortest path + straight
    walk from the nearest node to the other point, never less than the
    straight line. Pairs the network cannot join (a point more than
    ``max_snap_m`` from every node, or nodes in unconnected parts) get the
    straight line x ``detour_factor``. The result is a square frame labelled
    by ``points.index``, with zeros on the diagonal.

    Examples
    --------
    An L-shaped footpath (0,0)-(100,0)-(100,100); the points sit 10 m off its ends:

    >>> net = PathNetwork(np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 100.0]]),
    ...     csr_matrix(([100.0, 100.0, 100.0, 100.0], ([0, 1, 1, 2], [1, 0, 2, 1])), shape=(3, 3)))
    >>> pts = pd.DataFrame({"x": [-10.0, 110.0, 5000.0], "y": [0.0, 100.0, 0.0]}, index=["a", "b", "far"])
    >>> distance_matrix_from_network(net, pts, detour_factor=1.0).round(1)
            a       b     far
    a     0.0   220.0  5010.0
    b   220.0     0.0  4891.0
    far  5010.0  4891.0     0.0
    """
    xy = points[["x", "y"]].to_numpy(float)
    labels = list(points.index)
    diff = xy[:, None, :] - xy[None, :, :]
    straight = np.hypot(diff[..., 0], diff[..., 1])
    out = straight * detour_factor
    if network.nodes and len(xy):
        snap_m, node = cKDTree(network.xy).query(xy)
        near = snap_m <= max_snap_m
        if near.any():
            sources, where = np.unique(node[near], return_inverse=True)
            along = dijkstra(network.graph, directed=False, indices=sources)[:, sources]
            idx = np.flatnonzero(near)
            path = along[np.ix_(where, where)] + snap_m[idx][:, None] + snap_m[idx][None, :]
            path = np.maximum(path, straight[np.ix_(idx, idx)])
            sub = out[np.ix_(idx, idx)]
            joined = np.isfinite(path)
            sub[joined] = path[joined]
            out[np.ix_(idx, idx)] = sub
    np.fill_diagonal(out, 0.0)
    return pd.DataFrame(out, index=labels, columns=labels)


def osm_xml_from_ways(ways: Sequence[tuple[Sequence[tuple[float, float]], Mapping[str, str]]]) -> str:
    """Return OpenStreetMap XML for ``ways``: each a list of (lon, lat) points and its tags.

    Points equal to 7 decimals become one shared node, so ways that touch are
    joined, as in real OSM data. For tests, demos and benchmarks: generated
    data rather than a committed file.

    Examples
    --------
    >>> xml = osm_xml_from_ways([([(121.4, 31.24), (121.401, 31.24)], {"highway": "footway"})])
    >>> xml.count("<node "), xml.count("<way ")
    (2, 1)
    """
    node_ids: dict[tuple[float, float], int] = {}
    nodes: list[str] = []
    body: list[str] = []
    for w, (points, tags) in enumerate(ways, start=1):
        refs = []
        for lon, lat in points:
            key = (round(float(lon), NODE_DIGITS), round(float(lat), NODE_DIGITS))
            if key not in node_ids:
                node_ids[key] = len(node_ids) + 1
                nodes.append(f' <node id="{node_ids[key]}" lat="{key[1]:.7f}" lon="{key[0]:.7f}"/>')
            refs.append(f'<nd ref="{node_ids[key]}"/>')
        tag_xml = "".join(f'<tag k="{escape(k, _QUOTE)}" v="{escape(v, _QUOTE)}"/>' for k, v in tags.items())
        body.append(f' <way id="{w}">{"".join(refs)}{tag_xml}</way>')
    return (
        "\n".join(
            [
                '<?xml version="1.0" encoding="UTF-8"?>',
                '<osm version="0.6" generator="sibai">',
                *nodes,
                *body,
                "</osm>",
            ]
        )
        + "\n"
    )


def street_grid_ways(
    x_range: tuple[float, float], y_range: tuple[float, float], *, spacing_m: float = 80.0
) -> list[tuple[list[tuple[float, float]], dict[str, str]]]:
    """Return a synthetic footpath grid over a metric box (EPSG:32651) as ways of (lon, lat) points.

    Streets every ``spacing_m`` metres both ways, cut at every crossing (so
    they share nodes): a stand-in for an estate's footpaths in tests, the demo
    and the benchmark.

    Examples
    --------
    >>> ways = street_grid_ways((0.0, 100.0), (0.0, 100.0), spacing_m=100.0)
    >>> len(ways), ways[0][1]["highway"]
    (4, 'footway')
    """
    from geo.crs import lonlat_from_metric

    xs = np.arange(x_range[0], x_range[1] + 1e-9, spacing_m)
    ys = np.arange(y_range[0], y_range[1] + 1e-9, spacing_m)
    out: list[tuple[list[tuple[float, float]], dict[str, str]]] = []
    for lines in ([[(x, y) for x in xs] for y in ys], [[(x, y) for y in ys] for x in xs]):
        for line in lines:
            lon, lat = lonlat_from_metric([p[0] for p in line], [p[1] for p in line])
            out.append(
                ([(float(a), float(b)) for a, b in zip(lon, lat, strict=True)], {"highway": "footway"})
            )
    return out
