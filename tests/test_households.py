"""A grid's households: the list, its filters, the profile, the drill-down selection and the buildings map."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal
from shapely.geometry import box

from geo.areas import Crumb, UnknownArea
from geo.demo import install_demo
from geo.households import (
    building_at,
    building_map,
    drill_trail,
    filter_households,
    household_list,
    household_profile,
    resolve_selection,
    visit_summary,
)
from geo.maps import NO_HOUSEHOLDS_COLOUR, classify, find_external_urls
from geo.store import Scope, open_store
from geo.store.records import read_grid, read_household_visits

TODAY = dt.date(2024, 6, 28)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


@pytest.fixture
def frames() -> dict[str, pd.DataFrame]:
    households = pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3", "H4", "H5"],
            "building_id": ["B1", "B1", "B1", "B2", "B2"],
            "unit": ["1-101", "1-102", "1-201", "2-101", "2-102"],
            "occupied": [1, 1, 0, 1, 1],
            "residents": [3, 1, 0, 2, 1],
            "head_name": ["王小华", "李明", None, "欧阳娜娜", "张伟"],
            "phone": ["13812341234", "13900001111", None, "021-62541234", "13700002222"],
            "tags": ["", "alone_elderly,very_old", "", "small_children", "low_income"],
        }
    )
    visits = pd.DataFrame(
        {
            "visit_id": [1, 2, 3, 4, 5, 6, 7],
            "household_id": ["H1", "H1", "H2", "H2", "H4", "H5", "H3"],
            "worker_id": ["W1", "W2", "W1", "W1", "W2", "W1", "W1"],
            "visited_at": pd.to_datetime(
                [
                    "2024-06-20 14:00",
                    "2024-06-21 10:00",
                    "2023-11-02 14:00",
                    "2024-05-06 15:00",
                    "2024-01-03 13:30",
                    "2024-03-30 14:10",
                    "2024-02-01 09:00",
                ]
            ),
            "outcome": ["met", "not_home", "met", "not_home", "met", "met", "vacant"],
            "channel": ["door"] * 7,
            "note": ["", "", "独居老人，已登记助餐服务", "", "", "<b>低保</b>复核", ""],
        }
    )
    issues = pd.DataFrame(
        {
            "issue_id": [10, 11, 12],
            "grid_id": ["G1", "G1", "G1"],
            "building_id": ["B1", "B2", "B1"],
            "household_id": ["H2", "H5", None],
            "category": ["养老服务", "就业与帮困", "物业管理"],
            "source": ["visit", "hotline", "online"],
            "level": ["building", "grid", "grid"],
            "status": ["dispatched", "closed", "open"],
            "opened_at": pd.to_datetime(["2024-05-06 15:00", "2024-04-01 10:00", "2024-06-01 10:00"]),
            "due_at": pd.to_datetime(["2024-05-09 15:00", "2024-04-08 10:00", "2024-06-08 10:00"]),
            "closed_at": pd.to_datetime([None, "2024-04-05 10:00", None]),
            "title": ["助餐", "就业", "电梯"],
        }
    )
    workers = pd.DataFrame(
        {"worker_id": ["W1", "W2"], "name": ["廖波", "董萍伟"], "role": ["leader", "member"]}
    )
    buildings = pd.DataFrame({"building_id": ["B1", "B2"], "name": ["兰溪路88弄12号", "兰溪路88弄14号"]})
    return {
        "households": households,
        "visits": visits,
        "issues": issues,
        "workers": workers,
        "buildings": buildings,
    }


def listed(f: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return household_list(f["households"], visit_summary(f["visits"]), f["issues"], today=TODAY)


def test_the_list_worked_by_hand(frames: dict[str, pd.DataFrame]) -> None:
    out = listed(frames)
    expected = pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3", "H4", "H5"],
            "visits": [2, 2, 1, 1, 1],
            "last_visit_at": [
                ts("2024-06-21 10:00"),
                ts("2024-05-06 15:00"),
                ts("2024-02-01 09:00"),
                ts("2024-01-03 13:30"),
                ts("2024-03-30 14:10"),
            ],
            "last_outcome": ["not_home", "not_home", "vacant", "met", "met"],
            "last_met_at": [
                ts("2024-06-20 14:00"),
                ts("2023-11-02 14:00"),
                pd.NaT,
                ts("2024-01-03 13:30"),
                ts("2024-03-30 14:10"),
            ],
            "days_since_met": pd.array([8, 239, None, 177, 90], dtype="Int64"),
            "open_issues": [0, 1, 0, 0, 0],
            "vulnerable": [False, True, False, True, True],
        }
    )
    expected["last_visit_at"] = expected["last_visit_at"].astype("datetime64[s]")
    expected["last_met_at"] = expected["last_met_at"].astype("datetime64[s]")
    expected["last_outcome"] = expected["last_outcome"].astype(object)
    got = out[list(expected.columns)]
    got = got.assign(household_id=got["household_id"].astype(object))
    expected["household_id"] = expected["household_id"].astype(object)
    assert_frame_equal(got, expected, check_dtype=False)
    assert out["tags"].tolist() == [
        (),
        ("alone_elderly", "very_old"),
        (),
        ("small_children",),
        ("low_income",),
    ]
    assert out["occupied"].tolist() == [True, True, False, True, True]


@pytest.mark.parametrize(
    ("filters", "building", "expected"),
    [
        ([], None, ["H1", "H2", "H3", "H4", "H5"]),
        (["not_met_this_year"], None, ["H2"]),  # H3 is vacant; H4 met on 3 January
        (["vulnerable_not_met"], None, ["H2", "H4", "H5"]),  # 239, 177 and 90 days
        (["open_issue"], None, ["H2"]),  # H5's issue is closed; issue 12 has no household
        (["vulnerable_not_met", "open_issue"], None, ["H2"]),
        (["vulnerable_not_met"], "B2", ["H4", "H5"]),
        ([], "B9", []),
    ],
)
def test_filters(
    frames: dict[str, pd.DataFrame], filters: list[str], building: str | None, expected: list[str]
) -> None:
    out = filter_households(listed(frames), filters, today=TODAY, building_id=building)
    assert out["household_id"].tolist() == expected


def test_an_unknown_filter_is_refused(frames: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(ValueError, match="unknown filter"):
        filter_households(listed(frames), ["never_visited"], today=TODAY)


def test_the_profile(frames: dict[str, pd.DataFrame]) -> None:
    p = household_profile("H2", **frames, today=TODAY)
    assert p.household["head_name"] == "李明"  # as stored: masking is the caller's job
    assert p.household["tags"] == ("alone_elderly", "very_old")
    assert p.building["name"] == "兰溪路88弄12号"
    assert p.visits[["visited_at", "worker_name", "outcome", "note"]].values.tolist() == [
        [ts("2024-05-06 15:00"), "廖波", "not_home", ""],
        [ts("2023-11-02 14:00"), "廖波", "met", "独居老人，已登记助餐服务"],
    ]
    assert p.issues[["issue_id", "open", "overdue"]].values.tolist() == [[10, True, True]]
    assert p.summary == {
        "visits": 2,
        "met": 1,
        "last_visit_at": ts("2024-05-06 15:00"),
        "last_met_at": ts("2023-11-02 14:00"),
        "days_since_met": 239,
        "open_issues": 1,
    }
    with pytest.raises(UnknownArea, match="H9"):
        household_profile("H9", **frames, today=TODAY)


def test_a_household_without_visits_or_issues(frames: dict[str, pd.DataFrame]) -> None:
    f = dict(frames, visits=frames["visits"].iloc[0:0], issues=frames["issues"].iloc[0:0])
    p = household_profile("H1", **f, today=TODAY)
    assert p.visits.empty and p.issues.empty
    assert p.summary["visits"] == 0 and pd.isna(p.summary["last_met_at"])
    out = household_list(f["households"], visit_summary(f["visits"]), f["issues"], today=TODAY)
    assert out["visits"].tolist() == [0] * 5 and out["last_outcome"].tolist() == [None] * 5


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["H1", "H2", "H3"]),
            st.integers(0, 400),
            st.sampled_from(["met", "not_home", "refused"]),
        ),
        max_size=25,
    )
)
def test_the_summary_agrees_with_a_loop(rows: list[tuple[str, int, str]]) -> None:
    v = pd.DataFrame(
        {
            "visit_id": np.arange(1, len(rows) + 1),
            "household_id": pd.Series([r[0] for r in rows], dtype=object),
            "visited_at": pd.to_datetime(
                [dt.datetime(2024, 1, 1) + dt.timedelta(days=r[1]) for r in rows]
            ).astype("datetime64[s]"),
            "outcome": pd.Series([r[2] for r in rows], dtype=object),
        }
    )
    got = visit_summary(v).set_index("household_id")
    for h in sorted({r[0] for r in rows}):
        mine = [(t, i, o) for i, (hh, t, o) in enumerate(rows, start=1) if hh == h]
        last = max(mine)
        met = [t for t, _, o in mine if o == "met"]
        assert got.loc[h, "visits"] == len(mine)
        assert got.loc[h, "last_visit_at"] == pd.Timestamp(2024, 1, 1) + pd.Timedelta(days=last[0])
        assert got.loc[h, "last_outcome"] == last[2]
        expected_met = pd.Timestamp(2024, 1, 1) + pd.Timedelta(days=max(met)) if met else pd.NaT
        assert (pd.isna(got.loc[h, "last_met_at"]) and not met) or got.loc[h, "last_met_at"] == expected_met


# ------------------------------------------------------------------ the store


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("households") / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", as_of=TODAY)
    return path


def check_store_summaries(store) -> None:
    """SQL (window functions) and pandas must summarise every grid's visits alike."""
    grids = store.read_table("grids", columns=["grid_id"], scope=Scope.everything())["grid_id"].tolist()
    for g in grids:
        recs = read_grid(store, g, scope=Scope.everything())
        visits = store.read_table("visits", scope=Scope.of(grids=[g]))
        ref = visit_summary(visits)
        got = recs.visit_summary
        assert_frame_equal(
            got.reset_index(drop=True).astype({"household_id": object, "last_outcome": object}),
            ref.reset_index(drop=True).astype({"household_id": object, "last_outcome": object}),
            check_dtype=False,
        )
        assert recs.buildings["building_id"].is_monotonic_increasing
        assert recs.workers["role"].iloc[0] == "leader"
    one = recs.households["household_id"].iloc[0]
    assert read_household_visits(store, one, scope=Scope.everything())["visit_id"].tolist() == sorted(
        visits.loc[visits["household_id"] == one, "visit_id"].tolist(),
        key=lambda i: (visits.set_index("visit_id").loc[i, "visited_at"], i),
    )


