"""The coverage engine: exact values on a hand-made district, and two implementations that agree.

The hand-made district (4 grids, 7 households, 5 buildings) has every expected
number worked out by hand in the comments. :func:`coverage_by_area` (plain
pandas) is the reference; :class:`CoverageIndex` (arrays) must equal it
exactly, on the tiny synthetic district and on random districts.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from frames import coverage_inputs, day
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from geo import issues as rules
from geo.coverage import COLUMNS, LEVELS, CoverageIndex, areas_from_frames, coverage_by_area, overdue_from
from geo.store import OUTCOMES
from geo.store.schema import LEVELS as LADDER
from geo.synth import build_district

MARCH = (day("2024-03-01"), day("2024-03-31"))

# ------------------------------------------------------------ the hand-made district
# street s1: committee c1: grids g1, g2      street s2: committee c2: grids g3, g4
GRIDS = pd.DataFrame({"grid_id": ["g1", "g2", "g3", "g4"], "committee_id": ["c1", "c1", "c2", "c2"]})
COMMITTEES = pd.DataFrame({"committee_id": ["c1", "c2"], "street_id": ["s1", "s2"]})
AREAS = areas_from_frames(GRIDS, COMMITTEES)
HOUSEHOLDS = pd.DataFrame(
    [
        ("h1", "b1", "g1", 1, 2),
        ("h2", "b1", "g1", 1, 3),
        ("h3", "b2", "g1", 1, 1),
        ("h4", "b2", "g1", 0, 0),  # vacant: never counts, even when "met"
        ("h5", "b3", "g2", 1, 4),
        ("h6", "b4", "g3", 1, 2),
        ("h7", "b5", "g4", 0, 0),  # g4 has only this vacant household: no coverage
    ],
    columns=["household_id", "building_id", "grid_id", "occupied", "residents"],
)


def _visits(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_id": [r[0] for r in rows],
            "visited_at": pd.to_datetime([r[1] for r in rows]).astype("datetime64[s]"),
            "outcome": [r[2] for r in rows],
        }
    )


VISITS = _visits(
    [
        ("h1", "2024-03-01 00:00:00", "met"),  # first second of the period: counts
        ("h1", "2024-03-15 14:00:00", "met"),  # a second met visit: h1 still counts once
        ("h2", "2024-03-31 23:59:59", "met"),  # last second of the period: counts
        ("h3", "2024-02-29 23:59:59", "met"),  # one second too early
        ("h3", "2024-03-10 14:00:00", "not_home"),
        ("h3", "2024-03-11 14:00:00", "refused"),
        ("h4", "2024-03-05 14:00:00", "met"),  # vacant household
        ("h5", "2024-03-20 14:00:00", "inaccessible"),
        ("h5", "2024-04-01 00:00:00", "met"),  # one second too late
        ("h6", "2024-03-20 14:00:00", "met"),
        ("h7", "2024-03-02 14:00:00", "vacant"),
    ]
)


def _t(text: str | None) -> pd.Timestamp:
    return pd.NaT if text is None else pd.Timestamp(text)


ISSUES = pd.DataFrame(
    [
        # id, grid, building, level, opened, due, closed. At the district level an issue past
        # its limit is overdue; lower down the clock would move it up instead (see the ladder tests).
        (1, "g1", "b1", "district", "2024-03-10 09:00:00", "2024-03-17 09:00:00", None),  # open, overdue
        (2, "g1", "b2", "grid", "2024-03-20 00:00:00", "2024-04-05 00:00:00", None),  # open, not yet due
        (3, "g2", "b3", "building", "2024-02-01 09:00:00", "2024-02-08 09:00:00", "2024-03-05 09:00:00"),
        (4, "g3", "b4", "district", "2024-03-25 09:00:00", "2024-03-28 09:00:00", "2024-04-02 09:00:00"),
        (5, "g4", "b5", "grid", "2024-04-02 09:00:00", "2024-04-09 09:00:00", None),  # opened after March
        (6, "g2", "b3", "district", "2024-03-31 23:59:59", "2024-04-01 00:00:00", None),  # due at the end
    ],
    columns=["issue_id", "grid_id", "building_id", "level", "opened_at", "due_at", "closed_at"],
)  # 3: closed in March; 4: still open at the end of March, closed after it
for _col in ("opened_at", "due_at", "closed_at"):
    ISSUES[_col] = pd.to_datetime(ISSUES[_col]).astype("datetime64[s]")
ISSUES["status"] = np.where(ISSUES["closed_at"].isna(), "open", "closed")


def expected(level: str, rows: dict[str, tuple[int, int, int, int, int, int]]) -> pd.DataFrame:
    """Build an expected result from ``id: (households, visited, residents, covered, open, overdue)``."""
    frame = pd.DataFrame.from_dict(
        rows,
        orient="index",
        columns=["households", "visited", "residents", "residents_covered", "open_issues", "overdue_issues"],
    ).astype("int64")
    hh = frame["households"]
    frame["coverage"] = (frame["visited"] / hh).where(hh > 0, np.nan).astype("float64")
    frame.index = pd.Index(list(rows), dtype=object, name=f"{level}_id")
    return frame[list(COLUMNS)]


# Worked out by hand for March 2024, issues taken at 2024-04-01 00:00 (the end of March 31).
MARCH_EXPECTED = {
    "grid": expected("grid", {
        "g1": (3, 2, 6, 5, 2, 1),   # h1, h2 met; h3 only not_home/refused/too early; issues 1, 2
        "g2": (1, 0, 4, 0, 1, 0),   # h5 met too late; issue 6 open, due exactly at the end
        "g3": (1, 1, 2, 2, 1, 1),   # h6 met; issue 4 still open at the end, overdue
        "g4": (0, 0, 0, 0, 0, 0),   # only a vacant household: coverage NaN
    }),
    "committee": expected("committee", {"c1": (4, 2, 10, 5, 3, 1), "c2": (1, 1, 2, 2, 1, 1)}),
    "street": expected("street", {"s1": (4, 2, 10, 5, 3, 1), "s2": (1, 1, 2, 2, 1, 1)}),
    "district": expected("district", {"district": (5, 3, 12, 7, 4, 2)}),
    "building": expected("building", {
        "b1": (2, 2, 5, 5, 1, 1),
        "b2": (1, 0, 1, 0, 1, 0),
        "b3": (1, 0, 4, 0, 1, 0),
        "b4": (1, 1, 2, 2, 1, 1),
        "b5": (0, 0, 0, 0, 0, 0),
    }),
    "household": expected("household", {
        "h1": (1, 1, 2, 2, 0, 0),
        "h2": (1, 1, 3, 3, 0, 0),
        "h3": (1, 0, 1, 0, 0, 0),
        "h4": (0, 0, 0, 0, 0, 0),
        "h5": (1, 0, 4, 0, 0, 0),
        "h6": (1, 1, 2, 2, 0, 0),
        "h7": (0, 0, 0, 0, 0, 0),
    }),
}  # fmt: skip


def both(start: dt.date, end: dt.date, level: str, now: dt.datetime | None = None) -> list[pd.DataFrame]:
    """The hand-made district's coverage from the reference and from the index."""
    ref = coverage_by_area(HOUSEHOLDS, VISITS, ISSUES, AREAS, start=start, end=end, level=level, now=now)
    index = CoverageIndex.from_frames(HOUSEHOLDS, VISITS, ISSUES, AREAS)
    return [ref, index.coverage(start, end, level=level, now=now)]


