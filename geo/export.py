"""Every list to Excel (openpyxl) and CSV, safe to open and in the reader's language.

- **Formula-safe**: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab
  or a carriage return (after any apostrophes) would be run as a formula by
  Excel, LibreOffice or Google Sheets ("CSV injection"); such text gets a
  leading apostrophe (:func:`neutralise`, the one rule of :mod:`geo.writers`),
  and Excel cells are written as text, never as formulas. Numbers stay
  numbers (``-3`` is not text).
- **Chinese intact**: CSV is UTF-8 with a byte-order mark, so Excel opens
  it in the right encoding; Excel files are Unicode anyway.
- **Headers in the UI language**: column names are translated with
  :data:`COLUMN_LABELS` (``zh`` or ``en``), and coded values (anomaly kinds,
  deduction reasons, standings ...) with :data:`VALUE_LABELS`.
- **Nothing half-written**: :func:`write_export` writes a temporary file next
  to the target and renames it into place.

Examples
--------
>>> frame = pd.DataFrame({"grid_id": ["G1"], "grid_name": ["=HYPERLINK(\\"http://x\\")"], "coverage": [0.5]})
>>> to_csv_bytes(frame, lang="zh").decode("utf-8-sig").splitlines()
['网格编号,网格,覆盖率', 'G1,"\\'=HYPERLINK(""http://x"")",0.5']
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo import words
from geo.writers import FORMULA_STARTS, clean_text, csv_bytes, neutralise, sheet_title, write_atomic

__all__ = [
    "COLUMN_LABELS",
    "FORMULA_STARTS",
    "VALUE_LABELS",
    "header_labels",
    "localise",
    "neutralise",
    "sheet_title",
    "to_csv_bytes",
    "to_xlsx_bytes",
    "write_export",
]

COLUMN_LABELS: dict[str, tuple[str, str]] = words.pairs("export.col.")
"""Column headers in Chinese and English, by column name."""

VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = words.nested("export.value.")
"""Translations of coded values, by column name."""

LIST_COLUMNS = frozenset({"tags"})
"""Columns holding comma-separated codes (translated one by one, joined with 、)."""

PERCENT_COLUMNS = frozenset(
    {"coverage", "expected", "gap", "projected", "coverage_gained_week", "coverage_year", "share"}
)
"""Shares shown as percentages in Excel."""


def header_labels(
    columns: Sequence[str], *, lang: str = "zh", labels: Mapping[str, tuple[str, str]] | None = None
) -> list[str]:
    """Return the headers of ``columns`` in ``lang`` (unknown columns keep their names).

    >>> header_labels(["grid_id", "coverage", "mystery"], lang="en")
    ['Grid id', 'Coverage', 'mystery']
    """
    k = 1 if lang == "en" else 0
    table = {**COLUMN_LABELS, **(labels or {})}
    return [table[c][k] if c in table else str(c) for c in columns]


def localise(
    frame: pd.DataFrame,
    *,
    lang: str = "zh",
    labels: Mapping[str, tuple[str, str]] | None = None,
    values: bool = True,
) -> pd.DataFrame:
    """Return a copy with coded values translated and headers in ``lang`` (for display and export).

    >>> f = pd.DataFrame({"kind": ["after_hours"], "visits": [3]})
    >>> localise(f, lang="zh").to_dict("records")
    [{'异常类型': '15:30后走访', '走访次数': 3}]
    """
    out = frame.copy()
    if isinstance(out, pd.DataFrame) and "geometry" in out.columns:
        out = pd.DataFrame(out.drop(columns="geometry"))
    if values:
        k = 1 if lang == "en" else 0
        for col, table in VALUE_LABELS.items():
            if col in out.columns:
                mapping = {code: pair[k] for code, pair in table.items()}
                if col in LIST_COLUMNS:
                    out[col] = out[col].map(
                        lambda v, m=mapping: (
                            "、".join(m.get(c, c) for c in v.split(",") if c) if isinstance(v, str) else v
                        )
                    )
                else:
                    out[col] = out[col].map(lambda v, m=mapping: m.get(v, v) if isinstance(v, str) else v)
    out.columns = header_labels([str(c) for c in out.columns], lang=lang, labels=labels)
    return out


def _column_values(series: pd.Series) -> tuple[list[Any], str | None]:
    """Return a column's cell values for openpyxl and its number format (or None)."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(series):
        arr = series.to_numpy(dtype="datetime64[s]")
        nat = np.isnat(arr)
        whole_days = bool((arr[~nat].astype(np.int64) % 86_400 == 0).all()) if (~nat).any() else True
        vals: list[Any] = [
            None if n else v for v, n in zip(arr.astype(object).tolist(), nat.tolist(), strict=True)
        ]
        if whole_days:
            vals = [v.date() if isinstance(v, dt.datetime) else v for v in vals]
        return vals, "yyyy-mm-dd" if whole_days else "yyyy-mm-dd hh:mm:ss"
    if pd.api.types.is_bool_dtype(series):
        return [None if pd.isna(v) else bool(v) for v in series.tolist()], None
    if pd.api.types.is_integer_dtype(series):
        return [None if pd.isna(v) else int(v) for v in series.tolist()], None
    if pd.api.types.is_float_dtype(series):
        vals = [
            None if (v is None or v != v or v in (np.inf, -np.inf)) else float(v) for v in series.tolist()
        ]
        return vals, None
    out: list[Any] = []
    for v in series.tolist():
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
            out.append(None)
        elif isinstance(v, str):
            out.append(neutralise(clean_text(v)))
        elif isinstance(v, (list, tuple, set, frozenset)):
            out.append(neutralise(clean_text("、".join(str(x) for x in v))))
        elif isinstance(v, (bool, int, float, dt.date, dt.datetime)):
            out.append(v)
        elif isinstance(v, np.generic):
            out.append(v.item())
        else:
            out.append(neutralise(clean_text(str(v))))
    return out, None


