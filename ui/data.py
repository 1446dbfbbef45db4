"""The app's caching wrappers around core calls, in one place.

Resources (the store, the live coverage index, the district layers) are cached
per server process; everything keyed on the store's change counters so that a
write made anywhere (another replica, the CLI, an import) shows on the next
rerun.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import figures
from geo.coverage import CoverageIndex
from geo.demo import first_start_due, install_first_start
from geo.live import LiveCoverage
from geo.public import PublicSummary, summary_from_store
from geo.settings import Settings
from geo.store import Scope, Store, open_store
from ui.i18n import lang, t

_BUILD_LOCK = threading.Lock()


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    """Return the settings (read once per server process)."""
    return Settings.from_env()


def _needs_demo(db: str) -> bool:
    return first_start_due(db)


@dataclass
class Preparing:
    """A first-start build that the server runs (``sibai serve``): how far it is, and when it is done."""

    fraction: float = 0.0
    message: str = ""
    done: threading.Event = field(default_factory=threading.Event)


_PREPARING: Preparing | None = None
"""The server's first-start build, while there is one (set by :func:`prepare_first_start`)."""


def prepare_first_start(*, say: Callable[[str], None]) -> bool:
    """Build the demo district on the very first start, from the server process; return True if built here.

    ``sibai serve`` calls it before warming its caches, so the build's
    progress goes to the terminal (``say``, every 10 % and at each new
    stage) and visitors meanwhile see a page saying the district is being
    prepared (:func:`ensure_database`), then the map. The same rule as the
    pages' build: only the embedded default file, only while it does not exist.
    """
    global _PREPARING
    cfg = settings()
    if not _needs_demo(cfg.db):
        return False
    with _BUILD_LOCK:
        if not _needs_demo(cfg.db):
            return False
        prep = _PREPARING = Preparing()
        said = {"tenth": -1, "stage": ""}

        def progress(fraction: float, message: str) -> None:
            prep.fraction, prep.message = min(max(fraction, 0.0), 1.0), message
            stage = message.split(" ")[0]
            if int(prep.fraction * 10) != said["tenth"] or stage != said["stage"]:
                said["tenth"], said["stage"] = int(prep.fraction * 10), stage
                say(f"preparing the {cfg.demo_scale} demo district: {prep.fraction:4.0%} {message}")

        try:
            install_first_start(cfg.db, scale=cfg.demo_scale, progress=progress)
        finally:
            prep.done.set()
            store.clear()
    return True


def _wait_for(prep: Preparing) -> None:
    """Show that the district is being prepared, with the server's progress, until it is."""
    note = st.info(t("building.preparing"))
    bar = st.progress(prep.fraction, text=prep.message)
    while not prep.done.wait(0.5):
        bar.progress(prep.fraction, text=prep.message)
    note.empty()
    bar.empty()


def ensure_database() -> None:
    """On the very first start, wait for the server's build of the demo district, or build it here.

    Under ``sibai serve`` the server builds it (:func:`prepare_first_start`)
    and the page says so at once, with the build's progress. Otherwise (a
    plain ``streamlit run``) the first page builds it, with a progress bar.
    Only the embedded default file, and only while it does not exist
    (:func:`geo.demo.first_start_due`): a database with anything in it is
    never replaced by a page request.
    """
    prep = _PREPARING
    if prep is not None and not prep.done.is_set():
        _wait_for(prep)
    cfg = settings()
    if not _needs_demo(cfg.db):
        return
    with _BUILD_LOCK:
        if not _needs_demo(cfg.db):
            return
        bar = st.progress(0.0, text=t("building.first_run"))
        install_first_start(
            cfg.db,
            scale=cfg.demo_scale,
            progress=lambda f, m: bar.progress(min(f, 1.0), text=f"{t('building.first_run')} {m}"),
            lang=lang(),
        )
        bar.empty()
        store.clear()


@st.cache_resource(show_spinner=False)
def store() -> Store:
    """Return the shared store (a connection pool per server process).

    Creating the schema is idempotent: it adds only tables that a newer
    version of the app needs and an existing database lacks.
    """
    s = open_store(settings().db)
    if s.has_schema():
        s.create_schema()
    return s


@st.cache_resource(show_spinner=False)
def live() -> LiveCoverage:
    """Return the live coverage index of this server process."""
    return LiveCoverage(store())


def coverage_index() -> CoverageIndex:
    """Return a coverage index that reflects every committed write."""
    return live().current()