@pytest.mark.parametrize("level", list(MARCH_EXPECTED))
def test_hand_made_district_in_march(level: str) -> None:
    for got in both(*MARCH, level):
        assert_frame_equal(got, MARCH_EXPECTED[level])


def test_coverage_values_worked_out_by_hand() -> None:
    for got in both(*MARCH, "grid"):
        assert got.loc["g1", "coverage"] == 2 / 3
        assert got.loc["g2", "coverage"] == 0.0  # households but nobody met: 0 %, a real zero
        assert np.isnan(got.loc["g4", "coverage"])  # no occupied households: no value, not 0 %


def test_a_one_day_period_includes_the_whole_day() -> None:
    # 2024-03-31 alone: only h2's visit at 23:59:59.
    for got in both(day("2024-03-31"), day("2024-03-31"), "grid"):
        assert got["visited"].to_dict() == {"g1": 1, "g2": 0, "g3": 0, "g4": 0}
    # 2024-04-01 alone: h5's visit at midnight.
    for got in both(day("2024-04-01"), day("2024-04-01"), "grid"):
        assert got["visited"].to_dict() == {"g1": 0, "g2": 1, "g3": 0, "g4": 0}


@pytest.mark.parametrize(
    ("now", "open_", "overdue"),
    [
        # 2024-03-20 12:00: issues 1 (overdue since 03-17) and 2 (opened at midnight) are open.
        (
            dt.datetime(2024, 3, 20, 12),
            {"g1": 2, "g2": 0, "g3": 0, "g4": 0},
            {"g1": 1, "g2": 0, "g3": 0, "g4": 0},
        ),
        # 2024-03-26: issue 4 is open but not due before 03-28.
        (
            dt.datetime(2024, 3, 26),
            {"g1": 2, "g2": 0, "g3": 1, "g4": 0},
            {"g1": 1, "g2": 0, "g3": 0, "g4": 0},
        ),
        # A moment after the period: issues are taken at the period's end instead.
        (dt.datetime(2024, 6, 1), {"g1": 2, "g2": 1, "g3": 1, "g4": 0}, {"g1": 1, "g2": 0, "g3": 1, "g4": 0}),
    ],
)
def test_issues_are_taken_at_the_earlier_of_period_end_and_now(
    now: dt.datetime, open_: dict[str, int], overdue: dict[str, int]
) -> None:
    for got in both(*MARCH, "grid", now=now):
        assert got["open_issues"].to_dict() == open_
        assert got["overdue_issues"].to_dict() == overdue
        # Visits still count for the whole period.
        assert got["visited"].to_dict() == {"g1": 2, "g2": 0, "g3": 1, "g4": 0}


