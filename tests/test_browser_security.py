"""Hostile names and links in Debian's Chromium: shown as typed, never run, never fetched (issue 19).

A district whose grid, building, committee and worker names are attacks (a
script tag, an image with ``onerror``, Markdown links and images, a
``javascript:`` URL, HTML entities), as a real import could bring them. Each
screen is opened as a role allowed on it, every tooltip of the walk map is
opened, and links carry Markdown in their unknown ids. The test fails on a
dialog, on a request to anywhere but the app, on an ``<img>`` or link that
the data made, and when a name does not show exactly as it was typed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import external_requests, open_fresh, sign_in_browser
from playwright.sync_api import Frame, Page

from geo.demo import install_demo
from geo.store import open_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AS_OF = dt.date(2026, 11, 26)
TIMEOUT = 60_000

GRID_NAME = "![x](http://evil.example/grid.png)网格"
COMMITTEE_NAME = "[会话已过期，请点此重新登录](http://evil.example/login)"
WORKER_NAME = "<script>alert('worker')</script>顾"
BUILDING_NAMES = [
    "楼<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(2)'>楼</a>",
    "&lt;b&gt;楼&amp;",
    "**楼** ![y](http://evil.example/b.png)",
]
LINK_ATTACK = "[会话已过期，请点此重新登录](http://evil.example/login)![t](http://evil.example/t.png)"


@pytest.fixture
def hostile_db(tmp_path: Path) -> str:
    path = tmp_path / "hostile.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=7, as_of=AS_OF)
        with store.transaction() as conn:
            conn.exec_driver_sql("UPDATE grids SET name = ? WHERE grid_id = 'G0001'", (GRID_NAME,))
            conn.exec_driver_sql(
                "UPDATE committees SET name = ? WHERE committee_id = "
                "(SELECT committee_id FROM grids WHERE grid_id = 'G0001')",
                (COMMITTEE_NAME,),
            )
            conn.exec_driver_sql(
                "UPDATE workers SET name = ? WHERE worker_id IN "
                "(SELECT worker_id FROM grid_workers WHERE grid_id = 'G0001')",
                (WORKER_NAME,),
            )
            ids = [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT building_id FROM buildings WHERE grid_id = 'G0001' ORDER BY building_id"
                )
            ]
            for i, building in enumerate(ids):
                conn.exec_driver_sql(
                    "UPDATE buildings SET name = ? WHERE building_id = ?",
                    (BUILDING_NAMES[i % len(BUILDING_NAMES)], building),
                )
    return str(path)


def _settle(page: Page) -> None:
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=TIMEOUT)
    page.wait_for_timeout(500)


def _made_by_data(page: Page) -> list[str]:
    """Return the elements, in the page and every frame in it, that only the data could have made."""
    return [html for frame in page.frames for html in _made_in(frame)]


def _made_in(frame: Frame) -> list[str]:
    return frame.evaluate(
        """() => [
            ...[...document.querySelectorAll('img, a, iframe, object, embed')]
                .map(e => [...e.attributes].filter(a => a.name !== 'srcdoc')
                    .map(a => `${a.name}=${a.value}`).join(' '))
                .filter(h => /evil\\.example|onerror|javascript:|alert\\(/.test(h)),
        ]"""
    )


def _wait_for_text(page: Page, text: str, selector: str = "body") -> None:
    """Wait until an element of ``selector`` shows ``text`` (the invisible joiners of plain() aside)."""
    page.wait_for_function(
        """([sel, text]) => [...document.querySelectorAll(sel)]
              .some(e => e.innerText.replaceAll('\\u2060', '').includes(text))""",
        arg=[selector, text],
        timeout=TIMEOUT,
    )


def _visit(page: Page, url: str, db: str, role: str) -> None:
    """Open ``url`` and sign in as ``demo-<role>`` if the page asks for it."""
    page.goto(url)
    _settle(page)
    if page.get_by_label("用户名").count():
        sign_in_browser(page, db, role)
        _settle(page)


def _watched(browser: Any, dialogs: list[str], outside: list[str]) -> tuple[Any, Page]:
    """Open a desktop page whose dialogs go to ``dialogs`` and requests off the machine to ``outside``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    recorded = external_requests(page)
    page.on("close", lambda _: outside.extend(recorded))
    return context, page


def _open_every_tooltip(frame: Frame) -> int:
    """Open the tooltip of every layer of the Leaflet map in ``frame``; return how many opened."""
    return frame.evaluate(
        """() => {
            const maps = Object.values(window).filter(v => v && v instanceof L.Map);
            let n = 0;
            for (const m of maps) {
                m.eachLayer(layer => {
                    if (layer.getTooltip && layer.getTooltip() && layer.getLatLng === undefined) {
                        layer.openTooltip(layer.getBounds ? layer.getBounds().getCenter() : undefined);
                        n += 1;
                    }
                });
            }
            return n;
        }"""
    )


def test_hostile_names_and_links_show_as_text_on_every_screen(
    browser, streamlit_server, hostile_db: str, tmp_path: Path
) -> None:
    base = streamlit_server(hostile_db, extra_env={"SIBAI_TODAY": AS_OF.isoformat()})
    dialogs: list[str] = []
    outside: list[str] = []
    context, page = _watched(browser, dialogs, outside)
    try:
        open_fresh(page, base, "/walk?grid=G0001")
        sign_in_browser(page, hostile_db, "grid")
        frame_el = page.locator('iframe[src*="st_folium"]').first
        frame_el.wait_for(timeout=TIMEOUT)
        _settle(page)
        walk_map = frame_el.element_handle().content_frame()  # type: ignore[union-attr]
        assert walk_map is not None
        walk_map.wait_for_selector(".sibai-stop", timeout=TIMEOUT)
        assert _open_every_tooltip(walk_map) > 0
        page.wait_for_timeout(1000)
        tips = walk_map.evaluate(
            "() => [...document.querySelectorAll('.leaflet-tooltip')].map(t => t.innerText)"
        )
        assert any(BUILDING_NAMES[0] in tip.replace("\u2060", "") for tip in tips), tips
        assert _made_by_data(page) == []
        # The tick form's headings name the building as typed.
        _wait_for_text(page, BUILDING_NAMES[0], '[data-testid="stForm"]')
        page.screenshot(path=tmp_path / "walk-hostile.png", full_page=True)

        _visit(page, base + "/grid?grid=G0001", hostile_db, "grid")
        _wait_for_text(page, GRID_NAME, "h1")
        _settle(page)
        assert _made_by_data(page) == []

        _visit(page, base + "/map?grid=G0001", hostile_db, "grid")
        _wait_for_text(page, GRID_NAME, "h2")
        _wait_for_text(page, COMMITTEE_NAME, '[data-testid="stCaptionContainer"]')
        _settle(page)
        assert _made_by_data(page) == []

        # Unknown ids from the address bar: echoed as text, not as a link or an image.
        for path in ("/map?grid=", "/walk?grid=", "/issues?grid=", "/grid?grid="):
            _visit(page, base + path + quote(LINK_ATTACK), hostile_db, "grid")
            _wait_for_text(page, LINK_ATTACK, '[data-testid="stAlert"]')
            _settle(page)
            assert _made_by_data(page) == [], path
        page.screenshot(path=tmp_path / "link-hostile.png", full_page=True)
    finally:
        context.close()

    # The district's screens with the worker and grid names in headings and buttons.
    context, page = _watched(browser, dialogs, outside)
    try:
        open_fresh(page, base, "/issues?grid=G0001")
        sign_in_browser(page, hostile_db, "district")
        _wait_for_text(page, GRID_NAME, "button")
        _settle(page)
        assert _made_by_data(page) == []
        for path in ("/workers", "/uncovered", "/map"):
            _visit(page, base + path, hostile_db, "district")
            _settle(page)
            assert page.get_by_text("Traceback").count() == 0
            assert _made_by_data(page) == [], path
    finally:
        context.close()
    # The public summary, anonymous: committee names in its tables and its map.
    context, page = _watched(browser, dialogs, outside)
    try:
        open_fresh(page, base, "/")
        _settle(page)
        frame = page.locator("iframe").first
        frame.wait_for(timeout=TIMEOUT)
        page.wait_for_timeout(1000)
        assert _made_by_data(page) == []
        page.screenshot(path=tmp_path / "public-hostile.png", full_page=True)
    finally:
        context.close()
    assert dialogs == []
    assert outside == []
