"""The street office's questions, one module each, each answered by pure functions over frames.

- :mod:`~geo.office.calendar` — working days (:class:`~geo.office.calendar.WorkCalendar`);
- :mod:`~geo.office.lagging` — grids below a coverage threshold, worst first;
- :mod:`~geo.office.blind_spots` — adjacent low-coverage grids merged into one area;
- :mod:`~geo.office.not_met` — occupied households not met for 12 months;
- :mod:`~geo.office.pace` — coverage so far against the pace the yearly goal needs;
- :mod:`~geo.office.chart` — the pace chart (Altair);
- :mod:`~geo.office.frames` — the frames the office reads, taking in visits and issues as they change;
- :mod:`~geo.office.weekly` — 一周一查, the weekly check and its anomaly flags.

The office frames that follow the store are :class:`geo.live_office.LiveOffice`;
the blind-spot map is :func:`geo.maps.blind_spot_map`. ``geo.uncovered``
re-exports the public names for callers written before the split.
"""

from geo.office.blind_spots import blind_spots, grid_adjacency
from geo.office.calendar import WorkCalendar
from geo.office.chart import burn_up_chart
from geo.office.frames import WORKER_LEVELS, OfficeFrames
from geo.office.lagging import DEFAULT_BELOW, lagging_grids
from geo.office.not_met import households_not_met, not_met_by_grid, not_met_households, not_met_since
from geo.office.pace import burn_up, pace, pace_from_index
from geo.office.weekly import ANOMALY_KINDS, CheckRules, WeeklyCheck, weekly_check

__all__ = [
    "ANOMALY_KINDS",
    "DEFAULT_BELOW",
    "WORKER_LEVELS",
    "CheckRules",
    "OfficeFrames",
    "WeeklyCheck",
    "WorkCalendar",
    "blind_spots",
    "burn_up",
    "burn_up_chart",
    "grid_adjacency",
    "households_not_met",
    "lagging_grids",
    "not_met_by_grid",
    "not_met_households",
    "not_met_since",
    "pace",
    "pace_from_index",
    "weekly_check",
]
