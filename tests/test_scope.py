"""Scope enforced in the store: no read returns a row outside the caller's scope, on either backend.

Every read that returns households, visits, issues (and their history) or
workers takes a required ``scope``. The checks here are independent of the
store's own SQL: each returned row is placed in its grid from the district's
frames (read once with plain SQL), and the scope's grids are worked out with
pandas from the area layers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import live
from geo import uncovered as unc
from geo.demo import install_demo
from geo.issues import workflow
from geo.roundtrip import export_frame, exportable
from geo.store import LAYERS, TABLES, OutOfScope, Scope, Store, open_store
from geo.store import assessment as checks
from geo.store import issue_log as log
from geo.store import records as rec
from geo.store.imports import ISSUE_REFS, ensure_issue_refs, read_issue_refs

AS_OF = dt.date(2026, 11, 26)
NOW = dt.datetime(2026, 11, 26, 10, 0)
EXTENSIONS = ("issue_events", "spot_checks", "anomaly_reviews", "issue_refs")


# ------------------------------------------------------------------ district


@dataclass(frozen=True)
class Truth:
    """Where every row lives, read with plain SQL (not through the scoped reads)."""

    streets: pd.DataFrame
    committees: pd.DataFrame
    grids: pd.DataFrame  # grid_id, committee_id, street_id
    household_grid: dict[str, str]
    visit_grid: dict[int, str]
    issue_grid: dict[int, str]
    worker_grids: dict[str, set[str]]
    worker_committee: dict[str, str]
    counts: dict[str, int]

    def grids_of(self, scope: Scope) -> set[str]:
        """The grids ``scope`` covers, worked out with pandas."""
        g = self.grids
        if scope.is_everything:
            return set(g["grid_id"])
        keep = (
            g["grid_id"].isin(scope.grids)
            | g["committee_id"].isin(scope.committees)
            | g["street_id"].isin(scope.streets)
        )
        return set(g.loc[keep, "grid_id"])

    def whole_committees(self, scope: Scope) -> set[str]:
        """Committees the scope names, or whose street it names."""
        c = self.committees
        keep = c["committee_id"].isin(scope.committees) | c["street_id"].isin(scope.streets)
        return set(c.loc[keep, "committee_id"])

    def worker_in(self, worker_id: str, scope: Scope, grids: set[str]) -> bool:
        if scope.is_everything:
            return True
        return bool(self.worker_grids.get(worker_id, set()) & grids) or (
            self.worker_committee[worker_id] in self.whole_committees(scope)
        )


def _sql(store: Store, query: str) -> list[tuple]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(query)]


def _add_history(store: Store) -> None:
    """Give every extension table rows in several grids: events, spot checks, reviews, case numbers."""
    grids = [r[0] for r in _sql(store, "SELECT grid_id FROM grids ORDER BY grid_id")]
    for k, g in enumerate(grids[::3]):
        new = workflow.open_issue(
            store, grid_id=g, category="停车难", source="hotline", level="grid", actor="W0001",
            opened_at=NOW - dt.timedelta(hours=k + 1), now=NOW, scope=Scope.everything(),
        )  # fmt: skip
        workflow.transition(
            store,
            new.issue_id,
            "dispatch",
            actor="W0001",
            at=NOW - dt.timedelta(minutes=k),
            scope=Scope.everything(),
        )
    visits = _sql(
        store,
        "SELECT MIN(v.visit_id), b.grid_id FROM visits v "
        "JOIN households h ON h.household_id = v.household_id "
        "JOIN buildings b ON b.building_id = h.building_id GROUP BY b.grid_id ORDER BY b.grid_id",
    )
    for visit_id, grid_id in visits[::2]:
        checks.record_spot_check(
            store, visit_id=int(visit_id), result="confirmed", checked_at=NOW, scope=Scope.everything()
        )
        checks.record_anomaly_review(
            store,
            kind="after_hours",
            decision="dismissed",
            occurred_on=AS_OF,
            visit_id=int(visit_id),
            scope=Scope.everything(),
        )
        checks.record_anomaly_review(
            store,
            kind="over_households",
            decision="confirmed",
            occurred_on=AS_OF,
            grid_id=str(grid_id),
            scope=Scope.everything(),
        )
    issues = [int(r[0]) for r in _sql(store, "SELECT issue_id FROM issues ORDER BY issue_id")]
    with store.transaction() as conn:
        ensure_issue_refs(store, conn)
        for issue_id in issues[::7]:
            conn.execute(
                ISSUE_REFS.insert().values(issue_id=issue_id, source="hotline", ref=f"12345-{issue_id}")
            )


def _truth(store: Store) -> Truth:
    streets = pd.DataFrame(_sql(store, "SELECT street_id FROM streets"), columns=["street_id"])
    committees = pd.DataFrame(
        _sql(store, "SELECT committee_id, street_id FROM committees"), columns=["committee_id", "street_id"]
    )
    grids = pd.DataFrame(
        _sql(store, "SELECT g.grid_id, g.committee_id, c.street_id FROM grids g "
                    "JOIN committees c ON c.committee_id = g.committee_id"),
        columns=["grid_id", "committee_id", "street_id"],
    )  # fmt: skip
    household_grid = dict(
        _sql(store, "SELECT h.household_id, b.grid_id FROM households h "
                    "JOIN buildings b ON b.building_id = h.building_id")
    )  # fmt: skip
    visit_grid = {
        int(v): household_grid[h] for v, h in _sql(store, "SELECT visit_id, household_id FROM visits")
    }
    issue_grid = {int(i): g for i, g in _sql(store, "SELECT issue_id, grid_id FROM issues")}
    worker_grids: dict[str, set[str]] = {}
    for g, w in _sql(store, "SELECT grid_id, worker_id FROM grid_workers"):
        worker_grids.setdefault(w, set()).add(g)
    worker_committee = dict(_sql(store, "SELECT worker_id, committee_id FROM workers"))
    counts = {n: int(_sql(store, f"SELECT COUNT(*) FROM {n}")[0][0]) for n in (*LAYERS, *TABLES, *EXTENSIONS)}
    return Truth(streets, committees, grids, household_grid, visit_grid, issue_grid, worker_grids,
                 worker_committee, counts)  # fmt: skip


@pytest.fixture(scope="module")
def sqlite_district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Truth]]:
    s = open_store(str(tmp_path_factory.mktemp("scope") / "t.gpkg"), create=True)
    install_demo(s, scale="tiny", seed=3, as_of=AS_OF)
    _add_history(s)
    yield s, _truth(s)
    s.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def district(request: pytest.FixtureRequest) -> Iterator[tuple[Store, Truth]]:
    """The tiny demo district with some history, on each backend (PostgreSQL: a scratch database)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_district")
        return
    s = open_store(request.getfixturevalue("pg_url"))
    install_demo(s, scale="tiny", seed=3, as_of=AS_OF)
    _add_history(s)
    yield s, _truth(s)
    s.close()


