"""The public summary (公示): what the visits and the problems solved add up to, and nothing personal.

One builder serves both the public page of the app and the static site of
``sibai export-public``: :func:`public_summary` turns grid-level counts into
the published tables, and :meth:`PublicSummary.to_json` is, byte for byte, the
site's data file. The rules (``docs/public.md``):

* **Aggregates only**, by district, street and committee: this year's visit
  coverage, the residents reached, the visits in which a resident was met and
  the problems solved, by a few coarse groups of categories. No names,
  phones, rooms, buildings, notes, tags or household counts; no worker.
* **Small counts** (1 to ``k - 1``, ``k = settings.public_min_count``) are
  hidden — and residents or visits that stand for fewer than ``k``
  households met — and so is every cell that would let one be worked out by
  subtraction — from a row total, from a parent area minus its other
  children, or from a chain of both (:func:`geo.privacy.suppress_nested`).
  Published counts are then rounded to the nearest multiple of ``k``, so
  that week-to-week differences do not give away a small count either.
* **Coverage** is a whole percentage, rounded down, and only for areas with
  at least :data:`MIN_HOUSEHOLDS` occupied households; the number of
  households is not published, so the rate gives no count away.
* **Grids** appear only as a coverage class (no number), and only those with
  at least :data:`MIN_HOUSEHOLDS` occupied households in at least two
  buildings.
* **As of the last completed week**: the year so far, up to the Sunday before
  the reporting day.

Examples
--------
>>> reporting_period(dt.date(2026, 11, 26))  # a Thursday
(datetime.date(2026, 1, 1), datetime.date(2026, 11, 22))
>>> coarse_category(pd.Series(["加装电梯", "噪音扰民", "养老服务", "邻里纠纷"])).tolist()
['housing', 'environment', 'community', 'community']
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from geo import words
from geo.coverage import CoverageIndex, period_bounds
from geo.maps import classify
from geo.periods import period_range
from geo.privacy import round_to, suppress_nested
from geo.progress import Progress

if TYPE_CHECKING:
    import geopandas as gpd

    from geo.store import Store

__all__ = [
    "COUNT_COLUMNS",
    "GROUPS",
    "MIN_HOUSEHOLDS",
    "TEXT",
    "PublicSummary",
    "coarse_category",
    "grid_counts",
    "group_table",
    "headline",
    "label_params",
    "labels",
    "last_sunday",
    "number_labels",
    "public_summary",
    "published_period",
    "reporting_day",
    "reporting_period",
    "solved_issues",
    "summary_from_store",
    "table",
    "text",
]


MIN_HOUSEHOLDS: Final = 100
"""Fewest occupied households for which a coverage rate (or a grid's class) is published."""

MIN_BUILDINGS: Final = 2
"""Fewest buildings with occupied households for a grid's coverage class to be published."""

GROUPS: Final = ("housing", "environment", "community")
"""The coarse groups that issue categories are published in."""

GROUP_TEXT: Final[Mapping[str, tuple[str, str]]] = words.pairs("public.group_name.")

# A category goes to the first group one of whose words it contains; the
# synthetic district's 14 categories and the usual wording of real registers
# are covered. Everything else (care, health, jobs, neighbours' disputes, new
# categories) is "community": three groups keep each committee's counts large
# enough that few need hiding.
_GROUP_WORDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("housing", ("电梯", "漏水", "维修", "房屋", "水电", "燃气", "供水", "供电", "物业", "住房")),
    (
        "environment",
        ("卫生", "垃圾", "绿化", "噪音", "扰民", "停车", "消防", "堆物", "环境", "违建", "交通"),
    ),
)

SOLVED_COLUMNS: Final = tuple(f"solved_{g}" for g in GROUPS)
COUNT_COLUMNS: Final = ("residents_visited", "visits", "solved", *SOLVED_COLUMNS)
"""The published counts of every area."""

GRID_COUNT_COLUMNS: Final = ("households", "residents", "visited", "residents_visited", "visits", "buildings")

# The district map's fixed coverage classes and colours, in whole percentages.
_COVERAGE_CLASSES: Final = classify([], metric="coverage")
COVERAGE_BREAKS: Final = tuple(round(b * 100) for b in _COVERAGE_CLASSES.breaks)
COVERAGE_COLOURS: Final = _COVERAGE_CLASSES.colours
COVERAGE_LABELS: Final = _COVERAGE_CLASSES.labels
NOT_PUBLISHED: Final = -1

DISTRICT_ID: Final = "district"

TEXT: Final[Mapping[str, tuple[str, str]]] = words.pairs("public.")
"""Every label of the public page and site, (Chinese, English)."""


