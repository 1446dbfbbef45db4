"""Today's walk: the grid glue (geo.walks), `sibai route`, and the page under AppTest."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.cli import main
from geo.demo import install_demo
from geo.store import open_store
from geo.walks import plan_grid_walk, walk_inputs, walk_map, walk_table

APP = str(Path(__file__).resolve().parents[1] / "app.py")
AS_OF = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("walk") / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=11, as_of=AS_OF)
    return str(path)


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def test_walk_respects_the_window_visits_nobody_twice_and_never_a_vacant_home(tiny_db: str) -> None:
    with open_store(tiny_db) as store:
        inputs = walk_inputs(store, "G0003")
        households = store.read_table("households")
        buildings = store.read_table("buildings")
    walk, priority = plan_grid_walk(inputs, on=AS_OF, start="13:00", end="15:30", minutes_per_visit=8)
    chosen = walk.household_ids
    assert chosen, "an afternoon fits at least one household"
    assert len(chosen) == len(set(chosen))
    occupied = set(households.loc[households["occupied"] == 1, "household_id"])
    assert set(chosen) <= occupied
    in_grid = set(buildings.loc[buildings["grid_id"] == "G0003", "building_id"])
    assert set(walk.stops["building_id"]) <= in_grid
    arrive = [_minutes(a) for a in walk.stops["arrive"]]
    leave = [_minutes(a) for a in walk.stops["leave"]]
    assert arrive == sorted(arrive) and all(a <= b for a, b in zip(arrive, leave, strict=True))
    assert arrive[0] >= _minutes("13:00") and leave[-1] <= _minutes("15:30")
    # Every chosen household is in the priority table; vacant ones never are.
    assert set(chosen) <= set(priority["household_id"])
    assert not (set(priority["household_id"]) - occupied)


def test_walk_table_and_map_are_offline_and_numbered(tiny_db: str) -> None:
    with open_store(tiny_db) as store:
        inputs = walk_inputs(store, "G0003")
    walk, _ = plan_grid_walk(inputs, on=AS_OF)
    table = walk_table(walk, inputs)
    assert table["order"].tolist() == list(range(1, len(walk.stops) + 1))
    assert table["households"].sum() == len(walk.household_ids)
    html = walk_map(walk, inputs).get_root().render()
    from geo.maps import find_external_urls

    assert find_external_urls(html) == []
    assert html.count("sibai-stop") == len(walk.stops)


def test_sibai_route_json_csv_and_errors(tiny_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "G0003", "--date", "2026-11-26", "--db", tiny_db]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"stops", "distance_m", "walk_min"}
    assert all(set(s) >= {"building_id", "household_ids", "arrive", "leave"} for s in out["stops"])
    assert main(["route", "G0003", "--date", "2026-11-26", "--format", "csv", "--db", tiny_db]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header == "order,building_id,arrive,leave,walk_m,household_ids"
    assert main(["route", "G9999", "--db", tiny_db]) == 1
    assert capsys.readouterr().err.strip() == "sibai route: error: no grid with id 'G9999'"
    assert main(["route", "G0003", "--start", "15:00", "--end", "14:00", "--db", tiny_db]) == 1
    assert "ends (14:00) before it starts (15:00)" in capsys.readouterr().err


def _page(db: str, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    monkeypatch.setenv("SIBAI_DB", db)
    monkeypatch.setenv("SIBAI_TODAY", AS_OF.isoformat())
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/walk.py").run()
    return at


def test_walk_page_shows_the_plan_of_the_linked_grid(tiny_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(tiny_db, monkeypatch, grid="G0003")
    assert not at.exception
    assert at.title[0].value == "今日走访"
    assert at.selectbox(key="walk_grid").value == "G0003"
    with open_store(tiny_db) as store:
        walk, _ = plan_grid_walk(walk_inputs(store, "G0003"), on=AS_OF)
    labels = {m.label: m.value for m in at.metric}
    assert labels["可走访户数"] == str(len(walk.household_ids))
    assert labels["预计结束"] <= "15:30"


def test_walk_page_refuses_an_end_before_the_start(tiny_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(tiny_db, monkeypatch, grid="G0003")
    at.time_input(key="walk_end").set_value(dt.time(12, 0)).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["结束时间必须晚于出发时间。"]
