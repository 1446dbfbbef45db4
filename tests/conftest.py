"""Shared fixtures for the services that some tests need.

PostgreSQL with PostGIS, Debian's Chromium driven by Playwright, and a live
Streamlit server. A test that needs a service which is missing skips on a
laptop and fails in CI (``CI=true``), through :func:`require_service`, so
that a CI machine without the service can never pass by skipping.

Plain helpers live here too; import them in a test module with
``from conftest import external_requests, require_service``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import settings as hypothesis_settings

# Examples are judged by their results, not their speed: on a shared 2-core
# machine per-example deadlines only make tests flaky.
hypothesis_settings.register_profile("sibai", deadline=None)
hypothesis_settings.load_profile("sibai")

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, WebSocket

# pytester runs a small inner session to test fixture behaviour across tests.
pytest_plugins = ["pytester"]

#: The repository root, from this file's place, never from the working directory.
REPO_ROOT = Path(__file__).resolve().parents[1]

DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: GDAL's GeoPackage validator as Debian's python3-gdal installs it (run by Debian's own python3).
DEFAULT_GPKG_VALIDATOR = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"

#: Flags for Debian's Chromium: no sandbox as root, and no traffic of its own
#: (updates, sync, QUIC probes) that would pollute the external-request checks.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

#: Hosts that count as "this machine" for :func:`external_requests`.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

STREAMLIT_START_TIMEOUT = 60.0

# urllib must reach 127.0.0.1 directly, even where a proxy is set in the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --------------------------------------------------------------------------- helpers


def _ci_enabled() -> bool:
    return os.environ.get("CI") == "true"


def require_service(what: str, reason: str) -> NoReturn:
    """Skip the current test for a missing service, or fail it in CI.

    Parameters
    ----------
    what
        The service, e.g. ``"PostgreSQL"`` or ``"Chromium"``.
    reason
        Why it is unusable, as a person would want to read it.

    Raises
    ------
    pytest.fail.Exception
        When the environment variable ``CI`` is ``"true"``.
    pytest.skip.Exception
        Otherwise.
    """
    if _ci_enabled():
        pytest.fail(f"{what} is required in CI: {reason}", pytrace=False)
    pytest.skip(f"{what} is not available: {reason}")


def _redact(url: str) -> str:
    """Return ``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _with_database(url: str, dbname: str) -> str:
    """Return the PostgreSQL URL ``url`` pointing at database ``dbname``."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{dbname}"))


@contextlib.contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """Create a PostGIS database of its own, yield its URL, then drop it.

    The name is ``sibai_test_`` plus random hex, so parallel test workers
    never share data. The database is dropped ``WITH (FORCE)`` on the way
    out, whatever happened inside and whoever is still connected.

    Parameters
    ----------
    admin_url
        A ``postgresql://`` URL of a role that may create databases.

    Yields
    ------
    str
        ``admin_url`` with its database part replaced by the new database.
    """
    import psycopg
    from psycopg import sql

    name = f"sibai_test_{secrets.token_hex(6)}"
    ident = sql.Identifier(name)
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    url = _with_database(admin_url, name)
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            conn.execute("CREATE EXTENSION postgis")
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    Another process may take it before the caller binds it; callers that
    start a server retry on "address in use".

    Examples
    --------
    >>> 1024 <= free_port() <= 65535
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _is_external(url: str) -> bool:
    # data:, blob: and about: URLs have no host and never leave the machine.
    host = urlsplit(url).hostname
    return bool(host) and host not in LOCAL_HOSTS


def external_requests(page: Page, *, block: bool = True) -> list[str]:
    """Record every request of ``page`` that leaves this machine.

    Attach before navigating. Requests and WebSockets to any host other than
    127.0.0.1, localhost or ::1 are appended, as URLs, to the returned list,
    which keeps filling as the page runs. The app must serve everything the
    browser needs itself (intranets have no internet), so a test of a page
    usually ends with ``assert recorded == []``.

    Parameters
    ----------
    page
        A Playwright page.
    block
        Abort the external requests as well, so that a test neither depends on
        nor waits for the network. The requests are recorded either way.
        Routing makes every request of the page pass through Python and
        turns Chromium's HTTP cache off; pass ``False`` to measure timing.

    Returns
    -------
    list of str
        The URLs of the external requests, in the order the page made them.
    """
    recorded: list[str] = []
    page.on("request", lambda request: _record(recorded, request.url))
    page.on("websocket", lambda websocket: _record(recorded, websocket.url))
    if block:
        page.route(_is_external, lambda route: route.abort("blockedbyclient"))
    return recorded


def _record(recorded: list[str], url: str) -> None:
    if _is_external(url):
        recorded.append(url)


def _stop_process_group(proc: subprocess.Popen[bytes]) -> None:
    """Terminate ``proc`` and everything it started, politely, then not."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    # Children that ignored SIGTERM outlive their leader: finish the group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


