"""A door ticked in a stairwell without signal is kept on the phone and recorded once when it returns.

In Debian's headless Chromium at 390 × 844 px, signed in as ``demo-grid``:
the browser context goes offline, a door is ticked "met" and "record" is
pressed twice; the page says at once that nothing is saved and lists the
door, and the database has no new visit. Back online, the form is sent by
itself: the page confirms the visit, the banner goes, and the database holds
exactly one new visit for that door.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DEMO_AS_OF, external_requests, open_fresh, settle, sign_in_browser
from playwright.sync_api import expect

from geo.store import Scope, open_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AS_OF = DEMO_AS_OF
TIMEOUT = 60_000
PHONE = {"width": 390, "height": 844}


def _visits(db: str, household: str) -> list[str]:
    with open_store(db) as store:
        visits = store.read_table("visits", scope=Scope.of(grids=["G0001"]))
    return visits.loc[visits["household_id"] == household, "idem_key"].astype(str).tolist()


def test_a_tick_made_offline_is_sent_once_when_the_signal_returns(
    browser, streamlit_server, tiny_demo_db: str, tmp_path: Path
) -> None:
    base = streamlit_server(tiny_demo_db, extra_env={"SIBAI_TODAY": AS_OF.isoformat()})
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        outside = external_requests(page)
        open_fresh(page, base, "/walk")
        sign_in_browser(page, tiny_demo_db, "grid")
        page.get_by_role("heading", name="走访后勾选结果").wait_for(timeout=TIMEOUT)
        settle(page)
        form = page.locator('[data-testid="stForm"]')
        door = form.get_by_role("radiogroup").first.get_attribute("aria-label") or ""
        household = door.split(" · ")[-1]  # the label reads "room · masked head · household id"
        before = _visits(tiny_demo_db, household)

        context.set_offline(True)
        pill = form.get_by_role("radiogroup", name=door, exact=True).get_by_role("radio", name="已见面")
        pill.click()
        expect(pill).to_have_attribute("aria-checked", "true")
        submit = form.get_by_role("button", name="记录走访结果")
        submit.click()
        submit.click()  # a second press while waiting changes nothing
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("未保存：网络已断开", timeout=5_000)
        # The door as it is read out and listed: the mask a full-width "＊", never a reference "&#42;".
        expect(alert).to_contain_text(f"{door} · 已见面")
        assert "＊" in door and "&#" not in door and "&#" not in alert.inner_text()
        page.screenshot(path=str(tmp_path / "offline-390.png"))
        page.wait_for_timeout(1500)
        assert _visits(tiny_demo_db, household) == before, "nothing reaches the server while offline"

        context.set_offline(False)
        page.get_by_text("已记录 1 户走访。").wait_for(timeout=TIMEOUT)
        expect(page.locator("#sibai-offline")).to_have_count(0, timeout=5_000)
        settle(page)
        page.wait_for_timeout(1500)
        after = _visits(tiny_demo_db, household)
        assert len(after) == len(before) + 1, (before, after)
        assert outside == []
    finally:
        context.close()