def test_bad_period_or_level_is_refused() -> None:
    index = CoverageIndex.from_frames(HOUSEHOLDS, VISITS, ISSUES, AREAS)
    with pytest.raises(ValueError, match=r"the period ends \(2024-02-29\) before it starts \(2024-03-01\)"):
        coverage_by_area(HOUSEHOLDS, VISITS, ISSUES, AREAS, start=day("2024-03-01"), end=day("2024-02-29"))
    with pytest.raises(ValueError, match=r"the period ends \(2024-02-29\) before it starts \(2024-03-01\)"):
        index.coverage(day("2024-03-01"), day("2024-02-29"))
    with pytest.raises(ValueError, match="unknown level 'ward'"):
        coverage_by_area(HOUSEHOLDS, VISITS, ISSUES, AREAS, start=MARCH[0], end=MARCH[1], level="ward")
    with pytest.raises(ValueError, match="unknown level 'ward'"):
        index.coverage(*MARCH, level="ward")


def test_index_refuses_inconsistent_households() -> None:
    with pytest.raises(ValueError, match="unique"):
        CoverageIndex.from_frames(pd.concat([HOUSEHOLDS, HOUSEHOLDS.iloc[:1]]), VISITS, None, AREAS)
    stray = HOUSEHOLDS.assign(grid_id=HOUSEHOLDS["grid_id"].replace({"g3": "g9"}))
    with pytest.raises(ValueError, match="unknown grid 'g9'"):
        CoverageIndex.from_frames(stray, VISITS, None, AREAS)


# ------------------------------------------------------------- the tiny synthetic district


@pytest.fixture(scope="module")
def tiny_inputs():
    return coverage_inputs(build_district(scale="tiny", seed=5, as_of=day("2024-06-30")))


PERIODS = [
    (day("2023-01-01"), day("2024-06-30")),
    (day("2024-01-01"), day("2024-06-30")),
    (day("2023-07-01"), day("2023-12-31")),
    (day("2024-06-28"), day("2024-06-28")),
    (day("2022-01-01"), day("2022-12-31")),  # before the programme: no visits at all
]


def test_index_equals_the_reference_on_the_tiny_district(tiny_inputs) -> None:
    hh, visits, issues, areas = tiny_inputs
    index = CoverageIndex.from_frames(hh, visits, issues, areas)
    cases = [(p, level, None) for p in PERIODS for level in LEVELS]
    cases += [
        (p, level, dt.datetime(2024, 3, 1, 9, 30)) for p in PERIODS[:3] for level in ("grid", "building")
    ]
    for (start, end), level, now in cases:
        ref = coverage_by_area(hh, visits, issues, areas, start=start, end=end, level=level, now=now)
        assert_frame_equal(
            index.coverage(start, end, level=level, now=now), ref, obj=f"{level} {start} {now}"
        )


