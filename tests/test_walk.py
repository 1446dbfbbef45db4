"""Today's walk: the area glue (geo.walks), team mode, ticking, `sibai route`, and the page under AppTest."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from geo.cli import main
from geo.demo import install_demo
from geo.maps import find_external_urls
from geo.privacy import mask_name
from geo.store import OutOfScope, Scope, open_store
from geo.store.walking import read_duty, set_duty
from geo.walks import (
    WalkStart,
    default_duty,
    door_labels,
    plan_grid_walk,
    plan_team_walk,
    print_html,
    record_ticks,
    team_inputs,
    team_table,
    walk_inputs,
    walk_map,
    walk_outcomes,
    walk_start,
    walk_svg,
    walk_table,
)
from tests.conftest import sign_in

APP = str(Path(__file__).resolve().parents[1] / "app.py")
AS_OF = dt.date(2026, 11, 26)
ALL = Scope.everything()
NOW = dt.datetime(2026, 11, 26, 16, 0)


def _build(path: Path) -> str:
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=11, as_of=AS_OF)
    return str(path)


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny district that no test writes to."""
    return _build(tmp_path_factory.mktemp("walk") / "tiny.gpkg")


@pytest.fixture
def fresh_db(tmp_path: Path) -> str:
    """A tiny district of one test's own (for writes)."""
    return _build(tmp_path / "fresh.gpkg")


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def test_walk_respects_the_window_visits_nobody_twice_and_never_a_vacant_home(tiny_db: str) -> None:
    with open_store(tiny_db) as store:
        inputs = walk_inputs(store, "G0003", scope=ALL)
        households = store.read_table("households", scope=ALL)
        buildings = store.read_table("buildings", scope=ALL)
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


def test_a_building_name_is_never_run_as_a_template_on_the_walk_map(tiny_db: str) -> None:
    """Folium pages go through Jinja: a name like ``{{ 7*7 }}`` shows as typed (maps.builders.Verbatim)."""
    with open_store(tiny_db) as store:
        inputs = walk_inputs(store, "G0003", scope=ALL)
    assert inputs.footprints is not None
    footprints = inputs.footprints.assign(name="{{ 'QX' ~ 'JV' }}{% for x in range(3) %}ZQ{% endfor %}")
    walk, _ = plan_grid_walk(inputs, on=AS_OF)
    html = walk_map(walk, dataclasses.replace(inputs, footprints=footprints)).get_root().render()
    assert "QXJV" not in html and "ZQZQZQ" not in html
    assert "range(3)" in html


def test_walk_table_map_and_print_page_are_offline_and_numbered(tiny_db: str) -> None:
    with open_store(tiny_db) as store:
        inputs = walk_inputs(store, "G0003", scope=ALL)
    walk, _ = plan_grid_walk(inputs, on=AS_OF)
    table = walk_table(walk, inputs, on=AS_OF)
    assert table["order"].tolist() == list(range(1, len(walk.stops) + 1))
    assert table["households"].sum() == len(walk.household_ids)
    assert table["done"].tolist() == [f"0/{n}" for n in table["households"]]
    html = walk_map(walk, inputs).get_root().render()
    assert find_external_urls(html) == []
    assert html.count("sibai-stop") == len(walk.stops)
    # Footprints of every building of the grid lie under the stops.
    assert inputs.footprints is not None and len(inputs.footprints) == len(inputs.buildings) > 0
    assert html.count('"building_id"') >= len(inputs.footprints)
    page = print_html("今日走访", AS_OF.isoformat(), [("", table)], walk_svg(walk, inputs))
    assert find_external_urls(page.replace('xmlns="http://www.w3.org/2000/svg"', "")) == []
    assert page.count("<tr") == len(table) + 1 and "@media print" in page
    assert page.count("<polygon") == len(inputs.footprints)


