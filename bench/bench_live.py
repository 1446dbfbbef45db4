"""Measure what a write costs the live coverage index, a restart, and ``sibai coverage``: before and after.

On a copy of a demo district (full scale by default; it is written to), in one run:

``writes``
    One visit at a time is recorded through the app's own write path (a third
    of them late, i.e. earlier than visits already held; every fifth opens an
    issue; every seventh is followed by an issue action), and after each the
    CPU time (``time.process_time``) of the next rerun's catch-up is measured
    for the live index (:class:`geo.live.LiveCoverage`) and for **the previous
    path** (reimplemented below as it was: every new visit concatenated to the
    whole time-sorted array and, when recorded late, the whole array
    re-sorted; every issue read again), alternating which goes first. Both
    indexes are checked to give the same figures at the end. The office's live frames
    (:class:`geo.live_office.LiveOffice`) likewise, beside **their previous
    path** (reimplemented below: every new visit concatenated to the whole
    visits frame and arrays, re-sorted when late; every issue read again and
    its arrays rebuilt) and beside a few **full rebuilds**
    (:func:`geo.live_office.office_frames_from_store` and its arrays); the
    live frames are checked against a rebuild at the end, and the memory they
    hold is reported before and after the writes.
``coverage``
    ``sibai coverage`` for one year at the grid level, wall time of the whole
    command, from the snapshot, against the previous command (the index
    rebuilt from the database, ``python -c``), alternately.
``restart``
    ``sibai serve`` started on the district, without and with the snapshot
    beside it, alternately; from process start until the district map is
    drawn for a user who signs in as soon as the server answers (headless
    Chromium, as ``bench_serve.py``), and until the "caches warm" log line.
    With ``--baseline CHECKOUT``: this checkout against that one (e.g. a
    ``git worktree`` of main), both from the snapshot, alternately; the
    server's CPU (its process group, user + system) until the map is drawn.
    With ``--signed-in``: the person was signed in before the restart (the
    session cookie kept, as a reload after a restart finds it), so the map
    is drawn without the sign-in form; each run's browser is new, so it
    fetches all of Streamlit's files from the restarting server. With
    ``--same-browser``: the person's browser stays open across the restart
    and the server comes back on the same address, so the reload also finds
    the files its browser cached before (Streamlit's are immutable for a
    year): the restart as a person on the map meets it.

Usage::

    python bench/bench_live.py --db /tmp/full.gpkg            # full district (built when missing)
    python bench/bench_live.py --db /tmp/full.gpkg --writes 40 --runs 2 --skip restart

Figures and their reading: docs/benchmarks.md, "Live index: a write, a restart, sibai coverage".
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from geo.coverage import CoverageIndex, _merge_sorted  # noqa: E402
from geo.issues import NewIssue, TransitionRefused  # noqa: E402
from geo.issues.workflow import transition  # noqa: E402
from geo.live import (  # noqa: E402
    LiveCoverage,
    coverage_index_from_store,
    read_issue_times,
    read_met_visits,
    snapshot_path,
)
from geo.live_office import LiveOffice, office_frames_from_store, read_office_issues  # noqa: E402
from geo.office.frames import VISIT_KEYS, OfficeFrames, _visit_arrays  # noqa: E402
from geo.office.lagging import VISIT_COLUMNS  # noqa: E402
from geo.office.weekly import weekly_check  # noqa: E402
from geo.store import Scope, Store, open_store, schema  # noqa: E402
from geo.store.records import NewVisit  # noqa: E402
from geo.visits import record_visit  # noqa: E402

EVERYTHING = Scope.everything()
SESSION_COOKIE = "sibai_session"  # geo.cookies.COOKIE (not imported: the baseline checkout may differ)


class PreviousLive:
    """The live index's catch-up as it was before (issue 15): the baseline, same arrays, old work."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.index, self.last = coverage_index_from_store(store, scope=EVERYTHING)
        self.versions = store.versions()

    def current(self) -> CoverageIndex:
        versions = self.store.versions()
        if versions[0] != self.versions[0]:
            new = read_met_visits(self.store, scope=EVERYTHING, after_id=self.last)
            if len(new):
                self._append(new)
                self.last = int(new["visit_id"].max())
            self.index.set_issues(read_issue_times(self.store, scope=EVERYTHING))
        self.versions = versions
        return self.index

    def _append(self, visits: pd.DataFrame) -> None:
        ix = self.index
        t = visits["visited_at"].to_numpy().astype("datetime64[s]")
        h = ix.household_ids.get_indexer(visits["household_id"].to_numpy(dtype=object))
        t, h = t[h >= 0], h[h >= 0].astype(np.int32)
        t = np.concatenate([ix._t, t])
        h = np.concatenate([ix._h, h])
        if len(t) and not (np.diff(t.astype(np.int64)) >= 0).all():
            order = np.argsort(t, kind="stable")
            t, h = t[order], h[order]
        ix._t, ix._h = t, h


