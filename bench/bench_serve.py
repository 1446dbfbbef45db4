"""Measure a fresh server's first page: ``streamlit run app.py`` (baseline) against ``sibai serve``.

Both run over the same full-scale demo database, alternately (so the shared
machine's load weighs on both alike), each as a fresh process with a fresh
headless Chromium context (Debian's ``/usr/bin/chromium`` through Playwright):

``baseline``
    ``python -m streamlit run app.py`` with ``SIBAI_DB`` set: every cache is
    built by the first page that needs it.
``serve``
    ``python -m geo.cli serve --db …`` (``ui/server.py``): the caches are warmed
    in a thread once the server is up; the browser comes after the server
    logged "caches warm".

Measured per run, by the wall clock of this script:

* **server up**: process start → ``/_stcore/health`` answers;
* **warm** (serve only): process start → the "caches warm" line on stderr;
* **first page**: a visitor's first request, ``/`` (the public summary, the
  home page of anyone not signed in), from ``page.goto`` until its title and
  its table by street are drawn (HTTP + websocket + script run + drawing;
  the title is drawn once the script has run that far, the table last);
* **map after sign-in**: on that page's session, open ``/map`` and sign in as
  ``demo-district``; from the click on "登录" until the district map's
  component has drawn every grid (``body[data-grids="2000"]`` in its frame);
* **next visitor**: then ``/`` again in another fresh context: the same page
  on a server that has served it once (what every later visitor gets).

Medians of ``--runs`` runs (default 3). Nothing here edits or hooks the app.

Usage::

    python bench/bench_serve.py --db /tmp/serve/full.gpkg        # ~4 min on 2 cores
    python bench/bench_serve.py                                  # builds /tmp/bench_serve_full.gpkg first

Figures and their reading: docs/benchmarks.md, "Cold start and first request (sibai serve)".
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
DEFAULT_DB = Path(tempfile.gettempdir()) / "bench_serve_full.gpkg"
WARM_LINE = "caches warm"  # ui.server.WARM_MESSAGE (not imported: that would import streamlit's launcher)
PUBLIC_TITLE = "四百走访公示"
TIMEOUT_S = 300.0
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(base: str) -> bool:
    """Tell whether the server at ``base`` answers its health check."""
    try:
        with _DIRECT.open(f"{base}/_stcore/health", timeout=2) as response:
            return bool(response.read().strip() == b"ok")
    except OSError:
        return False


@dataclass
class Server:
    """A running server: its URL, and seconds from process start until up and until warm."""

    base: str
    up_s: float
    warm_s: float | None
    pid: int = 0


@contextlib.contextmanager
def server(
    mode: str, db: str, logs: Path, *, wait_warm: bool = True, root: Path = ROOT, port: int | None = None
) -> Iterator[Server]:
    """Start a fresh ``baseline`` or ``serve`` process; stop it, children included, after the block.

    ``wait_warm=False`` yields as soon as the server answers (``warm_s`` None), as a visitor would.
    ``root`` is the checkout whose code runs (``bench/bench_screens.py`` compares two).
    ``port``: listen there (a restart on the same address, ``bench/bench_live.py --same-browser``);
    default a free one.
    """
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    st_flags = ["--server.headless", "true"]
    if mode == "baseline":
        cmd = [sys.executable, "-m", "streamlit", "run", str(root / "app.py"), "--server.port", str(port)]
        st_flags += ["--server.address", "127.0.0.1"]
    else:  # sibai serve listens on 127.0.0.1 unless told, and refuses --server.address
        cmd = [sys.executable, "-m", "geo.cli", "serve", "--db", db, "--port", str(port), "--"]
    err = logs / f"{mode}-{port}.err"
    env = dict(os.environ, SIBAI_DB=db, PYTHONPATH=str(root))
    with err.open("wb") as stderr:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*cmd, *st_flags],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        up_s = _wait(lambda: healthy(base), proc, err, started, "health check")
        warm_s = None
        if mode == "serve" and wait_warm:
            logged = lambda: WARM_LINE in err.read_text(errors="replace")  # noqa: E731
            warm_s = _wait(logged, proc, err, started, "warm-up")
        yield Server(base, up_s, warm_s, proc.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def _wait(ready: Any, proc: subprocess.Popen[bytes], err: Path, started: float, what: str) -> float:
    while not ready():
        tail = err.read_text(errors="replace")[-3000:]
        if proc.poll() is not None:
            raise SystemExit(f"server exited before its {what}:\n{tail}")
        if time.perf_counter() - started > TIMEOUT_S:
            raise SystemExit(f"no {what} within {TIMEOUT_S:.0f} s:\n{tail}")
        time.sleep(0.05)
    return time.perf_counter() - started


def open_home(browser: Any, base: str) -> tuple[Any, dict[str, float]]:
    """Open ``/`` in a fresh context; return it and the seconds until the title and the table are drawn."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    t = time.perf_counter()
    page.goto(base + "/")
    page.get_by_role("heading", name=PUBLIC_TITLE).wait_for(timeout=TIMEOUT_S * 1000)
    title = time.perf_counter() - t
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=TIMEOUT_S * 1000)
    return ctx, {"title": title, "page": time.perf_counter() - t}