def text(lang: str = "zh") -> dict[str, str]:
    """Return the public labels in ``lang`` (``"zh"`` or ``"en"``), groups included.

    >>> text("en")["group.community"], text()["coverage"]
    ('Care, services & other', '走访覆盖率')
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    i = 0 if lang == "zh" else 1
    out = {key: pair[i] for key, pair in TEXT.items()}
    out.update({f"group.{g}": GROUP_TEXT[g][i] for g in GROUPS})
    return out


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------


def last_sunday(today: dt.date) -> dt.date:
    """Return the last day of the last completed week (Monday to Sunday) before ``today``.

    On a Sunday the week is not over yet, so the Sunday before is returned.

    >>> [last_sunday(dt.date(2026, 11, d)).day for d in (22, 23, 26, 29, 30)]
    [15, 22, 22, 22, 29]
    """
    return today - dt.timedelta(days=today.weekday() + 1)


def reporting_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """Return the published period: 1 January of the last Sunday's year, to that Sunday.

    >>> reporting_period(dt.date(2027, 1, 2))  # the Sunday before is in 2026
    (datetime.date(2026, 1, 1), datetime.date(2026, 12, 27))
    """
    end = last_sunday(today)
    return dt.date(end.year, 1, 1), end


def published_period(
    period: str,
    *,
    today: dt.date,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> tuple[dt.date, dt.date]:
    """Return the period the public summary shows for a sidebar ``period``: whole weeks, complete ones.

    A named period is taken as it stood on the last completed Sunday
    (:func:`last_sunday`), the one "as of" date of the public summary. A custom
    period is widened to whole weeks (Monday to Sunday) and ends by that
    Sunday: published figures then change only week by week, so comparing
    two periods tells no more than comparing two weekly releases.

    >>> published_period("month", today=dt.date(2026, 12, 7))
    (datetime.date(2026, 12, 1), datetime.date(2026, 12, 6))
    >>> published_period("month", today=dt.date(2026, 12, 1))  # December has no complete week yet
    (datetime.date(2026, 11, 1), datetime.date(2026, 11, 29))
    >>> wed, mon = dt.date(2026, 11, 4), dt.date(2026, 12, 7)
    >>> published_period("custom", today=mon, start=wed, end=mon)
    (datetime.date(2026, 11, 2), datetime.date(2026, 12, 6))
    """
    limit = last_sunday(today)
    if period != "custom":
        return period_range(period, today=limit)
    if start is None or end is None:
        raise ValueError("a custom period needs a start and an end date")
    end = min(limit, end + dt.timedelta(days=6 - end.weekday()))
    start = min(start, end) - dt.timedelta(days=min(start, end).weekday())
    return start, end


def reporting_day(meta: Mapping[str, str], *, today: dt.date | None = None) -> dt.date:
    """Return the day the summary is made for: today, or a demo district's as-of day if earlier.

    The same rule as the app's ``data.today()``.

    >>> reporting_day({"as_of": "2026-11-26"}, today=dt.date(2027, 3, 1))
    datetime.date(2026, 11, 26)
    >>> reporting_day({}, today=dt.date(2027, 3, 1))
    datetime.date(2027, 3, 1)
    """
    today = today or dt.date.today()
    as_of = meta.get("as_of")
    return min(dt.date.fromisoformat(as_of), today) if as_of else today


# --------------------------------------------------------------------------
# Inputs: grid-level counts, issues solved
# --------------------------------------------------------------------------


def coarse_category(categories: pd.Series) -> pd.Series:
    """Map fine issue categories to the published groups (:data:`GROUPS`).

    A category goes to the first group one of whose key words it contains
    (电梯, 漏水, 物业 … housing; 卫生, 停车, 噪音, 消防 … environment);
    anything else — care, health, jobs, neighbours, a new category, a
    missing one — is ``"community"``.

    >>> coarse_category(pd.Series(["物业管理", "停车难", "儿童游乐场地", None, "新类别"])).tolist()
    ['housing', 'environment', 'community', 'community', 'community']
    """
    values = categories.astype(object).where(categories.notna(), "")
    uniques = pd.unique(values.to_numpy(dtype=object))
    lookup: dict[object, str] = {}
    for value in uniques:
        word = str(value)
        lookup[value] = next(
            (group for group, words in _GROUP_WORDS if any(w in word for w in words)),
            "community",
        )
    return pd.Series(values.map(lookup).to_numpy(dtype=object), index=categories.index, dtype=object)


def grid_counts(index: CoverageIndex, *, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Count, per grid, what the public figures are made of (raw, never published as such).

    Parameters
    ----------
    index
        A coverage index holding at least the ``met`` visits of the period
        (the app's live index holds them all; an export may build one from
        the period's visits only: the counts are the same).
    start, end
        The period, both days included.

    Returns
    -------
    pandas.DataFrame
        Indexed by grid_id: ``households`` (occupied), ``residents``,
        ``visited`` (occupied households met), ``residents_visited`` (their
        residents), ``visits`` (visits in which a resident was met) and
        ``buildings`` (buildings with occupied households): the index's
        :meth:`~geo.coverage.CoverageIndex.counts_by_grid` in public words.

    Examples
    --------
    >>> from geo.coverage import areas_from_frames
    >>> hh = pd.DataFrame({"household_id": ["h1", "h2", "h3"], "building_id": ["b1", "b2", "b2"],
    ...                    "grid_id": ["g1", "g1", "g1"], "occupied": [1, 1, 0], "residents": [2, 3, 0]})
    >>> v = pd.DataFrame({"household_id": ["h1", "h1", "h2"], "outcome": ["met"] * 3,
    ...                   "visited_at": pd.to_datetime(["2026-03-01 10:00", "2026-04-01 10:00",
    ...                                                 "2025-12-31 10:00"])})
    >>> areas = areas_from_frames(pd.DataFrame({"grid_id": ["g1"], "committee_id": ["c1"]}),
    ...                           pd.DataFrame({"committee_id": ["c1"], "street_id": ["s1"]}))
    >>> index = CoverageIndex.from_frames(hh, v, None, areas)
    >>> grid_counts(index, start=dt.date(2026, 1, 1), end=dt.date(2026, 11, 22)).to_dict("records")
    [{'households': 2, 'residents': 5, 'visited': 1, 'residents_visited': 2, 'visits': 2, 'buildings': 2}]
    """
    counts = index.counts_by_grid(start, end).rename(columns={"residents_covered": "residents_visited"})
    return counts[list(GRID_COUNT_COLUMNS)]


