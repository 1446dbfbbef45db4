"""Accounts, roles and sign-in: who may see which areas (the core; never imports streamlit).

Roles and scopes
----------------
A user holds one role for one or more areas of that role's level:

==========  ===============================================  ====================
role        sees                                             ``areas``
==========  ===============================================  ====================
district    the whole district                               none
street      the households, visits, issues and workers of    street ids
            its street(s)
committee   … of its committee(s)                            committee ids
grid        … of its grid(s) (a grid leader, 网格长)          grid ids
==========  ===============================================  ====================

Everyone else is the *public*: no sign-in, the public page only. The store
enforces scope where data is read (:class:`geo.store.Scope`, from
:func:`scope_of`), not only the menus.

Sign-in
-------
Local accounts carry a salted argon2id hash (argon2-cffi). :func:`authenticate`
checks a name and password and raises :class:`AuthError`. Its ``reason`` is
what the person may be told, and it never tells whether a name exists:

* ``bad_credentials`` — an unknown user, a wrong password, *or* an account
  that is throttled or locked: one answer, in the same time (every refusal
  costs one argon2 verification, against a dummy hash when there is no real
  one to check), so five wrong passwords do not turn a real name into one
  that answers differently from an unknown name;
* ``disabled`` — the right password of a disabled account (a wrong one stays
  ``bad_credentials``, so the reason reveals nothing without the password).

``cause`` says what really happened, for the audit trail and the tests:
``unknown user``, ``wrong password``, ``malformed user name``, ``throttled``
(the previous attempt failed and its wait — 0, 1, 2, 4 … seconds after the
1st, 2nd, 3rd, 4th … consecutive failure — has not passed), ``locked``
(``login_max_failures`` consecutive failures lock the account for
``login_lock_minutes``) or ``disabled``.

Attempts on one account are taken one at a time in a process, and an attempt
counts as a failure only once its password was found wrong, so concurrent
right passwords all sign in while parallel guesses queue behind the failures
before them. At most :data:`VERIFY_SLOTS` argon2 computations (64 MiB each)
run at once in a process, however many people sign in together.

A success resets the counter. Every attempt is written to the audit trail
(``login``, ``login_failed``, ``login_locked``). Every time is injectable
(``now``), so tests need no sleep.

Examples
--------
>>> scope_of("grid", ["G0001", "G0002"]).grids == frozenset({"G0001", "G0002"})
True
>>> scope_of("district", []).is_everything
True
>>> scope_of("public", ["G0001"]) == Scope()
True
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from geo import words
from geo.clock import local_now
from geo.settings import Settings
from geo.store import Scope, Store, audit
from geo.store import accounts as acc
from geo.store import sessions as stored_sessions

__all__ = [
    "DEMO_PASSWORD",
    "PUBLIC",
    "ROLES",
    "AuthError",
    "User",
    "add_user",
    "authenticate",
    "create_demo_accounts",
    "disable_user",
    "enabled_demo_accounts",
    "get_user",
    "hash_password",
    "list_users",
    "retry_delay",
    "scope_of",
    "session_expired",
    "set_password",
    "user_for_identity",
    "verify_password",
]

ROLES = ("district", "street", "committee", "grid")
"""The signed-in roles, widest first."""

PUBLIC = "public"
"""The role of everyone not signed in: the public page only."""

REASONS = ("bad_credentials", "disabled")
"""The values of :attr:`AuthError.reason`: what a refused person may be told."""

CAUSES = ("unknown user", "wrong password", "malformed user name", "throttled", "locked", "disabled")
"""The values of :attr:`AuthError.cause`: why, for the audit trail (never shown to the person)."""

VERIFY_SLOTS = 4
"""Argon2 computations that may run at once in a process (64 MiB each: 256 MiB at most)."""

MIN_PASSWORD = 8
"""Shortest password accepted, in characters."""

MAX_PASSWORD = 1024
"""Longest password accepted (hashing a megabyte on every attempt would be a cheap denial of service)."""

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
"""User names: 2-32 of lower-case letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit."""

EMAIL_PATTERN = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")

DEMO_PASSWORD = "sibai-demo"  # noqa: S105 - documented demo password, demo accounts only
"""The password of every demo account (``sibai demo``; demo only, never in a real deployment)."""

MAX_DELAY = dt.timedelta(minutes=5)
"""Cap of the wait between failed attempts (reached only with a large ``login_max_failures``)."""

_MESSAGES = {
    "bad_credentials": "wrong user name or password",
    "disabled": "this account is disabled",
}


class AuthError(Exception):
    """A refused sign-in; ``reason`` (one of :data:`REASONS`) is what the UI may say, ``cause`` why.

    ``retry_after`` is how long a throttled or locked account still refuses
    (for the audit trail and the command line; the sign-in form never shows
    it, since only a real account can be throttled).

    Examples
    --------
    >>> e = AuthError("bad_credentials", cause="locked", retry_after=dt.timedelta(minutes=15))
    >>> e.reason, e.cause, str(e), e.retry_after.seconds
    ('bad_credentials', 'locked', 'wrong user name or password', 900)
    """

    def __init__(self, reason: str, *, cause: str, retry_after: dt.timedelta | None = None) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown sign-in refusal {reason!r}")
        if cause not in CAUSES:
            raise ValueError(f"unknown sign-in refusal cause {cause!r}")
        super().__init__(_MESSAGES[reason])
        self.reason = reason
        self.cause = cause
        self.retry_after = retry_after


@dataclass(frozen=True)
class User:
    """A signed-in user: a name, a role and the areas the role holds.

    Examples
    --------
    >>> User("wang", "committee", ("C001",)).scope.committees
    frozenset({'C001'})
    """

    name: str
    role: str
    areas: tuple[str, ...]
    disabled: bool = False
    sso: str | None = None

    @property
    def scope(self) -> Scope:
        """Return what this user may see (see :func:`scope_of`)."""
        return scope_of(self.role, self.areas)


def scope_of(role: str, areas: Sequence[str]) -> Scope:
    """Return the scope of ``role`` over ``areas``; an unknown role (the public) sees nothing.

    Examples
    --------
    >>> scope_of("street", ["S01"]) == Scope.of(streets=["S01"])
    True
    >>> scope_of("committee", ["C001", "C002"]).committees == frozenset({"C001", "C002"})
    True
    >>> scope_of("admin", ["S01"]).is_everything
    False
    """
    if role == "district":
        return Scope.everything()
    if role == "street":
        return Scope.of(streets=tuple(areas))
    if role == "committee":
        return Scope.of(committees=tuple(areas))
    if role == "grid":
        return Scope.of(grids=tuple(areas))
    return Scope()


# ---------------------------------------------------------------- hashing


@functools.cache
def _hasher() -> PasswordHasher:
    # argon2-cffi's defaults: argon2id, RFC 9106 low-memory profile, 16-byte random salt.
    return PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    return _hasher().hash("not a password anyone has: a stand-in for unknown users")


_VERIFYING = threading.BoundedSemaphore(VERIFY_SLOTS)


@contextlib.contextmanager
def _slot() -> Iterator[None]:
    # Each argon2 computation takes 64 MiB: a crowd signing in at 8:30 queues here
    # instead of taking the server's memory.
    with _VERIFYING:
        yield


def hash_password(password: str) -> str:
    """Return a salted argon2id hash of ``password`` (a different one on every call).

    Examples
    --------
    >>> h = hash_password("correct horse")
    >>> h.startswith("$argon2id$"), h != hash_password("correct horse")
    (True, True)
    >>> verify_password(h, "correct horse"), verify_password(h, "wrong horse")
    (True, False)
    """
    with _slot():
        return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Tell whether ``password`` matches ``password_hash`` (None or a damaged hash match nothing).

    None is checked against a dummy hash, so that it costs the same time.
    """
    try:
        with _slot():
            checked = bool(_hasher().verify(password_hash or _dummy_hash(), password))
        return checked and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# --------------------------------------------------------------- accounts


