"""The SQLite database and the exported layers are valid GeoPackages; files of schema 1 upgrade in place.

GDAL's own validator (``validate_gpkg.py`` from Debian's python3-gdal, the
``validate_gpkg`` fixture) judges three kinds of file: a generated district, a
district built only by imports, and every ``sibai export … .gpkg``. The
upgrade is tested on a file made with the DDL of schema 1 (as commit a40d853
wrote it), embedded below.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa

from geo.cli import main as sibai
from geo.importing import import_file
from geo.roundtrip import export_file, exportable, formats_for
from geo.store import LAYERS, Scope, StoreError, gpkg, open_store, schema
from geo.store.core import Store

AS_OF = dt.date(2026, 11, 30)
NOW = dt.datetime(2026, 12, 1, 12, 0)
Validate = Callable[[Path], str]


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny district built the way a person builds one: ``sibai demo``."""
    path = tmp_path_factory.mktemp("gpkg") / "demo.gpkg"
    args = [
        "demo",
        "--scale",
        "tiny",
        "--seed",
        "3",
        "--as-of",
        AS_OF.isoformat(),
        "--db",
        str(path),
        "--quiet",
    ]
    assert sibai(args) == 0
    return path


def layer_bounds(path: Path, layer: str) -> tuple[dict[int, tuple[float, ...]], dict[int, tuple[float, ...]]]:
    """Return each feature's bounds from its geometry and from the R-tree, by fid."""
    with sqlite3.connect(path) as con:
        rows = con.execute(f"SELECT fid, geom FROM {layer}").fetchall()
        tree = con.execute(f"SELECT id, minx, maxx, miny, maxy FROM {gpkg.rtree_name(layer)}").fetchall()
    con.close()
    bounds = shapely.bounds(gpkg.geoms_from_gpkg_blobs([r[1] for r in rows]))
    expected = {int(r[0]): (b[0], b[2], b[1], b[3]) for r, b in zip(rows, bounds.tolist(), strict=True)}
    return expected, {int(t[0]): tuple(t[1:]) for t in tree}


def assert_rtree_matches(path: Path) -> None:
    """Every feature is in its layer's R-tree, with its bounds (to the R-tree's 32-bit floats)."""
    for layer in LAYERS:
        expected, tree = layer_bounds(path, layer)
        assert expected, layer
        assert tree.keys() == expected.keys(), layer
        got = np.array([tree[k] for k in sorted(expected)])
        want = np.array([expected[k] for k in sorted(expected)])
        np.testing.assert_allclose(got, want, rtol=0, atol=3e-5)  # a few 32-bit steps at 121°
        # 32-bit boxes are rounded outwards: never smaller than the feature.
        assert (got[:, [0, 2]] <= want[:, [0, 2]]).all() and (got[:, [1, 3]] >= want[:, [1, 3]]).all()


# ------------------------------------------------------------------- GDAL's validator


@pytest.mark.gdal
def test_generated_district_is_a_valid_geopackage(district: Path, validate_gpkg: Validate) -> None:
    assert validate_gpkg(district) == ""
    assert_rtree_matches(district)
    with sqlite3.connect(district) as con:
        listed = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        office = {r[1]: r[2] for r in con.execute("PRAGMA table_info(committees)")}
        extensions = con.execute(
            "SELECT table_name, column_name, scope FROM gpkg_extensions "
            "WHERE extension_name = 'gpkg_rtree_index' ORDER BY table_name"
        ).fetchall()
    con.close()
    assert not set(listed) & set(schema.PRIVATE_TABLES)  # accounts and the audit trail are no layers
    assert {n for n, kind in listed.items() if kind == "features"} == set(LAYERS)
    assert (office["office_lon"], office["office_lat"]) == ("DOUBLE", "DOUBLE")
    assert extensions == [(n, "geom", "write-only") for n in sorted(LAYERS)]


