"""Working days (weekends and public holidays) and the day arithmetic the office's checks share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

_DAY = 86_400
_FAR = np.iinfo(np.int64).max


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