def visits(browser: Any, base: str) -> dict[str, float]:
    """A fresh server's first visitor, the map after signing in there, then a second visitor."""
    ctx, first = open_home(browser, base)
    try:
        page = ctx.pages[0]
        # The map is staff-only: its address shows the sign-in form, then the map itself.
        page.goto(base + "/map")
        name = page.get_by_label("用户名")
        name.wait_for(timeout=TIMEOUT_S * 1000)
        name.fill("demo-district")
        page.get_by_label("密码").fill("sibai-demo")
        t = time.perf_counter()
        page.get_by_role("button", name="登录", exact=True).click()
        frame = page.frame_locator("iframe[title*='sibai_gridmap']")
        frame.locator("body[data-grids='2000']").wait_for(state="attached", timeout=TIMEOUT_S * 1000)
        map_s = time.perf_counter() - t
    finally:
        ctx.close()
    ctx, second = open_home(browser, base)
    ctx.close()
    return {
        "first_title": first["title"],
        "first_page": first["page"],
        "map_after_sign_in": map_s,
        "next_visitor": second["page"],
    }


def build_database(path: Path) -> None:
    """Build the full demo district into ``path`` with ``sibai demo`` (about a minute)."""
    print(f"building the full demo district into {path} …", file=sys.stderr, flush=True)
    cmd = [sys.executable, "-m", "geo.cli", "demo", "--db", str(path), "--quiet"]
    subprocess.run(cmd, check=True, cwd=ROOT)


def _fmt(values: list[float]) -> str:
    if not values:
        return "–"
    return f"{statistics.median(values):6.1f} s  ({min(values):.1f}–{max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help="full demo database (built when missing)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    if not args.db.exists():
        build_database(args.db)
    db = str(args.db)
    results: dict[str, dict[str, list[float]]] = {m: {} for m in ("baseline", "serve")}
    with tempfile.TemporaryDirectory(prefix="bench_serve_") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for run in range(args.runs):
            for mode in ("baseline", "serve"):
                with server(mode, db, Path(tmp)) as srv:
                    times = {"server_up": srv.up_s, **visits(browser, srv.base)}
                    if srv.warm_s is not None:
                        times["warm"] = srv.warm_s
                for key, value in times.items():
                    results[mode].setdefault(key, []).append(value)
                shown = ", ".join(f"{k} {v:.1f} s" for k, v in times.items())
                print(f"run {run + 1} {mode:<8} {shown}  (load {os.getloadavg()[0]:.1f})", flush=True)
        browser.close()
    print(f"\nmedians of {args.runs} runs (min–max), {db}, load average now {os.getloadavg()[0]:.1f}")
    rows = (
        ("server up (start → health ok)", "server_up"),
        ("caches warm (start → log line)", "warm"),
        ("first page: / until title drawn", "first_title"),
        ("first page: / until table drawn", "first_page"),
        ("then map after sign-in, drawn", "map_after_sign_in"),
        ("next visitor: / until table drawn", "next_visitor"),
    )
    print(f"{'':34} {'streamlit run app.py':<28} sibai serve (page opened after warm-up)")
    for label, key in rows:
        baseline, serve = (_fmt(results[m].get(key, [])) for m in ("baseline", "serve"))
        print(f"{label:34} {baseline:<28} {serve}")


if __name__ == "__main__":
    main()
