"""``sibai import-paths FILE.osm``: bring in a footpath/road network for walking distances.

The file is an OpenStreetMap extract (``.osm`` XML or ``.osm.pbf``), read
offline through GDAL's OSM driver. Walkable ways are cut into segments and
replace any network imported before, in one transaction. From then on the
walk planner measures distances along the network (``docs/route.md``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any


def cmd_import_paths(args: argparse.Namespace) -> int:
    """Import the network and print a one-line summary."""
    import numpy as np
    from scipy.sparse.csgraph import connected_components

    from geo.crs import metric_xy
    from geo.paths import (
        MAX_SNAP_M,
        edges_from_lines,
        nearest_building_m,
        network_from_edges,
        read_osm_lines,
    )
    from geo.store import Scope, open_store
    from geo.store.walking import replace_path_edges

    lines = read_osm_lines(args.file)
    edges = edges_from_lines(lines)
    if edges.empty:
        raise ValueError(f"{args.file}: no walkable ways (highway=footway, path, residential, …)")
    net = network_from_edges(edges)
    _, labels = connected_components(net.graph, directed=False)
    largest = int(np.bincount(labels).max()) if labels.size else 0
    ways = edges["osm_id"].nunique()
    what = (
        f"{len(edges):,} segments of {ways:,} ways, {edges['length_m'].sum() / 1000:,.1f} km, "
        f"{net.nodes:,} nodes ({100 * largest / max(1, net.nodes):.0f} % in the largest connected part)"
    )
    with open_store(args.db) as store:
        # The CLI is an operator's tool on the server: it reads the whole district (docs/security.md).
        buildings = store.read_layer("buildings", scope=Scope.everything()) if store.has_schema() else None
        if buildings is not None and len(buildings):
            spots = buildings.geometry.representative_point()
            x, y = metric_xy(spots.x.to_numpy(float), spots.y.to_numpy(float))
            gap = nearest_building_m(net, np.column_stack([x, y]))
            if gap is not None and gap > MAX_SNAP_M:
                print(
                    f"warning: {args.file}: the network is {gap / 1000:,.1f} km from the nearest building, "
                    f"so no walk will use it (a building must be within {MAX_SNAP_M:.0f} m of a path): "
                    "is it the right area, and in WGS84 (not GCJ-02 or BD-09)?",
                    file=sys.stderr,
                )
        if args.dry_run:
            print(f"checked {args.file}: {what}; nothing written (--dry-run)")
            return 0
        replace_path_edges(store, edges)
    print(f"imported {args.file}: {what}")
    return 0


def add_commands(add: Callable[..., Any]) -> None:
    """Add ``import-paths`` to the ``sibai`` command."""
    p = add(
        "import-paths",
        "import a footpath/road network from an OpenStreetMap extract (.osm or .osm.pbf)",
        cmd_import_paths,
    )
    p.add_argument("file", metavar="FILE", help="an .osm (XML) or .osm.pbf file")
    p.add_argument("--dry-run", action="store_true", help="read and check the file, write nothing")
