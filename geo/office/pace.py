"""Pace against the yearly goal: coverage so far beside the pace that meets every household by year end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from geo.coverage import CoverageIndex
from geo.office.calendar import WorkCalendar, _year_bounds


def pace(
    ytd: pd.DataFrame,
    earlier: pd.DataFrame | None,
    *,
    as_of: dt.date,
    goal: float = 1.0,
    calendar: WorkCalendar | None = None,
    slack: float = 0.1,
    recent_days: int = 28,
) -> pd.DataFrame:
    """Compare coverage so far with the pace needed to meet the yearly goal.

    The goal line rises with working days: by day *d* the share expected is
    ``goal × (working days from 1 January to d) / (working days in the year)``.

    Parameters
    ----------
    ytd
        Coverage from 1 January to ``as_of`` per area (``households, visited``),
        e.g. ``index.coverage(date(Y, 1, 1), as_of, level=...)``.
    earlier
        The same from 1 January to ``as_of - recent_days`` (None when that is
        before 1 January): the difference is the recent rate.
    as_of
        The last day counted.
    goal
        Share of occupied households to meet within the year (``Settings.coverage_goal``).
    slack
        A grid is *behind pace* when its coverage is below ``expected × (1 - slack)``.

    Returns
    -------
    pandas.DataFrame
        Per area (same index): ``households, visited, coverage, expected, gap``
        (coverage - expected), ``behind``, ``remaining`` (households still to
        meet for the goal), ``weeks_left`` (working weeks after ``as_of``),
        ``needed_per_week`` (households to meet per week from now on; NaN when
        no working day is left but households are), ``recent_per_week``
        (households first met per week over the last ``recent_days``) and
        ``projected`` (year-end coverage at the recent rate).

    Examples
    --------
    >>> ytd = pd.DataFrame({"households": [100, 100], "visited": [30, 60]}, index=["G1", "G2"])
    >>> earlier = pd.DataFrame({"households": [100, 100], "visited": [26, 50]}, index=["G1", "G2"])
    >>> cal = WorkCalendar()
    >>> p = pace(ytd, earlier, as_of=dt.date(2026, 7, 1), calendar=cal)
    >>> round(float(p.loc["G1", "expected"]), 4), bool(p.loc["G1", "behind"]), bool(p.loc["G2", "behind"])
    (0.4981, True, False)
    >>> int(p.loc["G1", "remaining"]), float(p.loc["G1", "weeks_left"])
    (70, 26.2)
    """
    cal = calendar or WorkCalendar()
    jan1, dec31 = _year_bounds(as_of)
    total = cal.workdays(jan1, dec31)
    done = cal.workdays(jan1, as_of)
    expected = goal * done / total if total else 0.0
    left_days = cal.workdays(as_of + dt.timedelta(days=1), dec31)
    weeks_left = left_days / 5.0
    recent_from = max(jan1, as_of - dt.timedelta(days=recent_days - 1))
    recent_weeks = cal.workdays(recent_from, as_of) / 5.0
    hh = ytd["households"].to_numpy(dtype=np.int64)
    vis = ytd["visited"].to_numpy(dtype=np.int64)
    before = (
        earlier["visited"].reindex(ytd.index).fillna(0).to_numpy(dtype=np.int64)
        if earlier is not None
        else np.zeros(len(ytd), dtype=np.int64)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = np.where(hh > 0, vis / np.maximum(hh, 1), np.nan)
        remaining = np.maximum(np.ceil(goal * hh - 1e-9) - vis, 0)
        needed = remaining / weeks_left if weeks_left > 0 else np.where(remaining > 0, np.nan, 0.0)
        recent = (vis - before) / recent_weeks if recent_weeks > 0 else np.zeros(len(hh))
        projected = np.where(hh > 0, np.minimum(hh, vis + recent * weeks_left) / np.maximum(hh, 1), np.nan)
    out = pd.DataFrame(
        {
            "households": hh,
            "visited": vis,
            "coverage": cov,
            "expected": np.where(hh > 0, expected, np.nan),
            "gap": cov - expected,
            "behind": (hh > 0) & (np.nan_to_num(cov, nan=1.0) < expected * (1 - slack)),
            "remaining": remaining.astype(np.int64),
            "weeks_left": weeks_left,
            "needed_per_week": np.round(needed, 1),
            "recent_per_week": np.round(recent, 1),
            "projected": projected,
        },
        index=ytd.index,
    )
    return out


def pace_from_index(
    index: CoverageIndex,
    *,
    as_of: dt.date,
    level: str = "grid",
    goal: float = 1.0,
    calendar: WorkCalendar | None = None,
    slack: float = 0.1,
    recent_days: int = 28,
) -> pd.DataFrame:
    """Return :func:`pace` for every area at ``level`` (``grid``, ``committee``, ``street``, ``district``)."""
    jan1, _ = _year_bounds(as_of)
    ytd = index.coverage(jan1, as_of, level=level)
    cut = as_of - dt.timedelta(days=recent_days)
    earlier = index.coverage(jan1, cut, level=level) if cut >= jan1 else None
    return pace(ytd, earlier, as_of=as_of, goal=goal, calendar=calendar, slack=slack, recent_days=recent_days)


def burn_up(
    index: CoverageIndex,
    *,
    as_of: dt.date,
    grid_ids: Iterable[str] | None = None,
    goal: float = 1.0,
    calendar: WorkCalendar | None = None,
    recent_days: int = 28,
) -> pd.DataFrame:
    """Return the burn-up series of an area for the year of ``as_of``.

    Long format for a chart: ``date, series, coverage`` with ``series`` one of
    ``actual`` (share of the area's occupied households met since 1 January,
    at each Sunday up to ``as_of`` and at ``as_of``), ``goal`` (the pace line,
    at each Sunday of the year and 31 December) and ``projected`` (from
    ``as_of`` to 31 December at the rate of the last ``recent_days``).

    Examples
    --------
    >>> from geo.coverage import areas_from_frames
    >>> hh = pd.DataFrame({"household_id": ["h1", "h2"], "grid_id": ["G1", "G1"],
    ...                    "building_id": ["b", "b"], "occupied": [1, 1], "residents": [1, 1]})
    >>> v = pd.DataFrame({"household_id": ["h1"], "outcome": ["met"],
    ...                   "visited_at": pd.to_datetime(["2026-01-06 14:00"])})
    >>> areas = areas_from_frames(pd.DataFrame({"grid_id": ["G1"], "committee_id": ["C1"]}),
    ...                           pd.DataFrame({"committee_id": ["C1"], "street_id": ["S1"]}))
    >>> b = burn_up(CoverageIndex(hh, v, None, areas), as_of=dt.date(2026, 1, 14), calendar=WorkCalendar())
    >>> b[b["series"] == "actual"]["coverage"].tolist()
    [0.0, 0.5, 0.5]
    """
    cal = calendar or WorkCalendar()
    jan1, dec31 = _year_bounds(as_of)
    mask = index.occupied.copy()
    if grid_ids is not None:
        wanted = index.grid_ids.get_indexer(pd.Index(list(grid_ids), dtype=object))
        in_area = np.zeros(len(index.grid_ids), dtype=bool)
        in_area[wanted[wanted >= 0]] = True
        mask &= in_area[index.h_grid]
    n = int(mask.sum())
    first_sunday = jan1 + dt.timedelta(days=(6 - jan1.weekday()) % 7)
    sundays = [first_sunday + dt.timedelta(days=7 * k) for k in range(54)]
    sundays = [d for d in sundays if d <= dec31]
    actual_days = [d for d in sundays if d < as_of] + [as_of]
    actual = [(int((index.met_mask(jan1, d) & mask).sum()) / n) if n else float("nan") for d in actual_days]
    total = cal.workdays(jan1, dec31)
    goal_days = [*sundays, dec31] if sundays[-1] != dec31 else sundays
    goal_line = [goal * cal.workdays(jan1, d) / total if total else 0.0 for d in goal_days]
    recent_from = max(jan1, as_of - dt.timedelta(days=recent_days - 1))
    before = (
        int((index.met_mask(jan1, recent_from - dt.timedelta(days=1)) & mask).sum())
        if recent_from > jan1
        else 0
    )
    now = actual[-1] * n if n else 0.0
    per_day = (now - before) / max(cal.workdays(recent_from, as_of), 1)
    proj_days = [as_of] + [d for d in sundays if d > as_of] + ([dec31] if as_of < dec31 else [])
    proj_days = sorted(set(proj_days))
    projected = [
        min(1.0, (now + per_day * cal.workdays(as_of + dt.timedelta(days=1), d)) / n) if n else float("nan")
        for d in proj_days
    ]
    parts = [
        pd.DataFrame({"date": actual_days, "series": "actual", "coverage": actual}),
        pd.DataFrame({"date": goal_days, "series": "goal", "coverage": goal_line}),
        pd.DataFrame({"date": proj_days, "series": "projected", "coverage": projected}),
    ]
    out = pd.concat(parts, ignore_index=True)
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[s]")
    return out