# ------------------------------------------------------------- every read

Row = Callable[[Truth, pd.Series], set[str]]
"""The grids a returned row belongs to (a worker: its grids; an area: its grids)."""


def _by(column: str, mapping: str) -> Row:
    def grids(t: Truth, row: pd.Series) -> set[str]:
        value = row[column]
        if mapping == "grid":
            return {str(value)}
        table = getattr(t, f"{mapping}_grid")
        return {table[int(value) if mapping in ("visit", "issue") else str(value)]}

    return grids


def _area(level: str) -> Row:
    def grids(t: Truth, row: pd.Series) -> set[str]:
        g = t.grids
        return set(g.loc[g[f"{level}_id"] == row[f"{level}_id"], "grid_id"])

    return grids


def _review(t: Truth, row: pd.Series) -> set[str]:
    if isinstance(row["grid_id"], str):
        return {row["grid_id"]}
    return {t.visit_grid[int(row["visit_id"])]}


WORKER = "worker"
RULES: dict[str, Row | str] = {
    "streets": _area("street"),
    "committees": _area("committee"),
    "grids": _by("grid_id", "grid"),
    "buildings": _by("grid_id", "grid"),
    "households": _by("household_id", "household"),
    "workers": WORKER,
    "grid_workers": _by("grid_id", "grid"),
    "visits": _by("visit_id", "visit"),
    "issues": _by("issue_id", "issue"),
    "issue_events": _by("issue_id", "issue"),
    "spot_checks": _by("household_id", "household"),
    "anomaly_reviews": _review,
    "issue_refs": _by("issue_id", "issue"),
}


