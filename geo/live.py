"""Keep a fast in-memory :class:`~geo.coverage.CoverageIndex` in step with the store.

Several app servers (and the CLI, and imports) write to one database. Each
reader keeps compact arrays in memory and, on every rerun, asks the store for
its two change counters: a new ``data_version`` means rows were added or
issues moved, and the reader takes in only what changed — visits with ids
above the last it read, issues opened or with events since the last it read
(:func:`geo.store.issue_log.issue_marks`) — at a cost in proportion to the
change, not to the district; a new ``reset_version`` means data was replaced
(the arrays are rebuilt). So a visit recorded on any server shows everywhere
on the next rerun, for a few milliseconds of work. "Ids above the last read"
misses nothing because writers queue on the change counter's row and so
commit their ids in order, on PostgreSQL too (:meth:`geo.store.Store._bump`).

A restart starts from a snapshot of the arrays saved beside the database
(:func:`snapshot_path`), used only if it was taken of the same data (same
reset version, district and snapshot format) and then caught up like any
rerun; ``sibai coverage`` reads the same snapshot.

Issue counts follow the clock as well as the counters: the index built here
has the district's local time (:func:`geo.clock.local_now`, the
issues page's ``now``) and the settings' time limits, so an issue that has
run past its limits counts as overdue on every map and in ``sibai coverage``
as soon as it does on the issues page, before ``sibai escalate`` writes the
steps — no timer involved.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from geo.clock import local_now
from geo.coverage import MERGE_AT, Areas, CoverageIndex, areas_from_frames
from geo.issues import limits_days
from geo.store import Scope, Store, schema, sessions
from geo.store.issue_log import issue_marks, read_changed_issues


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
        store.read_table("streets", scope=everything, columns=["street_id"]),
    )


ISSUE_COLUMNS = ("issue_id", "grid_id", "building_id", "level", "opened_at", "due_at", "closed_at", "status")
"""What coverage needs of an issue."""


def read_issue_times(store: Store, *, scope: Scope) -> pd.DataFrame:
    """Read what coverage needs of every issue in ``scope``."""
    return store.read_table("issues", scope=scope, columns=list(ISSUE_COLUMNS))


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


SNAPSHOT_FORMAT = 1
"""Bumped whenever the snapshot's arrays or their meaning change: an older snapshot is then discarded."""


def snapshot_path(store: Store) -> Path | None:
    """Return where the coverage snapshot of ``store`` is kept: ``<database file>.coverage.npz``.

    PostgreSQL has no file to sit beside: its snapshot goes to the
    ``cache_dir`` setting, named by the database (:meth:`Store.database_key`),
    ``<cache_dir>/coverage-<key>.npz``; without that setting (the default)
    there is none, and each replica builds its index from the database on
    start. Either way a snapshot is used only if it was taken of the same
    data (:func:`_identity`, the reset version), then caught up.
    """
    if store.path is not None:
        return store.path.with_name(f"{store.path.name}.coverage.npz")
    folder = store.settings.cache_dir
    return Path(folder).expanduser() / f"coverage-{store.database_key()}.npz" if folder else None


@dataclass
class _Marks:
    """Where a live index stands in the store: what it has read so far."""

    data_version: int
    reset_version: int
    last_visit: int
    issues: int
    last_issue: int
    last_event: int


def _identity(store: Store) -> dict[str, Any]:
    """Return what a snapshot must share with the database: the district and the rules it was built under.

    The cookies' signing key (kept in ``sibai_meta`` too, made on the first
    sign-in) is left out: it says nothing of the district, a snapshot must not
    carry a secret, and with it the first sign-in made every snapshot stale.
    """
    meta = {k: v for k, v in store.meta().items() if k != sessions.META_KEY}
    identity = {
        "format": SNAPSHOT_FORMAT,
        "meta": meta,
        "households": list(store.households_fingerprint()),
        "limits": dict(limits_days(store.settings)),
    }
    if store.path is None:  # PostgreSQL: the database too (a file's copy keeps its snapshot, beside it)
        identity["database"] = store.database_key()
    return identity


