"""The app's own HTTP routes beside its screens: sign-in and sign-out set and clear the session cookie.

A Streamlit script cannot set a cookie, so the sign-in form of the pages is a
plain HTML form that posts here. :func:`sign_in` checks the password
(:func:`geo.auth.authenticate`, in a worker thread), opens a session
(:func:`geo.sessions.start`) and answers with a redirect back to the page,
setting the session cookie: signed, ``HttpOnly`` (no script of the page can
read it), ``SameSite=Lax`` and ``Secure`` over HTTPS. The pages read it with
``st.context.cookies`` (``ui/auth.py``). :func:`sign_out` ends the session
named by the cookie and clears it, and Streamlit's single-sign-on cookies too.

Cross-site request forgery: both routes want the ``csrf`` field of the form to
equal the ``sibai_csrf`` cookie (double submit: another site can make a
browser post, but can neither read nor set our cookie), and refuse a request
whose ``Origin`` is another host. :class:`CsrfCookie` gives every browser that
opens a page that cookie, so the page's script can copy it into its forms.

:data:`MOUNTED` tells the pages whether they run under this server (``sibai
serve``); under a plain ``streamlit run app.py`` there is nothing to post to.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo import cookies
from ui import arrivals

SIGN_IN = "/api/session/signin"
SIGN_OUT = "/api/session/signout"
ERROR_PARAM = "signin"
"""The query parameter that carries a refusal back to the page (``bad_credentials`` or ``disabled``)."""

MAX_FORM = 16 * 1024
"""Largest form accepted, in bytes (a name, a password and three short fields)."""

MOUNTED = False
"""Set by :func:`routes`: the app runs under its own server, so the forms have somewhere to post."""

# Paths whose GET is a page (not a file of the page): only these set the CSRF cookie,
# so that the page's many parallel asset requests do not each set another value.
_NOT_PAGES = ("/_stcore/", "/static/", "/component/", "/media/", "/api/", "/auth/", "/oauth2callback")


def _store() -> Any:
    from ui import data

    return data.store()


def _secure(conn: HTTPConnection) -> bool:
    return conn.url.scheme == "https" or conn.headers.get("x-forwarded-proto", "") == "https"


def _set_cookie(response: Response, conn: HTTPConnection, name: str, value: str, *, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=_secure(conn)
    )


class CsrfCookie:
    """ASGI middleware: give a browser that opens a page without a ``sibai_csrf`` cookie a random one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"].startswith(_NOT_PAGES):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        if conn.cookies.get(cookies.CSRF_COOKIE) or "text/html" not in conn.headers.get("accept", ""):
            await self.app(scope, receive, send)
            return
        carrier = Response()
        _set_cookie(carrier, conn, cookies.CSRF_COOKIE, secrets.token_urlsafe(32), max_age=400 * 86400)
        extra = [(k, v) for k, v in carrier.raw_headers if k == b"set-cookie"]

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class FirstVisitor:
    """ASGI middleware: tell the warm-up (``ui.arrivals``) that a browser opened a page or a tab's session,
    and when HTTP requests are in flight."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        tab = scope["type"] == "websocket" and path.endswith("/_stcore/stream")
        page = scope["type"] == "http" and not path.startswith(_NOT_PAGES)
        if tab or (page and "text/html" in HTTPConnection(scope).headers.get("accept", "")):
            arrivals.visitor_came()
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrivals.request_started()  # the warm-up waits until the first page's files are served
        try:
            await self.app(scope, receive, send)
        finally:
            arrivals.request_ended()


async def _form(request: Request) -> dict[str, str] | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            return None
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return None


def _hosts(request: Request) -> set[str]:
    return {h for h in (request.headers.get("host"), request.headers.get("x-forwarded-host")) if h}


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # not sent by every browser on every same-origin post; the token decides
        return True
    return urlsplit(origin).netloc in _hosts(request)


def _back(request: Request, form: dict[str, str]) -> str:
    """Return where to go after the form: its ``next`` field, else the page it was on (``Referer``).

    The page's address is not written into the form, so a link's parameters
    are never echoed into the page's HTML.
    """
    if form.get("next"):
        return safe_next(form["next"])
    parts = urlsplit(request.headers.get("referer", ""))
    if parts.netloc not in _hosts(request):
        return "/"
    return safe_next(urlunsplit(("", "", parts.path, parts.query, "")))


def _csrf_ok(request: Request, form: dict[str, str]) -> bool:
    cookie = request.cookies.get(cookies.CSRF_COOKIE, "")
    sent = form.get("csrf", "")
    return bool(cookie) and secrets.compare_digest(cookie, sent) and _same_origin(request)


def safe_next(value: str | None) -> str:
    """Return a path of this site to go back to (``/`` for anything else: no open redirect).

    Examples
    --------
    >>> safe_next("/grid?grid=G0001"), safe_next("//evil.example/x"), safe_next("https://evil.example")
    ('/grid?grid=G0001', '/', '/')
    """
    text = value or "/"
    parts = urlsplit(text)
    if not text.startswith("/") or text.startswith("//") or "\\" in text or parts.scheme or parts.netloc:
        return "/"
    return text


def with_param(path: str, key: str, value: str | None) -> str:
    """Return ``path`` with query parameter ``key`` set to ``value`` (removed for None).

    Examples
    --------
    >>> with_param("/grid?grid=G1", "signin", "disabled")
    '/grid?grid=G1&signin=disabled'
    >>> with_param("/grid?grid=G1&signin=x", "signin", None)
    '/grid?grid=G1'
    """
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != key]
    if value is not None:
        query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _refused(why: str) -> Response:
    return PlainTextResponse(f"refused: {why}; reload the page and try again", status_code=403)


async def _checked_form(request: Request) -> dict[str, str] | Response:
    form = await _form(request)
    if form is None:
        return _refused("the form is too large or not text")
    if not _csrf_ok(request, form):
        return _refused("the form's security token does not match this browser")
    return form


async def sign_in(request: Request) -> Response:
    """``POST /api/session/signin`` (user, password, csrf, ui_lang): set the session cookie, go back."""
    form = await _checked_form(request)
    if isinstance(form, Response):
        return form
    back = _back(request, form)

    def check() -> tuple[str | None, str]:
        from geo import auth, sessions  # the store's libraries: not before the server answers

        store = _store()
        try:
            user = auth.authenticate(store, form.get("user", ""), form.get("password", ""))
        except auth.AuthError as exc:
            return None, exc.reason
        return sessions.start(store, user, via="password", lang=form.get("ui_lang", "zh")), ""

    value, reason = await run_in_threadpool(check)
    if value is None:
        return RedirectResponse(with_param(back, ERROR_PARAM, reason), status_code=303)
    response = RedirectResponse(with_param(back, ERROR_PARAM, None), status_code=303)
    max_age = _store().settings.session_max_hours * 3600
    _set_cookie(response, request, cookies.COOKIE, value, max_age=max_age)
    return response


async def sign_out(request: Request) -> Response:
    """``POST /api/session/signout`` (csrf, next): end the session, clear its cookie, go back."""
    form = await _checked_form(request)
    if isinstance(form, Response):
        return form
    value = request.cookies.get(cookies.COOKIE)

    def end() -> None:
        from geo import sessions  # the store's libraries: not before the server answers

        sessions.end(_store(), value)

    await run_in_threadpool(end)
    response = RedirectResponse(_back(request, form), status_code=303)
    response.delete_cookie(cookies.COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))
    # Single sign-on: Streamlit's identity cookies (and their chunks) would sign the person in again.
    for name in request.cookies:
        if name.startswith("_streamlit_user"):
            response.delete_cookie(name, path="/")
    return response


def routes() -> list[Route]:
    """Return the routes to mount beside the app (and remember that they are mounted)."""
    global MOUNTED
    MOUNTED = True
    return [Route(SIGN_IN, sign_in, methods=["POST"]), Route(SIGN_OUT, sign_out, methods=["POST"])]


def middleware() -> list[Any]:
    """Return the middleware to run before Streamlit's: the first visitor's signal, the CSRF cookie."""
    from starlette.middleware import Middleware

    return [Middleware(FirstVisitor), Middleware(CsrfCookie)]
