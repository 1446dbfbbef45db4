"""The live coverage index and the office's live frames take in writes in proportion to the change,
and equal a full rebuild.

After random sequences of writes through the app's own write paths (visits,
some recorded late and some opening an issue; issue actions; the escalation
clock), with reruns in between, the index that :class:`geo.live.LiveCoverage`
keeps, and one started from its snapshot, give exactly the figures of an index
rebuilt from the store: at every level, for several periods, and the raw
counts per grid; the office's frames (:class:`geo.live_office.LiveOffice`, the
whole district and one committee) hold the same rows and arrays as frames read
afresh, and give the same weekly check. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from frames import coverage_inputs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import geo.coverage
import geo.office.frames
from geo.coverage import LEVELS, CoverageIndex
from geo.issues import ACTIONS, NewIssue, TransitionRefused
from geo.issues.workflow import escalate_all, transition, visit_issue_opener
from geo.live import LiveCoverage, coverage_index_from_store, snapshot_path
from geo.live_office import LiveOffice, office_frames_from_store
from geo.office.frames import VISIT_KEYS, OfficeFrames, visit_names
from geo.office.weekly import weekly_check
from geo.settings import Settings
from geo.store import Scope, Store, open_store, records, sessions
from geo.store.records import NewVisit
from geo.synth import build_district
from geo.visits import record_visit

AS_OF = dt.date(2024, 6, 30)
NOW = dt.datetime(2024, 6, 30, 18, 0)
PERIODS = (
    (dt.date(2024, 6, 30), dt.date(2024, 6, 30)),
    (dt.date(2024, 6, 1), dt.date(2024, 6, 30)),
    (dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
)
EVERYTHING = Scope.everything()


@pytest.fixture(scope="module")
def tiny() -> dict[str, pd.DataFrame]:
    """The tiny synthetic district (12 grids): built once, never mutated."""
    return build_district(scale="tiny", seed=7, as_of=AS_OF)


@pytest.fixture(scope="module")
def template(tiny: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file holding the tiny district, copied for every example."""
    path = tmp_path_factory.mktemp("live") / "template.gpkg"
    with open_store(str(path), create=True) as s:
        s.replace_all(tiny)
        s.checkpoint()
    return path


