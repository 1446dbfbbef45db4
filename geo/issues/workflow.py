"""Opening, moving and escalating issues: the rules of :mod:`geo.issues` applied in the store's transactions.

The store (:mod:`geo.store.issue_log`) reads and writes; everything decided
here is pure :mod:`geo.issues`. Every write is one transaction (all or
nothing, change counters bumped):

* :func:`open_issue` / :func:`open_issues` check new issues, place them (by
  grid, building or household) and record who found each; an external
  reference ``ref`` makes a repeated import harmless. :func:`open_on` is the
  same inside a transaction the caller holds, and :func:`visit_issue_opener`
  opens the need found on a visit with the visit
  (:func:`geo.visits.record_visit`): one way to open an issue;
* :func:`transition` applies one action by one person, after applying the
  clock up to that moment, under the issue's row lock;
* :func:`escalate_all` writes what the clock did to every open issue up to a
  moment; running it again changes nothing more (and writes nothing);
* :func:`issue_detail` reads one issue and how it stands now.

Examples
--------
>>> import datetime as dt, tempfile, pathlib
>>> from geo.store import OutOfScope, Scope, open_store
>>> from geo.store.issue_log import read_history, read_issue
>>> from geo.demo import install_demo
>>> store = open_store(str(pathlib.Path(tempfile.mkdtemp()) / "i.gpkg"), create=True)
>>> _ = install_demo(store, scale="tiny", seed=1, as_of=dt.date(2024, 6, 28))
>>> t = dt.datetime(2024, 6, 28, 9, 0)
>>> everything = Scope.everything()
>>> new = open_issue(store, grid_id="G0001", category="停车难", source="hotline", level="grid",
...                  actor="W0001", opened_at=t, now=t, scope=everything)
>>> moved = transition(store, new.issue_id, "dispatch", actor="W0001", at=t + dt.timedelta(hours=1),
...                    scope=everything)
>>> moved.state.status
'dispatched'
>>> history = read_history(store, new.issue_id, scope=Scope.everything())
>>> history[["actor", "action", "to_status"]].values.tolist()
[['W0001', 'found', 'open'], ['W0001', 'dispatch', 'dispatched']]
>>> try:  # a grid leader of G0002 asks for G0001's issue
...     read_history(store, new.issue_id, scope=Scope.of(grids=["G0002"]))
... except OutOfScope as exc:
...     print(exc.kind)
issue
>>> try:  # ... or tries to move it: refused, nothing written
...     transition(store, new.issue_id, "handle", actor="W0001", scope=Scope.of(grids=["G0002"]))
... except OutOfScope as exc:
...     print(exc.kind, read_issue(store, new.issue_id, scope=everything)["status"])
issue dispatched
>>> store.close()
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from geo import issues as rules
from geo.clock import local_now
from geo.issues import IssueInvalid, NewIssue
from geo.store import Scope, Store, issue_log, schema
from geo.store.records import NewVisit

__all__ = [
    "VISIT_LEVELS",
    "Escalation",
    "IssueDetail",
    "IssueInvalid",
    "Moved",
    "NewIssue",
    "Opened",
    "escalate_all",
    "issue_detail",
    "open_issue",
    "open_issues",
    "open_on",
    "transition",
    "visit_issue_opener",
]

VISIT_LEVELS = ("building", "grid")
"""Levels an issue found on a visit may start at (the household's building unless it says grid)."""


def _limits(store: Store) -> dict[str, int]:
    return rules.limits_days(store.settings)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


# ----------------------------------------------------------------- opening


@dataclass(frozen=True)
class Opened:
    """The result of opening one issue: its id, and whether it is new (false: ``ref`` was known)."""

    issue_id: int
    created: bool


Place = tuple[str, str | None, str | None]
"""Where an issue is: grid, building, household."""


def _place_one(
    n: int, d: NewIssue, places: issue_log.Places, single: bool
) -> tuple[Place | None, list[IssueInvalid]]:
    """Resolve one draft's grid, building and household; return ``None`` and why when it cannot be."""
    hh, bl = places.household_building, places.building_grid
    h, b, g = _text(d.household_id) or None, _text(d.building_id) or None, _text(d.grid_id) or None
    problems: list[IssueInvalid] = []
    if h is not None:
        if h not in hh:
            return None, [IssueInvalid(n, "household_id", f"no household {h}", single=single)]
        if b is not None and hh[h] != b:
            problems.append(IssueInvalid(n, "household_id", f"household {h} is in building {hh[h]}, "
                                         f"not {b}", single=single))  # fmt: skip
        b = b or str(hh[h])
    if b is not None:
        if b not in bl:
            return None, [*problems, IssueInvalid(n, "building_id", f"no building {b}", single=single)]
        if g is not None and bl[b] != g:
            problems.append(
                IssueInvalid(n, "building_id", f"building {b} is in grid {bl[b]}, not {g}", single=single)
            )
        g = g or str(bl[b])
    if g is None or (g not in places.grids and g not in bl.values()):
        return None, [*problems, IssueInvalid(n, "grid_id", f"no grid {g}", single=single)]
    return (g, b, h), problems


def _place(conn: Connection, drafts: Sequence[NewIssue]) -> list[Place]:
    """Resolve every draft's grid, building and household against the database; raise the first problem."""
    places = issue_log.issue_places(
        conn,
        households={_text(d.household_id) for d in drafts if _text(d.household_id)},
        buildings={_text(d.building_id) for d in drafts if _text(d.building_id)},
        grids={_text(d.grid_id) for d in drafts if _text(d.grid_id)},
    )
    single = len(drafts) == 1
    out: list[Place] = []
    problems: list[IssueInvalid] = []
    for n, d in enumerate(drafts, start=1):
        place, found = _place_one(n, d, places, single)
        problems += found
        out.append(place or ("", None, None))
    if problems:
        raise problems[0]
    return out


def _checked(
    drafts: Sequence[NewIssue], actor: str, now: dt.datetime | None, store: Store
) -> tuple[str, dt.datetime]:
    """Check what needs no database: return the actor and the moment, or raise the first problem."""
    who = rules.check_actor(actor)
    when = (now or local_now(store.settings)).replace(microsecond=0)
    problems = rules.check_new_issues(drafts, now=when)
    if problems:
        raise problems[0]
    return who, when


def open_on(
    conn: Connection,
    store: Store,
    drafts: Sequence[NewIssue],
    *,
    actor: str,
    scope: Scope,
    now: dt.datetime,
) -> list[Opened]:
    """Open checked ``drafts`` through ``conn``, a write transaction the caller holds (:func:`open_issues`).

    ``actor`` and ``drafts`` have passed :func:`geo.issues.check_actor` and
    :func:`geo.issues.check_new_issues`; :func:`geo.store.issue_log.ensure_issue_log`
    has run. Raises :class:`IssueInvalid` for a place the database does not
    hold, :class:`~geo.store.OutOfScope` for one outside ``scope``.
    """
    refs = {_text(d.ref) for d in drafts if d.ref is not None}
    known = issue_log.issues_by_ref(conn, refs) if refs else {}
    places = _place(conn, drafts)
    # Checked on the resolved grid: _place made building and household agree with it.
    for g in dict.fromkeys(g for g, _, _ in places):
        store.check_scope("grid", g, scope=scope, conn=conn)
    limits = _limits(store)
    todo = [i for i, d in enumerate(drafts) if d.ref is None or _text(d.ref) not in known]
    rows, found = [], []
    for i in todo:
        d = drafts[i]
        g, b, h = places[i]
        level = d.level or ("building" if b else "grid")
        opened = (d.opened_at or now).replace(microsecond=0, tzinfo=None)
        state = rules.found_state(opened, level=level, limits=limits)
        rows.append({"grid_id": g, "building_id": b, "household_id": h, "category": _text(d.category),
                     "source": d.source, "level": level, "status": "open", "opened_at": opened,
                     "due_at": state.due_at, "closed_at": None,
                     "title": _text(d.title) or _text(d.category)})  # fmt: skip
        event = rules.Event(opened, actor, "found", None, "open", None, level, _text(d.note))
        found.append((event, _text(d.ref) if d.ref is not None else None))
    new_ids = dict(zip(todo, issue_log.insert_issues(conn, store, rows, found), strict=True))
    return [
        Opened(new_ids[i], True) if i in new_ids else Opened(known[_text(d.ref)], False)
        for i, d in enumerate(drafts)
    ]


def open_issues(
    store: Store,
    drafts: Sequence[NewIssue],
    *,
    actor: str,
    scope: Scope,
    now: dt.datetime | None = None,
) -> list[Opened]:
    """Open several issues in one transaction (all or none) and record who found each.

    Every problem of every draft is checked before anything is written; the
    first is raised as :class:`IssueInvalid` naming the issue (counted from
    1) and the field. A draft whose ``ref`` is already recorded is not opened
    again: its existing id comes back with ``created=False``.

    Parameters
    ----------
    actor
        Who records them: a worker id or name (an importer may give e.g.
        ``import:hotline``).
    scope
        The caller's area: a draft placed (by its grid, building or
        household) in a grid outside it raises :class:`~geo.store.OutOfScope`
        and nothing is opened. ``Scope.everything()`` for an operator.
    now
        The current local time (default: now), for the default ``opened_at``
        and the check that no issue is opened in the future.
    """
    who, now = _checked(drafts, actor, now, store)
    if not drafts:
        return []
    issue_log.ensure_issue_log(store)
    with store.transaction() as conn:
        return open_on(conn, store, drafts, actor=who, scope=scope, now=now)


def open_issue(
    store: Store,
    *,
    category: str,
    source: str,
    actor: str,
    grid_id: str | None = None,
    building_id: str | None = None,
    household_id: str | None = None,
    level: str | None = None,
    title: str = "",
    opened_at: dt.datetime | None = None,
    note: str = "",
    ref: str | None = None,
    now: dt.datetime | None = None,
    scope: Scope,
) -> Opened:
    """Open one issue and record who found it (see :class:`NewIssue` and :func:`open_issues`).

    This is the call for an importer of hotline and online reports: give
    ``source="hotline"`` or ``"online"``, where it is, the category and
    title, when it was reported (``opened_at``), and the ticket number as
    ``ref`` so that importing the same file twice opens nothing twice.
    """
    draft = NewIssue(
        category=category,
        source=source,
        grid_id=grid_id,
        building_id=building_id,
        household_id=household_id,
        level=level,
        title=title,
        opened_at=opened_at,
        note=note,
        ref=ref,
    )
    return open_issues(store, [draft], actor=actor, scope=scope, now=now)[0]


def visit_issue_opener(
    store: Store, visit: NewVisit, issue: NewIssue, *, scope: Scope
) -> Callable[[Connection], int]:
    """Check the need found on ``visit`` and return what opens it inside the visit's transaction.

    The issue is the household's, ``source="visit"``, found by the visit's
    worker at the visit's time, at level ``building`` unless it says
    ``grid`` (:data:`VISIT_LEVELS`): checked and opened as every other issue
    (:func:`open_on`), with its ``found`` event. Raises :class:`IssueInvalid`
    before anything is written.
    """
    level = issue.level or "building"
    if level not in VISIT_LEVELS:
        raise IssueInvalid(
            1, "level", f"an issue found on a visit starts at level building or grid, not {issue.level!r}",
            single=True,
        )  # fmt: skip
    opened = visit.visited_at.replace(tzinfo=None, microsecond=0)
    draft = dataclasses.replace(
        issue, source="visit", household_id=visit.household_id, level=level, opened_at=opened
    )
    who, now = _checked([draft], visit.worker_id, opened, store)
    issue_log.ensure_issue_log(store)
    return lambda conn: open_on(conn, store, [draft], actor=who, scope=scope, now=now)[0].issue_id


# ----------------------------------------------------------------- moving


@dataclass(frozen=True)
class Moved:
    """The result of :func:`transition`: the new state and the events written (clock steps first)."""

    issue_id: int
    state: rules.IssueState
    events: tuple[rules.Event, ...]


def _state_values(state: rules.IssueState) -> dict[str, Any]:
    return {
        "status": state.status,
        "level": state.level,
        "due_at": state.due_at,
        "closed_at": state.closed_at,
    }


def transition(
    store: Store,
    issue_id: int,
    action: str,
    *,
    actor: str,
    note: str = "",
    at: dt.datetime | None = None,
    expect_status: str | None = None,
    scope: Scope,
) -> Moved:
    """Apply ``action`` by ``actor`` to an issue, in one transaction, and record it.

    The clock is applied first, up to ``at`` (default: now), and its steps
    are recorded too. Then the action is checked against the rules of
    :mod:`geo.issues`; a refused one writes nothing.

    Parameters
    ----------
    action
        One of :data:`geo.issues.ACTIONS`.
    expect_status
        The status the person saw: if the issue has moved since (someone
        else acted first), the action is refused rather than applied to a
        state nobody looked at.
    scope
        The caller's area; ``Scope.everything()`` for an operator.

    Raises
    ------
    LookupError
        No such issue.
    geo.store.OutOfScope
        The issue lies outside ``scope``; nothing is written.
    geo.issues.TransitionRefused
        The action is impossible or forbidden; the message starts with
        ``issue #ID:``.
    """
    try:
        rules.check_action(action)
        rules.check_actor(actor)
    except rules.TransitionRefused as exc:
        raise exc.about(int(issue_id)) from None
    when = (at or local_now(store.settings)).replace(microsecond=0, tzinfo=None)
    limits = _limits(store)

    def decide(row: Mapping[str, Any], history: pd.DataFrame) -> tuple[Moved, issue_log.IssueWrite]:
        state = rules.state_from_row(row, rules.events_from_frame(history), limits=limits)
        try:
            if expect_status is not None and state.status != expect_status:
                raise rules.TransitionRefused(
                    "changed",
                    f"it changed meanwhile: it is now {state.status}, not {expect_status}; look again",
                    status=state.status,
                    expected=expect_status,
                )
            state, steps = rules.escalate(state, when, limits=limits)
            new, event = rules.apply_action(state, action, actor=actor, at=when, note=note, limits=limits)
        except rules.TransitionRefused as exc:
            raise exc.about(int(issue_id)) from None
        written = (*steps, event)
        return Moved(int(issue_id), new, written), issue_log.IssueWrite(
            int(issue_id), written, _state_values(new)
        )

    return issue_log.move_issue(store, int(issue_id), decide, scope=scope)


# -------------------------------------------------------------- escalation


@dataclass(frozen=True)
class Escalation:
    """What :func:`escalate_all` did: one row per step, and the moment it was run for."""

    now: dt.datetime
    steps: pd.DataFrame = field(repr=False)
    """``issue_id, at, status, from_level, to_level, due_at`` of every step written."""

    @property
    def issues(self) -> int:
        """How many issues moved (by one step or more)."""
        return int(self.steps["issue_id"].nunique())

    def per_level(self) -> pd.DataFrame:
        """Return the steps counted per rung of the ladder, lowest first (every rung listed)."""
        rungs = pd.DataFrame({"from_level": list(schema.LEVELS[:-1]), "to_level": list(schema.LEVELS[1:])})
        counts = self.steps.groupby(["from_level", "to_level"]).size().rename("issues").reset_index()
        out = rungs.merge(counts, how="left", on=["from_level", "to_level"])
        out["issues"] = out["issues"].fillna(0).astype(np.int64)
        return out


def _escalation_writes(steps: pd.DataFrame, limits: Mapping[str, int]) -> list[issue_log.IssueWrite]:
    """Return the clock's steps as ``escalate`` events by ``system``; each issue ends at its last step."""
    events: dict[int, list[rules.Event]] = {}
    values: dict[int, dict[str, Any]] = {}
    for s in steps.itertuples(index=False):
        note = f"time limit of {limits[s.from_level]} days at {s.from_level} level passed"
        event = rules.Event(s.at.to_pydatetime(), rules.SYSTEM_ACTOR, "escalate", s.status, s.status,
                            s.from_level, s.to_level, note)  # fmt: skip
        events.setdefault(int(s.issue_id), []).append(event)
        values[int(s.issue_id)] = {"level": s.to_level, "due_at": s.due_at.to_pydatetime()}
    return [issue_log.IssueWrite(k, events[k], values[k]) for k in events]


def escalate_all(store: Store, *, now: dt.datetime | None = None) -> Escalation:
    """Record every escalation the clock has made up to ``now`` (default: local now).

    Each open issue past its limit moves up, one level per missed limit, with
    an ``escalate`` event by ``system`` dated when the limit ran out.
    Idempotent: a second run for the same (or an earlier) moment finds
    nothing to do and writes nothing — not even the change counter.
    Concurrent runs queue on the write lock (SQLite) or the rows' locks
    (PostgreSQL) and never write a step twice.
    """
    now = (now or local_now(store.settings)).replace(microsecond=0, tzinfo=None)
    limits = _limits(store)

    def decide(overdue: pd.DataFrame) -> tuple[pd.DataFrame, list[issue_log.IssueWrite]]:
        steps = rules.escalation_steps_frame(overdue, now=now, limits=limits)
        return steps, _escalation_writes(steps, limits)

    return Escalation(now, issue_log.escalate_overdue(store, decide, now=now))


# ----------------------------------------------------------------- reading


@dataclass(frozen=True)
class IssueDetail:
    """One issue as it stands at ``now``: its row, its state, its full history, what can be done."""

    row: Mapping[str, Any]
    state: rules.IssueState
    history: pd.DataFrame
    """:func:`geo.issues.history_frame`: recorded events, the implied opening, pending escalations."""
    actions: tuple[str, ...]
    timed_out: int
    """Time limits missed since it was last found or reopened."""


def issue_detail(store: Store, issue_id: int, *, scope: Scope, now: dt.datetime | None = None) -> IssueDetail:
    """Read one issue and its history and return how it stands at ``now`` (default: local now).

    Raises ``LookupError`` for an unknown issue, :class:`~geo.store.OutOfScope`
    for one outside ``scope``.
    """
    now = now or local_now(store.settings)
    limits = _limits(store)
    row = issue_log.read_issue(store, issue_id, scope=scope)
    events = rules.events_from_frame(issue_log.read_history(store, issue_id, scope=scope))
    at = {"opened_at": row["opened_at"], "status": str(row["status"]), "level": str(row["level"])}
    state, _ = rules.replay(events, **at, now=now, limits=limits)
    history = rules.history_frame(events, **at, now=now, limits=limits)
    since = history["action"].isin(["found", "reopen"])
    start = int(np.flatnonzero(since.to_numpy())[-1]) if since.any() else 0
    timed_out = int((history["action"].iloc[start:] == "escalate").sum()) if state.is_open else 0
    return IssueDetail(row=row, state=state, history=history, actions=rules.allowed_actions(state),
                       timed_out=timed_out)  # fmt: skip
