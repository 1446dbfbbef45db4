"""The audit trail: who did what to which record, when; append-only, kept for a set time.

One row per audited action in the table ``audit``: ``audit_id`` (assigned),
``at`` (local time, settings ``timezone``), ``who`` (a user name, ``cli:<os
user>`` for the command line, or the name typed at a failed sign-in),
``role`` (the actor's role; ``cli`` for the command line), ``action`` (one of
:data:`ACTIONS`), ``target`` (e.g. ``household:H0000001``, ``user:wang``,
``grid:G0001``) and ``detail`` (free text).

Append-only, enforced by the database
-------------------------------------
The table is created on first use together with guards that refuse every
``UPDATE`` and every ``DELETE`` (SQLite triggers raising ``ABORT``; a
PostgreSQL trigger function raising an exception, which also refuses
``TRUNCATE``). The only way rows leave is :func:`prune`: in one transaction
it writes a cutoff into the one-row control table ``audit_retention``,
deletes the rows older than it (the delete guard lets exactly those through),
clears the cutoff again and logs itself as an ``audit_prune`` row. At rest the
cutoff is empty, so any other ``DELETE`` (a mistaken ``DELETE FROM audit`` in
a SQL shell, a bug) is refused. Someone who can drop triggers can of course
still tamper: on PostgreSQL, give the application's role only ``SELECT`` and
``INSERT`` on ``audit`` (see ``docs/security.md``).

Writing a row never bumps ``data_version``: no cache depends on the log.

Examples
--------
>>> import tempfile, pathlib
>>> from geo.store import open_store
>>> store = open_store(str(pathlib.Path(tempfile.mkdtemp()) / "a.gpkg"), create=True)
>>> store.create_schema()
>>> log(store, who="wang", role="grid", action="unmask", target="household:H1",
...     at=dt.datetime(2024, 6, 28, 14, 0))
1
>>> read(store)[["who", "action", "target"]].to_dict("records")
[{'who': 'wang', 'action': 'unmask', 'target': 'household:H1'}]
>>> store.close()
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from geo.clock import local_now
from geo.store import schema
from geo.store.core import Store, StoreError, _first_line, parse_local

__all__ = ["ACTIONS", "AUDIT", "COLUMNS", "ensure_audit", "log", "prune", "read"]

ACTIONS = (
    "login",
    "login_failed",
    "login_locked",
    "logout",
    "unmask",
    "view_household",
    "export",
    "import",
    "user_add",
    "user_disable",
    "user_passwd",
    "denied",
    "audit_export",
    "audit_prune",
)
"""Every action the trail records (see ``docs/security.md`` for when each is written)."""

_metadata = sa.MetaData()

AUDIT = sa.Table(
    "audit",
    _metadata,
    sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", schema.LocalTime(), nullable=False),
    sa.Column("who", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_audit_at", "at"),
)
"""The append-only audit table (see the module docstring)."""

RETENTION = sa.Table(
    "audit_retention",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("cutoff", schema.LocalTime()),
    sa.CheckConstraint("id = 1", name="ck_audit_retention_one_row"),
)
"""One row: the cutoff :func:`prune` sets for the length of its own transaction, empty otherwise."""

COLUMNS = tuple(c.name for c in AUDIT.columns)
"""The columns of :func:`read`, in order."""

_REFUSED_UPDATE = "audit is append-only: rows cannot be changed"
_REFUSED_DELETE = (
    "audit is append-only: only rows past the retention period can be removed (sibai audit prune)"
)

_SQLITE_GUARDS = (
    f"""CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, '{_REFUSED_UPDATE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    WHEN NOT EXISTS (SELECT 1 FROM audit_retention r
                     WHERE r.id = 1 AND r.cutoff IS NOT NULL AND OLD.at < r.cutoff)
    BEGIN SELECT RAISE(ABORT, '{_REFUSED_DELETE}'); END""",
)

_PG_GUARD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION sibai_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    limit_at timestamp;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION '{_REFUSED_UPDATE}';
    END IF;
    IF TG_OP = 'DELETE' THEN
        SELECT r.cutoff INTO limit_at FROM audit_retention r WHERE r.id = 1;
        IF limit_at IS NOT NULL AND OLD.at < limit_at THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION '{_REFUSED_DELETE}';
END $$"""

