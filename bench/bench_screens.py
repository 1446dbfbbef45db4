"""Measure every screen's first paint in Chromium, for each role, cold and warm, beside a baseline checkout.

A full-scale district is served by ``sibai serve`` (``python -m geo.cli serve``)
from two checkouts of the product, alternately, over the same database file:
``--baseline`` (e.g. ``git worktree add --detach /tmp/base main``, the code
before a change) and this checkout. Each run starts a fresh server per
checkout, waits for its "caches warm" line (as ``bench/bench_serve.py`` does),
then for each role (``demo-district``, ``demo-street``, ``demo-committee``,
``demo-grid``, and an anonymous visitor) in a fresh headless Chromium context
(Debian's ``/usr/bin/chromium`` through Playwright):

* signs in once through the form (the route sets the session cookie; not timed);
* opens every screen the role may open (``ui.auth.PAGES``), each by its address,
  twice: **cold** is the role's first open of that screen on this server, and
  **warm** the second, from a new page (so a new Streamlit session) after the
  role has opened every screen once.

First paint is ``page.goto`` until the screen is drawn and Streamlit is idle:
the app reports its script as not running, the page's title (``h1``) is drawn,
no skeleton is left, every Leaflet map on it has drawn its grids (the district
map's component reports ``data-grids``; the folium maps of 盲区与周查 and 诉求
their polygons), and no error box is shown (an error fails the run).

Signing in writes only the sessions table and the audit trail, which move no
change counter (``Store.versions``), so caches keyed on the counters survive it.
Process-wide caches the warm-up builds (coverage index, layers, geometry) are
warm for every role; the per-scope ones (office frames, ledger) are cold for
each role's first open.

Medians of ``--runs`` runs (default 3), per role and screen, printed as a
Markdown table: baseline and this checkout side by side, cold and warm.

Usage::

    git worktree add --detach /tmp/sibai-base main
    python bench/bench_screens.py --baseline /tmp/sibai-base --db /tmp/speed/full.gpkg
    python bench/bench_screens.py --roles district --screens uncovered,workers --runs 1

Figures and their reading: docs/benchmarks.md, "Every screen's first paint".
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_serve import CHROMIUM, CHROMIUM_ARGS, build_database, server  # noqa: E402

TIMEOUT_S = 120.0
PASSWORD = "sibai-demo"  # geo.auth.DEMO_PASSWORD (not imported: the checkouts may differ)

#: Who opens what: ui.auth.PAGES of this checkout, in the order a person meets them.
ROLES: dict[str, tuple[str, ...]] = {
    "district": ("map", "grid", "walk", "uncovered", "issues", "workers", "public", "data", "audit"),
    "street": ("map", "grid", "walk", "uncovered", "issues", "workers", "public"),
    "committee": ("map", "grid", "walk", "uncovered", "issues", "workers", "public"),
    "grid": ("map", "grid", "walk", "uncovered", "issues", "workers", "public"),
    "anonymous": ("public",),
}

#: True once the screen is drawn and the app idle (see the module docstring); throws on an error box.
DRAWN_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const error = document.querySelector('[data-testid="stException"], [data-testid="stAlertContentError"]');
  if (error) throw new Error('error box: ' + error.innerText.slice(0, 300));
  if (!document.querySelector('[data-testid="stMain"] h1')) return false;
  if (document.querySelector('[data-testid="stSkeleton"], [data-stale="true"]')) return false;
  for (const frame of document.querySelectorAll('iframe')) {
    let doc;
    try { doc = frame.contentDocument; } catch (e) { continue; }
    if (!doc || doc.readyState !== 'complete') return false;
    if ((frame.title || '').includes('sibai_gridmap') && !doc.querySelector('body[data-grids]')) return false;
    for (const m of doc.querySelectorAll('.leaflet-container')) {
      if (!m.querySelector('.leaflet-interactive, canvas')) return false;
    }
  }
  return true;
}"""