def test_read_grid_matches_the_reference_on_sqlite(tiny: Path) -> None:
    with open_store(str(tiny)) as store:
        check_store_summaries(store)
        empty = read_grid(store, "G9999", scope=Scope.everything())
        assert empty.households.empty and empty.visit_summary.empty and empty.workers.empty


@pytest.mark.postgres
def test_read_grid_matches_the_reference_on_postgres(pg_url: str) -> None:
    with open_store(pg_url) as store:
        install_demo(store, scale="tiny", as_of=TODAY)
        check_store_summaries(store)


# ----------------------------------------------------------------- drill-down


def test_resolve_selection(frames: dict[str, pd.DataFrame]) -> None:
    b, h = frames["buildings"], frames["households"]
    sel = resolve_selection("G1", "B2", "H1", grid_ids={"G1"}, buildings=b, households=h)
    assert (sel.building_id, sel.household_id, sel.unknown) == ("B2", None, (("household", "H1"),))
    sel = resolve_selection("G1", "", "H4", grid_ids={"G1"}, buildings=b, households=h)
    assert (sel.building_id, sel.household_id, sel.unknown) == ("B2", "H4", ())
    assert resolve_selection(None, "B1", None, grid_ids={"G1"}, buildings=b, households=h).grid_id is None


def test_drill_trail(frames: dict[str, pd.DataFrame]) -> None:
    base = [Crumb("district", None, "普陀区"), Crumb("grid", "G1", "一村第1网格")]
    b, h = frames["buildings"], frames["households"]
    trail = drill_trail(base, buildings=b, households=h, building_id="B1", household_id="H2")
    assert [(c.level, c.id, c.name) for c in trail[2:]] == [
        ("building", "B1", "兰溪路88弄12号"),
        ("household", "H2", "1-102"),
    ]
    assert all("李明" not in c.name for c in trail)
    with pytest.raises(UnknownArea):
        drill_trail(base, buildings=b, households=h, building_id="B9")


