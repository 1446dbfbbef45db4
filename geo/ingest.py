"""Files in → validated rows, and rejects with their reasons: nothing is lost, nothing half-read.

Real districts bring their own boundaries and registers, in the coordinate
systems, encodings and spreadsheet habits of Shanghai offices. This module
reads them and checks every row; :mod:`geo.store.imports` writes what passed.

Formats
-------
* **Layers** (``streets``, ``committees``, ``grids``, ``buildings``): GeoPackage,
  zipped Shapefile, GeoJSON (read with pyogrio). The CRS comes from the file or
  is given: EPSG:4326, EPSG:4490 (CGCS2000, taken as equal), EPSG:32651 (UTM
  51N) or ``"gcj02"`` (shifted back to WGS84); other CRSs a file declares are
  reprojected. A file whose latitude and longitude are swapped is swapped back
  and reported; a single feature that is swapped is rejected. Invalid polygons
  are repaired with ``shapely.make_valid`` when the result is still polygonal
  (reported), else rejected with GEOS' reason.
* **Tables** (``households``, ``workers``, ``grid_workers``, ``visits``,
  ``issues``): ``.xlsx`` (openpyxl) and ``.csv`` in UTF-8, UTF-8 with BOM,
  UTF-16 with BOM or GB18030/GBK, detected. Headers in Chinese or English
  (:data:`HEADERS`, documented in ``docs/import.md``); a title row above the
  header is skipped. Dates as ``2023-02-15``, ``2023/2/15``, ``2023年2月15日``,
  ``20230215`` or Excel dates, with an optional time.

Row numbers are spreadsheet rows: the header is row 1 when it is the first
line, blank lines count. For layers the row is the feature's number (1-based).

The steps are pure functions over frames, so the tests, the CLI and the page
share them: :func:`read_file` (fatal problems raise :class:`IngestError`) →
:func:`check_rows` (types, required values, ranges, geometry) →
:func:`check_against` (references, duplicates within the file and against the
database, spatial checks, given :class:`Refs` fetched by the store) →
:class:`ImportReport` (counts, messages and the rejects file).

Examples
--------
>>> text = "户号,楼栋编号,人数,标签\\nH1,B1,3,独居老人\\nH2,B9,x,\\n"
>>> raw = read_file(Source("hh.csv", text.encode("gb18030")), "households")
>>> raw.encoding, raw.mapping
('gb18030', {'户号': 'household_id', '楼栋编号': 'building_id', '人数': 'residents', '标签': 'tags'})
>>> checked = check_rows(raw, now=dt.datetime(2024, 1, 1))
>>> verdict = check_against(checked, Refs(ids={"buildings": {"B1"}}))
>>> report = ImportReport.build(checked, verdict)
>>> report.accepted, report.rejected, report.unchanged
(1, 1, 0)
>>> print(report.rejects_frame().iloc[0]["_reason"])
人数 (residents): 'x' is not a whole number; 楼栋编号 (building_id): unknown building 'B9'
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs as gcrs

__all__ = [
    "HEADERS",
    "KINDS",
    "LAYER_KINDS",
    "MESSAGES",
    "SPECS",
    "TABLE_KINDS",
    "Checked",
    "Field",
    "Finding",
    "ImportReport",
    "IngestError",
    "RawFile",
    "Refs",
    "Source",
    "Spec",
    "Verdict",
    "check_against",
    "check_rows",
    "decode_text",
    "escape_csv",
    "header_aliases",
    "parse_datetimes",
    "read_file",
    "rejects_bytes",
    "sniff_format",
    "unescape_csv",
]

LAYER_KINDS = ("streets", "committees", "grids", "buildings")
"""Kinds that come from GIS files, in the order they depend on each other."""

TABLE_KINDS = ("households", "workers", "grid_workers", "visits", "issues")
"""Kinds that come from spreadsheets, in dependency order."""

KINDS = (*LAYER_KINDS, *TABLE_KINDS)
"""Everything that can be imported (the names of the store's tables)."""

KIND_NAMES = {
    "streets": "街道",
    "committees": "居委会",
    "grids": "网格",
    "buildings": "楼栋",
    "households": "住户",
    "workers": "社工",
    "grid_workers": "网格分工",
    "visits": "走访记录",
    "issues": "诉求",
}
"""The Chinese name of each kind, for summaries."""

MAX_ID = 64
"""Longest identifier accepted, in characters."""

MAX_SHORT = 200
"""Longest name, unit, phone or category accepted."""

MAX_LONG = 2000
"""Longest note, issue title or address accepted."""

MAX_CELL_SHOWN = 60
"""Characters of an offending value quoted in a message."""

EARLIEST = dt.datetime(2000, 1, 1)
"""Times before this are refused as implausible (a mistyped year, a number that is no date)."""

OVERLAP_M2 = 1.0
"""Grids overlapping by more than this many square metres are reported."""

CHINA_BOUNDS = (73.0, 18.0, 135.0, 54.0)
"""(west, south, east, north): coordinates outside are refused."""

HEADER_SCAN_ROWS = 20
"""The header is looked for in this many first rows (title rows above it are skipped)."""

csv.field_size_limit(1 << 30)  # a 10 MB cell is read, then refused with a message, never a crash

Format = Literal["csv", "xlsx", "gpkg", "geojson", "shapefile"]

# --------------------------------------------------------------------------- messages

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
    "same_column": ("列 {a} 和 {b} 都表示 {field}", "columns {a} and {b} both mean {field}"),
    "encoding": (
        "第 {line} 行既不是 UTF-8 也不是 GB18030/GBK 编码（字节 0x{byte}；看起来像 {guess}）：请另存为 UTF-8",
        "line {line} is neither UTF-8 nor GB18030/GBK text (byte 0x{byte}; it looks like {guess}): "
        "save the file as UTF-8",
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


# --------------------------------------------------------------------------- specs

FieldType = Literal["id", "text", "int", "float", "bool", "datetime", "choice", "tags"]


@dataclass(frozen=True)
class Field:
    """One column of an import: its type and rules.

    ``required``: the column must be present and every value non-empty.
    ``default``: the value used where the column is absent or a cell empty.
    ``ref``: the kind whose id this column names (checked against the database).
    """

    name: str
    type: FieldType = "text"
    required: bool = False
    default: Any = None
    choices: Mapping[str, str] | None = None
    ref: str | None = None
    min: float | None = None
    max: float | None = None
    past: bool = False
    max_len: int = MAX_SHORT
    virtual: bool = False
    """Read from the file but not stored as such (e.g. ``vacant``, ``address``)."""


def _choices(spec: Mapping[str, Sequence[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for code, aliases in spec.items():
        for a in (code, *aliases):
            out[_norm_value(a)] = code
    return out


def _norm_value(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", text).lower())


OUTCOME_WORDS = {
    "met": ("见面", "已见面", "面见", "见到", "入户见面", "见到本人"),
    "not_home": ("不在家", "未见面", "无人", "家中无人", "未遇", "not home"),
    "refused": ("拒访", "拒绝", "拒绝走访", "拒绝入户"),
    "vacant": ("空置", "空户", "空房", "无人居住"),
    "inaccessible": ("无法进入", "无法入户", "进不去", "门禁"),
}
CHANNEL_WORDS = {
    "door": ("上门", "入户", "走访", "门访", "当面"),
    "phone": ("电话", "电访", "电话走访"),
    "online": ("线上", "网上", "微信", "视频"),
}
KIND_WORDS = {
    "walkup": ("步梯房", "多层", "步梯", "六层步梯房"),
    "highrise": ("高层", "电梯房", "高层住宅"),
    "lane": ("里弄", "老公房", "弄堂", "石库门"),
}
ROLE_WORDS = {"leader": ("网格长", "组长"), "member": ("组员", "成员", "网格员", "社工")}
SOURCE_WORDS = {
    "visit": ("走访", "上门走访"),
    "hotline": ("热线", "12345", "12345热线", "市民热线"),
    "online": ("随申办", "数智普陀", "网上", "线上", "一网通办"),
}
LEVEL_WORDS = {
    "building": ("楼栋", "楼"),
    "grid": ("网格", "微网格"),
    "committee": ("居委", "居委会", "居村", "居民区"),
    "street": ("街道", "街镇", "镇"),
    "district": ("区", "区级"),
}
STATUS_WORDS = {
    "open": ("发现", "待处理", "新建", "待受理", "已受理", "未处理"),
    "dispatched": ("派遣", "已派遣", "派单", "已派单"),
    "handled": ("处置", "已处置", "处理中", "办理中", "已处理"),
    "verified": ("核查", "已核查", "待结案"),
    "closed": ("结案", "已结案", "办结", "已办结", "关闭", "已关闭"),
}
TAG_WORDS = {
    "alone_elderly": ("独居老人", "独居"),
    "very_old": ("高龄", "高龄老人"),
    "disabled": ("残疾", "残疾人"),
    "low_income": ("低保", "低保户"),
    "small_children": ("有12岁以下儿童", "12岁以下儿童", "儿童", "有小孩"),
}
TRUE_WORDS = ("1", "是", "y", "yes", "true", "t", "对", "√", "有")
FALSE_WORDS = ("0", "否", "n", "no", "false", "f", "无", "×")
OCCUPIED_WORDS = {"1": (*TRUE_WORDS, "在住", "入住", "有人"), "0": (*FALSE_WORDS, "空置", "空关", "无人")}
ACTIVE_WORDS = {"1": (*TRUE_WORDS, "在岗", "在职"), "0": (*FALSE_WORDS, "离岗", "离职", "停用")}
VACANT_WORDS = {"1": (*TRUE_WORDS, "空置", "空关"), "0": (*FALSE_WORDS, "在住", "入住")}


def _f(name: str, type_: FieldType = "text", **kw: Any) -> Field:
    return Field(name, type_, **kw)


@dataclass(frozen=True)
class Spec:
    """What a kind's file holds: its fields, its key and whether it has geometry."""

    kind: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    layer: bool = False

    def field(self, name: str) -> Field:
        """Return the field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Return every field's name."""
        return tuple(f.name for f in self.fields)


SPECS: dict[str, Spec] = {
    "streets": Spec(
        "streets",
        (_f("street_id", "id", required=True), _f("name", required=True)),
        ("street_id",),
        layer=True,
    ),
    "committees": Spec(
        "committees",
        (
            _f("committee_id", "id", required=True),
            _f("street_id", "id", required=True, ref="streets"),
            _f("name", required=True),
            _f("office_lon", "float", min=-180, max=180),
            _f("office_lat", "float", min=-90, max=90),
        ),
        ("committee_id",),
        layer=True,
    ),
    "grids": Spec(
        "grids",
        (
            _f("grid_id", "id", required=True),
            _f("committee_id", "id", required=True, ref="committees"),
            _f("name", required=True),
        ),
        ("grid_id",),
        layer=True,
    ),
    "buildings": Spec(
        "buildings",
        (
            _f("building_id", "id", required=True),
            _f("grid_id", "id", ref="grids"),
            _f("name", max_len=MAX_LONG),
            _f("kind", "choice", choices=_choices(KIND_WORDS)),
            _f("floors", "int", min=0, max=200),
        ),
        ("building_id",),
        layer=True,
    ),
    "households": Spec(
        "households",
        (
            _f("household_id", "id", required=True),
            _f("building_id", "id", required=True, ref="buildings"),
            _f("unit"),
            _f("occupied", "bool", default=1, choices=_choices(OCCUPIED_WORDS)),
            _f("vacant", "bool", choices=_choices(VACANT_WORDS), virtual=True),
            _f("residents", "int", required=True, min=0, max=100),
            _f("head_name"),
            _f("phone"),
            _f("tags", "tags", default="", choices=_choices(TAG_WORDS)),
        ),
        ("household_id",),
    ),
    "workers": Spec(
        "workers",
        (
            _f("worker_id", "id", required=True),
            _f("name", required=True),
            _f("committee_id", "id", required=True, ref="committees"),
            _f("phone"),
            _f("active", "bool", default=1, choices=_choices(ACTIVE_WORDS)),
        ),
        ("worker_id",),
    ),
    "grid_workers": Spec(
        "grid_workers",
        (
            _f("grid_id", "id", required=True, ref="grids"),
            _f("worker_id", "id", required=True, ref="workers"),
            _f("role", "choice", default="member", choices=_choices(ROLE_WORDS)),
        ),
        ("grid_id", "worker_id"),
    ),
    "visits": Spec(
        "visits",
        (
            _f("visit_id", "int", min=1, max=2**62),
            _f("household_id", "id", required=True, ref="households"),
            _f("worker_id", "id", required=True, ref="workers"),
            _f("visited_at", "datetime", required=True, past=True),
            _f("outcome", "choice", required=True, choices=_choices(OUTCOME_WORDS)),
            _f("channel", "choice", default="door", choices=_choices(CHANNEL_WORDS)),
            _f("note", default="", max_len=MAX_LONG),
            _f("idem_key", max_len=128),
        ),
        ("household_id", "worker_id", "visited_at"),
    ),
    "issues": Spec(
        "issues",
        (
            _f("issue_id", "int", min=1, max=2**62),
            _f("ref", max_len=MAX_ID),
            _f("grid_id", "id", ref="grids"),
            _f("building_id", "id", ref="buildings"),
            _f("household_id", "id", ref="households"),
            _f("address", max_len=MAX_LONG, virtual=True),
            _f("category", required=True),
            _f("source", "choice", choices=_choices(SOURCE_WORDS)),  # or from the import's --source
            _f("level", "choice", default="grid", choices=_choices(LEVEL_WORDS)),
            _f("status", "choice", default="open", choices=_choices(STATUS_WORDS)),
            _f("opened_at", "datetime", required=True, past=True),
            _f("due_at", "datetime"),
            _f("closed_at", "datetime", past=True),
            _f("title", default="", max_len=MAX_LONG),
        ),
        ("grid_id", "source", "category", "opened_at", "title"),
    ),
}
"""The rules of every kind. Keys of ``visits`` and ``issues`` are natural keys (their
ids are assigned by the store unless the file brings them)."""

REF_WHAT = {
    "streets": ("街道", "street"),
    "committees": ("居委会", "committee"),
    "grids": ("网格", "grid"),
    "buildings": ("楼栋", "building"),
    "households": ("户", "household"),
    "workers": ("社工", "worker"),
}

# --------------------------------------------------------------------------- headers

_COMMON_HEADERS: dict[str, tuple[str, ...]] = {
    "street_id": ("街道编号", "街道代码", "街镇编号", "街道id"),
    "committee_id": ("居委会编号", "居委编号", "居民区编号", "居委会代码", "社区编号", "居委会id"),
    "grid_id": ("网格编号", "网格号", "网格代码", "微网格编号", "网格id"),
    "building_id": ("楼栋编号", "楼栋号", "楼号", "楼栋代码", "楼栋id"),
    "household_id": ("户号", "户编号", "住户编号", "户代码", "户id"),
    "worker_id": ("社工编号", "工号", "社工工号", "走访人编号", "工作人员编号", "社工id"),
    "phone": ("联系电话", "电话", "手机", "手机号", "手机号码"),
}

_KIND_HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "streets": {"name": ("街道名称", "名称", "街道", "街镇名称")},
    "committees": {
        "name": ("居委会名称", "名称", "居委名称", "居民区名称", "居委会"),
        "office_lon": ("办公点经度", "经度", "lon", "longitude"),
        "office_lat": ("办公点纬度", "纬度", "lat", "latitude"),
    },
    "grids": {"name": ("网格名称", "名称", "网格")},
    "buildings": {
        "name": ("楼栋名称", "地址", "楼栋地址", "门牌地址", "名称"),
        "kind": ("楼栋类型", "房屋类型", "类型"),
        "floors": ("层数", "楼层数", "总层数"),
    },
    "households": {
        "unit": ("室号", "房号", "门牌", "室", "房间号"),
        "occupied": ("在住", "是否在住", "入住"),
        "vacant": ("空置", "是否空置"),
        "residents": ("人数", "居住人数", "常住人数", "户内人数", "在住人数"),
        "head_name": ("户主", "户主姓名", "姓名"),
        "tags": ("标签", "人群标签", "重点人群", "特殊人群", "人群类别"),
    },
    "workers": {
        "name": ("姓名", "社工姓名", "名字"),
        "active": ("在岗", "是否在岗", "状态"),
    },
    "grid_workers": {"role": ("角色", "职务", "岗位")},
    "visits": {
        "visit_id": ("走访编号", "记录编号", "走访id"),
        "visited_at": ("走访时间", "走访日期", "时间", "日期", "访问时间"),
        "outcome": ("结果", "走访结果", "见面情况", "走访情况"),
        "channel": ("方式", "走访方式", "渠道", "走访渠道"),
        "note": ("备注", "民情笔记", "走访记录", "情况记录", "记录"),
        "idem_key": ("幂等键",),
    },
    "issues": {
        "issue_id": ("诉求编号", "诉求id"),
        "ref": ("工单编号", "工单号", "案件编号", "受理编号", "诉求单号", "工单id"),
        "address": ("地址", "事发地址", "发生地址", "诉求地址", "问题地址"),
        "category": ("类别", "诉求类别", "问题类别", "分类", "事项类别", "诉求类型", "问题分类"),
        "source": ("来源", "诉求来源", "渠道"),
        "level": ("层级", "处置层级", "级别"),
        "status": ("状态", "办理状态", "处置状态", "工单状态"),
        "opened_at": ("发现时间", "登记时间", "受理时间", "上报时间", "反映时间", "立案时间", "来电时间"),
        "due_at": ("期限", "办理时限", "截止时间", "处置期限", "办理期限"),
        "closed_at": ("结案时间", "办结时间"),
        "title": ("标题", "诉求内容", "问题描述", "内容", "事项", "来电内容"),
    },
}


def header_aliases(kind: str) -> dict[str, tuple[str, ...]]:
    """Return, for each field of ``kind``, the headers that name it (Chinese first, then English).

    >>> header_aliases("visits")["outcome"]
    ('结果', '走访结果', '见面情况', '走访情况', 'outcome')
    """
    spec = SPECS[kind]
    own = _KIND_HEADERS.get(kind, {})
    out: dict[str, tuple[str, ...]] = {}
    for name in spec.names:
        zh = own.get(name) or _COMMON_HEADERS.get(name, ())
        english = tuple(a for a in zh if a.isascii())
        out[name] = (*(a for a in zh if not a.isascii()), name, *english)
    return out


HEADERS: dict[str, dict[str, tuple[str, ...]]] = {k: header_aliases(k) for k in KINDS}
"""The header mapping of every kind: ``HEADERS[kind][field]`` lists the accepted headers."""


def _norm_header(text: object) -> str:
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    s = re.sub(r"[(\[【].*?[)\]】]", "", s)  # notes such as （必填） or (YYYY-MM-DD)
    return re.sub(r"[\s_\-·./*:]+", "", s)


def _header_lookup(kind: str, columns: Mapping[str, str] | None, *, dbf: bool = False) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for name, aliases in HEADERS[kind].items():
        for a in aliases:
            lookup.setdefault(_norm_header(a), name)
    if dbf:
        # Shapefile (dBASE) field names hold at most 10 bytes: accept headers cut there.
        for name, aliases in HEADERS[kind].items():
            for a in aliases:
                for enc in ("utf-8", "gbk"):
                    cut = a.encode(enc)[:10].decode(enc, errors="ignore")
                    if cut != a and cut:
                        lookup.setdefault(_norm_header(cut), name)
    for src, dest in (columns or {}).items():
        if dest not in SPECS[kind].names:
            raise ValueError(
                f"--map {src}={dest}: {kind} have no field {dest!r}; fields: {', '.join(SPECS[kind].names)}"
            )
        lookup[_norm_header(src)] = dest
    return lookup


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Source:
    """A file to import: its name (for messages) and its bytes.

    >>> Source.of(b"a,b\\n", name="x.csv").name
    'x.csv'
    """

    name: str
    data: bytes = field(repr=False)

    @classmethod
    def of(cls, file: Any, *, name: str | None = None) -> Source:
        """Return a source from a path, bytes or a binary file object (an upload)."""
        import os
        from pathlib import Path

        if isinstance(file, Source):
            return file
        if isinstance(file, bytes | bytearray | memoryview):
            return cls(name or "upload", bytes(file))
        if isinstance(file, str | os.PathLike):
            path = Path(file)
            if not path.exists():
                raise IngestError(str(path), "unreadable", detail="no such file")
            if path.is_dir():
                raise IngestError(str(path), "unreadable", detail="it is a folder")
            if path.suffix.lower() == ".shp":
                return cls(name or path.name, _zip_shapefile(path))
            return cls(name or path.name, path.read_bytes())
        data = file.read()
        return cls(name or str(getattr(file, "name", "upload")), bytes(data))


def _zip_shapefile(path: Any) -> bytes:
    """Zip a ``.shp`` with its sidecar files, so a Shapefile travels as one blob."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for sib in sorted(path.parent.glob(path.stem + ".*")):
            z.write(sib, sib.name)
    return buf.getvalue()


_FORMAT_NAMES = {
    "csv": ("CSV 表格", "a CSV table"),
    "xlsx": ("Excel 工作簿（.xlsx）", "an Excel workbook (.xlsx)"),
    "gpkg": ("GeoPackage", "a GeoPackage"),
    "geojson": ("GeoJSON", "a GeoJSON file"),
    "shapefile": ("压缩的 Shapefile", "a zipped Shapefile"),
}

_MAGIC = (
    (
        b"\xd0\xcf\x11\xe0",
        (
            "旧版 Excel 97-2003 工作簿（.xls），请另存为 .xlsx",
            "an old Excel 97-2003 workbook (.xls); save it as .xlsx",
        ),
    ),
    (b"%PDF", ("PDF 文档", "a PDF document")),
    (b"\x89PNG", ("PNG 图片", "a PNG image")),
    (b"\xff\xd8\xff", ("JPEG 图片", "a JPEG image")),
    (b"GIF8", ("GIF 图片", "a GIF image")),
    (b"\x1f\x8b", ("gzip 压缩文件", "a gzip archive")),
    (b"Rar!", ("RAR 压缩文件", "a RAR archive")),
    (b"7z\xbc\xaf", ("7z 压缩文件", "a 7z archive")),
)


def sniff_format(source: Source) -> Format:
    """Tell a file's format from its content (never from its name).

    Raises :class:`IngestError` for an empty file or a kind that is never
    imported (an old ``.xls``, a PDF, an image, another archive).

    >>> sniff_format(Source("a.txt", "户号,人数\\n".encode()))
    'csv'
    >>> sniff_format(Source("a.csv", b"%PDF-1.7"))
    Traceback (most recent call last):
    ...
    geo.ingest.IngestError: a.csv: this is a PDF document, not a table or GIS file
    """
    data = source.data
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise IngestError(source.name, "empty")
    if data[:4] == b"PK\x03\x04":
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile as exc:
            raise IngestError(source.name, "unreadable", detail=f"a damaged ZIP archive ({exc})") from None
        lower = [n.lower() for n in names]
        if "[content_types].xml" in lower and any(n.startswith("xl/") for n in lower):
            return "xlsx"
        if any(n.endswith(".shp") for n in lower):
            return "shapefile"
        what = (
            "a Word document"
            if any(n.startswith("word/") for n in lower)
            else "a ZIP archive without a Shapefile"
        )
        raise IngestError(source.name, "wrong_kind", what=what, expected="a table or GIS file")
    if data[:16] == b"SQLite format 3\x00":
        return "gpkg"
    for magic, (_zh, en) in _MAGIC:
        if data.startswith(magic):
            raise IngestError(source.name, "wrong_kind", what=en, expected="a table or GIS file")
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] == b"{" and re.search(rb'"(type|features)"\s*:', head):
        return "geojson"
    return "csv"


# --------------------------------------------------------------------------- text


def decode_text(data: bytes, *, name: str = "file") -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030/GBK.

    Returns the text and the encoding used. Bytes that are none of these
    raise :class:`IngestError` naming the first bad line and charset-normalizer's
    guess, rather than importing garbled names.

    >>> decode_text("户号".encode("gbk"))
    ('户号', 'gb18030')
    >>> decode_text(b"\\xef\\xbb\\xbfid")
    ('id', 'utf-8-sig')
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data, "utf-8-sig", name), "utf-8-sig"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return _strict(data, "utf-16", name), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    if b"\x00" in data[:4096]:
        guess = _guess(data)
        if guess.startswith("utf_16"):
            return _strict(data, guess.replace("_", "-"), name), guess.replace("_", "-")
        raise IngestError(name, "binary")
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass
    line = data[:first_bad].count(b"\n") + 1
    raise IngestError(name, "encoding", line=line, byte=f"{data[first_bad]:02x}", guess=_guess(data))


def _strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IngestError(
            name, "encoding", line=line, byte=f"{data[exc.start]:02x}", guess=_guess(data)
        ) from None


def _guess(data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    return best.encoding if best is not None else "binary data"


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


# --------------------------------------------------------------------------- reading


@dataclass
class Original:
    """The rows as they were in the file: a 2-D array of cells under the file's own headers.

    Kept as one array (not a frame) because a frame of a million rows costs a
    second to build and is needed only for the few rows that are rejected.
    """

    headers: list[str]
    grid: np.ndarray
    geometry: Any = None
    """GIS files: the features as read, before any change of coordinates."""

    @property
    def columns(self) -> list[str]:
        """Return the headers (and ``geometry`` for GIS files)."""
        return [*self.headers, "geometry"] if self.geometry is not None else list(self.headers)

    def rows(self, positions: np.ndarray) -> pd.DataFrame:
        """Return the rows at ``positions`` as a frame."""
        pos = np.asarray(positions, dtype=np.int64)
        frame = pd.DataFrame(
            {h: pd.Series(self.grid[pos, j], dtype=object) for j, h in enumerate(self.headers)},
            index=pd.RangeIndex(len(pos)),
        )
        if self.geometry is not None:
            frame["geometry"] = np.asarray(self.geometry, dtype=object)[pos]
        return frame


@dataclass
class RawFile:
    """A file as read: every cell as text under its field name, and what is needed to reject rows.

    ``cells`` holds one object column of ``str`` per mapped field (canonical
    names); ``original`` the rows as they were (original headers and values)
    for the rejects file; ``rows`` the spreadsheet row (or feature) number of
    each; ``formulas`` the positions of formula cells per field; ``ragged`` the
    positions of rows with more cells than the header; ``geometry`` the
    features already in WGS84 (layers only).
    """

    source: Source
    kind: str
    format: Format
    cells: pd.DataFrame
    original: Original
    rows: np.ndarray
    mapping: dict[str, str]
    header_row: int = 1
    encoding: str | None = None
    delimiter: str = ","
    formulas: dict[str, dict[int, str]] = field(default_factory=dict)
    ragged: dict[int, int] = field(default_factory=dict)
    geometry: gpd.GeoSeries | None = None
    notes: list[Finding] = field(default_factory=list)
    layer: str | None = None
    sheet: str | None = None
    crs: Any = None
    swapped: bool = False

    @property
    def columns_of(self) -> dict[str, str]:
        """Map each field to the file's own header for it."""
        return {v: k for k, v in self.mapping.items()}


def read_file(
    source: Source,
    kind: str,
    *,
    columns: Mapping[str, str] | None = None,
    crs: str | None = None,
    layer: str | None = None,
    sheet: str | None = None,
) -> RawFile:
    """Read ``source`` as a file of ``kind``; raise :class:`IngestError` if it cannot be.

    Parameters
    ----------
    source
        The file.
    kind
        One of :data:`KINDS`.
    columns
        Extra header mapping ``{header in the file: field}``, for headers
        :data:`HEADERS` does not know (e.g. a hotline system's export).
    crs
        The coordinate system of a GIS file, overriding the file's own:
        ``"EPSG:4326"``, ``"4490"``, ``"EPSG:32651"``, ``"gcj02"``, ``"bd09"``…
    layer, sheet
        Which layer of a GeoPackage, which sheet of a workbook.

    >>> raw = read_file(Source("w.csv", "工号,姓名,居委会编号\\nW1,张三,C001\\n".encode()), "workers")
    >>> raw.cells.to_dict("list"), raw.rows.tolist()
    ({'worker_id': ['W1'], 'name': ['张三'], 'committee_id': ['C001']}, [2])
    """
    if kind not in SPECS:
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    fmt = sniff_format(source)
    spec = SPECS[kind]
    layer_formats = ("gpkg", "geojson", "shapefile")
    if spec.layer and fmt not in layer_formats:
        raise IngestError(
            source.name,
            "wrong_kind",
            what=_FORMAT_NAMES[fmt][1],
            expected="a GIS file (GeoPackage, zipped Shapefile or GeoJSON)",
        )
    if not spec.layer and fmt in layer_formats:
        raise IngestError(
            source.name, "wrong_kind", what=_FORMAT_NAMES[fmt][1], expected="a table (.csv or .xlsx)"
        )
    lookup = _header_lookup(kind, columns, dbf=fmt == "shapefile")
    if fmt == "csv":
        return _read_csv(source, kind, lookup)
    if fmt == "xlsx":
        return _read_xlsx(source, kind, lookup, sheet=sheet)
    return _read_layer(source, kind, lookup, fmt, crs=crs, layer=layer)


def _map_header(
    source: Source, kind: str, header: Sequence[object], lookup: Mapping[str, str]
) -> tuple[dict[int, str], list[str]]:
    """Return ``{column index: field}`` and the unused headers; raise on clashes and missing fields."""
    taken: dict[str, int] = {}
    out: dict[int, str] = {}
    unused: list[str] = []
    names = [str(h).strip() if h is not None else "" for h in header]
    for i, h in enumerate(names):
        target = lookup.get(_norm_header(h)) if h else None
        if target is None:
            if h:
                unused.append(h)
            continue
        if target in taken:
            raise IngestError(source.name, "same_column", a=names[taken[target]], b=h, field=target)
        taken[target] = i
        out[i] = target
    spec = SPECS[kind]
    missing = [f for f in spec.fields if f.required and f.name not in taken]
    if missing:
        aliases = HEADERS[kind]
        raise IngestError(
            source.name,
            "missing_columns",
            missing=", ".join(f"{f.name} ({aliases[f.name][0]})" for f in missing),
            found=", ".join(h for h in names if h) or "(nothing)",
        )
    return out, unused


def _find_header(rows: Sequence[Sequence[object]], lookup: Mapping[str, str]) -> int:
    """Return the index of the header among the first rows: the first that names two fields."""
    best = None
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cells = [c for c in row if c is not None and str(c).strip()]
        hits = sum(1 for c in cells if _norm_header(c) in lookup)
        if hits >= 2 or (hits >= 1 and hits == len(cells)):
            return i
        if best is None and cells:
            best = i
    return best if best is not None else 0


def _read_csv(source: Source, kind: str, lookup: Mapping[str, str]) -> RawFile:
    text, encoding = decode_text(source.data, name=source.name)
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delim = _sniff_delimiter(first)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    if records and records[0] and records[0][0].startswith("\ufeff"):
        records[0][0] = records[0][0][1:]
    h = _find_header(records, lookup)
    if not records or not any(c.strip() for c in records[h]):
        raise IngestError(source.name, "empty")
    header = records[h]
    mapped, unused = _map_header(source, kind, header, lookup)
    body = records[h + 1 :]
    del records
    width = len(header)
    # C-level passes over a million rows: blank rows (no text, or only spaces) are skipped.
    n = len(body)
    filled = np.fromiter(map(any, body), dtype=bool, count=n)
    spaces = np.fromiter(map(str.isspace, map("".join, body)), dtype=bool, count=n)
    keep = np.flatnonzero(filled & ~spaces)
    if len(keep) == 0:
        raise IngestError(source.name, "header_only", row=h + 1)
    rows = keep.astype(np.int64) + h + 2
    kept = body if len(keep) == n else [body[i] for i in keep.tolist()]
    del body
    ragged: dict[int, int] = {}
    lens = np.fromiter(map(len, kept), dtype=np.int64, count=len(kept))
    for p in np.flatnonzero(lens != width).tolist():
        r = kept[p]
        if len(r) > width:
            if any(c.strip() for c in r[width:]):
                ragged[p] = len(r)
            kept[p] = r[:width]
        else:
            kept[p] = r + [""] * (width - len(r))
    grid = np.empty((len(kept), width), dtype=object)
    if width:
        grid[:] = kept
    del kept
    names = _unique_headers(header)
    original = Original(names, grid)
    cells = _cells(grid, mapped)
    raw = RawFile(
        source, kind, "csv", cells, original, rows, {names[j]: f for j, f in mapped.items()},
        header_row=h + 1, encoding=encoding, delimiter=delim, ragged=ragged,
    )  # fmt: skip
    _file_notes(raw, unused)
    if encoding not in ("utf-8", "utf-8-sig"):
        raw.notes.append(Finding("encoding_used", None, extra={"encoding": encoding.upper()}))
    return raw


def _cells(grid: np.ndarray, mapped: Mapping[int, str]) -> pd.DataFrame:
    """Return the mapped columns of ``grid`` as one object block (no per-column copies)."""
    idx = list(mapped)
    return pd.DataFrame(grid[:, idx], columns=[mapped[j] for j in idx], dtype=object)


def _unique_headers(header: Sequence[object]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(header):
        name = str(h).strip() if h is not None and str(h).strip() else f"column{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _file_notes(raw: RawFile, unused: Sequence[str]) -> None:
    if raw.header_row > 1:
        raw.notes.append(Finding("title_rows", None, extra={"row": raw.header_row}))
    ignored = [u for u in unused if not u.startswith("_")]
    if ignored:
        raw.notes.append(Finding("ignored_columns", None, extra={"columns": ", ".join(ignored)}))


def _cell_text(value: object) -> str:
    """Render a spreadsheet or GIS attribute value as the text a person typed.

    >>> when = dt.datetime(2023, 2, 15, 9, 5)
    >>> [_cell_text(v) for v in (None, 3, 3.0, 2.5, True, when, when.date())]
    ['', '3', '3', '2.5', '1', '2023-02-15 09:05:00', '2023-02-15']
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if value != value:
            return ""
        f = float(value)
        return str(int(f)) if f.is_integer() and abs(f) < 2**53 else repr(f)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _read_xlsx(source: Source, kind: str, lookup: Mapping[str, str], *, sheet: str | None) -> RawFile:
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and data validation it drops
            book = openpyxl.load_workbook(io.BytesIO(source.data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise IngestError(
            source.name, "unreadable", detail=f"not a usable Excel workbook ({_short(exc)})"
        ) from None
    try:
        names = list(book.sheetnames)
        if sheet is not None and sheet not in names:
            raise IngestError(source.name, "no_sheet", sheet=sheet, sheets=", ".join(names))
        chosen = sheet
        grids: dict[str, list[tuple[Any, ...]]] = {}
        for name in [sheet] if sheet else names:
            ws = book[name]
            if hasattr(ws, "reset_dimensions"):
                ws.reset_dimensions()  # trust the rows, not a stale or missing <dimension>: one pass
            rows = [tuple(r) for r in ws.iter_rows()]
            grids[name] = rows
            if chosen is None and any(any(c.value is not None for c in r) for r in rows):
                chosen = name
                break
        if chosen is None:
            raise IngestError(source.name, "empty")
        cells_rows = grids[chosen]
    finally:
        book.close()
    values = [[c.value for c in r] for r in cells_rows]
    h = _find_header(values, lookup)
    header = values[h]
    mapped, unused = _map_header(source, kind, header, lookup)
    width = max((len(r) for r in values), default=0)
    body = cells_rows[h + 1 :]
    keep = [i for i, r in enumerate(body) if any(c.value is not None and str(c.value).strip() for c in r)]
    if not keep:
        raise IngestError(source.name, "header_only", row=_row_of(cells_rows[h], h + 1))
    header_names = _unique_headers(list(header) + [None] * (width - len(header)))
    orig = np.empty((len(keep), width), dtype=object)
    text = np.empty((len(keep), width), dtype=object)
    formulas: dict[str, dict[int, str]] = {}
    row_numbers = np.empty(len(keep), dtype=np.int64)
    for p, i in enumerate(keep):
        r = body[i]
        row_numbers[p] = _row_of(r, h + 2 + i)
        for j in range(width):
            c = r[j] if j < len(r) else None
            v = getattr(c, "value", None)
            orig[p, j] = v
            text[p, j] = _cell_text(v)
            if getattr(c, "data_type", None) == "f" and j in mapped:
                formulas.setdefault(mapped[j], {})[p] = f"{getattr(c, 'coordinate', '?')}: {v}"
    original = Original(header_names, orig)
    cells = _cells(text, mapped)
    raw = RawFile(
        source, kind, "xlsx", cells, original, row_numbers, {header_names[j]: f for j, f in mapped.items()},
        header_row=_row_of(cells_rows[h], h + 1), formulas=formulas, sheet=chosen,
    )  # fmt: skip
    _file_notes(raw, unused)
    others = [n for n in names if n != chosen and grids.get(n, [1])]
    if others and sheet is None:
        raw.notes.append(Finding("other_sheets", None, extra={"sheet": chosen, "others": ", ".join(others)}))
    return raw


def _row_of(cells: Sequence[Any], fallback: int) -> int:
    for c in cells:
        row = getattr(c, "row", None)
        if isinstance(row, int):
            return row
    return fallback


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _dbf_encoding(data: bytes) -> str | None:
    """Return the encoding of a zipped Shapefile's attributes when it declares none (``.cpg``)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        if any(n.lower().endswith(".cpg") for n in names):
            return None
        dbf = [n for n in names if n.lower().endswith(".dbf")]
        if not dbf:
            return None
        raw = z.read(dbf[0])
    if len(raw) < 32:
        return None
    header_len = int.from_bytes(raw[8:10], "little")
    body = raw[32:]
    try:
        body.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        raw[32 : header_len + 65536].decode("gb18030")
        return "GB18030"
    except UnicodeDecodeError:
        return None


def _read_layer(
    source: Source,
    kind: str,
    lookup: Mapping[str, str],
    fmt: Format,
    *,
    crs: str | None,
    layer: str | None,
) -> RawFile:
    import pyogrio

    buf = io.BytesIO(source.data)
    kwargs: dict[str, Any] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL: "non conformant file extension"
            layers = [str(n) for n, _t in pyogrio.list_layers(buf)]
            chosen = layer
            if layer is not None and layer not in layers:
                raise IngestError(source.name, "no_layer", layer=layer, layers=", ".join(layers))
            if chosen is None:
                if kind in layers:
                    chosen = kind
                elif len(layers) == 1:
                    chosen = layers[0]
                else:
                    raise IngestError(source.name, "layers", layers=", ".join(layers))
            if fmt == "shapefile":
                enc = _dbf_encoding(source.data)
                if enc:
                    kwargs["encoding"] = enc
            buf.seek(0)
            frame = pyogrio.read_dataframe(buf, layer=chosen, **kwargs)
    except IngestError:
        raise
    except Exception as exc:  # GDAL errors come in several classes
        raise IngestError(source.name, "unreadable", detail=f"not usable GIS data ({_short(exc)})") from None
    if len(frame) == 0:
        raise IngestError(source.name, "no_features")
    geom_name = frame.geometry.name
    attrs = frame.drop(columns=[geom_name])
    header = [str(c) for c in attrs.columns]
    mapped, unused = _map_header(source, kind, header, lookup)
    original = Original(header, attrs.astype(object).to_numpy(dtype=object), geometry=frame.geometry.array)
    cells = pd.DataFrame(
        {
            f: pd.Series([_cell_text(v) for v in attrs.iloc[:, j].astype(object).tolist()], dtype=object)
            for j, f in mapped.items()
        }
    )
    raw = RawFile(
        source, kind, fmt, cells, original, np.arange(1, len(frame) + 1, dtype=np.int64),
        {header[j]: f for j, f in mapped.items()}, header_row=0, layer=chosen,
        encoding=kwargs.get("encoding"),
    )  # fmt: skip
    raw.crs = frame.crs
    _file_notes(raw, unused)
    raw.geometry = _to_wgs84(raw, frame.geometry, crs)
    return raw


def _to_wgs84(raw: RawFile, geoms: gpd.GeoSeries, given: str | None) -> gpd.GeoSeries:
    """Bring a layer's geometry to EPSG:4326 and undo a file-wide latitude/longitude swap."""
    import pyproj

    name = raw.source.name
    geoms = geoms.reset_index(drop=True)
    shifted = gcrs.shifted_crs(given)
    if shifted is not None:
        out = gcrs.to_wgs84(geoms, crs=shifted)
        _shift_office(raw, shifted)  # a committee's office point is in the file's system too
        raw.notes.append(Finding("crs_converted", None, extra={"crs": gcrs.SHIFTED[shifted]}))
    else:
        try:
            source_crs = pyproj.CRS.from_user_input(_epsg_text(given)) if given is not None else geoms.crs
        except pyproj.exceptions.CRSError:
            raise IngestError(name, "bad_crs", crs=given) from None
        if source_crs is None:
            xy = shapely.get_coordinates(np.asarray(geoms.array, dtype=object))
            lonlat = _in_bounds(xy[:, 0], xy[:, 1]) | _in_bounds(xy[:, 1], xy[:, 0])
            if len(xy) == 0 or not lonlat.mean() > 0.5:
                raise IngestError(name, "no_crs")
            raw.notes.append(Finding("crs_assumed", None))
            source_crs = pyproj.CRS.from_epsg(4326)
        code = source_crs.to_epsg()
        labelled = geoms.set_crs(source_crs, allow_override=True)
        if code in (4326, 4490, 32651):
            out = gcrs.to_wgs84(labelled)
        else:
            try:
                out = labelled.to_crs(gcrs.WGS84)
            except Exception as exc:  # pyproj cannot transform
                raise IngestError(name, "bad_crs", crs=f"{source_crs.to_string()} ({_short(exc)})") from None
        if code not in (4326, 4490):
            raw.notes.append(Finding("crs_converted", None, extra={"crs": source_crs.to_string()}))
    arr = np.asarray(out.array, dtype=object)
    xy = shapely.get_coordinates(arr)
    if len(xy) and gcrs.looks_swapped(xy[:, 0], xy[:, 1], bounds=CHINA_BOUNDS):
        arr = shapely.transform(arr, lambda c: c[:, ::-1])
        raw.swapped = True
        raw.notes.append(Finding("swapped_file", None))
    return gpd.GeoSeries(arr, crs=gcrs.WGS84)


def _shift_office(raw: RawFile, crs: str) -> None:
    """Shift the office points (text cells) of a GCJ-02 or BD-09 file back to WGS84, like its geometry."""
    if not {"office_lon", "office_lat"} <= set(raw.cells.columns):
        return
    lon = pd.to_numeric(raw.cells["office_lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(raw.cells["office_lat"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)  # anything else is left for the checks to report
    x, y = gcrs.wgs84_from_shifted(crs, lon[ok], lat[ok])
    for col, values in (("office_lon", x), ("office_lat", y)):
        cells = raw.cells[col].to_numpy(dtype=object).copy()
        cells[ok] = [repr(float(v)) for v in values]
        raw.cells[col] = pd.Series(cells, dtype=object, index=raw.cells.index)


def _epsg_text(text: str) -> str:
    t = text.strip()
    return f"EPSG:{t}" if t.isdigit() else t


def _in_bounds(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    w, s, e, n = CHINA_BOUNDS
    return np.asarray((x >= w) & (x <= e) & (y >= s) & (y <= n))


# --------------------------------------------------------------------------- findings


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
            params["value"] = _quote(self.values[i]) if self.quote else str(self.values[i])
        if i is not None and self.per_row is not None:
            params.update(self.per_row[i])
        return message(self.code, lang, **params)


def _quote(value: Any) -> str:
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


def _found(
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


# --------------------------------------------------------------------------- parsing values

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


_FORMULA_ESCAPED = re.compile(r"^'+[=+\-@\t\r]")
_FORMULA_LIKE = re.compile(r"^'*[=+\-@\t\r]")


def escape_csv(value: Any) -> Any:
    """Put one apostrophe before a text a spreadsheet would run as a formula (:func:`unescape_csv` undoes it).

    >>> escape_csv("=1+1"), escape_csv("'=x"), escape_csv("ok"), escape_csv(3)
    ("'=1+1", "''=x", 'ok', 3)
    """
    return "'" + value if isinstance(value, str) and _FORMULA_LIKE.match(value) else value


def unescape_csv(value: str) -> str:
    """Drop the one apostrophe that CSV exports put before a formula character.

    >>> unescape_csv("'=1+1"), unescape_csv("''=x"), unescape_csv("'ok")
    ('=1+1', "'=x", "'ok")
    """
    return value[1:] if _FORMULA_ESCAPED.match(value) else value


def _strip_uniques(col: pd.Series, *, nfkc: bool, distinct: bool = True) -> tuple[np.ndarray, np.ndarray]:
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


# --------------------------------------------------------------------------- row checks


@dataclass
class Checked:
    """Typed rows of one file, and the problems found in them so far."""

    raw: RawFile
    values: pd.DataFrame
    """One column per field present (or defaulted): ids and text as ``str``/None,
    integers as ``Int64``, floats, times as ``datetime64[s]``."""
    findings: list[Finding]
    geometry: np.ndarray | None = None
    date_only: dict[str, np.ndarray] = field(default_factory=dict)
    now: dt.datetime | None = None

    @property
    def given(self) -> frozenset[str]:
        """Return the fields the file itself brings (not defaulted): only these are compared."""
        cols = set(self.raw.cells.columns)
        if "vacant" in cols:
            cols.add("occupied")
        return frozenset(cols)

    @property
    def kind(self) -> str:
        """Return the kind of rows."""
        return self.raw.kind

    @property
    def spec(self) -> Spec:
        """Return the rules of the kind."""
        return SPECS[self.raw.kind]

    def __len__(self) -> int:
        return len(self.raw.rows)

    def bad_mask(self) -> np.ndarray:
        """Return which rows have a rejecting finding so far."""
        bad = np.zeros(len(self), dtype=bool)
        for f in self.findings:
            if f.positions is not None and not f.is_warning:
                bad[f.positions] = True
        return bad


def check_rows(
    raw: RawFile,
    *,
    now: dt.datetime,
    source: str | None = None,
    issue_limits: Mapping[str, int] | None = None,
) -> Checked:
    """Check every row of ``raw`` on its own: types, required values, ranges, dates, geometry.

    Parameters
    ----------
    raw
        A file read by :func:`read_file`.
    now
        Local time (Shanghai, no zone): later times are refused as "in the future".
    source
        For issues: the channel (``hotline``, ``online``…) of rows that name none.
    issue_limits
        For issues without a time limit: days per level (default
        ``Settings().issue_limits_days``) to set ``due_at``.
    """
    spec = SPECS[raw.kind]
    n = len(raw.rows)
    if raw.kind == "issues" and "source" not in raw.cells.columns and not source:
        raise IngestError(
            raw.source.name,
            "missing_columns",
            missing="source (来源) — or name the channel with --source hotline|online|visit",
            found=", ".join(str(c) for c in raw.original.columns if c != "geometry"),
        )
    findings: list[Finding] = list(raw.notes)
    values: dict[str, Any] = {}
    date_only: dict[str, np.ndarray] = {}
    now64 = np.datetime64(now.replace(tzinfo=None, microsecond=0), "s")
    for fld in spec.fields:
        if fld.name not in raw.cells.columns:
            default = source if (fld.name == "source" and source) else fld.default
            if default is not None:
                values[fld.name] = pd.Series([default] * n, dtype=object)
            continue
        col = raw.cells[fld.name]
        codes, uniq = _strip_uniques(col, nfkc=fld.type != "text", distinct=fld.type != "datetime")
        if raw.format == "csv" and fld.type in ("text", "id"):
            uniq = np.array([unescape_csv(u) for u in uniq.tolist()], dtype=object)
        empty_u = uniq == ""
        empty = empty_u[codes]
        if fld.name == "source" and source:
            uniq = np.where(empty_u, source, uniq)
            empty_u = uniq == ""
            empty = empty_u[codes]
        if fld.required or (fld.name == "source" and raw.kind == "issues"):
            _found(findings, "required", fld.name, empty)
        lens = np.fromiter((len(u) for u in uniq), dtype=np.int64, count=len(uniq))
        limit = MAX_ID if fld.type == "id" else fld.max_len
        long_u = lens > limit
        if long_u.any():
            long_rows = long_u[codes]
            pos = np.flatnonzero(long_rows)
            findings.append(
                Finding(
                    "too_long",
                    fld.name,
                    pos,
                    None,
                    {"max": limit},
                    per_row=[{"n": int(lens[codes[p]])} for p in pos],
                )
            )
            uniq = np.where(long_u, "", uniq)
        values[fld.name] = _typed(fld, uniq, codes, empty_u, findings, date_only, now64)
        if fld.default is not None and fld.type in ("text", "tags", "choice", "bool"):
            s = values[fld.name]
            values[fld.name] = s.where(~pd.Series(empty, index=s.index), fld.default)
    frame = pd.DataFrame(values, index=pd.RangeIndex(n))
    for fld_name, positions in raw.formulas.items():
        pos = np.fromiter(positions.keys(), dtype=np.int64)
        cells = [positions[int(p)].split(": ", 1) for p in pos]
        # A formula cell is reported as a formula, not as a bad number or date as well.
        for i, f in enumerate(findings):
            if f.column == fld_name and f.positions is not None:
                findings[i] = _without(f, np.isin(f.positions, pos))
        findings.append(
            Finding("formula", fld_name, pos, None, per_row=[{"cell": c[0], "value": c[1]} for c in cells])
        )
    if raw.ragged:
        width = len(raw.original.headers)
        pos = np.fromiter(raw.ragged.keys(), dtype=np.int64)
        findings.append(
            Finding("ragged", None, pos, None, {"m": width}, per_row=[{"n": raw.ragged[int(p)]} for p in pos])
        )
    checked = Checked(raw, frame, findings, date_only=date_only, now=now)
    _CROSS_CHECKS.get(raw.kind, lambda _c, **_k: None)(checked, issue_limits=issue_limits)
    if spec.layer:
        assert raw.geometry is not None
        checked.geometry = _check_geometry(raw.geometry, findings)
    return checked


def _typed(
    fld: Field,
    uniq: np.ndarray,
    codes: np.ndarray,
    empty_u: np.ndarray,
    findings: list[Finding],
    date_only: dict[str, np.ndarray],
    now64: np.datetime64,
) -> pd.Series:
    """Convert one column (given as codes into cleaned unique values) to its type, recording problems."""
    name = fld.name
    if fld.type in ("id", "text"):
        out = uniq.copy()
        out[empty_u] = None
        return pd.Series(out[codes], dtype=object)
    if fld.type == "choice":
        assert fld.choices is not None
        mapped = np.array([fld.choices.get(_norm_value(u)) if u else None for u in uniq], dtype=object)
        bad_u = (mapped == None) & ~empty_u  # noqa: E711 (elementwise)
        if bad_u.any():
            _found(findings, "bad_choice", name, bad_u[codes], uniq[codes], choices=_choice_list(fld))
        return pd.Series(mapped[codes], dtype=object)
    if fld.type == "bool":
        assert fld.choices is not None
        mapped = np.array([fld.choices.get(_norm_value(u)) if u else None for u in uniq], dtype=object)
        bad_u = (mapped == None) & ~empty_u  # noqa: E711
        if bad_u.any():
            _found(findings, "bad_bool", name, bad_u[codes], uniq[codes])
        ints = np.array([None if m is None else int(m) for m in mapped], dtype=object)
        return pd.Series(ints[codes], dtype=object)
    if fld.type == "tags":
        assert fld.choices is not None
        tags_out = np.empty(len(uniq), dtype=object)
        bad_vals: dict[int, str] = {}
        for i, u in enumerate(uniq.tolist()):
            parts = [p for p in re.split(r"[,，、;；|/\s]+", u) if p]
            got: list[str] = []
            for p in parts:
                code = fld.choices.get(_norm_value(p))
                if code is None:
                    bad_vals[i] = p
                    break
                if code not in got:
                    got.append(code)
            tags_out[i] = ",".join(got)
        if bad_vals:
            bad_u = np.zeros(len(uniq), dtype=bool)
            bad_u[list(bad_vals)] = True
            offending = np.array([bad_vals.get(i, "") for i in range(len(uniq))], dtype=object)
            _found(findings, "bad_tag", name, bad_u[codes], offending[codes], choices=", ".join(TAG_WORDS))
        return pd.Series(tags_out[codes], dtype=object)
    if fld.type in ("int", "float"):
        num = pd.to_numeric(pd.Series(uniq, dtype=object).str.replace(",", "", regex=False), errors="coerce")
        arr = num.to_numpy(dtype=float)
        bad_u = np.isnan(arr) & ~empty_u
        if fld.type == "int":
            frac = ~np.isnan(arr) & (np.abs(arr) < 2**62) & (arr != np.round(arr))
            huge = ~np.isnan(arr) & (np.abs(arr) >= 2**62)
            bad_u |= frac | huge
        if bad_u.any():
            _found(findings, f"bad_{fld.type}", name, bad_u[codes], uniq[codes])
        ok = ~np.isnan(arr) & ~bad_u
        if fld.min is not None:
            low = ok & (arr < fld.min)
            _found(findings, "too_small", name, low[codes], uniq[codes], min=_num(fld.min))
            ok &= ~low
        if fld.max is not None:
            high = ok & (arr > fld.max)
            _found(findings, "too_large", name, high[codes], uniq[codes], max=_num(fld.max))
            ok &= ~high
        if fld.type == "int":
            ints = pd.array(
                [int(a) if k else None for a, k in zip(arr.tolist(), ok.tolist(), strict=True)], dtype="Int64"
            )
            return pd.Series(ints.take(codes), dtype="Int64")
        floats = np.where(ok, arr, np.nan)
        return pd.Series(floats[codes], dtype=float)
    if fld.type == "datetime":
        times, bad_u, day_u = parse_datetimes(uniq)
        if bad_u.any():
            _found(findings, "bad_date", name, bad_u[codes], uniq[codes])
        valid = ~np.isnat(times)
        old = valid & (times < np.datetime64(EARLIEST, "s"))
        if old.any():
            _found(findings, "too_old", name, old[codes], uniq[codes])
        if fld.past:
            # A date without a time is in the future only when its day is.
            today_end = now64.astype("datetime64[D]") + np.timedelta64(1, "D")
            future = valid & np.where(day_u, times >= today_end, times > now64)
            if future.any():
                _found(findings, "future", name, future[codes], uniq[codes], now=str(now64).replace("T", " "))
        date_only[name] = day_u[codes]
        return pd.Series(times[codes], dtype="datetime64[s]")
    raise AssertionError(fld.type)


def _without(f: Finding, drop: np.ndarray) -> Finding:
    """Return ``f`` without the positions marked in ``drop``."""
    assert f.positions is not None
    keep = ~drop
    return Finding(
        f.code,
        f.column,
        f.positions[keep],
        None if f.values is None else [v for v, k in zip(f.values, keep, strict=True) if k],
        f.extra,
        None if f.per_row is None else [r for r, k in zip(f.per_row, keep, strict=True) if k],
        f.quote,
    )


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _choice_list(fld: Field) -> str:
    assert fld.choices is not None
    return ", ".join(dict.fromkeys(fld.choices.values()))


def _check_committees(c: Checked, **_kw: Any) -> None:
    v = c.values
    if "office_lon" not in v or "office_lat" not in v:
        return
    lon = v["office_lon"].to_numpy(dtype=float)
    lat = v["office_lat"].to_numpy(dtype=float)
    w, s, e, n = CHINA_BOUNDS
    swapped = (lat >= w) & (lat <= e) & (lon >= s) & (lon <= n)
    pos = np.flatnonzero(swapped)
    if len(pos):
        c.findings.append(
            Finding(
                "office_swapped",
                "office_lon",
                pos,
                None,
                per_row=[{"lon": lon[p], "lat": lat[p]} for p in pos],
            )
        )


def _check_households(c: Checked, **_kw: Any) -> None:
    v = c.values
    if "vacant" in v:
        vac = v.pop("vacant")
        if "occupied" not in c.raw.cells.columns:
            v["occupied"] = vac.map(lambda x: 1 if x is None else 1 - int(x)).astype(object)


def _check_issues(c: Checked, *, issue_limits: Mapping[str, int] | None = None, **_kw: Any) -> None:
    v = c.values
    status = v.get("status")
    closed = v.get("closed_at")
    opened = v["opened_at"]
    if status is not None and closed is not None:
        is_closed = (status == "closed").to_numpy()
        has_time = closed.notna().to_numpy()
        _found(c.findings, "closed_needs_time", "closed_at", is_closed & ~has_time)
        _found(
            c.findings,
            "closed_but_open",
            "status",
            ~is_closed & has_time & status.notna().to_numpy(),
            status.to_numpy(),
        )
    elif status is not None:
        _found(c.findings, "closed_needs_time", "closed_at", (status == "closed").to_numpy())
    elif closed is not None and closed.notna().any():
        v["status"] = np.where(closed.notna(), "closed", "open").astype(object)
    if closed is not None:
        early = np.flatnonzero((closed < opened).fillna(False).to_numpy(dtype=bool))
        if len(early):
            c.findings.append(
                Finding("before_open", "closed_at", early, closed.to_numpy()[early],
                        per_row=[{"opened": str(opened.iat[p])} for p in early])
            )  # fmt: skip
    limits = dict(issue_limits) if issue_limits is not None else _default_limits()
    level = v["level"] if "level" in v else pd.Series(["grid"] * len(v), dtype=object)
    days = level.map(lambda x: limits.get(x, 7) if x is not None else 7).to_numpy(dtype="int64")
    default_due = opened.to_numpy(dtype="datetime64[s]") + days * np.timedelta64(86400, "s")
    if "due_at" not in v:
        v["due_at"] = pd.Series(default_due, dtype="datetime64[s]")
    else:
        due = v["due_at"].to_numpy(dtype="datetime64[s]").copy()
        due[np.isnat(due)] = default_due[np.isnat(due)]
        v["due_at"] = pd.Series(due, dtype="datetime64[s]")


def _default_limits() -> dict[str, int]:
    from geo.settings import Settings

    return dict(Settings().issue_limits_days)


_CROSS_CHECKS: dict[str, Callable[..., None]] = {
    "committees": _check_committees,
    "households": _check_households,
    "issues": _check_issues,
}


def _check_geometry(geoms: gpd.GeoSeries, findings: list[Finding]) -> np.ndarray:
    """Return 2-D MultiPolygons (None where rejected), repairing what ``make_valid`` can."""
    arr = shapely.force_2d(np.asarray(geoms.array, dtype=object))
    n = len(arr)
    out = np.empty(n, dtype=object)
    missing = shapely.is_missing(arr) | shapely.is_empty(arr)
    _found(findings, "geom_missing", "geometry", missing)
    types = shapely.get_type_id(arr)
    poly_types = (int(shapely.GeometryType.POLYGON), int(shapely.GeometryType.MULTIPOLYGON))
    collection = types == int(shapely.GeometryType.GEOMETRYCOLLECTION)
    wrong = ~missing & ~np.isin(types, poly_types) & ~collection
    names = [
        shapely.GeometryType(t).name.title().replace("string", "String") if t >= 0 else "" for t in types
    ]
    _found(findings, "geom_type", "geometry", wrong, names)
    if wrong.any():
        findings[-1].quote = False
    # Coordinates outside China: swapped features, or a wrong coordinate system.
    usable = ~missing & ~wrong
    bounds = shapely.bounds(arr)
    outside = usable & ~(_in_bounds(bounds[:, 0], bounds[:, 1]) & _in_bounds(bounds[:, 2], bounds[:, 3]))
    swapped = outside & _in_bounds(bounds[:, 1], bounds[:, 0]) & _in_bounds(bounds[:, 3], bounds[:, 2])
    where = [f"{bounds[i, 0]:.5f} {bounds[i, 1]:.5f}" for i in range(n)]
    for code, mask in (("geom_swapped", swapped), ("geom_outside", outside & ~swapped)):
        if mask.any():
            _found(findings, code, "geometry", mask, where)
            findings[-1].quote = False
    usable &= ~outside
    valid = shapely.is_valid(arr)
    fix = usable & (~valid | collection)
    repaired: list[int] = []
    reasons: list[str] = []
    failed: list[int] = []
    failed_reasons: list[str] = []
    for i in np.flatnonzero(fix).tolist():
        reason = shapely.is_valid_reason(arr[i]) if not valid[i] else "a geometry collection"
        fixed = _polygonal(shapely.make_valid(arr[i]) if not valid[i] else arr[i])
        if fixed is None:
            failed.append(i)
            failed_reasons.append(reason)
        else:
            arr[i] = fixed
            repaired.append(i)
            reasons.append(reason)
    if failed:
        findings.append(Finding("geom_invalid", "geometry", np.asarray(failed), failed_reasons, quote=False))
    if repaired:
        findings.append(Finding("repaired", "geometry", np.asarray(repaired), reasons, quote=False))
    ok = usable.copy()
    ok[failed] = False
    for i in np.flatnonzero(ok).tolist():
        g = arr[i]
        out[i] = g if isinstance(g, shapely.MultiPolygon) else shapely.MultiPolygon([g])
    return out


def _polygonal(g: shapely.Geometry) -> shapely.Geometry | None:
    """Return the polygonal part of ``g`` as a (Multi)Polygon, or None when it has no area."""
    if isinstance(g, shapely.Polygon | shapely.MultiPolygon):
        parts = [g] if isinstance(g, shapely.Polygon) else list(g.geoms)
    elif isinstance(g, shapely.GeometryCollection):
        parts = []
        for p in g.geoms:
            if isinstance(p, shapely.Polygon):
                parts.append(p)
            elif isinstance(p, shapely.MultiPolygon):
                parts.extend(p.geoms)
    else:
        return None
    parts = [p for p in parts if not p.is_empty and p.area > 0]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


# --------------------------------------------------------------------------- checks against the database


@dataclass
class Refs:
    """What the database holds that a file's rows are checked against.

    ``ids[kind]``: the ids of that kind the database knows. ``existing``:
    rows of the imported kind that share a key with the file (the store
    fetches only those), with the same columns as :attr:`Checked.values`.
    For buildings, ``grids`` (``grid_id`` and geometry) places buildings; for
    grids, ``grids`` holds the other grids, for overlap checks. For issues,
    ``building_grid``, ``household_building`` and ``addresses`` (building
    name → ids) resolve where an issue is.
    """

    ids: Mapping[str, Iterable[str]] = field(default_factory=dict)
    existing: pd.DataFrame | None = None
    existing_geometry: np.ndarray | None = None
    grids: gpd.GeoDataFrame | None = None
    building_grid: Mapping[str, str] | None = None
    household_building: Mapping[str, str] | None = None
    addresses: Mapping[str, Sequence[str]] | None = None
    taken_ids: Collection[int] | None = None
    """Visit or issue ids the file brings that the database already uses."""
    idem_keys: Collection[str] | None = None
    """Idempotency keys of visits the file brings that the database already holds."""


Status = Literal["accept", "reject", "unchanged"]


@dataclass
class Verdict:
    """What becomes of each row: ``status[i]`` is ``accept``, ``reject`` or ``unchanged``."""

    status: np.ndarray
    findings: list[Finding]
    values: pd.DataFrame
    geometry: np.ndarray | None = None

    @property
    def accepted(self) -> pd.DataFrame:
        """Return the rows to write, with the table's columns (a GeoDataFrame for layers)."""
        mask = self.status == "accept"
        cols = [c for c in self.values.columns if not SPECS_VIRTUAL.get(c)]
        frame = self.values.loc[mask, cols].reset_index(drop=True)
        if self.geometry is not None:
            return gpd.GeoDataFrame(
                frame, geometry=gpd.GeoSeries(self.geometry[mask], crs=gcrs.WGS84), crs=gcrs.WGS84
            ).rename_geometry("geom")
        return frame


SPECS_VIRTUAL = {f.name: True for s in SPECS.values() for f in s.fields if f.virtual}


def check_against(checked: Checked, refs: Refs) -> Verdict:
    """Check references, duplicates (in the file and against the database) and places.

    Pure: everything the database holds comes in ``refs``. Rows that failed
    :func:`check_rows` stay rejected; of the others, a row equal to one the
    database holds is ``unchanged``, a row whose key the database holds with
    other values is rejected, the rest are accepted.
    """
    spec = checked.spec
    v = checked.values.copy()
    findings = list(checked.findings)
    geometry = None if checked.geometry is None else checked.geometry.copy()
    n = len(checked)
    if checked.kind == "issues":
        _place_issues(v, refs, findings)
    if checked.kind == "buildings":
        assert geometry is not None
        _place_buildings(v, geometry, refs, findings)
    for fld in spec.fields:
        if fld.ref is None or fld.name not in v:
            continue
        if fld.ref == "households" and checked.kind == "issues" and refs.household_building is not None:
            known: Any = refs.household_building
        elif fld.ref == "buildings" and checked.kind == "issues" and refs.building_grid is not None:
            known = refs.building_grid
        else:
            known = set(refs.ids.get(fld.ref, ()))
        col = v[fld.name]
        codes, uniq = pd.factorize(col.to_numpy(dtype=object), use_na_sentinel=True)
        unknown_u = np.array([u not in known for u in uniq.tolist()], dtype=bool)
        if len(uniq) and unknown_u.any():
            mask = (codes >= 0) & unknown_u[np.maximum(codes, 0)]
            zh, en = REF_WHAT[fld.ref]
            extra = {"what": en, "what_zh": zh}
            findings.append(
                Finding(
                    "unknown_ref", fld.name, np.flatnonzero(mask), col.to_numpy(dtype=object)[mask], extra
                )
            )
    bad = _bad(findings, n)
    if checked.kind == "grids" and geometry is not None:
        _overlaps(v, geometry, bad, refs, findings)
    status = np.where(bad, "reject", "accept").astype(object)
    _dedupe(checked, v, geometry, status, refs, findings)
    return Verdict(status, findings, v, geometry)


def _bad(findings: list[Finding], n: int) -> np.ndarray:
    bad = np.zeros(n, dtype=bool)
    for f in findings:
        if f.positions is not None and not f.is_warning:
            bad[f.positions] = True
    return bad


def _norm_address(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)
    t = re.sub(r"\s+", "", t)
    return re.sub(r"^(上海市)?(普陀区)?", "", t)


def _place_issues(v: pd.DataFrame, refs: Refs, findings: list[Finding]) -> None:
    """Fill an issue's building from its household or address, and its grid from its building."""
    n = len(v)
    hb = refs.household_building or {}
    bg = refs.building_grid or {}
    for col in ("grid_id", "building_id", "household_id"):
        if col not in v:
            v[col] = pd.Series([None] * n, dtype=object)
    building = v["building_id"].to_numpy(dtype=object).copy()
    grid = v["grid_id"].to_numpy(dtype=object).copy()
    household = v["household_id"].to_numpy(dtype=object)
    if "address" in v and refs.addresses is not None:
        addr = v["address"].to_numpy(dtype=object)
        need = np.array(
            [
                a is not None and b is None and h is None
                for a, b, h in zip(addr, building, household, strict=True)
            ]
        )
        unknown, ambiguous = [], []
        for i in np.flatnonzero(need).tolist():
            hits = refs.addresses.get(_norm_address(addr[i]), ())
            if len(hits) == 1:
                building[i] = hits[0]
            elif len(hits) > 1:
                ambiguous.append(i)
            elif grid[i] is None:
                unknown.append(i)
        if unknown:
            findings.append(Finding("address_unknown", "address", np.asarray(unknown), addr[unknown]))
        if ambiguous:
            findings.append(Finding("address_ambiguous", "address", np.asarray(ambiguous), addr[ambiguous]))
    mismatch_b: list[int] = []
    mismatch_g: list[int] = []
    for i in range(n):
        h = household[i]
        if h is not None and h in hb:
            if building[i] is None:
                building[i] = hb[h]
            elif building[i] != hb[h]:
                mismatch_b.append(i)
        b = building[i]
        if b is not None and b in bg:
            if grid[i] is None:
                grid[i] = bg[b]
            elif grid[i] != bg[b]:
                mismatch_g.append(i)
    if mismatch_b:
        findings.append(
            Finding("not_in_building", "household_id", np.asarray(mismatch_b), household[mismatch_b],
                    per_row=[{"building": building[i]} for i in mismatch_b])
        )  # fmt: skip
    if mismatch_g:
        findings.append(
            Finding("not_in_grid", "building_id", np.asarray(mismatch_g), building[mismatch_g],
                    per_row=[{"grid": grid[i]} for i in mismatch_g])
        )  # fmt: skip
    nowhere = np.array(
        [g is None and b is None and h is None for g, b, h in zip(grid, building, household, strict=True)]
    )
    already = np.zeros(n, dtype=bool)
    for f in findings:
        if f.code in ("address_unknown", "address_ambiguous") and f.positions is not None:
            already[f.positions] = True
    _found(findings, "no_place", "grid_id", nowhere & ~already)
    v["building_id"] = pd.Series(building, dtype=object)
    v["grid_id"] = pd.Series(grid, dtype=object)


def _metric(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda c: np.column_stack(gcrs.metric_xy(c[:, 0], c[:, 1])))


def _place_buildings(v: pd.DataFrame, geometry: np.ndarray, refs: Refs, findings: list[Finding]) -> None:
    """Give buildings without a grid the grid they stand in; report buildings outside their grid."""
    n = len(v)
    if "grid_id" not in v:
        v["grid_id"] = pd.Series([None] * n, dtype=object)
    grids = refs.grids
    have = np.array([g is not None for g in geometry], dtype=bool)
    if grids is None or len(grids) == 0:
        _found(findings, "outside_grids", "geometry", have & v["grid_id"].isna().to_numpy())
        return
    gid = grids["grid_id"].to_numpy(dtype=object)
    ggeom = np.asarray(grids.geometry.array, dtype=object)
    pts = np.empty(n, dtype=object)
    pts[have] = shapely.point_on_surface(geometry[have])
    tree = shapely.STRtree(ggeom)
    inside = np.full(n, None, dtype=object)
    idx_pt, idx_g = tree.query(pts[have], predicate="within")
    hp = np.flatnonzero(have)
    for a, b in zip(idx_pt.tolist(), idx_g.tolist(), strict=True):
        if inside[hp[a]] is None:
            inside[hp[a]] = gid[b]
    given = v["grid_id"].to_numpy(dtype=object).copy()
    known_grids = set(gid.tolist())
    placed = [i for i in range(n) if have[i] and given[i] is None and inside[i] is not None]
    lost = [i for i in range(n) if have[i] and given[i] is None and inside[i] is None]
    off = [
        i for i in range(n)
        if have[i] and given[i] is not None and given[i] in known_grids and inside[i] != given[i]
    ]  # fmt: skip
    for i in placed:
        given[i] = inside[i]
    if placed:
        findings.append(
            Finding(
                "placed", "grid_id", np.asarray(placed), None, per_row=[{"grid": inside[i]} for i in placed]
            )
        )
    if lost:
        findings.append(Finding("outside_grids", "geometry", np.asarray(lost)))
    elsewhere = [i for i in off if inside[i] is not None]
    nowhere = [i for i in off if inside[i] is None]
    if elsewhere:
        rows = [{"grid": given[i], "inside": inside[i]} for i in elsewhere]
        findings.append(Finding("outside_own_grid", "geometry", np.asarray(elsewhere), None, per_row=rows))
    if nowhere:
        rows = [{"grid": given[i]} for i in nowhere]
        findings.append(Finding("outside_every_grid", "geometry", np.asarray(nowhere), None, per_row=rows))
    v["grid_id"] = pd.Series(given, dtype=object)


def _overlaps(
    v: pd.DataFrame, geometry: np.ndarray, bad: np.ndarray, refs: Refs, findings: list[Finding]
) -> None:
    """Report grids that overlap another grid of the file or of the database by more than 1 m²."""
    ok = np.flatnonzero(~bad & np.array([g is not None for g in geometry], dtype=bool))
    if len(ok) == 0:
        return
    ids = v["grid_id"].to_numpy(dtype=object)
    mine = _metric(geometry[ok])
    others_ids = list(ids[ok])
    others = list(mine)
    if refs.grids is not None and len(refs.grids):
        file_ids = set(others_ids)
        keep = ~refs.grids["grid_id"].isin(file_ids).to_numpy()
        others_ids += refs.grids["grid_id"].to_numpy(dtype=object)[keep].tolist()
        others += list(_metric(np.asarray(refs.grids.geometry.array, dtype=object)[keep]))
    tree = shapely.STRtree(np.asarray(others, dtype=object))
    a_idx, b_idx = tree.query(mine, predicate="intersects")
    hits: dict[int, list[tuple[str, float]]] = {}
    for a, b in zip(a_idx.tolist(), b_idx.tolist(), strict=True):
        if b < len(ok) and b <= a:
            continue  # each pair inside the file once
        area = float(shapely.area(shapely.intersection(mine[a], others[b])))
        if area > OVERLAP_M2:
            hits.setdefault(int(ok[a]), []).append((str(others_ids[b]), area))
    if hits:
        pos = sorted(hits)
        per_row = [
            {"other": ", ".join(o for o, _ in hits[p]), "area": sum(a for _, a in hits[p])} for p in pos
        ]
        findings.append(Finding("overlap", "geometry", np.asarray(pos), None, per_row=per_row))


_NAT = np.iinfo(np.int64).min


def _key_codes(frames: Sequence[pd.DataFrame], key: Sequence[str]) -> list[pd.DataFrame]:
    """Turn the key columns of several frames into shared integer codes (-1 for empty).

    Hashing integers is far cheaper than hashing a million strings twice (once to
    find duplicates, once to match the database), and the codes agree across frames.
    """
    out: list[dict[str, np.ndarray]] = [{} for _ in frames]
    for k in key:
        parts = []
        for f in frames:
            s = f[k] if k in f else pd.Series([None] * len(f), dtype=object)
            if pd.api.types.is_datetime64_any_dtype(s):
                ints = s.to_numpy(dtype="datetime64[s]").view("int64")
                if (ints == _NAT).any():
                    with_none = ints.astype(object)
                    with_none[ints == _NAT] = None
                    parts.append(with_none)
                else:
                    parts.append(ints)
            else:
                parts.append(s.to_numpy(dtype=object))
        if all(p.dtype.kind == "i" for p in parts):
            codes, _ = pd.factorize(np.concatenate(parts))
        else:
            codes, _ = pd.factorize(np.concatenate([p.astype(object) for p in parts]), use_na_sentinel=True)
        start = 0
        for i, p in enumerate(parts):
            out[i][k] = np.asarray(codes[start : start + len(p)], dtype=np.int64)
            start += len(p)
    return [pd.DataFrame(o, index=pd.RangeIndex(len(f))) for o, f in zip(out, frames, strict=True)]


def _null_key(keys: pd.DataFrame) -> np.ndarray:
    return (
        np.asarray((keys.to_numpy() < 0).any(axis=1))
        if len(keys.columns)
        else np.zeros(len(keys), dtype=bool)
    )


def _compare_cols(v: pd.DataFrame) -> list[str]:
    skip = {"visit_id", "issue_id", "ref"}
    return [c for c in v.columns if c not in skip and not SPECS_VIRTUAL.get(c)]


def _vector_equal(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Compare two columns element by element; empty equals empty, floats to 1e-9."""
    if pd.api.types.is_datetime64_any_dtype(a) and pd.api.types.is_datetime64_any_dtype(b):
        xi = a.to_numpy(dtype="datetime64[s]").view("int64")
        yi = b.to_numpy(dtype="datetime64[s]").view("int64")
        return np.asarray(xi == yi)
    if pd.api.types.is_datetime64_any_dtype(a) or pd.api.types.is_datetime64_any_dtype(b):
        x = pd.to_datetime(pd.Series(a.to_numpy(dtype=object)), errors="coerce").to_numpy(
            dtype="datetime64[s]"
        )
        y = pd.to_datetime(pd.Series(b.to_numpy(dtype=object)), errors="coerce").to_numpy(
            dtype="datetime64[s]"
        )
        return np.asarray(x.view("int64") == y.view("int64"))
    if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
        x = pd.to_numeric(pd.Series(a.to_numpy(dtype=object)), errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(pd.Series(b.to_numpy(dtype=object)), errors="coerce").to_numpy(dtype=float)
        both = np.isnan(x) & np.isnan(y)
        with np.errstate(invalid="ignore"):
            return np.asarray(both | (np.abs(x - y) <= 1e-9 * np.maximum(1.0, np.abs(x))))
    x = a.astype(object).to_numpy(dtype=object)
    y = b.astype(object).to_numpy(dtype=object)
    x = np.where(pd.isna(x), None, x)
    y = np.where(pd.isna(y), None, y)
    if pd.api.types.is_integer_dtype(a) or pd.api.types.is_integer_dtype(b):
        x = np.array([None if e is None else int(e) for e in x], dtype=object)
        y = np.array([None if e is None else _maybe_int(e) for e in y], dtype=object)
    return np.asarray(x == y, dtype=bool)


def _maybe_int(e: Any) -> Any:
    try:
        return int(e)
    except (TypeError, ValueError):
        return e


def _geometry_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    none = shapely.is_missing(a) | shapely.is_missing(b)
    out = np.asarray(shapely.is_missing(a) & shapely.is_missing(b))
    ok = ~none
    if ok.any():
        out[ok] = shapely.equals_exact(shapely.normalize(a[ok]), shapely.normalize(b[ok]), tolerance=1e-9)
    return out


def _dedupe(
    checked: Checked,
    v: pd.DataFrame,
    geometry: np.ndarray | None,
    status: np.ndarray,
    refs: Refs,
    findings: list[Finding],
) -> None:
    """Mark duplicates within the file, and rows the database already holds (same or different).

    Issues with a case number (``ref``) are matched by ``(source, ref)``, the
    others by their content; visits by household, worker and time.
    """
    kind = checked.kind
    cols = [c for c in _compare_cols(v) if c in checked.given]
    groups: list[tuple[list[str], np.ndarray]] = []
    if kind == "issues" and "ref" in v:
        has_ref = v["ref"].notna().to_numpy()
        groups = [(["source", "ref"], has_ref), (list(checked.spec.key), ~has_ref)]
    else:
        groups = [(list(checked.spec.key), np.ones(len(v), dtype=bool))]
    for key, subset in groups:
        _dedupe_file(checked, v, geometry, status, findings, key, subset, cols)
        _against_db(v, geometry, status, refs, findings, key, subset, cols)
    if kind == "visits":
        _visit_ids(v, status, refs, findings)
    if kind == "issues":
        _taken_ids(v, "issue_id", status, refs, findings)


def _dedupe_file(
    checked: Checked,
    v: pd.DataFrame,
    geometry: np.ndarray | None,
    status: np.ndarray,
    findings: list[Finding],
    key: list[str],
    subset: np.ndarray,
    cols: list[str],
) -> None:
    """The same key twice in the file: identical rows keep their first, conflicting rows all go."""
    live = np.flatnonzero((status == "accept") & subset)
    if len(live) < 2:
        return
    (keys,) = _key_codes([v.iloc[live]], key)
    dup_any = keys.duplicated(keep=False).to_numpy() & ~_null_key(keys)
    if not dup_any.any():
        return
    members_of = keys[dup_any].groupby(key, dropna=False, sort=False).indices
    rows = checked.raw.rows
    dup_rows = np.flatnonzero(dup_any)
    exact_pos: list[int] = []
    exact_first: list[int] = []
    conflict_pos: list[int] = []
    conflict_rows: list[dict[str, str]] = []
    for members in members_of.values():
        pos = live[dup_rows[members]]
        first = int(pos[0])
        others = pos[1:]
        same = np.ones(len(others), dtype=bool)
        for c in cols:
            same &= _vector_equal(v[c].iloc[others].reset_index(drop=True),
                                  v[c].iloc[np.full(len(others), first)].reset_index(drop=True))  # fmt: skip
        if geometry is not None:
            same &= _geometry_equal(geometry[others], geometry[np.full(len(others), first)])
        if same.all():
            exact_pos.extend(others.tolist())
            exact_first.extend([int(rows[first])] * len(others))
        else:
            for p in pos.tolist():
                conflict_pos.append(p)
                conflict_rows.append(
                    {
                        "others": ", ".join(str(int(rows[q])) for q in pos if q != p),
                        "key": _key_text(v, key, p),
                    }
                )
    if exact_pos:
        findings.append(
            Finding(
                "dup_in_file",
                _key_column(key),
                np.asarray(exact_pos),
                None,
                per_row=[{"other": o} for o in exact_first],
            )
        )
        status[exact_pos] = "reject"
    if conflict_pos:
        findings.append(
            Finding("dup_conflict", _key_column(key), np.asarray(conflict_pos), None, per_row=conflict_rows)
        )
        status[conflict_pos] = "reject"


def _key_column(key: Sequence[str]) -> str | None:
    """Name the key's column in messages; a key of several columns is spelled out in the message."""
    return key[0] if len(key) == 1 else None


def _key_text(v: pd.DataFrame, key: Sequence[str], p: int) -> str:
    parts = []
    for k in key:
        x = v[k].iat[p] if k in v else None
        parts.append(str(pd.Timestamp(x)) if isinstance(x, np.datetime64) else str(x))
    return " / ".join(parts)


def _against_db(
    v: pd.DataFrame,
    geometry: np.ndarray | None,
    status: np.ndarray,
    refs: Refs,
    findings: list[Finding],
    key: list[str],
    subset: np.ndarray,
    cols: list[str],
) -> None:
    """Rows whose key the database holds: ``unchanged`` when equal, rejected when not."""
    db = refs.existing
    if db is None or len(db) == 0 or any(k not in db.columns for k in key):
        return
    live = np.flatnonzero((status == "accept") & subset)
    if len(live) == 0:
        return
    file_keys, db_keys = _key_codes([v.iloc[live], db], key)
    keep = ~_null_key(file_keys)
    file_keys = file_keys[keep]
    file_keys["_pos"] = live[keep]
    db_keys["_db"] = np.arange(len(db))
    db_keys = db_keys[~_null_key(db_keys)]
    merged = file_keys.merge(db_keys, on=key, how="inner")
    if merged.empty:
        return
    merged = merged.drop_duplicates("_pos")
    pos = merged["_pos"].to_numpy()
    dbi = merged["_db"].to_numpy()
    dcols = [c for c in cols if c in db.columns]
    differs: dict[str, np.ndarray] = {}
    for c in dcols:
        eq = _vector_equal(v[c].iloc[pos].reset_index(drop=True), db[c].iloc[dbi].reset_index(drop=True))
        if not eq.all():
            differs[c] = ~eq
    geo_diff = None
    if geometry is not None and refs.existing_geometry is not None:
        geo_diff = ~_geometry_equal(geometry[pos], np.asarray(refs.existing_geometry, dtype=object)[dbi])
    any_diff = np.zeros(len(pos), dtype=bool)
    for d in differs.values():
        any_diff |= d
    if geo_diff is not None:
        any_diff |= geo_diff
    status[pos[~any_diff]] = "unchanged"
    if any_diff.any():
        rows: list[dict[str, str]] = []
        for j in np.flatnonzero(any_diff).tolist():
            p, q = int(pos[j]), int(dbi[j])
            parts = [
                f"{c} {_quote(db[c].iat[q])} in the database, {_quote(v[c].iat[p])} in the file"
                for c, m in differs.items()
                if m[j]
            ]
            if geo_diff is not None and geo_diff[j]:
                parts.append("the geometry differs")
            text = "; ".join(parts[:3]) + (f"; +{len(parts) - 3} more" if len(parts) > 3 else "")
            rows.append({"diff": text, "key": _key_text(v, key, p)})
        bad = pos[any_diff]
        status[bad] = "reject"
        findings.append(Finding("conflict_db", _key_column(key), bad, None, per_row=rows))


def _visit_ids(v: pd.DataFrame, status: np.ndarray, refs: Refs, findings: list[Finding]) -> None:
    """Refuse visit ids and idempotency keys the database (or an earlier row) holds for another visit."""
    _taken_ids(v, "visit_id", status, refs, findings)
    if "idem_key" not in v:
        return
    keys = v["idem_key"].to_numpy(dtype=object)
    live = np.flatnonzero(status == "accept")
    used = [p for p in live.tolist() if keys[p] is not None and keys[p] in (refs.idem_keys or {})]
    sub = pd.Series(keys[live], dtype=object)
    dup = live[(sub.notna() & sub.duplicated(keep="first")).to_numpy()]
    bad = sorted(set(used) | set(dup.tolist()))
    if bad:
        status[bad] = "reject"
        findings.append(Finding("idem_taken", "idem_key", np.asarray(bad), keys[bad]))


def _taken_ids(v: pd.DataFrame, col: str, status: np.ndarray, refs: Refs, findings: list[Finding]) -> None:
    """Refuse ids the database holds for another record, and ids given twice in the file."""
    if col not in v:
        return
    ids = v[col].to_numpy(dtype=object)
    live = np.flatnonzero(status == "accept")
    have = np.array([ids[p] is not None and ids[p] is not pd.NA for p in live], dtype=bool)
    live = live[have]
    taken = refs.taken_ids or set()
    bad = [p for p in live.tolist() if int(ids[p]) in taken]
    sub = pd.Series([int(ids[p]) for p in live], dtype="int64")
    dup = live[sub.duplicated(keep="first").to_numpy()] if len(live) else np.zeros(0, dtype=np.int64)
    bad = sorted(set(bad) | set(dup.tolist()))
    if bad:
        status[bad] = "reject"
        findings.append(Finding("id_taken", col, np.asarray(bad), ids[bad]))


# --------------------------------------------------------------------------- the report


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do): counts, messages and the rejected rows."""

    kind: str
    file: str
    format: str
    total: int
    accepted: int
    rejected: int
    unchanged: int
    findings: list[Finding]
    status: np.ndarray
    raw: RawFile
    dry_run: bool = False
    written: bool = False
    seconds: float = 0.0

    @classmethod
    def build(cls, checked: Checked, verdict: Verdict, *, dry_run: bool = False) -> ImportReport:
        """Count the verdict of every row."""
        s = verdict.status
        return cls(
            kind=checked.kind,
            file=checked.raw.source.name,
            format=checked.raw.format,
            total=len(s),
            accepted=int((s == "accept").sum()),
            rejected=int((s == "reject").sum()),
            unchanged=int((s == "unchanged").sum()),
            findings=verdict.findings,
            status=s,
            raw=checked.raw,
            dry_run=dry_run,
        )

    def summary(self, lang: str = "en") -> str:
        """Return the one-line summary.

        >>> r = ImportReport("visits", "v.csv", "csv", 5, 3, 1, 1, [], np.array([]), None, dry_run=True)
        >>> r.summary()
        'v.csv → visits: 3 accepted, 1 rejected, 1 unchanged (of 5 rows) — dry run, nothing written'
        >>> r.summary("zh")
        'v.csv → 走访记录：接受 3 行，拒绝 1 行，未变 1 行（共 5 行）——试运行，未写入'
        """
        if lang == "zh":
            name = KIND_NAMES.get(self.kind, self.kind)
            text = (
                f"{self.file} → {name}：接受 {self.accepted:,} 行，拒绝 {self.rejected:,} 行，"
                f"未变 {self.unchanged:,} 行（共 {self.total:,} 行）"
            )
            return text + ("——试运行，未写入" if self.dry_run else "")
        text = (
            f"{self.file} → {self.kind}: {self.accepted:,} accepted, {self.rejected:,} rejected, "
            f"{self.unchanged:,} unchanged (of {self.total:,} rows)"
        )
        return text + (" — dry run, nothing written" if self.dry_run else "")

    def _header(self, column: str | None, lang: str) -> str:
        if column is None:
            return ""
        own = self.raw.columns_of.get(column) if self.raw is not None else None
        if column == "geometry":
            return "geometry" if lang == "en" else "几何"
        return f"{one_line(own)} ({column})" if own and own != column else column

    def problems(self, lang: str = "en", *, limit: int | None = None) -> pd.DataFrame:
        """Return one line per finding and row: ``row``, ``column``, ``severity``, ``code``, ``message``."""
        out: list[tuple[Any, ...]] = []
        for f in self.findings:
            sev = "warning" if f.is_warning else "error"
            if f.positions is None:
                out.append((None, "", sev, f.code, _localise(f, None, lang)))
                continue
            for i, p in enumerate(f.positions.tolist()):
                out.append(
                    (int(self.raw.rows[p]), self._header(f.column, lang), sev, f.code, _localise(f, i, lang))
                )
                if limit is not None and len(out) >= limit:
                    break
            if limit is not None and len(out) >= limit:
                break
        frame = pd.DataFrame(out, columns=["row", "column", "severity", "code", "message"])
        frame["row"] = frame["row"].astype("Int64")
        return frame.sort_values("row", kind="stable", na_position="first").reset_index(drop=True)

    def warnings(self, lang: str = "en") -> list[str]:
        """Return the warnings as lines (file-wide ones, then ``row N, column: message``)."""
        lines = []
        for f in self.findings:
            if not f.is_warning:
                continue
            if f.positions is None:
                lines.append(_localise(f, None, lang))
                continue
            for i, p in enumerate(f.positions.tolist()):
                col = self._header(f.column, lang)
                where = f"row {int(self.raw.rows[p])}" if lang == "en" else f"第 {int(self.raw.rows[p])} 行"
                lines.append(f"{where}{', ' + col if col else ''}: {_localise(f, i, lang)}")
        return lines

    def rejects_frame(self, lang: str = "en") -> pd.DataFrame:
        """Return the rejected rows as they were in the file, with ``_row``, ``_column`` and ``_reason``.

        A row with several problems lists each column and reason, joined by ``; ``.
        """
        rejected = np.flatnonzero(self.status == "reject")
        cols: dict[int, list[str]] = {int(p): [] for p in rejected}
        reasons: dict[int, list[str]] = {int(p): [] for p in rejected}
        for f in self.findings:
            if f.positions is None or f.is_warning:
                continue
            for i, p in enumerate(f.positions.tolist()):
                if p in reasons:
                    col = self._header(f.column, lang)
                    if col and col not in cols[p]:
                        cols[p].append(col)
                    text = _localise(f, i, lang)
                    reasons[p].append(f"{col}: {text}" if col else text)
        frame = self.raw.original.rows(rejected)
        frame["_row"] = self.raw.rows[rejected]
        frame["_column"] = ["; ".join(cols[int(p)]) for p in rejected]
        frame["_reason"] = ["; ".join(reasons[int(p)]) for p in rejected]
        return frame


def _localise(f: Finding, i: int | None, lang: str) -> str:
    if f.code == "unknown_ref" and lang == "zh":
        params = dict(f.extra)
        params["what"] = params.get("what_zh", params.get("what"))
        g = Finding(f.code, f.column, f.positions, f.values, params, f.per_row, f.quote)
        return g.text(i, lang)
    return f.text(i, lang)


def rejects_bytes(report: ImportReport, *, lang: str = "en") -> tuple[str, bytes]:
    """Return the rejects file, in the input's format: ``(file name, bytes)``.

    CSV keeps the input's encoding and delimiter; a workbook gets one sheet;
    GIS files keep their format, with features in the coordinates they came in.
    """
    frame = report.rejects_frame(lang)
    raw = report.raw
    stem = raw.source.name.rsplit(".", 1)[0] if "." in raw.source.name else raw.source.name
    if raw.format == "csv":
        enc = raw.encoding or "utf-8-sig"
        buf = io.StringIO()
        # Formula-like cells are escaped, so opening the rejects in Excel runs nothing;
        # importing the fixed file removes the apostrophe again.
        safe = frame.map(escape_csv) if len(frame) else frame
        safe.to_csv(buf, index=False, sep=raw.delimiter, lineterminator="\r\n")
        text = buf.getvalue()
        if enc == "utf-8":
            enc = "utf-8-sig"  # Excel opens a UTF-8 CSV correctly only with its BOM
        return f"{stem}.rejects.csv", text.encode(enc, errors="replace")
    if raw.format == "xlsx":
        return f"{stem}.rejects.xlsx", _xlsx_bytes(frame, sheet=raw.sheet or "rejects")
    geom = frame.pop("geometry") if "geometry" in frame.columns else None
    gdf = gpd.GeoDataFrame(
        frame, geometry=gpd.GeoSeries(list(geom) if geom is not None else [None] * len(frame)), crs=raw.crs
    )
    return _layer_bytes(gdf, raw.format, stem=f"{stem}.rejects", layer=raw.layer or raw.kind)


def _xlsx_bytes(frame: pd.DataFrame, *, sheet: str) -> bytes:
    """Write ``frame`` as a one-sheet workbook; text stays text (never a formula)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet(title=_sheet_title(sheet))
    ws.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        cells: list[Any] = []
        for value in row:
            v = _xlsx_value(value)
            if isinstance(v, str) and v.startswith("="):
                # openpyxl would store it as a formula; a text cell is what the data is.
                cell = WriteOnlyCell(ws, value=v)
                cell.data_type = "s"
                cells.append(cell)
            else:
                cells.append(v)
        ws.append(cells)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _sheet_title(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "Sheet1"


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xlsx_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("\ufffd", value)
    if isinstance(value, bytes | shapely.Geometry):
        return str(value)
    return value


def _layer_bytes(gdf: gpd.GeoDataFrame, fmt: str, *, stem: str, layer: str) -> tuple[str, bytes]:
    """Write a GeoDataFrame as GeoPackage, GeoJSON or zipped Shapefile bytes (via a temporary folder)."""
    import tempfile
    from pathlib import Path

    import pyogrio

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's notes on laundered field names
        if fmt == "gpkg":
            path = Path(tmp) / f"{stem}.gpkg"
            pyogrio.write_dataframe(gdf, path, layer=layer, driver="GPKG", promote_to_multi=True)
            return path.name, path.read_bytes()
        if fmt == "geojson":
            path = Path(tmp) / f"{stem}.geojson"
            pyogrio.write_dataframe(gdf, path, driver="GeoJSON")
            return path.name, path.read_bytes()
        folder = Path(tmp) / "shp"
        folder.mkdir()
        pyogrio.write_dataframe(gdf, folder / f"{layer}.shp", driver="ESRI Shapefile", encoding="UTF-8")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(folder.iterdir()):
                z.write(f, f.name)
        return f"{stem}.zip", buf.getvalue()
