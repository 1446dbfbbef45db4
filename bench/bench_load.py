"""Simulated users over Streamlit's own websocket protocol: p50/p95 per action, server CPU and memory.

Each simulated user is a coroutine that does what a browser does on the wire,
with no browser (so hundreds cost the load generator little):

1. **sign_in** — ``GET /map`` (the page; the app's middleware sets the
   ``sibai_csrf`` cookie), then ``POST /api/session/signin`` with the CSRF
   field, keeping the ``sibai_session`` cookie it sets (``ui/routes.py``);
2. **map** — opens ``/_stcore/stream`` (subprotocol ``streamlit``, both
   cookies on the handshake: the pages read ``st.context.cookies``) and sends
   the ``rerun_script`` BackMsg of the ``map`` page;
3. then, every ``--think`` seconds on average (exponential), one of:
   **period** (the sidebar's period selectbox), **metric** (the map's metric
   selectbox), **click** (the map component's value, a grid and a click id,
   as ``gridmap.js`` sends it), **grid** (the grid page, ``?grid=``, as the
   map's page link opens it), back to **map**;
4. and, spread so that the whole crowd records ``--visits-per-s`` visits a
   second: **household** (the grid page with ``?grid=&household=``, as a row
   click sets it) then **visit** (the visit form submitted: its outcome and
   channel radios and the submit button's trigger, in one BackMsg, as a
   form submit sends them).

Widgets are found the way the frontend finds them: by the ids in the
ForwardMsg deltas (``new_element``), matched on their key (the id ends with
``-<key>``) or their type; a value is sent as the frontend serialises it (a
selectbox's formatted option, a component's JSON). All widget values set in
a session are sent again with every rerun, as the frontend does.

Latency of an action: from sending the BackMsg to the ``script_finished``
ForwardMsg that ends the run successfully (a run that ends early for a
rerun — ``st.rerun``, ``st.switch_page`` — is not the end). An error is a
timeout (``--timeout``), an ``exception`` element in the page, a closed
socket, an HTTP error, or a visit form that said "invalid".

Server CPU and memory come from ``/proc`` for the given ``--pid``\\ s and
their descendants: CPU seconds over the measured window (which opens once
every user has signed in and opened the map: sign-in and the first map are
reported apart, over the ramp-up),
RSS at the end and its peak sampled every second.

Every loop is bounded: ``--duration`` seconds of actions after a ramp-up of
``--ramp`` seconds (plus at most :data:`SETTLE_S` for late sign-ins), then the
sockets close. Only loopback addresses are
accepted.

Usage::

    python bench/bench_load.py --url http://127.0.0.1:8601 --db /tmp/full.gpkg \\
        --users 20 --duration 30 --pid 1234
    python bench/bench_load.py --url http://127.0.0.1:8600 --db postgresql://127.0.0.1/sibai \\
        --users 200 --duration 120 --pid 1234 --pid 1235          # two replicas behind nginx

Figures and their reading: docs/benchmarks.md, "Many users (issue 15, item 6)".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.cookiejar
import itertools
import json
import os
import random
import statistics
import sys
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
SIGN_IN = "/api/session/signin"  # ui.routes.SIGN_IN
CSRF_COOKIE = "sibai_csrf"  # geo.sessions.CSRF_COOKIE
SESSION_COOKIE = "sibai_session"  # geo.sessions.COOKIE
DEMO_PASSWORD = "sibai-demo"  # geo.auth.DEMO_PASSWORD, the documented demo password
FINISHED = ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
COMPILE_ERROR = ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR
ALERT_ERROR, ALERT_SUCCESS = 1, 4  # Alert.Format.ERROR, Alert.Format.SUCCESS
LOOPBACK = ("127.0.0.1", "localhost", "::1")
SETTLE_S = 180.0  # at most this long after the ramp for every user to be signed in and on the map
ACTIONS = ("sign_in", "open_map", "map", "period", "metric", "click", "grid", "household", "visit")
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


class ActionError(Exception):
    """An action that did not end well (timeout, exception on the page, refused)."""


@dataclass
class Stats:
    """Latencies (seconds) and errors per action, shared by every simulated user."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: dict[str, str] = field(default_factory=dict)
    measuring: bool = False

    def add(self, action: str, seconds: float, *, always: bool = False) -> None:
        if self.measuring or always:
            self.times[action].append(seconds)

    def fail(self, action: str, why: str, *, always: bool = False) -> None:
        if self.measuring or always:
            self.errors[action] += 1
        self.examples.setdefault(action, why[:300])