def _healthy(base_url: str) -> bool:
    try:
        with _DIRECT.open(f"{base_url}/_stcore/health", timeout=2) as response:
            return bool(response.read().strip() == b"ok")
    except (OSError, http.client.HTTPException):  # URLError is an OSError
        return False


@contextlib.contextmanager
def streamlit_process(
    db_path_or_url: str | os.PathLike[str],
    *,
    app: Path | None = None,
    extra_env: dict[str, str] | None = None,
    log_dir: Path,
    timeout: float = STREAMLIT_START_TIMEOUT,
) -> Iterator[str]:
    """Run ``streamlit run`` on a free port until the block ends; yield its base URL.

    The server runs in the repository root, in a process group of its own,
    with ``SIBAI_DB`` set to ``db_path_or_url``. It is ready when
    ``/_stcore/health`` answers ``ok``. On the way out the whole group is
    terminated, the app's own child processes included.

    Parameters
    ----------
    db_path_or_url
        The value of ``SIBAI_DB`` for the app: a file path or a database URL.
    app
        The script to run; by default the repository's ``asgi.py``: ``app.py`` on
        the app's own server, with the sign-in routes (``sibai serve`` runs the same).
    extra_env
        More environment variables for the server; they win over the inherited ones.
    log_dir
        Where the server's stdout and stderr are written.
    timeout
        Seconds to wait for the health check.

    Yields
    ------
    str
        The base URL, e.g. ``http://127.0.0.1:40123``.
    """
    # The app's own server (st.App with the sign-in routes), as `sibai serve` runs it.
    script = Path(app) if app is not None else REPO_ROOT / "asgi.py"
    env = {**os.environ, **(extra_env or {}), "SIBAI_DB": os.fspath(db_path_or_url)}
    for attempt in range(3):
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        out_path = log_dir / f"streamlit-{port}.out"
        err_path = log_dir / f"streamlit-{port}.err"
        cmd = [
            sys.executable, "-m", "streamlit", "run", os.fspath(script),
            "--server.headless", "true",
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
        ]  # fmt: skip
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = subprocess.Popen(
                cmd,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + timeout
            while not _healthy(base_url):
                if proc.poll() is not None:
                    break
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"streamlit did not answer {base_url}/_stcore/health within "
                        f"{timeout:.0f} s; stderr tail:\n{_tail(err_path)}",
                        pytrace=False,
                    )
                time.sleep(0.2)
            else:
                yield base_url
                return
        finally:
            _stop_process_group(proc)
        stderr = _tail(err_path)
        # Another process took the port between free_port() and the bind: try another.
        if "already in use" in stderr and attempt < 2:
            continue
        pytest.fail(
            f"streamlit exited with code {proc.returncode} before it was ready "
            f"({script}); stderr tail:\n{stderr}",
            pytrace=False,
        )


# ------------------------------------------------------------------------------ hooks


