"""The street office's own records: spot-check results and reviewed anomaly flags.

Two attribute tables, on the shared :data:`geo.store.schema.metadata`, created
on first write (so existing databases keep working) and registered in
``gpkg_contents`` on SQLite:

``spot_checks``
    One row per visit confirmed by phone: ``check_id, visit_id, worker_id,
    household_id, visited_at, result`` (``confirmed`` 属实, ``failed`` 不属实,
    ``unreachable`` 未联系上), ``checked_at, checked_by, note``.
``anomaly_reviews``
    One row per anomaly flag a supervisor looked at: ``review_id, kind,
    visit_id`` (None for a grid-level flag), ``worker_id, grid_id,
    occurred_on`` (the day of the flagged visit, or the week's last day),
    ``decision`` (``confirmed`` or ``dismissed``), ``reviewed_at,
    reviewed_by, note``.

The worker ledger (:mod:`geo.assess`) deducts points for failed spot checks
and confirmed anomalies. Neither table references ``visits`` with a foreign
key: replacing the district's data must not fail because of them, and a
deduction stays on the record even if its visit is later corrected, so the
worker and the time are copied in.

Examples
--------
>>> import tempfile, pathlib, datetime as dt
>>> from geo.store import Scope, open_store
>>> from geo.demo import install_demo
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.gpkg"
>>> store = open_store(str(path), create=True)
>>> _ = install_demo(store, scale="tiny", seed=1, as_of=dt.date(2026, 3, 31))
>>> read_spot_checks(store, scope=Scope.everything()).empty  # the table does not exist yet: empty
True
>>> check_id = record_spot_check(store, visit_id=1, result="failed", checked_by="监督员",
...                              checked_at=dt.datetime(2026, 4, 1, 9, 0), scope=Scope.everything())
>>> done = read_spot_checks(store, scope=Scope.everything())
>>> done[["check_id", "visit_id", "result", "checked_by"]].values.tolist()
[[1, 1, 'failed', '监督员']]
>>> read_spot_checks(store, scope=Scope()).empty  # a scope that sees nothing
True
>>> record_spot_check(store, visit_id=1, result="confirmed", scope=Scope.of(streets=["S99"]))  # elsewhere
Traceback (most recent call last):
...
geo.store.core.OutOfScope: no access: visit 1 is outside your area
>>> store.close()
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Iterable
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import CheckConstraint, Column, Index, Integer, Table, Text
from sqlalchemy.engine import Connection

from geo.clock import local_now
from geo.store import gpkg, schema
from geo.store.core import Scope, Store, StoreError, frame_from_rows, parse_local

SPOT_RESULTS = ("confirmed", "failed", "unreachable")
"""Outcomes of a spot check by phone."""

DECISIONS = ("confirmed", "dismissed")
"""A supervisor's decision on an anomaly flag."""

ANOMALY_KINDS = ("after_hours", "non_workday", "burst", "far_apart", "over_households")
"""Kinds of anomaly flag (as in :data:`geo.office.weekly.ANOMALY_KINDS`)."""

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

spot_checks = Table(
    "spot_checks",
    schema.metadata,
    Column("check_id", Integer, primary_key=True, autoincrement=True),
    Column("visit_id", Integer, nullable=False),
    Column("worker_id", Text, nullable=False),
    Column("household_id", Text, nullable=False),
    Column("visited_at", schema.LocalTime(), nullable=False),
    Column("result", Text, nullable=False),
    Column("checked_at", schema.LocalTime(), nullable=False),
    Column("checked_by", Text, nullable=False, server_default=""),
    Column("note", Text, nullable=False, server_default=""),
    CheckConstraint("result IN ('confirmed', 'failed', 'unreachable')", name="ck_spot_result"),
    Index("ix_spot_checks_visit", "visit_id"),
)

anomaly_reviews = Table(
    "anomaly_reviews",
    schema.metadata,
    Column("review_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", Text, nullable=False),
    Column("visit_id", Integer),
    Column("worker_id", Text),
    Column("grid_id", Text),
    Column("occurred_on", Text, nullable=False),
    Column("decision", Text, nullable=False),
    Column("reviewed_at", schema.LocalTime(), nullable=False),
    Column("reviewed_by", Text, nullable=False, server_default=""),
    Column("note", Text, nullable=False, server_default=""),
    CheckConstraint("decision IN ('confirmed', 'dismissed')", name="ck_review_decision"),
    CheckConstraint(
        "kind IN ('after_hours', 'non_workday', 'burst', 'far_apart', 'over_households')",
        name="ck_review_kind",
    ),
    Index("ix_anomaly_reviews_visit", "visit_id"),
)

