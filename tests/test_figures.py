"""One figure per fact (issue 14): every screen, the CLI and the public summary agree, area by area.

For a sample of areas — the district, a street, a committee, a grid — the
figures of docs/data-model.md ("Figures") are computed by the one definition
(``geo.figures``) and compared with what each screen shows (district map,
grid page, issues page, under AppTest), what ``sibai coverage`` prints, what
the issues board counts from the issue history, what the plain-pandas
reference counts, the grid page's household list, and the public summary.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
from contextlib import redirect_stdout
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from geo import issues as rules
from geo import public
from geo.cli import main
from geo.coverage import areas_from_frames, coverage_by_area
from geo.demo import install_demo
from geo.figures import Figures, area_figures, counted_at, figures_by_grid
from geo.live import coverage_index_from_store
from geo.store import Scope, open_store
from geo.store import issue_log as log
from tests.conftest import sign_in

APP = str(Path(__file__).resolve().parents[1] / "app.py")
AS_OF = dt.date(2026, 11, 26)
START = dt.date(2026, 1, 1)
# The app's clock is the real one, after the pinned day: counts are taken at the period's end.
NOW = dt.datetime(2026, 11, 27, 0, 0)
ALL = Scope.everything()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("figures") / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=7, as_of=AS_OF)
    return str(path)


@pytest.fixture(scope="module")
def areas(db: str) -> dict[str, tuple[str, str | None, list[str]]]:
    """Return ``{name: (level, id, grid ids)}`` for the district, a street, a committee and a grid."""
    with open_store(db) as store:
        grids = store.read_table("grids", scope=ALL, columns=["grid_id", "committee_id"])
        committees = store.read_table("committees", scope=ALL, columns=["committee_id", "street_id"])
    g = grids.merge(committees, on="committee_id")
    street = str(g["street_id"].iloc[0])
    committee = str(g.loc[g["street_id"] == street, "committee_id"].iloc[-1])
    grid = str(g.loc[g["committee_id"] == committee, "grid_id"].iloc[0])
    return {
        "district": ("district", None, g["grid_id"].tolist()),
        "street": ("street", street, g.loc[g["street_id"] == street, "grid_id"].tolist()),
        "committee": ("committee", committee, g.loc[g["committee_id"] == committee, "grid_id"].tolist()),
        "grid": ("grid", grid, [grid]),
    }


@pytest.fixture(scope="module")
def expected(db: str, areas: dict[str, tuple[str, str | None, list[str]]]) -> dict[str, Figures]:
    with open_store(db) as store:
        index, _ = coverage_index_from_store(store, scope=ALL)
    by_grid = figures_by_grid(index, start=START, end=AS_OF, now=NOW)
    out = {name: area_figures(by_grid, ids, end=AS_OF, now=NOW) for name, (_, _, ids) in areas.items()}
    # A sample worth comparing: something visited, something open, something overdue.
    district = out["district"]
    assert district.visited > 0 and district.open_issues > 0 and district.overdue_issues > 0
    assert district.households_all > district.households  # vacant homes exist: the label matters
    return out


def _fresh_app(db: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("SIBAI_DB", db)
    monkeypatch.setenv("SIBAI_TODAY", AS_OF.isoformat())
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=90)
    sign_in(at, "district", db=db)
    return at


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _query(level: str, area: str | None) -> dict[str, str]:
    return {} if area is None else {level: area}


def test_the_cli_and_the_reference_agree_with_the_definition(
    db: str, areas: dict[str, tuple[str, str | None, list[str]]], expected: dict[str, Figures]
) -> None:
    with open_store(db) as store:
        hh = store.read_table("households", scope=ALL, columns=["household_id", "building_id", "occupied",
                                                                 "residents"])  # fmt: skip
        buildings = store.read_table("buildings", scope=ALL, columns=["building_id", "grid_id"])
        visits = store.read_table("visits", scope=ALL, columns=["household_id", "visited_at", "outcome"])
        issues = store.read_table("issues", scope=ALL)
        grids = store.read_table("grids", scope=ALL, columns=["grid_id", "committee_id"])
        committees = store.read_table("committees", scope=ALL, columns=["committee_id", "street_id"])
    hh = hh.merge(buildings, on="building_id")
    for name, (level, area, ids) in areas.items():
        want = expected[name]
        # The plain-pandas reference.
        layout = areas_from_frames(grids, committees)
        ref = coverage_by_area(hh, visits, issues, layout, start=START, end=AS_OF, level=level, now=NOW)
        row = ref.iloc[0] if area is None else ref.loc[area]
        assert (row["households"], row["visited"], row["open_issues"], row["overdue_issues"]) == (
            want.households, want.visited, want.open_issues, want.overdue_issues), name  # fmt: skip
        assert int(hh["grid_id"].isin(ids).sum()) == want.households_all, name
        # sibai coverage, at the same moment.
        out = io.StringIO()
        with redirect_stdout(out):
            code = main(["coverage", "--db", db, "--from", START.isoformat(), "--to", AS_OF.isoformat(),
                         "--level", level, "--format", "json", "--now", f"{NOW:%Y-%m-%d %H:%M}"])  # fmt: skip
        assert code == 0
        rows = {r["id"]: r for r in json.loads(out.getvalue())}
        got = rows[area] if area is not None else next(iter(rows.values()))
        assert (got["households"], got["visited"], got["open_issues"], got["overdue_issues"]) == (
            want.households, want.visited, want.open_issues, want.overdue_issues), name  # fmt: skip
        assert math.isclose(got["coverage"], want.coverage), name
        assert got["as_of"] == f"{counted_at(AS_OF, NOW):%Y-%m-%d %H:%M:%S}"


def test_the_issue_board_counts_the_same_open_and_overdue_issues(
    db: str, areas: dict[str, tuple[str, str | None, list[str]]], expected: dict[str, Figures]
) -> None:
    with open_store(db) as store:
        limits = rules.limits_days(store.settings)
        for name, (_, _, ids) in areas.items():
            issues, events = log.read_issue_data(store, scope=Scope.of(grids=ids), closed_since=START)
            board = rules.issue_board(issues, events, rules.IssueFilters(), now=NOW, limits=limits,
                                      start=START, end=AS_OF)  # fmt: skip
            m = board.metrics
            assert (int(m["open"]), int(m["overdue"])) == (
                expected[name].open_issues, expected[name].overdue_issues), name  # fmt: skip


def test_the_public_summary_rounds_the_same_coverage_down(
    db: str, areas: dict[str, tuple[str, str | None, list[str]]], expected: dict[str, Figures]
) -> None:
    with open_store(db) as store:
        summary = public.summary_from_store(store, today=AS_OF, period=(START, AS_OF), k=1)
    for name, (level, area, _) in areas.items():
        if level == "grid":
            continue  # grids are published as a class only
        row = summary.district if area is None else summary.level(level).loc[area]
        assert row["coverage"] == math.floor(expected[name].coverage * 100), name


def test_every_screen_shows_the_same_figures(
    db: str,
    areas: dict[str, tuple[str, str | None, list[str]]],
    expected: dict[str, Figures],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, (level, area, _) in areas.items():
        want = expected[name]
        # The district map's side panel.
        at = _fresh_app(db, monkeypatch)
        for k, v in _query(level, area).items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, name
        panel = " ".join(m.value for m in at.markdown)
        pairs = re.findall(r"(在住户数|已见面户数|未结诉求|超期诉求): ([\d,]+)", panel)
        shown = {label: _number(n) for label, n in pairs}
        assert shown == {"在住户数": want.households, "已见面户数": want.visited,
                         "未结诉求": want.open_issues, "超期诉求": want.overdue_issues}, name  # fmt: skip
        assert any("诉求数截至 2026-11-27 00:00" in c.value for c in at.caption), name
        # The issues page's headline.
        at = _fresh_app(db, monkeypatch)
        for k, v in _query(level, area).items():
            at.query_params[k] = v
        at.switch_page("pages/issues.py").run()
        assert not at.exception, name
        metrics = {m.label: m.value for m in at.metric}
        headline = (_number(metrics["未结诉求"]), _number(metrics["超期"]))
        assert headline == (want.open_issues, want.overdue_issues), name
    # The grid page: its metrics, and its household list counts every household (the label says so).
    level, grid, _ = areas["grid"]
    want = expected["grid"]
    at = _fresh_app(db, monkeypatch)
    at.query_params["grid"] = str(grid)
    at.switch_page("pages/grid.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (_number(metrics["在住户数"]), _number(metrics["已见面户数"]), _number(metrics["未结诉求"]),
            _number(metrics["超期诉求"])) == (want.households, want.visited, want.open_issues,
                                              want.overdue_issues)  # fmt: skip
    assert metrics["覆盖率"] == f"{want.coverage * 100:.1f}%"
    counts = [m.value for m in [*at.markdown, *at.caption] if "户（共" in m.value]
    assert any(f"（共 {want.households_all:,} 户，含空置）" in c for c in counts), counts
    assert pd.notna(want.coverage)


def test_the_screens_count_once_a_minute_and_data_version_and_see_a_write_at_once(
    db: str,
    areas: dict[str, tuple[str, str | None, list[str]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The district's figures behind the map, the grid page and the issues page are counted once per
    minute and change counters, for every session of the process; a visit recorded shows in the next."""
    import shutil

    from geo import figures as definition
    from geo.store.records import NewVisit, read_grid, record_visit
    from ui import data

    path = tmp_path / "written.gpkg"
    shutil.copyfile(db, path)
    monkeypatch.setenv("SIBAI_DB", str(path))
    monkeypatch.setenv("SIBAI_TODAY", AS_OF.isoformat())
    st.cache_data.clear()
    st.cache_resource.clear()
    counted: list[dt.datetime] = []
    real = definition.figures_by_grid

    def counting(*args: object, now: dt.datetime, **kwargs: object) -> pd.DataFrame:
        counted.append(now)
        return real(*args, now=now, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(definition, "figures_by_grid", counting)
    at = data.now()
    assert (at.second, at.microsecond) == (0, 0)  # to the minute, as every screen says "as of"
    first = data.figures_by_grid(START, AS_OF, at)
    pd.testing.assert_frame_equal(data.figures_by_grid(START, AS_OF, at), first)
    buildings = data.coverage(START, AS_OF, "building")
    pd.testing.assert_frame_equal(data.coverage(START, AS_OF, "building"), buildings)
    assert counted == [at]  # the second session's rerun reused the count
    # A met visit to an occupied household not met in the period: one more visited, on the next read.
    grid = areas["grid"][1]
    store = data.store()
    recs = read_grid(store, str(grid), scope=ALL)
    met = set(
        recs.visit_summary.loc[recs.visit_summary["last_met_at"] >= pd.Timestamp(START), "household_id"]
    )
    home = recs.households[
        recs.households["occupied"].astype(bool) & ~recs.households["household_id"].isin(met)
    ]
    household = home.iloc[0]
    worker = str(recs.workers["worker_id"].iloc[0])
    visit = NewVisit(str(household["household_id"]), worker, dt.datetime(2026, 11, 26, 10, 0), "met")
    record_visit(store, visit)
    after = data.figures_by_grid(START, AS_OF, at)
    assert counted == [at, at]
    assert after.loc[grid, "visited"] == first.loc[grid, "visited"] + 1
    building = str(household["building_id"])
    assert (
        data.coverage(START, AS_OF, "building").loc[building, "visited"]
        == buildings.loc[building, "visited"] + 1
    )
