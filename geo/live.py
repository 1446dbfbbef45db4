"""Keep a fast in-memory :class:`~geo.coverage.CoverageIndex` in step with the store.

Several app servers (and the CLI, and imports) write to one database. Each
reader keeps compact arrays in memory and, on every rerun, asks the store for
its two change counters: a new ``data_version`` means rows were added (new
visits are appended; issues, which change state, are reloaded), a new
``reset_version`` means data was replaced (the arrays are rebuilt). So a visit
recorded on any server shows everywhere on the next rerun.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from geo.coverage import Areas, CoverageIndex, areas_from_frames
from geo.store import Store, schema


@dataclass
class DistrictFrames:
    """The small frames every screen needs, fetched once per data version."""

    households: pd.DataFrame
    areas: Areas


def households_with_grid(store: Store) -> pd.DataFrame:
    """Read households with their grid (``household_id, building_id, grid_id, occupied, residents``)."""
    hh = store.read_table("households", columns=["household_id", "building_id", "occupied", "residents"])
    b = store.read_table("buildings", columns=["building_id", "grid_id"])
    grid = pd.Series(b["grid_id"].to_numpy(dtype=object), index=b["building_id"].to_numpy(dtype=object))
    hh["grid_id"] = grid.reindex(hh["building_id"].to_numpy(dtype=object)).to_numpy(dtype=object)
    hh["occupied"] = hh["occupied"].astype(int)
    hh["residents"] = hh["residents"].astype(int)
    return hh


def read_areas(store: Store) -> Areas:
    """Read the grid → committee → street hierarchy."""
    return areas_from_frames(
        store.read_table("grids", columns=["grid_id", "committee_id"]),
        store.read_table("committees", columns=["committee_id", "street_id"]),
    )


def read_issue_times(store: Store) -> pd.DataFrame:
    """Read what coverage needs of every issue."""
    return store.read_table(
        "issues",
        columns=[
            "issue_id",
            "grid_id",
            "building_id",
            "opened_at",
            "due_at",
            "closed_at",
            "status",
        ],
    )


def read_met_visits(store: Store, *, after_id: int = 0) -> pd.DataFrame:
    """Read ``met`` visits with ids above ``after_id`` (``visit_id, household_id, visited_at, outcome``)."""
    v = schema.visits
    return store.read_table(
        "visits",
        columns=["visit_id", "household_id", "visited_at", "outcome"],
        where=sa.and_(v.c.outcome == "met", v.c.visit_id > after_id),
    )


def coverage_index_from_store(store: Store) -> tuple[CoverageIndex, int]:
    """Build the index from the store; return it and the highest visit id read."""
    visits = read_met_visits(store)
    index = CoverageIndex.from_frames(
        households_with_grid(store), visits, read_issue_times(store), read_areas(store)
    )
    last = int(visits["visit_id"].max()) if len(visits) else 0
    return index, last


class LiveCoverage:
    """A :class:`CoverageIndex` that follows the store's change counters (thread-safe)."""

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
                self._index, self._last_visit = coverage_index_from_store(self.store)
            elif versions[0] != self._versions[0]:
                new = read_met_visits(self.store, after_id=self._last_visit)
                if len(new):
                    self._index.add_visits(new)
                    self._last_visit = int(new["visit_id"].max())
                self._index.set_issues(read_issue_times(self.store))
            self._versions = versions
            return self._index