def sign_in(ctx: Any, base: str, role: str) -> None:
    """Sign ``ctx`` in as ``demo-<role>`` through the sign-in page (the cookie outlives the page)."""
    page = ctx.new_page()
    page.goto(base + "/")  # a fresh server's first session must start at "/" (tests/conftest.py open_fresh)
    page.locator("[data-testid='stMain'] h1").first.wait_for(timeout=TIMEOUT_S * 1000)
    page.goto(base + "/signin")
    name = page.get_by_label("用户名")
    name.wait_for(timeout=TIMEOUT_S * 1000)
    name.fill(f"demo-{role}")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    name.wait_for(state="detached", timeout=TIMEOUT_S * 1000)
    page.close()


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    """Return the CPU seconds (user + system, every thread) process ``pid`` has used; 0 once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime: fields 14 and 15 of stat


def _descendants() -> list[int]:
    """Return the processes descending from this one (the servers, Playwright's driver, Chromium)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [os.getpid()]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


@dataclass
class Paint:
    """One open of a screen: wall seconds until drawn and idle; CPU seconds of the server and the browser."""

    wall: float
    server_cpu: float
    browser_cpu: float


def first_paint(ctx: Any, base: str, screen: str, server_pid: int) -> Paint:
    """Open ``/<screen>`` in a new page of ``ctx`` (a new session) until drawn and idle."""
    page = ctx.new_page()
    try:
        before = {pid: _cpu(pid) for pid in _descendants() if pid != server_pid}
        server_before = _cpu(server_pid)
        started = time.perf_counter()
        page.goto(f"{base}/{screen}")
        page.wait_for_function(DRAWN_JS, timeout=TIMEOUT_S * 1000, polling=50)
        wall = time.perf_counter() - started
        server = _cpu(server_pid) - server_before
        browser = sum(_cpu(pid) - before.get(pid, 0.0) for pid in _descendants() if pid != server_pid)
        return Paint(wall, server, browser)
    finally:
        page.close()


def measure(browser: Any, srv: Any, roles: dict[str, tuple[str, ...]]) -> dict[tuple[str, str, str], Paint]:
    """Return ``{(role, screen, "cold" | "warm"): Paint}`` on ``srv`` (a ``bench_serve.Server``)."""
    out: dict[tuple[str, str, str], Paint] = {}
    for role, screens in roles.items():
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        try:
            if role != "anonymous":
                sign_in(ctx, srv.base, role)
            for when in ("cold", "warm"):
                for screen in screens:
                    out[(role, screen, when)] = first_paint(ctx, srv.base, screen, srv.pid)
        finally:
            ctx.close()
    return out


def _cell(paints: list[Paint]) -> str:
    if not paints:
        return "–"
    wall, server, browser = (statistics.median(getattr(p, k) for p in paints) for k in vars(paints[0]))
    return f"{wall:.1f} ({server:.1f}+{browser:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "bench_serve_full.gpkg")
    parser.add_argument("--baseline", type=Path, help="checkout of the code before the change")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--roles", default=",".join(ROLES), help="comma-separated, from: " + ", ".join(ROLES))
    parser.add_argument("--screens", default="", help="comma-separated url paths (default: every screen)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    if not args.db.exists():
        build_database(args.db)
    wanted = set(filter(None, args.screens.split(",")))
    roles = {
        r: tuple(s for s in ROLES[r] if not wanted or s in wanted)
        for r in args.roles.split(",")
        if r in ROLES
    }
    trees = {"before": args.baseline.resolve(), "after": ROOT} if args.baseline else {"after": ROOT}
    times: dict[tuple[str, str, str, str], list[Paint]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_screens_") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for run in range(args.runs):
            for label, tree in trees.items():  # alternately, so the machine's load weighs on both
                with server("serve", str(args.db), Path(tmp), root=tree) as srv:
                    got = measure(browser, srv, roles)
                for (role, screen, when), paint in got.items():
                    times.setdefault((label, role, screen, when), []).append(paint)
                worst = max(got.items(), key=lambda kv: kv[1].wall)
                print(
                    f"run {run + 1} {label:<6} slowest {worst[0]} {worst[1].wall:.1f} s "
                    f"(load {os.getloadavg()[0]:.1f})",
                    file=sys.stderr,
                    flush=True,
                )
            table(times, trees, roles, runs=run + 1, db=args.db)  # after every run: partial results survive
        browser.close()


def table(
    times: dict[tuple[str, str, str, str], list[Paint]],
    trees: dict[str, Path],
    roles: dict[str, tuple[str, ...]],
    *,
    runs: int,
    db: Path,
) -> None:
    """Print the Markdown table of medians so far."""
    print(
        f"\nFirst paint, seconds: wall (server CPU + browser CPU), medians of {runs} runs; "
        f"{db}; load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n"
    )
    head = "| role | screen | " + " | ".join(f"{w} {lab}" for w in ("cold", "warm") for lab in trees) + " |"
    print(head)
    print("|" + " --- |" * (head.count("|") - 1))
    for role, screens in roles.items():
        for screen in screens:
            cells = [_cell(times.get((lab, role, screen, w), [])) for w in ("cold", "warm") for lab in trees]
            print(f"| {role} | {screen} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
