"""Accounts, roles, sign-in, lockout, sessions, single-sign-on mapping, demo accounts and ``sibai user``."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import auth
from geo.auth import AuthError, User
from geo.cli import main
from geo.settings import Settings
from geo.store import Scope, Store, audit
from geo.synth import build_district

AS_OF = dt.date(2024, 6, 28)
T = dt.datetime(2024, 6, 28, 9, 0)
SEC = dt.timedelta(seconds=1)
PW = "correct horse"


class CountingHasher(PasswordHasher):
    """A cheap argon2id hasher (tests need no 64 MiB per attempt) that counts verifications."""

    def __init__(self, **kw: int) -> None:
        super().__init__(**{"time_cost": 1, "memory_cost": 1024, "parallelism": 1, **kw})
        self.verified = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture(autouse=True)
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    h = CountingHasher()
    monkeypatch.setattr(auth, "_hasher", lambda: h)
    return h


@pytest.fixture(scope="module")
def tiny() -> dict[str, pd.DataFrame]:
    return build_district(scale="tiny", seed=7, as_of=AS_OF)


def _district(db: str, tiny: dict[str, pd.DataFrame], **kw: object) -> Store:
    store = Store(db, create=True, settings=Settings(**kw))  # type: ignore[arg-type]
    store.replace_all(tiny)
    return store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path, tiny: dict[str, pd.DataFrame]) -> Iterator[Store]:
    db = str(tmp_path / "u.gpkg") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    s = _district(db, tiny)
    yield s
    s.close()


@pytest.fixture
def lite(tmp_path: Path, tiny: dict[str, pd.DataFrame]) -> Iterator[Store]:
    s = _district(str(tmp_path / "l.gpkg"), tiny)
    yield s
    s.close()


def _reason(store: Store, name: str, password: str, now: dt.datetime) -> tuple[str, dt.timedelta | None]:
    """Return the refusal's real cause and wait; what the person is told never depends on them."""
    with pytest.raises(AuthError) as info:
        auth.authenticate(store, name, password, now=now)
    told = "disabled" if info.value.cause == "disabled" else "bad_credentials"
    assert (info.value.reason, str(info.value)) == (told, auth._MESSAGES[told])
    return info.value.cause, info.value.retry_after


# ------------------------------------------------------------------ hashing


def test_hashes_are_salted_argon2id_and_verify() -> None:
    real = PasswordHasher()  # the parameters geo.auth uses in production
    a, b = real.hash(PW), real.hash(PW)
    assert a != b  # a random salt per hash
    assert a.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert real.verify(a, PW) and real.verify(b, PW)
    h1, h2 = auth.hash_password(PW), auth.hash_password(PW)
    assert h1 != h2
    assert auth.verify_password(h1, PW) and auth.verify_password(h2, PW)
    assert not auth.verify_password(h1, PW + "!")
    assert not auth.verify_password(None, PW)
    assert not auth.verify_password("not a hash", PW)


# ----------------------------------------------------------------- accounts