_PG_GUARDS = (
    "CREATE TRIGGER audit_guard BEFORE UPDATE OR DELETE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION sibai_audit_guard()",
    "CREATE TRIGGER audit_guard_truncate BEFORE TRUNCATE ON audit "
    "FOR EACH STATEMENT EXECUTE FUNCTION sibai_audit_guard()",
)

_READY: weakref.WeakSet[Store] = weakref.WeakSet()


def _bind(store: Store, value: dt.datetime) -> Any:
    """Bind a local time: ISO text in SQLite (text order is time order), a timestamp in PostgreSQL."""
    value = value.replace(tzinfo=None, microsecond=0)
    return value if store.backend == "postgresql" else value.strftime("%Y-%m-%d %H:%M:%S")


def _create(store: Store, conn: Connection) -> None:
    _metadata.create_all(conn, tables=[AUDIT, RETENTION])
    if store.backend == "sqlite":
        conn.exec_driver_sql("INSERT OR IGNORE INTO audit_retention (id, cutoff) VALUES (1, NULL)")
        for stmt in _SQLITE_GUARDS:
            conn.exec_driver_sql(stmt)
        # Not registered in gpkg_contents: the trail is no layer for QGIS (schema.PRIVATE_TABLES).
        return
    # Several app replicas may start at once: one creates the guards, the others wait and see them.
    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('sibai_audit_guard'))")
    # Insert only when missing: an application role may hold no INSERT right on the control table.
    if conn.exec_driver_sql("SELECT count(*) FROM audit_retention WHERE id = 1").scalar() == 0:
        conn.exec_driver_sql("INSERT INTO audit_retention (id, cutoff) VALUES (1, NULL)")
    present = conn.exec_driver_sql(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit'::regclass "
        "AND tgname IN ('audit_guard', 'audit_guard_truncate')"
    ).scalar()
    if present != len(_PG_GUARDS):
        conn.exec_driver_sql(_PG_GUARD_FUNCTION)
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_guard ON audit")
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_guard_truncate ON audit")
        for stmt in _PG_GUARDS:
            conn.exec_driver_sql(stmt)


def ensure_audit(store: Store, conn: Connection | None = None) -> None:
    """Create the audit table and its append-only guards if missing (once per store object).

    Databases whose ``audit`` table predates the guards get them here. With
    ``conn`` it runs inside that open write transaction and remembers nothing
    (the transaction may still roll back); without, it commits on its own and
    is then skipped for this store object.
    """
    if store in _READY:
        return
    if conn is not None:
        _create(store, conn)
        return
    with store.engine.connect() as c:
        c.execution_options(sibai_write=True)
        with c.begin():
            _create(store, c)
    _READY.add(store)


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; use one of: {', '.join(ACTIONS)}")


def insert(
    store: Store,
    conn: Connection,
    *,
    who: str,
    role: str,
    action: str,
    target: str,
    detail: str = "",
    at: dt.datetime | None = None,
) -> int:
    """Append one row inside the write transaction ``conn`` (it commits with the change it records)."""
    _check_action(action)
    ensure_audit(store, conn)
    when = at or local_now(store.settings)
    stmt = (
        AUDIT.insert()
        .values(at=_bind(store, when), who=who, role=role, action=action, target=target, detail=detail)
        .returning(AUDIT.c.audit_id)
    )
    return int(conn.execute(stmt).scalar_one())


