"""Residents' issues: the state machine, the clock, the metrics, the store functions and the CLI.

The pure rules (``geo.issues``) are tested exhaustively on hand-written
expectations; the store functions (``geo.store.issue_log``) run on both
backends (the PostgreSQL half gets a scratch database and fails instead of
skipping when ``CI=true``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from geo import issues as R
from geo.cli import main as sibai
from geo.issues import Event, IssueFilters, IssueState, TransitionRefused, workflow
from geo.store import Scope, Store, open_store
from geo.store import issue_log as log
from geo.synth import build_district

ALL = Scope.everything()

LIMITS = {"building": 3, "grid": 7, "committee": 15, "street": 30, "district": 60}
T0 = dt.datetime(2024, 6, 3, 9, 0, 0)
SEC = dt.timedelta(seconds=1)
AS_OF = dt.date(2024, 6, 30)


def day(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


def state(status: str, level: str = "grid", *, handled_by: str | None = None) -> IssueState:
    """An issue opened at T0 at ``level``, now in ``status``, last touched at T0 + 1 h."""
    closed = T0 + dt.timedelta(hours=1) if status == "closed" else None
    return IssueState(status, level, T0 + day(LIMITS[level]), T0 + dt.timedelta(hours=1), closed, handled_by)


# ============================================================ state machine

AT = T0 + dt.timedelta(hours=2)

#: Every (status, action) pair, written out by hand: the status it leads to, or the refusal's code.
EXPECTED: dict[tuple[str, str], str] = {
    ("open", "dispatch"): "dispatched",
    ("open", "handle"): "!wrong_status",
    ("open", "verify"): "!wrong_status",
    ("open", "close"): "!wrong_status",
    ("open", "reopen"): "!wrong_status",
    ("open", "refer"): "open",
    ("dispatched", "dispatch"): "!wrong_status",
    ("dispatched", "handle"): "handled",
    ("dispatched", "verify"): "!wrong_status",
    ("dispatched", "close"): "!wrong_status",
    ("dispatched", "reopen"): "!wrong_status",
    ("dispatched", "refer"): "dispatched",
    ("handled", "dispatch"): "!wrong_status",
    ("handled", "handle"): "!wrong_status",
    ("handled", "verify"): "verified",
    ("handled", "close"): "!wrong_status",
    ("handled", "reopen"): "open",
    ("handled", "refer"): "!wrong_status",
    ("verified", "dispatch"): "!wrong_status",
    ("verified", "handle"): "!wrong_status",
    ("verified", "verify"): "!wrong_status",
    ("verified", "close"): "closed",
    ("verified", "reopen"): "open",
    ("verified", "refer"): "!wrong_status",
    ("closed", "dispatch"): "!wrong_status",
    ("closed", "handle"): "!wrong_status",
    ("closed", "verify"): "!wrong_status",
    ("closed", "close"): "!wrong_status",
    ("closed", "reopen"): "open",
    ("closed", "refer"): "!wrong_status",
}


def test_the_table_covers_every_status_and_action() -> None:
    assert set(EXPECTED) == {(s, a) for s in R.STATUSES for a in R.ACTIONS}


@pytest.mark.parametrize(("status", "action"), sorted(EXPECTED))
@pytest.mark.parametrize("level", R.LEVELS)
def test_every_transition_is_allowed_or_refused_as_written(status: str, action: str, level: str) -> None:
    before = state(status, level, handled_by="W1")
    expected = EXPECTED[(status, action)]
    top = level == "district"
    if action == "refer" and top and not expected.startswith("!"):
        expected = "!top_level"
    if expected.startswith("!"):
        with pytest.raises(TransitionRefused) as info:
            R.apply_action(before, action, actor="W2", at=AT, limits=LIMITS, note="n")
        assert info.value.code == expected[1:]
        if expected == "!wrong_status":
            assert str(info.value).startswith(f"cannot {action} an issue that is {status}")
        assert (action in R.allowed_actions(before)) is False
        return
    after, event = R.apply_action(before, action, actor="W2", at=AT, limits=LIMITS, note=" n ")
    assert action in R.allowed_actions(before)
    assert event == Event(AT, "W2", action, status, expected, level, after.level, "n")
    assert after.status == expected
    assert after.last_at == AT
    # What each action changes besides the status, worked out by hand.
    if action == "refer":
        up = R.LEVELS[R.LEVELS.index(level) + 1]
        assert (after.level, after.due_at) == (up, AT + day(LIMITS[up]))
    else:
        assert after.level == level
    if action == "reopen":
        assert (after.due_at, after.closed_at, after.handled_by) == (AT + day(LIMITS[level]), None, None)
    elif action == "close":
        assert (after.closed_at, after.due_at) == (AT, before.due_at)
    elif action == "handle":
        assert (after.handled_by, after.due_at) == ("W2", before.due_at)
    elif action in ("dispatch", "verify"):
        assert dataclasses.replace(after, status=status, last_at=before.last_at) == before


def test_the_refusal_says_what_is_possible() -> None:
    with pytest.raises(TransitionRefused) as info:
        R.apply_action(state("dispatched"), "close", actor="W2", at=AT, limits=LIMITS)
    assert str(info.value) == (
        "cannot close an issue that is dispatched: close needs status verified; possible now: handle, refer"
    )
    assert info.value.params == {
        "action": "close",
        "status": "dispatched",
        "needs": ("verified",),
        "possible": ("handle", "refer"),
    }


def test_the_verifier_is_never_the_person_who_handled_it() -> None:
    s = state("handled", handled_by="W1")
    with pytest.raises(TransitionRefused) as info:
        R.apply_action(s, "verify", actor=" W1 ", at=AT, limits=LIMITS)
    assert info.value.code == "same_person"
    assert str(info.value) == "W1 handled this issue: someone else must verify it"
    assert R.allowed_actions(s, actor="W1") == ("reopen",)
    assert R.allowed_actions(s, actor="W2") == ("verify", "reopen")
    # The handler is who handled it last: after a reopen and a new handling, the first handler may verify.
    s2, _ = R.apply_action(s, "reopen", actor="W3", at=AT, limits=LIMITS)
    s2, _ = R.apply_action(s2, "dispatch", actor="W3", at=AT, limits=LIMITS)
    s2, _ = R.apply_action(s2, "handle", actor="W2", at=AT, limits=LIMITS)
    assert R.apply_action(s2, "verify", actor="W1", at=AT, limits=LIMITS)[0].status == "verified"
    # Unknown handler (an issue from before the history): anyone may verify.
    assert (
        R.apply_action(state("handled"), "verify", actor="W1", at=AT, limits=LIMITS)[0].status == "verified"
    )


@pytest.mark.parametrize(
    ("action", "actor", "note", "at", "code"),
    [
        ("escalate", "W1", "", AT, "system_action"),
        ("found", "W1", "", AT, "system_action"),
        ("approve", "W1", "", AT, "unknown_action"),
        ("dispatch", "", "", AT, "actor_missing"),
        ("dispatch", "   ", "", AT, "actor_missing"),
        ("dispatch", "System", "", AT, "actor_reserved"),
        ("dispatch", "W" * 65, "", AT, "actor_too_long"),
        ("dispatch", "W1", "字" * 501, AT, "note_too_long"),
        ("dispatch", "W1", "", T0 + dt.timedelta(hours=1) - SEC, "before_last"),
    ],
)
def test_bad_actions_actors_notes_and_times_are_refused(
    action: str, actor: str, note: str, at: dt.datetime, code: str
) -> None:
    with pytest.raises(TransitionRefused) as info:
        R.apply_action(state("open"), action, actor=actor, at=at, limits=LIMITS, note=note)
    assert info.value.code == code


def test_an_action_at_the_time_of_the_last_event_is_allowed() -> None:
    s = state("open")
    assert R.apply_action(s, "dispatch", actor="W1", at=s.last_at, limits=LIMITS)[0].status == "dispatched"


def test_the_about_prefix_names_the_issue() -> None:
    refusal = TransitionRefused("x", "cannot do it", a=1).about(42)
    assert (str(refusal), refusal.code, refusal.params) == (
        "issue #42: cannot do it",
        "x",
        {"a": 1, "issue": 42},
    )


# ================================================================ the clock


@pytest.mark.parametrize("level", R.LEVELS[:-1])
@pytest.mark.parametrize("status", R.OPEN_STATUSES)
def test_time_limit_boundaries_one_second_either_side(level: str, status: str) -> None:
    s = R.found_state(T0, level=level, status=status, limits=LIMITS)
    due = T0 + day(LIMITS[level])
    assert s.due_at == due
    assert R.escalate(s, due - SEC, limits=LIMITS) == (s, [])
    assert R.escalate(s, due, limits=LIMITS) == (s, [])
    after, steps = R.escalate(s, due + SEC, limits=LIMITS)
    up = R.LEVELS[R.LEVELS.index(level) + 1]
    note = f"time limit of {LIMITS[level]} days at {level} level passed"
    assert steps == [Event(due, "system", "escalate", status, status, level, up, note)]
    assert after == dataclasses.replace(s, level=up, due_at=due + day(LIMITS[up]), last_at=due)
    # The same boundaries on the vectorised path.
    frame = pd.DataFrame(
        {"issue_id": [1, 2, 3], "status": [status] * 3, "level": [level] * 3,
         "opened_at": [T0] * 3, "due_at": [due] * 3}
    )  # fmt: skip
    for now, levels in ((due - SEC, [level]), (due, [level]), (due + SEC, [up])):
        out = R.escalate_frame(frame.iloc[:1], now=now, limits=LIMITS)
        assert out["level"].tolist() == levels


def test_the_ladder_is_climbed_one_limit_at_a_time() -> None:
    s = R.found_state(T0, level="building", limits=LIMITS)
    # Due: building 06-06 09:00, grid +7 → 06-13, committee +15 → 06-28, street +30 → 07-28,
    # district +60 → 09-26.
    dues = [dt.datetime(2024, 6, 6, 9), dt.datetime(2024, 6, 13, 9), dt.datetime(2024, 6, 28, 9),
            dt.datetime(2024, 7, 28, 9), dt.datetime(2024, 9, 26, 9)]  # fmt: skip
    for i, due in enumerate(dues):
        before, steps = R.escalate(s, due, limits=LIMITS)
        assert (before.level, before.due_at, len(steps)) == (R.LEVELS[i], due, i)
        after, steps = R.escalate(s, due + SEC, limits=LIMITS)
        top = min(i + 1, 4)
        assert (after.level, len(steps)) == (R.LEVELS[top], top)
        assert [e.at for e in steps] == dues[:top]
    final, steps = R.escalate(s, dt.datetime(2030, 1, 1), limits=LIMITS)
    assert (final.level, final.due_at, len(steps)) == ("district", dues[-1], 4)
    frame = pd.DataFrame({"issue_id": [1], "status": ["open"], "level": ["building"], "opened_at": [T0],
                          "due_at": [None]})  # fmt: skip
    out = R.escalate_frame(frame, now=dt.datetime(2030, 1, 1), limits=LIMITS)
    assert out[["level", "escalated", "overdue"]].values.tolist() == [["district", 4, True]]
    assert out["due_at"].tolist() == [pd.Timestamp(dues[-1])]


def test_closed_issues_never_move() -> None:
    s = dataclasses.replace(state("closed", "building"), closed_at=T0)
    assert R.escalate(s, dt.datetime(2030, 1, 1), limits=LIMITS) == (s, [])


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="no limit for level"):
        R.escalate_frame(pd.DataFrame({"level": []}), now=T0, limits={"building": 3})
    with pytest.raises(ValueError, match="at least 1 day; got grid=0"):
        R.replay([], opened_at=T0, status="open", level="grid", now=T0, limits={**LIMITS, "grid": 0})
    with pytest.raises(ValueError, match="unknown level"):
        R.escalate_frame(
            pd.DataFrame({"issue_id": [1], "status": ["open"], "level": ["estate"], "opened_at": [T0],
                          "due_at": [T0]}), now=T0, limits=LIMITS)  # fmt: skip


# A random life of an issue: gaps between actions (seconds up to 40 days), actions, actors.
steps_st = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=40 * 86400),
        st.sampled_from([*R.ACTIONS, "dispatch", "handle", "verify", "close"]),
        st.sampled_from(["W1", "W2", "W3"]),
    ),
    max_size=14,
)


def simulate(
    level: str, steps: list[tuple[int, str, str]], tail: int
) -> tuple[IssueState, list[Event], dt.datetime, IssueState]:
    """Run a life as the store does: clock up to each action, then the action if allowed."""
    s = R.found_state(T0, level=level, limits=LIMITS)
    events = [Event(T0, "W1", "found", None, "open", None, level, "")]
    t = T0
    for gap, action, actor in steps:
        t += dt.timedelta(seconds=gap)
        s, esc = R.escalate(s, t, limits=LIMITS)
        events += esc
        try:
            s, e = R.apply_action(s, action, actor=actor, at=t, limits=LIMITS)
        except TransitionRefused:
            continue
        events.append(e)
    stored = s
    now = t + dt.timedelta(seconds=tail)
    final, esc = R.escalate(s, now, limits=LIMITS)
    return final, events, now, stored


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(R.LEVELS), steps_st, st.integers(min_value=0, max_value=200 * 86400))
def test_the_state_is_a_function_of_the_history_and_the_clock(
    level: str, steps: list[tuple[int, str, str]], tail: int
) -> None:
    final, events, now, stored = simulate(level, steps, tail)
    # From the whole recorded history.
    got, pending = R.replay(events, opened_at=T0, status="open", level=level, now=now, limits=LIMITS)
    assert got == final
    assert pending == R.escalate(stored, now, limits=LIMITS)[1]
    # From the history without any recorded escalation: the clock finds them again.
    bare = [e for e in events if e.action != "escalate"]
    got2, pending2 = R.replay(bare, opened_at=T0, status="open", level=level, now=now, limits=LIMITS)
    assert got2 == final
    assert pending2 == [e for e in events if e.action == "escalate"] + pending
    # From the stored row alone, vectorised.
    row = pd.DataFrame({"issue_id": [7], "status": [stored.status], "level": [stored.level],
                        "opened_at": [T0], "due_at": [stored.due_at]})  # fmt: skip
    out = R.escalate_frame(row, now=now, limits=LIMITS)
    assert (out["level"].iloc[0], out["due_at"].iloc[0]) == (final.level, pd.Timestamp(final.due_at))
    assert bool(out["overdue"].iloc[0]) == (final.is_open and final.due_at < now)
    steps_frame = R.escalation_steps_frame(row, now=now, limits=LIMITS)
    assert steps_frame[["at", "from_level", "to_level"]].values.tolist() == [
        [pd.Timestamp(e.at), e.from_level, e.to_level] for e in pending
    ]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(R.LEVELS),
    st.sampled_from(R.STATUSES),
    st.integers(min_value=0, max_value=300 * 86400),
    st.integers(min_value=0, max_value=300 * 86400),
)
def test_escalating_twice_changes_nothing_more(level: str, status: str, a: int, b: int) -> None:
    s = R.found_state(T0, level=level, status=status, limits=LIMITS)
    t1, t2 = sorted((T0 + dt.timedelta(seconds=a), T0 + dt.timedelta(seconds=b)))
    once, steps = R.escalate(s, t2, limits=LIMITS)
    half, first = R.escalate(s, t1, limits=LIMITS)
    twice, second = R.escalate(half, t2, limits=LIMITS)
    assert twice == once
    assert first + second == steps
    assert R.escalate(once, t2, limits=LIMITS) == (once, [])
    assert R.escalate(once, t1, limits=LIMITS) == (once, [])


# ============================================================== history


def test_history_adds_the_implied_opening_and_the_pending_escalations() -> None:
    handled = Event(T0 + day(1), "W2", "handle", "dispatched", "handled", "grid", "grid", "修好了")
    h = R.history_frame(
        [handled], opened_at=T0, status="handled", level="grid", now=T0 + day(9), limits=LIMITS
    )
    assert h.values.tolist() == [
        [pd.Timestamp(T0), "", "found", None, "dispatched", None, "grid", "", False],
        [pd.Timestamp(T0 + day(1)), "W2", "handle", "dispatched", "handled", "grid", "grid", "修好了", True],
        [pd.Timestamp(T0 + day(7)), "system", "escalate", "handled", "handled", "grid", "committee",
         "time limit of 7 days at grid level passed", False],
    ]  # fmt: skip


def test_state_from_row_knows_the_handler_since_the_last_reopening() -> None:
    ev = [
        Event(T0, "W1", "found", None, "open", None, "grid"),
        Event(T0 + day(1), "W2", "handle", "dispatched", "handled", "grid", "grid"),
        Event(T0 + day(2), "W3", "reopen", "handled", "open", "grid", "grid"),
    ]
    row = {"status": "open", "level": "grid", "opened_at": T0, "due_at": T0 + day(9), "closed_at": None}
    assert R.state_from_row(row, ev, limits=LIMITS) == IssueState("open", "grid", T0 + day(9), T0 + day(2))
    assert R.state_from_row(row, ev[:2], limits=LIMITS).handled_by == "W2"


# ============================================================== frames


def issues_frame(rows: list[tuple]) -> pd.DataFrame:
    cols = [
        "issue_id",
        "grid_id",
        "status",
        "level",
        "category",
        "source",
        "opened_at",
        "due_at",
        "closed_at",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    for c in ("opened_at", "due_at", "closed_at"):
        frame[c] = pd.to_datetime(frame[c]).astype("datetime64[s]")
    return frame


NOW = dt.datetime(2024, 7, 1, 12, 0)
SAMPLE = issues_frame(
    [
        # open, building, due in 2 days: on time
        (1, "G1", "open", "building", "停车难", "visit", "2024-06-30 12:00", "2024-07-03 12:00", None),
        # dispatched, building, due 06-28 12:00: escalates to grid at read (due 07-05 12:00)
        (2, "G1", "dispatched", "building", "加装电梯", "hotline", "2024-06-25 12:00", "2024-06-28 12:00",
         None),
        # handled at district, due long ago: overdue
        (3, "G2", "handled", "district", "加装电梯", "online", "2024-01-01 00:00", "2024-03-01 00:00",
         None),
        # closed ones: resolved at grid (2 d), committee (10 d), street (20 d)
        (4, "G1", "closed", "grid", "停车难", "visit", "2024-06-01 00:00", "2024-06-08 00:00",
         "2024-06-03 00:00"),
        (5, "G2", "closed", "committee", "停车难", "visit", "2024-06-01 00:00", "2024-06-16 00:00",
         "2024-06-11 00:00"),
        (6, "G2", "closed", "street", "养老服务", "hotline", "2024-05-01 00:00", "2024-06-15 00:00",
         "2024-05-21 00:00"),
        # open, grid, due in 12 hours: due soon
        (7, "G3", "open", "grid", "养老服务", "online", "2024-06-25 00:00", "2024-07-02 00:00", None),
    ]
)  # fmt: skip


def test_effective_issues_apply_the_clock_and_count_missed_limits() -> None:
    events = pd.DataFrame(
        {
            "issue_id": [2, 7, 7, 7, 7],
            "at": pd.to_datetime(
                [
                    "2024-06-25 12:00",
                    "2024-06-01 00:00",
                    "2024-06-04 00:00",
                    "2024-06-10 00:00",
                    "2024-06-25 00:00",
                ]
            ),
            "action": ["found", "found", "escalate", "escalate", "reopen"],
        }
    )
    out = R.effective_issues(SAMPLE, events, now=NOW, limits=LIMITS)
    assert out["level"].tolist() == ["building", "grid", "district", "grid", "committee", "street", "grid"]
    assert out["escalated"].tolist() == [0, 1, 0, 0, 0, 0, 0]
    assert out["overdue"].tolist() == [False, False, True, False, False, False, False]
    # Issue 7's two escalations came before it was reopened: they no longer count.
    assert out["timed_out"].tolist() == [0, 1, 0, 0, 0, 0, 0]
    assert out["due_at"].iloc[1] == pd.Timestamp("2024-07-05 12:00")
    assert out["days_open"].tolist() == [1.0, 6.0, 182.5, 2.0, 10.0, 20.0, 6.5]


@pytest.mark.parametrize(
    ("filters", "ids"),
    [
        (IssueFilters(), [3, 7, 1, 2]),
        (IssueFilters(statuses=()), [3, 7, 1, 2, 5, 4, 6]),
        (IssueFilters(statuses=("closed",)), [5, 4, 6]),
        (IssueFilters(levels=("grid",)), [7, 2]),
        (IssueFilters(categories=("加装电梯",)), [3, 2]),
        (IssueFilters(sources=("online", "visit")), [3, 7, 1]),
        (IssueFilters(timing=("overdue",)), [3]),
        (IssueFilters(timing=("timed_out",)), [2]),
        (IssueFilters(timing=("due_soon",)), [7]),
        (IssueFilters(timing=("overdue", "due_soon")), [3, 7]),
        (IssueFilters(grid_id="G1"), [1, 2]),
    ],
)
def test_filters(filters: IssueFilters, ids: list[int]) -> None:
    eff = R.effective_issues(SAMPLE, None, now=NOW, limits=LIMITS)
    assert R.filter_issues(eff, filters, now=NOW)["issue_id"].tolist() == ids


def test_unknown_filter_values_are_refused() -> None:
    with pytest.raises(ValueError, match="levels: unknown 'estate'"):
        IssueFilters(levels=("estate",))
    with pytest.raises(ValueError, match="timing: unknown 'late'"):
        IssueFilters(timing=("late",))


def test_metrics_worked_out_by_hand() -> None:
    eff = R.effective_issues(SAMPLE, None, now=NOW, limits=LIMITS)
    m = R.issue_metrics(eff)
    assert m.index.tolist() == ["all"]
    row = m.iloc[0]
    # open 1,2,3,7; overdue 3; timed out 2; resolved 4 (grid), 5 (committee), 6 (street).
    assert row[["open", "overdue", "timed_out", "resolved"]].tolist() == [4, 1, 1, 3]
    assert row[[f"resolved_{lv}" for lv in R.LEVELS]].tolist() == [0, 1, 1, 1, 0]
    assert row["median_days_to_close"] == 10.0
    assert row["share_within_committee"] == pytest.approx(2 / 3)
    # Resolved in June only (issue 6 closed in May); the period bounds are whole days, both included.
    june = R.issue_metrics(eff, start=dt.date(2024, 6, 3), end=dt.date(2024, 6, 11)).iloc[0]
    assert june[["resolved", "median_days_to_close", "share_within_committee"]].tolist() == [2, 6.0, 1.0]
    june4 = R.issue_metrics(eff, start=dt.date(2024, 6, 4), end=dt.date(2024, 6, 10)).iloc[0]
    assert june4["resolved"] == 0
    assert np.isnan(june4["median_days_to_close"]) and np.isnan(june4["share_within_committee"])
    per_grid = R.issue_metrics(eff, by="grid_id")
    assert per_grid[["open", "resolved"]].to_dict("index") == {
        "G1": {"open": 2, "resolved": 1},
        "G2": {"open": 1, "resolved": 2},
        "G3": {"open": 1, "resolved": 0},
    }
    assert per_grid["median_days_to_close"].tolist()[:2] == [2.0, 15.0]
    assert per_grid["share_within_committee"].tolist()[:2] == [1.0, 0.5]


def test_the_board_counts_the_filtered_open_issues_per_grid() -> None:
    b = R.issue_board(SAMPLE, None, IssueFilters(categories=("加装电梯", "养老服务")), now=NOW, limits=LIMITS)
    assert b.rows["issue_id"].tolist() == [3, 7, 2]
    assert b.by_grid.to_dict("index") == {
        "G1": {"open_issues": 1, "overdue_issues": 0},
        "G2": {"open_issues": 1, "overdue_issues": 1},
        "G3": {"open_issues": 1, "overdue_issues": 0},
    }
    # Metrics are for the whole area, whatever the filters.
    assert int(b.metrics["open"]) == 4
    assert b.by_level["open"].tolist() == [1, 2, 0, 0, 1]
    assert b.categories == ("停车难", "养老服务", "加装电梯")


# ============================================================ the store


@pytest.fixture(scope="module")
def tiny() -> dict[str, pd.DataFrame]:
    return build_district(scale="tiny", seed=7, as_of=AS_OF)


def _store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return open_store(str(tmp_path / "i.gpkg"), create=True)
    return open_store(request.getfixturevalue("pg_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def district(request: pytest.FixtureRequest, tmp_path: Path, tiny: dict[str, pd.DataFrame]):
    """The tiny district without its synthetic issues, on each backend."""
    s = _store(request, tmp_path)
    s.replace_all({**tiny, "issues": tiny["issues"].iloc[:0]})
    yield s
    s.close()


def _open(store: Store, **kw: object) -> int:
    args: dict = {"category": "停车难", "source": "visit", "grid_id": "G0001", "actor": "W0001",
                  "opened_at": T0, "now": T0, **kw}  # fmt: skip
    return workflow.open_issue(store, **args, scope=Scope.everything()).issue_id


def _rows(store: Store) -> pd.DataFrame:
    return store.read_table("issues", order_by=["issue_id"], scope=Scope.everything())


def test_open_issue_records_who_found_it(district: Store) -> None:
    v0 = district.versions()
    a = workflow.open_issue(district, category=" 停车难 ", source="hotline", grid_id="G0001", actor="W0001",
                       opened_at=T0, now=T0, note="电话反映", ref="hotline:1", scope=ALL)  # fmt: skip
    b = workflow.open_issue(district, category="加装电梯", source="visit", household_id="H0000005",
                       actor="W0002", title="三楼住户", opened_at=T0 + SEC, now=T0 + SEC,
                       scope=ALL)  # fmt: skip
    assert (a.created, b.created) == (True, True)
    rows = _rows(district)
    got = rows[["issue_id", "grid_id", "building_id", "household_id", "category", "source", "level", "status",
                "opened_at", "due_at", "closed_at", "title"]].values.tolist()  # fmt: skip
    assert got == [
        [a.issue_id, "G0001", None, None, "停车难", "hotline", "grid", "open", pd.Timestamp(T0),
         pd.Timestamp(T0 + day(7)), pd.NaT, "停车难"],
        [b.issue_id, "G0001", "B000002", "H0000005", "加装电梯", "visit", "building", "open",
         pd.Timestamp(T0 + SEC), pd.Timestamp(T0 + SEC + day(3)), pd.NaT, "三楼住户"],
    ]  # fmt: skip
    h = log.read_history(district, a.issue_id, scope=Scope.everything())
    cols = ["at", "actor", "action", "from_status", "to_status", "from_level", "to_level", "note", "ref"]
    assert h[cols].values.tolist() == [
        [pd.Timestamp(T0), "W0001", "found", None, "open", None, "grid", "电话反映", "hotline:1"]
    ]
    assert district.versions()[0] == v0[0] + 2
    # The same reference again: nothing new, the same id back.
    again = workflow.open_issue(district, category="停车难", source="hotline", grid_id="G0001",
                           actor="import", ref="hotline:1", now=T0 + day(1),
                           scope=Scope.everything())  # fmt: skip
    assert again == workflow.Opened(a.issue_id, False)
    assert len(_rows(district)) == 2


#: Bad new issues: what is wrong, the field named, the message (one database for all: quick on PostgreSQL).
BAD_NEW = [
        ({"grid_id": "G9999"}, "grid_id", "no grid G9999"),
        ({"grid_id": None}, "grid_id", "where is it? give a grid, a building or a household"),
        ({"building_id": "B000006"}, "building_id", "building B000006 is in grid G0002, not G0001"),
        ({"building_id": "B999999"}, "building_id", "no building B999999"),
        ({"household_id": "H0000005", "building_id": "B000001"}, "household_id",
         "household H0000005 is in building B000002, not B000001"),
        ({"household_id": "H9"}, "household_id", "no household H9"),
        ({"category": " "}, "category", "a category is required (e.g. 加装电梯, 物业管理, 停车难)"),
        ({"source": "wechat"}, "source", "'wechat' is not a source; use visit, hotline, online"),
        ({"level": "estate"}, "level",
         "'estate' is not a level; use building, grid, committee, street, district"),
        ({"level": "building"}, "level", "an issue at building level needs its building (or household)"),
        ({"title": "长" * 201}, "title", "201 characters; at most 200"),
        ({"opened_at": T0 + SEC}, "opened_at",
         "2024-06-03 09:00:01 is in the future (now 2024-06-03 09:00:00)"),
]  # fmt: skip


def test_bad_new_issues_are_refused_naming_the_field_and_nothing_is_written(district: Store) -> None:
    v0 = district.versions()
    got = []
    for kw, _, _ in BAD_NEW:
        with pytest.raises(workflow.IssueInvalid) as info:
            _open(district, **kw)
        got.append((info.value.field, str(info.value)))
    assert got == [(field, f"{field}: {message}") for _, field, message in BAD_NEW]
    assert len(_rows(district)) == 0
    assert district.versions() == v0


def test_a_batch_opens_all_or_nothing_and_names_the_bad_row(district: Store) -> None:
    good = workflow.NewIssue(category="停车难", source="online", grid_id="G0002", opened_at=T0)
    bad = workflow.NewIssue(category="停车难", source="online", building_id="B000001", grid_id="G0002")
    with pytest.raises(
        workflow.IssueInvalid, match=r"^issue 2, building_id: building B000001 is in grid G0001"
    ):
        workflow.open_issues(district, [good, bad], actor="import:online", now=T0, scope=Scope.everything())
    with pytest.raises(workflow.IssueInvalid, match="reference\\(s\\) given twice: x"):
        workflow.open_issues(
            district,
            [dataclasses.replace(good, ref="x")] * 2,
            actor="import",
            now=T0,
            scope=Scope.everything(),
        )
    assert len(_rows(district)) == 0
    opened = workflow.open_issues(
        district,
        [good, dataclasses.replace(good, ref="r1")],
        actor="import",
        now=T0,
        scope=Scope.everything(),
    )
    assert [o.created for o in opened] == [True, True]
    assert len(_rows(district)) == 2


def test_a_life_through_every_transition_is_recorded(district: Store) -> None:
    i = _open(district, level="grid")
    t = T0 + dt.timedelta(hours=1)
    steps = [
        ("dispatch", "W0001", "派给物业"),
        ("handle", "W0002", "已修复"),
        ("verify", "W0003", ""),
        ("close", "W0001", ""),
        ("reopen", "W0004", "又坏了"),
        ("refer", "W0004", "需要居委会协调"),
    ]
    for n, (action, actor, note) in enumerate(steps):
        moved = workflow.transition(
            district,
            i,
            action,
            actor=actor,
            note=note,
            at=t + dt.timedelta(minutes=n),
            scope=Scope.everything(),
        )
        assert moved.events[-1].action == action
    h = log.read_history(district, i, scope=Scope.everything())
    cols = ["actor", "action", "from_status", "to_status", "from_level", "to_level", "note"]
    assert h[cols].values.tolist() == [
        ["W0001", "found", None, "open", None, "grid", ""],
        ["W0001", "dispatch", "open", "dispatched", "grid", "grid", "派给物业"],
        ["W0002", "handle", "dispatched", "handled", "grid", "grid", "已修复"],
        ["W0003", "verify", "handled", "verified", "grid", "grid", ""],
        ["W0001", "close", "verified", "closed", "grid", "grid", ""],
        ["W0004", "reopen", "closed", "open", "grid", "grid", "又坏了"],
        ["W0004", "refer", "open", "open", "grid", "committee", "需要居委会协调"],
    ]  # fmt: skip
    assert h["at"].tolist() == [pd.Timestamp(T0)] + [
        pd.Timestamp(t + dt.timedelta(minutes=n)) for n in range(6)
    ]
    row = _rows(district).iloc[0]
    referred = t + dt.timedelta(minutes=5)
    assert (row["status"], row["level"], row["due_at"], row["closed_at"]) == (
        "open", "committee", pd.Timestamp(referred + day(15)), pd.NaT)  # fmt: skip
    d = workflow.issue_detail(district, i, now=referred, scope=Scope.everything())
    assert d.state.status == "open" and d.actions == ("dispatch", "refer")
    assert d.history["recorded"].all() and len(d.history) == 7


def test_a_refused_transition_writes_nothing(district: Store) -> None:
    i = _open(district)
    workflow.transition(district, i, "dispatch", actor="W0001", at=T0 + SEC, scope=Scope.everything())
    workflow.transition(district, i, "handle", actor="W0002", at=T0 + 2 * SEC, scope=Scope.everything())
    before = (_rows(district), log.read_history(district, i, scope=Scope.everything()), district.versions())
    # The handler may not verify; the status shown is stale; unknown issue; system action.
    with pytest.raises(TransitionRefused, match=f"^issue #{i}: W0002 handled this issue"):
        workflow.transition(district, i, "verify", actor="W0002", at=T0 + day(30), scope=Scope.everything())
    with pytest.raises(TransitionRefused, match="it changed meanwhile: it is now handled, not dispatched"):
        workflow.transition(
            district,
            i,
            "handle",
            actor="W0003",
            expect_status="dispatched",
            at=T0 + day(30),
            scope=Scope.everything(),
        )
    with pytest.raises(TransitionRefused, match="'escalate' is recorded by the system"):
        workflow.transition(district, i, "escalate", actor="W0003", scope=Scope.everything())
    with pytest.raises(TransitionRefused, match="is before the issue's last event"):
        workflow.transition(district, i, "verify", actor="W0003", at=T0 + SEC, scope=Scope.everything())
    with pytest.raises(LookupError, match="no issue #999"):
        workflow.transition(district, 999, "dispatch", actor="W0003", scope=Scope.everything())
    after = (_rows(district), log.read_history(district, i, scope=Scope.everything()), district.versions())
    assert_frame_equal(before[0], after[0])
    assert_frame_equal(before[1], after[1])
    assert before[2] == after[2]


def test_a_transition_after_the_limit_records_the_clock_first(district: Store) -> None:
    i = _open(district, level="grid")  # due T0 + 7 d
    at = T0 + day(7) + SEC
    moved = workflow.transition(district, i, "dispatch", actor="W0001", at=at, scope=Scope.everything())
    assert [(e.action, e.at, e.from_level, e.to_level) for e in moved.events] == [
        ("escalate", T0 + day(7), "grid", "committee"),
        ("dispatch", at, "committee", "committee"),
    ]
    row = _rows(district).iloc[0]
    assert (row["level"], row["due_at"], row["status"]) == (
        "committee",
        pd.Timestamp(T0 + day(22)),
        "dispatched",
    )
    assert log.read_history(district, i, scope=Scope.everything())["action"].tolist() == [
        "found",
        "escalate",
        "dispatch",
    ]


def test_escalate_all_is_idempotent_and_counts_per_level(district: Store) -> None:
    ids = [
        _open(district, level="building", building_id="B000001"),  # due T0+3
        _open(district, level="grid"),  # due T0+7
        _open(district, level="committee"),  # due T0+15
        _open(district, level="district"),  # never moves
    ]
    workflow.transition(district, ids[1], "dispatch", actor="W0001", at=T0 + SEC, scope=Scope.everything())
    closed = _open(district, level="building", building_id="B000001")
    for n, (a, w) in enumerate([("dispatch", "W1"), ("handle", "W1"), ("verify", "W2"), ("close", "W2")]):
        workflow.transition(district, closed, a, actor=w, at=T0 + (n + 1) * SEC, scope=Scope.everything())
    now = T0 + day(16)
    rows_before = _rows(district)
    expected = R.escalate_frame(rows_before, now=now, limits=LIMITS)
    v0 = district.versions()
    done = workflow.escalate_all(district, now=now)
    # building→grid (T0+3) → committee (T0+10); grid→committee (T0+7); committee→street (T0+15).
    assert done.issues == 3
    assert done.per_level().values.tolist() == [
        ["building", "grid", 1],
        ["grid", "committee", 2],
        ["committee", "street", 1],
        ["street", "district", 0],
    ]
    assert district.versions()[0] == v0[0] + 1
    rows = _rows(district)
    assert rows["level"].tolist() == expected["level"].tolist() == [
        "committee", "committee", "street", "district", "building"]  # fmt: skip
    assert rows["due_at"].tolist() == expected["due_at"].tolist()
    history = log.read_history(district, ids[0], scope=Scope.everything())
    cols = ["at", "actor", "action", "from_level", "to_level", "from_status", "to_status"]
    assert history[cols].values.tolist() == [
        [pd.Timestamp(T0), "W0001", "found", None, "building", None, "open"],
        [pd.Timestamp(T0 + day(3)), "system", "escalate", "building", "grid", "open", "open"],
        [pd.Timestamp(T0 + day(10)), "system", "escalate", "grid", "committee", "open", "open"],
    ]  # fmt: skip
    events_after_first = pd.concat([log.read_history(district, k, scope=Scope.everything()) for k in ids])
    # Twice: nothing more, nothing written, not even the change counter.
    v1 = district.versions()
    again = workflow.escalate_all(district, now=now)
    assert again.issues == 0 and len(again.steps) == 0
    assert district.versions() == v1
    assert_frame_equal(_rows(district), rows)
    assert_frame_equal(
        pd.concat([log.read_history(district, k, scope=Scope.everything()) for k in ids]), events_after_first
    )
    # An earlier moment changes nothing either; a later one carries on from where it stopped.
    assert workflow.escalate_all(district, now=T0).issues == 0
    later = workflow.escalate_all(district, now=T0 + day(25) + SEC)  # committee due T0+25 for the first two
    assert later.per_level()["issues"].tolist() == [0, 0, 2, 0]


def test_escalate_all_on_issues_without_history_matches_the_pure_clock(
    tiny: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    store = open_store(str(tmp_path / "syn.gpkg"), create=True)
    frames = dict(tiny)
    issues = tiny["issues"].copy()
    # Make a few open at different levels and times, as a real register would have them.
    issues.loc[:5, "status"] = ["open", "dispatched", "handled", "verified", "open", "dispatched"]
    issues.loc[:5, "closed_at"] = None
    frames["issues"] = issues
    store.replace_all(frames)
    now = dt.datetime(2024, 6, 30, 17, 0)
    before = _rows(store)
    before["issue_id"] = before["issue_id"].astype(np.int64)
    expected = R.escalation_steps_frame(before, now=now, limits=LIMITS)
    assert len(expected) > 0
    done = workflow.escalate_all(store, now=now)
    assert_frame_equal(done.steps.reset_index(drop=True), expected)
    got = R.escalate_frame(before, now=now, limits=LIMITS)
    assert _rows(store)["level"].tolist() == got["level"].tolist()
    issues_, events = log.read_issue_data(store, scope=Scope.everything())
    issues_ = issues_.sort_values("issue_id", ignore_index=True)
    eff = R.effective_issues(issues_, events, now=now, limits=LIMITS)
    # Read back with the steps recorded, the board is what it was with them applied on read.
    eff_read = R.effective_issues(before, None, now=now, limits=LIMITS)
    assert eff["timed_out"].tolist() == eff_read["timed_out"].tolist()
    assert eff["level"].tolist() == eff_read["level"].tolist()
    store.close()


def test_concurrent_escalations_never_write_a_step_twice(district: Store) -> None:
    for _ in range(6):
        _open(district, level="building", building_id="B000001")
    now = T0 + day(30)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(len(workflow.escalate_all(district, now=now).steps))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    # building→grid (T0+3), grid→committee (T0+10), committee→street (T0+25): 3 steps each, 18 in all.
    assert sorted(results) == [0, 0, 18]
    with district.engine.connect() as conn:
        n = conn.execute(sa.text("SELECT COUNT(*) FROM issue_events WHERE action = 'escalate'")).scalar()
    assert n == 18


def test_history_goes_with_its_issues_when_the_district_is_replaced(
    district: Store, tiny: dict[str, pd.DataFrame]
) -> None:
    i = _open(district)
    workflow.transition(district, i, "dispatch", actor="W0001", at=T0 + SEC, scope=Scope.everything())
    district.replace_all(tiny)
    with district.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM issue_events")).scalar() == 0
    assert len(log.read_history(district, i, scope=Scope.everything())) == 0


def test_a_database_from_before_the_history_keeps_working(
    tiny: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    path = tmp_path / "old.gpkg"
    store = open_store(str(path), create=True)
    store.replace_all(tiny)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("DROP TABLE issue_events")
        conn.exec_driver_sql("DELETE FROM gpkg_contents WHERE table_name = 'issue_events'")
        conn.commit()
    store.close()
    store = open_store(str(path))
    assert len(log.read_history(store, 1, scope=Scope.everything())) == 0
    issues, events = log.read_issue_data(store, scope=Scope.everything())
    assert len(issues) == len(tiny["issues"]) and len(events) == 0
    open_id = int(issues.loc[issues["status"] != "closed", "issue_id"].iloc[0])
    d = workflow.issue_detail(store, open_id, now=dt.datetime(2024, 6, 30, 17), scope=Scope.everything())
    assert d.history["recorded"].tolist()[0] is False
    workflow.transition(
        store, open_id, "handle", actor="W0001", at=dt.datetime(2024, 6, 30, 17), scope=Scope.everything()
    )
    assert log.read_history(store, open_id, scope=Scope.everything())["action"].tolist()[-1] == "handle"
    with store.engine.connect() as conn:
        kind = conn.exec_driver_sql(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'issue_events'"
        ).scalar()
    assert kind == "attributes"
    store.close()


def test_read_issue_data_keeps_to_the_scope(district: Store) -> None:
    from geo.store import Scope

    a = _open(district, grid_id="G0001")
    b = _open(district, grid_id="G0010")
    issues, events = log.read_issue_data(district, scope=Scope.of(committees=["C004"]))
    assert issues["issue_id"].tolist() == [b]
    assert issues[["committee_id", "street_id"]].values.tolist() == [["C004", "S04"]]
    assert events["issue_id"].tolist() == [b]
    issues, events = log.read_issue_data(district, scope=Scope.everything())
    assert sorted(issues["issue_id"].tolist()) == sorted([a, b])
    # Closed before the day given: left out; open ones always read.
    for n, (action, actor) in enumerate(
        [("dispatch", "W1"), ("handle", "W1"), ("verify", "W2"), ("close", "W2")]
    ):
        workflow.transition(
            district, a, action, actor=actor, at=T0 + day(1) + n * SEC, scope=Scope.everything()
        )
    assert log.read_issue_data(district, closed_since=dt.date(2024, 6, 4), scope=Scope.everything())[0][
        "issue_id"
    ].tolist() == [a, b]
    assert log.read_issue_data(district, closed_since=dt.date(2024, 6, 5), scope=Scope.everything())[0][
        "issue_id"
    ].tolist() == [b]
    assert log.read_issue(district, a, scope=Scope.everything())["street_id"] == "S01"
    with pytest.raises(LookupError, match="no issue #12345"):
        log.read_issue(district, 12345, scope=Scope.everything())


# ================================================================ the CLI


@pytest.fixture
def cli_db(tiny: dict[str, pd.DataFrame], tmp_path: Path) -> str:
    path = tmp_path / "cli.gpkg"
    with open_store(str(path), create=True) as store:
        store.replace_all({**tiny, "issues": tiny["issues"].iloc[:0]})
        for level, building in (("building", "B000001"), ("grid", None), ("grid", None)):
            _open(store, level=level, building_id=building)
    return str(path)


def test_sibai_escalate_prints_the_moves_per_level_and_is_safe_to_repeat(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 1 (building, due 06-06 09:00) reaches the end of its grid limit at 06-13 09:00 exactly:
    # one minute later it moves again. Issues 2 and 3 (grid, due 06-10 09:00) move once.
    assert sibai(["escalate", "--db", cli_db, "--now", "2024-06-13 09:01"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "escalated 3 issue(s) at 2024-06-13 09:01 (4 step(s) up the ladder):",
        "   building → grid           1",
        "       grid → committee      3",
        "  committee → street         0",
        "     street → district       0",
    ]
    assert sibai(["escalate", "--db", cli_db, "--now", "2024-06-13 09:01"]) == 0
    assert capsys.readouterr().out == "no issue is past its time limit at 2024-06-13 09:01: nothing changed\n"


def test_sibai_issue_move_and_show(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["issue", "move", "2", "--action", "dispatch", "--actor", "W0001", "--note", "派给物业",
            "--at", "2024-06-03 10:00", "--db", cli_db]  # fmt: skip
    assert sibai(argv) == 0
    assert capsys.readouterr().out == (
        "issue #2: dispatch by W0001 at 2024-06-03 10:00:00: open → dispatched; due 2024-06-10 09:00:00\n"
    )
    assert sibai(["issue", "move", "2", "--action", "handle", "--actor", "W0001", "--db", cli_db,
                  "--at", "2024-06-03 11:00"]) == 0  # fmt: skip
    capsys.readouterr()
    assert sibai(["issue", "move", "2", "--action", "verify", "--actor", "W0001", "--db", cli_db,
                  "--at", "2024-06-03 12:00"]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert err == "sibai issue: error: issue #2: W0001 handled this issue: someone else must verify it\n"
    assert sibai(["issue", "show", "2", "--db", cli_db, "--now", "2024-06-11 09:00"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "issue #2: 停车难"
    assert out[4] == "  now        handled at committee level, due 2024-06-25 09:00:00"
    assert out[5] == "  missed     1 time limit(s) since it was last (re)opened"
    assert out[6] == "  next       verify, reopen"
    assert out[7:] == [
        "history:",
        "  2024-06-03 09:00:00  found     W0001        open at grid level",
        "  2024-06-03 10:00:00  dispatch  W0001        open → dispatched — 派给物业",
        "  2024-06-03 11:00:00  handle    W0001        dispatched → handled",
        "  2024-06-10 09:00:00  escalate  system       handled, grid → committee"
        " — time limit of 7 days at grid level passed  [not recorded yet]",
    ]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["issue", "show", "99"], 1, "sibai issue: error: no issue #99\n"),
        (["issue", "move", "1", "--action", "close", "--actor", "W1", "--at", "2024-06-03 10:00"], 1,
         "sibai issue: error: issue #1: cannot close an issue that is open: close needs status verified; "
         "possible now: dispatch, refer\n"),
        (["issue", "move", "1", "--action", "dispatch", "--actor", "system"], 1,
         "sibai issue: error: issue #1: 'system' is reserved for escalations by the clock; give a person\n"),
    ],
)  # fmt: skip
def test_sibai_issue_errors_are_one_line(
    cli_db: str, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    assert sibai([*argv, "--db", cli_db]) == code
    assert capsys.readouterr().err == message


def test_sibai_escalate_refuses_a_bad_time(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        sibai(["escalate", "--db", cli_db, "--now", "13/06/2024"])
    assert info.value.code == 2
    assert "'13/06/2024' is not a time; expected \"YYYY-MM-DD HH:MM\"" in capsys.readouterr().err


# ==================================================== one clock for every count of overdue issues


def test_an_issue_past_its_limit_counts_as_overdue_on_the_map_and_in_sibai_coverage_as_on_the_issues_page(
    tiny: dict[str, pd.DataFrame],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    import streamlit
    from conftest import sign_in
    from streamlit.testing.v1 import AppTest

    from geo.live import LiveCoverage

    now = log.local_now()
    today, start = now.date(), dt.date(now.year, 1, 1)

    def ago(days: float) -> str:
        return (now - day(days)).strftime("%Y-%m-%d %H:%M:%S")

    # Four open issues as a register import leaves them: past their stored limits, never escalated.
    # With the default limits (3, 7, 15, 30, 60 days), worked out by hand:
    #   A building, due 197 days ago: +7+15+30+60 = 112 days later is 85 days ago  → overdue
    #   B building, due 2 days ago:   moved to grid, due in 5 days                 → not overdue
    #   C committee, due 25 days ago: moved to street, due in 5 days               → not overdue
    #   D street, due 70 days ago:    moved to the district, due 10 days ago        → overdue
    new = pd.DataFrame(
        [("A", "G0001", "B000001", "building", "open", ago(200), ago(197)),
         ("B", "G0001", "B000001", "building", "dispatched", ago(5), ago(2)),
         ("C", "G0002", "B000006", "committee", "handled", ago(40), ago(25)),
         ("D", "G0002", "B000006", "street", "open", ago(100), ago(70))],
        columns=["title", "grid_id", "building_id", "level", "status", "opened_at", "due_at"],
    ).assign(category="加装电梯", source="visit", closed_at=None)  # fmt: skip
    path = tmp_path / "clock.gpkg"
    with open_store(str(path), create=True) as store:
        store.replace_all({**tiny, "issues": tiny["issues"].iloc[:0]})
        with store.transaction() as conn:
            store.bulk_insert(conn, "issues", new)
        limits = R.limits_days(store.settings)
        # The issues page's figures (pages/issues.py: the same reads and the same call).
        issues, events = log.read_issue_data(store, closed_since=start, scope=Scope.everything())
        board = R.issue_board(issues, events, IssueFilters(), now=now, limits=limits, start=start, end=today)
        # The district map's figures (pages/district_map.py asks the live index for the period).
        on_map = LiveCoverage(store).current().coverage(start, today, level="grid")
    assert (issues["due_at"] < pd.Timestamp(now)).all()  # counted from the stored limits, all four would be
    assert board.by_grid.to_dict("index") == {
        "G0001": {"open_issues": 2, "overdue_issues": 1},
        "G0002": {"open_issues": 2, "overdue_issues": 1},
    }
    assert int(board.metrics["overdue"]) == 2
    expected = board.by_grid.reindex(on_map.index, fill_value=0).to_dict("index")
    assert on_map[["open_issues", "overdue_issues"]].to_dict("index") == expected

    assert sibai(["coverage", "--db", str(path), "--from", start.isoformat(), "--to", today.isoformat()]) == 0
    printed = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"id": str}).set_index("id")
    assert printed[["open_issues", "overdue_issues"]].to_dict("index") == expected

    # The district map page itself: the district's summary and grid G0001's.
    monkeypatch.setenv("SIBAI_DB", str(path))
    shown = []
    # The app's caches are per process: start clean, and leave nothing of this database behind
    # (another test's district may have the same names and change counters).
    streamlit.cache_data.clear()
    streamlit.cache_resource.clear()
    try:
        for params in ({}, {"grid": "G0001"}):
            at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
            sign_in(at, "district")
            at.query_params.update(params)
            at.run()
            assert not at.exception, [e.value for e in at.exception]
            shown.append(next(m.value for m in at.markdown if "超期诉求" in m.value))
    finally:
        streamlit.cache_data.clear()
        streamlit.cache_resource.clear()
    assert shown[0].endswith("未结诉求: 4 · 超期诉求: 2")
    assert shown[1].endswith("未结诉求: 2 · 超期诉求: 1")
