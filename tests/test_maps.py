"""Tests of geo.maps on the map objects, their rendered HTML and, once, in Chromium."""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from playwright.sync_api import Page
from shapely.geometry import box

import geo.maps as gm

XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "</script><script>window.__xss=1</script>"


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    """Four 1 km-ish grids in two committees of two streets; hostile names on two."""
    return gpd.GeoDataFrame(
        {
            "grid_id": ["G1", "G2", "G3", "G4"],
            "committee_id": ["C1", "C1", "C2", "C2"],
            "street_id": ["S1", "S1", "S2", "S2"],
            "name": [XSS_IMG, "一村第2网格", "二村第1网格", XSS_SCRIPT],
            "committee_name": ["一村", "一村", "<b>二村</b>", "<b>二村</b>"],
            "street_name": ["长寿路街道", "长寿路街道", "真如镇街道", "真如镇街道"],
        },
        geometry=[
            box(121.40, 31.24, 121.41, 31.25),
            box(121.41, 31.24, 121.42, 31.25),
            box(121.40, 31.25, 121.41, 31.26),
            box(121.41, 31.25, 121.42, 31.26),
        ],
        crs="EPSG:4326",
    )


@pytest.fixture
def metrics() -> pd.DataFrame:
    """G2 has no occupied households; G4 has no row at all."""
    return pd.DataFrame(
        {
            "households": [100, 0, 50],
            "visited": [95, 0, 20],
            "coverage": [0.95, np.nan, 0.40],
            "residents": [240, 0, 120],
            "open_issues": [0, 0, 4],
            "overdue_issues": [0, 2, 3],
        },
        index=pd.Index(["G1", "G2", "G3"], name="grid_id"),
    )


def voronoi_district(n: int, seed: int = 42) -> gpd.GeoDataFrame:
    """Return ``n`` Voronoi grids tiling a 13 km x 9 km box around Putuo.

    Committees are 25 x 10 blocks of neighbouring grids, streets 10 columns of them.
    """
    rng = np.random.default_rng(seed)
    outline = box(121.32, 31.22, 121.45, 31.30)
    pts = rng.uniform([121.32, 31.22], [121.45, 31.30], size=(n, 2))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=outline))
    # Put the cells back in the order of their points.
    point_idx, cell_idx = shapely.STRtree(cells).query(shapely.points(pts), predicate="within")
    cells = shapely.intersection(cells[cell_idx[np.argsort(point_idx)]], outline)
    cells = np.array([shapely.MultiPolygon([c]) for c in cells])
    col = np.minimum(((pts[:, 0] - 121.32) / 0.13 * 25).astype(int), 24)
    row = np.minimum(((pts[:, 1] - 31.22) / 0.08 * 10).astype(int), 9)
    committee = col * 10 + row
    street = col * 10 // 25
    return gpd.GeoDataFrame(
        {
            "grid_id": [f"G{i + 1:04d}" for i in range(n)],
            "committee_id": [f"C{c + 1:03d}" for c in committee],
            "street_id": [f"S{s + 1:02d}" for s in street],
            "name": [f"曹杨新村第{c + 1}居民区第{i % 8 + 1}网格" for i, c in enumerate(committee)],
            "committee_name": [f"曹杨新村第{c + 1}居民区" for c in committee],
            "street_name": [f"第{s + 1}街道" for s in street],
        },
        geometry=cells,
        crs="EPSG:4326",
    )


@pytest.fixture(scope="module")
def district() -> gpd.GeoDataFrame:
    return voronoi_district(2000)


def child(m: folium.Map, cls: type) -> object:
    found = [c for c in m._children.values() if isinstance(c, cls)]
    assert len(found) == 1, found
    return found[0]


# --------------------------------------------------------------------------
# classify / colour_for
# --------------------------------------------------------------------------


def test_fixed_coverage_classes_and_boundaries() -> None:
    c = gm.classify([0.1, 0.95], scheme="fixed", metric="coverage")
    assert c.breaks == (0.5, 0.75, 0.9)
    assert c.labels == ("< 50%", "50–75%", "75–90%", "≥ 90%")
    assert c.colours == ("#ca0020", "#f4a582", "#92c5de", "#0571b0")
    assert not c.right_closed
    # Thresholds belong to the class above them: 50 % is "50–75 %".
    values = [0.0, 0.4999, 0.5, 0.7499, 0.75, 0.9, 1.0, np.nan]
    assert c.index(values).tolist() == [0, 0, 1, 1, 2, 3, 3, -1]


