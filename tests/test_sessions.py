"""Signed-in sessions in the store: signed cookies, hashed tokens, expiry, revocation, language."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from test_auth import PW, hasher, tiny  # noqa: F401 - fixtures (a cheap argon2; the tiny district)

from geo import auth, sessions
from geo.settings import Settings
from geo.store import Store, audit
from geo.store import sessions as stored

T = dt.datetime(2024, 6, 28, 9, 0)
MIN = dt.timedelta(minutes=1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path, tiny: dict[str, pd.DataFrame]) -> Iterator[Store]:  # noqa: F811
    db = str(tmp_path / "s.gpkg") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    s = Store(db, create=True, settings=Settings())
    s.replace_all(tiny)
    auth.add_user(s, "wang", role="grid", areas=["G0001"], password=PW, now=T)
    yield s
    s.close()


def _start(store: Store, at: dt.datetime = T, lang: str = "zh") -> str:
    user = auth.authenticate(store, "wang", PW, now=at)
    return sessions.start(store, user, via="password", lang=lang, now=at)


def test_a_session_is_found_by_its_signed_cookie_and_keeps_only_a_hash(store: Store) -> None:
    cookie = _start(store, lang="en")
    session, why = sessions.resume(store, cookie, now=T + MIN)
    assert why == ""
    assert session == sessions.Session(auth.User("wang", "grid", ("G0001",)), "password", "en", T, T + MIN)
    token = cookie.rpartition(".")[0]
    with store.engine.connect() as conn:
        (stored_hash,) = conn.exec_driver_sql("SELECT token_hash FROM sessions").one()
    assert stored_hash == sessions.token_hash(token) and token not in stored_hash
    # Another store object on the same database (another replica, or after a restart) agrees.
    stored._KEYS.clear()
    with Store(store.engine.url.render_as_string(hide_password=False), settings=Settings()) as other:
        assert sessions.resume(other, cookie, now=T + 2 * MIN)[0] is not None


def test_forged_tampered_and_unknown_cookies_find_nothing(store: Store) -> None:
    cookie = _start(store)
    token, _, mac = cookie.rpartition(".")
    forged = [
        None,
        "",
        token,  # no signature
        f"{token}.{'A' * len(mac)}",  # a wrong one
        f"{token[:-1]}x.{mac}",  # another token under this signature
        sessions.cookie_from_token("not the key", token),
        sessions.cookie_from_token(stored.session_key(store), "a token never issued"),
    ]
    assert [sessions.resume(store, value, now=T) for value in forged] == [(None, "")] * len(forged)
    assert sessions.resume(store, cookie, now=T)[0] is not None


@pytest.mark.parametrize(
    ("idle", "age", "expired"),
    [(29, 29, False), (31, 31, True), (1, 9 * 60 + 59, False), (1, 10 * 60 + 1, True)],
)
def test_sessions_end_when_idle_or_too_old(store: Store, idle: int, age: int, expired: bool) -> None:
    start = T - age * MIN
    cookie = _start(store, at=start)
    # Active (one rerun a minute) until `idle` minutes ago.
    for k in range(0, age - idle + 1, 30):
        assert sessions.resume(store, cookie, now=start + k * MIN)[0] is not None
    assert sessions.resume(store, cookie, now=T - idle * MIN)[0] is not None
    session, why = sessions.resume(store, cookie, now=T)
    assert (session is None, why) == ((True, "expired") if expired else (False, ""))
    if expired:  # the row is gone: a second look finds nothing, and the trail says why once
        assert sessions.resume(store, cookie, now=T) == (None, "")
        log = audit.read(store, action="logout")
        assert log[["who", "detail"]].values.tolist() == [["wang", "session expired"]]


def test_activity_is_written_at_most_once_a_minute(store: Store) -> None:
    cookie = _start(store)
    seen = [sessions.resume(store, cookie, now=T + s * dt.timedelta(seconds=1))[0] for s in (20, 59, 60, 90)]
    assert [s.last_seen for s in seen if s is not None] == [T, T, T + MIN, T + MIN]


def test_sign_out_ends_the_session_everywhere(store: Store) -> None:
    one, two = _start(store), _start(store)
    assert sessions.end(store, one, now=T + MIN)
    assert not sessions.end(store, one, now=T + MIN)  # already ended
    assert sessions.resume(store, one, now=T + MIN) == (None, "")
    assert sessions.resume(store, two, now=T + MIN)[0] is not None  # another browser stays
    log = audit.read(store, action="logout")
    assert log[["who", "role", "detail"]].values.tolist() == [["wang", "grid", "signed out"]]


@pytest.mark.parametrize("change", ["passwd", "disable"])
def test_a_new_password_or_disabling_ends_every_session_of_the_account(store: Store, change: str) -> None:
    auth.add_user(store, "li", role="grid", areas=["G0001"], password=PW, now=T)
    mine = [_start(store), _start(store)]
    theirs = sessions.start(store, auth.authenticate(store, "li", PW, now=T), via="password", now=T)
    if change == "passwd":
        auth.set_password(store, "wang", "a fresh password", now=T)
    else:
        auth.disable_user(store, "wang", now=T)
    assert [sessions.resume(store, c, now=T + MIN) for c in mine] == [(None, "")] * 2
    assert sessions.resume(store, theirs, now=T + MIN)[0] is not None


def test_a_session_remembers_its_language(store: Store) -> None:
    cookie = _start(store)
    assert sessions.resume(store, cookie, now=T)[0].lang == "zh"  # type: ignore[union-attr]
    sessions.set_lang(store, cookie, "en")
    assert sessions.resume(store, cookie, now=T)[0].lang == "en"  # type: ignore[union-attr]
    sessions.set_lang(store, cookie, "fr")  # unknown: the default
    assert sessions.resume(store, cookie, now=T)[0].lang == "zh"  # type: ignore[union-attr]


def test_old_idle_sessions_are_pruned_when_new_ones_start(store: Store) -> None:
    _start(store, at=T - 40 * MIN)
    _start(store, at=T - 10 * MIN)
    _start(store, at=T)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sessions").scalar() == 2


def test_the_signing_key_is_made_once_and_shared(store: Store, tmp_path: Path) -> None:
    key = stored.session_key(store)
    assert len(key) == 64
    assert store.meta()["session_key"] == key
    stored._KEYS.clear()
    assert stored.session_key(store) == key


def test_the_sessions_table_is_private_to_the_app_not_a_geopackage_table(
    tmp_path: Path,
    tiny: dict[str, pd.DataFrame],  # noqa: F811
) -> None:
    with Store(str(tmp_path / "g.gpkg"), create=True, settings=Settings()) as s:
        s.replace_all(tiny)
        stored.ensure_sessions(s)
    with sqlite3.connect(tmp_path / "g.gpkg") as conn:
        kind = conn.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'sessions'").fetchone()
        columns = conn.execute("PRAGMA table_info(sessions)").fetchall()
    assert kind is None  # not listed: GIS tools that open the file do not see it
    assert (columns[0][1], columns[0][2].upper(), columns[0][5]) == ("session_id", "INTEGER", 1)
