"""The district's local time: the one clock every stored time is read against.

Times are stored without a zone, as local time in ``Settings.timezone``
(Asia/Shanghai by default), to the second. Every "now" in the package comes
from :func:`local_now`, so a deployment in another zone changes one setting.

Examples
--------
>>> from geo.settings import Settings
>>> now = local_now(Settings(timezone="UTC"))
>>> now.tzinfo is None, now.microsecond
(True, 0)
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from geo.settings import Settings

__all__ = ["last_full_day", "local_now"]


def local_now(settings: Settings | None = None) -> dt.datetime:
    """Return the current local time in ``settings.timezone``, without a zone, to the second."""
    tz = zoneinfo.ZoneInfo((settings or Settings.from_env()).timezone)
    return dt.datetime.now(tz).replace(tzinfo=None, microsecond=0)


def last_full_day(settings: Settings | None = None) -> dt.date:
    """Return yesterday in the district: the last day whose activity is all in the past.

    A generated district's activity runs to the evening of its last day; built
    for today, it would hold visits and closings still hours ahead, which the
    live figures (counted by time) and the issue board (by status) read
    differently. So a demo is built as of this day unless told otherwise.
    """
    return local_now(settings).date() - dt.timedelta(days=1)
