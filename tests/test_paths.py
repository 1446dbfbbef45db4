"""Footpath networks: OSM extract in, segments stored, walking metres out, used by the planner.

Every network here is generated (``geo.paths.osm_xml_from_ways``) from shapes
laid out in metres around a Shanghai origin, so the expected distances are
worked out by hand from those shapes.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.cli import main
from geo.crs import lonlat_from_metric, metric_xy
from geo.demo import install_demo
from geo.paths import (
    distance_matrix_from_network,
    edges_from_lines,
    network_from_edges,
    osm_xml_from_ways,
    read_osm_lines,
    street_grid_ways,
)
from geo.route import START_LABEL, plan_walk
from geo.store import Scope, open_store
from geo.store.walking import read_path_edges
from geo.walks import distance_matrix, plan_grid_walk, walk_inputs

OX, OY = (float(v[0]) for v in metric_xy([121.40], [31.24]))
"""The origin of the hand-drawn shapes, in EPSG:32651 metres."""


def way(points: list[tuple[float, float]], **tags: str) -> tuple[list[tuple[float, float]], dict[str, str]]:
    """Return a way through ``points`` given in metres from the origin."""
    lon, lat = lonlat_from_metric([OX + x for x, _ in points], [OY + y for _, y in points])
    return [(float(a), float(b)) for a, b in zip(lon, lat, strict=True)], {"highway": "footway", **tags}


def write_osm(tmp_path: Path, ways: list[tuple[list[tuple[float, float]], dict[str, str]]]) -> Path:
    path = tmp_path / "paths.osm"
    path.write_text(osm_xml_from_ways(ways), encoding="utf-8")
    return path


def points(**xy: tuple[float, float]) -> pd.DataFrame:
    """Return labelled points in metres from the origin."""
    return pd.DataFrame(
        {"x": [OX + p[0] for p in xy.values()], "y": [OY + p[1] for p in xy.values()]}, index=list(xy)
    )


def test_only_walkable_ways_become_segments_of_the_right_length(tmp_path: Path) -> None:
    osm = write_osm(
        tmp_path,
        [
            way([(0, 0), (100, 0), (100, 100)], name="甲路"),
            way([(0, 0), (0, 100)], highway="motorway"),
            way([(0, 0), (-100, 0)], foot="no"),
            way([(0, 0), (0, -100)], access="private"),
            way([(0, 0), (0, -50)], access="private", foot="yes"),
        ],
    )
    edges = edges_from_lines(read_osm_lines(osm))
    assert edges["osm_id"].tolist() == ["1", "1", "5"]
    assert edges["name"].tolist() == ["甲路", "甲路", ""]
    assert edges["length_m"].round(1).tolist() == [100.0, 100.0, 50.0]


def test_network_distance_follows_the_path_and_snaps_both_ends(tmp_path: Path) -> None:
    # An L: (0,0)-(100,0)-(100,100); a shortcut would be 141 m straight.
    osm = write_osm(tmp_path, [way([(0, 0), (100, 0), (100, 100)])])
    net = network_from_edges(edges_from_lines(read_osm_lines(osm)))
    assert net.nodes == 3
    d = distance_matrix_from_network(net, points(a=(0, -10), b=(110, 100)), detour_factor=1.3)
    assert d.loc["a", "b"] == pytest.approx(10 + 200 + 10, abs=0.05)
    assert d.loc["b", "a"] == d.loc["a", "b"] and d.loc["a", "a"] == 0.0


def test_the_shorter_of_two_paths_counts_and_unjoined_pairs_fall_back(tmp_path: Path) -> None:
    osm = write_osm(
        tmp_path,
        [
            way([(0, 0), (100, 0), (100, 100)]),
            way([(0, 0), (0, 100), (100, 100)]),  # as long: either way is 200 m
            way([(0, 0), (100, 100)]),  # a diagonal: 141.4 m
            way([(1000, 0), (1100, 0)]),  # an island nobody can walk to
        ],
    )
    net = network_from_edges(edges_from_lines(read_osm_lines(osm)))
    d = distance_matrix_from_network(
        net, points(a=(0, 0), b=(100, 100), island=(1000, 0), far=(5000, 0)), detour_factor=1.5
    )
    assert d.loc["a", "b"] == pytest.approx(100 * np.sqrt(2), abs=0.05)
    # Unconnected parts, or a point beyond the snapping distance: straight line x detour.
    assert d.loc["a", "island"] == pytest.approx(1000 * 1.5, abs=0.05)
    assert d.loc["b", "far"] == pytest.approx(np.hypot(4900, 100) * 1.5, abs=0.05)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-300, 300), st.floats(-300, 300)),
        min_size=2,
        max_size=6,
    )
)
def test_network_metres_are_symmetric_and_never_shorter_than_the_straight_line(
    pts: list[tuple[float, float]],
) -> None:
    edges = pd.DataFrame(
        [
            {"lon1": a[0], "lat1": a[1], "lon2": b[0], "lat2": b[1]}
            for line, _ in street_grid_ways((OX - 300, OX + 300), (OY - 300, OY + 300), spacing_m=100)
            for a, b in itertools.pairwise(line)
        ]
    )
    x1, y1 = metric_xy(edges["lon1"], edges["lat1"])
    x2, y2 = metric_xy(edges["lon2"], edges["lat2"])
    edges["length_m"] = np.hypot(x2 - x1, y2 - y1)
    frame = points(**{f"p{i}": p for i, p in enumerate(pts)})
    d = distance_matrix_from_network(network_from_edges(edges), frame).to_numpy()
    xy = frame.to_numpy()
    straight = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert np.allclose(d, d.T)
    assert (d >= straight - 1e-6).all()
    assert (np.diag(d) == 0).all()


def test_the_planner_orders_stops_by_network_metres() -> None:
    # Office O at (0,0); A at (0,60) lies just behind a wall, B at (300,60).
    # Footpaths: O-(300,0)-B and B-A along y=60. Straight line says A then B
    # (60 + 300 m); along the paths B then A is shorter (360 + 300 m vs 660 + 300 m).
    ways = [way([(0, 0), (300, 0), (300, 60)]), way([(300, 60), (0, 60)])]
    edges = pd.concat([edges_from_lines(_lines(ways))], ignore_index=True)
    stops = pd.DataFrame(
        {
            "household_id": ["HA", "HB"],
            "building_id": ["A", "B"],
            "x": [OX, OX + 300],
            "y": [OY + 60, OY + 60],
            "priority": [1.0, 1.0],
        }
    )
    pts = pd.concat(
        [
            pd.DataFrame({"x": [OX], "y": [OY]}, index=[START_LABEL]),
            stops.set_index("building_id")[["x", "y"]],
        ]
    )
    matrix = distance_matrix_from_network(network_from_edges(edges), pts)
    straight = plan_walk(stops, start_xy=(OX, OY), detour_factor=1.0, time_limit_s=0.1)
    along = plan_walk(stops, start_xy=(OX, OY), distance_matrix=matrix, time_limit_s=0.1)
    assert straight.stops["building_id"].tolist() == ["A", "B"]
    assert along.stops["building_id"].tolist() == ["B", "A"]
    assert along.distance_m == pytest.approx(660.0, abs=0.5)


def _lines(ways: list[tuple[list[tuple[float, float]], dict[str, str]]]) -> object:
    import geopandas as gpd
    import shapely

    return gpd.GeoDataFrame(
        {
            "osm_id": [str(i) for i in range(len(ways))],
            "name": [""] * len(ways),
            "highway": [t["highway"] for _, t in ways],
            "other_tags": [None] * len(ways),
        },
        geometry=[shapely.LineString(p) for p, _ in ways],
        crs="EPSG:4326",
    )


@pytest.fixture
def tiny_db(tmp_path: Path) -> str:
    path = tmp_path / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=11, as_of=dt.date(2026, 11, 26))
    return str(path)


def test_sibai_import_paths_stores_the_network_and_the_walk_uses_it(
    tiny_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_store(tiny_db) as store:
        before = walk_inputs(store, "G0003", scope=Scope.everything())
    assert before.network is None
    xs = before.buildings["x"]
    ys = before.buildings["y"]
    ways = street_grid_ways((xs.min() - 200, xs.max() + 200), (ys.min() - 200, ys.max() + 200), spacing_m=60)
    osm = tmp_path / "estate.osm"
    osm.write_text(osm_xml_from_ways(ways), encoding="utf-8")
    assert main(["import-paths", str(osm), "--db", tiny_db]) == 0
    assert capsys.readouterr().out.startswith(f"imported {osm}: ")
    assert main(["import-paths", str(osm), "--db", tiny_db]) == 0  # replaces, never doubles
    capsys.readouterr()
    expected = len(edges_from_lines(read_osm_lines(osm)))
    with open_store(tiny_db) as store:
        assert len(read_path_edges(store)) == expected
        inputs = walk_inputs(store, "G0003", scope=Scope.everything())
    assert inputs.network is not None and inputs.network.nodes > 0
    walk, _ = plan_grid_walk(inputs, on=dt.date(2026, 11, 26), time_limit_s=0.3)
    matrix = distance_matrix(inputs, walk.stops["building_id"].tolist())
    assert matrix is not None
    legs = [START_LABEL, *walk.stops["building_id"]]
    along = sum(matrix.loc[a, b] for a, b in itertools.pairwise(legs))
    assert walk.distance_m == pytest.approx(along, abs=0.01)
    assert walk.stops["walk_m"].tolist() == pytest.approx(
        [matrix.loc[a, b] for a, b in itertools.pairwise(legs)], abs=0.01
    )


def test_import_paths_refuses_files_it_cannot_use(
    tiny_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.osm"
    junk.write_text("not xml at all", encoding="utf-8")
    assert main(["import-paths", str(junk), "--db", tiny_db]) == 1
    assert "not an OpenStreetMap extract" in capsys.readouterr().err
    motorway = write_osm(tmp_path, [way([(0, 0), (100, 0)], highway="motorway")])
    assert main(["import-paths", str(motorway), "--db", tiny_db]) == 1
    assert (
        capsys.readouterr().err.strip().endswith("no walkable ways (highway=footway, path, residential, …)")
    )
    assert main(["import-paths", str(tmp_path / "missing.osm"), "--db", tiny_db]) == 1
    assert "no such file" in capsys.readouterr().err
    with open_store(tiny_db) as store:
        assert read_path_edges(store).empty
