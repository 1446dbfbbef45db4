"""The issues page under Streamlit's AppTest: list, filters, metrics, history, forms, bad links, escaping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from conftest import shown, sign_in
from streamlit.testing.v1 import AppTest

from geo import issues as rules
from geo.auth import demo_areas
from geo.demo import install_demo
from geo.issues import NewIssue, workflow
from geo.store import Scope, Store, open_store
from geo.store import issue_log as log
from geo.store.records import NewVisit
from geo.visits import record_visit

APP = Path(__file__).resolve().parents[1] / "app.py"
HOSTILE = "<script>alert(1)</script> **粗体** [点我](http://evil.example)"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """The tiny district, plus three issues of our own opened relative to the real clock."""
    path = tmp_path_factory.mktemp("issues_page") / "tiny.gpkg"
    now = log.local_now()
    with open_store(str(path), create=True) as store:
        # As of yesterday: the demo's events run to the end of its day, so a demo as of today
        # holds closings still to come in the first hours after local midnight.
        install_demo(store, scale="tiny", seed=3, as_of=now.date() - dt.timedelta(days=1))

        def add(**kw: object) -> int:
            return workflow.open_issue(store, now=now, **kw, scope=Scope.everything()).issue_id  # type: ignore[arg-type]

        ids = {
            # Found at building level four days ago: the clock has moved it to the grid (due in 6 days).
            "late": add(category="加装电梯", source="visit", building_id="B000001", level="building",
                        actor="W0001", opened_at=now - dt.timedelta(days=4)),
            "hostile": add(category="停车难", source="hotline", grid_id="G0002", level="grid", title=HOSTILE,
                           actor="W0002", opened_at=now - dt.timedelta(hours=1)),
            "handled": add(category="物业管理", source="online", grid_id="G0001", level="grid", actor="W0001",
                           opened_at=now - dt.timedelta(hours=3)),
        }  # fmt: skip
        workflow.transition(
            store,
            ids["handled"],
            "dispatch",
            actor="W0001",
            at=now - dt.timedelta(hours=2),
            scope=Scope.everything(),
        )
        workflow.transition(
            store,
            ids["handled"],
            "handle",
            actor="W0001",
            at=now - dt.timedelta(hours=1),
            scope=Scope.everything(),
        )
    return path, ids


@pytest.fixture
def db(
    demo_db: tuple[Path, dict[str, int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    copy = tmp_path / "d.gpkg"
    copy.write_bytes(demo_db[0].read_bytes())
    monkeypatch.setenv("SIBAI_DB", str(copy))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield copy
    st.cache_resource.clear()


@pytest.fixture
def ids(demo_db: tuple[Path, dict[str, int]]) -> dict[str, int]:
    return demo_db[1]


def open_page(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    sign_in(at, "district")
    # The sidebar and the language take their query parameters on the first run.
    at.query_params.update(params or {})
    at.run()
    at.switch_page("pages/issues.py")
    at.query_params.update(params or {})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def expected_board(db: Path, filters: rules.IssueFilters = rules.IssueFilters()) -> rules.Board:
    """The board computed straight from the store, as the page should show it."""
    now = log.local_now()
    start = dt.date(now.year, 1, 1)
    with open_store(str(db)) as store:
        issues, events = log.read_issue_data(store, closed_since=start, scope=Scope.everything())
        limits = rules.limits_days(store.settings)
    return rules.issue_board(issues, events, filters, now=now, limits=limits, start=start, end=now.date())


def issue_list(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "issue_id" in d.value.columns)


def history(db: Path, issue_id: int) -> list[tuple[str, str, str]]:
    with open_store(str(db)) as store:
        h = log.read_history(store, issue_id, scope=Scope.everything())
    return list(h[["actor", "action", "to_status"]].itertuples(index=False, name=None))


def test_the_page_shows_the_metrics_and_the_urgent_list(db: Path, ids: dict[str, int]) -> None:
    at = open_page()
    assert at.title[0].value == "诉求"
    board = expected_board(db)
    m = board.metrics
    share = m["share_within_committee"]
    assert [(x.label, x.value) for x in at.metric] == [
        ("未结诉求", f"{int(m['open']):,}"),
        ("超期", f"{int(m['overdue']):,}"),
        ("超时上移", f"{int(m['timed_out']):,}"),
        ("本期结案", f"{int(m['resolved']):,}"),
        ("结案中位天数", f"{m['median_days_to_close']:.1f}"),
        ("居村内解决", f"{share * 100:.1f}%"),
    ]
    listed = issue_list(at)
    assert listed["issue_id"].tolist() == board.rows["issue_id"].tolist()
    # The issue found at building level four days ago shows where the clock has put it.
    late = listed.set_index("issue_id").loc[ids["late"]]
    assert (late["level"], late["status"], late["timed_out"]) == ("网格", "发现", 1)
    by_level = next(d.value for d in at.dataframe if "resolved" in d.value.columns)
    assert by_level.index.tolist() == ["楼栋", "网格", "居委会", "街道", "区"]
    assert by_level["open"].tolist() == board.by_level["open"].tolist()


@pytest.mark.parametrize(
    ("widget", "value", "filters"),
    [
        ("iss_source", ["hotline"], rules.IssueFilters(sources=("hotline",))),
        ("iss_level", ["grid"], rules.IssueFilters(levels=("grid",))),
        ("iss_status", ["closed"], rules.IssueFilters(statuses=("closed",))),
        ("iss_category", ["加装电梯"], rules.IssueFilters(categories=("加装电梯",))),
    ],
)
def test_filters_narrow_the_list(
    db: Path, widget: str, value: list[str], filters: rules.IssueFilters
) -> None:
    at = open_page()
    chooser = at.pills(key=widget) if widget == "iss_status" else at.multiselect(key=widget)
    chooser.set_value(value).run()
    assert not at.exception
    expected = expected_board(db, filters).rows["issue_id"].tolist()
    assert len(expected) > 0
    assert issue_list(at)["issue_id"].tolist() == expected


def test_the_timing_filter(db: Path, ids: dict[str, int]) -> None:
    at = open_page()
    at.pills(key="iss_timing").set_value(["timed_out"]).run()
    expected = expected_board(db, rules.IssueFilters(timing=("timed_out",))).rows["issue_id"].tolist()
    assert ids["late"] in expected
    assert issue_list(at)["issue_id"].tolist() == expected


def test_a_grid_link_lists_that_grid_and_can_be_cleared(db: Path, ids: dict[str, int]) -> None:
    at = open_page({"grid": "G0002"})
    expected = expected_board(db, rules.IssueFilters(grid_id="G0002")).rows["issue_id"].tolist()
    assert ids["hostile"] in expected
    assert issue_list(at)["issue_id"].tolist() == expected
    clear = next(b for b in at.button if "G0002" in b.label or "2号网格" in b.label)
    clear.click().run()
    assert "grid" not in at.query_params
    assert len(issue_list(at)) == len(expected_board(db).rows)


def test_an_issue_link_shows_its_state_and_full_history(db: Path, ids: dict[str, int]) -> None:
    at = open_page({"issue": str(ids["late"])})
    assert at.header[-1].value == f"诉求 #{ids['late']}"
    facts = at.markdown[-2].value if "位置" in at.markdown[-2].value else next(
        m.value for m in at.markdown if "位置" in m.value)  # fmt: skip
    assert "**当前**　发现 · 网格级" in facts
    h = next(d.value for d in at.dataframe if "step" in d.value.columns)
    assert h["step"].tolist() == ["发现", "超时自动上移"]
    assert h["actor"].tolist() == ["W0001", "system"]
    assert h["change"].tolist() == ["发现 · 楼栋", "楼栋 → 网格"]
    assert h["note"].tolist() == ["", "超过楼栋级办理时限"]
    assert h["flag"].tolist() == ["", "按时限推算，待写入"]
    assert at.radio(key="iss_form_action").options == ["派遣", "上报上一级"]


def test_an_issue_found_on_a_visit_shows_who_found_it(db: Path) -> None:
    now = log.local_now()
    with open_store(str(db)) as store:
        visit = NewVisit("H0000002", "W0001", now.replace(microsecond=0) - dt.timedelta(minutes=5), "met")
        done = record_visit(store, visit, issue=NewIssue("加装电梯", title="居民希望加装电梯"),
                            scope=Scope.everything())  # fmt: skip
    assert done.issue_id is not None
    at = open_page({"issue": str(done.issue_id)})
    h = next(d.value for d in at.dataframe if "step" in d.value.columns)
    assert h[["step", "actor", "change", "flag"]].values.tolist() == [["发现", "W0001", "发现 · 楼栋", ""]]


def test_a_transition_through_the_form_is_recorded(db: Path, ids: dict[str, int]) -> None:
    i = ids["hostile"]
    at = open_page({"issue": str(i)})
    at.radio(key="iss_form_action").set_value("dispatch")
    at.selectbox(key="iss_form_actor").set_value("W0003")
    at.text_area(key="iss_form_note").set_value("派给物业")
    at.button(key="iss_form_submit").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [f"诉求 #{i}：已派遣。"]
    assert history(db, i) == [("W0002", "found", "open"), ("W0003", "dispatch", "dispatched")]
    assert at.radio(key="iss_form_action").options == ["处置", "上报上一级"]


def test_the_handler_cannot_verify_and_nothing_is_written(db: Path, ids: dict[str, int]) -> None:
    i = ids["handled"]
    before = history(db, i)
    at = open_page({"issue": str(i)})
    assert "**处置人**　W0001 · " in next(m.value for m in at.markdown if "处置人" in m.value)
    at.radio(key="iss_form_action").set_value("verify")
    at.selectbox(key="iss_form_actor").set_value("W0001")
    at.button(key="iss_form_submit").click().run()
    assert [e.value for e in at.error] == ["W0001 是处置人，核查须由他人进行。"]
    assert history(db, i) == before
    at.radio(key="iss_form_action").set_value("verify")
    at.selectbox(key="iss_form_actor").set_value("W0002")
    at.button(key="iss_form_submit").click().run()
    assert history(db, i)[-1] == ("W0002", "verify", "verified")


def test_an_action_on_a_state_nobody_saw_is_refused(db: Path, ids: dict[str, int]) -> None:
    i = ids["hostile"]
    at = open_page({"issue": str(i)})
    # Someone else dispatches it while the form is open.
    with open_store(str(db)) as store:
        workflow.transition(store, i, "dispatch", actor="W0004", scope=Scope.everything())
    at.radio(key="iss_form_action").set_value("dispatch")
    at.selectbox(key="iss_form_actor").set_value("W0003")
    at.button(key="iss_form_submit").click().run()
    assert [e.value for e in at.error] == ["该诉求刚被他人办理，现为“已派遣”。请查看最新情况后再操作。"]
    assert [a for a, *_ in history(db, i)] == ["W0002", "W0004"]


def test_registering_an_issue_from_a_hotline_call(db: Path) -> None:
    at = open_page()
    at.selectbox(key="iss_new_grid").set_value("G0003")
    at.selectbox(key="iss_new_category").set_value("噪音扰民")
    at.selectbox(key="iss_new_level").set_value("committee")
    at.text_input(key="iss_new_title").set_value("夜间施工噪音")
    at.text_input(key="iss_new_actor").set_value("热线坐席 07")
    before = log.local_now()
    at.button(key="iss_new_submit").click().run()
    after = log.local_now()
    assert not at.exception
    new_id = int(at.query_params["issue"][0] if isinstance(at.query_params["issue"], list)
                 else at.query_params["issue"])  # fmt: skip
    assert [s.value for s in at.success] == [f"已登记诉求 #{new_id}。"]
    with open_store(str(db)) as store:
        row = log.read_issue(store, new_id, scope=Scope.everything())
    assert (row["grid_id"], row["category"], row["level"], row["source"], row["title"]) == (
        "G0003", "噪音扰民", "committee", "hotline", "夜间施工噪音")  # fmt: skip
    # Opened when it was registered, to the second (the page's figures count at the minute).
    assert before <= pd.Timestamp(row["opened_at"]).to_pydatetime() <= after
    assert history(db, new_id) == [("热线坐席 07", "found", "open")]


def test_registering_without_a_recorder_is_refused(db: Path) -> None:
    at = open_page()
    at.selectbox(key="iss_new_category").set_value("噪音扰民")
    at.button(key="iss_new_submit").click().run()
    assert [e.value for e in at.error] == ["未登记：who is acting? an actor is required"]


@pytest.mark.parametrize(
    ("params", "warning"),
    [
        ({"issue": "999999"}, "找不到编号为 999999 的诉求，请检查链接。"),
        ({"issue": "<b>x</b>"}, "找不到编号为 <b>x</b> 的诉求，请检查链接。"),
        ({"grid": "G9999"}, "找不到编号为 G9999 的网格，请检查链接。"),
    ],
)
def test_bad_links_get_a_clear_message(db: Path, params: dict[str, str], warning: str) -> None:
    at = open_page(params)
    assert [shown(w.value) for w in at.warning] == [warning]  # as typed on screen
    assert not any("<" in w.value for w in at.warning)  # and no markup in what is sent


def test_an_issue_outside_the_sidebar_area_is_not_shown(db: Path, ids: dict[str, int]) -> None:
    at = open_page({"issue": str(ids["late"]), "committee": "C004"})
    assert [w.value for w in at.warning] == [f"诉求 #{ids['late']} 不在侧栏所选区域内。"]
    assert not any("step" in d.value.columns for d in at.dataframe)


def test_user_text_is_never_rendered_as_markup(db: Path, ids: dict[str, int]) -> None:
    at = open_page({"issue": str(ids["hostile"])})
    assert [x.value for x in at.text] == [HOSTILE]
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.header]
    assert not any("<script>" in r or "](http" in r for r in rendered)
    assert HOSTILE in issue_list(at)["title"].tolist()


def test_the_page_speaks_english(db: Path, ids: dict[str, int]) -> None:
    at = open_page({"issue": str(ids["late"])})
    at.session_state["lang"] = "en"
    at.run()
    assert at.title[0].value == "Issues"
    assert [x.label for x in at.metric][:3] == ["Open", "Overdue", "Moved up late"]
    assert at.radio(key="iss_form_action").options == ["Dispatch", "Refer up a level"]


def test_a_street_account_narrows_the_form_grids_in_one_look_up(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new-issue form offers the account's own grids, found with one look-up of its scope.

    It used to ask per grid of the district, each time a round trip to the
    database for its change counters: 2,000 a run for a street or grid account
    on the full district (about 1.5 s of CPU, docs/benchmarks.md).
    """
    calls: list[int] = []
    versions = Store.versions
    monkeypatch.setattr(Store, "versions", lambda self: calls.append(1) or versions(self))
    at = AppTest.from_file(str(APP), default_timeout=60)
    sign_in(at, "street")
    at.run()
    at.switch_page("pages/issues.py")
    calls.clear()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    with open_store(str(db)) as store:
        grids = store.read_table("grids", scope=Scope.everything())
        committees = store.read_table("committees", scope=Scope.everything())
        (street,) = demo_areas(store)["street"]
    mine = grids[
        grids["committee_id"].isin(committees.loc[committees["street_id"] == street, "committee_id"])
    ]
    assert 0 < len(mine) < len(grids)
    assert sorted(at.selectbox(key="iss_new_grid").options) == sorted(mine["name"].tolist())
    assert len(calls) < len(grids)
