"""Benchmark concurrent visit writers (issue 4): ours beside the previous write path, in one run.

Not a test: run it by hand and copy the table into ``docs/benchmarks.md``::

    python bench/bench_writers.py --db data/putuo.gpkg                 # SQLite only
    python bench/bench_writers.py --db data/putuo.gpkg --pg postgresql://127.0.0.1/sibai_bench

20 writers (``--writers``) record 500 visits each (``--each``) at once, every
5th submitted twice with the same idempotency key, through the page's write
path (:func:`geo.visits.submit_visit`, validation included): as 20 processes
(20 app servers) and as 20 threads of one process (one server, 20 sessions).
Latency is the time from the call to its return in the writer. After each run
the database is checked: all stored, none twice, none lost, no errors.

``ours``
    The store as it is: every write transaction queues in
    :meth:`Store.writer_turn` (threads on a lock, processes on an ``flock``),
    then one short ``BEGIN IMMEDIATE`` transaction.
``previous``
    The write path before this change, kept here verbatim: a lookup, then
    ``records._write_lock`` (its own lock and lock file) around a
    transaction built per call.

SQLite runs on a copy of ``--db`` (the full district, so indexes have their
real size); PostgreSQL on the database ``--pg`` names (the tiny district is
built into it when it holds none; it must be a scratch database).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.store import Scope, Store, open_store  # noqa: E402
from geo.store import records as rec  # noqa: E402
from geo.visits import VisitDraft, submit_visit  # noqa: E402

TARGET_P95_MS = 50.0

# ------------------------------------------------------- the previous path
# records.record_visit and records._write_lock as they were before the writer
# queue moved into Store.transaction (visits only: the benchmark opens no issue).

_OLD_LOCKS: dict[str, threading.Lock] = {}
_OLD_FILES: dict[str, int] = {}
_OLD_GUARD = threading.Lock()


@contextlib.contextmanager
def _old_write_lock(store: Store) -> Iterator[None]:
    import fcntl

    key = str(store.path)
    with _OLD_GUARD:
        lock = _OLD_LOCKS.setdefault(key, threading.Lock())
        if key not in _OLD_FILES:
            _OLD_FILES[key] = os.open(f"{key}-writelock", os.O_RDWR | os.O_CREAT, 0o644)
    with lock:
        fd = _OLD_FILES[key]
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


def _old_record(store: Store, visit: rec.NewVisit, key: str) -> tuple[int, bool]:
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql as pg_dialect
    from sqlalchemy.dialects import sqlite as sqlite_dialect

    from geo.store import schema

    with store.engine.connect() as conn:
        found = conn.execute(rec._lookup_query(), rec._lookup_params(visit, key)).one()
        if found.visit_id is not None:
            row = rec._existing(conn, key)
            return int(row.visit_id), False
    v = schema.visits
    values = {
        "household_id": visit.household_id,
        "worker_id": visit.worker_id,
        "visited_at": rec._time_param(store, visit.visited_at),
        "outcome": visit.outcome,
        "channel": visit.channel,
        "note": visit.note or "",
        "idem_key": key,
    }
    dialect = pg_dialect if store.backend == "postgresql" else sqlite_dialect
    stmt = (
        dialect.insert(v)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[v.c.idem_key], index_where=sa.text("idem_key IS NOT NULL"))
        .returning(v.c.visit_id)
    )
    lock = _old_write_lock(store) if store.backend == "sqlite" else contextlib.nullcontext()
    with lock, store.engine.connect() as conn:
        conn.execution_options(sibai_write=True)
        with conn.begin():
            found_id = conn.execute(stmt).scalar()
            store._bump(conn, reset=False)
    if found_id is None:
        with store.engine.connect() as conn:
            return int(rec._existing(conn, key).visit_id), False
    return int(found_id), True


# ---------------------------------------------------------------- writers


def _writer(args: tuple[str, int, int, list[str], str, Any, str, str, float]) -> dict[str, Any]:
    db, w, each, households, worker, barrier, path, tag, spin = args
    start = dt.datetime(2026, 1, 5, 9, 0)
    now = dt.datetime(2026, 6, 30, 17, 0)
    lat: list[float] = []
    created = repeats = 0
    errors: list[str] = []
    store = open_store(db)
    store.scalar("SELECT COUNT(*) FROM workers")  # connect before the start
    barrier.wait()
    cpu0 = time.thread_time()
    began = time.time()
    for i in range(each):
        n = w * each + i
        when = start + dt.timedelta(seconds=n)
        household = households[n % len(households)]
        key = f"bench-{tag}-{w}-{i}"
        for _ in range(2 if i % 5 == 0 else 1):
            t = time.perf_counter()
            try:
                if path == "cpu-only":
                    # The control: the same CPU time per call, no database, no lock.
                    spin_until = time.thread_time() + spin
                    while time.thread_time() < spin_until:
                        pass
                    is_new = _ == 0
                elif path == "ours":
                    done = submit_visit(
                        store,
                        VisitDraft(household, worker, when, "met"),
                        idem_key=key,
                        now=now,
                        scope=Scope.everything(),
                    )
                    is_new = done.created
                else:
                    _, is_new = _old_record(store, rec.NewVisit(household, worker, when, "met"), key)
            except Exception as exc:  # counted and shown: the check below wants none
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            finally:
                lat.append(time.perf_counter() - t)
            created += is_new
            repeats += not is_new
    cpu = time.thread_time() - cpu0
    store.close()
    return {
        "cpu": cpu,
        "lat": lat,
        "created": created,
        "repeats": repeats,
        "errors": errors,
        "span": (began, time.time()),
    }


def run_writers(
    db: str, *, writers: int, each: int, path: str, mode: str, spin: float = 0.0
) -> dict[str, Any]:
    """Run one configuration; return its figures and checks."""
    tag = f"{path}-{mode}-{time.time_ns()}"
    store = open_store(db)
    everything = Scope.everything()
    before = int(store.scalar("SELECT COUNT(*) FROM visits"))
    households = store.read_table("households", columns=["household_id"], scope=everything)
    households_ids = households["household_id"].tolist()[:5000]
    worker = str(store.read_table("workers", columns=["worker_id"], scope=everything)["worker_id"].iloc[0])
    store.close()
    load = os.getloadavg()[0]
    if mode == "threads":
        barrier: Any = threading.Barrier(writers)
        jobs = [(db, w, each, households_ids, worker, barrier, path, tag, spin) for w in range(writers)]
        with ThreadPoolExecutor(writers) as threads:
            results = list(threads.map(_writer, jobs))
    else:
        ctx = mp.get_context("spawn")
        with ctx.Manager() as manager:
            barrier = manager.Barrier(writers)
            jobs = [(db, w, each, households_ids, worker, barrier, path, tag, spin) for w in range(writers)]
            with ctx.Pool(writers) as pool:
                results = pool.map(_writer, jobs)
    wall = max(r["span"][1] for r in results) - min(r["span"][0] for r in results)
    lat = np.asarray([x for r in results for x in r["lat"]]) * 1000
    with open_store(db) as store:
        stored = int(store.scalar("SELECT COUNT(*) FROM visits")) - before
        keys = int(
            store.scalar(
                "SELECT COUNT(DISTINCT idem_key) FROM visits WHERE idem_key LIKE :k", {"k": f"bench-{tag}-%"}
            )
        )
    errors = [e for r in results for e in r["errors"]]
    return {
        "n": writers * each,
        "stored": stored,
        "keys": keys,
        "created": sum(r["created"] for r in results),
        "repeats": sum(r["repeats"] for r in results),
        "errors": errors,
        "rate": writers * each / wall,
        "p50": float(np.median(lat)),
        "p90": float(np.percentile(lat, 90)),
        "p95": float(np.percentile(lat, 95)),
        "p99": float(np.percentile(lat, 99)),
        "cpu_ms": 1000 * sum(r["cpu"] for r in results) / len(lat),
        "max": float(lat.max()),
        "load": load,
        "load_after": os.getloadavg()[0],
    }


def report(backend: str, path: str, mode: str, r: dict[str, Any]) -> str:
    control = path == "cpu-only"
    ok = control or (r["stored"] == r["n"] == r["keys"] == r["created"] and not r["errors"])
    stored = "-" if control else f"{r['stored']}/{r['n']}"
    print(
        f"  {backend:10s} {path:8s} {mode:9s} stored {stored}, distinct keys {r['keys']}, "
        f"created {r['created']}, repeats answered {r['repeats']}, errors {len(r['errors'])}; "
        f"{r['rate']:5.0f} visits/s; CPU {r['cpu_ms']:.2f} ms per call; latency p50 {r['p50']:.1f} ms, "
        f"p90 {r['p90']:.1f}, p95 {r['p95']:.1f}, p99 {r['p99']:.1f}, max {r['max']:.0f} ms; "
        f"load average {r['load']:.1f} → {r['load_after']:.1f}",
        flush=True,
    )
    if r["errors"]:
        print(f"      first error: {r['errors'][0]}")
    verdict = "(control)" if control else ("ok" if ok and r["p95"] <= TARGET_P95_MS else "MISSED")
    return (
        f"| {backend} | {path} | {mode} | {stored} | {len(r['errors'])} | {r['cpu_ms']:.2f} ms | "
        f"{r['p50']:.1f} ms | {r['p95']:.1f} ms | {r['p99']:.1f} ms | {r['rate']:.0f}/s | "
        f"{r['load']:.1f} | {verdict} |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "data" / "putuo.gpkg"), help="the full district (SQLite)")
    parser.add_argument("--pg", default=None, help="a scratch postgresql:// URL (repeats both paths there)")
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--each", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=1, help="repeat every configuration (all rows shown)")
    parser.add_argument("--modes", default="processes,threads")
    parser.add_argument(
        "--paths",
        default="previous,ours,cpu-only",
        help="previous, ours, cpu-only (a control: ours' CPU time per call, spent without any database)",
    )
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args(argv)
    modes = args.modes.split(",")
    paths = args.paths.split(",")
    print(
        f"bench_writers: {args.writers} writers x {args.each} visits, every 5th submitted twice; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    rows = []
    backends: list[tuple[str, str]] = []
    tmp = tempfile.TemporaryDirectory(prefix="sibai-writers-")
    if not args.no_sqlite:
        copy = Path(tmp.name) / "w.gpkg"
        shutil.copyfile(args.db, copy)
        backends.append(("SQLite", str(copy)))
    if args.pg:
        from geo.demo import install_demo

        with open_store(args.pg) as store:
            if not store.has_schema() or store.scalar("SELECT COUNT(*) FROM grids") == 0:
                install_demo(store, scale="tiny", as_of=dt.date(2026, 6, 30))
        backends.append(("PostgreSQL", args.pg))
    for backend, db in backends:
        for mode in modes:
            for _ in range(args.rounds):
                spin = 0.0
                for path in paths:
                    r = run_writers(db, writers=args.writers, each=args.each, path=path, mode=mode, spin=spin)
                    rows.append(report(backend, path, mode, r))
                    if path == "ours":  # the control spins for as long as ours computed
                        spin = r["cpu_ms"] / 1000
    tmp.cleanup()
    print(
        "\n| backend | path | writers as | stored | errors | CPU per call | p50 | p95 | p99 | rate | load "
        "| p95 ≤ 50 ms |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
