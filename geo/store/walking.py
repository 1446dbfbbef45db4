"""The store's side of today's walk: the office-duty rota and an imported footpath network.

Two attribute tables on the shared :data:`geo.store.schema.metadata`, created
on first use (databases built before them keep working) and registered in
``gpkg_contents`` on SQLite:

``duty_rota``
    Who stays at the committee office on a day (the "330" method: all
    workers but one walk, one receives walk-in residents): ``fid`` (the
    INTEGER key GeoPackage asks of an attribute table), ``committee_id``,
    ``day`` (``YYYY-MM-DD`` text on both backends), ``worker_id``,
    ``set_by``; one row per committee and day (unique). Without a row the duty falls
    to a documented rotation (:func:`geo.walks.default_duty`).
``path_edges``
    A walkable network (footways, paths, residential streets…) as straight
    segments between consecutive points of each way: ``edge_id``,
    ``lon1, lat1, lon2, lat2`` (EPSG:4326), ``length_m`` (metres in
    EPSG:32651), ``highway``, ``name``, ``osm_id``. Two segments meet where
    their end points are equal (OSM ways share nodes). Replaced as a whole by
    each import (:func:`replace_path_edges`).

Neither table has a foreign key: replacing the district's data must not fail
because of them.

Examples
--------
>>> import tempfile, pathlib, datetime as dt
>>> from geo.store import open_store
>>> from geo.demo import install_demo
>>> store = open_store(str(pathlib.Path(tempfile.mkdtemp()) / "w.gpkg"), create=True)
>>> _ = install_demo(store, scale="tiny", seed=1, as_of=dt.date(2026, 3, 31))
>>> read_duty(store, "C001", dt.date(2026, 4, 1)) is None  # no table yet: no row
True
>>> set_duty(store, "C001", dt.date(2026, 4, 1), "W0001", set_by="书记")
>>> read_duty(store, "C001", dt.date(2026, 4, 1))
'W0001'
>>> read_path_edges(store).empty
True
>>> store.close()
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Column, Double, Index, Integer, Table, Text, UniqueConstraint

from geo.store import gpkg, schema
from geo.store.core import Store

__all__ = [
    "EDGE_COLUMNS",
    "duty_rota",
    "ensure_walking_tables",
    "path_edges",
    "read_duty",
    "read_path_edges",
    "replace_path_edges",
    "set_duty",
]

duty_rota = Table(
    "duty_rota",
    schema.metadata,
    Column("fid", Integer, primary_key=True, autoincrement=True),
    Column("committee_id", Text, nullable=False),
    Column("day", Text, nullable=False),
    Column("worker_id", Text, nullable=False),
    Column("set_by", Text, nullable=False, server_default=""),
    UniqueConstraint("committee_id", "day", name="uq_duty_rota"),
)
"""Who is on office duty, per committee and day (see the module docstring)."""

path_edges = Table(
    "path_edges",
    schema.metadata,
    Column("edge_id", Integer, primary_key=True, autoincrement=True),
    Column("lon1", Double, nullable=False),
    Column("lat1", Double, nullable=False),
    Column("lon2", Double, nullable=False),
    Column("lat2", Double, nullable=False),
    Column("length_m", Double, nullable=False),
    Column("highway", Text, nullable=False, server_default=""),
    Column("name", Text, nullable=False, server_default=""),
    Column("osm_id", Text, nullable=False, server_default=""),
    Index("ix_path_edges_lon1", "lon1"),
)
"""Segments of the imported walking network (see the module docstring)."""

TABLES = (duty_rota, path_edges)
"""The tables this module owns."""

EDGE_COLUMNS = ("lon1", "lat1", "lon2", "lat2", "length_m", "highway", "name", "osm_id")
"""The columns of :func:`read_path_edges` and of the frame :func:`replace_path_edges` takes."""

_TEXT = frozenset({"highway", "name", "osm_id"})

_READY: weakref.WeakSet[Store] = weakref.WeakSet()


def ensure_walking_tables(store: Store) -> None:
    """Create this module's tables if missing, and register them in the GeoPackage (once per store)."""
    if store in _READY:
        return
    inspector = sa.inspect(store.engine)
    missing = [t for t in TABLES if not inspector.has_table(t.name)]
    unregistered: list[str] = []
    if store.backend == "sqlite" and inspector.has_table("gpkg_contents"):
        with store.engine.connect() as conn:
            known = {r[0] for r in conn.exec_driver_sql("SELECT table_name FROM gpkg_contents")}
        unregistered = [t.name for t in TABLES if t.name not in known]
    if missing or unregistered:
        with store.engine.connect() as conn:
            conn.execution_options(sibai_write=True)
            with conn.begin():
                # Creating tables changes no data: the change counters stay as they are.
                schema.metadata.create_all(conn, tables=missing)
                for name in unregistered:
                    conn.exec_driver_sql(gpkg.register_attributes_sql(name))
    _READY.add(store)


