"""Caching wrappers and labels for the today's-walk page."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from geo.areas import grids_in_area
from geo.route import Walk
from geo.walks import WalkInputs, plan_grid_walk, walk_inputs
from ui import data
from ui.grid_data import leaflet_assets as leaflet_assets  # one served copy of Leaflet for st_folium
from ui.i18n import lang
from ui.sidebar import Filters

LABELS = {
    "order": ("顺序", "Stop"),
    "building": ("楼栋", "Building"),
    "arrive": ("到达", "Arrive"),
    "leave": ("离开", "Leave"),
    "households": ("户数", "Households"),
    "walk_m": ("步行(米)", "Walk (m)"),
    "household_id": ("户号", "Household"),
    "priority": ("优先级", "Priority"),
    "reason": ("原因", "Reason"),
}


def grids_in_view(f: Filters) -> pd.DataFrame:
    """Return the grids of the sidebar's area (all grids when none is chosen)."""
    layers = data.layers()
    ids = set(
        grids_in_area(layers.grids, layers.committees, street_id=f.street_id, committee_id=f.committee_id)
    )
    return layers.grids[layers.grids["grid_id"].isin(ids)][["grid_id", "name"]]


def clock(text: str) -> dt.time:
    """Parse ``HH:MM``."""
    return dt.time.fromisoformat(text)


@st.cache_data(show_spinner=False, max_entries=64)
def _plan(
    grid_id: str, day: dt.date, start: str, end: str, minutes: float, version: int
) -> tuple[WalkInputs, Walk, pd.DataFrame]:
    inputs = walk_inputs(data.store(), grid_id)
    walk, priority = plan_grid_walk(inputs, on=day, start=start, end=end, minutes_per_visit=minutes)
    return inputs, walk, priority


def plan(
    grid_id: str, day: dt.date, start: str, end: str, minutes: float
) -> tuple[WalkInputs, Walk, pd.DataFrame]:
    """Plan (about a second), cached until the data changes."""
    return _plan(grid_id, day, start, end, minutes, data.store().versions()[0])


def localised(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename columns into the UI language."""
    i = 1 if lang() == "en" else 0
    return frame.rename(columns={k: v[i] for k, v in LABELS.items()})
