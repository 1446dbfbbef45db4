"""GeoPackage geometry blobs, metadata tables and spatial indexes, so QGIS and GDAL open our layers.

The SQLite backend writes the four geometry layers as a standard GeoPackage
1.3 (OGC 12-128r18): the ``gpkg_spatial_ref_sys``, ``gpkg_contents``,
``gpkg_geometry_columns`` and ``gpkg_extensions`` tables, each geometry as a
GeoPackage binary blob (a small header followed by ISO WKB), and for each
layer the R-tree ``rtree_<layer>_geom`` with the standard triggers that keep it
up to date. We write blobs ourselves rather than through GDAL so that a layer
write shares one SQLite transaction with every other table of the same import.

The triggers call ``ST_MinX``, ``ST_MaxX``, ``ST_MinY``, ``ST_MaxY`` and
``ST_IsEmpty``, which GDAL and SpatiaLite define; the store defines them on
each of its own connections (:func:`add_sql_functions`). A plain ``sqlite3``
shell can read the file but not change a layer's rows.

Examples
--------
>>> import shapely
>>> blob = gpkg_blobs_from_geoms([shapely.box(0, 0, 1, 1)])[0]
>>> blob[:2]
b'GP'
>>> bool(shapely.equals(geoms_from_gpkg_blobs([blob])[0], shapely.box(0, 0, 1, 1)))
True
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import shapely

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300  # GeoPackage 1.3.0
VERSION = "1.3"
"""The GeoPackage version we write (GDAL's ``VERSION`` creation option for exported files).

1.3, not 1.4: GDAL 3.6's validator (Debian 12) knows only 1.3's R-tree triggers."""
SRS_ID = 4326

RTREE_EXTENSION = "gpkg_rtree_index"
RTREE_DEFINITION = "http://www.geopackage.org/spec120/#extension_rtree"

_HEADER = struct.Struct("<2sBBi")  # magic, version, flags, srs_id
_FLAGS_LE_NO_ENVELOPE = 0b0000_0001
_FLAGS_LE_EMPTY = 0b0001_0001
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}

WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
    'AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]]'
)


def gpkg_blobs_from_geoms(geoms: Iterable[shapely.Geometry | None]) -> list[bytes | None]:
    """Encode shapely geometries as GeoPackage binary blobs (SRS 4326, no envelope)."""
    arr = np.asarray(list(geoms), dtype=object)
    wkb = shapely.to_wkb(arr, byte_order=1, flavor="iso")
    empty = shapely.is_empty(arr)
    out: list[bytes | None] = []
    for w, e in zip(wkb.tolist(), empty.tolist(), strict=True):
        if w is None:
            out.append(None)
            continue
        flags = _FLAGS_LE_EMPTY if e else _FLAGS_LE_NO_ENVELOPE
        out.append(_HEADER.pack(b"GP", 0, flags, SRS_ID) + w)
    return out


def geoms_from_gpkg_blobs(blobs: Sequence[bytes | None]) -> np.ndarray:
    """Decode GeoPackage binary blobs (any envelope, either byte order) to shapely."""
    wkbs: list[bytes | None] = []
    for blob in blobs:
        if blob is None:
            wkbs.append(None)
            continue
        b = bytes(blob)
        if b[:2] != b"GP":
            raise ValueError("not a GeoPackage geometry blob (missing 'GP' magic)")
        flags = b[3]
        envelope = _ENVELOPE_BYTES.get((flags >> 1) & 0b111)
        if envelope is None:
            raise ValueError(f"bad GeoPackage envelope code in flags {flags:#04x}")
        wkbs.append(b[8 + envelope :])
    return shapely.from_wkb(np.asarray(wkbs, dtype=object))


def metadata_ddl() -> list[str]:
    """Return the statements that create the GeoPackage metadata tables."""
    return [
        f"PRAGMA application_id = {APPLICATION_ID}",
        f"PRAGMA user_version = {USER_VERSION}",
        """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
            srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
            organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
            definition TEXT NOT NULL, description TEXT)""",
        """CREATE TABLE IF NOT EXISTS gpkg_contents (
            table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
            identifier TEXT UNIQUE, description TEXT DEFAULT '',
            last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
            CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
        """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
            table_name TEXT NOT NULL, column_name TEXT NOT NULL,
            geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
            z TINYINT NOT NULL, m TINYINT NOT NULL,
            CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
            CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
            CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
        """CREATE TABLE IF NOT EXISTS gpkg_extensions (
            table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
            definition TEXT NOT NULL, scope TEXT NOT NULL,
            CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
        """INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
            ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian'),
            ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic'),
            ('WGS 84 geodetic', 4326, 'EPSG', 4326, '"""
        + WGS84_WKT
        + """', 'longitude/latitude WGS 84')""",
    ]


def register_layer_sql(table: str, geometry_type: str = "MULTIPOLYGON") -> list[str]:
    """Return the statements that register ``table`` as a feature layer."""
    return [
        f"INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
        f"VALUES ('{table}', 'features', '{table}', {SRS_ID})",
        f"INSERT OR REPLACE INTO gpkg_geometry_columns VALUES "
        f"('{table}', 'geom', '{geometry_type}', {SRS_ID}, 0, 0)",
    ]


def register_attributes_sql(table: str) -> str:
    """Return the statement that registers ``table`` as an attribute (non-spatial) table."""
    return (
        "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier) "
        f"VALUES ('{table}', 'attributes', '{table}')"
    )


def update_extent_sql(table: str) -> str:
    """Return a statement that stores a layer's extent (given as 4 bound parameters)."""
    return (
        "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, "
        "last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') "
        f"WHERE table_name = '{table}'"
    )


def unregister_sql(tables: Sequence[str]) -> str:
    """Return the statement that removes ``tables`` from ``gpkg_contents`` (private tables are no layers)."""
    listed = ", ".join(f"'{t}'" for t in tables)
    return f"DELETE FROM gpkg_contents WHERE table_name IN ({listed})"


# ------------------------------------------------------------------ spatial index


def rtree_name(table: str, column: str = "geom") -> str:
    """Return the name GeoPackage gives the R-tree of ``table.column``."""
    return f"rtree_{table}_{column}"


def rtree_sql(table: str, column: str = "geom") -> list[str]:
    """Return the statements that create the R-tree of a layer and declare the extension (idempotent)."""
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {rtree_name(table, column)} "
        "USING rtree(id, minx, maxx, miny, maxy)",
        "INSERT OR IGNORE INTO gpkg_extensions "
        "(table_name, column_name, extension_name, definition, scope) "
        f"VALUES ('{table}', '{column}', '{RTREE_EXTENSION}', '{RTREE_DEFINITION}', 'write-only')",
    ]


