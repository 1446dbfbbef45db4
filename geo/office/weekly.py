"""一周一查, the weekly check: per grid and per worker, the last 7 days beside the year so far, anomaly flags
and a seeded spot-check list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.office.calendar import _DAY, _FAR, WorkCalendar, _sec
from geo.office.frames import OfficeFrames, visit_names
from geo.office.lagging import _area_names
from geo.settings import Settings

ANOMALY_KINDS = ("after_hours", "non_workday", "burst", "far_apart", "over_households")
"""Kinds of anomaly flag raised by :func:`weekly_check`."""

_DAY_END = dt.time.fromisoformat(Settings.day_end)


@dataclass(frozen=True)
class CheckRules:
    """Thresholds of the weekly check's anomaly flags and spot checks.

    Examples
    --------
    >>> CheckRules.from_settings(Settings.from_env({"SIBAI_DAY_END": "16:00"})).day_end
    datetime.time(16, 0)
    """

    day_end: dt.time = _DAY_END
    """Visits recorded after this time of day are flagged ``after_hours``."""
    burst_gap_minutes: float = 2.0
    """Door visits by one worker this close together form a burst ..."""
    burst_min_visits: int = 5
    """... when at least this many follow each other so."""
    far_metres: float = 800.0
    """Two door visits by one worker at buildings this far apart ..."""
    far_minutes: float = 10.0
    """... within this many minutes are flagged ``far_apart``."""
    spot_checks: int = 20
    """Size of the spot-check list."""
    seed: int = 330
    """Seed of the spot-check draw (with the week's last day: the same week gives the same list)."""

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> CheckRules:
        """Take ``day_end`` from the settings; other fields from ``overrides`` or defaults."""
        return cls(day_end=dt.time.fromisoformat(settings.day_end), **overrides)


@dataclass(frozen=True)
class WeeklyCheck:
    """The result of :func:`weekly_check`."""

    week_start: dt.date
    week_end: dt.date
    grids: pd.DataFrame
    workers: pd.DataFrame
    anomalies: pd.DataFrame
    spot_checks: pd.DataFrame

    def totals(self) -> dict[str, float]:
        """Sum the grid rows (coverage figures recomputed over all grids)."""
        g = self.grids
        out = {
            c: float(g[c].sum())
            for c in g.columns
            if c.endswith(("_week", "_year")) and not c.startswith("coverage") and c != "overdue"
        }
        out["overdue"] = float(g["overdue"].sum())
        hh = float(g["households"].sum())
        out["households"] = hh
        out["coverage_year"] = out["newly_met_year"] / hh if hh else float("nan")
        out["coverage_gained_week"] = out["newly_met_week"] / hh if hh else float("nan")
        out["anomalies"] = float(len(self.anomalies))
        return out


def _first_met(c: dict[str, Any], lo: int, n_households: int) -> tuple[np.ndarray, np.ndarray]:
    """First met visit from ``lo`` on per household: (time or _FAR, visit position or -1).

    The first met visit within ``[lo, hi)`` is this one if its time is before
    ``hi``, so one answer per ``lo`` (1 January) serves every week of the year:
    it is cached with the arrays.
    """
    key = f"first_met_{lo}"
    if key in c:
        cached: tuple[np.ndarray, np.ndarray] = c[key]
        return cached
    a = int(np.searchsorted(c["v_t"], lo))
    met = np.flatnonzero(c["v_met"][a:]) + a
    first_t = np.full(n_households, _FAR, dtype=np.int64)
    first_v = np.full(n_households, -1, dtype=np.int64)
    if len(met):
        h = c["v_h"][met]
        # Visits are in time order: the first occurrence of each household is its first met visit.
        uniq, pos = np.unique(h, return_index=True)
        first_t[uniq] = c["v_t"][met[pos]]
        first_v[uniq] = met[pos]
    c[key] = (first_t, first_v)
    return first_t, first_v


def weekly_check(
    frames: OfficeFrames,
    *,
    week_ending: dt.date,
    grid_ids: Iterable[str] | None = None,
    rules: CheckRules | None = None,
    calendar: WorkCalendar | None = None,
) -> WeeklyCheck:
    """Run the weekly check (一周一查) for the 7 days ending ``week_ending``.

    Per grid and per worker, the week beside the year so far (1 January to
    ``week_ending``):

    - ``visits_*``: visits recorded (every outcome and channel);
    - ``met_*``: visits whose outcome was ``met``;
    - ``newly_met_*``: households met for the first time this year (per worker:
      those whose first met visit of the year was theirs); for grids also
      ``coverage_gained_week`` and ``coverage_year`` (shares of occupied households);
    - ``opened_*``, ``closed_*``: issues opened / closed; ``overdue``: open and
      overdue at the end of the week as the issues page counts them (past the
      district's limit once the escalation clock has moved them up the ladder,
      :func:`geo.coverage.overdue_from`). A worker's issue counts
      cover the grids they are assigned to, at the levels a grid's workers
      answer for (:data:`WORKER_LEVELS`);
    - ``anomalies_week``: anomaly flags of the week (below).

    Anomaly flags (one row each in ``anomalies``), within the week:

    - ``after_hours``: a visit recorded after ``rules.day_end`` (15:30);
    - ``non_workday``: a visit on a weekend or holiday (``calendar``);
    - ``burst``: at least ``burst_min_visits`` door visits by one worker, each
      within ``burst_gap_minutes`` of the previous (one row per burst:
      ``visit_id`` first, ``other_visit_id`` last, ``visits``, ``minutes``);
    - ``far_apart``: consecutive door visits by one worker at buildings at
      least ``far_metres`` apart within ``far_minutes`` (``metres``, ``minutes``);
    - ``over_households``: a grid with more visits in the week than households
      (vacant ones included).

    The spot-check list draws ``rules.spot_checks`` of the week's ``met``
    visits at random, seeded by ``rules.seed`` and the week, so the same week
    always gives the same list.

    Parameters
    ----------
    grid_ids
        Restrict everything to these grids (and the workers of their
        committees or assigned to them); None: every grid.
    """
    rules = rules or CheckRules()
    cal = calendar or WorkCalendar()
    s = _Week.of(frames, week_ending, grid_ids)
    first = _FirstMet.of(s)
    issues = _issue_masks(s)
    anomalies = _anomalies(frames, s.c, s.wk, rules, cal, first.all_hh_grid, s.in_scope)
    grid_table = _grid_table(frames, s, first, issues, anomalies)
    worker_table = _worker_table(frames, s, first, issues, anomalies)
    spots = _spot_checks(frames, s.c, s.wk, rules, week_ending)
    return WeeklyCheck(s.week_start, week_ending, grid_table, worker_table, anomalies, spots)


@dataclass(frozen=True)
class _Week:
    """The positions a weekly check counts: the year's and the week's visits within the grids checked."""

    c: dict[str, Any]
    gids: pd.Index
    n_g: int
    n_w: int
    week_start: dt.date
    w_lo: int
    hi: int
    y_lo: int
    in_scope: np.ndarray
    yr: np.ndarray
    wk: np.ndarray

    @classmethod
    def of(cls, frames: OfficeFrames, week_ending: dt.date, grid_ids: Iterable[str] | None) -> _Week:
        c = frames.arrays()
        gids: pd.Index = c["grid_ids"]
        n_g, n_w = len(gids), len(c["worker_ids"])
        week_start = week_ending - dt.timedelta(days=6)
        jan1 = dt.date(week_ending.year, 1, 1)
        w_lo, hi, y_lo = _sec(week_start), _sec(week_ending + dt.timedelta(days=1)), _sec(jan1)

        in_scope = np.ones(n_g, dtype=bool)
        if grid_ids is not None:
            want = gids.get_indexer(pd.Index(list(grid_ids), dtype=object))
            in_scope[:] = False
            in_scope[want[want >= 0]] = True

        # Visits are in time order: the year and the week are slices.
        ya, yb = np.searchsorted(c["v_t"], [y_lo, hi])
        wa = int(np.searchsorted(c["v_t"], w_lo))
        v_g = c["v_g"]
        yr = np.arange(ya, yb)
        yr = yr[(v_g[yr] >= 0) & in_scope[np.maximum(v_g[yr], 0)]]
        wk = yr[yr >= wa]
        return cls(c, gids, n_g, n_w, week_start, w_lo, hi, y_lo, in_scope, yr, wk)

    @property
    def met_yr(self) -> np.ndarray:
        return self.yr[self.c["v_met"][self.yr]]

    @property
    def met_wk(self) -> np.ndarray:
        return self.wk[self.c["v_met"][self.wk]]

    def per_grid(self, pos: np.ndarray) -> np.ndarray:
        return np.bincount(self.c["v_g"][pos], minlength=self.n_g)

    def per_worker(self, pos: np.ndarray) -> np.ndarray:
        w = self.c["v_w"][pos]
        return np.bincount(w[w >= 0], minlength=self.n_w)

    def issues_per_grid(self, mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.c["i_g"][mask], minlength=self.n_g)


@dataclass(frozen=True)
class _FirstMet:
    """Households met for the first time this year and this week, per grid, and the visits that did it."""

    hh_grid: np.ndarray
    all_hh_grid: np.ndarray
    new_year_g: np.ndarray
    new_week_g: np.ndarray
    fv_year: np.ndarray
    fv_week: np.ndarray

    @classmethod
    def of(cls, s: _Week) -> _FirstMet:
        c, n_g, in_scope = s.c, s.n_g, s.in_scope
        first_t, first_v = _first_met(c, s.y_lo, len(c["h_grid"]))
        occupied = c["h_occupied"]
        new_year = occupied & (first_t < s.hi)
        new_week = new_year & (first_t >= s.w_lo)
        h_grid = c["h_grid"]
        return cls(
            hh_grid=np.bincount(h_grid[occupied & (h_grid >= 0)], minlength=n_g),
            all_hh_grid=np.bincount(h_grid[h_grid >= 0], minlength=n_g),
            new_year_g=np.bincount(h_grid[new_year & (h_grid >= 0)], minlength=n_g),
            new_week_g=np.bincount(h_grid[new_week & (h_grid >= 0)], minlength=n_g),
            fv_year=first_v[new_year & (h_grid >= 0) & in_scope[np.maximum(h_grid, 0)]],
            fv_week=first_v[new_week & (h_grid >= 0) & in_scope[np.maximum(h_grid, 0)]],
        )


def _issue_masks(s: _Week) -> dict[str, np.ndarray]:
    """Return the issues opened and closed in the week and the year, and those overdue at its end."""
    c, w_lo, hi, y_lo = s.c, s.w_lo, s.hi, s.y_lo
    i_g = c["i_g"]
    i_ok = (i_g >= 0) & s.in_scope[np.maximum(i_g, 0)]
    opened, closed, overdue_from_ = c["i_open"], c["i_close"], c["i_overdue_from"]
    return {
        "opened_week": i_ok & (opened >= w_lo) & (opened < hi),
        "opened_year": i_ok & (opened >= y_lo) & (opened < hi),
        "closed_week": i_ok & (closed >= w_lo) & (closed < hi),
        "closed_year": i_ok & (closed >= y_lo) & (closed < hi),
        "overdue": i_ok & (opened < hi) & (closed >= hi) & (overdue_from_ < hi),
    }


def _grid_table(
    frames: OfficeFrames, s: _Week, first: _FirstMet, issues: dict[str, np.ndarray], anomalies: pd.DataFrame
) -> pd.DataFrame:
    """Return the weekly check's grid table (the grids checked only)."""
    an_g = np.bincount(s.gids.get_indexer(anomalies["grid_id"].to_numpy(dtype=object)), minlength=s.n_g)
    names = _area_names(frames.grids, s.gids)
    hh_grid = first.hh_grid
    with np.errstate(invalid="ignore", divide="ignore"):
        cov_year = np.where(hh_grid > 0, first.new_year_g / np.maximum(hh_grid, 1), np.nan)
        cov_week = np.where(hh_grid > 0, first.new_week_g / np.maximum(hh_grid, 1), np.nan)
    return pd.DataFrame(
        {
            "grid_id": s.gids.to_numpy(dtype=object),
            **{k: names[k].to_numpy(dtype=object) for k in names.columns},
            "households": hh_grid,
            "visits_week": s.per_grid(s.wk),
            "visits_year": s.per_grid(s.yr),
            "met_week": s.per_grid(s.met_wk),
            "met_year": s.per_grid(s.met_yr),
            "newly_met_week": first.new_week_g,
            "newly_met_year": first.new_year_g,
            "coverage_gained_week": cov_week,
            "coverage_year": cov_year,
            **{k: s.issues_per_grid(issues[k]) for k in _ISSUE_COLUMNS},
            "anomalies_week": an_g,
        }
    )[s.in_scope].reset_index(drop=True)


_ISSUE_COLUMNS = ("opened_week", "opened_year", "closed_week", "closed_year", "overdue")


def _worker_table(
    frames: OfficeFrames, s: _Week, first: _FirstMet, issues: dict[str, np.ndarray], anomalies: pd.DataFrame
) -> pd.DataFrame:
    """Return the weekly check's worker table: the workers of the grids checked and their committees."""
    c, gids, n_w = s.c, s.gids, s.n_w
    an_w_idx = c["worker_ids"].get_indexer(anomalies["worker_id"].dropna().to_numpy(dtype=object))
    an_w = np.bincount(an_w_idx[an_w_idx >= 0], minlength=n_w)
    gw = frames.grid_workers
    pair_g = gids.get_indexer(gw["grid_id"].to_numpy(dtype=object))
    pair_w = c["worker_ids"].get_indexer(gw["worker_id"].to_numpy(dtype=object))
    ok = (pair_g >= 0) & (pair_w >= 0) & s.in_scope[np.maximum(pair_g, 0)]
    pair_g, pair_w = pair_g[ok], pair_w[ok]
    wl = c["i_worker_level"]

    def issues_per_worker(mask: np.ndarray) -> np.ndarray:
        per_g = s.issues_per_grid(mask & wl)
        return np.bincount(pair_w, weights=per_g[pair_g], minlength=n_w).astype(np.int64)

    def credited(first_visits: np.ndarray) -> np.ndarray:
        w = c["v_w"][first_visits]
        return np.bincount(w[w >= 0], minlength=n_w)

    workers = frames.workers
    committee_of = pd.Series(frames.grids["committee_id"].to_numpy(dtype=object), index=gids)
    scope_committees = set(committee_of[s.in_scope].tolist())
    w_scope = workers["committee_id"].isin(scope_committees).to_numpy() | np.isin(np.arange(n_w), pair_w)
    lead = gw[gw["role"] == "leader"]
    leads = lead.groupby("worker_id")["grid_id"].count()
    cnames = (
        frames.grids.drop_duplicates("committee_id").set_index("committee_id")["committee_name"]
        if "committee_name" in frames.grids
        else pd.Series(dtype=object)
    )
    return pd.DataFrame(
        {
            "worker_id": workers["worker_id"].to_numpy(dtype=object),
            "worker_name": workers["name"].to_numpy(dtype=object),
            "committee_id": workers["committee_id"].to_numpy(dtype=object),
            "committee_name": workers["committee_id"].map(cnames).to_numpy(dtype=object),
            "grids_led": leads.reindex(workers["worker_id"]).fillna(0).astype("int64").to_numpy(),
            "visits_week": s.per_worker(s.wk),
            "visits_year": s.per_worker(s.yr),
            "met_week": s.per_worker(s.met_wk),
            "met_year": s.per_worker(s.met_yr),
            "newly_met_week": credited(first.fv_week),
            "newly_met_year": credited(first.fv_year),
            **{k: issues_per_worker(issues[k]) for k in _ISSUE_COLUMNS},
            "anomalies_week": an_w,
        }
    )[w_scope].reset_index(drop=True)


_ANOMALY_COLUMNS = (
    "kind",
    "visit_id",
    "other_visit_id",
    "worker_id",
    "worker_name",
    "grid_id",
    "grid_name",
    "visited_at",
    "minutes",
    "metres",
    "visits",
    "households",
)


def _anomalies(
    frames: OfficeFrames,
    c: dict[str, Any],
    wk: np.ndarray,
    rules: CheckRules,
    cal: WorkCalendar,
    all_hh_grid: np.ndarray,
    in_scope: np.ndarray,
) -> pd.DataFrame:
    parts = _time_flags(c, wk, rules, cal) + _door_flags(c, wk, rules)
    n_g = len(c["grid_ids"])
    visits_g = np.bincount(c["v_g"][wk], minlength=n_g)
    over = np.flatnonzero(in_scope & (visits_g > all_hh_grid))

    gname = _area_names(frames.grids, c["grid_ids"])
    grid_names = gname["grid_name"].to_numpy(dtype=object) if "grid_name" in gname else c["grid_ids"]
    wnames = pd.Series(frames.workers["name"].to_numpy(dtype=object), index=c["worker_ids"])
    frames_out = [_visit_flag_rows(c, p, grid_names, wnames) for p in parts]
    if len(over):
        frames_out.append(_over_households_rows(c, over, grid_names, visits_g, all_hh_grid))
    if not frames_out:
        empty = pd.DataFrame({col: pd.Series(dtype=object) for col in _ANOMALY_COLUMNS})
        empty["visited_at"] = pd.Series(dtype="datetime64[s]")
        return _typed_anomalies(empty)
    out = pd.concat(frames_out, ignore_index=True)
    kind_order = {k: i for i, k in enumerate(ANOMALY_KINDS)}
    out["_k"] = out["kind"].map(kind_order)
    out = out.sort_values(["_k", "visited_at", "visit_id", "grid_id"], kind="stable").drop(columns="_k")
    return _typed_anomalies(out.reset_index(drop=True))


def _time_flags(
    c: dict[str, Any], wk: np.ndarray, rules: CheckRules, cal: WorkCalendar
) -> list[dict[str, Any]]:
    """Return the ``after_hours`` and ``non_workday`` flags of the week's visits (positions)."""
    t = c["v_t"][wk]
    end_s = rules.day_end.hour * 3600 + rules.day_end.minute * 60 + rules.day_end.second
    days = (t // _DAY).astype("datetime64[D]")
    flagged = [("after_hours", wk[t % _DAY > end_s]), ("non_workday", wk[~cal.is_workday(days)])]
    return [{"kind": kind, "pos": pos} for kind, pos in flagged if len(pos)]


def _door_flags(c: dict[str, Any], wk: np.ndarray, rules: CheckRules) -> list[dict[str, Any]]:
    """Return the ``burst`` and ``far_apart`` flags of each worker's door visits of the week."""
    parts: list[dict[str, Any]] = []
    door = wk[c["v_door"][wk] & (c["v_w"][wk] >= 0)]
    order = np.lexsort((c["v_t"][door], c["v_w"][door]))
    door = door[order]
    dw, dt_ = c["v_w"][door], c["v_t"][door]
    same = dw[1:] == dw[:-1]
    gap = dt_[1:] - dt_[:-1]
    if not len(door):
        return parts
    # bursts: runs of visits each within burst_gap of the previous
    link = same & (gap <= rules.burst_gap_minutes * 60)
    start = np.concatenate([[True], ~link])
    run = np.cumsum(start) - 1
    size = np.bincount(run)
    first = np.flatnonzero(start)
    last = np.concatenate([first[1:] - 1, [len(door) - 1]])
    big = np.flatnonzero(size >= rules.burst_min_visits)
    if len(big):
        parts.append(
            {
                "kind": "burst",
                "pos": door[first[big]],
                "other": door[last[big]],
                "visits": size[big],
                "minutes": (dt_[last[big]] - dt_[first[big]]) / 60.0,
            }
        )
    # far apart: consecutive visits at distant buildings within far_minutes
    b = c["v_b"][door]
    close = same & (gap <= rules.far_minutes * 60) & (b[1:] >= 0) & (b[:-1] >= 0)
    idx = np.flatnonzero(close)
    if len(idx):
        b0, b1 = b[idx], b[idx + 1]
        dist = np.hypot(c["b_x"][b1] - c["b_x"][b0], c["b_y"][b1] - c["b_y"][b0])
        far = dist >= rules.far_metres
        if far.any():
            parts.append(
                {
                    "kind": "far_apart",
                    "pos": door[idx[far] + 1],
                    "other": door[idx[far]],
                    "metres": np.round(dist[far], 0),
                    "minutes": gap[idx[far]] / 60.0,
                }
            )
    return parts


def _visit_flag_rows(
    c: dict[str, Any], p: dict[str, Any], grid_names: np.ndarray, wnames: pd.Series
) -> pd.DataFrame:
    """Return one anomaly row per flagged visit of one kind."""
    pos = p["pos"]
    k = len(pos)
    worker, _ = visit_names(c, pos)
    g = c["v_g"][pos]
    return pd.DataFrame(
        {
            "kind": p["kind"],
            "visit_id": c["v_id"][pos],
            "other_visit_id": c["v_id"][p["other"]] if "other" in p else np.full(k, np.nan),
            "worker_id": worker,
            "worker_name": wnames.reindex(worker).to_numpy(dtype=object),
            "grid_id": c["grid_ids"].to_numpy(dtype=object)[g],
            "grid_name": grid_names[g],
            "visited_at": c["v_t"][pos].astype("datetime64[s]"),
            "minutes": p.get("minutes", np.full(k, np.nan)),
            "metres": p.get("metres", np.full(k, np.nan)),
            "visits": p.get("visits", np.full(k, np.nan)),
            "households": np.full(k, np.nan),
        }
    )


def _over_households_rows(
    c: dict[str, Any], over: np.ndarray, grid_names: np.ndarray, visits_g: np.ndarray, all_hh_grid: np.ndarray
) -> pd.DataFrame:
    """Return one ``over_households`` row per grid with more visits in the week than households."""
    return pd.DataFrame(
        {
            "kind": "over_households",
            "visit_id": np.nan,
            "other_visit_id": np.nan,
            "worker_id": None,
            "worker_name": None,
            "grid_id": c["grid_ids"].to_numpy(dtype=object)[over],
            "grid_name": grid_names[over],
            "visited_at": np.full(len(over), np.datetime64("NaT"), dtype="datetime64[s]"),
            "minutes": np.nan,
            "metres": np.nan,
            "visits": visits_g[over].astype(float),
            "households": all_hh_grid[over].astype(float),
        }
    )


def _typed_anomalies(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[list(_ANOMALY_COLUMNS)].copy()
    for col in ("visit_id", "other_visit_id", "visits", "households"):
        out[col] = pd.array(pd.to_numeric(out[col]).round(), dtype="Int64")
    for col in ("minutes", "metres"):
        out[col] = pd.to_numeric(out[col]).astype(float).round(1)
    for col in ("kind", "worker_id", "worker_name", "grid_id", "grid_name"):
        out[col] = out[col].astype(object)
    return out


def _spot_checks(
    frames: OfficeFrames, c: dict[str, Any], wk: np.ndarray, rules: CheckRules, week_ending: dt.date
) -> pd.DataFrame:
    met = wk[c["v_met"][wk]]
    met = met[np.argsort(c["v_id"][met], kind="stable")]
    rng = np.random.default_rng([rules.seed, week_ending.toordinal()])
    k = min(rules.spot_checks, len(met))
    pick = np.sort(rng.choice(len(met), size=k, replace=False)) if k else np.empty(0, dtype=np.int64)
    pos = met[pick]
    worker, channel = visit_names(c, pos)
    wnames = pd.Series(frames.workers["name"].to_numpy(dtype=object), index=c["worker_ids"])
    names = _area_names(frames.grids, c["grid_ids"])
    g = c["v_g"][pos]
    return pd.DataFrame(
        {
            "visit_id": c["v_id"][pos],
            "visited_at": c["v_t"][pos].astype("datetime64[s]"),
            "household_id": frames.households["household_id"].to_numpy(dtype=object)[c["v_h"][pos]],
            "worker_id": worker,
            "worker_name": wnames.reindex(worker).to_numpy(dtype=object),
            "grid_id": c["grid_ids"].to_numpy(dtype=object)[g],
            "grid_name": (names["grid_name"].to_numpy(dtype=object)[g] if "grid_name" in names else None),
            "channel": channel,
        }
    )
