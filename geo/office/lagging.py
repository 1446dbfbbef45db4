"""Lagging grids: grids below a coverage threshold, worst first, named by their committee and street.

Examples
--------
>>> m = pd.DataFrame({"households": [10, 8, 0], "visited": [2, 6, 0],
...                   "coverage": [0.2, 0.75, float("nan")]},
...                  index=pd.Index(["G1", "G2", "G3"], name="grid_id"))
>>> lagging_grids(m, below=0.5)[["rank", "grid_id", "unvisited"]]
   rank grid_id  unvisited
0     1      G1          8
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_BELOW = 0.5
"""Default coverage threshold: grids below it are "lagging" and may form blind spots."""


VISIT_COLUMNS = ("visit_id", "household_id", "worker_id", "visited_at", "outcome", "channel")
"""Columns of the visits frame the weekly check reads."""

_AREA_COLUMNS = ("grid_name", "committee_id", "committee_name", "street_id", "street_name")


def _area_names(grids: pd.DataFrame | None, ids: pd.Index) -> pd.DataFrame:
    """Name columns for grid ids from a frame with ``grid_id, name, committee_*, street_*``."""
    out = pd.DataFrame(index=ids)
    if grids is None:
        return out
    g = pd.DataFrame(grids).drop(columns="geometry", errors="ignore").set_index("grid_id")
    if "name" in g and "grid_name" not in g:
        g = g.rename(columns={"name": "grid_name"})
    for col in _AREA_COLUMNS:
        if col in g:
            out[col] = g[col].reindex(ids).to_numpy(dtype=object)
    return out


def lagging_grids(
    metrics: pd.DataFrame,
    grids: pd.DataFrame | None = None,
    *,
    below: float = DEFAULT_BELOW,
) -> pd.DataFrame:
    """Return grids with occupied households and coverage below ``below``, worst first.

    Parameters
    ----------
    metrics
        Coverage per grid, indexed by grid id (a :meth:`CoverageIndex.coverage` frame).
    grids
        Optional names: ``grid_id, name`` and ``committee_name, street_name`` etc.
    below
        The threshold (a share in [0, 1]); a grid exactly at it is not lagging.

    Returns
    -------
    pandas.DataFrame
        ``rank, grid_id``, the names given, ``households, visited, unvisited,
        coverage`` and whatever other metric columns there were; ordered by
        coverage, then most households not met, then grid id.

    Examples
    --------
    >>> m = pd.DataFrame({"households": [10, 20, 5], "visited": [4, 8, 3],
    ...                   "coverage": [0.4, 0.4, 0.6]}, index=["G1", "G2", "G3"])
    >>> lagging_grids(m, below=0.5)[["rank", "grid_id", "coverage", "unvisited"]]
       rank grid_id  coverage  unvisited
    0     1      G2       0.4         12
    1     2      G1       0.4          6
    """
    if not 0.0 <= below <= 1.0:
        raise ValueError(f"the coverage threshold must be between 0 and 1, got {below}")
    m = metrics[(metrics["households"] > 0) & (metrics["coverage"] < below)].copy()
    m["unvisited"] = (m["households"] - m["visited"]).astype("int64")
    ids = pd.Index(m.index.astype(object), name="grid_id")
    m.index = ids
    names = _area_names(grids, ids)
    out = pd.concat([names, m], axis=1)
    out = out.reset_index().sort_values(
        ["coverage", "unvisited", "grid_id"], ascending=[True, False, True], kind="stable"
    )
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    cols = ["rank", "grid_id", *names.columns, "households", "visited", "unvisited", "coverage"]
    rest = [c for c in out.columns if c not in cols]
    return out[cols + rest].reset_index(drop=True)
