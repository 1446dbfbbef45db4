"""A grid's households: the list with last visits and open issues, its filters, the one-sheet profile.

Pure functions over frames (from :func:`geo.store.records.read_grid`), used by
the grid page, the benchmarks and the tests alike; plus the selection and
breadcrumbs of the drill-down and the map of a grid's buildings.

Examples
--------
>>> hh = pd.DataFrame({"household_id": ["H1", "H2"], "building_id": ["B1", "B1"],
...                    "unit": ["1-101", "1-102"], "occupied": [1, 1], "residents": [2, 1],
...                    "head_name": ["王小华", "李明"], "phone": ["13812341234", None],
...                    "tags": ["", "alone_elderly,very_old"]})
>>> v = pd.DataFrame({"visit_id": [1, 2], "household_id": ["H1", "H1"], "worker_id": ["W1", "W1"],
...                   "visited_at": pd.to_datetime(["2024-03-01 14:00", "2024-05-02 14:30"]),
...                   "outcome": ["met", "not_home"], "channel": ["door", "door"], "note": ["", ""]})
>>> iss = pd.DataFrame({"issue_id": [7], "household_id": ["H2"], "status": ["open"]})
>>> out = household_list(hh, visit_summary(v), iss, today=dt.date(2024, 6, 28))
>>> out[["household_id", "last_outcome", "days_since_met", "open_issues"]].to_dict("records")
[{'household_id': 'H1', 'last_outcome': 'not_home', 'days_since_met': 119, 'open_issues': 0}, \
{'household_id': 'H2', 'last_outcome': None, 'days_since_met': None, 'open_issues': 1}]
>>> filter_households(out, ["vulnerable_not_met"], today=dt.date(2024, 6, 28))["household_id"].tolist()
['H2']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import words
from geo.areas import Crumb, UnknownArea
from geo.maps.builders import building_map  # re-exported: the builder lives with the other maps
from geo.store.schema import TAGS

__all__ = [
    "FILTERS",
    "TAG_LABELS",
    "VULNERABLE_DAYS",
    "VULNERABLE_TAGS",
    "HouseholdProfile",
    "Selection",
    "building_at",
    "building_map",
    "drill_trail",
    "filter_households",
    "household_list",
    "household_profile",
    "resolve_selection",
    "split_tags",
    "visit_summary",
]

TAG_LABELS: Final[Mapping[str, tuple[str, str]]] = words.pairs("households.tag.")
"""Chinese and English labels of the household tags."""

VULNERABLE_TAGS: Final = frozenset(TAGS)
"""Tags that make a household one to visit first (every tag of the data model)."""

VULNERABLE_DAYS: Final = 90
"""Days without a ``met`` visit after which a vulnerable household is overdue."""

FILTERS: Final = ("not_met_this_year", "vulnerable_not_met", "open_issue")
"""Filters of the household list (combined with AND)."""

LIST_COLUMNS: Final = (
    "household_id",
    "building_id",
    "unit",
    "occupied",
    "residents",
    "head_name",
    "phone",
    "tags",
    "vulnerable",
    "visits",
    "last_visit_at",
    "last_outcome",
    "last_met_at",
    "days_since_met",
    "open_issues",
)
"""Columns of :func:`household_list`, in order."""


def split_tags(tags: object) -> tuple[str, ...]:
    """Split the comma-separated tag codes of a household (unknown codes are kept).

    >>> split_tags("alone_elderly, very_old"), split_tags(None)
    (('alone_elderly', 'very_old'), ())
    """
    if not isinstance(tags, str) or not tags.strip():
        return ()
    return tuple(t.strip() for t in tags.split(",") if t.strip())


def _last_by_household(visits: pd.DataFrame) -> pd.DataFrame:
    """The latest visit of each household (ties: the higher visit id)."""
    order = np.lexsort((visits["visit_id"].to_numpy(dtype=np.int64), visits["visited_at"].to_numpy()))
    return visits.iloc[order].drop_duplicates("household_id", keep="last").set_index("household_id")


def visit_summary(visits: pd.DataFrame) -> pd.DataFrame:
    """Summarise visits per household: count, latest visit and its outcome, latest ``met`` visit.

    The reference for :func:`geo.store.records.read_grid`, which computes the
    same in SQL.

    Parameters
    ----------
    visits
        ``visit_id, household_id, visited_at, outcome``.

    Returns
    -------
    pandas.DataFrame
        ``household_id, visits, last_visit_at, last_outcome, last_met_at``, one
        row per household with visits, by id (ties in time go to the higher
        visit id).

    Examples
    --------
    >>> v = pd.DataFrame({"visit_id": [1, 2, 3], "household_id": ["H1", "H1", "H2"],
    ...                   "visited_at": pd.to_datetime(["2024-03-01 14:00", "2024-05-02 14:30",
    ...                                                 "2024-05-02 10:00"]),
    ...                   "outcome": ["met", "not_home", "refused"]})
    >>> visit_summary(v).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'household_id': 'H1', 'visits': 2, 'last_visit_at': Timestamp('2024-05-02 14:30:00'),
      'last_outcome': 'not_home', 'last_met_at': Timestamp('2024-03-01 14:00:00')},
     {'household_id': 'H2', 'visits': 1, 'last_visit_at': Timestamp('2024-05-02 10:00:00'),
      'last_outcome': 'refused', 'last_met_at': NaT}]
    """
    if visits.empty:
        return pd.DataFrame(
            {
                "household_id": pd.Series(dtype=object),
                "visits": pd.Series(dtype=np.int64),
                "last_visit_at": pd.Series(dtype="datetime64[s]"),
                "last_outcome": pd.Series(dtype=object),
                "last_met_at": pd.Series(dtype="datetime64[s]"),
            }
        )
    last = _last_by_household(visits).sort_index()
    ids = last.index.to_numpy(dtype=object)
    met = visits[visits["outcome"] == "met"]
    last_met = met.groupby("household_id", sort=False)["visited_at"].max()
    counts = visits["household_id"].value_counts()
    return pd.DataFrame(
        {
            "household_id": pd.Series(ids, dtype=object),
            "visits": counts.reindex(ids).to_numpy(dtype=np.int64),
            "last_visit_at": last["visited_at"].to_numpy().astype("datetime64[s]"),
            "last_outcome": pd.Series(last["outcome"].to_numpy(dtype=object), dtype=object),
            "last_met_at": last_met.reindex(ids).to_numpy().astype("datetime64[s]"),
        }
    )


def household_list(
    households: pd.DataFrame,
    summary: pd.DataFrame,
    issues: pd.DataFrame,
    *,
    today: dt.date,
) -> pd.DataFrame:
    """Return one row per household with its last visit, last ``met`` visit and open issues.

    Parameters
    ----------
    households
        Rows of the ``households`` table (personal columns as stored: mask
        them before showing, see :func:`geo.privacy.mask_frame`).
    summary
        :func:`visit_summary` of their visits (any period), or the same read
        by :func:`geo.store.records.read_grid`.
    issues
        ``household_id, status`` (an issue is open while its status is not ``closed``).
    today
        The day ``days_since_met`` counts to.

    Returns
    -------
    pandas.DataFrame
        :data:`LIST_COLUMNS`, in the households' order: ``tags`` as a tuple of
        codes; ``vulnerable`` true when a tag is in :data:`VULNERABLE_TAGS`;
        ``visits`` the number of visits; ``last_visit_at``/``last_met_at``
        NaT and ``days_since_met`` NA when there was none.
    """
    out = households.reset_index(drop=True).copy()
    ids = out["household_id"].to_numpy(dtype=object)
    out["occupied"] = out["occupied"].to_numpy().astype(int).astype(bool)
    out["residents"] = out["residents"].to_numpy().astype(np.int64)
    tags = [split_tags(t) for t in out["tags"].tolist()]
    out["tags"] = pd.Series(tags, index=out.index, dtype=object)
    out["vulnerable"] = np.fromiter((bool(VULNERABLE_TAGS.intersection(t)) for t in tags), bool, len(tags))
    pos = pd.Index(summary["household_id"].to_numpy(dtype=object)).get_indexer(ids)
    has = pos >= 0
    take = np.where(has, pos, 0)

    def pick(column: str, empty: Any) -> np.ndarray:
        values = summary[column].to_numpy()
        if len(values) == 0:
            return np.full(len(ids), empty)
        return np.where(has, values[take], empty)

    out["visits"] = pick("visits", 0).astype(np.int64)
    out["last_visit_at"] = pick("last_visit_at", np.datetime64("NaT")).astype("datetime64[s]")
    outcome = pick("last_outcome", None)
    out["last_outcome"] = pd.Series(
        [v if isinstance(v, str) else None for v in outcome.tolist()], index=out.index, dtype=object
    )
    met = pick("last_met_at", np.datetime64("NaT")).astype("datetime64[s]")
    out["last_met_at"] = met
    met_day = met.astype("datetime64[D]")
    days = pd.array((np.datetime64(today, "D") - met_day).astype(np.int64), dtype="Int64")
    days[np.isnat(met_day)] = pd.NA
    out["days_since_met"] = days
    if len(issues):
        is_open = issues["status"].astype(str).to_numpy() != "closed"
        hid = issues["household_id"].to_numpy(dtype=object)
        per = pd.Series(hid[is_open & pd.notna(hid)], dtype=object).value_counts()
        out["open_issues"] = per.reindex(ids).fillna(0).to_numpy(dtype=np.int64)
    else:
        out["open_issues"] = np.zeros(len(ids), dtype=np.int64)
    return out[list(LIST_COLUMNS)]


def filter_households(
    frame: pd.DataFrame,
    filters: Collection[str],
    *,
    today: dt.date,
    building_id: str | None = None,
    vulnerable_days: int = VULNERABLE_DAYS,
) -> pd.DataFrame:
    """Keep the rows of a :func:`household_list` that pass every filter in ``filters``.

    ``not_met_this_year``
        occupied, and no ``met`` visit since 1 January of ``today``'s year;
    ``vulnerable_not_met``
        occupied, vulnerable, and no ``met`` visit for ``vulnerable_days`` days
        (or never);
    ``open_issue``
        at least one open issue (awaiting follow-up).

    ``building_id`` keeps one building's households.
    """
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise ValueError(f"unknown filter(s) {sorted(unknown)}; use {', '.join(FILTERS)}")
    keep = np.ones(len(frame), dtype=bool)
    if building_id is not None:
        keep &= (frame["building_id"] == building_id).to_numpy()
    occupied = frame["occupied"].to_numpy(dtype=bool)
    met = frame["last_met_at"].to_numpy().astype("datetime64[s]")
    if "not_met_this_year" in filters:
        jan1 = np.datetime64(dt.date(today.year, 1, 1), "s")
        keep &= occupied & (np.isnat(met) | (met < jan1))
    if "vulnerable_not_met" in filters:
        days = frame["days_since_met"]
        stale = (days.isna() | (days.fillna(0) >= vulnerable_days)).to_numpy(dtype=bool)
        keep &= occupied & frame["vulnerable"].to_numpy(dtype=bool) & stale
    if "open_issue" in filters:
        keep &= frame["open_issues"].to_numpy() > 0
    return frame[keep]


# ------------------------------------------------------------------ profile


@dataclass(frozen=True)
class HouseholdProfile:
    """The one-sheet profile (一户一表) of a household."""

    household: dict[str, Any]
    """The household's row (personal columns as stored), with ``tags`` split."""
    building: dict[str, Any]
    """Its building's row (``building_id, name, kind, floors``); empty if unknown."""
    visits: pd.DataFrame
    """Every visit, newest first: ``visited_at, worker_id, worker_name, outcome, channel, note, visit_id``."""
    issues: pd.DataFrame
    """Every issue raised for it, newest first, with ``open`` and ``overdue`` flags."""
    summary: dict[str, Any] = field(default_factory=dict)
    """``visits, met, last_visit_at, last_met_at, days_since_met, open_issues``."""