def test_fixed_overdue_labels_are_whole_counts() -> None:
    c = gm.classify([0, 1, 2, 7], metric="overdue_issues")
    assert c.labels == ("0", "1", "2–4", "≥ 5")
    assert c.index([0, 1, 2, 4, 5, 40]).tolist() == [0, 1, 2, 2, 3, 3]
    assert c.colours == ("#fcffa4", "#f37819", "#932667", "#160b39")


def test_fixed_custom_thresholds_must_increase() -> None:
    c = gm.classify([], metric="coverage", thresholds=(0.6, 0.8))
    assert c.labels == ("< 60%", "60–80%", "≥ 80%")
    with pytest.raises(ValueError, match="increasing"):
        gm.classify([], metric="coverage", thresholds=(0.8, 0.6))


def test_quantiles_by_hand() -> None:
    # Percentiles 20/40/60/80 of 1..10 (linear): 1 + 9 * p = 2.8, 4.6, 6.4, 8.2.
    c = gm.classify(range(1, 11), scheme="quantiles", k=5, metric="open_issues_per_100")
    assert c.breaks == pytest.approx((2.8, 4.6, 6.4, 8.2))
    assert c.labels == ("1–2.8", "2.8–4.6", "4.6–6.4", "6.4–8.2", "8.2–10")
    assert c.colours == ("#fcffa4", "#fb9906", "#cc4248", "#751b6e", "#160b39")
    # Right-closed, as mapclassify: 2.8 is in the first class.
    assert c.index([1, 2.8, 2.81, 10, np.nan]).tolist() == [0, 0, 1, 4, -1]


def test_natural_breaks_by_hand() -> None:
    # Three obvious clusters; Fisher-Jenks puts the breaks after 2 and after 12.
    values = [1, 1, 2, 10, 11, 12, 30, 31, np.nan]
    c = gm.classify(values, scheme="natural_breaks", k=3, metric="open_issues_per_100")
    assert c.breaks == (2.0, 12.0)
    assert c.labels == ("1–2", "2–12", "12–31")
    assert c.index(values).tolist() == [0, 0, 0, 1, 1, 1, 2, 2, -1]


def test_natural_breaks_on_many_values_is_deterministic_and_quick() -> None:
    values = np.random.default_rng(1).beta(5, 2, 2000)
    a = gm.classify(values, scheme="natural_breaks", k=5, metric="coverage")
    b = gm.classify(values, scheme="natural_breaks", k=5, metric="coverage")
    assert a == b
    assert a.k == 5
    assert list(a.breaks) == sorted(a.breaks)


def test_ties_give_fewer_classes_without_warnings() -> None:
    # pytest turns warnings into errors: mapclassify's tie warning must not leak.
    c = gm.classify([0, 0, 0, 0, 1], scheme="quantiles", k=5, metric="open_issues_per_100")
    assert c.breaks == (0.0,)
    assert c.labels == ("0", "1")  # zero is a class of its own for issue metrics
    c = gm.classify([np.nan, np.nan], scheme="quantiles", k=5, metric="coverage")
    assert (c.k, c.breaks) == (0, ())
    c = gm.classify([3, 3, 3], scheme="natural_breaks", k=4, metric="overdue_issues")
    assert (c.k, c.labels) == (1, ("3",))


def test_colour_for() -> None:
    c = gm.classify([], metric="coverage")
    assert gm.colour_for(0.3, c) == "#ca0020"
    assert gm.colour_for(0.8, c) == "#92c5de"
    assert gm.colour_for(math.nan, c) == gm.NO_HOUSEHOLDS_COLOUR == "#d9d9d9"


def test_bad_classify_arguments() -> None:
    with pytest.raises(ValueError, match="scheme"):
        gm.classify([1], scheme="jenks")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k must be"):
        gm.classify([1, 2], scheme="quantiles", k=9)


# --------------------------------------------------------------------------
# style_payload
# --------------------------------------------------------------------------


def test_style_coverage_classes_no_households_and_no_data(
    grids: gpd.GeoDataFrame, metrics: pd.DataFrame
) -> None:
    s = gm.style_payload(grids["grid_id"], metrics, selected="G3")
    # G1 95 % -> "≥ 90 %"; G2 no households -> -1 (never 0 %); G3 40 % -> "< 50 %"; G4 no row.
    assert s["cls"] == [3, -1, 0, -2]
    assert s["coverage"] == [950, None, 400, None]
    assert s["households"] == [100, 0, 50, None]
    assert s["sel"] == 2
    assert s["colours"] == ["#ca0020", "#f4a582", "#92c5de", "#0571b0"]
    assert s["legend"] == {
        "title": "走访覆盖率",
        "items": [
            {"colour": "#ca0020", "label": "< 50%"},
            {"colour": "#f4a582", "label": "50–75%"},
            {"colour": "#92c5de", "label": "75–90%"},
            {"colour": "#0571b0", "label": "≥ 90%"},
        ],
        "bivariate": None,
        "no_households": {"colour": "#d9d9d9", "label": "无在住户"},
        "no_data": {"colour": "#ffffff", "label": "无数据"},
    }


