"""Today's walk on a phone, in Debian's headless Chromium against ``streamlit run``.

Workers walk with a phone in hand (issue 6): at 390 × 844 px, signed in as
``demo-grid`` (grid G0001), the page fits the screen's width, the map shows
one numbered marker per stop card, a door ticked "met" is recorded (its card
says so) and the year's coverage on the page goes up. A screenshot of the
whole page is kept in the test's ``tmp_path``. At desktop width, team mode
for ``demo-committee`` draws one colour per walking worker. No request ever
leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import external_requests, open_fresh, sign_in_browser
from PIL import Image
from playwright.sync_api import FrameLocator, Page, expect

from geo.demo import install_demo
from geo.store import Scope, open_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AS_OF = dt.date(2026, 11, 26)
TIMEOUT = 60_000
PHONE = {"width": 390, "height": 844}
SLACK_PX = 2  # sub-pixel rounding of scroll widths


@pytest.fixture
def tiny_db(tmp_path: Path) -> str:
    path = tmp_path / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=7, as_of=AS_OF)
    return str(path)


def _settle(page: Page) -> None:
    """Wait until Streamlit has finished running the script (call once the expected content is there)."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=TIMEOUT)


def _map(page: Page) -> FrameLocator:
    """Return the walk map (st_folium's iframe) once its stop markers are drawn."""
    frame = page.frame_locator('iframe[src*="st_folium"]').first
    frame.locator(".sibai-stop").first.wait_for(timeout=TIMEOUT)
    return frame


