"""Visit coverage and issue counts for any area and period.

*Visited* means at least one visit with outcome ``met`` inside the period;
*coverage* is visited occupied households over occupied households. An area
with no occupied households has no coverage (NaN), never 0 %. The definition is
the same at every level: household, building, grid, committee, street, district.

Two implementations share one contract:

- :func:`coverage_by_area`, a plain pandas computation over frames: the
  reference, easy to read and used by tests as the independent check;
- :class:`CoverageIndex`, compact arrays built once from the same frames (visits
  sorted by time), answering any period for all 2,000 grids in milliseconds.

Issue counts are taken at one moment: the end of the period, or ``now`` if
that is earlier. *Open* means opened and not yet closed at that moment;
*overdue* is what the issues page calls overdue: the escalation clock of
:mod:`geo.issues` is applied on read, so an issue past its limit moves up the
ladder with the next level's full limit, and only one that has run past the
district's limit too is overdue — whether or not ``sibai escalate`` has
written the steps yet.

Examples
--------
>>> hh = pd.DataFrame({"household_id": ["h1", "h2", "h3"], "grid_id": ["g1", "g1", "g2"],
...                    "occupied": [1, 1, 0], "residents": [2, 3, 0]})
>>> v = pd.DataFrame({"household_id": ["h1"], "visited_at": pd.to_datetime(["2024-05-01 14:00"]),
...                   "outcome": ["met"]})
>>> areas = areas_from_frames(pd.DataFrame({"grid_id": ["g1", "g2"], "committee_id": ["c1", "c1"]}),
...                           pd.DataFrame({"committee_id": ["c1"], "street_id": ["s1"]}))
>>> out = coverage_by_area(hh, v, None, areas, start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31))
>>> out[["households", "visited", "coverage"]]
         households  visited  coverage
grid_id
g1                2        1       0.5
g2                0        0       NaN
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.issues import escalate_frame, limits_days
from geo.store.schema import LEVELS as LADDER

LEVELS = ("household", "building", "grid", "committee", "street", "district")
"""Levels at which coverage can be asked for."""

COLUMNS = (
    "households",
    "visited",
    "coverage",
    "residents",
    "residents_covered",
    "open_issues",
    "overdue_issues",
)
"""Columns of every coverage result, indexed by the level's id."""

DISTRICT_ID = "district"


@dataclass(frozen=True)
class Areas:
    """The area hierarchy: grid → committee → street (ids only)."""

    grid_committee: pd.Series
    committee_street: pd.Series
    streets: tuple[str, ...] = ()
    """Every street, with or without committees (a street without any still has its row, all zeros)."""

    def parent_of_grids(self, level: str, grid_ids: pd.Series | pd.Index) -> pd.Series:
        """Map grid ids to their area id at ``level``."""
        g = pd.Series(np.asarray(grid_ids, dtype=object))
        if level == "grid":
            return g
        c = g.map(self.grid_committee)
        if level == "committee":
            return c
        if level == "street":
            return c.map(self.committee_street)
        if level == "district":
            return pd.Series(DISTRICT_ID, index=g.index, dtype=object)
        raise ValueError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")

    def ids(self, level: str) -> pd.Index:
        """Return every area id at ``level`` (sorted)."""
        if level == "grid":
            return pd.Index(sorted(self.grid_committee.index), dtype=object)
        if level == "committee":
            return pd.Index(sorted(self.committee_street.index), dtype=object)
        if level == "street":
            ids = set(self.committee_street.to_numpy().tolist()) | set(self.streets)
            return pd.Index(sorted(ids), dtype=object)
        if level == "district":
            return pd.Index([DISTRICT_ID], dtype=object)
        raise ValueError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")