def test_zero_households_is_never_zero_percent(grids: gpd.GeoDataFrame) -> None:
    # Even if an upstream bug reports coverage 0.0 for a grid without households.
    m = pd.DataFrame(
        {"households": [0, 10, 10, 10], "coverage": [0.0, 0.0, 0.5, 1.0], "open_issues": 0},
        index=["G1", "G2", "G3", "G4"],
    )
    s = gm.style_payload(grids["grid_id"], m)
    assert s["cls"] == [-1, 0, 1, 3]
    assert s["coverage"][0] is None


def test_style_issue_metrics(grids: gpd.GeoDataFrame, metrics: pd.DataFrame) -> None:
    s = gm.style_payload(grids["grid_id"], metrics, metric="open_issues_per_100", lang="en")
    # G1 0/100 -> "< 1"; G3 4/50 = 8 per 100 -> "≥ 5".
    assert s["cls"] == [0, -1, 3, -2]
    assert s["legend"]["title"] == "Open issues per 100 households"
    assert s["legend"]["no_households"]["label"] == "No occupied households"
    s = gm.style_payload(grids["grid_id"], metrics, metric="overdue_issues")
    # A count: classed even where nobody lives (G2 has 2 overdue issues).
    assert s["cls"] == [0, 2, 2, -2]


def test_bivariate_highlights_low_coverage_and_many_issues(
    grids: gpd.GeoDataFrame, metrics: pd.DataFrame
) -> None:
    s = gm.style_payload(grids["grid_id"], metrics, metric="bivariate")
    # G1: coverage high, issues low -> 0; G3: coverage low (40 %), issues high (8/100) -> 8.
    assert s["cls"] == [0, -1, 8, -2]
    assert s["colours"][0] == "#e8e8e8"
    assert s["colours"][8] == "#38373b"
    assert s["emphasis"] == [8]
    assert s["legend"]["bivariate"]["rows"] == ["< 1", "1–3", "≥ 3"]
    assert s["legend"]["bivariate"]["cols"] == ["≥ 90%", "50–90%", "< 50%"]


def test_style_rejects_unknown_selection_and_missing_columns(
    grids: gpd.GeoDataFrame, metrics: pd.DataFrame
) -> None:
    with pytest.raises(ValueError, match="G9"):
        gm.style_payload(grids["grid_id"], metrics, selected="G9")
    with pytest.raises(ValueError, match="open_issues"):
        gm.style_payload(grids["grid_id"], metrics[["households", "coverage"]], metric="bivariate")


# --------------------------------------------------------------------------
# geometry_payload
# --------------------------------------------------------------------------


def test_payload_round_trip_and_tables(grids: gpd.GeoDataFrame) -> None:
    p = gm.geometry_payload(grids, simplify_m=None)
    assert p["grids"]["id"] == ["G1", "G2", "G3", "G4"]
    assert p["grids"]["committee"] == [0, 0, 1, 1]
    assert p["committees"] == {
        "id": ["C1", "C2"],
        "name": ["一村", "<b>二村</b>"],
        "street": [0, 1],
        "geom": p["committees"]["geom"],
    }
    assert p["streets"]["name"] == ["长寿路街道", "真如镇街道"]
    assert p["bbox"] == [121.4, 31.24, 121.42, 31.26]
    back = gm.geometry_from_payload(p)
    for got, want in zip(back.geometry, grids.geometry, strict=True):
        assert got.normalize().equals(shapely.MultiPolygon([want]).normalize())
    # Outlines default to the union of each committee's grids.
    c1 = gm.geometry_from_payload(p, "committees").geometry[0]
    assert c1.normalize().equals(shapely.MultiPolygon([box(121.40, 31.24, 121.42, 31.25)]).normalize())


