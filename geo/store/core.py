"""The one gateway to the database: SQLite/GeoPackage by default, PostgreSQL + PostGIS by URL.

Everything outside the store takes and returns frames. The store owns SQL,
connections, transactions, geometry encoding and the change counter that lets
in-memory caches notice writes made by another process or server.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from geo.progress import Progress
from geo.settings import Settings
from geo.store import gpkg, schema

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]


class StoreError(Exception):
    """A problem with the database that a person can act on (one clear line)."""


class OutOfScope(StoreError):
    """A single-record read asked for a record that exists but lies outside the caller's scope.

    Every single-record read (one grid, one household, one issue) follows one
    rule: a record outside the scope raises this error; an id that does not
    exist at all keeps the read's not-found answer (``LookupError`` or empty
    frames). The message names the record, never anything about it.
    """

    def __init__(self, kind: str, record_id: object) -> None:
        super().__init__(f"no access: {kind} {record_id} is outside your area")
        self.kind = kind
        self.record_id = record_id


@dataclass(frozen=True)
class Scope:
    """An area a caller may see: streets, committees and grids (their union).

    ``Scope.everything()`` sees all; ``Scope()`` sees nothing.

    Examples
    --------
    >>> Scope(grids=frozenset({"G0001"})).is_everything
    False
    >>> Scope.everything().is_everything
    True
    """

    streets: frozenset[str] = field(default_factory=frozenset)
    committees: frozenset[str] = field(default_factory=frozenset)
    grids: frozenset[str] = field(default_factory=frozenset)
    is_everything: bool = False

    @classmethod
    def everything(cls) -> Scope:
        """Return the scope that sees the whole district."""
        return cls(is_everything=True)

    @classmethod
    def of(
        cls,
        *,
        streets: Sequence[str] = (),
        committees: Sequence[str] = (),
        grids: Sequence[str] = (),
    ) -> Scope:
        """Return the scope covering the given areas."""
        return cls(frozenset(streets), frozenset(committees), frozenset(grids))


_NUMBER_ID = re.compile(r"[0-9]{1,18}")


def number_id(value: object) -> int | None:
    """Return ``value`` as a numeric record id (visits, issues), or None when it cannot be one.

    Links and forms carry ids as text. Only ASCII digits that fit a 64-bit
    integer make an id: ``"²"`` (a digit to :meth:`str.isdigit`) or a
    30-digit number name no record, so the caller says "no such …" instead
    of failing in ``int()`` or in the database driver.

    Examples
    --------
    >>> number_id("42"), number_id(42), number_id("²"), number_id("9" * 30), number_id(" 7")
    (42, 42, None, None, None)
    """
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value) if 0 <= int(value) < 2**63 else None
    text = str(value)
    return int(text) if _NUMBER_ID.fullmatch(text) else None


def _kind(db: str) -> Literal["sqlite", "postgresql"]:
    scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://", db)
    if scheme is None:
        return "sqlite"
    name = scheme.group(1).lower()
    if name in {"postgresql", "postgres", "postgresql+psycopg"}:
        return "postgresql"
    if name == "sqlite":
        return "sqlite"
    raise StoreError(
        f"unknown database scheme {name!r} in {db!r}: use a file path "
        "(SQLite/GeoPackage) or a postgresql:// URL"
    )


class Store:
    """One database, either backend, behind one API.

    Parameters
    ----------
    db
        A file path (SQLite in GeoPackage form) or a ``postgresql://`` URL.
    create
        Create the SQLite file (and its folder) if it does not exist. Without
        it a missing file is an error, so a typo never silently starts an
        empty district.
    """

    def __init__(self, db: str | Path, *, create: bool = False, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.db = str(db)
        self.backend = _kind(self.db)
        if self.backend == "sqlite":
            path = Path(re.sub(r"^sqlite:///", "", self.db))
            if not path.exists():
                if not create:
                    raise StoreError(
                        f"database file not found: {path} (build it with `sibai demo --db {path}`)"
                    )
                path.parent.mkdir(parents=True, exist_ok=True)
            elif path.is_dir():
                raise StoreError(f"database path is a folder, not a file: {path}")
            self.path: Path | None = path
            self.engine = self._sqlite_engine(path)
        else:
            self.path = None
            url = re.sub(r"^(postgresql|postgres)(\+psycopg)?://", "postgresql+psycopg://", self.db)
            self.engine = sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})
        self._check_connect()

    # ----------------------------------------------------------------- engines
    def _sqlite_engine(self, path: Path) -> Engine:
        engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.QueuePool, pool_size=8)
        timeout = self.settings.busy_timeout_ms

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            # We issue BEGIN ourselves so that DDL is transactional too.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {int(timeout)}")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.close()
            # The layers' R-tree triggers call ST_MinX & co. (GDAL defines them on its own connections).
            gpkg.add_sql_functions(dbapi_conn)

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # Writers take the lock at BEGIN: a deferred transaction that later
            # upgrades to a writer fails at once instead of waiting its turn.
            mode = "IMMEDIATE" if conn.get_execution_options().get("sibai_write") else "DEFERRED"
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine

    def _check_connect(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.OperationalError as exc:
            raise StoreError(self._describe(exc)) from None
        except sa.exc.DatabaseError as exc:
            raise StoreError(f"{self._where()}: not a usable database ({_first_line(exc)})") from None

    def _where(self) -> str:
        if self.path is not None:
            return f"database file {self.path}"
        url = self.engine.url
        return f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}/{url.database}"

    def _describe(self, exc: BaseException) -> str:
        msg = _first_line(exc)
        if "locked" in msg or "busy" in msg:
            return f"{self._where()} is locked by another writer (waited {self.settings.busy_timeout_ms} ms)"
        if self.backend == "postgresql":
            return f"cannot reach {self._where()}: {msg}"
        return f"{self._where()}: {msg}"

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ transactions
    @contextlib.contextmanager
    def transaction(self, *, reset: bool = False) -> Iterator[Connection]:
        """Open a write transaction; everything in it commits or nothing does.

        Every write transaction bumps ``data_version`` (and ``reset_version``
        when ``reset`` is true, meaning rows were replaced or deleted, not only
        appended), so caches in other processes notice the change. On SQLite
        the transaction first waits its turn in :meth:`writer_turn`, and every
        :data:`CHECKPOINT_EVERY`-th one folds the log into the file after it
        has let the next writer in.

        The bump is the transaction's first statement: on PostgreSQL its row
        lock on ``sibai_version`` queues the writers, so ids drawn inside
        (visits, issues, issue events) commit in id order (:meth:`_bump`).
        """
        try:
            with self.writer_turn(), self.engine.connect() as conn:
                conn.execution_options(sibai_write=True)
                with conn.begin():
                    version = self._bump(conn, reset=reset)
                    yield conn
        except sa.exc.OperationalError as exc:
            raise StoreError(self._describe(exc)) from None
        if self.backend == "sqlite" and version % CHECKPOINT_EVERY == 0:
            self._passive_checkpoint()

    def _passive_checkpoint(self) -> None:
        """Copy the log's pages into the file without blocking readers or writers.

        SQLite would otherwise do it inside the commit that crosses 1,000
        pages of log (about every 170 visits): 3-4 ms with two fsyncs, spent
        while holding the writer lock, so every queued writer waits too.
        Here it runs after the lock is released. A checkpoint already running
        elsewhere makes this one return at once; SQLite's own automatic
        checkpoint stays as a safety net for writes that bypass
        :meth:`transaction`.
        """
        with self.engine.connect() as conn:
            raw: Any = conn.connection.dbapi_connection
            with contextlib.suppress(sqlite3.OperationalError):
                raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    @contextlib.contextmanager
    def writer_turn(self) -> Iterator[None]:
        """Wait for this SQLite file's single writer slot; hold it inside the block.

        SQLite has one writer at a time. A writer that finds the lock taken
        polls it with growing sleeps (up to 100 ms each), which under
        contention turns a 1 ms write into a wait of hundreds of milliseconds
        and lets late arrivals overtake. So the store's writers queue before
        ``BEGIN IMMEDIATE`` instead: threads of a process on a lock, processes
        on an ``flock(2)`` of ``<database>-writelock``, where the kernel wakes
        a waiter the moment the lock is released. Writers from elsewhere (GDAL,
        the ``sqlite3`` shell) still work, through SQLite's busy timeout.
        Re-entrant within a thread; PostgreSQL needs no queue (a no-op there).
        """
        if self.backend != "sqlite" or self.path is None:
            yield
            return
        queue = _writer_queue(str(self.path))
        with queue.lock:
            fd = queue.fd() if queue.depth == 0 else None
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            queue.depth += 1
            try:
                yield
            finally:
                queue.depth -= 1
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    def _bump(self, conn: Connection, *, reset: bool) -> int:
        """Move the change counters; return the new ``data_version``.

        The counters are one row, ``sibai_version``, on both backends, moved
        inside the write transaction and before anything else in it. On
        PostgreSQL this is what keeps readers that take in "rows with ids
        above the last one seen" (the live coverage index, the office's live
        frames) from missing a row: ids come from sequences, and without a
        queue a transaction holding a lower id could commit after one with a
        higher id that a reader had already taken in. The row's lock is held
        from this first statement until commit, so writers that change data
        run one at a time and their ids commit in order; and as the counter
        is transactional, a reader that sees a version also sees every row
        written under it (a sequence moved before the commit would not be).
        Writes are milliseconds, so the queue costs little (one at a time is
        what SQLite does anyway, :meth:`writer_turn`).
        """
        sets = "data_version = data_version + 1"
        if reset:
            sets += ", reset_version = reset_version + 1"
        update = f"UPDATE sibai_version SET {sets} WHERE id = 1 RETURNING data_version"
        version = conn.exec_driver_sql(update).scalar()
        if version is None and self.backend == "postgresql":  # a database made before the row was used
            self.ensure_version_row(conn)
            version = conn.exec_driver_sql(update).scalar()
        if version is None:
            raise StoreError(f"{self._where()}: the change counter is missing (sibai_version)")
        return int(version)

    _PG_SEED_VERSION = (
        "INSERT INTO sibai_version (id, data_version, reset_version) "
        "SELECT 1, (SELECT CASE WHEN is_called THEN last_value + 1 ELSE 0 END FROM sibai_data_version), "
        "(SELECT CASE WHEN is_called THEN last_value + 1 ELSE 0 END FROM sibai_reset_version) "
        "ON CONFLICT (id) DO NOTHING"
    )
    """PostgreSQL: the counters' row, started where the sequences that counted before it stand."""

    def ensure_version_row(self, conn: Connection | None = None) -> None:
        """PostgreSQL: create the change counters' row if missing (databases made by earlier versions).

        Earlier versions counted with two sequences, moved before the commit;
        the row starts from their values, so a version never goes back to one
        a running process already holds. A no-op on SQLite.
        """
        if self.backend != "postgresql":
            return
        if conn is not None:
            conn.exec_driver_sql(self._PG_SEED_VERSION)
            return
        with self.engine.begin() as c:
            c.exec_driver_sql(self._PG_SEED_VERSION)

    def database_key(self) -> str:
        """Return a short key naming this database: the file, or PostgreSQL's server, port, name and oid.

        A database dropped and made again under the same name gets another
        oid, so another key. Used to name caches kept outside the database
        (the coverage snapshot of ``geo.live``).
        """
        if self.path is not None:
            name = str(self.path.resolve())
        else:
            with self.engine.connect() as conn:
                row = conn.exec_driver_sql(
                    "SELECT host(inet_server_addr()), inet_server_port(), current_database(), "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                ).one()
            name = "|".join(str(v) for v in row)
        return hashlib.sha256(name.encode()).hexdigest()[:16]

    def versions(self) -> tuple[int, int]:
        """Return ``(data_version, reset_version)``: cheap enough to ask on every rerun.

        Committed values only (:meth:`_bump`): every row written under the
        version returned is visible to a read that starts after this one.
        """
        query = "SELECT data_version, reset_version FROM sibai_version WHERE id = 1"
        with self.engine.connect() as conn:
            row = conn.exec_driver_sql(query).first()
            if row is None and self.backend == "postgresql":
                conn.commit()
                self.ensure_version_row()
                row = conn.exec_driver_sql(query).first()
        if row is None:
            raise StoreError(f"{self._where()}: the change counter is missing (sibai_version)")
        return int(row[0]), int(row[1])

    # ------------------------------------------------------------------ schema
    def has_schema(self) -> bool:
        """Return True when the district tables exist."""
        return sa.inspect(self.engine).has_table("sibai_meta")

    def create_schema(self) -> None:
        """Create every table (and GeoPackage/PostGIS metadata) if missing.

        A SQLite file made by an earlier version is first upgraded in place
        (:meth:`upgrade`), in one transaction.
        """
        if self.backend == "sqlite" and self._schema_version() < schema.SCHEMA_VERSION:
            self.upgrade()
            return
        with self.engine.connect() as conn:
            conn.execution_options(sibai_write=True)
            with conn.begin():
                self._create_schema(conn)
        self.checkpoint()

    def _schema_version(self, conn: Connection | None = None) -> int:
        """Return the ``schema_version`` of the database (0 without a schema)."""
        with contextlib.nullcontext(conn) if conn is not None else self.engine.connect() as c:
            if not sa.inspect(c).has_table("sibai_meta"):
                return 0
            value = c.execute(
                sa.select(schema.sibai_meta.c.value).where(schema.sibai_meta.c.key == "schema_version")
            ).scalar()
        return int(value or 0)

    def upgrade(self) -> list[str]:
        """Bring a SQLite file made by an earlier version to the current schema; return what changed.

        In one transaction, so a failure leaves the file exactly as it was:
        every table whose columns differ from the schema (a text primary key
        where an INTEGER one is due, FLOAT coordinates) is rebuilt under a new
        name, its rows copied (a table that gains ``fid`` takes its old rowid),
        the old one dropped and the new one renamed; its indexes are made again.
        Then everything :meth:`create_schema` makes is added (R-trees filled
        from the layers' rows), private tables leave ``gpkg_contents``, the
        foreign keys of the rebuilt tables and their children are checked, and
        ``schema_version`` is set. PostgreSQL databases need no upgrade (their
        text keys serve as well); for them this returns ``[]``.
        """
        if self.backend != "sqlite":
            return []
        load_extension_tables()
        done: list[str] = []
        with self._bulk_transaction(fresh=False, load=False) as conn:
            if not sa.inspect(conn).has_table("sibai_meta"):
                self._create_schema(conn)
                return ["created the schema"]
            if self._schema_version(conn) >= schema.SCHEMA_VERSION:
                return []  # another process upgraded it while this one waited its turn
            present = set(sa.inspect(conn).get_table_names())
            rebuilt = [
                t for t in schema.metadata.sorted_tables if t.name in present and self._rebuild(conn, t)
            ]
            done += [f"rebuilt {t.name}" for t in rebuilt]
            indexed = [n for n in schema.LAYERS if gpkg.rtree_name(n) not in present]
            self._create_schema(conn)
            done += [f"spatial index {gpkg.rtree_name(n)}" for n in indexed]
            self.set_meta(conn, {"schema_version": schema.SCHEMA_VERSION})
            self._check_keys(conn, rebuilt)
        self.checkpoint()
        return done

    def _rebuild(self, conn: Connection, table: sa.Table) -> bool:
        """Rebuild ``table`` when its stored columns differ from the schema; tell whether it did.

        Runs inside :meth:`upgrade`'s transaction, with foreign keys off so
        that the old table can be dropped under its children. A table holding
        a column the schema lacks is left alone: rebuilding would lose it.
        """
        dialect = conn.dialect
        have = {
            (r[1], str(r[2]).upper(), r[5] > 0)
            for r in conn.exec_driver_sql(f'PRAGMA table_info("{table.name}")')
        }
        want = {(c.name, c.type.compile(dialect=dialect).upper(), c.primary_key) for c in table.columns}
        names = {h[0] for h in have}
        if have == want or not names <= {c.name for c in table.columns}:
            return False
        new = f"_sibai_new_{table.name}"
        ddl = str(sa.schema.CreateTable(table).compile(dialect=dialect)).strip()
        conn.exec_driver_sql(re.sub(rf"^CREATE TABLE \"?{table.name}\"? ", f"CREATE TABLE {new} ", ddl))
        cols = [c.name for c in table.columns if c.name in names]
        into, select = list(cols), list(cols)
        key = [c.name for c in table.primary_key.columns]
        if key == ["fid"] and "fid" not in names:
            into, select = ["fid", *cols], ["rowid", *cols]
        conn.exec_driver_sql(
            f"INSERT INTO {new} ({', '.join(into)}) "
            f"SELECT {', '.join(select)} FROM {table.name} ORDER BY rowid"
        )
        conn.exec_driver_sql(f"DROP TABLE {table.name}")
        conn.exec_driver_sql(f"ALTER TABLE {new} RENAME TO {table.name}")
        for ix in table.indexes:
            ix.create(conn, checkfirst=True)
        return True

    def _check_keys(self, conn: Connection, tables: Sequence[sa.Table]) -> None:
        """Check the foreign keys of ``tables`` and of the tables that refer to them (raise StoreError)."""
        names = {t.name for t in tables}
        children = {
            t.name
            for t in schema.metadata.tables.values()
            if any(fk.column.table.name in names for fk in t.foreign_keys)
        }
        present = set(sa.inspect(conn).get_table_names())
        raw: Any = conn.connection.dbapi_connection
        for name in sorted((names | children) & present):
            try:
                bad = raw.execute(f'PRAGMA foreign_key_check("{name}")').fetchone()
            except sqlite3.DatabaseError as exc:  # "foreign key mismatch": a parent key lost its index
                raise StoreError(f"{self._where()}: cannot upgrade {name}: {exc}") from None
            if bad is not None:
                raise StoreError(
                    f"{self._where()}: cannot upgrade: {name} row {bad[1]} refers to a missing {bad[2]} row"
                )

    def checkpoint(self) -> None:
        """Fold SQLite's write-ahead log into the file, so GDAL/QGIS see every change."""
        if self.backend == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def _create_schema(self, conn: Connection) -> None:
        load_extension_tables()
        if self.backend == "sqlite":
            for stmt in gpkg.metadata_ddl():
                conn.exec_driver_sql(stmt)
        else:
            try:
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
            except sa.exc.DBAPIError as exc:
                raise StoreError(
                    f"{self._where()}: the PostGIS extension is not available "
                    f"({_first_line(exc)}); install postgresql-15-postgis-3"
                ) from None
            # What counted changes before the sibai_version row did: kept to start the row from.
            for seq in ("sibai_data_version", "sibai_reset_version"):
                conn.exec_driver_sql(f"CREATE SEQUENCE IF NOT EXISTS {seq} MINVALUE 0 START 0")
        schema.metadata.create_all(conn)
        self.ensure_version_row(conn)
        if self.backend == "sqlite":
            for layer in schema.LAYERS:
                for stmt in gpkg.register_layer_sql(layer):
                    conn.exec_driver_sql(stmt)
                self._ensure_rtree(conn, layer)
            for name in schema.TABLES:
                conn.exec_driver_sql(gpkg.register_attributes_sql(name))
            # Earlier versions listed accounts and the audit trail as attribute tables.
            conn.exec_driver_sql(gpkg.unregister_sql(schema.PRIVATE_TABLES))
            conn.exec_driver_sql(
                "INSERT OR IGNORE INTO sibai_version (id, data_version, reset_version) VALUES (1, 0, 0)"
            )
        else:
            for layer in schema.LAYERS:
                conn.exec_driver_sql(
                    f"CREATE INDEX IF NOT EXISTS ix_{layer}_geom ON {layer} USING GIST (geom)"
                )
        existing = conn.execute(
            sa.select(schema.sibai_meta.c.value).where(schema.sibai_meta.c.key == "schema_version")
        ).scalar()
        if existing is None:
            conn.execute(
                schema.sibai_meta.insert().values(key="schema_version", value=str(schema.SCHEMA_VERSION))
            )

    def _ensure_rtree(self, conn: Connection, layer: str) -> None:
        """Create ``layer``'s R-tree, filled from its rows, and its triggers, where missing (SQLite)."""
        if not self._has_rtree(conn, layer):
            for stmt in gpkg.rtree_sql(layer):
                conn.exec_driver_sql(stmt)
            self._index_features(conn, layer, after=None)
        for stmt in gpkg.rtree_triggers_sql(layer):
            conn.exec_driver_sql(stmt)

    @staticmethod
    def _has_rtree(conn: Connection, layer: str) -> bool:
        found = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (gpkg.rtree_name(layer),)
        ).first()
        return found is not None

    @staticmethod
    def _index_features(conn: Connection, layer: str, *, after: int | None) -> None:
        """Add the features of ``layer`` with ``fid`` above ``after`` (all when None) to its R-tree.

        One vectorised pass: building the index after a load is far faster
        than its triggers' four calls per row into Python.
        """
        raw: Any = conn.connection.dbapi_connection
        cur = raw.cursor()
        try:
            rows = cur.execute(
                f"SELECT fid, geom FROM {layer} WHERE ? IS NULL OR fid > ?", (after, after)
            ).fetchall()
            cur.executemany(
                f"INSERT OR REPLACE INTO {gpkg.rtree_name(layer)} VALUES (?, ?, ?, ?, ?)",
                gpkg.rtree_rows([r[0] for r in rows], [r[1] for r in rows]),
            )
        finally:
            cur.close()

    # -------------------------------------------------------------------- meta
    def meta(self) -> dict[str, str]:
        """Return the ``sibai_meta`` key/value pairs."""
        if not self.has_schema():
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(schema.sibai_meta)).all()
        return {k: v for k, v in rows}

    @staticmethod
    def set_meta(conn: Connection, values: Mapping[str, object]) -> None:
        """Set ``sibai_meta`` keys inside an open transaction."""
        t = schema.sibai_meta
        for key, value in values.items():
            conn.execute(t.delete().where(t.c.key == key))
            conn.execute(t.insert().values(key=key, value=str(value)))

    # ------------------------------------------------------------------ writes
    def replace_all(
        self,
        frames: Mapping[str, pd.DataFrame],
        *,
        meta: Mapping[str, object] | None = None,
        progress: Progress | None = None,
    ) -> None:
        """Replace the whole district with ``frames`` in one transaction.

        ``frames`` maps every layer and table name to a frame with that table's
        columns (layers as GeoDataFrames in EPSG:4326). On any failure the
        database is left exactly as it was. Rows of other tables that depend on
        the replaced ones with ``ON DELETE CASCADE`` (an issue's history) go
        with them; any other row left pointing at a replaced one fails the
        replace.

        On SQLite the load checks foreign keys and CHECK constraints once over
        the loaded tables before it commits, not row by row (see
        :meth:`_bulk_transaction`); a bad row fails the whole replace the same
        way, naming the table and the constraint.
        """
        order = [*schema.LAYERS, *schema.TABLES]
        missing = [n for n in order if n not in frames]
        if missing:
            raise ValueError(f"replace_all needs every table; missing: {', '.join(missing)}")
        if not self.has_schema() or self._schema_version() < schema.SCHEMA_VERSION:
            self.create_schema()
        if self.backend == "sqlite":
            with self._bulk_transaction(fresh=not self._holds_rows(order)) as conn:
                self._load_all(conn, frames, order, meta, progress)
        else:
            with self.transaction(reset=True) as conn:
                self._load_all(conn, frames, order, meta, progress)
        self.checkpoint()
        if progress:
            progress(1.0, "done")

    def _load_all(
        self,
        conn: Connection,
        frames: Mapping[str, pd.DataFrame],
        order: list[str],
        meta: Mapping[str, object] | None,
        progress: Progress | None,
    ) -> None:
        weights = {n: max(len(frames[n]), 1) for n in order}
        total = float(sum(weights.values()))
        done = 0.0
        if self.backend == "sqlite":
            # Before anything is written: a bad reference fails fast and costs nothing.
            self._check_references(frames, order)
        present = set(sa.inspect(conn).get_table_names())
        layers = [n for n in schema.LAYERS if self.backend == "sqlite" and gpkg.rtree_name(n) in present]
        for name in layers:
            # Emptied with the layer; without its triggers the delete needs no row-by-row work.
            for stmt in gpkg.drop_rtree_triggers_sql(name):
                conn.exec_driver_sql(stmt)
            conn.exec_driver_sql(f"DELETE FROM {gpkg.rtree_name(name)}")
        emptied = [n for n in _emptied_with(order) if n in present]  # an older file may lack one
        if self.backend == "postgresql":
            # One TRUNCATE of the whole set: no row-by-row cascade and foreign-key work (a
            # DELETE of 2.7 million visits took minutes before the first row was written).
            # Transactional like the DELETE; nothing outside the set refers to it.
            conn.exec_driver_sql(f"TRUNCATE {', '.join(emptied)}")
        else:
            for name in emptied:
                conn.exec_driver_sql(f"DELETE FROM {name}")
        for name in order:
            if progress:
                progress(done / total, name)
            # Building an index once after the load is far faster than
            # keeping it up to date row by row (126 s → seconds for visits).
            # checkfirst: a file made by an older version may lack a newer index.
            indexes = list(schema.table(name).indexes)
            for ix in indexes:
                ix.drop(conn, checkfirst=True)
            self.bulk_insert(conn, name, frames[name])
            for ix in indexes:
                ix.create(conn, checkfirst=True)
            done += weights[name]
        for name in layers:  # bulk_insert made them again, unless the layer was empty
            for stmt in gpkg.rtree_triggers_sql(name):
                conn.exec_driver_sql(stmt)
        if self.backend == "sqlite":
            if progress:
                progress(done / total, "checks")
            self._verify_load(conn, [n for n in present if n not in order], order)
        else:
            # Statistics for the planner now, not when autovacuum gets round to it: without
            # them PostgreSQL guesses a grid's households and scans all 2.7 million visits
            # (the grid page's reads took 211 ms instead of 20 ms on the full district).
            conn.exec_driver_sql(f"ANALYZE {', '.join(order)}")
        if meta:
            self.set_meta(conn, meta)

    def _holds_rows(self, names: Sequence[str]) -> bool:
        """Tell whether any of the tables ``names`` holds a row."""
        probe = " OR ".join(f"EXISTS (SELECT 1 FROM {n})" for n in names)
        with self.engine.connect() as conn:
            return bool(conn.exec_driver_sql(f"SELECT {probe}").scalar())

    @contextlib.contextmanager
    def _bulk_transaction(self, *, fresh: bool, load: bool = True) -> Iterator[Connection]:
        """Open SQLite's write transaction for :meth:`replace_all` (``reset=True``) or :meth:`upgrade`.

        Foreign keys and CHECK constraints are off on this connection; the
        load checks them in bulk instead (:meth:`_check_references` on the
        frames before writing, :meth:`_verify_load` in the file before COMMIT):
        per row they cost more than the inserts themselves (a list check like
        ``outcome IN (...)`` builds a small lookup table for every row; each
        foreign key is an index search per row): 2.7 million visits load in
        about 5 s instead of 17 s. Into a database that holds no district yet
        (``fresh``) the transaction uses a rollback journal instead of the
        write-ahead log: the journal then holds only the few pages of the empty
        schema, and the district's pages are written once, straight into the
        file, instead of into the log and again into the file at the
        checkpoint. A failed build still rolls back to the empty schema. That
        switch needs the file to itself; when another connection has it open,
        the load simply goes through the log.

        The connection is discarded afterwards, so its pragmas never reach a
        connection of the pool. An upgrade (``load=False``) needs only the
        foreign keys off, to rebuild a table under its children; it keeps the
        CHECK constraints and changes no data, so the change counters stay.
        """
        try:
            with self.writer_turn():
                # Our own idle pooled connections would keep the log in use.
                self.engine.dispose()
                with self.engine.connect() as conn:
                    raw: Any = conn.connection.dbapi_connection
                    # These pragmas are no-ops inside a transaction: set them before BEGIN.
                    raw.execute("PRAGMA foreign_keys = OFF")
                    if load:
                        raw.execute("PRAGMA ignore_check_constraints = ON")
                    raw.execute("PRAGMA cache_size = -262144")  # 256 MiB for the load and its index sorts
                    journal = "wal"
                    if fresh:
                        with contextlib.suppress(sqlite3.OperationalError):
                            journal = str(raw.execute("PRAGMA journal_mode = DELETE").fetchone()[0])
                    try:
                        conn.execution_options(sibai_write=True)
                        with conn.begin():
                            yield conn
                            if load:
                                self._bump(conn, reset=True)
                    finally:
                        if journal != "wal":
                            # Every new connection asks for WAL too, should this fail now.
                            with contextlib.suppress(sqlite3.OperationalError):
                                raw.execute("PRAGMA journal_mode = WAL")
                        conn.invalidate()
        except sa.exc.OperationalError as exc:
            raise StoreError(self._describe(exc)) from None

    def _check_references(self, frames: Mapping[str, pd.DataFrame], order: Sequence[str]) -> None:
        """Check the foreign keys among the tables being loaded, on the frames themselves.

        The same test as SQLite's (a non-null value must be a parent key),
        with a hash lookup per row instead of an index search: 0.7 s for the
        2.7 million visits instead of 2.9 s for ``PRAGMA foreign_key_check``.
        """
        for name in order:
            frame = frames[name]
            for fk in schema.table(name).foreign_keys:
                col, parent = fk.parent.name, fk.column.table.name
                if col not in frame.columns or parent not in frames or frame.empty:
                    continue
                values = frame[col]
                bad = values.notna().to_numpy() & ~values.isin(frames[parent][fk.column.name]).to_numpy()
                if bad.any():
                    first = values.to_numpy()[bad.argmax()]
                    raise StoreError(
                        f"{self._where()}: cannot write {name}: FOREIGN KEY constraint failed "
                        f"({int(bad.sum())} rows; e.g. {col} {first!r} is no {parent}.{fk.column.name})"
                    )

    def _verify_load(self, conn: Connection, others: Sequence[str], loaded: Sequence[str]) -> None:
        """Check the foreign keys of the tables ``others`` and the CHECK constraints of ``loaded``.

        Those among the loaded tables were checked on the frames; a table not
        loaded (an extension's) may still point at a replaced row.
        """
        raw: Any = conn.connection.dbapi_connection
        cur = raw.cursor()
        try:
            for name in others:
                bad = cur.execute(f'PRAGMA foreign_key_check("{name}")').fetchone()
                if bad is not None:
                    raise StoreError(
                        f"{self._where()}: cannot replace the district: {name} row {bad[1]} "
                        f"refers to a {bad[2]} row that the new data lacks"
                    )
            for name in loaded:
                checks = [c for c in schema.table(name).constraints if isinstance(c, sa.CheckConstraint)]
                if not checks:
                    continue
                # One scan per table; NULL passes a CHECK, and NOT (NULL) selects nothing either.
                tests = [f"NOT ({c.sqltext})" for c in checks]
                row = cur.execute(f"SELECT {', '.join(tests)} FROM {name} WHERE {' OR '.join(tests)} LIMIT 1")
                failed = row.fetchone()
                if failed is not None:
                    which = next(c for c, hit in zip(checks, failed, strict=True) if hit)
                    raise StoreError(
                        f"{self._where()}: cannot write {name}: CHECK constraint failed: {which.name}"
                    )
        finally:
            cur.close()

    def bulk_insert(self, conn: Connection, name: str, frame: pd.DataFrame) -> None:
        """Insert ``frame`` into table ``name`` inside ``conn``'s transaction, fast.

        SQLite gets one ``executemany``; PostgreSQL gets ``COPY``. Columns are
        the frame's columns that the table has; geometry is encoded for the
        backend; times become local ISO text.
        """
        table = schema.table(name)
        has_geom = name in schema.LAYERS and ("geom" in frame.columns or isinstance(frame, gpd.GeoDataFrame))
        cols = [c.name for c in table.columns if c.name in frame.columns or (c.name == "geom" and has_geom)]
        if not cols or frame.empty:
            return
        columns = [self._encode_column(frame, name, c) for c in cols]
        # An iterator, not a list: millions of row tuples would only add to the peak memory.
        rows = zip(*columns, strict=True)
        raw = conn.connection.dbapi_connection
        assert raw is not None
        try:
            self._insert_rows(conn, raw, name, cols, rows, frame)
        except Exception as exc:
            # The driver's own errors bypass SQLAlchemy: report them like every other
            # store problem, naming the table (the transaction rolls back on the way out).
            if not _is_driver_error(exc):
                raise
            msg = _first_line(exc)
            detail = getattr(getattr(exc, "diag", None), "message_detail", None)
            if "locked" in msg or "busy" in msg:
                raise StoreError(self._describe(exc)) from exc
            raise StoreError(
                f"{self._where()}: cannot write {name}: {msg}" + (f" ({detail})" if detail else "")
            ) from exc

    def _insert_rows(
        self,
        conn: Connection,
        raw: Any,
        name: str,
        cols: list[str],
        rows: Iterable[tuple[Any, ...]],
        frame: pd.DataFrame,
    ) -> None:
        if self.backend == "sqlite":
            marks = ", ".join("?" for _ in cols)
            indexed = name in schema.LAYERS and self._has_rtree(conn, name)
            if indexed:
                # Like the other indexes, the R-tree is built after the load, in one pass,
                # not by its triggers row by row (see _index_features).
                whole = "fid" in cols  # explicit fids may replace any row: index the whole layer again
                top = (
                    None if whole else int(conn.exec_driver_sql(f"SELECT MAX(fid) FROM {name}").scalar() or 0)
                )
                for stmt in gpkg.drop_rtree_triggers_sql(name):
                    conn.exec_driver_sql(stmt)
            cur = raw.cursor()
            cur.executemany(f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({marks})", rows)
            cur.close()
            if indexed:
                if whole:
                    conn.exec_driver_sql(f"DELETE FROM {gpkg.rtree_name(name)}")
                self._index_features(conn, name, after=top)
                for stmt in gpkg.rtree_triggers_sql(name):
                    conn.exec_driver_sql(stmt)
            if name in schema.LAYERS:
                self._update_extent(raw, name, frame)
        else:
            pg: Any = raw
            with pg.cursor() as cur, cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
            if "visit_id" in cols or "issue_id" in cols:
                key = "visit_id" if name == "visits" else "issue_id"
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', '{key}'), "
                    f"COALESCE((SELECT MAX({key}) FROM {name}), 0) + 1, false)"
                )

    def _update_extent(self, raw: Any, name: str, frame: pd.DataFrame) -> None:
        geoms = frame["geom"] if "geom" in frame.columns else frame.geometry
        b = shapely.total_bounds(np.asarray(geoms, dtype=object))
        cur = raw.cursor()
        cur.execute(gpkg.update_extent_sql(name), [float(x) for x in b])
        cur.close()

    def _encode_column(self, frame: pd.DataFrame, table: str, col: str) -> list[Any]:
        if col == "geom":
            geoms = frame["geom"] if "geom" in frame.columns else frame.geometry
            arr = shapely.force_2d(np.asarray(geoms, dtype=object))
            arr = _as_multipolygon(arr)
            if self.backend == "sqlite":
                return gpkg.gpkg_blobs_from_geoms(arr)
            hexes = shapely.to_wkb(arr, hex=True, include_srid=True, flavor="extended")
            return list(hexes)
        s = frame[col]
        if col in schema.TIME_COLUMNS.get(table, ()):
            return iso_local(s)
        if pd.api.types.is_bool_dtype(s):
            return s.astype(int).tolist()
        if pd.api.types.is_float_dtype(s) and s.isna().any():
            return [None if v != v else v for v in s.tolist()]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            # Vectorised: one pass to find missing values, not a Python test per cell
            # (saves seconds on the 2.7 million visits of the full district).
            missing = s.isna().to_numpy()
            values = s.to_numpy(dtype=object)
            if missing.any():
                values = values.copy()
                values[missing] = None
            return values.tolist()
        return s.tolist()

    # ------------------------------------------------------------------- reads
    def scope_grids(self, scope: Scope) -> sa.Select[Any] | None:
        """Return the SQL that selects the grid ids of ``scope``, or ``None`` for the whole district.

        A subquery, not a list: every scoped read filters in the database in
        one round trip. ``Scope()`` selects no grid at all.
        """
        if scope.is_everything:
            return None
        g, c = schema.grids, schema.committees
        conds: list[sa.ColumnElement[bool]] = []
        if scope.grids:
            conds.append(g.c.grid_id.in_(sorted(scope.grids)))
        if scope.committees:
            conds.append(g.c.committee_id.in_(sorted(scope.committees)))
        if scope.streets:
            conds.append(
                g.c.committee_id.in_(
                    sa.select(c.c.committee_id).where(c.c.street_id.in_(sorted(scope.streets)))
                )
            )
        return sa.select(g.c.grid_id).where(sa.or_(*conds) if conds else sa.false())

    def grid_ids(self, scope: Scope) -> list[str] | None:
        """Resolve ``scope`` to its grid ids (sorted), or ``None`` for the whole district."""
        sub = self.scope_grids(scope)
        if sub is None:
            return None
        with self.engine.connect() as conn:
            return sorted(str(r[0]) for r in conn.execute(sub))

    def scope_filter(self, table: sa.Table, scope: Scope) -> sa.ColumnElement[bool] | None:
        """Return the condition "this row of ``table`` lies in ``scope``" (``None``: no condition).

        A row belongs to the grid it lies in: buildings and issues by their
        grid, households by their building, visits and spot checks by their
        household, issue events and case numbers by their issue, workers by a
        grid they are assigned to or by a committee the scope covers whole.
        Committees and streets are in scope when one of their grids is.
        """
        gsub = self.scope_grids(scope)
        if gsub is None:
            return None
        g, b, h, v, c, gw, i = (
            schema.grids,
            schema.buildings,
            schema.households,
            schema.visits,
            schema.committees,
            schema.grid_workers,
            schema.issues,
        )
        cols = table.c
        if table.name == "streets":
            return cols.street_id.in_(
                sa.select(c.c.street_id)
                .join(g, g.c.committee_id == c.c.committee_id)
                .where(g.c.grid_id.in_(gsub))
            )
        if table.name == "committees":
            return cols.committee_id.in_(sa.select(g.c.committee_id).where(g.c.grid_id.in_(gsub)))
        if table.name == "workers":
            whole = sa.select(c.c.committee_id).where(
                sa.or_(
                    c.c.committee_id.in_(sorted(scope.committees)),
                    c.c.street_id.in_(sorted(scope.streets)),
                )
            )
            return sa.or_(
                cols.worker_id.in_(sa.select(gw.c.worker_id).where(gw.c.grid_id.in_(gsub))),
                cols.committee_id.in_(whole),
            )
        bsub = sa.select(b.c.building_id).where(b.c.grid_id.in_(gsub))
        hsub = sa.select(h.c.household_id).where(h.c.building_id.in_(bsub))
        if "grid_id" in cols and "visit_id" in cols:
            # Anomaly reviews: a grid's flag names the grid, a visit's flag the visit.
            vsub = sa.select(v.c.visit_id).where(v.c.household_id.in_(hsub))
            return sa.or_(cols.grid_id.in_(gsub), cols.visit_id.in_(vsub))
        if "grid_id" in cols:
            return cols.grid_id.in_(gsub)
        if "building_id" in cols:
            return cols.building_id.in_(bsub)
        if "household_id" in cols:
            return cols.household_id.in_(hsub)
        if "issue_id" in cols:
            return cols.issue_id.in_(sa.select(i.c.issue_id).where(i.c.grid_id.in_(gsub)))
        raise KeyError(f"no scope rule for table {table.name!r}")

    def _scoped(self, name: str, query: sa.Select[Any], scope: Scope) -> sa.Select[Any]:
        cond = self.scope_filter(schema.table(name), scope)
        return query if cond is None else query.where(cond)

    _RECORDS: ClassVar[dict[str, tuple[str, str]]] = {
        "grid": ("grids", "grid_id"),
        "building": ("buildings", "building_id"),
        "household": ("households", "household_id"),
        "worker": ("workers", "worker_id"),
        "visit": ("visits", "visit_id"),
        "issue": ("issues", "issue_id"),
    }

    def check_scope(
        self, kind: str, record_id: object, *, scope: Scope, conn: Connection | None = None
    ) -> None:
        """Raise :class:`OutOfScope` if record ``record_id`` exists but lies outside ``scope``.

        ``kind`` is ``grid``, ``building``, ``household``, ``worker``, ``visit``
        or ``issue``. An id that does not exist passes (the read that follows
        answers "not found" as it always did), so a typo and a foreign record
        get different messages, and a foreign record's contents never show.
        A write passes its transaction's ``conn`` so the check sees what the
        write will see.
        """
        if scope.is_everything:
            return
        name, key = self._RECORDS[kind]
        t = schema.table(name)
        value: Any = number_id(record_id) if key in {"visit_id", "issue_id"} else str(record_id)
        if value is None:
            return  # no record can have that id: the read that follows says "not found"
        base = sa.select(t.c[key]).where(t.c[key] == value).limit(1)
        with contextlib.nullcontext(conn) if conn is not None else self.engine.connect() as c:
            if c.execute(self._scoped(name, base, scope)).first() is not None:
                return
            if c.execute(base).first() is None:
                return
        raise OutOfScope(kind, record_id)

    def narrow(self, scope: Scope, area: Scope) -> Scope:
        """Return the part of ``area`` (e.g. the sidebar's street) that ``scope`` may see.

        Examples
        --------
        ``store.narrow(Scope.everything(), Scope.of(streets=["S01"]))`` is the
        street itself; a grid leader's scope narrowed to another street is
        ``Scope.of(grids=[])``, which sees nothing.
        """
        if scope.is_everything:
            return area
        if area.is_everything:
            return scope
        mine, there = self.grid_ids(scope) or [], self.grid_ids(area) or []
        return Scope.of(grids=sorted(set(mine) & set(there)))

    def read_table(
        self,
        name: str,
        *,
        scope: Scope,
        columns: Sequence[str] | None = None,
        where: sa.ColumnElement[bool] | None = None,
        order_by: Sequence[str] = (),
    ) -> pd.DataFrame:
        """Read an attribute table (or a layer without geometry) as a DataFrame.

        Parameters
        ----------
        scope
            Only rows inside this area (:meth:`scope_filter`); required, so no
            read forgets it. ``Scope.everything()`` reads all.
        columns
            Column names to read (default: all but internal ones).
        where
            An extra SQLAlchemy condition on the table's columns.
        """
        t = schema.table(name)
        names = list(columns) if columns else [c.name for c in t.columns if c.name not in {"fid", "geom"}]
        unknown = [n for n in names if n not in t.columns]
        if unknown:
            raise KeyError(f"table {name!r} has no column(s) {', '.join(unknown)}")
        query = sa.select(*(t.c[n] for n in names))
        if where is not None:
            query = query.where(where)
        if order_by:
            query = query.order_by(*(t.c[n] for n in order_by))
        query = self._scoped(name, query, scope)
        frame = self._fetch_frame(query, names)
        for col in schema.TIME_COLUMNS.get(name, ()):
            if col in frame.columns:
                frame[col] = parse_local(frame[col])
        return frame

    def read_layer(
        self,
        name: str,
        *,
        scope: Scope,
        columns: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """Read a geometry layer as a GeoDataFrame in EPSG:4326 (only the features in ``scope``)."""
        if name not in schema.LAYERS:
            raise KeyError(f"{name!r} is not a layer; layers: {', '.join(schema.LAYERS)}")
        t = schema.table(name)
        names = list(columns) if columns else [c.name for c in t.columns if c.name not in {"fid", "geom"}]
        geom_col = sa.func.ST_AsBinary(t.c.geom) if self.backend == "postgresql" else t.c.geom
        query: sa.Select[Any] = sa.select(*(t.c[n] for n in names), geom_col.label("geom")).order_by(t.c.fid)
        query = self._scoped(name, query, scope)
        frame = self._fetch_frame(query, [*names, "geom"])
        blobs = frame.pop("geom").tolist()
        if self.backend == "sqlite":
            geoms = gpkg.geoms_from_gpkg_blobs(blobs)
        else:
            geoms = shapely.from_wkb(
                np.asarray([bytes(b) if b is not None else None for b in blobs], dtype=object)
            )
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")

    def _fetch_frame(self, query: sa.Select[Any], names: list[str]) -> pd.DataFrame:
        """Run ``query`` through the raw driver cursor and build object columns.

        SQLAlchemy's row objects and pandas' string inference cost ten times
        the fetch itself on millions of rows; plain tuples and object columns
        do not.
        """
        with self.engine.connect() as conn:
            return query_frame(conn, query, names)

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """Run one read-only SQL statement and return its single value."""
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), dict(params or {})).scalar()

    def households_fingerprint(self) -> tuple[int, int, int, int]:
        """Return households, occupied households, their residents and buildings: cheap sums of the district.

        A saved index (``geo.live``) compares them with its own, so an edit made
        behind the store's back (raw SQL, a GIS editor) that changes occupancy
        or residents is not answered from a stale snapshot.
        """
        h, b = schema.households, schema.buildings
        with self.engine.connect() as conn:
            n, occupied, residents = conn.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.coalesce(sa.func.sum(h.c.occupied), 0),
                    sa.func.coalesce(sa.func.sum(h.c.residents * h.c.occupied), 0),
                )
            ).one()
            buildings = conn.execute(sa.select(sa.func.count()).select_from(b)).scalar()
        return int(n), int(occupied), int(residents), int(buildings or 0)

    def counts(self) -> dict[str, int]:
        """Return the row count of every layer and table."""
        out: dict[str, int] = {}
        with self.engine.connect() as conn:
            for name in (*schema.LAYERS, *schema.TABLES):
                out[name] = int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {name}").scalar() or 0)
        return out


