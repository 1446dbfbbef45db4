"""Personal-data masking and the small-count rules for anything shown to the public.

Two separate protections (see ``docs/privacy.md``):

* **Masking (脱敏)** for staff screens and exports: names and phone numbers
  are shown partly starred, never in full.
* **Small-count suppression (小数抑制)** for public aggregates: a count of 1–4
  could point at a particular household, so it is hidden, together with a
  second cell when a published row total would otherwise give it away.

Examples
--------
>>> mask_name("王小华"), mask_phone("13812341234")
('王*华', '138****1234')
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Final

import numpy as np
import pandas as pd

__all__ = [
    "PERSONAL_COLUMNS",
    "mask_frame",
    "mask_name",
    "mask_phone",
    "round_to",
    "suppress_small",
]

PERSONAL_COLUMNS: Final[Mapping[str, str]] = MappingProxyType(
    {"head_name": "name", "phone": "phone", "name": "name"}
)
"""Default columns for :func:`mask_frame`: column name -> ``"name"`` or ``"phone"``."""

_CJK = re.compile(
    "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff\U00030000-\U0003134f]"
)
_WHITESPACE = re.compile(r"\s+")
_NON_DIGIT = re.compile(r"\D")
_MIN_PHONE_DIGITS: Final = 7
_KEEP_TAIL: Final = 4


def _is_missing(value: object) -> bool:
    """Return True for None, NaN, NaT and pd.NA (but not for strings or containers)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def mask_name(name: object) -> str:
    """Mask a person's name so that it is recognisable to staff but never shown in full.

    * Chinese names (any CJK character) keep the first and the last character
      and star each one between: 王小华 → 王*华, 欧阳娜娜 → 欧**娜; a
      two-character name keeps only the surname: 李明 → 李*.
    * Other names keep the first letter of each word followed by two stars
      (the stars do not reveal the word's length): Maria Garcia → M** G**.
    * A one-character name becomes ``"*"``. None, NaN and ``""`` become ``""``.

    Whitespace inside Chinese names is dropped before masking.

    Examples
    --------
    >>> [mask_name(n) for n in ["王小华", "李明", "欧阳娜娜", "王", "Maria Garcia", None]]
    ['王*华', '李*', '欧**娜', '*', 'M** G**', '']
    """
    if _is_missing(name):
        return ""
    text = str(name).strip()
    if _CJK.search(text):
        text = _WHITESPACE.sub("", text)
        if len(text) == 1:
            return "*"
        if len(text) == 2:
            return text[0] + "*"
        return text[0] + "*" * (len(text) - 2) + text[-1]
    words = text.split()
    if len(words) == 1 and len(words[0]) == 1:
        return "*"
    return " ".join(word[0] + "**" for word in words)


def _phone_text(phone: object) -> str:
    """Return a phone value as text; integral floats (read from Excel) lose their '.0'."""
    if isinstance(phone, float | np.floating) and float(phone).is_integer():
        return str(int(phone))
    return str(phone)


def mask_phone(phone: object) -> str:
    """Mask a phone number, keeping at most its first three and last four digits.

    Spaces, dashes, brackets and a leading ``+86``/``0086`` are ignored when
    judging the number:

    * mobile (11 digits starting with 1): ``138****1234``;
    * landline with area code (starting with 0; the area code is 3 digits
      for 01x/02x and 4 otherwise; a local number of 7 or 8 digits): the area
      code, a dash, and only the last four digits of the local number:
      ``021-****1234``;
    * any other number of 7 or more digits: the last four digits, and the
      first three as well when it has 11 or more;
    * fewer than 7 digits: every digit starred.

    None, NaN and ``""`` become ``""``; text without digits becomes ``"*"``.
    At least three digits are always starred, so the full number is never
    returned.

    Examples
    --------
    >>> [mask_phone(p) for p in ["13812341234", "021-62541234", "0571 8765 4321", "12345"]]
    ['138****1234', '021-****1234', '0571-****4321', '*****']
    >>> mask_phone("+86 138-1234-1234"), mask_phone(13812341234), mask_phone(None)
    ('138****1234', '138****1234', '')
    """
    if _is_missing(phone):
        return ""
    text = _phone_text(phone).strip()
    if not text:
        return ""
    digits = _NON_DIGIT.sub("", text)
    if not digits:
        return "*"
    if len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    elif len(digits) == 15 and digits.startswith("00861"):
        digits = digits[4:]
    n = len(digits)
    if n < _MIN_PHONE_DIGITS:
        return "*" * n
    tail = digits[-_KEEP_TAIL:]
    if digits.startswith("0") and n >= 10:
        area_len = 3 if digits[1] in "12" else 4
        local = digits[area_len:]
        if 7 <= len(local) <= 8:
            return f"{digits[:area_len]}-{'*' * (len(local) - _KEEP_TAIL)}{tail}"
    head = digits[:3] if n >= 11 else ""
    return head + "*" * (n - len(head) - _KEEP_TAIL) + tail


