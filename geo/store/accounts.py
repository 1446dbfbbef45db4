"""The store's side of sign-in: the ``users`` table (accounts, roles, areas, lockout state).

The rules (hashing, throttling, scopes) live in :mod:`geo.auth`; this module
only reads and writes rows, on either backend.

The ``users`` table
-------------------
``name`` (primary key, lower case), ``role`` (``district``, ``street``,
``committee`` or ``grid``), ``areas`` (the area ids of that level, comma
separated; empty for ``district``), ``password_hash`` (argon2id, salted; empty
for a single-sign-on-only user), ``disabled`` (0/1), ``sso`` (the e-mail of
the single-sign-on identity, or empty), ``failures`` (consecutive failed
sign-ins), ``locked_until`` and ``next_try_at`` (local times, or empty),
``created_at`` and ``last_login`` (local times).

Accounts are no data that a cache depends on: writes here do not bump
``data_version``. Every write commits together with its audit row.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import CheckConstraint, Column, Integer, Table, Text
from sqlalchemy.engine import Connection

from geo.store import audit, schema
from geo.store.core import Store, StoreError, _first_line, parse_local

__all__ = [
    "USER_COLUMNS",
    "ensure_accounts",
    "existing_areas",
    "read_user",
    "read_users",
    "users",
    "write_user",
]

ROLES = ("district", "street", "committee", "grid")

users = Table(
    "users",
    schema.metadata,
    Column("name", Text, primary_key=True),
    Column("role", Text, nullable=False),
    Column("areas", Text, nullable=False, server_default=""),
    Column("password_hash", Text),
    Column("disabled", Integer, nullable=False, server_default="0"),
    Column("sso", Text),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("locked_until", schema.LocalTime()),
    Column("next_try_at", schema.LocalTime()),
    Column("created_at", schema.LocalTime(), nullable=False),
    Column("last_login", schema.LocalTime()),
    CheckConstraint("role IN ('district', 'street', 'committee', 'grid')", name="ck_users_role"),
    CheckConstraint("disabled IN (0, 1)", name="ck_users_disabled"),
)
"""Local accounts (see the module docstring)."""

USER_COLUMNS = tuple(c.name for c in users.columns)
"""The columns of :func:`read_users`, in order (``password_hash`` included: never show it)."""

_TIMES = ("locked_until", "next_try_at", "created_at", "last_login")

_READY: weakref.WeakSet[Store] = weakref.WeakSet()

_AREA_TABLES = {"street": "streets", "committee": "committees", "grid": "grids"}


def bind_time(store: Store, value: dt.datetime | None) -> Any:
    """Bind a local time: ISO text in SQLite, a timestamp in PostgreSQL (None stays None)."""
    if value is None:
        return None
    value = value.replace(tzinfo=None, microsecond=0)
    return value if store.backend == "postgresql" else value.strftime("%Y-%m-%d %H:%M:%S")


def _as_time(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0)
    return dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S")


def _create(store: Store, conn: Connection) -> None:
    # Not registered in gpkg_contents: accounts are no layer for QGIS (schema.PRIVATE_TABLES).
    schema.metadata.create_all(conn, tables=[users])


def ensure_accounts(store: Store, conn: Connection | None = None) -> None:
    """Create the ``users`` table (and the audit trail) if missing, once per store object.

    ``Store.create_schema`` creates ``users`` too (this module is one of
    ``EXTENSION_MODULES``); this creates the audit trail beside it, and serves
    databases built before either.
    """
    if store in _READY:
        return
    if conn is not None:  # inside the caller's transaction, which may still roll back: remember nothing
        _create(store, conn)
        audit.ensure_audit(store, conn)
        return
    with store.engine.connect() as c:
        c.execution_options(sibai_write=True)
        with c.begin():
            _create(store, c)
            audit.ensure_audit(store, c)
    _READY.add(store)
    audit._READY.add(store)


def _row_dict(row: Any) -> dict[str, Any]:
    out = dict(row)
    for name in _TIMES:
        out[name] = _as_time(out[name])
    out["disabled"] = bool(out["disabled"])
    out["failures"] = int(out["failures"] or 0)
    return out


def read_user(store: Store, name: str, conn: Connection | None = None) -> dict[str, Any] | None:
    """Return the row of user ``name`` (times as ``datetime``), or None."""
    ensure_accounts(store)
    q = sa.select(users).where(users.c.name == name)
    if conn is not None:
        row = conn.execute(q).mappings().first()
    else:
        with store.engine.connect() as c:
            row = c.execute(q).mappings().first()
    return None if row is None else _row_dict(row)


def read_users(store: Store) -> pd.DataFrame:
    """Return every user row (:data:`USER_COLUMNS`), by name."""
    ensure_accounts(store)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(users).order_by(users.c.name)).all()
    # Object columns (no string inference): a missing ``sso`` stays None, not NaN.
    frame = pd.DataFrame(
        {c: pd.Series([r[i] for r in rows], dtype=object) for i, c in enumerate(USER_COLUMNS)},
        columns=list(USER_COLUMNS),
    )
    for name in _TIMES:
        frame[name] = parse_local(frame[name].map(lambda v: None if v is None else _stamp(v)).astype(object))
    frame["disabled"] = frame["disabled"].astype(bool)
    frame["failures"] = frame["failures"].astype("int64")
    return frame


def _stamp(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, dt.datetime) else str(value)


def find_sso(store: Store, identity: str) -> dict[str, Any] | None:
    """Return the enabled user whose ``sso`` is ``identity`` ignoring case (the first by name), or None."""
    ensure_accounts(store)
    q = (
        sa.select(users)
        .where(sa.func.lower(users.c.sso) == identity.strip().lower(), users.c.disabled == 0)
        .order_by(users.c.name)
        .limit(1)
    )
    with store.engine.connect() as conn:
        row = conn.execute(q).mappings().first()
    return None if row is None else _row_dict(row)


def existing_areas(store: Store, level: str, ids: Sequence[str]) -> set[str]:
    """Return which of ``ids`` exist as areas of ``level`` (``street``, ``committee`` or ``grid``)."""
    table = schema.table(_AREA_TABLES[level])
    col = table.c[f"{level}_id"]
    with store.engine.connect() as conn:
        return {str(r[0]) for r in conn.execute(sa.select(col).where(col.in_(sorted(set(ids)))))}


def write_user(
    store: Store,
    name: str,
    values: Mapping[str, Any],
    *,
    insert: bool = False,
    audit_row: Mapping[str, Any] | None = None,
) -> None:
    """Insert or update user ``name`` with ``values`` (times as ``datetime``), with its audit row, atomically.

    Parameters
    ----------
    insert
        Insert a new row, or replace the existing one (``values`` must then
        hold every column but ``name``). Otherwise update an existing row, and
        raise ``LookupError`` when there is none.
    audit_row
        Keyword arguments of :func:`geo.store.audit.insert`, written in the
        same transaction.
    """
    bound = {k: (bind_time(store, v) if k in _TIMES else v) for k, v in values.items()}
    ensure_accounts(store)  # before the write lock: it commits on its own
    try:
        with store.engine.connect() as conn:
            conn.execution_options(sibai_write=True)
            with conn.begin():
                if insert:
                    conn.execute(users.delete().where(users.c.name == name))
                    conn.execute(users.insert().values(name=name, **bound))
                else:
                    done = conn.execute(users.update().where(users.c.name == name).values(**bound)).rowcount
                    if done == 0:
                        raise LookupError(f"no user {name!r}")
                if audit_row is not None:
                    audit.insert(store, conn, **audit_row)
    except sa.exc.OperationalError as exc:
        raise StoreError(store._describe(exc)) from None
    except sa.exc.IntegrityError as exc:
        raise StoreError(f"{store._where()}: user {name!r} was not stored ({_first_line(exc)})") from None


def record_attempt(
    store: Store,
    name: str,
    decide: Any,
) -> Any:
    """Read user ``name`` under a write lock; apply ``decide(row)``'s ``(values, audits, result)``.

    Serialises sign-in attempts on one account (SQLite's single writer;
    ``SELECT … FOR UPDATE`` on PostgreSQL), so parallel guesses cannot slip
    past the throttle between the read and the write. ``values`` may be
    empty (nothing to update); each audit row is written in the same
    transaction. Returns ``result``.
    """
    ensure_accounts(store)
    try:
        with store.engine.connect() as conn:
            conn.execution_options(sibai_write=True)
            with conn.begin():
                q = sa.select(users).where(users.c.name == name)
                if store.backend == "postgresql":
                    q = q.with_for_update()
                row = conn.execute(q).mappings().first()
                values, audit_rows, result = decide(None if row is None else _row_dict(row))
                if values and row is not None:
                    bound = {k: (bind_time(store, v) if k in _TIMES else v) for k, v in values.items()}
                    conn.execute(users.update().where(users.c.name == name).values(**bound))
                for a in audit_rows:
                    audit.insert(store, conn, **a)
    except sa.exc.OperationalError as exc:
        raise StoreError(store._describe(exc)) from None
    return result