# ----------------------------------------------------------------- HTTP sign-in


def _opener(jar: http.cookiejar.CookieJar) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar)
    )


def sign_in(base: str, user: str, password: str) -> dict[str, str]:
    """Open the map page, post the sign-in form with the CSRF token; return the cookies (blocking)."""
    jar = http.cookiejar.CookieJar()
    opener = _opener(jar)
    page = urllib.request.Request(f"{base}/map", headers={"Accept": "text/html"})
    with opener.open(page, timeout=60) as response:
        response.read()
    cookies = {c.name: c.value for c in jar}
    if CSRF_COOKIE not in cookies:
        raise ActionError("no CSRF cookie on the page")
    form = urllib.parse.urlencode(
        {"user": user, "password": password, "csrf": cookies[CSRF_COOKIE], "ui_lang": "zh", "next": "/map"}
    ).encode()
    post = urllib.request.Request(
        f"{base}{SIGN_IN}", data=form, headers={"Origin": base, "Accept": "text/html"}, method="POST"
    )
    with opener.open(post, timeout=60) as response:  # follows the 303 back to /map, as a browser does
        response.read()
        if "signin=" in response.url:
            raise ActionError(f"sign-in refused: {response.url}")
    cookies = {c.name: c.value for c in jar}
    if SESSION_COOKIE not in cookies:
        raise ActionError("no session cookie after signing in")
    return cookies


# ----------------------------------------------------------------- the websocket session


@dataclass
class Widget:
    """A widget as the deltas describe it."""

    id: str
    kind: str
    options: list[str]
    form_id: str


class Session:
    """One browser tab's websocket: sends reruns, tracks widgets, waits for the end of each run."""

    def __init__(self, base: str, cookies: dict[str, str], timeout: float) -> None:
        self.base = base
        self.cookies = cookies
        self.timeout = timeout
        self.widgets: dict[str, Widget] = {}
        self.states: dict[str, WidgetState] = {}
        self.page = ""
        self.query = ""
        self.saved = False
        self._done: asyncio.Future[None] | None = None
        self._problem: str | None = None
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        url = self.base.replace("http://", "ws://", 1) + "/_stcore/stream"
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self._ws = await connect(
            url,
            subprotocols=["streamlit"],  # type: ignore[list-item]
            additional_headers={"Cookie": cookie, "Origin": self.base},
            max_size=64 * 2**20,
            open_timeout=self.timeout,
            ping_interval=None,
            compression=None,
        )
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader

    async def _read(self) -> None:
        try:
            async for data in self._ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._handle(msg)
        except Exception as exc:  # any end of the socket ends the waiting run
            self._end(f"socket: {exc!r}")
        else:
            self._end("socket closed")

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            self._element(msg.delta.new_element)
        elif kind == "script_finished":
            if msg.script_finished == FINISHED:
                self._end(None)
            elif msg.script_finished == COMPILE_ERROR:
                self._end("the script did not compile")
        elif kind == "page_not_found":
            self._problem = "page not found"
        elif kind == "session_status_changed" and not msg.session_status_changed.script_is_running:
            pass

    def _element(self, element: Any) -> None:
        kind = element.WhichOneof("type")
        if kind == "exception":
            self._problem = f"exception: {element.exception.type}: {element.exception.message}"
            return
        if kind == "alert" and element.alert.format == ALERT_ERROR:  # st.error: an invalid visit
            self._problem = f"error shown: {element.alert.body[:200]}"
            return
        if kind == "alert" and element.alert.format == ALERT_SUCCESS:  # st.success: a visit saved
            self.saved = True
            return
        proto = getattr(element, kind, None) if kind else None
        wid = getattr(proto, "id", "") if proto is not None else ""
        if not wid or not isinstance(wid, str):
            return
        options = list(getattr(proto, "options", []) or []) if kind in ("selectbox", "radio") else []
        self.widgets[wid] = Widget(wid, kind or "", options, str(getattr(proto, "form_id", "")))

    def _end(self, problem: str | None) -> None:
        if problem:
            self._problem = self._problem or problem
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    def find(self, key: str | None = None, kind: str | None = None, form: str | None = None) -> Widget:
        """Return the widget whose id ends with ``-key`` (or of ``kind`` in ``form``)."""
        for w in reversed(list(self.widgets.values())):
            if key is not None and not w.id.endswith(f"-{key}"):
                continue
            if kind is not None and w.kind != kind:
                continue
            if form is not None and not w.form_id.startswith(form) and form not in w.form_id:
                continue
            return w
        raise ActionError(f"no widget key={key} kind={kind} form={form} on page {self.page}")

    async def rerun(self, page: str | None = None, query: str | None = None, **changes: Any) -> float:
        """Send one ``rerun_script`` BackMsg; return the seconds until the run finished."""
        if page is not None:
            if page != self.page:
                self.widgets.clear()
                self.states = {k: v for k, v in self.states.items() if not v.trigger_value}
            self.page = page
            self.query = query or ""
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_name = self.page
        cs.page_script_hash = ""  # the page named by its address, as on a page load or a page link
        cs.context_info.timezone = "Asia/Shanghai"
        cs.context_info.timezone_offset = -480
        cs.context_info.locale = "zh-CN"
        cs.context_info.url = f"{self.base}/{self.page}" + (f"?{self.query}" if self.query else "")
        triggers = [s for s in changes.pop("_states", [])]
        for state in [*self.states.values(), *triggers]:
            cs.widget_states.widgets.append(state)
        self._problem = None
        self.saved = False
        self._done = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        await self._ws.send(msg.SerializeToString())
        try:
            await asyncio.wait_for(self._done, self.timeout)
        except TimeoutError as exc:
            raise ActionError(f"no script_finished within {self.timeout:.0f} s") from exc
        elapsed = time.perf_counter() - started
        if self._problem:
            raise ActionError(self._problem)
        return elapsed

    def keep(self, state: WidgetState) -> WidgetState:
        """Remember a widget value to send with every later rerun (as the frontend does)."""
        if not state.trigger_value:
            self.states[state.id] = state
        return state