def log(
    store: Store,
    *,
    who: str,
    role: str,
    action: str,
    target: str,
    detail: str = "",
    at: dt.datetime | None = None,
) -> int:
    """Append one row to the audit trail and return its id.

    Parameters
    ----------
    store
        The database.
    who, role
        The actor's user name and role.
    action
        One of :data:`ACTIONS` (anything else is a ``ValueError``: a typo would
        hide the row from every filter).
    target
        What was acted on, ``kind:id`` (``household:H0000001``).
    detail
        Free text.
    at
        When (default: now, local time).
    """
    _check_action(action)
    ensure_audit(store)
    # Not store.transaction(): the log is no data any cache depends on, so the
    # change counters stay as they are.
    try:
        with store.engine.connect() as conn:
            conn.execution_options(sibai_write=True)
            with conn.begin():
                return insert(
                    store, conn, who=who, role=role, action=action, target=target, detail=detail, at=at
                )
    except sa.exc.OperationalError as exc:
        raise StoreError(store._describe(exc)) from None


def _start(value: dt.date | dt.datetime) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())


def read(
    store: Store,
    *,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
    who: str | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Return audit rows (:data:`COLUMNS`), newest first.

    Parameters
    ----------
    since
        Rows at or after this moment (a date means its midnight).
    until
        Rows before this moment; a date includes that whole day.
    who, action
        Only this actor / this action.
    limit
        At most this many rows (the newest).
    """
    if action is not None:
        _check_action(action)
    if not sa.inspect(store.engine).has_table("audit"):
        return _frame([])
    a = AUDIT
    q = sa.select(a)
    if since is not None:
        q = q.where(a.c.at >= _bind(store, _start(since)))
    if until is not None:
        end = until if isinstance(until, dt.datetime) else _start(until) + dt.timedelta(days=1)
        q = q.where(a.c.at < _bind(store, end))
    if who is not None:
        q = q.where(a.c.who == who)
    if action is not None:
        q = q.where(a.c.action == action)
    q = q.order_by(a.c.audit_id.desc())
    if limit is not None:
        q = q.limit(int(limit))
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    return _frame(rows)


def _frame(rows: Sequence[Any]) -> pd.DataFrame:
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(COLUMNS))
    if len(frame) == 0:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
        frame["audit_id"] = frame["audit_id"].astype("int64")
        frame["at"] = frame["at"].astype("datetime64[s]")
        return frame
    stamps = frame["at"].map(lambda v: v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, dt.datetime) else v)
    frame["at"] = parse_local(stamps)
    frame["audit_id"] = frame["audit_id"].astype("int64")
    return frame


def prune(
    store: Store,
    *,
    keep_days: int | None = None,
    now: dt.datetime | None = None,
    by: str = "cli",
    by_role: str = "cli",
) -> int:
    """Delete the rows older than ``keep_days`` days (default: settings ``audit_keep_days``).

    The only way rows leave the trail (see the module docstring); the prune
    itself is logged as an ``audit_prune`` row. Returns how many rows were
    deleted.

    Raises
    ------
    ValueError
        ``keep_days`` is below 1.
    """
    days = store.settings.audit_keep_days if keep_days is None else int(keep_days)
    if days < 1:
        raise ValueError(f"--keep-days must be at least 1, got {days}")
    when = now or local_now(store.settings)
    cutoff = when.replace(microsecond=0) - dt.timedelta(days=days)
    r = RETENTION
    ensure_audit(store)
    try:
        with store.engine.connect() as conn:
            conn.execution_options(sibai_write=True)
            with conn.begin():
                conn.execute(r.update().where(r.c.id == 1).values(cutoff=_bind(store, cutoff)))
                deleted = conn.execute(AUDIT.delete().where(AUDIT.c.at < _bind(store, cutoff))).rowcount
                conn.execute(r.update().where(r.c.id == 1).values(cutoff=None))
                insert(
                    store,
                    conn,
                    who=by,
                    role=by_role,
                    action="audit_prune",
                    target="audit",
                    detail=f"deleted {deleted} row(s) before {cutoff:%Y-%m-%d %H:%M:%S} (kept {days} days)",
                    at=when,
                )
    except sa.exc.OperationalError as exc:
        raise StoreError(store._describe(exc)) from None
    except sa.exc.DatabaseError as exc:  # a guard refused (should not happen through this path)
        raise StoreError(f"{store._where()}: audit prune refused ({_first_line(exc)})") from None
    return int(deleted)
