"""One real path through the grid drill-down, in Debian's headless Chromium against ``streamlit run``.

District map → a grid's summary → the grid page → a building on the map →
a household in the list → record a ``met`` visit → the grid's coverage goes
up, and no request ever leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import external_requests, open_fresh, sign_in_browser

from geo.demo import install_demo
from geo.store import open_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT = 30_000


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def _click_row(page, row: int = 0) -> None:
    """Tick the selection box of a row of the household table (a canvas grid)."""
    table = page.locator('[data-testid="stDataFrame"]').first
    box = table.bounding_box()
    assert box is not None
    # Header ~35 px, rows ~35 px; the selection boxes are in the first 30 px.
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 35 * row + 17)


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", as_of=dt.date.today())
    return path


def test_district_map_to_recorded_visit(browser, streamlit_server, demo_db: Path) -> None:
    base = streamlit_server(demo_db)
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    try:
        outside = external_requests(page)

        # District map: click the middle of the map to select a grid, then open its page.
        open_fresh(page, base, "/map")  # staff only: the sign-in form first, at the same address
        sign_in_browser(page, demo_db)
        frame_el = page.locator("iframe").first
        frame_el.wait_for(timeout=TIMEOUT)
        frame = page.frame_locator("iframe").first
        frame.locator("path.leaflet-interactive").first.wait_for(timeout=TIMEOUT)
        frame.locator("path.leaflet-interactive").nth(3).click(force=True)
        link = page.get_by_role("link", name=re.compile("打开网格页"))
        link.wait_for(timeout=TIMEOUT)
        link.click()
        page.wait_for_url(re.compile(r"/grid\?grid=G\d{4}"), timeout=TIMEOUT)
        grid_id = re.search(r"grid=(G\d{4})", page.url).group(1)  # type: ignore[union-attr]
        page.locator('[data-testid="stMetric"]').first.wait_for(timeout=TIMEOUT)
        page.get_by_text("全网格住户").wait_for(timeout=TIMEOUT)
        before = _metric(page, "已见面户数")
        coverage_before = _metric(page, "覆盖率")

        # A building on the map: the list narrows to its households.
        buildings = page.frame_locator('iframe[src*="st_folium"]').locator("path.leaflet-interactive")
        buildings.first.wait_for(timeout=TIMEOUT)
        buildings.first.click(force=True)
        page.wait_for_url(re.compile(r"building=B\d+"), timeout=TIMEOUT)
        page.get_by_text("的住户").first.wait_for(timeout=TIMEOUT)
        assert f"grid={grid_id}" in page.url

        # Households not met this year (the whole grid's if the building has none).
        page.get_by_role("button", name="今年未见面").click()
        time.sleep(1.0)
        if page.get_by_text(re.compile(r"^0 户")).count():
            page.get_by_role("button", name="← 全网格").click()
            time.sleep(1.0)
        _click_row(page, 0)
        page.wait_for_url(re.compile(r"household=H\d+"), timeout=TIMEOUT)
        page.get_by_text("一户一表").first.wait_for(timeout=TIMEOUT)
        facts = page.locator('[data-testid="stMarkdownContainer"]', has_text="户主").first.inner_text()
        assert re.search(r"户主\s+[\u4e00-\u9fff]\*", facts), facts  # masked: 王*华
        assert re.search(r"电话\s+\d{3}\*{4}\d{4}", facts), facts

        # Record a met visit with the form's default time (within the working day).
        form = page.locator('[data-testid="stForm"]')
        form.get_by_text("已见面", exact=True).click()
        form.get_by_role("button", name="保存走访").click()
        page.get_by_text(re.compile(r"已登记走访 #\d+")).wait_for(timeout=TIMEOUT)

        _wait_for(lambda: _metric(page, "已见面户数") != before)
        assert int(_metric(page, "已见面户数")) == int(before) + 1
        assert _metric(page, "覆盖率") != coverage_before
        assert outside == []
    finally:
        context.close()

    with open_store(str(demo_db)) as store:
        assert store.scalar("SELECT COUNT(*) FROM visits WHERE idem_key LIKE 'form:%'") == 1


def _map_frame(page):
    """The buildings map's frame (streamlit-folium's component)."""
    _wait_for(lambda: any("st_folium" in f.url for f in page.frames))
    return next(f for f in page.frames if "st_folium" in f.url)


def _outlines(frame) -> int:
    """How many chosen-building outlines the map draws (black, 4 px, no fill)."""
    return int(
        frame.evaluate(
            """() => [...document.querySelectorAll("path")].filter(p =>
                p.getAttribute("stroke") === "#000000" && p.getAttribute("stroke-width") === "4"
                && p.getAttribute("fill") === "none").length"""
        )
    )


def test_a_tapped_building_is_outlined_on_the_same_map(browser, streamlit_server, demo_db: Path) -> None:
    """Choosing buildings keeps the map's frame, zoom and position; the chosen one is outlined.

    streamlit-folium gives a map whose script changed a new frame (0 px tall until
    loaded, back at its first zoom, and a tap made meanwhile is lost): the chosen
    building is a layer added to the map on the page instead (pages/grid.py).
    """
    base = streamlit_server(demo_db)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    try:
        open_fresh(page, base, "/grid?grid=G0001")
        sign_in_browser(page, demo_db)
        buildings = page.frame_locator('iframe[src*="st_folium"]').locator("path.leaflet-interactive")
        buildings.nth(1).wait_for(timeout=TIMEOUT)
        frame = _map_frame(page)
        _wait_for(lambda: frame.evaluate("() => Boolean(window.map)"))
        frame.evaluate("() => { window.__sibaiSameFrame = true; window.map.zoomIn(); }")
        time.sleep(0.5)
        zoom = frame.evaluate("() => window.map.getZoom()")
        assert _outlines(frame) == 0

        chosen = []
        for tap in (0, 1):
            paths = buildings.count()
            buildings.nth(tap % paths).click(force=True)
            page.wait_for_url(re.compile(r"building=B\d+"), timeout=TIMEOUT)
            chosen.append(re.search(r"building=(B\d+)", page.url).group(1))  # type: ignore[union-attr]
            _wait_for(lambda: _outlines(frame) == 1)
            assert not frame.is_detached() and frame.evaluate("() => window.__sibaiSameFrame === true")
            assert frame.evaluate("() => window.map.getZoom()") == zoom
        page.get_by_role("button", name="← 全网格").click()
        _wait_for(lambda: _outlines(frame) == 0)
        assert frame.evaluate("() => window.__sibaiSameFrame === true")
    finally:
        context.close()
