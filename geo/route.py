"""Plan the afternoon walk (今日走访) for one worker or share it among several (分片包干).

The grid leader leaves the committee office at ``start`` (13:00 by default)
and must be done by ``end`` (15:30, the "330" method). This module answers
two questions with pure functions over frames:

* **Who is due?** :func:`priority_from_households` scores every occupied
  household from its visits, tags and open issues (weights in
  :class:`PriorityWeights`).
* **Which doors, in which order?** :func:`plan_walk` picks as many
  high-priority households as fit the window and orders the buildings
  (a prize-collecting routing model solved with OR-Tools);
  :func:`split_among_workers` shares a committee's due households among its
  workers, one compact area each, and leaves the on-duty worker at the office.

Coordinates are metres in a projected CRS (EPSG:32651 for Shanghai); times are
``"HH:MM"`` local clock strings. See ``docs/route.md`` for the rules, the model,
the guarantees and measured benchmark figures.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.graph.python import min_cost_flow

from geo import words
from geo.settings import Settings

__all__ = [
    "FIRST_SOLUTIONS",
    "START_LABEL",
    "TEAM_CANDIDATES",
    "PriorityWeights",
    "TeamPlan",
    "Walk",
    "nearest_neighbour_tour",
    "plan_walk",
    "priority_from_households",
    "reason_text",
    "split_among_workers",
    "tour_length",
]

START_LABEL = "start"
"""Row/column label of the start point in a ``distance_matrix`` given to :func:`plan_walk`."""

FIRST_SOLUTIONS: tuple[str, ...] = ("PATH_CHEAPEST_ARC", "SAVINGS", "CHRISTOFIDES")
"""OR-Tools first-solution strategies tried in turn by :func:`plan_walk` (each then
improved by guided local search on an equal share of the time budget)."""

TEAM_CANDIDATES = 1.0
""":func:`split_among_workers` balances areas over the top ``TEAM_CANDIDATES x k x
window / minutes_per_visit`` households (``k`` walking workers)."""

OUTCOMES = frozenset({"met", "not_home", "refused", "vacant", "inaccessible"})
"""Visit outcomes of the data model (``visits.outcome``)."""

STATUSES = frozenset({"open", "dispatched", "handled", "verified", "closed"})
"""Issue statuses of the data model (``issues.status``)."""


# --------------------------------------------------------------------------- priority


@dataclass(frozen=True)
class PriorityWeights:
    """Weights of the household priority score; every term is added up.

    The defaults make "never met this year" dominate "days since last met":
    ``never_met_this_year`` (100) exceeds the largest staleness term
    (``per_day_since_met * max_days`` = 73) plus the largest residents term
    (5). Tags, open issues and a failed ``not_home`` visit are added on top,
    so a vulnerable household with an open issue may outrank an ordinary one
    that has not been met this year, which is intended.

    Examples
    --------
    >>> PriorityWeights().tag_weight("alone_elderly")
    30.0
    >>> PriorityWeights(open_issue=40.0).open_issue
    40.0
    """

    never_met_this_year: float = 100.0
    """Added when the household has no ``met`` visit since 1 January of ``on``'s year."""

    per_day_since_met: float = 0.2
    """Added per day since the last ``met`` visit (households never met count ``max_days``)."""

    max_days: int = 365
    """Days since last met are capped here, so staleness adds at most 73 points."""

    per_resident: float = 1.0
    """Added per resident (more people reached per door), up to ``max_residents``."""

    max_residents: int = 5
    """Residents beyond this count add nothing."""

    tags: tuple[tuple[str, float], ...] = (
        ("alone_elderly", 30.0),
        ("very_old", 20.0),
        ("disabled", 20.0),
        ("low_income", 15.0),
        ("small_children", 10.0),
    )
    """Weight added for each vulnerability tag the household carries (codes as in ``tags``)."""

    open_issue: float = 25.0
    """Added per issue of the household whose status needs a follow-up visit."""

    max_issues: int = 3
    """Issues beyond this count add nothing."""

    follow_up_statuses: tuple[str, ...] = ("open", "dispatched", "handled")
    """Issue statuses that need a follow-up visit (``verified`` only awaits closing)."""

    not_home_retry: float = 10.0
    """Added when the last visit found nobody home (``not_home``): due again, another time."""

    retry_windows: tuple[tuple[int, int], ...] = ((9, 11), (13, 16), (18, 20))
    """Visiting windows ``(from_hour, to_hour)`` offered as ``retry_hint``, in preference order."""

    def tag_weight(self, code: str) -> float:
        """Return the weight of tag ``code`` (0.0 for an unknown code)."""
        return dict(self.tags).get(code, 0.0)