@pytest.mark.gdal
def test_district_built_only_by_imports_and_its_exports_are_valid(
    district: Path, tmp_path: Path, validate_gpkg: Validate
) -> None:
    with open_store(str(district)) as src:
        files = {
            n: export_file(src, n, tmp_path / f"{n}.{formats_for(n)[0]}", scope=Scope.everything())
            for n in exportable()
        }
    for name in LAYERS:  # every `sibai export … .gpkg`
        assert files[name].suffix == ".gpkg"
        assert validate_gpkg(files[name]) == "", name
    built = tmp_path / "imported.gpkg"
    with open_store(str(built), create=True) as target:
        for name in exportable():
            report = import_file(target, name, files[name], now=NOW)
            assert report.written and report.rejected == 0, name
    assert validate_gpkg(built) == ""
    assert_rtree_matches(built)


@pytest.mark.gdal
def test_export_from_the_command_line_is_valid(
    district: Path, tmp_path: Path, validate_gpkg: Validate
) -> None:
    out = tmp_path / "grids.gpkg"
    assert sibai(["export", "grids", str(out), "--db", str(district)]) == 0
    assert validate_gpkg(out) == ""


# ----------------------------------------------------------------------- the R-tree


def test_rtree_follows_imports_and_edits(district: Path, tmp_path: Path) -> None:
    path = tmp_path / "d.gpkg"
    shutil.copy(district, path)
    with open_store(str(path)) as store:
        grid = store.read_layer("grids", scope=Scope.everything()).iloc[0]
        cx, cy = grid.geometry.representative_point().coords[0]
        box = shapely.box(cx - 1e-5, cy - 1e-5, cx + 1e-5, cy + 1e-5)
        gdf = gpd.GeoDataFrame(
            {"building_id": ["B900001"], "grid_id": [grid["grid_id"]], "name": ["新楼"]},
            geometry=[box],
            crs=4326,
        )
        gdf.to_file(tmp_path / "new.geojson", driver="GeoJSON")
        report = import_file(store, "buildings", tmp_path / "new.geojson", now=NOW)
        assert report.accepted == 1, report.problems().to_string()
        assert_rtree_matches(path)
        # An edit through the store's connections goes through the standard triggers.
        moved = shapely.MultiPolygon([shapely.box(121.0, 31.0, 121.001, 31.002)])
        with store.transaction() as conn:
            conn.exec_driver_sql(
                "UPDATE streets SET geom = ? WHERE fid = (SELECT MIN(fid) FROM streets)",
                (gpkg.gpkg_blobs_from_geoms([moved])[0],),
            )
            conn.exec_driver_sql("DELETE FROM buildings WHERE building_id = 'B900001'")
    assert_rtree_matches(path)
    with sqlite3.connect(path) as con:
        top = con.execute(
            "SELECT minx, maxx, miny, maxy FROM rtree_streets_geom ORDER BY id LIMIT 1"
        ).fetchone()
    con.close()
    np.testing.assert_allclose(top, (121.0, 121.001, 31.0, 31.002), atol=1e-5)


def test_envelope_functions_read_headers_and_wkb() -> None:
    blob = gpkg.gpkg_blobs_from_geoms([shapely.box(1, 2, 3, 4)])[0]
    assert blob is not None
    # The same box with an envelope in the header, big-endian, as other writers may store it.
    with_envelope = (
        b"GP\x00\x02" + (4326).to_bytes(4, "big") + np.array([1, 3, 2, 4], dtype=">f8").tobytes() + blob[8:]
    )
    con = sqlite3.connect(":memory:")
    gpkg.add_sql_functions(con)
    for b in (blob, with_envelope):
        got = con.execute("SELECT ST_MinX(?1), ST_MaxX(?1), ST_MinY(?1), ST_MaxY(?1), ST_IsEmpty(?1)", (b,))
        assert got.fetchone() == (1.0, 3.0, 2.0, 4.0, 0)
    empty = gpkg.gpkg_blobs_from_geoms([shapely.Polygon()])[0]
    assert con.execute(
        "SELECT ST_IsEmpty(?), ST_MinX(?), ST_IsEmpty(NULL)",
        (
            empty,
            empty,
        ),
    ).fetchone() == (
        1,
        None,
        None,
    )
    con.close()


