"""Today's walk for a grid or a committee: fetch what the planner needs, plan, show, record.

``walk_inputs`` / ``team_inputs`` are the only reads (scoped: a grid or
committee outside the caller's scope raises :class:`~geo.store.OutOfScope`);
``plan_grid_walk`` / ``plan_team_walk`` are pure, so the page, the ``sibai
route`` command, the benchmark and the tests share one code path. The planner
itself is :mod:`geo.route`; network distances come from :mod:`geo.paths`.
Ticking the stops after the walk records visits through
:func:`geo.visits.submit_visit`, the grid page's validated path
(:func:`record_ticks`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_xy
from geo.maps.builders import COLOURS, walk_map  # re-exported: builders live in geo.maps
from geo.paths import PathNetwork, distance_matrix_from_network, network_from_edges
from geo.privacy import mask_name
from geo.route import (
    START_LABEL,
    PriorityWeights,
    TeamPlan,
    Walk,
    plan_walk,
    priority_from_households,
    split_among_workers,
)
from geo.settings import Settings
from geo.store import OutOfScope, Scope, Store, schema
from geo.store.records import IdempotencyConflict
from geo.text import plain
from geo.visits import Problem, VisitDraft, VisitInvalid, submit_visit

__all__ = [
    "COLOURS",
    "DETOUR_FACTOR",
    "MAX_CANDIDATES",
    "TickReport",
    "WalkInputs",
    "default_duty",
    "distance_matrix",
    "door_labels",
    "plan_grid_walk",
    "plan_team_walk",
    "print_html",
    "record_ticks",
    "team_inputs",
    "team_table",
    "walk_inputs",
    "walk_map",
    "walk_outcomes",
    "walk_start",
    "walk_svg",
    "walk_table",
]


MAX_CANDIDATES = 150
"""Only the most urgent households go to the solver: an afternoon fits far fewer."""

DETOUR_FACTOR = 1.3
"""Straight line x this without an imported network (see ``docs/route.md``)."""

NETWORK_MARGIN_DEG = 0.004
"""Path segments this far (about 400 m) around the area's buildings are read for network distances."""


@dataclass(frozen=True)
class WalkInputs:
    """One area's frames for planning: a grid (``grid_id``) or a whole committee (``grid_id`` empty).

    ``buildings`` has ``building_id, name, grid_id, x, y`` (metres, EPSG:32651);
    ``footprints`` the building polygons (EPSG:4326) for maps; ``workers``
    ``worker_id, name, on_duty`` (team mode); ``network`` the imported
    walking network around the area, or None.
    """

    grid_id: str
    households: pd.DataFrame
    visits: pd.DataFrame
    issues: pd.DataFrame
    buildings: pd.DataFrame
    office_xy: tuple[float, float]
    committee_id: str = ""
    footprints: gpd.GeoDataFrame | None = None
    workers: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["worker_id", "name", "on_duty"])
    )
    network: PathNetwork | None = None


def walk_inputs(store: Store, grid_id: str, *, scope: Scope, day: dt.date | None = None) -> WalkInputs:
    """Read one grid's households, visits, issues, buildings, workers, office and walking network.

    Raises
    ------
    OutOfScope
        The grid exists but lies outside ``scope``.
    LookupError
        No grid has this id.
    """
    store.check_scope("grid", grid_id, scope=scope)
    grids = store.read_table("grids", scope=Scope.of(grids=[grid_id]), columns=["grid_id", "committee_id"])
    if grids.empty:
        raise LookupError(f"no grid with id {grid_id!r}")
    committee_id = str(grids["committee_id"].iloc[0])
    gw = store.read_table("grid_workers", scope=Scope.of(grids=[grid_id]), columns=["worker_id"])
    return _area_inputs(
        store,
        [grid_id],
        committee_id,
        grid_id=grid_id,
        worker_ids=gw["worker_id"].astype(str).tolist(),
        day=day,
    )


