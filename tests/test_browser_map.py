"""The district map in a real headless Chromium against a real `streamlit run`."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import Socket, external_requests, open_fresh, sign_in_browser
from playwright.sync_api import Page, expect

from geo.demo import install_demo
from geo.store import Scope, open_store

pytestmark = pytest.mark.browser

AS_OF = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = Path(tmp_path_factory.mktemp("browser")) / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=7, as_of=AS_OF)
    return str(path)


def _map_frame(page: Page):  # type: ignore[no-untyped-def]
    frame = page.frame_locator("iframe[title*='sibai_gridmap']")
    expect(frame.locator("body[data-grids]")).to_have_attribute("data-grids", "12", timeout=30_000)
    return frame


def test_all_grids_drawn_click_selects_and_nothing_leaves_the_machine(
    page: Page, streamlit_server, tiny_db: str
) -> None:
    base = streamlit_server(tiny_db)
    outside = external_requests(page)
    socket = Socket(page)
    open_fresh(page, base, "/map")  # staff only: the sign-in form first, at the same address
    sign_in_browser(page, tiny_db)
    frame = _map_frame(page)
    paths = frame.locator("path.leaflet-interactive")
    expect(paths).to_have_count(12)
    expect(page.get_by_role("heading", name="普陀区")).to_be_visible()
    with open_store(tiny_db) as store:
        names = set(store.read_table("grids", scope=Scope.everything())["name"])
    socket.quiet(page)
    # A DOM click on the polygon itself (its bounding-box centre may lie on a neighbour or a control).
    socket.rerun(page, lambda: paths.nth(4).dispatch_event("click"))
    heading = page.locator("h2").first  # the selection, a section under the title
    expect(heading).not_to_have_text("普陀区", timeout=15_000)
    assert heading.inner_text().strip() in names
    # The selection is mirrored in the URL, so the link can be shared.
    expect(page).to_have_url(re.compile(r"[?&]grid=G\d{4}"), timeout=10_000)
    grid_id = re.search(r"grid=(G\d{4})", page.url).group(1)  # type: ignore[union-attr]
    with open_store(tiny_db) as store:
        assert (
            store.read_table("grids", scope=Scope.everything()).set_index("grid_id").loc[grid_id, "name"]
            == heading.inner_text().strip()
        )
    assert outside == []


def test_deep_link_opens_the_same_grid(page: Page, streamlit_server, tiny_db: str) -> None:
    base = streamlit_server(tiny_db)
    outside = external_requests(page)
    open_fresh(page, base, "/map?grid=G0007")
    sign_in_browser(page, tiny_db)
    _map_frame(page)
    with open_store(tiny_db) as store:
        name = store.read_table("grids", scope=Scope.everything()).set_index("grid_id").loc["G0007", "name"]
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=20_000)
    assert outside == []


def _click_grid(page: Page, socket: Socket, index: int, *, before: str = "none") -> str:
    """Click the ``index``-th grid on the map; wait until the side panel and the URL show it; return its id.

    ``before`` is the grid the URL names before the click (its id must change).
    The click is followed on the app's websocket (:class:`conftest.Socket`): it must
    ask the server to run the page, and that run must end. The page is let go quiet
    first, so the click is not folded into a run still under way.
    """
    frame = _map_frame(page)
    socket.quiet(page)
    socket.rerun(page, lambda: frame.locator("path.leaflet-interactive").nth(index).dispatch_event("click"))
    expect(page).to_have_url(re.compile(rf"[?&]grid=(?!{before})G\d{{4}}"), timeout=15_000)
    grid_id = re.search(r"grid=(G\d{4})", page.url).group(1)  # type: ignore[union-attr]
    with open_store(page.context.sibai_db) as store:  # type: ignore[attr-defined]
        name = store.read_table("grids", scope=Scope.everything()).set_index("grid_id").loc[grid_id, "name"]
    expect(page.locator("h2").first).to_have_text(name, timeout=15_000)
    link = page.get_by_role("link", name=re.compile("打开网格页"))
    expect(link).to_have_attribute("href", re.compile(rf"grid={grid_id}"), timeout=15_000)
    return grid_id


def test_every_click_counts_first_after_sign_in_after_coming_back_and_the_next(
    page: Page, streamlit_server, tiny_db: str
) -> None:
    """Issue 14: the first click in a new map frame was taken for the last click of the old one."""
    base = streamlit_server(tiny_db)
    page.context.sibai_db = tiny_db  # type: ignore[attr-defined]
    socket = Socket(page)
    open_fresh(page, base, "/map")
    sign_in_browser(page, tiny_db)
    first = _click_grid(page, socket, 4)  # the first click after signing in
    # Another screen, then back to the map through the menu: a new map frame.
    page.get_by_role("link", name="诉求", exact=True).click()
    page.wait_for_url(re.compile(r"/issues"), timeout=15_000)
    page.get_by_role("link", name="总览地图", exact=True).click()
    page.wait_for_url(re.compile(r"/map"), timeout=15_000)
    expect(page.get_by_role("heading", name="普陀区")).to_be_visible(timeout=15_000)
    second = _click_grid(page, socket, 7)  # the first click in the new frame
    assert second != first
    third = _click_grid(page, socket, 2, before=second)  # and the next one, in the same frame
    assert third not in (first, second)