def household_profile(
    household_id: str,
    *,
    households: pd.DataFrame,
    visits: pd.DataFrame,
    issues: pd.DataFrame,
    workers: pd.DataFrame,
    buildings: pd.DataFrame,
    today: dt.date,
    now: dt.datetime | None = None,
) -> HouseholdProfile:
    """Gather a household's profile from frames (a grid's, or the household's own).

    Raises :class:`geo.areas.UnknownArea` (level ``household``) when the id is
    not among ``households``.
    """
    rows = households[households["household_id"] == household_id]
    if rows.empty:
        raise UnknownArea("household", household_id)
    record = rows.iloc[0].to_dict()
    record["tags"] = split_tags(record.get("tags"))
    brow = buildings[buildings["building_id"] == record["building_id"]]
    building = brow.iloc[0].to_dict() if len(brow) else {}
    mine = visits[visits["household_id"] == household_id]
    names = pd.Series(
        workers["name"].to_numpy(dtype=object), index=workers["worker_id"].to_numpy(dtype=object)
    )
    names = names[~names.index.duplicated()]
    hv = pd.DataFrame(
        {
            "visited_at": mine["visited_at"].to_numpy(),
            "worker_id": mine["worker_id"].to_numpy(dtype=object),
            "worker_name": names.reindex(mine["worker_id"].to_numpy(dtype=object)).to_numpy(dtype=object),
            "outcome": mine["outcome"].to_numpy(dtype=object),
            "channel": mine["channel"].to_numpy(dtype=object),
            "note": mine["note"].fillna("").to_numpy(dtype=object),
            "visit_id": mine["visit_id"].to_numpy(),
        }
    )
    hv = hv.sort_values(["visited_at", "visit_id"], ascending=False, kind="stable").reset_index(drop=True)
    hi = issues[issues["household_id"] == household_id].copy()
    moment = np.datetime64(now or dt.datetime.combine(today, dt.time(23, 59, 59)), "s")
    hi["open"] = (hi["status"].astype(str) != "closed").to_numpy()
    due = hi["due_at"].to_numpy().astype("datetime64[s]")
    hi["overdue"] = hi["open"].to_numpy(dtype=bool) & ~np.isnat(due) & (due < moment)
    hi = hi.sort_values(["opened_at", "issue_id"], ascending=False, kind="stable").reset_index(drop=True)
    one = household_list(rows, visit_summary(mine), hi, today=today).iloc[0]
    summary = {
        "visits": len(hv),
        "met": int((hv["outcome"] == "met").sum()),
        "last_visit_at": one["last_visit_at"],
        "last_met_at": one["last_met_at"],
        "days_since_met": one["days_since_met"],
        "open_issues": int(hi["open"].sum()),
    }
    return HouseholdProfile(record, building, hv, hi, summary)