# ----------------------------------------------------------------- one simulated user


@dataclass
class Plan:
    """What every user works with: addresses, the district's ids, the pace."""

    base: str
    user: str
    password: str
    grids: list[str]
    households: dict[str, list[str]]  # grid -> occupied households
    think: float
    visit_every: float  # seconds between one user's visits
    timeout: float
    stop_at: float  # moved to the end of the measured window once everyone is on the map
    arrived: list[int] = field(default_factory=lambda: [0])  # users on the map (or given up)


def _string(widget: Widget, rng: random.Random) -> WidgetState:
    state = WidgetState(id=widget.id)
    state.string_value = rng.choice(widget.options)
    return state


async def _act(stats: Stats, action: str, coro: Any) -> bool:
    try:
        stats.add(action, await coro)
    except (ActionError, OSError, TimeoutError) as exc:
        stats.fail(action, f"{type(exc).__name__}: {exc}")
        return False
    return True


async def _visit(session: Session, plan: Plan, rng: random.Random, stats: Stats) -> None:
    grid = rng.choice([g for g in plan.grids if plan.households.get(g)])
    household = rng.choice(plan.households[grid])
    query = urllib.parse.urlencode({"grid": grid, "household": household})
    if not await _act(stats, "household", session.rerun(page="grid", query=query)):
        return

    async def submit() -> float:
        outcome = session.find(key=f"v_outcome_{household}")
        state = WidgetState(id=outcome.id)
        state.string_value = outcome.options[0]  # met
        submit_button = session.find(kind="button", form=f"visit_form_{household}")
        button = WidgetState(id=submit_button.id, trigger_value=True)
        seconds = await session.rerun(_states=[state, button])
        if not session.saved:  # the page says "saved" after its st.rerun(); a duplicate would say otherwise
            raise ActionError("the visit form did not say the visit was saved")
        return seconds

    await _act(stats, "visit", submit())


async def _browse(session: Session, plan: Plan, rng: random.Random, stats: Stats, step: int) -> None:
    action = ("period", "metric", "click", "grid", "map")[step % 5]
    if action in ("period", "metric", "click") and session.page != "map":
        if not await _act(stats, "map", session.rerun(page="map", query="")):
            return
        await asyncio.sleep(rng.expovariate(1 / plan.think))
    if action == "period":
        coro = session.rerun(_states=[session.keep(_string(session.find(key="period"), rng))])
    elif action == "metric":
        coro = session.rerun(_states=[session.keep(_string(session.find(key="metric"), rng))])
    elif action == "click":
        grid = rng.choice(plan.grids)
        state = WidgetState(id=session.find(key="district_map").id)
        state.json_value = json.dumps({"grid": grid, "click": f"{id(session)}:{step}", "seq": step})
        coro = session.rerun(_states=[session.keep(state)])
    elif action == "grid":
        coro = session.rerun(page="grid", query=urllib.parse.urlencode({"grid": rng.choice(plan.grids)}))
    else:
        coro = session.rerun(page="map", query="")
    await _act(stats, action, coro)