def test_users_are_added_listed_and_read_back(store: Store) -> None:
    user = auth.add_user(
        store, " Wang.Li ", role="grid", areas=["G0001", "G0002", "G0001"], password=PW, now=T
    )
    assert user == User("wang.li", "grid", ("G0001", "G0002"))
    assert user.scope == Scope.of(grids=["G0001", "G0002"])
    auth.add_user(store, "chief", role="district", password=PW, sso="Chief@Example.GOV.cn", by="admin", now=T)
    assert auth.get_user(store, "WANG.LI") == user
    assert auth.get_user(store, "nobody") is None
    assert auth.get_user(store, "no such name!") is None
    users = auth.list_users(store)
    assert list(users.columns) == ["name", "role", "areas", "disabled", "sso", "created_at", "last_login"]
    assert users[["name", "role", "areas", "disabled", "sso"]].values.tolist() == [
        ["chief", "district", "", False, "chief@example.gov.cn"],
        ["wang.li", "grid", "G0001,G0002", False, None],
    ]
    assert users["created_at"].tolist() == [T, T]
    assert users["last_login"].isna().all()
    log = audit.read(store)
    assert log[["who", "role", "action", "target", "detail"]].values.tolist() == [
        ["admin", "district", "user_add", "user:chief", "role=district areas= sso=chief@example.gov.cn"],
        ["cli", "cli", "user_add", "user:wang.li", "role=grid areas=G0001,G0002"],
    ]
    # The table is created with the schema but is no layer of the GeoPackage: accounts are private.
    if store.backend == "sqlite":
        assert store.scalar("SELECT COUNT(*) FROM gpkg_contents WHERE table_name = 'users'") == 0
    # Hashes are stored, never passwords.
    stored = store.scalar("SELECT password_hash FROM users WHERE name = 'chief'")
    assert stored.startswith("$argon2id$") and PW not in stored


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"role": "admin"}, "unknown role 'admin'; use one of: district, street, committee, grid"),
        ({"role": "district", "areas": ["S01"]}, "the district role sees everything and takes no --area"),
        ({"role": "street", "areas": []}, "the street role needs at least one --area"),
        ({"role": "street", "areas": ["G0001"]}, "no street with id 'G0001' in the database"),
        ({"role": "committee", "areas": ["C001", "C999"]}, "no committee with id 'C999' in the database"),
        ({"role": "grid", "areas": ["G0001,G0002"]}, "holds a comma"),
        ({"password": "short"}, "the password is too short: use at least 8 characters"),
        ({"password": " padded password "}, "must not start or end with spaces"),
        ({"password": "x" * 2000}, "the password is too long"),
        ({"name": "a"}, "user name 'a' is not allowed"),
        ({"name": "wang li"}, "user name 'wang li' is not allowed"),
        ({"name": "王伟"}, "is not allowed"),
        ({"sso": "not-an-email"}, "--sso 'not-an-email' is not an e-mail address"),
        ({"password": None}, "a user needs a password (or --sso for single sign-on only)"),
        ({"name": "taken"}, "user 'taken' already exists"),
    ],
)
def test_bad_accounts_are_refused_with_one_line_and_nothing_written(
    lite: Store, kw: dict[str, object], message: str
) -> None:
    auth.add_user(lite, "taken", role="grid", areas=["G0001"], password=PW)
    args: dict = {"name": "new-user", "role": "grid", "areas": ["G0001"], "password": PW, **kw}
    name = args.pop("name")
    with pytest.raises(ValueError) as info:
        auth.add_user(lite, name, **args)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert auth.list_users(lite)["name"].tolist() == ["taken"]
    assert audit.read(lite)["action"].tolist() == ["user_add"]


def test_passwords_change_users_are_disabled_and_unknown_users_are_named(store: Store) -> None:
    auth.add_user(store, "wang", role="committee", areas=["C001"], password=PW, now=T)
    auth.set_password(store, "wang", "a new password", now=T + SEC)
    with pytest.raises(AuthError):
        auth.authenticate(store, "wang", PW, now=T + 2 * SEC)
    assert auth.authenticate(store, "wang", "a new password", now=T + 3 * SEC).name == "wang"
    auth.disable_user(store, "wang", by="cli:ops", now=T + 4 * SEC)
    assert auth.get_user(store, "wang") == User("wang", "committee", ("C001",), disabled=True)
    assert auth.list_users(store)["disabled"].tolist() == [True]
    with pytest.raises(LookupError, match="no user 'ghost'"):
        auth.set_password(store, "ghost", "a new password")
    with pytest.raises(LookupError, match="no user 'ghost'"):
        auth.disable_user(store, "ghost")
    with pytest.raises(ValueError, match="too short"):
        auth.set_password(store, "wang", "short")
    actions = audit.read(store, since=T)[["who", "action", "target"]].values.tolist()
    assert actions == [
        ["cli:ops", "user_disable", "user:wang"],
        ["wang", "login", "user:wang"],
        ["wang", "login_failed", "user:wang"],
        ["cli", "user_passwd", "user:wang"],
        ["cli", "user_add", "user:wang"],
    ]


# ------------------------------------------------------------------ sign-in


