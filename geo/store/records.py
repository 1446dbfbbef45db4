"""The store's writes of visits (and of the issue found on one), the grid page's reads, the access log.

Everything here runs through :meth:`Store.transaction` (writes) or the
store's engine (reads) with SQLAlchemy Core on the tables of
:mod:`geo.store.schema`, so it works the same on SQLite/GeoPackage and on
PostgreSQL + PostGIS.

Idempotency
-----------
A visit may carry an *idempotency key* (``visits.idem_key``, unique). Writing
a visit whose key is already stored writes nothing and returns the stored
visit, so a form submitted twice or a command run twice records one visit.
A stored key is answered by a read alone (no change counter moves); writers
racing with the same key are settled by the unique index (``INSERT … ON
CONFLICT (idem_key) DO NOTHING``), the loser returning the winner's visit.
A key reused for *different* details is refused (:class:`IdempotencyConflict`).

The access log
--------------
Showing personal data in full is logged in the audit trail, which
:mod:`geo.store.audit` owns (append-only, enforced by the database);
:func:`log_access`, :func:`read_audit` and :data:`AUDIT` remain here as thin
aliases. Writing a row does not bump ``data_version``: no cache depends on it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection

from geo.store import audit, schema
from geo.store.core import Scope, Store, StoreError, _first_line, parse_local, query_frame

__all__ = [
    "AUDIT",
    "GridRecords",
    "IdempotencyConflict",
    "NewVisit",
    "Recorded",
    "UnknownRecord",
    "add_visit",
    "known_ids",
    "log_access",
    "read_audit",
    "read_grid",
    "read_household_visits",
    "record_visit",
]

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class UnknownRecord(StoreError):
    """A write named a household or worker that the store does not hold."""

    def __init__(self, kind: str, record_id: str) -> None:
        what = "active worker" if kind == "worker" else kind
        super().__init__(f"no {what} with id {record_id!r} in the database")
        self.kind = kind
        self.record_id = record_id


class IdempotencyConflict(StoreError):
    """An idempotency key was already used for a visit with other details."""

    def __init__(self, key: str, visit_id: int, differences: list[str]) -> None:
        super().__init__(
            f"idempotency key {key!r} was already used for visit #{visit_id} with other details "
            f"({', '.join(differences)}); use a new key for a new visit"
        )
        self.key = key
        self.visit_id = visit_id
        self.differences = differences


@dataclass(frozen=True)
class NewVisit:
    """A checked visit, ready to store (see :func:`geo.visits.validate_visit`)."""

    household_id: str
    worker_id: str
    visited_at: dt.datetime
    outcome: str
    channel: str = "door"
    note: str = ""


class Recorded(NamedTuple):
    """What :func:`record_visit` did."""

    visit_id: int
    created: bool
    issue_id: int | None = None


# ------------------------------------------------------------------ writes


def _stamp(value: dt.datetime) -> str:
    return value.replace(tzinfo=None, microsecond=0).strftime(TIME_FORMAT)


def _time_param(store: Store, value: dt.datetime) -> Any:
    """Bind a local time: ISO text in SQLite (text order is time order), a timestamp in PostgreSQL."""
    value = value.replace(tzinfo=None, microsecond=0)
    return value if store.backend == "postgresql" else _stamp(value)


def _as_stamp(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return _stamp(value)
    return str(value)


@functools.cache
def _existing_query() -> sa.Select[Any]:
    v = schema.visits
    return sa.select(
        v.c.visit_id, v.c.household_id, v.c.worker_id, v.c.visited_at, v.c.outcome, v.c.channel, v.c.note
    ).where(v.c.idem_key == sa.bindparam("idem_key"))


def _existing(conn: Connection, key: str) -> Any:
    return conn.execute(_existing_query(), {"idem_key": key}).one_or_none()


def _differences(row: sa.Row[Any], visit: NewVisit) -> list[str]:
    stored = {
        "household_id": row.household_id,
        "worker_id": row.worker_id,
        "visited_at": _as_stamp(row.visited_at),
        "outcome": row.outcome,
        "channel": row.channel,
        "note": row.note or "",
    }
    asked = {
        "household_id": visit.household_id,
        "worker_id": visit.worker_id,
        "visited_at": _stamp(visit.visited_at),
        "outcome": visit.outcome,
        "channel": visit.channel,
        "note": visit.note or "",
    }
    return [k for k in stored if stored[k] != asked[k]]


def _issue_of(conn: Connection, store: Store, visit: NewVisit) -> int | None:
    """Find the issue opened with an already stored visit (same household, time, source)."""
    i = schema.issues
    return conn.execute(
        sa.select(i.c.issue_id)
        .where(
            i.c.household_id == visit.household_id,
            i.c.source == "visit",
            i.c.opened_at == _time_param(store, visit.visited_at),
        )
        .order_by(i.c.issue_id)
        .limit(1)
    ).scalar()


_VISIT_VALUES = ("household_id", "worker_id", "visited_at", "outcome", "channel", "note", "idem_key")


@functools.cache
def _insert_statement(backend: str) -> Any:
    """Build once per backend: ``INSERT … ON CONFLICT (idem_key) WHERE … DO NOTHING RETURNING visit_id``.

    A statement built per call costs more than SQLite's whole insert (its
    cache key is computed each time); a statement built once compiles once.
    A concurrent transaction may hold the same key (PostgreSQL, read
    committed): the unique index settles it and the loser gets no row back.
    A visit without a key never conflicts (the index holds no NULLs).
    """
    v = schema.visits
    dialect: Any = pg_dialect if backend == "postgresql" else sqlite_dialect
    return (
        dialect.insert(v)
        .values({c: sa.bindparam(f"p_{c}", type_=v.c[c].type) for c in _VISIT_VALUES})
        .on_conflict_do_nothing(index_elements=[v.c.idem_key], index_where=schema.IDEM_KEY_SET)
        .returning(v.c.visit_id)
    )


def _insert_visit(store: Store, conn: Connection, visit: NewVisit, key: str | None) -> int | None:
    """Insert ``visit``; return its id, or None when another visit holds ``key``."""
    found = conn.execute(
        _insert_statement(store.backend),
        {
            "p_household_id": visit.household_id,
            "p_worker_id": visit.worker_id,
            "p_visited_at": _time_param(store, visit.visited_at),
            "p_outcome": visit.outcome,
            "p_channel": visit.channel,
            "p_note": visit.note or "",
            "p_idem_key": key,
        },
    ).scalar()
    return None if found is None else int(found)


@functools.cache
def _lookup_query() -> sa.Select[Any]:
    """One round trip: the stored visit of the key, the household's building and grid, the worker."""
    v, h, b, w = schema.visits, schema.households, schema.buildings, schema.workers
    hid: Any = sa.bindparam("household_id")
    return sa.select(
        sa.select(v.c.visit_id)
        .where(v.c.idem_key == sa.bindparam("idem_key"))
        .scalar_subquery()
        .label("visit_id"),
        sa.select(h.c.building_id).where(h.c.household_id == hid).scalar_subquery().label("building_id"),
        sa.select(b.c.grid_id)
        .join(h, h.c.building_id == b.c.building_id)
        .where(h.c.household_id == hid)
        .scalar_subquery()
        .label("grid_id"),
        sa.select(w.c.worker_id)
        .where(w.c.worker_id == sa.bindparam("worker_id"), w.c.active == 1)
        .scalar_subquery()
        .label("worker_id"),
    )