def solved_issues(issues: pd.DataFrame, *, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Return the issues solved in the period: closed, with ``closed_at`` inside it.

    An issue reopened since is no longer closed and does not count.

    >>> iss = pd.DataFrame({"grid_id": ["g1", "g1", "g2"], "category": ["停车难", "养老服务", "x"],
    ...                     "status": ["closed", "closed", "handled"],
    ...                     "closed_at": pd.to_datetime(["2026-03-01", "2025-12-31", None])})
    >>> solved_issues(iss, start=dt.date(2026, 1, 1), end=dt.date(2026, 11, 22)).to_dict("records")
    [{'grid_id': 'g1', 'group': 'environment'}]
    """
    lo, hi = period_bounds(start, end)
    closed_at = pd.to_datetime(issues["closed_at"]).to_numpy(dtype="datetime64[s]")
    keep = (issues["status"].to_numpy(dtype=object) == "closed") & ~np.isnat(closed_at)
    keep &= (closed_at >= lo) & (closed_at < hi)
    picked = issues.loc[keep]
    return pd.DataFrame(
        {
            "grid_id": picked["grid_id"].to_numpy(dtype=object),
            "group": coarse_category(picked["category"]).to_numpy(dtype=object),
        }
    )


# --------------------------------------------------------------------------
# The builder
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicSummary:
    """The published figures: safe to show to anyone, as they are.

    ``areas`` holds one row per area (``level`` district, street or
    committee) with ``id, level, name, parent, coverage`` (a whole percentage,
    NaN when not published), ``cls`` (coverage class, -1 when not published)
    and the counts of :data:`COUNT_COLUMNS` (NaN when hidden). ``grids`` holds
    ``grid_id, committee_id, name, cls``. ``geometry`` is a
    :func:`geo.maps.geometry_payload` of the area outlines, or None.
    """

    start: dt.date
    end: dt.date
    k: int
    base: int
    areas: pd.DataFrame
    grids: pd.DataFrame
    geometry: Mapping[str, Any] | None = field(default=None, compare=False)

    def level(self, level: str) -> pd.DataFrame:
        """Return the rows of one level (``district``, ``street`` or ``committee``), by id."""
        if level not in ("district", "street", "committee"):
            raise ValueError(f"level must be district, street or committee, got {level!r}")
        return self.areas[self.areas["level"] == level].set_index("id")

    @property
    def district(self) -> pd.Series:
        """Return the district's row."""
        return self.level("district").iloc[0]

    def to_json(self) -> dict[str, Any]:
        """Return the site's data file: column arrays, ``None`` for hidden figures.

        Hidden counts and unpublished rates are ``null``; the labels of both
        languages travel with the data, so the site needs nothing else.
        """
        columns = ["coverage", "cls", *COUNT_COLUMNS]

        def records(frame: pd.DataFrame) -> dict[str, list[Any]]:
            out: dict[str, list[Any]] = {
                "id": [str(x) for x in frame.index],
                "name": [str(x) for x in frame["name"]],
            }
            for col in columns:
                out[col] = [_json_number(x) for x in frame[col].tolist()]
            return out

        streets = self.level("street")
        committees = self.level("committee")
        street_pos = {s: i for i, s in enumerate(streets.index)}
        district = self.district
        return {
            "v": 1,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "k": self.k,
            "base": self.base,
            "min_households": MIN_HOUSEHOLDS,
            "min_buildings": MIN_BUILDINGS,
            "groups": list(GROUPS),
            "columns": list(COUNT_COLUMNS),
            "district": {
                "name": str(district["name"]),
                **{col: _json_number(district[col]) for col in columns},
            },
            "streets": records(streets),
            "committees": {
                **records(committees),
                "street": [street_pos.get(str(s), -1) for s in committees["parent"]],
            },
            "grids": {
                "id": [str(x) for x in self.grids["grid_id"]],
                "cls": [int(x) for x in self.grids["cls"]],
            },
            "legend": {
                "breaks": list(COVERAGE_BREAKS),
                "colours": list(COVERAGE_COLOURS),
                "labels": list(COVERAGE_LABELS),
            },
            "text": {"zh": text("zh"), "en": text("en")},
            "geometry": dict(self.geometry) if self.geometry is not None else None,
        }


def _json_number(value: object) -> int | None:
    """Return a published figure as an int, or None when hidden (NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return int(value)  # type: ignore[call-overload]


def coverage_class(percent: np.ndarray) -> np.ndarray:
    """Return the class of each whole percentage (-1 for NaN): < 50, 50–75, 75–90, ≥ 90.

    >>> coverage_class(np.array([0, 49, 50, 74, 75, 89, 90, 100, np.nan])).tolist()
    [0, 0, 1, 1, 2, 2, 3, 3, -1]
    """
    p = np.asarray(percent, dtype=np.float64)
    cls = np.searchsorted(np.asarray(COVERAGE_BREAKS, dtype=np.float64), p, side="right")
    return np.where(np.isnan(p), NOT_PUBLISHED, cls).astype(np.int64)


def _check_frame(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; the frame has {list(frame.columns)}")


def _area_rows(
    grid_table: pd.DataFrame,
    grids: pd.DataFrame,
    committees: pd.DataFrame,
    streets: pd.DataFrame,
    district_name: str,
) -> pd.DataFrame:
    """Sum the raw grid counts up to committees, streets and the district (one frame, all levels)."""
    sums = [*COUNT_COLUMNS, "households", "visited"]
    g = grid_table.join(grids.set_index("grid_id")["committee_id"], how="left")
    unknown = g["committee_id"].isna()
    if unknown.any():
        raise ValueError(f"grid(s) {sorted(map(str, g.index[unknown]))[:5]} are in no committee")
    by_committee = g.groupby("committee_id")[sums].sum()
    c = committees.set_index("committee_id")
    by_committee = by_committee.reindex(c.index, fill_value=0)
    by_committee["street_id"] = c["street_id"]
    by_street = by_committee.groupby("street_id")[sums].sum()
    s = streets.set_index("street_id")
    by_street = by_street.reindex(s.index, fill_value=0)
    district = by_street[sums].sum().to_frame().T
    rows = [
        district.assign(id=DISTRICT_ID, level="district", name=district_name, parent=None),
        by_street.assign(
            id=by_street.index.astype(str), level="street", name=s["name"].astype(str), parent=DISTRICT_ID
        ),
        by_committee.assign(
            id=by_committee.index.astype(str),
            level="committee",
            name=c["name"].astype(str),
            parent=by_committee["street_id"].astype(str),
        ),
    ]
    out = pd.concat([r[["id", "level", "name", "parent", *sums]] for r in rows], ignore_index=True).astype(
        {col: np.int64 for col in sums}
    )
    out["parent"] = out["parent"].astype(object).where(out["parent"].notna(), None)
    return out


def public_summary(
    counts: pd.DataFrame,
    solved: pd.DataFrame,
    grids: pd.DataFrame,
    committees: pd.DataFrame,
    streets: pd.DataFrame,
    *,
    start: dt.date,
    end: dt.date,
    k: int = 5,
    base: int | None = None,
    district_name: str = "普陀区",
    geometry: Mapping[str, Any] | None = None,
) -> PublicSummary:
    """Build the published tables from raw grid-level counts (pure).

    Parameters
    ----------
    counts
        :func:`grid_counts`: indexed by grid_id, columns
        :data:`GRID_COUNT_COLUMNS`.
    solved
        :func:`solved_issues`: one row per issue solved, ``grid_id, group``.
    grids, committees, streets
        ``grid_id, committee_id, name``; ``committee_id, street_id, name``;
        ``street_id, name``.
    start, end
        The period (for the record; the counts already cover it).
    k
        Counts from 1 to ``k - 1`` are hidden, with every cell that would
        give one away.
    base
        Published counts are rounded to a multiple of ``base`` (default ``k``).
    geometry
        Area outlines to publish with the figures (:func:`geo.maps.geometry_payload`).

    Returns
    -------
    PublicSummary

    Examples
    --------
    One street, two committees; committee C2's 3 solved housing problems
    are hidden, and so are the cells that would give them away: C2's 7 in
    community (C2's total minus the rest), C1's 12 in housing (the street's
    housing minus C1's) and C1's 0 in community (the street's community
    minus C2's). Counts are rounded to multiples of 5.

    >>> counts = pd.DataFrame({"households": [400, 300], "residents": [900, 700],
    ...     "visited": [380, 120], "residents_visited": [870, 310], "visits": [640, 150],
    ...     "buildings": [6, 4]}, index=pd.Index(["G1", "G2"], name="grid_id"))
    >>> solved = pd.DataFrame({"grid_id": ["G1"] * 12 + ["G2"] * 10,
    ...                        "group": ["housing"] * 12 + ["housing"] * 3 + ["community"] * 7})
    >>> grids = pd.DataFrame({"grid_id": ["G1", "G2"], "committee_id": ["C1", "C2"],
    ...                       "name": ["一村第1网格", "二村第1网格"]})
    >>> committees = pd.DataFrame({"committee_id": ["C1", "C2"], "street_id": ["S1", "S1"],
    ...                            "name": ["一村", "二村"]})
    >>> streets = pd.DataFrame({"street_id": ["S1"], "name": ["长寿路街道"]})
    >>> s = public_summary(counts, solved, grids, committees, streets,
    ...                    start=dt.date(2026, 1, 1), end=dt.date(2026, 11, 22))
    >>> s.level("committee")[["coverage", "residents_visited", "solved", "solved_housing",
    ...                       "solved_community"]]
        coverage  residents_visited  solved  solved_housing  solved_community
    id
    C1      95.0              870.0    10.0             NaN               NaN
    C2      40.0              310.0    10.0             NaN               NaN
    >>> s.level("street")[["solved", "solved_housing", "solved_community"]].to_dict("records")
    [{'solved': 20.0, 'solved_housing': 15.0, 'solved_community': 5.0}]
    >>> s.grids["cls"].tolist()
    [3, 0]
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    base = k if base is None else base
    _check_inputs(counts, solved, grids, committees, streets)
    grid_ids = pd.Index(grids["grid_id"].astype(str), dtype=object)
    table = _grid_table(counts, solved, grid_ids)

    raw = _area_rows(table, grids, committees, streets, district_name).set_index("id", drop=False)
    raw.index = raw["level"] + ":" + raw["id"].astype(str)
    parent_level = {"district": None, "street": "district", "committee": "street"}
    parent_key = [
        None if parent_level[lv] is None else f"{parent_level[lv]}:{p}"
        for lv, p in zip(raw["level"], raw["parent"], strict=True)
    ]
    nested = raw.assign(parent_key=pd.Series(parent_key, index=raw.index, dtype=object))
    # Residents and visits that stand for fewer than k households are small counts too.
    few = ((raw["visited"] > 0) & (raw["visited"] < k)).to_numpy()
    also_hide = pd.DataFrame({"residents_visited": few, "visits": few}, index=raw.index)
    published = suppress_nested(
        nested,
        list(COUNT_COLUMNS),
        parent="parent_key",
        totals={"solved": list(SOLVED_COLUMNS)},
        k=k,
        also_hide=also_hide,
    )
    published = round_to(published, list(COUNT_COLUMNS), base=base)

    households = raw["households"].to_numpy(dtype=np.int64)
    visited = raw["visited"].to_numpy(dtype=np.int64)
    enough = households >= MIN_HOUSEHOLDS
    percent = np.where(enough, (100 * visited) // np.maximum(households, 1), -1)
    coverage = np.where(enough, percent.astype(np.float64), np.nan)
    areas = pd.DataFrame(
        {
            "id": raw["id"].astype(str).to_numpy(dtype=object),
            "level": raw["level"].to_numpy(dtype=object),
            "name": raw["name"].astype(str).to_numpy(dtype=object),
            "parent": raw["parent"].to_numpy(dtype=object),
            "coverage": coverage,
            "cls": coverage_class(coverage),
            **{col: published[col].to_numpy(dtype=np.float64) for col in COUNT_COLUMNS},
        }
    )

    grid_rows = _grid_classes(table, grids, grid_ids)
    return PublicSummary(
        start=start, end=end, k=k, base=base, areas=areas, grids=grid_rows, geometry=geometry
    )


def _check_inputs(
    counts: pd.DataFrame,
    solved: pd.DataFrame,
    grids: pd.DataFrame,
    committees: pd.DataFrame,
    streets: pd.DataFrame,
) -> None:
    """Refuse inputs without the columns :func:`public_summary` reads, or with unknown groups."""
    _check_frame(counts, GRID_COUNT_COLUMNS, "counts")
    _check_frame(solved, ["grid_id", "group"], "solved")
    _check_frame(grids, ["grid_id", "committee_id", "name"], "grids")
    _check_frame(committees, ["committee_id", "street_id", "name"], "committees")
    _check_frame(streets, ["street_id", "name"], "streets")
    bad_groups = sorted(set(solved["group"].tolist()) - set(GROUPS))
    if bad_groups:
        raise ValueError(f"solved: unknown group(s) {bad_groups}; expected {list(GROUPS)}")


def _grid_table(counts: pd.DataFrame, solved: pd.DataFrame, grid_ids: pd.Index) -> pd.DataFrame:
    """Return the counts of every grid (0 where none), with the issues solved per group and in all."""
    table = counts.reindex(grid_ids, fill_value=0)[list(GRID_COUNT_COLUMNS)].astype(np.int64)
    by_group = (
        pd.crosstab(solved["grid_id"].astype(str), solved["group"])
        .reindex(index=grid_ids, columns=list(GROUPS), fill_value=0)
        .astype(np.int64)
    )
    for g in GROUPS:
        table[f"solved_{g}"] = by_group[g].to_numpy()
    table["solved"] = by_group.sum(axis=1).to_numpy()
    return table


def _grid_classes(table: pd.DataFrame, grids: pd.DataFrame, grid_ids: pd.Index) -> pd.DataFrame:
    """Return each grid's coverage class (none for a grid with too few households or buildings)."""
    g_households = table["households"].to_numpy(dtype=np.int64)
    g_ok = (g_households >= MIN_HOUSEHOLDS) & (table["buildings"].to_numpy() >= MIN_BUILDINGS)
    g_percent = np.where(
        g_ok, (100 * table["visited"].to_numpy(dtype=np.int64)) // np.maximum(g_households, 1), -1
    )
    return pd.DataFrame(
        {
            "grid_id": grid_ids.to_numpy(dtype=object),
            "committee_id": grids["committee_id"].astype(str).to_numpy(dtype=object),
            "name": grids["name"].astype(str).to_numpy(dtype=object),
            "cls": coverage_class(np.where(g_ok, g_percent.astype(np.float64), np.nan)),
        }
    )


# --------------------------------------------------------------------------
# From the store
# --------------------------------------------------------------------------


def _time_param(store: Store, value: dt.date) -> Any:
    """Bind midnight of ``value`` for the store: ISO text in SQLite, a timestamp in PostgreSQL."""
    moment = dt.datetime(value.year, value.month, value.day)
    return moment if store.backend == "postgresql" else moment.strftime("%Y-%m-%d %H:%M:%S")


def _period_index(store: Store, *, start: dt.date, end: dt.date) -> CoverageIndex:
    """Build a coverage index holding only the period's met visits (what an export needs).

    Only the households of the visits are read: the SQL filter already keeps
    the period, so each visit is placed at the period's start, which saves
    reading and parsing half a million timestamps. The index answers for this
    period only.
    """
    import sqlalchemy as sa

    from geo.live import households_with_grid, read_areas
    from geo.store import Scope, schema

    # Public aggregates are counts of the whole district (small counts
    # suppressed later); no row read here leaves this module.
    everything = Scope.everything()
    v = schema.visits
    visits = store.read_table(
        "visits",
        scope=everything,
        columns=["household_id"],
        where=sa.and_(
            v.c.outcome == "met",
            v.c.visited_at >= _time_param(store, start),
            v.c.visited_at < _time_param(store, end + dt.timedelta(days=1)),
        ),
    )
    visits["visited_at"] = np.full(len(visits), np.datetime64(start, "s"))
    return CoverageIndex.from_frames(
        households_with_grid(store, scope=everything), visits, None, read_areas(store)
    )


def _read_solved(store: Store, *, start: dt.date, end: dt.date) -> pd.DataFrame:
    import sqlalchemy as sa

    from geo.store import Scope, schema

    i = schema.issues
    issues = store.read_table(
        "issues",
        scope=Scope.everything(),  # counted per area for the public page; no row leaves this module
        columns=["grid_id", "category", "status", "closed_at"],
        where=sa.and_(
            i.c.status == "closed",
            i.c.closed_at >= _time_param(store, start),
            i.c.closed_at < _time_param(store, end + dt.timedelta(days=1)),
        ),
    )
    return solved_issues(issues, start=start, end=end)


def _outline_payload(
    streets: gpd.GeoDataFrame, committees: gpd.GeoDataFrame, grids: gpd.GeoDataFrame
) -> dict[str, Any] | None:
    from geo.maps import geometry_payload

    if grids.empty:
        return None
    cname = committees.set_index("committee_id")["name"]
    cstreet = committees.set_index("committee_id")["street_id"]
    sname = streets.set_index("street_id")["name"]
    g = grids[["grid_id", "committee_id", "name", "geometry"]].copy()
    g["committee_name"] = g["committee_id"].map(cname).to_numpy(dtype=object)
    g["street_id"] = g["committee_id"].map(cstreet).to_numpy(dtype=object)
    g["street_name"] = g["street_id"].map(sname).to_numpy(dtype=object)
    return geometry_payload(g, streets=streets, committees=committees)


def summary_from_store(
    store: Store,
    *,
    today: dt.date | None = None,
    index: CoverageIndex | None = None,
    k: int | None = None,
    progress: Progress | None = None,
    period: tuple[dt.date, dt.date] | None = None,
) -> PublicSummary:
    """Build the public summary of a database, as of the Sunday before ``today``.

    Parameters
    ----------
    store
        The database.
    today
        The reporting day (default: :func:`reporting_day` of the store's
        metadata, so a demo district reports as of its own date).
    index
        A coverage index to count from (the app's live one); without it an
        index of the period's visits alone is built, which is what an export
        needs and gives the same counts.
    k
        The small-count threshold (default: the ``public_min_count`` setting).
    progress
        Called with the fraction done and a short message.
    period
        First and last day (from :func:`published_period`); default: this
        year to the Sunday before ``today`` (:func:`reporting_period`).

    Returns
    -------
    PublicSummary
        Figures and outlines only: nothing that returns or names a household.
    """
    report = progress or (lambda _f, _m: None)
    today = today or reporting_day(store.meta())
    start, end = period or reporting_period(today)
    k = store.settings.public_min_count if k is None else k
    report(0.0, "areas")
    from geo.store import Scope

    everything = Scope.everything()  # area outlines and names are public
    streets = store.read_layer("streets", scope=everything, columns=["street_id", "name"])
    committees = store.read_layer(
        "committees", scope=everything, columns=["committee_id", "street_id", "name"]
    )
    grids = store.read_layer("grids", scope=everything, columns=["grid_id", "committee_id", "name"])
    if index is None:
        report(0.1, "visits")
        index = _period_index(store, start=start, end=end)
    report(0.6, "issues")
    solved = _read_solved(store, start=start, end=end)
    report(0.7, "counts")
    counts = grid_counts(index, start=start, end=end)
    report(0.75, "outlines")
    geometry = _outline_payload(streets, committees, grids)
    report(0.9, "suppression")
    summary = public_summary(
        counts,
        solved,
        pd.DataFrame(grids.drop(columns="geometry")),
        pd.DataFrame(committees.drop(columns="geometry")),
        pd.DataFrame(streets.drop(columns="geometry")),
        start=start,
        end=end,
        k=k,
        geometry=geometry,
    )
    report(1.0, "done")
    return summary


# --------------------------------------------------------------------------
# Display
# --------------------------------------------------------------------------


def _date_text(iso: str, lang: str) -> str:
    if lang == "en":
        return iso
    y, m, d = (int(x) for x in iso.split("-"))
    return f"{y}年{m}月{d}日"


def label_params(data: Mapping[str, Any], *, lang: str = "zh") -> dict[str, str]:
    """Return the values the labels' ``{placeholders}`` take, from :meth:`PublicSummary.to_json`.

    The site's script computes the same (``params()`` in ``public_site.js``).
    """
    d = data["district"]
    return {
        "date": _date_text(data["end"], lang),
        "start": _date_text(data["start"], lang),
        "end": _date_text(data["end"], lang),
        "residents": _fmt_count(d["residents_visited"]),
        "visits": _fmt_count(d["visits"]),
        "solved": _fmt_count(d["solved"]),
        "k": str(data["k"]),
        "base": str(data["base"]),
        "n": str(data["min_households"]),
        "b": str(data["min_buildings"]),
    }


def labels(
    summary: PublicSummary, *, lang: str = "zh", data: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Return every public label in ``lang``, its placeholders filled in from ``summary``.

    >>> counts = pd.DataFrame({"households": [400], "residents": [900], "visited": [380],
    ...     "residents_visited": [871], "visits": [640], "buildings": [6]},
    ...     index=pd.Index(["G1"], name="grid_id"))
    >>> s = public_summary(counts, pd.DataFrame({"grid_id": [], "group": []}),
    ...     pd.DataFrame({"grid_id": ["G1"], "committee_id": ["C1"], "name": ["一号"]}),
    ...     pd.DataFrame({"committee_id": ["C1"], "street_id": ["S1"], "name": ["一村"]}),
    ...     pd.DataFrame({"street_id": ["S1"], "name": ["长寿路街道"]}),
    ...     start=dt.date(2026, 1, 1), end=dt.date(2026, 11, 22))
    >>> labels(s)["as_of"]
    '数据截至 2026年11月22日（周日）'
    >>> labels(s, lang="en")["headline"]
    'In this period, visits have reached 870 residents in 640 visits, and 0 problems have been solved.'
    """
    params = label_params(summary.to_json() if data is None else data, lang=lang)
    return {key: value.format(**params) for key, value in text(lang).items()}


def _fmt_count(value: object) -> str:
    n = _json_number(value)
    return "*" if n is None else f"{n:,}"


def _fmt_pct(value: object) -> str:
    n = _json_number(value)
    return "*" if n is None else f"{n}%"


def headline(summary: PublicSummary, *, lang: str = "zh") -> list[tuple[str, str]]:
    """Return the district's headline figures as (label, text), hidden ones as ``*``.

    >>> counts = pd.DataFrame({"households": [400], "residents": [900], "visited": [380],
    ...     "residents_visited": [871], "visits": [640], "buildings": [6]},
    ...     index=pd.Index(["G1"], name="grid_id"))
    >>> s = public_summary(counts, pd.DataFrame({"grid_id": [], "group": []}),
    ...     pd.DataFrame({"grid_id": ["G1"], "committee_id": ["C1"], "name": ["一号"]}),
    ...     pd.DataFrame({"committee_id": ["C1"], "street_id": ["S1"], "name": ["一村"]}),
    ...     pd.DataFrame({"street_id": ["S1"], "name": ["长寿路街道"]}),
    ...     start=dt.date(2026, 1, 1), end=dt.date(2026, 11, 22))
    >>> headline(s, lang="en")
    [('Visit coverage', '95%'), ('Residents reached', '870'), ('Visits', '640'), ('Problems solved', '0')]
    """
    labels = text(lang)
    d = summary.district
    return [
        (labels["coverage"], _fmt_pct(d["coverage"])),
        (labels["residents_visited"], _fmt_count(d["residents_visited"])),
        (labels["visits"], _fmt_count(d["visits"])),
        (labels["solved"], _fmt_count(d["solved"])),
    ]


def group_table(summary: PublicSummary, *, lang: str = "zh") -> pd.DataFrame:
    """Return the district's problems solved by group, as display text (``*`` for hidden).

    >>> counts = pd.DataFrame({"households": [400], "residents": [900], "visited": [380],
    ...     "residents_visited": [871], "visits": [640], "buildings": [6]},
    ...     index=pd.Index(["G1"], name="grid_id"))
    >>> s = public_summary(counts, pd.DataFrame({"grid_id": ["G1"] * 9, "group": ["housing"] * 9}),
    ...     pd.DataFrame({"grid_id": ["G1"], "committee_id": ["C1"], "name": ["一号"]}),
    ...     pd.DataFrame({"committee_id": ["C1"], "street_id": ["S1"], "name": ["一村"]}),
    ...     pd.DataFrame({"street_id": ["S1"], "name": ["长寿路街道"]}),
    ...     start=dt.date(2026, 1, 1), end=dt.date(2026, 11, 22))
    >>> group_table(s, lang="en").to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'Kind': 'Housing & facilities', 'Problems solved': '10'},
     {'Kind': 'Environment & order', 'Problems solved': '0'},
     {'Kind': 'Care, services & other', 'Problems solved': '0'}]
    """
    labels = text(lang)
    d = summary.district
    return pd.DataFrame(
        {
            labels["group"]: [labels[f"group.{g}"] for g in GROUPS],
            labels["solved"]: [_fmt_count(d[f"solved_{g}"]) for g in GROUPS],
        }
    )


def number_labels(lang: str = "zh") -> list[str]:
    """Return the headers of :func:`table`'s and :func:`group_table`'s number columns (to right-align).

    >>> number_labels("en")[:2]
    ['Visit coverage', 'Residents reached']
    """
    labels = text(lang)
    return [labels[k] for k in ("coverage", "residents_visited", "visits", "solved")] + [
        labels[f"group.{g}"] for g in GROUPS
    ]


def table(summary: PublicSummary, level: str, *, lang: str = "zh", street: str | None = None) -> pd.DataFrame:
    """Return one level's published figures as display text (``*`` for hidden), labelled in ``lang``.

    ``street`` keeps only the committees of one street.
    """
    labels = text(lang)
    rows = summary.level(level)
    if street is not None and level == "committee":
        rows = rows[rows["parent"] == street]
    out = pd.DataFrame(index=range(len(rows)))
    if level == "committee":
        names = summary.level("street")["name"]
        out[labels["street"]] = [str(names.get(p, "")) for p in rows["parent"]]
    out[labels[level]] = rows["name"].astype(str).to_numpy()
    out[labels["coverage"]] = [_fmt_pct(x) for x in rows["coverage"]]
    for col in ("residents_visited", "visits", "solved"):
        out[labels[col]] = [_fmt_count(x) for x in rows[col]]
    for g in GROUPS:
        out[labels[f"group.{g}"]] = [_fmt_count(x) for x in rows[f"solved_{g}"]]
    return out
