"""What each kind of file holds: its fields, their types and rules, and the headers that name them.

:data:`SPECS` gives every kind's fields (type, required, default, accepted
words, referenced kind, range, length) and key; :data:`HEADERS` the Chinese
and English headers accepted for each field (documented in ``docs/import.md``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from geo import words

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
            out[norm_value(a)] = code
    return out


def norm_value(text: str) -> str:
    """Return a cell's word as it is looked up: NFKC, lower case, without spaces, ``_`` or ``-``."""
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

REF_WHAT = words.pairs("ingest.what.")

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


def norm_header(text: object) -> str:
    """Return a header as it is looked up: NFKC, lower case, without notes in brackets or separators."""
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    s = re.sub(r"[(\[【].*?[)\]】]", "", s)  # notes such as （必填） or (YYYY-MM-DD)
    return re.sub(r"[\s_\-·./*:]+", "", s)


def header_lookup(kind: str, columns: Mapping[str, str] | None, *, dbf: bool = False) -> dict[str, str]:
    """Map every accepted header of ``kind`` (normalised) to its field, with ``columns`` on top.

    ``dbf``: also accept headers cut to a Shapefile's 10-byte field names (and
    lower-cased: ogr2ogr's laundering), whatever format they were carried into.

    >>> lookup = header_lookup("households", None, dbf=True)
    >>> [lookup.get(norm_header(h)) for h in ("household_", "BUILDING_I", "户号")]
    ['household_id', 'building_id', 'household_id']
    """
    lookup: dict[str, str] = {}
    for name, aliases in HEADERS[kind].items():
        for a in aliases:
            lookup.setdefault(norm_header(a), name)
    if dbf:
        # Shapefile (dBASE) field names hold at most 10 bytes: accept headers cut there.
        for name, aliases in HEADERS[kind].items():
            for a in aliases:
                for enc in ("utf-8", "gbk"):
                    cut = a.encode(enc)[:10].decode(enc, errors="ignore")
                    if cut != a and cut:
                        lookup.setdefault(norm_header(cut), name)
    for src, dest in (columns or {}).items():
        if dest not in SPECS[kind].names:
            raise ValueError(
                f"--map {src}={dest}: {kind} have no field {dest!r}; fields: {', '.join(SPECS[kind].names)}"
            )
        lookup[norm_header(src)] = dest
    return lookup