def _lookup_params(visit: NewVisit, key: str | None) -> dict[str, Any]:
    return {"idem_key": key, "household_id": visit.household_id, "worker_id": visit.worker_id}


def record_visit(
    store: Store,
    visit: NewVisit,
    *,
    idem_key: str | None = None,
    open_issue: Callable[[Connection], int] | None = None,
) -> Recorded:
    """Store a visit (and the issue found on it) in one transaction.

    Parameters
    ----------
    store
        The database.
    visit
        A visit already checked by :func:`geo.visits.validate_visit`.
    idem_key
        Idempotency key: if a visit with this key is stored, nothing is written
        and that visit is returned with ``created=False`` (and the issue opened
        with it, if any).
    open_issue
        Opens the need found on the visit through the visit's transaction and
        returns its id (:func:`geo.issues.workflow.visit_issue_opener`, called
        by :func:`geo.visits.record_visit`): the store decides nothing about
        the issue. It is called only when the visit is new; if it raises,
        nothing is written.

    Returns
    -------
    Recorded
        ``(visit_id, created, issue_id)``.

    Raises
    ------
    UnknownRecord
        The household or the worker does not exist (nothing is written).
    IdempotencyConflict
        ``idem_key`` was used for a visit with other details.
    StoreError
        The database is unreachable or stays locked.
    """
    if store.backend == "postgresql" and open_issue is None:
        return _record_in_one_statement(store, visit, idem_key)
    # Everything that only reads happens before the write lock: a repeat is
    # answered without a write (no change counter moves), and the write
    # transaction holds SQLite's single writer lock for the inserts only.
    with store.engine.connect() as conn:
        found = conn.execute(_lookup_query(), _lookup_params(visit, idem_key)).one()
        if found.visit_id is not None:
            return _replay(
                conn, store, _existing(conn, str(idem_key)), visit, str(idem_key), open_issue is not None
            )
    if found.building_id is None:
        raise UnknownRecord("household", visit.household_id)
    if found.worker_id is None:
        raise UnknownRecord("worker", visit.worker_id)
    issue_id = None
    try:
        with store.transaction() as conn:  # queues behind other writers (Store.writer_turn)
            visit_id = _insert_visit(store, conn, visit, idem_key)
            if visit_id is not None and open_issue is not None:
                issue_id = open_issue(conn)
    except sa.exc.IntegrityError as exc:
        # A household or worker removed since the check above, or a value the
        # schema refuses: nothing was written.
        raise StoreError(f"{store._where()}: the visit was not stored ({_first_line(exc)})") from None
    if visit_id is None:  # another writer stored this key first (PostgreSQL race)
        with store.engine.connect() as conn:
            row = _existing(conn, str(idem_key))
            assert row is not None
            return _replay(conn, store, row, visit, str(idem_key), open_issue is not None)
    return Recorded(visit_id, True, issue_id)