def priority_from_households(
    households: pd.DataFrame,
    visits: pd.DataFrame,
    issues: pd.DataFrame,
    *,
    on: Any,
    weights: PriorityWeights | None = None,
    lang: str = "zh",
) -> pd.DataFrame:
    """Score every occupied household by how much it needs a visit now.

    The score is a sum (weights in :class:`PriorityWeights`):

    * ``never_met_this_year`` if there is no ``met`` visit since 1 January;
    * ``per_day_since_met`` x days since the last ``met`` visit, capped at
      ``max_days`` (never met at all counts as ``max_days``);
    * ``per_resident`` x residents, capped at ``max_residents``;
    * the weight of each vulnerability tag (独居老人, 高龄, 残疾, 低保, 有幼儿);
    * ``open_issue`` x issues in ``follow_up_statuses`` (up to ``max_issues``);
    * ``not_home_retry`` when the last visit was ``not_home``; such a household
      also gets a ``retry_hint``: the first of ``retry_windows`` with no failed
      (``not_home``) visit since it was last met, else the one with fewest,
      and never the window holding the hour of the last failed visit.

    Vacant households (``occupied`` = 0) are left out. Visits after the day
    ``on`` are ignored.

    Parameters
    ----------
    households
        ``household_id``, ``building_id``, ``occupied`` (bool or 0/1),
        ``residents``, ``tags`` (comma-separated codes, may be empty).
    visits
        ``household_id``, ``visited_at`` (datetime64), ``outcome``
        (``met``, ``not_home``, ``refused``, ``vacant``, ``inaccessible``).
    issues
        ``household_id`` (may be null for building-wide issues), ``status``
        (``open``, ``dispatched``, ``handled``, ``verified``, ``closed``).
    on
        The day the plan is for (anything :class:`pandas.Timestamp` accepts).
    weights
        Score weights; the defaults of :class:`PriorityWeights` when omitted.
    lang
        Language of ``reason`` (``"zh"`` or ``"en"``).

    Returns
    -------
    pandas.DataFrame
        ``household_id``, ``building_id``, ``priority`` (float, higher is more
        urgent), ``reason`` (short text in ``lang``), ``reason_codes`` (the same
        for :func:`reason_text` in another language), ``last_met`` (datetime or
        NaT), ``retry_hint`` (``"HH:MM-HH:MM"`` or ``""``), sorted by priority
        descending then ``household_id``.

    Raises
    ------
    ValueError
        When a frame misses a column or holds an unknown outcome or status.

    Examples
    --------
    >>> hh = pd.DataFrame({"household_id": ["H1", "H2", "H3"],
    ...     "building_id": ["B1", "B1", "B2"], "occupied": [1, 1, 0],
    ...     "residents": [1, 3, 0], "tags": ["alone_elderly", "", ""]})
    >>> vi = pd.DataFrame({"household_id": ["H2", "H1"],
    ...     "visited_at": pd.to_datetime(["2024-03-01 10:00", "2024-05-06 14:20"]),
    ...     "outcome": ["met", "not_home"]})
    >>> iss = pd.DataFrame({"household_id": ["H2"], "status": ["open"]})
    >>> out = priority_from_households(hh, vi, iss, on="2024-05-10")
    >>> out[["household_id", "priority"]]
      household_id  priority
    0           H1     214.0
    1           H2      42.0
    >>> out["retry_hint"].tolist()
    ['09:00-11:00', '']
    >>> out["reason"].tolist()
    ['今年未见面、独居老人、上次不在家，换时段再访', '距上次见面70天、有待跟进诉求']
    >>> [reason_text(c, lang="en") for c in out["reason_codes"]]
    ['Not met this year; Elderly, alone; Not home last time: try another time',
     '70 days since met; Issue to follow up']
    """
    w = weights if weights is not None else PriorityWeights()
    _require_columns(
        households,
        "households",
        ("household_id", "building_id", "occupied", "residents", "tags"),
    )
    _require_columns(visits, "visits", ("household_id", "visited_at", "outcome"))
    _require_columns(issues, "issues", ("household_id", "status"))
    _require_values(visits["outcome"], "visits", "outcome", OUTCOMES)
    _require_values(issues["status"], "issues", "status", STATUSES)

    day = pd.Timestamp(on).normalize()
    cutoff = day + pd.Timedelta(days=1)
    year_start = pd.Timestamp(year=day.year, month=1, day=1)

    occupied = pd.to_numeric(households["occupied"]).fillna(0).astype("int64") != 0
    hh = households.loc[occupied, ["household_id", "building_id", "residents", "tags"]]
    hh = hh.reset_index(drop=True)
    ids = hh["household_id"]

    v = visits.loc[:, ["household_id", "visited_at", "outcome"]].copy()
    v["visited_at"] = pd.to_datetime(v["visited_at"])
    v = v.loc[v["visited_at"] < cutoff].sort_values("visited_at", kind="stable")

    met_at = v.loc[v["outcome"] == "met"].groupby("household_id")["visited_at"].max()
    last_met = pd.to_datetime(_lookup(met_at, ids))
    met_this_year = (last_met >= year_start).to_numpy()
    days = (day - last_met.dt.normalize()).dt.days
    staleness = days.fillna(w.max_days).clip(lower=0, upper=w.max_days).to_numpy(float)

    last_outcome = v.groupby("household_id")["outcome"].last()
    not_home = (_lookup(last_outcome, ids) == "not_home").to_numpy()

    residents = pd.to_numeric(hh["residents"]).fillna(0).clip(0, w.max_residents)
    tags = hh["tags"].fillna("").astype(str)

    follow = issues.loc[issues["status"].isin(w.follow_up_statuses), "household_id"].dropna()
    n_issues = _lookup(follow.value_counts(), ids).fillna(0).clip(upper=w.max_issues)
    n_issues = n_issues.to_numpy(float)

    priority = (
        np.where(met_this_year, 0.0, w.never_met_this_year)
        + w.per_day_since_met * staleness
        + w.per_resident * residents.to_numpy(float)
        + w.open_issue * n_issues
        + np.where(not_home, w.not_home_retry, 0.0)
    )
    # Reasons as codes ("days:70|tag:low_income|not_home"), put into words by reason_text.
    reason_parts: list[list[str]] = [
        [
            "never_met" if not seen else f"days:{int(d)}"
            for seen, d in zip(met_this_year, staleness, strict=True)
        ]
    ]
    for code, weight in w.tags:
        has = tags.str.contains(rf"(?:^|,)\s*{re.escape(code)}\s*(?:,|$)", regex=True).to_numpy()
        priority = priority + np.where(has, weight, 0.0)
        reason_parts.append([f"tag:{code}" if h else "" for h in has])
    reason_parts.append(["follow_up" if n > 0 else "" for n in n_issues])
    reason_parts.append(["not_home" if f else "" for f in not_home])
    codes = ["|".join(p for p in parts if p) for parts in zip(*reason_parts, strict=True)]

    out = pd.DataFrame(
        {
            "household_id": ids,
            "building_id": hh["building_id"],
            "priority": np.round(priority, 6),
            "reason": [reason_text(c, lang=lang) for c in codes],
            "reason_codes": codes,
            "last_met": last_met,
            "retry_hint": _retry_hints(ids, v, met_at, not_home, w.retry_windows),
        }
    )
    out = out.sort_values(["priority", "household_id"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


def reason_text(codes: str, *, lang: str = "zh") -> str:
    """Return the reasons coded by :func:`priority_from_households` as words of the catalogue in ``lang``.

    >>> reason_text("days:12|tag:low_income|follow_up", lang="en")
    '12 days since met; Low income; Issue to follow up'
    >>> reason_text("never_met|not_home")
    '今年未见面、上次不在家，换时段再访'
    """
    parts = []
    for code in filter(None, codes.split("|")):
        kind, _, arg = code.partition(":")
        if kind == "days":
            parts.append(words.text("route.reason.days", lang, n=int(arg)))
        elif kind == "tag":
            parts.append(words.text(f"tag.{arg}", lang) if f"tag.{arg}" in words.WORDS else arg)
        else:
            parts.append(words.text(f"route.reason.{kind}", lang))
    return words.text("route.reason.sep", lang).join(parts)


def _lookup(values: pd.Series, keys: pd.Series) -> pd.Series:
    """Return ``values[key]`` for each key (missing keys give NaN/NaT), aligned with ``keys``.

    Unlike ``keys.map(values)`` this also works when ``values`` is empty.
    """
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index)


def _retry_hints(
    ids: pd.Series,
    visits: pd.DataFrame,
    met_at: pd.Series,
    not_home: np.ndarray,
    windows: Sequence[tuple[int, int]],
) -> list[str]:
    """Return the retry window for households whose last visit was ``not_home``."""
    hints = [""] * len(ids)
    if not not_home.any() or not windows:
        return hints
    failed = visits.loc[visits["outcome"] == "not_home"]
    since = pd.to_datetime(_lookup(met_at, failed["household_id"]))
    failed = failed.loc[since.isna() | (failed["visited_at"] > since)]
    hours = failed["visited_at"].dt.hour
    last_hour = failed.groupby("household_id")["visited_at"].max().dt.hour
    counts = np.zeros((len(ids), len(windows)))
    for k, (lo, hi) in enumerate(windows):
        inside = failed.loc[(hours >= lo) & (hours < hi), "household_id"].value_counts()
        counts[:, k] = _lookup(inside, ids).fillna(0).to_numpy(float)
    last = _lookup(last_hour, ids).to_numpy(float)
    for k, (lo, hi) in enumerate(windows):
        # The window of the last failed visit is never offered again (if another exists).
        if len(windows) > 1:
            counts[(last >= lo) & (last < hi), k] = np.inf
    best = counts.argmin(axis=1)
    for i in np.flatnonzero(not_home):
        lo, hi = windows[best[i]]
        hints[i] = f"{lo:02d}:00-{hi:02d}:00"
    return hints


# --------------------------------------------------------------------------- walk


@dataclass(frozen=True, eq=False)
class Walk:
    """One worker's planned walk.

    ``stops`` has one row per building in visiting order: ``order`` (1, 2, ...),
    ``building_id``, ``household_ids`` (list, highest priority first),
    ``visit_min`` (minutes spent there), ``arrive``/``leave`` (``"HH:MM"``,
    truncated to the minute), ``arrive_min``/``leave_min`` (exact minutes after
    midnight) and ``walk_m`` (metres walked from the previous stop).
    """

    stops: pd.DataFrame
    distance_m: float
    """Metres walked: straight line x detour factor, or along the given matrix."""
    walk_min: float
    """Minutes spent walking (the rest of the window is visiting or spare)."""
    dropped: list[str]
    """Candidate households not in the walk, highest priority first."""
    priority_total: float = 0.0
    """Sum of the priorities of the chosen households."""
    start: str = Settings.walk_start
    finish: str = Settings.walk_start
    """When the walk ends: the last ``leave``, or the return to the start."""

    @property
    def household_ids(self) -> list[str]:
        """Return the chosen households in visiting order."""
        return [h for ids in self.stops["household_ids"] for h in ids]

    def to_dict(self) -> dict[str, Any]:
        """Return the walk as plain data (the shape of :meth:`to_json`)."""
        return {
            "stops": [
                {
                    "building_id": str(row.building_id),
                    "household_ids": [str(h) for h in row.household_ids],
                    "arrive": str(row.arrive),
                    "leave": str(row.leave),
                }
                for row in self.stops.itertuples(index=False)
            ],
            "distance_m": round(float(self.distance_m), 1),
            "walk_min": round(float(self.walk_min), 1),
        }

    def to_json(self) -> str:
        """Return ``{"stops": [{building_id, household_ids, arrive, leave}], ...}`` as JSON text.

        The top level also holds ``distance_m`` and ``walk_min``.

        Examples
        --------
        >>> Walk(_empty_stops(), 0.0, 0.0, []).to_json()
        '{"stops": [], "distance_m": 0.0, "walk_min": 0.0}'
        """
        return json.dumps(self.to_dict(), ensure_ascii=False)


@dataclass(frozen=True)
class _Problem:
    """A walk instance in integer seconds; matrix index 0 is the start, 1..B the buildings."""

    building_ids: list[str]
    households: list[list[str]]
    """Per building (0-based), household ids sorted by priority descending."""
    priorities: list[list[float]]
    dist_m: np.ndarray
    travel_s: np.ndarray
    service_s: int
    start_s: int
    end_s: int
    return_to_start: bool

    @property
    def horizon(self) -> int:
        return self.end_s - self.start_s

    def back_s(self, b: int) -> int:
        """Return seconds from matrix index ``b`` to where the walk ends."""
        return int(self.travel_s[b, 0]) if self.return_to_start else 0


Route = list[tuple[int, int]]
"""A walk as (matrix index of a building, number of its households visited), in order."""


def plan_walk(
    stops: pd.DataFrame,
    *,
    start_xy: tuple[float, float],
    start: str = Settings.walk_start,
    end: str = Settings.day_end,
    minutes_per_visit: float = 8,
    walk_speed_m_per_min: float = 70.0,
    detour_factor: float = 1.3,
    distance_matrix: pd.DataFrame | None = None,
    time_limit_s: float = 1.0,
    return_to_start: bool = False,
    metres_per_priority: float = 1000.0,
) -> Walk:
    """Choose and order the households one worker can visit between ``start`` and ``end``.

    A prize-collecting routing model (OR-Tools): one optional node per
    household, all households of a building at the building's point with no
    walking between them, so a building may be visited in part. Dropping a
    household costs ``metres_per_priority x (priority + 1)`` metre-equivalents;
    the solver minimises metres walked plus the cost of dropped households,
    under a time dimension (walking + ``minutes_per_visit`` per household)
    whose horizon ends hard at ``end``. Several first solutions
    (:data:`FIRST_SOLUTIONS`) are each improved by guided local search; the
    best is then repaired and filled greedily so the guarantees in Notes hold.

    Parameters
    ----------
    stops
        Candidate households: ``household_id`` (unique), ``building_id``,
        ``x``, ``y`` (metres, projected CRS such as EPSG:32651; a building's
        point is the mean of its households' points) and ``priority`` (>= 0).
    start_xy
        Where the walk starts (the committee office), same CRS.
    start, end
        Clock times ``"HH:MM"``; ``end`` is a hard limit.
    minutes_per_visit
        Minutes spent per household.
    walk_speed_m_per_min
        Walking speed (70 m/min is an unhurried 4.2 km/h).
    detour_factor
        Straight-line distances are multiplied by this to approximate
        footpaths (estate gates, fences, stair entrances); 1.3 is a typical
        urban pedestrian circuity. Ignored when ``distance_matrix`` is given.
    distance_matrix
        Walking metres along a footpath network: a square frame whose index
        and columns hold every ``building_id`` and :data:`START_LABEL`.
    time_limit_s
        Wall-clock budget of the whole call (model building, search, repair).
    return_to_start
        Whether the walk must be back at ``start_xy`` by ``end``.
    metres_per_priority
        Exchange rate between priority points and metres walked.

    Returns
    -------
    Walk

    Notes
    -----
    Guarantees, whatever the time limit (``tests/test_route.py`` checks each):

    * every household appears at most once; every building is one stop;
    * arrive <= leave <= next arrive; the walk finishes no later than ``end``;
    * at each building the chosen households are the highest-priority ones:
      no dropped household has a strictly higher priority than a chosen one
      of the same building;
    * the walk is *maximal*: no dropped household can be added, neither at its
      building's stop nor as a new stop anywhere in the order, without
      finishing after ``end``.

    Across buildings the choice is a trade-off made by the solver, not a
    strict priority order (a far household may lose to two near ones).

    Examples
    --------
    >>> stops = pd.DataFrame({"household_id": ["H1", "H2", "H3"],
    ...     "building_id": ["B2", "B1", "B1"], "x": [200.0, 100.0, 100.0],
    ...     "y": [0.0, 0.0, 0.0], "priority": [5.0, 3.0, 1.0]})
    >>> walk = plan_walk(stops, start_xy=(0.0, 0.0), detour_factor=1.0,
    ...     walk_speed_m_per_min=100, time_limit_s=0.1)
    >>> walk.stops[["order", "building_id", "household_ids", "arrive", "leave"]]
       order building_id household_ids arrive  leave
    0      1          B1      [H2, H3]  13:01  13:17
    1      2          B2          [H1]  13:18  13:26
    >>> walk.distance_m, walk.dropped
    (200.0, [])
    >>> plan_walk(stops, start_xy=(0.0, 0.0), end="13:12", detour_factor=1.0,
    ...     walk_speed_m_per_min=100, time_limit_s=0.1).household_ids
    ['H1']
    """
    t0 = time.perf_counter()
    problem = _problem_from_stops(
        stops,
        start_xy=start_xy,
        start=start,
        end=end,
        minutes_per_visit=minutes_per_visit,
        walk_speed_m_per_min=walk_speed_m_per_min,
        detour_factor=detour_factor,
        distance_matrix=distance_matrix,
        return_to_start=return_to_start,
    )
    # Keep a little of the budget for the repair and fill after the search.
    remaining = time_limit_s - (time.perf_counter() - t0)
    route = _solve_route(
        problem,
        time_limit_s=max(0.01, 0.92 * remaining - 0.01),
        metres_per_priority=metres_per_priority,
    )
    route = _repair_route(problem, route)
    route = _fill_route(problem, route)
    return _walk_from_route(problem, route)


def _problem_from_stops(
    stops: pd.DataFrame,
    *,
    start_xy: tuple[float, float],
    start: str,
    end: str,
    minutes_per_visit: float,
    walk_speed_m_per_min: float,
    detour_factor: float,
    distance_matrix: pd.DataFrame | None,
    return_to_start: bool,
) -> _Problem:
    """Validate the inputs and build the integer-second instance."""
    _require_columns(stops, "stops", ("household_id", "building_id", "x", "y", "priority"))
    start_s, end_s = _seconds_from_clock(start), _seconds_from_clock(end)
    if end_s < start_s:
        raise ValueError(f"end {end!r} is before start {start!r}")
    if not minutes_per_visit * 60 >= 1:
        raise ValueError(f"minutes_per_visit must be at least 1 second, got {minutes_per_visit!r}")
    if not walk_speed_m_per_min > 0:
        raise ValueError(f"walk_speed_m_per_min must be > 0, got {walk_speed_m_per_min!r}")
    if not detour_factor >= 1:
        raise ValueError(f"detour_factor must be >= 1, got {detour_factor!r}")
    dup = stops["household_id"].duplicated()
    if dup.any():
        first = stops.loc[dup, "household_id"].iloc[0]
        raise ValueError(f"stops: household_id {first!r} appears more than once")
    prio = pd.to_numeric(stops["priority"])
    bad = ~np.isfinite(prio.to_numpy(float)) | (prio.to_numpy(float) < 0)
    if bad.any():
        row = stops.index[bad][0]
        raise ValueError(f"stops row {row!r}: priority must be a finite number >= 0")
    xy = stops[["x", "y"]].to_numpy(float)
    if not np.isfinite(xy).all():
        row = stops.index[~np.isfinite(xy).all(axis=1)][0]
        raise ValueError(f"stops row {row!r}: x and y must be finite metres")

    frame = pd.DataFrame(
        {
            "household_id": stops["household_id"].astype(str).to_numpy(),
            "building_id": stops["building_id"].astype(str).to_numpy(),
            "x": xy[:, 0],
            "y": xy[:, 1],
            "priority": prio.to_numpy(float),
        }
    ).sort_values(["building_id", "priority", "household_id"], ascending=[True, False, True])
    grouped = frame.groupby("building_id", sort=True)
    building_ids = [str(b) for b in grouped.groups]
    bxy = grouped[["x", "y"]].mean().loc[building_ids].to_numpy(float)
    households = [g["household_id"].tolist() for _, g in grouped]
    priorities = [g["priority"].tolist() for _, g in grouped]

    points = np.vstack([np.asarray(start_xy, dtype=float).reshape(1, 2), bxy])
    if distance_matrix is None:
        diff = points[:, None, :] - points[None, :, :]
        dist = np.hypot(diff[..., 0], diff[..., 1]) * detour_factor
    else:
        dist = _matrix_from_frame(distance_matrix, [START_LABEL, *building_ids])
    # Ceil (with a hair of tolerance for float noise) so the schedule never runs early.
    travel = np.ceil(dist / walk_speed_m_per_min * 60.0 - 1e-6).clip(min=0).astype(np.int64)
    return _Problem(
        building_ids=building_ids,
        households=households,
        priorities=priorities,
        dist_m=dist,
        travel_s=travel,
        service_s=round(minutes_per_visit * 60),
        start_s=start_s,
        end_s=end_s,
        return_to_start=return_to_start,
    )


def _matrix_from_frame(matrix: pd.DataFrame, labels: list[str]) -> np.ndarray:
    """Return the metres between ``labels`` from a labelled square frame."""
    index = [str(i) for i in matrix.index]
    columns = [str(c) for c in matrix.columns]
    missing = [lab for lab in labels if lab not in index or lab not in columns]
    if missing:
        raise ValueError(f"distance_matrix: no row or column for {missing[:5]!r}")
    m = pd.DataFrame(matrix.to_numpy(float), index=index, columns=columns)
    out = m.loc[labels, labels].to_numpy(float)
    if not np.isfinite(out).all() or (out < 0).any():
        raise ValueError("distance_matrix: metres must be finite and >= 0")
    return out


def _solve_route(problem: _Problem, *, time_limit_s: float, metres_per_priority: float) -> Route:
    """Run the OR-Tools prize-collecting model and return its route."""
    svc, horizon = problem.service_s, problem.horizon
    loc: list[int] = []  # matrix index of each household node
    penalty: list[int] = []
    for b, prios in enumerate(problem.priorities, start=1):
        # More households than the window can hold at this building are never needed.
        room = horizon - int(problem.travel_s[0, b]) - problem.back_s(b)
        for p in prios[: max(0, room // svc)]:
            loc.append(b)
            penalty.append(round(metres_per_priority * (p + 1.0)))
    if not loc:
        return []

    # Nodes: 0 start, 1 end, 2.. households. The end is the start point when the
    # walk returns, otherwise a free "anywhere" node.
    n_b = len(problem.building_ids) + 1
    end_col = problem.travel_s[:, 0] if problem.return_to_start else np.zeros(n_b, np.int64)
    end_dist = problem.dist_m[:, 0] if problem.return_to_start else np.zeros(n_b)
    nodes = np.array([0, 0, *loc])
    travel = problem.travel_s[np.ix_(nodes, nodes)].copy()
    dist = np.rint(problem.dist_m[np.ix_(nodes, nodes)]).astype(np.int64)
    travel[:, 1], dist[:, 1] = end_col[nodes], np.rint(end_dist[nodes]).astype(np.int64)
    travel[1, :], dist[1, :] = 0, 0
    service = np.full(len(nodes), svc, dtype=np.int64)
    service[:2] = 0
    transit = travel + service[:, None]

    # Guided local search tends to settle near its first solution, so a few
    # different starts share the budget and the best walk is kept.
    deadline = time.perf_counter() + time_limit_s
    best: tuple[int, list[int]] | None = None
    for i, strategy in enumerate(FIRST_SOLUTIONS):
        share = (deadline - time.perf_counter()) / (len(FIRST_SOLUTIONS) - i)
        found = _search_once(dist, transit, penalty, horizon, strategy, time.perf_counter() + share)
        if found is not None and (best is None or found[0] < best[0]):
            best = found
    if best is None:
        return []
    route: Route = []
    for node in best[1]:
        b = loc[node - 2]
        if route and route[-1][0] == b:
            route[-1] = (b, route[-1][1] + 1)
        else:
            route.append((b, 1))
    return route


def _search_once(
    dist: np.ndarray,
    transit: np.ndarray,
    penalty: list[int],
    horizon: int,
    strategy: str,
    deadline: float,
) -> tuple[int, list[int]] | None:
    """Solve the routing model once by ``deadline`` (``time.perf_counter()`` seconds).

    Return (objective, visited nodes in order), or None when no solution was found.
    """
    manager = pywrapcp.RoutingIndexManager(len(dist), 1, [0], [1])
    routing = pywrapcp.RoutingModel(manager)
    cost_cb = routing.RegisterTransitMatrix(dist.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    time_cb = routing.RegisterTransitMatrix(transit.tolist())
    routing.AddDimension(time_cb, 0, horizon, True, "time")
    for node in range(2, len(dist)):
        routing.AddDisjunction([manager.NodeToIndex(node)], penalty[node - 2])
    limit = deadline - time.perf_counter()
    solution = routing.SolveWithParameters(_search_parameters(limit, strategy))
    if solution is None:
        return None
    nodes: list[int] = []
    index = solution.Value(routing.NextVar(routing.Start(0)))
    while not routing.IsEnd(index):
        nodes.append(manager.IndexToNode(index))
        index = solution.Value(routing.NextVar(index))
    return int(solution.ObjectiveValue()), nodes


def _search_parameters(time_limit_s: float, strategy: str = "PATH_CHEAPEST_ARC") -> Any:
    """Return OR-Tools search parameters: a first solution, then guided local search."""
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, strategy)
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(10, int(time_limit_s * 1000)))
    return params


def _finish_s(problem: _Problem, route: Route) -> int:
    """Return the seconds after ``start`` at which ``route`` ends."""
    t, prev = 0, 0
    for b, count in route:
        t += int(problem.travel_s[prev, b]) + count * problem.service_s
        prev = b
    return t + problem.back_s(prev)


def _repair_route(problem: _Problem, route: Route) -> Route:
    """Merge repeated buildings into their first stop and trim to the window."""
    counts: dict[int, int] = {}
    for b, count in route:
        counts[b] = counts.get(b, 0) + count
    merged: Route = [(b, counts[b]) for b in dict.fromkeys(b for b, _ in route)]
    # Merging shortens a metric walk; a non-metric matrix may need trimming:
    # drop the lowest-priority chosen household until the walk fits.
    while merged and _finish_s(problem, merged) > problem.horizon:
        worst = min(
            range(len(merged)),
            key=lambda i: problem.priorities[merged[i][0] - 1][merged[i][1] - 1],
        )
        b, count = merged[worst]
        merged[worst] = (b, count - 1)
        merged = [(b, c) for b, c in merged if c > 0]
    return merged


def _fill_route(problem: _Problem, route: Route) -> Route:
    """Add dropped households, highest priority first, while they fit (to a fixpoint)."""
    route = list(route)
    svc, horizon = problem.service_s, problem.horizon
    n_b = len(problem.building_ids)
    travel = problem.travel_s
    back = travel[:, 0] if problem.return_to_start else np.zeros(n_b + 1, np.int64)
    # Candidates in priority order; taken per building from the top, so each
    # building's chosen set stays its highest-priority prefix.
    cand = sorted(
        (
            (-p, hid, b)
            for b in range(1, n_b + 1)
            for hid, p in zip(problem.households[b - 1], problem.priorities[b - 1], strict=True)
        ),
    )
    finish = _finish_s(problem, route)
    changed = True
    while changed:
        changed = False
        taken = {b: c for b, c in route}
        seen: dict[int, int] = {}
        for _, _, b in cand:
            seen[b] = seen.get(b, 0) + 1
            if seen[b] <= taken.get(b, 0):
                continue  # already in the walk
            if b in taken:
                if finish + svc <= horizon:
                    i = next(i for i, (rb, _) in enumerate(route) if rb == b)
                    route[i] = (b, route[i][1] + 1)
                    taken[b] += 1
                    finish += svc
                    changed = True
                continue
            prev = np.array([0, *(rb for rb, _ in route)])
            delta = travel[prev, b] + np.append(travel[b, prev[1:]], back[b])
            delta = delta - np.append(travel[prev[:-1], prev[1:]], back[prev[-1]]) + svc
            pos = int(np.argmin(delta))
            if finish + int(delta[pos]) <= horizon:
                route.insert(pos, (b, 1))
                taken[b] = 1
                finish += int(delta[pos])
                changed = True
    return route


def _walk_from_route(problem: _Problem, route: Route) -> Walk:
    """Lay out the schedule of ``route`` as a :class:`Walk`."""
    rows: list[dict[str, Any]] = []
    t, prev, dist, walk_s = problem.start_s, 0, 0.0, 0
    chosen: set[str] = set()
    prio_total = 0.0
    for order, (b, count) in enumerate(route, start=1):
        leg = int(problem.travel_s[prev, b])
        arrive = t + leg
        leave = arrive + count * problem.service_s
        ids = problem.households[b - 1][:count]
        chosen.update(ids)
        prio_total += sum(problem.priorities[b - 1][:count])
        rows.append(
            {
                "order": order,
                "building_id": problem.building_ids[b - 1],
                "household_ids": list(ids),
                "visit_min": count * problem.service_s / 60.0,
                "arrive": _clock_from_seconds(arrive),
                "leave": _clock_from_seconds(leave),
                "arrive_min": arrive / 60.0,
                "leave_min": leave / 60.0,
                "walk_m": float(problem.dist_m[prev, b]),
            }
        )
        dist += float(problem.dist_m[prev, b])
        walk_s += leg
        t, prev = leave, b
    if problem.return_to_start and route:
        dist += float(problem.dist_m[prev, 0])
        walk_s += int(problem.travel_s[prev, 0])
        t += int(problem.travel_s[prev, 0])
    assert t <= problem.end_s, "walk ends after the end time"
    dropped = sorted(
        (
            (-p, h)
            for hs, ps in zip(problem.households, problem.priorities, strict=True)
            for h, p in zip(hs, ps, strict=True)
            if h not in chosen
        ),
    )
    stops = pd.DataFrame(rows) if rows else _empty_stops()
    return Walk(
        stops=stops,
        distance_m=dist,
        walk_min=walk_s / 60.0,
        dropped=[h for _, h in dropped],
        priority_total=round(prio_total, 6),
        start=_clock_from_seconds(problem.start_s),
        finish=_clock_from_seconds(t),
    )


def _empty_stops() -> pd.DataFrame:
    """Return a stops frame with no rows and the columns of :class:`Walk`."""
    return pd.DataFrame(
        {
            "order": pd.Series(dtype="int64"),
            "building_id": pd.Series(dtype="object"),
            "household_ids": pd.Series(dtype="object"),
            "visit_min": pd.Series(dtype="float64"),
            "arrive": pd.Series(dtype="object"),
            "leave": pd.Series(dtype="object"),
            "arrive_min": pd.Series(dtype="float64"),
            "leave_min": pd.Series(dtype="float64"),
            "walk_m": pd.Series(dtype="float64"),
        }
    )


# --------------------------------------------------------------------------- baseline


def nearest_neighbour_tour(xy: Any, start_xy: tuple[float, float]) -> np.ndarray:
    """Return the visiting order of ``xy`` by always walking to the nearest unvisited point.

    The benchmark baseline: what a worker does without a plan.

    Examples
    --------
    >>> nearest_neighbour_tour([[300, 0], [100, 0], [200, 0]], (0, 0)).tolist()
    [1, 2, 0]
    """
    pts = np.asarray(xy, dtype=float).reshape(-1, 2)
    left = np.ones(len(pts), dtype=bool)
    order: list[int] = []
    here = np.asarray(start_xy, dtype=float)
    for _ in range(len(pts)):
        d = np.hypot(pts[:, 0] - here[0], pts[:, 1] - here[1])
        d[~left] = np.inf
        i = int(np.argmin(d))
        order.append(i)
        left[i] = False
        here = pts[i]
    return np.array(order, dtype=np.int64)


def tour_length(
    xy: Any,
    order: Sequence[int] | np.ndarray,
    start_xy: tuple[float, float],
    *,
    closed: bool = False,
) -> float:
    """Return the straight-line length of visiting ``xy`` in ``order`` from ``start_xy``.

    In metres, rounded to 0.1 m; ``closed`` adds the way back to the start.

    Examples
    --------
    >>> tour_length([[0, 100], [100, 100]], [0, 1], (0, 0))
    200.0
    >>> tour_length([[0, 100], [100, 100]], [0, 1], (0, 0), closed=True)
    341.4
    """
    pts = np.asarray(xy, dtype=float).reshape(-1, 2)[np.asarray(order, dtype=np.int64)]
    start_pt = np.asarray(start_xy, dtype=float).reshape(1, 2)
    path = np.vstack([start_pt, pts, start_pt] if closed else [start_pt, pts])
    return round(float(np.hypot(*np.diff(path, axis=0).T).sum()), 1)


# --------------------------------------------------------------------------- team


@dataclass(frozen=True, eq=False)
class TeamPlan:
    """Walks of a committee's workers for one day (分片包干).

    ``walks`` holds every worker; an on-duty worker has an empty walk.
    """

    walks: dict[str, Walk]
    on_duty: list[str]
    dropped: list[str]
    """Due households that no worker visits, highest priority first."""

    def summary(self) -> pd.DataFrame:
        """Return one row per worker: households, visit and walk minutes, finish.

        Examples
        --------
        >>> TeamPlan({"W1": _empty_walk()}, ["W1"], []).summary()
          worker_id  on_duty  households  visit_min  walk_min  distance_m finish
        0        W1     True           0        0.0       0.0         0.0  13:00
        """
        rows = [
            {
                "worker_id": w,
                "on_duty": w in self.on_duty,
                "households": len(walk.household_ids),
                "visit_min": float(walk.stops["visit_min"].sum()),
                "walk_min": walk.walk_min,
                "distance_m": walk.distance_m,
                "finish": walk.finish,
            }
            for w, walk in self.walks.items()
        ]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """Return the plan as plain data: per worker the :meth:`Walk.to_dict` shape."""
        return {
            "workers": [
                {"worker_id": w, "on_duty": w in self.on_duty, **walk.to_dict()}
                for w, walk in self.walks.items()
            ],
            "dropped": list(self.dropped),
        }

    def to_json(self) -> str:
        """Return :meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False)


def split_among_workers(
    stops: pd.DataFrame,
    workers: pd.DataFrame,
    *,
    start_xy: tuple[float, float],
    start: str = Settings.walk_start,
    end: str = Settings.day_end,
    minutes_per_visit: float = 8,
    walk_speed_m_per_min: float = 70.0,
    detour_factor: float = 1.3,
    distance_matrix: pd.DataFrame | None = None,
    time_limit_s: float = 2.5,
    seed: int = 0,
) -> TeamPlan:
    """Share a committee's due households for one day among its workers.

    The on-duty worker (``on_duty`` true) stays at the office and gets
    nothing. For the others, cluster first, then route:

    1. keep the top ``k x window / minutes_per_visit`` households by priority,
       an upper bound on what ``k`` walking workers can visit;
    2. split them into ``k`` compact areas by capacitated k-means: Lloyd
       iterations whose assignment step is a min-cost flow (squared metres to
       each centre) with every area holding ``ceil(n / k)`` households, so
       visiting time is balanced and a building is split only when needed;
    3. give each building's remaining households to the area holding most of
       it (or the nearest centre), so spare time can still be filled;
    4. :func:`plan_walk` for each worker on their area, sharing the budget.

    Every household is in at most one walk; each walk keeps the guarantees of
    :func:`plan_walk` within its area. Clustering uses straight-line
    coordinates even when ``distance_matrix`` is given (routing uses it).

    Parameters
    ----------
    stops
        As for :func:`plan_walk`.
    workers
        ``worker_id`` and ``on_duty`` (bool).
    start_xy, start, end, minutes_per_visit, walk_speed_m_per_min, detour_factor, distance_matrix
        As for :func:`plan_walk`; every worker starts at the office.
    time_limit_s
        Wall-clock budget of the whole call.
    seed
        Seed of the k-means start, for repeatable plans.

    Returns
    -------
    TeamPlan

    Examples
    --------
    >>> stops = pd.DataFrame({"household_id": ["H1", "H2", "H3", "H4"],
    ...     "building_id": ["B1", "B1", "B2", "B2"],
    ...     "x": [-300.0, -300.0, 300.0, 300.0], "y": [0.0] * 4,
    ...     "priority": [4.0, 3.0, 2.0, 1.0]})
    >>> workers = pd.DataFrame({"worker_id": ["W1", "W2", "W3"],
    ...     "on_duty": [False, True, False]})
    >>> plan = split_among_workers(stops, workers, start_xy=(0.0, 0.0), time_limit_s=0.3)
    >>> sorted(plan.walks["W1"].household_ids + plan.walks["W3"].household_ids)
    ['H1', 'H2', 'H3', 'H4']
    >>> plan.walks["W2"].household_ids, plan.dropped
    ([], [])
    """
    t0 = time.perf_counter()
    _require_columns(workers, "workers", ("worker_id", "on_duty"))
    _require_columns(stops, "stops", ("household_id", "building_id", "x", "y", "priority"))
    on_duty_mask = workers["on_duty"].fillna(False).astype(bool).to_numpy()
    worker_ids = workers["worker_id"].astype(str).tolist()
    if len(set(worker_ids)) < len(worker_ids):
        twice = next(w for w in worker_ids if worker_ids.count(w) > 1)
        raise ValueError(f"workers: worker_id {twice!r} appears more than once")
    on_duty = [w for w, d in zip(worker_ids, on_duty_mask, strict=True) if d]
    active = [w for w, d in zip(worker_ids, on_duty_mask, strict=True) if not d]
    opts: dict[str, Any] = {
        "start_xy": start_xy,
        "start": start,
        "end": end,
        "minutes_per_visit": minutes_per_visit,
        "walk_speed_m_per_min": walk_speed_m_per_min,
        "detour_factor": detour_factor,
        "distance_matrix": distance_matrix,
    }
    # Validates the whole frame once and gives the ranking of all households.
    everyone = _walk_from_route(_problem_from_stops(stops, **opts, return_to_start=False), [])
    walks: dict[str, Walk] = {w: _empty_walk(start) for w in worker_ids}
    if not active or stops.empty:
        return TeamPlan(walks, on_duty, everyone.dropped)

    ranked = stops.assign(
        household_id=stops["household_id"].astype(str),
        building_id=stops["building_id"].astype(str),
    ).set_index("household_id", drop=False)
    ranked = ranked.loc[everyone.dropped]  # highest priority first
    k = len(active)
    window_min = (_seconds_from_clock(end) - _seconds_from_clock(start)) / 60.0
    per_worker = max(1, int(window_min // minutes_per_visit))
    chosen = ranked.iloc[: round(TEAM_CANDIDATES * k * per_worker)]
    area = _areas_from_households(chosen, ranked, k=k, seed=seed, start_xy=start_xy)

    # Order areas by bearing from the office so worker order maps to a sweep.
    centres = ranked.groupby(area)[["x", "y"]].mean()
    bearing = np.arctan2(centres["y"] - start_xy[1], centres["x"] - start_xy[0])
    area_order = list(bearing.sort_values(kind="stable").index)
    for i, a in enumerate(area_order):
        left = len(area_order) - i
        budget = (time_limit_s - (time.perf_counter() - t0)) / left
        subset = ranked.loc[area == a]
        walks[active[i]] = plan_walk(subset, **opts, time_limit_s=max(0.02, budget))
    chosen_ids = {h for w in walks.values() for h in w.household_ids}
    dropped = [h for h in everyone.dropped if h not in chosen_ids]
    return TeamPlan(walks, on_duty, dropped)


def _areas_from_households(
    chosen: pd.DataFrame,
    ranked: pd.DataFrame,
    *,
    k: int,
    seed: int,
    start_xy: tuple[float, float],
) -> pd.Series:
    """Return the area (0..k-1) of every household in ``ranked`` (index household_id)."""
    per_b = chosen.groupby("building_id", sort=True)
    bids = [str(b) for b in per_b.groups]
    demand = per_b.size().loc[bids].to_numpy(np.int64)
    bxy = per_b[["x", "y"]].mean().loc[bids].to_numpy(float)
    k_eff = min(k, len(bids))
    flows = _capacitated_kmeans(bxy, demand, k=k_eff, seed=seed)

    area = pd.Series(-1, index=ranked.index, dtype=np.int64)
    # Chosen households of a split building go to areas in order of their share.
    for bi, b in enumerate(bids):
        hh = chosen.index[chosen["building_id"] == b]
        labels = np.repeat(np.arange(k_eff), flows[bi])
        area.loc[hh] = labels
    # The rest of each building follows its largest share; other buildings the nearest centre.
    major = dict(zip(bids, flows.argmax(axis=1), strict=True))
    centres = np.array(
        [np.average(bxy, axis=0, weights=flows[:, j]) if flows[:, j].sum() else bxy[0] for j in range(k_eff)]
    )
    rest = ranked.index[area.to_numpy() < 0]
    if len(rest):
        rb = ranked.loc[rest, "building_id"]
        rxy = ranked.loc[rest, ["x", "y"]].to_numpy(float)
        d2 = ((rxy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        nearest = d2.argmin(axis=1)
        area.loc[rest] = [int(major[b]) if b in major else int(n) for b, n in zip(rb, nearest, strict=True)]
    return area


def _capacitated_kmeans(
    xy: np.ndarray, demand: np.ndarray, *, k: int, seed: int, iterations: int = 30
) -> np.ndarray:
    """Return flows (buildings x k) of a balanced k-means over weighted points."""
    rng = np.random.default_rng(seed)
    n = len(xy)
    # k-means++ start, weighted by demand.
    centres = [xy[rng.choice(n, p=demand / demand.sum())]]
    for _ in range(1, k):
        d2 = np.min([((xy - c) ** 2).sum(axis=1) for c in centres], axis=0) * demand
        total = d2.sum()
        pick = rng.choice(n, p=d2 / total) if total > 0 else int(rng.integers(n))
        centres.append(xy[pick])
    cap = -(-int(demand.sum()) // k)
    flows = np.zeros((n, k), dtype=np.int64)
    for _ in range(iterations):
        c = np.asarray(centres)
        cost = ((xy[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        new = _balanced_assignment(cost, demand, cap)
        if np.array_equal(new, flows):
            break
        flows = new
        centres = [
            np.average(xy, axis=0, weights=flows[:, j]) if flows[:, j].sum() else c[j] for j in range(k)
        ]
    return flows


def _balanced_assignment(cost: np.ndarray, demand: np.ndarray, cap: int) -> np.ndarray:
    """Send each point's demand to centres at least total cost, each centre taking <= cap."""
    n, k = cost.shape
    smcf = min_cost_flow.SimpleMinCostFlow()
    scale = 1.0 / max(1.0, float(cost.max()) / 1e6)  # keep integer costs small
    tails = np.repeat(np.arange(n), k)
    heads = n + np.tile(np.arange(k), n)
    smcf.add_arcs_with_capacity_and_unit_cost(
        tails,
        heads,
        np.repeat(demand, k),
        np.rint(cost.ravel() * scale).astype(np.int64),
    )
    sink = n + k
    smcf.add_arcs_with_capacity_and_unit_cost(
        np.arange(n, n + k), np.full(k, sink), np.full(k, cap), np.zeros(k, np.int64)
    )
    smcf.set_nodes_supplies(
        np.arange(n + k + 1), np.concatenate([demand, np.zeros(k, np.int64), [-demand.sum()]])
    )
    status = smcf.solve()
    assert status == smcf.OPTIMAL, f"balanced assignment failed: status {status}"
    return np.asarray(smcf.flows(np.arange(n * k)), dtype=np.int64).reshape(n, k)


def _empty_walk(start: str = Settings.walk_start) -> Walk:
    """Return a walk with no stops (the on-duty worker's)."""
    clock = _clock_from_seconds(_seconds_from_clock(start))
    return Walk(_empty_stops(), 0.0, 0.0, [], 0.0, clock, clock)


# --------------------------------------------------------------------------- helpers


def _seconds_from_clock(clock: str) -> int:
    """Return seconds after midnight of an ``"HH:MM"`` clock time.

    >>> _seconds_from_clock("15:30")
    55800
    """
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(clock))
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"expected a clock time 'HH:MM', got {clock!r}")
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60


def _clock_from_seconds(seconds: int) -> str:
    """Return ``"HH:MM"`` for seconds after midnight, truncated to the minute.

    >>> _clock_from_seconds(55799)
    '15:29'
    """
    minutes = int(seconds) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _require_columns(frame: pd.DataFrame, name: str, columns: Sequence[str]) -> None:
    """Raise ``ValueError`` naming the frame and the columns it lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; expected {list(columns)}")


def _require_values(values: pd.Series, name: str, column: str, allowed: frozenset[str]) -> None:
    """Raise ``ValueError`` naming the first row whose value is not allowed."""
    bad = ~values.isin(allowed)
    if bad.any():
        row = values.index[bad][0]
        raise ValueError(f"{name} row {row!r}: {column} {values[row]!r} is not one of {sorted(allowed)}")