def test_payload_keeps_holes_and_parts() -> None:
    ring = shapely.Polygon(
        box(121.40, 31.24, 121.43, 31.27).exterior.coords,
        [box(121.41, 31.25, 121.42, 31.26).exterior.coords[::-1]],
    )
    island = box(121.45, 31.24, 121.46, 31.25)
    g = gpd.GeoDataFrame(
        {
            "grid_id": ["G1", "G2"],
            "committee_id": ["C1", "C1"],
            "street_id": ["S1", "S1"],
            "name": ["a", "b"],
            "committee_name": ["c", "c"],
            "street_name": ["s", "s"],
        },
        geometry=[shapely.MultiPolygon([ring, island]), box(121.41, 31.25, 121.42, 31.26)],
        crs="EPSG:4326",
    )
    p = gm.geometry_payload(g, simplify_m=None)
    assert [len(part) for part in p["grids"]["geom"][0]] == [2, 1]  # shell + hole, island
    back = gm.geometry_from_payload(p).geometry[0]
    assert back.area == pytest.approx(g.geometry[0].area, rel=1e-9)


def test_payload_for_2000_grids_is_under_400_kb(district: gpd.GeoDataFrame) -> None:
    p = gm.geometry_payload(district)
    size = len(gm.payload_json(p).encode("utf-8"))
    baseline = len(district.to_json().encode("utf-8"))
    assert size < 400_000, size
    assert baseline > 2.5 * size, (baseline, size)
    # Topology kept: the decoded grids still tile the district, no gaps or overlaps.
    back = gm.geometry_from_payload(p)
    assert bool(shapely.coverage_is_valid(back.geometry.values))
    assert back.to_crs(32651).area.sum() == pytest.approx(district.to_crs(32651).area.sum(), rel=1e-4)