_PG_RECORD = sa.text(
    """
    WITH hh AS (
        SELECT b.building_id, b.grid_id FROM households h
        JOIN buildings b ON b.building_id = h.building_id WHERE h.household_id = :household_id
    ),
    wk AS (SELECT worker_id FROM workers WHERE worker_id = :worker_id AND active = 1),
    bump AS (
        UPDATE sibai_version SET data_version = data_version + 1
        WHERE id = 1 AND EXISTS (SELECT 1 FROM hh) AND EXISTS (SELECT 1 FROM wk)
          AND NOT EXISTS (SELECT 1 FROM visits WHERE idem_key = :idem_key)
        RETURNING data_version
    ),
    ins AS (
        INSERT INTO visits (household_id, worker_id, visited_at, outcome, channel, note, idem_key)
        SELECT :household_id, :worker_id, :visited_at, :outcome, :channel, :note, :idem_key
        WHERE EXISTS (SELECT 1 FROM bump)
        ON CONFLICT (idem_key) WHERE idem_key IS NOT NULL DO NOTHING
        RETURNING visit_id
    )
    SELECT (SELECT visit_id FROM ins) AS visit_id,
           (SELECT building_id FROM hh) AS building_id,
           (SELECT worker_id FROM wk) AS worker_id,
           (SELECT data_version FROM bump) AS data_version
    """
)
"""PostgreSQL: check the household and worker, move the change counter and insert the visit, at once.

The counter's row is updated first (the insert waits on it), so its lock
queues this writer behind any other before the visit's id is drawn: ids
commit in order, as in :meth:`Store.transaction` (see :meth:`Store._bump`).
A key already stored moves nothing (a concurrent writer with the same key
may move the counter once for nothing: a reader then finds no new row).
"""


def _record_in_one_statement(store: Store, visit: NewVisit, key: str | None) -> Recorded:
    """Record a visit (no issue) on PostgreSQL in one statement, one round trip, autocommitted.

    The same checks and effects as the general path (:func:`record_visit`)
    in one atomic statement: the household and the active worker must
    exist, a stored key inserts nothing, and ``data_version`` moves only
    when a visit was inserted. Half the round trips of a lookup followed by
    a transaction (``BEGIN``, insert, ``nextval``, ``COMMIT``), each of which
    costs a PostgreSQL backend and the client CPU under 20 concurrent writers.
    """
    params = {
        "household_id": visit.household_id,
        "worker_id": visit.worker_id,
        "visited_at": visit.visited_at.replace(tzinfo=None, microsecond=0),
        "outcome": visit.outcome,
        "channel": visit.channel,
        "note": visit.note or "",
        "idem_key": key,
    }
    try:
        with store.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            row = conn.execute(_PG_RECORD, params).one()
            refused = row.visit_id is None and row.building_id is not None and row.worker_id is not None
            if refused and (key is None or _existing(conn, key) is None):  # no counter row (older database)
                store.ensure_version_row()
                row = conn.execute(_PG_RECORD, params).one()
            if row.visit_id is not None:
                return Recorded(int(row.visit_id), True, None)
            if row.building_id is None:
                raise UnknownRecord("household", visit.household_id)
            if row.worker_id is None:
                raise UnknownRecord("worker", visit.worker_id)
            stored = _existing(conn, str(key))  # the key was taken: a repeat, or a concurrent writer won
            assert stored is not None
            return _replay(conn, store, stored, visit, str(key), False)
    except sa.exc.IntegrityError as exc:
        raise StoreError(f"{store._where()}: the visit was not stored ({_first_line(exc)})") from None
    except sa.exc.OperationalError as exc:
        raise StoreError(store._describe(exc)) from None


