"""The street office's screens under Streamlit's AppTest: figures, language, forms, escaping."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from conftest import sign_in
from streamlit.testing.v1 import AppTest

from geo import assess
from geo import uncovered as unc
from geo.demo import install_demo
from geo.live import coverage_index_from_store
from geo.maps import find_external_urls
from geo.store import Scope, gpkg, open_store
from geo.store import assessment as records

APP = str(Path(__file__).resolve().parents[1] / "app.py")
AS_OF = dt.date(2026, 11, 26)
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("office_pages") / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=7, as_of=AS_OF)
        index, _ = coverage_index_from_store(store, scope=Scope.everything())
    # Give the grid with the lowest coverage a name as a hostile import might bring it.
    worst = index.coverage(dt.date(2026, 1, 1), AS_OF)["coverage"].idxmin()
    con = sqlite3.connect(path)
    gpkg.add_sql_functions(con)  # the layers' R-tree triggers call ST_MinX & co.
    con.execute("UPDATE grids SET name = ? WHERE grid_id = ?", (HOSTILE, worst))
    con.commit()
    con.close()
    return str(path)


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    # The app caches its store and indexes per process: each test starts afresh with its own database.
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def _page(db: str, monkeypatch: pytest.MonkeyPatch, page: str, *, lang: str = "zh") -> AppTest:
    monkeypatch.setenv("SIBAI_DB", db)
    monkeypatch.setenv("SIBAI_TODAY", AS_OF.isoformat())  # the figures below are computed for AS_OF
    at = AppTest.from_file(APP, default_timeout=90)
    sign_in(at, "district", db=db)
    at.run()
    at.switch_page(page).run()
    if lang != "zh":
        at.session_state["lang"] = lang
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_blind_spots_tab_shows_what_the_core_computes(tiny_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(tiny_db, monkeypatch, "pages/uncovered.py")
    assert at.title[0].value == "盲区与周查"
    with open_store(tiny_db) as store:
        index, _ = coverage_index_from_store(store, scope=Scope.everything())
        grids = store.read_layer("grids", scope=Scope.everything())
    metrics = index.coverage(dt.date(2026, 1, 1), AS_OF)
    spots = unc.blind_spots(grids, metrics, below=0.5)
    lagging = unc.lagging_grids(metrics, grids, below=0.5)
    m = _metrics(at)
    assert m["盲区"] == str(len(spots)) and m["落后网格"] == str(len(lagging))
    assert m["盲区内在住户"] == f"{spots['households'].sum():,}"
    shown = at.dataframe[0].value
    assert shown["盲区编号"].tolist() == spots["spot"].tolist()
    assert shown["未见面户数"].tolist() == spots["unvisited"].tolist()
    assert at.dataframe[1].value["网格编号"].tolist() == lagging["grid_id"].tolist()
    # The hostile name is plain text in the table, and never raw HTML in the map page.
    assert HOSTILE in set(at.dataframe[1].value["网格"])
    page = at.get("iframe")[0].proto.srcdoc
    assert HOSTILE not in page and find_external_urls(page) == []

    at.slider(key="office_below").set_value(80).run()
    assert not at.exception
    assert _metrics(at)["落后网格"] == str(len(unc.lagging_grids(metrics, grids, below=0.8)))


def test_pace_and_weekly_check_figures(tiny_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(tiny_db, monkeypatch, "pages/uncovered.py")
    with open_store(tiny_db) as store:
        index, _ = coverage_index_from_store(store, scope=Scope.everything())
        frames = unc.office_frames_from_store(
            store, start=dt.date(2026, 1, 1), end=AS_OF, scope=Scope.everything()
        )
    district = unc.pace_from_index(index, as_of=AS_OF, level="district", calendar=unc.WorkCalendar.default())
    m = _metrics(at)
    assert m["今年覆盖率"] == f"{district['coverage'].iloc[0] * 100:.1f}%"
    assert m["应达进度"] == f"{district['expected'].iloc[0] * 100:.1f}%"
    check = unc.weekly_check(frames, week_ending=AS_OF, calendar=unc.WorkCalendar.default())
    tot = check.totals()
    assert m["本周走访"] == f"{int(tot['visits_week']):,}"
    assert m["本周新见面户"] == f"{int(tot['newly_met_week']):,}"
    assert m["异常提示"] == str(len(check.anomalies))
    assert m["本周诉求 新增 / 办结"] == f"{int(tot['opened_week'])} / {int(tot['closed_week'])}"
    by_grid = next(
        d.value for d in at.dataframe if "本周走访次数" in d.value.columns and "网格" in d.value.columns
    )
    assert by_grid["本周走访次数"].tolist() == check.grids["visits_week"].tolist()
    spot = next(d.value for d in at.dataframe if "走访编号" in d.value.columns and "户主" in d.value.columns)
    assert spot["走访编号"].tolist() == check.spot_checks["visit_id"].tolist()
    # Residents' names and phones are masked.
    assert all("*" in name for name in spot["户主"]) and all("****" in p for p in spot["电话"])


def test_english_headers_and_labels(tiny_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(tiny_db, monkeypatch, "pages/uncovered.py", lang="en")
    assert at.title[0].value == "Uncovered areas and the weekly check"
    assert list(at.dataframe[0].value.columns[:4]) == [
        "Blind spot",
        "Grids",
        "Occupied households",
        "Households not met",
    ]
    assert "Blind spots" in _metrics(at)


def test_recording_a_spot_check_reaches_the_ledger(
    tiny_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "copy.gpkg"
    db.write_bytes(Path(tiny_db).read_bytes())
    at = _page(str(db), monkeypatch, "pages/uncovered.py")
    picker = at.selectbox(key="office_spot_visit")
    visit = int(picker.options[-1].split(" ")[0].lstrip("#"))
    picker.set_value(visit)
    at.run()
    # Phoning needs the number: shown in full only on purpose, and the view is logged.
    at.button(key="office_reveal").click()
    at.run()
    with open_store(str(db)) as store:
        from geo.store.records import read_audit

        hid = (
            store.read_table("visits", columns=["visit_id", "household_id"], scope=Scope.everything())
            .set_index("visit_id")
            .loc[visit]
        )
        phone = store.read_table(
            "households", columns=["household_id", "phone"], scope=Scope.everything()
        ).set_index("household_id")
        audit = read_audit(store)
    assert any(phone.loc[hid["household_id"], "phone"] in x.value for x in at.text)
    assert audit[["action", "target"]].values.tolist()[-1] == ["unmask", f"household:{hid['household_id']}"]
    at.radio(key="office_spot_result").set_value("failed")
    at.button(key="office_spot_save").click()
    at.run()
    assert not at.exception
    assert [s.value for s in at.success] == ["已保存（#1）。"]
    # The list shows the result at once (the form saves before the page redraws).
    spot = next(d.value for d in at.dataframe if "抽查结果" in d.value.columns)
    assert spot.set_index("走访编号").loc[visit, "抽查结果"] == "不属实"
    with open_store(str(db)) as store:
        done = records.read_spot_checks(store, scope=Scope.everything())
        worker = (
            store.read_table("visits", columns=["visit_id", "worker_id"], scope=Scope.everything())
            .set_index("visit_id")
            .loc[visit]
        )
    assert done[["visit_id", "result"]].values.tolist() == [[visit, "failed"]]

    at.switch_page("pages/workers.py").run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("社工编号")
    assert table.loc[worker["worker_id"], "抽查不实扣分"] == 2


def test_workers_page_standings_and_staffing(tiny_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(tiny_db, monkeypatch, "pages/workers.py")
    assert at.title[0].value == "社工考核"
    with open_store(tiny_db) as store:
        index, _ = coverage_index_from_store(store, scope=Scope.everything())
        gw = store.read_table("grid_workers", scope=Scope.everything())
        workers = store.read_table("workers", scope=Scope.everything())
        issues = store.read_table("issues", scope=Scope.everything())
        hh = __import__("geo.live", fromlist=["x"]).households_with_grid(store, scope=Scope.everything())
        grids = store.read_table("grids", scope=Scope.everything())
        committees = store.read_table("committees", scope=Scope.everything())
    history = assess.pace_history(index, as_of=AS_OF, calendar=unc.WorkCalendar.default())
    book = assess.ledger(grid_workers=gw, as_of=AS_OF, pace_rows=history, issues=issues)
    stand = assess.standings(book, workers)
    table = at.dataframe[0].value
    assert table["社工编号"].tolist() == stand["worker_id"].tolist()
    assert table["剩余分值"].tolist() == stand["points_left"].tolist()
    m = _metrics(at)
    assert m["社工"] == str(len(stand)) and m["分值扣完"] == str((stand["standing"] == "exhausted").sum())
    district = assess.staffing(workers, hh, grids, committees, level="district")
    assert m["全区每万人社工"] == f"{district['per_10k'].iloc[0]:.1f}"
    assert m["缺口"] == str(district["shortfall"].iloc[0])


def test_a_spot_check_on_a_visit_gone_out_of_scope_is_refused(
    tiny_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store checks the write itself: a visit moved out of the street office's area meanwhile is refused.

    The grid leader sees the spot checks of their grid but is offered no form to record one.
    """
    from geo.auth import demo_areas

    db = tmp_path / "copy.gpkg"
    db.write_bytes(Path(tiny_db).read_bytes())
    monkeypatch.setenv("SIBAI_DB", str(db))
    monkeypatch.setenv("SIBAI_TODAY", AS_OF.isoformat())
    leader = AppTest.from_file(APP, default_timeout=90)
    sign_in(leader, "grid", db=str(db))
    leader.run()
    leader.switch_page("pages/uncovered.py").run()
    assert not leader.exception, [e.message for e in leader.exception]
    assert not [b for b in leader.button if b.key in ("office_spot_save", "office_review_save")]
    assert "抽查结果与异常复核由街道办（及区）记录；此处仅供查看。" in [c.value for c in leader.caption]

    at = AppTest.from_file(APP, default_timeout=90)
    sign_in(at, "street", db=str(db))
    at.run()
    at.switch_page("pages/uncovered.py").run()
    assert not at.exception, [e.message for e in at.exception]
    picker = at.selectbox(key="office_spot_visit")
    visit = int(picker.options[-1].split(" ")[0].lstrip("#"))
    picker.set_value(visit)
    at.run()
    # Meanwhile the household is moved into a building of another grid (a data correction).
    with open_store(str(db)) as store:
        (mine,) = demo_areas(store)["street"]
        elsewhere = store.scalar(
            "SELECT min(b.building_id) FROM buildings b JOIN grids g ON g.grid_id = b.grid_id "
            "JOIN committees c ON c.committee_id = g.committee_id WHERE c.street_id <> :s",
            {"s": mine},
        )
        with store.transaction() as conn:
            conn.exec_driver_sql(
                "UPDATE households SET building_id = ? WHERE household_id = "
                "(SELECT household_id FROM visits WHERE visit_id = ?)",
                (elsewhere, visit),
            )
    at.radio(key="office_spot_result").set_value("failed")
    at.button(key="office_spot_save").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert [e.value for e in at.error] == ["无权访问：该走访记录不在您的管辖范围内，不显示任何数据。"]
    with open_store(str(db)) as store:
        assert records.read_spot_checks(store, scope=Scope.everything()).empty
