"""WCAG 2.1 AA on every screen, in both languages: axe-core in Debian's headless Chromium.

axe-core (the engine behind browsers' own accessibility audits) comes from
the npm registry and is never committed: ``.ci/run`` installs it into
``tests/node/`` (ignored by git) with ``npm install --no-save axe-core@4``;
``SIBAI_AXE`` may point at another ``axe.min.js``. Without it the test skips
on a laptop and fails in CI, like every other missing service.

Each screen is opened as a person opens it (``demo-district`` for the staff
screens, signed out for the public summary), in Chinese and in English, and
axe checks the WCAG 2.0/2.1 A and AA rules and its best practices. Any
violation, whatever axe's impact, fails the test with the rule, the element and
axe's own explanation, except the exact pairs of rule and element in
:data:`conftest.AXE_OUTSIDE_OUR_HANDS` (docs/phone.md says why each one is there).
The map's own frames (Leaflet in a component iframe) are left out: axe
checks the page the person reads, and the map's classes are also given as
text in its legend and tooltip.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import (
    AXE_OUTSIDE_OUR_HANDS,
    DEMO_AS_OF,
    axe_report,
    axe_violations,
    open_fresh,
    settle,
    sign_in_browser,
)
from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AS_OF = DEMO_AS_OF
TIMEOUT = 60_000
#: The screens a district account opens (the grid page both as its picker and on a grid).
STAFF_SCREENS = ("map", "grid", "grid?grid=G0001", "walk", "uncovered", "issues", "workers", "data", "audit")


def _settle(page: Page) -> None:
    """Wait until Streamlit has finished the run and drawn the page's title."""
    settle(page, timeout=TIMEOUT)
    page.locator('[data-testid="stHeading"]').first.wait_for(timeout=TIMEOUT)
    page.wait_for_timeout(800)  # late frames: components and data grids draw after the run
    settle(page, timeout=TIMEOUT)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_screen_passes_axe(
    browser, streamlit_server, tiny_demo_db: str, axe_script: Path, language: str
) -> None:
    base = streamlit_server(tiny_demo_db, extra_env={"SIBAI_TODAY": AS_OF.isoformat()})
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    excepted: set[str] = set()  # the rules of AXE_OUTSIDE_OUR_HANDS met on some screen
    try:
        # The public summary, signed out.
        open_fresh(page, base, f"/public?lang={language}")
        _settle(page)
        problems += axe_report("public", axe_violations(page, axe_script))

        page.goto(f"{base}/map")  # a fresh session: the sign-in form in Chinese
        sign_in_browser(page, tiny_demo_db, "district")
        if language == "en":
            page.get_by_role("radiogroup", name="语言 / Language").get_by_text("English").click()
            page.get_by_role("heading", name="Sibai Grid Map").wait_for(timeout=TIMEOUT)
        for screen in STAFF_SCREENS:
            page.goto(f"{base}/{screen}")
            _settle(page)
            found = axe_violations(page, axe_script)
            problems += axe_report(screen, found)
            excepted |= {v["id"] for v in found for n in v["nodes"] if n["excepted"]}
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
    stale = {rule for rule, _ in AXE_OUTSIDE_OUR_HANDS} - excepted
    assert stale == set(), f"no longer found, take them out of OUTSIDE_OUR_HANDS and docs/phone.md: {stale}"