def _replay(
    conn: Connection, store: Store, row: sa.Row[Any], visit: NewVisit, key: str, with_issue: bool
) -> Recorded:
    diff = _differences(row, visit)
    if diff:
        raise IdempotencyConflict(key, int(row.visit_id), diff)
    issue_id = _issue_of(conn, store, visit) if with_issue else None
    return Recorded(int(row.visit_id), False, issue_id)


def add_visit(store: Store, visit: NewVisit, *, idem_key: str | None = None) -> tuple[int, bool]:
    """Store one visit; return ``(visit_id, created)`` (see :func:`record_visit`).

    Examples
    --------
    >>> import datetime as dt, tempfile, pathlib
    >>> from geo.store import open_store
    >>> from geo.demo import install_demo
    >>> store = open_store(str(pathlib.Path(tempfile.mkdtemp()) / "d.gpkg"), create=True)
    >>> _ = install_demo(store, scale="tiny", as_of=dt.date(2024, 6, 28))
    >>> v = NewVisit("H0000001", "W0001", dt.datetime(2024, 6, 28, 14, 0), "met")
    >>> first = add_visit(store, v, idem_key="k1")
    >>> again = add_visit(store, v, idem_key="k1")
    >>> first[1], again == (first[0], False)
    (True, True)
    >>> store.close()
    """
    recorded = record_visit(store, visit, idem_key=idem_key)
    return recorded.visit_id, recorded.created


# ------------------------------------------------------------------- reads


@dataclass(frozen=True)
class GridRecords:
    """Everything the grid page lists about one grid, as frames (empty when the grid is unknown)."""

    buildings: pd.DataFrame
    """``building_id, name, kind, floors``, by id."""
    households: pd.DataFrame
    """Every column of ``households``, by id."""
    visit_summary: pd.DataFrame
    """Per household with visits: ``household_id, visits, last_visit_at, last_outcome, last_met_at``
    (as :func:`geo.households.visit_summary` computes it from the visits themselves)."""
    issues: pd.DataFrame
    """Every column of ``issues`` of the grid, by id."""
    workers: pd.DataFrame
    """``worker_id, name, phone, active, role`` of the workers assigned to the grid, leader first."""


VISIT_COLUMNS = ("visit_id", "household_id", "worker_id", "visited_at", "outcome", "channel", "note")
"""Columns of the visits :func:`read_household_visits` returns."""

SUMMARY_COLUMNS = ("household_id", "visits", "last_visit_at", "last_outcome", "last_met_at")


def _frame(conn: Connection, query: sa.Select[Any], names: list[str], params: dict[str, Any]) -> pd.DataFrame:
    """Run ``query`` and build a frame of object columns (no string inference), times parsed."""
    frame = query_frame(conn, query, names, params)
    for name in names:
        if name in _TIMES:
            frame[name] = parse_local(frame[name].where(frame[name].notna(), None))
    return frame


_TIMES = frozenset({"visited_at", "last_visit_at", "last_met_at", "opened_at", "due_at", "closed_at"})


def _grid_queries() -> dict[str, tuple[sa.Select[Any], list[str]]]:
    b, h, v, i, w, gw = (
        schema.buildings,
        schema.households,
        schema.visits,
        schema.issues,
        schema.workers,
        schema.grid_workers,
    )
    grid: Any = sa.bindparam("grid_id")
    hcols = [c for c in h.columns]
    in_grid = (
        sa.select(h.c.household_id).join(b, b.c.building_id == h.c.building_id).where(b.c.grid_id == grid)
    )
    part = v.c.household_id
    ranked = (
        sa.select(
            v.c.household_id,
            v.c.visited_at,
            v.c.outcome,
            sa.func.row_number()
            .over(partition_by=part, order_by=[v.c.visited_at.desc(), v.c.visit_id.desc()])
            .label("rn"),
            sa.func.count().over(partition_by=part).label("n"),
            sa.func.max(sa.case((v.c.outcome == "met", v.c.visited_at)))
            .over(partition_by=part)
            .label("last_met"),
        )
        .where(v.c.household_id.in_(in_grid))
        .subquery()
    )
    return {
        "buildings": (
            sa.select(b.c.building_id, b.c.name, b.c.kind, b.c.floors)
            .where(b.c.grid_id == grid)
            .order_by(b.c.building_id),
            ["building_id", "name", "kind", "floors"],
        ),
        "households": (
            sa.select(*hcols)
            .join(b, b.c.building_id == h.c.building_id)
            .where(b.c.grid_id == grid)
            .order_by(h.c.household_id),
            [c.name for c in hcols],
        ),
        "visit_summary": (
            sa.select(
                ranked.c.household_id, ranked.c.n, ranked.c.visited_at, ranked.c.outcome, ranked.c.last_met
            )
            .where(ranked.c.rn == 1)
            .order_by(ranked.c.household_id),
            list(SUMMARY_COLUMNS),
        ),
        "issues": (
            sa.select(*i.columns).where(i.c.grid_id == grid).order_by(i.c.issue_id),
            [c.name for c in i.columns],
        ),
        "workers": (
            sa.select(w.c.worker_id, w.c.name, w.c.phone, w.c.active, gw.c.role)
            .join(gw, gw.c.worker_id == w.c.worker_id)
            .where(gw.c.grid_id == grid)
            .order_by(sa.case((gw.c.role == "leader", 0), else_=1), w.c.worker_id),
            ["worker_id", "name", "phone", "active", "role"],
        ),
    }