# ---------------------------------------------------------------- drill-down


@dataclass(frozen=True)
class Selection:
    """What a deep link selects, after checking: ids that exist, and those that did not."""

    grid_id: str | None
    building_id: str | None = None
    household_id: str | None = None
    unknown: tuple[tuple[str, str], ...] = ()
    """``(level, id)`` of every id in the link that does not exist (or not there)."""


def resolve_selection(
    grid_id: str | None,
    building_id: str | None,
    household_id: str | None,
    *,
    grid_ids: Collection[str],
    buildings: pd.DataFrame,
    households: pd.DataFrame,
) -> Selection:
    """Check the ids of a deep link ``?grid=&building=&household=`` against the grid's frames.

    ``buildings`` and ``households`` are the grid's (``building_id``;
    ``household_id, building_id``). An unknown grid selects nothing; a
    building outside the grid, or a household outside the grid or the
    building, is dropped and reported. A household alone selects its building.

    Examples
    --------
    >>> b = pd.DataFrame({"building_id": ["B1", "B2"]})
    >>> h = pd.DataFrame({"household_id": ["H1", "H2"], "building_id": ["B1", "B2"]})
    >>> resolve_selection("G1", None, "H2", grid_ids={"G1"}, buildings=b, households=h)
    Selection(grid_id='G1', building_id='B2', household_id='H2', unknown=())
    >>> resolve_selection("G1", "B9", "H1", grid_ids={"G1"}, buildings=b, households=h).unknown
    (('building', 'B9'),)
    >>> resolve_selection("G9", "B1", None, grid_ids={"G1"}, buildings=b, households=h)
    Selection(grid_id=None, building_id=None, household_id=None, unknown=(('grid', 'G9'),))
    """
    if not grid_id:
        return Selection(None)
    if grid_id not in grid_ids:
        return Selection(None, unknown=(("grid", grid_id),))
    unknown: list[tuple[str, str]] = []
    if building_id and building_id not in set(buildings["building_id"].tolist()):
        unknown.append(("building", building_id))
        building_id = None
    if household_id:
        row = households[households["household_id"] == household_id]
        if row.empty:
            unknown.append(("household", household_id))
            household_id = None
        else:
            owner = str(row["building_id"].iloc[0])
            if building_id and owner != building_id:
                unknown.append(("household", household_id))
                household_id = None
            else:
                building_id = owner
    return Selection(grid_id, building_id or None, household_id or None, tuple(unknown))


