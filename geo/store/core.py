"""The one gateway to the database: SQLite/GeoPackage by default, PostgreSQL + PostGIS by URL.

Everything outside the store takes and returns frames. The store owns SQL,
connections, transactions, geometry encoding and the change counter that lets
in-memory caches notice writes made by another process or server.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from geo.settings import Settings
from geo.store import gpkg, schema

Progress = Callable[[float, str], None]
"""A progress callback: fraction done in [0, 1] and a short message."""


class StoreError(Exception):
    """A problem with the database that a person can act on (one clear line)."""


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
        appended), so caches in other processes notice the change.
        """
        try:
            with self.engine.connect() as conn:
                conn.execution_options(sibai_write=True)
                with conn.begin():
                    yield conn
                    self._bump(conn, reset=reset)
        except sa.exc.OperationalError as exc:
            raise StoreError(self._describe(exc)) from None

    def _bump(self, conn: Connection, *, reset: bool) -> None:
        if self.backend == "postgresql":
            conn.exec_driver_sql("SELECT nextval('sibai_data_version')")
            if reset:
                conn.exec_driver_sql("SELECT nextval('sibai_reset_version')")
            return
        sets = "data_version = data_version + 1"
        if reset:
            sets += ", reset_version = reset_version + 1"
        conn.exec_driver_sql(f"UPDATE sibai_version SET {sets} WHERE id = 1")

    def versions(self) -> tuple[int, int]:
        """Return ``(data_version, reset_version)``: cheap enough to ask on every rerun."""
        with self.engine.connect() as conn:
            if self.backend == "postgresql":
                # The sequences start at 0 and the first nextval() returns that 0,
                # so last_value alone would not move on the first write: count calls.
                row = conn.exec_driver_sql(
                    "SELECT (SELECT CASE WHEN is_called THEN last_value + 1 ELSE 0 END "
                    "FROM sibai_data_version), "
                    "(SELECT CASE WHEN is_called THEN last_value + 1 ELSE 0 END "
                    "FROM sibai_reset_version)"
                ).one()
            else:
                row = conn.exec_driver_sql(
                    "SELECT data_version, reset_version FROM sibai_version WHERE id = 1"
                ).one()
        return int(row[0]), int(row[1])

    # ------------------------------------------------------------------ schema
    def has_schema(self) -> bool:
        """Return True when the district tables exist."""
        return sa.inspect(self.engine).has_table("sibai_meta")

    def create_schema(self) -> None:
        """Create every table (and GeoPackage/PostGIS metadata) if missing."""
        with self.engine.connect() as conn:
            conn.execution_options(sibai_write=True)
            with conn.begin():
                self._create_schema(conn)
        self.checkpoint()

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
            for seq in ("sibai_data_version", "sibai_reset_version"):
                conn.exec_driver_sql(f"CREATE SEQUENCE IF NOT EXISTS {seq} MINVALUE 0 START 0")
        schema.metadata.create_all(conn)
        if self.backend == "sqlite":
            for layer in schema.LAYERS:
                for stmt in gpkg.register_layer_sql(layer):
                    conn.exec_driver_sql(stmt)
            for name in schema.TABLES:
                conn.exec_driver_sql(gpkg.register_attributes_sql(name))
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
        database is left exactly as it was.
        """
        order = [*schema.LAYERS, *schema.TABLES]
        missing = [n for n in order if n not in frames]
        if missing:
            raise ValueError(f"replace_all needs every table; missing: {', '.join(missing)}")
        weights = {n: max(len(frames[n]), 1) for n in order}
        total = float(sum(weights.values()))
        done = 0.0
        if not self.has_schema():
            self.create_schema()
        with self.transaction(reset=True) as conn:
            if self.backend == "sqlite":
                # A large page cache for the load only (not transactional; reset below).
                conn.exec_driver_sql("PRAGMA cache_size = -262144")
            for name in reversed(order):
                conn.exec_driver_sql(f"DELETE FROM {name}")
            for name in order:
                if progress:
                    progress(done / total, name)
                # Building an index once after the load is far faster than
                # keeping it up to date row by row (126 s → seconds for visits).
                indexes = list(schema.table(name).indexes)
                for ix in indexes:
                    ix.drop(conn)
                self.bulk_insert(conn, name, frames[name])
                for ix in indexes:
                    ix.create(conn)
                done += weights[name]
            if meta:
                self.set_meta(conn, meta)
            if self.backend == "sqlite":
                conn.exec_driver_sql("PRAGMA cache_size = -2000")  # SQLite's default again
        self.checkpoint()
        if progress:
            progress(1.0, "done")

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
        rows = list(zip(*columns, strict=True))
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
        rows: list[tuple[Any, ...]],
        frame: pd.DataFrame,
    ) -> None:
        if self.backend == "sqlite":
            marks = ", ".join("?" for _ in cols)
            cur = raw.cursor()
            cur.executemany(f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({marks})", rows)
            cur.close()
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
    def grid_ids(self, scope: Scope | None) -> list[str] | None:
        """Resolve ``scope`` to its grid ids, or ``None`` for the whole district."""
        if scope is None or scope.is_everything:
            return None
        g, c, s = schema.grids, schema.committees, schema.streets
        q = (
            sa.select(g.c.grid_id)
            .join(c, c.c.committee_id == g.c.committee_id)
            .where(
                sa.or_(
                    g.c.grid_id.in_(sorted(scope.grids)),
                    g.c.committee_id.in_(sorted(scope.committees)),
                    c.c.street_id.in_(sorted(scope.streets)),
                )
            )
        )
        del s
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(q)]

    def _scoped(self, name: str, query: sa.Select[Any], grid_ids: list[str] | None) -> sa.Select[Any]:
        if grid_ids is None:
            return query
        t = schema.table(name)
        g, b, h, c, gw = (
            schema.grids,
            schema.buildings,
            schema.households,
            schema.committees,
            schema.grid_workers,
        )
        in_grids: Any = sa.bindparam("scope_grids", grid_ids, expanding=True)
        if name in {"grids", "buildings", "issues", "grid_workers"}:
            return query.where(t.c.grid_id.in_(in_grids))
        if name == "committees":
            sub = sa.select(g.c.committee_id).where(g.c.grid_id.in_(in_grids))
            return query.where(t.c.committee_id.in_(sub))
        if name == "streets":
            sub = (
                sa.select(c.c.street_id)
                .join(g, g.c.committee_id == c.c.committee_id)
                .where(g.c.grid_id.in_(in_grids))
            )
            return query.where(t.c.street_id.in_(sub))
        bsub = sa.select(b.c.building_id).where(b.c.grid_id.in_(in_grids))
        if name == "households":
            return query.where(t.c.building_id.in_(bsub))
        if name == "visits":
            hsub = sa.select(h.c.household_id).where(h.c.building_id.in_(bsub))
            return query.where(t.c.household_id.in_(hsub))
        if name == "workers":
            wsub = sa.select(gw.c.worker_id).where(gw.c.grid_id.in_(in_grids))
            return query.where(t.c.worker_id.in_(wsub))
        raise KeyError(f"no scope rule for table {name!r}")

    def read_table(
        self,
        name: str,
        *,
        scope: Scope | None = None,
        columns: Sequence[str] | None = None,
        where: sa.ColumnElement[bool] | None = None,
        order_by: Sequence[str] = (),
    ) -> pd.DataFrame:
        """Read an attribute table (or a layer without geometry) as a DataFrame.

        Parameters
        ----------
        scope
            Only rows inside this area (``None`` or ``Scope.everything()``: all).
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
        query = self._scoped(name, query, self.grid_ids(scope))
        frame = self._fetch_frame(query, names)
        for col in schema.TIME_COLUMNS.get(name, ()):
            if col in frame.columns:
                frame[col] = parse_local(frame[col])
        return frame

    def read_layer(
        self,
        name: str,
        *,
        scope: Scope | None = None,
        columns: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """Read a geometry layer as a GeoDataFrame in EPSG:4326."""
        if name not in schema.LAYERS:
            raise KeyError(f"{name!r} is not a layer; layers: {', '.join(schema.LAYERS)}")
        t = schema.table(name)
        names = list(columns) if columns else [c.name for c in t.columns if c.name not in {"fid", "geom"}]
        geom_col = sa.func.ST_AsBinary(t.c.geom) if self.backend == "postgresql" else t.c.geom
        query: sa.Select[Any] = sa.select(*(t.c[n] for n in names), geom_col.label("geom")).order_by(t.c.fid)
        query = self._scoped(name, query, self.grid_ids(scope))
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
            result = conn.execute(query)
            cursor = result.cursor
            assert cursor is not None
            rows = cursor.fetchall()
            result.close()
        cols = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        data = {}
        for n, values in zip(names, cols, strict=True):
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            data[n] = pd.Series(arr, dtype=object)
        return pd.DataFrame(data)

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """Run one read-only SQL statement and return its single value."""
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), dict(params or {})).scalar()

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


EXTENSION_MODULES = ("geo.store.issue_log", "geo.store.assessment", "geo.store.imports")
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