def test_payload_json_cannot_close_a_script() -> None:
    text = gm.payload_json({"n": XSS_SCRIPT + "\u2028&"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"n": XSS_SCRIPT + "\u2028&"}


def test_payload_rejects_bad_input(grids: gpd.GeoDataFrame) -> None:
    with pytest.raises(ValueError, match="missing column"):
        gm.geometry_payload(grids.drop(columns="street_name"))
    with pytest.raises(ValueError, match="no CRS"):
        gm.geometry_payload(grids.set_crs(None, allow_override=True))
    lines = grids.copy()
    lines.loc[0, "geometry"] = shapely.LineString([(121.4, 31.24), (121.41, 31.25)])
    with pytest.raises(ValueError, match="G1"):
        gm.geometry_payload(lines)


def test_grid_id_at(grids: gpd.GeoDataFrame) -> None:
    assert gm.grid_id_at(grids, lat=31.255, lng=121.415) == "G4"
    assert gm.grid_id_at(grids, lat=31.30, lng=121.415) is None


# --------------------------------------------------------------------------
# Maps and their HTML
# --------------------------------------------------------------------------


# A name that Jinja would run: folium pages are rendered by Jinja, and branca rendered each
# element's output a second time as a template (geo.maps.builders.Verbatim).
JINJA_NAMES = ("{{ 'QX' ~ 'JV' ~ cycler.__name__ }}", "{% for x in range(3) %}ZQ{% endfor %}")


def _ran_as_template(page: str) -> list[str]:
    """What of :data:`JINJA_NAMES` a rendered page shows evaluated instead of as typed."""
    return [shown for shown in ("QXJV", "ZQZQZQ") if shown in page]


def test_names_are_never_run_as_templates_on_any_folium_map(
    grids: gpd.GeoDataFrame, metrics: pd.DataFrame
) -> None:
    hostile = grids.assign(name=[*JINJA_NAMES, "x", "y"], committee_name=["{{ 6 * 7 }}"] * 4)
    page = gm.grid_map(hostile, metrics, selected="G1").get_root().render()
    assert _ran_as_template(page) == [] and "cycler.__name__" in page
    buildings = gpd.GeoDataFrame(
        {"building_id": ["B1", "B2"], "name": list(JINJA_NAMES)},
        geometry=[box(121.401, 31.241, 121.402, 31.242), box(121.404, 31.241, 121.405, 31.242)],
        crs="EPSG:4326",
    )
    building_metrics = metrics.iloc[:2].set_axis(pd.Index(["B1", "B2"], name="building_id"))
    page = gm.building_map(buildings, building_metrics, grid=hostile.iloc[:1], committee_name=JINJA_NAMES[0])
    rendered = page.get_root().render()
    assert _ran_as_template(rendered) == [] and "cycler.__name__" in rendered
    spots = gpd.GeoDataFrame(
        {"spot": [1], "grids": 1, "households": 50, "unvisited": 40},
        geometry=[box(121.401, 31.241, 121.409, 31.249)],
        crs="EPSG:4326",
    )
    page = gm.blind_spot_map(hostile, metrics, spots).get_root().render()
    assert _ran_as_template(page) == [] and "cycler.__name__" in page


def test_grid_map_html_is_offline_and_escaped(grids: gpd.GeoDataFrame, metrics: pd.DataFrame) -> None:
    m = gm.grid_map(grids, metrics, selected="G1")
    page = m.get_root().render()
    assert gm.find_external_urls(page) == []
    assert "http://" not in page and "https://" not in page
    # No hostile text arrives as markup: only script-safe JSON escapes.
    assert XSS_IMG not in page
    assert "</script><script>window.__xss" not in page
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in page
    assert "\\u003cb\\u003e二村\\u003c/b\\u003e" in page
    # Exactly the scripts a map with harmless names has.
    clean = grids.assign(name="x", committee_name="y")
    clean_page = gm.grid_map(clean, metrics, selected="G1").get_root().render()
    assert page.count("<script") == clean_page.count("<script")
    # Only Leaflet, as data: URIs; no jQuery, Bootstrap or Font Awesome.
    assert m.default_js == [("leaflet", gm.leaflet_links()[0])]
    assert m.default_css == [("leaflet_css", gm.leaflet_links()[1])]
    assert re.findall(r'<script src="([a-z]+):', page) == ["data"]
    # folium's class-wide lists are untouched.
    assert folium.Map.default_js[0][1].startswith("https://")


def test_grid_map_colours_legend_and_layers(grids: gpd.GeoDataFrame, metrics: pd.DataFrame) -> None:
    m = gm.grid_map(grids, metrics, lang="en")
    layer = child(m, gm.GridLayer)
    page = m.get_root().render()
    assert layer.style_js in page
    style = json.loads(layer.style_js)
    colours = [style["colours"][c] if c >= 0 else None for c in style["cls"]]
    assert colours == ["#0571b0", None, "#ca0020", None]
    assert [item["label"] for item in style["legend"]["items"]] == [
        "< 50%",
        "50–75%",
        "75–90%",
        "≥ 90%",
    ]
    assert style["labels"]["households"] == "Occupied households"
    outlines = [c for c in m._children.values() if isinstance(c, gm.OutlineLayer)]
    assert [o.layer_name for o in outlines] == ["Committee outlines", "Street outlines"]
    assert all(o.overlay and o.control for o in [layer, *outlines])
    assert isinstance(child(m, folium.LayerControl), folium.LayerControl)
    assert "SibaiMap.gridLayer(" in page and "SibaiMap.outlineLayer(" in page


def test_grid_map_chinese_labels_by_default(grids: gpd.GeoDataFrame, metrics: pd.DataFrame) -> None:
    m = gm.grid_map(grids, metrics, metric="bivariate")
    style = child(m, gm.GridLayer).style
    assert style["labels"]["committee"] == "居委会"
    assert style["legend"]["title"] == "覆盖率 × 每百户诉求"
    assert child(m, gm.GridLayer).layer_name == "微网格"


def test_grid_map_basemaps(grids: gpd.GeoDataFrame, metrics: pd.DataFrame) -> None:
    osm = gm.grid_map(grids, metrics, basemap="osm").get_root().render()
    assert gm.find_external_urls(osm) == ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]
    with pytest.raises(ValueError, match="tianditu_key"):
        gm.grid_map(grids, metrics, basemap="tianditu")
    tdt = gm.grid_map(grids, metrics, basemap="tianditu", tianditu_key="ab" * 16)
    assert "LAYER=vec" in tdt.get_root().render()
    with pytest.raises(ValueError, match="GCJ-02"):
        gm.grid_map(grids, metrics, basemap="amap")
    gm.grid_map(grids, metrics, basemap="amap", geometry_crs="gcj02")


def test_grid_map_focus_and_cached_payload(grids: gpd.GeoDataFrame, metrics: pd.DataFrame) -> None:
    payload = gm.geometry_payload(grids)
    m = gm.grid_map(grids, metrics, payload=payload, focus="C2")
    assert "fitBounds([[31.25,121.4],[31.26,121.42]], {animate: false})" in m.get_root().render()
    with pytest.raises(ValueError, match="focus"):
        gm.grid_map(grids, metrics, focus="nowhere")
    with pytest.raises(ValueError, match="other grids"):
        gm.grid_map(grids.iloc[::-1], metrics, payload=payload)


def test_assets_must_be_served_by_the_app() -> None:
    assert gm.leaflet_links("../sibai.gridmap") == (
        "../sibai.gridmap/leaflet.js",
        "../sibai.gridmap/leaflet.css",
    )
    for bad in ("https://unpkg.com/leaflet", "//cdn.example.org", "file:///etc"):
        with pytest.raises(ValueError):
            gm.leaflet_links(bad)
    page = gm.offline_map(assets="app/static/sibai").get_root().render()
    assert '<script src="app/static/sibai/leaflet.js"></script>' in page
    assert gm.find_external_urls(page) == []


