"""Whether a visitor is on the way to a first page: the server's warm-up lets them go first.

Set by the app's own server (``ui.routes.FirstVisitor``: a page opened, or a
tab's websocket connected) and by ``app.py`` (a signed-in page drawn); read by
``ui.server.warm``. Nothing here imports more than ``threading``: the server
imports it before anything heavy.
"""

from __future__ import annotations

import threading

_CAME = threading.Event()
_SERVED = threading.Event()


def visitor_came() -> None:
    """Note that a browser opened a page or connected a tab's session."""
    _CAME.set()


def page_drawn() -> None:
    """Note that a signed-in page has been drawn."""
    _SERVED.set()


def wait_for_first_page(timeout: float) -> bool:
    """Wait while a visitor is on the way to their first signed-in page, at most ``timeout`` seconds.

    Returns at once when ``timeout`` is 0, no visitor has come yet, or the
    first signed-in page has been drawn; True if it waited. The warm-up
    (``ui.server.warm``) holds back its work for the other screens with it:
    in one interpreter that work would take the first map's time (the GIL).
    """
    if timeout <= 0 or not _CAME.is_set() or _SERVED.is_set():
        return False
    _SERVED.wait(timeout)
    return True
