"""The store's side of residents' issues: the ``issue_events`` history, opening, moving, escalating.

Every write happens in one :meth:`Store.transaction` (all or nothing, change
counters bumped) and goes through the pure rules of :mod:`geo.issues`:

* :func:`open_issue` / :func:`open_issues` open issues (from a form, the
  CLI or an importer of hotline and online reports) and record who found
  them; an external reference ``ref`` makes a repeated import harmless;
* :func:`transition` applies one action by one person, after applying the
  clock up to that moment;
* :func:`escalate_all` writes what the clock did to every open issue up to a
  moment; running it again changes nothing more (and writes nothing);
* :func:`read_history`, :func:`issue_detail`, :func:`read_issue_data` read.

The ``issue_events`` table
--------------------------
One row per event: ``event_id`` (assigned by the store), ``issue_id`` (→
``issues``, deleted with it), ``at`` (local time), ``actor`` (a worker id or
name; ``system`` for the clock), ``action`` (one of
:data:`geo.issues.EVENT_ACTIONS`), ``from_status``/``to_status``,
``from_level``/``to_level`` (``from_*`` empty for ``found``), ``note`` and
``ref`` (an external reference such as a hotline ticket number, unique when
set, on ``found`` events). It is created on first use, so databases built
before it existed keep working; an issue without events counts as found at
``opened_at`` at its current level and status.

Examples
--------
>>> import datetime as dt, tempfile, pathlib
>>> from geo.store import OutOfScope, Scope, open_store
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

import datetime as dt
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, Table, Text
from sqlalchemy.engine import Connection

from geo import issues as rules
from geo.clock import local_now
from geo.issues import IssueInvalid, NewIssue  # re-exported: defined with the rules
from geo.store import gpkg, schema
from geo.store.core import Scope, Store, frame_from_rows, parse_local

__all__ = [
    "EVENT_COLUMNS",
    "Escalation",
    "IssueDetail",
    "IssueInvalid",
    "Moved",
    "NewIssue",
    "Opened",
    "actors_for",
    "ensure_issue_log",
    "escalate_all",
    "issue_detail",
    "issue_events",
    "local_now",
    "open_issue",
    "open_issues",
    "read_history",
    "read_issue",
    "read_issue_data",
    "transition",
]


def _listed(column: str, values: Sequence[str]) -> CheckConstraint:
    names = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({names})", name=f"ck_issue_events_{column}")


issue_events = Table(
    "issue_events",
    schema.metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("issue_id", Integer, ForeignKey("issues.issue_id", ondelete="CASCADE"), nullable=False),
    Column("at", schema.LocalTime(), nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("from_status", Text),
    Column("to_status", Text, nullable=False),
    Column("from_level", Text),
    Column("to_level", Text, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("ref", Text, unique=True),
    _listed("action", rules.EVENT_ACTIONS),
    _listed("to_status", schema.STATUSES),
    _listed("to_level", schema.LEVELS),
    Index("ix_issue_events_issue", "issue_id", "at"),
)
"""The history of every issue (see the module docstring)."""

EVENT_COLUMNS = ("event_id", "issue_id", "at", "actor", "action", "from_status", "to_status",
                 "from_level", "to_level", "note", "ref")  # fmt: skip
"""The columns of :func:`read_history`, in order."""

_SEEN: weakref.WeakSet[Store] = weakref.WeakSet()
_READY: weakref.WeakSet[Store] = weakref.WeakSet()


def _has_log(store: Store) -> bool:
    """Tell whether the ``issue_events`` table exists (reads of a database without it find no events)."""
    if store in _SEEN:
        return True
    if sa.inspect(store.engine).has_table("issue_events"):
        _SEEN.add(store)
        return True
    return False


def ensure_issue_log(store: Store) -> None:
    """Create the ``issue_events`` table if it is missing, and register it in the GeoPackage.

    Once per store object; creating it changes no data, so the change
    counters stay as they are. (``Store.create_schema`` creates the table
    too once this module is imported, but registers only the foundation's
    tables in ``gpkg_contents``: this does the rest.)
    """
    if store in _READY:
        return
    with store.engine.connect() as conn:
        conn.execution_options(sibai_write=True)
        with conn.begin():
            schema.metadata.create_all(conn, tables=[issue_events])
            if store.backend == "sqlite":
                conn.exec_driver_sql(gpkg.register_attributes_sql("issue_events"))
    _SEEN.add(store)
    _READY.add(store)


def _bind(store: Store, value: dt.datetime | None) -> Any:
    """Bind a local time: ISO text in SQLite (text order is time order), a timestamp in PostgreSQL."""
    if value is None:
        return None
    value = value.replace(tzinfo=None, microsecond=0)
    return value if store.backend == "postgresql" else value.strftime("%Y-%m-%d %H:%M:%S")


def _limits(store: Store) -> dict[str, int]:
    return rules.limits_days(store.settings)


def _event_row(store: Store, issue_id: int, e: rules.Event, ref: str | None = None) -> dict[str, Any]:
    return {
        "issue_id": int(issue_id),
        "at": _bind(store, e.at),
        "actor": e.actor,
        "action": e.action,
        "from_status": e.from_status,
        "to_status": e.to_status,
        "from_level": e.from_level,
        "to_level": e.to_level,
        "note": e.note,
        "ref": ref,
    }


# ------------------------------------------------------------------ reads


def read_issue(store: Store, issue_id: int, *, scope: Scope) -> dict[str, Any]:
    """Return one issue's row as a dict (times as ``datetime``), or raise ``LookupError``.

    The row carries its grid's ``committee_id`` and ``street_id`` too. An
    issue outside ``scope`` raises :class:`~geo.store.OutOfScope`.
    """
    store.check_scope("issue", int(issue_id), scope=scope)
    i, g, c = schema.issues, schema.grids, schema.committees
    q = (
        sa.select(*i.c, g.c.committee_id, c.c.street_id)
        .join(g, g.c.grid_id == i.c.grid_id)
        .join(c, c.c.committee_id == g.c.committee_id)
        .where(i.c.issue_id == int(issue_id))
    )
    with store.engine.connect() as conn:
        row = conn.execute(q).mappings().first()
    if row is None:
        raise LookupError(f"no issue #{issue_id}")
    out = dict(row)
    for col in ("opened_at", "due_at", "closed_at"):
        out[col] = rules._opt_ts(parse_local(pd.Series([out[col]], dtype=object)).iloc[0])
    return out


def _events_of(conn: Connection, store: Store, issue_id: int) -> pd.DataFrame:
    e = issue_events
    q = sa.select(*(e.c[n] for n in EVENT_COLUMNS)).where(e.c.issue_id == int(issue_id))
    rows = conn.execute(q.order_by(e.c.at, e.c.event_id)).all()
    frame = frame_from_rows(rows, EVENT_COLUMNS)
    frame["at"] = parse_local(frame["at"]) if len(frame) else frame["at"].astype("datetime64[s]")
    frame["event_id"] = frame["event_id"].astype(np.int64)
    frame["issue_id"] = frame["issue_id"].astype(np.int64)
    return frame


def _empty_events() -> pd.DataFrame:
    frame = frame_from_rows([], EVENT_COLUMNS)
    frame["at"] = frame["at"].astype("datetime64[s]")
    return frame


def read_history(store: Store, issue_id: int, *, scope: Scope) -> pd.DataFrame:
    """Return the recorded events of one issue, oldest first (columns :data:`EVENT_COLUMNS`).

    Only what was recorded: :func:`issue_detail` adds the implied opening and
    the clock's pending escalations. An issue outside ``scope`` raises
    :class:`~geo.store.OutOfScope`.
    """
    store.check_scope("issue", int(issue_id), scope=scope)
    if not _has_log(store):
        return _empty_events()
    with store.engine.connect() as conn:
        return _events_of(conn, store, issue_id)


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
    row = read_issue(store, issue_id, scope=scope)
    events = rules.events_from_frame(read_history(store, issue_id, scope=scope))
    state, _ = rules.replay(
        events,
        opened_at=row["opened_at"],
        status=str(row["status"]),
        level=str(row["level"]),
        now=now,
        limits=limits,
    )
    history = rules.history_frame(
        events,
        opened_at=row["opened_at"],
        status=str(row["status"]),
        level=str(row["level"]),
        now=now,
        limits=limits,
    )
    since = history["action"].isin(["found", "reopen"])
    start = int(np.flatnonzero(since.to_numpy())[-1]) if since.any() else 0
    timed_out = int((history["action"].iloc[start:] == "escalate").sum()) if state.is_open else 0
    return IssueDetail(row=row, state=state, history=history, actions=rules.allowed_actions(state),
                       timed_out=timed_out)  # fmt: skip


def read_issue_data(
    store: Store, *, scope: Scope, closed_since: dt.date | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read what the issues page needs: the issues in ``scope``, and the clock's events of the open ones.

    ``closed_since`` leaves out issues closed before that day (the open ones
    are always read): the page needs only those closed in its period, and
    the district holds years of closed issues.

    Returns
    -------
    issues, events
        ``issues``: every column of the table plus ``committee_id`` and
        ``street_id``; ``events``: ``issue_id, at, action`` of the
        ``found``, ``reopen`` and ``escalate`` events of open issues (input to
        :func:`geo.issues.effective_issues`).
    """
    i = schema.issues
    where = None
    if closed_since is not None:
        since = dt.datetime.combine(closed_since, dt.time())
        where = sa.or_(i.c.status != "closed", i.c.closed_at >= _bind(store, since))
    issues = store.read_table("issues", scope=scope, where=where, order_by=["issue_id"])
    grids = store.read_table("grids", scope=scope, columns=["grid_id", "committee_id"])
    committees = store.read_table("committees", scope=scope, columns=["committee_id", "street_id"])
    committee = grids.set_index("grid_id")["committee_id"]
    street = committees.set_index("committee_id")["street_id"]
    issues["issue_id"] = issues["issue_id"].astype(np.int64)
    issues["committee_id"] = issues["grid_id"].map(committee).to_numpy(dtype=object)
    issues["street_id"] = issues["committee_id"].map(street).to_numpy(dtype=object)
    events = pd.DataFrame(
        {
            "issue_id": pd.Series(dtype=np.int64),
            "at": pd.Series(dtype="datetime64[s]"),
            "action": pd.Series(dtype=object),
        }
    )
    if _has_log(store):
        e = issue_events
        open_ids = sa.select(i.c.issue_id).where(i.c.status != "closed")
        in_scope = store.scope_filter(i, scope)
        if in_scope is not None:
            open_ids = open_ids.where(in_scope)
        q = sa.select(e.c.issue_id, e.c.at, e.c.action).where(
            e.c.action.in_(["found", "reopen", "escalate"]), e.c.issue_id.in_(open_ids)
        )
        with store.engine.connect() as conn:
            rows = conn.execute(q).all()
        if rows:
            events = frame_from_rows(rows, ["issue_id", "at", "action"])
            events["issue_id"] = events["issue_id"].astype(np.int64)
            events["at"] = parse_local(events["at"])
    return issues, events