def _first_committee(store: Store) -> str:
    return str(_sql(store, "SELECT MIN(committee_id) FROM committees")[0][0])


def scoped_reads(store: Store, scope: Scope) -> dict[str, tuple[str, pd.DataFrame]]:
    """Call every scoped read; return ``label -> (rule, rows)``."""
    out: dict[str, tuple[str, pd.DataFrame]] = {}
    for name in (*LAYERS, *TABLES, "issue_events", "spot_checks", "anomaly_reviews", "issue_refs"):
        out[f"read_table:{name}"] = (name, store.read_table(name, scope=scope))
    for name in LAYERS:
        out[f"read_layer:{name}"] = (name, pd.DataFrame(store.read_layer(name, scope=scope)))
    all_h = [r[0] for r in _sql(store, "SELECT household_id FROM households")]
    all_w = [r[0] for r in _sql(store, "SELECT worker_id FROM workers")]
    hh, ww = rec.known_ids(store, scope=scope, households=all_h, workers=all_w)
    out["known_ids:households"] = ("households", pd.DataFrame({"household_id": sorted(hh)}))
    out["known_ids:workers"] = ("workers", pd.DataFrame({"worker_id": sorted(ww)}))
    issues, events = log.read_issue_data(store, scope=scope)
    out["read_issue_data:issues"] = ("issues", issues)
    out["read_issue_data:events"] = ("issue_events", events)
    for c in sorted({r[0] for r in _sql(store, "SELECT committee_id FROM committees")}):
        out[f"actors_for:{c}"] = ("workers", log.actors_for(store, c, scope=scope))
    out["read_spot_checks"] = ("spot_checks", checks.read_spot_checks(store, scope=scope))
    out["read_anomaly_reviews"] = ("anomaly_reviews", checks.read_anomaly_reviews(store, scope=scope))
    last = checks.last_met_at(store, all_h, scope=scope, until=AS_OF)
    out["last_met_at"] = ("households", pd.DataFrame({"household_id": last.index.astype(str)}))
    out["read_household_contacts"] = ("households", checks.read_household_contacts(store, all_h, scope=scope))
    out["read_issue_refs"] = ("issue_refs", read_issue_refs(store, scope=scope))
    out["households_with_grid"] = ("households", live.households_with_grid(store, scope=scope))
    out["read_met_visits"] = ("visits", live.read_met_visits(store, scope=scope))
    out["read_issue_times"] = ("issues", live.read_issue_times(store, scope=scope))
    index, _ = live.coverage_index_from_store(store, scope=scope)
    out["coverage_index"] = ("households", pd.DataFrame({"household_id": index.household_ids.astype(str)}))
    frames = unc.office_frames_from_store(store, scope=scope, start=dt.date(AS_OF.year, 1, 1))
    for name in ("grids", "households", "buildings", "workers", "grid_workers", "visits", "issues"):
        out[f"office_frames:{name}"] = (name, getattr(frames, name))
    live_office = unc.LiveOffice(store, scope=scope).current(dt.date(AS_OF.year, 1, 1))
    out["live_office:visits"] = ("visits", live_office.visits)
    for name in exportable():
        out[f"export_frame:{name}"] = (name, pd.DataFrame(export_frame(store, name, scope=scope)))
    return out


