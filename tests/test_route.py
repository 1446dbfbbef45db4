"""Tests of geo/route.py: household priority, one worker's walk, team split, baselines.

Schedules are re-derived here independently from the documented rules
(travel seconds = ceil(metres / speed x 60), visits of ``minutes_per_visit``
each, no waiting) and compared with what the planner returns.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.route import (
    START_LABEL,
    PriorityWeights,
    Walk,
    nearest_neighbour_tour,
    plan_walk,
    priority_from_households,
    split_among_workers,
    tour_length,
)

FAST = {"time_limit_s": 0.05}
QUICK = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- helpers


def frame(rows: list[tuple[str, str, float, float, float]]) -> pd.DataFrame:
    """Return candidate stops from (household_id, building_id, x, y, priority) rows."""
    return pd.DataFrame(rows, columns=["household_id", "building_id", "x", "y", "priority"])


def travel_s(a: tuple[float, float], b: tuple[float, float], speed: float, detour: float) -> int:
    return math.ceil(math.hypot(a[0] - b[0], a[1] - b[1]) * detour / speed * 60 - 1e-6)


def clock_s(clock: str) -> int:
    h, m = clock.split(":")
    return int(h) * 3600 + int(m) * 60


def check_walk(
    stops: pd.DataFrame,
    walk: Walk,
    *,
    start_xy: tuple[float, float],
    start: str,
    end: str,
    minutes_per_visit: float,
    speed: float,
    detour: float,
    return_to_start: bool,
) -> None:
    """Assert every documented guarantee of plan_walk on ``walk``."""
    svc = round(minutes_per_visit * 60)
    start_s, end_s = clock_s(start), clock_s(end)
    bxy = {b: (g["x"].mean(), g["y"].mean()) for b, g in stops.groupby("building_id")}
    building_of = dict(zip(stops["household_id"], stops["building_id"], strict=True))
    prio = dict(zip(stops["household_id"], stops["priority"], strict=True))

    # Every household at most once; chosen and dropped partition the candidates.
    chosen = walk.household_ids
    assert len(chosen) == len(set(chosen))
    assert sorted(chosen + walk.dropped) == sorted(stops["household_id"])
    # One stop per building, holding only that building's households.
    assert walk.stops["building_id"].is_unique
    for row in walk.stops.itertuples():
        assert row.household_ids, "a stop without households"
        assert {building_of[h] for h in row.household_ids} == {row.building_id}

    # The schedule, recomputed: times increase and the walk ends by `end`.
    t, here = start_s, start_xy
    route = list(walk.stops["building_id"])
    for row in walk.stops.itertuples():
        t += travel_s(here, bxy[row.building_id], speed, detour)
        assert row.arrive_min * 60 == pytest.approx(t)
        assert row.arrive == f"{t // 3600:02d}:{t % 3600 // 60:02d}"
        t += svc * len(row.household_ids)
        assert row.leave_min * 60 == pytest.approx(t)
        assert row.visit_min == pytest.approx(svc * len(row.household_ids) / 60)
        here = bxy[row.building_id]
    if return_to_start and route:
        t += travel_s(here, start_xy, speed, detour)
    assert t <= end_s
    assert clock_s(walk.finish) == t // 60 * 60
    arrive, leave = walk.stops["arrive_min"].to_numpy(), walk.stops["leave_min"].to_numpy()
    assert (arrive < leave).all() and (leave[:-1] <= arrive[1:]).all()
    assert walk.stops["arrive"].is_monotonic_increasing

    # Priority within a building: no dropped household outranks a chosen one there.
    for b in bxy:
        got = [prio[h] for h in chosen if building_of[h] == b]
        lost = [prio[h] for h in walk.dropped if building_of[h] == b]
        if got and lost:
            assert max(lost) <= min(got)

    # Maximal: no dropped household fits anywhere.
    def leg(a: str | None, b: str | None) -> int:
        pa = start_xy if a is None else bxy[a]
        if b is None:  # the end of the walk
            return travel_s(pa, start_xy, speed, detour) if return_to_start else 0
        return travel_s(pa, bxy[b], speed, detour)

    for h in walk.dropped:
        b = building_of[h]
        if b in route:
            assert t + svc > end_s, f"{h} still fits at its building {b}"
            continue
        seq: list[str | None] = [None, *route, None]
        for i in range(len(seq) - 1):
            delta = leg(seq[i], b) + leg(b, seq[i + 1]) - leg(seq[i], seq[i + 1]) + svc
            assert t + delta > end_s, f"{h} still fits before position {i}"


# --------------------------------------------------------------------------- priority


def priority_inputs() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    households = pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3", "H4", "H5", "H6"],
            "building_id": ["B1", "B1", "B2", "B2", "B3", "B3"],
            "occupied": [1, True, 1, 0, 1, 1],
            "residents": [2, 1, 3, 2, 4, 1],
            "tags": [None, "very_old, disabled", "", "alone_elderly", "low_income", ""],
        }
    )
    visits = pd.DataFrame(
        [
            ("H2", "2023-12-01 10:00", "met"),
            ("H3", "2024-06-20 15:00", "met"),
            ("H3", "2024-07-05 10:00", "not_home"),  # after `on`: ignored
            ("H5", "2024-02-01 09:30", "met"),
            ("H5", "2024-06-28 14:30", "not_home"),
            ("H6", "2024-05-02 10:10", "not_home"),
            ("H6", "2024-06-03 19:05", "not_home"),
        ],
        columns=["household_id", "visited_at", "outcome"],
    ).assign(visited_at=lambda d: pd.to_datetime(d["visited_at"]))
    issues = pd.DataFrame(
        {
            "household_id": ["H3", "H3", None, "H4"],
            "status": ["open", "closed", "open", "dispatched"],
        }
    )
    return households, visits, issues


def test_priority_matches_hand_computed_scores() -> None:
    households, visits, issues = priority_inputs()
    got = priority_from_households(households, visits, issues, on="2024-06-30")
    # never met: 100 + 365 d x 0.2 = 173; met 2023-12-01: 100 + 212 d x 0.2 = 142.4;
    # H3 met 10 days ago: 2 + 3 residents + 25 issue; H5: 150 d -> 30 + 4 + 15 + 10.
    expected = pd.DataFrame(
        {
            "household_id": ["H6", "H2", "H1", "H5", "H3"],
            "building_id": ["B3", "B1", "B1", "B3", "B2"],
            "priority": [173 + 1 + 10.0, 142.4 + 1 + 20 + 20, 173 + 2.0, 59.0, 30.0],
            "reason": [
                "今年未见面、上次不在家，换时段再访",
                "今年未见面、高龄、残疾",
                "今年未见面",
                "距上次见面150天、低保、上次不在家，换时段再访",
                "距上次见面10天、有待跟进诉求",
            ],
            "reason_codes": [
                "never_met|not_home",
                "never_met|tag:very_old|tag:disabled",
                "never_met",
                "days:150|tag:low_income|not_home",
                "days:10|follow_up",
            ],
            "last_met": pd.to_datetime(
                [None, "2023-12-01 10:00", None, "2024-02-01 09:30", "2024-06-20 15:00"]
            ),
            # H6 failed at 10h and 19h (last): 13-16 is the free window. H5 failed at 14h.
            "retry_hint": ["13:00-16:00", "", "", "09:00-11:00", ""],
        }
    )
    pd.testing.assert_frame_equal(got, expected)


def test_priority_reasons_in_english_have_no_chinese() -> None:
    """Walk reasons come from the catalogue in the page's language (issue 14: they were Chinese only)."""
    import re

    households, visits, issues = priority_inputs()
    households = households.assign(tags=",".join(code for code, _ in PriorityWeights().tags))
    got = priority_from_households(households, visits, issues, on="2024-06-30", lang="en")
    kinds = {code.partition(":")[0] for codes in got["reason_codes"] for code in codes.split("|")}
    assert kinds == {"never_met", "days", "tag", "follow_up", "not_home"}  # every kind of reason is here
    assert all(got["reason"].str.len() > 0)
    assert [r for r in got["reason"] if re.search("[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", r)] == []
    assert got.set_index("household_id").loc["H5", "reason"].startswith("150 days since met; ")


