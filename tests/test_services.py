"""The service fixtures do what later tests rely on.

PostgreSQL scratch databases are isolated and always dropped; the Streamlit
server factory starts, reports and stops servers; the browser sees what a
live server renders, and every request that leaves the machine is caught.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import conftest
import psycopg
import pytest
from conftest import (
    external_requests,
    free_port,
    require_service,
    scratch_database,
    streamlit_process,
)


def _database_exists(admin_url: str, name: str) -> bool:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def _dbname(url: str) -> str:
    return url.rsplit("/", 1)[1]


# --------------------------------------------------------------------- ci and helpers


def test_require_service_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"^Redis is required in CI: port closed$"):
        require_service("Redis", "port closed")


@pytest.mark.parametrize("value", [None, "", "false", "1", "TRUE"])
def test_require_service_skips_outside_ci(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception, match="port closed"):
        require_service("Redis", "port closed")


def test_ci_fixture_reads_ci_env(ci: bool) -> None:
    assert ci is (os.environ.get("CI") == "true")


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))


# --------------------------------------------------------------------------- postgres


@pytest.mark.postgres
def test_pg_url_is_a_fresh_postgis_database(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        database, version = conn.execute("SELECT current_database(), postgis_version()").fetchone()
        # A metric transform needs PROJ inside PostGIS, as the store will.
        (x,) = conn.execute(
            "SELECT round(ST_X(ST_Transform(ST_SetSRID(ST_MakePoint(123, 0), 4326), 32651)))"
        ).fetchone()
        (tables,) = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys'"
        ).fetchone()
    assert database == _dbname(pg_url)
    assert database.startswith("sibai_test_")
    assert version.startswith("3.")
    assert x == 500000  # 123°E is the central meridian of UTM zone 51
    assert tables == 0


@pytest.mark.postgres
def test_scratch_databases_are_separate_and_dropped(pg_admin_url: str) -> None:
    with scratch_database(pg_admin_url) as first, scratch_database(pg_admin_url) as second:
        assert _dbname(first) != _dbname(second)
        with psycopg.connect(first) as conn:
            conn.execute("CREATE TABLE only_here (id int)")
        with psycopg.connect(second) as conn:
            (found,) = conn.execute("SELECT to_regclass('only_here') IS NOT NULL").fetchone()
        assert found is False
        assert _database_exists(pg_admin_url, _dbname(first))
        assert _database_exists(pg_admin_url, _dbname(second))
    assert not _database_exists(pg_admin_url, _dbname(first))
    assert not _database_exists(pg_admin_url, _dbname(second))


@pytest.mark.postgres
def test_scratch_database_is_dropped_after_failure_despite_open_connection(
    pg_admin_url: str,
) -> None:
    leftover = None
    try:
        # scratch_database exits first (the DROP), then pytest.raises catches the error.
        with (
            pytest.raises(RuntimeError, match="test body failed"),
            scratch_database(pg_admin_url) as url,
        ):
            leftover = psycopg.connect(url)  # still open at the DROP: needs WITH (FORCE)
            raise RuntimeError("test body failed")
        assert not _database_exists(pg_admin_url, _dbname(url))
        with pytest.raises(psycopg.OperationalError):
            leftover.execute("SELECT 1")
    finally:
        if leftover is not None:
            leftover.close()


# ---------------------------------------------------------------- streamlit + browser

HELLO_APP = """\
import os
import streamlit as st