def test_a_grid_or_committee_outside_the_scope_is_refused(tiny_db: str) -> None:
    with open_store(tiny_db) as store:
        committee = store.read_table("grids", scope=ALL).set_index("grid_id").loc["G0003", "committee_id"]
        with pytest.raises(OutOfScope, match="grid G0003 is outside your area"):
            walk_inputs(store, "G0003", scope=Scope.of(grids=["G0001"]))
        with pytest.raises(LookupError, match="no grid with id 'G9999'"):
            walk_inputs(store, "G9999", scope=ALL)
        # A grid leader sees the grid, but team mode needs the whole committee.
        assert walk_inputs(store, "G0003", scope=Scope.of(grids=["G0003"])).grid_id == "G0003"
        with pytest.raises(OutOfScope, match=f"committee {committee} is outside your area"):
            team_inputs(store, committee, scope=Scope.of(grids=["G0003"]), day=AS_OF)
        assert team_inputs(store, committee, scope=Scope.of(committees=[committee]), day=AS_OF).grid_id == ""


def test_duty_rota_is_data_with_a_rotation_by_default(fresh_db: str) -> None:
    with open_store(fresh_db) as store:
        workers = store.read_table("workers", scope=ALL)
        ids = sorted(workers.loc[(workers["committee_id"] == "C001") & (workers["active"] == 1), "worker_id"])
        assert read_duty(store, "C001", AS_OF) is None
        inputs = team_inputs(store, "C001", scope=ALL, day=AS_OF)
        assert inputs.workers.loc[inputs.workers["on_duty"], "worker_id"].tolist() == [
            default_duty(ids, AS_OF)
        ]
        # Consecutive workdays hand the duty on; the weekend does not advance it.
        friday, monday = dt.date(2026, 11, 27), dt.date(2026, 11, 30)
        assert default_duty(ids, monday) == ids[(ids.index(default_duty(ids, friday)) + 1) % len(ids)]
        other = next(w for w in ids if w != default_duty(ids, AS_OF))
        set_duty(store, "C001", AS_OF, other, set_by="书记")
        inputs = team_inputs(store, "C001", scope=ALL, day=AS_OF)
        assert inputs.workers.loc[inputs.workers["on_duty"], "worker_id"].tolist() == [other]
        with pytest.raises(ValueError, match="no active worker 'W9999' in committee 'C001'"):
            set_duty(store, "C001", AS_OF, "W9999")


def test_team_walks_leave_the_duty_worker_in_and_share_households_once(tiny_db: str) -> None:
    with open_store(tiny_db) as store:
        inputs = team_inputs(store, "C001", scope=ALL, day=AS_OF)
        households = store.read_table("households", scope=Scope.of(committees=["C001"]))
    plan, _priority = plan_team_walk(inputs, on=AS_OF, time_limit_s=1.0)
    duty = inputs.workers.loc[inputs.workers["on_duty"], "worker_id"].tolist()
    assert plan.on_duty == duty and plan.walks[duty[0]].household_ids == []
    walking = [w for w in plan.walks if w not in duty]
    assert walking and all(plan.walks[w].household_ids for w in walking)
    every = [h for w in walking for h in plan.walks[w].household_ids]
    assert len(every) == len(set(every))
    assert set(every) <= set(households.loc[households["occupied"] == 1, "household_id"])
    for w in walking:
        assert plan.walks[w].finish <= "15:30"
    table = team_table(plan, inputs, on=AS_OF)
    assert set(table["worker_id"]) == set(walking)
    assert table["households"].sum() == len(every)
    html = walk_map({w: plan.walks[w] for w in walking}, inputs).get_root().render()
    assert find_external_urls(html) == []
    assert html.count("sibai-stop") == len(table)


