"""The sign-in and sign-out routes of the app's own server (ui/routes.py), called as ASGI, no browser."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from urllib.parse import urlencode

import pytest
from starlette.applications import Starlette

from geo import auth as core
from geo import cookies as cookie_names
from geo import sessions
from geo.demo import install_demo
from geo.store import Store, audit, open_store
from ui import routes

HOST = "127.0.0.1:8501"
CSRF = "browser-csrf-value"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    path = str(tmp_path / "r.gpkg")
    with open_store(path, create=True) as s:
        install_demo(s, scale="tiny", seed=7, as_of=dt.date(2026, 11, 26))
        core.create_demo_accounts(s)
    opened = open_store(path)
    monkeypatch.setattr(routes, "_store", lambda: opened)
    return opened


def call(path: str, form: dict[str, str], *, cookies: dict[str, str] | None = None, **headers: str) -> tuple:
    """POST a form to the routes; return (status, headers as a list of (name, value))."""
    app = Starlette(routes=routes.routes(), middleware=routes.middleware())
    body = urlencode(form).encode()
    jar = {cookie_names.CSRF_COOKIE: CSRF, **(cookies or {})}
    raw = [
        (b"host", HOST.encode()),
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"cookie", "; ".join(f"{k}={v}" for k, v in jar.items() if v).encode()),
        (b"referer", f"http://{HOST}/grid?grid=G0001".encode()),
        *((k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()),
    ]
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": raw, "scheme": "http", "server": ("127.0.0.1", 8501), "client": ("127.0.0.1", 1),
             "http_version": "1.1", "root_path": ""}  # fmt: skip
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    return start["status"], [(k.decode(), v.decode()) for k, v in start["headers"]]


def _cookie(headers: list, name: str) -> str | None:
    for key, value in headers:
        if key == "set-cookie" and value.startswith(f"{name}="):
            return value
    return None


def sign_in(password: str = core.DEMO_PASSWORD, **kw: object) -> tuple:
    form = {"user": "demo-grid", "password": password, "csrf": CSRF, "ui_lang": "en"}
    return call(routes.SIGN_IN, {**form, **kw.pop("form", {})}, **kw)  # type: ignore[arg-type]


def test_sign_in_sets_a_signed_httponly_lax_cookie_and_goes_back(store: Store) -> None:
    status, headers = sign_in(origin=f"http://{HOST}")
    assert status == 303 and dict(headers)["location"] == "/grid?grid=G0001"
    cookie = _cookie(headers, sessions.COOKIE)
    assert cookie is not None and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    session, _ = sessions.resume(store, value)
    assert session is not None and (session.user.name, session.lang, session.via) == (
        "demo-grid",
        "en",
        "password",
    )


@pytest.mark.parametrize(
    ("cookies", "form", "headers"),
    [
        ({cookie_names.CSRF_COOKIE: ""}, {}, {}),  # no CSRF cookie
        ({}, {"csrf": ""}, {}),  # no CSRF field
        ({}, {"csrf": "another value"}, {}),  # a field that is not this browser's
        ({}, {}, {"origin": "https://evil.example"}),  # the right pair, posted from another site
    ],
)
def test_a_post_without_this_browsers_csrf_token_is_refused(
    store: Store, cookies: dict[str, str], form: dict[str, str], headers: dict[str, str]
) -> None:
    status, sent = sign_in(cookies=cookies, form=form, **headers)
    assert status == 403 and _cookie(sent, sessions.COOKIE) is None
    assert audit.read(store, action="login").empty and audit.read(store, action="login_failed").empty
    status, _ = call(routes.SIGN_OUT, {"csrf": form.get("csrf", CSRF)}, cookies=cookies, **headers)
    assert status == 403


def test_refusals_come_back_as_one_answer(store: Store) -> None:
    _status, headers = sign_in("wrong password")
    assert dict(headers)["location"] == "/grid?grid=G0001&signin=bad_credentials"
    # Locked: even the right password gets exactly what an unknown name gets.
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE users SET locked_until = '2099-01-01 00:00:00' WHERE name = 'demo-grid'")
    locked = sign_in()
    unknown = sign_in(form={"user": "nobody"})
    assert locked == unknown
    assert dict(locked[1])["location"] == "/grid?grid=G0001&signin=bad_credentials"
    assert _cookie(locked[1], sessions.COOKIE) is None


def test_sign_out_ends_the_session_and_clears_the_cookie(store: Store) -> None:
    _, headers = sign_in()
    value = (_cookie(headers, sessions.COOKIE) or "").split(";")[0].split("=", 1)[1]
    status, out = call(
        routes.SIGN_OUT, {"csrf": CSRF, "next": "//evil.example/"}, cookies={sessions.COOKIE: value}
    )
    assert status == 303 and dict(out)["location"] == "/"  # no redirect off the site
    cleared = _cookie(out, sessions.COOKIE)
    assert cleared is not None and "Max-Age=0" in cleared
    assert sessions.resume(store, value) == (None, "")
    assert audit.read(store, action="logout")["detail"].tolist() == ["signed out"]