_MASKERS: Final[Mapping[str, Callable[[object], str]]] = MappingProxyType(
    {"name": mask_name, "phone": mask_phone}
)


def mask_frame(df: pd.DataFrame, *, columns: Mapping[str, str] = PERSONAL_COLUMNS) -> pd.DataFrame:
    """Return a copy of a frame with its personal columns masked.

    Parameters
    ----------
    df
        Any frame (a GeoDataFrame stays one).
    columns
        Column name -> kind, ``"name"`` (:func:`mask_name`) or ``"phone"``
        (:func:`mask_phone`). Columns absent from ``df`` are skipped. The
        default masks ``head_name``, ``phone`` and ``name``; pass your own
        mapping for frames whose ``name`` is an area's name, not a person's.

    Returns
    -------
    pandas.DataFrame
        A copy; masked columns hold text (``""`` where the value was missing).

    Raises
    ------
    ValueError
        If a kind is neither ``"name"`` nor ``"phone"``.

    Examples
    --------
    >>> df = pd.DataFrame({"household_id": ["H1"], "head_name": ["王小华"],
    ...                    "phone": ["13812341234"]})
    >>> mask_frame(df).to_dict("records")
    [{'household_id': 'H1', 'head_name': '王*华', 'phone': '138****1234'}]
    """
    unknown = {col: kind for col, kind in columns.items() if kind not in _MASKERS}
    if unknown:
        raise ValueError(f"mask_frame: unknown kinds {unknown}; expected 'name' or 'phone'")
    out = df.copy()
    for col, kind in columns.items():
        if col not in out.columns:
            continue
        # Names and phones repeat little, but masking each distinct value
        # once keeps the per-row cost to a dictionary lookup.
        values = out[col].astype(object)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        masked = np.array([_MASKERS[kind](v) for v in uniques] + [""], dtype=object)
        out[col] = pd.Series(masked[codes], index=out.index, dtype=object)
    return out