class LiveCoverage:
    """A :class:`CoverageIndex` of the whole district that follows the store's change counters (thread-safe).

    An aggregate, not a personal read: it gives coverage and issue counts per
    area (pages filter those by role policy, ``docs/security.md``); the
    household ids inside it are only ever intersected with scoped reads.

    ``snapshot`` (default: :func:`snapshot_path`) is where the index is saved
    after a full build and read on start; None keeps no snapshot.
    """

    def __init__(self, store: Store, *, snapshot: Path | bool | None = True) -> None:
        self.store = store
        self.snapshot = snapshot_path(store) if snapshot is True else (snapshot or None)
        self._lock = threading.Lock()
        self._index: CoverageIndex | None = None
        self._marks: _Marks | None = None
        self.started_from = ""
        """How the index was first made: ``snapshot`` or ``build`` (benchmarks and tests read it)."""

    def current(self) -> CoverageIndex:
        """Return an index that reflects every write committed so far."""
        data_version, reset_version = self.store.versions()
        with self._lock:
            marks = self._marks
            if self._index is None or marks is None or reset_version != marks.reset_version:
                self._start(reset_version)
            elif data_version != marks.data_version:
                self._catch_up(self._index, marks)
            assert self._index is not None and self._marks is not None
            # The version read before reading: a write committed meanwhile shows as a change next time.
            self._marks.data_version = data_version
            return self._index

    def _start(self, reset_version: int) -> None:
        loaded = self._load(reset_version)
        if loaded is not None:
            index, marks = loaded
            caught = self._catch_up(index, marks)
            self.started_from = "snapshot"
            if caught > MERGE_AT:
                self._save(index, marks)
        else:
            marks = self._read_marks(reset_version)
            index, last = coverage_index_from_store(self.store, scope=Scope.everything())
            # Marks were read before the build: whatever came in meanwhile is read (again) next time.
            marks.last_visit = last
            self.started_from = "build"
            self._save(index, marks)
        self._index, self._marks = index, marks

    def _read_marks(self, reset_version: int) -> _Marks:
        data_version, _ = self.store.versions()
        issues, last_issue, last_event = issue_marks(self.store)
        return _Marks(data_version, reset_version, 0, issues, last_issue, last_event)

    def _catch_up(self, index: CoverageIndex, marks: _Marks) -> int:
        """Take in what changed since ``marks`` (updated in place); return the number of visits read."""
        everything = Scope.everything()
        count, last_issue, last_event = issue_marks(self.store)
        new = read_met_visits(self.store, scope=everything, after_id=marks.last_visit)
        if len(new):
            index.add_visits(new)
            marks.last_visit = int(new["visit_id"].max())
        if (last_issue, last_event) != (marks.last_issue, marks.last_event):
            index.update_issues(
                read_changed_issues(
                    self.store,
                    columns=ISSUE_COLUMNS,
                    after_issue=marks.last_issue,
                    after_event=marks.last_event,
                    scope=everything,
                )
            )
        if index.n_issues != count:
            # Issues deleted without a reset, or written while these were read: read them all.
            index.set_issues(read_issue_times(self.store, scope=everything))
        marks.issues, marks.last_issue, marks.last_event = count, last_issue, last_event
        return len(new)

    def _load(self, reset_version: int) -> tuple[CoverageIndex, _Marks] | None:
        """Read the snapshot if there is one of this very data; None otherwise (it is then rebuilt)."""
        if self.snapshot is None or not self.snapshot.is_file():
            return None
        try:
            with np.load(self.snapshot, allow_pickle=False) as z:
                about = json.loads(str(z["about"]))
                if (
                    about["identity"] != _identity(self.store)
                    or about["marks"]["reset_version"] != reset_version
                ):
                    return None
                state = {k: z[k] for k in z.files if k != "about"}
            marks = _Marks(**about["marks"])
            settings = self.store.settings
            index = CoverageIndex.from_state(
                state, read_areas(self.store), limits=limits_days(settings), clock=lambda: local_now(settings)
            )
        except (OSError, ValueError, KeyError, TypeError):  # unreadable, or arrays of another district
            return None
        return index, marks

    def _save(self, index: CoverageIndex, marks: _Marks) -> None:
        """Write the snapshot beside the database, atomically (a read-only folder costs warm starts only)."""
        if self.snapshot is None:
            return
        about = json.dumps({"identity": _identity(self.store), "marks": marks.__dict__})
        part = self.snapshot.with_name(f".{self.snapshot.name}.{os.getpid()}.part")
        try:
            self.snapshot.parent.mkdir(parents=True, exist_ok=True)  # the cache folder (PostgreSQL)
            with open(part, "wb") as f:
                np.savez(f, about=np.array(about), **index.state())  # type: ignore[arg-type]
            os.replace(part, self.snapshot)
        except OSError:
            part.unlink(missing_ok=True)