def actors_for(store: Store, committee_id: str, *, scope: Scope) -> pd.DataFrame:
    """Return ``worker_id, name`` of the active workers of a committee (those in ``scope``), who may act."""
    w = schema.workers
    return store.read_table(
        "workers",
        scope=scope,
        columns=["worker_id", "name"],
        where=sa.and_(w.c.committee_id == committee_id, w.c.active == 1),
        order_by=["worker_id"],
    )


# ----------------------------------------------------------------- opening


@dataclass(frozen=True)
class Opened:
    """The result of opening one issue: its id, and whether it is new (false: ``ref`` was known)."""

    issue_id: int
    created: bool


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _lookup(
    conn: Connection, table: Table, key: str, values: set[str], cols: Sequence[str]
) -> dict[str, Any]:
    if not values:
        return {}
    q = sa.select(table.c[key], *(table.c[c] for c in cols)).where(
        table.c[key].in_(sa.bindparam("v", sorted(values), expanding=True))
    )
    return {r[0]: r[1] if len(cols) == 1 else tuple(r[1:]) for r in conn.execute(q)}


def _place(
    conn: Connection, drafts: Sequence[NewIssue], single: bool
) -> tuple[list[tuple[str, str | None, str | None]], list[IssueInvalid]]:
    """Resolve and check every draft's grid, building and household against the database."""
    h_ids = {_text(d.household_id) for d in drafts if _text(d.household_id)}
    hh = _lookup(conn, schema.households, "household_id", h_ids, ["building_id"])
    b_ids = {_text(d.building_id) for d in drafts if _text(d.building_id)} | {str(v) for v in hh.values()}
    bl = _lookup(conn, schema.buildings, "building_id", b_ids, ["grid_id"])
    g_ids = {_text(d.grid_id) for d in drafts if _text(d.grid_id)}
    gr = _lookup(conn, schema.grids, "grid_id", g_ids, ["grid_id"])
    places: list[tuple[str, str | None, str | None]] = []
    problems: list[IssueInvalid] = []
    for n, d in enumerate(drafts, start=1):
        h, b, g = _text(d.household_id) or None, _text(d.building_id) or None, _text(d.grid_id) or None
        if h is not None:
            if h not in hh:
                problems.append(IssueInvalid(n, "household_id", f"no household {h}", single=single))
                places.append(("", None, None))
                continue
            if b is not None and hh[h] != b:
                problems.append(IssueInvalid(n, "household_id", f"household {h} is in building {hh[h]}, "
                                             f"not {b}", single=single))  # fmt: skip
            b = b or str(hh[h])
        if b is not None:
            if b not in bl:
                problems.append(IssueInvalid(n, "building_id", f"no building {b}", single=single))
                places.append(("", None, None))
                continue
            if g is not None and bl[b] != g:
                problems.append(
                    IssueInvalid(n, "building_id", f"building {b} is in grid {bl[b]}, not {g}", single=single)
                )
            g = g or str(bl[b])
        if g is None or (g not in gr and g not in bl.values()):
            problems.append(IssueInvalid(n, "grid_id", f"no grid {g}", single=single))
            places.append(("", None, None))
            continue
        places.append((g, b, h))
    return places, problems


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
    who = rules.check_actor(actor)
    now = (now or local_now(store.settings)).replace(microsecond=0)
    single = len(drafts) == 1
    problems = rules.check_new_issues(drafts, now=now)
    if problems:
        raise problems[0]
    refs = [_text(d.ref) for d in drafts if d.ref is not None]
    if not drafts:
        return []
    ensure_issue_log(store)
    limits = _limits(store)
    with store.transaction() as conn:
        known = _lookup(conn, issue_events, "ref", set(refs), ["issue_id"]) if refs else {}
        places, problems = _place(conn, drafts, single)
        if problems:
            raise problems[0]
        # Checked on the resolved grid: _place made building and household agree with it.
        for g in dict.fromkeys(g for g, _, _ in places):
            store.check_scope("grid", g, scope=scope, conn=conn)
        todo = [i for i, d in enumerate(drafts) if d.ref is None or _text(d.ref) not in known]
        rows, found = [], []
        for i in todo:
            d = drafts[i]
            g, b, h = places[i]
            level = d.level or ("building" if b else "grid")
            opened = (d.opened_at or now).replace(microsecond=0, tzinfo=None)
            state = rules.found_state(opened, level=level, limits=limits)
            title = _text(d.title) or _text(d.category)
            rows.append(
                {
                    "grid_id": g,
                    "building_id": b,
                    "household_id": h,
                    "category": _text(d.category),
                    "source": d.source,
                    "level": level,
                    "status": "open",
                    "opened_at": _bind(store, opened),
                    "due_at": _bind(store, state.due_at),
                    "closed_at": None,
                    "title": title,
                }
            )
            found.append(rules.Event(opened, who, "found", None, "open", None, level, _text(d.note)))
        ids: list[int] = []
        if rows:
            stmt = schema.issues.insert().returning(schema.issues.c.issue_id, sort_by_parameter_order=True)
            ids = [int(r[0]) for r in conn.execute(stmt, rows)]
            conn.execute(
                issue_events.insert(),
                [
                    _event_row(store, k, e, _text(drafts[i].ref) if drafts[i].ref is not None else None)
                    for k, e, i in zip(ids, found, todo, strict=True)
                ],
            )
    new_ids = dict(zip(todo, ids, strict=True))
    return [
        Opened(new_ids[i], True) if i in new_ids else Opened(int(known[_text(d.ref)]), False)
        for i, d in enumerate(drafts)
    ]


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