def _clean_name(name: str) -> str:
    text = str(name).strip().lower()
    if not NAME_PATTERN.match(text):
        raise ValueError(
            f"user name {name!r} is not allowed: use 2-32 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return text


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"the password is too long: use at most {MAX_PASSWORD} characters")
    if password != password.strip() or "\n" in password:
        raise ValueError("the password must not start or end with spaces or hold a line break")


def _clean_areas(store: Store, role: str, areas: Sequence[str]) -> tuple[str, ...]:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    ids = tuple(dict.fromkeys(str(a).strip() for a in areas if str(a).strip()))
    if role == "district":
        if ids:
            raise ValueError("the district role sees everything and takes no --area")
        return ()
    if not ids:
        raise ValueError(f"the {role} role needs at least one --area (a {role} id)")
    bad = [a for a in ids if "," in a]
    if bad:
        raise ValueError(f"area id {bad[0]!r} holds a comma; give each area with its own --area")
    if not store.has_schema():
        raise ValueError("the database holds no district yet, so no area can be checked; build one first")
    known = acc.existing_areas(store, role, ids)
    unknown = [a for a in ids if a not in known]
    if unknown:
        raise ValueError(f"no {role} with id {', '.join(map(repr, unknown))} in the database")
    return ids


def _clean_sso(sso: str | None) -> str | None:
    if sso is None or not sso.strip():
        return None
    text = sso.strip().lower()
    if not EMAIL_PATTERN.match(text):
        raise ValueError(f"--sso {sso!r} is not an e-mail address")
    return text