st.title("hello")
st.write("db=" + os.environ["SIBAI_DB"])
st.write("extra=" + os.environ.get("SIBAI_EXTRA", "missing"))
"""


@pytest.mark.browser
@pytest.mark.slow
def test_browser_sees_page_of_streamlit_server(streamlit_server, page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    app = tmp_path / "hello_app.py"
    app.write_text(HELLO_APP, encoding="utf-8")
    db = tmp_path / "putuo.gpkg"
    base_url = streamlit_server(str(db), extra_env={"SIBAI_EXTRA": "yes"}, app=app)
    assert base_url.startswith("http://127.0.0.1:")

    foreign = external_requests(page)
    page.goto(base_url)
    expect(page.get_by_role("heading", name="hello")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(f"db={db}")).to_be_visible()
    expect(page.get_by_text("extra=yes")).to_be_visible()
    # Streamlit itself serves all its assets: nothing leaves the machine.
    assert foreign == []


@pytest.mark.browser
def test_external_requests_records_only_foreign_hosts(page) -> None:
    local_port = free_port()  # nothing listens there: the request fails fast
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    foreign = external_requests(page)
    page.set_content(
        f"""
        <img src="http://tiles.example.invalid/0/0/0.png">
        <img src="http://127.0.0.1:{local_port}/local.png">
        <img src="http://localhost:{local_port}/also-local.png">
        <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
        """
    )
    page.evaluate("() => fetch('https://cdn.example.invalid/leaflet.js').then(() => 'ok', () => 'failed')")
    assert foreign == [
        "http://tiles.example.invalid/0/0/0.png",
        "https://cdn.example.invalid/leaflet.js",
    ]
    # The listener saw the local requests too; it just did not record them.
    assert f"http://127.0.0.1:{local_port}/local.png" in seen
    assert f"http://localhost:{local_port}/also-local.png" in seen


@pytest.mark.browser
@pytest.mark.slow
def test_external_requests_catches_fetch_from_streamlit_page(streamlit_server, page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    app = tmp_path / "leaky_app.py"
    app.write_text(
        "import streamlit as st\n"
        "st.title('leaky')\n"
        "st.markdown('![tile](https://tiles.example.invalid/7/106/52.png)')\n",
        encoding="utf-8",
    )
    base_url = streamlit_server(str(tmp_path / "unused.gpkg"), app=app)
    foreign = external_requests(page)
    page.goto(base_url)
    expect(page.get_by_role("heading", name="leaky")).to_be_visible(timeout=30_000)
    deadline = time.monotonic() + 10
    while not foreign and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert foreign == ["https://tiles.example.invalid/7/106/52.png"]


@pytest.mark.browser
@pytest.mark.slow
def test_streamlit_process_stops_app_children(page, tmp_path: Path) -> None:
    """Stopping the server (the factory's teardown) ends its whole process group."""
    pid_file = tmp_path / "child.pid"
    app = tmp_path / "spawning_app.py"
    app.write_text(
        "import os, subprocess\n"
        "import streamlit as st\n"
        "child = subprocess.Popen(['sleep', '300'])\n"
        "open(os.environ['CHILD_PID_FILE'], 'w').write(str(child.pid))\n"
        "st.title('spawned')\n",
        encoding="utf-8",
    )
    with streamlit_process(
        "unused",
        app=app,
        extra_env={"CHILD_PID_FILE": str(pid_file)},
        log_dir=tmp_path,
    ) as base_url:
        page.goto(base_url)  # the script, and so the child, runs per browser session
        page.get_by_role("heading", name="spawned").wait_for(timeout=30_000)
        child = int(pid_file.read_text())
        assert _alive(child)
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    """Tell whether ``pid`` runs; a zombie nobody reaped yet counts as gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.slow
def test_streamlit_server_reports_early_death(streamlit_server, tmp_path: Path) -> None:
    missing = tmp_path / "no_such_app.py"
    expected = r"(?s)exited with code 2 .*File does not exist: .*no_such_app\.py"
    with pytest.raises(pytest.fail.Exception, match=expected):
        streamlit_server("unused", app=missing)


@pytest.mark.browser
@pytest.mark.slow
def test_later_tests_may_use_asyncio_run_while_browser_lives(
    pytester: pytest.Pytester, chromium_path: str
) -> None:
    """Playwright's sync API marks its loop as running; the conftest hides it from others."""
    pytester.makeconftest(Path(conftest.__file__).read_text(encoding="utf-8"))
    pytester.makepyfile(
        """
        import asyncio

        def test_1_uses_browser(browser):
            assert browser.is_connected()

        def test_2_runs_asyncio():
            async def answer():
                await asyncio.sleep(0)
                return 42

            assert asyncio.run(answer()) == 42

        def test_3_uses_browser_again(browser):
            page = browser.new_page()
            page.set_content("<p>still here</p>")
            assert page.inner_text("p") == "still here"
            page.close()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=3)
