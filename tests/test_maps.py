"""Tests of geo.maps on the map objects, their rendered HTML and, once, in Chromium."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
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
    assert c.colours == ("#d7191c", "#fdae61", "#abd9e9", "#2c7bb6")
    assert not c.right_closed
    # Thresholds belong to the class above them: 50 % is "50–75 %".
    values = [0.0, 0.4999, 0.5, 0.7499, 0.75, 0.9, 1.0, np.nan]
    assert c.index(values).tolist() == [0, 0, 1, 1, 2, 3, 3, -1]


def test_fixed_overdue_labels_are_whole_counts() -> None:
    c = gm.classify([0, 1, 2, 7], metric="overdue_issues")
    assert c.labels == ("0", "1", "2–4", "≥ 5")
    assert c.index([0, 1, 2, 4, 5, 40]).tolist() == [0, 1, 2, 2, 3, 3]
    assert c.colours == ("#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c")


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
    assert c.colours == ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
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
    assert c.labels == ("0", "0–1")
    c = gm.classify([np.nan, np.nan], scheme="quantiles", k=5, metric="coverage")
    assert (c.k, c.breaks) == (0, ())
    c = gm.classify([3, 3, 3], scheme="natural_breaks", k=4, metric="overdue_issues")
    assert (c.k, c.labels) == (1, ("3",))


def test_colour_for() -> None:
    c = gm.classify([], metric="coverage")
    assert gm.colour_for(0.3, c) == "#d7191c"
    assert gm.colour_for(0.8, c) == "#abd9e9"
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
    assert s["colours"] == ["#d7191c", "#fdae61", "#abd9e9", "#2c7bb6"]
    assert s["legend"] == {
        "title": "走访覆盖率",
        "items": [
            {"colour": "#d7191c", "label": "< 50%"},
            {"colour": "#fdae61", "label": "50–75%"},
            {"colour": "#abd9e9", "label": "75–90%"},
            {"colour": "#2c7bb6", "label": "≥ 90%"},
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
    assert s["colours"][8] == "#574249"
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
    assert colours == ["#2c7bb6", None, "#d7191c", None]
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


@pytest.mark.browser
def test_hostile_names_show_as_text_in_chromium(
    tmp_path: Path, grids: gpd.GeoDataFrame, metrics: pd.DataFrame
) -> None:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is required in CI")
        pytest.skip("no chromium")
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "map.html"
    page_file.write_text(gm.grid_map(grids, metrics).get_root().render(), encoding="utf-8")
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
            requests: list[str] = []
            errors: list[str] = []
            dialogs: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(page_file.as_uri())
            page.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length >= 4")
            texts = []
            for lat, lng in ((31.245, 121.405), (31.255, 121.405)):  # G1, then G3
                xy = page.evaluate(
                    "([lat, lng]) => { const m = SibaiMap.layers[0]._map;"
                    " const p = m.latLngToContainerPoint([lat, lng]);"
                    " const r = m.getContainer().getBoundingClientRect();"
                    " return [p.x + r.left, p.y + r.top]; }",
                    [lat, lng],
                )
                page.mouse.move(*xy)
                page.mouse.move(xy[0] + 2, xy[1] + 2)
                texts.append(page.wait_for_selector(".leaflet-tooltip").inner_text())
            legend = page.inner_text(".sibai-legend")
            hatched = page.evaluate(
                "() => Array.from(document.querySelectorAll('path'))"
                ".filter(p => (p.getAttribute('fill') || '').startsWith('url(#sibai-hatch')).length"
            )
            xss = page.evaluate("() => window.__xss === undefined")
            images = page.evaluate("() => document.querySelectorAll('img').length")
        finally:
            browser.close()
    assert XSS_IMG in texts[0] and "一村" in texts[0]
    assert "<b>二村</b>" in texts[1] and "40.0%" in texts[1]
    assert "无在住户" in legend and "≥ 90%" in legend
    assert hatched == 1  # G2
    assert xss and images == 0 and dialogs == [] and errors == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