def test_restyle_and_blank_style(grids: gpd.GeoDataFrame, metrics: pd.DataFrame) -> None:
    payload = gm.geometry_payload(grids)
    m = gm.offline_map()
    gm.GridLayer(
        "geometry/x.json", gm.blank_style(geometry_hash=payload["hash"]), inline_library=False
    ).add_to(m)
    group = folium.FeatureGroup(name="style", control=False).add_to(m)
    style = gm.style_payload(payload["grids"]["id"], metrics, geometry_hash=payload["hash"])
    gm.Restyle(style).add_to(group)
    page = m.get_root().render()
    assert "SibaiMap.restyle(" + gm.payload_json(style) in page
    assert 'SibaiMap.gridLayer(\n            "geometry/x.json"' in page
    assert "function esc(" not in page  # the library was not inlined
    with pytest.raises(ValueError, match="relative"):
        gm.GridLayer("https://example.org/g.json", style)


def test_build_assets_and_geometry_file(tmp_path: Path, grids: gpd.GeoDataFrame) -> None:
    out = gm.build_assets(tmp_path / "web")
    leaflet = gm._leaflet_dir()
    assert (out / "leaflet.js").read_bytes() == (leaflet / "leaflet.js").read_bytes()
    assert (out / "images" / "layers.png").exists()
    assert (out / "index.html").read_text(encoding="utf-8") == (gm.ASSETS_DIR / "gridmap.html").read_text(
        encoding="utf-8"
    )
    payload = gm.geometry_payload(grids)
    rel = gm.write_geometry(payload, out)
    assert rel == f"geometry/{payload['hash']}.json"
    assert json.loads((out / rel).read_text(encoding="utf-8")) == payload
    args = gm.gridmap_args(
        rel,
        gm.style_payload(
            payload["grids"]["id"], pd.DataFrame({"households": [1], "coverage": [1.0]}, index=["G1"])
        ),
    )
    assert json.loads(args["style"])["cls"] == [3, -2, -2, -2]
    assert args["tiles"] == []
    with pytest.raises(ValueError, match="inside the served folder"):
        gm.gridmap_args("../../etc/passwd", {})


def test_no_third_party_code_is_kept_in_assets() -> None:
    ours = sorted(p.name for p in gm.ASSETS_DIR.iterdir() if p.name != "_generated")
    # Only our own files: the district-map component and the public site's script and style.
    assert ours == ["gridmap.html", "gridmap.js", "public_site.css", "public_site.js", "sibai_map.js"]
    for name in ours:
        assert gm.find_external_urls((gm.ASSETS_DIR / name).read_text(encoding="utf-8")) == []


# --------------------------------------------------------------------------
# In the browser
# --------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
G1, G3 = (31.245, 121.405), (31.255, 121.405)  # a point inside each of the two grids with households


@contextlib.contextmanager
def _map_in_chromium(tmp_path: Path, m: folium.Map) -> Iterator[tuple[Page, dict[str, list[str]]]]:
    """Open ``m``'s rendered HTML in headless Chromium; yield the page and what it requested or raised."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is required in CI")
        pytest.skip("no chromium")
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "map.html"
    page_file.write_text(m.get_root().render(), encoding="utf-8")
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 700})
            seen: dict[str, list[str]] = {"requests": [], "errors": [], "dialogs": []}
            page.on("request", lambda r: seen["requests"].append(r.url))
            page.on("pageerror", lambda e: seen["errors"].append(str(e)))
            page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
            page.goto(page_file.as_uri())
            page.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length >= 4")
            yield page, seen
        finally:
            browser.close()


def _tooltip_at(page: Page, lat: float, lng: float) -> str:
    """Hover the map at (lat, lng) and return the tooltip's text."""
    xy = page.evaluate(
        "([lat, lng]) => { const m = SibaiMap.layers[0]._map;"
        " const p = m.latLngToContainerPoint([lat, lng]);"
        " const r = m.getContainer().getBoundingClientRect();"
        " return [p.x + r.left, p.y + r.top]; }",
        [lat, lng],
    )
    page.mouse.move(*xy)
    page.mouse.move(xy[0] + 2, xy[1] + 2)
    return page.wait_for_selector(".leaflet-tooltip").inner_text()