async def user(n: int, plan: Plan, stats: Stats, ramp: float) -> None:
    """One simulated user: sign in, open the map, then act until ``plan.stop_at``."""
    rng = random.Random(n)
    await asyncio.sleep(rng.uniform(0, ramp))
    started = time.perf_counter()
    try:
        cookies = await asyncio.to_thread(sign_in, plan.base, plan.user, plan.password)
    except (ActionError, OSError) as exc:
        stats.fail("sign_in", f"{type(exc).__name__}: {exc}", always=True)
        plan.arrived[0] += 1
        return
    stats.add("sign_in", time.perf_counter() - started, always=True)
    session = Session(plan.base, cookies, plan.timeout)
    try:
        await session.open()
        try:
            stats.add("open_map", await session.rerun(page="map", query=""), always=True)
        except ActionError as exc:
            stats.fail("open_map", f"ActionError: {exc}", always=True)
        plan.arrived[0] += 1
        next_visit = time.monotonic() + rng.uniform(0, plan.visit_every)
        for step in itertools.count(rng.randrange(5)):
            await asyncio.sleep(
                min(rng.expovariate(1 / plan.think), max(0.0, plan.stop_at - time.monotonic()))
            )
            if time.monotonic() >= plan.stop_at:
                break
            if time.monotonic() >= next_visit:
                next_visit += plan.visit_every
                await _visit(session, plan, rng, stats)
            else:
                await _browse(session, plan, rng, stats, step)
    except (OSError, TimeoutError) as exc:
        stats.fail("open_map", f"{type(exc).__name__}: {exc}", always=True)
    finally:
        await session.close()


# ----------------------------------------------------------------- the server's processes


def _tree(pids: list[int]) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found = set(pids)
    while True:
        more = {p for p, pp in parents.items() if pp in found} - found
        if not more:
            return found
        found |= more


def cpu_pressure() -> float:
    """Return the machine's cumulated CPU pressure (seconds some task waited for a CPU), or NaN."""
    try:
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return float("nan")
    return int(some.rsplit("total=", 1)[1]) / 1e6


def cpu_rss(pids: list[int]) -> tuple[float, float]:
    """Return CPU seconds (user + system) and RSS in MB of ``pids`` and their descendants."""
    cpu, rss = 0.0, 0.0
    for pid in _tree(pids):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / _TICKS
            rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE / 2**20
    return cpu, rss


async def sample(pids: list[int], peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], cpu_rss(pids)[1])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


# ----------------------------------------------------------------- the district's ids


def district_ids(db: str, limit: int) -> tuple[list[str], dict[str, list[str]]]:
    """Return up to ``limit`` grid ids and each one's occupied households, read from the store."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import bindparam, text

    from geo.store import open_store

    store = open_store(db)
    with store.engine.connect() as conn:
        grids = [r[0] for r in conn.execute(text("SELECT grid_id FROM grids ORDER BY grid_id"))]
        picked = random.Random(7).sample(grids, min(limit, len(grids)))
        rows = conn.execute(
            text(
                "SELECT b.grid_id, h.household_id FROM households h JOIN buildings b"
                " ON b.building_id = h.building_id WHERE h.occupied = 1 AND b.grid_id IN :g"
            ).bindparams(bindparam("g", expanding=True)),
            {"g": picked},
        )
        households: dict[str, list[str]] = defaultdict(list)
        for grid, household in rows:
            if len(households[grid]) < 50:
                households[grid].append(household)
    return picked, dict(households)


# ----------------------------------------------------------------- the run


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(
    stats: Stats,
    args: argparse.Namespace,
    cpu: tuple[float, float, float],
    rss: float,
    peak: float,
    wall: float,
) -> None:
    """Print p50/p95/max and errors per action, then the server's CPU and memory."""
    cpu_s, own_s, stalled_s = cpu
    done = sum(len(v) for v in stats.times.values())
    print(
        f"\n{args.users} users, {args.duration:.0f} s measured after a {args.ramp:.0f} s ramp,"
        f" think {args.think:.0f} s,"
        f" {args.visits_per_s:g} visits/s, {args.url}; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'action':<10} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'errors':>6}")
    for action in ACTIONS:
        values = stats.times.get(action, [])
        errors = stats.errors.get(action, 0)
        if not values and not errors:
            continue
        if values:
            p50, p95, top = (1000 * x for x in (statistics.median(values), _pct(values, 0.95), max(values)))
            print(f"{action:<10} {len(values):>6} {p50:>8.0f} {p95:>8.0f} {top:>8.0f} {errors:>6}")
        else:
            print(f"{action:<10} {0:>6} {'–':>8} {'–':>8} {'–':>8} {errors:>6}")
    print(
        f"actions/s {done / wall:.1f}; server CPU {cpu_s:.1f} s over {wall:.0f} s = {cpu_s / wall:.2f} cores;"
    )
    print(f"server CPU per action {1000 * cpu_s / max(done, 1):.0f} ms (window CPU over actions finished)")
    print(f"machine CPU pressure: some task waited for a CPU {100 * stalled_s / wall:.0f}% of the time")
    print(f"load generator CPU {own_s:.1f} s = {own_s / wall:.2f} cores (sign-in threads included)")
    print(f"server RSS {rss:.0f} MB at the end, peak {peak:.0f} MB (all --pid processes and their children)")
    for action, why in stats.examples.items():
        print(f"  first {action} error: {why}")


