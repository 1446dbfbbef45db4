"""Who sees what in the app, under Streamlit's AppTest: every role × every page × a foreign deep link.

The demo accounts (``geo.auth.create_demo_accounts``) hold the first street
S01, its first committee C001 and that committee's first grid G0001 of the
tiny district; grid G0007 (street S04, committee C003) is foreign to all of
them. Each page is opened with a link to G0007 and one of its buildings,
households and issues, and everything the page sends to the browser (each
element's protobuf, table cells included) is searched for the ids, names and
phones of households outside the role's scope. Also here: the sign-in form's
messages (wrong password, throttled, locked), a forged session value, session
expiry, a disabled account, and the audit rows of household views, exports,
imports, sign-outs and refusals.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from conftest import shown, sign_in
from streamlit.testing.v1 import AppTest

from geo import auth as core
from geo.clock import local_now
from geo.demo import install_demo
from geo.store import Scope, open_store
from geo.store import audit as trail
from ui import auth, routes

APP = str(Path(__file__).resolve().parents[1] / "app.py")
AS_OF = dt.date(2026, 11, 26)
FOREIGN_GRID = "G0007"
ROLES = ("public", "grid", "committee", "street", "district")
PAGES = ("district_map", "grid", "walk", "uncovered", "issues", "workers", "public", "data", "audit")
STAFF_PAGES = {"district_map", "grid", "walk", "uncovered", "issues", "workers"}
VISIBLE = {  # the grids each demo account's scope reaches (None: all)
    "public": set(),
    "grid": {"G0001"},
    "committee": {"G0001", "G0002", "G0003"},
    "street": {"G0001", "G0002", "G0003", "G0004", "G0005", "G0006"},
    "district": None,
}
SIGN_IN_NEEDED = "此页面仅向工作人员开放，请先登录。"
NO_ACCESS = "无权访问：该网格不在您的管辖范围内，不显示任何数据。"
PAGE_DENIED = "无权访问：您的角色不能使用此页面。"
VISITS = "户号,社工编号,走访时间,结果\r\nH0000001,W0001,2026-11-20 10:00,见面\r\n".encode()


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("access") / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=7, as_of=AS_OF)
        core.create_demo_accounts(store)
    return str(path)


@pytest.fixture
def db(tiny_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A copy of the tiny district for one test (sign-ins, audit rows and imports write to it)."""
    copy = tmp_path / "d.gpkg"
    copy.write_bytes(Path(tiny_db).read_bytes())
    monkeypatch.setenv("SIBAI_DB", str(copy))
    monkeypatch.setenv("SIBAI_TODAY", AS_OF.isoformat())
    st.cache_data.clear()
    st.cache_resource.clear()
    yield str(copy)
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def register(tiny_db: str) -> pd.DataFrame:
    """Every household with its grid: id, head name, phone."""
    with open_store(tiny_db) as store:
        everything = Scope.everything()
        hh = store.read_table(
            "households", scope=everything, columns=["household_id", "building_id", "head_name", "phone"]
        )
        b = store.read_table("buildings", scope=everything, columns=["building_id", "grid_id"])
    return hh.merge(b, on="building_id")


@pytest.fixture(scope="module")
def link(tiny_db: str, register: pd.DataFrame) -> dict[str, str]:
    """A deep link into the foreign grid: the grid, a building, a household and an issue of it."""
    row = register[register["grid_id"] == FOREIGN_GRID].iloc[0]
    with open_store(tiny_db) as store:
        issues = store.read_table("issues", scope=Scope.of(grids=[FOREIGN_GRID]), columns=["issue_id"])
    return {
        "grid": FOREIGN_GRID,
        "building": str(row["building_id"]),
        "household": str(row["household_id"]),
        "issue": str(int(issues["issue_id"].iloc[0])),
    }


