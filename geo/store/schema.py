"""The database schema, once, for both backends (see ``docs/data-model.md``).

SQLAlchemy Core tables compile to SQLite (GeoPackage form) or PostgreSQL +
PostGIS. Two small custom types keep the dialect differences in one place:
``Geometry`` (a GeoPackage blob column in SQLite, ``geometry(MultiPolygon,
4326)`` in PostGIS) and ``LocalTime`` (ISO text in SQLite so that text order is
time order, ``timestamp`` in PostgreSQL).

Every table has an INTEGER primary key (``fid`` where the record's own id is
text), as GeoPackage requires of features and attribute tables; the text ids
are ``UNIQUE`` and are what foreign keys and reads use. Coordinates are
``Double`` (8 bytes): GeoPackage readers take ``FLOAT`` as 4 bytes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.types import UserDefinedType

SCHEMA_VERSION = 2
"""Revision of the schema: 2 gave attribute tables INTEGER keys, coordinates DOUBLE, layers R-trees."""

OUTCOMES = ("met", "not_home", "refused", "vacant", "inaccessible")
"""Every visit has exactly one of these outcomes."""

CHANNELS = ("door", "phone", "online")
"""How a visit was made."""

LEVELS = ("building", "grid", "committee", "street", "district")
"""The escalation ladder, lowest first (小事不出楼，大事不出网格，难事不出居村)."""

STATUSES = ("open", "dispatched", "handled", "verified", "closed")
"""An issue's lifecycle: 发现 → 派遣 → 处置 → 核查 → 结案."""

SOURCES = ("visit", "hotline", "online")
"""Where an issue came from."""

EVENT_ACTIONS = ("found", "dispatch", "handle", "verify", "close", "reopen", "refer", "escalate")
"""What an issue's history (``issue_events.action``) can hold; :mod:`geo.issues` says who may do which."""

TAGS = ("alone_elderly", "very_old", "disabled", "low_income", "small_children")
"""Household tags marking vulnerable residents."""

LAYERS = ("streets", "committees", "grids", "buildings")
"""The geometry layers, in dependency order."""

TABLES = ("households", "workers", "grid_workers", "visits", "issues")
"""The attribute tables, in dependency order."""

PRIVATE_TABLES = ("users", "sessions", "audit", "audit_retention")
"""Tables of the application, not of the district: never registered in ``gpkg_contents``."""


class Geometry(UserDefinedType[Any]):
    """A MultiPolygon column in EPSG:4326."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "MULTIPOLYGON"


@compiles(Geometry, "postgresql")
def _geometry_pg(type_: Geometry, compiler: Any, **kw: Any) -> str:
    return "geometry(MultiPolygon, 4326)"


class LocalTime(UserDefinedType[Any]):
    """Shanghai local time without a zone: ISO text in SQLite, timestamp in PostgreSQL."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "TEXT"


@compiles(LocalTime, "postgresql")
def _localtime_pg(type_: LocalTime, compiler: Any, **kw: Any) -> str:
    return "TIMESTAMP WITHOUT TIME ZONE"


def _in(column: str, values: tuple[str, ...]) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=f"ck_{column}")


metadata = MetaData()

