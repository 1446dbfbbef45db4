"""The grid page through Streamlit's AppTest: deep links, bad ids, masking, unmasking, recording visits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from conftest import shown, sign_in
from streamlit.testing.v1 import AppTest

from geo.demo import install_demo
from geo.households import household_list
from geo.store import Scope, open_store
from geo.store.records import read_audit, read_grid

APP = Path(__file__).resolve().parents[1] / "app.py"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("grid_page") / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", as_of=dt.date.today())
    return path


@pytest.fixture
def db(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    copy = tmp_path / "d.gpkg"
    copy.write_bytes(demo_db.read_bytes())
    monkeypatch.setenv("SIBAI_DB", str(copy))
    # The app's store, settings and indexes are cached per process: start afresh.
    st.cache_data.clear()
    st.cache_resource.clear()
    yield copy
    st.cache_resource.clear()


def open_grid(params: dict[str, str], *, role: str = "district") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    sign_in(at, role)
    at.run()
    at.switch_page("pages/grid.py")
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_text(at: AppTest) -> str:
    """Every text the page shows (Markdown, captions, alerts, metrics, table cells)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in (*at.warning, *at.info, *at.error, *at.success)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [b.label for b in at.button]
    for df in at.dataframe:
        parts.append(df.value.to_string())
    return "\n".join(str(p) for p in parts)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def unmet_household(db: Path, grid_id: str) -> pd.Series:
    """An occupied household of the grid with no ``met`` visit this year."""
    with open_store(str(db)) as store:
        recs = read_grid(store, grid_id, scope=Scope.everything())
    today = dt.date.today()
    listed = household_list(recs.households, recs.visit_summary, recs.issues, today=today)
    jan1 = pd.Timestamp(today.year, 1, 1)
    pick = listed[listed["occupied"] & (listed["last_met_at"].isna() | (listed["last_met_at"] < jan1))]
    row = pick.iloc[0]
    return recs.households.set_index("household_id").loc[row["household_id"]]


def visits(db: Path) -> int:
    with open_store(str(db)) as store:
        return int(store.scalar("SELECT COUNT(*) FROM visits"))


def test_a_deep_link_opens_the_grid(db: Path) -> None:
    at = open_grid({"grid": "G0001"})
    assert at.title[0].value.endswith("1号网格")
    crumbs = [b.label for b in at.button if b.key and b.key.startswith("crumb_")]
    assert all(c.endswith(" ›") for c in crumbs)  # the way back; where we are is text
    assert any(m.value.endswith("1号网格") for m in at.markdown)
    assert [m.label for m in at.metric] == ["在住户数", "已见面户数", "覆盖率", "未结诉求", "超期诉求"]
    table = at.dataframe[0].value
    assert len(table) > 0 and {"unit", "head_name", "tags", "last_visit"} <= set(table.columns)
    assert not at.warning


def test_unknown_ids_get_a_clear_message(db: Path) -> None:
    at = open_grid({"grid": "G9999"})
    cases = [
        ({"grid": "G9999"}, "找不到编号为 G9999 的网格，请检查链接。", False),
        ({"grid": "<b>x</b>*"}, "找不到编号为 <b>x</b>* 的网格，请检查链接。", False),
        ({"grid": "G0001", "building": "B999999"}, "找不到编号为 B999999 的楼栋，请检查链接。", True),
        ({"grid": "G0001", "household": "H9999999"}, "找不到编号为 H9999999 的住户，请检查链接。", True),
        # a household of another grid
        ({"grid": "G0002", "household": "H0000002"}, "找不到编号为 H0000002 的住户，请检查链接。", True),
    ]
    for params, warning, grid_shown in cases:
        at.query_params.clear()
        at.query_params.update(params)
        at.run()
        assert not at.exception, params
        assert [shown(w.value) for w in at.warning] == [warning]  # as typed on screen
        assert not any("<" in w.value for w in at.warning)  # and no markup in what is sent
        if grid_shown:
            assert at.dataframe, params  # the grid is shown all the same
        else:
            assert at.selectbox(key="grid_pick").value is None  # the picker instead


