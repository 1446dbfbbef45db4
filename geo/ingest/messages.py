"""What an import says: every message in Chinese and English, the fatal error, and findings at rows.

A :class:`Finding` is one kind of problem (a message code) at some rows of a
file; :data:`WARNING_CODES` are the codes that keep their rows. Fatal problems
with a file as a whole raise :class:`IngestError`, which names the file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MAX_CELL_SHOWN = 60
"""Characters of an offending value quoted in a message."""


MESSAGES: dict[str, tuple[str, str]] = {
    # fatal: the file as a whole
    "empty": ("文件是空的", "the file is empty"),
    "header_only": ("只有表头（第 {row} 行），没有数据行", "has a header (row {row}) but no data rows"),
    "no_features": ("没有任何要素", "holds no features"),
    "wrong_kind": ("这是{what}，不是{expected}", "this is {what}, not {expected}"),
    "missing_columns": (
        "缺少必需的列：{missing}；文件中的列：{found}",
        "missing required column(s): {missing}; the file has: {found}",
    ),
    "missing_columns_sheet": (
        "工作表 {sheet} 缺少必需的列：{missing}；其中的列：{found}；"
        "工作簿还有工作表：{others}（用 --sheet 指定）",
        "sheet {sheet} is missing required column(s): {missing}; it has: {found}; "
        "the workbook also has sheets: {others} (choose one with --sheet)",
    ),
    "same_column": ("列 {a} 和 {b} 都表示 {field}", "columns {a} and {b} both mean {field}"),
    "encoding": (
        "第 {line} 行既不是 UTF-8 也不是 GB18030/GBK 编码（字节 0x{byte}；看起来像 {guess}）：请另存为 UTF-8",
        "line {line} is neither UTF-8 nor GB18030/GBK text (byte 0x{byte}; it looks like {guess}): "
        "save the file as UTF-8",
    ),
    "mixed_encoding": (
        "混用了两种文字编码：第 {lines} 行是 UTF-8，第 {line} 行是 GB18030/GBK（从别的文件粘贴的行？）："
        "请统一另存为一种编码（UTF-8）后重新导入",
        "mixes two text encodings: line {lines} is UTF-8 but line {line} is GB18030/GBK "
        "(rows pasted from another file?); save the file again in one encoding (UTF-8) and import it again",
    ),
    "binary": ("不是文本文件（含有二进制数据）", "is not a text file (it holds binary data)"),
    "unreadable": ("无法读取：{detail}", "cannot be read: {detail}"),
    "layers": (
        "包含多个图层（{layers}），请用 --layer 指定",
        "holds several layers ({layers}); choose one with --layer",
    ),
    "no_layer": ("没有名为 {layer} 的图层（有：{layers}）", "has no layer {layer} (it has: {layers})"),
    "no_sheet": ("没有名为 {sheet} 的工作表（有：{sheets}）", "has no sheet {sheet} (it has: {sheets})"),
    "no_crs": (
        "没有坐标系，且坐标不是经纬度：请用 --crs 指定（EPSG:4326、4490、32651、gcj02 或 bd09）",
        "has no coordinate reference system and its coordinates are not longitude/latitude: "
        "give one with --crs (EPSG:4326, 4490, 32651, gcj02 or bd09)",
    ),
    "bad_crs": ("坐标系 {crs} 无法识别", "coordinate reference system {crs} is not recognised"),
    # row problems (the row is rejected)
    "required": ("必填，但为空", "is required but empty"),
    "bad_int": ("{value} 不是整数", "{value} is not a whole number"),
    "bad_float": ("{value} 不是数字", "{value} is not a number"),
    "bad_bool": ("{value} 不是 是/否（1/0）", "{value} is not yes/no (1/0)"),
    "bad_date": (
        "{value} 不是日期（请用 2023-02-15、2023/2/15、2023年2月15日 或 Excel 日期）",
        "{value} is not a date (use 2023-02-15, 2023/2/15, 2023年2月15日 or an Excel date)",
    ),
    "bad_choice": ("{value} 不是可选值（{choices}）", "{value} is not one of {choices}"),
    "bad_tag": ("{value} 不是已知标签（{choices}）", "{value} is not a known tag ({choices})"),
    "too_long": ("有 {n:,} 个字符，最多 {max:,} 个", "has {n:,} characters; at most {max:,}"),
    "too_small": ("{value} 小于 {min}", "{value} is below {min}"),
    "too_large": ("{value} 大于 {max}", "{value} is above {max}"),
    "future": ("{value} 是将来的时间（现在 {now}）", "{value} is in the future (now {now})"),
    "too_old": ("{value} 早于 2000 年：请检查年份", "{value} is before 2000: check the year"),
    "formula": (
        "单元格 {cell} 是公式（{value}），不是数值：请粘贴为数值",
        "cell {cell} holds a formula ({value}), not a value: paste values only",
    ),
    "ragged": ("这一行有 {n} 个单元格，表头只有 {m} 个", "the row has {n} cells but the header only {m}"),
    "sci_notation": (
        "{value} 是 Excel 的科学计数法，后面的数字已丢失：请在 Excel 中把这一列设为文本"
        "（设置单元格格式 → 文本）后重新填入，或从原系统按文本导出",
        "{value} is a number in Excel's scientific notation: its digits after the first few are lost. "
        "Format the column as Text in Excel (Format Cells → Text) and enter the values again, "
        "or export them from the source system as text",
    ),
    "lost_zeros": (
        "{value} 看起来丢了开头的 0（其他以 0 开头的编号都是 {length} 位）："
        "Excel 把这一列当成了数字；请把这一列设为文本（设置单元格格式 → 文本）后重新导出",
        "{value} looks like a number that lost its leading zeros (the ids starting with 0 have "
        "{length} digits): Excel took the column for numbers; format it as Text "
        "(Format Cells → Text) and export it again",
    ),
    "lost_text": (
        "{value} 只剩问号：文件保存时用了不含中文的编码（如 ISO-8859-1），文字已丢失；"
        "请用 UTF-8 重新导出（Shapefile：带内容为 UTF-8 的 .cpg 文件）",
        "{value} is only question marks: the text was lost when the file was saved in an encoding "
        "without Chinese characters (e.g. ISO-8859-1); export it again as UTF-8 "
        "(a Shapefile: with a .cpg file saying UTF-8)",
    ),
    "unknown_ref": ("{what} {value} 不存在", "unknown {what} {value}"),
    "dup_in_file": ("与第 {other} 行重复", "duplicates row {other}"),
    "dup_conflict": (
        "{key} 在第 {others} 行也出现，但内容不同",
        "{key} also appears in row(s) {others} with other values",
    ),
    "conflict_db": (
        "数据库中已有 {key}，但内容不同：{diff}",
        "{key} is already in the database with other values: {diff}",
    ),
    "id_taken": ("编号 {value} 在数据库中已用于另一条记录", "id {value} is already used for another record"),
    "idem_taken": (
        "幂等键 {value} 在数据库中已用于另一次走访",
        "key {value} is already used for another visit",
    ),
    "closed_needs_time": ("已结案的诉求需要结案时间", "a closed issue needs its closing time"),
    "closed_but_open": (
        "有结案时间，但状态是 {value}（应为 结案/closed）",
        "has a closing time but the status is {value} (expected closed)",
    ),
    "before_open": ("{value} 早于发现时间 {opened}", "{value} is before the opening time {opened}"),
    "not_in_grid": ("楼栋 {value} 不属于网格 {grid}", "building {value} is not in grid {grid}"),
    "not_in_building": (
        "户 {value} 不属于楼栋 {building}",
        "household {value} is not in building {building}",
    ),
    "no_place": (
        "需要网格、楼栋、户号或可识别的地址之一",
        "needs a grid, building, household or a known address",
    ),
    "address_unknown": ("地址 {value} 找不到对应楼栋", "no building has the address {value}"),
    "address_ambiguous": ("地址 {value} 对应多个楼栋", "the address {value} matches several buildings"),
    "office_swapped": (
        "经纬度看起来颠倒了（经度 {lon}，纬度 {lat}）",
        "longitude and latitude look swapped (longitude {lon}, latitude {lat})",
    ),
    "geom_missing": ("没有几何图形", "has no geometry"),
    "geom_type": ("几何类型是 {value}，应为面（Polygon）", "the geometry is a {value}, not a polygon"),
    "geom_invalid": (
        "几何图形无效且无法修复：{value}",
        "the geometry is invalid and cannot be repaired: {value}",
    ),
    "geom_swapped": (
        "坐标看起来经纬度颠倒了（{value}）",
        "the coordinates look like latitude/longitude swapped ({value})",
    ),
    "geom_outside": (
        "坐标不在中国范围内（{value}）：请检查坐标系",
        "the coordinates are outside China ({value}): check the coordinate system",
    ),
    "outside_grids": (
        "不在任何网格内，且没有给出网格编号",
        "lies outside every grid and names no grid",
    ),
    # warnings (rows are kept)
    "repaired": (
        "几何图形无效（{value}），已修复",
        "the geometry was invalid ({value}) and has been repaired",
    ),
    "overlap": ("与网格 {other} 重叠 {area:,.0f} 平方米", "overlaps grid {other} by {area:,.0f} m²"),
    "outside_own_grid": (
        "不在所属网格 {grid} 内（位于网格 {inside}）",
        "lies outside its grid {grid} (it stands in grid {inside})",
    ),
    "outside_every_grid": (
        "不在所属网格 {grid} 内，也不在任何网格内",
        "lies outside its grid {grid} and outside every grid",
    ),
    "placed": ("根据位置归入网格 {grid}", "placed in grid {grid} by its location"),
    "swapped_file": (
        "文件的经纬度是颠倒的，已自动调换",
        "the file's latitude and longitude were swapped; they have been swapped back",
    ),
    "crs_assumed": (
        "文件没有坐标系；坐标像经纬度，按 WGS84（EPSG:4326）处理",
        "the file has no coordinate reference system; its coordinates look like longitude/latitude "
        "and are read as WGS84 (EPSG:4326)",
    ),
    "crs_converted": ("坐标已从 {crs} 转换为 WGS84", "coordinates converted from {crs} to WGS84"),
    "ignored_columns": ("以下列未使用：{columns}", "columns not used: {columns}"),
    "title_rows": (
        "表头在第 {row} 行，上面的行已跳过",
        "the header is on row {row}; the rows above were skipped",
    ),
    "other_sheets": (
        "只读取了工作表 {sheet}（另有：{others}）",
        "only sheet {sheet} was read (also: {others})",
    ),
    "encoding_used": ("文本编码：{encoding}", "text encoding: {encoding}"),
}
"""Every message, ``code -> (中文, English)`` templates."""

WARNING_CODES = frozenset(
    {
        "repaired",
        "overlap",
        "outside_own_grid",
        "outside_every_grid",
        "placed",
        "swapped_file",
        "crs_assumed",
        "crs_converted",
        "ignored_columns",
        "title_rows",
        "other_sheets",
        "encoding_used",
    }
)
"""Codes that report something but keep the row."""


def message(code: str, lang: str = "en", **params: Any) -> str:
    """Return the message ``code`` in ``lang`` (``"zh"`` or ``"en"``) with ``params`` filled in.

    >>> message("required")
    'is required but empty'
    >>> message("too_long", "zh", n=10485760, max=2000)
    '有 10,485,760 个字符，最多 2,000 个'
    """
    zh, en = MESSAGES[code]
    return (zh if lang == "zh" else en).format(**params)


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def one_line(text: str) -> str:
    """Make user text safe for a one-line message: control characters become escapes.

    >>> print(one_line("备" + chr(10) + "注"))
    备\\n注
    """
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class IngestError(ValueError):
    """A file that cannot be imported at all (nothing was written); one clear line.

    ``str(err)`` names the file; ``err.code`` and ``err.params`` allow translation.
    """

    def __init__(self, file: str, code: str, **params: Any) -> None:
        self.file = one_line(file)
        self.code = code
        self.params = {k: one_line(v) if isinstance(v, str) else v for k, v in params.items()}
        super().__init__(f"{self.file}: {message(code, 'en', **self.params)}")

    def text(self, lang: str = "en") -> str:
        """Return the message in ``lang``."""
        return f"{self.file}: {message(self.code, lang, **self.params)}"


@dataclass
class Finding:
    """One kind of problem found at some rows (or the whole file when ``positions`` is None).

    ``values[i]`` is the offending value at ``positions[i]``; ``extra`` the
    message's other parameters (the same for every row), ``per_row`` those that
    differ per row.
    """

    code: str
    column: str | None
    positions: np.ndarray | None = None
    values: Sequence[Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    per_row: Sequence[Mapping[str, Any]] | None = None
    quote: bool = True
    """Quote the values (they are what a person typed); geometry reasons are not quoted."""

    @property
    def is_warning(self) -> bool:
        """Tell whether the rows are kept despite this finding."""
        return self.code in WARNING_CODES

    def text(self, i: int | None = None, lang: str = "en") -> str:
        """Return the message for the ``i``-th position (or the file-wide one)."""
        params = dict(self.extra)
        if i is not None and self.values is not None:
            params["value"] = quote(self.values[i]) if self.quote else str(self.values[i])
        if i is not None and self.per_row is not None:
            params.update(self.per_row[i])
        return message(self.code, lang, **params)


def quote(value: Any) -> str:
    if (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float | np.floating) and value != value)
    ):
        return "(empty)"
    if isinstance(value, np.datetime64) and np.isnat(value):
        return "(empty)"
    if isinstance(value, np.datetime64 | pd.Timestamp | dt.datetime):
        return str(pd.Timestamp(value))
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if len(text) > MAX_CELL_SHOWN:
        text = text[: MAX_CELL_SHOWN - 1] + "…"
    return repr(text)


def found(
    findings: list[Finding],
    code: str,
    column: str | None,
    mask_or_pos: np.ndarray,
    values: Sequence[Any] | np.ndarray | None = None,
    **extra: Any,
) -> None:
    """Record ``code`` at the rows selected by a boolean mask (over all rows) or positions."""
    pos = (
        np.flatnonzero(mask_or_pos) if mask_or_pos.dtype == bool else np.asarray(mask_or_pos, dtype=np.int64)
    )
    if len(pos) == 0:
        return
    vals: Sequence[Any] | None = None
    if values is not None:
        arr = np.asarray(values, dtype=object)
        vals = list(arr[pos] if len(arr) != len(pos) or mask_or_pos.dtype == bool else arr)
    findings.append(Finding(code, column, pos, vals, dict(extra)))


def rejected_rows(findings: Sequence[Finding], n: int) -> np.ndarray:
    """Return which of ``n`` rows some finding rejects (warnings keep their rows)."""
    bad = np.zeros(n, dtype=bool)
    for f in findings:
        if f.positions is not None and not f.is_warning:
            bad[f.positions] = True
    return bad