# ------------------------------------------------------------------------ map


@pytest.fixture
def map_inputs() -> tuple[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame]:
    grid = gpd.GeoDataFrame(
        {"grid_id": ["G1"], "name": ["一村第1网格"], "committee_id": ["C1"]},
        geometry=[box(121.40, 31.24, 121.41, 31.25)],
        crs="EPSG:4326",
    )
    buildings = gpd.GeoDataFrame(
        {"building_id": ["B1", "B2", "B3"], "name": ["<img src=x onerror=alert(1)>", "2号", "3号"]},
        geometry=[
            box(121.401, 31.241, 121.402, 31.242),
            box(121.404, 31.241, 121.405, 31.242),
            box(121.407, 31.241, 121.408, 31.242),
        ],
        crs="EPSG:4326",
    )
    metrics = pd.DataFrame(
        {
            "households": [10, 20, 0],
            "coverage": [0.95, 0.3, np.nan],
            "open_issues": [1, 0, 0],
            "overdue_issues": [0, 0, 0],
        },
        index=pd.Index(["B1", "B2", "B3"], name="building_id"),
    )
    return buildings, metrics, grid


def _layer_args(page: str) -> tuple[dict, dict]:
    """The payload and the style the page hands to ``SibaiMap.gridLayer``."""
    decoder = json.JSONDecoder()
    at = page.index("{", page.index("SibaiMap.gridLayer("))
    payload, end = decoder.raw_decode(page, at)
    style, _ = decoder.raw_decode(page, page.index("{", end))
    return payload, style


