"""The street office's screens under Streamlit's AppTest: figures, language, forms, escaping."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from conftest import sign_in
from streamlit.testing.v1 import AppTest

from geo import assess, words
from geo import uncovered as unc
from geo.demo import install_demo
from geo.live import coverage_index_from_store
from geo.maps import find_external_urls
from geo.store import Scope, gpkg, open_store
from geo.store import assessment as records
from geo.text import plain

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


#: 盲区与周查's views: each tab, and each sheet of the weekly check (only the open one is drawn).
VIEWS = (
    ("spots", None),
    ("pace", None),
    ("week", "by_grid"),
    ("week", "by_worker"),
    ("week", "anomalies"),
    ("week", "spot_checks"),
    ("unmet", None),
)


def _open(at: AppTest, tab: str, sheet: str | None = None, *, lang: str = "zh") -> AppTest:
    """Open a tab of 盲区与周查 (and a sheet of its weekly check), as a click on its label does."""
    at.session_state["office_tab"] = words.text(f"office.tab.{tab}", lang)
    if sheet is not None:
        at.session_state["office_week_sheet"] = plain(words.text(f"office.{sheet}", lang))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _tables(at: AppTest, page: str) -> Iterator[Any]:
    """Yield every table of the page; on 盲区与周查 those of each of its views in turn."""
    for tab, sheet in VIEWS if page == "pages/uncovered.py" else ((None, None),):
        if tab is not None:
            _open(at, tab, sheet)
        yield from (table for table in at.dataframe)


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
    assert at.dataframe[1].value["网格"].tolist() == lagging["grid_name"].tolist()
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
    m = _metrics(_open(at, "pace"))
    assert m["今年覆盖率"] == f"{district['coverage'].iloc[0] * 100:.1f}%"
    assert m["应达进度"] == f"{district['expected'].iloc[0] * 100:.1f}%"
    check = unc.weekly_check(frames, week_ending=AS_OF, calendar=unc.WorkCalendar.default())
    tot = check.totals()
    m = _metrics(_open(at, "week"))
    assert m["本周走访"] == f"{int(tot['visits_week']):,}"
    assert m["本周新见面户"] == f"{int(tot['newly_met_week']):,}"
    assert m["异常提示"] == str(len(check.anomalies))
    assert m["本周诉求 新增 / 办结"] == f"{int(tot['opened_week'])} / {int(tot['closed_week'])}"
    by_grid = next(
        d.value for d in at.dataframe if "本周走访次数" in d.value.columns and "网格" in d.value.columns
    )
    assert by_grid["本周走访次数"].tolist() == check.grids["visits_week"].tolist()
    _open(at, "week", "spot_checks")
    spot = next(d.value for d in at.dataframe if "走访编号" in d.value.columns and "户主" in d.value.columns)
    assert spot["走访编号"].tolist() == check.spot_checks["visit_id"].tolist()
    # Residents' names and phones are masked.
    assert all("*" in name for name in spot["户主"]) and all("****" in p for p in spot["电话"])


def test_only_the_open_tab_is_drawn_and_choices_outlive_a_closed_tab(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """盲区与周查 runs and sends the open tab only, and of the weekly check the open sheet only.

    With all four tabs drawn on every open, the district's page was about 1.9 MB (the
    blind-spot map's 2,000 polygons, the weekly check's tables) and most of a warm open was
    Chromium drawing it (docs/benchmarks.md, "Every screen's first paint"). A choice made in
    a tab (the threshold, the week) is still there when the tab is opened again.
    """
    at = _page(tiny_db, monkeypatch, "pages/uncovered.py")
    # The first tab: the map and its two tables, nothing of the pace, the week or the unmet.
    assert len(at.get("iframe")) == 1 and len(at.dataframe) == 2
    assert not at.date_input and not at.number_input and "今年覆盖率" not in _metrics(at)
    at.slider(key="office_below").set_value(80).run()
    lagging_at_80 = _metrics(at)["落后网格"]

    _open(at, "week")
    assert not at.get("iframe") and not at.slider
    # Of the weekly check's four sheets only the first (by grid) is drawn; its downloads are all there.
    (table,) = at.dataframe
    assert "本周走访次数" in table.value.columns and "网格" in table.value.columns
    assert len(at.get("download_button")) == 2
    week = AS_OF - dt.timedelta(days=7)
    at.date_input(key="office_week_end").set_value(week).run()
    _open(at, "week", "by_worker")
    (table,) = at.dataframe
    assert "社工" in table.value.columns

    _open(at, "pace")
    assert not at.dataframe or all("本周走访次数" not in d.value.columns for d in at.dataframe)
    _open(at, "spots")
    assert at.slider(key="office_below").value == 80 and _metrics(at)["落后网格"] == lagging_at_80
    _open(at, "week")
    assert at.date_input(key="office_week_end").value == week


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
    at = _open(_page(str(db), monkeypatch, "pages/uncovered.py"), "week", "spot_checks")
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
    _open(leader, "week", "spot_checks")
    assert not [b for b in leader.button if b.key in ("office_spot_save", "office_review_save")]
    assert "抽查结果与异常复核由街道办（及区）记录；此处仅供查看。" in [c.value for c in leader.caption]

    at = AppTest.from_file(APP, default_timeout=90)
    sign_in(at, "street", db=str(db))
    at.run()
    at.switch_page("pages/uncovered.py").run()
    assert not at.exception, [e.message for e in at.exception]
    _open(at, "week", "spot_checks")
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


def test_the_office_files_are_built_when_asked_not_on_every_run(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening 盲区与周查 or 社工考核 builds no workbook or CSV: a click on a download button does.

    On the full district the weekly check's workbooks took seconds of every run
    of the page (docs/benchmarks.md, "Every screen's first paint").
    """
    from geo import export
    from ui import downloads

    built: list[str] = []
    to_xlsx, to_csv = export.to_xlsx_bytes, export.to_csv_bytes
    monkeypatch.setattr(export, "to_xlsx_bytes", lambda *a, **k: built.append("xlsx") or to_xlsx(*a, **k))
    monkeypatch.setattr(export, "to_csv_bytes", lambda *a, **k: built.append("csv") or to_csv(*a, **k))
    for page in ("pages/uncovered.py", "pages/workers.py"):
        at = _page(tiny_db, monkeypatch, page)
        assert len(at.get("download_button")) >= 2
        assert built == [], page
    # What a button runs on a click is the file the page would have built, in the page's language.
    sheets = {"表": pd.DataFrame({"grid_id": ["G1", "=1+1"], "coverage": [0.5, 0.25]})}
    for lang in ("zh", "en"):
        monkeypatch.setattr(downloads, "lang", lambda lang=lang: lang)
        workbook, text = downloads.xlsx(sheets), downloads.csv(sheets["表"])
        monkeypatch.setattr(downloads, "lang", lambda: "other")  # taken when the button was drawn
        got = pd.read_excel(io.BytesIO(workbook()), sheet_name=None)
        want = pd.read_excel(io.BytesIO(to_xlsx(sheets, lang=lang)), sheet_name=None)
        assert list(got) == list(want)
        for name in want:
            pd.testing.assert_frame_equal(got[name], want[name])
        assert text() == to_csv(sheets["表"], lang=lang)


