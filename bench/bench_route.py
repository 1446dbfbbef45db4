"""Benchmark walk planning (geo/route.py): speed and quality against simple baselines.

Run ``python bench/bench_route.py`` (about 2 minutes) or ``--quick`` (long
runs of 5 s instead of 30 s, about 1 minute). Not a test: it prints figures, each beside
its baseline and target, for ``docs/route.md``.

Instances are random but seeded (``numpy.random.default_rng(seed)``):

* **routing**: 80 buildings with one household each in a 600 m x 600 m area,
  30 s per stop (an inspection round), so every stop fits in 13:00-15:30 and
  the walk length is the only thing that differs between methods;
* **330**: the same 80 buildings holding 1-6 households each, 8 minutes per
  household, 13:00-15:30: the solver must choose as well as order;
* **team**: ~1,600 households in 60 buildings over about eight grids
  (1.2 km x 1.0 km), seven workers of whom one is on duty at the office;
  once with needs spread evenly, once with the neediest households in one
  corner. The baseline "sweep" cuts the buildings into six equal slices by
  bearing from the office and plans each slice with the same planner;
* **committee**: team mode end to end as the page runs it
  (``geo.walks.plan_team_walk``: priority, distances, split, walks) on a
  synthetic committee of 8 grids, 64 buildings, ~1,700 households and 7
  workers, with straight-line distances and with a generated footpath grid.

``--only routing|330|team|committee`` runs one part.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.crs import metric_xy
from geo.paths import edges_from_lines, network_from_edges, street_grid_ways
from geo.route import (
    TeamPlan,
    Walk,
    nearest_neighbour_tour,
    plan_walk,
    split_among_workers,
    tour_length,
)
from geo.walks import WalkInputs, plan_team_walk

OFFICE = (300.0, 0.0)
"""The committee office: middle of the south edge of the area."""


def stops_from_seed(
    seed: int, *, n_buildings: int, households: tuple[int, int], size: tuple[float, float]
) -> pd.DataFrame:
    """Return seeded candidate households: buildings uniform in the area, priorities 0-200."""
    rng = np.random.default_rng(seed)
    bx = rng.uniform(0, size[0], n_buildings)
    by = rng.uniform(0, size[1], n_buildings)
    counts = rng.integers(households[0], households[1] + 1, n_buildings)
    b = np.repeat(np.arange(n_buildings), counts)
    n = len(b)
    return pd.DataFrame(
        {
            "household_id": [f"H{i:05d}" for i in range(n)],
            "building_id": [f"B{j:03d}" for j in b],
            "x": bx[b],
            "y": by[b],
            "priority": np.round(rng.uniform(0, 200, n), 1),
        }
    )


def building_xy(walk: Walk, stops: pd.DataFrame) -> np.ndarray:
    """Return the points of the walk's buildings in visiting order."""
    pts = stops.groupby("building_id")[["x", "y"]].first()
    return pts.loc[walk.stops["building_id"]].to_numpy(float)


