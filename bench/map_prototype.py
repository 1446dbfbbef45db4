"""Prototype and measure how the district page can draw 2,000 grids with Streamlit.

Runs a throwaway Streamlit app (written to a temporary folder) with ``streamlit
run`` and drives it in Debian's headless Chromium through Playwright, for three
ways of showing the same synthetic 2,000-grid district:

``baseline``
    The straightforward page: ``folium.GeoJson`` of the whole frame with a
    ``style_function`` and ``GeoJsonTooltip``, shown with ``st_folium``
    (Leaflet served by the app, so that it works offline at all).
``folium``
    streamlit-folium tuned as far as it goes: a constant base map whose grid
    layer fetches the compact geometry file once, colours sent as a
    ``Restyle`` element through ``feature_group_to_add``, clicks read from
    ``last_object_clicked`` and mapped to a grid in Python.
``component``
    Our own bidirectional component (``geo/assets/gridmap.html`` +
    ``gridmap.js``, declared with ``components.declare_component(path=...)``):
    geometry fetched once, a style object per rerun, a click returns
    ``{"grid": id, "seq": n}``.

For each: page open to all grids drawn (cold, then warm), a metric change and a
period change (server script time, browser time until re-coloured, bytes over
the websocket, whether pan/zoom survive), and a grid click (bytes sent, time
until Python sees it, time until the summary shows). ``--assets`` also checks
which ways of giving Leaflet to st_folium's iframe work. Every request to a host
other than the app is counted (must be 0).

Usage::

    python bench/map_prototype.py                 # all three approaches
    python bench/map_prototype.py --modes component --assets
    python bench/map_prototype.py --json bench/results/map_prototype.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pickle
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geo.maps as gm  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STREETS = (
    "长寿路街道",
    "曹杨新村街道",
    "长风新村街道",
    "宜川路街道",
    "甘泉路街道",
    "石泉路街道",
    "万里街道",
    "真如镇街道",
    "长征镇",
    "桃浦镇",
)
PERIODS = ("week", "month", "quarter", "ytd")


# --------------------------------------------------------------------------
# Synthetic district (a Voronoi tessellation of Putuo's rough outline)
# --------------------------------------------------------------------------


def district(n: int = 2000, seed: int = 42) -> tuple[gpd.GeoDataFrame, dict[str, pd.DataFrame]]:
    """Return ``n`` Voronoi grids over Putuo's rough outline and metrics per period."""
    rng = np.random.default_rng(seed)
    outline = shapely.Polygon(
        [
            (121.32, 31.28),
            (121.35, 31.30),
            (121.41, 31.295),
            (121.45, 31.275),
            (121.452, 31.235),
            (121.43, 31.22),
            (121.39, 31.218),
            (121.36, 31.23),
            (121.325, 31.25),
        ]
    )
    minx, miny, maxx, maxy = outline.bounds
    pts = np.empty((0, 2))
    while len(pts) < n:
        cand = rng.uniform([minx, miny], [maxx, maxy], size=(2 * n, 2))
        pts = np.vstack([pts, cand[shapely.contains_xy(outline, cand[:, 0], cand[:, 1])]])
    pts = pts[:n]
    pts = pts[np.lexsort((pts[:, 1], pts[:, 0]))]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=outline))
    point_idx, cell_idx = shapely.STRtree(cells).query(shapely.points(pts), predicate="within")
    order = cell_idx[np.argsort(point_idx)]
    geoms = shapely.intersection(cells[order], outline)
    geoms = np.array([shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in geoms])
    street = np.minimum((pts[:, 0] - minx) / (maxx - minx) * 10, 9).astype(int)
    committee = street * 30 + np.minimum((pts[:, 1] - miny) / (maxy - miny) * 27, 26).astype(int)
    grids = gpd.GeoDataFrame(
        {
            "grid_id": [f"G{i + 1:04d}" for i in range(n)],
            "committee_id": [f"C{c + 1:03d}" for c in committee],
            "street_id": [f"S{s + 1:02d}" for s in street],
            "name": [f"第{c % 30 + 1}居民区第{i % 9 + 1}网格" for i, c in enumerate(committee)],
            "committee_name": [f"第{c % 30 + 1}居民区" for c in committee],
            "street_name": [STREETS[s] for s in street],
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    households = rng.integers(20, 400, n)
    households[rng.random(n) < 0.03] = 0
    periods = {}
    for j, period in enumerate(PERIODS):
        share = rng.beta(1 + 2 * j, 2, n)
        visited = (households * share).astype(int)
        coverage = np.where(households > 0, visited / np.maximum(households, 1), np.nan)
        periods[period] = pd.DataFrame(
            {
                "households": households,
                "visited": visited,
                "coverage": coverage,
                "residents": households * 2,
                "open_issues": rng.poisson(households / 60),
                "overdue_issues": rng.poisson(0.5, n),
            },
            index=pd.Index(grids["grid_id"], name="grid_id"),
        )
    return grids, periods


# --------------------------------------------------------------------------
# The throwaway app
# --------------------------------------------------------------------------

APP = """
import json, os, pickle, time
T0, W0 = time.perf_counter(), time.time()
import folium
import streamlit as st
import streamlit.components.v1 as components
from streamlit_folium import st_folium
import geo.maps as gm

MODE = os.environ["SIBAI_PROTO"]
WORK = os.environ["SIBAI_PROTO_WORK"]
ASSETS = os.path.join(WORK, "web")
st.set_page_config(layout="wide")

@st.cache_resource
def data():
    with open(os.path.join(WORK, "district.pkl"), "rb") as f:
        return pickle.load(f)

@st.cache_resource
def geometry():
    grids, _ = data()
    payload = gm.geometry_payload(grids)
    gm.build_assets(ASSETS)
    return payload, gm.write_geometry(payload, ASSETS)

# Registers ASSETS as a served folder: /component/<module>.gridmap/...
gridmap = components.declare_component("gridmap", path=ASSETS)
SERVED = "../" + gridmap.name   # the same folder, seen from st_folium's iframe

grids, periods = data()
payload, geometry_file = geometry()
period = st.radio("period", list(periods), horizontal=True, key="period")
metric = st.radio("metric", list(gm.METRICS), horizontal=True, key="metric")
metrics = periods[period]
selected = st.session_state.get("selected")
clicked = None

if MODE == "baseline":
    m = gm.offline_map(assets=SERVED, location=(31.258, 121.39), zoom_start=13)
    frame = grids.join(metrics, on="grid_id")
    frame["cov_pct"] = (frame["coverage"] * 100).round(1)
    def colour(feature):
        p = feature["properties"]
        if not p["households"]:
            return {"fillColor": "#d9d9d9", "color": "#666", "weight": 0.6, "fillOpacity": 0.8}
        c = gm.classify([], metric="coverage")
        return {"fillColor": gm.colour_for(p["coverage"], c), "color": "#666", "weight": 0.6,
                "fillOpacity": 0.8}
    def colour_issues(feature):
        p = feature["properties"]
        c = gm.classify([], metric="overdue_issues")
        return {"fillColor": gm.colour_for(p["overdue_issues"], c), "color": "#666",
                "weight": 0.6, "fillOpacity": 0.8}
    folium.GeoJson(
        frame.to_json(),
        style_function=colour if metric in ("coverage", "bivariate") else colour_issues,
        tooltip=folium.GeoJsonTooltip(
            ["name", "committee_name", "street_name", "households", "cov_pct", "open_issues"]),
    ).add_to(m)
    m.get_root().html.add_child(folium.Element(f"<div id=\\"sibai-{metric}-{period}\\"></div>"))
    out = st_folium(m, key="map", height=600, use_container_width=True,
                    returned_objects=["last_object_clicked"])
    point = (out or {}).get("last_object_clicked")
    if point:
        clicked = gm.grid_id_at(grids, lat=point["lat"], lng=point["lng"])
elif MODE == "folium":
    style = gm.style_payload(payload["grids"]["id"], metrics, metric=metric,
                             selected=selected, geometry_hash=payload["hash"])
    # The base map must not change between reruns (st_folium keys its iframe on
    # the map's script): draw it with a constant "no data" style.
    blank = gm.blank_style(geometry_hash=payload["hash"])
    m = gm.offline_map(assets=SERVED, location=(31.258, 121.39), zoom_start=13)
    m.default_js.append(("sibai_map", SERVED + "/sibai_map.js"))
    gm.GridLayer(SERVED + "/" + geometry_file, blank, name="grids", inline_library=False).add_to(m)
    fg = folium.FeatureGroup(name="style", control=False)
    gm.Restyle(style).add_to(fg)
    out = st_folium(m, key="map", height=600, use_container_width=True,
                    feature_group_to_add=fg, returned_objects=["last_object_clicked"])
    point = (out or {}).get("last_object_clicked")
    if point:
        clicked = gm.grid_id_at(grids, lat=point["lat"], lng=point["lng"])
elif MODE == "component":
    style = gm.style_payload(payload["grids"]["id"], metrics, metric=metric,
                             selected=selected, geometry_hash=payload["hash"])
    args = gm.gridmap_args(geometry_file, style)
    args["renderer"] = os.environ.get("SIBAI_PROTO_RENDERER", "svg")
    value = gridmap(**args, key="gridmap", default=None)
    if value:
        clicked = value["grid"]
elif MODE == "shell":
    pass  # no map: the floor set by Streamlit itself
elif MODE.startswith("assets:"):
    variant = MODE.split(":", 1)[1]
    if variant == "data-uri":
        m = gm.offline_map()
    elif variant == "component-dir":
        m = gm.offline_map(assets=SERVED)
    elif variant == "app-static":
        m = gm.offline_map(assets="../../app/static/sibai")
    else:  # inline <script> in the header
        m = gm.offline_map()
        m.default_js, m.default_css = [], []
        src = open(os.path.join(ASSETS, "leaflet.js"), encoding="utf-8").read()
        m.get_root().header.add_child(folium.Element("<script>" + src + "</script>"))
    st_folium(m, key="map", height=300, use_container_width=True, returned_objects=[])

if clicked and clicked != selected:
    st.session_state["selected"] = selected = clicked
    W1 = time.time()
else:
    W1 = None
st.markdown(f"selected grid: **{selected or '-'}**")
with open(os.path.join(WORK, "log.jsonl"), "a") as f:
    f.write(json.dumps({"mode": MODE, "start": W0, "clicked_seen": W1, "metric": metric,
                        "period": period, "selected": selected,
                        "script_ms": (time.perf_counter() - T0) * 1000}) + "\\n")
"""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: Direct connections to 127.0.0.1, even where a proxy is set in the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@contextlib.contextmanager
def streamlit_server(
    script: Path,
    *,
    env: dict[str, str],
    log: Path,
    args: tuple[str, ...] = (),
    cwd: Path | None = None,
    timeout: float = 60.0,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> Iterator[str]:
    """Run ``streamlit run script`` on a free port of 127.0.0.1; yield its base URL.

    ``args`` are extra command-line options; stdout and stderr go to ``log``;
    ``on_start`` is given the process once it answers. The server is terminated
    (then killed) when the block ends.
    """
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        *args,
    ]
    out = open(log, "w")  # noqa: SIM115 (closed below, after the server)
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError):
                _DIRECT.open(url + "/_stcore/health", timeout=1).read()
                break
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"streamlit did not start; see {log}")
            time.sleep(0.1)
        if on_start is not None:
            on_start(proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()


#: How the throwaway app is run (the real app's runs in ``bench_map.py`` share the first ones).
PROTO_ARGS = (
    "--server.fileWatcherType=none",
    "--server.enableStaticServing=true",
    "--browser.gatherUsageStats=false",
    "--global.developmentMode=false",
)


def proto_env(work: Path, mode: str) -> dict[str, str]:
    """Return the environment that makes the throwaway app in ``work`` run ``mode``."""
    return dict(os.environ, SIBAI_PROTO=mode, SIBAI_PROTO_WORK=str(work), PYTHONPATH=str(ROOT))


@contextlib.contextmanager
def streamlit_app(work: Path, mode: str, *, args: tuple[str, ...] = PROTO_ARGS) -> Iterator[str]:
    """Run the throwaway app with ``streamlit run``; yield its URL."""
    with streamlit_server(
        work / "app.py", env=proto_env(work, mode), log=work / f"{mode}.err", args=args
    ) as url:
        yield url


def prepare(
    work: Path,
    n: int = 2000,
    *,
    data: tuple[gpd.GeoDataFrame, dict[str, pd.DataFrame]] | None = None,
) -> gpd.GeoDataFrame:
    """Write the app, the data and the served folder (also as app/static/sibai).

    ``data`` is ``(grids, metrics per period)`` as :func:`district` returns it
    (``bench_map.py`` passes the real database's); by default :func:`district(n) <district>`.
    The app's period radio offers the periods in ``data``'s order, the first selected.
    """
    grids, periods = district(n) if data is None else data
    (work / "app.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    with open(work / "district.pkl", "wb") as f:
        pickle.dump((grids, periods), f)
    gm.build_assets(work / "web")
    gm.build_assets(work / "static" / "sibai")
    return grids


# --------------------------------------------------------------------------
# Measuring in Chromium
# --------------------------------------------------------------------------


class Traffic:
    """Bytes over the websocket (each way) and HTTP bytes, from CDP."""

    def __init__(self, page: Any, app_host: str) -> None:
        self.ws_in = self.ws_out = self.http = 0
        self.foreign: list[str] = []
        self.app_host = app_host
        page.on("websocket", self._ws)
        page.on("request", self._request)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.loadingFinished", self._loaded)

    def _ws(self, ws: Any) -> None:
        ws.on("framereceived", lambda p: self._add("ws_in", p))
        ws.on("framesent", lambda p: self._add("ws_out", p))

    def _add(self, attr: str, payload: Any) -> None:
        size = len(payload.encode() if isinstance(payload, str) else payload)
        setattr(self, attr, getattr(self, attr) + size)

    def _loaded(self, event: dict[str, Any]) -> None:
        self.http += int(event.get("encodedDataLength", 0))

    def _request(self, request: Any) -> None:
        url = request.url
        if not url.startswith(("data:", "blob:", "about:")) and self.app_host not in url:
            self.foreign.append(url)

    def reset(self) -> dict[str, int]:
        out = {"ws_in": self.ws_in, "ws_out": self.ws_out, "http": self.http}
        self.ws_in = self.ws_out = self.http = 0
        return out


FIND_FRAME = """Array.from(document.querySelectorAll('iframe')).find(
  f => f.contentDocument && f.contentDocument.querySelector('.leaflet-container'))"""


class MapFrame:
    """The iframe that holds the map, reached from the page (same origin).

    (Playwright's frame list misses Streamlit's sandboxed component iframes
    with Debian's chromium, so scripts run through ``contentWindow.eval``.)
    """

    def __init__(self, page: Any) -> None:
        self.page = page

    def evaluate(self, fn: str, arg: Any = None) -> Any:
        """Call the JavaScript function expression ``fn`` with ``arg`` inside the map's frame."""
        return self.page.evaluate(
            "([fn, arg]) => { const f = " + FIND_FRAME + ";"
            " if (!f) throw new Error('no map frame');"
            " return f.contentWindow.eval('(' + fn + ')')(arg); }",
            [fn, arg],
        )

    def box(self) -> dict[str, float]:
        return self.page.evaluate(
            "() => { const r = (" + FIND_FRAME + ").getBoundingClientRect(); return {x: r.x, y: r.y}; }"
        )


def map_frame(page: Any) -> MapFrame | None:
    with contextlib.suppress(Exception):
        if page.evaluate("() => !!" + FIND_FRAME.replace("\n", " ")):
            return MapFrame(page)
    return None


def wait_until(predicate: Any, timeout: float = 60.0, step: float = 0.01) -> Any:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        with contextlib.suppress(Exception):
            value = predicate()
            if value:
                return value
        time.sleep(step)
    raise TimeoutError("condition not met")


DRAWN_JS = """([n, metric]) => {
  const box = document.querySelector('.leaflet-container');
  const drawn = document.querySelectorAll('path.leaflet-interactive').length >= n
    || (window.SibaiMap && SibaiMap.layers.length && SibaiMap.layers[0].getLayers().length >= n
        && !!document.querySelector('canvas.leaflet-zoom-animated'));
  return drawn && box.getAttribute('data-sibai-metric') === metric;
}"""


def _drawn(page: Any, n: int, metric: str, period: str, mode: str) -> Any:
    def check() -> Any:
        frame = map_frame(page)
        if frame is None:
            return None
        if mode == "baseline":
            ok = frame.evaluate(
                "([n, id]) => document.querySelectorAll('path.leaflet-interactive').length >= n"
                " && !!document.getElementById(id)",
                [n, f"sibai-{metric}-{period}"],
            )
        else:
            ok = frame.evaluate(DRAWN_JS, [n, metric])
        return frame if ok else None

    return wait_until(check)


def _applied(frame: Any) -> int:
    return int(
        frame.evaluate(
            "() => +document.querySelector('.leaflet-container').getAttribute('data-sibai-applied') || 0"
        )
    )


def _log(work: Path) -> list[dict[str, Any]]:
    path = work / "log.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


MAP_JS = "(window.SibaiMap && SibaiMap.layers.length ? SibaiMap.layers[0]._map : window.map)"


def measure(work: Path, mode: str, grids: gpd.GeoDataFrame, repeats: int = 5) -> dict[str, Any]:
    """Drive one approach in Chromium; return the figures."""
    from playwright.sync_api import sync_playwright

    n = len(grids)
    res: dict[str, Any] = {"mode": mode}
    with streamlit_app(work, mode) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        traffic = Traffic(page, url.split("//")[1])
        # Cold: server caches empty, browser cache empty.
        t = time.perf_counter()
        page.goto(url)
        _drawn(page, n, "coverage", "week", mode)
        res["open_cold_s"] = time.perf_counter() - t
        res["open_cold_bytes"] = traffic.reset()
        # Warm: same browser (HTTP cache), server caches filled.
        warm = []
        for _ in range(repeats):
            page.close()
            page = context.new_page()
            traffic = Traffic(page, url.split("//")[1])
            t = time.perf_counter()
            page.goto(url)
            _drawn(page, n, "coverage", "week", mode)
            warm.append(time.perf_counter() - t)
        res["open_warm_s"] = statistics.median(warm)
        res["open_warm_bytes"] = traffic.reset()
        frame = map_frame(page)
        # Pan and zoom somewhere, then change the metric and the period.
        frame.evaluate(f"() => {MAP_JS}.setView([31.2550, 121.4000], 15, {{animate: false}})")
        time.sleep(0.5)
        traffic.reset()
        changes = []
        state = {"metric": "coverage", "period": "week"}
        for label, value in (
            ("metric", "open_issues_per_100"),
            ("period", "month"),
            ("metric", "bivariate"),
            ("period", "quarter"),
        ):
            state[label] = value
            n_log = len(_log(work))
            before = None if mode == "baseline" else _applied(frame)
            t = time.perf_counter()
            page.get_by_text(value, exact=True).click()
            if mode == "baseline":
                frame = _drawn(page, n, state["metric"], state["period"], mode)
            else:
                frame = wait_until(lambda b=before: (f := map_frame(page)) and _applied(f) > b and f)
            browser_s = time.perf_counter() - t
            wait_until(lambda n0=n_log: len(_log(work)) > n0)
            time.sleep(0.3)
            view = frame.evaluate(
                f"() => {{ const m = {MAP_JS}; const c = m.getCenter();"
                " return [m.getZoom(), c.lat, c.lng]; }"
            )
            changes.append(
                {
                    "change": f"{label}→{value}",
                    "script_ms": _log(work)[-1]["script_ms"],
                    "browser_s": browser_s,
                    "view_kept": view[0] == 15 and abs(view[1] - 31.255) < 1e-3,
                    **traffic.reset(),
                }
            )
        res["changes"] = changes
        # Click three grids; the first at the view centre's grid.
        clicks = []
        for gid in (f"G{n // 5:04d}", f"G{n // 2:04d}", f"G{3 * n // 4:04d}"):
            centre = grids.loc[grids["grid_id"] == gid].geometry.iloc[0].representative_point()
            frame.evaluate(f"() => {MAP_JS}.setView([{centre.y}, {centre.x}], 15, {{animate: false}})")
            time.sleep(0.6)
            traffic.reset()
            box = frame.box()
            xy = frame.evaluate(
                f"() => {{ const m = {MAP_JS};"
                f" const p = m.latLngToContainerPoint([{centre.y}, {centre.x}]);"
                " return [p.x, p.y]; }"
            )
            n_log = len(_log(work))
            wall = time.time()
            t = time.perf_counter()
            page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
            page.wait_for_function(
                f"document.body.innerText.includes('selected grid: {gid}')",
                polling=10,
                timeout=20000,
            )
            shown_s = time.perf_counter() - t
            seen = wait_until(lambda n0=n_log: [r for r in _log(work)[n0:] if r["clicked_seen"]])
            time.sleep(0.3)
            clicks.append(
                {
                    "grid": gid,
                    "to_python_s": seen[0]["start"] - wall,
                    "summary_shown_s": shown_s,
                    "script_ms": seen[0]["script_ms"],
                    **traffic.reset(),
                }
            )
        res["clicks"] = clicks
        res["foreign_requests"] = traffic.foreign
        browser.close()
    return res


def shell_floor(work: Path, repeats: int = 5) -> dict[str, float]:
    """Time the same page without a map: what Streamlit itself costs to open."""
    from playwright.sync_api import sync_playwright

    times = []
    with streamlit_app(work, "shell") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        for i in range(repeats + 1):
            page = context.new_page()
            t = time.perf_counter()
            page.goto(url)
            page.wait_for_function(
                "document.body.innerText.includes('selected grid:')", polling=10, timeout=30000
            )
            if i:  # the first opening is cold
                times.append(time.perf_counter() - t)
            page.close()
        browser.close()
    return {"open_warm_s": statistics.median(times)}


def assets_experiment(work: Path) -> dict[str, Any]:
    """Which ways of giving Leaflet to st_folium's iframe actually draw a map."""
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {}
    for variant in ("data-uri", "component-dir", "app-static", "inline-header"):
        with streamlit_app(work, f"assets:{variant}") as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page()
            sizes: list[int] = []
            page.on("websocket", lambda ws, s=sizes: ws.on("framereceived", lambda b: s.append(len(b))))
            page.goto(url)
            try:
                wait_until(lambda p=page: map_frame(p), timeout=15)
                ok = True
            except TimeoutError:
                ok = False
            out[variant] = {"works": ok, "ws_in": sum(sizes)}
            browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", nargs="*", default=["baseline", "folium", "component"])
    parser.add_argument("--grids", type=int, default=2000)
    parser.add_argument("--assets", action="store_true", help="also test Leaflet delivery to st_folium")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sibai-proto-") as tmp:
        work = Path(tmp)
        grids = prepare(work, args.grids)
        payload = gm.geometry_payload(grids)
        text = gm.payload_json(payload).encode()
        t = time.perf_counter()
        gm.geometry_payload(grids)
        results["payload"] = {
            "bytes": len(text),
            "grids_bytes": len(gm.payload_json({"g": payload["grids"]}).encode()),
            "gzip_bytes": len(__import__("gzip").compress(text)),
            "build_s": time.perf_counter() - t,
            "baseline_geojson_bytes": len(grids.to_json().encode()),
        }
        style = gm.style_payload(payload["grids"]["id"], district(args.grids)[1]["week"])
        results["style_bytes"] = len(gm.payload_json(style).encode())
        print(json.dumps(results, indent=1))
        results["shell"] = shell_floor(work)
        print(json.dumps(results["shell"]))
        if args.assets:
            results["assets"] = assets_experiment(work)
            print(json.dumps(results["assets"], indent=1))
        for mode in args.modes:
            try:
                results[mode] = measure(work, mode, grids)
            except Exception:  # report and go on with the other approaches
                import traceback

                results[mode] = {"mode": mode, "error": traceback.format_exc(limit=3)}
            print(json.dumps(results[mode], indent=1, ensure_ascii=False))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