_GRID_QUERIES = _grid_queries()


def read_grid(store: Store, grid_id: str, *, scope: Scope) -> GridRecords:
    """Read what the grid page lists: buildings, households with a summary of their visits, issues, workers.

    One connection, five indexed queries; the visits are summarised in SQL
    (count, latest visit and its outcome, latest ``met``), so a grid's list
    costs milliseconds whatever the history's length. An unknown grid gives
    empty frames; a grid outside ``scope`` raises :class:`~geo.store.OutOfScope`.
    """
    store.check_scope("grid", grid_id, scope=scope)
    frames: dict[str, pd.DataFrame] = {}
    with store.engine.connect() as conn:
        for name, (query, names) in _GRID_QUERIES.items():
            frames[name] = _frame(conn, query, names, {"grid_id": grid_id})
    frames["visit_summary"]["visits"] = frames["visit_summary"]["visits"].astype(np.int64)
    return GridRecords(**frames)


def read_household_visits(store: Store, household_id: str, *, scope: Scope) -> pd.DataFrame:
    """Read every visit of one household (:data:`VISIT_COLUMNS`), oldest first.

    An unknown household has none; one outside ``scope`` raises :class:`~geo.store.OutOfScope`.
    """
    store.check_scope("household", household_id, scope=scope)
    v = schema.visits
    query = (
        sa.select(*(v.c[n] for n in VISIT_COLUMNS))
        .where(v.c.household_id == sa.bindparam("household_id"))
        .order_by(v.c.visited_at, v.c.visit_id)
    )
    with store.engine.connect() as conn:
        return _frame(conn, query, list(VISIT_COLUMNS), {"household_id": household_id})


def known_ids(
    store: Store, *, scope: Scope, households: Collection[str] = (), workers: Collection[str] = ()
) -> tuple[set[str], set[str]]:
    """Return which of ``households`` and which of ``workers`` (active ones) exist inside ``scope``."""
    h, w = schema.households, schema.workers
    found_h: set[str] = set()
    found_w: set[str] = set()
    in_h, in_w = store.scope_filter(h, scope), store.scope_filter(w, scope)
    with store.engine.connect() as conn:
        if households:
            q = sa.select(h.c.household_id).where(h.c.household_id.in_(sorted(set(households))))
            found_h = {str(r[0]) for r in conn.execute(q if in_h is None else q.where(in_h))}
        if workers:
            q = sa.select(w.c.worker_id).where(w.c.worker_id.in_(sorted(set(workers))), w.c.active == 1)
            found_w = {str(r[0]) for r in conn.execute(q if in_w is None else q.where(in_w))}
    return found_h, found_w


# -------------------------------------------------------------- access log
# The audit trail lives in geo.store.audit; these names stay for existing callers.

AUDIT = audit.AUDIT
"""The append-only audit table (see :mod:`geo.store.audit`)."""


def log_access(
    store: Store,
    *,
    who: str,
    role: str,
    action: str,
    target: str,
    detail: str = "",
    at: dt.datetime | None = None,
) -> int:
    """Append one row to the audit trail and return its id: the older name of :func:`geo.store.audit.log`."""
    return audit.log(store, who=who, role=role, action=action, target=target, detail=detail, at=at)


def read_audit(store: Store) -> pd.DataFrame:
    """Return the whole audit trail, oldest first (empty before anything was logged)."""
    return audit.read(store).iloc[::-1].reset_index(drop=True)
