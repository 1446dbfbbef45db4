"""The office's frames (:class:`OfficeFrames`) and the positional arrays the weekly check reads.

Visits and issues change all afternoon, so both can be taken in at a cost in
proportion to the change (:meth:`OfficeFrames.with_new_visits`,
:meth:`OfficeFrames.with_changed_issues`), with the same frames and arrays as
reading everything afresh:

- visit arrays live in buffers with room to spare: visits later than every
  visit held are written after the last one (the frames already handed out
  keep their shorter views, unchanged); a visit recorded late is inserted at
  its place in time, one copy of the arrays; a household's first met visit is
  carried forward instead of recomputed;
- new visit rows wait in a small frame beside the one read at build and are
  joined to it once :data:`MERGE_AT` have gathered (or when ``visits`` is read);
- changed issues overwrite their rows (the frame is kept in issue-id order) and
  only their arrays are computed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.coverage import overdue_from
from geo.issues import limits_days
from geo.office.calendar import _seconds

WORKER_LEVELS = ("building", "grid")
"""Issue levels a grid's own workers answer for (小事不出楼，大事不出网格)."""

MERGE_AT = 4096
"""New visit rows gathered beside the frame read at build before they are joined to it."""

_SORTED_INSERT_MAX = 256
"""Above this many visits recorded late in one catch-up, the arrays are re-sorted instead of spliced."""

VISIT_KEYS = ("v_id", "v_h", "v_g", "v_b", "v_w", "v_worker", "v_met", "v_channel", "v_door", "v_t")
"""The visit arrays, in the order of the visits by time (then id); ``v_worker`` and ``v_channel`` are
codes into ``worker_names`` and ``channel_names`` (:func:`visit_names`)."""


