"""The store's side of residents' issues: the ``issue_events`` history, the issues' rows, and their writes.

It loads and reads; it decides nothing. Checking new issues, the state
machine and the clock are :mod:`geo.issues` (pure), applied by
:mod:`geo.issues.workflow` inside this module's transactions:

* :func:`insert_issues` (with :func:`issue_places` and :func:`issues_by_ref`,
  which read what new issues are checked against) writes new issues and
  their ``found`` events through a connection the caller holds, so that a
  visit and the issue found on it are written in one transaction;
* :func:`move_issue` runs a caller's ``decide(row, events)`` on one issue
  under a row lock and writes the events and the row it returns;
* :func:`escalate_overdue` does the same for every open issue past its due
  time, writing nothing when there is nothing to write;
* :func:`read_issue`, :func:`read_history`, :func:`read_issue_data`,
  :func:`actors_for`, :func:`issue_marks`, :func:`read_changed_issues` read.

The ``issue_events`` table
--------------------------
One row per event: ``event_id`` (assigned by the store), ``issue_id`` (→
``issues``, deleted with it), ``at`` (local time), ``actor`` (a worker id or
name; ``system`` for the clock), ``action`` (one of
:data:`geo.store.schema.EVENT_ACTIONS`), ``from_status``/``to_status``,
``from_level``/``to_level`` (``from_*`` empty for ``found``), ``note`` and
``ref`` (an external reference such as a hotline ticket number, unique when
set, on ``found`` events). It is created on first use, so databases built
before it existed keep working; an issue without events counts as found at
``opened_at`` at its current level and status.
"""

from __future__ import annotations

import datetime as dt
import functools
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, Table, Text
from sqlalchemy.engine import Connection

from geo.clock import local_now
from geo.store import gpkg, schema
from geo.store.core import Scope, Store, frame_from_rows, parse_local

__all__ = [
    "EVENT_COLUMNS",
    "EventRecord",
    "IssueWrite",
    "Places",
    "actors_for",
    "ensure_issue_log",
    "escalate_overdue",
    "insert_issues",
    "issue_events",
    "issue_marks",
    "issue_places",
    "issues_by_ref",
    "local_now",
    "move_issue",
    "read_changed_issues",
    "read_history",
    "read_issue",
    "read_issue_data",
    "write_issues",
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
    _listed("action", schema.EVENT_ACTIONS),
    _listed("to_status", schema.STATUSES),
    _listed("to_level", schema.LEVELS),
    Index("ix_issue_events_issue", "issue_id", "at"),
)
"""The history of every issue (see the module docstring)."""

EVENT_COLUMNS = ("event_id", "issue_id", "at", "actor", "action", "from_status", "to_status",
                 "from_level", "to_level", "note", "ref")  # fmt: skip
"""The columns of :func:`read_history`, in order."""

T = TypeVar("T")

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
    return _row_times(row)


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


# ----------------------------------------------------------------- writes
# Primitives: the deciding (checks, the state machine, the clock) is the
# caller's, :mod:`geo.issues.workflow`; these give it the rows it decides on
# and write what it decided, inside one transaction.


class EventRecord(Protocol):
    """One event to write: what :class:`geo.issues.Event` holds."""

    @property
    def at(self) -> dt.datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def from_status(self) -> str | None: ...
    @property
    def to_status(self) -> str: ...
    @property
    def from_level(self) -> str | None: ...
    @property
    def to_level(self) -> str: ...
    @property
    def note(self) -> str: ...


@dataclass(frozen=True)
class IssueWrite:
    """What to write for one issue: events to append, and new values of its row."""

    issue_id: int
    events: Sequence[EventRecord]
    values: Mapping[str, Any]
    """Columns of ``issues`` to set (``status``, ``level``, ``due_at``, ``closed_at``), times as datetimes."""


_TIME_VALUES = frozenset({"opened_at", "due_at", "closed_at"})


def _event_row(store: Store, issue_id: int, e: EventRecord, ref: str | None = None) -> dict[str, Any]:
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


def write_issues(conn: Connection, store: Store, writes: Sequence[IssueWrite]) -> None:
    """Append every write's events and set its row's values, through ``conn`` (a write transaction).

    Rows that set the same columns are updated in one ``executemany``.
    """
    events = [_event_row(store, w.issue_id, e) for w in writes for e in w.events]
    if events:
        conn.execute(issue_events.insert(), events)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for w in writes:
        row = {f"v_{k}": _bind(store, v) if k in _TIME_VALUES else v for k, v in w.values.items()}
        groups.setdefault(tuple(sorted(w.values)), []).append({"k": int(w.issue_id), **row})
    i = schema.issues
    for cols, rows in groups.items():
        if cols:
            stmt = i.update().where(i.c.issue_id == sa.bindparam("k"))
            conn.execute(stmt.values({c: sa.bindparam(f"v_{c}") for c in cols}), rows)


def _row_times(row: Mapping[str, Any] | sa.RowMapping) -> dict[str, Any]:
    out = dict(row)
    for col in ("opened_at", "due_at", "closed_at"):
        if col in out:
            value = parse_local(pd.Series([out[col]], dtype=object)).iloc[0]
            out[col] = None if pd.isna(value) else pd.Timestamp(value).to_pydatetime()
    return out


