"""The exported public site in headless Chromium: opened from disk (file://) or any web server, offline.

Every request the page makes is recorded; none may leave ``file:`` / ``data:``
(or the local web server). The figures on screen must be those of the data
file, the map must draw every committee, and the language switch must work.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import external_requests
from playwright.sync_api import Page, expect

from geo.cli import main as sibai
from geo.demo import install_demo
from geo.store import open_store

pytestmark = pytest.mark.browser

AS_OF = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    db = root / "tiny.gpkg"
    with open_store(str(db), create=True) as store:
        install_demo(store, scale="tiny", seed=7, as_of=AS_OF)
    out = root / "public site"  # a space in the path, as on a Windows desktop
    assert sibai(["export-public", str(out), "--db", str(db), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def data(exported: Path) -> dict:
    return json.loads((exported / "data" / "public.json").read_text(encoding="utf-8"))


def _record_all(page: Page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def _count(n: int | None) -> str:
    return "*" if n is None else f"{n:,}"


def test_site_opens_from_disk_with_no_network(page: Page, exported: Path, data: dict) -> None:
    urls = _record_all(page)
    outside = external_requests(page)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))
    page.goto((exported / "index.html").as_uri())
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=10_000)

    d = data["district"]
    expect(page.locator("h1")).to_have_text("四百走访公示")
    expect(page.locator("#m-coverage")).to_have_text(f"{d['coverage']}%")
    expect(page.locator("#m-residents_visited")).to_have_text(_count(d["residents_visited"]))
    expect(page.locator("#m-visits")).to_have_text(_count(d["visits"]))
    expect(page.locator("#m-solved")).to_have_text(_count(d["solved"]))
    expect(page.locator("#as-of")).to_have_text("数据截至 2026年11月22日（周日）")

    # The map: every committee drawn (and the street outlines), coloured by its class.
    n_committees = len(data["geometry"]["committees"]["id"])
    n_streets = len(data["geometry"]["streets"]["id"])
    paths = page.locator("#map path")
    expect(paths).to_have_count(n_committees + n_streets)
    expect(page.locator("#map")).to_have_attribute("data-view", "committees")
    expect(page.locator(".legend")).to_contain_text("走访覆盖率")
    # Hovering a committee shows its published figures.
    first = data["committees"]
    paths.first.hover(force=True)
    tip = page.locator(".leaflet-tooltip")
    expect(tip).to_be_visible()
    shown = tip.inner_text()
    assert any(name in shown for name in first["name"])
    # The grid view: every grid drawn.
    page.locator("#map-tabs button[data-view='grids']").click()
    expect(page.locator("#map")).to_have_attribute("data-view", "grids")
    expect(paths).to_have_count(len(data["geometry"]["grids"]["id"]) + n_streets)
    # Grids whose class is not published are hatched with the district map's own pattern
    # (sibai_map.js, shipped beside the site's script), the rest coloured by their class.
    cls = dict(zip(data["grids"]["id"], data["grids"]["cls"], strict=True))
    unpublished = sum(1 for g in data["geometry"]["grids"]["id"] if cls.get(g, -1) < 0)
    assert 0 < unpublished < len(cls)
    fills = page.evaluate(
        "() => [...document.querySelectorAll('#map path')].map(p => p.getAttribute('fill'))"
    )
    assert sum(1 for f in fills if (f or "").startswith("url(#sibai-hatch-")) == unpublished
    assert page.locator("#map svg pattern[id^='sibai-hatch-']").count() == 1
    shipped = (exported / "assets" / "sibai_map.js").read_bytes()
    assert shipped == (Path(__file__).resolve().parents[1] / "geo" / "assets" / "sibai_map.js").read_bytes()

    # The tables: one row per street and per committee; a street filter.
    expect(page.locator("#t-streets tbody tr")).to_have_count(len(data["streets"]["id"]))
    expect(page.locator("#t-committees tbody tr")).to_have_count(len(data["committees"]["id"]))
    page.locator("#street-filter").select_option(data["streets"]["id"][0])
    in_street = sum(1 for s in data["committees"]["street"] if s == 0)
    expect(page.locator("#t-committees tbody tr")).to_have_count(in_street)
    first_row = page.locator("#t-streets tbody tr").first.locator("td")
    expect(first_row.nth(0)).to_have_text(data["streets"]["name"][0])
    expect(first_row.nth(2)).to_have_text(_count(data["streets"]["residents_visited"][0]))

    # English, and back.
    page.locator("#lang").click()
    expect(page.locator("h1")).to_have_text("Sibai household visits: public summary")
    expect(page.locator("body")).to_have_attribute("data-lang", "en")
    expect(page.locator("#as-of")).to_have_text("Data as of Sunday 2026-11-22")
    expect(page.locator("#map-tabs button").first).to_have_text("By committee")
    expect(page.locator(".legend-title")).to_have_text("Visit coverage")
    page.locator("#lang").click()
    expect(page.locator("h1")).to_have_text("四百走访公示")

    assert errors == []
    assert outside == []
    assert urls and all(u.startswith(("file:", "data:")) for u in urls), [
        u for u in urls if not u.startswith(("file:", "data:"))
    ]


def test_site_first_paint_and_english_link(page: Page, exported: Path) -> None:
    outside = external_requests(page)
    page.goto((exported / "index.html").as_uri() + "#en")
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=10_000)
    expect(page.locator("h1")).to_have_text("Sibai household visits: public summary")
    paint = page.evaluate(
        "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null"
    )
    drawn = page.evaluate("() => performance.getEntriesByName('public:drawn')[0].startTime")
    assert paint is not None and paint < 3000  # generous: the machine is shared (bench: < 1 s)
    assert drawn < 5000
    assert outside == []


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def _serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1 for the block (any static web server would do)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_site_works_from_a_web_server_on_a_phone(browser, exported: Path, data: dict) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        urls = _record_all(page)
        outside = external_requests(page)
        with _serve(exported) as base:
            page.goto(base + "/index.html")
            expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=10_000)
            expect(page.locator("#m-coverage")).to_have_text(f"{data['district']['coverage']}%")
            expect(page.locator("#map path")).to_have_count(
                len(data["geometry"]["committees"]["id"]) + len(data["geometry"]["streets"]["id"])
            )
            # Two metrics a row on a phone, none cut off.
            box = page.locator(".metric").nth(1).bounding_box()
            assert box is not None and box["x"] + box["width"] <= 390
        assert outside == []
        assert all(u.startswith((base, "data:")) for u in urls)
    finally:
        context.close()
