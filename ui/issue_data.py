"""Caching wrapper of the issues page: the issues and events of the sidebar's area."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from geo.areas import grids_in_area
from geo.figures import Figures
from geo.figures import area_figures as _area_figures
from geo.store import Scope
from geo.store import issue_log as log
from ui import auth, data
from ui.sidebar import Filters


@st.cache_data(show_spinner=False, max_entries=4)
def _issue_data(
    versions: tuple[int, int], scope: Scope, street: str | None, committee: str | None, since: dt.date
) -> tuple[pd.DataFrame, ...]:
    if committee:
        area = Scope.of(committees=[committee])
    elif street:
        area = Scope.of(streets=[street])
    else:
        area = Scope.everything()
    store = data.store()
    return log.read_issue_data(store, scope=store.narrow(scope, area), closed_since=since)


def issue_data(f: Filters) -> tuple[pd.DataFrame, ...]:
    """Return ``(issues, events)`` of the sidebar's area in the caller's scope, closed since ``f.start``.

    Cached per data version and caller's scope: a write anywhere shows on the
    next rerun, and one session's rows never reach another's.
    """
    return _issue_data(data.store().versions(), auth.scope(), f.street_id, f.committee_id, f.start)


def area_figures(f: Filters, grid_id: str | None, at: dt.datetime) -> Figures:
    """Return the figures of the page's area (a grid, else the sidebar's area, as far as the caller sees).

    The same definition as the district map's and the grid page's
    (``geo.figures``), so one fact shows one number on every screen.
    """
    layers = data.layers()
    ids = (
        [grid_id]
        if grid_id
        else list(
            grids_in_area(layers.grids, layers.committees, street_id=f.street_id, committee_id=f.committee_id)
        )
    )
    visible = auth.visible_grids()
    if visible is not None:
        ids = [g for g in ids if g in set(visible)]
    return _area_figures(data.figures_by_grid(f.start, f.end, at), ids, end=f.end, now=at)