def pytest_configure(config: pytest.Config) -> None:
    """Switch pytest-benchmark off quietly when xdist runs the tests.

    pytest-benchmark is on the machine image. Under ``-n 2`` it switches
    itself off, but says so with a warning at configure time, which
    ``filterwarnings = ["error"]`` turns into an INTERNALERROR that aborts the
    whole run. Setting its own ``--benchmark-disable`` first has the same
    effect without the warning. This hook runs before pytest-benchmark's,
    which is ``trylast``.
    """
    xdist_active = config.getoption("dist", "no") != "no" or "PYTEST_XDIST_WORKER" in os.environ
    if xdist_active and config.pluginmanager.hasplugin("benchmark"):
        config.option.benchmark_disable = True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Keep each phase's report on the test (``item.rep_call``): a fixture can tell its test failed."""
    report: pytest.TestReport = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def ci() -> bool:
    """Tell whether the tests run in CI (environment variable ``CI`` is ``"true"``).

    Returns
    -------
    bool
        True in CI, where a missing service fails the test instead of skipping it.
    """
    return _ci_enabled()


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """Return the URL of a PostgreSQL role that may create databases.

    ``SIBAI_TEST_PG_ADMIN`` overrides the default
    ``postgresql://postgres@127.0.0.1:5432/postgres``. The server must answer
    within 3 s and offer the ``postgis`` extension, else the test is skipped
    (failed in CI).

    Returns
    -------
    str
        A ``postgresql://`` URL.
    """
    import psycopg

    url = os.environ.get("SIBAI_TEST_PG_ADMIN", DEFAULT_PG_ADMIN_URL)
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone()
    except psycopg.Error as exc:
        require_service("PostgreSQL", f"cannot connect to {_redact(url)}: {exc}")
    if row is None:
        require_service(
            "PostGIS",
            f"the server at {_redact(url)} has no postgis extension "
            "(Debian: apt-get install postgresql-15-postgis-3)",
        )
    return url


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """Yield the URL of a fresh PostGIS database that is dropped after the test.

    Each test gets its own ``sibai_test_<hex>`` database with the ``postgis``
    extension created, so tests under pytest-xdist never see each other's
    data. It is dropped even when the test fails or leaves connections open.

    Yields
    ------
    str
        E.g. ``postgresql://postgres@127.0.0.1:5432/sibai_test_1a2b3c4d5e6f``.
    """
    with scratch_database(pg_admin_url) as url:
        yield url


