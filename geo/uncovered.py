"""Where the visits are not happening: the names of the street office's checks, re-exported.

The code lives in :mod:`geo.office` (one module per question: calendar,
lagging, blind spots, not met, pace, the pace chart, the weekly check),
:mod:`geo.live_office` (office frames that follow the store) and
:func:`geo.maps.blind_spot_map`. This module keeps ``from geo.uncovered
import ...`` working for callers written before the split; new code imports
from those modules.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from geo import live_office, office
from geo.maps import builders

_HOMES: dict[str, ModuleType] = {
    **dict.fromkeys(office.__all__, office),
    "LiveOffice": live_office,
    "office_frames_from_store": live_office,
    "blind_spot_map": builders,
}

__all__ = sorted(_HOMES)  # served by __getattr__ below


def __getattr__(name: str) -> Any:
    """Return a name from its new home (PEP 562), so ``from geo.uncovered import X`` keeps working."""
    try:
        return getattr(_HOMES[name], name)
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
