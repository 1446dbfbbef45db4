"""Benchmark the issue ladder: the clock on read, ``sibai escalate``, one transition, the issues page's data.

Run ``python bench/bench_issues.py --db data/putuo.gpkg`` on the full synthetic
district (``sibai demo --scale full``: ~130,000 issues, ~1,500 open);
without ``--db`` it builds the street-scale district in a temporary folder.
The database given is never written: the write benchmarks run on copies.
Not a test: it prints each figure beside a straightforward baseline measured
in the same run (medians of ``--runs``), for ``docs/issues.md``.

``clock``
    The clock applied on read to every issue of the district
    (:func:`geo.issues.escalate_frame`, vectorised) against a Python loop of
    :func:`geo.issues.escalate` per open issue. Both must give the same
    levels and due times.
``escalate``
    ``sibai escalate``'s first run on a copy of a district whose steps were
    never recorded (:func:`geo.issues.workflow.escalate_all`: one
    transaction, batched inserts and updates) against the straightforward
    writer: one transaction per issue (read its row, insert its steps,
    update it). Both must record the same steps. Then the second run, which
    must find nothing and write nothing.
``move``
    One transition (:func:`geo.issues.workflow.transition`, SQLite): open →
    dispatched → handled → verified → closed → reopened, per call.
``board``
    The issues page's data for the whole district, as the page reads it (open
    issues and those closed since 1 January) and builds it
    (:func:`geo.store.issue_log.read_issue_data`,
    :func:`geo.issues.issue_board`), against reading every issue and
    rebuilding each one's state from its history one by one
    (:func:`geo.issues.replay`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.store import Scope

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo import issues as rules  # noqa: E402
from geo.demo import install_demo  # noqa: E402
from geo.issues import workflow  # noqa: E402
from geo.store import (  # noqa: E402
    Store,
    open_store,
    schema,
)
from geo.store import issue_log as log  # noqa: E402


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Return the median wall time of ``runs`` calls (seconds) and the last result."""
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def line(what: str, ours: float, base: float, note: str = "") -> None:
    ratio = base / ours if ours > 0 else float("inf")
    print(f"  {what:<34} ours {ours * 1000:9.1f} ms   baseline {base * 1000:9.1f} ms   {ratio:6.1f}×  {note}")