def timed(fn, runs: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    """Return the median wall time of ``runs`` calls and the last result."""
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def line(label: str, value: str, baseline: str, target: str) -> None:
    print(f"  {label:<38} {value:>14}   baseline {baseline:<22} target {target}")


def bench_routing(runs: int, long_s: float, seed: int, *, seeds: int = 10, long_seeds: int = 3) -> None:
    stops = stops_from_seed(seed, n_buildings=80, households=(1, 1), size=(600, 600))
    opts = {"start_xy": OFFICE, "minutes_per_visit": 0.5}
    t, walk = timed(lambda: plan_walk(stops, **opts), runs)
    assert isinstance(walk, Walk)
    xy = building_xy(walk, stops)
    mine = tour_length(xy, range(len(xy)), OFFICE)
    nn = tour_length(xy, nearest_neighbour_tour(xy, OFFICE), OFFICE)
    long = plan_walk(stops, **opts, time_limit_s=long_s)
    lxy = building_xy(long, stops)
    long_len = tour_length(lxy, range(len(lxy)), OFFICE)
    print(f"routing: 80 stops, 1 household each, 30 s per stop, seed {seed}")
    line("stops visited (1 s)", f"{len(xy)}", f"{len(lxy)} ({long_s:.0f} s)", "all 80")
    line("planning time, median", f"{t:.2f} s", f"{runs} runs", "<= 1 s")
    line(
        "walk length (straight line)",
        f"{mine:.0f} m",
        f"NN {nn:.0f} m",
        f">= 15 % shorter: {100 * (1 - mine / nn):.1f} %",
    )
    line(
        f"vs same solver {long_s:.0f} s",
        f"{mine:.0f} m",
        f"{long_len:.0f} m",
        f"within 2 %: {100 * (mine / long_len - 1):+.2f} %",
    )
    line(
        f"  ({long_s:.0f} s walk vs NN)",
        f"{long_len:.0f} m",
        f"NN {nn:.0f} m",
        f"{100 * (1 - long_len / nn):.1f} % shorter",
    )
    # The comparison is like for like: the same stops (those of the 1 s walk),
    # the same start (the office), both open paths ending at the last door,
    # both measured as straight lines (the solver optimises straight x 1.3,
    # which orders stops the same way).
    gains, gaps = [], []
    for s in range(seed, seed + seeds):
        other = stops_from_seed(s, n_buildings=80, households=(1, 1), size=(600, 600))
        oxy = building_xy(plan_walk(other, **opts), other)
        onn = tour_length(oxy, nearest_neighbour_tour(oxy, OFFICE), OFFICE)
        mine_s = tour_length(oxy, range(len(oxy)), OFFICE)
        gains.append(100 * (1 - mine_s / onn))
        if s < seed + long_seeds:
            lxy = building_xy(plan_walk(other, **opts, time_limit_s=long_s), other)
            gaps.append(100 * (mine_s / tour_length(lxy, range(len(lxy)), OFFICE) - 1))
    line(
        f"  seeds {seed}-{seed + seeds - 1}: shorter than NN",
        f"{statistics.median(gains):.1f} % median",
        f"range {min(gains):.1f}-{max(gains):.1f} %",
        f">= 15 %: met on {sum(g >= 15 for g in gains)} of {len(gains)}",
    )
    line(
        f"  seeds {seed}-{seed + long_seeds - 1}: vs {long_s:.0f} s",
        f"{statistics.median(gaps):+.2f} % median",
        f"worst {max(gaps):+.2f} %",
        "within 2 %",
    )


def bench_330(runs: int, long_s: float, seed: int) -> None:
    stops = stops_from_seed(seed, n_buildings=80, households=(1, 6), size=(600, 600))
    t, walk = timed(lambda: plan_walk(stops, start_xy=OFFICE), runs)
    assert isinstance(walk, Walk)
    long = plan_walk(stops, start_xy=OFFICE, time_limit_s=long_s)
    xy = building_xy(walk, stops)
    mine = tour_length(xy, range(len(xy)), OFFICE)
    nn = tour_length(xy, nearest_neighbour_tour(xy, OFFICE), OFFICE)
    top = stops["priority"].nlargest(len(walk.household_ids)).sum()
    print(f"330 window: 80 stops, {len(stops)} households, 8 min each, 13:00-15:30, seed {seed}")
    line("planning time, median", f"{t:.2f} s", f"{runs} runs", "<= 1 s")
    line(
        "households / buildings visited",
        f"{len(walk.household_ids)} / {len(walk.stops)}",
        f"{len(long.household_ids)} / {len(long.stops)} ({long_s:.0f} s)",
        "",
    )
    line(
        "priority collected",
        f"{walk.priority_total:.0f}",
        f"{long.priority_total:.0f} ({long_s:.0f} s)",
        f"within 2 %: {100 * (walk.priority_total / long.priority_total - 1):+.2f} %",
    )
    line(
        "  (same count, best anywhere)",
        f"{walk.priority_total:.0f}",
        f"{top:.0f} (ignores walking)",
        "upper bound",
    )
    line(
        "walk length of chosen stops",
        f"{mine:.0f} m",
        f"NN {nn:.0f} m",
        f">= 15 % shorter: {100 * (1 - mine / nn):.1f} %",
    )
    line("finish", walk.finish, f"{long.finish} ({long_s:.0f} s)", "<= 15:30")


def sweep_baseline(
    stops: pd.DataFrame, workers: int, office: tuple[float, float], budget_s: float
) -> list[Walk]:
    """Return walks of the naive split: buildings by bearing from the office, equal slices."""
    per_b = stops.groupby("building_id")[["x", "y"]].first()
    bearing = np.arctan2(per_b["y"] - office[1], per_b["x"] - office[0]).sort_values()
    sizes = stops.groupby("building_id").size().loc[bearing.index]
    slice_of = np.minimum((sizes.cumsum() - 1) * workers // sizes.sum(), workers - 1)
    return [
        plan_walk(
            stops[stops["building_id"].isin(slice_of.index[slice_of == k])],
            start_xy=office,
            time_limit_s=budget_s / workers,
        )
        for k in range(workers)
    ]


def bench_team(runs: int, seed: int, *, clustered_needs: bool) -> None:
    stops = stops_from_seed(seed, n_buildings=60, households=(15, 38), size=(1200, 1000))
    if clustered_needs:
        # An old estate (老公房) in the west third: its households need visits most.
        rng = np.random.default_rng(seed)
        west = stops["x"] < 400
        stops["priority"] = np.round(rng.uniform(0, 100, len(stops)) + 100 * west, 1)
    workers = pd.DataFrame({"worker_id": [f"W{i}" for i in range(1, 8)], "on_duty": [True] + [False] * 6})
    office = (600.0, 0.0)
    t, plan = timed(lambda: split_among_workers(stops, workers, start_xy=office), runs)
    assert isinstance(plan, TeamPlan)
    summary = plan.summary()
    sweep = sweep_baseline(stops, 6, office, budget_s=t)
    needs = "needs clustered in the west third" if clustered_needs else "needs spread evenly"
    print(f"team: {len(stops)} households in 60 buildings, 6 walking + 1 on duty; {needs}")
    line("planning time, median", f"{t:.2f} s", f"{runs} runs", "<= 3 s")
    walking = summary.loc[~summary["on_duty"]]
    busy = walking["visit_min"] + walking["walk_min"]
    line(
        "households visited",
        f"{int(walking['households'].sum())}",
        f"sweep {sum(len(w.household_ids) for w in sweep)}; {6 * 150 // 8} if no walking",
        "",
    )
    mine = sum(w.priority_total for w in plan.walks.values())
    line(
        "priority collected",
        f"{mine:.0f}",
        f"sweep {sum(w.priority_total for w in sweep):.0f}",
        "higher is better",
    )
    line(
        "walking minutes, total",
        f"{walking['walk_min'].sum():.0f}",
        f"sweep {sum(w.walk_min for w in sweep):.0f}",
        "compact areas",
    )
    line(
        "working minutes, min-max",
        f"{busy.min():.0f}-{busy.max():.0f}",
        "150 (13:00-15:30)",
        "balanced",
    )
    if not clustered_needs:
        print(summary.round({"walk_min": 1, "distance_m": 0}).to_string(index=False))


def committee_inputs(seed: int, *, network: bool) -> WalkInputs:
    """Return a synthetic committee: 8 grids in a 1.2 km x 1.0 km block, ~1,600 households, 7 workers.

    Households carry visits (half met this year), tags and no issues; with
    ``network`` a footpath grid every 60 m covers the block (distances along it).
    """
    rng = np.random.default_rng(seed)
    stops = stops_from_seed(seed, n_buildings=64, households=(15, 38), size=(1200, 1000))
    x0, y0 = (float(v[0]) for v in metric_xy([121.40], [31.24]))
    bxy = stops.groupby("building_id")[["x", "y"]].first()
    buildings = pd.DataFrame(
        {
            "building_id": bxy.index,
            "name": bxy.index,
            "grid_id": [f"G{int(x // 300) + 4 * int(y // 500):02d}" for x, y in bxy.to_numpy()],
            "x": bxy["x"].to_numpy() + x0,
            "y": bxy["y"].to_numpy() + y0,
        }
    )
    n = len(stops)
    households = pd.DataFrame(
        {
            "household_id": stops["household_id"],
            "building_id": stops["building_id"],
            "occupied": (rng.random(n) > 0.05).astype(int),
            "residents": rng.integers(1, 5, n),
            "tags": rng.choice(["", "", "", "alone_elderly", "very_old", "low_income"], n),
        }
    )
    met = rng.random(n) < 0.5
    visits = pd.DataFrame(
        {
            "household_id": stops["household_id"][met].to_numpy(),
            "worker_id": "W1",
            "visited_at": pd.Timestamp("2026-03-02 14:00")
            + pd.to_timedelta(rng.integers(0, 200, int(met.sum())), unit="D"),
            "outcome": "met",
        }
    )
    workers = pd.DataFrame(
        {"worker_id": [f"W{i}" for i in range(1, 8)], "name": [f"社工{i}" for i in range(1, 8)]}
    ).assign(on_duty=lambda w: w["worker_id"] == "W1")
    net = None
    if network:
        ways = street_grid_ways((x0 - 100, x0 + 1300), (y0 - 100, y0 + 1100), spacing_m=60)
        lines = gpd.GeoDataFrame(
            {
                "osm_id": [str(i) for i in range(len(ways))],
                "name": "",
                "highway": "footway",
                "other_tags": None,
            },
            geometry=[shapely.LineString(p) for p, _ in ways],
            crs="EPSG:4326",
        )
        net = network_from_edges(edges_from_lines(lines))
    return WalkInputs(
        grid_id="",
        households=households,
        visits=visits,
        issues=pd.DataFrame({"household_id": pd.Series(dtype=object), "status": pd.Series(dtype=object)}),
        buildings=buildings,
        office_xy=(x0 + 600.0, y0),
        committee_id="C01",
        workers=workers,
        network=net,
    )


def bench_committee(runs: int, seed: int) -> None:
    """Team mode end to end (priority, distances, split, six walks), as the page and CLI run it."""
    print("team mode, a committee: 8 grids, 64 buildings, 6 walking + 1 on duty (plan_team_walk)")
    for network in (False, True):
        inputs = committee_inputs(seed, network=network)
        t, out = timed(lambda i=inputs: plan_team_walk(i, on=dt.date(2026, 11, 26)), runs)
        plan = out[0]  # type: ignore[index]
        walking = [w for w in plan.walks if w not in plan.on_duty]
        finish = max(plan.walks[w].finish for w in walking)
        what = "footpath network (60 m grid)" if network else "straight line x 1.3"
        line(
            f"  {what}",
            f"{t:.2f} s",
            f"{sum(len(plan.walks[w].household_ids) for w in walking)} households, done by {finish}",
            "<= 3 s",
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="long runs of 5 s instead of 30 s")
    parser.add_argument("--runs", type=int, default=5, help="runs per median (default 5)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--only", choices=["routing", "330", "team", "committee"], help="run one part (default: all)"
    )
    args = parser.parse_args(argv)
    long_s = 5.0 if args.quick else 30.0
    parts = {
        "routing": lambda: bench_routing(args.runs, long_s, args.seed),
        "330": lambda: bench_330(args.runs, long_s, args.seed),
        "team": lambda: (
            bench_team(max(3, args.runs // 2), args.seed, clustered_needs=False),
            print(),
            bench_team(3, args.seed, clustered_needs=True),
        ),
        "committee": lambda: bench_committee(3, args.seed),
    }
    for name, run in parts.items():
        if args.only in (None, name):
            run()
            print()


if __name__ == "__main__":
    main()
