"""The store: one API over SQLite/GeoPackage and PostgreSQL/PostGIS.

Every behaviour test runs on both backends (the ``store`` fixture); the
PostgreSQL half gets a scratch database of its own (``pg_url``) and fails
instead of skipping when ``CI=true``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import sqlalchemy as sa
from frames import as_multipolygons, coverage_inputs, normalise, with_new_rows
from geopandas.testing import assert_geodataframe_equal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from geo.coverage import coverage_by_area
from geo.live import LiveCoverage, coverage_index_from_store
from geo.settings import Settings
from geo.store import LAYERS, TABLES, Scope, Store, StoreError, open_store, schema
from geo.synth import build_district

AS_OF = dt.date(2024, 6, 30)
KEYS = {
    "streets": ["street_id"],
    "committees": ["committee_id"],
    "grids": ["grid_id"],
    "buildings": ["building_id"],
    "households": ["household_id"],
    "workers": ["worker_id"],
    "grid_workers": ["grid_id", "worker_id"],
    "visits": ["visit_id"],
    "issues": ["issue_id"],
}


@pytest.fixture(scope="module")
def tiny() -> dict[str, pd.DataFrame]:
    """The tiny synthetic district (12 grids): built once, never mutated."""
    return build_district(scale="tiny", seed=7, as_of=AS_OF)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    """An empty store (no schema yet) on each backend."""
    if request.param == "sqlite":
        s = open_store(str(tmp_path / "t.gpkg"), create=True)
    else:
        s = open_store(request.getfixturevalue("pg_url"))
    yield s
    s.close()


def visit_rows(**overrides: object) -> pd.DataFrame:
    """One valid visit of household H0000001 by worker W0001 (overridable)."""
    row = {
        "household_id": "H0000001",
        "worker_id": "W0001",
        "visited_at": "2024-06-30 14:00:00",
        "outcome": "met",
        "channel": "door",
        "note": "",
    }
    row.update(overrides)
    return pd.DataFrame([row])


def snapshot(store: Store) -> dict[str, pd.DataFrame]:
    """Every table and layer as read back, sorted by key (for before/after comparisons)."""
    out: dict[str, pd.DataFrame] = {}
    for name in (*LAYERS, *TABLES):
        frame = (
            store.read_layer(name, scope=Scope.everything())
            if name in LAYERS
            else store.read_table(name, scope=Scope.everything())
        )
        if name in LAYERS:
            frame = frame.assign(wkb=shapely.to_wkb(frame.geometry.to_numpy())).drop(columns="geometry")
            frame = pd.DataFrame(frame)
        out[name] = normalise(frame.sort_values(KEYS[name]).reset_index(drop=True), name)
    return out


def assert_same_district(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert_frame_equal(a[name], b[name], obj=name)


# ------------------------------------------------------------------------ schema


def test_create_schema_is_idempotent(store: Store, tiny: dict[str, pd.DataFrame]) -> None:
    assert not store.has_schema()
    store.create_schema()
    store.create_schema()
    assert store.has_schema()
    assert store.counts() == dict.fromkeys((*LAYERS, *TABLES), 0)
    assert store.versions() == (0, 0)
    assert store.meta() == {"schema_version": str(schema.SCHEMA_VERSION)}

    store.replace_all(tiny)
    store.create_schema()  # again, on a full district: must not touch the data
    assert store.counts() == {name: len(tiny[name]) for name in (*LAYERS, *TABLES)}
    assert store.versions() == (1, 1)
    assert store.scalar("SELECT COUNT(*) FROM sibai_meta WHERE key = 'schema_version'") == 1
    if store.backend == "sqlite":
        rows = store.scalar("SELECT group_concat(table_name || ':' || data_type, ' ') FROM gpkg_contents")
        assert sorted(rows.split()) == sorted(
            [f"{n}:features" for n in LAYERS] + [f"{n}:attributes" for n in TABLES]
        )
    else:
        found = store.scalar(
            "SELECT string_agg(f_table_name || ':' || type || ':' || srid, ' ' ORDER BY f_table_name) "
            "FROM geometry_columns WHERE f_table_schema = 'public'"
        )
        assert found == " ".join(f"{n}:MULTIPOLYGON:4326" for n in sorted(LAYERS))


# -------------------------------------------------------------------- round trip


def test_replace_all_then_read_gives_back_the_input(store: Store, tiny: dict[str, pd.DataFrame]) -> None:
    store.replace_all(tiny, meta={"as_of": AS_OF.isoformat(), "seed": 7})
    for name in LAYERS:
        got = store.read_layer(name, scope=Scope.everything())
        assert got.crs == "EPSG:4326"
        expected = tiny[name].copy()
        expected["geometry"] = as_multipolygons(expected.geometry)
        assert_geodataframe_equal(normalise(got, name), normalise(expected, name), check_crs=True)
        # Exactly the same coordinates, not only topologically equal shapes.
        assert shapely.equals_exact(got.geometry.to_numpy(), expected.geometry.to_numpy(), tolerance=0).all()
    for name in TABLES:
        # Row order is the backend's unless asked for: ask for the key order.
        got = store.read_table(name, order_by=KEYS[name], scope=Scope.everything())
        expected = tiny[name].sort_values(KEYS[name]).reset_index(drop=True)
        assert_frame_equal(normalise(got[list(expected.columns)], name), normalise(expected, name), obj=name)
    # Columns the district does not set come back as their defaults.
    assert store.read_table("visits", scope=Scope.everything())["idem_key"].isna().all()
    # The store's own time parsing agrees with the text it was given, to the second.
    times = store.read_table(
        "visits", columns=["visit_id", "visited_at"], order_by=["visit_id"], scope=Scope.everything()
    )
    assert (
        times["visited_at"].dt.strftime("%Y-%m-%d %H:%M:%S").tolist() == tiny["visits"]["visited_at"].tolist()
    )
    assert store.meta()["as_of"] == "2024-06-30"
    assert store.meta()["seed"] == "7"


def test_geopackage_layers_open_with_gdal(tmp_path: Path, tiny: dict[str, pd.DataFrame]) -> None:
    path = tmp_path / "t.gpkg"
    with open_store(str(path), create=True) as s:
        s.replace_all(tiny)
    layers = {name: kind for name, kind in pyogrio.list_layers(path).tolist()}
    assert {n: layers[n] for n in LAYERS} == dict.fromkeys(LAYERS, "MultiPolygon")
    assert {n: layers[n] for n in TABLES} == dict.fromkeys(TABLES, None)
    for name in LAYERS:
        info = pyogrio.read_info(path, layer=name)
        assert info["crs"] == "EPSG:4326"
        assert info["features"] == len(tiny[name])
        np.testing.assert_allclose(info["total_bounds"], tiny[name].total_bounds, rtol=0, atol=1e-12)
        got = pyogrio.read_dataframe(path, layer=name)
        expected = tiny[name].copy()
        expected["geometry"] = as_multipolygons(expected.geometry)
        assert shapely.equals_exact(got.geometry.to_numpy(), expected.geometry.to_numpy(), tolerance=0).all()
        id_col = KEYS[name][0]
        assert got[id_col].tolist() == expected[id_col].tolist()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# ----------------------------------------------------------------- transactions


def test_exception_inside_a_transaction_writes_nothing(store: Store, tiny: dict[str, pd.DataFrame]) -> None:
    store.replace_all(tiny)
    before, versions = snapshot(store), store.versions()
    with pytest.raises(RuntimeError, match="half-way"), store.transaction() as conn:
        store.bulk_insert(conn, "visits", visit_rows())
        conn.exec_driver_sql("DELETE FROM issues")
        raise RuntimeError("stopped half-way")
    assert_same_district(snapshot(store), before)
    assert store.versions() == versions


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"household_id": "H9999999"}, "(?i)foreign key"),
        ({"outcome": "bogus"}, "ck_outcome"),
        ({"channel": "fax"}, "ck_channel"),
    ],
    ids=["unknown-household", "bogus-outcome", "bogus-channel"],
)
def test_failing_bulk_insert_writes_nothing(
    store: Store, tiny: dict[str, pd.DataFrame], bad: dict[str, str], message: str
) -> None:
    store.replace_all(tiny)
    before, versions = snapshot(store), store.versions()
    with pytest.raises(StoreError, match=message) as err, store.transaction() as conn:
        store.bulk_insert(conn, "visits", visit_rows())  # a good row first: it must vanish too
        store.bulk_insert(conn, "visits", visit_rows(**bad))
    assert "cannot write visits" in str(err.value)
    assert_same_district(snapshot(store), before)
    assert store.versions() == versions


def test_replace_all_failing_half_way_keeps_the_previous_district(
    store: Store, tiny: dict[str, pd.DataFrame]
) -> None:
    store.replace_all(tiny, meta={"seed": 7})
    before, versions = snapshot(store), store.versions()
    other = build_district(scale="tiny", seed=8, as_of=AS_OF)
    # Visits come after every layer and households: the failure is half-way through.
    broken = with_new_rows(other, visits=visit_rows(household_id="NOPE").assign(visit_id=10**6))
    with pytest.raises(StoreError, match="cannot write visits"):
        store.replace_all(broken, meta={"seed": 8})
    assert_same_district(snapshot(store), before)
    assert store.versions() == versions
    assert store.meta()["seed"] == "7"
    # The indexes dropped for the bulk load are back, too.
    names = {ix["name"] for ix in sa.inspect(store.engine).get_indexes("visits")}
    assert {"ix_visits_time", "ix_visits_household_time"} <= names

    incomplete = {k: v for k, v in other.items() if k != "issues"}
    with pytest.raises(ValueError, match="missing: issues"):
        store.replace_all(incomplete)
    assert_same_district(snapshot(store), before)


def test_versions_count_writes_and_replacements(store: Store, tiny: dict[str, pd.DataFrame]) -> None:
    store.create_schema()
    assert store.versions() == (0, 0)
    store.replace_all(tiny)
    assert store.versions() == (1, 1)
    with store.transaction() as conn:
        store.bulk_insert(conn, "visits", visit_rows())
    assert store.versions() == (2, 1)
    with store.transaction() as conn:
        store.bulk_insert(conn, "visits", visit_rows(visited_at="2024-06-30 14:30:00"))
    assert store.versions() == (3, 1)
    with store.transaction(reset=True) as conn:
        conn.exec_driver_sql("DELETE FROM visits WHERE visited_at >= '2024-06-30 14:00:00'")
    assert store.versions() == (4, 2)
    store.replace_all(tiny)
    assert store.versions() == (5, 3)
    # A second Store object on the same database sees the same counters.
    with Store(store.db) as again:
        assert again.versions() == (5, 3)


def test_new_visits_get_ids_after_the_loaded_ones(store: Store, tiny: dict[str, pd.DataFrame]) -> None:
    store.replace_all(tiny)
    with store.transaction() as conn:
        store.bulk_insert(conn, "visits", visit_rows())
    ids = store.read_table("visits", columns=["visit_id"], scope=Scope.everything())["visit_id"].astype(int)
    assert ids.max() == len(tiny["visits"]) + 1
    assert ids.is_unique


# ----------------------------------------------------------------------- scopes


def expected_scope_grids(district: dict[str, pd.DataFrame], scope: Scope) -> set[str]:
    """The grids a scope covers, worked out with pandas from the frames."""
    grids = district["grids"].merge(district["committees"][["committee_id", "street_id"]], on="committee_id")
    keep = (
        grids["grid_id"].isin(scope.grids)
        | grids["committee_id"].isin(scope.committees)
        | grids["street_id"].isin(scope.streets)
    )
    return set(grids.loc[keep, "grid_id"])


def expected_in_scope(
    district: dict[str, pd.DataFrame], grids: set[str], scope: Scope | None = None
) -> dict[str, pd.DataFrame]:
    """Every table filtered to ``grids`` with pandas: the rows a scoped read must return.

    Workers are in scope by a grid they are assigned to, or by a committee the
    scope covers whole (named, or of a named street).
    """
    d = district
    whole: set[str] = set()
    if scope is not None:
        c = d["committees"]
        whole = set(
            c.loc[
                c["committee_id"].isin(scope.committees) | c["street_id"].isin(scope.streets), "committee_id"
            ]
        )
    buildings = d["buildings"][d["buildings"]["grid_id"].isin(grids)]
    households = d["households"][d["households"]["building_id"].isin(buildings["building_id"])]
    gw = d["grid_workers"][d["grid_workers"]["grid_id"].isin(grids)]
    committees = d["committees"][
        d["committees"]["committee_id"].isin(
            d["grids"].set_index("grid_id").loc[sorted(grids), "committee_id"]
        )
    ]
    return {
        "streets": d["streets"][d["streets"]["street_id"].isin(committees["street_id"])],
        "committees": committees,
        "grids": d["grids"][d["grids"]["grid_id"].isin(grids)],
        "buildings": buildings,
        "households": households,
        "workers": d["workers"][
            d["workers"]["worker_id"].isin(gw["worker_id"]) | d["workers"]["committee_id"].isin(whole)
        ],
        "grid_workers": gw,
        "visits": d["visits"][d["visits"]["household_id"].isin(households["household_id"])],
        "issues": d["issues"][d["issues"]["grid_id"].isin(grids)],
    }


def scoped_read(store: Store, name: str, scope: Scope) -> pd.DataFrame:
    if name in LAYERS:
        frame = pd.DataFrame(store.read_layer(name, scope=scope)).drop(columns="geometry")
    else:
        frame = store.read_table(name, scope=scope)
    return frame


def assert_scope_reads(store: Store, district: dict[str, pd.DataFrame], scope: Scope) -> None:
    if scope.is_everything:
        grids = set(district["grids"]["grid_id"])
    else:
        grids = expected_scope_grids(district, scope)
    expected = expected_in_scope(district, grids, None if scope.is_everything else scope)
    for name in (*LAYERS, *TABLES):
        exp = pd.DataFrame(expected[name]).drop(columns="geometry", errors="ignore")
        got = scoped_read(store, name, scope)[list(exp.columns)]
        exp = normalise(exp.sort_values(KEYS[name]).reset_index(drop=True), name)
        got = normalise(got.sort_values(KEYS[name]).reset_index(drop=True), name)
        assert_frame_equal(got, exp, obj=f"{name} in {scope}")


def test_scoped_reads_return_exactly_the_scoped_rows(store: Store, tiny: dict[str, pd.DataFrame]) -> None:
    store.replace_all(tiny)
    committees = tiny["committees"]
    # One whole street, one committee of the other street, one grid of another committee.
    s_other = committees[committees["street_id"] != "S01"]
    c_one = s_other["committee_id"].iloc[0]
    g_one = tiny["grids"][tiny["grids"]["committee_id"] == s_other["committee_id"].iloc[1]]["grid_id"].iloc[0]
    scope = Scope.of(streets=["S01"], committees=[c_one], grids=[g_one])
    grids = expected_scope_grids(tiny, scope)
    assert 0 < len(grids) < len(tiny["grids"])
    assert sorted(store.grid_ids(scope)) == sorted(grids)
    assert_scope_reads(store, tiny, scope)
    assert_scope_reads(store, tiny, Scope.of(grids=[g_one]))

    for name in (*LAYERS, *TABLES):
        assert len(scoped_read(store, name, Scope())) == 0, name
        assert len(scoped_read(store, name, Scope.of(grids=["G9999"]))) == 0, name
    assert_scope_reads(store, tiny, Scope.everything())
    with pytest.raises(TypeError, match="scope"):  # no default: a read cannot forget its scope
        store.read_table("households")  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory: pytest.TempPathFactory, tiny: dict[str, pd.DataFrame]):
    path = tmp_path_factory.mktemp("scope") / "tiny.gpkg"
    s = open_store(str(path), create=True)
    s.replace_all(tiny)
    yield s
    s.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_row_outside_a_random_scope_is_returned(
    tiny_store: Store, tiny: dict[str, pd.DataFrame], data
) -> None:
    def some(ids: pd.Series) -> list[str]:
        return sorted(data.draw(st.sets(st.sampled_from(sorted(set(ids))), max_size=3)))

    scope = Scope.of(
        streets=some(tiny["streets"]["street_id"]),
        committees=some(tiny["committees"]["committee_id"]),
        grids=some(tiny["grids"]["grid_id"]),
    )
    assert_scope_reads(tiny_store, tiny, scope)


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("db", "message"),
    [
        ("mysql://root@localhost/putuo", "unknown database scheme 'mysql'"),
        ("{tmp}/missing.gpkg", "database file not found: {tmp}/missing.gpkg"),
        ("{tmp}", "database path is a folder, not a file: {tmp}"),
        ("{tmp}/notes.txt", "not a usable database"),
        ("postgresql://postgres@127.0.0.1:1/putuo", "cannot reach PostgreSQL at 127.0.0.1:1/putuo"),
    ],
    ids=["unknown-scheme", "missing-file", "folder", "not-a-database", "unreachable-server"],
)
def test_open_errors_are_one_clear_line(tmp_path: Path, db: str, message: str) -> None:
    (tmp_path / "notes.txt").write_text("not a database\n" * 200)
    before = sorted(p.name for p in tmp_path.iterdir())
    db, message = db.format(tmp=tmp_path), message.format(tmp=tmp_path)
    with pytest.raises(StoreError) as err:
        open_store(db)
    text = str(err.value)
    assert message in text
    assert "\n" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing created


# -------------------------------------------------------------------- locking


def test_two_writers_at_once_both_succeed(tmp_path: Path, tiny: dict[str, pd.DataFrame]) -> None:
    path = str(tmp_path / "t.gpkg")
    with open_store(path, create=True) as s:
        s.replace_all(tiny)
    first, second = Store(path), Store(path)
    holding, failures = threading.Event(), []

    def slow_writer() -> None:
        try:
            with first.transaction() as conn:
                first.bulk_insert(conn, "visits", visit_rows(note="first"))
                holding.set()
                time.sleep(1.0)
        except Exception as exc:  # reported below, in the main thread
            failures.append(exc)
            holding.set()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert holding.wait(10)
    started = time.monotonic()
    with second.transaction() as conn:  # waits for the first writer, then writes
        second.bulk_insert(conn, "visits", visit_rows(note="second"))
    waited = time.monotonic() - started
    thread.join(10)
    assert failures == []
    assert waited >= 0.3, f"the second writer did not wait for the first ({waited:.2f} s)"
    notes = second.read_table("visits", columns=["note"], order_by=["visit_id"], scope=Scope.everything())[
        "note"
    ].tolist()
    assert notes[-2:] == ["first", "second"]
    assert second.versions() == (3, 1)
    first.close()
    second.close()


def test_a_locked_database_fails_cleanly_and_writes_nothing(
    tmp_path: Path, tiny: dict[str, pd.DataFrame]
) -> None:
    path = tmp_path / "t.gpkg"
    with open_store(str(path), create=True) as s:
        s.replace_all(tiny)
        before, versions = snapshot(s), s.versions()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        impatient = Store(str(path), settings=Settings(busy_timeout_ms=200))
        started = time.monotonic()
        with pytest.raises(StoreError, match="locked") as err, impatient.transaction() as conn:
            impatient.bulk_insert(conn, "visits", visit_rows())
        assert time.monotonic() - started < 5
        assert str(err.value) == f"database file {path} is locked by another writer (waited 200 ms)"
        with pytest.raises(StoreError, match="locked"):
            impatient.replace_all(build_district(scale="tiny", seed=8, as_of=AS_OF))
        impatient.close()
    finally:
        holder.rollback()
        holder.close()
    with open_store(str(path)) as s:
        assert_same_district(snapshot(s), before)
        assert s.versions() == versions


# ------------------------------------------------------------------------- live


def reference_coverage(district: dict[str, pd.DataFrame], start: dt.date, end: dt.date) -> pd.DataFrame:
    hh, visits, issues, areas = coverage_inputs(district)
    return coverage_by_area(hh, visits, issues, areas, start=start, end=end, level="grid")


def test_live_coverage_follows_writes_from_another_store_object(
    store: Store, tiny: dict[str, pd.DataFrame]
) -> None:
    start, end = dt.date(2024, 6, 1), AS_OF
    store.create_schema()
    live = LiveCoverage(store)
    assert live.current().n_visits == 0
    assert len(live.current().coverage(start, end)) == 0

    other = Store(store.db)  # another process would do the same, through the file or server
    other.replace_all(tiny)  # reset path: the index is rebuilt
    index = live.current()
    assert_frame_equal(index.coverage(start, end), reference_coverage(tiny, start, end))

    # Append path: a met visit to a household not met this month, and a new overdue issue
    # (past every limit of the ladder: building 01-05, then +7+15+30+60 days is 04-26, not escalated).
    hh, visits, _, _ = coverage_inputs(tiny)
    met = visits[(visits["outcome"] == "met") & (visits["visited_at"] >= pd.Timestamp(start))]
    target = hh[(hh["occupied"] == 1) & ~hh["household_id"].isin(met["household_id"])].iloc[0]
    new_visit = visit_rows(household_id=target["household_id"], visited_at="2024-06-30 15:00:00")
    new_issue = pd.DataFrame(
        [{"grid_id": target["grid_id"], "building_id": target["building_id"],
          "household_id": target["household_id"], "category": "加装电梯", "source": "visit",
          "level": "building", "status": "open", "opened_at": "2024-01-02 10:00:00",
          "due_at": "2024-01-05 10:00:00", "closed_at": None, "title": "t"}]
    )  # fmt: skip
    with other.transaction() as conn:
        other.bulk_insert(conn, "visits", new_visit)
        other.bulk_insert(conn, "issues", new_issue)
    assert live.current() is index  # appended, not rebuilt
    assert index.n_visits == int((visits["outcome"] == "met").sum()) + 1
    expected = reference_coverage(
        with_new_rows(
            tiny,
            visits=new_visit.assign(visit_id=len(tiny["visits"]) + 1),
            issues=new_issue.assign(issue_id=len(tiny["issues"]) + 1),
        ),
        start,
        end,
    )
    got = live.current().coverage(start, end)
    assert_frame_equal(got, expected)
    before = reference_coverage(tiny, start, end)
    g = target["grid_id"]
    assert got.loc[g, "visited"] == before.loc[g, "visited"] + 1
    assert got.loc[g, "overdue_issues"] == before.loc[g, "overdue_issues"] + 1

    # Reset path: another district replaces this one.
    seed8 = build_district(scale="tiny", seed=8, as_of=AS_OF)
    other.replace_all(seed8)
    rebuilt = live.current()
    assert rebuilt is not index
    assert_frame_equal(rebuilt.coverage(start, end), reference_coverage(seed8, start, end))
    assert_frame_equal(
        rebuilt.coverage(start, end),
        coverage_index_from_store(other, scope=Scope.everything())[0].coverage(start, end),
    )
    other.close()


# ------------------------------------------------------- bulk loads and writers


def test_replace_all_refuses_a_row_that_breaks_a_check(store: Store, tiny: dict[str, pd.DataFrame]) -> None:
    # SQLite checks CHECK constraints once over the loaded tables, not per row: the same refusal.
    store.replace_all(tiny, meta={"seed": 7})
    before, versions = snapshot(store), store.versions()
    bad = with_new_rows(tiny, visits=visit_rows(outcome="bogus").assign(visit_id=10**6))
    with pytest.raises(StoreError, match=r"cannot write visits.*ck_outcome"):
        store.replace_all(bad, meta={"seed": 8})
    assert_same_district(snapshot(store), before)
    assert (store.versions(), store.meta()["seed"]) == (versions, "7")


def test_replace_all_takes_the_history_of_replaced_issues_along(
    store: Store, tiny: dict[str, pd.DataFrame]
) -> None:
    # With foreign keys off during SQLite's load, the store deletes what ON DELETE CASCADE would.
    store.replace_all(tiny)
    with store.transaction() as conn:
        conn.exec_driver_sql(
            "INSERT INTO issue_events (issue_id, at, actor, action, to_status, to_level) "
            "VALUES (1, '2024-06-30 10:00:00', 'W0001', 'found', 'open', 'building')"
        )
    assert store.scalar("SELECT COUNT(*) FROM issue_events") == 1
    store.replace_all(tiny)
    assert store.scalar("SELECT COUNT(*) FROM issue_events") == 0
    assert store.counts()["issues"] == len(tiny["issues"])


def test_a_first_build_ends_in_wal_with_every_check_on(tmp_path: Path, tiny: dict[str, pd.DataFrame]) -> None:
    path = tmp_path / "fresh.gpkg"
    with open_store(str(path), create=True) as s:
        # A first build failing before it writes (a bad reference, found on the frames) and
        # after (a bad value, found in the file): nothing of either stays.
        orphan = with_new_rows(tiny, visits=visit_rows(household_id="NOPE").assign(visit_id=10**6))
        with pytest.raises(StoreError, match="cannot write visits: FOREIGN KEY"):
            s.replace_all(orphan)
        bogus = with_new_rows(tiny, visits=visit_rows(channel="fax").assign(visit_id=10**6))
        with pytest.raises(StoreError, match="cannot write visits: CHECK constraint failed: ck_channel"):
            s.replace_all(bogus)
        assert s.counts() == dict.fromkeys((*LAYERS, *TABLES), 0)
        assert s.versions() == (0, 0)
        s.replace_all(tiny)
        assert s.counts()["visits"] == len(tiny["visits"])
        with s.engine.connect() as conn:  # the pool's connections: checks on, as always
            raw = conn.connection.dbapi_connection
            assert raw is not None
            assert raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert raw.execute("PRAGMA ignore_check_constraints").fetchone()[0] == 0
    assert not Path(f"{path}-journal").exists()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []


def test_record_visit_counts_only_real_writes(store: Store, tiny: dict[str, pd.DataFrame]) -> None:
    # PostgreSQL records a visit in one statement; both backends must agree on every outcome.
    from geo.store.records import NewVisit, UnknownRecord, record_visit

    store.replace_all(tiny)
    household, worker = tiny["households"]["household_id"].iloc[0], tiny["workers"]["worker_id"].iloc[0]
    visit = NewVisit(household, worker, dt.datetime(2024, 6, 30, 14, 0), "met")
    before, (version, reset) = store.counts()["visits"], store.versions()
    with pytest.raises(UnknownRecord, match="household"):
        record_visit(store, NewVisit("H9999999", worker, visit.visited_at, "met"), idem_key="x1")
    with pytest.raises(UnknownRecord, match="worker"):
        record_visit(store, NewVisit(household, "W9999", visit.visited_at, "met"), idem_key="x2")
    assert (store.counts()["visits"], store.versions()) == (before, (version, reset))
    first = record_visit(store, visit, idem_key="k1")
    again = record_visit(store, visit, idem_key="k1")
    plain = record_visit(store, visit)  # no key: always a new visit
    assert first.created and not again.created and again.visit_id == first.visit_id
    assert plain.created and plain.visit_id != first.visit_id
    assert store.counts()["visits"] == before + 2
    assert store.versions() == (version + 2, reset)


def test_keys_stay_unique_in_a_file_with_the_older_unique_constraint(
    tmp_path: Path, tiny: dict[str, pd.DataFrame]
) -> None:
    # Files made before the partial index have a plain UNIQUE on idem_key: ON CONFLICT … WHERE matches it.
    from geo.store.records import NewVisit, record_visit

    path = tmp_path / "old.gpkg"
    with open_store(str(path), create=True) as s:
        s.replace_all(tiny)
    with sqlite3.connect(path) as raw:
        raw.execute("DROP INDEX uq_visits_idem_key")
        raw.execute("CREATE UNIQUE INDEX old_unique_idem_key ON visits (idem_key)")
    with open_store(str(path)) as s:
        visit = NewVisit("H0000001", "W0001", dt.datetime(2024, 6, 30, 14, 0), "met")
        first, again = record_visit(s, visit, idem_key="k"), record_visit(s, visit, idem_key="k")
        assert first.created and again == (first.visit_id, False, None)
        assert s.scalar("SELECT COUNT(*) FROM visits WHERE idem_key = 'k'") == 1
        s.replace_all(tiny)  # the newer index is made where it is missing
        names = {ix["name"] for ix in sa.inspect(s.engine).get_indexes("visits")}
        assert "uq_visits_idem_key" in names


def _write_in_turns(db: str, worker: int, each: int) -> int:
    """One writer process of the test below: ``each`` visits, every 3rd also under the next writer's key."""
    from geo.store.records import NewVisit, add_visit

    created = 0
    with open_store(db) as s:
        for i in range(each):
            for w in (worker, worker + 1) if i % 3 == 0 else (worker,):
                when = dt.datetime(2024, 6, 30, 9, 0) + dt.timedelta(seconds=w * each + i)
                _, new = add_visit(s, NewVisit("H0000001", "W0001", when, "met"), idem_key=f"p{w}-{i}")
                created += new
    return created