@pytest.mark.browser
def test_hostile_names_show_as_text_in_chromium(
    tmp_path: Path, grids: gpd.GeoDataFrame, metrics: pd.DataFrame
) -> None:
    with _map_in_chromium(tmp_path, gm.grid_map(grids, metrics)) as (page, seen):
        texts = [_tooltip_at(page, *G1), _tooltip_at(page, *G3)]
        legend = page.inner_text(".sibai-legend")
        hatched = page.evaluate(
            "() => Array.from(document.querySelectorAll('path'))"
            ".filter(p => (p.getAttribute('fill') || '').startsWith('url(#sibai-hatch')).length"
        )
        xss = page.evaluate("() => window.__xss === undefined")
        images = page.evaluate("() => document.querySelectorAll('img').length")
    assert XSS_IMG in texts[0] and "一村" in texts[0]
    assert "<b>二村</b>" in texts[1] and "40.0%" in texts[1]
    assert "无在住户" in legend and "≥ 90%" in legend
    assert hatched == 1  # G2
    assert xss and images == 0 and seen["dialogs"] == [] and seen["errors"] == []
    assert [u for u in seen["requests"] if not u.startswith(("file:", "data:"))] == []


@pytest.mark.browser
@pytest.mark.parametrize(
    ("metric", "lang", "legend_lines", "g1", "g3"),
    [
        # G1: 95 % covered, no open issue; G3: 40 % covered, 4 open issues in 50 households (8 per 100).
        ("coverage", "zh", ["< 50%", "50–75%", "75–90%", "≥ 90%"], "分级：≥ 90%（第 4 档，共 4 档）",
         "分级：< 50%（第 1 档，共 4 档）"),
        ("coverage", "en", ["< 50%", "50–75%", "75–90%", "≥ 90%"], "Class: ≥ 90% (class 4 of 4)",
         "Class: < 50% (class 1 of 4)"),
        ("open_issues_per_100", "en", ["< 1", "1–2", "2–5", "≥ 5"], "Class: < 1 (class 1 of 4)",
         "Class: ≥ 5 (class 4 of 4)"),
        ("bivariate", "zh", ["< 1", "1–3", "≥ 3", "≥ 90%", "50–90%", "< 50%"],
         "分级：覆盖率高（≥ 90%），诉求少（每百户 < 1）", "分级：覆盖率低（< 50%），诉求多（每百户 ≥ 3）"),
        ("bivariate", "en", ["< 1", "1–3", "≥ 3", "≥ 90%", "50–90%", "< 50%"],
         "Class: high coverage (≥ 90%), few issues (< 1 per 100 households)",
         "Class: low coverage (< 50%), many issues (≥ 3 per 100 households)"),
    ],
)  # fmt: skip
def test_every_class_reads_as_text_in_legend_and_tooltip(
    tmp_path: Path,
    grids: gpd.GeoDataFrame,
    metrics: pd.DataFrame,
    metric: str,
    lang: str,
    legend_lines: list[str],
    g1: str,
    g3: str,
) -> None:
    """A reader who cannot tell the colours apart reads each class in the legend and on hover."""
    with _map_in_chromium(tmp_path, gm.grid_map(grids, metrics, metric=metric, lang=lang)) as (page, seen):
        legend = page.inner_text(".sibai-legend")
        tips = [_tooltip_at(page, *G1), _tooltip_at(page, *G3)]
    assert [line for line in legend_lines if line not in legend] == []
    assert g1 in tips[0].splitlines() and g3 in tips[1].splitlines(), tips
    assert seen["errors"] == []


# --------------------------------------------------------------------------
# The issues map's classes (issue 14: an almost uniformly pale map)
# --------------------------------------------------------------------------


def _district_like_issue_rates(seed: int = 42) -> pd.DataFrame:
    """Open issues over 2,000 grids as in the full district: about 1,400 open, most grids none.

    Households per grid from 100 to 400; each open issue falls in a grid with a
    chance proportional to its households (a seeded draw, no figure typed in).
    """
    rng = np.random.default_rng(seed)
    households = rng.integers(100, 400, size=2000)
    open_issues = np.bincount(rng.choice(2000, size=1400, p=households / households.sum()), minlength=2000)
    return pd.DataFrame(
        {"households": households, "coverage": 0.6, "open_issues": open_issues, "overdue_issues": 0},
        index=[f"G{i:04d}" for i in range(2000)],
    )


def test_the_issues_map_classes_split_the_district_into_several_classes() -> None:
    from geo.settings import Settings

    metrics = _district_like_issue_rates()
    ids = metrics.index.tolist()
    cfg = Settings()
    fixed = gm.style_payload(ids, metrics, metric="open_issues_per_100")
    # The district's rates are all below one per hundred households: fixed classes see one colour.
    assert max(np.bincount(fixed["cls"])) / len(ids) > 0.95
    style = gm.style_payload(
        ids, metrics, metric="open_issues_per_100", scheme=cfg.issue_map_scheme, k=cfg.issue_map_classes
    )
    sizes = np.bincount(style["cls"], minlength=len(style["colours"]))
    assert len(sizes) == cfg.issue_map_classes >= 4
    assert (sizes > 0).all(), sizes
    assert sizes.max() / len(ids) < 0.6, sizes
    # Grids without an open issue are the first class, and only they.
    per_100 = metrics["open_issues"] / metrics["households"] * 100
    assert (np.asarray(style["cls"]) == 0).tolist() == (per_100 == 0).tolist()


