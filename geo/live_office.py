"""Office frames that follow the store, beside :mod:`geo.live`: what the weekly check and the pace read."""

from __future__ import annotations

import datetime as dt
import threading
from typing import TYPE_CHECKING

import pandas as pd
import shapely

from geo.office.lagging import VISIT_COLUMNS
from geo.office.weekly import OfficeFrames

if TYPE_CHECKING:
    from geo.store import Scope, Store


class LiveOffice:
    """:class:`OfficeFrames` that follow the store's change counters, like :class:`geo.live.LiveCoverage`.

    A new reset version (data replaced) or another first day re-reads
    everything; a new data version appends the visits with higher ids
    (:meth:`OfficeFrames.with_new_visits`) and re-reads the issues, whose
    states change. Thread-safe.
    """

    def __init__(self, store: Store, *, scope: Scope) -> None:
        self.store = store
        self.scope = scope
        self._lock = threading.Lock()
        self._frames: OfficeFrames | None = None
        self._key: tuple[int, dt.date] | None = None
        self._data_version = -1
        self._last_visit = 0

    def current(self, start: dt.date) -> OfficeFrames:
        """Return frames with every visit since ``start`` committed so far, arrays built."""
        from geo.store import schema

        data_version, reset_version = self.store.versions()
        with self._lock:
            if self._frames is None or self._key != (reset_version, start):
                frames = office_frames_from_store(self.store, scope=self.scope, start=start)
                self._last_visit = int(frames.visits["visit_id"].max()) if len(frames.visits) else 0
            elif data_version != self._data_version:
                v = schema.visits
                new = self.store.read_table(
                    "visits",
                    scope=self.scope,
                    columns=list(VISIT_COLUMNS),
                    where=v.c.visit_id > self._last_visit,
                )
                if len(new):
                    self._last_visit = max(self._last_visit, int(new["visit_id"].max()))
                frames = self._frames.with_new_visits(new[new["visited_at"] >= pd.Timestamp(start)])
                frames = frames.with_issues(
                    self.store.read_table("issues", scope=self.scope, columns=list(frames.issues.columns))
                )
            else:
                return self._frames
            frames.arrays()
            self._frames, self._key, self._data_version = frames, (reset_version, start), data_version
            return frames


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
    issues = store.read_table(
        "issues",
        columns=["issue_id", "grid_id", "level", "status", "opened_at", "due_at", "closed_at"],
        scope=scope,
    )
    return OfficeFrames(
        grids=grids,
        households=hh,
        buildings=buildings,
        workers=workers,
        grid_workers=gw,
        visits=visits,
        issues=issues,
    )