def _now(store: Store, now: dt.datetime | None) -> dt.datetime:
    return (now or local_now(store.settings)).replace(tzinfo=None, microsecond=0)


def _actor(by: str) -> dict[str, str]:
    return {"who": by, "role": "cli" if by == "cli" or by.startswith("cli:") or by == "demo" else "district"}


def add_user(
    store: Store,
    name: str,
    *,
    role: str,
    areas: Sequence[str] = (),
    password: str | None,
    sso: str | None = None,
    by: str = "cli",
    now: dt.datetime | None = None,
) -> User:
    """Add user ``name`` with ``role`` over ``areas`` and return it.

    Parameters
    ----------
    store
        The database (it must hold the district, to check the areas).
    name
        2-32 lower-case letters, digits, ``.``, ``_``, ``-`` (upper case is folded).
    role
        One of :data:`ROLES`.
    areas
        Ids of that role's level (``streets``, ``committees`` or ``grids``):
        none for ``district``, at least one otherwise.
    password
        At least :data:`MIN_PASSWORD` characters; None only with ``sso`` (a
        single-sign-on-only user, who cannot sign in with a password).
    sso
        The e-mail of the user's single-sign-on identity.
    by
        Who adds it, for the audit trail.

    Raises
    ------
    ValueError
        A bad name, role, area, password or e-mail, or the name is taken (one line naming it).
    """
    clean = _clean_name(name)
    ids = _clean_areas(store, role, areas)
    mail = _clean_sso(sso)
    if password is None and mail is None:
        raise ValueError("a user needs a password (or --sso for single sign-on only)")
    if password is not None:
        _check_password(password)
    if acc.read_user(store, clean) is not None:
        raise ValueError(f"user {clean!r} already exists (use `sibai user passwd`, or pick another name)")
    when = _now(store, now)
    detail = f"role={role} areas={','.join(ids)}" + (f" sso={mail}" if mail else "")
    acc.write_user(
        store,
        clean,
        _full_row(role, ids, None if password is None else hash_password(password), mail, when),
        insert=True,
        audit_row={
            **_actor(by),
            "action": "user_add",
            "target": f"user:{clean}",
            "detail": detail,
            "at": when,
        },
    )
    return User(clean, role, ids, False, mail)


def _full_row(
    role: str, ids: tuple[str, ...], password_hash: str | None, sso: str | None, when: dt.datetime
) -> dict[str, Any]:
    return {
        "role": role,
        "areas": ",".join(ids),
        "password_hash": password_hash,
        "disabled": 0,
        "sso": sso,
        "failures": 0,
        "locked_until": None,
        "next_try_at": None,
        "created_at": when,
        "last_login": None,
    }


def set_password(
    store: Store, name: str, password: str, *, by: str = "cli", now: dt.datetime | None = None
) -> None:
    """Set user ``name``'s password, clear any lockout and end all its sessions (``LookupError`` if unknown).

    Whoever held the old password may have signed in with it: every session
    of the account ends (on every replica), so the new password is the only
    way back in.
    """
    clean = _clean_name(name)
    _check_password(password)
    when = _now(store, now)
    acc.write_user(
        store,
        clean,
        {"password_hash": hash_password(password), "failures": 0, "locked_until": None, "next_try_at": None},
        audit_row={**_actor(by), "action": "user_passwd", "target": f"user:{clean}", "at": when},
    )
    stored_sessions.delete_sessions_of(store, clean)