def test_writer_processes_take_turns(
    tmp_path: Path, tiny: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing
    import sys
    import types

    # A spawned child first re-runs the parent's __main__ module. Streamlit's AppTest,
    # run earlier in the same worker, leaves app.py there, which cannot run outside
    # Streamlit: the pool would replace dying children for ever. A blank __main__
    # makes the children start clean.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))

    path = tmp_path / "w.gpkg"
    with open_store(str(path), create=True) as s:
        s.replace_all(tiny)
        before = s.counts()["visits"]
        # Re-entrant within a thread: a transaction inside a held turn does not wait for itself.
        with s.writer_turn(), s.transaction() as conn:
            conn.exec_driver_sql("SELECT 1")
    writers, each = 3, 30
    with multiprocessing.get_context("spawn").Pool(writers) as pool:
        # A deadline, so that a child that cannot start fails the test instead of hanging it.
        created = pool.starmap_async(_write_in_turns, [(str(path), w, each) for w in range(writers)]).get(
            timeout=300
        )
    with open_store(str(path)) as s:
        assert s.counts()["visits"] == before + sum(created)
        keys = s.scalar("SELECT COUNT(DISTINCT idem_key) FROM visits WHERE idem_key LIKE 'p%'")
        # Every own key once, plus the keys the last writer borrows from a writer that does not exist.
        assert sum(created) == keys == writers * each + len(range(0, each, 3))


@pytest.mark.postgres
def test_a_replaced_district_has_planner_statistics_on_postgresql(
    pg_url: str, tiny: dict[str, pd.DataFrame]
) -> None:
    """Right after a load the planner knows each column's values, so a grid's reads use the indexes.

    (Building the indexes after the load sets each table's row count, but not the columns'
    statistics: without ANALYZE the planner guessed a grid's households and scanned every visit.)
    """
    s = open_store(pg_url, create=True)
    try:
        s.replace_all(tiny)
        with s.engine.connect() as conn:
            for table, column in (
                ("visits", "household_id"),
                ("households", "building_id"),
                ("buildings", "grid_id"),
            ):
                known = conn.exec_driver_sql(
                    "SELECT n_distinct FROM pg_stats WHERE schemaname = current_schema()"
                    f" AND tablename = '{table}' AND attname = '{column}'"
                ).scalar()
                assert known is not None, (table, column)
    finally:
        s.close()
