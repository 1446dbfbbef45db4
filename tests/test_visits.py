"""Recording visits: validation messages, idempotency keys, transactions, concurrency, the access log."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.demo import install_demo
from geo.issues import IssueInvalid, NewIssue, workflow
from geo.store import OUTCOMES, Scope, Store, StoreError, open_store
from geo.store.issue_log import read_history
from geo.store.records import (
    IdempotencyConflict,
    NewVisit,
    UnknownRecord,
    add_visit,
    log_access,
    read_audit,
    record_visit,
)
from geo.visits import (
    IssueDraft,
    VisitDraft,
    VisitInvalid,
    default_visit_time,
    form_key,
    parse_visit_time,
    run_visit_add,
    submit_visit,
    validate_issue,
    validate_visit,
)
from geo.visits import record_visit as record_visit_with_issue

AS_OF = dt.date(2024, 6, 28)  # a Friday
NOW = dt.datetime(2024, 6, 28, 16, 0)
H, W = "H0000002", "W0001"  # an occupied household of grid G0001 and its leader


def codes(problems) -> list[str]:
    return [p.code for p in problems]


def draft(**kw) -> VisitDraft:
    base = {
        "household_id": H,
        "worker_id": W,
        "visited_at": dt.datetime(2024, 6, 28, 14, 5),
        "outcome": "met",
        "channel": "door",
        "note": "",
    }
    return VisitDraft(**{**base, **kw})


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("visits") / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", as_of=AS_OF)
    return path


@pytest.fixture
def store(demo_path: Path, tmp_path: Path) -> Store:
    """A private copy of the tiny district (cheaper than building one per test)."""
    copy = tmp_path / "d.gpkg"
    copy.write_bytes(demo_path.read_bytes())
    s = open_store(str(copy))
    yield s
    s.close()


def visit_count(store: Store) -> int:
    return int(store.scalar("SELECT COUNT(*) FROM visits"))


# ------------------------------------------------------------------ validation


def test_a_good_visit_has_no_problems() -> None:
    assert validate_visit(draft(), now=NOW, known_households={H}, known_workers={W}) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"visited_at": dt.datetime(2024, 6, 28, 16, 30)}, ["time_future"]),
        ({"visited_at": dt.datetime(2024, 6, 29, 10, 0)}, ["time_future"]),
        ({"visited_at": dt.datetime(2024, 6, 27, 7, 59)}, ["time_outside_day"]),
        ({"visited_at": dt.datetime(2024, 6, 27, 17, 31)}, ["time_outside_day"]),
        ({"visited_at": dt.datetime(2024, 6, 27, 8, 30)}, []),
        ({"visited_at": dt.datetime(2024, 6, 27, 17, 30)}, []),
        ({"visited_at": dt.datetime(2023, 6, 1, 10, 0)}, ["time_too_old"]),
        ({"visited_at": None}, ["time_missing"]),
        ({"outcome": None}, ["outcome_missing"]),
        ({"outcome": ""}, ["outcome_missing"]),
        ({"outcome": "seen"}, ["outcome_unknown"]),
        ({"channel": None}, ["channel_missing"]),
        ({"channel": "fax"}, ["channel_unknown"]),
        ({"household_id": None}, ["household_missing"]),
        ({"household_id": "H9999999"}, ["household_unknown"]),
        ({"worker_id": ""}, ["worker_missing"]),
        ({"worker_id": "W9999"}, ["worker_unknown"]),
        ({"note": "记" * 2001}, ["note_too_long"]),
        ({"note": "记" * 2000}, []),
    ],
)
def test_each_rule_names_its_problem(changes: dict, expected: list[str]) -> None:
    problems = validate_visit(draft(**changes), now=NOW, known_households={H}, known_workers={W})
    assert codes(problems) == expected


def test_every_problem_is_reported_at_once_with_a_readable_message() -> None:
    bad = VisitDraft("H9999999", None, dt.datetime(2024, 6, 28, 21, 0), None, "fax", "")
    problems = validate_visit(bad, now=NOW, known_households={H}, known_workers={W})
    assert codes(problems) == [
        "household_unknown",
        "worker_missing",
        "outcome_missing",
        "channel_unknown",
        "time_future",
        "time_outside_day",
    ]
    text = str(VisitInvalid(problems))
    assert "no household with id H9999999" in text
    assert "2024-06-28 21:00 is in the future (now 2024-06-28 16:00)" in text
    assert "outside the working day 08:30–17:30" in text


def test_the_working_day_comes_from_the_caller() -> None:
    early = draft(visited_at=dt.datetime(2024, 6, 28, 8, 0))
    assert codes(validate_visit(early, now=NOW, day_start="07:30")) == []
    assert codes(validate_visit(early, now=NOW)) == ["time_outside_day"]


@pytest.mark.parametrize(
    ("issue", "expected"),
    [
        (IssueDraft("加装电梯", "building", ""), []),
        (IssueDraft("加装电梯", "grid", "三号楼想加装电梯"), []),
        (IssueDraft(None, "building"), ["category_missing"]),
        (IssueDraft("  ", "building"), ["category_missing"]),
        (IssueDraft("停车难", "street"), ["level_bad"]),
        (IssueDraft("停车难", "grid", "x" * 201), ["title_too_long"]),
        (IssueDraft("x" * 41, "grid"), ["category_too_long"]),
    ],
)
def test_issue_rules(issue: IssueDraft, expected: list[str]) -> None:
    assert codes(validate_issue(issue)) == expected


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(min_value=dt.datetime(2023, 1, 1), max_value=dt.datetime(2025, 12, 31)),
    outcome=st.one_of(
        st.none(), st.sampled_from(["met", "not_home", "refused", "vacant", "inaccessible", "x"])
    ),
)
def test_validation_never_lets_a_future_or_off_hours_visit_through(
    at: dt.datetime, outcome: str | None
) -> None:
    problems = codes(validate_visit(draft(visited_at=at, outcome=outcome), now=NOW))
    inside_day = dt.time(8, 30) <= at.time() <= dt.time(17, 30)
    acceptable = at <= NOW and at >= NOW - dt.timedelta(days=366) and inside_day
    assert (problems == []) == (acceptable and outcome in OUTCOMES)


def test_default_time_and_parsing() -> None:
    assert default_visit_time(dt.datetime(2024, 6, 28, 12, 1, 59)) == dt.datetime(2024, 6, 28, 12, 1)
    assert default_visit_time(dt.datetime(2024, 6, 28, 23, 0)) == dt.datetime(2024, 6, 28, 15, 30)
    assert default_visit_time(dt.datetime(2024, 6, 28, 6, 0)) == dt.datetime(2024, 6, 27, 15, 30)
    assert parse_visit_time("2024-06-28 14:05:30", now=NOW) == dt.datetime(2024, 6, 28, 14, 5, 30)
    assert parse_visit_time(None, now=NOW) == NOW
    with pytest.raises(VisitInvalid, match="is not a time"):
        parse_visit_time("28/06/2024 14:05", now=NOW)


def test_form_keys_follow_the_content_and_the_form() -> None:
    d = draft()
    assert form_key("n1", d) == form_key("n1", d)
    assert form_key("n1", d) != form_key("n2", d)
    assert form_key("n1", d) != form_key("n1", draft(note="x"))
    assert form_key("n1", d) != form_key("n1", d, IssueDraft("停车难"))


# ------------------------------------------------------------------- writing


def test_submit_writes_one_visit_and_a_repeat_writes_nothing(store: Store) -> None:
    before = visit_count(store)
    version = store.versions()[0]
    first = submit_visit(
        store, draft(note="<script>alert(1)</script>"), idem_key="form:a:1", now=NOW, scope=Scope.everything()
    )
    again = submit_visit(
        store, draft(note="<script>alert(1)</script>"), idem_key="form:a:1", now=NOW, scope=Scope.everything()
    )
    assert first.created and not again.created
    assert again.visit_id == first.visit_id
    assert visit_count(store) == before + 1
    assert store.versions()[0] == version + 1  # the repeat bumped nothing
    row = (
        store.read_table("visits", where=None, scope=Scope.everything())
        .set_index("visit_id")
        .loc[first.visit_id]
    )
    assert (row["household_id"], row["outcome"], str(row["visited_at"])) == (H, "met", "2024-06-28 14:05:00")
    assert row["note"] == "<script>alert(1)</script>"  # stored as given; escaped when shown


def test_a_key_reused_for_another_visit_is_refused(store: Store) -> None:
    submit_visit(store, draft(), idem_key="k-1", now=NOW, scope=Scope.everything())
    with pytest.raises(IdempotencyConflict, match="outcome"):
        submit_visit(store, draft(outcome="not_home"), idem_key="k-1", now=NOW, scope=Scope.everything())


def test_invalid_visits_write_nothing(store: Store) -> None:
    before, version = visit_count(store), store.versions()
    with pytest.raises(VisitInvalid) as info:
        submit_visit(
            store,
            draft(household_id="H9999999", outcome=None),
            idem_key="k",
            now=NOW,
            scope=Scope.everything(),
        )
    assert codes(info.value.problems) == ["household_unknown", "outcome_missing"]
    assert (visit_count(store), store.versions()) == (before, version)


def test_the_store_refuses_unknown_records_even_without_validation(store: Store) -> None:
    before = visit_count(store)
    with pytest.raises(UnknownRecord, match="household"):
        add_visit(store, NewVisit("H9999999", W, dt.datetime(2024, 6, 28, 14, 0), "met"))
    with pytest.raises(UnknownRecord, match="worker"):
        add_visit(store, NewVisit(H, "W9999", dt.datetime(2024, 6, 28, 14, 0), "met"))
    assert visit_count(store) == before


def test_a_need_found_opens_one_issue_with_the_visit(store: Store) -> None:
    issues = int(store.scalar("SELECT COUNT(*) FROM issues"))
    need = IssueDraft("加装电梯", "grid", "居民希望加装电梯")
    done = submit_visit(store, draft(), idem_key="k-issue", issue=need, now=NOW, scope=Scope.everything())
    again = submit_visit(store, draft(), idem_key="k-issue", issue=need, now=NOW, scope=Scope.everything())
    assert done.created and done.issue_id is not None
    assert again == (done.visit_id, False, done.issue_id)
    assert int(store.scalar("SELECT COUNT(*) FROM issues")) == issues + 1
    row = (
        store.read_table("issues", where=None, scope=Scope.everything())
        .set_index("issue_id")
        .loc[done.issue_id]
    )
    assert row[
        ["grid_id", "building_id", "household_id", "category", "source", "level", "status"]
    ].tolist() == [
        "G0001",
        "B000001",
        H,
        "加装电梯",
        "visit",
        "grid",
        "open",
    ]
    assert str(row["opened_at"]) == "2024-06-28 14:05:00"
    assert str(row["due_at"]) == "2024-07-05 14:05:00"  # grid level: 7 days
    assert row["title"] == "居民希望加装电梯"


def test_an_issue_found_on_a_visit_is_opened_as_any_other(store: Store) -> None:
    """One way to open an issue: the same place, level and due date as open_issues, one "found" event."""
    everything = Scope.everything()
    need = IssueDraft("加装电梯", "building", "居民希望加装电梯")
    done = submit_visit(store, draft(), idem_key="k-found", issue=need, now=NOW, scope=everything)
    assert done.issue_id is not None
    same = workflow.open_issue(store, category="加装电梯", source="visit", household_id=H, level="building",
                               actor=W, opened_at=dt.datetime(2024, 6, 28, 14, 5), now=NOW,
                               scope=everything).issue_id  # fmt: skip
    rows = store.read_table("issues", where=None, scope=everything).set_index("issue_id")
    cols = ["grid_id", "building_id", "household_id", "source", "level", "status", "opened_at", "due_at"]
    assert rows.loc[done.issue_id, cols].tolist() == rows.loc[same, cols].tolist()
    recorded = ["actor", "action", "from_status", "to_status", "from_level", "to_level"]

    def events(issue_id: int) -> list[list[object]]:
        return read_history(store, issue_id, scope=everything)[recorded].values.tolist()

    assert events(done.issue_id) == [[W, "found", None, "open", None, "building"]]
    assert events(done.issue_id) == events(same)
    # The same submission again: the same visit and issue, nothing more recorded.
    again = submit_visit(store, draft(), idem_key="k-found", issue=need, now=NOW, scope=everything)
    assert again == (done.visit_id, False, done.issue_id)
    assert len(events(done.issue_id)) == 1


def test_a_failed_issue_rolls_the_visit_back(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    before, issues = visit_count(store), int(store.scalar("SELECT COUNT(*) FROM issues"))
    visit = NewVisit(H, W, dt.datetime(2024, 6, 28, 14, 0), "met")
    everything = Scope.everything()
    with pytest.raises(ValueError, match="building or grid"):
        record_visit_with_issue(store, visit, idem_key="k-x", issue=NewIssue("停车难", level="street"),
                                scope=everything)  # fmt: skip
    with pytest.raises(IssueInvalid, match="a category is required"):
        record_visit_with_issue(store, visit, idem_key="k-y", issue=NewIssue(None), scope=everything)  # type: ignore[arg-type]

    # The issue insert fails inside the transaction, after the visit's: the visit goes too.
    def refuse(*_args: object, **_kwargs: object) -> list[int]:
        raise StoreError("disk full")

    monkeypatch.setattr("geo.store.issue_log.insert_issues", refuse)
    with pytest.raises(StoreError, match="disk full"):
        record_visit_with_issue(store, visit, idem_key="k-z", issue=NewIssue("停车难"), scope=everything)
    assert visit_count(store) == before
    assert int(store.scalar("SELECT COUNT(*) FROM issues")) == issues
    assert record_visit(store, visit, idem_key="k-y").created  # the key was not used up


def test_the_cli_core(store: Store) -> None:
    line = run_visit_add(
        db=store.db, household=H, worker=W, outcome="not_home", at="2024-06-28 10:15", key="cli-1", now=NOW
    )
    assert line.startswith("recorded visit #")
    again = run_visit_add(
        db=store.db, household=H, worker=W, outcome="not_home", at="2024-06-28 10:15", key="cli-1", now=NOW
    )
    assert "already recorded" in again
    with pytest.raises(VisitInvalid, match="is in the future"):
        run_visit_add(db=store.db, household=H, worker=W, outcome="met", at="2024-06-28 17:00", now=NOW)


# --------------------------------------------------------------- concurrency


def hammer(db: str, *, writers: int, each: int) -> Counter[str]:
    """``writers`` threads, each with its own Store, write ``each`` visits; every 5th is sent twice,
    and every 10th key of the next writer is sent too, racing its owner."""
    households = [f"H{n:07d}" for n in range(1, 400)]
    start = dt.datetime(2024, 6, 3, 9, 0)
    barrier = threading.Barrier(writers)

    def visit(w: int, i: int) -> tuple[NewVisit, str]:
        n = w * each + i
        return NewVisit(
            households[n % len(households)], W, start + dt.timedelta(seconds=n), "met"
        ), f"c{w}-{i}"

    def run(w: int) -> Counter[str]:
        out: Counter[str] = Counter()
        with open_store(db) as s:
            barrier.wait()
            for i in range(each):
                jobs = [visit(w, i)]
                if i % 5 == 0:
                    jobs.append(visit(w, i))
                if i % 10 == 0:
                    jobs.append(visit((w + 1) % writers, i))
                for v, key in jobs:
                    _, created = add_visit(s, v, idem_key=key)
                    out["created" if created else "repeat"] += 1
        return out

    with ThreadPoolExecutor(writers) as pool:
        return sum(pool.map(run, range(writers)), Counter())


def check_hammered(store: Store, result: Counter[str], *, writers: int, each: int, before: int) -> None:
    n = writers * each
    assert result["created"] == n
    assert result["repeat"] == writers * (each // 5 + each // 10)
    assert visit_count(store) == before + n
    assert store.scalar("SELECT COUNT(DISTINCT idem_key) FROM visits WHERE idem_key LIKE 'c%'") == n


def test_concurrent_writers_sqlite(store: Store) -> None:
    before = visit_count(store)
    result = hammer(store.db, writers=4, each=50)
    check_hammered(store, result, writers=4, each=50, before=before)


@pytest.mark.postgres
def test_concurrent_writers_postgres(pg_url: str) -> None:
    with open_store(pg_url) as s:
        install_demo(s, scale="tiny", as_of=AS_OF)
        before = visit_count(s)
        result = hammer(pg_url, writers=4, each=50)
        check_hammered(s, result, writers=4, each=50, before=before)
        # The same idempotency and the same validation on PostgreSQL.
        first = submit_visit(
            s, draft(), idem_key="pg-1", issue=IssueDraft("停车难"), now=NOW, scope=Scope.everything()
        )
        again = submit_visit(
            s, draft(), idem_key="pg-1", issue=IssueDraft("停车难"), now=NOW, scope=Scope.everything()
        )
        assert first.created and again == (first.visit_id, False, first.issue_id)
        log_access(s, who="u", role="grid", action="unmask", target=f"household:{H}", at=NOW)
        assert read_audit(s)["target"].tolist() == [f"household:{H}"]


# ---------------------------------------------------------------- access log


def test_the_access_log_appends_and_leaves_the_change_counter_alone(store: Store) -> None:
    version = store.versions()
    log_access(store, who="wang", role="grid", action="unmask", target=f"household:{H}", at=NOW)
    log_access(
        store, who="li", role="street", action="unmask", target="household:H0000003", detail="x", at=NOW
    )
    log = read_audit(store)
    assert log[["who", "role", "action", "target"]].values.tolist() == [
        ["wang", "grid", "unmask", f"household:{H}"],
        ["li", "street", "unmask", "household:H0000003"],
    ]
    assert log["at"].tolist() == [NOW, NOW]
    assert store.versions() == version
