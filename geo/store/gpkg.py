"""GeoPackage geometry blobs and metadata tables, so QGIS and GDAL open our layers.

The SQLite backend writes the four geometry layers as a standard GeoPackage
(OGC 12-128r18): the ``gpkg_spatial_ref_sys``, ``gpkg_contents`` and
``gpkg_geometry_columns`` tables, and each geometry as a GeoPackage binary
blob (a small header followed by ISO WKB). We write blobs ourselves rather than
through GDAL so that a layer write shares one SQLite transaction with every
other table of the same import.

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

import struct
from collections.abc import Iterable, Sequence

import numpy as np
import shapely

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300  # GeoPackage 1.3.0
SRS_ID = 4326

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
