"""Where the visits are not happening: the names of the street office's checks, re-exported.

The code lives in :mod:`geo.office` (one module per question: calendar,
lagging, blind spots, not met, pace, the pace chart, the weekly check),
:mod:`geo.live_office` (office frames that follow the store) and
:func:`geo.maps.blind_spot_map`. This module keeps ``from geo.uncovered
import ...`` working for callers written before the split; new code imports
from those modules.
"""

from __future__ import annotations

from geo.live_office import LiveOffice, office_frames_from_store
from geo.maps.builders import blind_spot_map
from geo.office import (
    ANOMALY_KINDS,
    DEFAULT_BELOW,
    WORKER_LEVELS,
    CheckRules,
    OfficeFrames,
    WeeklyCheck,
    WorkCalendar,
    blind_spots,
    burn_up,
    burn_up_chart,
    grid_adjacency,
    households_not_met,
    lagging_grids,
    not_met_by_grid,
    not_met_households,
    not_met_since,
    pace,
    pace_from_index,
    weekly_check,
)

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