def now() -> dt.datetime:
    """Return the local time now (settings ``timezone``), to the minute: the moment issue counts are taken.

    To the minute, as the screens say it ("as of 10:31"): every session in
    that minute counts at the same moment, so the district's figures are
    computed once a minute and data version, not on every rerun of every
    session (:func:`figures_by_grid`, :func:`coverage`).
    """
    from geo.visits import local_now

    return local_now(settings()).replace(second=0)


@st.cache_data(max_entries=8, show_spinner=False)
def _figures_by_grid(
    start: dt.date, end: dt.date, at: dt.datetime, versions: tuple[int, int], db: str
) -> pd.DataFrame:
    return figures.figures_by_grid(coverage_index(), start=start, end=end, now=at)


def figures_by_grid(start: dt.date, end: dt.date, at: dt.datetime) -> pd.DataFrame:
    """Return every grid's figures for the period, counted at ``at`` (``geo.figures``).

    Cached per period, moment and change counters, and shared by every
    session: about 10 ms of CPU on the full district, which the map, the grid
    page and the issues page would otherwise pay on every rerun. The counters
    are read before the index, so an entry is never older than its key.
    """
    return _figures_by_grid(start, end, at, store().versions(), settings().db)


@st.cache_data(max_entries=8, show_spinner=False)
def _coverage(
    start: dt.date, end: dt.date, level: str, at: dt.datetime, versions: tuple[int, int], db: str
) -> pd.DataFrame:
    return coverage_index().coverage(start, end, level=level, now=at)


def coverage(start: dt.date, end: dt.date, level: str) -> pd.DataFrame:
    """Return coverage and issue counts for the period at ``level``, counted at :func:`now` (cached as
    :func:`figures_by_grid`: the grid page's buildings, about 8 ms for the district's 19,760)."""
    return _coverage(start, end, level, now(), store().versions(), settings().db)


@dataclass(frozen=True)
class Layers:
    """The district's area layers with names joined, in EPSG:4326."""

    streets: gpd.GeoDataFrame
    committees: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    as_of: dt.date


@st.cache_resource(show_spinner=False, max_entries=2)
def _layers(reset_version: int, db: str) -> Layers:
    # ``db`` is part of the key so that a switch of database (tests do it) never
    # serves another file's layers.
    s = store()
    # Area outlines and names are no personal data (the public page draws them too):
    # every role gets the whole district's, and pages choose what to show by role.
    everything = Scope.everything()
    streets = s.read_layer("streets", scope=everything)
    committees = s.read_layer("committees", scope=everything)
    grids = s.read_layer("grids", scope=everything)
    cname = committees.set_index("committee_id")["name"]
    cstreet = committees.set_index("committee_id")["street_id"]
    sname = streets.set_index("street_id")["name"]
    grids["committee_name"] = grids["committee_id"].map(cname).to_numpy(dtype=object)
    grids["street_id"] = grids["committee_id"].map(cstreet).to_numpy(dtype=object)
    grids["street_name"] = grids["street_id"].map(sname).to_numpy(dtype=object)
    committees["street_name"] = committees["street_id"].map(sname).to_numpy(dtype=object)
    meta = s.meta()
    as_of = dt.date.fromisoformat(meta["as_of"]) if "as_of" in meta else dt.date.today()
    return Layers(streets=streets, committees=committees, grids=grids, as_of=as_of)


def layers() -> Layers:
    """Return the area layers, re-read only when data was replaced."""
    return _layers(store().versions()[1], settings().db)


def today() -> dt.date:
    """Return today's date in the district's time zone (Shanghai), whatever the server's zone.

    Periods end today, not at the day the demo data was generated for, so a
    visit recorded today always counts.
    """
    pinned = settings().today
    if pinned:
        return dt.date.fromisoformat(pinned)
    return dt.datetime.now(ZoneInfo(settings().timezone)).date()


def grid_frame(grid_id: str) -> pd.DataFrame:
    """Return the row of one grid (empty when unknown)."""
    g = layers().grids
    return g[g["grid_id"] == grid_id]


@st.cache_data(max_entries=16, show_spinner=False)
def _public_summary(
    versions: tuple[int, int], today: dt.date, db: str, period: tuple[dt.date, dt.date]
) -> PublicSummary:
    return summary_from_store(store(), index=coverage_index(), today=today, period=period)


def public_summary(start: dt.date, end: dt.date) -> PublicSummary:
    """Return the public summary of a published period (``geo.public.published_period``), cached.

    Rebuilt only when data, the day or the period changes: building it costs
    about a quarter of a second on the full district, which every visitor of
    the public page would otherwise pay on every rerun.
    """
    return _public_summary(store().versions(), today(), settings().db, (start, end))
