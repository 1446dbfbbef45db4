"""The store's side of signed-in sessions: the ``sessions`` table and the key that signs session cookies.

The rules (tokens, signatures, expiry) live in :mod:`geo.sessions`; this
module only reads and writes rows, on either backend. Sessions live in the
database, not in a server process, so every replica and every restart agree
on who is signed in, and ending a session anywhere ends it everywhere.

The ``sessions`` table
----------------------
``session_id`` (integer primary key), ``token_hash`` (SHA-256 of the session
token, hex; the token itself is only in the browser's cookie), ``name`` (the
user), ``via`` (``password`` or ``sso``), ``lang`` (the language the person
chose, ``zh`` or ``en``), ``created_at`` and ``last_seen`` (local times).

The signing key is a random value kept in ``sibai_meta`` under
``session_key``, made on first use; deleting that row signs everybody out.
Sessions are no data that a cache depends on: writes here do not bump
``data_version``.
"""

from __future__ import annotations

import datetime as dt
import secrets
import weakref
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Column, Index, Integer, Table, Text

from geo.store import schema
from geo.store.accounts import bind_time
from geo.store.core import Store, StoreError

__all__ = [
    "delete_session",
    "delete_sessions_of",
    "ensure_sessions",
    "insert_session",
    "read_session",
    "session_key",
    "sessions",
    "update_session",
]

sessions = Table(
    "sessions",
    schema.metadata,
    Column("session_id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("via", Text, nullable=False),
    Column("lang", Text, nullable=False, server_default="zh"),
    Column("created_at", schema.LocalTime(), nullable=False),
    Column("last_seen", schema.LocalTime(), nullable=False),
    Index("ix_sessions_name", "name"),
)
"""Signed-in sessions (see the module docstring)."""

_TIMES = ("created_at", "last_seen")
_KEY = "session_key"
META_KEY = _KEY
"""The ``sibai_meta`` key that holds the cookies' signing key: a secret, and no part of the district."""
_READY: weakref.WeakSet[Store] = weakref.WeakSet()
_KEYS: weakref.WeakKeyDictionary[Store, str] = weakref.WeakKeyDictionary()


def _as_time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0)
    return dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S")


def ensure_sessions(store: Store) -> None:
    """Create the ``sessions`` table if missing (once per store object).

    Like the accounts, it is private to the application (``schema.PRIVATE_TABLES``): not
    registered in ``gpkg_contents``, so no GIS tool that opens the file lists it.
    """
    if store in _READY:
        return
    with store.engine.connect() as conn:
        conn.execution_options(sibai_write=True)
        with conn.begin():
            schema.metadata.create_all(conn, tables=[sessions])
    _READY.add(store)


def _write(store: Store) -> Any:
    """Open a write connection (callers use it in ``with``), the table made first."""
    ensure_sessions(store)
    conn = store.engine.connect()
    conn.execution_options(sibai_write=True)
    return conn


def session_key(store: Store) -> str:
    """Return the key that signs session cookies, making it on first use (the same for every replica)."""
    if store in _KEYS:
        return _KEYS[store]
    t = schema.sibai_meta
    query = sa.select(t.c.value).where(t.c.key == _KEY)
    try:
        with store.engine.connect() as conn:
            conn.execution_options(sibai_write=True)
            with conn.begin():
                key = conn.execute(query).scalar()
                if key is None:
                    key = secrets.token_hex(32)
                    conn.execute(t.insert().values(key=_KEY, value=key))
    except sa.exc.IntegrityError:  # another replica made it meanwhile: use theirs
        with store.engine.connect() as conn:
            key = conn.execute(query).scalar_one()
    except sa.exc.OperationalError as exc:
        raise StoreError(store._describe(exc)) from None
    _KEYS[store] = str(key)
    return str(key)


def insert_session(
    store: Store,
    *,
    token_hash: str,
    name: str,
    via: str,
    lang: str,
    at: dt.datetime,
    prune_before: dt.datetime,
) -> None:
    """Store a new session (signed in ``at``), and drop sessions idle since before ``prune_before``."""
    row = {"token_hash": token_hash, "name": name, "via": via, "lang": lang}
    with _write(store) as conn, conn.begin():
        conn.execute(sessions.delete().where(sessions.c.last_seen < bind_time(store, prune_before)))
        conn.execute(
            sessions.insert().values(**row, created_at=bind_time(store, at), last_seen=bind_time(store, at))
        )


def read_session(store: Store, token_hash: str) -> dict[str, Any] | None:
    """Return the session whose token hashes to ``token_hash`` (times as ``datetime``), or None."""
    ensure_sessions(store)
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(sessions).where(sessions.c.token_hash == token_hash)).mappings().first()
    if row is None:
        return None
    out = dict(row)
    for name in _TIMES:
        out[name] = _as_time(out[name])
    return out


def update_session(
    store: Store, token_hash: str, *, last_seen: dt.datetime | None = None, lang: str | None = None
) -> None:
    """Mark a session active at ``last_seen`` and/or set its language (nothing when it is gone)."""
    values: dict[str, Any] = {}
    if last_seen is not None:
        values["last_seen"] = bind_time(store, last_seen)
    if lang is not None:
        values["lang"] = lang
    if values:
        with _write(store) as conn, conn.begin():
            conn.execute(sessions.update().where(sessions.c.token_hash == token_hash).values(**values))


def delete_session(store: Store, token_hash: str) -> dict[str, Any] | None:
    """End one session; return its row as it was (None when there was none)."""
    found = read_session(store, token_hash)
    if found is not None:
        with _write(store) as conn, conn.begin():
            conn.execute(sessions.delete().where(sessions.c.token_hash == token_hash))
    return found


def delete_sessions_of(store: Store, name: str) -> int:
    """End every session of user ``name``; return how many there were."""
    with _write(store) as conn, conn.begin():
        return int(conn.execute(sessions.delete().where(sessions.c.name == name)).rowcount)
