"""The store's side of imports: it reads what rows are checked against and loads checked rows.

It decides nothing and imports nothing of :mod:`geo.ingest`: reading the
file, checking rows and deciding each row's fate are :mod:`geo.ingest`'s, run
by :func:`geo.importing.import_file`, which hands the store the checked rows
as :class:`Incoming`. The store gives that orchestration one write
transaction, :func:`loading`, in which :meth:`Load.refs` fetches what the
rows are checked against (:class:`Held`: known ids, rows with the same keys,
grid polygons) and :meth:`Load.rows` loads the accepted rows with
:meth:`Store.bulk_insert`, or nothing is written. Checking
inside the transaction means no other writer can slip a duplicate in between;
on PostgreSQL an advisory lock also queues concurrent imports.

* An error inside the transaction (a database error, or one raised by the
  caller) rolls it back and changes nothing; a process killed half-way leaves
  the database as it was (SQLite's journal, PostgreSQL's transaction).
* A transaction that loads no rows is left without writing: not even the
  change counters move.
* :func:`read_refs` fetches the same outside any write (dry runs).

Issue case numbers
------------------
Hotline (12345) and online (随申办) issues carry their own case numbers. They
are kept in a table ``issue_refs`` (``issue_id`` → ``issues``, ``source``,
``ref``; unique per source), created on first use, so that a case imported
again is recognised by its number. Deleting an issue deletes its case number.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from geo.store import gpkg, schema
from geo.store.core import Scope, Store, parse_local, query_frame

__all__ = [
    "ISSUE_REFS",
    "Held",
    "Incoming",
    "Load",
    "ensure_issue_refs",
    "load_refs",
    "loading",
    "read_issue_refs",
    "read_refs",
]

ISSUE_REFS = sa.Table(
    "issue_refs",
    schema.metadata,
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.issue_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("ref", sa.Text, nullable=False),
    sa.UniqueConstraint("source", "ref", name="uq_issue_refs_source_ref"),
)
"""Case numbers of imported issues (hotline and online channels), one per issue."""

CHUNK = 50_000
"""Rows per ``executemany``/``COPY`` batch, so that the progress bar moves during long loads."""

REBUILD_ROWS = 50_000
"""SQLite: a batch this big (and at least a quarter of the table) is loaded without indexes, rebuilt after."""

BULK_CACHE_KIB = 256 * 1024
"""SQLite page cache during a bulk load, in KiB (a cap, not an allocation)."""

IN_CHUNK = 900
"""Values per ``IN (...)`` list when looking rows up by key."""

WHOLE_TABLE = 20_000
"""Above this many distinct keys, a lookup reads the whole column instead of ``IN`` lists."""

_LOCK_KEY = 0x51BA1  # pg_advisory_xact_lock key shared by every import


class _NothingToWrite(Exception):
    """Raised inside the transaction to leave it without writing (or bumping counters)."""


def ensure_issue_refs(store: Store, conn: Connection) -> None:
    """Create the ``issue_refs`` table if missing (inside an open write transaction)."""
    schema.metadata.create_all(conn, tables=[ISSUE_REFS])
    if store.backend == "sqlite":
        conn.exec_driver_sql(gpkg.register_attributes_sql("issue_refs"))


def _has_table(conn: Connection, name: str) -> bool:
    return sa.inspect(conn).has_table(name)


def read_issue_refs(store: Store, *, scope: Scope) -> pd.DataFrame:
    """Return the case numbers (``issue_id, source, ref``) of issues in ``scope``; empty before any import."""
    with store.engine.connect() as conn:
        if not _has_table(conn, "issue_refs"):
            return pd.DataFrame({"issue_id": [], "source": [], "ref": []}, dtype=object)
        q = sa.select(ISSUE_REFS.c.issue_id, ISSUE_REFS.c.source, ISSUE_REFS.c.ref).order_by(
            ISSUE_REFS.c.issue_id
        )
        in_scope = store.scope_filter(ISSUE_REFS, scope)
        return query_frame(conn, q if in_scope is None else q.where(in_scope), ["issue_id", "source", "ref"])


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class Incoming:
    """The checked rows of one import, as the store needs them (:func:`geo.importing.import_file`)."""

    kind: str
    values: pd.DataFrame
    """One column per field, as :attr:`geo.ingest.Checked.values`."""
    key: str | None = None
    """The kind's first key field (``grid_id``, ``household_id``, …)."""
    refs: Mapping[str, str] = field(default_factory=dict)
    """Field name → the kind its values refer to (``committee_id`` → ``committees``)."""


