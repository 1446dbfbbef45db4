"""WCAG 2.1 AA on every screen, in both languages: axe-core in Debian's headless Chromium.

axe-core (the engine behind browsers' own accessibility audits) comes from
the npm registry and is never committed: ``.ci/run`` installs it into
``tests/node/`` (ignored by git) with ``npm install --no-save axe-core@4``;
``SIBAI_AXE`` may point at another ``axe.min.js``. Without it the test skips
on a laptop and fails in CI, like every other missing service.

Each screen is opened as a person opens it (``demo-district`` for the staff
screens, signed out for the public summary), in Chinese and in English, and
axe checks the WCAG 2.0/2.1 A and AA rules. A serious or critical violation
fails the test with the rule, the element and axe's own explanation.
The map's own frames (Leaflet in a component iframe) are left out: axe
checks the page the person reads, and the map's classes are also given as
text in its legend and tooltip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import DEMO_AS_OF, REPO_ROOT, open_fresh, require_service, settle, sign_in_browser
from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AS_OF = DEMO_AS_OF
TIMEOUT = 60_000
AXE = Path(os.environ.get("SIBAI_AXE", REPO_ROOT / "tests/node/node_modules/axe-core/axe.min.js"))
#: The screens a district account opens (the grid page both as its picker and on a grid).
STAFF_SCREENS = ("map", "grid", "grid?grid=G0001", "walk", "uncovered", "issues", "workers", "data", "audit")
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.is_file():
        require_service(
            "axe-core",
            f"no {AXE} (run: npm install --no-save --prefix tests/node axe-core@4)",
        )
    return AXE


def _settle(page: Page) -> None:
    """Wait until Streamlit has finished the run and drawn the page's title."""
    settle(page, timeout=TIMEOUT)
    page.locator('[data-testid="stHeading"]').first.wait_for(timeout=TIMEOUT)
    page.wait_for_timeout(800)  # late frames: components and data grids draw after the run
    settle(page, timeout=TIMEOUT)


def axe_violations(page: Page, axe: Path) -> list[dict]:
    """Run axe-core's WCAG 2.x A/AA rules on the page and return its violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe))
    return page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
                resultTypes: ['violations'],
                iframes: false,
            });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary,
                                          html: n.html.slice(0, 160)})),
            }));
        }"""
    )


def _report(screen: str, found: list[dict]) -> list[str]:
    """Describe each serious or critical violation: rule, element, and axe's advice."""
    return [
        f"[{screen}] {v['impact']} {v['id']}: {v['help']}\n    {n['target']}\n    {n['html']}"
        f"\n    {n['summary']}"
        for v in found
        if v["impact"] in BLOCKING
        for n in v["nodes"][:6]
    ]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_screen_passes_axe(
    browser, streamlit_server, tiny_demo_db: str, axe_script: Path, language: str
) -> None:
    base = streamlit_server(tiny_demo_db, extra_env={"SIBAI_TODAY": AS_OF.isoformat()})
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    try:
        # The public summary, signed out.
        open_fresh(page, base, f"/public?lang={language}")
        _settle(page)
        problems += _report("public", axe_violations(page, axe_script))

        page.goto(f"{base}/map")  # a fresh session: the sign-in form in Chinese
        sign_in_browser(page, tiny_demo_db, "district")
        if language == "en":
            page.get_by_role("radiogroup", name="语言 / Language").get_by_text("English").click()
            page.get_by_role("heading", name="Sibai Grid Map").wait_for(timeout=TIMEOUT)
        for screen in STAFF_SCREENS:
            page.goto(f"{base}/{screen}")
            _settle(page)
            problems += _report(screen, axe_violations(page, axe_script))
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
