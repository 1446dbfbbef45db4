"""Where the visits are not happening: lagging grids, blind spots, pace and the weekly check.

The street office's questions, each answered by a pure function over frames
(or over a :class:`~geo.coverage.CoverageIndex`, the fast in-memory form of the
same data):

- :func:`lagging_grids` — grids below a coverage threshold, worst first;
- :func:`blind_spots` — adjacent low-coverage grids merged into one area
  (adjacency = a shared edge, found with an STRtree in metres), with its
  households and residents;
- :func:`households_not_met` — occupied households not met for 12 months;
- :func:`pace` / :func:`pace_from_index` — coverage so far against the pace
  needed to meet every household by the year's end, and the households a week
  now needed; :func:`burn_up` and :func:`burn_up_chart` draw it;
- :func:`weekly_check` — 一周一查: per grid and per worker, the last 7 days
  beside the year so far, anomaly flags and a seeded spot-check list.

Working days come from a :class:`WorkCalendar` (weekends and public holidays);
the visiting window ends at ``Settings.day_end`` (15:30, the "330" method).

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

import datetime as dt
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import words
from geo.coverage import CoverageIndex, overdue_from
from geo.issues import limits_days
from geo.settings import Settings
from geo.text import plain

if TYPE_CHECKING:
    import altair as alt

    from geo.store import Scope, Store

__all__ = [
    "ANOMALY_KINDS",
    "DEFAULT_BELOW",
    "WORKER_LEVELS",
    "CheckRules",
    "LiveOffice",
    "OfficeFrames",
    "WeeklyCheck",
    "WorkCalendar",
    "blind_spot_map",
    "blind_spots",
    "burn_up",
    "burn_up_chart",
    "grid_adjacency",
    "households_not_met",
    "lagging_grids",
    "not_met_by_grid",
    "not_met_households",
    "not_met_since",
    "office_frames_from_store",
    "pace",
    "pace_from_index",
    "weekly_check",
]

DEFAULT_BELOW = 0.5
"""Default coverage threshold: grids below it are "lagging" and may form blind spots."""

ANOMALY_KINDS = ("after_hours", "non_workday", "burst", "far_apart", "over_households")
"""Kinds of anomaly flag raised by :func:`weekly_check`."""

WORKER_LEVELS = ("building", "grid")
"""Issue levels a grid's own workers answer for (小事不出楼，大事不出网格)."""

_DAY = 86_400
_FAR = np.iinfo(np.int64).max


# ------------------------------------------------------------------ calendar


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: Monday to Friday, minus holidays, plus make-up working days (调休).

    Examples
    --------
    >>> cal = WorkCalendar.from_ranges([("2026-10-01", "2026-10-07")], extra_workdays=["2026-10-10"])
    >>> cal.workdays(dt.date(2026, 9, 28), dt.date(2026, 10, 11))  # Mon 28 Sep .. Sun 11 Oct
    6
    >>> cal.is_workday([dt.date(2026, 10, 2), dt.date(2026, 10, 10), dt.date(2026, 10, 12)]).tolist()
    [False, True, True]
    """

    holidays: frozenset[dt.date] = frozenset()
    extra_workdays: frozenset[dt.date] = frozenset()

    @classmethod
    def from_ranges(
        cls,
        ranges: Iterable[tuple[str | dt.date, str | dt.date]],
        *,
        extra_workdays: Iterable[str | dt.date] = (),
    ) -> WorkCalendar:
        """Build a calendar from inclusive holiday ranges ``(first, last)``."""
        days: set[dt.date] = set()
        for a, b in ranges:
            first, last = _as_date(a), _as_date(b)
            if last < first:
                raise ValueError(f"holiday range ends ({last}) before it starts ({first})")
            days.update(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
        return cls(frozenset(days), frozenset(_as_date(d) for d in extra_workdays))

    @classmethod
    def default(cls) -> WorkCalendar:
        """Return weekends plus the Spring Festival and National Day weeks of 2023-2026.

        These are the holidays the synthetic district observes (``geo.synth.HOLIDAYS``);
        a real deployment passes its own calendar.
        """
        from geo.synth import HOLIDAYS

        return cls.from_ranges(HOLIDAYS)

    def is_workday(self, days: Any) -> np.ndarray:
        """Tell, for each day (dates or ``datetime64``), whether it is a working day."""
        d = np.asarray(days, dtype="datetime64[D]")
        out = (d.astype(np.int64) + 3) % 7 < 5  # 1970-01-01 was a Thursday
        if self.holidays:
            out &= ~np.isin(d, np.asarray(sorted(self.holidays), dtype="datetime64[D]"))
        if self.extra_workdays:
            out |= np.isin(d, np.asarray(sorted(self.extra_workdays), dtype="datetime64[D]"))
        return out

    def workdays(self, first: dt.date, last: dt.date) -> int:
        """Count working days from ``first`` to ``last``, both included (0 if ``last < first``)."""
        if last < first:
            return 0
        days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
        return int(self.is_workday(days).sum())


def _as_date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _year_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)


def _sec(day: dt.date) -> int:
    """Seconds since the epoch of a day's midnight (local time, no zone)."""
    return int(np.datetime64(day, "s").astype(np.int64))