class PreviousOffice:
    """The office frames' catch-up as it was before (issue 15): the baseline, same frames, old work."""

    def __init__(self, store: Store, start: dt.date) -> None:
        self.store, self.start = store, start
        self.frames = office_frames_from_store(store, scope=EVERYTHING, start=start)
        self.frames.arrays()
        self.last = int(self.frames.visits["visit_id"].max())
        self.version = store.versions()[0]

    def current(self) -> OfficeFrames:
        version = self.store.versions()[0]
        if version == self.version:
            return self.frames
        old, f = self.frames.arrays(), self.frames
        new = self.store.read_table(
            "visits",
            scope=EVERYTHING,
            columns=list(VISIT_COLUMNS),
            where=schema.visits.c.visit_id > self.last,
        )
        self.last = max(self.last, int(new["visit_id"].max())) if len(new) else self.last
        new = new[new["visited_at"] >= pd.Timestamp(self.start)]
        visits = pd.concat([f.visits, new], ignore_index=True)
        issues = self.store.read_table("issues", scope=EVERYTHING, columns=list(f.issues.columns))
        frames = OfficeFrames(f.grids, f.households, f.buildings, f.workers, f.grid_workers, visits, issues)
        c = frames._cache
        c.update({k: v for k, v in old.items() if not k.startswith(("v_", "i_", "first_met_"))})
        part = _visit_arrays(c, new, frames)
        merged = {k: np.concatenate([old[k], part[k]]) for k in VISIT_KEYS}
        if len(part["v_t"]) and len(old["v_t"]) and part["v_t"][0] < old["v_t"][-1]:
            order = np.lexsort((merged["v_id"], merged["v_t"]))
            merged = {k: v[order] for k, v in merged.items()}
        c.update(merged, worker_names=part["worker_names"], channel_names=part["channel_names"])
        frames.arrays()
        self.frames, self.version = frames, version
        return frames


def office_bytes(frames: OfficeFrames) -> int:
    """Bytes the frames hold: their arrays and the frames' own columns (text counted once per value)."""
    arrays = sum(v.nbytes for v in frames.arrays().values() if isinstance(v, np.ndarray))
    buffers = frames.arrays().get("v_buffers")
    if buffers is not None:  # spare room counts too
        arrays += sum(b.nbytes - b[: buffers.n].nbytes for b in buffers.arrays.values())
    return arrays + int(
        frames.visits.memory_usage(deep=False).sum() + frames.issues.memory_usage(deep=False).sum()
    )


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def cpu(fn: object) -> float:
    started = time.process_time()
    fn()  # type: ignore[operator]
    return time.process_time() - started


def held_bytes(index: CoverageIndex) -> int:
    return sum(v.nbytes for k, v in vars(index).items() if k.startswith("_") and isinstance(v, np.ndarray))


