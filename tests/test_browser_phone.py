"""The grid leader's phone: every screen fits 390 px, the menu gets out of the way, taps are big enough.

In Debian's headless Chromium at 390 × 844 px, signed in as ``demo-grid``
(grid G0001): the map, the grid, today's walk and the issues each fit the
screen's width (no sideways scrolling, nothing wider than the window); the
sidebar menu closes after a screen is chosen from it; 网格 opens the leader's
one grid without asking; and the controls a thumb uses on the walk and the
grid pages (the answer pills of each door, the household cards' buttons) are
at least 44 px tall (WCAG 2.5.5, Apple's and Android's own guidance); the
walk's stops are cards (building, planned time, then each door's room, masked
head, what to ask about and answers) and no table.
A screenshot of each screen is kept in the test's ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DEMO_AS_OF, external_requests, open_fresh, settle, sign_in_browser
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AS_OF = DEMO_AS_OF
TIMEOUT = 60_000
PHONE = {"width": 390, "height": 844}
SLACK_PX = 1  # sub-pixel rounding of scroll widths
TAP_PX = 44
#: The screens a grid leader uses, by address, with a heading each shows when drawn.
SCREENS = {"map": "四百网格地图", "grid": "网格 · ", "walk": "走访后勾选结果", "issues": "诉求"}


def _settle(page: Page) -> None:
    settle(page, timeout=TIMEOUT)
    page.wait_for_timeout(1000)  # components and data grids draw after the run
    settle(page, timeout=TIMEOUT)


def _overflow(page: Page) -> dict[str, int]:
    """Return how far the page, its main pane and any element reach past the window's right edge."""
    return page.evaluate(
        """() => {
            const w = window.innerWidth;
            const main = document.querySelector('[data-testid="stMain"]');
            const out = {document: document.documentElement.scrollWidth - w,
                         main: main.scrollWidth - main.clientWidth};
            for (const el of main.querySelectorAll('*')) {
                const r = el.getBoundingClientRect();
                if (r.width && r.right - w > 1) {
                    // inside a box that scrolls sideways on its own (a data grid) is fine
                    const own = '[data-testid="stDataFrameResizable"], .leaflet-container, iframe';
                    const name = (el.dataset.testid || el.tagName) + ' ' + (el.innerText || '').slice(0, 30);
                    if (!el.closest(own)) out[name] = Math.round(r.right - w);
                }
            }
            return out;
        }"""
    )


def _fits(page: Page, screen: str) -> None:
    reach = _overflow(page)
    assert {k: v for k, v in reach.items() if v > SLACK_PX} == {}, (screen, reach)


def _sidebar_open(page: Page) -> bool:
    """Tell whether the sidebar covers part of the window (collapsed, it slides out to the left)."""
    page.wait_for_timeout(600)  # its slide takes 300 ms
    return page.evaluate(
        """() => { const r = document.querySelector('[data-testid="stSidebar"]').getBoundingClientRect();
                   return r.width > 0 && r.right > 10; }"""
    )


def _small_taps(page: Page, selector: str) -> list[tuple[str, int]]:
    """Return (text, height) of the visible elements matching ``selector`` in the main pane under 44 px."""
    return page.evaluate(
        """([sel, min]) => [...document.querySelectorAll('[data-testid="stMain"] ' + sel)]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.innerText.trim().slice(0, 30), Math.round(e.getBoundingClientRect().height)])
            .filter(([, h]) => h < min)""",
        [selector, TAP_PX],
    )


def test_a_grid_leader_uses_every_screen_on_a_phone(
    browser, streamlit_server, tiny_demo_db: str, tmp_path: Path
) -> None:
    base = streamlit_server(tiny_demo_db, extra_env={"SIBAI_TODAY": AS_OF.isoformat()})
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        outside = external_requests(page)
        open_fresh(page, base, "/map")
        sign_in_browser(page, tiny_demo_db, "grid")
        for screen, heading in SCREENS.items():
            page.goto(f"{base}/{screen}")
            page.get_by_role("heading", name=heading).first.wait_for(timeout=TIMEOUT)
            _settle(page)
            page.screenshot(path=str(tmp_path / f"{screen}-390.png"), full_page=True)
            assert not _sidebar_open(page), f"{screen}: the menu covers the page on a phone"
            _fits(page, screen)

        # 网格 opens the leader's one grid: no picker.
        page.goto(f"{base}/grid")
        page.get_by_role("heading", name="网格 · 中远两湾城居民区1号网格").wait_for(timeout=TIMEOUT)
        expect(page.get_by_label("选择网格")).to_have_count(0)
        # Its households are cards (building, room, masked name, what to ask about), not a wide table.
        _settle(page)
        cards = page.locator(".st-key-phone_cards button")
        expect(cards.first).to_be_visible()
        assert cards.count() > 0 and _small_taps(page, ".st-key-phone_cards button") == []
        assert page.locator('[data-testid="stDataFrame"]:visible').count() == 0
        cards.first.click()
        page.get_by_role("heading", name="登记走访").wait_for(timeout=TIMEOUT)  # the household's profile

        # Choosing a screen from the menu closes the menu.
        page.locator('[data-testid="stExpandSidebarButton"]').click()
        assert _sidebar_open(page)
        page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="今日走访").click()
        page.get_by_role("heading", name="走访后勾选结果").wait_for(timeout=TIMEOUT)
        _settle(page)
        assert not _sidebar_open(page), "the menu closes after a choice"

        # The walk's stops are cards, not a table: every door's answers sit in its stop's card.
        stops = page.locator('[data-testid="stForm"] [class*="st-key-stop_"]')
        expect(stops.first).to_be_visible()
        assert page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]:visible').count() == 0
        doors = page.locator('[data-testid="stForm"] [role="radiogroup"]')
        assert doors.count() >= stops.count() > 0
        assert stops.locator('[role="radiogroup"]').count() == doors.count(), "a door outside its stop's card"
        empty = stops.filter(has_not=page.locator('[role="radiogroup"]'))
        assert empty.count() == 0, "a stop card without doors"
        # Thumb-sized controls on the walk: each door's answers and the record button.
        assert _small_taps(page, '[data-testid="stForm"] [role="radiogroup"] button') == []
        assert _small_taps(page, '[data-testid="stForm"] button[kind^="primary"]') == []
        assert outside == []
    finally:
        context.close()