def test_ticking_records_each_visit_once_through_the_validated_path(fresh_db: str) -> None:
    with open_store(fresh_db) as store:
        inputs = walk_inputs(store, "G0003", scope=ALL, day=AS_OF)
        walk, _ = plan_grid_walk(inputs, on=AS_OF, time_limit_s=0.3)
        # The first stop with two doors (which stop that is depends on the solver's time budget).
        stop = next(i for i, ids in enumerate(walk.stops["household_ids"]) if len(ids) >= 2)
        first, second = walk.stops["household_ids"].iloc[stop][:2]
        worker = inputs.workers["worker_id"].iloc[0]
        before = len(store.read_table("visits", scope=ALL))
        ticks = {first: "met", second: "not_home", walk.household_ids[-1]: ""}
        report = record_ticks(store, walk, ticks, day=AS_OF, worker_id=worker, nonce="n1", now=NOW, scope=ALL)
        assert set(report.saved) == {first, second} and not report.problems
        again = record_ticks(store, walk, ticks, day=AS_OF, worker_id=worker, nonce="n1", now=NOW, scope=ALL)
        assert again.repeated == report.saved and not again.saved
        visits = store.read_table("visits", scope=ALL)
        assert len(visits) == before + 2
        mine = visits.set_index("visit_id").loc[list(report.saved.values())]
        assert sorted(mine["outcome"]) == ["met", "not_home"]
        arrive = walk.stops["arrive"].iloc[stop]
        assert mine.loc[report.saved[first], "visited_at"] == dt.datetime.combine(
            AS_OF, dt.time.fromisoformat(arrive)
        )
        assert walk_outcomes(walk_inputs(store, "G0003", scope=ALL), AS_OF) == {
            first: "met",
            second: "not_home",
        }
        # Not on the walk, or a time in the future: refused with reasons, nothing written.
        bad = record_ticks(
            store, walk, {"H9999999": "met", first: "met"}, day=AS_OF + dt.timedelta(days=2),
            worker_id=worker, nonce="n2", now=NOW, scope=ALL,
        )  # fmt: skip
        assert bad.problems["H9999999"][0].code == "household_unknown"
        assert bad.problems[first][0].code == "time_future"
        assert len(store.read_table("visits", scope=ALL)) == before + 2