def test_failures_are_throttled_then_locked_then_unlocked_and_success_resets(store: Store) -> None:
    auth.add_user(store, "wang", role="grid", areas=["G0001"], password=PW, now=T)
    t = T
    # 1st failure: no wait (a typo costs nothing).
    assert _reason(store, "wang", "typo", t) == ("wrong password", None)
    # 2nd failure: the next attempt must wait 1 s, then 2 s, then 4 s.
    assert _reason(store, "wang", "typo", t) == ("wrong password", SEC)
    assert _reason(store, "wang", PW, t) == ("throttled", SEC)  # even the right password waits
    assert _reason(store, "wang", "typo", t + SEC) == ("wrong password", 2 * SEC)
    assert _reason(store, "wang", "typo", t + 2 * SEC) == ("throttled", SEC)
    assert _reason(store, "wang", "typo", t + 3 * SEC) == ("wrong password", 4 * SEC)
    # 5th consecutive failure: locked for 15 minutes, the right password included.
    t = t + 7 * SEC
    assert _reason(store, "wang", "typo", t) == ("wrong password", dt.timedelta(minutes=15))
    assert _reason(store, "wang", PW, t + dt.timedelta(minutes=14)) == ("locked", dt.timedelta(minutes=1))
    # After the lock: the counter starts afresh, and a success resets it.
    t = t + dt.timedelta(minutes=15)
    assert _reason(store, "wang", "typo", t) == ("wrong password", None)
    user = auth.authenticate(store, "wang", PW, now=t)
    assert user == User("wang", "grid", ("G0001",))
    assert _reason(store, "wang", "typo", t) == ("wrong password", None)
    assert auth.authenticate(store, "wang", PW, now=t).name == "wang"
    assert auth.list_users(store)["last_login"].tolist() == [t]
    log = audit.read(store, who="wang")
    assert log["action"].value_counts().to_dict() == {"login_failed": 10, "login": 2, "login_locked": 1}
    details = log.loc[log["action"] == "login_failed", "detail"].value_counts().to_dict()
    assert details == {"wrong password": 7, "throttled": 2, "locked": 1}
    locked = log[log["action"] == "login_locked"].iloc[0]
    assert locked["detail"] == "5 failures; locked until 2024-06-28 09:15:07"


def test_lockout_follows_the_settings(tmp_path: Path, tiny: dict[str, pd.DataFrame]) -> None:
    with _district(str(tmp_path / "s.gpkg"), tiny, login_max_failures=2, login_lock_minutes=1) as s:
        auth.add_user(s, "wang", role="grid", areas=["G0001"], password=PW)
        assert _reason(s, "wang", "typo", T) == ("wrong password", None)
        assert _reason(s, "wang", "typo", T) == ("wrong password", dt.timedelta(minutes=1))
        assert _reason(s, "wang", PW, T + 59 * SEC)[0] == "locked"
        assert auth.authenticate(s, "wang", PW, now=T + 60 * SEC).name == "wang"


