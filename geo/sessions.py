"""Signed-in sessions: the cookie a browser keeps, the row the database keeps, and when they end.

A sign-in makes a random token (256 bits). The browser gets it in a cookie,
signed with a key kept in the database (:func:`cookie_from_token`), so a
value that was not made here is turned away before any lookup; the database
keeps only the token's SHA-256 (:func:`token_hash`), so a copy of the
database signs nobody in. Because the row is in the database, a reload, a
new tab, a restart and another replica all find the same session, and
ending it anywhere (signing out, ``sibai user passwd``, ``sibai user
disable``) ends it everywhere on the next rerun.

A session ends when it has been idle for ``session_idle_minutes`` or began
``session_max_hours`` ago (:func:`geo.auth.session_expired`, checked by
:func:`resume`). It remembers the language the person chose, so every tab
and every replica shows it. Its last activity is written at most once a
minute (:data:`TOUCH_EVERY`): the idle limit is counted in minutes, and a
write on every rerun would cost more than it tells. Never imports streamlit.

Examples
--------
>>> key = "k" * 64
>>> value = cookie_from_token(key, "tok")
>>> token_from_cookie(key, value), token_from_cookie(key, value + "x"), token_from_cookie("other", value)
('tok', None, None)
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from geo import auth
from geo.clock import local_now
from geo.cookies import COOKIE, CSRF_COOKIE
from geo.store import Store, audit
from geo.store import sessions as stored

__all__ = [
    "COOKIE",
    "CSRF_COOKIE",
    "LANGS",
    "Session",
    "cookie_from_token",
    "end",
    "resume",
    "set_lang",
    "start",
    "token_from_cookie",
    "token_hash",
]

LANGS = ("zh", "en")
"""Languages a session can remember (the first is the default)."""

TOUCH_EVERY = dt.timedelta(minutes=1)
"""A session's last activity is written when it is at least this old."""


@dataclass(frozen=True)
class Session:
    """A live session: the account (fresh from the store), how and when it signed in, its language."""

    user: auth.User
    via: str
    lang: str
    signed_in_at: dt.datetime
    last_seen: dt.datetime


def token_hash(token: str) -> str:
    """Return what the database keeps of a token: its SHA-256, hex.

    Examples
    --------
    >>> token_hash("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(token.encode()).hexdigest()


def _mac(key: str, token: str) -> str:
    digest = hmac.new(key.encode(), token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def cookie_from_token(key: str, token: str) -> str:
    """Return the cookie value for ``token``: ``token.signature``."""
    return f"{token}.{_mac(key, token)}"


def token_from_cookie(key: str, value: str | None) -> str | None:
    """Return the token of a cookie value whose signature is right, else None."""
    token, dot, mac = (value or "").rpartition(".")
    if not dot or not token or not hmac.compare_digest(mac, _mac(key, token)):
        return None
    return token


def _now(store: Store, now: dt.datetime | None) -> dt.datetime:
    return (now or local_now(store.settings)).replace(tzinfo=None, microsecond=0)


def _lang(lang: str) -> str:
    return lang if lang in LANGS else LANGS[0]


def start(
    store: Store, user: auth.User, *, via: str, lang: str = "zh", now: dt.datetime | None = None
) -> str:
    """Open a session for ``user`` (after :func:`geo.auth.authenticate` or single sign-on said yes).

    Returns the cookie value. Sessions idle past the limit are removed on the way.
    """
    at = _now(store, now)
    token = secrets.token_urlsafe(32)
    idle = dt.timedelta(minutes=store.settings.session_idle_minutes)
    stored.insert_session(
        store, token_hash=token_hash(token), name=user.name, via=via, lang=_lang(lang), at=at,
        prune_before=at - idle,
    )  # fmt: skip
    return cookie_from_token(stored.session_key(store), token)


def _row(store: Store, value: str | None) -> tuple[str, dict[str, object]] | None:
    token = token_from_cookie(stored.session_key(store), value) if value else None
    if token is None:
        return None
    digest = token_hash(token)
    row = stored.read_session(store, digest)
    return None if row is None else (digest, row)


def _logout(store: Store, name: str, detail: str, at: dt.datetime) -> None:
    user = auth.get_user(store, name)
    role = user.role if user is not None else auth.PUBLIC
    audit.log(store, who=name, role=role, action="logout", target=f"user:{name}", detail=detail, at=at)


def resume(store: Store, value: str | None, *, now: dt.datetime | None = None) -> tuple[Session | None, str]:
    """Return the live session of cookie ``value`` and ``""``, or None and why there is none.

    Why: ``""`` (no cookie, a forged or unknown one, a session ended
    elsewhere), ``"expired"`` (idle or too long: the row is removed and a
    ``logout`` row written) or ``"disabled"`` (the account was disabled or
    removed meanwhile: likewise). A live session is marked active.
    """
    found = _row(store, value)
    if found is None:
        return None, ""
    digest, row = found
    at = _now(store, now)
    name, created, seen = str(row["name"]), row["created_at"], row["last_seen"]
    assert isinstance(created, dt.datetime) and isinstance(seen, dt.datetime)
    if auth.session_expired(signed_in_at=created, last_seen=seen, now=at, settings=store.settings):
        stored.delete_session(store, digest)
        _logout(store, name, "session expired", at)
        return None, "expired"
    user = auth.get_user(store, name)
    if user is None or user.disabled:
        stored.delete_session(store, digest)
        _logout(store, name, "account disabled or removed", at)
        return None, "disabled"
    if at - seen >= TOUCH_EVERY:
        stored.update_session(store, digest, last_seen=at)
        seen = at
    return Session(user, str(row["via"]), _lang(str(row["lang"])), created, seen), ""


def end(store: Store, value: str | None, *, now: dt.datetime | None = None) -> bool:
    """End the session of cookie ``value`` (a ``logout`` row); tell whether there was one."""
    found = _row(store, value)
    if found is None:
        return False
    stored.delete_session(store, found[0])
    _logout(store, str(found[1]["name"]), "signed out", _now(store, now))
    return True


def set_lang(store: Store, value: str | None, lang: str) -> None:
    """Remember ``lang`` for the session of cookie ``value`` (nothing when there is none)."""
    found = _row(store, value)
    if found is not None and found[1]["lang"] != _lang(lang):
        stored.update_session(store, found[0], lang=_lang(lang))