def assert_inside(store: Store, truth: Truth, scope: Scope) -> dict[str, int]:
    """Assert that no read returns a row outside ``scope``; return the row count of each read."""
    grids = truth.grids_of(scope)
    counts: dict[str, int] = {}
    for label, (rule_name, rows) in scoped_reads(store, scope).items():
        rule = RULES[rule_name]
        for _, row in rows.iterrows():
            if rule == WORKER:
                inside = truth.worker_in(str(row["worker_id"]), scope, grids)
            else:
                assert callable(rule)
                inside = bool(rule(truth, row) & grids)
            assert inside, f"{label} returned a row outside {scope}: {row.to_dict()}"
        counts[label] = len(rows)
    return counts


# ------------------------------------------------------------------- tests


def random_scopes(truth: Truth) -> st.SearchStrategy[Scope]:
    def some(ids: pd.Series) -> st.SearchStrategy[list[str]]:
        return st.lists(st.sampled_from(sorted(set(ids))), max_size=3, unique=True)

    return st.builds(
        lambda s, c, g: Scope.of(streets=s, committees=c, grids=g),
        some(truth.streets["street_id"]),
        some(truth.committees["committee_id"]),
        some(truth.grids["grid_id"]),
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_read_returns_a_row_outside_a_random_scope(
    district: tuple[Store, Truth], data: st.DataObject
) -> None:
    store, truth = district
    scope = data.draw(random_scopes(truth))
    counts = assert_inside(store, truth, scope)
    # And the table reads return every row inside (not merely none outside).
    grids = truth.grids_of(scope)
    expected_households = sum(g in grids for g in truth.household_grid.values())
    assert counts["read_table:households"] == expected_households
    assert counts["read_table:visits"] == sum(g in grids for g in truth.visit_grid.values())
    assert counts["read_issue_data:issues"] == sum(g in grids for g in truth.issue_grid.values())


def test_the_empty_scope_sees_nothing(district: tuple[Store, Truth]) -> None:
    store, truth = district
    counts = assert_inside(store, truth, Scope())
    assert {k: v for k, v in counts.items() if v} == {}


def test_everything_sees_the_whole_district(district: tuple[Store, Truth]) -> None:
    store, truth = district
    counts = assert_inside(store, truth, Scope.everything())
    for name in (*LAYERS, *TABLES, *EXTENSIONS):
        assert counts[f"read_table:{name}"] == truth.counts[name] > 0, name
    assert counts["read_issue_data:issues"] == truth.counts["issues"]
    assert counts["known_ids:households"] == truth.counts["households"]
    assert counts["export_frame:visits"] == truth.counts["visits"]
    assert counts["read_household_contacts"] == truth.counts["households"]


def test_single_record_reads_refuse_a_foreign_record(district: tuple[Store, Truth]) -> None:
    store, truth = district
    g = truth.grids
    mine, other = (
        g["grid_id"].iloc[0],
        g.loc[g["committee_id"] != g["committee_id"].iloc[0], "grid_id"].iloc[0],
    )
    scope = Scope.of(grids=[mine])
    my_hh = next(h for h, gr in truth.household_grid.items() if gr == mine)
    their_hh = next(h for h, gr in truth.household_grid.items() if gr == other)
    my_issue = next(i for i, gr in truth.issue_grid.items() if gr == mine)
    their_issue = next(i for i, gr in truth.issue_grid.items() if gr == other)

    # Inside: the same as under the whole district.
    everything = Scope.everything()
    inside, whole = rec.read_grid(store, mine, scope=scope), rec.read_grid(store, mine, scope=everything)
    for name in ("buildings", "households", "visit_summary", "issues", "workers"):
        pd.testing.assert_frame_equal(getattr(inside, name), getattr(whole, name))
    assert len(inside.households) > 0
    pd.testing.assert_frame_equal(
        rec.read_household_visits(store, my_hh, scope=scope),
        rec.read_household_visits(store, my_hh, scope=everything),
    )
    assert log.read_issue(store, my_issue, scope=scope) == log.read_issue(store, my_issue, scope=everything)
    assert workflow.issue_detail(store, my_issue, scope=scope, now=NOW).row["issue_id"] == my_issue

    # Outside: OutOfScope, naming the record and nothing about it.
    foreign: list[tuple[str, object, Callable[[], object]]] = [
        ("grid", other, lambda: rec.read_grid(store, other, scope=scope)),
        ("household", their_hh, lambda: rec.read_household_visits(store, their_hh, scope=scope)),
        ("issue", their_issue, lambda: log.read_issue(store, their_issue, scope=scope)),
        ("issue", their_issue, lambda: log.read_history(store, their_issue, scope=scope)),
        ("issue", their_issue, lambda: workflow.issue_detail(store, their_issue, scope=scope, now=NOW)),
    ]
    for kind, record_id, read in foreign:
        with pytest.raises(OutOfScope) as err:
            read()
        assert (err.value.kind, err.value.record_id) == (kind, record_id)
        assert str(err.value) == f"no access: {kind} {record_id} is outside your area"
    with pytest.raises(OutOfScope):  # the empty scope sees no record at all
        rec.read_grid(store, mine, scope=Scope())

    # Unknown ids keep their not-found answer, whatever the scope.
    assert rec.read_grid(store, "G9999", scope=scope).households.empty
    assert rec.read_household_visits(store, "H9999999", scope=scope).empty
    with pytest.raises(LookupError):
        log.read_issue(store, 10**9, scope=scope)


def test_a_restricted_caller_cannot_record_a_visit_in_a_foreign_grid(
    sqlite_district: tuple[Store, Truth],
) -> None:
    from geo.visits import VisitDraft, VisitInvalid, submit_visit

    store, truth = sqlite_district
    g = truth.grids
    mine, other = g["grid_id"].iloc[0], g["grid_id"].iloc[-1]
    their_hh = next(h for h, gr in truth.household_grid.items() if gr == other)
    worker = next(w for w, gs in truth.worker_grids.items() if other in gs)
    before = _sql(store, "SELECT COUNT(*) FROM visits")[0][0]
    draft = VisitDraft(their_hh, worker, NOW.replace(hour=9), "met", "door", "")
    with pytest.raises(VisitInvalid) as err:
        submit_visit(store, draft, scope=Scope.of(grids=[mine]), now=NOW)
    assert {p.code for p in err.value.problems} == {"household_unknown", "worker_unknown"}
    assert _sql(store, "SELECT COUNT(*) FROM visits")[0][0] == before


def test_every_scoped_read_requires_a_scope() -> None:
    """No scoped read has a default scope: forgetting it is a TypeError, not a silent whole district."""
    import inspect

    reads = [
        Store.read_table, Store.read_layer, rec.read_grid, rec.read_household_visits, rec.known_ids,
        log.read_issue, log.read_history, workflow.issue_detail, log.read_issue_data, log.actors_for,
        checks.read_spot_checks, checks.read_anomaly_reviews, checks.last_met_at,
        checks.read_household_contacts, read_issue_refs, live.households_with_grid, live.read_met_visits,
        live.read_issue_times, live.coverage_index_from_store, unc.office_frames_from_store, unc.LiveOffice,
        export_frame,
    ]  # fmt: skip
    for read in reads:
        p = inspect.signature(read).parameters["scope"]
        assert p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is inspect.Parameter.empty, read


def test_ui_caches_keep_one_entry_per_scope() -> None:
    """The app's cached reads take the scope as an argument, and Streamlit keys on its contents."""
    import inspect

    import streamlit as st

    from ui import grid_data, office_data

    for cached in (
        grid_data._records, grid_data._household_visits, grid_data._footprints, office_data.live_office,
        office_data._weekly, office_data._not_met_list, office_data._assessment,
    ):  # fmt: skip
        assert inspect.signature(cached).parameters["scope"].annotation in (Scope, "Scope"), cached

    calls: list[Scope] = []

    @st.cache_data(show_spinner=False)
    def read(scope: Scope) -> int:
        calls.append(scope)
        return len(calls)

    one, other = Scope.of(grids=["G0001"]), Scope.of(grids=["G0002"])
    assert [read(one), read(other), read(Scope.of(grids=["G0001"])), read(Scope())] == [1, 2, 1, 3]
    read.clear()


# ------------------------------------------------------------- every write


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Truth]]:
    """A tiny demo district of its own (the writes change it), on each backend."""
    if request.param == "sqlite":
        s = open_store(str(tmp_path / "w.gpkg"), create=True)
    else:
        s = open_store(request.getfixturevalue("pg_url"))
    install_demo(s, scale="tiny", seed=3, as_of=AS_OF)
    yield s, _truth(s)
    s.close()