def test_priority_weights_are_configurable() -> None:
    households, visits, issues = priority_inputs()
    weights = PriorityWeights(open_issue=500.0, tags=(("low_income", 0.0),))
    got = priority_from_households(households, visits, issues, on="2024-06-30", weights=weights)
    assert got["household_id"].iloc[0] == "H3"
    assert got.set_index("household_id").loc["H3", "priority"] == 2 + 3 + 500
    by_id = got.set_index("household_id")
    # Tags left out of the weights are ignored; a zero weight still names the tag.
    assert by_id.loc["H2", ["priority", "reason"]].tolist() == [142.4 + 1, "今年未见面"]
    assert by_id.loc["H5", "priority"] == 30 + 4 + 0 + 10
    assert by_id.loc["H5", "reason"] == "距上次见面150天、低保、上次不在家，换时段再访"


def test_priority_rejects_unknown_outcome() -> None:
    households, visits, issues = priority_inputs()
    visits.loc[2, "outcome"] = "away"
    with pytest.raises(ValueError, match=r"visits row 2: outcome 'away'"):
        priority_from_households(households, visits, issues, on="2024-06-30")
    with pytest.raises(ValueError, match=r"households: missing column\(s\) \['tags'\]"):
        priority_from_households(households.drop(columns="tags"), visits, issues, on="2024-06-30")