TABLES = (spot_checks, anomaly_reviews)
"""The tables this module owns."""

_TIMES = {"spot_checks": ("visited_at", "checked_at"), "anomaly_reviews": ("reviewed_at",)}


def time_param(store: Store, value: dt.datetime) -> Any:
    """Bind a local time for ``store``: ISO text in SQLite, a timestamp in PostgreSQL.

    >>> class S: backend = "sqlite"
    >>> time_param(S(), dt.datetime(2026, 1, 2, 3, 4, 5, 6))  # type: ignore[arg-type]
    '2026-01-02 03:04:05'
    """
    value = value.replace(tzinfo=None, microsecond=0)
    return value if store.backend == "postgresql" else value.strftime(TIME_FORMAT)


_READY: weakref.WeakSet[Store] = weakref.WeakSet()


def ensure_assessment_tables(store: Store) -> None:
    """Create this module's tables if they are missing, and register them in the GeoPackage.

    The tables may also exist already without registration: ``Store.create_schema``
    creates every table of the shared metadata, this module's included once imported.
    """
    if store in _READY:
        return
    missing = [t for t in TABLES if not sa.inspect(store.engine).has_table(t.name)]
    unregistered: list[str] = []
    if store.backend == "sqlite" and sa.inspect(store.engine).has_table("gpkg_contents"):
        with store.engine.connect() as conn:
            known = {r[0] for r in conn.exec_driver_sql("SELECT table_name FROM gpkg_contents")}
        unregistered = [t.name for t in TABLES if t.name not in known]
    if missing or unregistered:
        with store.transaction() as conn:
            schema.metadata.create_all(conn, tables=missing)
            for name in unregistered:
                conn.exec_driver_sql(gpkg.register_attributes_sql(name))
    _READY.add(store)


def _has(store: Store, table: Table) -> bool:
    return sa.inspect(store.engine).has_table(table.name)


class NotSupervisor(PermissionError):
    """Spot checks and anomaly reviews are recorded by the street office or the district only."""


def supervises(scope: Scope) -> bool:
    """Return True when ``scope`` (a street's or the district's) may record weekly-check results."""
    return scope.is_everything or bool(scope.streets)


def require_supervisor(scope: Scope) -> None:
    """Raise :class:`NotSupervisor` unless ``scope`` is a street's or the whole district's.

    The weekly check supervises the grids and committees: its results are the
    street office's (and the district's). A grid leader or a committee sees
    them but records none, or they could overwrite a check of their own work.

    Examples
    --------
    >>> require_supervisor(Scope.of(streets=["S01"]))
    >>> require_supervisor(Scope.of(grids=["G0001"]))
    Traceback (most recent call last):
    ...
    geo.store.assessment.NotSupervisor: spot checks and anomaly reviews are recorded by the street office ...
    """
    if not supervises(scope):
        raise NotSupervisor(
            "spot checks and anomaly reviews are recorded by the street office or the district"
        )


def _check_scope(store: Store, scope: Scope, conn: Connection | None, **ids: object) -> None:
    """Raise :class:`~geo.store.OutOfScope` for the first named record outside ``scope``."""
    for kind, ident in ids.items():
        if ident is not None:
            store.check_scope(kind, ident, scope=scope, conn=conn)


def record_spot_check(
    store: Store,
    *,
    visit_id: int,
    result: str,
    checked_by: str = "",
    note: str = "",
    checked_at: dt.datetime | None = None,
    scope: Scope,
) -> int:
    """Record the result of a phone check of one visit; return the new ``check_id``.

    The visit's worker, household and time are copied from ``visits`` in the
    same transaction. Each record is a new row: a later result replaces an
    earlier one on screen and keeps it in the history. Raises
    :class:`NotSupervisor` for a grid's or committee's scope,
    ``ValueError`` for an unknown result or visit,
    :class:`~geo.store.OutOfScope` (writing nothing) for a visit whose
    household lies outside ``scope``.
    """
    require_supervisor(scope)
    if result not in SPOT_RESULTS:
        raise ValueError(f"spot-check result must be one of {', '.join(SPOT_RESULTS)}, got {result!r}")
    if len(note) > 500:
        raise ValueError(f"the note is {len(note)} characters long; at most 500 are kept")
    _check_scope(store, scope, None, visit=visit_id)  # before the tables are created: nothing changes
    ensure_assessment_tables(store)
    v = schema.visits
    with store.transaction() as conn:
        _check_scope(store, scope, conn, visit=visit_id)
        row = conn.execute(
            sa.select(v.c.worker_id, v.c.household_id, v.c.visited_at).where(v.c.visit_id == int(visit_id))
        ).first()
        if row is None:
            raise ValueError(f"no visit with id {visit_id}")
        visited = row.visited_at
        if isinstance(visited, str):
            visited = dt.datetime.strptime(visited, TIME_FORMAT)
        stmt = (
            spot_checks.insert()
            .values(
                visit_id=int(visit_id),
                worker_id=row.worker_id,
                household_id=row.household_id,
                visited_at=time_param(store, visited),
                result=result,
                checked_at=time_param(store, checked_at or local_now(store.settings)),
                checked_by=checked_by,
                note=note,
            )
            .returning(spot_checks.c.check_id)
        )
        return int(conn.execute(stmt).scalar_one())