def bench_clock(store: Store, now: dt.datetime, runs: int) -> None:
    issues, _ = log.read_issue_data(store, scope=Scope.everything())
    limits = rules.limits_days(store.settings)
    open_rows = issues[issues["status"] != "closed"]

    def loop() -> list[tuple[str, pd.Timestamp]]:
        out = []
        for r in open_rows.itertuples(index=False):
            s = rules.state_from_row(r._asdict(), [], limits=limits)
            s, _ = rules.escalate(s, now, limits=limits)
            out.append((s.level, pd.Timestamp(s.due_at)))
        return out

    ours, frame = timed(lambda: rules.escalate_frame(issues, now=now, limits=limits), runs)
    base, looped = timed(loop, max(1, runs // 3))
    mine = frame[frame["status"] != "closed"]
    same = list(zip(mine["level"], mine["due_at"], strict=True)) == looped
    print(f"clock on read: {len(issues):,} issues, {len(open_rows):,} open")
    line("escalate_frame (all issues)", ours, base, "same result" if same else "DIFFERENT RESULT")


def _per_issue_escalation(store: Store, now: dt.datetime) -> int:
    """The straightforward writer: one transaction per issue past its limit."""
    limits = rules.limits_days(store.settings)
    i = schema.issues
    ids = store.read_table(
        "issues",
        columns=["issue_id"],
        where=(i.c.status != "closed") & (i.c.level != "district"),
        scope=Scope.everything(),
    )
    written = 0
    for issue_id in ids["issue_id"].tolist():
        with store.transaction() as conn:
            row = dict(conn.execute(i.select().where(i.c.issue_id == int(issue_id))).mappings().one())
            for col in ("opened_at", "due_at", "closed_at"):
                row[col] = rules._opt_ts(pd.to_datetime(pd.Series([row[col]])).iloc[0])
            state = rules.state_from_row(row, [], limits=limits)
            state, steps = rules.escalate(state, now, limits=limits)
            if not steps:
                continue
            for e in steps:
                at = f"{e.at:%Y-%m-%d %H:%M:%S}"
                conn.execute(
                    log.issue_events.insert().values(
                        issue_id=int(issue_id), at=at, actor=e.actor, action=e.action,
                        from_status=e.from_status, to_status=e.to_status, from_level=e.from_level,
                        to_level=e.to_level, note=e.note,
                    )
                )  # fmt: skip
            conn.execute(
                i.update()
                .where(i.c.issue_id == int(issue_id))
                .values(level=state.level, due_at=f"{state.due_at:%Y-%m-%d %H:%M:%S}")
            )
            written += len(steps)
    return written


def _steps(store: Store) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT issue_id, at, from_level, to_level FROM issue_events WHERE action = 'escalate' "
            "ORDER BY issue_id, at"
        ).all()
    return [tuple(r) for r in rows]


def bench_escalate(db: Path, now: dt.datetime, runs: int, tmp: Path) -> None:
    ours_t, base_t, second_t = [], [], []
    steps_ours: list[tuple[Any, ...]] = []
    steps_base: list[tuple[Any, ...]] = []
    for k in range(runs):
        a, b = tmp / f"ours{k}.gpkg", tmp / f"base{k}.gpkg"
        shutil.copy(db, a)
        shutil.copy(db, b)
        with open_store(str(a)) as s:
            log.ensure_issue_log(s)
            t = time.perf_counter()
            done = workflow.escalate_all(s, now=now)
            ours_t.append(time.perf_counter() - t)
            v = s.versions()
            t = time.perf_counter()
            again = workflow.escalate_all(s, now=now)
            second_t.append(time.perf_counter() - t)
            assert again.issues == 0 and s.versions() == v, "the second run wrote something"
            steps_ours = _steps(s)
        with open_store(str(b)) as s:
            log.ensure_issue_log(s)
            t = time.perf_counter()
            _per_issue_escalation(s, now)
            base_t.append(time.perf_counter() - t)
            steps_base = _steps(s)
        a.unlink()
        b.unlink()
    same = steps_ours == steps_base
    print(f"sibai escalate: {done.issues:,} issues moved, {len(done.steps):,} steps (first run, on a copy)")
    line("escalate_all, first run", statistics.median(ours_t), statistics.median(base_t),
         "same steps" if same else "DIFFERENT STEPS")  # fmt: skip
    print(f"  {'escalate_all, second run (no-op)':<34} ours {statistics.median(second_t) * 1000:9.1f} ms   "
          "writes nothing, change counter unchanged")  # fmt: skip


def bench_move(db: Path, now: dt.datetime, runs: int, tmp: Path) -> None:
    path = tmp / "move.gpkg"
    shutil.copy(db, path)
    times = []
    with open_store(str(path)) as s:
        workflow.escalate_all(s, now=now)
        i = schema.issues
        ids = s.read_table(
            "issues", columns=["issue_id"], where=i.c.status == "open", scope=Scope.everything()
        )["issue_id"].tolist()
        cycle = [("dispatch", "W0001"), ("handle", "W0002"), ("verify", "W0003"), ("close", "W0003"),
                 ("reopen", "W0001")]  # fmt: skip
        at = now
        for issue_id in ids[: max(1, runs)]:
            for action, actor in cycle:
                at += dt.timedelta(seconds=1)
                t = time.perf_counter()
                workflow.transition(s, int(issue_id), action, actor=actor, at=at, scope=Scope.everything())
                times.append(time.perf_counter() - t)
    a = np.asarray(times) * 1000
    print(f"one transition (SQLite), {len(times)} calls")
    print(f"  {'transition':<34} median {np.median(a):6.1f} ms   p95 {np.percentile(a, 95):6.1f} ms")
    path.unlink()


def bench_board(store: Store, now: dt.datetime, runs: int) -> None:
    limits = rules.limits_days(store.settings)

    jan1 = dt.date(now.year, 1, 1)

    def ours() -> rules.Board:
        # As the page does: open issues and those closed this year (the sidebar's default period).
        issues, events = log.read_issue_data(store, closed_since=jan1, scope=Scope.everything())
        return rules.issue_board(issues, events, rules.IssueFilters(), now=now, limits=limits, start=jan1)

    def baseline() -> int:
        issues = store.read_table(
            "issues", scope=Scope.everything()
        )  # a fresh district has no recorded events to replay
        n_open = 0
        for r in issues.itertuples(index=False):
            s, _ = rules.replay(
                [], opened_at=r.opened_at, status=r.status, level=r.level, now=now, limits=limits
            )
            n_open += s.is_open
        return n_open

    t_ours, board = timed(ours, runs)
    t_base, n_open = timed(baseline, max(1, runs // 3))
    same = int(board.metrics["open"]) == n_open
    print("issues page data (whole district, default filters)")
    line("read + issue_board", t_ours, t_base, "same open count" if same else "DIFFERENT")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", help="a built district (default: build the street scale in a temporary folder)")
    p.add_argument("--runs", type=int, default=7)
    p.add_argument(
        "--now", default=None, help='"YYYY-MM-DD HH:MM" (default: the district\'s as-of day, 17:00)'
    )
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_issues_") as folder:
        tmp = Path(folder)
        if args.db:
            db = Path(args.db)
        else:
            db = tmp / "street.gpkg"
            with open_store(str(db), create=True) as s:
                install_demo(s, scale="street", as_of=dt.date(2026, 6, 30))
        with open_store(str(db)) as s:
            as_of = s.meta().get("as_of", dt.date.today().isoformat())
            now = (dt.datetime.strptime(args.now, "%Y-%m-%d %H:%M") if args.now
                   else dt.datetime.combine(dt.date.fromisoformat(as_of), dt.time(17, 0)))  # fmt: skip
            print(f"database {db} (as of {as_of}), now {now:%Y-%m-%d %H:%M}, medians of {args.runs} runs\n")
            bench_clock(s, now, args.runs)
            bench_board(s, now, args.runs)
        bench_escalate(db, now, max(1, min(args.runs, 3)), tmp)
        bench_move(db, now, max(4, args.runs), tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