def disable_user(store: Store, name: str, *, by: str = "cli", now: dt.datetime | None = None) -> None:
    """Disable user ``name``: no sign-in from now on, and its sessions end (``LookupError`` if unknown)."""
    clean = _clean_name(name)
    when = _now(store, now)
    acc.write_user(
        store,
        clean,
        {"disabled": 1},
        audit_row={**_actor(by), "action": "user_disable", "target": f"user:{clean}", "at": when},
    )
    stored_sessions.delete_sessions_of(store, clean)


def list_users(store: Store) -> pd.DataFrame:
    """Return every user: ``name, role, areas`` (comma-joined), ``disabled, sso, created_at, last_login``.

    Never the password hash.
    """
    columns = ["name", "role", "areas", "disabled", "sso", "created_at", "last_login"]
    return acc.read_users(store)[columns].reset_index(drop=True)


def _user(row: dict[str, Any]) -> User:
    areas = tuple(a for a in str(row["areas"] or "").split(",") if a)
    return User(str(row["name"]), str(row["role"]), areas, bool(row["disabled"]), row["sso"] or None)


def get_user(store: Store, name: str) -> User | None:
    """Return user ``name`` (disabled or not), or None."""
    try:
        clean = _clean_name(name)
    except ValueError:
        return None
    row = acc.read_user(store, clean)
    return None if row is None else _user(row)


def user_for_identity(store: Store, identity: str) -> User | None:
    """Return the enabled user whose ``sso`` is ``identity`` (an e-mail, any case), or None (for SSO)."""
    if not identity or not identity.strip():
        return None
    row = acc.find_sso(store, identity)
    return None if row is None else _user(row)


# ---------------------------------------------------------------- sign-in


def retry_delay(failures: int) -> dt.timedelta:
    """Return how long to wait after ``failures`` consecutive failures: 0, 1, 2, 4 … seconds (capped).

    Examples
    --------
    >>> [retry_delay(n).seconds for n in range(6)]
    [0, 0, 1, 2, 4, 8]
    """
    if failures <= 1:
        return dt.timedelta(0)
    return min(dt.timedelta(seconds=2 ** min(failures - 2, 20)), MAX_DELAY)


def _refusal(row: dict[str, Any], now: dt.datetime) -> tuple[str, dt.timedelta] | None:
    locked = row["locked_until"]
    if locked is not None and locked > now:
        return "locked", locked - now
    wait = row["next_try_at"]
    if wait is not None and wait > now:
        return "throttled", wait - now
    return None