ON = pd.Timestamp("2024-06-30")
visit_times = st.datetimes(
    min_value=pd.Timestamp("2023-01-01").to_pydatetime(),
    max_value=pd.Timestamp("2024-07-10").to_pydatetime(),
)
outcomes = st.sampled_from(["met", "not_home", "refused", "vacant", "inaccessible"])
history = st.lists(st.tuples(visit_times, outcomes), max_size=4)
tag_sets = st.lists(
    st.sampled_from(["alone_elderly", "very_old", "disabled", "low_income", "small_children"]),
    unique=True,
)


@QUICK
@given(
    rows=st.lists(
        st.tuples(st.booleans(), st.integers(0, 8), tag_sets, history, st.integers(0, 2)),
        min_size=1,
        max_size=12,
    )
)
def test_priority_properties(
    rows: list[tuple[bool, int, list[str], list[tuple[pd.Timestamp, str]], int]],
) -> None:
    ids = [f"H{i}" for i in range(len(rows))]
    households = pd.DataFrame(
        {
            "household_id": ids,
            "building_id": "B1",
            "occupied": [int(r[0]) for r in rows],
            "residents": [r[1] for r in rows],
            "tags": [",".join(r[2]) for r in rows],
        }
    )
    visits = pd.DataFrame(
        [(h, t, o) for h, r in zip(ids, rows, strict=True) for t, o in r[3]],
        columns=["household_id", "visited_at", "outcome"],
    ).astype({"visited_at": "datetime64[ns]"})
    issues = pd.DataFrame(
        [(h, "open") for h, r in zip(ids, rows, strict=True) for _ in range(r[4])],
        columns=["household_id", "status"],
    )
    got = priority_from_households(households, visits, issues, on=ON)

    # Vacant households never appear; every occupied one does, once.
    occupied = sorted(h for h, r in zip(ids, rows, strict=True) if r[0])
    assert sorted(got["household_id"]) == occupied
    assert got["priority"].is_monotonic_decreasing
    for rec in got.itertuples():
        seen = [(t, o) for t, o in rows[ids.index(rec.household_id)][3] if t < ON + pd.Timedelta(days=1)]
        # Visits at the same moment count in the order given.
        last = max(reversed(seen), key=lambda v: v[0], default=None)
        met = [t for t, o in seen if o == "met"]
        assert (rec.last_met is pd.NaT) == (not met)
        assert ("今年未见面" in rec.reason) == (not any(t.year == ON.year for t in met))
        # A retry hint exactly when the last visit found nobody home, never at that hour.
        if last is not None and last[1] == "not_home":
            lo, hi = (int(x[:2]) for x in rec.retry_hint.split("-"))
            failed = max(t for t, o in seen if o == "not_home")
            assert not lo <= failed.hour < hi
        else:
            assert rec.retry_hint == ""


