"""Start the app on its own server, with warm caches and navigation right from the first request.

``sibai serve`` calls :func:`main`.

The app runs as Streamlit's ``st.App`` (``asgi.py``: an ASGI app served by
uvicorn) with routes of its own beside the screens: the sign-in and sign-out
routes of ``ui/routes.py``, which set and clear the session cookie. A plain
``streamlit run app.py`` still shows the public page, but has nowhere to sign
in. Besides, a fresh server has two rough edges:

1. **Cold caches.** The whole-district coverage index, the area layers and the
   map geometry are built by the first page that asks for them (about 8-12 s on
   the full district), so the first visitor waits.
2. **Navigation from file names on the first request.** Streamlit 1.67 sets
   ``PagesManager.uses_pages_directory`` (a class attribute) to True when the
   first session starts, because a ``pages/`` folder sits next to ``app.py``,
   and the script runner then serves that first run through ``_mpa_v1``: a
   navigation built from ``pages/*.py`` file names. A fresh server's first
   request to ``/map`` (file ``district_map.py``) shows "page not found", and
   ``/public`` runs the page file without ``app.py`` (menu entries named after
   files). ``st.navigation`` in ``app.py`` sets the flag to False, so only the
   first session is affected. The folder keeps its name (the product's design).

:func:`main` sets the flag to False before any session exists (exactly the
state ``st.navigation`` leaves it in), starts a thread that fills the caches
as soon as the server is up, and then runs Streamlit's own ``streamlit run
asgi.py`` command in this process, so every ``--server.*`` flag and every
``config.toml`` works as with ``streamlit run``.

Streamlit tells every browser the full path of the entry script on the server
(``NewSession.main_script_path``, used by the browser only to name the app);
:func:`hide_script_path` sends the file name alone, so an anonymous visitor
learns nothing of the server's folders.

The warm-up calls the very cached functions the pages call
(``st.cache_resource`` caches are process-wide, so a visitor's run finds the
values; one arriving mid-way waits on the same per-key lock instead of
building them twice), then imports the project modules that ``app.py`` and
the screens import. It touches nothing that needs a script run:
``ui.gridmap._component`` in particular must not be warmed, because
``declare_component`` registers a component with the server only inside a
script run. When the database still has to be built (the first start on the
default file), the warm-up builds it first, with its progress on the terminal,
while visitors see a page saying that the district is being prepared
(``ui.data.prepare_first_start``); under a plain ``streamlit run`` the first
page builds it with a progress bar.

The coverage index starts from the snapshot saved beside the database
(``geo.live``) when there is one of the same data: that step of a restart
takes about a second instead of about ten.
"""

from __future__ import annotations

import ast
import importlib
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: The app's entry script, from this file's place (never the working directory).
APP = Path(__file__).resolve().parents[1] / "app.py"

#: The file that builds the app's own server (``st.App``) around :data:`APP`.
LAUNCHER = APP.parent / "asgi.py"

#: Seconds to wait for Streamlit's runtime to start before warming anyway.
SERVER_START_TIMEOUT = 120.0

#: The packages whose modules the warm-up imports ahead of the first script run.
PROJECT_PACKAGES = ("geo", "ui")

#: Seconds the warm-up's work for the other screens waits for a visitor's first signed-in page.
FIRST_PAGE_WAIT = 15.0

#: The line logged when the caches are warm (tests and benchmarks wait for it).
WARM_MESSAGE = "caches warm"


def log(message: str) -> None:
    """Write one progress line to stderr (next to Streamlit's own output)."""
    print(f"sibai serve: {message}", file=sys.stderr, flush=True)


def warm(*, say: Callable[[str], None] = log, first_page_wait: float = 0.0) -> dict[str, float]:
    """Fill the process-wide caches that the first pages need; return the seconds per step.

    Call it in the server process, in any thread: it calls the same cached
    functions as the pages (``ui.data``, ``ui.gridmap``), none of which needs
    a script run, then imports the project modules that ``app.py`` and the
    screens import. The district map's geometry is built for the default
    basemap; then the whole district's office frames, weekly check, ledger and
    staffing (:func:`ui.office_data.warm_district`), which the district's
    盲区与周查 and 社工考核 would otherwise build on their first open.

    The map's needs come first. In the server the rest waits, up to
    :data:`FIRST_PAGE_WAIT` seconds, while a visitor who has arrived is on the way to a first
    signed-in page (:func:`ui.arrivals.wait_for_first_page`), and then while the
    browser fetches that page's frames (the map's component files, answered by
    this interpreter too): it runs in the same interpreter, and on the full
    district its several seconds of CPU would otherwise share the GIL with the
    first map's run and files (a restart's first map).

    Parameters
    ----------
    say
        Where progress lines go (default: stderr).
    first_page_wait
        Seconds the work for the other screens may wait for a visitor's first
        signed-in page (the server passes :data:`FIRST_PAGE_WAIT`; 0: no wait).

    Returns
    -------
    dict of str to float
        Seconds per step, in order; ``demo district`` first when the first
        start built it.
    """
    from ui import arrivals, data, gridmap

    db = data.settings().db
    seconds: dict[str, float] = {}
    # The same test the first page runs before building the demo district: on the first
    # start the server builds it here, and visitors meanwhile see that it is being prepared.
    if data._needs_demo(db):
        say("no district in the database yet: building the demo district (visitors see it being prepared)")
        started = time.perf_counter()
        if data.prepare_first_start(say=say):
            seconds["demo district"] = time.perf_counter() - started
            say(f"built the demo district in {seconds['demo district']:.1f} s")
    steps: tuple[tuple[str, Callable[[], object]], ...] = (
        ("store", data.store),
        ("coverage index", data.coverage_index),
        ("area layers", data.layers),
        ("map geometry", lambda: gridmap.geometry(basemap="none")),
    )
    _timed(steps, seconds, say)
    # What the map needs is ready. The rest (the other screens' modules, the office's frames: several
    # seconds of CPU on the full district) waits while a visitor is on the way to a first page.
    if arrivals.wait_for_first_page(first_page_wait):
        say("let the first signed-in page go first")
    deferred: tuple[tuple[str, Callable[[], object]], ...] = (
        ("page modules", import_page_modules),
        # Made on first use from the snapshot (geo.coverage): needed by the first visit recorded.
        ("household ids", lambda: data.coverage_index().household_ids),
    )
    _timed(deferred, seconds, say)
    from ui import office_data  # imported by the step before

    arrivals.wait_for_first_page(first_page_wait)
    for name, took in office_data.warm_district().items():
        seconds[name] = took
        say(f"warmed {name} in {took:.1f} s")
    return seconds