def authenticate(store: Store, name: str, password: str, *, now: dt.datetime | None = None) -> User:
    """Check ``name`` and ``password``; return the user or raise :class:`AuthError` (see the module doc).

    Writes ``login`` / ``login_failed`` (``detail`` says why) and
    ``login_locked`` audit rows.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geo.store import open_store
    >>> store = open_store(str(pathlib.Path(tempfile.mkdtemp()) / "u.gpkg"), create=True)
    >>> store.create_schema()
    >>> _ = add_user(store, "chief", role="district", password="long enough")
    >>> t = dt.datetime(2024, 6, 28, 9, 0)
    >>> authenticate(store, "chief", "long enough", now=t).role
    'district'
    >>> try:
    ...     authenticate(store, "chief", "wrong guess", now=t)
    ... except AuthError as e:
    ...     print(e.reason)
    bad_credentials
    >>> store.close()
    """
    settings = store.settings
    when = _now(store, now)
    typed = str(name).strip().lower()[:64]
    key = typed if NAME_PATTERN.match(typed) else ""
    target = f"user:{typed}"
    password = password[:MAX_PASSWORD]

    def failed(detail: str) -> dict[str, Any]:
        return {"who": typed or "?", "role": PUBLIC, "action": "login_failed", "target": target,
                "detail": detail, "at": when}  # fmt: skip

    if not key:
        verify_password(None, password)  # the same time as any other refusal
        audit.log(store, **failed("malformed user name"))
        raise AuthError("bad_credentials", cause="malformed user name")

    # One attempt per account at a time in this process: each sees the failures
    # recorded before it, so parallel guesses queue behind them (and are
    # throttled), while an attempt still running never counts against another.
    with _account_lock(key):
        row = acc.read_user(store, key)
        refused = None if row is None else _refusal(row, when)
        # Exactly one verification on every path: a throttled, locked or unknown
        # account costs the same time as a wrong password, and says the same.
        ok = verify_password(None if row is None or refused else row["password_hash"], password)

        def after(current: dict[str, Any] | None) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:
            if current is None:
                return {}, [failed("unknown user")], ("unknown user", None)
            # Locked or throttled meanwhile (by another replica): refused like any failure.
            late = refused or _refusal(current, when)
            if late is not None:
                return {}, [failed(late[0])], late
            if ok and current["disabled"]:
                return {}, [failed("disabled")], ("disabled", None)
            if ok:
                values: dict[str, Any] = {"failures": 0, "next_try_at": None, "locked_until": None}
                values["last_login"] = when
                if _hasher().check_needs_rehash(current["password_hash"]):
                    values["password_hash"] = hash_password(password)
                login = {"who": current["name"], "role": current["role"], "action": "login",
                         "target": target, "detail": "password", "at": when}  # fmt: skip
                return values, [login], None
            # A lock that has run out starts the count afresh.
            failures = (0 if current["locked_until"] is not None else current["failures"]) + 1
            if failures >= settings.login_max_failures:
                until = when + dt.timedelta(minutes=settings.login_lock_minutes)
                why = f"{failures} failures; locked until {until:%Y-%m-%d %H:%M:%S}"
                locked = {"who": current["name"], "role": current["role"], "action": "login_locked",
                          "target": target, "detail": why, "at": when}  # fmt: skip
                return (
                    {"failures": 0, "next_try_at": None, "locked_until": until},
                    [failed("wrong password"), locked],
                    ("wrong password", until - when),
                )
            wait = retry_delay(failures)
            return (
                {"failures": failures, "locked_until": None, "next_try_at": when + wait if wait else None},
                [failed("wrong password")],
                ("wrong password", wait or None),
            )

        outcome = acc.record_attempt(store, key, after)
    if outcome is not None:
        cause, wait = outcome
        reason = "disabled" if cause == "disabled" else "bad_credentials"
        raise AuthError(reason, cause=cause, retry_after=wait)
    assert row is not None
    return _user(row)


_ACCOUNT_LOCKS = tuple(threading.Lock() for _ in range(64))


def _account_lock(name: str) -> threading.Lock:
    # A fixed set of locks, picked by name: names typed by strangers cost no memory.
    return _ACCOUNT_LOCKS[zlib.crc32(name.encode()) % len(_ACCOUNT_LOCKS)]


def session_expired(
    *,
    signed_in_at: dt.datetime,
    last_seen: dt.datetime,
    now: dt.datetime,
    settings: Settings | None = None,
) -> bool:
    """Tell whether a session has ended: idle too long or open too long (settings ``session_*``).

    Examples
    --------
    >>> t = dt.datetime(2024, 6, 28, 8, 0)
    >>> session_expired(signed_in_at=t, last_seen=t, now=t + dt.timedelta(minutes=29))
    False
    >>> session_expired(signed_in_at=t, last_seen=t, now=t + dt.timedelta(minutes=31))
    True
    >>> h = dt.timedelta(hours=1)
    >>> session_expired(signed_in_at=t, last_seen=t + 10 * h, now=t + 10 * h + dt.timedelta(minutes=1))
    True
    """
    s = settings or Settings.from_env()
    if now - last_seen > dt.timedelta(minutes=s.session_idle_minutes):
        return True
    return now - signed_in_at > dt.timedelta(hours=s.session_max_hours)


# ------------------------------------------------------------------- demo