def _seconds(values: Any) -> np.ndarray:
    """Times (datetime64 or pandas) as int64 seconds; NaT becomes the largest int64."""
    arr = np.asarray(values).astype("datetime64[s]")
    out = arr.astype(np.int64)
    return np.where(np.isnat(arr), _FAR, out)


# ------------------------------------------------------------ lagging grids

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


# -------------------------------------------------------------- blind spots


def grid_adjacency(
    geoms: Sequence[shapely.Geometry] | np.ndarray,
    *,
    min_shared_m: float = 5.0,
    gap_m: float = 0.5,
) -> np.ndarray:
    """Return the pairs ``(i, j)``, ``i < j``, of polygons that share an edge.

    Two polygons share an edge when at least ``min_shared_m`` of one's
    boundary lies within ``gap_m`` of the other's boundary: a common edge
    counts, a common corner does not, and slivers up to ``gap_m`` wide
    (digitising errors in imported grids) are bridged. Geometries must be in
    a metric CRS. Candidates come from an STRtree (``dwithin``), so the cost
    grows with the number of neighbours, not with the square of the grids.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> grid = [box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 100, 300, 200)]
    >>> grid_adjacency(grid).tolist()  # the third touches the second at one corner only
    [[0, 1]]
    """
    arr = np.asarray(geoms, dtype=object)
    if len(arr) < 2:
        return np.empty((0, 2), dtype=np.int64)
    tree = shapely.STRtree(arr)
    left, right = tree.query(arr, predicate="dwithin", distance=gap_m)
    keep = left < right
    left, right = left[keep], right[keep]
    if len(left) == 0:
        return np.empty((0, 2), dtype=np.int64)
    edges = shapely.boundary(arr)
    # Exactly shared edges first (a tiling's neighbours share their vertices), then the
    # remaining candidates with the tolerance: a buffer around one boundary.
    ok = shapely.length(shapely.intersection(edges[left], edges[right])) >= min_shared_m
    rest = np.flatnonzero(~ok)
    if gap_m > 0 and len(rest):
        near = shapely.buffer(edges[right[rest]], gap_m, quad_segs=2)
        shared = shapely.length(shapely.intersection(edges[left[rest]], near))
        # A corner contact still leaves up to 2 * gap_m of boundary inside the buffer.
        ok[rest] = shared >= max(min_shared_m, 2.5 * gap_m)
    pairs = np.stack([left[ok], right[ok]], axis=1).astype(np.int64)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def _components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Label connected components of ``n`` nodes joined by ``pairs`` (smallest member first)."""
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in pairs.tolist():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.asarray([find(i) for i in range(n)], dtype=np.int64)


def _joined(values: Iterable[object]) -> str:
    seen: dict[str, None] = {}
    for v in values:
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            seen.setdefault(str(v), None)
    return "、".join(seen)


def blind_spots(
    grids: gpd.GeoDataFrame,
    metrics: pd.DataFrame,
    *,
    below: float = DEFAULT_BELOW,
    min_grids: int = 1,
    min_shared_m: float = 5.0,
    gap_m: float = 0.5,
    metric_crs: str = "EPSG:32651",
) -> gpd.GeoDataFrame:
    """Merge adjacent low-coverage grids into blind spots, largest gap first.

    A grid *qualifies* when it has occupied households and coverage below
    ``below``. Qualifying grids that share an edge (:func:`grid_adjacency`,
    in ``metric_crs``) belong to the same blind spot; a spot is the union of
    its grids' polygons. Every qualifying grid is in exactly one spot, and no
    two spots share an edge.

    Parameters
    ----------
    grids
        ``grid_id`` and polygons (any CRS; EPSG:4326 in the store), optionally
        ``name, committee_name, street_name``.
    metrics
        Coverage per grid indexed by grid id: ``households, visited, coverage``
        and, if present, ``residents, residents_covered``.
    below
        Coverage threshold (share).
    min_grids
        Leave out spots of fewer grids (1 keeps single lagging grids).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per spot, in the grids' CRS: ``spot, grids, grid_ids,
        grid_names, committee_names, street_names, households, visited,
        unvisited, coverage, residents, residents_covered, area_km2`` and the
        merged polygon. Ordered by households not met (most first), then
        households, then the first grid id; ``spot`` numbers them 1, 2, ...

    Examples
    --------
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"grid_id": ["A", "B", "C"]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(300, 0, 400, 100)],
    ...     crs="EPSG:32651")
    >>> m = pd.DataFrame({"households": [10, 10, 10], "visited": [1, 2, 3],
    ...                   "coverage": [0.1, 0.2, 0.3]}, index=["A", "B", "C"])
    >>> blind_spots(g, m)[["spot", "grids", "grid_ids", "households", "unvisited", "area_km2"]]
       spot  grids grid_ids  households  unvisited  area_km2
    0     1      2     A、B          20         17      0.02
    1     2      1        C          10          7      0.01
    """
    if not 0.0 <= below <= 1.0:
        raise ValueError(f"the coverage threshold must be between 0 and 1, got {below}")
    if grids.crs is None:
        raise ValueError("grids have no CRS; expected EPSG:4326 (or any CRS, declared)")
    ids = grids["grid_id"].astype(str).to_numpy(dtype=object)
    m = metrics.reindex(ids)
    households = m["households"].fillna(0).to_numpy()
    cov = m["coverage"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        low = (households > 0) & (cov < below)
    sel = np.flatnonzero(low)
    geoms = grids.geometry.to_numpy()[sel]
    metric = gpd.GeoSeries(geoms, crs=grids.crs).to_crs(metric_crs).to_numpy()
    pairs = grid_adjacency(metric, min_shared_m=min_shared_m, gap_m=gap_m)
    labels = _components(len(sel), pairs)
    cols = ["households", "visited", "residents", "residents_covered"]
    sums = {c: (m[c].fillna(0).to_numpy()[sel] if c in m else np.zeros(len(sel))) for c in cols}
    area = shapely.area(metric) if len(metric) else np.zeros(0)
    name_of = grids["name"].to_numpy(dtype=object) if "name" in grids else ids
    cname = grids["committee_name"].to_numpy(dtype=object) if "committee_name" in grids else None
    sname = grids["street_name"].to_numpy(dtype=object) if "street_name" in grids else None
    rows: list[dict[str, Any]] = []
    spot_geoms: list[shapely.Geometry] = []
    for root in np.unique(labels):
        members = np.flatnonzero(labels == root)
        if len(members) < min_grids:
            continue
        # Order grids inside a spot by id, so the listing is stable.
        members = members[np.argsort(ids[sel[members]], kind="stable")]
        rows_idx = sel[members]
        hh = int(sums["households"][members].sum())
        vis = int(sums["visited"][members].sum())
        rows.append(
            {
                "grids": len(members),
                "grid_ids": "、".join(ids[rows_idx].tolist()),
                "grid_names": _joined(name_of[rows_idx]),
                "committee_names": _joined(cname[rows_idx]) if cname is not None else "",
                "street_names": _joined(sname[rows_idx]) if sname is not None else "",
                "households": hh,
                "visited": vis,
                "unvisited": hh - vis,
                "coverage": vis / hh if hh else float("nan"),
                "residents": int(sums["residents"][members].sum()),
                "residents_covered": int(sums["residents_covered"][members].sum()),
                "area_km2": round(float(area[members].sum()) / 1e6, 4),
                "_first": ids[rows_idx[0]],
            }
        )
        spot_geoms.append(shapely.union_all(geoms[members]))
    columns = [
        "grids",
        "grid_ids",
        "grid_names",
        "committee_names",
        "street_names",
        "households",
        "visited",
        "unvisited",
        "coverage",
        "residents",
        "residents_covered",
        "area_km2",
        "_first",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(spot_geoms, crs=grids.crs), crs=grids.crs)
    out = out.sort_values(
        ["unvisited", "households", "_first"], ascending=[False, False, True], kind="stable"
    ).drop(columns="_first")
    out.insert(0, "spot", np.arange(1, len(out) + 1))
    for c in ("grids", "households", "visited", "unvisited", "residents", "residents_covered"):
        out[c] = out[c].astype("int64")
    return out.reset_index(drop=True)


_MAP_TEXT = words.by_lang("uncovered.map.")


def blind_spot_map(
    grids: gpd.GeoDataFrame,
    metrics: pd.DataFrame,
    spots: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    assets: str = "inline",
    payload: dict[str, Any] | None = None,
    bounds: Sequence[float] | None = None,
    below: float = DEFAULT_BELOW,
) -> Any:
    """Return an offline folium map: grids coloured by coverage, blind spots outlined and numbered.

    The grids are the district map's layer (:mod:`geo.maps`: classes,
    legend, escaped tooltips, "no households" hatching), with ``below`` added
    as a class break; each blind spot is drawn as a thick red outline with a
    tooltip of numbers only and its number at a point inside it. Names never
    travel in the spots' GeoJSON, so imported text cannot reach the page.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from geo.maps import find_external_urls
    >>> g = gpd.GeoDataFrame({"grid_id": ["A", "B"], "name": ["<b>甲</b>", "乙"],
    ...     "committee_id": ["C1", "C1"], "street_id": ["S1", "S1"], "committee_name": ["一村", "一村"],
    ...     "street_name": ["长寿路街道"] * 2},
    ...     geometry=[box(121.40, 31.24, 121.41, 31.25), box(121.41, 31.24, 121.42, 31.25)], crs="EPSG:4326")
    >>> m = pd.DataFrame({"households": [10, 10], "visited": [1, 9], "coverage": [0.1, 0.9],
    ...                   "open_issues": [0, 0], "overdue_issues": [0, 0]}, index=["A", "B"])
    >>> page = blind_spot_map(g, m, blind_spots(g, m)).get_root().render()
    >>> find_external_urls(page), "<b>甲" in page, '"unvisited"' in page
    ([], False, True)
    """

    import folium

    from geo import maps

    text = _MAP_TEXT["en" if lang == "en" else "zh"]
    lang_ = "en" if lang == "en" else "zh"
    if payload is None:
        payload = maps.geometry_payload(grids)
    breaks = sorted({0.5, 0.75, 0.9, float(below)} - {0.0, 1.0})
    style = maps.style_payload(
        payload["grids"]["id"],
        metrics,
        metric="coverage",
        scheme="fixed",
        lang=lang_,  # type: ignore[arg-type]
        geometry_hash=str(payload["hash"]),
        thresholds=breaks,
    )
    box = tuple(bounds) if bounds is not None else tuple(float(b) for b in payload["bbox"])
    m = maps.base_map(bounds=box, assets=assets, lang=lang_)  # type: ignore[arg-type]
    maps.GridLayer(payload, style, name=plain(maps._text(lang_)["grids"])).add_to(m)
    if "streets" in payload:
        maps.OutlineLayer(
            payload, "streets", name=plain(maps._text(lang_)["streets"]), color="#1a1a1a", weight=2.0
        ).add_to(m)
    if len(spots):
        shapes = gpd.GeoDataFrame(
            {
                "spot": spots["spot"].astype(int).to_numpy(),
                "grids": spots["grids"].astype(int).to_numpy(),
                "households": spots["households"].astype(int).to_numpy(),
                "unvisited": spots["unvisited"].astype(int).to_numpy(),
            },
            geometry=spots.geometry.to_crs("EPSG:4326").simplify(0.00001).to_numpy(),
            crs="EPSG:4326",
        )
        group = folium.FeatureGroup(name=plain(text["layer"]))
        folium.GeoJson(
            shapes.to_json(),
            style_function=lambda _f: {"color": "#b2182b", "weight": 3.5, "fill": False, "dashArray": None},
            highlight_function=lambda _f: {"weight": 5.5},
            tooltip=folium.GeoJsonTooltip(
                fields=["spot", "grids", "households", "unvisited"],
                aliases=[plain(text[k]) for k in ("spot", "grids", "households", "unvisited")],
            ),
        ).add_to(group)
        points = shapely.point_on_surface(shapes.geometry.to_numpy())
        for number, pt in zip(shapes["spot"].tolist(), points.tolist(), strict=True):
            folium.Marker(
                [pt.y, pt.x],
                icon=folium.DivIcon(
                    html=(
                        '<div style="font:bold 12px sans-serif;color:#fff;background:#b2182b;'
                        'border-radius:9px;padding:1px 5px;display:inline-block">'
                        f"{int(number)}</div>"
                    ),
                    icon_size=(24, 18),
                    icon_anchor=(12, 9),
                ),
            ).add_to(group)
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


# -------------------------------------------------------- not met for months


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


# --------------------------------------------------------------------- pace


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


_CHART_TEXT = words.by_lang("uncovered.chart.")


def burn_up_chart(frame: pd.DataFrame, *, lang: str = "zh", title: str = "") -> alt.Chart:
    """Return an Altair burn-up chart of a :func:`burn_up` frame (labels in ``lang``).

    Examples
    --------
    >>> f = pd.DataFrame({"date": pd.to_datetime(["2026-01-04", "2026-12-31"]),
    ...                   "series": ["goal", "goal"], "coverage": [0.0, 1.0]})
    >>> spec = burn_up_chart(f, lang="en").to_dict()
    >>> spec["encoding"]["y"]["axis"]["format"], spec["encoding"]["color"]["scale"]["domain"][0]
    ('%', 'Coverage so far')
    """
    import altair as alt

    text = _CHART_TEXT["en" if lang == "en" else "zh"]
    data = frame.assign(label=frame["series"].map(text))
    domain = [text["actual"], text["goal"], text["projected"]]
    return (
        alt.Chart(data, title=title or alt.Undefined)
        .mark_line(point=alt.OverlayMarkDef(size=18))
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format=text["month"], labelAngle=0)),
            y=alt.Y(
                "coverage:Q",
                title=None,
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color(
                "label:N",
                title=None,
                legend=alt.Legend(orient="top", direction="horizontal"),
                scale=alt.Scale(domain=domain, range=["#2166ac", "#969696", "#f4a582"]),
            ),
            strokeDash=alt.StrokeDash(
                "label:N", legend=None, scale=alt.Scale(domain=domain, range=[[1, 0], [4, 3], [2, 2]])
            ),
            tooltip=[
                alt.Tooltip("label:N", title=text["series"]),
                alt.Tooltip("date:T", title=text["date"]),
                alt.Tooltip("coverage:Q", title=text["coverage"], format=".1%"),
            ],
        )
    )


# ------------------------------------------------------------- weekly check


@dataclass(frozen=True)
class CheckRules:
    """Thresholds of the weekly check's anomaly flags and spot checks.

    Examples
    --------
    >>> CheckRules.from_settings(Settings.from_env({"SIBAI_DAY_END": "16:00"})).day_end
    datetime.time(16, 0)
    """

    day_end: dt.time = dt.time(15, 30)
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


@dataclass
class OfficeFrames:
    """What the weekly check reads: one district (or part of it), a year of activity.

    Frames (object or string id columns; times as ``datetime64``):

    - ``grids``: ``grid_id, name, committee_id, committee_name, street_id, street_name``
    - ``households``: ``household_id, building_id, grid_id, occupied, residents``
    - ``buildings``: ``building_id, grid_id, x, y`` (centroid in metres, :func:`geo.crs.metric_xy`)
    - ``workers``: ``worker_id, name, committee_id`` (``active`` optional)
    - ``grid_workers``: ``grid_id, worker_id, role``
    - ``visits``: ``visit_id, household_id, worker_id, visited_at, outcome, channel``
      (at least the year checked)
    - ``issues``: ``issue_id, grid_id, level, opened_at, due_at, closed_at``
    """

    grids: pd.DataFrame
    households: pd.DataFrame
    buildings: pd.DataFrame
    workers: pd.DataFrame
    grid_workers: pd.DataFrame
    visits: pd.DataFrame
    issues: pd.DataFrame
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def arrays(self) -> dict[str, Any]:
        """Return positional arrays built once per instance (ids → positions, times → seconds).

        Visit arrays and issue arrays are built separately, so :meth:`with_issues`
        can swap the issues (which change state) and keep the costly visit arrays.
        """
        c = self._cache
        if "v_t" not in c:
            self._visit_arrays(c)
        if "i_g" not in c:
            iss = self.issues
            c["i_g"] = c["grid_ids"].get_indexer(iss["grid_id"].to_numpy(dtype=object))
            c["i_open"] = _seconds(iss["opened_at"].to_numpy())
            c["i_close"] = _seconds(iss["closed_at"].to_numpy())
            # Overdue as on the issues page: the escalation clock applied on read (geo.coverage).
            c["i_overdue_from"] = _seconds(overdue_from(iss, limits=limits_days()))
            c["i_worker_level"] = np.isin(iss["level"].to_numpy(dtype=object), list(WORKER_LEVELS))
        return c

    def _visit_arrays(self, c: dict[str, Any]) -> None:
        # Indexes already in ``c`` (and their hash tables) are reused: see with_new_visits.
        if "hh_ids" not in c:
            c["grid_ids"] = pd.Index(self.grids["grid_id"].to_numpy(dtype=object))
            c["hh_ids"] = pd.Index(self.households["household_id"].to_numpy(dtype=object))
            c["worker_ids"] = pd.Index(self.workers["worker_id"].to_numpy(dtype=object))
            b_ids = pd.Index(self.buildings["building_id"].to_numpy(dtype=object))
            c["h_grid"] = c["grid_ids"].get_indexer(self.households["grid_id"].to_numpy(dtype=object))
            c["h_building"] = b_ids.get_indexer(self.households["building_id"].to_numpy(dtype=object))
            c["h_occupied"] = self.households["occupied"].to_numpy().astype(bool)
            c["b_x"] = self.buildings["x"].to_numpy(dtype=float)
            c["b_y"] = self.buildings["y"].to_numpy(dtype=float)
        hh_ids, worker_ids = c["hh_ids"], c["worker_ids"]
        h_grid, h_building = c["h_grid"], c["h_building"]
        v = self.visits
        v_h = hh_ids.get_indexer(v["household_id"].to_numpy(dtype=object))
        known = v_h >= 0
        v_t = _seconds(v["visited_at"].to_numpy())
        order = np.lexsort((v["visit_id"].to_numpy(dtype=np.int64), v_t))
        order = order[known[order]]
        v_h = v_h[order]
        c["v_id"] = v["visit_id"].to_numpy(dtype=np.int64)[order]
        c["v_h"] = v_h
        c["v_g"] = h_grid[v_h]
        c["v_b"] = h_building[v_h]
        c["v_w"] = worker_ids.get_indexer(v["worker_id"].to_numpy(dtype=object)[order])
        c["v_worker"] = v["worker_id"].to_numpy(dtype=object)[order]
        c["v_met"] = v["outcome"].to_numpy(dtype=object)[order] == "met"
        c["v_channel"] = v["channel"].to_numpy(dtype=object)[order]
        c["v_door"] = c["v_channel"] == "door"
        c["v_t"] = v_t[order]  # last: its presence marks the visit arrays as built

    def with_new_visits(self, visits: pd.DataFrame) -> OfficeFrames:
        """Return the frames with ``visits`` appended, extending the arrays instead of rebuilding them.

        Positions are looked up for the new rows only; if any is earlier than the
        latest visit held (a visit recorded late), the arrays are re-sorted, which
        costs one ``lexsort`` of integers.
        """
        if len(visits) == 0:
            return self
        merged = pd.concat([self.visits, visits[list(self.visits.columns)]], ignore_index=True)
        if "v_t" not in self._cache:
            return replace(self, visits=merged, _cache={})
        old = self._cache
        new = OfficeFrames(
            self.grids, self.households, self.buildings, self.workers, self.grid_workers, visits, self.issues
        )
        part: dict[str, Any] = {k: v for k, v in old.items() if not k.startswith(("v_", "i_", "first_met_"))}
        new._visit_arrays(part)
        keys = [k for k in old if k.startswith("v_")]
        cache = {k: v for k, v in old.items() if not k.startswith(("v_", "first_met_"))}
        for k in keys:
            cache[k] = np.concatenate([old[k], part[k]])
        if len(old["v_t"]) and len(part["v_t"]) and part["v_t"][0] < old["v_t"][-1]:
            order = np.lexsort((cache["v_id"], cache["v_t"]))
            for k in keys:
                cache[k] = cache[k][order]
        else:
            # Appended in time order: a household's first met visit is unchanged if it had one,
            # else it is its first among the new visits.
            offset = len(old["v_t"])
            for key in (k for k in old if k.startswith("first_met_")):
                lo = int(key.removeprefix("first_met_"))
                first_t, first_v = old[key][0].copy(), old[key][1].copy()
                met = np.flatnonzero(part["v_met"] & (part["v_t"] >= lo))
                h = part["v_h"][met]
                uniq, pos = np.unique(h, return_index=True)
                todo = first_t[uniq] == _FAR
                first_t[uniq[todo]] = part["v_t"][met[pos[todo]]]
                first_v[uniq[todo]] = met[pos[todo]] + offset
                cache[key] = (first_t, first_v)
        return replace(self, visits=merged, _cache=cache)

    def with_issues(self, issues: pd.DataFrame) -> OfficeFrames:
        """Return the same frames with other issues, sharing the visit arrays already built."""
        cache = {k: v for k, v in self._cache.items() if not k.startswith("i_")}
        return replace(self, issues=issues, _cache=cache)


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

    # -- visits: year and week slices (visits are in time order)
    ya, yb = np.searchsorted(c["v_t"], [y_lo, hi])
    wa = int(np.searchsorted(c["v_t"], w_lo))
    v_g = c["v_g"]
    yr = np.arange(ya, yb)
    yr = yr[(v_g[yr] >= 0) & in_scope[np.maximum(v_g[yr], 0)]]
    wk = yr[yr >= wa]

    def per_grid(pos: np.ndarray) -> np.ndarray:
        return np.bincount(v_g[pos], minlength=n_g)

    def per_worker(pos: np.ndarray) -> np.ndarray:
        w = c["v_w"][pos]
        return np.bincount(w[w >= 0], minlength=n_w)

    met_yr, met_wk = yr[c["v_met"][yr]], wk[c["v_met"][wk]]
    n_h = len(c["h_grid"])
    first_t, first_v = _first_met(c, y_lo, n_h)
    occupied = c["h_occupied"]
    new_year = occupied & (first_t < hi)
    new_week = new_year & (first_t >= w_lo)
    h_grid = c["h_grid"]
    hh_grid = np.bincount(h_grid[occupied & (h_grid >= 0)], minlength=n_g)
    all_hh_grid = np.bincount(h_grid[h_grid >= 0], minlength=n_g)
    new_year_g = np.bincount(h_grid[new_year & (h_grid >= 0)], minlength=n_g)
    new_week_g = np.bincount(h_grid[new_week & (h_grid >= 0)], minlength=n_g)
    fv_year = first_v[new_year & (h_grid >= 0) & in_scope[np.maximum(h_grid, 0)]]
    fv_week = first_v[new_week & (h_grid >= 0) & in_scope[np.maximum(h_grid, 0)]]

    # -- issues
    i_g = c["i_g"]
    i_ok = (i_g >= 0) & in_scope[np.maximum(i_g, 0)]
    opened, closed, overdue_from_ = c["i_open"], c["i_close"], c["i_overdue_from"]
    opened_wk = i_ok & (opened >= w_lo) & (opened < hi)
    opened_yr = i_ok & (opened >= y_lo) & (opened < hi)
    closed_wk = i_ok & (closed >= w_lo) & (closed < hi)
    closed_yr = i_ok & (closed >= y_lo) & (closed < hi)
    overdue = i_ok & (opened < hi) & (closed >= hi) & (overdue_from_ < hi)

    def issues_per_grid(mask: np.ndarray) -> np.ndarray:
        return np.bincount(i_g[mask], minlength=n_g)

    # -- anomalies
    anomalies = _anomalies(frames, c, wk, rules, cal, all_hh_grid, in_scope)
    an_g = np.bincount(gids.get_indexer(anomalies["grid_id"].to_numpy(dtype=object)), minlength=n_g)
    an_w_idx = c["worker_ids"].get_indexer(anomalies["worker_id"].dropna().to_numpy(dtype=object))
    an_w = np.bincount(an_w_idx[an_w_idx >= 0], minlength=n_w)

    # -- grid table
    names = _area_names(frames.grids, gids)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov_year = np.where(hh_grid > 0, new_year_g / np.maximum(hh_grid, 1), np.nan)
        cov_week = np.where(hh_grid > 0, new_week_g / np.maximum(hh_grid, 1), np.nan)
    grid_table = pd.DataFrame(
        {
            "grid_id": gids.to_numpy(dtype=object),
            **{k: names[k].to_numpy(dtype=object) for k in names.columns},
            "households": hh_grid,
            "visits_week": per_grid(wk),
            "visits_year": per_grid(yr),
            "met_week": per_grid(met_wk),
            "met_year": per_grid(met_yr),
            "newly_met_week": new_week_g,
            "newly_met_year": new_year_g,
            "coverage_gained_week": cov_week,
            "coverage_year": cov_year,
            "opened_week": issues_per_grid(opened_wk),
            "opened_year": issues_per_grid(opened_yr),
            "closed_week": issues_per_grid(closed_wk),
            "closed_year": issues_per_grid(closed_yr),
            "overdue": issues_per_grid(overdue),
            "anomalies_week": an_g,
        }
    )[in_scope].reset_index(drop=True)

    # -- worker table
    gw = frames.grid_workers
    pair_g = gids.get_indexer(gw["grid_id"].to_numpy(dtype=object))
    pair_w = c["worker_ids"].get_indexer(gw["worker_id"].to_numpy(dtype=object))
    ok = (pair_g >= 0) & (pair_w >= 0) & in_scope[np.maximum(pair_g, 0)]
    pair_g, pair_w = pair_g[ok], pair_w[ok]
    wl = c["i_worker_level"]

    def issues_per_worker(mask: np.ndarray) -> np.ndarray:
        per_g = issues_per_grid(mask & wl)
        return np.bincount(pair_w, weights=per_g[pair_g], minlength=n_w).astype(np.int64)

    def credited(first_visits: np.ndarray) -> np.ndarray:
        w = c["v_w"][first_visits]
        return np.bincount(w[w >= 0], minlength=n_w)

    workers = frames.workers
    committee_of = pd.Series(frames.grids["committee_id"].to_numpy(dtype=object), index=gids)
    scope_committees = set(committee_of[in_scope].tolist())
    w_scope = workers["committee_id"].isin(scope_committees).to_numpy() | np.isin(np.arange(n_w), pair_w)
    lead = gw[gw["role"] == "leader"]
    leads = lead.groupby("worker_id")["grid_id"].count()
    cnames = (
        frames.grids.drop_duplicates("committee_id").set_index("committee_id")["committee_name"]
        if "committee_name" in frames.grids
        else pd.Series(dtype=object)
    )
    worker_table = pd.DataFrame(
        {
            "worker_id": workers["worker_id"].to_numpy(dtype=object),
            "worker_name": workers["name"].to_numpy(dtype=object),
            "committee_id": workers["committee_id"].to_numpy(dtype=object),
            "committee_name": workers["committee_id"].map(cnames).to_numpy(dtype=object),
            "grids_led": leads.reindex(workers["worker_id"]).fillna(0).astype("int64").to_numpy(),
            "visits_week": per_worker(wk),
            "visits_year": per_worker(yr),
            "met_week": per_worker(met_wk),
            "met_year": per_worker(met_yr),
            "newly_met_week": credited(fv_week),
            "newly_met_year": credited(fv_year),
            "opened_week": issues_per_worker(opened_wk),
            "opened_year": issues_per_worker(opened_yr),
            "closed_week": issues_per_worker(closed_wk),
            "closed_year": issues_per_worker(closed_yr),
            "overdue": issues_per_worker(overdue),
            "anomalies_week": an_w,
        }
    )[w_scope].reset_index(drop=True)

    spots = _spot_checks(frames, c, wk, rules, week_ending)
    return WeeklyCheck(week_start, week_ending, grid_table, worker_table, anomalies, spots)


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
    t = c["v_t"][wk]
    parts: list[dict[str, Any]] = []

    def visit_rows(kind: str, pos: np.ndarray, **extra: Any) -> None:
        if len(pos):
            parts.append({"kind": kind, "pos": pos, **extra})

    end_s = rules.day_end.hour * 3600 + rules.day_end.minute * 60 + rules.day_end.second
    visit_rows("after_hours", wk[t % _DAY > end_s])
    days = (t // _DAY).astype("datetime64[D]")
    visit_rows("non_workday", wk[~cal.is_workday(days)])

    door = wk[c["v_door"][wk] & (c["v_w"][wk] >= 0)]
    order = np.lexsort((c["v_t"][door], c["v_w"][door]))
    door = door[order]
    dw, dt_ = c["v_w"][door], c["v_t"][door]
    same = dw[1:] == dw[:-1]
    gap = dt_[1:] - dt_[:-1]
    # bursts: runs of visits each within burst_gap of the previous
    link = same & (gap <= rules.burst_gap_minutes * 60)
    if len(door):
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

    n_g = len(c["grid_ids"])
    visits_g = np.bincount(c["v_g"][wk], minlength=n_g)
    over = np.flatnonzero(in_scope & (visits_g > all_hh_grid))

    gname = _area_names(frames.grids, c["grid_ids"])
    grid_names = gname["grid_name"].to_numpy(dtype=object) if "grid_name" in gname else c["grid_ids"]
    wnames = pd.Series(frames.workers["name"].to_numpy(dtype=object), index=c["worker_ids"])
    frames_out = []
    for p in parts:
        pos = p["pos"]
        k = len(pos)
        worker = c["v_worker"][pos]
        g = c["v_g"][pos]
        frames_out.append(
            pd.DataFrame(
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
        )
    if len(over):
        frames_out.append(
            pd.DataFrame(
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
        )
    if not frames_out:
        empty = pd.DataFrame({col: pd.Series(dtype=object) for col in _ANOMALY_COLUMNS})
        empty["visited_at"] = pd.Series(dtype="datetime64[s]")
        return _typed_anomalies(empty)
    out = pd.concat(frames_out, ignore_index=True)
    kind_order = {k: i for i, k in enumerate(ANOMALY_KINDS)}
    out["_k"] = out["kind"].map(kind_order)
    out = out.sort_values(["_k", "visited_at", "visit_id", "grid_id"], kind="stable").drop(columns="_k")
    return _typed_anomalies(out.reset_index(drop=True))


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
    worker = c["v_worker"][pos]
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
            "channel": c["v_channel"][pos],
        }
    )


# ------------------------------------------------------------------- store


class LiveOffice:
    """:class:`OfficeFrames` that follow the store's change counters, like :class:`geo.live.LiveCoverage`.

    A new reset version (data replaced) or another first day re-reads
    everything; a new data version appends the visits with higher ids
    (:meth:`OfficeFrames.with_new_visits`) and re-reads the issues, whose
    states change. Thread-safe.
    """

    def __init__(self, store: Store, *, scope: Scope) -> None:
        self.store = store
        self.scope = scope
        self._lock = threading.Lock()
        self._frames: OfficeFrames | None = None
        self._key: tuple[int, dt.date] | None = None
        self._data_version = -1
        self._last_visit = 0

    def current(self, start: dt.date) -> OfficeFrames:
        """Return frames with every visit since ``start`` committed so far, arrays built."""
        from geo.store import schema

        data_version, reset_version = self.store.versions()
        with self._lock:
            if self._frames is None or self._key != (reset_version, start):
                frames = office_frames_from_store(self.store, scope=self.scope, start=start)
                self._last_visit = int(frames.visits["visit_id"].max()) if len(frames.visits) else 0
            elif data_version != self._data_version:
                v = schema.visits
                new = self.store.read_table(
                    "visits",
                    scope=self.scope,
                    columns=list(VISIT_COLUMNS),
                    where=v.c.visit_id > self._last_visit,
                )
                if len(new):
                    self._last_visit = max(self._last_visit, int(new["visit_id"].max()))
                frames = self._frames.with_new_visits(new[new["visited_at"] >= pd.Timestamp(start)])
                frames = frames.with_issues(
                    self.store.read_table("issues", scope=self.scope, columns=list(frames.issues.columns))
                )
            else:
                return self._frames
            frames.arrays()
            self._frames, self._key, self._data_version = frames, (reset_version, start), data_version
            return frames


def office_frames_from_store(
    store: Store,
    *,
    scope: Scope,
    start: dt.date,
    end: dt.date | None = None,
) -> OfficeFrames:
    """Read what :func:`weekly_check` needs in ``scope``: visits from ``start`` to ``end``, and issues.

    ``end=None`` reads to the latest visit.
    Building centroids are projected to metres (:func:`geo.crs.metric_xy`).
    Issues are all read (a few per household), since an old issue can still be open.
    Every frame holds only rows in ``scope`` (areas: those with a grid in it).
    """
    from geo.crs import metric_xy
    from geo.store import schema
    from geo.store.assessment import time_param

    grids = store.read_table("grids", columns=["grid_id", "name", "committee_id"], scope=scope)
    committees = store.read_table("committees", columns=["committee_id", "name", "street_id"], scope=scope)
    streets = store.read_table("streets", columns=["street_id", "name"], scope=scope)
    cname = pd.Series(committees["name"].to_numpy(dtype=object), index=committees["committee_id"].to_numpy())
    cstreet = pd.Series(
        committees["street_id"].to_numpy(dtype=object), index=committees["committee_id"].to_numpy()
    )
    sname = pd.Series(streets["name"].to_numpy(dtype=object), index=streets["street_id"].to_numpy())
    grids["committee_name"] = grids["committee_id"].map(cname).to_numpy(dtype=object)
    grids["street_id"] = grids["committee_id"].map(cstreet).to_numpy(dtype=object)
    grids["street_name"] = grids["street_id"].map(sname).to_numpy(dtype=object)
    grids = grids.sort_values("grid_id", kind="stable").reset_index(drop=True)

    b = store.read_layer("buildings", columns=["building_id", "grid_id"], scope=scope)
    cent = shapely.centroid(b.geometry.to_numpy())
    x, y = metric_xy(shapely.get_x(cent), shapely.get_y(cent))
    buildings = pd.DataFrame(
        {
            "building_id": b["building_id"].to_numpy(dtype=object),
            "grid_id": b["grid_id"].to_numpy(dtype=object),
            "x": x,
            "y": y,
        }
    )
    hh = store.read_table(
        "households", columns=["household_id", "building_id", "occupied", "residents"], scope=scope
    )
    bgrid = pd.Series(buildings["grid_id"].to_numpy(dtype=object), index=buildings["building_id"].to_numpy())
    hh["grid_id"] = bgrid.reindex(hh["building_id"].to_numpy(dtype=object)).to_numpy(dtype=object)
    hh["occupied"] = hh["occupied"].astype(int)
    hh["residents"] = hh["residents"].astype(int)
    workers = store.read_table(
        "workers", columns=["worker_id", "name", "committee_id", "active"], scope=scope
    )
    gw = store.read_table("grid_workers", columns=["grid_id", "worker_id", "role"], scope=scope)
    v = schema.visits
    lo = dt.datetime.combine(start, dt.time())
    when = v.c.visited_at >= time_param(store, lo)
    if end is not None:
        hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
        when = when & (v.c.visited_at < time_param(store, hi))
    visits = store.read_table("visits", columns=list(VISIT_COLUMNS), where=when, scope=scope)
    issues = store.read_table(
        "issues",
        columns=["issue_id", "grid_id", "level", "status", "opened_at", "due_at", "closed_at"],
        scope=scope,
    )
    return OfficeFrames(
        grids=grids,
        households=hh,
        buildings=buildings,
        workers=workers,
        grid_workers=gw,
        visits=visits,
        issues=issues,
    )
