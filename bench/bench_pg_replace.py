"""Benchmark replacing a district on PostgreSQL (issue 15): TRUNCATE beside the old DELETE path, in one run.

Not a test: run it by hand and copy the table into ``docs/benchmarks.md``::

    python bench/bench_pg_replace.py                 # street scale (about a minute)
    python bench/bench_pg_replace.py --scale full    # the whole district (several minutes)

It generates the synthetic district once, then in a scratch PostGIS database
(created and dropped here) times three writes of it with
:meth:`geo.store.Store.replace_all`:

``empty``
    into the empty database (the reference the issue compares with);
``replace (ours)``
    over the district just written: one ``TRUNCATE`` of the replaced tables;
``replace (baseline)``
    the same, with the previous path: a ``DELETE`` of each table, children
    first, before the load (done here in front of ours, which then truncates
    empty tables).

Wall and CPU seconds of this process are shown; the server's own CPU is not
(it shares the machine), so wall time is the figure to compare.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from psycopg import sql

from geo.store import core, open_store, schema
from geo.synth import build_district

ADMIN = os.environ.get("SIBAI_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def scratch() -> Iterator[str]:
    name = f"sibai_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        yield url
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def timed(label: str, write: Any) -> tuple[str, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    write()
    return label, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="street", choices=("tiny", "street", "full"))
    args = parser.parse_args()
    frames = build_district(scale=args.scale, seed=42, as_of=dt.date(2026, 11, 26))
    rows = sum(len(f) for f in frames.values())
    original = core.Store._load_all

    def deleting_first(self: core.Store, conn: Any, *a: Any, **kw: Any) -> None:
        present = set(core.sa.inspect(conn).get_table_names())
        for name in core._emptied_with([*schema.LAYERS, *schema.TABLES]):
            if name in present:
                conn.exec_driver_sql(f"DELETE FROM {name}")
        original(self, conn, *a, **kw)

    results = []
    with scratch() as url, open_store(url) as store:
        results.append(timed("empty", lambda: store.replace_all(frames)))
        results.append(timed("replace (ours)", lambda: store.replace_all(frames)))
        core.Store._load_all = deleting_first  # type: ignore[method-assign]
        try:
            results.append(timed("replace (baseline)", lambda: store.replace_all(frames)))
        finally:
            core.Store._load_all = original  # type: ignore[method-assign]
    print(f"scale {args.scale}: {rows:,} rows; load average {os.getloadavg()[0]:.1f}")
    print(f"{'write':<20} {'wall s':>8} {'cpu s':>8} {'× empty':>8}")
    empty = results[0][1]
    for label, wall, cpu in results:
        print(f"{label:<20} {wall:>8.1f} {cpu:>8.1f} {wall / empty:>8.2f}")


if __name__ == "__main__":
    main()
