"""Benchmark the full demo build (issue 2): ours beside the previous write path, in one run.

Not a test: run it by hand and copy the table into ``docs/benchmarks.md``::

    python bench/bench_build.py               # full scale, 3 runs of each (about 4 minutes)
    python bench/bench_build.py --runs 1 --scale street

Each run builds the synthetic district into a fresh SQLite file in a child
process, exactly as ``sibai demo`` does (``open_store(create=True)`` then
:func:`geo.demo.install_demo`), and reports the child's wall time, CPU time
(user + system) and peak memory (``ru_maxrss`` from ``wait4``), so imports and
interpreter start-up count too. The runs of ours and of the baseline alternate,
so a change of load on a shared machine hits both alike; the load average is
printed beside every run.

``ours``
    :meth:`Store.replace_all` as it is: foreign keys and CHECK constraints
    verified once before COMMIT, a rollback journal for a fresh file, indexes
    built after the load.
``baseline``
    The previous write path, the straightforward one: one transaction through
    the write-ahead log with foreign keys and CHECK constraints checked per row
    (``executemany`` into the same schema), secondary indexes dropped and built
    after each table's load, then a checkpoint.

Both children also print their phases (generation, each table, checks), wall
and CPU, from the progress callback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_BUILD_S = 30.0
TARGET_PEAK_GB = 2.0


def child(kind: str, db: Path, scale: str, as_of: dt.date, seed: int) -> None:
    """Build into ``db`` (in this process) and print the phases as JSON on the last line."""
    t_start, c_start = time.perf_counter(), time.process_time()
    from geo.demo import install_demo
    from geo.store import open_store

    phases: list[tuple[str, float, float]] = []
    last = [time.perf_counter(), time.process_time(), "imports"]
    last[0], last[1] = t_start, c_start

    def step(_fraction: float, message: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        phases.append((str(last[2]), now - float(last[0]), cpu - float(last[1])))
        last[:] = [now, cpu, message]

    with open_store(str(db), create=True) as store:
        if kind == "ours":
            install_demo(store, scale=scale, seed=seed, as_of=as_of, progress=step)
        else:
            baseline_install(store, scale=scale, seed=seed, as_of=as_of, progress=step)
        step(1.0, "end")
    print(json.dumps({"phases": phases}))


def baseline_install(store: Any, *, scale: str, seed: int, as_of: dt.date, progress: Any) -> None:
    """The previous write path: per-row constraint checks, through the write-ahead log."""
    from geo.store import schema
    from geo.synth import build_district

    frames = build_district(
        scale=scale, seed=seed, as_of=as_of, progress=lambda f, m: progress(f, f"gen {m}")
    )
    order = [*schema.LAYERS, *schema.TABLES]
    store.create_schema()
    with store.transaction(reset=True) as conn:
        conn.exec_driver_sql("PRAGMA cache_size = -262144")
        for name in reversed(order):
            conn.exec_driver_sql(f"DELETE FROM {name}")
        for name in order:
            progress(0.5, f"write {name}")
            indexes = list(schema.table(name).indexes)
            for ix in indexes:
                ix.drop(conn)
            store.bulk_insert(conn, name, frames[name])
            for ix in indexes:
                ix.create(conn)
        store.set_meta(
            conn, {"as_of": as_of.isoformat(), "scale": scale, "seed": seed, "source": "synthetic"}
        )
        progress(0.9, "commit")
    progress(0.95, "checkpoint")
    store.checkpoint()


def run_child(kind: str, db: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one build in a child process; return wall, CPU, peak GB and its phases."""
    for suffix in ("", "-wal", "-shm", "-journal", "-writelock"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    cmd = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--db",
        str(db),
        "--scale",
        args.scale,
        "--as-of",
        args.as_of.isoformat(),
        "--seed",
        str(args.seed),
    ]
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if proc.returncode != 0:
        sys.exit(f"{kind} build failed ({proc.returncode}):\n{text}")
    phases = json.loads(text.strip().splitlines()[-1])["phases"]
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_gb": usage.ru_maxrss * 1024 / 1e9,
        "load": load,
        "load_after": os.getloadavg()[0],
        "phases": phases,
        "size_mb": db.stat().st_size / 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["full", "street", "tiny"], default="full")
    parser.add_argument("--runs", type=int, default=3, help="builds of each kind (median reported)")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date.today(), help="default: today")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", choices=["ours", "baseline"], help="run one kind only")
    parser.add_argument("--phases", action="store_true", help="print every run's phases")
    parser.add_argument("--child", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.db, args.scale, args.as_of, args.seed)
        return 0

    kinds = [args.only] if args.only else ["ours", "baseline"]
    print(
        f"machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.scale} district as of {args.as_of}, {args.runs} run(s) of {', '.join(kinds)}",
        flush=True,
    )
    results: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory(prefix="sibai-build-") as tmp:
        for run in range(args.runs):
            for kind in kinds if run % 2 == 0 else list(reversed(kinds)):
                r = run_child(kind, Path(tmp) / f"{kind}.gpkg", args)
                results[kind].append(r)
                print(
                    f"  run {run + 1} {kind:8s} wall {r['wall']:5.1f} s  CPU {r['cpu']:5.1f} s  "
                    f"peak {r['peak_gb']:.2f} GB  file {r['size_mb']:.0f} MB  "
                    f"load average {r['load']:.1f} → {r['load_after']:.1f}",
                    flush=True,
                )
                if args.phases:
                    for name, wall, cpu in r["phases"]:
                        print(f"      {name:28s} {wall:5.2f} s  (CPU {cpu:5.2f} s)")
    print("\n| build of the district into a fresh SQLite file | wall (median) | CPU (median) | peak memory |")
    print("| --- | --- | --- | --- |")
    for kind in kinds:
        rs = results[kind]
        wall = statistics.median(r["wall"] for r in rs)
        cpu = statistics.median(r["cpu"] for r in rs)
        peak = max(r["peak_gb"] for r in rs)
        print(f"| {kind} (n={len(rs)}) | {wall:.1f} s | {cpu:.1f} s | {peak:.2f} GB |")
    if "ours" in results:
        rs = results["ours"]
        wall = statistics.median(r["wall"] for r in rs)
        peak = max(r["peak_gb"] for r in rs)
        print(
            f"\ntarget: ≤ {TARGET_BUILD_S:.0f} s wall: {'ok' if wall <= TARGET_BUILD_S else 'MISSED'}; "
            f"≤ {TARGET_PEAK_GB:.0f} GB: {'ok' if peak <= TARGET_PEAK_GB else 'MISSED'}"
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
