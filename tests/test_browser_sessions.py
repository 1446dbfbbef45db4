"""Sessions in a real browser against `sibai serve`: a reload, a new tab, a restart keep the sign-in and the
language; signing out in one tab signs the other out; a post without the form's CSRF token is refused; no
path of the server reaches the browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO_ROOT, external_requests, sign_in_browser
from playwright.sync_api import Browser, Page, expect
from test_serve import sibai_serve, tiny_db  # noqa: F401 - the fixture is used by name

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT = 60_000


def signed_in_english(page: Page) -> None:
    expect(page.get_by_text("Signed in:")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("demo-grid", timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Grid · ", exact=False)).to_be_visible(timeout=TIMEOUT)


def test_a_session_survives_reload_tab_and_restart_and_ends_everywhere(
    browser: Browser,
    tiny_db: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    context = browser.new_context()
    page = context.new_page()
    outside = external_requests(page)
    frames: list[bytes] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda p: frames.append(p if isinstance(p, bytes) else p.encode())),
    )
    try:
        with sibai_serve(tiny_db, tmp_path) as (base, _log):
            page.goto(f"{base}/grid?grid=G0001")
            # Before signing in: what an anonymous visitor receives names no folder of the server.
            expect(page.get_by_label("用户名")).to_be_visible(timeout=TIMEOUT)
            assert [f for f in frames if str(REPO_ROOT).encode() in f] == []

            # A post that does not carry this browser's CSRF token is refused, and signs nobody in.
            refused = page.request.post(
                f"{base}/api/session/signin", form={"user": "demo-grid", "password": "sibai-demo"}
            )
            assert refused.status == 403
            assert "sibai_session" not in [c["name"] for c in context.cookies()]

            sign_in_browser(page, tiny_db, "grid")
            page.get_by_text("English", exact=True).click()
            signed_in_english(page)
            # A click on the language already chosen unselects the control: no switch to Chinese
            # (a journey's English page turned Chinese on the next rerun after its control came back empty).
            page.get_by_text("English", exact=True).click()
            english = page.get_by_test_id("stSidebar").get_by_role("radio", name="English")
            expect(english).to_have_attribute("aria-checked", "true", timeout=TIMEOUT)
            signed_in_english(page)
            session = [c for c in context.cookies() if c["name"] == "sibai_session"]
            assert session and session[0]["httpOnly"] and session[0]["sameSite"] == "Lax"

            page.reload()
            signed_in_english(page)
            other = context.new_page()
            other.goto(f"{base}/grid?grid=G0001")
            signed_in_english(other)
            other.close()

        # A restart (here on another port: cookies belong to the host, not the port).
        with sibai_serve(tiny_db, tmp_path) as (base, _log):
            page.goto(f"{base}/grid?grid=G0001")
            signed_in_english(page)
            other = context.new_page()
            other.goto(f"{base}/grid?grid=G0001")
            signed_in_english(other)

            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_text("Not signed in: the public summary only.")).to_be_visible(timeout=TIMEOUT)
            # The other tab, without a reload: its next rerun finds the session gone.
            other.get_by_text("中文", exact=True).click()
            expect(other.get_by_text("此页面仅向工作人员开放，请先登录。")).to_be_visible(timeout=TIMEOUT)
            expect(other.get_by_test_id("stSidebar")).not_to_contain_text("demo-grid")
            other.reload()
            expect(other.get_by_label("用户名")).to_be_visible(timeout=TIMEOUT)
    finally:
        context.close()
    assert outside == []