def bench_writes(db: Path, n: int) -> None:
    with open_store(str(db)) as store:
        as_of = dt.date.fromisoformat(store.meta()["as_of"])
        started = time.perf_counter()
        new = LiveCoverage(store, snapshot=None)
        new.current()
        build_s = time.perf_counter() - started
        old = PreviousLive(store)
        office = LiveOffice(store, scope=EVERYTHING)
        year = dt.date(as_of.year, 1, 1)
        office.current(year)
        previous_office = PreviousOffice(store, year)
        office_before = office_bytes(office.current(year))
        rss_before = rss_mb()
        hh = store.read_table("households", scope=EVERYTHING, columns=["household_id", "occupied"])
        hh = hh[hh["occupied"].astype(bool)]["household_id"].to_numpy(dtype=object)
        worker = str(
            store.read_table("workers", scope=EVERYTHING, columns=["worker_id"])["worker_id"].iloc[0]
        )
        rng = np.random.default_rng(42)
        before_bytes = held_bytes(new.current())
        times: dict[str, list[float]] = {"new": [], "previous": [], "office": [], "office previous": []}
        for i in range(n):
            # Afternoon of the last day; a third of them earlier than visits already held (late records).
            minute = int(rng.integers(9 * 60, 12 * 60)) if i % 3 == 0 else 17 * 60 + i
            at = dt.datetime.combine(as_of, dt.time()) + dt.timedelta(minutes=minute)
            visit = NewVisit(str(rng.choice(hh)), worker, at, "met")
            record_visit(store, visit, issue=NewIssue("加装电梯") if i % 5 == 0 else None, scope=EVERYTHING)
            if i % 7 == 0:
                issues = store.read_table("issues", scope=EVERYTHING, columns=["issue_id", "status"])
                pick = int(issues[issues["status"] == "open"]["issue_id"].iloc[-1])
                with contextlib.suppress(TransitionRefused):
                    transition(store, pick, "dispatch", actor=worker, at=at, scope=EVERYTHING)
            order = ("new", "previous") if i % 2 == 0 else ("previous", "new")
            for who in order:
                live = new if who == "new" else old
                times[who].append(cpu(live.current))
            for who in ("office", "office previous") if i % 2 == 0 else ("office previous", "office"):
                step = (lambda: office.current(year)) if who == "office" else previous_office.current
                times[who].append(cpu(step))
        a, b = new.current(), old.current()
        same = (
            all(
                a.coverage(s, as_of, level=lv).equals(b.coverage(s, as_of, level=lv))
                for s in (as_of, year)
                for lv in ("grid", "district")
            )
            and a.n_visits == b.n_visits
        )
        after_bytes = held_bytes(a)
        live_office = office.current(year)
        office_after, rss_after = office_bytes(live_office), rss_mb()
        rebuilds = []
        for _ in range(3):
            started = time.process_time()
            fresh = office_frames_from_store(store, scope=EVERYTHING, start=year)
            fresh.arrays()
            rebuilds.append(time.process_time() - started)
        office_same = (
            fresh.visits.equals(live_office.visits)
            and fresh.issues.equals(live_office.issues)
            and fresh.issues.equals(read_office_issues(store, scope=EVERYTHING))
            and weekly_check(fresh, week_ending=as_of).grids.equals(
                weekly_check(live_office, week_ending=as_of).grids
            )
        )
        # What the live index pays every MERGE_AT visits: one merge of the side array into the main one.
        t0 = a._t
        side_t = np.sort(rng.integers(0, len(t0), 4096)).astype(np.int64)
        merge_s = cpu(lambda: _merge_sorted(t0, a._h, t0[side_t], a._h[: len(side_t)]))
        save_s = cpu(lambda: LiveCoverage(store, snapshot=db.with_name("probe.npz"))._save(a, new._marks))  # type: ignore[arg-type]
        db.with_name("probe.npz").unlink(missing_ok=True)

    def row(label: str, values: list[float]) -> str:
        ms = [v * 1000 for v in values]
        return (
            f"{label:44} median {statistics.median(ms):7.1f} ms  p95 {np.percentile(ms, 95):7.1f}"
            f"  max {max(ms):7.1f}"
        )

    print(f"\nCPU of the next rerun's catch-up after one recorded visit ({n} visits, {db.name}):")
    print(row("live index (this change)", times["new"]))
    print(row("previous path (baseline, same run)", times["previous"]))
    print(row("office frames (LiveOffice, this change)", times["office"]))
    print(row("office frames, previous path (same run)", times["office previous"]))
    print(row("office frames, full rebuild (3 runs)", rebuilds))
    print(f"office frames equal to a rebuild at the end: {office_same}")
    print(
        f"office frames held: {office_before / 1e6:.1f} MB before, {office_after / 1e6:.1f} MB"
        f" after {n} writes; process RSS {rss_before:.0f} MB before, {rss_after:.0f} MB after"
        " (the previous path's frames alive too)"
    )
    print(f"figures equal at the end: {same}; met visits held {a.n_visits:,}")
    print(f"full build of the index: {build_s:.1f} s wall")
    print(f"merging 4,096 side visits into the main arrays: {merge_s * 1000:.1f} ms CPU (once per 4,096)")
    print(f"writing the snapshot: {save_s:.2f} s CPU")
    print(
        f"index arrays held: {before_bytes / 1e6:.1f} MB before, {after_bytes / 1e6:.1f} MB after {n} writes"
    )