def team_inputs(store: Store, committee_id: str, *, scope: Scope, day: dt.date) -> WalkInputs:
    """Read a committee's grids (all of them), its active workers and who is on office duty on ``day``.

    Raises
    ------
    OutOfScope
        Some grid of the committee lies outside ``scope`` (team mode shares the
        whole committee, so the caller must see all of it).
    LookupError
        No committee has this id, or it has no grids.
    """
    g = schema.grids
    grid_ids = (
        store.read_table(
            "grids", scope=Scope.everything(), columns=["grid_id"], where=g.c.committee_id == committee_id
        )
        .loc[:, "grid_id"]
        .astype(str)
        .tolist()
    )
    if not grid_ids:
        raise LookupError(f"no committee with id {committee_id!r} (or it has no grids)")
    allowed = store.grid_ids(scope)
    if allowed is not None and not set(grid_ids) <= set(allowed):
        raise OutOfScope("committee", committee_id)
    w = schema.workers
    workers = store.read_table(
        "workers",
        scope=Scope.of(committees=[committee_id]),
        columns=["worker_id"],
        where=(w.c.committee_id == committee_id) & (w.c.active == 1),
    )
    return _area_inputs(
        store,
        sorted(grid_ids),
        committee_id,
        grid_id="",
        worker_ids=workers["worker_id"].astype(str).tolist(),
        day=day,
    )


def _area_inputs(
    store: Store,
    grid_ids: list[str],
    committee_id: str,
    *,
    grid_id: str,
    worker_ids: list[str],
    day: dt.date | None,
) -> WalkInputs:
    area = Scope.of(grids=grid_ids)
    b = store.read_layer("buildings", scope=area, columns=["building_id", "name", "grid_id"])
    pts = shapely.centroid(b.geometry.to_numpy())
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    x, y = metric_xy(lon, lat)
    buildings = pd.DataFrame(
        {"building_id": b["building_id"], "name": b["name"], "grid_id": b["grid_id"], "x": x, "y": y}
    )
    office_lonlat = _office_lonlat(store, committee_id)
    if office_lonlat is not None:
        ox, oy = metric_xy([office_lonlat[0]], [office_lonlat[1]])
        office_xy = (float(ox[0]), float(oy[0]))
    else:
        office_xy = (float(np.mean(x)), float(np.mean(y))) if len(x) else (0.0, 0.0)
    return WalkInputs(
        grid_id=grid_id,
        households=_with_masked_head(
            store.read_table(
                "households",
                scope=area,
                columns=["household_id", "building_id", "unit", "head_name", "occupied", "residents", "tags"],
            )
        ),
        visits=store.read_table(
            "visits", scope=area, columns=["household_id", "worker_id", "visited_at", "outcome"]
        ),
        issues=store.read_table("issues", scope=area, columns=["household_id", "status"]),
        buildings=buildings,
        office_xy=office_xy,
        committee_id=committee_id,
        footprints=b[["building_id", "name", "geometry"]],
        workers=_walk_workers(store, committee_id, worker_ids, day),
        network=_area_network(store, b, office_lonlat),
    )


def _office_lonlat(store: Store, committee_id: str) -> tuple[float, float] | None:
    """Return where the committee's office is (longitude, latitude), if the database knows."""
    office = store.read_table(
        "committees",
        scope=Scope.of(committees=[committee_id]),
        columns=["committee_id", "office_lon", "office_lat"],
    ).set_index("committee_id")
    if committee_id in office.index and pd.notna(office.loc[committee_id, "office_lon"]):
        return float(office.loc[committee_id, "office_lon"]), float(office.loc[committee_id, "office_lat"])
    return None