@pytest.mark.parametrize("page", ["pages/uncovered.py", "pages/workers.py"])
def test_every_percentage_column_shows_one_format(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    """Shares read 35.1% in every table: one decimal, never Streamlit's own "percent" (35.12%, 25.2%)."""
    import json

    from geo import export

    at = _page(tiny_db, monkeypatch, page)
    labels = {export.header_labels([c], lang="zh")[0] for c in export.PERCENT_COLUMNS}
    seen = 0
    for table in _tables(at, page):
        config = json.loads(table.proto.columns)
        for label in table.value.columns:
            fmt = config.get(label, {}).get("type_config", {}).get("format")
            if label in labels:
                seen += 1
                assert fmt == "%.1f%%", (label, fmt)
                shares = table.value[label].dropna()
                # Hundredths of the share (a gap may be negative): 35.1 shows as 35.1%.
                assert (shares.abs() <= 100).all() and shares.abs().max() > 1, label
            else:
                assert fmt != "percent" and "%%" not in str(fmt), (label, fmt)
    if page == "pages/uncovered.py":
        assert seen >= 5  # blind spots, lagging grids, pace, weekly check by grid and by worker


def test_workers_names_follow_the_one_rule_for_a_grid_leader(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signed-in worker's own name in full, colleagues masked: as on the walk and the grid page."""
    from geo import auth as core
    from geo import privacy

    monkeypatch.setenv("SIBAI_DB", tiny_db)
    monkeypatch.setenv("SIBAI_TODAY", AS_OF.isoformat())
    at = AppTest.from_file(APP, default_timeout=90)
    sign_in(at, "grid", db=tiny_db)
    at.run()
    at.switch_page("pages/workers.py").run()
    assert not at.exception, [e.message for e in at.exception]
    with open_store(tiny_db) as store:
        user = core.get_user(store, "demo-grid")
        gw = store.read_table(
            "grid_workers", columns=["grid_id", "worker_id", "role"], scope=Scope.everything()
        )
        workers = store.read_table("workers", columns=["worker_id", "name"], scope=Scope.everything())
    assert user is not None
    own = privacy.own_worker_ids("grid", user.areas, gw)
    full = dict(zip(workers["worker_id"], workers["name"], strict=True))
    standings = at.dataframe[0].value
    shown = dict(zip(standings["社工编号"], standings["社工"], strict=True))
    assert own and own <= set(shown) and set(shown) - own  # the leader and colleagues are listed
    assert shown == {w: full[w] if w in own else privacy.mask_name(full[w]) for w in shown}


@pytest.mark.parametrize("page", ["pages/uncovered.py", "pages/workers.py"])
def test_no_table_cell_shows_the_word_none(tiny_db: str, monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    """A text not there yet (a spot check's result before it is recorded) is an empty cell, not "None"."""
    at = _page(tiny_db, monkeypatch, page)
    text_cells = 0
    for table in _tables(at, page):
        for label in table.value.columns:
            column = table.value[label]
            if not pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_datetime64_any_dtype(column):
                text_cells += len(column)
                assert column.notna().all(), (label, column[column.isna()].index.tolist()[:5])
    assert text_cells > 0


def _long_text_table() -> None:
    import pandas as pd

    from ui import office_data as od

    long_note = "一段很长很长很长很长很长的说明文字"
    for dtype in ("str", "object"):  # pandas 3 reads text as its own str dtype; older code kept object
        frame = pd.DataFrame({"note": pd.Series([long_note, "短"], dtype=dtype)})
        od.table(frame, key=f"notes-{dtype}")


def test_long_text_gets_a_narrow_column_whatever_the_text_dtype() -> None:
    # A long text column is kept narrow so that every column stays in sight at 1280 px.
    from ui.office_data import LONG_TEXT_PX

    at = AppTest.from_function(_long_text_table)
    at.run()
    assert not at.exception
    widths = [
        {name: col.get("width") for name, col in json.loads(table.proto.columns).items() if name != "_index"}
        for table in at.dataframe
    ]
    assert [list(w.values()) for w in widths] == [[LONG_TEXT_PX], [LONG_TEXT_PX]], widths


def test_a_language_switch_keeps_the_open_tab_sheet_and_download_choice(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tabs and the weekly check's "CSV of" hold the chosen label: after a switch it named nothing."""
    at = _open(_page(tiny_db, monkeypatch, "pages/uncovered.py"), "week", "by_worker")
    at.selectbox(key="office_week_csv_of").set_value(words.text("office.anomalies", "zh")).run()
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["office_tab"] == words.text("office.tab.week", "en")
    assert at.session_state["office_week_sheet"] == plain(words.text("office.by_worker", "en"))
    assert at.selectbox(key="office_week_csv_of").value == words.text("office.anomalies", "en")
    week = words.text("office.week_caption", "en", start="x", end="y").split("x")[0]
    assert any(c.value.startswith(week) for c in at.caption)