# ----------------------------------------------------------------- moving


@dataclass(frozen=True)
class Moved:
    """The result of :func:`transition`: the new state and the events written (clock steps first)."""

    issue_id: int
    state: rules.IssueState
    events: tuple[rules.Event, ...]


def _write_state(conn: Connection, store: Store, issue_id: int, state: rules.IssueState) -> None:
    i = schema.issues
    conn.execute(
        i.update()
        .where(i.c.issue_id == int(issue_id))
        .values(
            status=state.status,
            level=state.level,
            due_at=_bind(store, state.due_at),
            closed_at=_bind(store, state.closed_at),
        )
    )


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
    ensure_issue_log(store)
    i = schema.issues
    with store.transaction() as conn:
        store.check_scope("issue", int(issue_id), scope=scope, conn=conn)
        row = conn.execute(
            sa.select(i.c.status, i.c.level, i.c.opened_at, i.c.due_at, i.c.closed_at)
            .where(i.c.issue_id == int(issue_id))
            .with_for_update()
        ).mappings().first()  # fmt: skip
        if row is None:
            raise LookupError(f"no issue #{issue_id}")
        values = dict(row)
        for col in ("opened_at", "due_at", "closed_at"):
            values[col] = rules._opt_ts(parse_local(pd.Series([values[col]], dtype=object)).iloc[0])
        events = rules.events_from_frame(_events_of(conn, store, issue_id))
        state = rules.state_from_row(values, events, limits=limits)
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
        conn.execute(issue_events.insert(), [_event_row(store, issue_id, e) for e in written])
        _write_state(conn, store, issue_id, new)
    return Moved(int(issue_id), new, written)


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