@QUICK
@given(
    residents=st.integers(0, 9),
    tags=tag_sets,
    issues=st.integers(0, 4),
    old_met=st.one_of(st.none(), st.integers(1, 364)),
    new_met=st.integers(0, 180),
)
def test_never_met_this_year_ranks_first(
    residents: int, tags: list[str], issues: int, old_met: int | None, new_met: int
) -> None:
    """Of two otherwise equal households, the one not met this year comes first."""
    households = pd.DataFrame(
        {
            "household_id": ["A", "B"],
            "building_id": "B1",
            "occupied": 1,
            "residents": residents,
            "tags": ",".join(tags),
        }
    )
    year_start = pd.Timestamp("2024-01-01 10:00")
    met = [("B", ON - pd.Timedelta(days=new_met))]
    if old_met is not None:
        met.append(("A", year_start - pd.Timedelta(days=old_met)))
    visits = pd.DataFrame([(h, t, "met") for h, t in met], columns=["household_id", "visited_at", "outcome"])
    issue_rows = pd.DataFrame(
        [(h, "open") for h in "AB" for _ in range(issues)], columns=["household_id", "status"]
    )
    got = priority_from_households(households, visits, issue_rows, on=ON)
    assert got["household_id"].tolist() == ["A", "B"]
    assert got["priority"].iloc[0] > got["priority"].iloc[1]


# --------------------------------------------------------------------------- walk


def test_four_buildings_on_a_line_are_walked_in_order() -> None:
    stops = frame(
        [
            ("H4", "B4", 400, 0, 1.0),
            ("H2", "B2", 200, 0, 1.0),
            ("H1", "B1", 100, 0, 1.0),
            ("H3", "B3", 300, 0, 1.0),
        ]
    )
    walk = plan_walk(stops, start_xy=(0, 0), walk_speed_m_per_min=100, detour_factor=1.0, **FAST)
    expected = pd.DataFrame(
        {
            "order": [1, 2, 3, 4],
            "building_id": ["B1", "B2", "B3", "B4"],
            "household_ids": [["H1"], ["H2"], ["H3"], ["H4"]],
            "visit_min": [8.0] * 4,
            "arrive": ["13:01", "13:10", "13:19", "13:28"],
            "leave": ["13:09", "13:18", "13:27", "13:36"],
            "arrive_min": [781.0, 790.0, 799.0, 808.0],
            "leave_min": [789.0, 798.0, 807.0, 816.0],
            "walk_m": [100.0] * 4,
        }
    )
    pd.testing.assert_frame_equal(walk.stops, expected)
    assert (walk.distance_m, walk.walk_min, walk.dropped, walk.finish) == (400.0, 4.0, [], "13:36")
    assert json.loads(walk.to_json()) == {
        "stops": [
            {"building_id": b, "household_ids": [h], "arrive": a, "leave": lv}
            for b, h, a, lv in zip(
                expected["building_id"],
                ["H1", "H2", "H3", "H4"],
                expected["arrive"],
                expected["leave"],
                strict=True,
            )
        ],
        "distance_m": 400.0,
        "walk_min": 4.0,
    }


def test_start_between_buildings_walks_the_short_side_first() -> None:
    # Left first: 100 + 200 + 100 = 400 m; right first would be 100 + 100 + 300 = 500 m.
    stops = frame([("HL", "L", -100, 0, 1.0), ("HR1", "R1", 100, 0, 1.0), ("HR2", "R2", 200, 0, 1.0)])
    walk = plan_walk(stops, start_xy=(0, 0), detour_factor=1.0, **FAST)
    assert walk.stops["building_id"].tolist() == ["L", "R1", "R2"]
    assert walk.distance_m == 400.0


