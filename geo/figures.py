"""One definition per figure: households, visited, coverage, open and overdue issues of an area.

Every screen's data function, the CLI and the public summary take these
figures from here, so that two screens never show two numbers for one fact
(docs/data-model.md, "Figures"). All of them are counted from the coverage
index (:class:`geo.coverage.CoverageIndex`) per grid and summed over the
area's grids:

* **households** — occupied households (vacant ones are never visited);
  **households_all** — every household on the register, vacant included.
* **visited** — occupied households with at least one ``met`` visit in the period.
* **coverage** — visited ÷ households; none (NaN) without occupied households.
* **open_issues**, **overdue_issues** — issues open, and past the district's
  limit with the escalation clock applied, at :func:`counted_at`: the end of
  the period, or now if that is earlier. Within today these move with the
  clock, so a screen showing them says as of when (``as_of``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.coverage import CoverageIndex

__all__ = ["COLUMNS", "Figures", "area_figures", "counted_at", "figures_by_grid"]

COLUMNS = ("households", "households_all", "visited", "coverage", "open_issues", "overdue_issues")
"""The figures, in the order screens show them."""


@dataclass(frozen=True)
class Figures:
    """The figures of one area for one period, and the moment its issue counts were taken."""

    households: int
    households_all: int
    visited: int
    coverage: float
    open_issues: int
    overdue_issues: int
    as_of: dt.datetime

    def as_dict(self) -> dict[str, float | int]:
        """Return the figures (without ``as_of``) by name."""
        return {c: getattr(self, c) for c in COLUMNS}


def counted_at(end: dt.date, now: dt.datetime) -> dt.datetime:
    """Return when issue counts of a period ending on ``end`` are taken: its end, or ``now`` if earlier.

    >>> counted_at(dt.date(2026, 12, 7), dt.datetime(2026, 12, 7, 13, 46))
    datetime.datetime(2026, 12, 7, 13, 46)
    >>> counted_at(dt.date(2026, 11, 30), dt.datetime(2026, 12, 7, 13, 46))
    datetime.datetime(2026, 12, 1, 0, 0)
    """
    return min(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()), now.replace(microsecond=0))


def figures_by_grid(index: CoverageIndex, *, start: dt.date, end: dt.date, now: dt.datetime) -> pd.DataFrame:
    """Return every grid's figures for the period (``COLUMNS`` and the index's other columns), by grid id.

    ``now`` is required: a figure that moves with the clock is taken at a
    moment the caller knows and can show.
    """
    frame = index.coverage(start, end, level="grid", now=now)
    per_grid = np.bincount(index.h_grid, minlength=len(index.grid_ids))
    frame["households_all"] = pd.Series(per_grid, index=index.grid_ids).reindex(frame.index).to_numpy()
    return frame


def area_figures(
    by_grid: pd.DataFrame, grid_ids: Iterable[str], *, end: dt.date, now: dt.datetime
) -> Figures:
    """Sum :func:`figures_by_grid` over an area's grids; coverage from the sums.

    >>> g = pd.DataFrame({"households": [10, 0], "households_all": [12, 3], "visited": [4, 0],
    ...                   "coverage": [0.4, np.nan], "open_issues": [1, 2], "overdue_issues": [0, 1]},
    ...                  index=["G1", "G2"])
    >>> f = area_figures(g, ["G1", "G2"], end=dt.date(2026, 12, 7), now=dt.datetime(2026, 12, 7, 9, 0))
    >>> (f.households, f.households_all, f.visited, f.coverage, f.open_issues, f.overdue_issues)
    (10, 15, 4, 0.4, 3, 1)
    """
    rows = by_grid.reindex(list(grid_ids))
    total = {c: int(rows[c].fillna(0).sum()) for c in COLUMNS if c != "coverage"}
    hh = total["households"]
    return Figures(
        households=hh,
        households_all=total["households_all"],
        visited=total["visited"],
        coverage=total["visited"] / hh if hh > 0 else float("nan"),
        open_issues=total["open_issues"],
        overdue_issues=total["overdue_issues"],
        as_of=counted_at(end, now),
    )
