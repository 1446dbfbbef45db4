"""The district-map component: declared once, geometry written once per data version.

The component's folder (built by :func:`geo.maps.build_assets`) holds Leaflet,
our map code and the grid geometry as a static JSON file that the browser
fetches once and caches; reruns send only the small style object.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import streamlit as st
import streamlit.components.v1 as components

from geo import crs, maps
from ui import data


@st.cache_resource(show_spinner=False)
def _component() -> Any:
    folder = maps.build_assets()
    return components.declare_component("sibai_gridmap", path=str(folder))


@dataclass(frozen=True)
class Geometry:
    """The geometry file the browser loads, and the ids in its order."""

    path: str
    grid_ids: list[str]
    hash: str


@st.cache_resource(show_spinner=False, max_entries=4)
def _geometry(reset_version: int, gcj02: bool) -> Geometry:
    layers = data.layers()
    grids, streets, committees = layers.grids, layers.streets, layers.committees
    if gcj02:
        # AMap tiles are in GCJ-02: draw a shifted copy, never store it.
        grids, streets, committees = (crs.to_gcj02(f) for f in (grids, streets, committees))
    payload = maps.geometry_payload(grids, streets=streets, committees=committees)
    path = maps.write_geometry(payload, maps.build_assets())
    return Geometry(path=path, grid_ids=list(payload["grids"]["id"]), hash=str(payload["hash"]))


def geometry(*, basemap: str = "none") -> Geometry:
    """Return the geometry for ``basemap`` (rebuilt only when data is replaced)."""
    return _geometry(data.store().versions()[1], basemap == "amap")


def view_for(bounds: tuple[float, float, float, float] | None, *, basemap: str) -> tuple[float, ...] | None:
    """Return focus bounds in the basemap's coordinates."""
    if bounds is None or basemap != "amap":
        return bounds
    lon, lat = crs.gcj02_from_wgs84([bounds[0], bounds[2]], [bounds[1], bounds[3]])
    return float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1])


def tianditu_key() -> str | None:
    """Return the Tianditu key from the environment or secrets, if any."""
    key = os.environ.get("SIBAI_TIANDITU_KEY")
    if key:
        return key
    try:
        return str(st.secrets["tianditu_key"])
    except (KeyError, FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return None


def new_click(key: str) -> str | None:
    """Return the grid of a click on the map under ``key`` not handled before, and mark it handled.

    The component's value stays under its key across reruns, so each click
    carries an id that is unique across frames (``gridmap.js``); the id
    handled last is kept beside it. A counter alone restarted at 1 in the new
    frame that every return to the map opens, and the first click there was
    taken for one already handled.
    """
    value = st.session_state.get(key)
    if not isinstance(value, dict) or not value.get("grid") or not value.get("click"):
        return None
    handled = f"{key}.handled"
    if st.session_state.get(handled) == value["click"]:
        return None
    st.session_state[handled] = value["click"]
    return str(value["grid"])


def show(args: dict[str, Any], *, key: str) -> dict[str, Any] | None:
    """Draw the component with ``args`` (from :func:`geo.maps.gridmap_args`); return its last click."""
    value = _component()(**args, key=key, default=None)
    return value if isinstance(value, dict) else None