def test_reference_equals_a_plain_python_count_on_the_tiny_district(tiny_inputs) -> None:
    # An independent check of the reference itself: sets and loops, no pandas grouping.
    hh, visits, issues, areas = tiny_inputs
    start, end = PERIODS[1]
    lo, hi = pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1)
    met = {
        h
        for h, t, o in zip(visits["household_id"], visits["visited_at"], visits["outcome"], strict=True)
        if o == "met" and lo <= t < hi
    }
    households: dict[str, int] = {}
    visited: dict[str, int] = {}
    for h, g, occupied in zip(hh["household_id"], hh["grid_id"], hh["occupied"], strict=True):
        households[g] = households.get(g, 0) + occupied
        visited[g] = visited.get(g, 0) + (occupied and h in met)
    open_: dict[str, int] = {}
    for g, opened, closed in zip(issues["grid_id"], issues["opened_at"], issues["closed_at"], strict=True):
        open_[g] = open_.get(g, 0) + (opened < hi and (pd.isna(closed) or closed >= hi))
    ref = coverage_by_area(hh, visits, issues, areas, start=start, end=end)
    assert ref["households"].to_dict() == households
    assert ref["visited"].to_dict() == visited
    assert ref["coverage"].to_dict() == {g: visited[g] / households[g] for g in households}
    assert ref["open_issues"].to_dict() == {g: open_.get(g, 0) for g in households}
    assert all(n > 0 for n in households.values())  # every grid has occupied households


def test_adding_visits_in_pieces_equals_a_rebuild(tiny_inputs) -> None:
    hh, visits, issues, areas = tiny_inputs
    whole = CoverageIndex.from_frames(hh, visits, issues, areas)
    shuffled = visits.sample(frac=1.0, random_state=1)  # out of time order on purpose
    pieces = np.array_split(np.arange(len(shuffled)), 3)
    grown = CoverageIndex.from_frames(hh, shuffled.iloc[pieces[0]], issues, areas)
    for piece in pieces[1:]:
        grown.add_visits(shuffled.iloc[piece])
    grown.add_visits(visits.iloc[:0])  # nothing new: nothing changes
    assert grown.n_visits == whole.n_visits == int((visits["outcome"] == "met").sum())
    for start, end in PERIODS:
        for level in ("grid", "street", "building"):
            assert_frame_equal(
                grown.coverage(start, end, level=level), whole.coverage(start, end, level=level)
            )


# ------------------------------------------------------------------ random districts


@st.composite
def districts(draw):
    n_streets = draw(st.integers(1, 2))
    n_committees = draw(st.integers(1, 3))
    committees = pd.DataFrame(
        {
            "committee_id": [f"c{i}" for i in range(n_committees)],
            "street_id": [f"s{draw(st.integers(0, n_streets - 1))}" for _ in range(n_committees)],
        }
    )
    n_grids = draw(st.integers(1, 4))
    grids = pd.DataFrame(
        {
            "grid_id": [f"g{i}" for i in range(n_grids)],
            "committee_id": [f"c{draw(st.integers(0, n_committees - 1))}" for _ in range(n_grids)],
        }
    )
    rows = []
    for i in range(draw(st.integers(0, 10))):
        g = draw(st.integers(0, n_grids - 1))
        occupied = draw(st.booleans())
        rows.append((f"h{i}", f"b{g}-{draw(st.integers(0, 1))}", f"g{g}", int(occupied),
                     draw(st.integers(1, 5)) if occupied else 0))  # fmt: skip
    hh = pd.DataFrame(rows, columns=["household_id", "building_id", "grid_id", "occupied", "residents"])
    base = pd.Timestamp("2024-01-01")
    moments = st.integers(0, 40 * 86400).map(lambda s: base + pd.Timedelta(seconds=s))
    visit_rows = [
        (f"h{draw(st.integers(0, len(hh) - 1))}", draw(moments), draw(st.sampled_from(OUTCOMES)))
        for _ in range(draw(st.integers(0, 15) if len(hh) else st.just(0)))
    ]
    visits = pd.DataFrame(visit_rows, columns=["household_id", "visited_at", "outcome"])
    visits["visited_at"] = pd.to_datetime(visits["visited_at"]).astype("datetime64[s]")
    issue_rows = []
    for i in range(draw(st.integers(0, 6))):
        g = draw(st.integers(0, n_grids - 1))
        opened = draw(moments)
        # Short limits (below) let issues climb the whole ladder within the 40 days drawn.
        due = opened + pd.Timedelta(days=draw(st.integers(0, 15)), seconds=draw(st.integers(0, 3)))
        closed = draw(
            st.none() | st.integers(0, 20 * 86400).map(lambda s, o=opened: o + pd.Timedelta(seconds=s))
        )
        level = draw(st.sampled_from(LADDER))
        issue_rows.append((i + 1, f"g{g}", f"b{g}-{draw(st.integers(0, 1))}", level, opened, due, closed))
    issues = pd.DataFrame(
        issue_rows,
        columns=["issue_id", "grid_id", "building_id", "level", "opened_at", "due_at", "closed_at"],
    )
    for col in ("opened_at", "due_at", "closed_at"):
        issues[col] = pd.to_datetime(issues[col]).astype("datetime64[s]")
    issues["status"] = np.where(issues["closed_at"].isna(), "open", "closed")
    start = base.date() + dt.timedelta(days=draw(st.integers(-3, 40)))
    end = start + dt.timedelta(days=draw(st.integers(0, 30)))
    now = draw(st.none() | moments.map(lambda t: t.to_pydatetime()))
    level = draw(st.sampled_from(LEVELS))
    return hh, visits, issues, areas_from_frames(grids, committees), start, end, now, level