@pytest.mark.parametrize("scheme", ["quantiles", "natural_breaks"])
def test_zero_is_a_class_of_its_own_for_issue_metrics(scheme: str) -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate([np.zeros(600), rng.gamma(2.0, 0.4, size=400)])
    c = gm.classify(values, scheme=scheme, k=5, metric="open_issues_per_100")  # type: ignore[arg-type]
    idx = c.index(values)
    assert c.labels[0] == "0" and c.k == 5
    assert (idx == 0).tolist() == (values == 0).tolist()
    assert (np.bincount(idx, minlength=5) > 0).all()


# --------------------------------------------------------------------------
# Blind-spot numbers that do not pile up (issue 14)
# --------------------------------------------------------------------------


def _spot_labels(m: folium.Map) -> list[tuple[float, float, tuple[int, int], str]]:
    """Return every number marker of a blind-spot map: lat, lon, icon size and class."""
    out = []
    stack = list(m._children.values())
    while stack:
        child = stack.pop()
        stack.extend(child._children.values())
        if isinstance(child, folium.Marker) and isinstance(child.icon, folium.DivIcon):
            opts = child.icon.options
            out.append((child.location[0], child.location[1], tuple(opts["icon_size"]), opts["class_name"]))
    return out


def test_blind_spot_numbers_never_overlap_at_any_zoom_they_show() -> None:
    from pyproj import Transformer

    # 48 small blind spots 120 m apart in a corner of a district-sized map: at the zoom that
    # fits the district, their numbers sat on top of each other.
    rng = np.random.default_rng(14)
    cells = [box(121.40 + 0.00125 * i, 31.25 + 0.00108 * j, 121.4006 + 0.00125 * i, 31.2506 + 0.00108 * j)
             for i in range(8) for j in range(6)]  # fmt: skip
    order = rng.permutation(len(cells))
    spots = gpd.GeoDataFrame(
        {"spot": np.arange(1, len(cells) + 1), "grids": 1, "households": 50, "unvisited": 40},
        geometry=[cells[k] for k in order],
        crs="EPSG:4326",
    )
    grids = gpd.GeoDataFrame(
        {"grid_id": ["G1"], "committee_id": ["C1"], "street_id": ["S1"], "name": ["一村第1网格"],
         "committee_name": ["一村"], "street_name": ["长寿路街道"]},
        geometry=[box(121.32, 31.22, 121.45, 31.30)], crs="EPSG:4326",
    )  # fmt: skip
    metrics = pd.DataFrame(
        {"households": [500], "visited": [100], "coverage": [0.2], "open_issues": [0], "overdue_issues": [0]},
        index=["G1"],
    )
    m = gm.blind_spot_map(grids, metrics, spots)
    labels = _spot_labels(m)
    assert len(labels) == len(spots)
    # The first zoom each number shows at (a number without one shows at every zoom).
    first = {c: int(z.group(1)) if (z := re.search(r"sibai-spot-(\d+)", c)) else 0 for *_, c in labels}
    to_metres = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    half_world = 20037508.342789244
    for zoom in range(10, 18):
        shown = [label for label in labels if first[label[3]] <= zoom]
        metres = np.array([to_metres.transform(lon, lat) for lat, lon, _, _ in shown])
        px = (metres + half_world) / (2 * half_world) * 256 * 2**zoom  # an independent projection
        for a, b in itertools.combinations(range(len(shown)), 2):
            (wa, ha), (wb, hb) = shown[a][2], shown[b][2]
            apart = abs(px[a, 0] - px[b, 0]) >= (wa + wb) / 2 or abs(px[a, 1] - px[b, 1]) >= (ha + hb) / 2
            assert apart, (zoom, shown[a], shown[b])
    # Some numbers wait for a closer zoom, and the page's CSS hides them until then.
    css = m.get_root().render()
    assert len(set(first.values())) > 1 and max(first.values()) <= 17
    for cls, zoom in first.items():
        hidden_at = f".sibai-zoom-{zoom - 1} .{cls.split()[1]}"
        assert (hidden_at in css) == (zoom > min(first.values())), cls