def test_square_round_trip_goes_round_the_square() -> None:
    stops = frame(
        [
            ("Ha", "A", 100, 0, 1.0),
            ("Hc", "C", 0, 100, 1.0),
            ("Hb", "B", 100, 100, 1.0),
        ]
    )
    walk = plan_walk(stops, start_xy=(0, 0), detour_factor=1.0, return_to_start=True, **FAST)
    assert walk.stops["building_id"].tolist() in (["A", "B", "C"], ["C", "B", "A"])
    assert walk.distance_m == 400.0
    # 4 legs of 100 m at 70 m/min, each rounded up to the second (86 s), plus 3 x 8 min.
    assert walk.walk_min == pytest.approx(4 * 86 / 60)
    assert walk.finish == "13:29"


def test_building_is_visited_in_part_by_priority() -> None:
    prios = [3.0, 9.0, 1.0, 7.0, 5.0]
    stops = frame([(f"H{i}", "B1", 70, 0, p) for i, p in enumerate(prios)])
    # 1 min to walk there, 8 min per household, 26 minutes: room for three.
    walk = plan_walk(stops, start_xy=(0, 0), end="13:26", detour_factor=1.0, **FAST)
    assert walk.household_ids == ["H1", "H3", "H4"]
    assert walk.dropped == ["H0", "H2"]
    assert walk.priority_total == 21.0
    assert (walk.stops["arrive"].tolist(), walk.stops["leave"].tolist()) == (["13:01"], ["13:25"])


def test_higher_priority_wins_when_only_one_fits() -> None:
    stops = frame([("Hnear", "N", 70, 0, 10.0), ("Hfar", "F", -140, 0, 50.0)])
    walk = plan_walk(stops, start_xy=(0, 0), end="13:11", detour_factor=1.0, **FAST)
    assert walk.household_ids == ["Hfar"]
    assert walk.dropped == ["Hnear"]


def test_distance_matrix_replaces_straight_lines() -> None:
    # B is 50 m away across a creek, but the footbridge makes it 900 m; A is 300 m.
    stops = frame([("Ha", "A", 300, 0, 1.0), ("Hb", "B", 0, 50, 1.0)])
    labels = [START_LABEL, "A", "B"]
    metres = pd.DataFrame([[0, 300, 900], [300, 0, 700], [900, 700, 0]], index=labels, columns=labels)
    walk = plan_walk(stops, start_xy=(0, 0), distance_matrix=metres, **FAST)
    assert walk.stops["building_id"].tolist() == ["A", "B"]
    assert walk.distance_m == 1000.0
    assert walk.stops["walk_m"].tolist() == [300.0, 700.0]
    with pytest.raises(ValueError, match=r"distance_matrix: no row or column for \['B'\]"):
        plan_walk(stops, start_xy=(0, 0), distance_matrix=metres.drop(index="B"), **FAST)


def test_empty_and_impossible_walks() -> None:
    empty = plan_walk(frame([]), start_xy=(0, 0), **FAST)
    assert empty.to_dict() == {"stops": [], "distance_m": 0.0, "walk_min": 0.0}
    far = frame([("H1", "B1", 20_000, 0, 99.0)])
    walk = plan_walk(far, start_xy=(0, 0), **FAST)
    assert (walk.household_ids, walk.dropped, walk.finish) == ([], ["H1"], "13:00")


