"""Wide tables keep every column in sight at 1280 px, in Debian's headless Chromium (issue 14).

社工考核 cut 状态, the ledger 变动后分值, the grid page's household list its
last column, 盲区与周查 and 诉求 their right-hand columns. Streamlit draws a
table on a canvas inside a scrolling box: a column cut off shows as that box
being wider inside than out. Every table on each screen is checked (on
盲区与周查 in each tab, inner tab and pace level), in Chinese and in
English, signed in as the district; a screenshot of each view is left in
the test's ``tmp_path``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DEMO_AS_OF, open_fresh, settle, sign_in_browser
from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT = 60_000
DESKTOP = {"width": 1280, "height": 1000}
#: A scrolling box may come out a few pixels wider than its view (a vertical scrollbar's
#: width): that hides no header. A cut column hid 100 px or more.
SLACK_PX = 10
SCREENS = ("/uncovered", "/workers", "/grid?grid=G0001", "/issues")

_OVERFLOW = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')]
  .filter(d => d.getBoundingClientRect().width > 0)
  .map(d => {
    const box = d.querySelector('.dvn-scroller');
    return {key: d.closest('[class*="st-key-"]')?.className || '', inside: box.scrollWidth,
            outside: box.clientWidth};
  })"""


def _tables(page: Page, *, wait: bool = True) -> list[dict[str, object]]:
    if wait:
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=TIMEOUT)
    settle(page, timeout=TIMEOUT)
    time.sleep(1.0)  # the grids size their columns after the first paint
    return list(page.evaluate(_OVERFLOW))


def _views(page: Page, path: str) -> Iterator[tuple[str, list[dict[str, object]]]]:
    """Yield each view of the screen and its tables: on /uncovered every tab, inner tab and pace level."""
    yield "", _tables(page)
    if not path.startswith("/uncovered"):
        return
    outer = page.locator('[role="tablist"]').first.locator('[role="tab"]')
    for i in range(outer.count()):
        outer.nth(i).click()
        settle(page, timeout=TIMEOUT)
        inner = page.locator('[role="tabpanel"]:visible [role="tablist"] [role="tab"]')
        levels = page.locator(".st-key-office_pace_level button:visible")
        yield f" tab {i}", _tables(page, wait=False)
        for j in range(inner.count()):
            inner.nth(j).click()
            yield f" tab {i}.{j}", _tables(page, wait=False)
        for j in range(levels.count()):
            # Clicking the level already chosen clears it (the page then shows grids): all three are seen.
            levels.nth(j).click()
            yield f" tab {i} level {j}", _tables(page, wait=False)


def test_every_column_of_every_table_is_in_sight_at_1280_px(
    browser, streamlit_server, tiny_demo_db: str, tmp_path: Path
) -> None:
    base = streamlit_server(tiny_demo_db, extra_env={"SIBAI_TODAY": DEMO_AS_OF.isoformat()})
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        open_fresh(page, base, SCREENS[0])
        sign_in_browser(page, tiny_demo_db)
        cut: list[str] = []
        for lang in ("zh", "en"):
            for path in SCREENS:
                # A page opened anew starts in the language of its address (?lang=en).
                page.goto(base + path + ("" if lang == "zh" else ("&" if "?" in path else "?") + "lang=en"))
                heading = page.locator("h1").first
                heading.wait_for(timeout=TIMEOUT)
                assert (re.match("[\u4e00-\u9fff]", heading.inner_text()) is None) == (
                    lang == "en"
                )  # names stay
                for view, tables in _views(page, path):
                    assert page.locator('[data-testid="stException"]').count() == 0, path + view
                    assert tables or view, path  # a tab may hold none (no anomalies this week)
                    name = f"{lang}{path.replace('/', '-').replace('?', '_')}{view.replace(' ', '-')}.png"
                    shown = page.locator('[data-testid="stDataFrame"]:visible')
                    if shown.count():  # the screenshot shows the view's last table
                        shown.last.scroll_into_view_if_needed()
                    page.screenshot(path=tmp_path / name)
                    cut += [
                        f"{lang} {path}{view}: table {i} is {t['inside']} px wide in a {t['outside']} px view"
                        for i, t in enumerate(tables)
                        if int(t["inside"]) > int(t["outside"]) + SLACK_PX  # type: ignore[call-overload]
                    ]
        assert cut == []
    finally:
        context.close()