def _candidates(store: Store, now: dt.datetime) -> sa.Select[Any]:
    i = schema.issues
    return (
        sa.select(i.c.issue_id, i.c.status, i.c.level, i.c.opened_at, i.c.due_at)
        .where(
            i.c.status != "closed",
            i.c.level != schema.LEVELS[-1],
            sa.or_(i.c.due_at < _bind(store, now), i.c.due_at.is_(None)),
        )
        .order_by(i.c.issue_id)
    )


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

    def pending(conn: Connection) -> pd.DataFrame:
        query = _candidates(store, now)
        if conn.in_transaction() and store.backend == "postgresql":
            query = query.with_for_update()
        frame = frame_from_rows(
            conn.execute(query).all(), ["issue_id", "status", "level", "opened_at", "due_at"]
        )
        for col in ("opened_at", "due_at"):
            frame[col] = parse_local(frame[col]) if len(frame) else frame[col].astype("datetime64[s]")
        frame["issue_id"] = frame["issue_id"].astype(np.int64)
        return rules.escalation_steps_frame(frame, now=now, limits=limits)

    # Look first without the write lock: nothing to do writes nothing, not even the change counter.
    with store.engine.connect() as conn:
        steps = pending(conn)
    if len(steps) == 0:
        return Escalation(now, steps)
    ensure_issue_log(store)
    try:
        with store.transaction() as conn:
            # Again under the lock: another run may have written these steps meanwhile.
            steps = pending(conn)
            if len(steps) == 0:
                raise _NothingToDo
            _write_steps(conn, store, steps, limits)
    except _NothingToDo:
        # Rolled back: the change counter stays as it was.
        return Escalation(now, steps)
    return Escalation(now, steps)