# --------------------------------------------------------------------- the upgrade

SCHEMA_1 = """
CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
    organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
    description TEXT);
CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
    identifier TEXT UNIQUE, description TEXT DEFAULT '',
    last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
    CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
    geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
    CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
    CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
    CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE streets (fid INTEGER NOT NULL, street_id TEXT NOT NULL, name TEXT NOT NULL,
    geom MULTIPOLYGON,
    PRIMARY KEY (fid), UNIQUE (street_id));
CREATE TABLE sibai_meta ("key" TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY ("key"));
CREATE TABLE sibai_version (id INTEGER NOT NULL, data_version INTEGER NOT NULL,
    reset_version INTEGER NOT NULL,
    PRIMARY KEY (id), CONSTRAINT uq_version_single UNIQUE (id));
CREATE TABLE users (name TEXT NOT NULL, role TEXT NOT NULL, areas TEXT DEFAULT '' NOT NULL,
    password_hash TEXT,
    disabled INTEGER DEFAULT '0' NOT NULL, sso TEXT, failures INTEGER DEFAULT '0' NOT NULL,
    locked_until TEXT,
    next_try_at TEXT, created_at TEXT NOT NULL, last_login TEXT, PRIMARY KEY (name),
    CONSTRAINT ck_users_role CHECK (role IN ('district', 'street', 'committee', 'grid')),
    CONSTRAINT ck_users_disabled CHECK (disabled IN (0, 1)));
CREATE TABLE duty_rota (committee_id TEXT NOT NULL, day TEXT NOT NULL, worker_id TEXT NOT NULL,
    set_by TEXT DEFAULT '' NOT NULL, PRIMARY KEY (committee_id, day));
CREATE TABLE path_edges (edge_id INTEGER NOT NULL, lon1 FLOAT NOT NULL, lat1 FLOAT NOT NULL,
    lon2 FLOAT NOT NULL,
    lat2 FLOAT NOT NULL, length_m FLOAT NOT NULL, highway TEXT DEFAULT '' NOT NULL,
    name TEXT DEFAULT '' NOT NULL,
    osm_id TEXT DEFAULT '' NOT NULL, PRIMARY KEY (edge_id));
CREATE INDEX ix_path_edges_lon1 ON path_edges (lon1);
CREATE TABLE committees (fid INTEGER NOT NULL, committee_id TEXT NOT NULL, street_id TEXT NOT NULL,
    name TEXT NOT NULL, office_lon FLOAT, office_lat FLOAT, geom MULTIPOLYGON, PRIMARY KEY (fid),
    UNIQUE (committee_id), FOREIGN KEY(street_id) REFERENCES streets (street_id));
CREATE TABLE grids (fid INTEGER NOT NULL, grid_id TEXT NOT NULL, committee_id TEXT NOT NULL,
    name TEXT NOT NULL,
    geom MULTIPOLYGON, PRIMARY KEY (fid), UNIQUE (grid_id),
    FOREIGN KEY(committee_id) REFERENCES committees (committee_id));
CREATE TABLE workers (worker_id TEXT NOT NULL, name TEXT NOT NULL, committee_id TEXT NOT NULL, phone TEXT,
    active INTEGER DEFAULT '1' NOT NULL, PRIMARY KEY (worker_id),
    FOREIGN KEY(committee_id) REFERENCES committees (committee_id));
CREATE TABLE buildings (fid INTEGER NOT NULL, building_id TEXT NOT NULL, grid_id TEXT NOT NULL, name TEXT,
    kind TEXT, floors INTEGER, geom MULTIPOLYGON, PRIMARY KEY (fid), UNIQUE (building_id),
    FOREIGN KEY(grid_id) REFERENCES grids (grid_id));
CREATE TABLE grid_workers (grid_id TEXT NOT NULL, worker_id TEXT NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (grid_id, worker_id), CONSTRAINT ck_role CHECK (role IN ('leader', 'member')),
    FOREIGN KEY(grid_id) REFERENCES grids (grid_id),
    FOREIGN KEY(worker_id) REFERENCES workers (worker_id));
CREATE TABLE households (household_id TEXT NOT NULL, building_id TEXT NOT NULL, unit TEXT,
    occupied INTEGER NOT NULL, residents INTEGER NOT NULL, head_name TEXT, phone TEXT,
    tags TEXT DEFAULT '' NOT NULL, PRIMARY KEY (household_id),
    CONSTRAINT ck_occupied CHECK (occupied IN (0, 1)), CONSTRAINT ck_residents CHECK (residents >= 0),
    FOREIGN KEY(building_id) REFERENCES buildings (building_id));
CREATE TABLE visits (visit_id INTEGER NOT NULL, household_id TEXT NOT NULL, worker_id TEXT NOT NULL,
    visited_at TEXT NOT NULL, outcome TEXT NOT NULL, channel TEXT DEFAULT 'door' NOT NULL,
    note TEXT DEFAULT '' NOT NULL, idem_key TEXT, PRIMARY KEY (visit_id),
    CONSTRAINT ck_outcome CHECK (outcome IN ('met', 'not_home', 'refused', 'vacant', 'inaccessible')),
    CONSTRAINT ck_channel CHECK (channel IN ('door', 'phone', 'online')),
    FOREIGN KEY(household_id) REFERENCES households (household_id),
    FOREIGN KEY(worker_id) REFERENCES workers (worker_id));
CREATE TABLE issues (issue_id INTEGER NOT NULL, grid_id TEXT NOT NULL, building_id TEXT,
    household_id TEXT,
    category TEXT NOT NULL, source TEXT NOT NULL, level TEXT NOT NULL, status TEXT NOT NULL,
    opened_at TEXT NOT NULL, due_at TEXT, closed_at TEXT, title TEXT DEFAULT '' NOT NULL,
    PRIMARY KEY (issue_id),
    CONSTRAINT ck_source CHECK (source IN ('visit', 'hotline', 'online')),
    CONSTRAINT ck_level CHECK (level IN ('building', 'grid', 'committee', 'street', 'district')),
    CONSTRAINT ck_status CHECK (status IN ('open', 'dispatched', 'handled', 'verified', 'closed')),
    FOREIGN KEY(grid_id) REFERENCES grids (grid_id),
    FOREIGN KEY(building_id) REFERENCES buildings (building_id),
    FOREIGN KEY(household_id) REFERENCES households (household_id));
CREATE INDEX ix_buildings_grid ON buildings (grid_id);
CREATE INDEX ix_households_building ON households (building_id);
CREATE UNIQUE INDEX uq_visits_idem_key ON visits (idem_key) WHERE idem_key IS NOT NULL;
CREATE INDEX ix_visits_household_time ON visits (household_id, visited_at);
CREATE INDEX ix_visits_time ON visits (visited_at);
CREATE INDEX ix_issues_grid ON issues (grid_id);
CREATE INDEX ix_issues_household ON issues (household_id);
"""
"""The DDL of schema 1 (``sqlite_master`` of a district made by commit a40d853), trimmed to what matters."""

