"""Benchmark the grid page: a grid's household list, the page's server time, concurrent visit writers.

Run ``python bench/bench_grid.py --db data/putuo.gpkg`` on the full synthetic
district (``sibai demo --scale full``); ``--quick`` runs fewer grids and a
smaller writer test. Not a test: it prints each figure beside its baseline and
target (issue 4), for ``docs/grid.md``.

``list``
    A grid's household list (unit, residents, tags, last visit and outcome,
    days since met, open issues) for random grids, cold (read from the store
    and computed) and warm (computed from the frames the page caches), against
    a straightforward version: the store's scoped reads of households, *all*
    their visits and the grid's issues, then ``groupby().apply`` for the last
    visits. Target ≤ 50 ms.
``page``
    Server time of the whole grid page (``app.py`` with sidebar, map, list,
    one household's profile and form) through Streamlit's ``AppTest``, warm,
    for random grids. Target ≤ 500 ms.
``writers``
    20 processes × 500 visits (every 5th submitted twice with the same
    idempotency key) into a copy of the SQLite database through the page's
    write path (:func:`geo.visits.submit_visit`): all stored, none twice, none
    lost; p50/p95/max latency per call; then 20 threads of one process (one
    server with 20 sessions). Target p95 ≤ 50 ms. Baseline: the
    straightforward writer (sqlite3 defaults: rollback journal, deferred
    transactions, check-then-insert). ``--pg URL`` repeats ours on PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.households import filter_households, household_list  # noqa: E402
from geo.store import Scope, open_store  # noqa: E402
from geo.store.records import read_grid  # noqa: E402
from geo.visits import VisitDraft, submit_visit  # noqa: E402


def _ms(values: list[float]) -> str:
    a = np.asarray(values) * 1000
    return f"median {np.median(a):7.1f} ms  p95 {np.percentile(a, 95):7.1f} ms  max {a.max():7.1f} ms"


# -------------------------------------------------------------------- list


def baseline_list(store: Any, grid_id: str, today: dt.date) -> pd.DataFrame:
    """The straightforward household list: scoped reads, every visit, groupby-apply."""
    scope = Scope.of(grids=[grid_id])
    hh = store.read_table("households", scope=scope)
    visits = store.read_table("visits", scope=scope)
    issues = store.read_table("issues", scope=scope)
    last = visits.sort_values("visited_at").groupby("household_id").apply(lambda g: g.iloc[-1])
    met = visits[visits["outcome"] == "met"].groupby("household_id")["visited_at"].max()
    out = hh.set_index("household_id")
    out["last_visit_at"] = last["visited_at"]
    out["last_outcome"] = last["outcome"]
    out["last_met_at"] = met
    out["days_since_met"] = (pd.Timestamp(today) - out["last_met_at"]).dt.days
    open_ = issues[issues["status"] != "closed"].groupby("household_id").size()
    out["open_issues"] = open_.reindex(out.index).fillna(0).astype(int)
    return out.reset_index()


def bench_list(db: str, *, grids: int, seed: int) -> None:
    store = open_store(db)
    ids = store.read_table("grids", columns=["grid_id"], scope=Scope.everything())["grid_id"].tolist()
    rng = np.random.default_rng(seed)
    pick = [ids[i] for i in rng.choice(len(ids), size=min(grids, len(ids)), replace=False)]
    today = dt.date.fromisoformat(store.meta().get("as_of", dt.date.today().isoformat()))
    read_grid(store, pick[0], scope=Scope.everything())  # warm the connection pool and the page cache
    cold, warm, base, sizes = [], [], [], []
    for g in pick:
        t0 = time.perf_counter()
        recs = read_grid(store, g, scope=Scope.everything())
        listed = household_list(recs.households, recs.visit_summary, recs.issues, today=today)
        t1 = time.perf_counter()
        filter_households(listed, ["vulnerable_not_met"], today=today)
        t2 = time.perf_counter()
        household_list(recs.households, recs.visit_summary, recs.issues, today=today)
        t3 = time.perf_counter()
        b = baseline_list(store, g, today)
        t4 = time.perf_counter()
        cold.append(t1 - t0)
        warm.append((t3 - t2) + (t2 - t1))
        base.append(t4 - t3)
        sizes.append(len(listed))
        same = b.set_index("household_id")["last_outcome"].reindex(listed["household_id"])
        assert [x if isinstance(x, str) else None for x in same] == listed["last_outcome"].tolist()
    print(f"\n[list] {len(pick)} grids, {int(np.median(sizes))} households each (median)")
    print(f"  ours, cold (store + compute):   {_ms(cold)}")
    print(f"  ours, warm (cached frames):     {_ms(warm)}")
    print(f"  baseline (groupby-apply):       {_ms(base)}")
    print("  target: <= 50 ms")
    store.close()


# -------------------------------------------------------------------- page


def bench_page(db: str, *, grids: int, seed: int) -> None:
    from streamlit.testing.v1 import AppTest

    os.environ["SIBAI_DB"] = db
    store = open_store(db)
    ids = store.read_table("grids", columns=["grid_id"], scope=Scope.everything())["grid_id"].tolist()
    rng = np.random.default_rng(seed)
    pick = [ids[i] for i in rng.choice(len(ids), size=min(grids, len(ids)), replace=False)]
    first_household = {}
    for g in pick:
        recs = read_grid(store, g, scope=Scope.everything())
        first_household[g] = str(recs.households["household_id"].iloc[0])
    store.close()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    t0 = time.perf_counter()
    at.run()
    at.switch_page("pages/grid.py")
    at.query_params["grid"] = pick[0]
    at.run()
    cold = time.perf_counter() - t0
    grid_only, with_profile = [], []
    for g in pick:
        at.query_params.clear()
        at.query_params["grid"] = g
        t = time.perf_counter()
        at.run()
        grid_only.append(time.perf_counter() - t)
        assert not at.exception, at.exception
        at.query_params["household"] = first_household[g]
        t = time.perf_counter()
        at.run()
        with_profile.append(time.perf_counter() - t)
        assert not at.exception, at.exception
    print(f"\n[page] AppTest, {len(pick)} grids; first run (builds the coverage index): {cold:.1f} s")
    print(f"  grid selected -> page drawn:    {_ms(grid_only)}")
    print(f"  ... with a household profile:   {_ms(with_profile)}")
    print("  target: <= 500 ms")


# ----------------------------------------------------------------- writers


def _writer(args: tuple[str, int, int, list[str], str, Any, str]) -> dict[str, Any]:
    db, w, each, households, worker, barrier, mode = args
    start = dt.datetime(2026, 1, 5, 9, 0)
    now = dt.datetime(2026, 6, 30, 17, 0)
    lat: list[float] = []
    created = repeats = errors = 0
    if mode in ("ours", "threads"):
        store = open_store(db)
        store.scalar("SELECT COUNT(*) FROM workers")  # connect before the start
        barrier.wait()
        began = time.time()
        for i in range(each):
            n = w * each + i
            d = VisitDraft(households[n % len(households)], worker, start + dt.timedelta(seconds=n), "met")
            for _ in range(2 if i % 5 == 0 else 1):
                t = time.perf_counter()
                done = submit_visit(
                    store, d, idem_key=f"bench-{mode}-{w}-{i}", now=now, scope=Scope.everything()
                )
                lat.append(time.perf_counter() - t)
                created += done.created
                repeats += not done.created
        store.close()
    else:
        conn = sqlite3.connect(db, timeout=30)
        barrier.wait()
        began = time.time()
        for i in range(each):
            n = w * each + i
            for _ in range(2 if i % 5 == 0 else 1):
                t = time.perf_counter()
                try:
                    key = f"bench-{mode}-{w}-{i}"
                    cur = conn.execute("SELECT visit_id FROM visits WHERE idem_key = ?", (key,))
                    if cur.fetchone() is None:
                        conn.execute(
                            "INSERT INTO visits (household_id, worker_id, visited_at, outcome, channel, note,"
                            " idem_key) VALUES (?, ?, ?, 'met', 'door', '', ?)",
                            (
                                households[n % len(households)],
                                worker,
                                (start + dt.timedelta(seconds=n)).strftime("%Y-%m-%d %H:%M:%S"),
                                key,
                            ),
                        )
                        conn.execute("UPDATE sibai_version SET data_version = data_version + 1")
                        created += 1
                    else:
                        repeats += 1
                    conn.commit()
                except sqlite3.Error:
                    errors += 1
                    conn.rollback()
                lat.append(time.perf_counter() - t)
        conn.close()
    span = (began, time.time())
    return {"lat": lat, "created": created, "repeats": repeats, "errors": errors, "span": span}


def run_writers(db: str, *, writers: int, each: int, mode: str) -> None:
    store = open_store(db)
    before = int(store.scalar("SELECT COUNT(*) FROM visits"))
    households = store.read_table("households", columns=["household_id"], scope=Scope.everything())[
        "household_id"
    ].tolist()[:5000]
    worker = str(
        store.read_table("workers", columns=["worker_id"], scope=Scope.everything())["worker_id"].iloc[0]
    )
    store.close()
    if mode == "threads":  # one server process, 20 sessions
        barrier = threading.Barrier(writers)
        jobs = [(db, w, each, households, worker, barrier, mode) for w in range(writers)]
        with ThreadPoolExecutor(writers) as threads:
            results = list(threads.map(_writer, jobs))
    else:
        ctx = mp.get_context("spawn")
        with ctx.Manager() as manager:
            barrier = manager.Barrier(writers)
            jobs = [(db, w, each, households, worker, barrier, mode) for w in range(writers)]
            with ctx.Pool(writers) as pool:
                results = pool.map(_writer, jobs)
    wall = max(r["span"][1] for r in results) - min(r["span"][0] for r in results)
    lat = [x for r in results for x in r["lat"]]
    created = sum(r["created"] for r in results)
    repeats = sum(r["repeats"] for r in results)
    errors = sum(r["errors"] for r in results)
    with open_store(db) as store:
        stored = int(store.scalar("SELECT COUNT(*) FROM visits")) - before
        keys = int(
            store.scalar(
                "SELECT COUNT(DISTINCT idem_key) FROM visits WHERE idem_key LIKE :k", {"k": f"bench-{mode}-%"}
            )
        )
    n = writers * each
    print(
        f"  {mode:8s} {writers} x {each}: stored {stored}/{n}, distinct keys {keys}, created {created}, "
        f"repeats answered {repeats}, errors {errors}; {n / wall:6.0f} visits/s"
    )
    print(f"           latency per call: {_ms(lat)}")


def bench_writers(db: str, *, writers: int, each: int, pg: str | None) -> None:
    print(f"\n[writers] {writers} processes x {each} visits, every 5th submitted twice")
    with tempfile.TemporaryDirectory() as tmp:
        ours = Path(tmp) / "ours.gpkg"
        shutil.copyfile(db, ours)
        run_writers(str(ours), writers=writers, each=each, mode="ours")
        run_writers(str(ours), writers=writers, each=each, mode="threads")
        ours.unlink()
        for extra in ("-wal", "-shm"):
            Path(str(ours) + extra).unlink(missing_ok=True)
        naive = Path(tmp) / "naive.gpkg"
        shutil.copyfile(db, naive)
        with sqlite3.connect(naive) as conn:
            conn.execute("PRAGMA journal_mode = DELETE")
        run_writers(str(naive), writers=writers, each=each, mode="naive")
    if pg:
        from geo.demo import install_demo

        with open_store(pg) as store:
            if not store.has_schema() or store.scalar("SELECT COUNT(*) FROM grids") == 0:
                install_demo(store, scale="tiny", as_of=dt.date(2026, 6, 30))
        run_writers(pg, writers=writers, each=each, mode="ours")
        print("           (PostgreSQL)")
    print("  target: all stored, none twice, none lost; p95 <= 50 ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "data" / "putuo.gpkg"), help="the full district (SQLite)")
    parser.add_argument("--pg", default=None, help="a scratch postgresql:// URL for the writer test too")
    parser.add_argument("--only", choices=["list", "page", "writers"], action="append")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    only = set(args.only or ["list", "page", "writers"])
    load = os.getloadavg()[0]
    print(f"bench_grid on {args.db} ({os.cpu_count()} CPUs, load average {load:.1f})")
    if "list" in only:
        bench_list(args.db, grids=20 if args.quick else 100, seed=args.seed)
    if "writers" in only:
        bench_writers(args.db, writers=20, each=100 if args.quick else 500, pg=args.pg)
    if "page" in only:  # last: AppTest takes over __main__, which the writer processes need
        bench_page(args.db, grids=5 if args.quick else 20, seed=args.seed)
    print(f"\nload average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