_TRIGGER_NAMES = ("insert", "update1", "update2", "update3", "update4", "delete")


def rtree_triggers_sql(table: str, column: str = "geom", fid: str = "fid") -> list[str]:
    """Return GeoPackage 1.3's six triggers that keep a layer's R-tree up to date (idempotent).

    The text of the specification's annex F.3, with ``IF NOT EXISTS``.
    """
    r, t, c, i = rtree_name(table, column), table, column, fid
    values = f"NEW.{i}, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c})"
    has_geom = f"(NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))"
    no_geom = f"(NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {r}_insert AFTER INSERT ON {t} WHEN {has_geom} "
        f"BEGIN INSERT OR REPLACE INTO {r} VALUES ({values}); END",
        f"CREATE TRIGGER IF NOT EXISTS {r}_update1 AFTER UPDATE OF {c} ON {t} "
        f"WHEN OLD.{i} = NEW.{i} AND {has_geom} "
        f"BEGIN INSERT OR REPLACE INTO {r} VALUES ({values}); END",
        f"CREATE TRIGGER IF NOT EXISTS {r}_update2 AFTER UPDATE OF {c} ON {t} "
        f"WHEN OLD.{i} = NEW.{i} AND {no_geom} "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{i}; END",
        f"CREATE TRIGGER IF NOT EXISTS {r}_update3 AFTER UPDATE ON {t} "
        f"WHEN OLD.{i} != NEW.{i} AND {has_geom} "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{i}; INSERT OR REPLACE INTO {r} VALUES ({values}); END",
        f"CREATE TRIGGER IF NOT EXISTS {r}_update4 AFTER UPDATE ON {t} "
        f"WHEN OLD.{i} != NEW.{i} AND {no_geom} "
        f"BEGIN DELETE FROM {r} WHERE id IN (OLD.{i}, NEW.{i}); END",
        f"CREATE TRIGGER IF NOT EXISTS {r}_delete AFTER DELETE ON {t} WHEN OLD.{c} NOT NULL "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{i}; END",
    ]