@dataclass
class Held:
    """What the database holds that incoming rows are checked against: :class:`geo.ingest.Refs`'s fields.

    One difference: ``building_names`` (building id → name) in place of
    ``addresses``, which :mod:`geo.ingest` derives by its own address rule.
    """

    ids: dict[str, set[str]] = field(default_factory=dict)
    existing: pd.DataFrame | None = None
    existing_geometry: np.ndarray | None = None
    grids: gpd.GeoDataFrame | None = None
    building_grid: Mapping[str, str] | None = None
    household_building: Mapping[str, str] | None = None
    building_names: Mapping[str, str] | None = None
    taken_ids: Collection[int] | None = None
    idem_keys: Collection[str] | None = None


class Load:
    """One import's write transaction: what rows are checked against, then the rows to load."""

    def __init__(self, store: Store, conn: Connection) -> None:
        self.store = store
        self.conn = conn
        self.loaded = False

    def refs(self, checked: Incoming) -> Held:
        """Fetch what ``checked``'s rows are checked against, inside the transaction."""
        return load_refs(self.store, self.conn, checked)

    def rows(self, kind: str, frame: pd.DataFrame, progress: Callable[[float], object] | None = None) -> None:
        """Load the checked rows ``frame`` of ``kind``; ``progress`` is called with the fraction loaded.

        New issues get their ids here, so that their case numbers (``ref``) can point at them.
        """
        frame = _storable(frame)
        if kind == "visits":
            # In household order, the foreign-key checks and the (household, time) index
            # touch neighbouring pages: a million rows load in about half the time.
            frame = frame.sort_values(["household_id", "visited_at"], kind="stable", ignore_index=True)
        if kind == "issues":
            frame = _with_issue_ids(self.store, self.conn, frame)
        _insert(self.store, self.conn, kind, frame, progress or (lambda _f: None))
        if kind == "issues" and "ref" in frame.columns:
            _insert_refs(self.store, self.conn, frame)
        self.loaded = True


@contextlib.contextmanager
def loading(store: Store, checked: Incoming) -> Iterator[Load]:
    """Open the one write transaction of an import of ``checked`` (creating the schema if needed).

    The transaction commits when the caller has loaded rows (:meth:`Load.rows`), is
    left without writing when it has not, and rolls back on any error.
    """
    if not store.has_schema():
        store.create_schema()
    try:
        with store.transaction(reset=_needs_reset(store, checked)) as conn:
            if store.backend == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            load = Load(store, conn)
            yield load
            if not load.loaded:
                raise _NothingToWrite
    except _NothingToWrite:
        pass
    store.checkpoint()


def read_refs(store: Store, checked: Incoming) -> Held:
    """Fetch what ``checked``'s rows are checked against, outside any write (nothing, before a schema)."""
    if not store.has_schema():
        return Held()
    with store.engine.connect() as conn:
        return load_refs(store, conn, checked)


def _needs_reset(store: Store, checked: Incoming) -> bool:
    """Tell whether caches must rebuild: structure changed, or visits arrive below the highest id."""
    if checked.kind == "issues":
        return False
    if checked.kind != "visits":
        return True
    ids = checked.values.get("visit_id")
    if ids is None or ids.isna().all() or not store.has_schema():
        return False
    top = store.scalar("SELECT MAX(visit_id) FROM visits") or 0
    return int(ids.min()) <= int(top)