def _timed(
    steps: tuple[tuple[str, Callable[[], object]], ...], seconds: dict[str, float], say: Callable[[str], None]
) -> None:
    """Run the warm-up's ``(name, step)`` pairs in order, noting and saying the seconds each took."""
    for name, step in steps:
        started = time.perf_counter()
        step()
        seconds[name] = time.perf_counter() - started
        say(f"warmed {name} in {seconds[name]:.1f} s")


def page_imports(app: Path = APP) -> list[tuple[str, tuple[str, ...]]]:
    """Return what ``app`` and the screens in ``pages/`` beside it import: ``(module, names)`` pairs.

    ``import a.b`` gives ``("a.b", ())``; ``from a import b, c`` gives
    ``("a", ("b", "c"))``, where a name may be a submodule or an attribute.
    ``from __future__`` and relative imports are left out.
    """
    found: set[tuple[str, tuple[str, ...]]] = set()
    for path in (app, *sorted((app.parent / "pages").glob("*.py"))):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update((alias.name, ()) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add((node.module, tuple(alias.name for alias in node.names)))
    return sorted(item for item in found if item[0] != "__future__")


def import_page_modules() -> None:
    """Import the project's modules that ``app.py`` and the screens import, so their first run does not.

    Only ``geo`` and ``ui`` modules: a third-party module may declare a
    Streamlit component when imported (``streamlit_folium`` does), and a
    component declared outside a script run is never registered with the
    server, so its files would not be served for as long as the process runs.
    Our own modules declare theirs inside cached functions called by pages.
    """
    for module, names in page_imports():
        if module.split(".")[0] not in PROJECT_PACKAGES:
            continue
        parent = importlib.import_module(module)
        for name in names:
            if not hasattr(parent, name):  # a submodule not imported yet (``from ui import auth``)
                importlib.import_module(f"{module}.{name}")


def hide_script_path() -> None:
    """Make Streamlit send browsers the entry script's file name, not its full path on this server."""
    from streamlit.runtime.app_session import AppSession

    original = AppSession._create_new_session_message
    if getattr(original, "sibai_hidden", False):
        return

    def without_path(self: AppSession, *args: Any, **kwargs: Any) -> Any:
        msg = original(self, *args, **kwargs)
        msg.new_session.main_script_path = Path(msg.new_session.main_script_path).name
        return msg

    without_path.sibai_hidden = True  # type: ignore[attr-defined]
    AppSession._create_new_session_message = without_path  # type: ignore[method-assign]


def _server_running() -> bool:
    from streamlit import runtime
    from streamlit.runtime.runtime import RuntimeState

    return runtime.exists() and runtime.get_instance().state in (
        RuntimeState.NO_SESSIONS_CONNECTED,
        RuntimeState.ONE_OR_MORE_SESSIONS_CONNECTED,
    )


def warm_when_up(*, timeout: float = SERVER_START_TIMEOUT) -> None:
    """Wait until Streamlit's server runs, then :func:`warm` and log how long it took.

    Waiting first lets the server bind its port and answer health checks
    without competing with the warm-up for the interpreter. A failure is
    logged on one line and leaves the caches to the pages (which then show
    the error to the visitor, as without warm-up).
    """
    deadline = time.monotonic() + timeout
    while not _server_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.perf_counter()
    log("warming up: store, coverage index, area layers, map geometry, page modules")
    try:
        warm(first_page_wait=FIRST_PAGE_WAIT)
    except Exception as exc:  # the thread must never take the server down
        log(f"warm-up failed, pages will build their data on first use: {type(exc).__name__}: {exc}")
        return
    log(f"{WARM_MESSAGE} in {time.perf_counter() - started:.1f} s")


def main(flags: Sequence[str] = (), *, warm_up: bool = True) -> int:
    """Run the app like ``streamlit run asgi.py [FLAGS]``, with the fixes above; return the exit code.

    Parameters
    ----------
    flags
        Options of ``streamlit run``, e.g. ``["--server.port", "8502"]``.
    warm_up
        Fill the caches in a background thread once the server is up.

    Returns
    -------
    int
        0 after the server stopped; Streamlit's code for a bad flag.
    """
    import click
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    # Before the first session exists: its PagesManager then keeps False and the
    # first run goes through app.py's st.navigation, like every later run.
    PagesManager.uses_pages_directory = False
    if warm_up:
        threading.Thread(target=warm_when_up, name="sibai-warm-up", daemon=True).start()
    try:
        # Streamlit's own command, so flags and config files mean what they mean there.
        cli.main.main(["run", str(LAUNCHER), *flags], prog_name="streamlit", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