def bench_coverage(db: Path, runs: int) -> None:
    with open_store(str(db)) as store:
        as_of = store.meta()["as_of"]
    year = f"{as_of[:4]}-01-01"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    new_cmd = [sys.executable, "-m", "geo.cli", "coverage", "--db", str(db), "--from", year, "--to", as_of]
    old_code = (
        "import datetime as dt, sys; from geo.live import coverage_index_from_store; "
        "from geo.store import Scope, open_store\n"
        f"s = open_store({str(db)!r}); ix, _ = coverage_index_from_store(s, scope=Scope.everything())\n"
        f"f = ix.coverage(dt.date.fromisoformat({year!r}), dt.date.fromisoformat({as_of!r}), level='grid')\n"
        "f = f.reset_index().rename(columns={'grid_id': 'id'})\n"
        "f.to_csv(sys.stdout, index=False, float_format='%.4f')"
    )
    old_cmd = [sys.executable, "-c", old_code]
    snapshot = Path(f"{db}.coverage.npz")
    started = time.perf_counter()
    subprocess.run(new_cmd, check=True, env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
    first_s = time.perf_counter() - started
    got: dict[str, list[float]] = {"new": [], "previous": []}
    outputs = {}
    for run in range(runs):
        for who in ("new", "previous") if run % 2 == 0 else ("previous", "new"):
            started = time.perf_counter()
            out = subprocess.run(
                new_cmd if who == "new" else old_cmd, check=True, env=env, capture_output=True
            )
            got[who].append(time.perf_counter() - started)
            outputs[who] = out.stdout
    print(f"\nsibai coverage, one year by grid, wall time of the command ({runs} runs, median):")
    print(f"  from the snapshot (this change)      {statistics.median(got['new']):6.2f} s")
    print(f"  index rebuilt (previous command)     {statistics.median(got['previous']):6.2f} s")
    print(
        f"  first call without a snapshot (build + save) {first_s:.2f} s;"
        f" snapshot {snapshot.stat().st_size / 1e6:.0f} MB"
    )
    print(f"  same output: {outputs['new'] == outputs['previous']}")


def first_map(browser: Any, base: str, cookies: Any = None, *, ctx: Any = None) -> Any:
    """Open ``/map`` as the district user and wait until the map has drawn every grid; return the cookies.

    With ``cookies`` (a browser's state from an earlier sign-in) the session
    cookie signs the person in; without, they sign in with the form. With
    ``ctx`` the page opens in that browser context (its cookies and cache,
    kept open), else in a new one.
    """
    from bench_serve import TIMEOUT_S

    own = ctx is None
    if own:
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, storage_state=cookies)
    page = None
    try:
        signed = any(c["name"] == SESSION_COOKIE for c in ctx.cookies())
        page = ctx.new_page()
        page.goto(base + "/map")
        if cookies is None and not signed:
            name = page.get_by_label("用户名")
            name.wait_for(timeout=TIMEOUT_S * 1000)
            name.fill("demo-district")
            page.get_by_label("密码").fill("sibai-demo")
            page.get_by_role("button", name="登录", exact=True).click()
        frame = page.frame_locator("iframe[title*='sibai_gridmap']")
        frame.locator("body[data-grids='2000']").wait_for(state="attached", timeout=TIMEOUT_S * 1000)
        assert page.get_by_label("用户名").count() == 0, "the map is drawn for a signed-in person"
        return ctx.storage_state()
    finally:
        if own:
            ctx.close()
        elif page is not None:
            page.close()


