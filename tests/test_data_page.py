"""The data page (导入/导出) under Streamlit's AppTest: upload, summary, rejects, errors, export."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from conftest import sign_in
from streamlit.testing.v1 import AppTest

from geo.demo import install_demo
from geo.store import Scope, open_store
from geo.store import audit as trail

APP = str(Path(__file__).resolve().parents[1] / "app.py")
AS_OF = dt.date(2026, 11, 26)

VISITS = (
    "户号,社工编号,走访时间,结果,备注\r\n"
    "H0000001,W0001,2026-11-20 10:00,见面,正常\r\n"
    "H9999999,W0001,2026-11-20 10:30,见面,\r\n"
    "H0000002,W0001,2026/11/20 11:00,不在家,\r\n"
).encode("gbk")


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data_page") / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=7, as_of=AS_OF)
    return path


@pytest.fixture
def db(tiny_db: Path, tmp_path: Path) -> str:
    path = tmp_path / "district.gpkg"
    shutil.copy(tiny_db, path)
    return str(path)


def data_page(db: str, monkeypatch: pytest.MonkeyPatch, lang: str = "zh") -> AppTest:
    # Each test writes to its own copy: forget the settings and store cached for another test's file.
    st.cache_resource.clear()
    st.cache_data.clear()
    monkeypatch.setenv("SIBAI_DB", db)
    monkeypatch.setenv("SIBAI_TODAY", AS_OF.isoformat())  # figures are for the district's day
    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at, "district", db=db)
    at.query_params["lang"] = lang  # a signed-in session takes its language from the link, else its own
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception
    return at


def upload(at: AppTest, kind: str, name: str, payload: bytes, *, dry_run: bool = False) -> AppTest:
    at.selectbox(key="data_kind").set_value(kind)
    at.file_uploader(key="data_file").set_value((name, payload, "text/csv"))
    at.checkbox(key="data_dry_run").set_value(dry_run)
    at.run()
    at.button(key="data_start").click()
    at.run()
    assert not at.exception
    return at


def metrics(at: AppTest) -> list[str]:
    return [m.value for m in at.metric]


def test_upload_shows_counts_summary_problems_and_the_rejects_file(
    db: str, monkeypatch: pytest.MonkeyPatch, download: Callable[[object], bytes | str]
) -> None:
    at = data_page(db, monkeypatch)
    assert at.title[0].value == "数据导入与导出"
    assert at.button(key="data_start").disabled  # nothing uploaded yet
    upload(at, "visits", "走访.csv", VISITS)
    assert metrics(at) == ["2", "1", "0"]
    assert [m.label for m in at.metric] == ["接受", "拒绝", "未变（已存在）"]
    assert at.text[-1].value == "走访.csv → 走访记录：接受 2 行，拒绝 1 行，未变 0 行（共 3 行）"
    problems = at.dataframe[0].value
    assert problems.to_dict("records") == [
        {"行号": "", "列": "", "级别": "提示", "说明": "文本编码：GB18030"},
        {"行号": "3", "列": "户号 (household_id)", "级别": "拒绝", "说明": "户 'H9999999' 不存在"},
    ]
    (rejects,) = at.get("download_button")
    assert rejects.proto.label == "下载拒绝行（含行号、列和原因）"
    # The rejected rows are household data: downloading them is audited like every export.
    assert download(rejects)
    with open_store(db) as store:
        exports = trail.read(store, action="export")
    ((who, target, detail),) = exports[["who", "target", "detail"]].values.tolist()
    assert (who, detail) == ("demo-district", "1 rows")
    assert target.startswith("file:") and "走访" in target
    with open_store(db) as store:
        visits = store.read_table("visits", scope=Scope.everything())
    assert visits.tail(2)[["household_id", "outcome"]].values.tolist() == [
        ["H0000001", "met"],
        ["H0000002", "not_home"],
    ]

    # The same file again: nothing is added.
    at.button(key="data_start").click()
    at.run()
    assert metrics(at) == ["0", "1", "2"]
    with open_store(db) as store:
        assert len(store.read_table("visits", scope=Scope.everything())) == len(visits)


def test_dry_run_and_an_unreadable_file_change_nothing(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(db) as store:
        before = store.counts(), store.versions()
    at = data_page(db, monkeypatch, lang="en")
    upload(at, "visits", "v.csv", VISITS, dry_run=True)
    assert metrics(at) == ["2", "1", "0"]
    assert at.info[0].value == "Dry run: everything was checked, nothing written."
    upload(at, "households", "households.csv", b"\x89PNG\r\n\x1a\n0000")
    assert at.error[0].value == "The file cannot be imported; nothing was changed:"
    assert at.text[0].value == "households.csv: this is a PNG image, not a table or GIS file"
    assert metrics(at) == []
    with open_store(db) as store:
        assert (store.counts(), store.versions()) == before


def test_user_text_is_never_rendered_as_markup(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = data_page(db, monkeypatch, lang="en")
    hostile = "<img src=x onerror=alert(1)>[x](http://evil).csv"
    upload(at, "workers", hostile, "工号,姓名,居委会编号\nW8001,**bold**<b>,C999\n".encode())
    shown = [m.value for m in at.markdown] + [e.value for e in at.error] + [w.value for w in at.warning]
    assert not any("<img" in s or "evil" in s or "**bold**" in s for s in shown)
    assert any(hostile in t.value for t in at.text)
    assert at.dataframe[0].value["Message"].tolist() == ["unknown committee 'C999'"]


def test_export_offers_a_download_in_the_chosen_format(
    db: str, monkeypatch: pytest.MonkeyPatch, download: Callable[[object], bytes | str]
) -> None:
    at = data_page(db, monkeypatch)
    at.selectbox(key="data_table").set_value("workers")
    at.run()
    at.radio(key="data_format_workers").set_value("xlsx")
    at.run()
    at.button(key="data_prepare").click()
    at.run()
    assert not at.exception
    (button,) = at.get("download_button")
    assert button.proto.label == "下载 workers.xlsx"
    payload = download(button)  # the file the button gives, as built by the page
    assert isinstance(payload, bytes)
    sheet = pd.read_excel(io.BytesIO(payload))
    assert sheet.columns.tolist() == ["社工编号", "姓名", "居委会编号", "联系电话", "在岗"]
    assert len(sheet) == 12


def test_roles_without_import_rights_see_no_upload(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    st.cache_resource.clear()
    monkeypatch.setenv("SIBAI_DB", db)
    monkeypatch.setenv("SIBAI_TODAY", AS_OF.isoformat())  # figures are for the district's day
    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at, "street", db=db)  # the data page is the district's (ui.auth.PAGES)
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception
    assert at.error[0].value == "无权访问：您的角色不能使用此页面。"
    assert len(at.get("file_uploader")) == 0