@pytest.mark.parametrize(
    ("stops", "options", "message"),
    [
        (frame([("H1", "B1", 0, 0, 1.0)]), {"start": "15:00", "end": "14:00"}, "before start"),
        (frame([("H1", "B1", 0, 0, 1.0)]), {"end": "25:00"}, "clock time"),
        (frame([("H1", "B1", 0, 0, 1.0)]), {"minutes_per_visit": 0}, "at least 1 second"),
        (frame([("H1", "B1", 0, 0, 1.0)] * 2), {}, "'H1' appears more than once"),
        (frame([("H1", "B1", 0, 0, -1.0)]), {}, "row 0: priority"),
        (frame([("H1", "B1", np.nan, 0, 1.0)]), {}, "row 0: x and y"),
        (frame([("H1", "B1", 0, 0, 1.0)]).drop(columns="y"), {}, r"missing column\(s\) \['y'\]"),
    ],
)
def test_plan_walk_rejects_bad_input(stops: pd.DataFrame, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_walk(stops, start_xy=(0, 0), **options, **FAST)


@st.composite
def walk_cases(draw: st.DrawFn) -> dict:
    n_b = draw(st.integers(1, 6))
    bxy = [(draw(st.integers(0, 400)), draw(st.integers(0, 400))) for _ in range(n_b)]
    n_h = draw(st.integers(1, 12))
    rows = []
    for i in range(n_h):
        b = draw(st.integers(0, n_b - 1))
        rows.append((f"H{i:02d}", f"B{b}", *bxy[b], float(draw(st.integers(0, 20)))))
    return {
        "stops": frame(rows),
        "start_xy": (float(draw(st.integers(0, 400))), float(draw(st.integers(0, 400)))),
        "start": "13:00",
        "end": f"13:{draw(st.integers(5, 59)):02d}",
        "minutes_per_visit": draw(st.sampled_from([3, 5, 8, 10])),
        "speed": float(draw(st.sampled_from([50, 70, 90]))),
        "detour": draw(st.sampled_from([1.0, 1.3])),
        "return_to_start": draw(st.booleans()),
    }


@QUICK
@given(case=walk_cases())
def test_walk_guarantees_hold(case: dict) -> None:
    walk = plan_walk(
        case["stops"],
        start_xy=case["start_xy"],
        start=case["start"],
        end=case["end"],
        minutes_per_visit=case["minutes_per_visit"],
        walk_speed_m_per_min=case["speed"],
        detour_factor=case["detour"],
        return_to_start=case["return_to_start"],
        **FAST,
    )
    check_walk(walk=walk, **case)


def best_prize(stops: pd.DataFrame, start_xy: tuple[float, float], horizon: int, svc: int) -> float:
    """Return the largest sum of (priority + 1) any feasible walk can collect (brute force)."""
    bxy = {b: (g["x"].iloc[0], g["y"].iloc[0]) for b, g in stops.groupby("building_id")}
    best = 0.0
    hids = list(stops["household_id"])
    for r in range(1, len(hids) + 1):
        for subset in itertools.combinations(range(len(hids)), r):
            chosen = stops.iloc[list(subset)]
            buildings = sorted(set(chosen["building_id"]))
            shortest = min(
                sum(
                    travel_s(a, b, 70, 1.3)
                    for a, b in itertools.pairwise([start_xy, *(bxy[x] for x in order)])
                )
                for order in itertools.permutations(buildings)
            )
            if shortest + svc * r <= horizon:
                best = max(best, float((chosen["priority"] + 1).sum()))
    return best


@settings(max_examples=15, deadline=None)
@given(
    points=st.lists(st.tuples(st.integers(0, 100), st.integers(0, 100)), min_size=1, max_size=4),
    households=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 9)), min_size=1, max_size=6),
    end_minute=st.integers(2, 40),
)
def test_small_walks_collect_the_best_prize(
    points: list[tuple[int, int]], households: list[tuple[int, int]], end_minute: int
) -> None:
    """In a 100 m square a point of priority outweighs any walking: the prize is optimal."""
    rows = [
        (f"H{i}", f"B{b % len(points)}", *points[b % len(points)], float(p))
        for i, (b, p) in enumerate(households)
    ]
    stops = frame(rows)
    walk = plan_walk(stops, start_xy=(50, 50), end=f"13:{end_minute:02d}", time_limit_s=0.1)
    got = sum(
        p + 1
        for h, p in zip(stops["household_id"], stops["priority"], strict=True)
        if h in walk.household_ids
    )
    assert got == best_prize(stops, (50, 50), end_minute * 60, 480)


# --------------------------------------------------------------------------- baselines


def test_nearest_neighbour_and_tour_length() -> None:
    xy = [(0, 100), (100, 100), (100, 0), (300, 0)]
    order = nearest_neighbour_tour(xy, (0, 0))
    assert order.tolist() == [0, 1, 2, 3]
    assert tour_length(xy, order, (0, 0)) == 500.0
    assert tour_length(xy, order, (0, 0), closed=True) == 800.0
    assert nearest_neighbour_tour(np.empty((0, 2)), (0, 0)).tolist() == []