def drop_rtree_triggers_sql(table: str, column: str = "geom") -> list[str]:
    """Return the statements that drop a layer's R-tree triggers (before a bulk load)."""
    return [f"DROP TRIGGER IF EXISTS {rtree_name(table, column)}_{n}" for n in _TRIGGER_NAMES]


def rtree_rows(
    fids: Sequence[int], blobs: Sequence[bytes | None]
) -> list[tuple[int, float, float, float, float]]:
    """Return the R-tree rows ``(id, minx, maxx, miny, maxy)`` of features (none for empty or no geometry).

    Vectorised: one decode of all blobs, not four calls per row as the triggers make.

    >>> import shapely
    >>> rtree_rows([7, 8], [*gpkg_blobs_from_geoms([shapely.box(1, 2, 3, 4)]), None])
    [(7, 1.0, 3.0, 2.0, 4.0)]
    """
    if len(fids) == 0:
        return []
    bounds = shapely.bounds(geoms_from_gpkg_blobs(blobs))
    keep = np.isfinite(bounds).all(axis=1)
    ids = np.asarray(fids, dtype=np.int64)[keep].tolist()
    b = bounds[keep]
    return list(zip(ids, b[:, 0].tolist(), b[:, 2].tolist(), b[:, 1].tolist(), b[:, 3].tolist(), strict=True))


# ------------------------------------------------------------ SQL functions of the triggers

_LAST: tuple[bytes, tuple[float, float, float, float] | None] = (b"", None)
"""The last blob measured and its envelope: the triggers ask four times about the same blob."""


def envelope_from_blob(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """Return ``(minx, maxx, miny, maxy)`` of a GeoPackage blob; None when empty, missing or no blob.

    Read from the blob's header when it carries an envelope, else from its WKB.

    >>> import shapely
    >>> envelope_from_blob(gpkg_blobs_from_geoms([shapely.box(1, 2, 3, 4)])[0])
    (1.0, 3.0, 2.0, 4.0)
    >>> envelope_from_blob(gpkg_blobs_from_geoms([shapely.Polygon()])[0]) is None
    True
    """
    global _LAST
    if blob is None:
        return None
    b = bytes(blob)
    last_blob, last_env = _LAST
    if b == last_blob:
        return last_env
    env: tuple[float, float, float, float] | None = None
    if len(b) >= 8 and b[:2] == b"GP" and not b[3] & 0b0001_0000:
        flags = b[3]
        if (flags >> 1) & 0b111:
            order = "<" if flags & 1 else ">"
            env = struct.unpack_from(f"{order}4d", b, 8)
        else:
            minx, miny, maxx, maxy = shapely.bounds(geoms_from_gpkg_blobs([b])[0]).tolist()
            env = None if minx != minx else (minx, maxx, miny, maxy)
    _LAST = (b, env)
    return env


def _coordinate(index: int) -> Any:
    def f(blob: bytes | None) -> float | None:
        env = envelope_from_blob(blob)
        return None if env is None else env[index]

    return f


def _is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    return int(envelope_from_blob(blob) is None)


def add_sql_functions(conn: sqlite3.Connection) -> None:
    """Define on ``conn`` the SQL functions GeoPackage's R-tree triggers call."""
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, _coordinate(i), deterministic=True)
    conn.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