def _walk_workers(
    store: Store, committee_id: str, worker_ids: list[str], day: dt.date | None
) -> pd.DataFrame:
    """Return ``worker_id, name, on_duty`` of the active ``worker_ids``; on duty by ``day``'s rota."""
    from geo.store.walking import read_duty

    names = store.read_table(
        "workers", scope=Scope.of(committees=[committee_id]), columns=["worker_id", "name", "active"]
    )
    names = names[names["worker_id"].astype(str).isin(worker_ids) & (names["active"].astype(int) == 1)]
    ids = sorted(names["worker_id"].astype(str))
    duty = None
    if day is not None:
        duty = read_duty(store, committee_id, day) or default_duty(
            store.read_table(
                "workers",
                scope=Scope.of(committees=[committee_id]),
                columns=["worker_id"],
                where=(schema.workers.c.committee_id == committee_id) & (schema.workers.c.active == 1),
            )["worker_id"]
            .astype(str)
            .tolist(),
            day,
        )
    return pd.DataFrame(
        {
            "worker_id": ids,
            "name": [str(n) for n in names.set_index("worker_id").loc[ids, "name"]] if ids else [],
            "on_duty": [w == duty for w in ids],
        }
    )


def _area_network(
    store: Store, buildings: gpd.GeoDataFrame, office_lonlat: tuple[float, float] | None
) -> PathNetwork | None:
    """Return the footpath network around the buildings and the office, if one was imported."""
    from geo.store.walking import read_path_edges

    if not len(buildings):
        return None
    x0, y0, x1, y1 = buildings.total_bounds
    if office_lonlat is not None:
        x0, x1 = min(x0, office_lonlat[0]), max(x1, office_lonlat[0])
        y0, y1 = min(y0, office_lonlat[1]), max(y1, office_lonlat[1])
    m = NETWORK_MARGIN_DEG
    edges = read_path_edges(store, bbox=(x0 - m, y0 - m, x1 + m, y1 + m))
    return network_from_edges(edges) if len(edges) else None


def _with_masked_head(households: pd.DataFrame) -> pd.DataFrame:
    """Replace ``head_name`` by its mask (``head``): a walk's frames never hold a full name."""
    out = households.drop(columns=["head_name"])
    out["head"] = [mask_name(n) for n in households["head_name"]]
    return out


def door_labels(inputs: WalkInputs) -> dict[str, str]:
    """Return, per household id, what tells its door on a landing: room, masked head, id.

    The building is the stop's own heading; the id stays last so that two
    doors with the same room and initials can still be told apart.

    Examples
    --------
    >>> hh = pd.DataFrame({"household_id": ["H1", "H2"], "unit": ["3-602", None], "head": ["王*华", ""]})
    >>> door_labels(WalkInputs("G1", hh, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), (0.0, 0.0)))
    {'H1': '3-602 · 王*华 · H1', 'H2': 'H2'}
    """
    hh = inputs.households
    units = hh["unit"] if "unit" in hh.columns else pd.Series("", index=hh.index)
    heads = hh["head"] if "head" in hh.columns else pd.Series("", index=hh.index)
    out: dict[str, str] = {}
    for h, unit, head in zip(hh["household_id"].astype(str), units, heads, strict=True):
        parts = [str(v) for v in (unit, head) if isinstance(v, str) and v.strip()]
        out[h] = " · ".join([*parts, h])
    return out


@dataclass(frozen=True)
class WalkStart:
    """When a walk is planned from, and whether today's visiting window has already closed."""

    start: dt.time
    closed: bool


