"""The synthetic Putuo district: deterministic, consistent, at the right place and size.

``scale="full"`` takes seconds and belongs to ``bench/bench_foundation.py``;
here the ``tiny`` and ``street`` scales are built, plus the full-scale area
partition alone (``_areas``, a fraction of a second).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

import numpy as np
import pandas as pd
import pytest
import shapely
from pandas.testing import assert_frame_equal
from pyproj import Geod, Transformer

from geo import synth
from geo.store import CHANNELS, LAYERS, LEVELS, OUTCOMES, SOURCES, STATUSES, TABLES, TAGS
from geo.synth import build_district

AS_OF = dt.date(2024, 6, 30)
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
METRIC = "EPSG:32651"

# The ten streets and towns of Putuo, as shared/DOMAIN.md names them.
PUTUO_STREETS = {
    "长寿路街道", "曹杨新村街道", "长风新村街道", "宜川路街道", "甘泉路街道",
    "石泉路街道", "万里街道", "真如镇街道", "长征镇", "桃浦镇",
}  # fmt: skip


@pytest.fixture(scope="module")
def tiny() -> dict[str, pd.DataFrame]:
    return build_district(scale="tiny", seed=3, as_of=AS_OF)


def test_same_seed_and_date_give_the_same_district(tiny: dict[str, pd.DataFrame]) -> None:
    again = build_district(scale="tiny", seed=3, as_of=AS_OF)
    assert again.keys() == tiny.keys()
    for name in tiny:
        assert_frame_equal(again[name], tiny[name], obj=name)


def test_another_seed_or_date_gives_another_district(tiny: dict[str, pd.DataFrame]) -> None:
    other = build_district(scale="tiny", seed=4, as_of=AS_OF)
    assert not other["grids"].geometry.geom_equals_exact(tiny["grids"].geometry, tolerance=0).all()
    assert other["households"]["head_name"].tolist() != tiny["households"]["head_name"].tolist()
    assert other["visits"]["visited_at"].tolist() != tiny["visits"]["visited_at"].tolist()
    later = build_district(scale="tiny", seed=3, as_of=dt.date(2024, 12, 31))
    assert later["visits"]["visited_at"].max() > "2024-07-01"
    assert len(later["visits"]) > len(tiny["visits"])


def test_tiny_district_is_consistent(tiny: dict[str, pd.DataFrame]) -> None:
    d = tiny
    assert set(d) == {*LAYERS, *TABLES}
    assert {name: len(d[name]) for name in ("streets", "committees", "grids")} == {
        "streets": 2,
        "committees": 4,
        "grids": 12,
    }
    for name in LAYERS:
        assert d[name].crs.to_epsg() == 4326
        assert d[name].geometry.is_valid.all() and not d[name].geometry.is_empty.any()
    for name, key in [
        ("streets", "street_id"), ("committees", "committee_id"), ("grids", "grid_id"),
        ("buildings", "building_id"), ("households", "household_id"), ("workers", "worker_id"),
        ("visits", "visit_id"), ("issues", "issue_id"),
    ]:  # fmt: skip
        assert d[name][key].is_unique, name
    # Every reference resolves.
    refs = [
        ("committees", "street_id", "streets"), ("grids", "committee_id", "committees"),
        ("buildings", "grid_id", "grids"), ("households", "building_id", "buildings"),
        ("workers", "committee_id", "committees"), ("grid_workers", "grid_id", "grids"),
        ("grid_workers", "worker_id", "workers"), ("visits", "household_id", "households"),
        ("visits", "worker_id", "workers"), ("issues", "grid_id", "grids"),
        ("issues", "building_id", "buildings"), ("issues", "household_id", "households"),
    ]  # fmt: skip
    for table, col, ref in refs:
        values = d[table][col].dropna()
        assert values.isin(d[ref][col]).all(), f"{table}.{col} → {ref}"
    # Every grid has households, and exactly one leader.
    grid_of = d["buildings"].set_index("building_id")["grid_id"]
    assert set(grid_of[d["households"]["building_id"]]) == set(d["grids"]["grid_id"])
    leaders = d["grid_workers"][d["grid_workers"]["role"] == "leader"]
    assert sorted(leaders["grid_id"]) == sorted(d["grids"]["grid_id"])
    # An issue's building is in its grid, and its household in its building.
    issues = d["issues"]
    assert (grid_of[issues["building_id"]].to_numpy() == issues["grid_id"].to_numpy()).all()
    hh_building = d["households"].set_index("household_id")["building_id"]
    with_hh = issues.dropna(subset=["household_id"])
    assert (hh_building[with_hh["household_id"]].to_numpy() == with_hh["building_id"].to_numpy()).all()


def test_tiny_values_are_within_the_allowed_sets(tiny: dict[str, pd.DataFrame]) -> None:
    v, i, h = tiny["visits"], tiny["issues"], tiny["households"]
    assert set(v["outcome"]) == set(OUTCOMES)  # every outcome happens, and no other
    assert set(v["channel"]) <= set(CHANNELS)
    assert set(v.loc[v["outcome"] != "met", "channel"]) == {"door"}
    assert set(i["level"]) <= set(LEVELS)
    assert set(i["status"]) <= set(STATUSES)
    assert set(i["source"]) <= set(SOURCES)
    assert set(h["occupied"]) == {0, 1}
    vacant = h[h["occupied"] == 0]
    assert (vacant["residents"] == 0).all() and (vacant["tags"] == "").all()
    assert (h.loc[h["occupied"] == 1, "residents"] >= 1).all()
    tags = {t for value in h["tags"] for t in value.split(",") if t}
    assert tags <= set(TAGS)
    # Closed issues, and only they, have a closing time.
    assert ((i["status"] == "closed") == i["closed_at"].notna()).all()


def test_tiny_times_are_local_text_inside_the_programme(tiny: dict[str, pd.DataFrame]) -> None:
    v, i = tiny["visits"], tiny["issues"]
    columns = [v["visited_at"], i["opened_at"], i["due_at"], i["closed_at"].dropna()]
    for texts in columns:
        assert all(isinstance(t, str) and STAMP.match(t) for t in texts)
        parsed = pd.to_datetime(texts, format="%Y-%m-%d %H:%M:%S")  # every one a real time
        assert parsed.notna().all()
    first, last_moment = "2023-01-01 00:00:00", "2024-06-30 23:59:59"
    assert v["visited_at"].min() >= first and v["visited_at"].max() <= last_moment
    assert i["opened_at"].min() >= first and i["opened_at"].max() <= last_moment
    assert i["closed_at"].dropna().max() <= last_moment
    assert (i["closed_at"].dropna() >= i.loc[i["closed_at"].notna(), "opened_at"]).all()
    # Visit ids follow time, as a live system's would.
    assert v["visited_at"].is_monotonic_increasing
    assert v["visit_id"].tolist() == list(range(1, len(v) + 1))
    # Most visits are on workday afternoons before 15:30 (the 330 method).
    t = pd.to_datetime(v["visited_at"])
    afternoon = (t.dt.hour >= 13) & ((t.dt.hour * 60 + t.dt.minute) < 15 * 60 + 30)
    assert afternoon.mean() > 0.75
    assert (t.dt.day_of_week < 5).mean() > 0.98


def test_as_of_before_the_programme_or_unknown_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="before the programme's start 2023-01-01"):
        build_district(scale="tiny", as_of=dt.date(2022, 12, 31))
    with pytest.raises(ValueError, match="unknown scale 'huge'"):
        build_district(scale="huge", as_of=AS_OF)


def test_outline_has_putuos_area_and_place() -> None:
    outline_m = synth.outline()
    assert outline_m.is_valid
    assert outline_m.area / 1e6 == pytest.approx(55.6, rel=1e-9)
    to_ll = Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)
    outline_ll = shapely.transform(outline_m, lambda xy: np.column_stack(to_ll.transform(xy[:, 0], xy[:, 1])))
    # Independently of the UTM projection: the geodesic area on the ellipsoid.
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(outline_ll)
    assert abs(area) / 1e6 == pytest.approx(55.6, rel=5e-3)
    minx, miny, maxx, maxy = outline_ll.bounds
    assert 121.32 <= minx < maxx <= 121.46
    assert 31.21 <= miny < maxy <= 31.31


def test_full_scale_areas_name_the_ten_streets_at_their_places() -> None:
    # The area partition alone, as build_district(scale="full") makes it (about 0.3 s).
    streets, committees, grids = synth._areas(synth.SCALES["full"], np.random.default_rng(42))
    assert set(streets["name"]) == PUTUO_STREETS
    assert len(grids) == 2000
    assert 260 <= len(committees) <= 280
    assert sum(g.area for g in streets["geom_m"]) / 1e6 == pytest.approx(55.6, rel=1e-6)
    to_m = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)
    for name, lon, lat, _ in synth.STREETS:
        geom = streets.loc[streets["name"] == name, "geom_m"].iloc[0]
        # The approximate centres in DOMAIN.md are within a short walk of their street.
        assert geom.distance(shapely.Point(to_m.transform(lon, lat))) < 250, name


def test_tiny_grids_tile_their_committees(tiny: dict[str, pd.DataFrame]) -> None:
    grids = tiny["grids"].to_crs(METRIC)
    committees = tiny["committees"].to_crs(METRIC)
    for cid, committee in zip(committees["committee_id"], committees.geometry, strict=True):
        parts = grids.loc[grids["committee_id"] == cid].geometry.to_numpy()
        assert len(parts) == 3
        union = shapely.union_all(parts)
        assert union.area == pytest.approx(committee.area, rel=1e-6), cid
        assert shapely.symmetric_difference(union, committee).area < 1e-3, cid
    for a, b in itertools.combinations(grids.geometry, 2):
        assert a.intersection(b).area < 1e-6
    # Every building stands inside its own grid.
    buildings = tiny["buildings"].to_crs(METRIC)
    grid_geom = grids.set_index("grid_id").geometry
    inside = [grid_geom[g].contains(b) for g, b in zip(buildings["grid_id"], buildings.geometry, strict=True)]
    assert all(inside)


def test_street_scale_is_one_street_with_a_tenth_of_the_grids() -> None:
    d = build_district(scale="street", seed=42, as_of=AS_OF)
    assert d["streets"]["name"].tolist() == ["长寿路街道"]
    assert len(d["grids"]) == 200  # a tenth of the full 2,000
    assert len(d["committees"]) == 27
    grid_of = d["buildings"].set_index("building_id")["grid_id"]
    assert set(grid_of[d["households"]["building_id"]]) == set(d["grids"]["grid_id"])
    kinds = d["buildings"]["kind"].value_counts(normalize=True)
    assert set(kinds.index) == {"walkup", "highrise", "lane"}
    # Six-storey walk-ups hold 24-36 households, high-rises 100-200.
    per_building = d["households"].groupby("building_id").size()
    kind = d["buildings"].set_index("building_id")["kind"]
    assert per_building[kind[kind == "walkup"].index].between(24, 36).all()
    assert per_building[kind[kind == "highrise"].index].between(100, 200).all()
    # About 2.42 residents per household, as 1.21 million in 500,000 households.
    occupied = d["households"][d["households"]["occupied"] == 1]
    assert occupied["residents"].sum() / len(d["households"]) == pytest.approx(2.42, rel=0.08)
    assert 0.03 < 1 - len(occupied) / len(d["households"]) < 0.08  # some vacant


def test_a_district_built_without_a_date_holds_nothing_still_to_come(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default the district's activity ends yesterday (its own date, not the machine's).

    Built as of today, it held visits and closings later in the day, which the
    live figures (counted by time) and the issue board (by status) read
    differently on a fresh install's screens.
    """
    from geo.clock import local_now

    for zone in ("Asia/Shanghai", "America/Los_Angeles"):  # ahead of and behind the machine's UTC
        monkeypatch.setenv("SIBAI_TIMEZONE", zone)
        now = local_now().strftime("%Y-%m-%d %H:%M:%S")
        d = build_district(scale="tiny", seed=3)
        v, i = d["visits"], d["issues"]
        assert v["visited_at"].max() <= now
        assert i["opened_at"].max() <= now and i["closed_at"].dropna().max() <= now