def _is_driver_error(exc: BaseException) -> bool:
    """Tell whether ``exc`` is a DB-API error of either driver (sqlite3 or psycopg)."""
    if isinstance(exc, sqlite3.Error):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(exc, psycopg.Error)


CHECKPOINT_EVERY = 100
"""SQLite: every this many write transactions (by ``data_version``), one folds the log into the file."""


class _WriterQueue:
    """One SQLite file's writer queue in this process (see :meth:`Store.writer_turn`)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.depth = 0
        self._fd: int | None = None
        self._pid = 0

    def fd(self) -> int | None:
        """The lock file, opened once per process (a forked child must not share its parent's)."""
        if fcntl is None:
            return None
        if self._pid != os.getpid():
            self._pid = os.getpid()
            try:
                self._fd = os.open(f"{self.path}-writelock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError:  # a read-only folder: SQLite's busy timeout alone orders the writers
                self._fd = None
        return self._fd


_WRITER_QUEUES: dict[str, _WriterQueue] = {}
_WRITER_QUEUES_GUARD = threading.Lock()


def _writer_queue(path: str) -> _WriterQueue:
    with _WRITER_QUEUES_GUARD:
        queue = _WRITER_QUEUES.get(path)
        if queue is None:
            queue = _WRITER_QUEUES[path] = _WriterQueue(path)
        return queue


def _emptied_with(names: Sequence[str]) -> list[str]:
    """Return the tables emptied to replace ``names``, children first.

    Those are ``names`` and, recursively, the tables whose rows a delete of
    theirs takes along (``ON DELETE CASCADE``, e.g. an issue's history):
    deleting those explicitly does what the foreign keys would do, also where
    they are off during a bulk load.
    """
    load_extension_tables()
    tables = schema.metadata.tables
    emptied = set(names)
    grew = True
    while grew:
        grew = False
        for t in tables.values():
            if t.name not in emptied and any(
                (fk.ondelete or "").upper() == "CASCADE" and fk.column.table.name in emptied
                for fk in t.foreign_keys
            ):
                emptied.add(t.name)
                grew = True
    return [t.name for t in reversed(schema.metadata.sorted_tables) if t.name in emptied]


EXTENSION_MODULES = (
    "geo.store.issue_log",
    "geo.store.assessment",
    "geo.store.imports",
    "geo.store.walking",
    "geo.store.accounts",
    "geo.store.sessions",
)
"""Modules that define tables beside the foundation's schema (on the same metadata)."""


def load_extension_tables() -> None:
    """Import the extension modules so their tables are on the metadata.

    Imported lazily, not from ``geo.store``'s ``__init__``: those modules use
    domain rules (``geo.issues``) that themselves import the store's schema.
    """
    import importlib

    for name in EXTENSION_MODULES:
        importlib.import_module(name)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def _as_multipolygon(arr: np.ndarray) -> np.ndarray:
    """Promote Polygons to MultiPolygons (the layers' declared type)."""
    types = shapely.get_type_id(arr)
    polys = types == shapely.GeometryType.POLYGON
    if polys.any():
        arr = arr.copy()
        arr[polys] = [shapely.MultiPolygon([p]) for p in arr[polys]]
    return arr


def frame_from_rows(rows: Sequence[Sequence[Any]], names: Sequence[str]) -> pd.DataFrame:
    """Build a frame of object columns from plain row tuples: the one rows-to-frame reader.

    SQLAlchemy's row objects and pandas' string inference cost ten times the
    fetch itself on millions of rows; plain tuples and object columns do not.

    >>> frame_from_rows([(1, "a"), (2, None)], ["n", "s"]).dtypes.tolist()
    [dtype('O'), dtype('O')]
    >>> list(frame_from_rows([], ["n", "s"]).columns)
    ['n', 's']
    """
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    data = {}
    for n, values in zip(names, cols, strict=True):
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        data[n] = pd.Series(arr, dtype=object)
    return pd.DataFrame(data, columns=list(names))


def query_frame(
    conn: Connection, query: Any, names: Sequence[str], params: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Run ``query`` on ``conn`` through the raw driver cursor; return :func:`frame_from_rows` of its rows."""
    result = conn.execute(query, dict(params)) if params else conn.execute(query)
    cursor = result.cursor
    rows = cursor.fetchall() if cursor is not None else []
    result.close()
    return frame_from_rows(rows, names)


def iso_local(values: pd.Series | Sequence[Any]) -> list[str | None]:
    """Format times as local ISO text ``YYYY-MM-DD HH:MM:SS`` (None for missing).

    >>> iso_local(pd.Series(pd.to_datetime(["2024-03-01 14:05:09", None])))
    ['2024-03-01 14:05:09', None]
    """
    s = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        arr = s.to_numpy(dtype="datetime64[s]")
        mask = np.isnat(arr)
        text = np.datetime_as_string(arr, unit="s")
        out = [t[:10] + " " + t[11:] for t in text.tolist()]
        if mask.any():
            for i in np.flatnonzero(mask).tolist():
                out[i] = None
        return out
    return [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in s.tolist()]


def parse_local(values: pd.Series) -> pd.Series:
    """Parse stored local times (ISO text or timestamps) to ``datetime64[s]``.

    >>> parse_local(pd.Series(["2024-03-01 14:05:09", None])).tolist()
    [Timestamp('2024-03-01 14:05:09'), NaT]
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[s]")
    return pd.to_datetime(values, format="%Y-%m-%d %H:%M:%S").astype("datetime64[s]")