# --------------------------------------------------------------------------- team


def three_estates() -> pd.DataFrame:
    """Three estates 1.2 km apart, two buildings each, six households per building."""
    rows = []
    for e, (cx, cy) in enumerate([(-600, 400), (0, 600), (600, 400)]):
        for b in range(2):
            for h in range(6):
                rows.append((f"H{e}{b}{h}", f"B{e}{b}", cx + 40 * b, cy, float(10 * e + h)))
    return frame(rows)


def test_team_gives_each_worker_one_estate_and_the_on_duty_worker_nothing() -> None:
    stops = three_estates()
    workers = pd.DataFrame({"worker_id": ["W1", "W2", "W3", "W4"], "on_duty": [False, True, False, False]})
    plan = split_among_workers(stops, workers, start_xy=(0, 0), time_limit_s=0.6)
    assert plan.on_duty == ["W2"]
    assert plan.walks["W2"].household_ids == [] and plan.walks["W2"].stops.empty
    estates = {w: {b[1] for b in plan.walks[w].stops["building_id"]} for w in ["W1", "W3", "W4"]}
    assert sorted(map(sorted, estates.values())) == [["0"], ["1"], ["2"]]
    # Swept by bearing from the office: east (estate 2) first, then north, then west.
    assert estates == {"W1": {"2"}, "W3": {"1"}, "W4": {"0"}}
    visited = [h for w in plan.walks.values() for h in w.household_ids]
    assert len(visited) == len(set(visited))
    assert sorted(visited + plan.dropped) == sorted(stops["household_id"])
    summary = plan.summary()
    assert summary["worker_id"].tolist() == ["W1", "W2", "W3", "W4"]
    assert summary["households"].tolist()[1] == 0
    assert json.loads(plan.to_json())["workers"][1] == {
        "worker_id": "W2",
        "on_duty": True,
        "stops": [],
        "distance_m": 0.0,
        "walk_min": 0.0,
    }


def test_team_rejects_a_worker_listed_twice() -> None:
    workers = pd.DataFrame({"worker_id": ["W1", "W1"], "on_duty": [False, True]})
    with pytest.raises(ValueError, match="worker_id 'W1' appears more than once"):
        split_among_workers(three_estates(), workers, start_xy=(0, 0), time_limit_s=0.1)


def test_team_with_everyone_on_duty_visits_nobody() -> None:
    stops = three_estates()
    workers = pd.DataFrame({"worker_id": ["W1"], "on_duty": [True]})
    plan = split_among_workers(stops, workers, start_xy=(0, 0), time_limit_s=0.1)
    assert plan.walks["W1"].household_ids == []
    assert (
        plan.dropped
        == stops.sort_values(["priority", "household_id"], ascending=[False, True])["household_id"].tolist()
    )


@settings(max_examples=8, deadline=None)
@given(
    case=walk_cases(),
    duty=st.lists(st.booleans(), min_size=1, max_size=4),
)
def test_team_split_guarantees_hold(case: dict, duty: list[bool]) -> None:
    workers = pd.DataFrame({"worker_id": [f"W{i}" for i in range(len(duty))], "on_duty": duty})
    opts = {
        "start_xy": case["start_xy"],
        "end": case["end"],
        "minutes_per_visit": case["minutes_per_visit"],
        "walk_speed_m_per_min": case["speed"],
        "detour_factor": case["detour"],
    }
    plan = split_among_workers(case["stops"], workers, **opts, time_limit_s=0.15)
    visited = [h for w in plan.walks.values() for h in w.household_ids]
    assert len(visited) == len(set(visited))
    assert sorted(visited + plan.dropped) == sorted(case["stops"]["household_id"])
    for w, on_duty in zip(workers["worker_id"], duty, strict=True):
        walk = plan.walks[w]
        if on_duty:
            assert walk.household_ids == []
        mine = case["stops"][case["stops"]["household_id"].isin(walk.household_ids + walk.dropped)]
        check_walk(walk=walk, **{**case, "stops": mine, "return_to_start": False})