OFFICE = (121.43912345678901, 31.25123456789012)
"""An office point whose last digits a 4-byte float would lose."""


def schema_1_file(path: Path) -> None:
    """Write a small district the way schema 1 stored it (registrations and all)."""
    blob = gpkg.gpkg_blobs_from_geoms
    square = shapely.MultiPolygon([shapely.box(121.43, 31.24, 121.45, 31.26)])
    small = shapely.MultiPolygon([shapely.box(121.439, 31.251, 121.4392, 31.2512)])
    con = sqlite3.connect(path)
    con.executescript(SCHEMA_1)
    for stmt in [*gpkg.metadata_ddl()[:2], gpkg.metadata_ddl()[-1]]:  # pragmas and the SRS rows
        con.execute(stmt)
    for layer in LAYERS:
        for stmt in gpkg.register_layer_sql(layer):
            con.execute(stmt)
    for name in (*schema.TABLES, "users", "duty_rota", "path_edges"):
        con.execute(gpkg.register_attributes_sql(name))
    con.execute("INSERT INTO streets (street_id, name, geom) VALUES ('S01', '长寿路街道', ?)", blob([square]))
    con.execute(
        "INSERT INTO committees (committee_id, street_id, name, office_lon, office_lat, geom) "
        "VALUES ('C001', 'S01', '普陀一居', ?, ?, ?)",
        (*OFFICE, *blob([square])),
    )
    con.execute("INSERT INTO grids (grid_id, committee_id, name, geom) VALUES ('G0001', 'C001', '一网格', ?)",
                blob([square]))  # fmt: skip
    con.execute(
        "INSERT INTO buildings (building_id, grid_id, name, kind, floors, geom) "
        "VALUES ('B000001', 'G0001', '兰溪路1号', 'walkup', 6, ?)",
        blob([small]),
    )
    # Inserted out of key order: the new fid is the old rowid, so the order is kept too.
    con.executemany(
        "INSERT INTO households (household_id, building_id, unit, occupied, residents, tags) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [("H0000002", "B000001", "1-102", 1, 3, "very_old"), ("H0000001", "B000001", "1-101", 0, 0, "")],
    )
    con.executemany(
        "INSERT INTO workers (worker_id, name, committee_id) VALUES (?, ?, 'C001')",
        [("W0001", "王"), ("W0002", "李")],
    )
    con.executemany(
        "INSERT INTO grid_workers VALUES ('G0001', ?, ?)", [("W0001", "leader"), ("W0002", "member")]
    )
    con.execute(
        "INSERT INTO visits (household_id, worker_id, visited_at, outcome, idem_key) "
        "VALUES ('H0000002', 'W0001', '2026-11-02 15:30:00', 'met', 'k1')"
    )
    con.execute(
        "INSERT INTO issues (grid_id, building_id, category, source, level, status, opened_at, due_at) "
        "VALUES ('G0001', 'B000001', '停车', 'visit', 'building', 'open', '2026-11-02 15:40:00', "
        "'2026-11-05 15:40:00')"
    )
    con.execute("INSERT INTO duty_rota VALUES ('C001', '2026-12-01', 'W0002', '书记')")
    con.execute(
        "INSERT INTO path_edges (lon1, lat1, lon2, lat2, length_m) VALUES (?, ?, ?, ?, 25.5)",
        (*OFFICE, *OFFICE),
    )
    con.execute(
        "INSERT INTO users (name, role, created_at, password_hash) "
        "VALUES ('chief', 'district', '2026-11-01 09:00:00', 'x')"
    )
    con.execute("INSERT INTO sibai_meta VALUES ('schema_version', '1')")
    con.execute("INSERT INTO sibai_version VALUES (1, 7, 2)")
    con.commit()
    con.close()