class _NothingToDo(Exception):
    """Raised inside a transaction to leave it without writing anything."""


def _write_steps(conn: Connection, store: Store, steps: pd.DataFrame, limits: Mapping[str, int]) -> None:
    """Insert the clock's steps as events and move each issue to where its last step left it."""
    conn.execute(
        issue_events.insert(),
        [
            {
                "issue_id": int(s.issue_id),
                "at": _bind(store, s.at.to_pydatetime()),
                "actor": rules.SYSTEM_ACTOR,
                "action": "escalate",
                "from_status": s.status,
                "to_status": s.status,
                "from_level": s.from_level,
                "to_level": s.to_level,
                "note": f"time limit of {limits[s.from_level]} days at {s.from_level} level passed",
                "ref": None,
            }
            for s in steps.itertuples(index=False)
        ],
    )
    last = steps.groupby("issue_id", sort=False).tail(1)
    i = schema.issues
    conn.execute(
        i.update()
        .where(i.c.issue_id == sa.bindparam("k"))
        .values(level=sa.bindparam("lv"), due_at=sa.bindparam("due")),
        [
            {"k": int(s.issue_id), "lv": s.to_level, "due": _bind(store, s.due_at.to_pydatetime())}
            for s in last.itertuples(index=False)
        ],
    )


# ----------------------------------------------------------------- following changes


def issue_marks(store: Store) -> tuple[int, int, int]:
    """Return ``(issues held, highest issue id, highest event id)``: where a reader of issues stands.

    Every change of an issue's state writes an event (:func:`transition`,
    :func:`escalate_all`) and every new issue takes a higher id, so a reader
    that remembers these marks reads later only what changed since
    (:func:`read_changed_issues`); deleting issues replaces data (a new reset
    version), and the count tells a reader that missed one.
    """
    i = schema.issues
    with store.engine.connect() as conn:
        count, top = conn.execute(sa.select(sa.func.count(), sa.func.max(i.c.issue_id))).one()
        event = (
            conn.execute(sa.select(sa.func.max(issue_events.c.event_id))).scalar() if _has_log(store) else 0
        )
    return int(count or 0), int(top or 0), int(event or 0)


def read_changed_issues(
    store: Store, *, columns: Sequence[str], after_issue: int, after_event: int, scope: Scope
) -> pd.DataFrame:
    """Read the issues in ``scope`` opened above id ``after_issue`` or with an event above ``after_event``."""
    i = schema.issues
    changed: sa.ColumnElement[bool] = i.c.issue_id > int(after_issue)
    if _has_log(store):
        moved = sa.select(issue_events.c.issue_id).where(issue_events.c.event_id > int(after_event))
        changed = sa.or_(changed, i.c.issue_id.in_(moved))
    return store.read_table("issues", scope=scope, columns=list(columns), where=changed)
