"""Today's walk for one grid: fetch what the planner needs from the store, then plan.

``walk_inputs`` is the only I/O (scoped reads of one grid); ``plan_grid_walk``
is pure, so the page, the ``sibai route`` command, the benchmark and the tests
share one code path. The planner itself is :mod:`geo.route`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import folium
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_xy
from geo.route import PriorityWeights, Walk, plan_walk, priority_from_households
from geo.store import Scope, Store

STOP_STYLE = (
    "background:#c0392b;color:#fff;border-radius:50%;width:22px;height:22px;"
    "line-height:22px;text-align:center;font:bold 12px sans-serif"
)
"""A numbered stop marker: plain HTML, no icon font from a CDN."""

MAX_CANDIDATES = 150
"""Only the most urgent households go to the solver: an afternoon fits far fewer."""


@dataclass(frozen=True)
class WalkInputs:
    """One grid's frames for planning: households, visits, issues, buildings, office."""

    grid_id: str
    households: pd.DataFrame
    visits: pd.DataFrame
    issues: pd.DataFrame
    buildings: pd.DataFrame
    office_xy: tuple[float, float]


def walk_inputs(store: Store, grid_id: str) -> WalkInputs:
    """Read one grid's households, visits, issues, building points and committee office."""
    scope = Scope.of(grids=[grid_id])
    grids = store.read_table("grids", scope=scope, columns=["grid_id", "committee_id"])
    if grids.empty:
        raise LookupError(f"no grid with id {grid_id!r}")
    committee_id = str(grids["committee_id"].iloc[0])
    b = store.read_layer("buildings", scope=scope, columns=["building_id", "name"])
    pts = shapely.centroid(b.geometry.to_numpy())
    x, y = metric_xy(shapely.get_x(pts), shapely.get_y(pts))
    buildings = pd.DataFrame({"building_id": b["building_id"], "name": b["name"], "x": x, "y": y})
    office = store.read_table(
        "committees", scope=scope, columns=["committee_id", "office_lon", "office_lat"]
    ).set_index("committee_id")
    if committee_id in office.index and pd.notna(office.loc[committee_id, "office_lon"]):
        ox, oy = metric_xy([office.loc[committee_id, "office_lon"]], [office.loc[committee_id, "office_lat"]])
        office_xy = (float(ox[0]), float(oy[0]))
    else:
        office_xy = (float(np.mean(x)), float(np.mean(y)))
    return WalkInputs(
        grid_id=grid_id,
        households=store.read_table(
            "households",
            scope=scope,
            columns=["household_id", "building_id", "occupied", "residents", "tags"],
        ),
        visits=store.read_table("visits", scope=scope, columns=["household_id", "visited_at", "outcome"]),
        issues=store.read_table("issues", scope=scope, columns=["household_id", "status"]),
        buildings=buildings,
        office_xy=office_xy,
    )


def plan_grid_walk(
    inputs: WalkInputs,
    *,
    on: dt.date,
    start: str = "13:00",
    end: str = "15:30",
    minutes_per_visit: float = 8,
    time_limit_s: float = 1.0,
    weights: PriorityWeights | None = None,
) -> tuple[Walk, pd.DataFrame]:
    """Plan the walk; return it and the priority table of the grid's households.

    The priority table has one row per occupied household (vacant ones are never
    visited) with ``priority`` and ``reason``; the walk takes the most urgent
    :data:`MAX_CANDIDATES` as candidates.
    """
    hh = inputs.households.copy()
    hh["occupied"] = hh["occupied"].astype(int)
    prio = priority_from_households(hh, inputs.visits, inputs.issues, on=on, weights=weights)
    prio = prio.sort_values(["priority", "household_id"], ascending=[False, True])
    cand = prio.head(MAX_CANDIDATES).merge(inputs.buildings[["building_id", "x", "y"]], on="building_id")
    walk = plan_walk(
        cand[["household_id", "building_id", "x", "y", "priority"]],
        start_xy=inputs.office_xy,
        start=start,
        end=end,
        minutes_per_visit=minutes_per_visit,
        time_limit_s=time_limit_s,
    )
    return walk, prio.reset_index(drop=True)


def walk_table(walk: Walk, inputs: WalkInputs) -> pd.DataFrame:
    """Return the printable stop list: order, building name, arrive, leave, households, metres walked."""
    names = inputs.buildings.set_index("building_id")["name"]
    return pd.DataFrame(
        {
            "order": walk.stops["order"].to_numpy(),
            "building": [str(names.get(b, b)) for b in walk.stops["building_id"]],
            "arrive": walk.stops["arrive"].to_numpy(),
            "leave": walk.stops["leave"].to_numpy(),
            "households": [len(ids) for ids in walk.stops["household_ids"]],
            "walk_m": walk.stops["walk_m"].round().astype(int).to_numpy(),
        }
    )


def walk_map(walk: Walk, inputs: WalkInputs, *, assets: str = "inline") -> folium.Map:
    """Return an offline map of the walk: the office, numbered stops and the path between them."""
    from geo.crs import lonlat_from_metric
    from geo.maps import offline_map

    pts = inputs.buildings.set_index("building_id").loc[walk.stops["building_id"], ["x", "y"]]
    xs = [inputs.office_xy[0], *pts["x"].tolist()]
    ys = [inputs.office_xy[1], *pts["y"].tolist()]
    lon, lat = lonlat_from_metric(xs, ys)
    m = offline_map(location=(float(np.mean(lat)), float(np.mean(lon))), zoom_start=17, assets=assets)
    path = [(float(a), float(b)) for a, b in zip(lat, lon, strict=True)]
    folium.PolyLine(path, color="#c0392b", weight=3, opacity=0.8).add_to(m)
    folium.CircleMarker(path[0], radius=7, color="#1a1a1a", fill=True, fill_opacity=1.0).add_to(m)
    for i, (la, lo) in enumerate(path[1:], start=1):
        folium.Marker(
            (la, lo),
            icon=folium.DivIcon(
                html=f'<div class="sibai-stop" style="{STOP_STYLE}">{i}</div>',
                icon_size=(22, 22),
                icon_anchor=(11, 11),
            ),
        ).add_to(m)
    if len(path) > 1:
        m.fit_bounds([[min(lat), min(lon)], [max(lat), max(lon)]])
    return m