def _metric(page: Page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _percent(text: str) -> float:
    assert text.endswith("%"), text
    return float(text[:-1])


def _stops(page: Page) -> list[str]:
    """Return the order numbers of the stop cards (on a phone the stops are cards, the table is hidden)."""
    cards = page.locator('[data-testid="stForm"] [class*="st-key-stop_"]')
    cards.first.wait_for(timeout=TIMEOUT)
    titles = cards.evaluate_all(
        "cs => cs.map(c => c.querySelector('[data-testid=\"stMarkdownContainer\"]').innerText.trim())"
    )
    orders = [re.match(r"(\d+)\. ", title) for title in titles]
    assert all(orders), titles
    return [m.group(1) for m in orders if m]


_RECORDED_JS = """() => [...document.querySelectorAll('[data-testid="stForm"] [role="radiogroup"]')]
    .filter(g => (g.getAttribute('aria-label') || '').includes(' · ✔ ')).length"""
"""How many doors of the tick form say they were recorded today ("room · head · id · ✔ met")."""


def _recorded(page: Page) -> int:
    return int(page.evaluate(_RECORDED_JS))


def _wait_for_recorded(page: Page, want: int) -> None:
    """Wait until ``want`` doors of the tick form say they were recorded."""
    page.wait_for_function(f"want => ({_RECORDED_JS})() === want", arg=want, timeout=TIMEOUT)


def _no_horizontal_overflow(page: Page) -> None:
    widths = page.evaluate(
        """() => ({
            document: document.documentElement.scrollWidth,
            main: document.querySelector('[data-testid="stMain"]').scrollWidth,
            block: document.querySelector('[data-testid="stMainBlockContainer"]').scrollWidth,
        })"""
    )
    assert max(widths.values()) <= PHONE["width"] + SLACK_PX, widths


def _screenshot_whole_page(page: Page, path: Path) -> None:
    """Save the whole page at phone width: the app scrolls inside its main pane, so grow the window to fit."""
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": PHONE["width"], "height": max(height, PHONE["height"])})
    _settle(page)
    _no_horizontal_overflow(page)  # the tall window lays the page out again: still no overflow
    page.screenshot(path=str(path), animations="disabled")
    page.set_viewport_size(PHONE)


def _unmet_this_year(db: str) -> set[str]:
    """Return G0001's occupied households with no visit on AS_OF and none "met" this year."""
    with open_store(db) as store:
        households = store.read_table("households", scope=Scope.of(grids=["G0001"]))
        visits = store.read_table("visits", scope=Scope.of(grids=["G0001"]))
    when = visits["visited_at"].astype(str)
    met = visits.loc[(visits["outcome"] == "met") & when.str.startswith(str(AS_OF.year)), "household_id"]
    today = visits.loc[when.str.startswith(AS_OF.isoformat()), "household_id"]
    occupied = households.loc[households["occupied"] == 1, "household_id"]
    return set(occupied) - set(met) - set(today)


def test_walk_reads_on_a_phone_and_records_a_ticked_door(
    browser, streamlit_server, tiny_db: str, tmp_path: Path
) -> None:
    base = streamlit_server(tiny_db, extra_env={"SIBAI_TODAY": AS_OF.isoformat()})
    context = browser.new_context(viewport=PHONE, device_scale_factor=1)
    page = context.new_page()
    try:
        outside = external_requests(page)
        open_fresh(page, base, "/walk?grid=G0001")  # staff only: the sign-in form first, at the same address
        sign_in_browser(page, tiny_db, "grid")
        page.get_by_role("heading", name="走访后勾选结果").wait_for(timeout=TIMEOUT)
        frame = _map(page)
        _settle(page)

        # The map: one numbered marker per stop card ("1. 铜川路…　13:04"), 1..n, joined by the path.
        stops = _stops(page)
        assert stops, "the grid has a walk"
        assert stops == [str(n) for n in range(1, len(stops) + 1)]
        expect(frame.locator(".sibai-stop")).to_have_count(len(stops), timeout=TIMEOUT)
        assert frame.locator(".sibai-stop").all_inner_texts() == stops
        assert frame.locator("path.leaflet-interactive[fill='none']").count() == 1  # the walk's path
        form = page.locator('[data-testid="stForm"]')

        # The phone's width: nothing wider than the screen, and a picture of the whole page.
        _no_horizontal_overflow(page)
        shot = tmp_path / "walk-390.png"
        _screenshot_whole_page(page, shot)
        with Image.open(shot) as image:
            assert image.width == PHONE["width"] and image.height > 2 * PHONE["height"], image.size
            colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 200, "the screenshot shows a drawn page"
        assert shot.stat().st_size > 50_000

        # Tick one door "met" and record it: the door's card and the year's coverage both show it.
        coverage_before = _metric(page, "本年覆盖率")
        recorded_before = _recorded(page)
        doors = form.get_by_role("radiogroup").evaluate_all("gs => gs.map(g => g.getAttribute('aria-label'))")
        # Each door reads "room · masked head · id": the id last.
        door = next(d for d in doors if d.split(" · ")[-1] in _unmet_this_year(tiny_db))
        household = door.split(" · ")[-1]
        pill = form.get_by_role("radiogroup", name=door, exact=True).get_by_role("radio", name="已见面")
        pill.click()
        expect(pill).to_have_attribute("aria-checked", "true")
        form.get_by_role("button", name="记录走访结果").click()
        page.get_by_text("已记录 1 户走访。").wait_for(timeout=TIMEOUT)
        form.get_by_role("radiogroup", name=f"{door} · ✔ 已见面", exact=True).wait_for(timeout=TIMEOUT)
        _settle(page)
        _wait_for_recorded(page, recorded_before + 1)
        assert _recorded(page) == recorded_before + 1
        coverage = page.locator('[data-testid="stMetric"]', has_text="本年覆盖率").locator(
            '[data-testid="stMetricValue"]'
        )
        expect(coverage).not_to_have_text(coverage_before, timeout=TIMEOUT)
        assert _percent(_metric(page, "本年覆盖率")) > _percent(coverage_before)
        _no_horizontal_overflow(page)
        assert outside == []
    finally:
        context.close()

    with open_store(tiny_db) as store:
        visits = store.read_table("visits", scope=Scope.of(grids=["G0001"]))
    assert visits.loc[visits["household_id"] == household, "outcome"].tolist()[-1:] == ["met"]


def test_team_mode_draws_one_colour_per_walking_worker(browser, streamlit_server, tiny_db: str) -> None:
    base = streamlit_server(tiny_db, extra_env={"SIBAI_TODAY": AS_OF.isoformat()})
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    try:
        outside = external_requests(page)
        open_fresh(page, base, "/walk")
        sign_in_browser(page, tiny_db, "committee")
        page.get_by_role("heading", name="走访后勾选结果").wait_for(timeout=TIMEOUT)
        _settle(page)
        page.get_by_role("radiogroup", name="规划方式").get_by_text("分片包干").click()
        page.get_by_role("heading", name="分工").wait_for(timeout=TIMEOUT)
        frame = _map(page)
        _settle(page)

        walkers = int(_metric(page, "走访社工"))
        assert walkers >= 2, "a committee of the tiny district has several workers walking"
        paths = frame.locator("path.leaflet-interactive[fill='none']")
        expect(paths).to_have_count(walkers, timeout=TIMEOUT)  # one path per walking worker
        strokes = paths.evaluate_all("ps => ps.map(p => p.getAttribute('stroke'))")
        assert len(set(strokes)) == walkers, strokes
        # Each worker's numbered stops wear the colour of that worker's path.
        markers = frame.locator(".sibai-stop").evaluate_all(
            "ms => ms.map(m => getComputedStyle(m).backgroundColor)"
        )
        assert len(set(markers)) == walkers, markers
        assert outside == []
    finally:
        context.close()


def test_the_folded_settings_open_on_a_click_and_stay_open_through_a_choice(
    browser, streamlit_server, tiny_db: str
) -> None:
    """The day-and-times settings are sent only once unfolded; a choice leaves them open.

    Their label shows the choice, so Streamlit sees a new expander after each one
    (ui/walk_data.py ``stay_open``); closed, nothing of them is on the page.
    """
    base = streamlit_server(tiny_db, extra_env={"SIBAI_TODAY": AS_OF.isoformat()})
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    try:
        open_fresh(page, base, "/walk")
        sign_in_browser(page, tiny_db, "grid")
        page.get_by_role("heading", name="走访后勾选结果").wait_for(timeout=TIMEOUT)
        _settle(page)
        minutes = page.locator('[data-testid="stNumberInput"] input')
        assert page.locator('[data-testid="stTimeInput"]').count() == 0 and minutes.count() == 0
        page.locator('[data-testid="stExpander"] summary').first.click()
        minutes.wait_for(timeout=TIMEOUT)
        _settle(page)
        minutes.fill("12")
        minutes.press("Enter")
        expect(page.locator('[data-testid="stExpander"] summary').first).to_contain_text(
            "每户12分钟", timeout=TIMEOUT
        )
        _settle(page)
        expect(minutes).to_have_value("12")  # still open, with the choice
        page.locator('[data-testid="stExpander"] summary').first.click()
        expect(minutes).to_have_count(0, timeout=TIMEOUT)
        _settle(page)
        expect(page.locator('[data-testid="stExpander"] summary').first).to_contain_text("每户12分钟")
    finally:
        context.close()