def test_personal_data_is_masked_and_unmasking_is_logged(db: Path) -> None:
    with open_store(str(db)) as store:
        hh = store.read_table("households", scope=Scope.everything()).set_index("household_id")
    hid = next(i for i, r in hh.iterrows() if isinstance(r["head_name"], str) and len(r["head_name"]) >= 3)
    name, phone = hh.loc[hid, "head_name"], hh.loc[hid, "phone"]
    grid = "G0001" if hh.loc[hid, "building_id"] <= "B000003" else None
    assert grid, "pick a household of G0001"
    at = open_grid({"grid": grid, "household": hid})
    text = page_text(at)
    assert "一户一表" in text
    assert name not in text and phone not in text
    assert f"{name[0]}&#42;" in text  # masked, the mask escaped as plain text: 王&#42;华
    assert f"{phone[:3]}{'&#42;' * 4}{phone[-4:]}" in text

    at.button(key=f"unmask_{hid}").click().run()
    text = page_text(at)
    assert name in text and phone in text
    log = read_audit(open_store(str(db)))
    log = log[log["action"] == "unmask"]
    assert log[["who", "role", "action", "target"]].values.tolist() == [
        ["demo-district", "district", "unmask", f"household:{hid}"]
    ]

    at.button(key=f"mask_{hid}").click().run()
    assert name not in page_text(at)


def test_the_public_sees_no_household(db: Path) -> None:
    at = open_grid({"grid": "G0001", "household": "H0000002"}, role="public")
    assert [i.value for i in at.info] == ["此页面仅向工作人员开放，请先登录。"]
    assert not at.dataframe and not at.metric


def test_recording_a_visit_updates_coverage_once(db: Path) -> None:
    hh = unmet_household(db, "G0001")
    hid = str(hh.name)
    at = open_grid({"grid": "G0001", "household": hid})
    met_before = int(metric(at, "已见面户数"))
    count = visits(db)

    at.radio(key=f"v_outcome_{hid}").set_value("met")
    at.text_area(key=f"v_note_{hid}").input("<img src=x onerror=alert(1)> 反映楼道灯不亮")
    submit = next(b for b in at.button if b.label == "保存走访")
    submit.click().run()
    assert not at.exception
    assert at.success[0].value.startswith("已登记走访 #")
    assert int(metric(at, "已见面户数")) == met_before + 1
    assert visits(db) == count + 1
    history = at.dataframe[1].value
    assert history.iloc[0]["民情笔记"] == "<img src=x onerror=alert(1)> 反映楼道灯不亮"  # a table cell: text

    # The same form submitted again (a double click): nothing new is stored.
    next(b for b in at.button if b.label == "保存走访").click().run()
    assert [i.value for i in at.info][-1].startswith("这次走访已登记过")
    assert visits(db) == count + 1
    assert int(metric(at, "已见面户数")) == met_before + 1


def test_an_invalid_visit_is_explained_and_not_stored(db: Path) -> None:
    at = open_grid({"grid": "G0001", "household": "H0000002"})
    count = visits(db)
    at.date_input(key="v_date_H0000002").set_value(dt.date.today())
    at.time_input(key="v_time_H0000002").set_value(dt.time(20, 15))
    next(b for b in at.button if b.label == "保存走访").click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1
    assert "请选择走访结果" in errors[0]
    assert "不在工作时间 08:30–17:30 内" in errors[0]
    assert visits(db) == count


def test_a_need_found_opens_an_issue(db: Path) -> None:
    at = open_grid({"grid": "G0001", "household": "H0000002"})
    with open_store(str(db)) as store:
        issues = int(store.scalar("SELECT COUNT(*) FROM issues"))
    at.radio(key="v_outcome_H0000002").set_value("met")
    at.checkbox(key="v_needs_H0000002").check()
    at.selectbox(key="v_category_H0000002").set_value("加装电梯")
    at.radio(key="v_level_H0000002").set_value("grid")
    next(b for b in at.button if b.label == "保存走访").click().run()
    assert "并新建诉求 #" in at.success[0].value
    with open_store(str(db)) as store:
        assert int(store.scalar("SELECT COUNT(*) FROM issues")) == issues + 1
        row = store.read_table("issues", scope=Scope.everything()).iloc[-1]
    assert (row["household_id"], row["category"], row["level"], row["status"]) == (
        "H0000002",
        "加装电梯",
        "grid",
        "open",
    )


def test_the_buildings_map_keeps_its_place_at_its_own_height() -> None:
    """ui/phone.css holds the map's place at the height pages/grid.py draws it (one figure, two files)."""
    import re

    from ui.grid_data import MAP_HEIGHT

    css = (Path(__file__).resolve().parents[1] / "ui" / "phone.css").read_text(encoding="utf-8")
    rule = re.search(r"\.st-key-buildings_map\s*\{([^}]*)\}", css)
    assert rule is not None, "no rule for the buildings map's place"
    assert re.search(rf"min-height:\s*{MAP_HEIGHT}px", rule.group(1)), rule.group(1)
