"""Cells to typed values: dates as Shanghai offices write them, numbers, yes/no, choices and tags.

:func:`typed_column` turns one column of text cells into its field's type and
records, as findings, every cell that is not a value of that type or out of
range. Each distinct cell is cleaned and parsed once (a million rows hold few
distinct values), then the result is spread back to the rows.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.ingest.messages import Finding, found
from geo.ingest.specs import TAG_WORDS, Field, norm_value

EARLIEST = dt.datetime(2000, 1, 1)
"""Times before this are refused as implausible (a mistyped year, a number that is no date)."""


_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:(?:\s+|T|\s*日\s*)(\d{1,2})\s*[:：时点]\s*(\d{1,2})"
    r"(?:\s*[:：分]\s*(\d{1,2})(?:\.\d+)?\s*秒?|\s*分)?)?$"
)
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\s*(\d{2})[:：]?(\d{2})(?:[:：]?(\d{2}))?)?$")
_SERIAL_RE = re.compile(r"^\d{1,6}(\.\d+)?$")
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "s")


def parse_datetimes(values: Sequence[str] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse local date-times written the ways Shanghai offices write them.

    Accepted: ``2023-02-15``, ``2023/2/15``, ``2023.2.15``, ``2023年2月15日``,
    ``20230215``, Excel serial days (``44972``, ``44972.5``), each with an
    optional time (``14:30``, ``14:30:05``, ``14时30分``, ``T14:30:05``).

    Returns
    -------
    (times, bad, date_only)
        ``datetime64[s]`` values (NaT where empty or bad), a mask of
        non-empty values that are not dates, and a mask of values without a
        time of day.

    Examples
    --------
    >>> t, bad, day = parse_datetimes(["2023-02-15 14:30:05", "2023/2/15", "2023年2月15日 9时5分",
    ...                                "44972.5", "20230215", "2023-02-30", ""])
    >>> [str(x) for x in t]
    ['2023-02-15T14:30:05', '2023-02-15T00:00:00', '2023-02-15T09:05:00', '2023-02-15T12:00:00', \
'2023-02-15T00:00:00', 'NaT', 'NaT']
    >>> bad.tolist(), day.tolist()
    ([False, False, False, False, False, True, False], [False, True, False, False, True, False, False])
    """
    s = pd.Series(np.asarray(values, dtype=object), dtype=object)
    n = len(s)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    date_only = np.zeros(n, dtype=bool)
    empty = (s == "").to_numpy()
    if n == 0:
        return out, np.zeros(0, dtype=bool), date_only
    fast = pd.to_datetime(s, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    ok = fast.notna().to_numpy()
    out[ok] = fast.to_numpy(dtype="datetime64[s]")[ok]
    rest = np.flatnonzero(~ok & ~empty)
    for i in rest.tolist():
        text = unicodedata.normalize("NFKC", str(s.iat[i])).strip()
        parsed = _parse_one(text)
        if parsed is not None:
            out[i], date_only[i] = parsed
    bad = np.isnat(out) & ~empty
    return out, bad, date_only


def _parse_one(text: str) -> tuple[np.datetime64, bool] | None:
    m = _DATE_RE.match(text) or _COMPACT_RE.match(text)
    if m is not None:
        y, mo, d, hh, mi, ss = (int(g) if g else None for g in m.groups())
        try:
            value = dt.datetime(y or 0, mo or 0, d or 0, hh or 0, mi or 0, ss or 0)
        except ValueError:
            return None
        return np.datetime64(value, "s"), hh is None
    if _SERIAL_RE.match(text):
        days = float(text)
        if not 1 <= days < 2958466:  # Excel's last day, 9999-12-31
            return None
        seconds = round(days * 86400)
        return _EXCEL_EPOCH + np.timedelta64(seconds, "s"), days.is_integer()
    return None


def strip_uniques(col: pd.Series, *, nfkc: bool, distinct: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Return (codes, cleaned unique values): strip (and NFKC-normalise) each distinct value once.

    With ``distinct=False`` (times: nearly every value differs) the values are
    cleaned in place and the codes are ``0..n-1``, which saves a useless hash.
    """
    values = col.to_numpy(dtype=object)
    if distinct:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        items = uniques.tolist()
    else:
        codes, items = np.arange(len(values)), values.tolist()
    cleaned = np.empty(len(items), dtype=object)
    cleaned[:] = [
        (unicodedata.normalize("NFKC", t) if nfkc and not t.isascii() else t).strip()
        for t in (u if isinstance(u, str) else ("" if u is None else str(u)) for u in items)
    ]
    return np.asarray(codes), cleaned


@dataclass
class _Column:
    """One column as codes into its cleaned distinct values (``uniq[codes]`` are its cells)."""

    fld: Field
    uniq: np.ndarray
    codes: np.ndarray
    empty_u: np.ndarray
    findings: list[Finding]

    def report(self, code: str, bad_u: np.ndarray, shown: np.ndarray | None = None, **extra: Any) -> None:
        """Record ``code`` at the rows whose distinct value is marked in ``bad_u``, quoting ``shown``."""
        if bad_u.any():
            values = self.uniq if shown is None else shown
            found(self.findings, code, self.fld.name, bad_u[self.codes], values[self.codes], **extra)

    def looked_up(self) -> np.ndarray:
        """Return the code each distinct value stands for among the field's choices (None if none)."""
        assert self.fld.choices is not None
        return np.array([self.fld.choices.get(norm_value(u)) if u else None for u in self.uniq], dtype=object)


def typed_column(
    fld: Field,
    uniq: np.ndarray,
    codes: np.ndarray,
    empty_u: np.ndarray,
    findings: list[Finding],
    date_only: dict[str, np.ndarray],
    now64: np.datetime64,
) -> pd.Series:
    """Convert one column (given as codes into cleaned unique values) to its type, recording problems.

    ``date_only[name]`` receives, for a time field, which rows gave a date without a time;
    ``now64`` is the local time later times are refused after (fields with ``past``).
    """
    c = _Column(fld, uniq, codes, empty_u, findings)
    if fld.type in ("id", "text"):
        out = uniq.copy()
        out[empty_u] = None
        return pd.Series(out[codes], dtype=object)
    if fld.type == "datetime":
        return _times(c, date_only, now64)
    if fld.type in ("int", "float"):
        return _numbers(c)
    convert = {"choice": _choice, "bool": _bool, "tags": _tags}.get(fld.type)
    if convert is None:
        raise AssertionError(fld.type)
    return convert(c)


def _choice(c: _Column) -> pd.Series:
    mapped = c.looked_up()
    c.report("bad_choice", (mapped == None) & ~c.empty_u, choices=_choice_list(c.fld))  # noqa: E711 (elementwise)
    return pd.Series(mapped[c.codes], dtype=object)


def _bool(c: _Column) -> pd.Series:
    mapped = c.looked_up()
    c.report("bad_bool", (mapped == None) & ~c.empty_u)  # noqa: E711 (elementwise)
    ints = np.array([None if m is None else int(m) for m in mapped], dtype=object)
    return pd.Series(ints[c.codes], dtype=object)


def _tags(c: _Column) -> pd.Series:
    """Split a cell into tags (any of ``,，、;；|/`` or spaces), each one of the field's choices."""
    assert c.fld.choices is not None
    tags_out = np.empty(len(c.uniq), dtype=object)
    bad_vals: dict[int, str] = {}
    for i, u in enumerate(c.uniq.tolist()):
        got: list[str] = []
        for p in (p for p in re.split(r"[,，、;；|/\s]+", u) if p):
            code = c.fld.choices.get(norm_value(p))
            if code is None:
                bad_vals[i] = p
                break
            if code not in got:
                got.append(code)
        tags_out[i] = ",".join(got)
    if bad_vals:
        bad_u = np.zeros(len(c.uniq), dtype=bool)
        bad_u[list(bad_vals)] = True
        offending = np.array([bad_vals.get(i, "") for i in range(len(c.uniq))], dtype=object)
        c.report("bad_tag", bad_u, offending, choices=", ".join(TAG_WORDS))
    return pd.Series(tags_out[c.codes], dtype=object)


def _numbers(c: _Column) -> pd.Series:
    """Parse integers or floats (thousands separators allowed) and check the field's range."""
    fld = c.fld
    num = pd.to_numeric(pd.Series(c.uniq, dtype=object).str.replace(",", "", regex=False), errors="coerce")
    arr = num.to_numpy(dtype=float)
    bad_u = np.isnan(arr) & ~c.empty_u
    if fld.type == "int":
        frac = ~np.isnan(arr) & (np.abs(arr) < 2**62) & (arr != np.round(arr))
        huge = ~np.isnan(arr) & (np.abs(arr) >= 2**62)
        bad_u |= frac | huge
    c.report(f"bad_{fld.type}", bad_u)
    ok = ~np.isnan(arr) & ~bad_u
    if fld.min is not None:
        low = ok & (arr < fld.min)
        c.report("too_small", low, min=_num(fld.min))
        ok &= ~low
    if fld.max is not None:
        high = ok & (arr > fld.max)
        c.report("too_large", high, max=_num(fld.max))
        ok &= ~high
    if fld.type == "int":
        ints = pd.array(
            [int(a) if k else None for a, k in zip(arr.tolist(), ok.tolist(), strict=True)], dtype="Int64"
        )
        return pd.Series(ints.take(c.codes), dtype="Int64")
    floats = np.where(ok, arr, np.nan)
    return pd.Series(floats[c.codes], dtype=float)


def _times(c: _Column, date_only: dict[str, np.ndarray], now64: np.datetime64) -> pd.Series:
    """Parse date-times; refuse implausibly old ones, and future ones if the field is ``past``."""
    times, bad_u, day_u = parse_datetimes(c.uniq)
    c.report("bad_date", bad_u)
    valid = ~np.isnat(times)
    c.report("too_old", valid & (times < np.datetime64(EARLIEST, "s")))
    if c.fld.past:
        # A date without a time is in the future only when its day is.
        today_end = now64.astype("datetime64[D]") + np.timedelta64(1, "D")
        future = valid & np.where(day_u, times >= today_end, times > now64)
        c.report("future", future, now=str(now64).replace("T", " "))
    date_only[c.fld.name] = day_u[c.codes]
    return pd.Series(times[c.codes], dtype="datetime64[s]")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _choice_list(fld: Field) -> str:
    assert fld.choices is not None
    return ", ".join(dict.fromkeys(fld.choices.values()))
