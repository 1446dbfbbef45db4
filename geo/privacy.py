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
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Final

import numpy as np
import pandas as pd

__all__ = [
    "PERSONAL_COLUMNS",
    "audit_suppression",
    "mask_frame",
    "mask_name",
    "mask_phone",
    "mask_worker_names",
    "own_worker_ids",
    "round_to",
    "suppress_linked",
    "suppress_nested",
    "suppress_small",
    "worker_label",
    "worker_name",
]

PERSONAL_COLUMNS: Final[Mapping[str, str]] = MappingProxyType(
    {"head_name": "name", "phone": "phone", "name": "name"}
)
"""Default columns for :func:`mask_frame`: column name -> ``"name"`` or ``"phone"``."""

_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff\U00030000-\U0003134f]")
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


# ---------------------------------------------------------------- linked tables

Line = tuple[int, Sequence[int]]
"""An additive relation between cells of a flat array: ``(total, members)``,
meaning ``values[total] == sum(values[m] for m in members)``."""


def _pick(
    values: np.ndarray, unknown: np.ndarray, members: Sequence[int], total: int, *, zero_first: bool
) -> int | None:
    """Return the cell of a line to hide next, or None when every cell is hidden already.

    The smallest published positive member (the first on a tie); then, if
    ``zero_first``, a published zero member before the total; else the total
    before a zero.
    """
    visible = [m for m in members if not unknown[m]]
    positive = [m for m in visible if values[m] > 0]
    if positive:
        return min(positive, key=lambda m: values[m])
    if zero_first and visible:
        return visible[0]
    if not unknown[total]:
        return total
    return visible[0] if visible else None


def suppress_linked(
    values: Sequence[float] | np.ndarray,
    lines: Sequence[Line],
    *,
    k: int = 5,
    also_hide: Sequence[bool] | np.ndarray | None = None,
) -> np.ndarray:
    """Return which cells to hide so that no count below ``k`` can be worked out.

    ``values`` are counts in a flat array; ``lines`` say which of them add
    up: ``(total, members)`` means ``values[total] == sum(values[members])``
    (a row total, or a parent area over its children). Unlike
    :func:`suppress_small`, a cell may belong to several lines (a committee's
    count is a member of its street's line and the total of its own row), and
    the rule is applied until every line is safe:

    1. **Primary.** Every count ``n`` with ``0 < n < k`` is hidden, and so
       is every cell of ``also_hide`` (e.g. a count of people that stands for
       fewer than ``k`` households).
    2. **Complementary**, repeated until nothing changes. In each line, the
       hidden cells (the total included) are the unknowns of one equation:

       * exactly one unknown would be given away by the others, so a second
         cell of the line is hidden;
       * with the total published, the hidden members add up to the total
         minus the published members; if that sum is between 1 and ``k - 1``
         it is itself a small count, so another member is hidden.

       The cell hidden is the line's smallest published positive member
       (lowest position on a tie); failing that, for a lone unknown a
       published zero member (one more unknown is all it needs) and then the
       total; for a small sum the total (a hidden zero would not raise it).

    Missing values (NaN) count as unknowns of unknown size.

    Parameters
    ----------
    values
        Counts (non-negative), NaN for missing.
    lines
        ``(total, members)`` positions into ``values``.
    k
        Threshold: counts from 1 to ``k - 1`` are hidden.
    also_hide
        More cells to hide from the start, whatever their value (same length
        as ``values``).

    Returns
    -------
    numpy.ndarray
        Boolean, True for every cell to hide (missing cells excluded).

    Raises
    ------
    ValueError
        If ``k`` is below 1, a position is out of range, or a line does not
        add up.

    Examples
    --------
    A street (position 0) over three committees (1, 2, 3): hiding only the 3
    would let anyone compute 35 - 12 - 20; the 12 goes too.

    >>> suppress_linked([35, 3, 12, 20], [(0, [1, 2, 3])]).tolist()
    [False, True, True, False]

    Two small counts whose sum is small too (1 + 2 = 3 = 23 - 20): a third goes.

    >>> suppress_linked([23, 1, 2, 20], [(0, [1, 2, 3])]).tolist()
    [False, True, True, True]
    """
    if k < 1:
        raise ValueError(f"suppress_linked: k must be at least 1, got {k}")
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    missing = np.isnan(v)
    for total, members in lines:
        cells = [total, *members]
        if any(not 0 <= c < n for c in cells):
            raise ValueError(f"suppress_linked: line {(total, list(members))} is out of range 0..{n - 1}")
        if not missing[cells].any() and not math.isclose(
            v[total], float(v[list(members)].sum()), abs_tol=1e-9
        ):
            raise ValueError(
                f"suppress_linked: line {(total, list(members))} does not add up: "
                f"{v[total]:g} != {float(v[list(members)].sum()):g}"
            )
    hidden = (v > 0) & (v < k)
    if also_hide is not None:
        extra = np.asarray(also_hide, dtype=bool)
        if extra.shape != v.shape:
            raise ValueError(f"suppress_linked: also_hide has {extra.shape[0]} cells, values {n}")
        hidden |= extra & ~missing
    unknown = hidden | missing
    changed = True
    while changed:
        changed = False
        for total, members in lines:
            n_unknown = int(unknown[total]) + int(unknown[list(members)].sum())
            if n_unknown == 0:
                continue
            alone = n_unknown == 1
            small_sum = False
            if not alone and not unknown[total]:
                hidden_members = [m for m in members if unknown[m]]
                if not any(missing[m] for m in hidden_members):
                    small_sum = 0 < float(v[hidden_members].sum()) < k
            if not (alone or small_sum):
                continue
            # A hidden zero adds an unknown, which is all a lone unknown needs; it
            # does not raise a small sum, so there the total goes before a zero.
            cell = _pick(v, unknown, members, total, zero_first=alone)
            if cell is None:
                continue
            hidden[cell] = unknown[cell] = True
            changed = True
    return hidden & ~missing