def _storable(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn nullable integer columns into objects with None, which both drivers accept."""
    out = frame.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.Int64Dtype):
            arr = out[c].to_numpy(dtype=object, na_value=None)
            out[c] = pd.Series(arr, dtype=object, index=out.index)
    return out


def _with_issue_ids(store: Store, conn: Connection, frame: pd.DataFrame) -> pd.DataFrame:
    """Give new issues their ids now, so that their case numbers can point at them."""
    if "issue_id" not in frame.columns:
        frame["issue_id"] = pd.Series([None] * len(frame), dtype=object, index=frame.index)
    missing = frame["issue_id"].isna().to_numpy()
    n = int(missing.sum())
    if n == 0:
        return frame
    if store.backend == "postgresql":
        ids = [
            int(r[0])
            for r in conn.exec_driver_sql(
                f"SELECT nextval(pg_get_serial_sequence('issues', 'issue_id')) FROM generate_series(1, {n})"
            )
        ]
        # The sequence may lag behind ids imported explicitly: never reuse one.
        top = int(conn.exec_driver_sql("SELECT COALESCE(MAX(issue_id), 0) FROM issues").scalar() or 0)
        if min(ids) <= top:
            ids = list(range(top + 1, top + 1 + n))
    else:
        top = int(conn.exec_driver_sql("SELECT COALESCE(MAX(issue_id), 0) FROM issues").scalar() or 0)
        given = [int(x) for x in frame["issue_id"].dropna()]
        start = max([top, *given]) + 1
        ids = list(range(start, start + n))
    values = frame["issue_id"].to_numpy(dtype=object).copy()
    values[missing] = ids
    frame["issue_id"] = pd.Series(values, dtype=object, index=frame.index)
    return frame


def _insert(
    store: Store, conn: Connection, kind: str, frame: pd.DataFrame, step: Callable[[float], object]
) -> None:
    """Load ``frame`` in batches; rows with and without explicit ids go separately."""
    id_col = {"visits": "visit_id", "issues": "issue_id"}.get(kind)
    parts: list[pd.DataFrame] = [frame]
    if id_col is not None and id_col in frame.columns:
        has = frame[id_col].notna().to_numpy()
        parts = [frame[has], frame[~has].drop(columns=[id_col])]
    extent = _old_extent(store, conn, kind)
    total = max(len(frame), 1)
    done = 0
    with _bulk_mode(store, conn, kind, len(frame)):
        for part in parts:
            for start in range(0, len(part), CHUNK):
                chunk = part.iloc[start : start + CHUNK]
                store.bulk_insert(conn, kind, chunk)
                done += len(chunk)
                step(done / total)
    if extent is not None:
        _update_extent(conn, kind, extent, frame)


@contextlib.contextmanager
def _bulk_mode(store: Store, conn: Connection, kind: str, n_new: int) -> Iterator[None]:
    """Load big batches into SQLite fast: a larger page cache, and indexes rebuilt once afterwards.

    Keeping ``visits``' two indexes up to date row by row costs about 40 s for
    a million rows; dropping them and building them again in the same
    transaction costs about 3 s (see ``bench/bench_ingest.py``). Small imports
    keep the indexes: rebuilding is proportional to the whole table.
    """
    if store.backend != "sqlite":
        yield
        return
    old_cache = int(conn.exec_driver_sql("PRAGMA cache_size").scalar() or -2000)
    conn.exec_driver_sql(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    try:
        existing = int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {kind}").scalar() or 0)
        rebuild = n_new >= max(REBUILD_ROWS, existing // 4)
        indexes = list(schema.table(kind).indexes) if rebuild else []
        for ix in indexes:
            ix.drop(conn)
        yield
        for ix in indexes:
            ix.create(conn)
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {old_cache}")


def _old_extent(store: Store, conn: Connection, kind: str) -> tuple[float, ...] | None:
    if store.backend != "sqlite" or kind not in schema.LAYERS:
        return None
    row = conn.exec_driver_sql(
        "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?", (kind,)
    ).first()
    if row is None or row[0] is None:
        return ()
    return tuple(float(x) for x in row)


def _update_extent(conn: Connection, kind: str, old: tuple[float, ...], frame: pd.DataFrame) -> None:
    """Widen the layer's GeoPackage extent to cover both the old rows and the new ones."""
    geoms = frame["geom"] if "geom" in frame.columns else frame.geometry
    b = shapely.total_bounds(np.asarray(geoms, dtype=object))
    if old:
        b = np.array([min(b[0], old[0]), min(b[1], old[1]), max(b[2], old[2]), max(b[3], old[3])])
    conn.exec_driver_sql(gpkg.update_extent_sql(kind), tuple(float(x) for x in b))


def _insert_refs(store: Store, conn: Connection, frame: pd.DataFrame) -> None:
    has = frame["ref"].notna().to_numpy()
    if not has.any():
        return
    ensure_issue_refs(store, conn)
    rows = [
        {"issue_id": int(i), "source": s, "ref": r}
        for i, s, r in zip(
            frame["issue_id"][has].tolist(),
            frame["source"][has].tolist(),
            frame["ref"][has].tolist(),
            strict=True,
        )
    ]
    conn.execute(ISSUE_REFS.insert(), rows)


# ------------------------------------------------------------- what rows are checked against


def _distinct(values: pd.Series | None) -> list[Any]:
    if values is None:
        return []
    s = values.dropna()
    return pd.unique(s.to_numpy(dtype=object)).tolist()


def _select_in(
    conn: Connection,
    query: sa.Select[Any],
    column: sa.ColumnElement[Any],
    values: Sequence[Any],
    names: Sequence[str],
) -> pd.DataFrame:
    """Run ``query`` for the rows whose ``column`` is in ``values`` (whole table when many)."""
    if len(values) == 0:
        return query_frame(conn, query.where(sa.false()), names)
    if len(values) > WHOLE_TABLE:
        return query_frame(conn, query, names)
    parts = [
        query_frame(conn, query.where(column.in_(list(values[i : i + IN_CHUNK]))), names)
        for i in range(0, len(values), IN_CHUNK)
    ]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _known_ids(conn: Connection, kind: str, values: Sequence[Any]) -> set[str]:
    key = {
        "streets": "street_id",
        "committees": "committee_id",
        "grids": "grid_id",
        "buildings": "building_id",
        "households": "household_id",
        "workers": "worker_id",
    }[kind]
    t = schema.table(kind)
    frame = _select_in(conn, sa.select(t.c[key]), t.c[key], list(values), [key])
    return set(frame[key].tolist())


def _geometry_col(store: Store, t: sa.Table) -> sa.ColumnElement[Any]:
    return sa.func.ST_AsBinary(t.c.geom).label("geom") if store.backend == "postgresql" else t.c.geom


def _decode(store: Store, blobs: Sequence[Any]) -> np.ndarray:
    if store.backend == "sqlite":
        return gpkg.geoms_from_gpkg_blobs(list(blobs))
    return shapely.from_wkb(np.asarray([bytes(b) if b is not None else None for b in blobs], dtype=object))


def _times(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    for col in schema.TIME_COLUMNS.get(kind, ()):
        if col in frame.columns:
            s = frame[col]
            if len(s) and isinstance(s.dropna().iloc[0] if s.notna().any() else None, dt.datetime):
                frame[col] = pd.to_datetime(s).astype("datetime64[s]")
            else:
                frame[col] = parse_local(s.where(s.notna(), None))
    return frame


def _bind_time(store: Store, value: np.datetime64) -> Any:
    stamp = pd.Timestamp(value).to_pydatetime()
    return stamp if store.backend == "postgresql" else stamp.strftime("%Y-%m-%d %H:%M:%S")


def load_refs(store: Store, conn: Connection, checked: Incoming) -> Held:
    """Fetch what ``checked``'s rows are checked against, through ``conn`` (in the write transaction)."""
    kind = checked.kind
    v = checked.values
    ids: dict[str, set[str]] = {}
    for name, ref in checked.refs.items():
        if name in v and not (kind == "issues" and ref in ("buildings", "households")):
            ids[ref] = _known_ids(conn, ref, _distinct(v[name])) | ids.get(ref, set())
    refs = Held(ids=ids)
    t = schema.table(kind)
    names = [c for c in v.columns if c in t.columns]
    if kind in schema.LAYERS:
        key = str(checked.key)
        query = sa.select(*(t.c[n] for n in names), _geometry_col(store, t))
        existing = _select_in(conn, query, t.c[key], _distinct(v.get(key)), [*names, "geom"])
        refs.existing_geometry = _decode(store, existing.pop("geom").tolist())
        refs.existing = existing
        if kind in ("grids", "buildings"):
            g = schema.grids
            grids = query_frame(conn, sa.select(g.c.grid_id, _geometry_col(store, g)), ["grid_id", "geom"])
            refs.grids = gpd.GeoDataFrame(
                grids[["grid_id"]], geometry=gpd.GeoSeries(_decode(store, grids["geom"].tolist())), crs=4326
            )
            if kind == "buildings":  # buildings without a grid are placed in one: every grid is known
                ids["grids"] = set(grids["grid_id"].tolist())
        return refs
    if kind in ("households", "workers"):
        key = str(checked.key)
        refs.existing = _select_in(
            conn, sa.select(*(t.c[n] for n in names)), t.c[key], _distinct(v[key]), names
        )
        return refs
    if kind == "grid_workers":
        refs.existing = query_frame(conn, sa.select(*(t.c[n] for n in names)), names)
        return refs
    if kind == "visits":
        return _visit_refs(store, conn, checked, refs, names)
    return _issue_refs(store, conn, checked, refs, names)


def _time_range(store: Store, values: pd.Series) -> tuple[Any, Any] | None:
    ok = values.dropna()
    if ok.empty:
        return None
    return _bind_time(store, ok.min()), _bind_time(store, ok.max())


def _visit_refs(store: Store, conn: Connection, checked: Incoming, refs: Held, names: list[str]) -> Held:
    v = checked.values
    t = schema.visits
    cols = [n for n in names if n != "visit_id"]
    span = _time_range(store, v["visited_at"])
    if span is not None:
        query = sa.select(*(t.c[n] for n in cols)).where(t.c.visited_at.between(*span))
        refs.existing = _times(query_frame(conn, query, cols), "visits")
    if "visit_id" in v:
        wanted = [int(x) for x in _distinct(v["visit_id"])]
        got = _select_in(conn, sa.select(t.c.visit_id), t.c.visit_id, wanted, ["visit_id"])
        refs.taken_ids = {int(x) for x in got["visit_id"].tolist()}
    if "idem_key" in v:
        got = _select_in(conn, sa.select(t.c.idem_key), t.c.idem_key, _distinct(v["idem_key"]), ["idem_key"])
        refs.idem_keys = set(got["idem_key"].tolist())
    return refs


def _issue_refs(store: Store, conn: Connection, checked: Incoming, refs: Held, names: list[str]) -> Held:
    v = checked.values
    t = schema.issues
    b, h = schema.buildings, schema.households
    buildings = query_frame(
        conn, sa.select(b.c.building_id, b.c.grid_id, b.c.name), ["building_id", "grid_id", "name"]
    )
    refs.building_grid = dict(zip(buildings["building_id"], buildings["grid_id"], strict=True))
    # An issue's grid may come from its building: those grids exist.
    refs.ids = {**refs.ids, "grids": set(refs.ids.get("grids", ())) | set(buildings["grid_id"].tolist())}
    if "address" in v:
        named = buildings[buildings["name"].notna() & (buildings["name"] != "")]
        refs.building_names = dict(zip(named["building_id"], named["name"].astype(str), strict=True))
    if "household_id" in v:
        hh = _select_in(
            conn, sa.select(h.c.household_id, h.c.building_id), h.c.household_id,
            _distinct(v["household_id"]), ["household_id", "building_id"],
        )  # fmt: skip
        refs.household_building = dict(zip(hh["household_id"], hh["building_id"], strict=True))
    cols = [n for n in names if n != "issue_id"]
    for extra in ("grid_id", "building_id", "household_id", "source", "category", "title", "opened_at"):
        if extra not in cols:
            cols.append(extra)
    has_refs = _has_table(conn, "issue_refs")
    r = ISSUE_REFS
    frames = []
    span = _time_range(store, v["opened_at"])
    if span is not None:
        q = sa.select(*(t.c[n] for n in cols)).where(t.c.opened_at.between(*span))
        if has_refs:
            q = (
                sa.select(*(t.c[n] for n in cols), r.c.ref)
                .select_from(t.outerjoin(r, r.c.issue_id == t.c.issue_id))
                .where(t.c.opened_at.between(*span))
            )
        frames.append(query_frame(conn, q, [*cols, "ref"] if has_refs else cols))
    if has_refs and "ref" in v:
        q = sa.select(*(t.c[n] for n in cols), r.c.ref).select_from(t.join(r, r.c.issue_id == t.c.issue_id))
        frames.append(_select_in(conn, q, r.c.ref, _distinct(v["ref"]), [*cols, "ref"]))
    if frames:
        existing = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        refs.existing = _times(existing, "issues")
    if "issue_id" in v:
        wanted = [int(x) for x in _distinct(v["issue_id"])]
        got = _select_in(conn, sa.select(t.c.issue_id), t.c.issue_id, wanted, ["issue_id"])
        refs.taken_ids = {int(x) for x in got["issue_id"].tolist()}
    return refs