def _display_width(values: Sequence[Any], header: str) -> float:
    def w(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)

    sample = [header, *(str(v) for v in values[:200] if v is not None)]
    return float(min(max(w(s) for s in sample) + 2, 60))


def to_xlsx_bytes(
    sheets: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    lang: str = "zh",
    labels: Mapping[str, tuple[str, str]] | None = None,
    translate_values: bool = True,
) -> bytes:
    """Return an Excel workbook (``.xlsx``) with one sheet per frame.

    Headers are bold, translated and frozen, with an autofilter; shares in
    :data:`PERCENT_COLUMNS` are formatted as percentages, times as dates;
    missing values are empty cells; text is neutralised (:func:`neutralise`)
    and written as text.

    Examples
    --------
    >>> import openpyxl
    >>> frame = pd.DataFrame({"grid_name": ["=1+1", "长寿路"], "coverage": [0.25, None]})
    >>> data = to_xlsx_bytes({"盲区": frame})
    >>> ws = openpyxl.load_workbook(io.BytesIO(data)).active
    >>> [[c.value for c in row] for row in ws.iter_rows()]
    [['网格', '覆盖率'], ["'=1+1", 0.25], ['长寿路', None]]
    >>> ws["A2"].data_type, ws["B2"].number_format
    ('s', '0.0%')
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    if isinstance(sheets, pd.DataFrame):
        sheets = {"Sheet1": sheets}
    if not sheets:
        raise ValueError("nothing to export: no sheets given")
    wb = Workbook(write_only=True)
    used: set[str] = set()
    bold = Font(bold=True)
    for name, frame in sheets.items():
        ws = wb.create_sheet(title=sheet_title(name, used))
        data = pd.DataFrame(frame.drop(columns="geometry")) if "geometry" in frame.columns else frame
        columns = [str(c) for c in data.columns]
        if translate_values:
            data = localise(data, lang=lang, values=True)
            data.columns = columns
        headers = header_labels(columns, lang=lang, labels=labels)
        cols: list[list[Any]] = []
        formats: list[str | None] = []
        for c in columns:
            vals, fmt = _column_values(data[c])
            if c in PERCENT_COLUMNS and fmt is None:
                fmt = "0.0%"
            cols.append(vals)
            formats.append(fmt)
        from openpyxl.utils import get_column_letter

        for j, (h, vals) in enumerate(zip(headers, cols, strict=True), start=1):
            ws.column_dimensions[get_column_letter(j)].width = _display_width(vals, h)
        ws.freeze_panes = "A2"
        if columns:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(data) + 1}"
        header_cells = []
        for h in headers:
            cell = WriteOnlyCell(ws, value=neutralise(clean_text(h)))
            cell.font = bold
            header_cells.append(cell)
        ws.append(header_cells)
        formatted = [j for j, f in enumerate(formats) if f]
        for row in zip(*cols, strict=True) if cols else []:
            values = list(row)
            for j in formatted:
                if values[j] is not None:
                    cell = WriteOnlyCell(ws, value=values[j])
                    cell.number_format = str(formats[j])
                    values[j] = cell
            ws.append(values)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_csv_bytes(
    frame: pd.DataFrame,
    *,
    lang: str = "zh",
    labels: Mapping[str, tuple[str, str]] | None = None,
    translate_values: bool = True,
) -> bytes:
    """Return ``frame`` as CSV: UTF-8 with a byte-order mark, translated headers, neutralised text.

    Times are ``YYYY-MM-DD HH:MM:SS`` (``YYYY-MM-DD`` for whole days); missing
    values are empty.

    >>> to_csv_bytes(pd.DataFrame({"worker_name": ["@李娜"], "points": [-2]}), lang="en")
    b"\\xef\\xbb\\xbfWorker,Points\\r\\n'@\\xe6\\x9d\\x8e\\xe5\\xa8\\x9c,-2\\r\\n"
    """
    data = pd.DataFrame(frame.drop(columns="geometry")) if "geometry" in frame.columns else frame.copy()
    columns = [str(c) for c in data.columns]
    if translate_values:
        data = localise(data, lang=lang, values=True)
        data.columns = columns
    out = pd.DataFrame(index=data.index)
    for c in columns:
        vals, fmt = _column_values(data[c])
        if pd.api.types.is_float_dtype(data[c]):
            vals = [None if v is None else _csv_float(v) for v in vals]
        if fmt is not None:
            vals = [
                v.strftime("%Y-%m-%d %H:%M:%S")
                if isinstance(v, dt.datetime)
                else v.isoformat()
                if isinstance(v, dt.date)
                else v
                for v in vals
            ]
        out[c] = pd.Series(vals, index=data.index, dtype=object)
    out.columns = header_labels(columns, lang=lang, labels=labels)
    return csv_bytes(out)


def _csv_float(value: float) -> str:
    """Four decimals at most, no trailing zeros: ``0.3745`` for 0.374545..., ``61.6`` for 61.6."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def write_export(
    sheets: pd.DataFrame | Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    lang: str = "zh",
    fmt: str | None = None,
) -> Path:
    """Write ``sheets`` to ``path`` as ``xlsx`` or ``csv`` (from ``fmt`` or the suffix), atomically.

    CSV holds one table: several sheets are refused. The file appears whole or
    not at all.
    """
    target = Path(path)
    kind = (fmt or target.suffix.lstrip(".")).lower()
    if kind not in ("xlsx", "csv"):
        raise ValueError(f"cannot export to {target.name!r}: use a .xlsx or .csv file (or --format)")
    if kind == "csv":
        if isinstance(sheets, Mapping):
            if len(sheets) != 1:
                raise ValueError(f"a CSV file holds one table, got {len(sheets)}; export to .xlsx instead")
            sheets = next(iter(sheets.values()))
        data = to_csv_bytes(sheets, lang=lang)
    else:
        data = to_xlsx_bytes(sheets, lang=lang)
    return write_atomic(data, target)