@pytest.fixture(scope="session")
def validate_gpkg() -> Callable[[Path], str]:
    """Return a function that runs GDAL's ``validate_gpkg.py`` on a file and returns what it reports.

    The validator is Debian's python3-gdal's (``SIBAI_GPKG_VALIDATOR``
    overrides its path), run with ``/usr/bin/python3``, which has ``osgeo``;
    the test is skipped (failed in CI) without it. An empty string means the
    file passed every check (``-k``: all problems are listed, not the first).
    """
    script = os.environ.get("SIBAI_GPKG_VALIDATOR", DEFAULT_GPKG_VALIDATOR)
    python = "/usr/bin/python3"
    if not os.path.isfile(script):
        require_service("GDAL's validate_gpkg.py", f"no file {script} (Debian: apt-get install python3-gdal)")
    probe = subprocess.run([python, "-c", "import osgeo.gdal"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        require_service("GDAL's Python bindings", f"{python} cannot import osgeo (Debian: python3-gdal)")

    def run(path: Path) -> str:
        done = subprocess.run(
            [python, script, "-k", str(path)], capture_output=True, text=True, timeout=300, check=False
        )
        out = (done.stdout + done.stderr).strip()
        return out or ("" if done.returncode == 0 else f"exit code {done.returncode}")

    return run


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Return the path of Debian's Chromium (``SIBAI_CHROMIUM`` overrides it).

    Returns
    -------
    str
        An executable path; the test is skipped (failed in CI) when there is none.
    """
    path = os.environ.get("SIBAI_CHROMIUM", DEFAULT_CHROMIUM)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        require_service("Chromium", f"no executable at {path} (Debian: apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    """Yield a headless Chromium driven by Playwright's sync API, for the session.

    The browser is Debian's Chromium (Playwright never downloads one here),
    launched with :data:`CHROMIUM_ARGS`, and closed at the end of the session.

    Yields
    ------
    playwright.sync_api.Browser
    """
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield launched
        finally:
            launched.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """Yield a page in a fresh browser context (own cookies and storage), closed after.

    Yields
    ------
    playwright.sync_api.Page
    """
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(autouse=True)
def _hide_playwright_loop(request: pytest.FixtureRequest) -> Iterator[None]:
    """Let tests that do not use the browser call ``asyncio.run``.

    Between calls, Playwright's sync API leaves its event loop marked as
    running in the main thread, for as long as the session-scoped browser
    lives. In an xdist worker that has run a browser test, any later test
    calling ``asyncio.run`` would then fail with "cannot be called from a
    running event loop". Tests that do not use the browser get the mark
    cleared for their duration; it is put back for Playwright afterwards.
    """
    loop = asyncio.events._get_running_loop()
    if loop is None or "browser" in request.fixturenames:
        yield
        return
    asyncio.events._set_running_loop(None)
    try:
        yield
    finally:
        asyncio.events._set_running_loop(loop)


@pytest.fixture
def streamlit_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., str]]:
    """Start Streamlit servers for a test; stop them, children included, after it.

    The factory is ``streamlit_server(db_path_or_url, *, extra_env=None,
    app=None) -> base_url``; see :func:`streamlit_process`. Each call runs
    ``python -m streamlit run <app> --server.headless true --server.port
    <free port> --server.address 127.0.0.1 --browser.gatherUsageStats false``
    in the repository root with ``SIBAI_DB`` set, and returns once
    ``/_stcore/health`` answers (``<app>`` is ``asgi.py``, the app on its own
    server, unless given). If the server dies first, the test fails
    with the tail of its stderr.

    Yields
    ------
    callable
        The factory.
    """
    with contextlib.ExitStack() as stack:

        def start(
            db_path_or_url: str | os.PathLike[str],
            *,
            extra_env: dict[str, str] | None = None,
            app: Path | None = None,
        ) -> str:
            return stack.enter_context(
                streamlit_process(
                    db_path_or_url,
                    app=app,
                    extra_env=extra_env,
                    log_dir=tmp_path_factory.mktemp("streamlit"),
                )
            )

        yield start


# ----------------------------------------------------------------- sign-in (AppTest)


@pytest.fixture
def download(monkeypatch: pytest.MonkeyPatch) -> Callable[[object], bytes | str]:
    """Build an AppTest download button's file, as Streamlit does when a person clicks it.

    The app's downloads are deferred (``ui.downloads.button``): the page
    registers a builder and the browser asks for it by id. AppTest's runtime
    lives for one run only, so the builders are kept here as they are registered.
    The button must not rerun the page on its click (the click and the rerun
    raced: ``ui/downloads.py``).
    """
    from streamlit.runtime.media_file_manager import MediaFileManager

    builders: dict[str, Callable[[], bytes | str]] = {}
    add_deferred = MediaFileManager.add_deferred

    def keep(
        self: MediaFileManager, data_callable: Callable[[], bytes | str], *args: object, **kw: object
    ) -> str:
        file_id = add_deferred(self, data_callable, *args, **kw)  # type: ignore[arg-type]
        builders[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", keep)

    def build(button: object) -> bytes | str:
        proto = button.proto  # type: ignore[attr-defined]
        assert proto.ignore_rerun, f"{proto.label}: a click on a download must not rerun the page"
        assert proto.deferred_file_id, f"{proto.label}: the file is built on the click"
        return builders[proto.deferred_file_id]()

    return build


def sign_in(at: object, role: str, *, db: str | os.PathLike[str] | None = None) -> object:
    """Sign an ``AppTest`` in as the demo account of ``role`` before its next run; return it.

    ``role`` is ``district``, ``street``, ``committee`` or ``grid`` (the demo
    accounts ``demo-<role>``, areas from :func:`geo.auth.demo_areas`: the first
    street, its first committee, that committee's first grid), or ``public``,
    which leaves the session signed out. The accounts are created in ``db``
    (default: ``SIBAI_DB``) when missing. The password goes through
    :func:`geo.auth.authenticate`, like the sign-in form, and the signed
    session is put where the app keeps it; nothing else in the session state
    grants anything.
    """
    if role == "public":
        return at
    from geo import auth as core
    from geo.store import open_store
    from ui import auth

    path = os.fspath(db if db is not None else os.environ["SIBAI_DB"])
    with open_store(path) as store:
        if core.get_user(store, f"demo-{role}") is None:
            core.create_demo_accounts(store)
        session = auth.session_for(store, f"demo-{role}", core.DEMO_PASSWORD)
    at.session_state[auth.SESSION_KEY] = session  # type: ignore[attr-defined]
    return at


def sign_in_browser(
    page: Page, db: str | os.PathLike[str], role: str = "district", *, timeout: float = 60_000
) -> None:
    """Sign in through the form the page shows (a staff page opened while signed out) as ``demo-<role>``.

    A browser keeps a Streamlit session only as long as its page is not
    reloaded, so open the deep link first (``page.goto(base + "/grid?grid=…")``):
    the page shows the sign-in form at that address, and after signing in the
    same address shows the page itself. The demo accounts are created in
    ``db`` when missing. A server's very first session should start at
    ``/`` (see :func:`open_fresh`).
    """
    from geo import auth as core
    from geo.store import open_store

    with open_store(os.fspath(db)) as store:
        if core.get_user(store, f"demo-{role}") is None:
            core.create_demo_accounts(store)
    name = page.get_by_label("用户名")
    name.wait_for(timeout=timeout)
    name.fill(f"demo-{role}")
    page.get_by_label("密码").fill(core.DEMO_PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    name.wait_for(state="detached", timeout=timeout)  # signed in: the page itself replaces the form


#: The day the tiny demo district of :func:`tiny_demo_db` is built for (servers get it as SIBAI_TODAY).
DEMO_AS_OF = dt.date(2026, 11, 26)


@pytest.fixture
def tiny_demo_db(tmp_path: Path) -> str:
    """Return the path of a fresh GeoPackage holding the tiny demo district (seed 7, as of DEMO_AS_OF)."""
    from geo.demo import install_demo
    from geo.store import open_store

    path = tmp_path / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=7, as_of=DEMO_AS_OF)
    return str(path)


def settle(page: Page, *, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished running the script (call once the expected content is there)."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=timeout)


class Socket:
    """Follow, on the app's websocket, the page's requests to run the script and the runs finished.

    Streamlit's own protobuf messages (they ship with Streamlit): the browser sends
    a ``BackMsg`` with ``rerun_script`` when a widget changes or a page opens, and
    the server sends a ``ForwardMsg`` with ``script_finished`` at the end of every
    run (counted unless the run was cut short for a newer request). Requests that
    arrive during a run may be answered by one run, so the socket keeps *when*
    each last happened, not only how many.
    """

    def __init__(self, page: Page) -> None:
        self.reruns_asked = 0
        self.runs_finished = 0
        self._messages = 0
        self._last_asked = 0  # the message number of the last request to run
        self._last_finished = 0  # the message number of the last run finished
        page.on("websocket", self._watch)

    def _watch(self, socket: WebSocket) -> None:
        if "/_stcore/stream" in socket.url:
            socket.on("framesent", self._sent)
            socket.on("framereceived", self._received)

    def _sent(self, payload: str | bytes) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if isinstance(payload, bytes) and BackMsg.FromString(payload).WhichOneof("type") == "rerun_script":
            self._messages += 1
            self.reruns_asked += 1
            self._last_asked = self._messages

    def _received(self, payload: str | bytes) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if not isinstance(payload, bytes):
            return
        message = ForwardMsg.FromString(payload)
        # A run cut short by a newer request is not the end of what that request asked for.
        finished = message.WhichOneof("type") == "script_finished"
        if finished and message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            self._messages += 1
            self.runs_finished += 1
            self._last_finished = self._messages

    def _wait(self, page: Page, done: Callable[[], bool], deadline: float, failure: str) -> None:
        while not done():
            assert time.monotonic() < deadline, failure
            page.wait_for_timeout(50)  # lets Playwright deliver the socket's frames

    def rerun(self, page: Page, action: Callable[[], object], *, timeout: float = 60_000) -> None:
        """Do ``action`` (a click that makes Streamlit run the script) and wait until that run has ended.

        A click that asked the server nothing fails as lost; a run asked for and
        never finished fails as such: the two read differently on the output.
        """
        asked = self.reruns_asked
        action()
        deadline = time.monotonic() + timeout / 1000
        lost = "the click never asked the server to run the page (lost)"
        self._wait(page, lambda: self.reruns_asked > asked, deadline, lost)
        self.quiet(page, deadline=deadline)

    def quiet(self, page: Page, *, timeout: float = 60_000, deadline: float | None = None) -> None:
        """Wait until a run has finished after the page's last request to run (its answer is drawn)."""
        deadline = deadline if deadline is not None else time.monotonic() + timeout / 1000
        self._wait(
            page,
            lambda: self._last_finished > self._last_asked,
            deadline,
            "the server never finished the run the page asked for",
        )


#: axe-core's script: ``.ci/run`` installs it from npm into ``tests/node/`` (ignored by git).
AXE = Path(os.environ.get("SIBAI_AXE", REPO_ROOT / "tests/node/node_modules/axe-core/axe.min.js"))
#: Violations inside Streamlit's own components that the app cannot change: (axe rule id, CSS selector).
#: docs/phone.md says why each is here; tests/test_browser_a11y.py fails once one is no longer found.
AXE_OUTSIDE_OUR_HANDS: tuple[tuple[str, str], ...] = (
    # Streamlit's file uploader (1.67): react-dropzone gives the drop zone role="presentation"
    # and a tabindex, and Streamlit adds aria-label and aria-disabled to it; the app passes
    # neither. The upload button inside it is labelled and reached by keyboard. Minor.
    ("presentation-role-conflict", 'section[data-testid="stFileUploaderDropzone"]'),
)


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """Return the path of axe-core's ``axe.min.js``; the test is skipped (failed in CI) without it."""
    if not AXE.is_file():
        require_service(
            "axe-core",
            f"no {AXE} (run: npm install --no-save --prefix tests/node axe-core@4)",
        )
    return AXE


def axe_violations(page: Page, axe: Path) -> list[dict]:
    """Run axe-core's WCAG 2.x A/AA rules and best practices on the page; return its violations.

    Each node says whether it is one of :data:`AXE_OUTSIDE_OUR_HANDS` (``excepted``):
    its rule is the pair's and its element matches the pair's selector. The map's own
    frames (Leaflet in a component iframe) are left out: axe checks the page the person
    reads, and the map's classes are also given as text in its legend and tooltip.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe))
    return page.evaluate(
        """async (exceptions) => {
            const r = await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
                resultTypes: ['violations'],
                iframes: false,
            });
            const excepted = (rule, target) => {
                const el = target.length === 1 ? document.querySelector(target[0]) : null;
                return exceptions.some(([id, sel]) => id === rule && el !== null && el.matches(sel));
            };
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary,
                                          html: n.html.slice(0, 160), excepted: excepted(v.id, n.target)})),
            }));
        }""",
        [list(pair) for pair in AXE_OUTSIDE_OUR_HANDS],
    )


def axe_report(screen: str, found: list[dict]) -> list[str]:
    """Describe each violation of ``found``, whatever its impact, except the excepted pairs."""
    return [
        f"[{screen}] {v['impact']} {v['id']}: {v['help']}\n    {n['target']}\n    {n['html']}"
        f"\n    {n['summary']}"
        for v in found
        for n in [n for n in v["nodes"] if not n["excepted"]][:6]
    ]


def open_fresh(page: Page, base: str, path: str, *, timeout: float = 60_000) -> None:
    """Open ``base + path`` on a server that may not have run ``app.py`` yet.

    Until some session has run ``app.py`` (and so ``st.navigation``), Streamlit
    serves a server's first request from the ``pages/`` folder by file name,
    where ``/map`` is unknown (its file is ``district_map.py``). Opening ``/``
    first (the public page) avoids that.
    """
    page.goto(base + "/")
    page.get_by_role("heading", name="四百走访公示").wait_for(timeout=timeout)
    if path not in ("", "/"):
        page.goto(base + path)


@pytest.fixture(autouse=True)
def _fresh_app_caches(request: pytest.FixtureRequest) -> Iterator[None]:
    """Start every AppTest test with empty Streamlit caches, and leave them empty.

    The app caches its settings, store and indexes per process (``ui/data.py``),
    as a server should; a test worker runs many apps on different databases in
    one process, so a cache left by one module would serve another's data.
    """
    if "AppTest" not in vars(request.module):
        yield
        return
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def shown(markdown: str) -> str:
    """Return what a reader sees of text made by :func:`geo.text.plain`: references decoded, joiners gone."""
    import html

    return html.unescape(markdown).replace("\u2060", "")
