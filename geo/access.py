"""Narrowing data to what a role may see: the one rule every screen and export applies.

A session's scope reaches the screens as the set of grid ids whose figures it
may see (``None``: every grid, the district role; see ``ui.auth.visible_grids``
and ``docs/security.md``). :func:`restrict` narrows any frame, series or index
of grid rows to that set, so the rule is written once and tested here instead
of by hand on each page. Reads from the store are scoped in SQL already
(``scope=``); this is for figures computed for the whole district (the
coverage index, cached layers) before they are shown.

Examples
--------
>>> import pandas as pd
>>> m = pd.DataFrame({"visited": [1, 2, 3]}, index=pd.Index(["G1", "G2", "G3"], name="grid_id"))
>>> restrict(m, frozenset({"G3", "G1"})).index.tolist()
['G1', 'G3']
>>> restrict(m, None) is m
True
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TypeVar

import pandas as pd

__all__ = [
    "Sight",
    "Visible",
    "aggregates_in_sight",
    "pace_of_own_grids",
    "restrict",
    "staffing_in_sight",
    "workers_in_sight",
]

Visible = Collection[str] | None
"""The grid ids a session may see figures of; ``None`` for every grid."""

Rows = TypeVar("Rows", pd.DataFrame, pd.Series, pd.Index)


def restrict(rows: Rows, visible: Visible, *, on: str | None = None) -> Rows:
    """Return the rows of ``rows`` whose grid is in ``visible``, in their order (all of them for ``None``).

    Parameters
    ----------
    rows
        A frame or series keyed by grid id (its index, or the column ``on``),
        or a series or index *of* grid ids (their values).
    visible
        The grid ids the caller may see; ``None`` sees everything and returns
        ``rows`` itself.
    on
        The column holding the grid id; default: the index of a frame, the
        values of a series or index.

    Examples
    --------
    >>> import pandas as pd
    >>> g = pd.DataFrame({"grid_id": ["G1", "G2"], "name": ["一", "二"]})
    >>> restrict(g, {"G2"}, on="grid_id")["name"].tolist()
    ['二']
    >>> restrict(pd.Series(["G1", "G2", "G3"]), {"G1", "G3"}).tolist()
    ['G1', 'G3']
    >>> restrict(g, set(), on="grid_id").empty
    True
    """
    if visible is None:
        return rows
    allowed = list(visible)
    if on is not None:
        if isinstance(rows, pd.Index):
            raise TypeError("an index has no columns; leave out on=")
        keys = rows[on]
    elif isinstance(rows, pd.DataFrame):
        keys = rows.index
    else:
        keys = rows
    mask = keys.isin(allowed)
    return rows[mask.to_numpy() if isinstance(mask, pd.Series) else mask]


# ------------------------------------------------------------ aggregates


@dataclass(frozen=True)
class Sight:
    """What a session may see figures of, per level (``None``: every area of that level).

    A role sees a committee's or a street's aggregates only when every grid of
    it is visible (``ui.auth`` works these sets out from the session's scope):
    a sum over an area reveals its hidden grids otherwise.
    """

    grids: Visible = None
    committees: Visible = None
    streets: Visible = None

    @property
    def whole_district(self) -> bool:
        """Tell whether every grid is visible (the district role)."""
        return self.grids is None

    def areas(self, level: str) -> Visible:
        """Return the areas of ``level`` whose aggregates may be seen (``None``: all; the district: None)."""
        return {"grid": self.grids, "committee": self.committees, "street": self.streets}.get(level)


def aggregates_in_sight(rows: Rows, sight: Sight, level: str, *, on: str | None = None) -> Rows:
    """Return the rows of areas at ``level`` whose aggregates ``sight`` may see (see :func:`restrict`).

    >>> import pandas as pd
    >>> p = pd.DataFrame({"behind": [True, False]}, index=["C1", "C2"])
    >>> sight = Sight(grids={"G1"}, committees={"C2"}, streets=set())
    >>> aggregates_in_sight(p, sight, "committee").index.tolist()
    ['C2']
    """
    return restrict(rows, sight.areas(level), on=on)


def staffing_in_sight(frame: pd.DataFrame, sight: Sight, level: str) -> pd.DataFrame:
    """Return the staffing rows ``sight`` may see: whole areas; the district's ratio for the district role.

    >>> import pandas as pd
    >>> d = pd.DataFrame({"district_id": ["district"], "ratio": [19.5]})
    >>> staffing_in_sight(d, Sight(grids={"G1"}), "district").empty
    True
    """
    if level == "district" and not sight.whole_district:
        return frame.iloc[0:0]
    if sight.areas(level) is None:
        return frame
    return aggregates_in_sight(frame, sight, level, on=f"{level}_id").reset_index(drop=True)


def pace_of_own_grids(sight: Sight, *, street_id: str | None, committee_id: str | None) -> bool:
    """Tell whether an area's pace is that of the role's own grids together.

    With no street or committee chosen, the district's pace is for the
    district role; any other role gets its own grids summed instead.

    >>> pace_of_own_grids(Sight(grids={"G1"}), street_id=None, committee_id=None)
    True
    >>> pace_of_own_grids(Sight(), street_id=None, committee_id=None)
    False
    """
    return not sight.whole_district and not (street_id or committee_id)


def workers_in_sight(rows: pd.DataFrame, grid_workers: pd.DataFrame, visible: Visible) -> pd.DataFrame:
    """Return the rows of workers assigned to a grid in ``visible`` (all rows for ``None``).

    >>> import pandas as pd
    >>> gw = pd.DataFrame({"grid_id": ["G1", "G2"], "worker_id": ["W1", "W2"]})
    >>> s = pd.DataFrame({"worker_id": ["W1", "W2", "W3"], "points": [12, 10, 9]})
    >>> workers_in_sight(s, gw, {"G2"})["worker_id"].tolist()
    ['W2']
    """
    if visible is None:
        return rows
    return rows[rows["worker_id"].isin(restrict(grid_workers, visible, on="grid_id")["worker_id"])]