def drill_trail(
    trail: Sequence[Crumb],
    *,
    buildings: pd.DataFrame,
    households: pd.DataFrame,
    building_id: str | None = None,
    household_id: str | None = None,
) -> list[Crumb]:
    """Extend a district → street → committee → grid trail (:func:`geo.areas.breadcrumbs`) downwards.

    The building's crumb is named by its address; the household's by its unit
    (never by a person's name).

    >>> t = [Crumb("district", None, "普陀区"), Crumb("grid", "G1", "一村第1网格")]
    >>> b = pd.DataFrame({"building_id": ["B1"], "name": ["兰溪路88弄12号"]})
    >>> h = pd.DataFrame({"household_id": ["H1"], "unit": ["3-602"]})
    >>> [c.name for c in drill_trail(t, buildings=b, households=h, building_id="B1", household_id="H1")]
    ['普陀区', '一村第1网格', '兰溪路88弄12号', '3-602']
    """
    out = list(trail)
    if building_id:
        row = buildings[buildings["building_id"] == building_id]
        if row.empty:
            raise UnknownArea("building", building_id)
        out.append(Crumb("building", building_id, str(row["name"].iloc[0] or building_id)))
    if household_id:
        row = households[households["household_id"] == household_id]
        if row.empty:
            raise UnknownArea("household", household_id)
        unit = row["unit"].iloc[0]
        out.append(
            Crumb("household", household_id, str(unit) if isinstance(unit, str) and unit else household_id)
        )
    return out


def building_at(buildings: gpd.GeoDataFrame, *, lat: float, lng: float) -> str | None:
    """Return the building whose footprint holds a clicked point (``None`` if none).

    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"building_id": ["B1"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:4326")
    >>> building_at(b, lat=0.5, lng=0.5), building_at(b, lat=3, lng=3)
    ('B1', None)
    """
    from geo.maps import grid_id_at

    if buildings.empty:
        return None
    frame = gpd.GeoDataFrame(
        {"grid_id": buildings["building_id"].astype(str).to_numpy()},
        geometry=buildings.geometry.to_numpy(),
        crs=buildings.crs,
    )
    return grid_id_at(frame, lat=lat, lng=lng)
