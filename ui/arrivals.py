"""Whether a visitor is on the way to a first page: the server's warm-up lets them go first.

Set by the app's own server (``ui.routes.FirstVisitor``: a page opened, or a
tab's websocket connected; every HTTP request's start and end) and by
``app.py`` (a signed-in page drawn); read by ``ui.server.warm``. Nothing here
imports more than ``threading`` and ``time``: the server imports it before
anything heavy.
"""

from __future__ import annotations

import threading
import time

QUIET = 0.75
"""Seconds without an HTTP request after the first page is drawn before the warm-up goes on.

Once the page's script has run, the browser still asks the server for the
files of the page's frames (the district map's component: its page, Leaflet
and our map code); those answers run in the same interpreter as the warm-up.
"""

_CAME = threading.Event()
_SERVED = threading.Event()
_LOCK = threading.Lock()
_in_flight = 0
_last = 0.0  # time.monotonic() of the last request's start or end, or of the first page drawn


def visitor_came() -> None:
    """Note that a browser opened a page or connected a tab's session."""
    _CAME.set()


def page_drawn() -> None:
    """Note that a signed-in page has been drawn."""
    global _last
    if not _SERVED.is_set():
        with _LOCK:
            _last = max(_last, time.monotonic())
        _SERVED.set()


def request_started() -> None:
    """Note an HTTP request coming in (``ui.routes.FirstVisitor``)."""
    global _in_flight, _last
    with _LOCK:
        _in_flight += 1
        _last = time.monotonic()


def request_ended() -> None:
    """Note an HTTP request answered (or failed)."""
    global _in_flight, _last
    with _LOCK:
        _in_flight -= 1
        _last = time.monotonic()


def _quiet_for() -> float:
    """Seconds since the server last had an HTTP request in flight (0 while one is)."""
    with _LOCK:
        return 0.0 if _in_flight > 0 else time.monotonic() - _last


def wait_for_first_page(timeout: float, *, quiet: float = QUIET) -> bool:
    """Wait while a visitor is on the way to their first signed-in page, at most ``timeout`` seconds.

    Waits until the first signed-in page has been drawn, then until the
    server has had no HTTP request for ``quiet`` seconds (the browser fetching
    the page's frames: the district map's files). Returns at once when
    ``timeout`` is 0 or no visitor has come yet; True if it waited. The
    warm-up (``ui.server.warm``) holds back its work for the other screens
    with it: in one interpreter that work would take the first map's time
    (the GIL).
    """
    if timeout <= 0 or not _CAME.is_set():
        return False
    deadline = time.monotonic() + timeout
    waited = not _SERVED.is_set()
    _SERVED.wait(timeout)
    while (idle := _quiet_for()) < quiet and time.monotonic() < deadline:
        waited = True
        time.sleep(min(max(quiet - idle, 0.01), 0.1))
    return waited