streets = Table(
    "streets",
    metadata,
    Column("fid", Integer, primary_key=True, autoincrement=True),
    Column("street_id", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("geom", Geometry()),
)

committees = Table(
    "committees",
    metadata,
    Column("fid", Integer, primary_key=True, autoincrement=True),
    Column("committee_id", Text, nullable=False, unique=True),
    Column("street_id", Text, ForeignKey("streets.street_id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("office_lon", Double),
    Column("office_lat", Double),
    Column("geom", Geometry()),
)

grids = Table(
    "grids",
    metadata,
    Column("fid", Integer, primary_key=True, autoincrement=True),
    Column("grid_id", Text, nullable=False, unique=True),
    Column("committee_id", Text, ForeignKey("committees.committee_id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("geom", Geometry()),
)

buildings = Table(
    "buildings",
    metadata,
    Column("fid", Integer, primary_key=True, autoincrement=True),
    Column("building_id", Text, nullable=False, unique=True),
    Column("grid_id", Text, ForeignKey("grids.grid_id"), nullable=False),
    Column("name", Text),
    Column("kind", Text),
    Column("floors", Integer),
    Column("geom", Geometry()),
    Index("ix_buildings_grid", "grid_id"),
)

households = Table(
    "households",
    metadata,
    Column("fid", Integer, primary_key=True, autoincrement=True),
    Column("household_id", Text, nullable=False, unique=True),
    Column("building_id", Text, ForeignKey("buildings.building_id"), nullable=False),
    Column("unit", Text),
    Column("occupied", Integer, nullable=False),
    Column("residents", Integer, nullable=False),
    Column("head_name", Text),
    Column("phone", Text),
    Column("tags", Text, nullable=False, server_default=""),
    CheckConstraint("occupied IN (0, 1)", name="ck_occupied"),
    CheckConstraint("residents >= 0", name="ck_residents"),
    Index("ix_households_building", "building_id"),
)

workers = Table(
    "workers",
    metadata,
    Column("fid", Integer, primary_key=True, autoincrement=True),
    Column("worker_id", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("committee_id", Text, ForeignKey("committees.committee_id"), nullable=False),
    Column("phone", Text),
    Column("active", Integer, nullable=False, server_default="1"),
)

grid_workers = Table(
    "grid_workers",
    metadata,
    Column("fid", Integer, primary_key=True, autoincrement=True),
    Column("grid_id", Text, ForeignKey("grids.grid_id"), nullable=False),
    Column("worker_id", Text, ForeignKey("workers.worker_id"), nullable=False),
    Column("role", Text, nullable=False),
    _in("role", ("leader", "member")),
    UniqueConstraint("grid_id", "worker_id", name="uq_grid_workers"),
)

visits = Table(
    "visits",
    metadata,
    Column("visit_id", Integer, primary_key=True, autoincrement=True),
    Column("household_id", Text, ForeignKey("households.household_id"), nullable=False),
    Column("worker_id", Text, ForeignKey("workers.worker_id"), nullable=False),
    Column("visited_at", LocalTime(), nullable=False),
    Column("outcome", Text, nullable=False),
    Column("channel", Text, nullable=False, server_default="door"),
    Column("note", Text, nullable=False, server_default=""),
    Column("idem_key", Text),
    _in("outcome", OUTCOMES),
    _in("channel", CHANNELS),
    Index("ix_visits_household_time", "household_id", "visited_at"),
    Index("ix_visits_time", "visited_at"),
    # Unique where set: most visits (every imported or generated one) have no
    # key, and a partial index holds no entry for them. Writers name the
    # predicate in ON CONFLICT (IDEM_KEY_SET); files made before this index
    # have a plain UNIQUE constraint on the column, which that clause matches too.
    Index(
        "uq_visits_idem_key",
        "idem_key",
        unique=True,
        sqlite_where=text("idem_key IS NOT NULL"),
        postgresql_where=text("idem_key IS NOT NULL"),
    ),
)

IDEM_KEY_SET = text("idem_key IS NOT NULL")
"""The predicate of the partial unique index on ``visits.idem_key``, for ``ON CONFLICT … WHERE``."""

issues = Table(
    "issues",
    metadata,
    Column("issue_id", Integer, primary_key=True, autoincrement=True),
    Column("grid_id", Text, ForeignKey("grids.grid_id"), nullable=False),
    Column("building_id", Text, ForeignKey("buildings.building_id")),
    Column("household_id", Text, ForeignKey("households.household_id")),
    Column("category", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("level", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("opened_at", LocalTime(), nullable=False),
    Column("due_at", LocalTime()),
    Column("closed_at", LocalTime()),
    Column("title", Text, nullable=False, server_default=""),
    _in("source", SOURCES),
    _in("level", LEVELS),
    _in("status", STATUSES),
    Index("ix_issues_grid", "grid_id"),
    Index("ix_issues_household", "household_id"),
)

sibai_meta = Table(
    "sibai_meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

sibai_version = Table(
    "sibai_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("data_version", Integer, nullable=False),
    Column("reset_version", Integer, nullable=False),
    UniqueConstraint("id", name="uq_version_single"),
)

TIME_COLUMNS = {
    "visits": ("visited_at",),
    "issues": ("opened_at", "due_at", "closed_at"),
}
"""Columns holding local times, per table."""


def table(name: str) -> Table:
    """Return the table called ``name``; raise ``KeyError`` with the known names."""
    try:
        return metadata.tables[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known: {', '.join(metadata.tables)}") from None