WRITTEN = ("issues", "issue_events", "spot_checks", "anomaly_reviews")


def _snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every row of the tables the writes touch (those that exist yet), and the change counters."""
    import sqlalchemy as sa

    have = set(sa.inspect(store.engine).get_table_names())
    out = {n: sorted(map(tuple, _sql(store, f"SELECT * FROM {n}")), key=repr) for n in WRITTEN if n in have}
    out["versions"] = [store.versions()]
    return out


def test_writes_refuse_a_foreign_record_and_write_nothing(fresh: tuple[Store, Truth]) -> None:
    store, truth = fresh
    g = truth.grids
    mine, other = str(g["grid_id"].iloc[0]), str(g["grid_id"].iloc[-1])
    leader = Scope.of(grids=[mine])
    everything = Scope.everything()
    their_issue = workflow.open_issue(
        store, grid_id=other, category="停车难", source="hotline", actor="W0001", now=NOW, scope=everything
    ).issue_id
    their_hh = next(h for h, gr in truth.household_grid.items() if gr == other)
    their_visit = next(v for v, gr in truth.visit_grid.items() if gr == other)
    my_visit = next(v for v, gr in truth.visit_grid.items() if gr == mine)
    their_worker = next(w for w in truth.worker_committee if not truth.worker_in(w, leader, {mine}))
    ok = workflow.NewIssue(category="停车难", source="visit", grid_id=mine)
    my_street = str(g.loc[g["grid_id"] == mine, "street_id"].iloc[0])
    office = Scope.of(streets=[my_street])
    elsewhere = Scope.of(streets=["S99"])
    if truth.worker_in(their_worker, office, truth.grids_of(office)):
        their_worker = next(
            w for w in truth.worker_committee if not truth.worker_in(w, office, truth.grids_of(office))
        )
    foreign: dict[str, Callable[[], object]] = {
        "open_issue grid": lambda: workflow.open_issue(
            store, grid_id=other, category="停车难", source="visit", actor="W0001", now=NOW, scope=leader
        ),
        "open_issue household": lambda: workflow.open_issue(
            store, household_id=their_hh, category="停车难", source="visit", actor="W0001", now=NOW,
            scope=leader,
        ),
        "open_issues, one of two foreign": lambda: workflow.open_issues(
            store, [ok, workflow.NewIssue(category="停车难", source="visit", grid_id=other)], actor="W0001",
            now=NOW, scope=leader,
        ),
        "transition": lambda: workflow.transition(
            store, their_issue, "dispatch", actor="W0001", at=NOW, scope=leader
        ),
        # Spot checks and reviews are a street office's: one whose street holds none of these.
        "spot check": lambda: checks.record_spot_check(
            store, visit_id=their_visit, result="failed", checked_at=NOW, scope=elsewhere
        ),
        "review of a visit": lambda: checks.record_anomaly_review(
            store, kind="after_hours", decision="confirmed", occurred_on=AS_OF, visit_id=their_visit,
            scope=elsewhere,
        ),
        "review of a grid": lambda: checks.record_anomaly_review(
            store, kind="over_households", decision="confirmed", occurred_on=AS_OF, grid_id=other,
            scope=elsewhere,
        ),
        "review naming a foreign worker": lambda: checks.record_anomaly_review(
            store, kind="burst", decision="confirmed", occurred_on=AS_OF, grid_id=mine,
            worker_id=their_worker, scope=office,
        ),
    }  # fmt: skip
    for what, write in foreign.items():
        before = _snapshot(store)
        with pytest.raises(OutOfScope, match=r"^no access: "):
            write()
        assert _snapshot(store) == before, what

    # The same writes inside the scope work.
    opened = workflow.open_issues(store, [ok], actor="W0001", now=NOW, scope=leader)[0]
    assert opened.created and truth.issue_grid.get(opened.issue_id) is None
    moved = workflow.transition(store, opened.issue_id, "dispatch", actor="W0001", at=NOW, scope=leader)
    assert moved.state.status == "dispatched"
    assert log.read_issue(store, opened.issue_id, scope=leader)["grid_id"] == mine
    cid = checks.record_spot_check(store, visit_id=my_visit, result="confirmed", checked_at=NOW, scope=office)
    rid = checks.record_anomaly_review(
        store, kind="after_hours", decision="dismissed", occurred_on=AS_OF, visit_id=my_visit, scope=office
    )
    assert checks.read_spot_checks(store, scope=leader)["check_id"].tolist() == [cid]
    assert checks.read_anomaly_reviews(store, scope=leader)["review_id"].tolist() == [rid]
    # An unknown id is still "not found", not "no access".
    with pytest.raises(LookupError):
        workflow.transition(store, 10**9, "dispatch", actor="W0001", at=NOW, scope=leader)
    with pytest.raises(ValueError, match="no visit"):
        checks.record_spot_check(store, visit_id=10**9, result="failed", scope=office)


def test_spot_checks_and_reviews_are_the_street_offices(fresh: tuple[Store, Truth]) -> None:
    """A grid leader or a committee sees the weekly check's results but cannot record them (issue 19).

    Before, a grid leader could record "confirmed" over the office's "failed" on their
    own grid and so erase their own deduction.
    """
    store, truth = fresh
    g = truth.grids
    mine = str(g["grid_id"].iloc[0])
    my_visit = next(v for v, gr in truth.visit_grid.items() if gr == mine)
    committee = str(g.loc[g["grid_id"] == mine, "committee_id"].iloc[0])
    street = str(g.loc[g["grid_id"] == mine, "street_id"].iloc[0])
    failed = checks.record_spot_check(
        store, visit_id=my_visit, result="failed", checked_at=NOW, scope=Scope.of(streets=[street])
    )
    for scope in (Scope.of(grids=[mine]), Scope.of(committees=[committee])):
        before = _snapshot(store)
        with pytest.raises(checks.NotSupervisor, match="street office"):
            checks.record_spot_check(
                store, visit_id=my_visit, result="confirmed", checked_at=NOW, scope=scope
            )
        with pytest.raises(checks.NotSupervisor, match="street office"):
            checks.record_anomaly_review(
                store, kind="after_hours", decision="dismissed", occurred_on=AS_OF, visit_id=my_visit,
                scope=scope,
            )  # fmt: skip
        assert _snapshot(store) == before
        # They still see the result recorded on their grid.
        assert checks.read_spot_checks(store, scope=scope)["check_id"].tolist() == [failed]
    # A later record by the office keeps the earlier one: the history is append-only.
    again = checks.record_spot_check(
        store, visit_id=my_visit, result="confirmed", checked_at=NOW, scope=Scope.everything()
    )
    assert checks.read_spot_checks(store, scope=Scope.everything())["check_id"].tolist() == [failed, again]


def test_every_scoped_write_requires_a_scope() -> None:
    """The writes have no default scope either."""
    import inspect

    writes = [workflow.open_issue, workflow.open_issues, workflow.transition, checks.record_spot_check,
              checks.record_anomaly_review]  # fmt: skip
    for write in writes:
        p = inspect.signature(write).parameters["scope"]
        assert p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is inspect.Parameter.empty, write
