"""The area hierarchy for navigation: breadcrumbs, deep-link checks, focus filters.

Examples
--------
>>> import pandas as pd
>>> grids = pd.DataFrame({"grid_id": ["G1", "G2"], "name": ["一村第1网格", "一村第2网格"],
...                       "committee_id": ["C1", "C1"]})
>>> committees = pd.DataFrame({"committee_id": ["C1"], "name": ["一村居民区"], "street_id": ["S1"]})
>>> streets = pd.DataFrame({"street_id": ["S1"], "name": ["长寿路街道"]})
>>> [c.name for c in breadcrumbs(streets, committees, grids, grid_id="G2")]
['普陀区', '长寿路街道', '一村居民区', '一村第2网格']
>>> grids_in_area(grids, committees, street_id="S1").tolist()
['G1', 'G2']
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

DISTRICT_NAME = "普陀区"


@dataclass(frozen=True)
class Crumb:
    """One step of a breadcrumb trail."""

    level: str
    id: str | None
    name: str


class UnknownArea(LookupError):
    """A deep link named an area that does not exist."""

    def __init__(self, level: str, area_id: str) -> None:
        super().__init__(f"no {level} with id {area_id!r}")
        self.level = level
        self.area_id = area_id


def _name(frame: pd.DataFrame, key: str, value: str) -> str:
    row = frame.loc[frame[key] == value]
    if row.empty:
        raise UnknownArea(key.removesuffix("_id"), value)
    return str(row["name"].iloc[0])


def breadcrumbs(
    streets: pd.DataFrame,
    committees: pd.DataFrame,
    grids: pd.DataFrame,
    *,
    street_id: str | None = None,
    committee_id: str | None = None,
    grid_id: str | None = None,
) -> list[Crumb]:
    """Return the trail district → street → committee → grid for the deepest id given.

    Raises :class:`UnknownArea` for an id that does not exist, or a committee
    that is not in the given street.
    """
    trail = [Crumb("district", None, DISTRICT_NAME)]
    if grid_id:
        gname = _name(grids, "grid_id", grid_id)
        committee_id = str(grids.loc[grids["grid_id"] == grid_id, "committee_id"].iloc[0])
    if committee_id:
        cname = _name(committees, "committee_id", committee_id)
        owner = str(committees.loc[committees["committee_id"] == committee_id, "street_id"].iloc[0])
        if street_id and street_id != owner:
            raise UnknownArea("committee", committee_id)
        street_id = owner
    if street_id:
        trail.append(Crumb("street", street_id, _name(streets, "street_id", street_id)))
    if committee_id:
        trail.append(Crumb("committee", committee_id, cname))
    if grid_id:
        trail.append(Crumb("grid", grid_id, gname))
    return trail


def grids_in_area(
    grids: pd.DataFrame,
    committees: pd.DataFrame,
    *,
    street_id: str | None = None,
    committee_id: str | None = None,
) -> pd.Series:
    """Return the ids of the grids inside a street or committee (all grids when neither)."""
    g = grids
    if committee_id:
        g = g[g["committee_id"] == committee_id]
    elif street_id:
        inside = committees.loc[committees["street_id"] == street_id, "committee_id"]
        g = g[g["committee_id"].isin(inside)]
    return g["grid_id"].reset_index(drop=True)


def area_bounds(
    grids: pd.DataFrame,
    committees: pd.DataFrame,
    *,
    street_id: str | None = None,
    committee_id: str | None = None,
) -> tuple[float, float, float, float] | None:
    """Return (minx, miny, maxx, maxy) of a street or committee's grids; None for the district."""
    if not (street_id or committee_id):
        return None
    ids = grids_in_area(grids, committees, street_id=street_id, committee_id=committee_id)
    sel = grids[grids["grid_id"].isin(ids)]
    if sel.empty:
        return None
    minx, miny, maxx, maxy = sel.total_bounds
    return float(minx), float(miny), float(maxx), float(maxy)