def areas_from_frames(
    grids: pd.DataFrame, committees: pd.DataFrame, streets: pd.DataFrame | None = None
) -> Areas:
    """Build the hierarchy from frames with ``grid_id, committee_id``, ``committee_id, street_id``
    and, optionally, ``street_id`` (so that streets without committees are areas too).

    >>> areas = areas_from_frames(pd.DataFrame({"grid_id": ["g1"], "committee_id": ["c1"]}),
    ...                           pd.DataFrame({"committee_id": ["c1"], "street_id": ["s1"]}),
    ...                           pd.DataFrame({"street_id": ["s1", "s2"]}))
    >>> areas.ids("street").tolist()
    ['s1', 's2']
    """
    return Areas(
        grid_committee=pd.Series(
            grids["committee_id"].to_numpy(dtype=object),
            index=grids["grid_id"].to_numpy(dtype=object),
        ),
        committee_street=pd.Series(
            committees["street_id"].to_numpy(dtype=object),
            index=committees["committee_id"].to_numpy(dtype=object),
        ),
        streets=() if streets is None else tuple(streets["street_id"].tolist()),
    )


def period_bounds(start: dt.date, end: dt.date) -> tuple[np.datetime64, np.datetime64]:
    """Return ``[start 00:00, end + 1 day 00:00)`` and check the order.

    >>> period_bounds(dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    (np.datetime64('2024-01-01T00:00:00'), np.datetime64('2024-02-01T00:00:00'))
    """
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    return np.datetime64(start, "s"), np.datetime64(end + dt.timedelta(days=1), "s")


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in (
        "households",
        "visited",
        "residents",
        "residents_covered",
        "open_issues",
        "overdue_issues",
    ):
        out[col] = out[col].fillna(0).astype("int64")
    hh = out["households"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["coverage"] = np.where(hh > 0, out["visited"].to_numpy() / np.maximum(hh, 1), np.nan)
    return out[list(COLUMNS)]


def coverage_by_area(
    households: pd.DataFrame,
    visits: pd.DataFrame,
    issues: pd.DataFrame | None,
    areas: Areas,
    *,
    start: dt.date,
    end: dt.date,
    level: str = "grid",
    now: dt.datetime | None = None,
    limits: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Compute coverage and issue counts per area with plain pandas (the reference).

    Parameters
    ----------
    households
        ``household_id, grid_id, occupied, residents`` (and ``building_id`` for
        the building level).
    visits
        ``household_id, visited_at, outcome``.
    issues
        ``grid_id, level, opened_at, due_at, closed_at`` (and ``building_id``
        for the building level), or None.
    start, end
        The period, both days included.
    level
        ``household``, ``building``, ``grid``, ``committee``, ``street`` or ``district``.
    now
        The moment issue counts are taken at: the end of the period, or ``now``
        if that is earlier (an issue is not overdue in the future). Everything
        stamped at or before ``now`` (to the second) has happened by then.
    limits
        Days allowed at each level of the escalation ladder (default: the
        settings', :func:`geo.issues.limits_days`).

    Notes
    -----
    Overdue issues are counted with :func:`geo.issues.escalate_frame` (the
    issues page's clock) applied at the moment to the issues open then;
    :class:`CoverageIndex` gets the same counts another way, from each
    issue's :func:`overdue_from`.
    """
    _check_level(level)
    lo, hi = period_bounds(start, end)
    state_at, clock_at = _moments(hi, now)
    in_period = visits[
        (visits["outcome"] == "met")
        & (visits["visited_at"].to_numpy() >= lo)
        & (visits["visited_at"].to_numpy() < hi)
    ]
    met_ids = set(in_period["household_id"].tolist())
    hh = households.copy()
    occ = hh["occupied"].astype(bool)
    hh["households"] = occ.astype(int)
    hh["visited"] = (occ & hh["household_id"].isin(met_ids)).astype(int)
    hh["residents_"] = hh["residents"].where(occ, 0)
    hh["residents_covered"] = hh["residents_"].where(hh["visited"] == 1, 0)
    key = _key_for(hh, areas, level)
    grouped = hh.groupby(key.to_numpy(), sort=True)[
        ["households", "visited", "residents_", "residents_covered"]
    ].sum()
    grouped = grouped.rename(columns={"residents_": "residents"})
    index = _index_for(hh, areas, level)
    out = grouped.reindex(index)
    out["open_issues"] = 0
    out["overdue_issues"] = 0
    if issues is not None and len(issues) and level not in {"household"}:
        iss = issues
        _check_issue_columns(iss)
        opened = iss["opened_at"].to_numpy()
        closed = iss["closed_at"].to_numpy()
        is_open = (opened < state_at) & (np.isnat(closed) | (closed >= state_at))
        # The issues page's clock, run at the moment over the issues open then (an issue
        # closed since was open at that moment, so its clock ran: its status is set aside).
        clocked = escalate_frame(
            iss[is_open].assign(status="open"),
            now=pd.Timestamp(clock_at).to_pydatetime(),
            limits=limits_days() if limits is None else limits,
        )
        overdue = np.zeros(len(iss), dtype=bool)
        overdue[is_open] = clocked["overdue"].to_numpy(dtype=bool)
        if level == "building":
            ikey = iss["building_id"]
        else:
            ikey = areas.parent_of_grids(level, iss["grid_id"])
            ikey.index = iss.index
        counts = (
            pd.DataFrame({"k": ikey.to_numpy(), "o": is_open, "d": overdue}).groupby("k")[["o", "d"]].sum()
        )
        out["open_issues"] = counts["o"].reindex(out.index).fillna(0).to_numpy()
        out["overdue_issues"] = counts["d"].reindex(out.index).fillna(0).to_numpy()
    out.index.name = f"{level}_id"
    return _finish(out)


def _moments(hi: np.datetime64, now: dt.datetime | None) -> tuple[np.datetime64, np.datetime64]:
    """Return when issue counts are taken: (events before this have happened, the clock's time).

    At the period's end (``hi``, exclusive) both are ``hi``. At ``now``, earlier,
    an issue opened or closed in the second ``now`` has been (as on the issues
    page, which reads the status), while a limit ending at ``now`` has not
    passed yet (the clock needs ``due_at < now``).

    >>> hi = np.datetime64("2024-04-01T00:00:00")
    >>> _moments(hi, None)
    (np.datetime64('2024-04-01T00:00:00'), np.datetime64('2024-04-01T00:00:00'))
    >>> _moments(hi, dt.datetime(2024, 3, 20, 12, 0, 0, 500))
    (np.datetime64('2024-03-20T12:00:01'), np.datetime64('2024-03-20T12:00:00'))
    """
    if now is None:
        return hi, hi
    n = np.datetime64(now.replace(tzinfo=None), "s")
    if n >= hi:
        return hi, hi
    return n + np.timedelta64(1, "s"), n


def _check_issue_columns(issues: pd.DataFrame) -> None:
    missing = [c for c in ("grid_id", "level", "opened_at", "due_at", "closed_at") if c not in issues]
    if missing:
        raise ValueError(
            f"issues: missing column(s) {', '.join(missing)} (the escalation clock needs each issue's level)"
        )


def overdue_from(issues: pd.DataFrame, *, limits: Mapping[str, int]) -> np.ndarray:
    """Return when each issue becomes overdue if it stays open, as ``datetime64[s]``.

    The escalation clock (:mod:`geo.issues`) moves an issue up one level when
    its limit passes, giving it the next level's full limit, and an issue is
    overdue only once the district's limit has passed too. So an issue at
    level *L* due at *D* becomes overdue after *D* plus the limits of every
    level above *L*: one addition per issue, which is what lets
    :class:`CoverageIndex` count overdue issues for any moment without
    running the clock. A missing ``due_at`` counts as ``opened_at`` plus the
    level's limit, as in :func:`geo.issues.escalate_frame`.

    Examples
    --------
    >>> lim = {"building": 3, "grid": 7, "committee": 15, "street": 30, "district": 60}
    >>> iss = pd.DataFrame({"level": ["building", "street", "district"],
    ...     "opened_at": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01"]),
    ...     "due_at": pd.to_datetime(["2024-01-04", None, "2024-01-05"])})
    >>> overdue_from(iss, limits=lim).astype(str).tolist()  # +7+15+30+60 days; +30+60; +0
    ['2024-04-25T00:00:00', '2024-03-31T00:00:00', '2024-01-05T00:00:00']
    """
    # Factorise first: five distinct levels, looked up once each (a lookup per row costs 5x more).
    found, distinct = pd.factorize(issues["level"], use_na_sentinel=True)
    codes = np.append(pd.Index(list(LADDER)).get_indexer(distinct), -1)[found]
    if (codes < 0).any():
        bad = sorted({str(v) for v in issues["level"].to_numpy(dtype=object)[codes < 0]})
        raise ValueError(f"issues: unknown level(s) {', '.join(bad)}; use {', '.join(LADDER)}")
    missing = [lv for lv in LADDER if lv not in limits]
    if missing:
        raise ValueError(f"issue time limits: no limit for level(s) {', '.join(missing)}")
    days = np.asarray([int(limits[lv]) for lv in LADDER], dtype=np.int64)
    # Days still to come above each level: (7+15+30+60, 15+30+60, 30+60, 60, 0) with the defaults.
    above = np.concatenate([np.cumsum(days[::-1])[::-1][1:], [0]])
    opened = issues["opened_at"].to_numpy().astype("datetime64[s]")
    due = issues["due_at"].to_numpy().astype("datetime64[s]")
    due = np.where(np.isnat(due), opened + days[codes].astype("timedelta64[D]"), due)
    return due + above[codes].astype("timedelta64[D]")


MERGE_AT = 4096
"""Visits held aside (sorted) before :class:`CoverageIndex` merges them into its main arrays."""

_ISSUE_ARRAYS = ("_id", "_grid", "_building", "_open", "_close", "_overdue")


def _merge_sorted(
    t: np.ndarray, h: np.ndarray, t2: np.ndarray, h2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Merge two time-sorted (time, household) arrays into one, in one pass (no sort of the whole).

    >>> t, h = _merge_sorted(np.array([1, 3, 5]), np.array([0, 1, 2]), np.array([2, 5]), np.array([7, 8]))
    >>> t.tolist(), h.tolist()
    ([1, 2, 3, 5, 5], [0, 7, 1, 2, 8])
    """
    if len(t2) == 0:
        return t, h
    if len(t) == 0:
        return t2, h2
    # Where each new visit goes: after the equal times already held, so the merge is stable.
    at = np.searchsorted(t, t2, side="right") + np.arange(len(t2))
    n = len(t) + len(t2)
    keep = np.ones(n, dtype=bool)
    keep[at] = False
    out_t = np.empty(n, dtype=t.dtype)
    out_h = np.empty(n, dtype=h.dtype)
    out_t[keep], out_h[keep] = t, h
    out_t[at], out_h[at] = t2, h2
    return out_t, out_h


def _key_for(hh: pd.DataFrame, areas: Areas, level: str) -> pd.Series:
    if level == "household":
        return hh["household_id"]
    if level == "building":
        return hh["building_id"]
    key = areas.parent_of_grids(level, hh["grid_id"])
    key.index = hh.index
    return key


def _index_for(hh: pd.DataFrame, areas: Areas, level: str) -> pd.Index:
    if level == "household":
        return pd.Index(sorted(hh["household_id"].tolist()), dtype=object)
    if level == "building":
        return pd.Index(sorted(set(hh["building_id"].tolist())), dtype=object)
    return areas.ids(level)


class CoverageIndex:
    """Compact arrays for coverage of any period at any level, in milliseconds.

    Built once from frames (see :meth:`from_frames`); new visits are appended
    with :meth:`add_visits` without a rebuild. Answers equal
    :func:`coverage_by_area` exactly (tests check it on random districts).

    ``limits`` are the days allowed at each level of the escalation ladder
    (default: the settings'); ``clock``, when given, tells the time at which
    issue counts of a period that has not ended yet are taken (the index that
    :mod:`geo.live` builds from the store has the district's local time, the
    issues page's ``now``). Without it they are taken at the period's end.
    """

    _household_ids: pd.Index | None = None
    _household_raw: np.ndarray | None = None  # from a snapshot: the ids as saved, made an Index on first use

    @property
    def household_ids(self) -> pd.Index:
        """Every household's id, in the order of the per-household arrays.

        From a snapshot the index is made on first use (about 0.2 s for half a
        million households): the counts per area do not need it, so a
        restart's first map does not wait for it.
        """
        ids = self._household_ids
        if ids is None:
            assert self._household_raw is not None
            ids = self._household_ids = pd.Index(self._household_raw.astype(object), dtype=object)
        return ids

    @household_ids.setter
    def household_ids(self, ids: pd.Index) -> None:
        self._household_ids, self._household_raw = ids, None

    def __init__(
        self,
        households: pd.DataFrame,
        visits: pd.DataFrame,
        issues: pd.DataFrame | None,
        areas: Areas,
        *,
        limits: Mapping[str, int] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._set_areas(areas, limits, clock)
        self.household_ids = pd.Index(households["household_id"].to_numpy(dtype=object), dtype=object)
        if not self.household_ids.is_unique:
            raise ValueError("household ids must be unique")
        self.h_grid = self.grid_ids.get_indexer(households["grid_id"].to_numpy(dtype=object)).astype(np.int32)
        if (self.h_grid < 0).any():
            bad = households.loc[self.h_grid < 0, "grid_id"].iloc[0]
            raise ValueError(f"household in unknown grid {bad!r}")
        self.building_ids = pd.Index(
            sorted(set(households["building_id"].tolist())) if "building_id" in households else [],
            dtype=object,
        )
        self.h_building = (
            self.building_ids.get_indexer(households["building_id"].to_numpy(dtype=object)).astype(np.int32)
            if "building_id" in households
            else np.zeros(len(households), dtype=np.int32)
        )
        self.occupied = households["occupied"].to_numpy().astype(bool)
        self.residents = np.where(self.occupied, households["residents"].to_numpy(), 0).astype(np.int64)
        self.add_visits(visits)
        self.set_issues(issues)

    def _set_areas(
        self, areas: Areas, limits: Mapping[str, int] | None, clock: Callable[[], dt.datetime] | None
    ) -> None:
        """Set what does not depend on households: the areas, the rules, and no visits yet."""
        self.areas = areas
        self.limits = dict(limits_days() if limits is None else limits)
        self.clock = clock
        self.grid_ids = areas.ids("grid")
        self._parents: dict[str, tuple[np.ndarray, pd.Index]] = {}
        self._const: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._grid_buildings: np.ndarray | None = None
        for level in ("committee", "street", "district"):
            ids = areas.ids(level)
            parent = areas.parent_of_grids(level, self.grid_ids)
            self._parents[level] = (ids.get_indexer(parent.to_numpy()).astype(np.int32), ids)
        self._t = np.empty(0, dtype="datetime64[s]")
        self._h = np.empty(0, dtype=np.int32)
        self._dt = np.empty(0, dtype="datetime64[s]")
        self._dh = np.empty(0, dtype=np.int32)

    @classmethod
    def from_frames(
        cls,
        households: pd.DataFrame,
        visits: pd.DataFrame,
        issues: pd.DataFrame | None,
        areas: Areas,
        *,
        limits: Mapping[str, int] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> CoverageIndex:
        """Build the index; ``visits`` may hold every outcome (only ``met`` is kept)."""
        return cls(households, visits, issues, areas, limits=limits, clock=clock)

    @property
    def n_visits(self) -> int:
        """Number of ``met`` visits held."""
        return len(self._t) + len(self._dt)

    def add_visits(self, visits: pd.DataFrame) -> None:
        """Add visits (any outcome; only ``met`` counts), keeping time order.

        A few visits (the usual case: those recorded since the last rerun) go
        into a small sorted side array, at a cost proportional to its size; it
        is merged into the main arrays once it holds :data:`MERGE_AT` visits,
        so no write copies or re-sorts the millions of visits held. A large
        batch (the initial build) is merged at once.
        """
        if visits is None or len(visits) == 0:
            return
        met = visits["outcome"].to_numpy() == "met" if "outcome" in visits else np.ones(len(visits), bool)
        t = visits["visited_at"].to_numpy().astype("datetime64[s]")[met]
        h = self.household_ids.get_indexer(visits["household_id"].to_numpy(dtype=object)[met])
        known = h >= 0
        t, h = t[known], h[known].astype(np.int32)
        if len(t) == 0:
            return
        order = np.argsort(t, kind="stable")
        t, h = t[order], h[order]
        if len(t) >= MERGE_AT or len(self._t) == 0:
            self._t, self._h = _merge_sorted(self._t, self._h, t, h)
            return
        self._dt, self._dh = _merge_sorted(self._dt, self._dh, t, h)
        if len(self._dt) >= MERGE_AT:
            self._t, self._h = _merge_sorted(self._t, self._h, self._dt, self._dh)
            self._dt, self._dh = self._dt[:0], self._dh[:0]

    def set_issues(self, issues: pd.DataFrame | None) -> None:
        """Replace the issue arrays (all issues, as on a full reload).

        ``issues`` needs ``grid_id, level, opened_at, due_at, closed_at`` (and
        ``building_id`` for the building level); with ``issue_id``,
        :meth:`update_issues` can later replace some of them.
        """
        self._i_id = np.empty(0, dtype=np.int64)
        self._i_grid = np.empty(0, dtype=np.int32)
        self._i_building = np.empty(0, dtype=np.int32)
        self._i_open = np.empty(0, dtype=np.int64)
        self._i_close = np.empty(0, dtype=np.int64)
        self._i_overdue = np.empty(0, dtype=np.int64)
        if issues is None or len(issues) == 0:
            return
        if "issue_id" not in issues:
            issues = issues.assign(issue_id=np.arange(1, len(issues) + 1))
        self.update_issues(issues)

    def update_issues(self, issues: pd.DataFrame) -> None:
        """Take in new issues and new states of issues held, by ``issue_id``, in proportion to ``issues``.

        An issue whose id is held is overwritten in place; the others are
        added. Columns as :meth:`set_issues`, with ``issue_id``.
        """
        if issues is None or len(issues) == 0:
            return
        _check_issue_columns(issues)
        ids = issues["issue_id"].to_numpy().astype(np.int64)
        if len(np.unique(ids)) != len(ids):
            raise ValueError("issues: issue ids must be unique")
        grid = self.grid_ids.get_indexer(issues["grid_id"].to_numpy(dtype=object)).astype(np.int32)
        if "building_id" in issues and len(self.building_ids):
            building = self.building_ids.get_indexer(issues["building_id"].to_numpy(dtype=object)).astype(
                np.int32
            )
        else:
            building = np.full(len(issues), -1, dtype=np.int32)
        far = np.iinfo(np.int64).max
        opened = issues["opened_at"].to_numpy().astype("datetime64[s]").astype(np.int64)
        close = issues["closed_at"].to_numpy().astype("datetime64[s]")
        closed = np.where(np.isnat(close), far, close.astype(np.int64))
        # Escalation on read, solved once per issue state: each issue's moment of becoming overdue.
        overdue = overdue_from(issues, limits=self.limits).astype(np.int64)
        pos = np.searchsorted(self._i_id, ids)
        held = pos < len(self._i_id)
        held[held] = self._i_id[pos[held]] == ids[held]
        at = pos[held]
        self._i_grid[at], self._i_building[at] = grid[held], building[held]
        self._i_open[at], self._i_close[at], self._i_overdue[at] = opened[held], closed[held], overdue[held]
        new = ~held
        if new.any():
            order = np.argsort(ids[new], kind="stable")
            add = {
                "_i_id": ids[new][order],
                "_i_grid": grid[new][order],
                "_i_building": building[new][order],
                "_i_open": opened[new][order],
                "_i_close": closed[new][order],
                "_i_overdue": overdue[new][order],
            }
            merged = np.concatenate([self._i_id, add["_i_id"]])
            # New ids are nearly always above every id held (ids only grow): a plain append.
            resort = None if len(self._i_id) == 0 or add["_i_id"][0] > self._i_id[-1] else np.argsort(merged)
            for name, values in add.items():
                both = np.concatenate([getattr(self, name), values])
                setattr(self, name, both if resort is None else both[resort])

    @property
    def n_issues(self) -> int:
        """Number of issues held."""
        return len(self._i_id)

    def state(self) -> dict[str, np.ndarray]:
        """Return the arrays that :meth:`from_state` rebuilds the index from (a snapshot's content).

        Ids as fixed-width strings, so the arrays save without pickling.
        """
        t, h = _merge_sorted(self._t, self._h, self._dt, self._dh)
        return {
            "household_ids": (
                self._household_raw
                if self._household_ids is None
                else self.household_ids.to_numpy().astype(str)
            ),
            "building_ids": self.building_ids.to_numpy().astype(str),
            "grid_ids": self.grid_ids.to_numpy().astype(str),
            "h_grid": self.h_grid,
            "h_building": self.h_building,
            "occupied": self.occupied,
            "residents": self.residents,
            "v_t": t.astype(np.int64),
            "v_h": h,
            **{f"i{k}": getattr(self, f"_i{k}") for k in _ISSUE_ARRAYS},
        }

    @classmethod
    def from_state(
        cls,
        state: Mapping[str, np.ndarray],
        areas: Areas,
        *,
        limits: Mapping[str, int] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> CoverageIndex:
        """Rebuild an index from :meth:`state`'s arrays (a snapshot), without reading visits again.

        ``areas`` must hold the same grids as when the state was taken.
        """
        if list(areas.ids("grid")) != state["grid_ids"].tolist():
            raise ValueError("the snapshot's grids differ from the district's")
        # The arrays as saved (the positions already resolved): no id is looked up again.
        index = cls.__new__(cls)
        index._set_areas(areas, limits, clock)
        index._household_ids, index._household_raw = None, np.asarray(state["household_ids"])
        index.h_grid = np.asarray(state["h_grid"], dtype=np.int32)
        if len(index._household_raw) != len(index.h_grid):
            raise ValueError("the snapshot's household ids and households differ in number")
        grids = len(index.grid_ids)
        if len(index.h_grid) and (index.h_grid.min() < 0 or index.h_grid.max() >= grids):
            raise ValueError("the snapshot's households lie in unknown grids")
        index.building_ids = pd.Index(state["building_ids"].astype(object), dtype=object)
        index.h_building = np.asarray(state["h_building"], dtype=np.int32)
        index.occupied = np.asarray(state["occupied"], dtype=bool)
        index.residents = np.asarray(state["residents"], dtype=np.int64)
        index.set_issues(None)
        index._t = np.asarray(state["v_t"], dtype=np.int64).astype("datetime64[s]")
        index._h = np.asarray(state["v_h"], dtype=np.int32)
        for k in _ISSUE_ARRAYS:
            setattr(index, f"_i{k}", np.array(state[f"i{k}"]))
        return index

    def _constants(self, level: str, key: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Occupied households and residents per area: fixed until households change."""
        if level not in self._const:
            hh = np.bincount(key, weights=self.occupied, minlength=n)
            res = np.bincount(key, weights=self.residents, minlength=n)
            if level in self._parents:
                parent, ids = self._parents[level]
                hh = np.bincount(parent, weights=hh, minlength=len(ids))
                res = np.bincount(parent, weights=res, minlength=len(ids))
            self._const[level] = (hh, res)
        return self._const[level]

    def _met_in(self, start: dt.date, end: dt.date) -> np.ndarray:
        """Return the household position of every ``met`` visit in the period (one slice: time order)."""
        lo, hi = period_bounds(start, end)
        a, b = np.searchsorted(self._t, [lo, hi])
        if len(self._dt) == 0:
            return self._h[a:b]
        c, d = np.searchsorted(self._dt, [lo, hi])
        return np.concatenate([self._h[a:b], self._dh[c:d]])

    def met_mask(self, start: dt.date, end: dt.date) -> np.ndarray:
        """Return a boolean per household: met at least once in the period (occupied only)."""
        seen = np.zeros(len(self.h_grid), dtype=bool)
        seen[self._met_in(start, end)] = True
        return seen & self.occupied

    def counts_by_grid(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Return the raw counts per grid that published figures are made of, for the period.

        Coverage's counts (:meth:`coverage` at the grid level, issues aside)
        plus two that coverage does not need.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``grid_id`` (every grid, sorted): ``households``
            (occupied), ``residents``, ``visited`` (occupied households met),
            ``residents_covered`` (their residents), ``visits`` (``met``
            visits in the period, each counted) and ``buildings`` (buildings
            with occupied households), all ``int64``.

        Examples
        --------
        >>> hh = pd.DataFrame({"household_id": ["h1", "h2", "h3"], "building_id": ["b1", "b2", "b3"],
        ...                    "grid_id": ["g1", "g1", "g2"], "occupied": [1, 1, 0], "residents": [2, 1, 0]})
        >>> v = pd.DataFrame({"household_id": ["h1", "h1", "h2"], "outcome": ["met", "met", "not_home"],
        ...                   "visited_at": pd.to_datetime(["2026-03-01 10:00", "2026-04-01 10:00",
        ...                                                 "2026-04-02 10:00"])})
        >>> areas = areas_from_frames(pd.DataFrame({"grid_id": ["g1", "g2"], "committee_id": ["c1", "c1"]}),
        ...                           pd.DataFrame({"committee_id": ["c1"], "street_id": ["s1"]}))
        >>> CoverageIndex(hh, v, None, areas).counts_by_grid(dt.date(2026, 1, 1), dt.date(2026, 6, 30))
                 households  residents  visited  residents_covered  visits  buildings
        grid_id
        g1                2          3        1                  2       2          2
        g2                0          0        0                  0       0          0
        """
        cov = self.coverage(start, end, level="grid")
        n = len(self.grid_ids)
        out = cov[["households", "residents", "visited", "residents_covered"]].copy()
        out["visits"] = np.bincount(self.h_grid[self._met_in(start, end)], minlength=n).astype(np.int64)
        out["buildings"] = self._buildings_per_grid()
        return out

    def _buildings_per_grid(self) -> np.ndarray:
        """Buildings with occupied households per grid: fixed until households change."""
        if self._grid_buildings is None:
            occupied = self.occupied
            n_buildings = max(len(self.building_ids), 1)
            # One code per (grid, building) pair: the distinct pairs, counted per grid.
            codes = self.h_grid[occupied].astype(np.int64) * n_buildings + self.h_building[occupied]
            pairs = np.unique(codes)
            per_grid = np.bincount(pairs // n_buildings, minlength=len(self.grid_ids))
            self._grid_buildings = per_grid.astype(np.int64)
        return self._grid_buildings

    def coverage(
        self,
        start: dt.date,
        end: dt.date,
        *,
        level: str = "grid",
        now: dt.datetime | None = None,
    ) -> pd.DataFrame:
        """Return the same frame as :func:`coverage_by_area`, from the arrays.

        Issue counts are taken at the period's end or at ``now`` if earlier;
        ``now`` defaults to the index's ``clock`` (when it has one).
        """
        _check_level(level)
        if now is None and self.clock is not None:
            now = self.clock()
        seen = self.met_mask(start, end)
        if level == "household":
            out = pd.DataFrame(
                {
                    "households": self.occupied.astype(np.int64),
                    "visited": seen.astype(np.int64),
                    "residents": self.residents,
                    "residents_covered": np.where(seen, self.residents, 0),
                    "open_issues": 0,
                    "overdue_issues": 0,
                },
                index=self.household_ids,
            ).sort_index()
            out.index.name = "household_id"
            return _finish(out)
        if level == "building":
            key, n, ids = self.h_building, len(self.building_ids), self.building_ids
        else:
            key, n, ids = self.h_grid, len(self.grid_ids), self.grid_ids
        hh_n, res_n = self._constants(level, key, n)
        k_seen = key[seen]
        cols = {
            "households": hh_n,
            "visited": np.bincount(k_seen, minlength=n),
            "residents": res_n,
            "residents_covered": np.bincount(k_seen, weights=self.residents[seen], minlength=n),
        }
        _, hi = period_bounds(start, end)
        state_at, clock_at = (m.astype(np.int64) for m in _moments(hi, now))
        is_open = (self._i_open < state_at) & (self._i_close >= state_at)
        overdue = is_open & (self._i_overdue < clock_at)
        ikey = self._i_building if level == "building" else self._i_grid
        cols["open_issues"] = np.bincount(ikey[is_open & (ikey >= 0)], minlength=n)
        cols["overdue_issues"] = np.bincount(ikey[overdue & (ikey >= 0)], minlength=n)
        if level in self._parents:
            parent, ids = self._parents[level]
            cols = {
                k: (
                    v
                    if k in ("households", "residents")
                    else np.bincount(parent, weights=v, minlength=len(ids))
                )
                for k, v in cols.items()
            }
            hh_n, res_n = self._constants(level, key, n)
            cols["households"], cols["residents"] = hh_n, res_n
        data = {k: np.rint(cols[k]).astype(np.int64) for k in COLUMNS if k != "coverage"}
        hh = data["households"]
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = np.where(hh > 0, data["visited"] / np.maximum(hh, 1), np.nan)
        out = pd.DataFrame(
            {k: (cov if k == "coverage" else data[k]) for k in COLUMNS},
            index=ids.rename(f"{level}_id"),
        )
        return out