SHORT_LIMITS = {"building": 1, "grid": 2, "committee": 3, "street": 5, "district": 8}


@settings(max_examples=60, deadline=None)
@given(districts())
def test_index_equals_the_reference_on_random_districts(case) -> None:
    hh, visits, issues, areas, start, end, now, level = case
    ref = coverage_by_area(
        hh, visits, issues, areas, start=start, end=end, level=level, now=now, limits=SHORT_LIMITS
    )
    index = CoverageIndex.from_frames(hh, visits, issues, areas, limits=SHORT_LIMITS)
    got = index.coverage(start, end, level=level, now=now)
    assert_frame_equal(got, ref)
    cov, households = got["coverage"], got["households"]
    assert (cov.isna() == (households == 0)).all()
    assert cov.dropna().between(0, 1).all()
    assert (got["visited"] <= households).all()
    assert (got["residents_covered"] <= got["residents"]).all()
    assert (got["overdue_issues"] <= got["open_issues"]).all()
    # Totals do not depend on the level they are summed at.
    if level != "household":
        assert got["households"].sum() == int(hh["occupied"].sum())


# ------------------------------------------------------------ the escalation clock, applied on read

LIMITS = {"building": 3, "grid": 7, "committee": 15, "street": 30, "district": 60}

# Three open issues of grid g1 as the store may hold them before `sibai escalate` runs (no step
# written). Worked out by hand with the limits above (2024 is a leap year):
#   a: building, due 01-04 09:00 → grid 01-11, committee 01-26, street 02-25, district 04-25 09:00
#   b: street,   due 03-02 00:00 → district 05-01 00:00
#   c: district, due 03-15 00:00 → overdue from then
LADDER_ISSUES = pd.DataFrame(
    {
        "issue_id": [11, 12, 13],
        "grid_id": ["g1"] * 3,
        "building_id": ["b1"] * 3,
        "level": ["building", "street", "district"],
        "status": ["dispatched", "open", "handled"],
        "category": ["停车难"] * 3,
        "source": ["visit"] * 3,
        "opened_at": pd.to_datetime(["2024-01-01 09:00", "2024-02-01 00:00", "2024-01-15 00:00"]),
        "due_at": pd.to_datetime(["2024-01-04 09:00", "2024-03-02 00:00", "2024-03-15 00:00"]),
        "closed_at": pd.to_datetime([None, None, None]),
    }
).astype({"opened_at": "datetime64[s]", "due_at": "datetime64[s]", "closed_at": "datetime64[s]"})
YEAR = (day("2024-01-01"), day("2024-12-31"))