def _nested_lines(
    frame: pd.DataFrame,
    columns: Sequence[str],
    parent: str,
    totals: Mapping[str, Sequence[str]],
) -> list[Line]:
    """Lines of :func:`suppress_nested`: row totals, and parents over children, per column."""
    n_rows, n_cols = len(frame), len(columns)
    col_pos = {c: j for j, c in enumerate(columns)}
    row_pos = {r: i for i, r in enumerate(frame.index)}
    lines: list[Line] = []
    for total, parts in totals.items():
        for i in range(n_rows):
            lines.append((i * n_cols + col_pos[total], [i * n_cols + col_pos[c] for c in parts]))
    children: dict[int, list[int]] = {}
    for i, p in enumerate(frame[parent].tolist()):
        if _is_missing(p):
            continue
        if p not in row_pos:
            raise ValueError(f"suppress_nested: row {frame.index[i]!r} has parent {p!r}, which is no row")
        children.setdefault(row_pos[p], []).append(i)
    for p_row, kids in children.items():
        for j in range(n_cols):
            lines.append((p_row * n_cols + j, [c * n_cols + j for c in kids]))
    return lines


def _check_nested(
    frame: pd.DataFrame, columns: Sequence[str], totals: Mapping[str, Sequence[str]], where: str
) -> np.ndarray:
    _check_columns(frame, [*columns], where)
    for total, parts in totals.items():
        unknown = [c for c in [total, *parts] if c not in columns]
        if unknown:
            raise ValueError(f"{where}: totals name column(s) {unknown} that are not in columns")
    if not frame.index.is_unique:
        dup = frame.index[frame.index.duplicated()].tolist()[:5]
        raise ValueError(f"{where}: duplicate row ids {dup}")
    values = frame[list(columns)].apply(pd.to_numeric, errors="raise").to_numpy(dtype=np.float64)
    if (values < 0).any():
        raise ValueError(f"{where}: counts must not be negative")
    return values


def _describe_cell(frame: pd.DataFrame, columns: Sequence[str], cell: int) -> str:
    row, col = divmod(cell, len(columns))
    return f"row {frame.index[row]!r}, column {columns[col]!r}"


