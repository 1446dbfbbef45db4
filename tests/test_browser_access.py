"""A grid leader follows a link to another grid, in Debian's headless Chromium against ``streamlit run``.

The link asks for the sign-in form at its own address; after signing in as
``demo-grid`` (grid G0001) the same address says "no access" and nothing the
browser received (page text, and every websocket frame the server sent) holds
a household id, name or phone of the foreign grid. The leader's own grid opens
normally in the same session, and nothing leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from conftest import external_requests, sign_in_browser
from playwright.sync_api import Page, expect

from geo.demo import install_demo
from geo.store import Scope, open_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AS_OF = dt.date(2026, 11, 26)
TIMEOUT = 60_000


@pytest.fixture
def tiny_db(tmp_path: Path) -> str:
    path = tmp_path / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=7, as_of=AS_OF)
    return str(path)


def test_grid_leader_gets_no_access_to_a_foreign_grid(page: Page, streamlit_server, tiny_db: str) -> None:
    with open_store(tiny_db) as store:
        hh = store.read_table("households", scope=Scope.of(grids=["G0007"]))
        own = store.read_table("households", scope=Scope.of(grids=["G0001"]))
    foreign = hh.iloc[0]
    secrets = set(hh["household_id"]) | set(hh["phone"].dropna())
    secrets |= set(hh["head_name"].dropna()) - set(own["head_name"].dropna())
    base = streamlit_server(tiny_db, extra_env={"SIBAI_TODAY": AS_OF.isoformat()})
    outside = external_requests(page)
    frames: list[bytes] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda p: frames.append(p if isinstance(p, bytes) else p.encode())),
    )

    page.goto(f"{base}/grid?grid=G0007&household={foreign['household_id']}")
    sign_in_browser(page, tiny_db, "grid")
    expect(page.get_by_text("无权访问：该网格不在您的管辖范围内")).to_be_visible(timeout=TIMEOUT)
    time.sleep(1.0)  # let the last frames of the run arrive
    text = page.inner_text("body")
    blob = b"\n".join(frames)
    assert [s for s in secrets if s in text] == []
    assert [s for s in secrets if s.encode() in blob] == []

    # The leader's own grid opens in the same session ("返回我的辖区" clears the link's areas,
    # and a leader with one grid lands on it).
    page.get_by_role("button", name="返回我的辖区").click()
    expect(page.get_by_text("无权访问")).to_have_count(0, timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="网格 · 中远两湾城居民区1号网格")).to_be_visible(timeout=TIMEOUT)
    assert outside == []
