"""Named reporting periods: this week, this month, this quarter, year to date, custom.

Examples
--------
>>> period_range("month", today=dt.date(2026, 11, 26))
(datetime.date(2026, 11, 1), datetime.date(2026, 11, 26))
>>> period_range("quarter", today=dt.date(2026, 11, 26))
(datetime.date(2026, 10, 1), datetime.date(2026, 11, 26))
>>> period_range("week", today=dt.date(2026, 11, 26))  # a Thursday
(datetime.date(2026, 11, 23), datetime.date(2026, 11, 26))
"""

from __future__ import annotations

import datetime as dt

PERIODS = ("week", "month", "quarter", "ytd", "year", "custom")
"""Period names, in the order the sidebar offers them."""


def period_range(
    name: str,
    *,
    today: dt.date,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> tuple[dt.date, dt.date]:
    """Return the first and last day (both included) of a named period ending ``today``.

    ``year`` is the last 365 days; ``custom`` needs ``start`` and ``end``.
    """
    if name == "week":
        return today - dt.timedelta(days=today.weekday()), today
    if name == "month":
        return today.replace(day=1), today
    if name == "quarter":
        return dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    if name == "ytd":
        return dt.date(today.year, 1, 1), today
    if name == "year":
        return today - dt.timedelta(days=364), today
    if name == "custom":
        if start is None or end is None:
            raise ValueError("a custom period needs a start and an end date")
        if end < start:
            raise ValueError(f"the period ends ({end}) before it starts ({start})")
        return start, end
    raise ValueError(f"unknown period {name!r}; use one of {', '.join(PERIODS)}")