def record_anomaly_review(
    store: Store,
    *,
    kind: str,
    decision: str,
    occurred_on: dt.date,
    visit_id: int | None = None,
    worker_id: str | None = None,
    grid_id: str | None = None,
    reviewed_by: str = "",
    note: str = "",
    reviewed_at: dt.datetime | None = None,
    scope: Scope,
) -> int:
    """Record a supervisor's decision on an anomaly flag; return the new ``review_id``.

    For a visit's flag the worker and grid are taken from the visit when not given.
    A visit, grid or worker given that lies outside ``scope`` raises
    :class:`~geo.store.OutOfScope` and nothing is written.
    """
    require_supervisor(scope)
    if kind not in ANOMALY_KINDS:
        raise ValueError(f"anomaly kind must be one of {', '.join(ANOMALY_KINDS)}, got {kind!r}")
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
    if visit_id is None and grid_id is None:
        raise ValueError("an anomaly review needs the visit (visit_id) or the grid (grid_id) it is about")
    # What the caller names is checked; what is copied from an in-scope visit is not
    # (its worker may since have moved to another grid).
    named = {"visit": visit_id, "grid": grid_id, "worker": worker_id}
    _check_scope(store, scope, None, **named)  # before the tables are created: nothing changes
    ensure_assessment_tables(store)
    v, h, b = schema.visits, schema.households, schema.buildings
    with store.transaction() as conn:
        _check_scope(store, scope, conn, **named)
        if visit_id is not None:
            row = conn.execute(
                sa.select(v.c.worker_id, b.c.grid_id)
                .join(h, h.c.household_id == v.c.household_id)
                .join(b, b.c.building_id == h.c.building_id)
                .where(v.c.visit_id == int(visit_id))
            ).first()
            if row is None:
                raise ValueError(f"no visit with id {visit_id}")
            worker_id = worker_id or row.worker_id
            grid_id = grid_id or row.grid_id
        stmt = (
            anomaly_reviews.insert()
            .values(
                kind=kind,
                visit_id=None if visit_id is None else int(visit_id),
                worker_id=worker_id,
                grid_id=grid_id,
                occurred_on=occurred_on.isoformat(),
                decision=decision,
                reviewed_at=time_param(store, reviewed_at or local_now(store.settings)),
                reviewed_by=reviewed_by,
                note=note,
            )
            .returning(anomaly_reviews.c.review_id)
        )
        return int(conn.execute(stmt).scalar_one())


def visit_is(visit_id: int) -> sa.ColumnElement[bool]:
    """Return the condition "this visit" for ``Store.read_table("visits", where=...)``."""
    return schema.visits.c.visit_id == int(visit_id)


def _read(store: Store, table: Table, where: Any = None, *, scope: Scope) -> pd.DataFrame:
    names = [c.name for c in table.columns]
    if not _has(store, table):
        return pd.DataFrame({n: pd.Series(dtype=object) for n in names}).pipe(_typed, table.name)
    query = sa.select(table)
    if where is not None:
        query = query.where(where)
    in_scope = store.scope_filter(table, scope)
    if in_scope is not None:
        query = query.where(in_scope)
    query = query.order_by(next(iter(table.primary_key.columns)))
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return _typed(frame_from_rows(rows, names), table.name)