def _has(store: Store, table: Table) -> bool:
    return store in _READY or sa.inspect(store.engine).has_table(table.name)


def set_duty(store: Store, committee_id: str, day: dt.date, worker_id: str, *, set_by: str = "") -> None:
    """Put ``worker_id`` on office duty for ``committee_id`` on ``day`` (replacing any earlier choice).

    Raises ``ValueError`` when the worker is not an active worker of the committee.
    """
    ensure_walking_tables(store)
    w = schema.workers
    with store.transaction() as conn:
        found = conn.execute(
            sa.select(w.c.worker_id).where(
                w.c.worker_id == worker_id, w.c.committee_id == committee_id, w.c.active == 1
            )
        ).first()
        if found is None:
            raise ValueError(f"no active worker {worker_id!r} in committee {committee_id!r}")
        key = (duty_rota.c.committee_id == committee_id) & (duty_rota.c.day == day.isoformat())
        conn.execute(duty_rota.delete().where(key))
        conn.execute(
            duty_rota.insert().values(
                committee_id=committee_id, day=day.isoformat(), worker_id=worker_id, set_by=set_by
            )
        )


def read_duty(store: Store, committee_id: str, day: dt.date) -> str | None:
    """Return the worker on office duty for the committee on ``day``, or None when no row says."""
    if not _has(store, duty_rota):
        return None
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(duty_rota.c.worker_id).where(
                duty_rota.c.committee_id == committee_id, duty_rota.c.day == day.isoformat()
            )
        ).first()
    return None if row is None else str(row[0])


def replace_path_edges(store: Store, edges: pd.DataFrame) -> int:
    """Replace the whole walking network with ``edges`` (columns :data:`EDGE_COLUMNS`); return the count.

    One transaction: a failed import leaves the previous network in place.
    """
    missing = [c for c in EDGE_COLUMNS if c not in edges.columns]
    if missing:
        raise ValueError(f"path edges: missing column(s) {missing}; expected {list(EDGE_COLUMNS)}")
    ensure_walking_tables(store)
    frame = edges.loc[:, list(EDGE_COLUMNS)].copy()
    for col in _TEXT:
        frame[col] = frame[col].fillna("").astype(str)
    with store.transaction(reset=True) as conn:
        conn.execute(path_edges.delete())
        store.bulk_insert(conn, "path_edges", frame)
    return len(frame)


def read_path_edges(store: Store, *, bbox: Sequence[float] | None = None) -> pd.DataFrame:
    """Return the network's segments (columns :data:`EDGE_COLUMNS`), those touching ``bbox`` if given.

    ``bbox`` is ``(min_lon, min_lat, max_lon, max_lat)``; a segment is kept when
    either end lies inside. An empty frame when nothing was imported.
    """
    if not _has(store, path_edges):
        return pd.DataFrame({c: pd.Series(dtype=object if c in _TEXT else float) for c in EDGE_COLUMNS})
    e = path_edges
    query = sa.select(*(e.c[c] for c in EDGE_COLUMNS)).order_by(e.c.edge_id)
    if bbox is not None:
        x0, y0, x1, y1 = (float(v) for v in bbox)
        query = query.where(
            sa.or_(
                e.c.lon1.between(x0, x1) & e.c.lat1.between(y0, y1),
                e.c.lon2.between(x0, x1) & e.c.lat2.between(y0, y1),
            )
        )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=list(EDGE_COLUMNS))
    for col in ("lon1", "lat1", "lon2", "lat2", "length_m"):
        frame[col] = frame[col].astype(float)
    return frame
