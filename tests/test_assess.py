"""The worker points ledger, standings, staffing ratios, and the records behind them in the store."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.assess import Deductions, checkpoints, ledger, ledger_chart, pace_history, staffing, standings
from geo.coverage import CoverageIndex, areas_from_frames
from geo.demo import install_demo
from geo.store import Scope, Store, StoreError, open_store
from geo.store import assessment as records
from geo.uncovered import WorkCalendar

AS_OF = dt.date(2026, 11, 26)

GRID_WORKERS = pd.DataFrame(
    {
        "grid_id": ["G1", "G1", "G2", "G2"],
        "worker_id": ["W1", "W2", "W2", "W1"],
        "role": ["leader", "member", "leader", "member"],
    }
)


def ts(*values: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values))).astype("datetime64[s]")


def test_ledger_lines_and_balances() -> None:
    pace_rows = pd.DataFrame(
        {
            "grid_id": ["G1", "G1", "G2", "G1"],
            "date": ts("2026-03-31", "2026-06-30", "2026-06-30", "2025-12-31"),
            "behind": [True, True, False, True],  # G2 keeps pace; the 2025 line is another year
        }
    )
    issues = pd.DataFrame(
        {
            "issue_id": [1, 2, 3, 4, 5, 6],
            "grid_id": ["G1", "G2", "G2", "G1", "G1", "G2"],
            "level": ["grid", "building", "building", "committee", "grid", "grid"],
            "due_at": ts(
                "2026-04-02 10:00",
                "2026-05-01 10:00",
                "2026-05-03 10:00",
                "2026-05-01 10:00",
                "2026-11-27 10:00",
                "2026-08-01 10:00",
            ),
            "closed_at": ts(None, "2026-05-02 10:00", "2026-05-03 09:00", None, None, "2026-08-01 10:00"),
        }
    )
    # 1: overdue (W1 leads G1); 2: closed a day late (W2); 3: closed in time; 4: committee level, not the
    # grid's workers; 5: due after the as-of day; 6: closed exactly at its due time, in time.
    spots = pd.DataFrame(
        {
            "check_id": [1, 2, 3, 4, 5],
            "visit_id": [10, 11, 12, 13, 13],
            "worker_id": ["W2", "W2", "W1", "W1", "W1"],
            "visited_at": ts(
                "2026-06-29 14:00",
                "2026-06-29 14:30",
                "2027-01-03 09:00",
                "2026-03-03 14:00",
                "2026-03-03 14:00",
            ),
            "result": ["failed", "confirmed", "failed", "failed", "unreachable"],
        }
    )
    # 10 failed; 11 confirmed; 12 was made after the as-of day; 13 failed, then was reached and is
    # left open by the later "unreachable": the latest check counts.
    reviews = pd.DataFrame(
        {
            "review_id": [1, 2, 3, 4],
            "kind": ["after_hours", "burst", "burst", "over_households"],
            "visit_id": pd.array([20, 21, 21, None], dtype="Int64"),
            "worker_id": ["W1", "W2", "W2", None],
            "grid_id": ["G1", "G2", "G2", "G2"],
            "occurred_on": ts("2026-02-10", "2026-09-01", "2026-09-01", "2026-09-03"),
            "decision": ["confirmed", "confirmed", "dismissed", "confirmed"],
        }
    )
    book = ledger(
        grid_workers=GRID_WORKERS,
        as_of=AS_OF,
        pace_rows=pace_rows,
        issues=issues,
        spot_checks=spots,
        anomaly_reviews=reviews,
        rules=Deductions(),
    )
    got = [[w, d.strftime("%Y-%m-%d"), r, ref, p, b] for w, d, r, ref, p, b in book.values.tolist()]
    assert got == [
        ["W1", "2026-02-10", "confirmed_anomaly", "after_hours:20", -1, 11],
        ["W1", "2026-03-31", "behind_pace", "G1", -2, 9],
        ["W1", "2026-04-02", "overdue_issue", "1", -1, 8],
        ["W1", "2026-06-30", "behind_pace", "G1", -2, 6],
        ["W2", "2026-05-01", "overdue_issue", "2", -1, 11],
        ["W2", "2026-06-29", "failed_spot_check", "10", -2, 9],
    ]
    # Costs are configurable, and the balance never goes below zero.
    harsh = Deductions(points=5, behind_pace=3)
    book = ledger(grid_workers=GRID_WORKERS, as_of=AS_OF, pace_rows=pace_rows, rules=harsh)
    assert book["balance"].tolist() == [2, 0]
    assert ledger(grid_workers=GRID_WORKERS, as_of=AS_OF).empty


def test_standings_from_a_ledger() -> None:
    book = pd.DataFrame(
        {
            "worker_id": ["W1", "W1", "W3", "W3"],
            "reason": ["behind_pace", "overdue_issue", "failed_spot_check", "behind_pace"],
            "points": [-6, -1, -2, -12],
        }
    )
    workers = pd.DataFrame(
        {
            "worker_id": ["W1", "W2", "W3", "W4"],
            "name": ["王伟", "李娜", "张强", "赵敏"],
            "committee_id": ["C1", "C1", "C2", "C2"],
            "active": [1, 1, 1, 0],
        }
    )
    committees = pd.DataFrame({"committee_id": ["C1", "C2"], "name": ["一村", "二村"]})
    out = standings(book, workers, committees=committees)
    assert out[
        [
            "worker_id",
            "committee_name",
            "points_left",
            "lost_behind_pace",
            "lost_overdue_issue",
            "lost_failed_spot_check",
            "lost_confirmed_anomaly",
            "deductions",
            "standing",
        ]
    ].values.tolist() == [
        ["W3", "二村", 0, 12, 0, 2, 0, 2, "exhausted"],
        ["W1", "一村", 5, 6, 1, 0, 0, 2, "warning"],
        ["W2", "一村", 12, 0, 0, 0, 0, 0, "ok"],
    ]


def test_deductions_parse_and_check() -> None:
    d = Deductions.parse("behind_pace=3, pace_slack=0.1, pace_every=month")
    assert (d.behind_pace, d.pace_slack, d.pace_every, d.points) == (3, 0.1, "month", 12)
    for bad, message in (
        ("behind_pace", "expected name=value"),
        ("points=x", "is not a number"),
        ("overdue_issue=-1", "must not be negative"),
        ("pace_slack=1.5", r"\[0, 1\)"),
        ("pace_every=week", "'month' or 'quarter'"),
    ):
        with pytest.raises(ValueError, match=message):
            Deductions.parse(bad)


def test_staffing_against_twenty_per_ten_thousand() -> None:
    workers = pd.DataFrame(
        {
            "worker_id": [f"W{i}" for i in range(6)],
            "committee_id": ["C1", "C1", "C1", "C2", "C3", "C3"],
            "active": [1, 1, 0, 1, 1, 1],
        }
    )
    households = pd.DataFrame(
        {
            "grid_id": ["G1", "G1", "G2", "G3", "G4"],
            "occupied": [1, 0, 1, 1, 1],
            "residents": [1200, 5000, 600, 900, 0],
        }
    )
    grids = pd.DataFrame({"grid_id": ["G1", "G2", "G3", "G4"], "committee_id": ["C1", "C1", "C2", "C3"]})
    committees = pd.DataFrame(
        {
            "committee_id": ["C1", "C2", "C3"],
            "street_id": ["S1", "S1", "S2"],
            "name": ["一村", "二村", "三村"],
        }
    )
    streets = pd.DataFrame({"street_id": ["S1", "S2"], "name": ["长寿路街道", "桃浦镇"]})
    by_c = staffing(workers, households, grids, committees, streets=streets)
    # C1: 1,800 residents (the vacant 5,000 do not count), 2 active workers, needs ceil(3.6) = 4.
    assert by_c[
        ["committee_id", "name", "street_name", "residents", "workers", "target", "shortfall", "meets"]
    ].values.tolist() == [
        ["C1", "一村", "长寿路街道", 1800, 2, 4, 2, False],
        ["C2", "二村", "长寿路街道", 900, 1, 2, 1, False],
        ["C3", "三村", "桃浦镇", 0, 2, 0, 0, True],
    ]
    assert by_c["per_10k"].iloc[:2].tolist() == [11.11, 11.11] and np.isnan(by_c["per_10k"].iloc[2])
    by_s = staffing(workers, households, grids, committees, level="street", streets=streets)
    assert by_s[["street_id", "name", "residents", "workers", "target", "shortfall"]].values.tolist() == [
        ["S1", "长寿路街道", 2700, 3, 6, 3],
        ["S2", "桃浦镇", 0, 2, 0, 0],
    ]
    d = staffing(workers, households, grids, committees, level="district", per_10k=10)
    assert d[["residents", "workers", "target", "per_10k"]].values.tolist() == [[2700, 5, 3, 18.52]]
    with pytest.raises(ValueError, match="unknown level"):
        staffing(workers, households, grids, committees, level="grid")


def test_pace_history_at_quarter_and_month_ends() -> None:
    assert checkpoints(2026, dt.date(2026, 12, 31)) == [
        dt.date(2026, 3, 31),
        dt.date(2026, 6, 30),
        dt.date(2026, 9, 30),
        dt.date(2026, 12, 31),
    ]
    hh = pd.DataFrame(
        {
            "household_id": ["a", "b"],
            "grid_id": ["G1", "G2"],
            "building_id": ["B1", "B2"],
            "occupied": [1, 1],
            "residents": [1, 1],
        }
    )
    v = pd.DataFrame(
        {"household_id": ["a"], "outcome": ["met"], "visited_at": pd.to_datetime(["2026-02-02 14:00"])}
    )
    areas = areas_from_frames(
        pd.DataFrame({"grid_id": ["G1", "G2"], "committee_id": ["C1", "C1"]}),
        pd.DataFrame({"committee_id": ["C1"], "street_id": ["S1"]}),
    )
    h = pace_history(CoverageIndex(hh, v, None, areas), as_of=dt.date(2026, 7, 1), calendar=WorkCalendar())
    assert h[["grid_id", "coverage", "behind"]].values.tolist() == [
        ["G1", 1.0, False],
        ["G2", 0.0, True],
        ["G1", 1.0, False],
        ["G2", 0.0, True],
    ]
    assert h["date"].dt.strftime("%m-%d").tolist() == ["03-31", "03-31", "06-30", "06-30"]
    monthly = pace_history(
        CoverageIndex(hh, v, None, areas), as_of=dt.date(2026, 7, 1), calendar=WorkCalendar(), every="month"
    )
    # At 31 January neither grid was met; by the end of February, a was.
    assert monthly.loc[monthly["grid_id"] == "G1", "behind"].tolist() == [
        True,
        False,
        False,
        False,
        False,
        False,
    ]


def test_ledger_chart_steps_down_from_the_year_start() -> None:
    book = pd.DataFrame(
        {
            "worker_id": ["W1", "W1"],
            "date": ts("2026-03-31", "2026-06-30"),
            "reason": ["behind_pace"] * 2,
            "ref": ["G1", "G1"],
            "points": [-2, -2],
            "balance": [10, 8],
        }
    )
    spec = ledger_chart(book, worker_id="W1", as_of=AS_OF, lang="en").to_dict()
    rows = spec["datasets"][next(iter(spec["datasets"]))]
    assert [(r["date"], r["balance"]) for r in rows] == [
        ("2026-01-01", 12),
        ("2026-03-31", 10),
        ("2026-06-30", 8),
        ("2026-11-26", 8),
    ]


# ------------------------------------------------------------------ the store


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("assess") / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=3, as_of=AS_OF)
    return path


def _roundtrip(store: Store) -> None:
    visits = store.read_table(
        "visits", columns=["visit_id", "worker_id", "household_id", "visited_at"], scope=Scope.everything()
    )
    first = visits.iloc[0]
    before = store.versions()[0]
    cid = records.record_spot_check(
        store,
        visit_id=int(first["visit_id"]),
        result="failed",
        checked_by="监督员甲",
        note="居民说没见过",
        checked_at=dt.datetime(2026, 11, 27, 9, 30),
        scope=Scope.everything(),
    )
    assert store.versions()[0] > before  # other replicas notice
    got = records.read_spot_checks(store, scope=Scope.everything())
    assert got[
        ["check_id", "visit_id", "worker_id", "household_id", "result", "checked_by", "note"]
    ].values.tolist() == [
        [
            cid,
            int(first["visit_id"]),
            first["worker_id"],
            first["household_id"],
            "failed",
            "监督员甲",
            "居民说没见过",
        ]
    ]
    assert got["visited_at"].iloc[0] == first["visited_at"]
    assert got["checked_at"].iloc[0] == pd.Timestamp("2026-11-27 09:30")
    assert records.read_spot_checks(store, year=2019, scope=Scope.everything()).empty

    rid = records.record_anomaly_review(
        store,
        kind="after_hours",
        decision="confirmed",
        occurred_on=dt.date(2026, 11, 23),
        visit_id=int(first["visit_id"]),
        reviewed_at=dt.datetime(2026, 11, 27, 10, 0),
        scope=Scope.everything(),
    )
    rid2 = records.record_anomaly_review(
        store,
        kind="over_households",
        decision="dismissed",
        occurred_on=dt.date(2026, 11, 26),
        grid_id="G0001",
        scope=Scope.everything(),
    )
    r = records.read_anomaly_reviews(store, year=2026, scope=Scope.everything())
    assert r["review_id"].tolist() == [rid, rid2]
    assert r["worker_id"].iloc[0] == first["worker_id"] and r["grid_id"].notna().all()
    assert pd.isna(r["visit_id"].iloc[1]) and r["occurred_on"].iloc[1] == pd.Timestamp("2026-11-26")

    # Bad input: a clear message, and nothing written.
    for call, message in (
        (
            lambda: records.record_spot_check(
                store, visit_id=10**9, result="failed", scope=Scope.everything()
            ),
            "no visit with id",
        ),
        (
            lambda: records.record_spot_check(store, visit_id=1, result="maybe", scope=Scope.everything()),
            "must be one of",
        ),
        (
            lambda: records.record_anomaly_review(
                store,
                kind="late",
                decision="confirmed",
                occurred_on=AS_OF,
                visit_id=1,
                scope=Scope.everything(),
            ),
            "anomaly kind",
        ),
        (
            lambda: records.record_anomaly_review(
                store, kind="burst", decision="confirmed", occurred_on=AS_OF, scope=Scope.everything()
            ),
            "needs the visit",
        ),
    ):
        with pytest.raises(ValueError, match=message):
            call()
    assert (
        len(records.read_spot_checks(store, scope=Scope.everything())) == 1
        and len(records.read_anomaly_reviews(store, scope=Scope.everything())) == 2
    )

    # Last met visit per household, by index lookups, against plain pandas.
    met = store.read_table(
        "visits", columns=["household_id", "visited_at", "outcome"], scope=Scope.everything()
    )
    met = met[(met["outcome"] == "met") & (met["visited_at"] < pd.Timestamp("2026-07-01"))]
    ids = sorted(
        set(
            store.read_table("households", columns=["household_id"], scope=Scope.everything())["household_id"]
        )
    )[:700]
    last = records.last_met_at(store, ids, until=dt.date(2026, 6, 30), scope=Scope.everything())
    expected = met[met["household_id"].isin(ids)].groupby("household_id")["visited_at"].max()
    assert last.sort_index().to_dict() == expected.to_dict()
    contacts = records.read_household_contacts(store, ids[:3], scope=Scope.everything())
    assert contacts["household_id"].tolist() == ids[:3] and contacts["building_name"].notna().all()


def test_assessment_records_on_sqlite(demo_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.gpkg"
    copy.write_bytes(demo_db.read_bytes())
    with open_store(str(copy)) as store:
        _roundtrip(store)
    # The new tables are GeoPackage attribute tables.
    con = sqlite3.connect(copy)
    kinds = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
    con.close()
    assert kinds["spot_checks"] == "attributes" and kinds["anomaly_reviews"] == "attributes"


@pytest.mark.postgres
def test_assessment_records_on_postgis(pg_url: str) -> None:
    with open_store(pg_url) as store:
        install_demo(store, scale="tiny", seed=3, as_of=AS_OF)
        _roundtrip(store)


def test_ledger_picks_up_recorded_checks(demo_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.gpkg"
    copy.write_bytes(demo_db.read_bytes())
    with open_store(str(copy)) as store:
        v = store.read_table(
            "visits", columns=["visit_id", "worker_id", "visited_at"], scope=Scope.everything()
        ).iloc[-1]
        records.record_spot_check(
            store, visit_id=int(v["visit_id"]), result="failed", scope=Scope.everything()
        )
        book = ledger(
            grid_workers=store.read_table("grid_workers", scope=Scope.everything()),
            as_of=AS_OF,
            spot_checks=records.read_spot_checks(store, scope=Scope.everything()),
            anomaly_reviews=records.read_anomaly_reviews(store, scope=Scope.everything()),
        )
    # Dated on the visit (the check itself happens later, today).
    assert book.values.tolist() == [
        [v["worker_id"], v["visited_at"].normalize(), "failed_spot_check", str(v["visit_id"]), -2, 10]
    ]


def test_a_missing_database_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not found"):
        open_store(str(tmp_path / "nope.gpkg"))
