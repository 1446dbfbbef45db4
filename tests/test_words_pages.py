"""Words on the screens come from the catalogue, in the page's language (issue 14), under AppTest."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from conftest import sign_in
from streamlit.testing.v1 import AppTest

from geo.clock import local_now
from geo.demo import install_demo
from geo.store import open_store

APP = str(Path(__file__).resolve().parents[1] / "app.py")
AS_OF = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("words") / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=7, as_of=AS_OF)
    return str(path)


def _app(
    db: str, monkeypatch: pytest.MonkeyPatch, role: str = "district", page: str | None = None
) -> AppTest:
    monkeypatch.setenv("SIBAI_DB", db)
    monkeypatch.setenv("SIBAI_TODAY", AS_OF.isoformat())
    at = AppTest.from_file(APP if page is None else page, default_timeout=60)
    sign_in(at, role, db=db)
    return at


def test_a_language_switch_sends_every_chosen_option_again_in_the_new_language(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The browser keeps a selector's choice as the label it showed: unless the
    # value is sent again, an English page goes on showing 本月 and 全部.
    at = _app(tiny_db, monkeypatch)
    at.run()
    at.sidebar.selectbox(key="period").select("month").run()
    # Sent again through the session state, and so without a default beside it: a widget with
    # both makes Streamlit warn in the server's log (its loggers do not propagate to caplog).
    warned: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: warned.append(record.getMessage())  # type: ignore[method-assign]
    policies = logging.getLogger("streamlit.elements.lib.policies")
    policies.addHandler(handler)
    try:
        at.sidebar.segmented_control(key="lang").set_value("en").run()
    finally:
        policies.removeHandler(handler)
    assert not at.exception
    assert [m for m in warned if "default value" in m] == []
    period = at.sidebar.selectbox(key="period")
    street = at.sidebar.selectbox(key="street")
    assert (period.value, period.proto.set_value, period.proto.raw_value) == ("month", True, "This month")
    assert (street.value, street.proto.set_value, street.proto.raw_value) == ("", True, "All")


def _texts(at: AppTest) -> list[str]:
    return [str(e.value) for kind in ("caption", "markdown", "info", "warning") for e in at.get(kind)]


@pytest.mark.parametrize(("role", "command_shown"), [("grid", False), ("district", True)])
def test_the_walk_names_the_paths_command_to_administrators_only(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch, role: str, command_shown: bool
) -> None:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    at = _app(tiny_db, monkeypatch, role=role)
    at.run()
    at.switch_page("pages/walk.py").run()
    assert not at.exception
    notes = [x for x in _texts(at) if "×" in x]  # the note on how distances were measured
    assert notes, _texts(at)
    assert any("sibai import-paths" in x for x in notes) is command_shown


def test_the_audit_trail_reads_in_words_not_in_code(tiny_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first start's accounts were listed under the role "cli" with "demo account; role=district
    # areas=" as their detail, and every sign-in as "password".
    from geo.auth import create_demo_accounts

    with open_store(tiny_db) as store:
        create_demo_accounts(store)
    at = _app(tiny_db, monkeypatch)
    # The rows are written now: today in the district's time zone, not the machine's.
    monkeypatch.setenv("SIBAI_TODAY", local_now().date().isoformat())
    at.run()
    at.switch_page("pages/audit.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    roles, details = set(table["角色"]), set(table["说明"])
    assert "系统（命令行或首次启动）" in roles and "区级" in roles
    assert not roles & {"cli", "district", "street", "committee", "grid"}
    assert "密码登录" in details and "演示账号；角色：区级；辖区：全区" in details
    assert not [d for d in details if d == "password" or "role=" in d or "demo account" in d]


@pytest.mark.parametrize("role", ["district", "street", "committee"])
def test_office_tables_without_rows_say_so_in_the_page_language(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    # Streamlit draws a table without rows with its own word "empty" (the staffing table by street
    # for a committee account).
    at = _app(tiny_db, monkeypatch, role=role)
    at.run()
    at.switch_page("pages/workers.py").run()
    assert not at.exception
    assert [len(d.value) for d in at.dataframe if len(d.value) == 0] == []
    if role == "committee":
        assert "（没有可显示的行）" in [c.value for c in at.caption]


def test_the_data_page_labels_its_file_uploader_in_chinese(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # st.file_uploader has no parameters for its "Upload" button and "200MB per file" line: the
    # data page hides them with a style sheet and shows catalogue words in their place.
    at = _app(tiny_db, monkeypatch)
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    assert len(at.get("file_uploader")) == 1
    (style,) = [h.proto.body for h in at.get("html") if "stFileUploaderDropzone" in h.proto.body]
    assert 'content: "选择文件"' in style and "每个文件不超过 200 MB" in style
    assert 'stFileUploaderDropzoneInstructions"] > * {display: none;}' in style


def _uploader_script(lang: str) -> None:
    import streamlit as st

    from ui.uploads import file_uploader

    st.session_state["lang"] = lang
    file_uploader("file", types=["csv", "xlsx"], key="f")


def test_the_file_uploader_is_labelled_in_english_on_english_pages() -> None:
    at = AppTest.from_function(_uploader_script, args=("en",)).run()
    assert not at.exception
    (style,) = [h.proto.body for h in at.get("html")]
    assert 'content: "Choose a file"' in style and "Drop a file here, up to 200 MB each · CSV, XLSX" in style


def test_a_grid_leader_sees_their_own_name_in_full_and_colleagues_masked(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Their own name was 顾* in the visit history and 顾文 on the walk: one rule now.
    import sqlite3

    from geo.privacy import mask_name

    con = sqlite3.connect(tiny_db)
    (leader, name), *_ = con.execute(
        "SELECT w.worker_id, w.name FROM grid_workers g JOIN workers w USING (worker_id)"
        " WHERE g.grid_id = 'G0001' AND g.role = 'leader'"
    ).fetchall()
    others = dict(
        con.execute(
            "SELECT worker_id, name FROM workers WHERE committee_id = (SELECT committee_id FROM grids"
            " WHERE grid_id = 'G0001') AND worker_id != ?",
            (leader,),
        ).fetchall()
    )
    con.close()
    at = _app(tiny_db, monkeypatch, role="grid")
    at.run()
    at.switch_page("pages/walk.py").run()
    assert not at.exception
    shown = {o for sb in at.selectbox for o in sb.options if "（W" in o}
    assert f"{name}（{leader}）" in shown
    assert not [o for o in shown for w, n in others.items() if o == f"{n}（{w}）" and mask_name(n) != n]


def test_an_address_with_an_area_opens_with_that_area_chosen(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sidebar's selectors take their first value from the address (a shared link).
    at = _app(tiny_db, monkeypatch)
    at.query_params["street"] = "S01"
    at.query_params["committee"] = "C001"
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox(key="street").value == "S01"
    assert at.sidebar.selectbox(key="committee").value == "C001"
    assert at.sidebar.selectbox(key="period").value == "ytd"