def test_sibai_route_json_csv_team_and_errors(tiny_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "G0003", "--date", "2026-11-26", "--db", tiny_db]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"stops", "distance_m", "walk_min"}
    assert all(set(s) >= {"building_id", "household_ids", "arrive", "leave"} for s in out["stops"])
    assert main(["route", "G0003", "--date", "2026-11-26", "--format", "csv", "--db", tiny_db]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header == "order,building_id,arrive,leave,walk_m,household_ids"
    assert main(["route", "--team", "C001", "--date", "2026-11-26", "--db", tiny_db]) == 0
    team = json.loads(capsys.readouterr().out)
    assert sum(w["on_duty"] for w in team["workers"]) == 1
    assert all({"worker_id", "stops", "distance_m", "walk_min"} <= set(w) for w in team["workers"])
    assert main(["route", "--team", "C001", "--date", "2026-11-26", "--format", "csv", "--db", tiny_db]) == 0
    assert (
        capsys.readouterr().out.splitlines()[0]
        == "worker_id,order,building_id,arrive,leave,walk_m,household_ids"
    )
    assert main(["route", "G9999", "--db", tiny_db]) == 1
    assert capsys.readouterr().err.strip() == "sibai route: error: no grid with id 'G9999'"
    assert main(["route", "G0003", "--start", "15:00", "--end", "14:00", "--db", tiny_db]) == 1
    assert "ends (14:00) before it starts (15:00)" in capsys.readouterr().err
    assert main(["route", "G0003", "--team", "C001", "--db", tiny_db]) == 1
    assert "either GRID_ID" in capsys.readouterr().err


def _page(db: str, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    monkeypatch.setenv("SIBAI_DB", db)
    monkeypatch.setenv("SIBAI_TODAY", AS_OF.isoformat())
    # The app's store and caches live per process: start afresh on this database.
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=90)
    sign_in(at, "district", db=db)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/walk.py").run()
    return at


def test_walk_page_shows_the_plan_of_the_linked_grid(tiny_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(tiny_db, monkeypatch, grid="G0003")
    assert not at.exception
    assert at.title[0].value == "今日走访"
    assert at.selectbox(key="walk_one_area").value == "G0003"
    with open_store(tiny_db) as store:
        walk, _ = plan_grid_walk(walk_inputs(store, "G0003", scope=ALL), on=AS_OF)
    labels = {m.label: m.value for m in at.metric}
    assert labels["可走访户数"] == str(len(walk.household_ids))
    assert labels["本年覆盖率"].endswith("%")
    assert [b.label for b in at.get("download_button")][-1] == "打印版（HTML）"


def test_walk_page_refuses_an_end_before_the_start(tiny_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(tiny_db, monkeypatch, grid="G0003")
    at.session_state["walk_settings"] = True  # the day-and-times expander, opened
    at.run()
    at.time_input(key="walk_end").set_value(dt.time(12, 0)).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["结束时间必须晚于出发时间。"]


def test_walk_page_draws_its_folded_parts_only_when_opened(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The day-and-times settings and the "why these households" table are sent only once unfolded.

    On the full district a warm open of 今日走访 cost Chromium twice the CPU of the
    lightest screen, every element counting (docs/benchmarks.md, "Every screen's first
    paint"). A choice made in the settings keeps them open, holds once they are folded
    again, and their label and the plan follow it.
    """
    at = _page(tiny_db, monkeypatch, grid="G0003")
    assert not at.exception
    assert not at.date_input and not at.time_input and not at.number_input
    tables = len(at.dataframe)
    households = {m.label: m.value for m in at.metric}["可走访户数"]
    at.session_state["walk_why"] = True
    at.run()
    assert len(at.dataframe) == tables + 1  # the reasons, on asking

    at.session_state["walk_settings"] = True
    at.run()
    assert len(at.time_input) == 2 and len(at.date_input) == 1 and len(at.number_input) == 1
    start = at.time_input(key="walk_start").value
    end = (dt.datetime.combine(AS_OF, start) + dt.timedelta(minutes=30)).time()
    at.time_input(key="walk_end").set_value(end).run()
    assert not at.exception
    assert len(at.time_input) == 2, "a choice leaves the settings open"
    assert end.strftime("%H:%M") in at.expander[0].label
    at.session_state["walk_settings"] = False
    at.run()
    assert not at.exception
    assert not at.time_input and end.strftime("%H:%M") in at.expander[0].label
    # Folded again, the plan keeps to the half-hour walk.
    assert 0 < int({m.label: m.value for m in at.metric}["可走访户数"]) < int(households)


def test_walk_page_team_mode_leaves_the_duty_worker_in(tiny_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(tiny_db, monkeypatch, grid="G0003")
    at.radio(key="walk_mode").set_value("team").run()
    assert not at.exception
    committee = at.selectbox(key="walk_team_area").value
    with open_store(tiny_db) as store:
        inputs = team_inputs(store, committee, scope=ALL, day=AS_OF)
    duty = inputs.workers.loc[inputs.workers["on_duty"], "worker_id"].tolist()
    assert at.selectbox(key=f"walk_duty_{committee}_{AS_OF}").value == duty[0]
    labels = {m.label: m.value for m in at.metric}
    assert labels["走访社工"] == str(len(inputs.workers) - 1)
    whose = at.selectbox(key="walk_tick_whose")
    assert duty[0] not in whose.options and len(whose.options) == len(inputs.workers) - 1


def test_walk_page_ticks_stops_once_and_coverage_moves(
    fresh_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _page(fresh_db, monkeypatch, grid="G0003")
    cover_before = {m.label: m.value for m in at.metric}["本年覆盖率"]
    boxes = [b for b in at.button_group if b.key and b.key.startswith("tick_")]
    assert boxes
    with open_store(fresh_db) as store:
        before = len(store.read_table("visits", scope=ALL))
    boxes[0].set_value("met")
    boxes[1].set_value("not_home")
    at.button[[b.label for b in at.button].index("记录走访结果")].click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["已记录 2 户走访。"]
    with open_store(fresh_db) as store:
        assert len(store.read_table("visits", scope=ALL)) == before + 2
    # The walk stays as planned (pinned) and shows what was recorded; coverage moved.
    ticked = [b.label for b in at.button_group if b.key and b.key.startswith("tick_") and "✔" in b.label]
    assert ticked == [boxes[0].label + " · ✔ 已见面", boxes[1].label + " · ✔ 不在家"]
    assert {m.label: m.value for m in at.metric}["本年覆盖率"] != cover_before
    # Submitting the same form again records nothing more.
    at.button[[b.label for b in at.button].index("记录走访结果")].click().run()
    assert [i.value for i in at.info][:1] == ["2 户已记录过，未重复记录。"]
    with open_store(fresh_db) as store:
        assert len(store.read_table("visits", scope=ALL)) == before + 2


def test_walk_page_saves_the_duty_to_the_rota(fresh_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(fresh_db, monkeypatch, grid="G0003")
    at.radio(key="walk_mode").set_value("team").run()
    committee = at.selectbox(key="walk_team_area").value
    duty = at.selectbox(key=f"walk_duty_{committee}_{AS_OF}")
    other = next(w for w in duty.options if w != duty.value)
    other_id = other[other.index("（") + 1 : -1]
    duty.set_value(other_id)
    at.button(key="walk_duty_save").click().run()
    assert not at.exception
    with open_store(fresh_db) as store:
        assert read_duty(store, committee, AS_OF) == other_id
    assert other not in at.selectbox(key="walk_tick_whose").options


def test_the_printable_page_shows_hostile_names_as_text() -> None:
    """Names in the printable walk (title, headings, table cells) are text, never markup (issue 19)."""
    import html as html_lib

    import pandas as pd

    from geo.walks import print_html

    hostile = "楼<img src=x onerror=alert(1)>"
    stops = pd.DataFrame({"building": [hostile, "[x](javascript:alert(2))"], "order": [1, 2]})
    page = print_html(f"今日走访 {hostile}", "2026-11-26", [(hostile, stops)], "<svg></svg>")
    assert "<img" not in page and "onerror=alert(1)>" not in page
    assert page.count(hostile) == 0 and html_lib.unescape(page).count(hostile) == 4


# ----------------------------------------------------------------- issue 14: the clock, the doors, the labels


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("13:46:00", WalkStart(dt.time(14, 0), closed=False)),  # the reported case: not 13:00
        ("13:45:00", WalkStart(dt.time(13, 45), closed=False)),  # on the step: kept
        ("13:45:01", WalkStart(dt.time(14, 0), closed=False)),  # a second past: the next step
        ("06:10:00", WalkStart(dt.time(8, 30), closed=False)),  # never before the day start
        ("15:16:00", WalkStart(dt.time(15, 30), closed=True)),  # rounds to the end: closed
        ("17:05:00", WalkStart(dt.time(13, 0), closed=True)),  # closed: the usual walk, to tick
    ],
)
def test_todays_walk_starts_from_the_clock_never_in_the_past(now: str, expected: WalkStart) -> None:
    today = dt.date(2026, 12, 7)
    moment = dt.datetime.combine(today, dt.time.fromisoformat(now))
    got = walk_start(moment, today, day_start="08:30", day_end="15:30")
    if expected.closed:
        assert got.closed and got.start == dt.time(13, 0)
    else:
        assert got == expected
        assert got.start >= moment.time().replace(second=0) and got.start >= dt.time(8, 30)


def test_another_days_walk_starts_at_the_usual_time() -> None:
    now = dt.datetime(2026, 12, 7, 13, 46)
    for day in (dt.date(2026, 12, 8), dt.date(2026, 12, 4)):
        assert walk_start(now, day, day_start="08:30", day_end="15:30") == WalkStart(dt.time(13, 0), False)
    # A working day that starts late moves the usual start with it.
    assert walk_start(now, dt.date(2026, 12, 8), day_start="14:00", day_end="17:00").start == dt.time(14, 0)


def test_the_tick_list_tells_each_door_by_room_and_masked_head(tiny_db: str) -> None:
    with open_store(tiny_db) as store:
        inputs = walk_inputs(store, "G0003", scope=ALL)
        full = store.read_table("households", scope=ALL).set_index("household_id")
    assert "head_name" not in inputs.households.columns  # the walk never holds a full name
    labels = door_labels(inputs)
    assert set(labels) == set(inputs.households["household_id"].astype(str))
    for h, label in labels.items():
        expected = " · ".join([str(full.loc[h, "unit"]), mask_name(full.loc[h, "head_name"]), h]).replace(
            " ·  · ", " · "
        )
        assert label == expected
        assert str(full.loc[h, "head_name"]) not in label


def test_walk_page_tick_list_and_metric_labels(tiny_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(tiny_db, monkeypatch, grid="G0003")
    assert not at.exception
    with open_store(tiny_db) as store:
        full = store.read_table("households", scope=ALL).set_index("household_id")
    doors = [b.label for b in at.button_group if b.key and b.key.startswith("tick_")]
    assert doors
    for label in doors:
        h = label.split(" · ")[-1]
        assert label.startswith(str(full.loc[h, "unit"]) + " · ")  # the room first: what a landing shows
        assert str(full.loc[h, "head_name"]) not in label
    # A metric is 110 px wide: its label must fit (about six Chinese or twelve Latin characters).
    from geo.words import WORDS as TEXT

    for key in ("walk.households", "walk.distance", "walk.finish", "walk.walkers", "walk.coverage"):
        zh, en = TEXT[key]
        assert len(zh) <= 6 and len(en) <= 12, (key, zh, en)