def move_issue(
    store: Store,
    issue_id: int,
    decide: Callable[[Mapping[str, Any], pd.DataFrame], tuple[T, IssueWrite]],
    *,
    scope: Scope,
) -> T:
    """Run ``decide(row, events)`` on one issue under a row lock and write what it returns, atomically.

    ``row`` holds ``status, level, opened_at, due_at, closed_at`` (times as
    ``datetime``), ``events`` its history (:func:`read_history`'s columns).
    ``decide`` returns its own result and the :class:`IssueWrite`; raising
    writes nothing. An issue outside ``scope`` raises
    :class:`~geo.store.OutOfScope`, an unknown one ``LookupError``.
    """
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
        result, write = decide(_row_times(row), _events_of(conn, store, issue_id))
        write_issues(conn, store, [write])
    return result


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


def _overdue(conn: Connection, store: Store, now: dt.datetime) -> pd.DataFrame:
    query = _candidates(store, now)
    if conn.in_transaction() and store.backend == "postgresql":
        query = query.with_for_update()
    frame = frame_from_rows(conn.execute(query).all(), ["issue_id", "status", "level", "opened_at", "due_at"])
    for col in ("opened_at", "due_at"):
        frame[col] = parse_local(frame[col]) if len(frame) else frame[col].astype("datetime64[s]")
    frame["issue_id"] = frame["issue_id"].astype(np.int64)
    return frame


class _NothingToDo(Exception):
    """Raised inside a transaction to leave it without writing anything."""


def escalate_overdue(
    store: Store,
    decide: Callable[[pd.DataFrame], tuple[T, Sequence[IssueWrite]]],
    *,
    now: dt.datetime,
) -> T:
    """Run ``decide`` on the open issues past their due time at ``now`` and write what it returns.

    ``decide`` gets ``issue_id, status, level, opened_at, due_at`` of the
    open issues below the top of the ladder whose ``due_at`` is before
    ``now`` (or missing). It is run first without the write lock: no writes
    write nothing, not even the change counter. Otherwise it is run again
    under the lock (another run may have written meanwhile) and its writes
    are applied in that transaction. Concurrent runs queue on the write lock
    (SQLite) or the rows' locks (PostgreSQL).
    """
    with store.engine.connect() as conn:
        result, writes = decide(_overdue(conn, store, now))
    if not writes:
        return result
    ensure_issue_log(store)
    try:
        with store.transaction() as conn:
            result, writes = decide(_overdue(conn, store, now))
            if not writes:
                raise _NothingToDo
            write_issues(conn, store, writes)
    except _NothingToDo:
        pass  # rolled back: the change counter stays as it was
    return result


@dataclass(frozen=True)
class Places:
    """Where the database puts the households, buildings and grids that new issues name."""

    household_building: Mapping[str, str]
    building_grid: Mapping[str, str]
    grids: frozenset[str]


@functools.cache
def _lookup_query(table: str, key: str, col: str) -> sa.Select[Any]:
    """Build once: ``key, col`` of the rows of ``table`` whose ``key`` is in the list ``v``.

    A visit that opens an issue runs two of these in its transaction; built
    per call, the statement costs more CPU than the query.
    """
    t = issue_events if table == "issue_events" else schema.table(table)
    return sa.select(t.c[key], t.c[col]).where(t.c[key].in_(sa.bindparam("v", expanding=True)))


def _lookup(conn: Connection, table: str, key: str, values: set[str], col: str) -> dict[str, Any]:
    if not values:
        return {}
    return {r[0]: r[1] for r in conn.execute(_lookup_query(table, key, col), {"v": sorted(values)})}


def issue_places(conn: Connection, *, households: set[str], buildings: set[str], grids: set[str]) -> Places:
    """Read the building of each of ``households``, the grid of each building, and which ``grids`` exist.

    The buildings of the households found are looked up too.
    """
    hh = _lookup(conn, "households", "household_id", households, "building_id")
    bl = _lookup(conn, "buildings", "building_id", buildings | {str(v) for v in hh.values()}, "grid_id")
    gr = _lookup(conn, "grids", "grid_id", grids, "grid_id")
    return Places(hh, bl, frozenset(gr))


def issues_by_ref(conn: Connection, refs: set[str]) -> dict[str, int]:
    """Return the id of the issue opened with each of ``refs`` that is recorded."""
    found = _lookup(conn, "issue_events", "ref", refs, "issue_id")
    return {str(k): int(v) for k, v in found.items()}


@functools.cache
def _insert_query() -> sa.Insert:
    """Build once: insert issues, returning their ids in the order of the rows."""
    return schema.issues.insert().returning(schema.issues.c.issue_id, sort_by_parameter_order=True)


def insert_issues(
    conn: Connection,
    store: Store,
    rows: Sequence[Mapping[str, Any]],
    found: Sequence[tuple[EventRecord, str | None]],
) -> list[int]:
    """Insert issue ``rows`` (times as ``datetime``) and each one's ``found`` event with its ``ref``.

    Returns the new ids, in order. Call :func:`ensure_issue_log` before the
    transaction.
    """
    if not rows:
        return []
    bound = [{k: _bind(store, v) if k in _TIME_VALUES else v for k, v in r.items()} for r in rows]
    ids = [int(r[0]) for r in conn.execute(_insert_query(), bound)]
    conn.execute(
        issue_events.insert(),
        [_event_row(store, k, e, ref) for k, (e, ref) in zip(ids, found, strict=True)],
    )
    return ids


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


def count_issues_between(store: Store, *, above: int, up_to: int) -> int:
    """Return how many issues of the whole district have an id in ``(above, up_to]``.

    A reader that held ``n`` issues at mark ``above`` should hold ``n`` plus
    this many at mark ``up_to`` (:func:`issue_marks`); any other count means
    issues were deleted (or, as a safety net, committed out of id order, which
    the store's writer queue prevents: ``Store._bump``), and it reads them all.
    """
    i = schema.issues
    query = sa.select(sa.func.count()).where(i.c.issue_id > int(above), i.c.issue_id <= int(up_to))
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)
