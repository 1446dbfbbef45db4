"""Benchmark of imports: a million visit rows from CSV, validated and loaded into SQLite.

Not a test: run it by hand and copy the table into ``docs/import.md``::

    python bench/bench_ingest.py                  # 1,000,000 rows, 3 runs of each
    python bench/bench_ingest.py --quick          # 100,000 rows, to try it out
    python bench/bench_ingest.py --db FILE        # use a built district instead of building one

The district is the street-scale demo (``sibai demo --scale street``: 200
grids, ~20,000 households, ~110,000 visits) built into a temporary folder under
/tmp. The file is a seeded CSV as a Shanghai office would send it: UTF-8 with
a BOM, Chinese headers (户号, 社工编号, 走访时间, 结果, 方式, 备注), Chinese
outcomes (见面, 不在家, 拒访) and channels, times ``YYYY-MM-DD HH:MM:SS``.

Measured on a fresh copy of the district for every run (medians of ``--runs``):

1. ``import_file`` (``geo.importing``): read, check every row (types,
   required fields, dates not in the future, known households and workers,
   duplicates in the file and against the database), one transaction, commit.
2. The same file again (every row unchanged): the cost of idempotence.
3. Baseline: ``csv.DictReader`` and, per row, ``strptime``, a lookup of the
   household, of the worker and of an identical visit (``SELECT``), then an
   ``INSERT``, all in one transaction through ``sqlite3`` with the store's own
   pragmas (WAL, foreign keys on).

Both must leave the same visits in the database; the script checks it.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo.demo import install_demo  # noqa: E402
from geo.importing import import_file  # noqa: E402
from geo.store import open_store  # noqa: E402

TARGET_ROWS_PER_S = 50_000
AS_OF = dt.date(2026, 11, 26)
NOW = dt.datetime(2026, 11, 27, 8, 0)
OUTCOMES_ZH = {"见面": "met", "不在家": "not_home", "拒访": "refused"}
CHANNELS_ZH = {"上门": "door", "电话": "phone"}


def build_district(folder: Path) -> Path:
    path = folder / "street.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="street", seed=42, as_of=AS_OF)
        store.checkpoint()
    return path


def write_visits(db: Path, out: Path, n: int, seed: int = 42) -> int:
    """Write ``n`` new visits (distinct household, worker and time) as an office CSV."""
    con = sqlite3.connect(db)
    try:
        households = np.array(
            [r[0] for r in con.execute("SELECT household_id FROM households")], dtype=object
        )
        workers = np.array([r[0] for r in con.execute("SELECT worker_id FROM workers")], dtype=object)
    finally:
        con.close()
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-01-02T08:30:00", "s").astype("int64")
    span = int(np.datetime64("2026-11-20T15:30:00", "s").astype("int64") - start)
    seconds = start + rng.choice(span, n, replace=False)  # distinct times: no duplicates within the file
    stamps = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    frame = pd.DataFrame(
        {
            "户号": households[rng.integers(0, len(households), n)],
            "社工编号": workers[rng.integers(0, len(workers), n)],
            "走访时间": np.char.replace(stamps, "T", " "),
            "结果": np.array(list(OUTCOMES_ZH), dtype=object)[rng.choice(3, n, p=[0.7, 0.25, 0.05])],
            "方式": np.array(list(CHANNELS_ZH), dtype=object)[rng.choice(2, n, p=[0.8, 0.2])],
            "备注": np.where(rng.random(n) < 0.1, "独居老人，电梯坏了需跟进", ""),
        }
    )
    frame.to_csv(out, index=False, encoding="utf-8-sig")
    return len(frame)


def fresh_copy(db: Path, folder: Path, name: str) -> Path:
    target = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copy(db, target)
    return target


def run_import(db: Path, csv_path: Path) -> tuple[float, float, int]:
    """Return (seconds for the import, seconds for the same file again, rows accepted)."""
    with open_store(str(db)) as store:
        started = time.perf_counter()
        report = import_file(store, "visits", csv_path, now=NOW)
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = import_file(store, "visits", csv_path, now=NOW)
        second = time.perf_counter() - started
    assert report.rejected == 0 and again.accepted == 0 and again.unchanged == report.accepted
    return first, second, report.accepted


def run_baseline(db: Path, csv_path: Path) -> tuple[float, int]:
    """The straightforward way: DictReader, per-row checks with SELECT, per-row INSERT, one transaction."""
    started = time.perf_counter()
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute("PRAGMA foreign_keys = ON")
    cur = con.cursor()
    cur.execute("BEGIN IMMEDIATE")
    written = 0
    with open(csv_path, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            when = dt.datetime.strptime(row["走访时间"], "%Y-%m-%d %H:%M:%S")
            if when > NOW:
                continue
            outcome = OUTCOMES_ZH.get(row["结果"])
            channel = CHANNELS_ZH.get(row["方式"] or "上门")
            if outcome is None or channel is None:
                continue
            hh, wk = row["户号"], row["社工编号"]
            if cur.execute("SELECT 1 FROM households WHERE household_id = ?", (hh,)).fetchone() is None:
                continue
            if cur.execute("SELECT 1 FROM workers WHERE worker_id = ?", (wk,)).fetchone() is None:
                continue
            stamp = when.strftime("%Y-%m-%d %H:%M:%S")
            if cur.execute(
                "SELECT 1 FROM visits WHERE household_id = ? AND visited_at = ? AND worker_id = ?",
                (hh, stamp, wk),
            ).fetchone():
                continue
            cur.execute(
                "INSERT INTO visits (household_id, worker_id, visited_at, outcome, channel, note) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (hh, wk, stamp, outcome, channel, row["备注"]),
            )
            written += 1
    cur.execute("UPDATE sibai_version SET data_version = data_version + 1 WHERE id = 1")
    cur.execute("COMMIT")
    con.close()
    return time.perf_counter() - started, written


def visit_set(db: Path) -> pd.DataFrame:
    con = sqlite3.connect(db)
    try:
        frame = pd.read_sql_query(
            "SELECT household_id, worker_id, visited_at, outcome, channel, note FROM visits", con
        )
    finally:
        con.close()
    return frame.sort_values(["household_id", "visited_at", "worker_id"], ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--db", type=Path, help="a built district to import into (copied for every run)")
    args = parser.parse_args()
    rows = 100_000 if args.quick else args.rows
    machine = platform.processor() or platform.machine()
    versions = f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    print(
        f"# bench_ingest — {dt.datetime.now():%Y-%m-%d %H:%M}, {machine}, {os.cpu_count()} CPUs, {versions}"
    )
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="bench_ingest_") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        db = args.db or build_district(folder)
        print(
            f"district: {db} ({time.perf_counter() - started:.1f} s to build)"
            if not args.db
            else f"district: {db}"
        )
        csv_path = folder / "visits.csv"
        n = write_visits(db, csv_path, rows)
        print(f"file: {n:,} visit rows, {csv_path.stat().st_size / 1e6:.1f} MB")

        ours, again = [], []
        for i in range(args.runs):
            copy = fresh_copy(db, folder, "ours.gpkg")
            first, second, accepted = run_import(copy, csv_path)
            assert accepted == n
            ours.append(first)
            again.append(second)
            print(f"  import run {i + 1}: {first:.2f} s ({n / first:,.0f} rows/s); again: {second:.2f} s")
        ours_visits = visit_set(copy)

        base = []
        for i in range(args.baseline_runs):
            copy = fresh_copy(db, folder, "baseline.gpkg")
            seconds, written = run_baseline(copy, csv_path)
            assert written == n
            base.append(seconds)
            print(f"  baseline run {i + 1}: {seconds:.2f} s ({n / seconds:,.0f} rows/s)")
        same = ours_visits.equals(visit_set(copy))
        print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

    t_ours, t_again, t_base = statistics.median(ours), statistics.median(again), statistics.median(base)
    rate = n / t_ours
    print()
    print("| measure | value | target / check |")
    print("| --- | --- | --- |")
    verdict = "ok" if rate >= TARGET_ROWS_PER_S else "**missed**"
    target = f"target ≥ {TARGET_ROWS_PER_S:,} rows/s: {verdict}"
    same_text = "yes" if same else "**NO**"
    rows_out = [
        (f"`import_file` of {n:,} visits from CSV into SQLite, median of {len(ours)}",
         f"**{t_ours:.1f} s = {rate:,.0f} rows/s**", target),
        (f"the same file again (all unchanged), median of {len(again)}",
         f"{t_again:.1f} s = {n / t_again:,.0f} rows/s", "nothing written"),
        (f"baseline: DictReader + per-row SELECTs + INSERT, median of {len(base)}",
         f"{t_base:.1f} s = {n / t_base:,.0f} rows/s", f"same visits as the import: {same_text}"),
        ("speed-up over the baseline", f"{t_base / t_ours:.1f}×", ""),
    ]  # fmt: skip
    for measure, value, check in rows_out:
        print(f"| {measure} | {value} | {check} |")


if __name__ == "__main__":
    main()