@pytest.fixture
def small_merges(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Merge the side array of new visits after 3 of them, so the examples take that path too."""
    monkeypatch.setattr(geo.coverage, "MERGE_AT", 3)
    yield


def assert_same_figures(got: CoverageIndex, expected: CoverageIndex) -> None:
    """Every figure the screens read: coverage at each level, counts per grid, who was met."""
    assert got.n_visits == expected.n_visits
    assert got.n_issues == expected.n_issues
    for start, end in PERIODS:
        for level in LEVELS:
            assert_frame_equal(
                got.coverage(start, end, level=level, now=NOW),
                expected.coverage(start, end, level=level, now=NOW),
            )
        assert_frame_equal(got.counts_by_grid(start, end), expected.counts_by_grid(start, end))
        np.testing.assert_array_equal(got.met_mask(start, end), expected.met_mask(start, end))


# One write: ("visit", household, minutes before NOW, met?, opens an issue?), ("move", issue, action,
# minutes before NOW), ("escalate",), or ("rerun",): the app reads the live index in between.
writes = st.lists(
    st.one_of(
        st.tuples(
            st.just("visit"),
            st.integers(0, 10_000),
            st.integers(0, 40 * 24 * 60),
            st.booleans(),
            st.booleans(),
        ),
        st.tuples(st.just("move"), st.integers(0, 10_000), st.sampled_from(ACTIONS), st.integers(0, 600)),
        st.just(("escalate",)),
        st.just(("rerun",)),
    ),
    min_size=1,
    max_size=14,
)


def apply(store: Store, write: tuple[object, ...], households: pd.DataFrame, worker: str) -> None:
    """Make one write through the app's own write paths (a refused issue action writes nothing)."""
    kind = write[0]
    if kind == "visit":
        _, pick, minutes, met, opens = write
        h = households.iloc[int(pick) % len(households)]
        at = NOW - dt.timedelta(minutes=int(minutes))  # many earlier than visits already held: late records
        visit = NewVisit(h["household_id"], worker, at, "met" if met else "not_home")
        record_visit(store, visit, issue=NewIssue("加装电梯") if opens else None, scope=EVERYTHING)
    elif kind == "move":
        _, pick, action, minutes = write
        ids = store.read_table("issues", scope=EVERYTHING, columns=["issue_id"])["issue_id"]
        issue_id = int(ids.iloc[int(pick) % len(ids)])
        with contextlib.suppress(TransitionRefused):
            at = NOW - dt.timedelta(minutes=int(minutes))
            transition(store, issue_id, str(action), actor=worker, at=at, scope=EVERYTHING)
    elif kind == "escalate":
        escalate_all(store, now=NOW)


def check_writes(store: Store, tiny: dict[str, pd.DataFrame], seq: list[tuple[object, ...]]) -> None:
    hh = coverage_inputs(tiny)[0]
    worker = str(tiny["workers"]["worker_id"].iloc[0])
    live = LiveCoverage(store)
    first = live.current()
    assert live.started_from == "build"
    for write in seq:
        if write[0] == "rerun":
            assert live.current() is first  # taken in, never rebuilt
        else:
            apply(store, write, hh, worker)
    rebuilt, _ = coverage_index_from_store(store, scope=EVERYTHING)
    assert live.current() is first
    assert_same_figures(first, rebuilt)
    # A restart: from the snapshot taken at the first build, caught up with every write since.
    restarted = LiveCoverage(store)
    assert_same_figures(restarted.current(), rebuilt)
    assert restarted.started_from == ("snapshot" if restarted.snapshot is not None else "build")


# ------------------------------------------------------------------ the office's live frames

OFFICE_START = dt.date(2024, 1, 1)


@pytest.fixture
def small_office_steps(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Join waiting visit rows after 2 and re-sort after 2 late visits, so the examples take those paths."""
    monkeypatch.setattr(geo.office.frames, "MERGE_AT", 2)
    monkeypatch.setattr(geo.office.frames, "_SORTED_INSERT_MAX", 2)
    yield


def assert_same_office(got: OfficeFrames, expected: OfficeFrames) -> None:
    """The frames, every array the office screens read, and the weekly check itself."""
    assert_frame_equal(got.visits, expected.visits)
    assert_frame_equal(got.issues, expected.issues)
    week = weekly_check(expected, week_ending=AS_OF)  # fills the expected first-met answers too
    done = weekly_check(got, week_ending=AS_OF)
    for part in ("grids", "workers", "anomalies", "spot_checks"):
        assert_frame_equal(getattr(done, part), getattr(week, part))
    a, b = got.arrays(), expected.arrays()
    everywhere = np.arange(len(b["v_t"]))
    for key in (*VISIT_KEYS, "i_id", "i_g", "i_open", "i_close", "i_overdue_from", "i_worker_level"):
        if key not in ("v_worker", "v_channel"):
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    for x, y in zip(visit_names(a, everywhere), visit_names(b, everywhere), strict=True):
        np.testing.assert_array_equal(x, y)
    for key in (k for k in b if k.startswith("first_met_")):
        np.testing.assert_array_equal(a[key][0], b[key][0], err_msg=key)
        np.testing.assert_array_equal(a[key][1], b[key][1], err_msg=key)


def check_office_writes(store: Store, tiny: dict[str, pd.DataFrame], seq: list[tuple[object, ...]]) -> None:
    hh = coverage_inputs(tiny)[0]
    worker = str(tiny["workers"]["worker_id"].iloc[0])
    committee = str(tiny["committees"]["committee_id"].iloc[0])
    lives = [LiveOffice(store, scope=EVERYTHING), LiveOffice(store, scope=Scope.of(committees=[committee]))]
    for live in lives:
        weekly_check(live.current(OFFICE_START), week_ending=AS_OF)  # first-met answers, carried forward
    for write in seq:
        if write[0] == "rerun":
            for live in lives:
                weekly_check(live.current(OFFICE_START), week_ending=AS_OF)
        else:
            apply(store, write, hh, worker)
    for live in lives:
        got = live.current(OFFICE_START)
        assert_same_office(got, office_frames_from_store(store, scope=live.scope, start=OFFICE_START))
        assert live.current(OFFICE_START) is got


CHECKS = {"index": check_writes, "office": check_office_writes}
"""What each live structure is checked by after writes: the coverage index, the office's frames."""


@pytest.mark.parametrize("live", ["index", "office"])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=writes)
def test_live_structures_equal_a_rebuild_after_writes_sqlite(
    live: str, seq: list[tuple[object, ...]], tiny: dict[str, pd.DataFrame], template: Path, tmp_path: Path,
    small_merges: None, small_office_steps: None,
) -> None:  # fmt: skip
    path = tmp_path / f"d{abs(hash(tuple(map(str, seq))))}.gpkg"
    shutil.copyfile(template, path)
    with open_store(str(path)) as store:
        CHECKS[live](store, tiny, seq)
    path.unlink()
    snapshot = Path(f"{path}.coverage.npz")
    assert snapshot.is_file() == (live == "index")
    snapshot.unlink(missing_ok=True)


@pytest.mark.postgres
@pytest.mark.parametrize("live", ["index", "office"])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=writes)
def test_live_structures_equal_a_rebuild_after_writes_postgres(
    live: str, seq: list[tuple[object, ...]], tiny: dict[str, pd.DataFrame], pg_url: str,
    small_merges: None, small_office_steps: None,
) -> None:  # fmt: skip
    with open_store(pg_url, create=True) as store:
        store.replace_all(tiny)
        CHECKS[live](store, tiny, seq)