def _check_columns(df: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    """Raise ValueError naming the columns of ``columns`` that ``df`` lacks."""
    missing = [col for col in columns if col not in df.columns]
    if missing:
        raise ValueError(f"{where}: no column(s) {missing}; the frame has {list(df.columns)}")


def suppress_small(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    k: int = 5,
    total_column: str | None = None,
) -> pd.DataFrame:
    """Return a copy with small counts hidden (NaN) for publication.

    The rule, applied row by row:

    1. **Primary suppression.** Every cell of ``columns`` holding a count
       ``n`` with ``0 < n < k`` becomes NaN. Zeros and counts of ``k`` or more
       stay.
    2. **Complementary suppression** (only when ``total_column`` is given and
       that row's total is published): if exactly one cell of the row's
       ``columns`` (other than the total) is hidden by step 1, the total minus
       the others would reveal it. The smallest remaining positive cell of the
       row is hidden too (leftmost on a tie); if no positive cell remains, the
       smallest remaining cell; if no cell remains at all, the total itself.

    Cells that were already missing stay missing and do not count as hidden
    by step 1.

    Show every hidden cell with the same mark: "<5" (``<k``) is exact only
    without ``total_column``; with it, a cell hidden by step 2 may be large,
    so show "*" with a footnote (see ``docs/privacy.md``).

    Only row totals are protected: a total over rows (a street above its
    committees) must be computed from raw counts and published as its own
    suppressed frame.

    Parameters
    ----------
    df
        Frame of counts, one row per area.
    columns
        Count columns to protect. Put ``total_column`` in it too if the
        total itself can be small.
    k
        Threshold: counts below ``k`` (and above 0) are hidden. ``k=1`` hides
        nothing.
    total_column
        Column holding the row total published next to ``columns``.

    Returns
    -------
    pandas.DataFrame
        A copy; ``columns`` (and ``total_column``) become float64 with NaN
        for hidden cells.

    Raises
    ------
    ValueError
        If a column is missing or ``k`` is below 1.

    Examples
    --------
    >>> df = pd.DataFrame({"met": [3, 40], "not_home": [12, 2], "refused": [20, 0],
    ...                    "total": [35, 42]})
    >>> suppress_small(df, ["met", "not_home", "refused"], total_column="total")
       met  not_home  refused  total
    0  NaN       NaN     20.0   35.0
    1  NaN       NaN      0.0   42.0
    """
    if k < 1:
        raise ValueError(f"suppress_small: k must be at least 1, got {k}")
    wanted = list(dict.fromkeys([*columns, *([total_column] if total_column else [])]))
    _check_columns(df, wanted, "suppress_small")
    out = df.copy()
    for col in wanted:
        out[col] = pd.to_numeric(out[col], errors="raise").astype(np.float64)
    values = np.array(out[list(columns)].to_numpy(dtype=np.float64), dtype=np.float64)
    primary = (values > 0) & (values < k)
    values[primary] = np.nan
    if total_column is not None:
        cells = [i for i, col in enumerate(columns) if col != total_column]
        total = np.array(out[total_column].to_numpy(dtype=np.float64), dtype=np.float64)
        if total_column in columns:
            total = values[:, list(columns).index(total_column)]
        cell_values = values[:, cells]
        hidden_by_rule = primary[:, cells]
        needs = (hidden_by_rule.sum(axis=1) == 1) & (np.isnan(cell_values).sum(axis=1) == 1)
        needs &= ~np.isnan(total)
        if needs.any():
            open_cells = ~np.isnan(cell_values)
            positive = np.where(open_cells & (cell_values > 0), cell_values, np.inf)
            any_open = np.where(open_cells, cell_values, np.inf)
            has_positive = np.isfinite(positive).any(axis=1)
            has_open = open_cells.any(axis=1)
            choice = np.where(has_positive, positive.argmin(axis=1), any_open.argmin(axis=1))
            rows = np.flatnonzero(needs & has_open)
            values[rows, np.asarray(cells)[choice[rows]]] = np.nan
            total[needs & ~has_open] = np.nan
            out[total_column] = total
    for j, col in enumerate(columns):
        out[col] = values[:, j]
    return out


def round_to(df: pd.DataFrame, columns: Sequence[str], *, base: int = 5) -> pd.DataFrame:
    """Return a copy with counts rounded to the nearest multiple of ``base``.

    Halves round up (12.5 -> 15 with ``base=5``, 15 -> 20 with ``base=10``);
    NaN stays NaN; integer columns stay integer. For publication apply
    :func:`suppress_small` first, so that small counts read "<5" rather than
    0 or 5.

    Raises
    ------
    ValueError
        If a column is missing or ``base`` is below 1.

    Examples
    --------
    >>> round_to(pd.DataFrame({"n": [0, 2, 3, 12, 13]}), ["n"])["n"].tolist()
    [0, 0, 5, 10, 15]
    """
    if base < 1:
        raise ValueError(f"round_to: base must be at least 1, got {base}")
    _check_columns(df, list(columns), "round_to")
    out = df.copy()
    for col in columns:
        series = out[col]
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        rounded = np.floor(numbers / base + 0.5) * base
        if pd.api.types.is_integer_dtype(series.dtype):
            out[col] = pd.Series(rounded, index=out.index).astype(series.dtype)
        else:
            out[col] = rounded
    return out
