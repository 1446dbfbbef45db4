"""Blind spots, lagging grids, households not met, pace and the weekly check, on districts built by hand.

Every expected number below is worked out by hand from the tiny districts
defined here (or, on the demo district, checked against an independent
computation: the coverage engine, plain pandas).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from geo.coverage import CoverageIndex, areas_from_frames
from geo.demo import install_demo
from geo.store import Scope, open_store
from geo.uncovered import (
    CheckRules,
    OfficeFrames,
    WorkCalendar,
    blind_spots,
    burn_up,
    grid_adjacency,
    households_not_met,
    lagging_grids,
    not_met_by_grid,
    not_met_households,
    not_met_since,
    office_frames_from_store,
    pace,
    pace_from_index,
    weekly_check,
)

METRIC = "EPSG:32651"
X0, Y0 = 350_000.0, 3_456_000.0  # somewhere in Putuo, in UTM 51N metres


def lattice(rows: int, cols: int, *, size: float = 100.0) -> gpd.GeoDataFrame:
    """Square grids ``G<r><c>`` of ``size`` metres, row 0 at the top, in UTM 51N."""
    ids, geoms = [], []
    for r in range(rows):
        for c in range(cols):
            ids.append(f"G{r}{c}")
            geoms.append(box(X0 + c * size, Y0 - (r + 1) * size, X0 + (c + 1) * size, Y0 - r * size))
    return gpd.GeoDataFrame({"grid_id": ids, "name": [f"{i}号网格" for i in ids]}, geometry=geoms, crs=METRIC)


def metrics_for(coverage: dict[str, float], *, households: int = 10, others: float = 0.9) -> pd.DataFrame:
    """Coverage per grid of a 3×3 lattice; unlisted grids get ``others``."""
    ids = [f"G{r}{c}" for r in range(3) for c in range(3)]
    cov = [coverage.get(g, others) for g in ids]
    visited = [round(x * households) for x in cov]
    return pd.DataFrame(
        {
            "households": households,
            "visited": visited,
            "coverage": [v / households for v in visited],
            "residents": 2 * households,
            "residents_covered": [2 * v for v in visited],
        },
        index=pd.Index(ids, name="grid_id"),
    )


# ------------------------------------------------------------- blind spots


def test_blind_spots_merge_edge_neighbours_but_not_corner_neighbours() -> None:
    # G00 G01 G02        low: G00, G01 (share an edge), G11 (edge with G01),
    # G10 G11 G12             G22 (touches G11 at a corner only), G20 (alone)
    # G20 G21 G22
    grids = lattice(3, 3)
    m = metrics_for({"G00": 0.1, "G01": 0.3, "G11": 0.2, "G22": 0.4, "G20": 0.0})
    spots = blind_spots(grids, m, below=0.5)
    assert spots[["spot", "grids", "grid_ids", "households", "visited", "unvisited"]].values.tolist() == [
        [1, 3, "G00、G01、G11", 30, 6, 24],
        [2, 1, "G20", 10, 0, 10],
        [3, 1, "G22", 10, 4, 6],
    ]
    assert spots["coverage"].tolist() == pytest.approx([0.2, 0.0, 0.4])
    assert spots["residents"].tolist() == [60, 20, 20]
    assert spots["residents_covered"].tolist() == [12, 0, 8]
    assert spots["area_km2"].tolist() == pytest.approx([0.03, 0.01, 0.01])
    assert spots.crs == grids.crs
    # The first spot is exactly the union of its three squares (an L shape).
    expected = shapely.union_all(
        [box(X0, Y0 - 100, X0 + 200, Y0), box(X0 + 100, Y0 - 200, X0 + 200, Y0 - 100)]
    )
    assert spots.geometry.iloc[0].equals(expected)


def test_blind_spots_threshold_is_strict_and_grids_without_households_never_qualify() -> None:
    grids = lattice(3, 3)
    m = metrics_for({"G00": 0.5, "G01": 0.4})
    m.loc["G02", ["households", "visited", "coverage"]] = [0, 0, np.nan]
    spots = blind_spots(grids, m, below=0.5)
    assert spots["grid_ids"].tolist() == ["G01"]
    assert blind_spots(grids, m, below=0.5, min_grids=2).empty


def test_blind_spots_bridge_slivers_up_to_the_gap_only() -> None:
    a = box(X0, Y0, X0 + 100, Y0 + 100)
    near = box(X0 + 100.3, Y0, X0 + 200, Y0 + 100)  # a 0.3 m digitising gap
    far = box(X0 + 101.0, Y0, X0 + 200, Y0 + 100)  # a 1 m street between them
    m = pd.DataFrame({"households": [5, 5], "visited": [0, 0], "coverage": [0.0, 0.0]}, index=["A", "B"])
    for other, merged in ((near, True), (far, False)):
        g = gpd.GeoDataFrame({"grid_id": ["A", "B"]}, geometry=[a, other], crs=METRIC)
        assert (len(blind_spots(g, m)) == 1) is merged


def test_blind_spots_in_degrees_match_blind_spots_in_metres() -> None:
    grids = lattice(3, 3)
    m = metrics_for({"G00": 0.1, "G01": 0.3, "G11": 0.2, "G22": 0.4, "G20": 0.0})
    in_degrees = blind_spots(grids.to_crs("EPSG:4326"), m)
    assert in_degrees["grid_ids"].tolist() == blind_spots(grids, m)["grid_ids"].tolist()
    assert in_degrees.crs.to_epsg() == 4326
    assert in_degrees["area_km2"].tolist() == pytest.approx([0.03, 0.01, 0.01], abs=1e-4)


def test_grid_adjacency_on_empty_and_single_input() -> None:
    assert grid_adjacency([]).shape == (0, 2)
    assert grid_adjacency([box(0, 0, 1, 1)]).shape == (0, 2)


def _rook_components(low: set[tuple[int, int]]) -> set[frozenset[tuple[int, int]]]:
    """Connected groups of lattice cells by shared edges, found independently (BFS on indices)."""
    seen: set[tuple[int, int]] = set()
    out = set()
    for start in sorted(low):
        if start in seen:
            continue
        group, queue = {start}, deque([start])
        seen.add(start)
        while queue:
            r, c = queue.popleft()
            for nb in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if nb in low and nb not in seen:
                    seen.add(nb)
                    group.add(nb)
                    queue.append(nb)
        out.add(frozenset(group))
    return out


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 5),
    cols=st.integers(1, 5),
    data=st.data(),
)
def test_blind_spots_are_unions_of_adjacent_qualifying_grids_only(
    rows: int, cols: int, data: st.DataObject
) -> None:
    size = 50.0 + 10 * rows  # irregular sizes do not matter; exact shared edges do
    grids = lattice(rows, cols, size=size)
    n = rows * cols
    households = data.draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))
    visited = [data.draw(st.integers(0, h)) for h in households]
    below = data.draw(st.sampled_from([0.25, 0.5, 0.75, 1.0]))
    ids = grids["grid_id"].tolist()
    cov = [v / h if h else np.nan for v, h in zip(visited, households, strict=True)]
    m = pd.DataFrame({"households": households, "visited": visited, "coverage": cov}, index=ids)
    spots = blind_spots(grids, m, below=below)

    qualifying = {ids[k] for k in range(n) if households[k] > 0 and cov[k] < below}
    members = [s.split("、") for s in spots["grid_ids"]]
    flat = [g for group in members for g in group]
    # Every qualifying grid in exactly one spot, and nothing else.
    assert sorted(flat) == sorted(qualifying)
    # Spots are exactly the edge-connected groups of qualifying grids.
    cell = {f"G{r}{c}": (r, c) for r in range(rows) for c in range(cols)}
    expected = _rook_components({cell[g] for g in qualifying})
    assert {frozenset(cell[g] for g in group) for group in members} == expected
    # Each spot's polygon is the union of its grids: same area, covers each grid.
    by_id = dict(zip(ids, grids.geometry, strict=True))
    for group, geom in zip(members, spots.geometry, strict=True):
        assert geom.area == pytest.approx(sum(by_id[g].area for g in group))
        assert all(geom.covers(by_id[g]) for g in group)
    # Households add up; spots are ordered by households not met.
    assert spots["households"].sum() == sum(households[ids.index(g)] for g in qualifying)
    assert spots["unvisited"].is_monotonic_decreasing


# ---------------------------------------------------------- lagging grids


def test_lagging_grids_rank_worst_first_with_ties_broken_by_households_not_met() -> None:
    m = metrics_for({"G00": 0.2, "G01": 0.2, "G02": 0.4, "G10": 0.5})
    m.loc["G01", ["households", "visited"]] = [20, 4]  # 20 % of 20: more households not met than G00
    names = pd.DataFrame({"grid_id": m.index, "name": [f"{g}号" for g in m.index], "committee_name": "一村"})
    out = lagging_grids(m, names, below=0.5)
    assert out[["rank", "grid_id", "grid_name", "unvisited"]].values.tolist() == [
        [1, "G01", "G01号", 16],
        [2, "G00", "G00号", 8],
        [3, "G02", "G02号", 6],
    ]
    assert list(out.columns[:6]) == [
        "rank",
        "grid_id",
        "grid_name",
        "committee_name",
        "households",
        "visited",
    ]
    with pytest.raises(ValueError, match="between 0 and 1"):
        lagging_grids(m, below=50)


# ------------------------------------------------------- not met for months


def test_households_not_met_for_twelve_months() -> None:
    hh = pd.DataFrame(
        {
            "household_id": ["h1", "h2", "h3", "h4", "h5"],
            "occupied": [1, 1, 1, 0, 1],
            "grid_id": ["G1"] * 5,
        }
    )
    last = pd.Series(
        pd.to_datetime(["2025-11-26 15:00", "2025-11-27 09:00", "2024-01-05 10:00", "2020-01-01 10:00"]),
        index=["h1", "h2", "h5", "h4"],
    )
    out = households_not_met(hh, last, as_of=dt.date(2026, 11, 26))
    # h3 never met comes first; h5 met longest ago; h1 exactly 12 months ago; h2 inside the window;
    # h4 is vacant.
    assert out["household_id"].tolist() == ["h3", "h5", "h1"]
    assert out["days_since"].tolist() == [pd.NA, 1056, 365]
    assert pd.isna(out["last_met_at"].iloc[0])
    assert not_met_since(dt.date(2026, 3, 31), months=1) == dt.date(2026, 3, 1)
    with pytest.raises(ValueError, match="at least 1"):
        not_met_since(dt.date(2026, 3, 31), months=0)


# --------------------------------------------------------------------- pace


def test_work_calendar_counts_weekdays_minus_holidays_plus_make_up_days() -> None:
    cal = WorkCalendar.from_ranges([("2026-02-16", "2026-02-20")], extra_workdays=["2026-02-14"])
    assert (
        cal.workdays(dt.date(2026, 2, 9), dt.date(2026, 2, 22)) == 5 + 1
    )  # a week, a holiday week, Sat 14th
    assert WorkCalendar().workdays(dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == 261
    assert WorkCalendar().workdays(dt.date(2026, 1, 2), dt.date(2026, 1, 1)) == 0
    default = WorkCalendar.default()
    assert not default.is_workday([dt.date(2026, 10, 1)])[0]
    with pytest.raises(ValueError, match="before it starts"):
        WorkCalendar.from_ranges([("2026-02-20", "2026-02-16")])


def test_pace_against_the_working_day_goal_line() -> None:
    # 2026 has 261 weekdays; 1 Jan - 1 Jul holds 130 of them, 2 Jul - 31 Dec 131 (26.2 weeks).
    ytd = pd.DataFrame({"households": [100, 100, 0, 50]}, index=["A", "B", "C", "D"])
    ytd["visited"] = [30, 46, 0, 50]
    earlier = pd.DataFrame({"visited": [26, 40, 0, 50]}, index=["A", "B", "C", "D"])
    p = pace(ytd, earlier, as_of=dt.date(2026, 7, 1), calendar=WorkCalendar(), slack=0.1, recent_days=28)
    expected = 130 / 261
    assert p["expected"].iloc[:2].tolist() == pytest.approx([expected, expected])
    assert np.isnan(p.loc["C", "expected"]) and np.isnan(p.loc["C", "coverage"])
    # Behind when below 90 % of the goal line: 0.30 < 0.448 yes; 0.46 >= 0.448 no.
    assert p["behind"].tolist() == [True, False, False, False]
    assert p["remaining"].tolist() == [70, 54, 0, 0]
    assert p["needed_per_week"].tolist() == [round(70 / 26.2, 1), round(54 / 26.2, 1), 0.0, 0.0]
    # The last 28 days (4 Jun - 1 Jul) hold 20 working days: 4 weeks.
    assert p["recent_per_week"].tolist() == [1.0, 1.5, 0.0, 0.0]
    assert p.loc["A", "projected"] == pytest.approx((30 + 1.0 * 26.2) / 100)
    assert p.loc["D", "projected"] == 1.0


def test_pace_on_the_last_day_of_the_year_needs_nothing_or_cannot_be_met() -> None:
    ytd = pd.DataFrame({"households": [10, 10], "visited": [10, 7]}, index=["A", "B"])
    p = pace(ytd, None, as_of=dt.date(2026, 12, 31), calendar=WorkCalendar())
    assert p["weeks_left"].tolist() == [0.0, 0.0]
    assert p.loc["A", "needed_per_week"] == 0.0 and np.isnan(p.loc["B", "needed_per_week"])
    assert p["expected"].tolist() == [1.0, 1.0]


def tiny_index() -> CoverageIndex:
    """Four households in G1, two in G2; met visits on known days of 2026."""
    hh = pd.DataFrame(
        {
            "household_id": ["a", "b", "c", "d", "e", "f"],
            "grid_id": ["G1", "G1", "G1", "G1", "G2", "G2"],
            "building_id": ["B1"] * 4 + ["B2"] * 2,
            "occupied": [1, 1, 1, 1, 1, 0],
            "residents": [2, 2, 2, 2, 3, 0],
        }
    )
    v = pd.DataFrame(
        {
            "household_id": ["a", "a", "b", "c", "e"],
            "outcome": ["met", "met", "met", "not_home", "met"],
            "visited_at": pd.to_datetime(
                [
                    "2025-12-30 14:00",
                    "2026-01-05 14:00",
                    "2026-01-13 10:00",
                    "2026-01-14 10:00",
                    "2026-01-14 11:00",
                ]
            ),
        }
    )
    areas = areas_from_frames(
        pd.DataFrame({"grid_id": ["G1", "G2"], "committee_id": ["C1", "C1"]}),
        pd.DataFrame({"committee_id": ["C1"], "street_id": ["S1"]}),
    )
    return CoverageIndex(hh, v, None, areas)


def test_burn_up_of_an_area() -> None:
    b = burn_up(tiny_index(), as_of=dt.date(2026, 1, 14), grid_ids=["G1"], calendar=WorkCalendar())
    actual = b[b["series"] == "actual"]
    # Sundays 4 and 11 January, then the as-of day: a met on 5 Jan, b on 13 Jan (c not home).
    assert actual["date"].dt.strftime("%m-%d").tolist() == ["01-04", "01-11", "01-14"]
    assert actual["coverage"].tolist() == [0.0, 0.25, 0.5]
    goal = b[b["series"] == "goal"]
    assert goal["coverage"].iloc[0] == pytest.approx(2 / 261)  # 1 and 2 January by the first Sunday
    assert goal["coverage"].iloc[-1] == pytest.approx(1.0) and goal["date"].iloc[-1] == pd.Timestamp(
        "2026-12-31"
    )
    projected = b[b["series"] == "projected"]
    # Two households met over the 10 working days since 1 January: 0.2 a day, for 4 households.
    assert projected["coverage"].iloc[0] == pytest.approx(0.5)
    left = WorkCalendar().workdays(dt.date(2026, 1, 15), dt.date(2026, 12, 31))
    assert projected["coverage"].iloc[-1] == pytest.approx(min(1.0, (2 + 0.2 * left) / 4))


def test_pace_from_index_and_not_met_counts() -> None:
    index = tiny_index()
    p = pace_from_index(index, as_of=dt.date(2026, 1, 14), level="grid", calendar=WorkCalendar())
    assert p["visited"].tolist() == [2, 1] and p["households"].tolist() == [4, 1]
    counts = not_met_by_grid(index, as_of=dt.date(2026, 1, 14))
    assert counts.to_dict("index") == {"G1": {"households": 4, "not_met": 2, "share": 0.5}}
    assert sorted(not_met_households(index, as_of=dt.date(2026, 1, 14)).tolist()) == ["c", "d"]


# ------------------------------------------------------------- weekly check

WEEK_END = dt.date(2026, 11, 26)  # a Thursday: the week is Fri 20 - Thu 26 November


def check_frames() -> OfficeFrames:
    """One grid G1 with three households in two buildings 2 km apart, and an empty grid G2."""
    grids = pd.DataFrame(
        {
            "grid_id": ["G1", "G2"],
            "name": ["一号网格", "二号网格"],
            "committee_id": ["C1", "C1"],
            "committee_name": ["一村", "一村"],
            "street_id": ["S1", "S1"],
            "street_name": ["长寿路街道", "长寿路街道"],
        }
    )
    households = pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3", "H4"],
            "building_id": ["B1", "B1", "B2", "B3"],
            "grid_id": ["G1", "G1", "G1", "G2"],
            "occupied": [1, 1, 1, 1],
            "residents": [2, 1, 3, 2],
        }
    )
    buildings = pd.DataFrame(
        {"building_id": ["B1", "B2", "B3"], "grid_id": ["G1", "G1", "G2"], "x": [0.0, 2000.0, 0.0], "y": 0.0}
    )
    workers = pd.DataFrame(
        {"worker_id": ["W1", "W2", "W3"], "name": ["王伟", "李娜", "张强"], "committee_id": "C1"}
    )
    gw = pd.DataFrame(
        {
            "grid_id": ["G1", "G1", "G2"],
            "worker_id": ["W1", "W2", "W3"],
            "role": ["leader", "member", "leader"],
        }
    )
    rows = [
        (1, "H1", "W1", "2026-03-02 14:00:00", "met", "door"),  # before the week
        (2, "H1", "W1", "2026-11-23 14:00:00", "met", "door"),
        (3, "H3", "W1", "2026-11-23 14:05:00", "met", "door"),  # 2 km in 5 minutes: far apart
        (4, "H2", "W1", "2026-11-23 16:00:00", "met", "door"),  # after 15:30
        (5, "H2", "W2", "2026-11-22 10:00:00", "not_home", "door"),  # a Sunday
        *[(6 + k, "H2", "W2", f"2026-11-24 13:0{k}:00", "not_home", "door") for k in range(5)],  # a burst
        (11, "H1", "W2", "2026-11-24 13:05:30", "met", "phone"),  # a phone call ends no burst
    ]
    visits = pd.DataFrame(
        rows, columns=["visit_id", "household_id", "worker_id", "visited_at", "outcome", "channel"]
    )
    visits["visited_at"] = pd.to_datetime(visits["visited_at"]).astype("datetime64[s]")
    issues = pd.DataFrame(
        {
            "issue_id": [1, 2, 3],
            "grid_id": ["G1", "G1", "G1"],
            "level": ["building", "committee", "grid"],
            "opened_at": pd.to_datetime(["2026-11-20 09:00", "2026-05-01 09:00", "2025-12-01 09:00"]),
            "due_at": pd.to_datetime(["2026-11-23 09:00", "2026-05-16 09:00", "2025-12-08 09:00"]),
            "closed_at": pd.to_datetime([None, "2026-11-25 09:00", "2026-01-05 09:00"]),
        }
    )
    return OfficeFrames(grids, households, buildings, workers, gw, visits, issues)


def test_weekly_check_per_grid() -> None:
    check = weekly_check(check_frames(), week_ending=WEEK_END, calendar=WorkCalendar())
    assert (check.week_start, check.week_end) == (dt.date(2026, 11, 20), WEEK_END)
    g1 = check.grids.set_index("grid_id").loc["G1"]
    assert g1["grid_name"] == "一号网格" and g1["street_name"] == "长寿路街道"
    counts = g1[
        [
            "households",
            "visits_week",
            "visits_year",
            "met_week",
            "met_year",
            "newly_met_week",
            "newly_met_year",
            "opened_week",
            "opened_year",
            "closed_week",
            "closed_year",
            "overdue",
            "anomalies_week",
        ]
    ].tolist()
    # visits 2-11 in the week (10), plus 1 earlier; met: 2, 3, 4, 11; first met this year: H1 in March,
    # H3 and H2 this week; issue 1 opened this week, past its building limit on the 23rd, so the clock
    # moved it to the grid (due the 30th): not overdue, as on the issues page; issue 2 closed this week,
    # issue 3 closed in January; flags: far apart, after hours, Sunday, burst, more visits than households.
    assert counts == [3, 10, 11, 4, 5, 2, 3, 1, 2, 1, 2, 0, 5]
    assert g1["coverage_gained_week"] == pytest.approx(2 / 3) and g1["coverage_year"] == 1.0
    g2 = check.grids.set_index("grid_id").loc["G2"]
    assert g2[["visits_week", "newly_met_year", "anomalies_week"]].tolist() == [0, 0, 0]
    tot = check.totals()
    assert (tot["anomalies"], tot["visits_week"], tot["newly_met_week"], tot["households"]) == (5, 10, 2, 4)
    assert tot["coverage_gained_week"] == 0.5 and tot["coverage_year"] == 0.75


def test_weekly_check_per_worker() -> None:
    check = weekly_check(check_frames(), week_ending=WEEK_END, calendar=WorkCalendar())
    w = check.workers.set_index("worker_id")
    cols = [
        "grids_led",
        "visits_week",
        "visits_year",
        "met_week",
        "newly_met_week",
        "newly_met_year",
        "opened_week",
        "opened_year",
        "closed_week",
        "closed_year",
        "overdue",
        "anomalies_week",
    ]
    # Worker issue counts cover the levels a grid's workers answer for (building, grid): issues 1 and 3.
    assert w.loc["W1", cols].tolist() == [1, 3, 4, 3, 2, 3, 1, 1, 0, 1, 0, 2]
    assert w.loc["W2", cols].tolist() == [0, 7, 7, 1, 0, 0, 1, 1, 0, 1, 0, 2]
    assert w.loc["W3", cols].tolist() == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert w.loc["W1", "worker_name"] == "王伟" and w.loc["W1", "committee_name"] == "一村"


def test_weekly_check_anomaly_flags() -> None:
    a = weekly_check(check_frames(), week_ending=WEEK_END, calendar=WorkCalendar()).anomalies
    rows = a[["kind", "visit_id", "other_visit_id", "worker_id", "minutes", "metres", "visits", "households"]]
    got = [[None if pd.isna(x) else x for x in r] for r in rows.values.tolist()]
    assert got == [
        ["after_hours", 4, None, "W1", None, None, None, None],
        ["non_workday", 5, None, "W2", None, None, None, None],
        ["burst", 6, 10, "W2", 4.0, None, 5, None],
        ["far_apart", 3, 2, "W1", 5.0, 2000.0, None, None],
        ["over_households", None, None, None, None, None, 10, 3],
    ]
    assert a["grid_name"].tolist() == ["一号网格"] * 5
    assert a.loc[0, "visited_at"] == pd.Timestamp("2026-11-23 16:00:00")


def test_weekly_check_thresholds_are_configurable() -> None:
    rules = CheckRules(day_end=dt.time(16, 30), burst_min_visits=6, far_metres=2500, far_minutes=10)
    a = weekly_check(check_frames(), week_ending=WEEK_END, rules=rules, calendar=WorkCalendar()).anomalies
    assert a["kind"].tolist() == ["non_workday", "over_households"]
    holiday = WorkCalendar(extra_workdays=frozenset({dt.date(2026, 11, 22)}))
    a = weekly_check(check_frames(), week_ending=WEEK_END, rules=rules, calendar=holiday).anomalies
    assert a["kind"].tolist() == ["over_households"]


def test_spot_check_list_is_seeded_and_reproducible() -> None:
    frames = check_frames()
    first = weekly_check(frames, week_ending=WEEK_END, rules=CheckRules(spot_checks=2)).spot_checks
    again = weekly_check(check_frames(), week_ending=WEEK_END, rules=CheckRules(spot_checks=2)).spot_checks
    pd.testing.assert_frame_equal(first, again)
    assert len(first) == 2 and set(first["visit_id"]) <= {2, 3, 4, 11}  # met visits of the week only
    everything = weekly_check(frames, week_ending=WEEK_END, rules=CheckRules(spot_checks=50)).spot_checks
    assert everything["visit_id"].tolist() == [2, 3, 4, 11]
    assert everything["channel"].tolist() == ["door", "door", "door", "phone"]
    assert everything["worker_name"].tolist() == ["王伟", "王伟", "王伟", "李娜"]
    draws = {
        tuple(
            weekly_check(frames, week_ending=WEEK_END, rules=CheckRules(spot_checks=2, seed=s)).spot_checks[
                "visit_id"
            ]
        )
        for s in range(12)
    }
    assert len(draws) > 1  # the seed matters


def test_weekly_check_restricted_to_some_grids() -> None:
    check = weekly_check(check_frames(), week_ending=WEEK_END, grid_ids=["G2"])
    assert check.grids["grid_id"].tolist() == ["G2"]
    assert check.anomalies.empty and check.spot_checks.empty
    # Workers of the grids' committee stay listed (with nothing this week).
    assert check.workers["visits_week"].sum() == 0 and "W3" in set(check.workers["worker_id"])


# ---------------------------------------------- demo district: an independent check

AS_OF = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("office") / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=11, as_of=AS_OF)
    return path


def test_weekly_check_agrees_with_the_coverage_engine_and_pandas(demo_db: Path) -> None:
    from geo.live import coverage_index_from_store

    with open_store(str(demo_db)) as store:
        frames = office_frames_from_store(
            store, start=dt.date(2026, 1, 1), end=AS_OF, scope=Scope.everything()
        )
        index, _ = coverage_index_from_store(store, scope=Scope.everything())
    check = weekly_check(frames, week_ending=AS_OF, calendar=WorkCalendar.default())
    g = check.grids.set_index("grid_id")
    ytd = index.coverage(dt.date(2026, 1, 1), AS_OF, level="grid")
    before = index.coverage(dt.date(2026, 1, 1), AS_OF - dt.timedelta(days=7), level="grid")
    assert g["newly_met_year"].tolist() == ytd["visited"].tolist()
    assert g["households"].tolist() == ytd["households"].tolist()
    assert g["newly_met_week"].tolist() == (ytd["visited"] - before["visited"]).tolist()
    assert g["overdue"].tolist() == ytd["overdue_issues"].tolist()
    # Visits per grid and per worker in the week, by plain pandas.
    v = frames.visits.merge(frames.households[["household_id", "grid_id"]], on="household_id")
    week = v[v["visited_at"] >= pd.Timestamp(AS_OF - dt.timedelta(days=6))]
    by_grid = week.groupby("grid_id").size().reindex(g.index, fill_value=0)
    assert g["visits_week"].tolist() == by_grid.tolist()
    by_worker = week.groupby("worker_id").size()
    w = check.workers.set_index("worker_id")["visits_week"]
    assert w[w > 0].to_dict() == by_worker.to_dict()
    # Every flagged after-hours visit is after 15:30, and every one is flagged.
    late = week[
        (week["visited_at"].dt.hour * 60 + week["visited_at"].dt.minute) * 60 + week["visited_at"].dt.second
        > 55_800
    ]
    flagged = check.anomalies.loc[check.anomalies["kind"] == "after_hours", "visit_id"]
    assert sorted(flagged.tolist()) == sorted(late["visit_id"].astype(int).tolist())


def test_office_frames_from_store_reads_the_period_and_metric_centroids(demo_db: Path) -> None:
    with open_store(str(demo_db)) as store:
        frames = office_frames_from_store(
            store, start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 15), scope=Scope.everything()
        )
    t = frames.visits["visited_at"]
    assert t.min() >= pd.Timestamp("2026-11-01") and t.max() < pd.Timestamp("2026-11-16")
    assert list(frames.grids.columns) == [
        "grid_id",
        "name",
        "committee_id",
        "committee_name",
        "street_id",
        "street_name",
    ]
    # UTM 51N metres around Putuo.
    assert frames.buildings["x"].between(330_000, 360_000).all()
    assert frames.buildings["y"].between(3_450_000, 3_470_000).all()
    assert frames.households["grid_id"].notna().all()


def test_with_issues_keeps_the_visit_arrays_and_swaps_the_issues() -> None:
    frames = check_frames()
    frames.arrays()
    closed = frames.issues.assign(closed_at=pd.to_datetime(["2026-11-21 09:00", "2026-11-25 09:00", None]))
    other = frames.with_issues(closed)
    assert other.arrays()["v_t"] is frames.arrays()["v_t"]
    before = weekly_check(frames, week_ending=WEEK_END).grids.set_index("grid_id").loc["G1"]
    after = weekly_check(other, week_ending=WEEK_END).grids.set_index("grid_id").loc["G1"]
    assert (before["overdue"], before["closed_week"]) == (0, 1)
    # Issue 1 closed on the 21st, before its due time; issue 3 reopened (grid, due 2025-12-08): past
    # the committee's, street's and district's limits too by 2026-03-23, so overdue.
    assert (after["overdue"], after["closed_week"], after["closed_year"]) == (1, 2, 2)


@pytest.mark.parametrize("cut", [3, 7])
def test_appending_visits_gives_the_same_check_as_reading_them_all(cut: int) -> None:
    full = check_frames()
    part = check_frames()
    visits = full.visits
    if cut == 3:  # later visits appended in time order
        head, tail = visits.iloc[:cut], visits.iloc[cut:]
    else:  # a visit recorded late: earlier than some already held, so the arrays are re-sorted
        head, tail = visits.drop(index=[1]), visits.loc[[1]]
    part = OfficeFrames(
        part.grids, part.households, part.buildings, part.workers, part.grid_workers, head, part.issues
    )
    part.arrays()
    grown = part.with_new_visits(tail)
    a = weekly_check(full, week_ending=WEEK_END, calendar=WorkCalendar())
    b = weekly_check(grown, week_ending=WEEK_END, calendar=WorkCalendar())
    pd.testing.assert_frame_equal(a.grids, b.grids)
    pd.testing.assert_frame_equal(a.workers, b.workers)
    pd.testing.assert_frame_equal(a.anomalies, b.anomalies)
    pd.testing.assert_frame_equal(a.spot_checks, b.spot_checks)
    assert part.with_new_visits(tail.iloc[:0]) is part


def test_live_office_follows_writes(demo_db: Path, tmp_path: Path) -> None:
    from geo.live import coverage_index_from_store
    from geo.uncovered import LiveOffice

    db = tmp_path / "live.gpkg"
    db.write_bytes(demo_db.read_bytes())
    with open_store(str(db)) as store:
        live = LiveOffice(store, scope=Scope.everything())
        first = live.current(dt.date(2026, 1, 1))
        assert live.current(dt.date(2026, 1, 1)) is first  # nothing written: the same frames
        hh = store.read_table("households", columns=["household_id", "occupied"], scope=Scope.everything())
        index, _ = coverage_index_from_store(store, scope=Scope.everything())
        unmet = hh.loc[
            (hh["occupied"] == 1) & ~index.met_mask(dt.date(2026, 1, 1), AS_OF), "household_id"
        ].iloc[0]
        worker = store.read_table("workers", columns=["worker_id"], scope=Scope.everything())[
            "worker_id"
        ].iloc[0]
        new = pd.DataFrame(
            {
                "household_id": [unmet],
                "worker_id": [worker],
                "outcome": ["met"],
                "channel": ["door"],
                "visited_at": [pd.Timestamp("2026-11-26 15:00:00")],
                "note": [""],
            }
        )
        with store.transaction() as conn:
            store.bulk_insert(conn, "visits", new)
        after = live.current(dt.date(2026, 1, 1))
        assert len(after.visits) == len(first.visits) + 1
        before_check = weekly_check(first, week_ending=AS_OF).totals()
        after_check = weekly_check(after, week_ending=AS_OF).totals()
        assert after_check["newly_met_week"] == before_check["newly_met_week"] + 1
        assert after_check["visits_week"] == before_check["visits_week"] + 1
        # The same as reading everything afresh.
        fresh = office_frames_from_store(store, start=dt.date(2026, 1, 1), scope=Scope.everything())
        pd.testing.assert_frame_equal(
            weekly_check(fresh, week_ending=AS_OF).grids, weekly_check(after, week_ending=AS_OF).grids
        )


def test_appending_keeps_first_met_answers_right() -> None:
    full = check_frames()
    in_time = full.visits.sort_values("visited_at", kind="stable")  # visits 1, 5, 2, 3 | 4, 6-11
    head = OfficeFrames(
        full.grids,
        full.households,
        full.buildings,
        full.workers,
        full.grid_workers,
        in_time.iloc[:4],
        full.issues,
    )
    # A check before the append fills the first-met cache, which the append then carries forward.
    assert (
        weekly_check(head, week_ending=WEEK_END).grids.set_index("grid_id").loc["G1", "newly_met_week"] == 1
    )
    grown = head.with_new_visits(in_time.iloc[4:])
    assert any(k.startswith("first_met_") for k in grown._cache)  # carried, not dropped
    pd.testing.assert_frame_equal(
        weekly_check(grown, week_ending=WEEK_END).workers, weekly_check(full, week_ending=WEEK_END).workers
    )