async def run(args: argparse.Namespace) -> None:
    grids, households = district_ids(args.db, args.grids)
    loop_start = time.monotonic()
    plan = Plan(
        base=args.url.rstrip("/"),
        user=args.account,
        password=args.password,
        grids=grids,
        households=households,
        think=args.think,
        visit_every=args.users / args.visits_per_s if args.visits_per_s > 0 else float("inf"),
        timeout=args.timeout,
        stop_at=loop_start + args.ramp + SETTLE_S + args.duration,  # the bound, if some never arrive
    )
    stats = Stats()
    peak = [0.0]
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample(args.pid, peak, stop))
    tasks = [asyncio.create_task(user(n, plan, stats, args.ramp)) for n in range(args.users)]
    await asyncio.sleep(args.ramp)
    # Measure the day's actions, not the morning's sign-in: the window opens once every
    # user has signed in and opened the map (sign-ins are reported on their own).
    while plan.arrived[0] < args.users and time.monotonic() < loop_start + args.ramp + SETTLE_S:
        await asyncio.sleep(0.2)
    plan.stop_at = time.monotonic() + args.duration
    settled = time.monotonic() - loop_start
    stats.measuring = True
    cpu0 = cpu_rss(args.pid)[0]
    own0 = time.process_time()
    stalled0 = cpu_pressure()
    t0 = time.perf_counter()
    await asyncio.sleep(max(0.0, plan.stop_at - time.monotonic()))
    stats.measuring = False
    wall = time.perf_counter() - t0
    cpu1, rss = cpu_rss(args.pid)
    own = time.process_time() - own0
    stalled = cpu_pressure() - stalled0
    await asyncio.wait(tasks, timeout=args.timeout + 5)
    for task in tasks:
        task.cancel()
    stop.set()
    await sampler
    print(f"all {plan.arrived[0]} users on the map {settled:.0f} s after the start", flush=True)
    report(stats, args, (cpu1 - cpu0, own, stalled), rss, peak[0], wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the app (or nginx in front of it), on loopback")
    parser.add_argument(
        "--db", required=True, help="the same database the server uses (grid and household ids)"
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured after the ramp-up")
    parser.add_argument("--ramp", type=float, default=15.0, help="seconds over which users sign in")
    parser.add_argument("--think", type=float, default=10.0, help="mean seconds between one user's actions")
    parser.add_argument("--visits-per-s", type=float, default=1.0, help="visits recorded a second, all users")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds before an action counts as failed"
    )
    parser.add_argument("--grids", type=int, default=200, help="how many grids users pick from")
    parser.add_argument("--account", default="demo-district")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--pid", type=int, action="append", default=[], help="a server process (repeatable)")
    args = parser.parse_args()
    host = urllib.parse.urlsplit(args.url).hostname
    if host not in LOOPBACK:
        parser.error("only loopback addresses (127.0.0.1) may be loaded")
    if args.users < 1 or args.users > 1000 or args.duration > 1800:
        parser.error("1–1000 users, at most 1800 s")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
