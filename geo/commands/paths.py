"""``sibai import-paths FILE.osm``: bring in a footpath/road network for walking distances.

The file is an OpenStreetMap extract (``.osm`` XML or ``.osm.pbf``), read
offline through GDAL's OSM driver. Walkable ways are cut into segments and
replace any network imported before, in one transaction. From then on the
walk planner measures distances along the network (``docs/route.md``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def cmd_import_paths(args: argparse.Namespace) -> int:
    """Import the network and print a one-line summary."""
    import numpy as np
    from scipy.sparse.csgraph import connected_components

    from geo.paths import edges_from_lines, network_from_edges, read_osm_lines
    from geo.store import open_store
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
    if args.dry_run:
        print(f"checked {args.file}: {what}; nothing written (--dry-run)")
        return 0
    with open_store(args.db) as store:
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