@pytest.mark.parametrize(
    ("now", "overdue"),
    [
        (dt.datetime(2024, 3, 20, 12), 1),  # only c: a and b were moved up with fresh limits
        (dt.datetime(2024, 4, 25, 9, 0, 0), 1),  # a's last limit ends now: not passed yet
        (dt.datetime(2024, 4, 25, 9, 0, 1), 2),  # one second later it has
        (dt.datetime(2024, 5, 1, 0, 0, 1), 3),  # and b's
    ],
)
def test_issues_past_their_limits_count_as_on_the_issues_page(now: dt.datetime, overdue: int) -> None:
    ref = coverage_by_area(HOUSEHOLDS, VISITS, LADDER_ISSUES, AREAS, start=YEAR[0], end=YEAR[1],
                           now=now, limits=LIMITS)  # fmt: skip
    index = CoverageIndex.from_frames(HOUSEHOLDS, VISITS, LADDER_ISSUES, AREAS, limits=LIMITS)
    board = rules.issue_board(LADDER_ISSUES, None, rules.IssueFilters(), now=now, limits=LIMITS)
    for got in (ref, index.coverage(*YEAR, now=now)):
        assert got.loc["g1", ["open_issues", "overdue_issues"]].tolist() == [3, overdue]
        assert got.loc["g1", ["open_issues", "overdue_issues"]].tolist() == board.by_grid.loc["g1"].tolist()
    assert int(board.metrics["overdue"]) == overdue
    # The state machine, one issue at a time, agrees.
    one_by_one = 0
    for r in LADDER_ISSUES.itertuples():
        s = rules.IssueState(r.status, r.level, r.due_at.to_pydatetime(), r.opened_at.to_pydatetime())
        s, _ = rules.escalate(s, now, limits=LIMITS)
        one_by_one += s.due_at < now
    assert one_by_one == overdue


def test_overdue_from_is_where_the_state_machine_says_overdue() -> None:
    moments = overdue_from(LADDER_ISSUES, limits=LIMITS).astype("datetime64[s]").astype(str).tolist()
    assert moments == ["2024-04-25T09:00:00", "2024-05-01T00:00:00", "2024-03-15T00:00:00"]


def test_an_issue_opened_or_closed_in_the_second_of_now_counts_as_the_issues_page_shows_it() -> None:
    now = dt.datetime(2024, 3, 20, 12, 0, 0)
    t = pd.Timestamp(now)
    issues = pd.DataFrame(
        {
            "issue_id": [21, 22],
            "grid_id": ["g2", "g3"],
            "building_id": ["b3", "b4"],
            "level": ["grid", "grid"],
            "status": ["open", "closed"],  # 21 opened just now; 22 closed just now
            "opened_at": [t, t - pd.Timedelta(days=1)],
            "due_at": [t + pd.Timedelta(days=7), t + pd.Timedelta(days=6)],
            "closed_at": [pd.NaT, t],
        }
    ).astype({"opened_at": "datetime64[s]", "due_at": "datetime64[s]", "closed_at": "datetime64[s]"})
    board = rules.issue_board(issues.assign(category="x", source="visit"), None, rules.IssueFilters(),
                              now=now, limits=LIMITS)  # fmt: skip
    assert board.by_grid["open_issues"].to_dict() == {"g2": 1}
    ref = coverage_by_area(HOUSEHOLDS, VISITS, issues, AREAS, start=YEAR[0], end=YEAR[1], now=now,
                           limits=LIMITS)  # fmt: skip
    got = CoverageIndex.from_frames(HOUSEHOLDS, VISITS, issues, AREAS, limits=LIMITS).coverage(*YEAR, now=now)
    for frame in (ref, got):
        assert frame["open_issues"].to_dict() == {"g1": 0, "g2": 1, "g3": 0, "g4": 0}


def test_the_index_takes_issue_counts_at_its_clock() -> None:
    now = dt.datetime(2024, 4, 25, 9, 0, 1)
    ticking = CoverageIndex.from_frames(HOUSEHOLDS, VISITS, LADDER_ISSUES, AREAS, limits=LIMITS,
                                        clock=lambda: now)  # fmt: skip
    plain = CoverageIndex.from_frames(HOUSEHOLDS, VISITS, LADDER_ISSUES, AREAS, limits=LIMITS)
    assert_frame_equal(ticking.coverage(*YEAR), plain.coverage(*YEAR, now=now))
    assert ticking.coverage(*YEAR).loc["g1", "overdue_issues"] == 2
    assert plain.coverage(*YEAR).loc["g1", "overdue_issues"] == 3  # no clock: at the end of 2024
    # A period that ended before the clock's time is counted at its end, as before.
    assert_frame_equal(ticking.coverage(*MARCH), plain.coverage(*MARCH))
    # An explicit now wins over the clock.
    assert ticking.coverage(*YEAR, now=dt.datetime(2024, 3, 20)).loc["g1", "overdue_issues"] == 1