def test_snapshot_of_other_data_is_not_used(
    tiny: dict[str, pd.DataFrame], template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "d.gpkg"
    shutil.copyfile(template, path)
    with open_store(str(path)) as store:
        assert snapshot_path(store) == tmp_path / "d.gpkg.coverage.npz"
        LiveCoverage(store).current()
        assert LiveCoverage(store).current() is not None
        seed8 = build_district(scale="tiny", seed=8, as_of=AS_OF)
        store.replace_all(seed8)  # another district: a new reset version
        live = LiveCoverage(store)
        assert_same_figures(live.current(), coverage_index_from_store(store, scope=EVERYTHING)[0])
        assert live.started_from == "build"
        # A snapshot that is not one (a half-written file, another format) is set aside, never trusted.
        snapshot_path(store).write_bytes(b"not a snapshot")  # type: ignore[union-attr]
        live = LiveCoverage(store)
        assert_same_figures(live.current(), coverage_index_from_store(store, scope=EVERYTHING)[0])
        assert live.started_from == "build"


@settings(max_examples=60, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 10_000), min_size=1, max_size=6),
    merge_at=st.integers(1, 50),
    moved=st.lists(st.integers(0, 10_000), max_size=8),
)
def test_visits_and_issues_taken_in_piecewise_equal_one_build(
    tiny: dict[str, pd.DataFrame], cuts: list[int], merge_at: int, moved: list[int]
) -> None:
    hh, visits, issues, areas = coverage_inputs(tiny)
    issues = issues.assign(issue_id=np.arange(1, len(issues) + 1))
    whole = CoverageIndex(hh, visits, issues, areas)
    # The same visits in batches in no particular time order, issues first in an older state.
    shuffled = visits.sample(frac=1.0, random_state=len(cuts))
    bounds = sorted({0, len(shuffled), *(c % (len(shuffled) + 1) for c in cuts)})
    old = issues.copy()
    picked = sorted({m % len(issues) for m in moved})
    old.loc[old.index[picked], "closed_at"] = pd.NaT
    old.loc[old.index[picked], "level"] = "grid"
    first_half = old.iloc[: len(old) // 2]
    original = geo.coverage.MERGE_AT
    geo.coverage.MERGE_AT = merge_at
    try:
        piecewise = CoverageIndex(hh, shuffled.iloc[: bounds[1]], first_half, areas)
        for a, b in itertools.pairwise(bounds[1:]):
            piecewise.add_visits(shuffled.iloc[a:b])
        piecewise.update_issues(old.iloc[len(old) // 2 :])
        piecewise.update_issues(issues.iloc[picked])
    finally:
        geo.coverage.MERGE_AT = original
    assert_same_figures(piecewise, whole)
    assert_same_figures(CoverageIndex.from_state(piecewise.state(), areas), whole)


def test_a_snapshots_index_makes_its_household_ids_only_when_asked(
    tiny: dict[str, pd.DataFrame],
) -> None:
    """A restart's first map counts per area without the half-million household ids made an index (0.2 s);
    a visit taken in later, or another snapshot, still finds every household."""
    hh, visits, issues, areas = coverage_inputs(tiny)
    whole = CoverageIndex(hh, visits, issues, areas)
    early, late = visits.iloc[: len(visits) // 2], visits.iloc[len(visits) // 2 :]
    restored = CoverageIndex.from_state(CoverageIndex(hh, early, issues, areas).state(), areas)
    restored.counts_by_grid(dt.date(2000, 1, 1), dt.date(2100, 1, 1))
    restored.met_mask(dt.date(2000, 1, 1), dt.date(2100, 1, 1))
    assert restored._household_ids is None
    again = CoverageIndex.from_state(restored.state(), areas)  # a snapshot of a snapshot, still not made
    assert restored._household_ids is None
    assert list(again.household_ids) == list(whole.household_ids)
    restored.add_visits(late)  # looks the visits' households up: the ids are made now
    assert restored._household_ids is not None
    assert_same_figures(restored, whole)
    bad = {**whole.state(), "household_ids": whole.state()["household_ids"][:-1]}
    with pytest.raises(ValueError, match="in number"):
        CoverageIndex.from_state(bad, areas)


def test_live_office_reads_only_what_changed_and_grows_in_place(
    tiny: dict[str, pd.DataFrame], template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "o.gpkg"
    shutil.copyfile(template, path)
    with open_store(str(path)) as store:
        live = LiveOffice(store, scope=EVERYTHING)
        before = live.current(OFFICE_START)
        weekly_check(before, week_ending=AS_OF)
        rows: list[tuple[str, int]] = []
        read_table = Store.read_table

        def counted(self: Store, name: str, **kw: object) -> pd.DataFrame:
            out = read_table(self, name, **kw)  # type: ignore[arg-type]
            rows.append((name, len(out)))
            return out

        monkeypatch.setattr(Store, "read_table", counted)
        household = str(tiny["households"]["household_id"].iloc[0])
        worker = str(tiny["workers"]["worker_id"].iloc[0])
        # Later than every visit held, opening an issue: one visit and one issue to take in.
        record_visit(
            store,
            NewVisit(household, worker, NOW + dt.timedelta(hours=1), "met"),
            issue=NewIssue("加装电梯"),
            scope=EVERYTHING,
        )
        after = live.current(OFFICE_START)
        assert sorted(rows) == [("issues", 1), ("visits", 1)]
        # The visit arrays grew in place: the earlier frames' arrays are a prefix of the same memory.
        a, b = before.arrays(), after.arrays()
        assert len(b["v_t"]) == len(a["v_t"]) + 1
        assert all(np.shares_memory(a[k], b[k]) for k in VISIT_KEYS)
        np.testing.assert_array_equal(b["v_t"][:-1], a["v_t"])  # unchanged for whoever still holds them
        monkeypatch.undo()
        assert_same_office(after, office_frames_from_store(store, scope=EVERYTHING, start=OFFICE_START))


# ------------------------------------------------------------------ writers that commit out of id order


def _wait_blocked_or_done(store: Store, thread: threading.Thread, timeout: float = 20.0) -> None:
    """Wait until ``thread`` has finished or waits on a lock in the database (PostgreSQL)."""
    end = time.monotonic() + timeout
    query = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while thread.is_alive() and time.monotonic() < end:
        with store.engine.connect() as conn:
            if conn.exec_driver_sql(query).scalar():
                return
        time.sleep(0.02)
    assert not thread.is_alive() or time.monotonic() < end, "the second writer neither finished nor waited"


@pytest.mark.postgres
@pytest.mark.parametrize("live", ["index", "office"])
@pytest.mark.parametrize("second", ["one statement", "with an issue"])
def test_a_lower_id_committed_after_a_higher_one_is_not_missed_postgres(
    live: str, second: str, tiny: dict[str, pd.DataFrame], pg_url: str
) -> None:
    """Writer A draws a visit, an issue and an event id, and waits before committing; writer B then writes
    (the app's one-statement path, or a visit opening an issue) while the live structure is read. Ids come
    from sequences: unless writers queue, B's higher ids commit first and are taken in, and A's lower ones,
    committed after, are never read. Whatever the order, after both the live structure equals a rebuild."""
    with open_store(pg_url, create=True) as store:
        store.replace_all(tiny)
        hh = coverage_inputs(tiny)[0]
        worker = str(tiny["workers"]["worker_id"].iloc[0])
        a_house, b_house = (str(h) for h in hh["household_id"].iloc[[0, 1]])
        index = LiveCoverage(store) if live == "index" else None
        office = LiveOffice(store, scope=EVERYTHING) if live == "office" else None

        def read() -> object:
            if index is not None:
                return index.current()
            assert office is not None
            got = office.current(OFFICE_START)
            weekly_check(got, week_ending=AS_OF)
            return got

        read()
        drawn, go = threading.Event(), threading.Event()
        real = records.record_visit
        visit_a = NewVisit(a_house, worker, NOW + dt.timedelta(hours=1), "met")
        opener = visit_issue_opener(store, visit_a, NewIssue("加装电梯"), scope=EVERYTHING)

        def paused_opener(conn: object) -> int:
            issue_id = opener(conn)  # type: ignore[arg-type]
            drawn.set()
            assert go.wait(30)
            return issue_id

        errors: list[BaseException] = []

        def run(fn: Callable[[], object]) -> threading.Thread:
            def target() -> None:
                try:
                    fn()
                except BaseException as exc:  # reported by the test below
                    errors.append(exc)
                    drawn.set()

            t = threading.Thread(target=target)
            t.start()
            return t

        a = run(lambda: real(store, visit_a, open_issue=paused_opener))
        assert drawn.wait(30) and not errors
        visit_b = NewVisit(b_house, worker, NOW + dt.timedelta(hours=2), "met")
        issue_b = NewIssue("加装电梯") if second == "with an issue" else None
        b = run(lambda: record_visit(store, visit_b, issue=issue_b, scope=EVERYTHING))
        _wait_blocked_or_done(store, b)
        read()  # B's rows, if B could commit before A, are taken in here
        go.set()
        a.join(30)
        b.join(30)
        assert not errors
        got = read()
        if index is not None:
            assert_same_figures(index.current(), coverage_index_from_store(store, scope=EVERYTHING)[0])
        else:
            assert isinstance(got, OfficeFrames)
            assert_same_office(got, office_frames_from_store(store, scope=EVERYTHING, start=OFFICE_START))


def test_versions_move_in_the_write_and_are_read_committed_sqlite(template: Path, tmp_path: Path) -> None:
    """The change counter moves with the write's first statement and rolls back with it."""
    path = tmp_path / "v.gpkg"
    shutil.copyfile(template, path)
    with open_store(str(path)) as store:
        before = store.versions()
        with contextlib.suppress(RuntimeError), store.transaction():
            raise RuntimeError
        assert store.versions() == before
        with store.transaction():
            pass
        assert store.versions() == (before[0] + 1, before[1])


@pytest.mark.postgres
def test_a_database_counted_by_sequences_goes_on_from_them_postgres(
    tiny: dict[str, pd.DataFrame], pg_url: str
) -> None:
    """A database made when the counters were two sequences gets its counter row from their values."""
    with open_store(pg_url, create=True) as store:
        store.replace_all(tiny)
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM sibai_version")
            conn.exec_driver_sql("SELECT setval('sibai_data_version', 41), setval('sibai_reset_version', 6)")
        assert store.versions() == (42, 7)
        h = str(tiny["households"]["household_id"].iloc[0])
        worker = str(tiny["workers"]["worker_id"].iloc[0])
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM sibai_version")
        recorded = record_visit(store, NewVisit(h, worker, NOW, "met"), scope=EVERYTHING)  # one statement
        assert recorded.created
        assert store.versions() == (43, 7)


def test_the_first_sign_in_keeps_the_snapshot_and_its_key_stays_out(template: Path, tmp_path: Path) -> None:
    """The cookies' signing key, written to ``sibai_meta`` on the first sign-in, neither makes the snapshot
    stale (a cold restart after every deployment's first sign-in) nor is copied into it."""
    path = tmp_path / "k.gpkg"
    shutil.copyfile(template, path)
    with open_store(str(path)) as store:
        LiveCoverage(store).current()
        key = sessions.session_key(store)
        live = LiveCoverage(store)
        live.current()
        assert live.started_from == "snapshot"
        assert key.encode() not in snapshot_path(store).read_bytes()  # type: ignore[union-attr]


@pytest.mark.postgres
def test_a_replica_restarts_from_a_snapshot_in_the_cache_folder_postgres(
    tiny: dict[str, pd.DataFrame], pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the snapshot goes to the ``cache_dir`` setting, named by the database; a restart (another
    replica) starts from it and catches up with the writes since; replaced data or another database is not
    answered from it."""
    cache = tmp_path / "cache"
    with Store(pg_url, create=True, settings=Settings(db=pg_url, cache_dir=str(cache))) as store:
        store.replace_all(tiny)
        with Store(pg_url, settings=Settings(db=pg_url)) as bare:
            assert snapshot_path(bare) is None  # no folder: none
        path = snapshot_path(store)
        assert path is not None and path.parent == cache
        first = LiveCoverage(store)
        first.current()
        assert first.started_from == "build" and path.is_file()
        hh = coverage_inputs(tiny)[0]
        worker = str(tiny["workers"]["worker_id"].iloc[0])
        for write in [("visit", 3, 60, True, True), ("visit", 5, 9_000, True, False), ("escalate",)]:
            apply(store, write, hh, worker)
        replica = LiveCoverage(store)
        assert_same_figures(replica.current(), coverage_index_from_store(store, scope=EVERYTHING)[0])
        assert replica.started_from == "snapshot"
        store.replace_all(build_district(scale="tiny", seed=8, as_of=AS_OF))  # a new reset version
        after = LiveCoverage(store)
        assert_same_figures(after.current(), coverage_index_from_store(store, scope=EVERYTHING)[0])
        assert after.started_from == "build"
        # A snapshot taken of another database (its file put here by hand) is not used.
        LiveCoverage(store).current()  # the snapshot of the data now held
        monkeypatch.setattr(Store, "database_key", lambda self: "another")
        elsewhere = LiveCoverage(store, snapshot=path)
        elsewhere.current()
        assert elsewhere.started_from == "build"