def demo_areas(store: Store) -> dict[str, tuple[str, ...]]:
    """Pick the demo accounts' areas: the first street, its first committee, that committee's first grid."""
    street = store.scalar("SELECT min(street_id) FROM streets")
    if street is None:
        raise ValueError("the database holds no streets; build the district first (`sibai demo`)")
    committee = store.scalar("SELECT min(committee_id) FROM committees WHERE street_id = :s", {"s": street})
    grid = store.scalar("SELECT min(grid_id) FROM grids WHERE committee_id = :c", {"c": committee})
    if committee is None or grid is None:
        raise ValueError(f"street {street} has no committee with a grid; cannot pick demo areas")
    return {"district": (), "street": (str(street),), "committee": (str(committee),), "grid": (str(grid),)}


def enabled_demo_accounts(store: Store) -> list[str]:
    """Return the demo accounts (``demo-<role>``, password :data:`DEMO_PASSWORD`) that are enabled."""
    names = [f"demo-{role}" for role in ROLES]
    return [u.name for u in (get_user(store, n) for n in names) if u is not None and not u.disabled]


def create_demo_accounts(store: Store) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """Create (or reset) one demo account per role; return ``(name, role, password, areas)`` for each.

    Names ``demo-district``, ``demo-street``, ``demo-committee``,
    ``demo-grid``; password :data:`DEMO_PASSWORD`; areas from
    :func:`demo_areas`. Running it again resets them (password, areas,
    lockout, enabled). Demo only.
    """
    areas = demo_areas(store)
    when = local_now(store.settings)
    out = []
    for role in ROLES:
        name = f"demo-{role}"
        ids = _clean_areas(store, role, areas[role])
        acc.write_user(
            store,
            name,
            _full_row(role, ids, hash_password(DEMO_PASSWORD), None, when),
            insert=True,
            audit_row={**_actor("demo"), "action": "user_add", "target": f"user:{name}",
                       "detail": f"demo account; role={role} areas={','.join(ids)}", "at": when},
        )  # fmt: skip
        out.append((name, role, DEMO_PASSWORD, ids))
    return out


_ACCOUNT_DETAIL = re.compile(
    r"^(?P<demo>demo account; )?role=(?P<role>\w+) areas=(?P<areas>\S*)(?: sso=(?P<sso>\S+))?$"
)
_LOCKED_DETAIL = re.compile(r"^(?P<n>\d+) failures; locked until (?P<until>.+)$")
_ROWS_DETAIL = re.compile(r"^(?P<n>\d+) rows$")


def role_text(role: str, lang: str = "zh") -> str:
    """Return a role as a person reads it (``cli``: the command line or first start); others as stored.

    >>> role_text("cli", "en"), role_text("grid", "zh"), role_text("robot", "en")
    ('System (command line or first start)', '网格长', 'robot')
    """
    key = f"auth.role.{role}"
    return words.text(key, lang) if key in words.WORDS else role


def detail_text(detail: str, lang: str = "zh") -> str:
    """Return an audit row's ``detail`` as a person reads it, in ``lang``.

    The trail stores details as the code wrote them (``password``, ``role=grid
    areas=G0001``, ``3 rows``): stable for searching, never translated in the
    table. The screen and its downloads show them as words; a detail of any
    other shape (an id, a file name) is data and stays as it is.

    >>> detail_text("demo account; role=district areas=", "zh")
    '演示账号；角色：区级；辖区：全区'
    >>> detail_text("wrong password", "en"), detail_text("grid:G0001", "en")
    ('wrong password', 'grid:G0001')
    """
    simple = detail.strip().replace(" ", "_")
    for key in (f"audit.detail.{simple}", f"audit.detail.cause.{simple}", f"audit.detail.end.{simple}"):
        if key in words.WORDS:
            return words.text(key, lang)
    if m := _ACCOUNT_DETAIL.match(detail):
        areas = m["areas"].replace(",", "、" if lang == "zh" else ", ") or words.text(
            "audit.detail.no_areas", lang
        )
        key = "audit.detail.demo_account" if m["demo"] else "audit.detail.account"
        out = words.text(key, lang, role=role_text(m["role"], lang), areas=areas)
        return out + (words.text("audit.detail.sso_identity", lang, identity=m["sso"]) if m["sso"] else "")
    if m := _LOCKED_DETAIL.match(detail):
        return words.text("audit.detail.locked_until", lang, n=m["n"], until=m["until"])
    if m := _ROWS_DETAIL.match(detail):
        return words.text("audit.detail.rows", lang, n=m["n"])
    return detail
