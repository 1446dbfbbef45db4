"""The district map page under Streamlit's AppTest: render, deep links, clicks, language, escaping."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from conftest import shown, sign_in
from streamlit.testing.v1 import AppTest

from geo.demo import install_demo
from geo.store import Scope, gpkg, open_store

APP = str(Path(__file__).resolve().parents[1] / "app.py")
AS_OF = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("district") / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=7, as_of=AS_OF)
    # A grid name as a hostile import might bring it.
    con = sqlite3.connect(path)
    gpkg.add_sql_functions(con)  # the layers' R-tree triggers call ST_MinX & co.
    con.execute("UPDATE grids SET name = '<img src=x onerror=alert(1)>' WHERE grid_id = 'G0002'")
    con.commit()
    con.close()
    return str(path)


def _app(db: str, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    monkeypatch.setenv("SIBAI_DB", db)
    monkeypatch.setenv("SIBAI_TODAY", AS_OF.isoformat())  # figures are for the district's day
    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at, "district", db=db)
    for k, v in query.items():
        at.query_params[k] = v
    return at


def _summary_values(at: AppTest) -> list[str]:
    return [m.value for m in at.metric]


def test_default_view_shows_the_district_summary(tiny_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(tiny_db, monkeypatch)
    at.run()
    assert not at.exception
    assert at.title[0].value == "四百网格地图"
    assert at.header[0].value == "普陀区"
    # Coverage shown equals the engine's district figure for the sidebar's default period (year to date).
    with open_store(tiny_db) as store:
        from geo.live import coverage_index_from_store

        index, _ = coverage_index_from_store(store, scope=Scope.everything())
    district = index.coverage(dt.date(2026, 1, 1), AS_OF, level="district").iloc[0]
    assert _summary_values(at) == [f"{district['coverage'] * 100:.1f}%"]


def test_deep_link_selects_a_grid_with_breadcrumbs(tiny_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(tiny_db, monkeypatch, grid="G0003")
    at.run()
    assert not at.exception
    with open_store(tiny_db) as store:
        grids = store.read_table("grids", scope=Scope.everything())
        committees = store.read_table("committees", scope=Scope.everything())
        streets = store.read_table("streets", scope=Scope.everything())
    g = grids.set_index("grid_id").loc["G0003"]
    c = committees.set_index("committee_id").loc[g["committee_id"]]
    s = streets.set_index("street_id").loc[c["street_id"]]
    assert at.header[0].value == g["name"]
    assert at.main.caption[-2].value == " › ".join(["普陀区", s["name"], c["name"], g["name"]])
    assert at.warning.len == 0


@pytest.mark.parametrize(("key", "value", "what"), [("grid", "G9999", "网格"), ("street", "S99", "街道")])
def test_unknown_id_in_the_url_gets_a_clear_message(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch, key: str, value: str, what: str
) -> None:
    at = _app(tiny_db, monkeypatch, **{key: value})
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == [f"找不到编号为 {value} 的{what}，请检查链接。"]
    assert at.header[0].value == "普陀区"


def test_a_click_on_the_map_selects_the_grid_and_mirrors_it_in_the_url(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(tiny_db, monkeypatch)
    at.run()
    assert at.header[0].value == "普陀区"
    # What the component sends on a click becomes its value under its key;
    # the rerun it triggers sees it in the session state.
    at.session_state["district_map"] = {"grid": "G0005", "click": "f1:1", "seq": 1}
    at.run()
    assert not at.exception
    assert at.query_params["grid"] in ("G0005", ["G0005"])
    with open_store(tiny_db) as store:
        name = store.read_table("grids", scope=Scope.everything()).set_index("grid_id").loc["G0005", "name"]
    assert at.header[0].value == name
    # The same click seen again (any later rerun) does not undo a newer deep link.
    at.query_params["grid"] = "G0006"
    at.run()
    with open_store(tiny_db) as store:
        other = store.read_table("grids", scope=Scope.everything()).set_index("grid_id").loc["G0006", "name"]
    assert at.header[0].value == other


def test_the_first_click_in_a_new_map_frame_is_not_taken_for_the_last_one(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: coming back to the map opens a new frame whose click counter starts at 1 again."""
    at = _app(tiny_db, monkeypatch)
    at.run()
    at.session_state["district_map"] = {"grid": "G0005", "click": "frame-a:1", "seq": 1}
    at.run()
    assert at.query_params["grid"] in ("G0005", ["G0005"])
    at.session_state["district_map"] = {"grid": "G0006", "click": "frame-b:1", "seq": 1}
    at.run()
    assert not at.exception
    assert at.query_params["grid"] in ("G0006", ["G0006"])
    with open_store(tiny_db) as store:
        name = store.read_table("grids", scope=Scope.everything()).set_index("grid_id").loc["G0006", "name"]
    assert at.header[0].value == name


def test_english_switch(tiny_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(tiny_db, monkeypatch, lang="en")
    at.run()
    assert not at.exception
    assert at.title[0].value == "Sibai Grid Map"
    assert at.metric[0].label == "Coverage"


def test_hostile_grid_name_is_shown_as_text(tiny_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(tiny_db, monkeypatch, grid="G0002")
    at.run()
    assert not at.exception
    # Streamlit renders subheaders as markdown without raw HTML: the text stays literal.
    assert shown(at.header[0].value) == "<img src=x onerror=alert(1)>"
    assert "<" not in at.header[0].value
    assert "<img" not in " ".join(m.value for m in at.markdown if "unsafe" in str(m.proto))


def test_amap_basemap_draws_a_gcj02_copy_and_none_asks_no_tiles(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import ui.gridmap
    from geo import crs, maps

    seen: list[dict] = []
    monkeypatch.setattr(ui.gridmap, "show", lambda args, *, key: seen.append(args))
    at = _app(tiny_db, monkeypatch)
    at.run()
    assert seen[-1]["tiles"] == []  # the default basemap is none: no tile server at all
    wgs_path = seen[-1]["geometry"]
    at.selectbox(key="basemap").set_value("amap").run()
    assert not at.exception
    args = seen[-1]
    assert args["geometry"] != wgs_path
    assert any("autonavi" in t["url"] or "amap" in t["url"] for t in args["tiles"])
    # The file the browser loads holds the grids shifted to GCJ-02, to the metre.
    folder = maps.build_assets()
    gcj = maps.geometry_from_payload(json.loads((folder / args["geometry"]).read_text()))
    with open_store(tiny_db) as store:
        grids = store.read_layer("grids", scope=Scope.everything())
    expected = crs.to_gcj02(grids).set_index("grid_id").geometry
    got = gcj.set_index("id").geometry
    import shapely

    a = shapely.centroid(expected.to_numpy())
    b = shapely.centroid(got.reindex(expected.index).to_numpy())
    shift = shapely.distance(a, b)  # degrees; GCJ-02 moves Shanghai by ~500 m, so this is strict
    assert float(shift.max()) < 2e-5  # under ~2 m after 1 m quantisation and simplification