def walk_start(
    now: dt.datetime,
    day: dt.date,
    *,
    day_start: str,
    day_end: str,
    usual: str = Settings.walk_start,
    step_minutes: int = 15,
) -> WalkStart:
    """Return the start time to plan ``day``'s walk from, given the local time ``now``.

    Today: now rounded up to ``step_minutes``, never before ``day_start``;
    once that reaches ``day_end`` the window has closed, and the walk is the
    one planned from ``usual`` (what the worker walked, to tick afterwards).
    Another day (one chosen to plan ahead, or to look back at): ``usual``,
    clipped to the working day, and nothing to say about the clock.

    Examples
    --------
    >>> walk_start(dt.datetime(2026, 12, 7, 13, 46), dt.date(2026, 12, 7), day_start="08:30", day_end="15:30")
    WalkStart(start=datetime.time(14, 0), closed=False)
    >>> walk_start(dt.datetime(2026, 12, 7, 7, 2), dt.date(2026, 12, 7), day_start="08:30", day_end="15:30")
    WalkStart(start=datetime.time(8, 30), closed=False)
    >>> walk_start(dt.datetime(2026, 12, 7, 15, 20), dt.date(2026, 12, 7), day_start="08:30", day_end="15:30")
    WalkStart(start=datetime.time(13, 0), closed=True)
    """
    first, last = dt.time.fromisoformat(day_start), dt.time.fromisoformat(day_end)
    normal = min(max(dt.time.fromisoformat(usual), first), last)
    if day != now.date():
        return WalkStart(normal, closed=False)
    minutes = now.hour * 60 + now.minute + (1 if now.second or now.microsecond else 0)
    minutes = -(-minutes // step_minutes) * step_minutes
    if minutes >= last.hour * 60 + last.minute:
        return WalkStart(normal, closed=True)
    rounded = dt.time(minutes // 60, minutes % 60)
    return WalkStart(max(rounded, first), closed=False)


def default_duty(worker_ids: Sequence[str], day: dt.date) -> str | None:
    """Return who is on office duty when the rota says nothing: a rotation over workdays.

    The committee's active workers sorted by id take turns, one per workday
    (Monday to Friday), counted from Monday 3 January 2000; weekends do not
    advance the turn (a Saturday shows the coming Monday's). None when there
    are no workers.

    Examples
    --------
    >>> [default_duty(["W2", "W1", "W3"], dt.date(2026, 11, d)) for d in (23, 24, 25, 28, 30)]
    ['W2', 'W3', 'W1', 'W1', 'W1']
    """
    ids = sorted(str(w) for w in worker_ids)
    if not ids:
        return None
    turn = int(np.busday_count(dt.date(2000, 1, 3), day))
    return ids[turn % len(ids)]


def distance_matrix(
    inputs: WalkInputs, building_ids: Sequence[str], *, detour_factor: float = DETOUR_FACTOR
) -> pd.DataFrame | None:
    """Return network walking metres between the office and ``building_ids``, or None without a network."""
    if inputs.network is None or inputs.network.nodes == 0:
        return None
    pts = (
        inputs.buildings.drop_duplicates("building_id")
        .set_index("building_id")
        .loc[list(building_ids), ["x", "y"]]
    )
    start = pd.DataFrame({"x": [inputs.office_xy[0]], "y": [inputs.office_xy[1]]}, index=[START_LABEL])
    return distance_matrix_from_network(inputs.network, pd.concat([start, pts]), detour_factor=detour_factor)


def _priority(inputs: WalkInputs, on: dt.date, weights: PriorityWeights | None) -> pd.DataFrame:
    hh = inputs.households.copy()
    hh["occupied"] = hh["occupied"].astype(int)
    visits = inputs.visits[["household_id", "visited_at", "outcome"]]
    prio = priority_from_households(hh, visits, inputs.issues, on=on, weights=weights)
    return prio.sort_values(["priority", "household_id"], ascending=[False, True]).reset_index(drop=True)


def plan_grid_walk(
    inputs: WalkInputs,
    *,
    on: dt.date,
    start: str = Settings.walk_start,
    end: str = Settings.day_end,
    minutes_per_visit: float = 8,
    time_limit_s: float = 1.0,
    weights: PriorityWeights | None = None,
) -> tuple[Walk, pd.DataFrame]:
    """Plan one worker's walk; return it and the priority table of the area's households.

    The priority table has one row per occupied household (vacant ones are never
    visited) with ``priority`` and ``reason``; the walk takes the most urgent
    :data:`MAX_CANDIDATES` as candidates. Distances run along the imported
    network when there is one, else straight line x :data:`DETOUR_FACTOR`.
    """
    prio = _priority(inputs, on, weights)
    cand = prio.head(MAX_CANDIDATES).merge(inputs.buildings[["building_id", "x", "y"]], on="building_id")
    walk = plan_walk(
        cand[["household_id", "building_id", "x", "y", "priority"]],
        start_xy=inputs.office_xy,
        start=start,
        end=end,
        minutes_per_visit=minutes_per_visit,
        detour_factor=DETOUR_FACTOR,
        distance_matrix=distance_matrix(inputs, sorted(set(cand["building_id"]))),
        time_limit_s=time_limit_s,
    )
    return walk, prio


def plan_team_walk(
    inputs: WalkInputs,
    *,
    on: dt.date,
    start: str = Settings.walk_start,
    end: str = Settings.day_end,
    minutes_per_visit: float = 8,
    time_limit_s: float = 2.5,
    weights: PriorityWeights | None = None,
) -> tuple[TeamPlan, pd.DataFrame]:
    """Share the area's due households among its workers (分片包干); the on-duty worker stays in.

    Every occupied household is a candidate; :func:`geo.route.split_among_workers`
    balances compact areas and plans each walk. Returns the plan and the
    priority table.
    """
    prio = _priority(inputs, on, weights)
    stops = prio.merge(inputs.buildings[["building_id", "x", "y"]], on="building_id")
    plan = split_among_workers(
        stops[["household_id", "building_id", "x", "y", "priority"]],
        inputs.workers[["worker_id", "on_duty"]],
        start_xy=inputs.office_xy,
        start=start,
        end=end,
        minutes_per_visit=minutes_per_visit,
        detour_factor=DETOUR_FACTOR,
        distance_matrix=distance_matrix(inputs, sorted(set(stops["building_id"]))),
        time_limit_s=time_limit_s,
    )
    return plan, prio


# --------------------------------------------------------------------------- tables


def walk_outcomes(inputs: WalkInputs, on: dt.date) -> dict[str, str]:
    """Return the latest outcome recorded on day ``on`` per household (what ticking recorded)."""
    v = inputs.visits
    if v.empty:
        return {}
    day = pd.to_datetime(v["visited_at"]).dt.normalize() == pd.Timestamp(on)
    latest = v.loc[day].sort_values("visited_at", kind="stable").groupby("household_id")["outcome"].last()
    return {str(k): str(x) for k, x in latest.items()}


def walk_table(walk: Walk, inputs: WalkInputs, *, on: dt.date | None = None) -> pd.DataFrame:
    """Return the printable stop list: order, building, arrive, leave, households, metres walked.

    With ``on``, a column ``done`` counts the stop's households with a visit
    recorded that day (``"2/3"``).
    """
    names = inputs.buildings.drop_duplicates("building_id").set_index("building_id")["name"]
    out = pd.DataFrame(
        {
            "order": walk.stops["order"].to_numpy(),
            "building": [str(names.get(b, b)) for b in walk.stops["building_id"]],
            "arrive": walk.stops["arrive"].to_numpy(),
            "leave": walk.stops["leave"].to_numpy(),
            "households": [len(ids) for ids in walk.stops["household_ids"]],
            "walk_m": walk.stops["walk_m"].round().astype(int).to_numpy(),
            "household_ids": [" ".join(ids) for ids in walk.stops["household_ids"]],
        }
    )
    if on is not None:
        done = walk_outcomes(inputs, on)
        out.insert(
            5, "done", [f"{sum(h in done for h in ids)}/{len(ids)}" for ids in walk.stops["household_ids"]]
        )
    return out


def team_table(plan: TeamPlan, inputs: WalkInputs, *, on: dt.date | None = None) -> pd.DataFrame:
    """Return every walking worker's stop list in one frame, with ``worker_id`` and ``worker`` first."""
    names = dict(zip(inputs.workers["worker_id"], inputs.workers["name"], strict=True))
    frames = [
        walk_table(walk, inputs, on=on).assign(worker_id=w, worker=names.get(w, w))
        for w, walk in plan.walks.items()
        if w not in plan.on_duty and len(walk.stops)
    ]
    if not frames:
        return walk_table(_no_walk(), inputs, on=on).assign(worker_id="", worker="").iloc[:0]
    out = pd.concat(frames, ignore_index=True)
    return out[["worker_id", "worker", *[c for c in out.columns if c not in ("worker_id", "worker")]]]


def _no_walk() -> Walk:
    from geo.route import _empty_stops

    return Walk(_empty_stops(), 0.0, 0.0, [])


# --------------------------------------------------------------------------- maps


def walk_svg(walks: Walk | Mapping[str, Walk], inputs: WalkInputs, *, width: int = 640) -> str:
    """Return a static SVG map (footprints, paths, numbered stops) for printing: no script, no tiles.

    Examples
    --------
    >>> inputs = WalkInputs("G1", pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
    ...     pd.DataFrame({"building_id": ["B1"], "name": ["1号楼"], "grid_id": ["G1"],
    ...                   "x": [100.0], "y": [50.0]}), (0.0, 0.0))
    >>> stops = pd.DataFrame({"order": [1], "building_id": ["B1"], "household_ids": [["H1"]]})
    >>> svg = walk_svg(Walk(stops, 112.0, 1.6, []), inputs)
    >>> svg.startswith("<svg") and svg.count("<circle") == 2
    True
    """
    named = {"": walks} if isinstance(walks, Walk) else dict(walks)
    pts = inputs.buildings.drop_duplicates("building_id").set_index("building_id")
    xs, ys = [inputs.office_xy[0]], [inputs.office_xy[1]]
    for w in named.values():
        xs += pts.loc[w.stops["building_id"], "x"].tolist()
        ys += pts.loc[w.stops["building_id"], "y"].tolist()
    polys: list[np.ndarray] = []
    if inputs.footprints is not None and len(inputs.footprints):
        for geom in shapely.get_parts(inputs.footprints.geometry.to_numpy()):
            ring = shapely.get_coordinates(shapely.get_exterior_ring(geom))
            x, y = metric_xy(ring[:, 0], ring[:, 1])
            polys.append(np.column_stack([x, y]))
    # The whole area shows (its footprints), not only the stops: context for finding the doors.
    for ring in polys:
        xs += [float(ring[:, 0].min()), float(ring[:, 0].max())]
        ys += [float(ring[:, 1].min()), float(ring[:, 1].max())]
    x0, x1 = min(xs) - 30, max(xs) + 30
    y0, y1 = min(ys) - 30, max(ys) + 30
    span = max(x1 - x0, y1 - y0, 1.0)
    scale = width / span
    height = int((y1 - y0) * scale) + 1

    def px(x: float, y: float) -> str:
        return f"{(x - x0) * scale:.1f},{(y1 - y) * scale:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{int((x1 - x0) * scale) + 1}" height="{height}" '
        f'viewBox="0 0 {int((x1 - x0) * scale) + 1} {height}" font-family="sans-serif">'
    ]
    for ring in polys:
        pts_text = " ".join(px(a, b) for a, b in ring)
        parts.append(f'<polygon points="{pts_text}" fill="#e0e0e0" stroke="#9e9e9e" stroke-width="1"/>')
    for i, w in enumerate(named.values()):
        colour = COLOURS[i % len(COLOURS)]
        at = pts.loc[w.stops["building_id"]]
        path = [inputs.office_xy, *zip(at["x"], at["y"], strict=True)]
        if len(path) > 1:
            line = " ".join(px(a, b) for a, b in path)
            parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for n, (a, b) in enumerate(path[1:], start=1):
            cx, cy = px(a, b).split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="9" fill="{colour}"/>')
            parts.append(
                f'<text x="{cx}" y="{float(cy) + 4:.1f}" font-size="11" font-weight="bold" '
                f'text-anchor="middle" fill="#fff">{n}</text>'
            )
    ox, oy = px(*inputs.office_xy).split(",")
    parts.append(f'<circle cx="{ox}" cy="{oy}" r="6" fill="#1a1a1a"/>')
    parts.append("</svg>")
    return "".join(parts)


PRINT_CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 16px; color: #111; }
h1 { font-size: 20px; margin: 0 0 4px; } p.sub { margin: 0 0 12px; color: #444; }
svg { max-width: 100%; height: auto; border: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; margin-top: 12px; font-size: 13px; }
th, td { border: 1px solid #999; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #eee; } h2 { font-size: 16px; margin: 18px 0 4px; }
.noprint { margin-bottom: 12px; }
@media print { .noprint { display: none; } body { margin: 0; } h2 { break-before: auto; }
  tr { break-inside: avoid; } svg { max-height: 60vh; } }
"""
"""Style of the printable page: readable on paper, the print button hidden when printing."""


def print_html(title: str, subtitle: str, sections: Sequence[tuple[str, pd.DataFrame]], svg: str) -> str:
    """Return a self-contained printable HTML page: title, the SVG map, one table per section.

    No external resources (fonts, scripts, styles are inline), so it prints
    and saves offline.

    Examples
    --------
    >>> page = print_html("今日走访", "2026-11-26", [("", pd.DataFrame({"a": [1]}))], "<svg></svg>")
    >>> "<table" in page and "@media print" in page and "http" not in page.replace("http://www.w3.org", "")
    True
    """
    body = [
        f"<h1>{plain(title)}</h1>",
        f'<p class="sub">{plain(subtitle)}</p>',
        '<p class="noprint"><button onclick="window.print()">🖨 Print / 打印</button></p>',
        svg,
    ]
    for heading, table in sections:
        if heading:
            body.append(f"<h2>{plain(heading)}</h2>")
        body.append(table.to_html(index=False, escape=True, border=0))
    return (
        f'<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>{plain(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{PRINT_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )


# --------------------------------------------------------------------------- ticking


@dataclass(frozen=True)
class TickReport:
    """What :func:`record_ticks` did, per household."""

    saved: dict[str, int]
    """Household id -> new visit id."""
    repeated: dict[str, int]
    """Household id -> visit id already recorded by this form (a double submit)."""
    problems: dict[str, list[Problem]]
    """Household id -> why nothing was recorded for it."""


def planned_times(walk: Walk, day: dt.date) -> dict[str, dt.datetime]:
    """Return when the walk planned to be at each household's door (its turn within the stop)."""
    out: dict[str, dt.datetime] = {}
    midnight = dt.datetime.combine(day, dt.time())
    for row in walk.stops.itertuples(index=False):
        ids = list(row.household_ids)
        each = float(row.visit_min) / max(1, len(ids))
        for i, h in enumerate(ids):
            out[str(h)] = (midnight + dt.timedelta(minutes=float(row.arrive_min) + i * each)).replace(
                second=0, microsecond=0
            )
    return out


def record_ticks(
    store: Store,
    walk: Walk,
    ticks: Mapping[str, str | None],
    *,
    day: dt.date,
    worker_id: str,
    nonce: str,
    now: dt.datetime,
    scope: Scope,
    known_workers: set[str] | None = None,
) -> TickReport:
    """Record the outcome ticked for each household of ``walk`` after the walk.

    Each ticked household (``ticks``: household id -> outcome, ``None`` or
    ``""`` for "not ticked") becomes a door visit by ``worker_id`` at its
    planned time on ``day`` (``now`` if that is later today; a day ahead is
    refused as in the future), validated and
    stored by :func:`geo.visits.submit_visit` like the grid page's form. The
    idempotency key is ``walk:<nonce>:<household>:<outcome>``: submitting
    the same form twice records each visit once. A household not on the walk
    is refused, and so is one outside ``scope`` (the caller's area).
    """
    times = planned_times(walk, day)
    report = TickReport({}, {}, {})
    for household_id, outcome in ticks.items():
        if not outcome:
            continue
        if household_id not in times:
            report.problems[household_id] = [Problem("household", "household_unknown", {"id": household_id})]
            continue
        when = times[household_id]
        if when > now and when.date() == now.date():
            when = now  # ticked before its planned time today: it happened by now
        draft = VisitDraft(household_id, worker_id, when, outcome, "door", "")
        try:
            done = submit_visit(
                store,
                draft,
                scope=scope,
                idem_key=f"walk:{nonce}:{household_id}:{outcome}",
                now=now,
                known_households=set(times),
                known_workers=known_workers,
            )
        except VisitInvalid as exc:
            report.problems[household_id] = exc.problems
            continue
        except IdempotencyConflict as exc:
            # Same form, same outcome, submitted again at a later minute: already recorded.
            report.repeated[household_id] = exc.visit_id
            continue
        (report.saved if done.created else report.repeated)[household_id] = done.visit_id
    return report
