"""The live coverage index takes in writes in proportion to the change, and equals a full rebuild.

After random sequences of writes through the app's own write paths (visits,
some recorded late and some opening an issue; issue actions; the escalation
clock), with reruns in between, the index that :class:`geo.live.LiveCoverage`
keeps, and one started from its snapshot, give exactly the figures of an index
rebuilt from the store: at every level, for several periods, and the raw
counts per grid. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from frames import coverage_inputs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import geo.coverage
from geo.coverage import LEVELS, CoverageIndex
from geo.issues import ACTIONS, TransitionRefused
from geo.live import LiveCoverage, coverage_index_from_store, snapshot_path
from geo.store import Scope, Store, open_store
from geo.store.issue_log import escalate_all, transition
from geo.store.records import NewIssue, NewVisit, record_visit
from geo.synth import build_district

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
        record_visit(store, visit, issue=NewIssue("加装电梯") if opens else None)
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


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=writes)
def test_live_index_equals_a_rebuild_after_writes_sqlite(
    seq: list[tuple[object, ...]], tiny: dict[str, pd.DataFrame], template: Path, tmp_path: Path,
    small_merges: None,
) -> None:  # fmt: skip
    path = tmp_path / f"d{abs(hash(tuple(map(str, seq))))}.gpkg"
    shutil.copyfile(template, path)
    with open_store(str(path)) as store:
        check_writes(store, tiny, seq)
    path.unlink()
    snapshot = Path(f"{path}.coverage.npz")
    assert snapshot.is_file()
    snapshot.unlink()


@pytest.mark.postgres
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=writes)
def test_live_index_equals_a_rebuild_after_writes_postgres(
    seq: list[tuple[object, ...]], tiny: dict[str, pd.DataFrame], pg_url: str, small_merges: None
) -> None:
    with open_store(pg_url, create=True) as store:
        store.replace_all(tiny)
        check_writes(store, tiny, seq)


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
