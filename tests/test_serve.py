"""``sibai serve`` (ui/server.py): warm caches, and proper navigation from a fresh server's first request."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from conftest import _healthy, _stop_process_group, _tail, external_requests, free_port, sign_in_browser
from playwright.sync_api import Page, expect

from geo.demo import install_demo
from geo.store import Scope, Store, open_store

AS_OF = dt.date(2026, 11, 26)
ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 90.0
#: What ``server.warm`` builds, in order (the district's office screens last).
WARM_STEPS = ["store", "coverage index", "area layers", "map geometry", "page modules", "household ids",
              "office frames", "weekly check", "ledger", "staffing", "charts"]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("serve") / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=7, as_of=AS_OF)
    return str(path)


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """Start and end with empty Streamlit caches (they are process-wide, shared with other tests)."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


# ------------------------------------------------------------------------------ warm-up


def test_warm_up_fills_the_caches_the_pages_read(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    from geo import maps
    from geo.live import coverage_index_from_store
    from ui import data, gridmap, server

    monkeypatch.setenv("SIBAI_DB", tiny_db)
    with open_store(tiny_db) as store:
        cold, _ = coverage_index_from_store(store, scope=Scope.everything())
    expected = cold.coverage(dt.date(2026, 1, 1), AS_OF, level="district")
    said: list[str] = []
    seconds = server.warm(say=said.append)
    assert seconds is not None
    assert list(seconds) == WARM_STEPS
    assert said == [f"warmed {name} in {s:.1f} s" for name, s in seconds.items()]
    index, layers = data.coverage_index(), data.layers()
    geometry = gridmap.geometry(basemap="none")

    # From now on the pages' calls must be served from the caches: any rebuild fails loudly.
    def rebuild(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("rebuilt after warm-up")

    monkeypatch.setattr("geo.live.coverage_index_from_store", rebuild)
    monkeypatch.setattr(Store, "read_layer", rebuild)
    monkeypatch.setattr("geo.maps.geometry_payload", rebuild)
    assert data.coverage_index() is index
    assert data.layers() is layers
    assert gridmap.geometry(basemap="none") is geometry
    assert len(layers.grids) == 12
    assert len(geometry.grid_ids) == 12
    assert (maps.build_assets() / geometry.path).is_file()  # the file the browser fetches
    # The figures are the district's, as a page computes them cold.
    assert index.coverage(dt.date(2026, 1, 1), AS_OF, level="district").equals(expected)
    # The screens' modules are imported.
    assert {"ui.auth", "ui.sidebar", "geo.public", "geo.site", "ui.grid_data"} <= set(sys.modules)


@pytest.mark.parametrize("visitor", [True, False])
def test_warm_up_lets_a_visitors_first_page_go_before_the_other_screens(
    visitor: bool, tiny_db: str, monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    """The map's caches first; the other screens' modules and frames (seconds of CPU on the full district,
    sharing the GIL with the first map's run) wait while a visitor is on the way to a first signed-in page,
    and do not wait when nobody has come."""
    import threading

    from ui import arrivals, server

    monkeypatch.setenv("SIBAI_DB", tiny_db)
    monkeypatch.setattr(arrivals, "_CAME", threading.Event())
    monkeypatch.setattr(arrivals, "_SERVED", threading.Event())
    monkeypatch.setattr(arrivals, "_last", 0.0)
    imported_at: list[float] = []
    real_import = server.import_page_modules

    def recorded() -> object:
        imported_at.append(time.monotonic())
        return real_import()

    monkeypatch.setattr(server, "import_page_modules", recorded)
    drawn_at: list[float] = []

    files_at: list[float] = []

    def visit() -> None:
        time.sleep(0.5)  # the map's run, still going when the map's caches are warm
        drawn_at.append(time.monotonic())
        arrivals.page_drawn()
        time.sleep(0.2)  # the browser draws the page, then asks for the map frame's files
        arrivals.request_started()
        time.sleep(0.3)
        arrivals.request_ended()
        files_at.append(time.monotonic())

    said: list[str] = []

    def say(line: str) -> None:
        said.append(line)
        if visitor and line.startswith("warmed map geometry"):
            threading.Thread(target=visit).start()

    if visitor:
        arrivals.visitor_came()  # the page was opened while the server warmed
    started = time.monotonic()
    seconds = server.warm(say=say, first_page_wait=30.0)
    assert list(seconds) == WARM_STEPS
    if visitor:
        assert "let the first signed-in page go first" in said
        # after the page, and after the files its frames asked for once the page was drawn
        assert imported_at[0] >= files_at[0] + arrivals.QUIET > drawn_at[0]
    else:
        assert all(name.startswith("warmed ") for name in said)
        assert imported_at[0] - started < 30.0


@pytest.mark.parametrize(
    ("kind", "path", "accept", "came"),
    [
        ("http", "/map", "text/html,application/xhtml+xml", True),  # a page opened
        ("websocket", "/_stcore/stream", "", True),  # a tab's session (re)connected after a restart
        ("http", "/_stcore/health", "text/html", False),  # the supervisor's health check
        ("http", "/static/app.js", "*/*", False),
        ("http", "/map", "application/json", False),
    ],
)
def test_the_server_notes_a_visitor_from_a_page_or_a_tab_not_from_a_health_check(
    kind: str, path: str, accept: str, came: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import threading

    from ui import arrivals, routes

    monkeypatch.setattr(arrivals, "_CAME", threading.Event())
    called: list[str] = []

    async def inner(scope: dict, receive: object, send: object) -> None:
        called.append(scope["path"])

    scope = {"type": kind, "path": path, "method": "GET", "headers": [(b"accept", accept.encode())]}
    asyncio.run(routes.FirstVisitor(inner)(scope, None, None))  # type: ignore[arg-type]
    assert called == [path]  # passed on, whatever it is
    assert arrivals._CAME.is_set() == came


def test_the_warm_up_waits_for_the_first_pages_files_not_for_ever(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first signed-in page is drawn, the warm-up waits while the browser fetches its frames' files
    (requests in flight, or one less than ``quiet`` seconds ago), never longer than its time-out."""
    import threading

    from ui import arrivals

    monkeypatch.setattr(arrivals, "_CAME", threading.Event())
    monkeypatch.setattr(arrivals, "_SERVED", threading.Event())
    monkeypatch.setattr(arrivals, "_in_flight", 0)
    monkeypatch.setattr(arrivals, "_last", 0.0)
    assert arrivals.wait_for_first_page(5.0, quiet=0.2) is False  # nobody came: no wait at all
    arrivals.visitor_came()
    arrivals.page_drawn()
    arrivals.request_started()  # the map frame's files, still being answered

    def answered() -> None:
        time.sleep(0.4)
        arrivals.request_ended()

    started = time.monotonic()
    threading.Thread(target=answered).start()
    assert arrivals.wait_for_first_page(5.0, quiet=0.2) is True
    assert 0.6 <= time.monotonic() - started < 2.0  # 0.4 s answering, then 0.2 s without a request
    arrivals.request_started()  # a request that never ends: the time-out still holds
    started = time.monotonic()
    arrivals.wait_for_first_page(0.5, quiet=0.2)
    assert 0.5 <= time.monotonic() - started < 1.5
    arrivals.request_ended()


def test_the_server_counts_http_requests_in_flight_for_the_warm_up(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from ui import arrivals, routes

    monkeypatch.setattr(arrivals, "_in_flight", 0)
    seen: list[float] = []

    async def inner(scope: dict, receive: object, send: object) -> None:
        seen.append(arrivals._quiet_for())
        if scope["path"] == "/broken":
            raise RuntimeError("a handler that fails")

    scope = {"type": "http", "path": "/static/app.js", "method": "GET", "headers": []}
    asyncio.run(routes.FirstVisitor(inner)(scope, None, None))  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        asyncio.run(routes.FirstVisitor(inner)({**scope, "path": "/broken"}, None, None))  # type: ignore[arg-type]
    socket = {"type": "websocket", "path": "/_stcore/stream", "headers": []}
    asyncio.run(routes.FirstVisitor(inner)(socket, None, None))  # type: ignore[arg-type]
    assert seen[:2] == [0.0, 0.0]  # busy while each request is being answered
    assert arrivals._in_flight == 0  # and free after, a failed one included; a tab's socket is not counted


def test_the_district_map_imports_no_folium() -> None:
    """The district map draws with its own component: folium (about 0.2 s of imports) is not on its path."""
    imports = server_page_imports(("app.py", "pages/district_map.py"))
    code = (
        "import sys, importlib, importlib.util\n"
        f"for module, names in {imports!r}:\n"
        "    package = importlib.import_module(module)\n"
        "    for name in names if hasattr(package, '__path__') else ():  # from geo import maps\n"
        "        if importlib.util.find_spec(f'{module}.{name}') is not None:\n"
        "            importlib.import_module(f'{module}.{name}')\n"
        "assert 'folium' not in sys.modules, 'folium imported'\n"
        "from geo import maps\n"
        "assert maps.grid_map is not None and 'folium' in sys.modules  # the folium maps, on first use\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def server_page_imports(files: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
    """The imports of ``files`` (paths under the repository): ``(module, names)`` pairs."""
    import ast

    found: list[tuple[str, tuple[str, ...]]] = []
    for file in files:
        for node in ast.walk(ast.parse((ROOT / file).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(a.name, ()) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((node.module, tuple(a.name for a in node.names)))
    return [(module, names) for module, names in found if module != "__future__"]


def test_warm_up_needs_no_script_run(tiny_db: str) -> None:
    """In a fresh interpreter (nothing imported yet), warming complains about nothing.

    Streamlit logs "missing ScriptRunContext" when something that belongs in a
    script run happens outside one, e.g. a component declared at import time
    (``streamlit_folium``): such a component would never be registered with
    the server, and its files would never be served.
    """
    code = "from ui import server; assert server.warm(say=print) is not None"
    env = {**os.environ, "SIBAI_DB": tiny_db, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "warmed page modules" in done.stdout
    # Bare mode (no server) adds "No runtime found" for each st.cache_data function defined;
    # in the server (the browser tests below) the log must be clean altogether.
    complaints = [line for line in done.stderr.splitlines() if "No runtime found" not in line]
    assert complaints == []


def test_the_first_start_builds_the_district_in_the_server_then_warms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    from ui import data, server

    db = tmp_path / "data" / "putuo.gpkg"  # the first start: no file yet
    monkeypatch.setattr("geo.demo.DEFAULT_DB", db)  # stands in for the embedded default file
    monkeypatch.setenv("SIBAI_DB", str(db))
    monkeypatch.setenv("SIBAI_DEMO_SCALE", "tiny")
    said: list[str] = []
    seconds = server.warm(say=said.append)
    assert list(seconds) == ["demo district", *WARM_STEPS]
    assert said[0] == (
        "no district in the database yet: building the demo district (visitors see it being prepared)"
    )
    progress = [line for line in said if line.startswith("preparing the tiny demo district:")]
    assert progress[0].startswith("preparing the tiny demo district:   0%")
    assert progress[-1].startswith("preparing the tiny demo district: 100%")
    assert db.is_file()
    assert data._PREPARING is not None and data._PREPARING.done.is_set()  # pages stop waiting
    assert len(data.layers().grids) == 12


def page_waiting_for_the_district() -> None:
    import streamlit as st

    from ui import data

    data.ensure_database()
    st.write("the map")


def test_a_page_waits_for_the_servers_build_and_then_goes_on(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    import threading

    from streamlit.testing.v1 import AppTest

    from ui import data

    monkeypatch.setenv("SIBAI_DB", tiny_db)
    prep = data.Preparing(fraction=0.1, message="generating households")
    monkeypatch.setattr(data, "_PREPARING", prep)
    seen: list[str] = []

    def build() -> None:
        time.sleep(1.0)
        prep.fraction, prep.message = 0.9, "writing visits"
        time.sleep(0.5)
        seen.append("done")
        prep.done.set()

    threading.Thread(target=build, daemon=True).start()
    started = time.perf_counter()
    at = AppTest.from_function(page_waiting_for_the_district, default_timeout=30).run()
    assert time.perf_counter() - started >= 1.4  # the page waited for the build...
    assert seen == ["done"]
    assert [m.value for m in at.markdown] == ["the map"]  # ...then went on,
    assert not at.info and not at.exception  # the note about the build gone


def test_page_imports_reads_the_app_and_its_screens(tmp_path: Path) -> None:
    from ui.server import page_imports

    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("from __future__ import annotations\nimport streamlit as st\n")
    (tmp_path / "pages" / "one.py").write_text(
        "from ui import auth, data\nfrom geo.store import Scope\nfrom . import sibling\n"
        "def f():\n    import geo.maps\n"
    )
    assert page_imports(tmp_path / "app.py") == [
        ("geo.maps", ()),
        ("geo.store", ("Scope",)),
        ("streamlit", ()),
        ("ui", ("auth", "data")),
    ]


def test_serve_passes_port_database_and_streamlit_flags(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from geo.cli import main
    from ui import server

    calls: list[tuple[list[str], bool]] = []
    monkeypatch.setattr(server, "main", lambda flags, *, warm_up: calls.append((flags, warm_up)) or 0)
    monkeypatch.setenv("SIBAI_DB", "elsewhere.gpkg")  # restored after the test; --db wins for the app
    db = str(tmp_path / "d.gpkg")
    assert main(["serve", "--db", db, "--port", "8765", "--", "--server.headless", "true"]) == 0
    assert main(["serve", "--db", db, "--no-warm-up"]) == 0
    # A server does not watch its source (Streamlit's watcher walks every module after each run).
    local = [
        "--client.showErrorDetails",
        "type",
        "--server.fileWatcherType",
        "none",
        "--server.address",
        "127.0.0.1",
    ]
    assert calls == [(["--server.port", "8765", *local, "--server.headless", "true"], True), (local, False)]
    assert os.environ["SIBAI_DB"] == db
    calls.clear()  # a watcher asked for (a developer's) is kept
    assert main(["serve", "--db", db, "--", "--server.fileWatcherType", "auto"]) == 0
    assert calls[0][0].count("--server.fileWatcherType") == 1
    assert calls[0][0][-2:] == ["--server.fileWatcherType", "auto"]


def test_serve_listens_on_this_machine_unless_told_and_then_not_with_demo_accounts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from geo import auth
    from geo.cli import main
    from ui import server

    calls: list[list[str]] = []
    monkeypatch.setattr(server, "main", lambda flags, *, warm_up: calls.append(flags) or 0)
    db = str(tmp_path / "demo.gpkg")
    Path(db).write_bytes(Path(tiny_db).read_bytes())
    with open_store(db) as store:
        auth.create_demo_accounts(store)
    assert main(["serve", "--db", db, "--host", "0.0.0.0"]) == 1
    assert "refusing to listen on 0.0.0.0: demo accounts" in capsys.readouterr().err
    monkeypatch.setenv("SIBAI_SERVE_HOST", "0.0.0.0")  # the setting, likewise
    assert main(["serve", "--db", db]) == 1
    assert main(["serve", "--db", db, "--", "--server.address", "0.0.0.0"]) == 1  # only --host opens it
    assert "give the address to listen on with --host" in capsys.readouterr().err
    assert calls == []
    assert main(["serve", "--db", db, "--allow-demo-accounts"]) == 0
    with open_store(db) as store:
        for name in auth.enabled_demo_accounts(store):
            auth.disable_user(store, name)
    assert main(["serve", "--db", db, "--host", "0.0.0.0"]) == 0
    monkeypatch.delenv("SIBAI_SERVE_HOST")
    assert main(["serve", "--db", db]) == 0  # the default: this machine only, demo accounts or not
    assert [c[c.index("--server.address") + 1] for c in calls] == ["0.0.0.0", "0.0.0.0", "127.0.0.1"]


def test_the_command_line_never_imports_streamlit() -> None:
    code = "import sys, geo.cli; geo.cli.build_parser(); assert 'streamlit' not in sys.modules, 'imported'"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_serve_starts_the_server_before_the_store_libraries_are_imported(tmp_path: Path) -> None:
    """`sibai serve` and the server's own routes import no pandas, geopandas or SQLAlchemy.

    The browser loads the page while the server imports them (the warm-up, the
    first run): a restart's first map waits on them once, not twice.
    """
    code = (
        "import sys\n"
        "from geo import cli\n"
        "from ui import server\n"
        "def main(flags, *, warm_up):\n"
        "    import asgi  # the app's own server: st.App with the sign-in routes\n"
        "    heavy = sorted({'pandas', 'geopandas', 'sqlalchemy', 'geo.store'} & set(sys.modules))\n"
        "    print('heavy:', heavy)\n"
        "    return 0\n"
        "server.main = main\n"
        f"sys.exit(cli.main(['serve', '--db', {str(tmp_path / 'd.gpkg')!r}]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "heavy: []"


def test_serve_refuses_a_checkout_without_the_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from geo.cli import main
    from geo.commands import serve

    monkeypatch.setattr(serve, "ROOT", tmp_path)
    assert main(["serve", "--db", str(tmp_path / "x.gpkg")]) == 1
    assert "sibai serve: error: no app next to the geo package" in capsys.readouterr().err


# ------------------------------------------------------------------- a real `sibai serve`


@contextlib.contextmanager
def sibai_serve(db: str, log_dir: Path) -> Iterator[tuple[str, Path]]:
    """Run ``sibai serve`` on a free port from a folder outside the repository; yield its URL and log.

    Returns once the server answers its health check and has logged that its
    caches are warm; stops it (and anything it started) afterwards.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    err = log_dir / f"serve-{port}.err"
    cmd = [
        sys.executable, "-m", "geo.cli", "serve", "--db", db, "--port", str(port), "--",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    env = {**os.environ, "SIBAI_TODAY": AS_OF.isoformat()}
    env.pop("SIBAI_DB", None)  # --db alone chooses the database
    with err.open("wb") as stderr:
        proc = subprocess.Popen(
            cmd, cwd=log_dir, env=env, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (_healthy(base) and "caches warm" in err.read_text(errors="replace")):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"sibai serve did not start and warm up; log tail:\n{_tail(err)}", pytrace=False)
            time.sleep(0.2)
        yield base, err
    finally:
        _stop_process_group(proc)


def _nav_titles(page: Page) -> list[str]:
    links = page.get_by_test_id("stSidebarNav").locator("a")
    expect(links.first).to_be_visible(timeout=30_000)
    return [text.strip() for text in links.all_inner_texts()]


@pytest.mark.browser
def test_first_request_to_a_fresh_server_is_the_home_page_with_the_app_navigation(
    page: Page, tiny_db: str, tmp_path: Path
) -> None:
    outside = external_requests(page)
    with sibai_serve(tiny_db, tmp_path) as (base, log):
        page.goto(base + "/")  # the server's very first session: a visitor's home is the public summary
        expect(page.get_by_role("heading", name="四百走访公示")).to_be_visible(timeout=60_000)
        # The app's navigation (st.navigation in app.py), not one made of pages/*.py file names.
        assert _nav_titles(page) == ["公示", "登录"]
        expect(page.get_by_text("Page not found")).to_have_count(0)
        assert page.url.split("?")[0] == base + "/public"  # "/" leads to the summary's own address
        page.goto(base + "/public?street=S01")  # that address works on its own, parameters kept
        expect(page.get_by_role("heading", name="四百走访公示")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Page not found")).to_have_count(0)
        assert page.url == base + "/public?street=S01"
        text = log.read_text(errors="replace")
    assert "warmed coverage index" in text
    # Warming outside a script run logs nothing of Streamlit's (no missing ScriptRunContext).
    assert "WARNING" not in text and "Traceback" not in text and "ScriptRunContext" not in text
    assert outside == []


@pytest.mark.browser
def test_first_request_deep_link_to_the_map_shows_sign_in_then_the_grid(
    page: Page, tiny_db: str, tmp_path: Path
) -> None:
    with open_store(tiny_db) as store:
        name = store.read_table("grids", scope=Scope.everything()).set_index("grid_id").loc["G0001", "name"]
    with sibai_serve(tiny_db, tmp_path) as (base, _log):
        page.goto(base + "/map?grid=G0001")  # the server's very first session
        sign_in_browser(page, tiny_db)  # the form at the map's own address, not "page not found"
        frame = page.frame_locator("iframe[title*='sibai_gridmap']")
        expect(frame.locator("body[data-grids]")).to_have_attribute("data-grids", "12", timeout=30_000)
        expect(page.locator("h2").first).to_have_text(name, timeout=30_000)  # the link's grid selected
        expect(page.get_by_text("Page not found")).to_have_count(0)
        assert page.url == base + "/map?grid=G0001"  # every screen keeps its own address


def test_after_warm_up_the_district_office_screens_build_no_frames(
    tiny_db: str, monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    """盲区与周查 and 社工考核 opened first by a district account find their frames, check and ledger built.

    On the full district the office frames alone took about 9 s on the first open.
    """
    from conftest import sign_in
    from streamlit.testing.v1 import AppTest

    from ui import server

    monkeypatch.setenv("SIBAI_DB", tiny_db)
    monkeypatch.setenv("SIBAI_TODAY", AS_OF.isoformat())
    server.warm(say=lambda _line: None)

    def rebuild(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("built by the page after warm-up")

    monkeypatch.setattr("ui.office_data.LiveOffice", rebuild)
    monkeypatch.setattr("geo.office.weekly_check", rebuild)
    monkeypatch.setattr("geo.assess.ledger", rebuild)
    monkeypatch.setattr("geo.assess.staffing", rebuild)
    for page, title in (("pages/uncovered.py", "盲区与周查"), ("pages/workers.py", "社工考核")):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        sign_in(at, "district", db=tiny_db)
        at.run()
        at.switch_page(page).run()
        assert not at.exception, [e.message for e in at.exception]
        assert [e.value for e in at.error] == [], page
        assert at.title[0].value == title
