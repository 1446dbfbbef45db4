"""Build and render the product's folium maps: this checkout beside another one, alternately.

Two maps of a built district: 盲区与周查's blind-spot map of the whole
district (2,000 grids, two spots) and 网格's buildings map of one grid. For
each, the CPU time (``time.process_time``) of building the folium map and of
rendering its page, median of ``--reps`` in one process, for this checkout and
for ``--baseline`` (e.g. a ``git worktree`` of main), each in a subprocess with
its own code on ``PYTHONPATH``, alternating which goes first, ``--runs`` times.

Usage::

    python bench/bench_folium.py --db /tmp/bench/full.gpkg --baseline /tmp/base

Figures and their reading: docs/benchmarks.md, "Rendering folium maps".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs in the checkout under test: only the builders' public signatures, which both sides share.
MEASURE = """
import json, statistics, sys, time
import geopandas as gpd, pandas as pd
from shapely.geometry import box
from geo.maps import blind_spot_map, building_map
from geo.store import Scope, open_store

db, reps = sys.argv[1], int(sys.argv[2])
everything = Scope.everything()
with open_store(db) as store:
    grids = store.read_layer("grids", scope=everything)
    committees = store.read_layer("committees", scope=everything)
    grid_id = str(grids["grid_id"].iloc[len(grids) // 2])
    one_grid = Scope.of(grids=[grid_id])
    buildings = store.read_layer("buildings", scope=one_grid, columns=["building_id", "name"])
names = pd.DataFrame(committees.drop(columns="geometry"))[["committee_id", "street_id", "name"]]
grids = grids.merge(names.rename(columns={"name": "committee_name"}), on="committee_id")
grids["street_name"] = grids["street_id"]
figures = {"households": 100, "visited": 50, "coverage": 0.5, "open_issues": 1, "overdue_issues": 0}
by_grid = pd.DataFrame(figures, index=pd.Index(grids["grid_id"], name="grid_id"))
by_building = pd.DataFrame(figures, index=pd.Index(buildings["building_id"], name="building_id"))
x0, y0, x1, y1 = grids.total_bounds
spots = gpd.GeoDataFrame(
    {"spot": [1, 2], "grids": 1, "households": 50, "unvisited": 40},
    geometry=[box(x0, y0, x0 + 0.01, y0 + 0.01), box(x1 - 0.01, y1 - 0.01, x1, y1)],
    crs="EPSG:4326",
)
grid = grids[grids["grid_id"] == grid_id]
maps = {
    "blind-spot map, 2,000 grids": lambda: blind_spot_map(grids, by_grid, spots),
    f"buildings map, {len(buildings)} buildings": lambda: building_map(buildings, by_building, grid=grid),
}
out = {}
for name, build in maps.items():
    built, rendered = [], []
    for _ in range(reps):
        t0 = time.process_time()
        m = build()
        t1 = time.process_time()
        m.get_root().render()
        built.append(t1 - t0)
        rendered.append(time.process_time() - t1)
    out[name] = [statistics.median(built) * 1000, statistics.median(rendered) * 1000]
print(json.dumps(out))
"""


def measure(root: Path, db: Path, reps: int) -> dict[str, list[float]]:
    """Run :data:`MEASURE` with ``root``'s code; return ``{map: [build ms, render ms]}``."""
    env = dict(os.environ, PYTHONPATH=str(root))
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(db), str(reps)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a built district (sibai demo)")
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout to compare with")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reps", type=int, default=5, help="maps built and rendered per run")
    args = parser.parse_args()
    sides = {"baseline": args.baseline.resolve(), "this checkout": ROOT}
    got: dict[str, dict[str, list[list[float]]]] = {side: {} for side in sides}
    print(f"{args.db}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    for run in range(args.runs):
        for side in list(sides) if run % 2 == 0 else list(sides)[::-1]:
            for name, figures in measure(sides[side], args.db, args.reps).items():
                got[side].setdefault(name, []).append(figures)
                build, render = figures
                print(f"run {run + 1} {side:<13} {name}: build {build:6.1f} ms, render {render:6.1f} ms")
    print(f"\nmedians of {args.runs} runs (each the median of {args.reps} maps), CPU ms:")
    print("| map | side | build | render |\n| --- | --- | --- | --- |")
    for name in got["baseline"]:
        for side in sides:
            build = statistics.median(f[0] for f in got[side][name])
            render = statistics.median(f[1] for f in got[side][name])
            print(f"| {name} | {side} | {build:.1f} | {render:.1f} |")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