@pytest.fixture(autouse=True)
def served(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the pages as under `sibai serve`: the routes mounted, the browser holding its CSRF cookie."""
    monkeypatch.setattr(routes, "MOUNTED", True)
    monkeypatch.setattr(auth, "_cookie", lambda name: "csrf-value" if name == "sibai_csrf" else None)


def foreign_values(register: pd.DataFrame, role: str) -> list[str]:
    """Ids, names and phones of households outside the role's scope (names also inside it left out)."""
    visible = VISIBLE[role]
    if visible is None:
        return []
    outside = register[~register["grid_id"].isin(visible)]
    inside = register[register["grid_id"].isin(visible)]
    own_names = set(inside["head_name"].dropna())
    values = set(outside["household_id"]) | set(outside["phone"].dropna())
    values |= {n for n in outside["head_name"].dropna() if n not in own_names and len(n) >= 2}
    return sorted(values)


def rendered(at: AppTest) -> bytes:
    """Everything the page sends to a browser, as AppTest sees it: each element's protobuf."""
    blobs = [
        el.proto.SerializeToString()
        for part in (at.main, at.sidebar)
        for el in part
        if getattr(el, "proto", None) is not None
    ]
    return b"\n".join(blobs)


def hits(at: AppTest, values: list[str]) -> list[str]:
    blob = rendered(at)
    return [v for v in values if v.encode() in blob]


def open_page(page: str, role: str, params: dict[str, str], db: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    sign_in(at, role, db=db)
    at.query_params.update(params)
    at.run()  # app.py: navigation, the sidebar, the gate
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(f"pages/{page}.py")
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def messages(at: AppTest) -> list[str]:
    return [e.value for e in (*at.error, *at.info, *at.warning)]


# ------------------------------------------------------------------ the matrix


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_a_foreign_deep_link_shows_nothing_of_the_area(
    role: str, page: str, db: str, register: pd.DataFrame, link: dict[str, str]
) -> None:
    at = open_page(page, role, link, db)
    assert hits(at, foreign_values(register, role)) == []
    said = messages(at)
    if role == "district":
        assert NO_ACCESS not in said and SIGN_IN_NEEDED not in said and PAGE_DENIED not in said
    elif page == "public":
        assert at.title[0].value == "四百走访公示"
    elif role == "public":
        assert said[-1] == SIGN_IN_NEEDED
        (form,) = [h.proto.body for h in at.get("html") if "<form" in h.proto.body]
        assert '<form method="post" action="/api/session/signin"' in form
    elif page in STAFF_PAGES:
        assert said == [NO_ACCESS]
        assert not at.dataframe and not at.metric
    else:
        assert said == [PAGE_DENIED]


@pytest.mark.parametrize("page", sorted(STAFF_PAGES))
@pytest.mark.parametrize("role", ["grid", "committee", "street"])
def test_without_a_link_each_page_shows_only_the_scope(
    role: str, page: str, db: str, register: pd.DataFrame
) -> None:
    at = open_page(page, role, {}, db)
    assert NO_ACCESS not in messages(at)
    assert hits(at, foreign_values(register, role)) == []


def test_the_scan_finds_foreign_households_where_the_district_sees_them(
    db: str, register: pd.DataFrame, link: dict[str, str]
) -> None:
    # The positive control: the same link and scan, as the district, on the walk page
    # (its priority table lists household ids) finds the foreign grid's households.
    at = open_page("walk", "district", link, db)
    found = set(hits(at, foreign_values(register, "grid"))) & set(register["household_id"])
    assert found and found <= set(register.loc[register["grid_id"] == FOREIGN_GRID, "household_id"])


def test_own_area_works_and_pickers_offer_only_the_scope(db: str, register: pd.DataFrame) -> None:
    at = open_page("grid", "committee", {"grid": "G0002"}, db)
    assert at.title[0].value.endswith("中远两湾城居民区2号网格")
    assert hits(at, foreign_values(register, "committee")) == []
    at = open_page("district_map", "committee", {}, db)
    assert [s.key for s in at.sidebar.selectbox] == [
        "period",
        "committee",
    ]  # their street is not wholly theirs
    assert at.sidebar.selectbox(key="committee").options == ["我的辖区", "中远两湾城居民区"]
    at = open_page("district_map", "street", {}, db)
    assert at.sidebar.selectbox(key="street").options == ["我的辖区", "长寿路街道"]
    at = open_page("grid", "grid", {}, db)  # a grid leader has one grid: it opens, no picker
    assert not at.selectbox and at.title[0].value.endswith("中远两湾城居民区1号网格")
    assert at.query_params["grid"] == "G0001"


def test_the_map_shows_figures_of_the_scope_only(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.gridmap

    seen: list[dict] = []
    monkeypatch.setattr(ui.gridmap, "show", lambda args, *, key: seen.append(args))
    at = open_page("district_map", "grid", {}, db)
    assert at.header[0].value == "我的辖区"
    style = json.loads(seen[-1]["style"])
    classes, ids = style["cls"], ui.gridmap.geometry(basemap="none").grid_ids
    drawn = {g for g, c in zip(ids, classes, strict=True) if c != -2}
    assert drawn == {"G0001"}  # the other 11 grids are drawn without figures


# ------------------------------------------------------------------ signing in


def test_the_sign_in_form_posts_to_the_route_and_shows_its_refusal(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The form is plain HTML posting to the app's own route (tests/test_session_routes.py checks the
    route); it carries this browser's CSRF value and the language, and shows a
    refusal the route sent back once."""
    monkeypatch.setattr(routes, "MOUNTED", False)
    at = open_page("grid", "public", {"grid": "G0001"}, db)
    assert "此服务器未提供登录：请用 sibai serve 启动应用。" in messages(at)  # plain `streamlit run`
    monkeypatch.setattr(routes, "MOUNTED", True)
    at = open_page("grid", "public", {"grid": "G0001", "signin": "bad_credentials"}, db)
    (form,) = [h.proto.body for h in at.get("html") if "<form" in h.proto.body]
    assert '<form method="post" action="/api/session/signin"' in form
    assert 'name="csrf" value="csrf-value"' in form and "G0001" not in form  # back by Referer
    assert 'name="ui_lang" value="zh"' in form and 'name="user"' in form and 'name="password"' in form
    assert at.error[0].value == "用户名或密码错误。连续失败多次后需等待一段时间才能再试。"
    assert "signin" not in at.query_params


def test_a_forged_session_value_grants_nothing(db: str, register: pd.DataFrame, link: dict[str, str]) -> None:
    with open_store(db) as store:
        real = auth.session_for(store, "demo-district", core.DEMO_PASSWORD)
    token = real.rpartition(".")[0]
    for forged in (f"{token}.{'A' * 43}", "x" * 40, core.User("demo-district", "district", ())):
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["role"] = "district"
        at.session_state["user"] = "demo-district"
        at.session_state[auth.SESSION_KEY] = forged
        at.query_params.update(link)
        at.run()
        at.switch_page("pages/grid.py")
        at.query_params.update(link)
        at.run()
        assert not at.exception
        assert SIGN_IN_NEEDED in messages(at)
        assert hits(at, foreign_values(register, "public")) == []
        assert not at.dataframe and not at.metric
        assert auth.SESSION_KEY not in at.session_state  # the forged session was dropped


def test_an_expired_session_signs_out(db: str) -> None:
    at = open_page("grid", "grid", {"grid": "G0001"}, db)
    assert at.header
    with open_store(db) as store, store.engine.begin() as conn:
        idle = (local_now(store.settings) - dt.timedelta(minutes=31)).strftime("%Y-%m-%d %H:%M:%S")
        conn.exec_driver_sql("UPDATE sessions SET last_seen = ?", (idle,))
    at.run()
    assert at.warning[0].value == "登录已过期，请重新登录。"
    assert SIGN_IN_NEEDED in [i.value for i in at.info]
    assert not at.header and not at.dataframe
    with open_store(db) as store:
        rows = trail.read(store, action="logout")
    assert rows[["who", "detail"]].values.tolist() == [["demo-grid", "session expired"]]


def test_a_disabled_account_loses_access_on_the_next_run(db: str) -> None:
    at = open_page("grid", "grid", {"grid": "G0001"}, db)
    assert at.header
    with open_store(db) as store:
        core.disable_user(store, "demo-grid")
    at.run()
    # Disabling ends the account's sessions: the page says the session ended.
    assert at.warning[0].value == "登录已结束（已在别处退出、修改了密码或账号已停用），请重新登录。"
    assert SIGN_IN_NEEDED in [i.value for i in at.info]
    assert not at.header


# ------------------------------------------------------------------ audit rows


def audit_rows(db: str, action: str) -> list[list[str]]:
    with open_store(db) as store:
        rows = trail.read(store, action=action)
    return rows[["who", "role", "target", "detail"]].values.tolist()


def test_household_view_and_refusal_are_audited(
    db: str, register: pd.DataFrame, link: dict[str, str]
) -> None:
    own = register[register["grid_id"] == "G0001"].iloc[0]
    at = open_page("grid", "grid", {"grid": "G0001", "household": own["household_id"]}, db)
    at.run()  # a rerun of the same profile is not a second view
    assert audit_rows(db, "view_household") == [
        ["demo-grid", "grid", f"household:{own['household_id']}", "grid:G0001"]
    ]
    open_page("grid", "grid", link, db)
    # Newest first: the app's default page (the map) ran first with the same link, then the grid page.
    assert audit_rows(db, "denied") == [
        ["demo-grid", "grid", f"grid:{FOREIGN_GRID}", "page:grid"],
        ["demo-grid", "grid", f"grid:{FOREIGN_GRID}", "page:map"],
    ]
    open_page("audit", "street", {}, db)
    assert audit_rows(db, "denied")[0] == ["demo-street", "street", "page:audit", ""]


def test_export_import_and_sign_out_are_audited(db: str, download: Callable[[object], bytes | str]) -> None:
    at = open_page("workers", "committee", {}, db)
    assert audit_rows(db, "export") == [], "drawing the buttons exports nothing"
    assert download(at.get("download_button")[1])
    ((who, role, target, detail),) = audit_rows(db, "export")
    assert (who, role, target) == ("demo-committee", "committee", f"file:workers-{AS_OF.isoformat()}.csv")
    assert detail.endswith(" rows")

    at = open_page("data", "district", {}, db)
    at.selectbox(key="data_kind").set_value("visits")
    at.file_uploader(key="data_file").set_value(("走访.csv", VISITS, "text/csv"))
    at.run()
    at.button(key="data_start").click().run()
    assert not at.exception
    assert audit_rows(db, "import") == [
        [
            "demo-district",
            "district",
            "visits:走访.csv",
            "dry run: False; accepted 1, rejected 0, unchanged 0",
        ]
    ]

    # Sign out from the sidebar's account box (drawn by app.py).
    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at, "street", db=db)
    at.run()
    at.sidebar.button(key="auth_sign_out").click().run()
    assert not at.exception
    assert "已退出登录。" in [i.value for i in at.sidebar.info]
    assert audit_rows(db, "logout") == [["demo-street", "street", "user:demo-street", "signed out"]]
    assert at.title[0].value == "四百走访公示"  # the public page again


# ------------------------------------------------------------------ single sign-on

SSO_SECRETS = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "test-only",
        "client_id": "sibai",
        "client_secret": "test-only",
        "server_metadata_url": "https://idp.invalid/.well-known/openid-configuration",
    }
}


def test_single_sign_on_maps_the_identity_to_its_account(db: str) -> None:
    with open_store(db) as store:
        core.add_user(
            store, "wang", role="committee", areas=["C001"], password=None, sso="Wang@Example.gov.cn"
        )
    # Not signed in with the identity provider: the form offers single sign-on too.
    at = open_page("grid", "public", {"grid": "G0001"}, db)
    assert "单点登录 / Single sign-on" not in [b.label for b in at.button]  # not configured
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = SSO_SECRETS
    at.switch_page("pages/grid.py")
    at.run()
    assert "单点登录 / Single sign-on" in [b.label for b in at.button]

    # Signed in as a known identity: that account's role and areas, and a login row.
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {"is_logged_in": True, "email": "wang@example.gov.cn"}
    at.switch_page("pages/grid.py")
    at.query_params["grid"] = "G0002"
    at.run()
    assert not at.exception
    assert at.title[0].value == "网格 · 中远两湾城居民区2号网格"
    assert audit_rows(db, "login")[0] == ["wang", "committee", "user:wang", "single sign-on"]
    at.query_params["grid"] = FOREIGN_GRID
    at.run()
    assert messages(at) == [NO_ACCESS]


def test_an_unknown_identity_gets_a_clear_message_and_nothing(db: str) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {"is_logged_in": True, "email": "stranger@example.com"}
    at.run()  # app.py: the account box in the sidebar
    assert not at.exception
    (warning,) = at.sidebar.warning
    assert shown(warning.value) == "单点登录身份 stranger@example.com 没有对应的账号，请联系区级管理员开通。"
    assert at.sidebar.button(key="auth_sso_logout").label == "退出单点登录"
    assert at.title[0].value == "四百走访公示"  # the public page only
    assert audit_rows(db, "login_failed")[0] == [
        "stranger@example.com",
        "public",
        "sso:stranger@example.com",
        "no account for this identity",
    ]


@pytest.mark.parametrize("bad", ["²", "9" * 25, "-3", "1e5"])
@pytest.mark.parametrize("page", ["district_map", "grid", "walk", "issues"])
@pytest.mark.parametrize(("lang", "no_such"), [("zh", "找不到编号为"), ("en", "No issue #")])
def test_a_malformed_issue_id_is_no_such_issue_not_a_crash(
    page: str, bad: str, lang: str, no_such: str, db: str
) -> None:
    """``?issue=²`` or a 25-digit id showed Streamlit's own error page (issue 19): now "no such issue"."""
    at = AppTest.from_file(APP, default_timeout=90)
    sign_in(at, "grid", db=db)
    at.switch_page(f"pages/{page}.py")
    at.query_params.update({"issue": bad, "lang": lang})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if page == "issues":
        assert any(no_such in m for m in messages(at)), messages(at)


def test_the_printable_walk_is_audited_like_every_download(
    db: str, download: Callable[[object], bytes | str]
) -> None:
    """The walk's printable page lists household ids and addresses: its download writes an export row."""
    at = open_page("walk", "grid", {"grid": "G0001"}, db)
    printable = next(b for b in at.get("download_button") if b.proto.id.endswith("dl_walk_print"))
    assert "<html" in str(download(printable)).lower()
    ((who, role, target, detail),) = audit_rows(db, "export")
    assert (who, role) == ("demo-grid", "grid")
    assert target.startswith("file:walk_G0001_") and target.endswith(".html")
    assert detail.endswith(" rows")
