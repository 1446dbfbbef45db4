"""Keep a fast in-memory :class:`~geo.coverage.CoverageIndex` in step with the store.

Several app servers (and the CLI, and imports) write to one database. Each
reader keeps compact arrays in memory and, on every rerun, asks the store for
its two change counters: a new ``data_version`` means rows were added (new
visits are appended; issues, which change state, are reloaded), a new
``reset_version`` means data was replaced (the arrays are rebuilt). So a visit
recorded on any server shows everywhere on the next rerun.

Issue counts follow the clock as well as the counters: the index built here
has the district's local time (:func:`geo.clock.local_now`, the
issues page's ``now``) and the settings' time limits, so an issue that has
run past its limits counts as overdue on every map and in ``sibai coverage``
as soon as it does on the issues page, before ``sibai escalate`` writes the
steps — no timer involved.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from geo.clock import local_now
from geo.coverage import Areas, CoverageIndex, areas_from_frames
from geo.issues import limits_days
from geo.store import Scope, Store, schema


@dataclass
class DistrictFrames:
    """The small frames every screen needs, fetched once per data version."""

    households: pd.DataFrame
    areas: Areas


def households_with_grid(store: Store, *, scope: Scope) -> pd.DataFrame:
    """Read the households in ``scope`` with their grid.

    Columns ``household_id, building_id, grid_id, occupied, residents``.
    """
    hh = store.read_table(
        "households", scope=scope, columns=["household_id", "building_id", "occupied", "residents"]
    )
    b = store.read_table("buildings", scope=scope, columns=["building_id", "grid_id"])
    grid = pd.Series(b["grid_id"].to_numpy(dtype=object), index=b["building_id"].to_numpy(dtype=object))
    hh["grid_id"] = grid.reindex(hh["building_id"].to_numpy(dtype=object)).to_numpy(dtype=object)
    hh["occupied"] = hh["occupied"].astype(int)
    hh["residents"] = hh["residents"].astype(int)
    return hh


def read_areas(store: Store) -> Areas:
    """Read the whole district's grid → committee → street hierarchy (area codes, nothing personal)."""
    everything = Scope.everything()
    return areas_from_frames(
        store.read_table("grids", scope=everything, columns=["grid_id", "committee_id"]),
        store.read_table("committees", scope=everything, columns=["committee_id", "street_id"]),
    )


def read_issue_times(store: Store, *, scope: Scope) -> pd.DataFrame:
    """Read what coverage needs of every issue in ``scope``."""
    return store.read_table(
        "issues",
        scope=scope,
        columns=[
            "issue_id",
            "grid_id",
            "building_id",
            "level",
            "opened_at",
            "due_at",
            "closed_at",
            "status",
        ],
    )


def read_met_visits(store: Store, *, scope: Scope, after_id: int = 0) -> pd.DataFrame:
    """Read ``met`` visits in ``scope`` with ids above ``after_id``.

    Columns ``visit_id, household_id, visited_at, outcome``.
    """
    v = schema.visits
    return store.read_table(
        "visits",
        scope=scope,
        columns=["visit_id", "household_id", "visited_at", "outcome"],
        where=sa.and_(v.c.outcome == "met", v.c.visit_id > after_id),
    )


def coverage_index_from_store(store: Store, *, scope: Scope) -> tuple[CoverageIndex, int]:
    """Build the index of the households in ``scope``; return it and the highest visit id read.

    The app's shared index (:class:`LiveCoverage`) covers the whole district:
    it answers counts per area, which pages show or not by role (see
    ``docs/security.md``); areas outside ``scope`` count no households here.
    Its issue counts apply the escalation clock at the local time (module
    docstring).
    """
    visits = read_met_visits(store, scope=scope)
    settings = store.settings
    index = CoverageIndex.from_frames(
        households_with_grid(store, scope=scope),
        visits,
        read_issue_times(store, scope=scope),
        read_areas(store),
        limits=limits_days(settings),
        clock=lambda: local_now(settings),
    )
    last = int(visits["visit_id"].max()) if len(visits) else 0
    return index, last


class LiveCoverage:
    """A :class:`CoverageIndex` of the whole district that follows the store's change counters (thread-safe).

    An aggregate, not a personal read: it gives coverage and issue counts per
    area (pages filter those by role policy, ``docs/security.md``); the
    household ids inside it are only ever intersected with scoped reads.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._versions: tuple[int, int] | None = None
        self._index: CoverageIndex | None = None
        self._last_visit = 0

    def current(self) -> CoverageIndex:
        """Return an index that reflects every write committed so far."""
        versions = self.store.versions()
        with self._lock:
            if self._index is None or self._versions is None or versions[1] != self._versions[1]:
                self._index, self._last_visit = coverage_index_from_store(
                    self.store, scope=Scope.everything()
                )
            elif versions[0] != self._versions[0]:
                new = read_met_visits(self.store, scope=Scope.everything(), after_id=self._last_visit)
                if len(new):
                    self._index.add_visits(new)
                    self._last_visit = int(new["visit_id"].max())
                self._index.set_issues(read_issue_times(self.store, scope=Scope.everything()))
            self._versions = versions
            return self._index