def _typed(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    for col in _TIMES.get(name, ()):
        frame[col] = parse_local(
            frame[col].map(lambda x: x.strftime(TIME_FORMAT) if isinstance(x, dt.datetime) else x)
        )
    for col in ("check_id", "review_id", "visit_id"):
        if col in frame:
            frame[col] = pd.array(pd.to_numeric(frame[col]), dtype="Int64")
    if "occurred_on" in frame:
        frame["occurred_on"] = pd.to_datetime(frame["occurred_on"], format="%Y-%m-%d").astype("datetime64[s]")
    return frame


def read_spot_checks(store: Store, *, scope: Scope, year: int | None = None) -> pd.DataFrame:
    """Return recorded spot checks of households in ``scope`` (of visits made in ``year``, if given)."""
    where = None
    if year is not None and _has(store, spot_checks):
        lo = time_param(store, dt.datetime(year, 1, 1))
        hi = time_param(store, dt.datetime(year + 1, 1, 1))
        where = (spot_checks.c.visited_at >= lo) & (spot_checks.c.visited_at < hi)
    return _read(store, spot_checks, where, scope=scope)


def read_anomaly_reviews(store: Store, *, scope: Scope, year: int | None = None) -> pd.DataFrame:
    """Return recorded anomaly reviews in ``scope`` (of anomalies that occurred in ``year``, if given).

    A review is in scope by its grid (a grid's flag) or its visit's household (a visit's flag).
    """
    where = None
    if year is not None and _has(store, anomaly_reviews):
        where = (anomaly_reviews.c.occurred_on >= f"{year:04d}-01-01") & (
            anomaly_reviews.c.occurred_on < f"{year + 1:04d}-01-01"
        )
    return _read(store, anomaly_reviews, where, scope=scope)


def last_met_at(store: Store, household_ids: Iterable[str], *, scope: Scope, until: dt.date) -> pd.Series:
    """Return the latest ``met`` visit on or before ``until`` of each given household in ``scope``.

    Households never met, and households outside ``scope``, are absent.
    Asked in chunks of 500 ids, each an index lookup on
    ``(household_id, visited_at)``, so a few thousand households take
    well under a second where a whole-table ``GROUP BY`` takes several.
    """
    ids = list(dict.fromkeys(str(i) for i in household_ids))
    v = schema.visits
    hi = time_param(store, dt.datetime.combine(until + dt.timedelta(days=1), dt.time()))
    out_ids: list[str] = []
    out_times: list[Any] = []
    in_scope = store.scope_filter(v, scope)
    try:
        with store.engine.connect() as conn:
            for k in range(0, len(ids), 500):
                chunk = ids[k : k + 500]
                q = sa.select(v.c.household_id, sa.func.max(v.c.visited_at)).where(
                    v.c.household_id.in_(chunk), v.c.outcome == "met", v.c.visited_at < hi
                )
                if in_scope is not None:
                    q = q.where(in_scope)
                rows = conn.execute(q.group_by(v.c.household_id)).all()
                for hid, at in rows:
                    out_ids.append(hid)
                    out_times.append(at.strftime(TIME_FORMAT) if isinstance(at, dt.datetime) else at)
    except sa.exc.OperationalError as exc:
        raise StoreError(f"cannot read visits: {exc.orig}") from None
    times = parse_local(pd.Series(out_times, dtype=object)) if out_times else pd.Series(dtype="datetime64[s]")
    return pd.Series(times.to_numpy(), index=pd.Index(out_ids, dtype=object), name="last_met_at")


def read_household_contacts(store: Store, household_ids: Iterable[str], *, scope: Scope) -> pd.DataFrame:
    """Return ``household_id, building_id, building_name, unit, head_name, phone, tags`` of some households.

    Rows come in the order of ``household_ids``; unknown ids and households
    outside ``scope`` are left out.

    Personal data: mask it (:func:`geo.privacy.mask_frame`) before showing it.
    """
    ids = list(dict.fromkeys(str(i) for i in household_ids))
    h, b = schema.households, schema.buildings
    in_scope = store.scope_filter(h, scope)
    rows: list[Any] = []
    with store.engine.connect() as conn:
        for k in range(0, len(ids), 500):
            q = (
                sa.select(
                    h.c.household_id, h.c.building_id, b.c.name, h.c.unit, h.c.head_name, h.c.phone, h.c.tags
                )
                .join(b, b.c.building_id == h.c.building_id)
                .where(h.c.household_id.in_(ids[k : k + 500]))
            )
            rows.extend(conn.execute(q if in_scope is None else q.where(in_scope)).all())
    names = ["household_id", "building_id", "building_name", "unit", "head_name", "phone", "tags"]
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    out = pd.DataFrame({n: pd.Series(list(c), dtype=object) for n, c in zip(names, cols, strict=True)})
    # In the order asked for (PostgreSQL returns rows in any order).
    order = {h: k for k, h in enumerate(ids)}
    out["_k"] = out["household_id"].map(order)
    return out.sort_values("_k", kind="stable").drop(columns="_k").reset_index(drop=True)