def everything(store: Store) -> dict[str, pd.DataFrame]:
    """Read every district table and layer (no fids), plus the rota, the network and the accounts."""
    out: dict[str, pd.DataFrame] = {}
    for name in (*LAYERS, *schema.TABLES):
        frame = store.read_table(name, scope=Scope.everything())
        key = [c for c in frame.columns if c.endswith("_id")][:2]
        out[name] = frame.sort_values(key, ignore_index=True)
    with store.engine.connect() as conn:
        for name, cols in {
            "duty_rota": "committee_id, day, worker_id, set_by",
            "path_edges": "edge_id, lon1, lat1, lon2, lat2, length_m",
            "users": "name, role, created_at",
        }.items():
            out[name] = pd.DataFrame(conn.exec_driver_sql(f"SELECT {cols} FROM {name}").all())
    return out


def ddl(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as con:
        rows = con.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    con.close()
    return rows


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "schema1.gpkg"
    schema_1_file(path)
    return path


@pytest.mark.gdal
def test_schema_1_file_is_what_the_validator_rejected(old_file: Path, validate_gpkg: Validate) -> None:
    # The fixture is faithful: GDAL found these problems in every file of schema 1.
    report = validate_gpkg(old_file)
    for table in ("households", "workers", "grid_workers", "users", "duty_rota"):
        assert f"Req 119: table {table} has a PRIMARY KEY of type TEXT instead of INTEGER" in report


@pytest.mark.gdal
def test_create_schema_upgrades_a_schema_1_file_in_place(old_file: Path, validate_gpkg: Validate) -> None:
    with open_store(str(old_file)) as store:
        before, versions = everything(store), store.versions()
        store.create_schema()  # what the app does at start
        assert store.meta()["schema_version"] == str(schema.SCHEMA_VERSION)
        after = everything(store)
        for name, frame in before.items():
            pd.testing.assert_frame_equal(after[name], frame, obj=name)
        assert store.versions() == versions  # no data changed: caches keep what they hold
        assert store.upgrade() == []  # nothing left to do
        # The text keys still work as before: references, uniqueness, reads by id.
        with pytest.raises(sa.exc.IntegrityError, match="UNIQUE"), store.transaction() as conn:
            conn.exec_driver_sql(
                "INSERT INTO households (household_id, building_id, occupied, residents) "
                "VALUES ('H0000001', 'B000001', 1, 1)"
            )
        with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"), store.transaction() as conn:
            conn.exec_driver_sql(
                "INSERT INTO visits (household_id, worker_id, visited_at, outcome) "
                "VALUES ('H9', 'W0001', '2026-11-03 10:00:00', 'met')"
            )
        from geo.store.records import NewVisit, record_visit

        visit = NewVisit("H0000001", "W0002", dt.datetime(2026, 11, 3, 10, 0), "not_home")
        assert record_visit(store, visit, idem_key="k2").created
        again = NewVisit("H0000002", "W0001", dt.datetime(2026, 11, 2, 15, 30), "met")
        assert record_visit(store, again, idem_key="k1") == (1, False, None)  # schema 1's key still counts
    assert validate_gpkg(old_file) == ""
    assert_rtree_matches(old_file)
    with sqlite3.connect(old_file) as con:
        fids = con.execute("SELECT household_id, fid FROM households ORDER BY fid").fetchall()
        types = {r[1]: r[2] for r in con.execute("PRAGMA table_info(committees)")}
        office = con.execute("SELECT office_lon, office_lat FROM committees").fetchone()
        listed = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    con.close()
    assert fids == [("H0000002", 1), ("H0000001", 2)]
    assert types["office_lon"] == types["office_lat"] == "DOUBLE"
    assert office == OFFICE  # SQLite stored 8 bytes all along: nothing was lost, nothing is now
    assert "users" not in listed and {"duty_rota", "path_edges"} <= listed


def test_a_failed_upgrade_leaves_the_file_as_it_was(old_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    structure = ddl(old_file)
    with open_store(str(old_file)) as store:
        before = everything(store)

        def broken(self: Store, conn: sa.Connection, tables: object) -> None:
            raise StoreError("planted failure after every table was rebuilt")

        monkeypatch.setattr(Store, "_check_keys", broken)
        with pytest.raises(StoreError, match="planted"):
            store.create_schema()
        assert store.meta()["schema_version"] == "1"
        for name, frame in before.items():
            pd.testing.assert_frame_equal(everything(store)[name], frame, obj=name)
    assert ddl(old_file) == structure
    monkeypatch.undo()
    with open_store(str(old_file)) as store:  # and it upgrades once the cause is gone
        assert "rebuilt households" in store.upgrade()


def test_sibai_migrate_reports_what_it_did(old_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sibai(["migrate", "--db", str(old_file)]) == 0
    out = capsys.readouterr().out
    assert "rebuilt households" in out and "spatial index rtree_buildings_geom" in out
    assert sibai(["migrate", "--db", str(old_file)]) == 0
    assert "already at schema 2" in capsys.readouterr().out
