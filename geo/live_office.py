"""Office frames that follow the store, beside :mod:`geo.live`: what the weekly check and the pace read."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
import shapely

from geo.office.frames import OfficeFrames
from geo.office.lagging import VISIT_COLUMNS

if TYPE_CHECKING:
    from geo.store import Scope, Store


OFFICE_ISSUE_COLUMNS = ("issue_id", "grid_id", "level", "status", "opened_at", "due_at", "closed_at")
"""What the office frames hold of an issue."""


@dataclass
class _Marks:
    """Where the frames stand in the store: what they have read so far."""

    data_version: int
    last_visit: int
    issues: int
    last_issue: int
    last_event: int


class LiveOffice:
    """:class:`OfficeFrames` that follow the store's change counters, like :class:`geo.live.LiveCoverage`.

    A new reset version (data replaced) or another first day re-reads
    everything. A new data version takes in only what changed since the
    marks: visits with higher ids (:meth:`OfficeFrames.with_new_visits`) and
    issues opened or moved since (:func:`geo.store.issue_log.read_changed_issues`,
    :meth:`OfficeFrames.with_changed_issues`); if the district's issue count
    does not add up (issues deleted) the issues are read again. Nothing
    committed is skipped: writers queue on the change counter's row, so ids
    commit in order on PostgreSQL too (:meth:`geo.store.Store._bump`). The
    frames equal a fresh :func:`office_frames_from_store`.
    Thread-safe.
    """

    def __init__(self, store: Store, *, scope: Scope) -> None:
        self.store = store
        self.scope = scope
        self._lock = threading.Lock()
        self._frames: OfficeFrames | None = None
        self._key: tuple[int, dt.date] | None = None
        self._marks: _Marks | None = None

    def current(self, start: dt.date) -> OfficeFrames:
        """Return frames with every visit since ``start`` committed so far, arrays built."""
        from geo.store.issue_log import issue_marks

        data_version, reset_version = self.store.versions()
        with self._lock:
            marks = self._marks
            if self._frames is None or marks is None or self._key != (reset_version, start):
                # Marks before the read: whatever is committed meanwhile is read (again) next time.
                marks = _Marks(data_version, 0, *issue_marks(self.store))
                frames = office_frames_from_store(self.store, scope=self.scope, start=start)
                marks.last_visit = int(frames.visits["visit_id"].max()) if len(frames.visits) else 0
            elif data_version != marks.data_version:
                frames = self._catch_up(self._frames, marks, start)
            else:
                return self._frames
            frames.arrays()
            marks.data_version = data_version
            self._frames, self._key, self._marks = frames, (reset_version, start), marks
            return frames

    def _catch_up(self, frames: OfficeFrames, marks: _Marks, start: dt.date) -> OfficeFrames:
        """Take in what changed since ``marks`` (updated in place)."""
        from geo.store import schema
        from geo.store.issue_log import count_issues_between, issue_marks, read_changed_issues

        count, last_issue, last_event = issue_marks(self.store)
        v = schema.visits
        new = self.store.read_table(
            "visits", scope=self.scope, columns=list(VISIT_COLUMNS), where=v.c.visit_id > marks.last_visit
        )
        if len(new):
            marks.last_visit = max(marks.last_visit, int(new["visit_id"].max()))
            new = new[new["visited_at"] >= pd.Timestamp(start)].sort_values("visit_id", kind="stable")
            frames = frames.with_new_visits(new)
        if (count, last_issue, last_event) != (marks.issues, marks.last_issue, marks.last_event):
            added = count_issues_between(self.store, above=marks.last_issue, up_to=last_issue)
            if count == marks.issues + added:
                changed = read_changed_issues(
                    self.store,
                    columns=OFFICE_ISSUE_COLUMNS,
                    after_issue=marks.last_issue,
                    after_event=marks.last_event,
                    scope=self.scope,
                )
                frames = frames.with_changed_issues(changed)
            else:
                frames = frames.with_issues(read_office_issues(self.store, scope=self.scope))
        marks.issues, marks.last_issue, marks.last_event = count, last_issue, last_event
        return frames


def read_office_issues(store: Store, *, scope: Scope) -> pd.DataFrame:
    """Read every issue in ``scope`` (:data:`OFFICE_ISSUE_COLUMNS`), in issue-id order."""
    return store.read_table("issues", columns=list(OFFICE_ISSUE_COLUMNS), scope=scope, order_by=["issue_id"])


def office_frames_from_store(
    store: Store,
    *,
    scope: Scope,
    start: dt.date,
    end: dt.date | None = None,
) -> OfficeFrames:
    """Read what :func:`weekly_check` needs in ``scope``: visits from ``start`` to ``end``, and issues.

    ``end=None`` reads to the latest visit.
    Building centroids are projected to metres (:func:`geo.crs.metric_xy`).
    Issues are all read (a few per household), since an old issue can still be open.
    Visits are in visit-id order, issues in issue-id order.
    Every frame holds only rows in ``scope`` (areas: those with a grid in it).
    """
    from geo.crs import metric_xy
    from geo.store import schema
    from geo.store.assessment import time_param

    grids = store.read_table("grids", columns=["grid_id", "name", "committee_id"], scope=scope)
    committees = store.read_table("committees", columns=["committee_id", "name", "street_id"], scope=scope)
    streets = store.read_table("streets", columns=["street_id", "name"], scope=scope)
    cname = pd.Series(committees["name"].to_numpy(dtype=object), index=committees["committee_id"].to_numpy())
    cstreet = pd.Series(
        committees["street_id"].to_numpy(dtype=object), index=committees["committee_id"].to_numpy()
    )
    sname = pd.Series(streets["name"].to_numpy(dtype=object), index=streets["street_id"].to_numpy())
    grids["committee_name"] = grids["committee_id"].map(cname).to_numpy(dtype=object)
    grids["street_id"] = grids["committee_id"].map(cstreet).to_numpy(dtype=object)
    grids["street_name"] = grids["street_id"].map(sname).to_numpy(dtype=object)
    grids = grids.sort_values("grid_id", kind="stable").reset_index(drop=True)

    b = store.read_layer("buildings", columns=["building_id", "grid_id"], scope=scope)
    cent = shapely.centroid(b.geometry.to_numpy())
    x, y = metric_xy(shapely.get_x(cent), shapely.get_y(cent))
    buildings = pd.DataFrame(
        {
            "building_id": b["building_id"].to_numpy(dtype=object),
            "grid_id": b["grid_id"].to_numpy(dtype=object),
            "x": x,
            "y": y,
        }
    )
    hh = store.read_table(
        "households", columns=["household_id", "building_id", "occupied", "residents"], scope=scope
    )
    bgrid = pd.Series(buildings["grid_id"].to_numpy(dtype=object), index=buildings["building_id"].to_numpy())
    hh["grid_id"] = bgrid.reindex(hh["building_id"].to_numpy(dtype=object)).to_numpy(dtype=object)
    hh["occupied"] = hh["occupied"].astype(int)
    hh["residents"] = hh["residents"].astype(int)
    workers = store.read_table(
        "workers", columns=["worker_id", "name", "committee_id", "active"], scope=scope
    )
    gw = store.read_table("grid_workers", columns=["grid_id", "worker_id", "role"], scope=scope)
    v = schema.visits
    lo = dt.datetime.combine(start, dt.time())
    when = v.c.visited_at >= time_param(store, lo)
    if end is not None:
        hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
        when = when & (v.c.visited_at < time_param(store, hi))
    visits = store.read_table("visits", columns=list(VISIT_COLUMNS), where=when, scope=scope)
    visits = visits.sort_values("visit_id", kind="stable", ignore_index=True)
    issues = read_office_issues(store, scope=scope)
    return OfficeFrames(
        grids=grids,
        households=hh,
        buildings=buildings,
        workers=workers,
        grid_workers=gw,
        visits=visits,
        issues=issues,
    )