def warm_logged(err: Path) -> float:
    """Return the warm-up's own figure from the server's log ("caches warm in X s"), waiting for it."""
    deadline = time.perf_counter() + 300
    while time.perf_counter() < deadline:
        lines = [x for x in err.read_text(errors="replace").splitlines() if "caches warm in" in x]
        if lines:
            return float(lines[-1].rsplit("in ", 1)[1].split(" s")[0])
        time.sleep(0.1)
    return float("nan")


def group_cpu(pgid: int) -> float:
    """Return the CPU seconds (user + system) used so far by every process in process group ``pgid``."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state ppid pgrp ... utime(11) stime(12)
            total += int(fields[11]) + int(fields[12])
    return total / tick


def bench_restart(
    db: Path, runs: int, baseline: Path | None = None, *, signed_in: bool = False, same_browser: bool = False
) -> None:
    """Restart → first signed-in map: without/with the snapshot, or (``baseline``) this checkout against
    another one, both from the snapshot; wall and the server's CPU until the map is drawn.

    ``signed_in``: each checkout's person signs in once before the runs, and every run's reload
    brings that session cookie (a restart keeps people signed in); each run's browser is new, so
    it fetches all of Streamlit's files again. ``same_browser``: the person's browser stays open
    across the restarts and the server comes back on the same address, so the reload finds the
    session cookie and the files it cached before the restart (as a person on the map would)."""
    from bench_serve import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, server
    from playwright.sync_api import sync_playwright

    snapshot = Path(f"{db}.coverage.npz")
    kept = snapshot.with_name(snapshot.name + ".kept")
    modes = ("no snapshot", "snapshot") if baseline is None else ("baseline", "this checkout")
    got: dict[str, dict[str, list[float]]] = {m: {} for m in modes}
    dbs = {m: db for m in modes}
    if baseline is not None:
        # Each checkout on its own copy, primed once in its own code (the cookies' signing key made, as
        # after any first sign-in, and its snapshot taken): a snapshot one checkout writes may not be
        # one the other accepts, and the comparison is of warm restarts.
        dbs["baseline"] = db.with_name("baseline.gpkg")
        shutil.copyfile(db, dbs["baseline"])
        if snapshot.is_file():
            shutil.copyfile(snapshot, f"{dbs['baseline']}.coverage.npz")
        prime = (
            "import sys; from geo.store import open_store, sessions; from geo.live import LiveCoverage; "
            "s = open_store(sys.argv[1]); sessions.session_key(s); live = LiveCoverage(s); live.current(); "
            "print(live.started_from)"
        )
        for mode in modes:
            root = baseline if mode == "baseline" else ROOT
            env = dict(os.environ, PYTHONPATH=str(root))
            out = subprocess.run([sys.executable, "-c", prime, str(dbs[mode])], env=env, cwd=root, check=True,
                                 capture_output=True, text=True)  # fmt: skip
            print(f"primed {mode}: index from {out.stdout.strip()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_live_") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        cookies: dict[str, Any] = dict.fromkeys(modes)
        # same_browser: one browser context and one address per checkout, kept across its restarts.
        ports: dict[str, int | None] = {m: free_port() if same_browser else None for m in modes}
        contexts: dict[str, Any] = {
            m: browser.new_context(viewport={"width": 1400, "height": 1000}) if same_browser else None
            for m in modes
        }
        if signed_in or same_browser:  # cookies are per host, not per port: one sign-in serves later servers
            for mode in modes:
                root = baseline if mode == "baseline" and baseline is not None else ROOT
                with server("serve", str(dbs[mode]), Path(tmp), root=root, port=ports[mode]) as srv:
                    cookies[mode] = first_map(browser, srv.base, ctx=contexts[mode])
        for run in range(runs):
            for mode in modes if run % 2 == 0 else modes[::-1]:
                if mode == "no snapshot" and snapshot.exists():
                    os.replace(snapshot, kept)
                elif mode != "no snapshot" and kept.exists():
                    os.replace(kept, snapshot)
                root = baseline if mode == "baseline" and baseline is not None else ROOT
                load = os.getloadavg()[0]
                # The user signs in as soon as the server answers, while its caches warm.
                with server(
                    "serve", str(dbs[mode]), Path(tmp), wait_warm=False, root=root, port=ports[mode]
                ) as srv:
                    answered = time.perf_counter()
                    first_map(browser, srv.base, cookies[mode], ctx=contexts[mode])
                    map_s = srv.up_s + time.perf_counter() - answered
                    cpu_s = group_cpu(srv.pid)
                    warm_s = warm_logged(max(Path(tmp).glob("serve-*.err"), key=lambda p: p.stat().st_mtime))
                got[mode].setdefault("map", []).append(map_s)
                got[mode].setdefault("cpu", []).append(cpu_s)
                got[mode].setdefault("warm", []).append(warm_s)
                print(
                    f"run {run + 1} {mode:<13} first signed-in map {map_s:5.1f} s, server CPU by then"
                    f" {cpu_s:4.1f} s (warm-up {warm_s:.1f} s; load {load:.1f})",
                    flush=True,
                )
        for ctx in contexts.values():
            if ctx is not None:
                ctx.close()
        browser.close()
    if kept.exists():
        os.replace(kept, snapshot)
    how = (
        "reload in the same browser: session cookie and cached files kept"
        if same_browser
        else "reload with the session cookie, a new browser"
        if signed_in
        else "sign-in as soon as the server answers"
    )
    print(f"\nrestart: process start → first signed-in map drawn ({how}; median of {runs}):")
    for mode in modes:
        m = got[mode]
        print(
            f"  {mode:<13} {statistics.median(m['map']):5.1f} s,"
            f" server CPU {statistics.median(m['cpu']):4.1f} s"
            f"   (warm-up's own figure {statistics.median(m['warm']):5.1f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "bench_serve_full.gpkg")
    parser.add_argument("--writes", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], choices=["writes", "coverage", "restart"])
    parser.add_argument(
        "--baseline",
        type=Path,
        help="restart: another checkout to compare with (both from the snapshot)",
    )
    parser.add_argument(
        "--signed-in",
        action="store_true",
        help="restart: the person was signed in before it (session cookie kept) instead of signing in",
    )
    parser.add_argument(
        "--same-browser",
        action="store_true",
        help="restart: the person's browser stays open across it (cookie and cached files kept) and the"
        " server comes back on the same address",
    )
    args = parser.parse_args()
    if not args.db.exists():
        subprocess.run([sys.executable, "-m", "geo.cli", "demo", "--db", str(args.db), "--quiet"], check=True)
    print(f"{args.db}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench_live_", dir=args.db.parent) as tmp:
        copy = Path(tmp) / "live.gpkg"
        shutil.copyfile(args.db, copy)
        if Path(f"{args.db}.coverage.npz").is_file():  # the district's snapshot, if it has one
            shutil.copyfile(f"{args.db}.coverage.npz", f"{copy}.coverage.npz")
        with open_store(str(copy)) as s:
            assert snapshot_path(s) == Path(f"{copy}.coverage.npz")
        if "writes" not in args.skip:
            bench_writes(copy, args.writes)
        if "coverage" not in args.skip:
            bench_coverage(copy, args.runs)
        if "restart" not in args.skip:
            bench_restart(
                copy, args.runs, args.baseline, signed_in=args.signed_in, same_browser=args.same_browser
            )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