def test_issues_without_a_level_are_refused() -> None:
    with pytest.raises(ValueError, match=r"missing column.*level"):
        CoverageIndex.from_frames(HOUSEHOLDS, VISITS, ISSUES.drop(columns="level"), AREAS)
    with pytest.raises(ValueError, match=r"unknown level.*ward"):
        CoverageIndex.from_frames(HOUSEHOLDS, VISITS, ISSUES.assign(level="ward"), AREAS)


@settings(max_examples=60, deadline=None)
@given(districts())
def test_open_and_overdue_per_grid_equal_the_issues_board_at_the_same_now(case) -> None:
    hh, visits, issues, areas, start, _, now, _ = case
    now = now or dt.datetime(2024, 1, 20, 10)
    # The store as it stands at `now`: nothing opened later, closed only if closed by then.
    t = pd.Timestamp(now)
    rows = issues[issues["opened_at"] <= t].copy()
    closed = rows["closed_at"].notna() & (rows["closed_at"] <= t)
    rows["closed_at"] = rows["closed_at"].where(closed)
    rows["status"] = np.where(closed, "closed", "handled")
    rows = rows.assign(category="x", source="visit")
    start = min(start, now.date())
    got = CoverageIndex.from_frames(hh, visits, rows, areas, limits=SHORT_LIMITS).coverage(
        start, now.date(), now=now
    )
    board = rules.issue_board(rows, None, rules.IssueFilters(), now=now, limits=SHORT_LIMITS)
    expected = board.by_grid.reindex(got.index, fill_value=0)
    assert_frame_equal(got[["open_issues", "overdue_issues"]], expected, check_names=False)


# ------------------------------------------------------------------ raw counts per grid


def test_counts_by_grid_worked_out_by_hand() -> None:
    got = CoverageIndex.from_frames(HOUSEHOLDS, VISITS, ISSUES, AREAS).counts_by_grid(*MARCH)
    expected = pd.DataFrame(
        # households, residents, visited, residents_covered, met visits, buildings with occupied households
        {"g1": (3, 6, 2, 5, 4, 2),  # h1 met twice, h2 once, vacant h4 once (counted: a met visit); b1, b2
         "g2": (1, 4, 0, 0, 0, 1),  # h5's met visit is one second too late
         "g3": (1, 2, 1, 2, 1, 1),
         "g4": (0, 0, 0, 0, 0, 0)},  # only a vacant household: no building counts
        index=["households", "residents", "visited", "residents_covered", "visits", "buildings"],
    ).T.astype("int64")  # fmt: skip
    expected.index = pd.Index(expected.index, dtype=object, name="grid_id")
    assert_frame_equal(got, expected)


def reference_counts(
    hh: pd.DataFrame, visits: pd.DataFrame, areas, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """counts_by_grid by plain pandas: the reference for coverage's columns, groupbys for the rest."""
    ref = coverage_by_area(hh, visits, None, areas, start=start, end=end, level="grid")
    out = ref[["households", "residents", "visited", "residents_covered"]].copy()
    lo, hi = pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1)
    met = visits[(visits["outcome"] == "met") & (visits["visited_at"] >= lo) & (visits["visited_at"] < hi)]
    grid_of = hh.set_index("household_id")["grid_id"]
    out["visits"] = met["household_id"].map(grid_of).value_counts().reindex(out.index, fill_value=0)
    occupied = hh[hh["occupied"] == 1]
    out["buildings"] = occupied.groupby("grid_id")["building_id"].nunique().reindex(out.index, fill_value=0)
    return out.astype("int64")


def test_counts_by_grid_equal_the_reference_on_the_tiny_district(tiny_inputs) -> None:
    hh, visits, issues, areas = tiny_inputs
    index = CoverageIndex.from_frames(hh, visits, issues, areas)
    for start, end in PERIODS:
        got = index.counts_by_grid(start, end)
        assert_frame_equal(got, reference_counts(hh, visits, areas, start, end), check_index_type=False)
    assert index.counts_by_grid(*PERIODS[1])["visits"].sum() > 0


@settings(max_examples=60, deadline=None)
@given(districts())
def test_counts_by_grid_equal_the_reference_on_random_districts(case) -> None:
    hh, visits, issues, areas, start, end, _, _ = case
    got = CoverageIndex.from_frames(hh, visits, issues, areas).counts_by_grid(start, end)
    assert_frame_equal(got, reference_counts(hh, visits, areas, start, end), check_index_type=False)