def test_the_buildings_map_uses_the_district_classes_and_asks_nobody(map_inputs) -> None:
    buildings, metrics, grid = map_inputs
    page = (
        building_map(buildings, metrics, grid=grid, committee_name="一村居民区", selected="B2")
        .get_root()
        .render()
    )
    assert find_external_urls(page) == []
    assert "<img src=x" not in page  # names travel as escaped JSON, shown through textContent
    payload, style = _layer_args(page)
    assert payload["grids"]["id"] == ["B1", "B2", "B3"]
    fixed = classify([], metric="coverage")
    assert style["colours"] == list(fixed.colours)
    assert [i["label"] for i in style["legend"]["items"]] == list(fixed.labels)
    assert style["cls"] == [3, 0, -1]  # >= 90 %, < 50 %, no occupied households
    assert style["no_households"]["colour"] == NO_HOUSEHOLDS_COLOUR
    assert style["sel"] == 1
    assert style["labels"]["committee"] == "网格" and style["labels"]["street"] == "居委会"


def test_a_click_finds_its_building(map_inputs) -> None:
    buildings, _, _ = map_inputs
    assert building_at(buildings, lat=31.2415, lng=121.4045) == "B2"
    assert building_at(buildings, lat=31.2480, lng=121.4045) is None
    assert building_at(buildings.iloc[0:0], lat=31.2415, lng=121.4045) is None


def test_the_map_refuses_two_grids(map_inputs) -> None:
    buildings, metrics, grid = map_inputs
    with pytest.raises(ValueError, match="one row"):
        building_map(buildings, metrics, grid=pd.concat([grid, grid]))
    with pytest.raises(ValueError, match="lang"):
        building_map(buildings, metrics, grid=grid, lang="fr")
