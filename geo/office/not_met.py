"""Occupied households not met for 12 months, as a list and per grid."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from geo.coverage import CoverageIndex


def not_met_since(as_of: dt.date, *, months: int = 12) -> dt.date:
    """Return the first day of the window "the last ``months`` months" ending ``as_of``.

    A household not met on or after this day has not been met for ``months`` months.

    Examples
    --------
    >>> not_met_since(dt.date(2026, 11, 26))
    datetime.date(2025, 11, 27)
    >>> not_met_since(dt.date(2024, 2, 29))
    datetime.date(2023, 3, 1)
    """
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    y, mth = divmod(as_of.year * 12 + as_of.month - 1 - months, 12)
    mth += 1
    last_day = (dt.date(y + (mth == 12), mth % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, mth, min(as_of.day, last_day)) + dt.timedelta(days=1)


def households_not_met(
    households: pd.DataFrame,
    last_met: pd.Series,
    *,
    as_of: dt.date,
    months: int = 12,
) -> pd.DataFrame:
    """Return occupied households with no ``met`` visit in the last ``months`` months.

    Parameters
    ----------
    households
        ``household_id, occupied`` and any columns to keep (``building_id,
        grid_id, residents, tags`` ...).
    last_met
        The latest ``met`` visit on or before ``as_of`` per household id
        (missing or NaT: never met).
    as_of
        The last day counted.

    Returns
    -------
    pandas.DataFrame
        The households' columns plus ``last_met_at`` (NaT: never) and
        ``days_since`` (days from the last met visit to ``as_of``; missing when
        never met); never-met households first, then the longest unmet.

    Examples
    --------
    >>> hh = pd.DataFrame({"household_id": ["h1", "h2", "h3", "h4"], "occupied": [1, 1, 1, 0]})
    >>> last = pd.Series(pd.to_datetime(["2025-11-26 14:00", "2025-11-27 09:00"]), index=["h1", "h2"])
    >>> households_not_met(hh, last, as_of=dt.date(2026, 11, 26))[["household_id", "days_since"]]
      household_id  days_since
    0           h3        <NA>
    1           h1         365
    """
    since = np.datetime64(not_met_since(as_of, months=months), "s")
    occupied = households["occupied"].astype(bool).to_numpy()
    lm = pd.Series(last_met).reindex(households["household_id"].to_numpy(dtype=object))
    lm_arr = lm.to_numpy(dtype="datetime64[s]")
    keep = occupied & (np.isnat(lm_arr) | (lm_arr < since))
    out = households.loc[keep].copy()
    out["last_met_at"] = lm_arr[keep]
    days = (np.datetime64(as_of, "D") - lm_arr[keep].astype("datetime64[D]")).astype("timedelta64[D]")
    out["days_since"] = pd.array(
        [None if np.isnat(d) else int(d.astype(np.int64)) for d in days], dtype="Int64"
    )
    never = np.isnat(lm_arr[keep])
    order = np.lexsort(
        (
            out["household_id"].to_numpy(dtype=object).astype(str),
            np.where(never, 0, lm_arr[keep].astype(np.int64)),
            ~never,
        )
    )
    return out.iloc[order].reset_index(drop=True)


def not_met_by_grid(index: CoverageIndex, *, as_of: dt.date, months: int = 12) -> pd.DataFrame:
    """Count, per grid, occupied households not met in the last ``months`` months, most first.

    Columns ``households, not_met, share`` (share of occupied households),
    indexed by grid id; grids with none left out.
    """
    met = index.met_mask(not_met_since(as_of, months=months), as_of)
    n = len(index.grid_ids)
    todo = index.occupied & ~met
    hh = np.bincount(index.h_grid[index.occupied], minlength=n)
    count = np.bincount(index.h_grid[todo], minlength=n)
    out = pd.DataFrame(
        {"households": hh, "not_met": count},
        index=pd.Index(index.grid_ids.to_numpy(dtype=object), name="grid_id"),
    )
    out = out[out["not_met"] > 0]
    out["share"] = out["not_met"] / out["households"]
    return out.sort_values(["not_met", "share"], ascending=False, kind="stable")


def not_met_households(index: CoverageIndex, *, as_of: dt.date, months: int = 12) -> np.ndarray:
    """Return the ids of occupied households not met in the last ``months`` months."""
    met = index.met_mask(not_met_since(as_of, months=months), as_of)
    return index.household_ids.to_numpy(dtype=object)[index.occupied & ~met]