def test_parallel_guesses_queue_behind_the_first_failures(store: Store, hasher: CountingHasher) -> None:
    """Six guesses at the same moment are taken one at a time: the first two (no wait after one
    failure) are checked and fail; the others find the wait of the second and are throttled."""
    auth.add_user(store, "wang", role="grid", areas=["G0001"], password=PW)
    before = hasher.verified
    start = threading.Barrier(6)
    causes: list[str] = []

    def guess(k: int) -> None:
        start.wait()
        try:
            auth.authenticate(store, "wang", f"guess {k}", now=T)
        except AuthError as exc:
            causes.append(exc.cause)

    threads = [threading.Thread(target=guess, args=(k,)) for k in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(causes) == ["throttled"] * 4 + ["wrong password"] * 2
    assert hasher.verified - before == 6  # every refusal costs one verification (dummy when throttled)
    assert auth.list_users(store)["name"].tolist() == ["wang"]
    assert store.scalar("SELECT failures FROM users") == 2
    assert _reason(store, "wang", PW, T) == ("throttled", SEC)
    assert auth.authenticate(store, "wang", PW, now=T + SEC).name == "wang"


def test_concurrent_right_passwords_all_sign_in(store: Store) -> None:
    """Attempts in progress never count as failures: eight people on one account at once all get in."""
    auth.add_user(store, "wang", role="grid", areas=["G0001"], password=PW)
    start = threading.Barrier(8)
    names: list[str] = []

    def sign_in() -> None:
        start.wait()
        names.append(auth.authenticate(store, "wang", PW, now=T).name)

    threads = [threading.Thread(target=sign_in) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert names == ["wang"] * 8
    assert store.scalar("SELECT failures FROM users") == 0
    assert audit.read(store, action="login_failed").empty


def test_argon2_runs_in_a_small_pool(lite: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """However many people sign in at once, at most VERIFY_SLOTS hashes (64 MiB each) run together."""
    for k in range(12):
        auth.add_user(lite, f"user{k}", role="grid", areas=["G0001"], password=PW)
    running, peak = [0], [0]
    guard = threading.Lock()

    class Slow(CountingHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            with guard:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            try:
                threading.Event().wait(0.05)
                return super().verify(hash, password)
            finally:
                with guard:
                    running[0] -= 1

    slow = Slow()
    monkeypatch.setattr(auth, "_hasher", lambda: slow)
    threads = [threading.Thread(target=auth.authenticate, args=(lite, f"user{k}", PW)) for k in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert slow.verified == 12
    assert 1 <= peak[0] <= auth.VERIFY_SLOTS == 4


def test_a_new_password_clears_a_lockout(lite: Store) -> None:
    auth.add_user(lite, "wang", role="grid", areas=["G0001"], password=PW)
    for k in range(5):
        with pytest.raises(AuthError):
            auth.authenticate(lite, "wang", "typo", now=T + k * dt.timedelta(seconds=10))
    assert _reason(lite, "wang", PW, T + dt.timedelta(minutes=1))[0] == "locked"
    auth.set_password(lite, "wang", "fresh password")
    assert auth.authenticate(lite, "wang", "fresh password", now=T + dt.timedelta(minutes=1)).name == "wang"


def test_an_unknown_user_looks_like_a_wrong_password(lite: Store, hasher: CountingHasher) -> None:
    auth.add_user(lite, "wang", role="grid", areas=["G0001"], password=PW)
    before = hasher.verified
    unknown = _reason(lite, "ghost", PW, T)
    assert hasher.verified == before + 1  # checked against a dummy hash: the same work as a real user
    wrong = _reason(lite, "wang", "typo", T)
    assert hasher.verified == before + 2
    assert (unknown, wrong) == (("unknown user", None), ("wrong password", None))
    with pytest.raises(AuthError) as a:
        auth.authenticate(lite, "ghost", PW, now=T)
    with pytest.raises(AuthError) as b:
        auth.authenticate(lite, "wang", "typo", now=T + 5 * SEC)
    assert str(a.value) == str(b.value) == "wrong user name or password"
    # Even a name no account could have is verified and answered the same way.
    assert _reason(lite, "x; DROP TABLE users", PW, T) == ("malformed user name", None)
    assert hasher.verified == before + 5
    failed = audit.read(lite, action="login_failed")
    assert failed["detail"].tolist() == ["malformed user name", "wrong password", "unknown user",
                                         "wrong password", "unknown user"]  # fmt: skip
    assert set(failed["role"]) == {"public"}


def test_a_locked_account_answers_like_an_unknown_name(lite: Store, hasher: CountingHasher) -> None:
    """No user enumeration: after five wrong passwords a real name says and costs what a ghost does."""
    auth.add_user(lite, "wang", role="grid", areas=["G0001"], password=PW)
    for k in range(5):
        with pytest.raises(AuthError):
            auth.authenticate(lite, "wang", "typo", now=T + k * dt.timedelta(seconds=30))
    answers = []
    for name, password in (("wang", PW), ("wang", "typo"), ("ghost", PW)):
        before = hasher.verified
        with pytest.raises(AuthError) as info:
            auth.authenticate(lite, name, password, now=T + dt.timedelta(minutes=3))
        answers.append((info.value.reason, str(info.value), hasher.verified - before))
    assert answers == [("bad_credentials", "wrong user name or password", 1)] * 3


def test_a_disabled_account_says_so_only_to_the_right_password(store: Store) -> None:
    auth.add_user(store, "wang", role="grid", areas=["G0001"], password=PW)
    auth.disable_user(store, "wang")
    assert _reason(store, "wang", "typo", T) == ("wrong password", None)
    assert _reason(store, "wang", PW, T) == ("disabled", None)


def test_outdated_hashes_are_upgraded_at_sign_in(lite: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    auth.add_user(lite, "wang", role="grid", areas=["G0001"], password=PW)
    old = lite.scalar("SELECT password_hash FROM users")
    stronger = CountingHasher(time_cost=2)
    monkeypatch.setattr(auth, "_hasher", lambda: stronger)
    auth.authenticate(lite, "wang", PW, now=T)
    new = lite.scalar("SELECT password_hash FROM users")
    assert new != old and "$m=1024,t=2,p=1$" in new and "$m=1024,t=1,p=1$" in old
    assert auth.authenticate(lite, "wang", PW, now=T + SEC).name == "wang"


def test_auth_errors_carry_a_known_reason() -> None:
    assert {AuthError(r, cause="throttled").reason for r in auth.REASONS} == {"bad_credentials", "disabled"}
    with pytest.raises(ValueError):
        AuthError("maybe", cause="throttled")
    with pytest.raises(ValueError):
        AuthError("bad_credentials", cause="maybe")
    assert [auth.retry_delay(n) for n in range(1, 7)] == [
        dt.timedelta(seconds=s) for s in (0, 1, 2, 4, 8, 16)
    ]
    assert auth.retry_delay(50) == auth.MAX_DELAY


# ----------------------------------------------------------- single sign-on


def test_an_sso_identity_maps_to_its_enabled_user(store: Store) -> None:
    auth.add_user(store, "wang", role="committee", areas=["C001"], password=None, sso="Wang@Example.gov.cn")
    auth.add_user(store, "li", role="grid", areas=["G0001"], password=PW, sso="li@example.gov.cn")
    assert auth.user_for_identity(store, "WANG@example.GOV.CN") == User(
        "wang", "committee", ("C001",), sso="wang@example.gov.cn"
    )
    assert auth.user_for_identity(store, " li@example.gov.cn ") is not None
    assert auth.user_for_identity(store, "zhao@example.gov.cn") is None
    assert auth.user_for_identity(store, "") is None
    auth.disable_user(store, "li")
    assert auth.user_for_identity(store, "li@example.gov.cn") is None
    # A single-sign-on-only user has no password to guess.
    assert _reason(store, "wang", "anything at all", T) == ("wrong password", None)


# ----------------------------------------------------------------- sessions


@pytest.mark.parametrize(
    ("signed_in", "seen", "expired"),
    [
        (0, 0, False),  # just now
        (-29, -29, False),  # idle 29 minutes
        (-30, -30, False),  # idle exactly 30 minutes: not more than the limit
        (-31, -31, True),  # idle 31 minutes
        (-599, -1, False),  # active, 9 h 59 min after sign-in
        (-600, -1, False),  # exactly 10 hours
        (-601, -1, True),  # active, but over 10 hours
    ],
)
def test_sessions_expire_when_idle_or_too_long(signed_in: int, seen: int, expired: bool) -> None:
    minute = dt.timedelta(minutes=1)
    got = auth.session_expired(signed_in_at=T + signed_in * minute, last_seen=T + seen * minute, now=T,
                               settings=Settings())  # fmt: skip
    assert got is expired


def test_session_limits_follow_the_settings() -> None:
    s = Settings.from_env({"SIBAI_SESSION_IDLE_MINUTES": "5", "SIBAI_SESSION_MAX_HOURS": "1"})
    six = dt.timedelta(minutes=6)
    assert auth.session_expired(signed_in_at=T - six, last_seen=T - six, now=T, settings=s)
    assert not auth.session_expired(signed_in_at=T - six, last_seen=T - SEC, now=T, settings=s)
    assert auth.session_expired(signed_in_at=T - dt.timedelta(minutes=61), last_seen=T, now=T, settings=s)


# --------------------------------------------------------------------- demo


def test_demo_accounts_one_per_role_and_reset_on_rerun(store: Store) -> None:
    made = auth.create_demo_accounts(store)
    assert made == [
        ("demo-district", "district", "sibai-demo", ()),
        ("demo-street", "street", "sibai-demo", ("S01",)),
        ("demo-committee", "committee", "sibai-demo", ("C001",)),
        ("demo-grid", "grid", "sibai-demo", ("G0001",)),
    ]
    for name, role, password, areas in made:
        assert auth.authenticate(store, name, password, now=T) == User(name, role, areas)
    # Lock one, disable another, change a password: running it again resets them all.
    auth.disable_user(store, "demo-street")
    auth.set_password(store, "demo-grid", "changed password")
    for k in range(5):
        with pytest.raises(AuthError):
            auth.authenticate(store, "demo-committee", "typo", now=T + k * dt.timedelta(seconds=10))
    assert auth.create_demo_accounts(store) == made
    for name, _role, password, _areas in made:
        auth.authenticate(store, name, password, now=T + dt.timedelta(minutes=1))
    assert len(auth.list_users(store)) == 4


def test_demo_accounts_need_a_district(tmp_path: Path) -> None:
    with Store(str(tmp_path / "e.gpkg"), create=True) as s:
        s.create_schema()
        with pytest.raises(ValueError, match="holds no streets"):
            auth.create_demo_accounts(s)


# ------------------------------------------------------------------- scopes


AREAS = {"street": ["S01", "S04", "S99"], "committee": ["C001", "C002", "C003", "C004"],
         "grid": [f"G{i:04d}" for i in range(1, 14)]}  # fmt: skip


@st.composite
def role_and_areas(draw: st.DrawFn) -> tuple[str, list[str]]:
    role = draw(st.sampled_from([*auth.ROLES, "public", "admin", ""]))
    pool = AREAS.get(role, AREAS["grid"])
    return role, draw(st.lists(st.sampled_from(pool), max_size=4))


@given(role_and_areas())
def test_scope_of_never_reaches_beyond_the_given_areas(drawn: tuple[str, list[str]]) -> None:
    role, areas = drawn
    scope = auth.scope_of(role, areas)
    assert scope.is_everything is (role == "district")
    levels = {"street": scope.streets, "committee": scope.committees, "grid": scope.grids}
    for level, ids in levels.items():
        assert ids == (frozenset(areas) if role == level else frozenset())


@pytest.fixture(scope="module")
def district_db(tmp_path_factory: pytest.TempPathFactory, tiny: dict[str, pd.DataFrame]) -> Iterator[Store]:
    s = _district(str(tmp_path_factory.mktemp("scope") / "s.gpkg"), tiny)
    yield s
    s.close()


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(role_and_areas())
def test_a_users_scope_resolves_to_exactly_the_grids_of_its_areas(
    district_db: Store, tiny: dict[str, pd.DataFrame], drawn: tuple[str, list[str]]
) -> None:
    """Resolved by the store (the same grid ids every scoped read filters on), never a grid outside."""
    role, areas = drawn
    grids = tiny["grids"].merge(tiny["committees"][["committee_id", "street_id"]], on="committee_id")
    column = {"street": "street_id", "committee": "committee_id", "grid": "grid_id"}.get(role)
    resolved = district_db.grid_ids(User("u", role, tuple(areas)).scope)
    if role == "district":
        assert resolved is None  # the whole district
    else:
        expected = set() if column is None else set(grids.loc[grids[column].isin(areas), "grid_id"])
        assert set(resolved or []) == expected


# ---------------------------------------------------------------------- CLI


def _cli(db: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SIBAI_DB": db}
    return subprocess.run(
        [sys.executable, "-m", "geo.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_sibai_user_end_to_end(tmp_path: Path, tiny: dict[str, pd.DataFrame]) -> None:
    db = str(tmp_path / "cli.gpkg")
    _district(db, tiny).close()
    done = _cli(db, "user", "add", "Wang", "--role", "grid", "--area", "G0001", "--area", "G0002",
                "--password-stdin", stdin=PW + "\nsecond line ignored\n")  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, "added user wang: grid for G0001, G0002\n", "")
    done = _cli(db, "user", "add", "li", "--role", "street", "--area", "S99", "--password-stdin", stdin=PW)
    assert (done.returncode, done.stderr) == (
        1,
        "sibai user: error: no street with id 'S99' in the database\n",
    )
    done = _cli(db, "user", "add", "li", "--role", "street", "--area", "S01", "--password-stdin", stdin="")
    assert done.returncode == 1 and done.stderr.startswith("sibai user: error: --password-stdin read nothing")
    done = _cli(db, "user", "add", "li", "--role", "street", "--area", "S01")
    assert done.returncode == 1 and "give --password-stdin" in done.stderr
    done = _cli(db, "user", "add", "sso", "--role", "district", "--sso", "Sso@Example.gov.cn")
    assert done.returncode == 0, done.stderr
    done = _cli(db, "user", "passwd", "wang", "--password-stdin", stdin="brand new secret\n")
    assert (done.returncode, done.stdout) == (0, "set a new password for wang (and cleared any lockout)\n")
    done = _cli(db, "user", "passwd", "wang", stdin="brand new secret\n")  # the option is required
    assert done.returncode == 2 and "--password-stdin" in done.stderr
    done = _cli(db, "user", "disable", "sso")
    assert (done.returncode, done.stdout) == (0, "disabled user sso: no sign-in from now on\n")
    done = _cli(db, "user", "disable", "ghost")
    assert (done.returncode, done.stderr) == (1, "sibai user: error: no user 'ghost'\n")
    done = _cli(db, "user", "list", "--format", "json")
    rows = json.loads(done.stdout)
    assert [(r["name"], r["role"], r["areas"], r["disabled"], r["sso"]) for r in rows] == [
        ("sso", "district", "", True, "sso@example.gov.cn"),
        ("wang", "grid", "G0001,G0002", False, None),
    ]
    assert all("password" not in k for r in rows for k in r)
    table = _cli(db, "user", "list").stdout.splitlines()
    assert table[0].split() == ["name", "role", "areas", "disabled", "sso", "created_at", "last_login"]
    assert table[2].split()[:3] == ["wang", "grid", "G0001,G0002"]
    csv = _cli(db, "user", "list", "--format", "csv").stdout.splitlines()
    assert csv[0] == "name,role,areas,disabled,sso,created_at,last_login"
    with Store(db) as s:
        assert auth.authenticate(s, "wang", "brand new secret").name == "wang"
        log = audit.read(s)
    assert log["action"].tolist() == ["login", "user_disable", "user_passwd", "user_add", "user_add"]
    assert all(w.startswith("cli") for w in log["who"].tolist()[1:])


def test_a_terminal_on_stdin_is_refused(
    tmp_path: Path,
    tiny: dict[str, pd.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    db = str(tmp_path / "tty.gpkg")
    _district(db, tiny).close()
    monkeypatch.setattr(sys, "stdin", Terminal("typed password\n"))
    assert main(["user", "add", "wang", "--role", "district", "--password-stdin", "--db", db]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "sibai user: error: --password-stdin reads the password from a pipe, not a terminal"
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(PW + "\n"))
    assert main(["user", "add", "wang", "--role", "district", "--password-stdin", "--db", db]) == 0
    assert capsys.readouterr().out == "added user wang: district\n"


def test_sibai_demo_creates_the_demo_accounts_and_says_how_to_sign_in(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.gpkg")
    done = _cli(db, "demo", "--scale", "tiny", "--quiet", "--as-of", "2024-06-28", "--db", db)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1] == "demo accounts (demo only; sign in on the app's login page):"
    assert [line.split()[:4] for line in lines[2:]] == [
        ["demo-district", "password", "sibai-demo", "district"],
        ["demo-street", "password", "sibai-demo", "street"],
        ["demo-committee", "password", "sibai-demo", "committee"],
        ["demo-grid", "password", "sibai-demo", "grid"],
    ]
    with Store(db) as s:
        assert auth.authenticate(s, "demo-grid", "sibai-demo").areas == ("G0001",)