def suppress_nested(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    parent: str,
    totals: Mapping[str, Sequence[str]] | None = None,
    k: int = 5,
    also_hide: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return a copy with small counts hidden (NaN) across a hierarchy of areas.

    ``frame`` holds one row per area at every level (district, streets,
    committees), each row naming its parent row in ``parent`` (missing for the
    top). Each count of a parent is the sum of its children's, and
    ``totals`` names row totals (``{"solved": ["solved_a", "solved_b"]}``).
    Every one of these sums is a line of :func:`suppress_linked`, so a small
    count can be worked out neither from its row total nor from its parent
    minus its siblings, nor from a chain of both.

    Show every hidden cell with the same mark ("*", see ``docs/privacy.md``).

    Parameters
    ----------
    frame
        One row per area, index = area id (unique).
    columns
        Count columns to protect (totals included).
    parent
        Column holding the parent's id (a value of the index), or missing.
    totals
        Row totals: total column -> the columns it adds up.
    k
        Threshold: counts from 1 to ``k - 1`` are hidden.
    also_hide
        Booleans, same index, some of ``columns``: cells to hide from the
        start whatever their value (missing columns or rows: none).

    Returns
    -------
    pandas.DataFrame
        A copy; ``columns`` become float64 with NaN for hidden cells.

    Raises
    ------
    ValueError
        If a column or parent is unknown, a count is negative, or a sum does
        not add up (the message names the row and column).

    Examples
    --------
    >>> df = pd.DataFrame({"parent": [None, "S", "S", "S"], "n": [35, 3, 12, 20]},
    ...                   index=["S", "C1", "C2", "C3"])
    >>> suppress_nested(df, ["n"], parent="parent")["n"].tolist()
    [35.0, nan, nan, 20.0]
    """
    totals = dict(totals or {})
    values = _check_nested(frame, columns, totals, "suppress_nested")
    _check_columns(frame, [parent], "suppress_nested")
    lines = _nested_lines(frame, columns, parent, totals)
    flat = values.ravel()
    try:
        extra = None
        if also_hide is not None:
            wanted = also_hide.reindex(index=frame.index, columns=list(columns))
            extra = wanted.astype("boolean").fillna(False).to_numpy(dtype=bool).ravel()
        hide = suppress_linked(flat, lines, k=k, also_hide=extra)
    except ValueError as exc:
        if "does not add up" not in str(exc):
            raise
        bad = next(
            line
            for line in lines
            if not np.isnan(flat[[line[0], *line[1]]]).any()
            and not math.isclose(flat[line[0]], float(flat[list(line[1])].sum()), abs_tol=1e-9)
        )
        raise ValueError(
            f"suppress_nested: {_describe_cell(frame, columns, bad[0])} is "
            f"{flat[bad[0]]:g}, but the cells it should add up sum to {float(flat[list(bad[1])].sum()):g}"
        ) from None
    out = frame.copy()
    published = np.where(hide.reshape(values.shape), np.nan, values)
    for j, col in enumerate(columns):
        out[col] = published[:, j]
    return out


def audit_suppression(
    raw: pd.DataFrame,
    published: pd.DataFrame,
    columns: Sequence[str],
    *,
    parent: str,
    totals: Mapping[str, Sequence[str]] | None = None,
    k: int = 5,
) -> pd.DataFrame:
    """Work out, as an attacker would, what the published table reveals about each hidden cell.

    For every cell hidden in ``published``, linear programming (OR-Tools'
    GLOP) finds the smallest and largest value the cell can take, given every
    published count, the sums of :func:`suppress_nested` and that counts are
    not negative. A cell is **disclosed** when its range lies inside
    ``[1, k - 1]`` (the attacker knows it is a small count, or knows it
    exactly). A safe table has no disclosed cell.

    Returns
    -------
    pandas.DataFrame
        One row per hidden cell: ``row, column, value, low, high, disclosed``.

    Examples
    --------
    >>> raw = pd.DataFrame({"parent": [None, "S", "S", "S"], "n": [35, 3, 12, 20]},
    ...                    index=["S", "C1", "C2", "C3"])
    >>> only_primary = raw.assign(n=[35, None, 12, 20])
    >>> audit_suppression(raw, only_primary, ["n"], parent="parent")[["row", "low", "high", "disclosed"]]
      row  low  high  disclosed
    0  C1  3.0   3.0       True
    >>> safe = suppress_nested(raw, ["n"], parent="parent")
    >>> audit_suppression(raw, safe, ["n"], parent="parent")["disclosed"].tolist()
    [False, False]
    """
    from ortools.linear_solver import pywraplp

    totals = dict(totals or {})
    values = _check_nested(raw, columns, totals, "audit_suppression").ravel()
    shown = published.reindex(raw.index)[list(columns)].to_numpy(dtype=np.float64).ravel()
    lines = _nested_lines(raw, columns, parent, totals)
    hidden = np.flatnonzero(np.isnan(shown))
    rows: list[dict[str, object]] = []
    if len(hidden) == 0:
        return pd.DataFrame(columns=["row", "column", "value", "low", "high", "disclosed"])
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with every OR-Tools wheel
        raise RuntimeError("OR-Tools has no GLOP solver")
    # A finite cap stands for "no bound": GLOP may report an unbounded problem as infeasible.
    cap = 1e9
    var = {int(c): solver.NumVar(0.0, cap, f"x{c}") for c in hidden}
    for total, members in lines:
        cells = [total, *members]
        if not any(c in var for c in cells):
            continue
        lhs = sum((var[m] if m in var else shown[m]) for m in members)
        rhs = var[total] if total in var else shown[total]
        solver.Add(lhs == rhs)
    for cell in hidden.tolist():
        bounds = []
        for sense in ("min", "max"):
            objective = solver.Objective()
            objective.Clear()
            objective.SetCoefficient(var[cell], 1.0)
            if sense == "min":
                objective.SetMinimization()
            else:
                objective.SetMaximization()
            status = solver.Solve()
            if status == pywraplp.Solver.OPTIMAL:
                value = var[cell].solution_value()
                bounds.append(math.inf if value >= cap - 1.0 else value)
            else:  # pragma: no cover - the true values are always feasible
                raise RuntimeError(
                    f"audit_suppression: the LP for {_describe_cell(raw, columns, cell)} failed"
                )
        low, high = bounds
        row, col = divmod(cell, len(columns))
        rows.append(
            {
                "row": raw.index[row],
                "column": columns[col],
                "value": float(values[cell]),
                "low": round(low, 6),
                "high": round(high, 6) if math.isfinite(high) else math.inf,
                "disclosed": bool(low > 1e-6 and high < k - 1e-6),
            }
        )
    return pd.DataFrame(rows)


def own_worker_ids(role: str, areas: Iterable[str], grid_workers: pd.DataFrame) -> frozenset[str]:
    """Return the workers a signed-in account is: a grid account is its grids' leaders; offices are none.

    Accounts are not linked to worker records; a grid account (网格长) is held by
    its grid's leader, so that is whose name is "their own" (:func:`worker_label`).

    >>> gw = pd.DataFrame({"grid_id": ["G1", "G1", "G2"], "worker_id": ["W1", "W2", "W3"],
    ...                    "role": ["leader", "member", "leader"]})
    >>> sorted(own_worker_ids("grid", ["G1"], gw)), sorted(own_worker_ids("committee", ["C1"], gw))
    (['W1'], [])
    """
    if role != "grid" or grid_workers.empty:
        return frozenset()
    mine = grid_workers["grid_id"].isin(list(areas)) & (grid_workers["role"] == "leader")
    return frozenset(grid_workers.loc[mine, "worker_id"].astype(str))


def worker_label(name: object, worker_id: str, *, own: Collection[str] = ()) -> str:
    """Return a worker as staff see them: the signed-in worker's own name in full, anyone else's masked.

    One rule for every screen (the walk, the visit history, the workers page),
    with the id beside the name so masked colleagues stay distinguishable.

    >>> worker_label("顾文", "W1", own={"W1"}), worker_label("顾文", "W1")
    ('顾文（W1）', '顾*（W1）')
    >>> worker_label("李娜", "W2", own={"W1"})
    '李*（W2）'
    """
    return f"{worker_name(name, worker_id, own=own)}（{worker_id}）"


def worker_name(name: object, worker_id: str, *, own: Collection[str] = ()) -> str:
    """Return a worker's name by the rule of :func:`worker_label`, without the id.

    >>> worker_name("顾文", "W1", own={"W1"}), worker_name("顾文", "W1")
    ('顾文', '顾*')
    """
    return str(name) if worker_id in own and not _is_missing(name) else mask_name(name)


def mask_worker_names(frame: pd.DataFrame, *, own: Collection[str] = ()) -> pd.DataFrame:
    """Return a copy of ``frame`` with its ``worker_name`` column shown by the rule of :func:`worker_label`.

    Every table that names workers (standings, the weekly check) goes through
    this, so the signed-in worker sees their own name in full on every screen
    and everyone else's masked. A frame without the column is returned as is.

    >>> f = pd.DataFrame({"worker_id": ["W1", "W2"], "worker_name": ["顾文", "李娜"]})
    >>> mask_worker_names(f, own={"W1"})["worker_name"].tolist()
    ['顾文', '李*']
    """
    if "worker_name" not in frame or "worker_id" not in frame:
        return frame
    names = [
        n if _is_missing(n) else worker_name(n, str(w), own=own)
        for n, w in zip(frame["worker_name"].tolist(), frame["worker_id"].tolist(), strict=True)
    ]
    return frame.assign(worker_name=np.asarray(names, dtype=object))