@dataclass
class _Buffers:
    """Visit arrays with room to grow; ``n`` is how much of them the newest frames use."""

    arrays: dict[str, np.ndarray]
    n: int

    @classmethod
    def holding(cls, views: dict[str, np.ndarray], extra: int) -> _Buffers:
        n = len(views["v_t"])
        room = n + extra + max(1024, (n + extra) // 16)
        arrays = {}
        for k in VISIT_KEYS:
            buf = np.empty(room, dtype=views[k].dtype)
            buf[:n] = views[k]
            arrays[k] = buf
        return cls(arrays, n)

    def room(self) -> int:
        return len(self.arrays["v_t"]) - self.n


class OfficeFrames:
    """What the weekly check reads: one district (or part of it), a year of activity.

    Frames (object or string id columns; times as ``datetime64``):

    - ``grids``: ``grid_id, name, committee_id, committee_name, street_id, street_name``
    - ``households``: ``household_id, building_id, grid_id, occupied, residents``
    - ``buildings``: ``building_id, grid_id, x, y`` (centroid in metres, :func:`geo.crs.metric_xy`)
    - ``workers``: ``worker_id, name, committee_id`` (``active`` optional)
    - ``grid_workers``: ``grid_id, worker_id, role``
    - ``visits``: ``visit_id, household_id, worker_id, visited_at, outcome, channel``
      (at least the year checked)
    - ``issues``: ``issue_id, grid_id, level, opened_at, due_at, closed_at``

    The frames are read, never changed: ``with_*`` return new frames.
    """

    def __init__(
        self,
        grids: pd.DataFrame,
        households: pd.DataFrame,
        buildings: pd.DataFrame,
        workers: pd.DataFrame,
        grid_workers: pd.DataFrame,
        visits: pd.DataFrame,
        issues: pd.DataFrame,
    ) -> None:
        self.grids = grids
        self.households = households
        self.buildings = buildings
        self.workers = workers
        self.grid_workers = grid_workers
        self._issues = issues
        self._issue_changes: pd.DataFrame | None = None
        self._visits = visits
        self._recent: pd.DataFrame | None = None
        self._joining = threading.Lock()  # the frames below are joined once, by one reader
        self._cache: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"OfficeFrames({len(self.grids)} grids, {len(self.visits)} visits, {len(self.issues)} issues)"

    @property
    def visits(self) -> pd.DataFrame:
        """Every visit held: the frame read at build, then those taken in since, in that order."""
        with self._joining:
            if self._recent is not None:
                self._visits = pd.concat([self._visits, self._recent], ignore_index=True)
                self._recent = None
            return self._visits

    @property
    def issues(self) -> pd.DataFrame:
        """Every issue held, in issue-id order: changed rows are written in when this is first read."""
        with self._joining:
            if self._issue_changes is not None:
                self._issues = _with_rows(self._issues, self._issue_changes)
                self._issue_changes = None
            return self._issues

    def _sharing(self, *, cache: dict[str, Any], issues: pd.DataFrame | None = None) -> OfficeFrames:
        with self._joining:  # the pairs (frame, rows waiting) as one reader left them
            visits, recent, held, changes = self._visits, self._recent, self._issues, self._issue_changes
        out = OfficeFrames(
            self.grids,
            self.households,
            self.buildings,
            self.workers,
            self.grid_workers,
            visits,
            held if issues is None else issues,
        )
        out._recent, out._cache = recent, cache
        out._issue_changes = changes if issues is None else None
        return out

    def arrays(self) -> dict[str, Any]:
        """Return positional arrays built once per instance (ids → positions, times → seconds).

        Visit arrays and issue arrays are built separately, so new visits and
        changed issues each keep the other's arrays.
        """
        c = self._cache
        if "v_t" not in c:
            built = _visit_arrays(c, self.visits, self)
            # Held in buffers with room to spare from the start, so the next visit is written, not copied.
            buffers = _Buffers.holding(built, 0)
            c.update(built)
            c.update({k: buffers.arrays[k][: buffers.n] for k in VISIT_KEYS}, v_buffers=buffers)
        if "i_g" not in c:
            c.update(_issue_arrays(self.issues, c["grid_ids"]))
        return c

    def with_new_visits(self, visits: pd.DataFrame) -> OfficeFrames:
        """Return the frames with ``visits`` appended, extending the arrays instead of rebuilding them.

        Positions are looked up for the new rows only. Visits later than every
        visit held are written into the buffers' spare room; visits recorded
        late are spliced in at their place (one copy of the arrays). Not
        thread-safe on one instance: :class:`geo.live_office.LiveOffice` calls it
        under its lock.
        """
        if len(visits) == 0:
            return self
        out = self._sharing(cache={})
        rows = visits[list(out._visits.columns)]
        out._recent = rows if out._recent is None else pd.concat([out._recent, rows], ignore_index=True)
        if len(out._recent) >= MERGE_AT:
            out.visits  # noqa: B018 - joins the waiting rows to the frame, once per MERGE_AT rows
        old = self._cache
        if "v_t" not in old:
            return out
        part = _visit_arrays(old, rows, self)
        out._cache = {k: v for k, v in old.items() if not k.startswith(("v_", "first_met_"))}
        out._cache.update(_merged_visits(old, part))
        return out

    def with_issues(self, issues: pd.DataFrame) -> OfficeFrames:
        """Return the same frames with other issues, sharing the visit arrays already built."""
        cache = {k: v for k, v in self._cache.items() if not k.startswith("i_")}
        return self._sharing(cache=cache, issues=issues)

    def with_changed_issues(self, changed: pd.DataFrame) -> OfficeFrames:
        """Return the frames with ``changed`` issues in place of the rows with their ids, new ids added.

        Only the changed rows' arrays are computed; the ``issues`` frame (in
        issue-id order) takes the rows when it is next read, since the weekly
        check and the pace read the arrays only.
        """
        if len(changed) == 0:
            return self
        out = self._sharing(cache={k: v for k, v in self._cache.items() if not k.startswith("i_")})
        changed = changed[list(out._issues.columns)].sort_values("issue_id", kind="stable")
        if out._issue_changes is not None:  # a later change of an issue replaces an earlier one
            both = pd.concat([out._issue_changes, changed], ignore_index=True)
            out._issue_changes = both.drop_duplicates("issue_id", keep="last")
        else:
            out._issue_changes = changed
        if "i_g" in self._cache:
            ids = self._cache["i_id"]
            at, held, order = _row_places(ids, changed["issue_id"].to_numpy(dtype=np.int64))
            for k, v in _issue_arrays(changed, self._cache["grid_ids"]).items():
                merged = self._cache[k].copy()
                merged[at] = v[held]
                merged = np.concatenate([merged, v[~held]])
                out._cache[k] = merged if order is None else merged[order]
        return out


def _row_places(ids: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Place rows with sorted ids ``new`` among rows with sorted ids ``ids``.

    Return the positions of the ids already held, which of ``new`` are held,
    and the order that puts the held rows followed by the others back into
    id order (None when the others all come after the last held).
    """
    pos = np.searchsorted(ids, new)
    held = pos < len(ids)
    held[held] = ids[pos[held]] == new[held]
    added = new[~held]
    order = None
    if len(added) and len(ids) and added[0] < ids[-1]:
        order = np.argsort(np.concatenate([ids, added]), kind="stable")
    return pos[held], held, order


def _with_rows(frame: pd.DataFrame, changed: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` (in issue-id order) with the rows of ``changed`` in place of those with their ids."""
    changed = changed.sort_values("issue_id", kind="stable")
    at, held, order = _row_places(
        frame["issue_id"].to_numpy(dtype=np.int64), changed["issue_id"].to_numpy(dtype=np.int64)
    )
    out = frame.copy()
    for j, col in enumerate(frame.columns):
        out.iloc[at, j] = changed[col].to_numpy()[held]
    if (~held).any():
        out = pd.concat([out, changed[~held]], ignore_index=True)
    return out if order is None else out.take(order).reset_index(drop=True)


def _issue_arrays(iss: pd.DataFrame, grid_ids: pd.Index) -> dict[str, np.ndarray]:
    return {
        "i_id": iss["issue_id"].to_numpy(dtype=np.int64),
        "i_g": grid_ids.get_indexer(iss["grid_id"].to_numpy(dtype=object)),
        "i_open": _seconds(iss["opened_at"].to_numpy()),
        "i_close": _seconds(iss["closed_at"].to_numpy()),
        # Overdue as on the issues page: the escalation clock applied on read (geo.coverage).
        "i_overdue_from": _seconds(overdue_from(iss, limits=limits_days())),
        "i_worker_level": np.isin(iss["level"].to_numpy(dtype=object), list(WORKER_LEVELS)),
    }


def _visit_arrays(c: dict[str, Any], v: pd.DataFrame, frames: OfficeFrames) -> dict[str, Any]:
    """Return the visit arrays of ``v`` in time order; id indexes already in ``c`` are reused (else added)."""
    if "hh_ids" not in c:
        c["grid_ids"] = pd.Index(frames.grids["grid_id"].to_numpy(dtype=object))
        c["hh_ids"] = pd.Index(frames.households["household_id"].to_numpy(dtype=object))
        c["worker_ids"] = pd.Index(frames.workers["worker_id"].to_numpy(dtype=object))
        b_ids = pd.Index(frames.buildings["building_id"].to_numpy(dtype=object))
        c["h_grid"] = c["grid_ids"].get_indexer(frames.households["grid_id"].to_numpy(dtype=object))
        c["h_building"] = b_ids.get_indexer(frames.households["building_id"].to_numpy(dtype=object))
        c["h_occupied"] = frames.households["occupied"].to_numpy().astype(bool)
        c["b_x"] = frames.buildings["x"].to_numpy(dtype=float)
        c["b_y"] = frames.buildings["y"].to_numpy(dtype=float)
    v_h = c["hh_ids"].get_indexer(v["household_id"].to_numpy(dtype=object))
    known = v_h >= 0
    v_t = _seconds(v["visited_at"].to_numpy())
    order = np.lexsort((v["visit_id"].to_numpy(dtype=np.int64), v_t))
    order = order[known[order]]
    v_h = v_h[order]
    worker = v["worker_id"].to_numpy(dtype=object)[order]
    # Names as codes into lists that only grow: splicing integers is cheap, objects are not.
    worker_code, worker_names = _codes(worker, c.get("worker_names", c["worker_ids"].to_numpy()))
    channel, channel_names = _codes(v["channel"].to_numpy(dtype=object)[order], c.get("channel_names"))
    return {
        "v_id": v["visit_id"].to_numpy(dtype=np.int64)[order],
        "v_h": v_h,
        "v_g": c["h_grid"][v_h],
        "v_b": c["h_building"][v_h],
        "v_w": c["worker_ids"].get_indexer(worker),
        "v_worker": worker_code,
        "v_met": v["outcome"].to_numpy(dtype=object)[order] == "met",
        "v_channel": channel,
        "v_door": channel_names[channel] == "door" if len(channel) else np.zeros(0, dtype=bool),
        "v_t": v_t[order],
        "worker_names": worker_names,
        "channel_names": channel_names,
    }


def _codes(values: np.ndarray, names: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``values`` as positions in ``names``, and ``names`` with the values it lacked appended."""
    names = np.empty(0, dtype=object) if names is None else names
    codes = pd.Index(names).get_indexer(values)
    if (codes < 0).any():
        names = np.concatenate([names, pd.unique(values[codes < 0])])
        codes = pd.Index(names).get_indexer(values)
    return codes.astype(np.int32), names


def visit_names(c: dict[str, Any], pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the worker ids and channels of the visits at ``pos`` of the arrays ``c``."""
    return c["worker_names"][c["v_worker"][pos]], c["channel_names"][c["v_channel"][pos]]


def _insert_at(old: dict[str, Any], part: dict[str, Any]) -> np.ndarray:
    """Return where each new visit goes among the old ones (both in (time, id) order)."""
    t, ids = old["v_t"], old["v_id"]
    at = np.searchsorted(t, part["v_t"], side="left")
    end = np.searchsorted(t, part["v_t"], side="right")
    for j in np.flatnonzero(end > at):  # same second as visits held: order by id within it
        at[j] += int(np.searchsorted(ids[at[j] : end[j]], part["v_id"][j]))
    return at


def _merged_visits(old: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """Return the visit arrays of ``old`` and ``part`` merged in (time, id) order, with first-met answers."""
    n, k = len(old["v_t"]), len(part["v_t"])
    if k == 0:
        return {key: v for key, v in old.items() if key.startswith(("v_", "first_met_"))} | _names(part)
    at = _insert_at(old, part)
    final = at + np.arange(k)
    buffers: _Buffers | None = old.get("v_buffers")
    if k > _SORTED_INSERT_MAX and at[0] < n:
        # Many visits recorded late: one sort of integers beats splicing each.
        merged = {key: np.concatenate([old[key], part[key]]) for key in VISIT_KEYS}
        order = np.lexsort((merged["v_id"], merged["v_t"]))
        out: dict[str, Any] = {key: merged[key][order] for key in VISIT_KEYS}
        out["v_buffers"] = None
        return out | _names(part)  # first-met answers are recomputed when next asked
    if at[0] == n and buffers is not None and buffers.n == n and buffers.room() >= k:
        # Later than every visit held, and these frames are the newest: write into the spare room.
        for key in VISIT_KEYS:
            buffers.arrays[key][n : n + k] = part[key]
    else:
        buffers = _Buffers.holding({key: old[key][:0] for key in VISIT_KEYS}, n + k)
        _splice(buffers, old, part, at)
    buffers.n = n + k
    out = {key: buffers.arrays[key][: n + k] for key in VISIT_KEYS}
    out["v_buffers"] = buffers
    out.update(_names(part))
    for key in (key for key in old if key.startswith("first_met_")):
        out[key] = _first_met_after(old[key], int(key.removeprefix("first_met_")), part, at, final)
    return out


def _names(part: dict[str, Any]) -> dict[str, Any]:
    return {"worker_names": part["worker_names"], "channel_names": part["channel_names"]}


def _splice(buffers: _Buffers, old: dict[str, Any], part: dict[str, Any], at: np.ndarray) -> None:
    """Copy ``old`` into ``buffers`` with each new visit ``j`` of ``part`` before old position ``at[j]``."""
    src = 0
    for j, a in enumerate(at.tolist()):
        dst = src + j
        for key in VISIT_KEYS:
            buffers.arrays[key][dst : dst + a - src] = old[key][src:a]
            buffers.arrays[key][dst + a - src] = part[key][j]
        src = a
    n, k = len(old["v_t"]), len(at)
    for key in VISIT_KEYS:
        buffers.arrays[key][src + k : n + k] = old[key][src:n]


def _first_met_after(
    first: tuple[np.ndarray, np.ndarray], lo: int, part: dict[str, Any], at: np.ndarray, final: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Carry one first-met answer (see ``weekly._first_met``) past new visits.

    Old positions move up by the new visits placed before them; a new met
    visit from ``lo`` on becomes a household's first if it has none or comes
    earlier in the merged order.
    """
    first_t, first_v = first[0].copy(), first[1].copy()
    moved = first_v >= at[0]  # never a household without one (-1)
    first_v[moved] += np.searchsorted(at, first_v[moved], side="right") if len(at) > 1 else 1
    met = np.flatnonzero(part["v_met"] & (part["v_t"] >= lo))
    # New visits are in merged order: a household's first occurrence is its earliest.
    uniq, pos = np.unique(part["v_h"][met], return_index=True)
    where = final[met[pos]]
    now = first_v[uniq]
    better = (now < 0) | (where < now)
    first_t[uniq[better]] = part["v_t"][met[pos[better]]]
    first_v[uniq[better]] = where[better]
    return first_t, first_v


__all__ = ["MERGE_AT", "VISIT_KEYS", "WORKER_LEVELS", "OfficeFrames", "visit_names"]
