"""Chinese by default, English on request: every label in one table."""

from __future__ import annotations

import datetime as dt
import math

import streamlit as st

LANGS = ("zh", "en")

TEXT: dict[str, tuple[str, str]] = {
    "app.title": ("四百网格地图", "Sibai Grid Map"),
    "app.subtitle": ("普陀区“四百”走访 · 社区微网格", "Putuo household visits · community micro-grids"),
    "nav.map": ("总览地图", "District map"),
    "nav.grid": ("网格", "Grid"),
    "nav.walk": ("今日走访", "Today's walk"),
    "nav.uncovered": ("盲区与周查", "Uncovered & weekly check"),
    "nav.issues": ("诉求", "Issues"),
    "nav.workers": ("社工考核", "Workers"),
    "nav.public": ("公示", "Public summary"),
    "nav.data": ("数据", "Data"),
    "lang": ("语言 / Language", "Language / 语言"),
    "period": ("统计周期", "Period"),
    "period.week": ("本周", "This week"),
    "period.month": ("本月", "This month"),
    "period.quarter": ("本季度", "This quarter"),
    "period.ytd": ("今年以来", "Year to date"),
    "period.year": ("近一年", "Last 12 months"),
    "period.custom": ("自定义", "Custom range"),
    "period.from": ("开始日期", "From"),
    "period.to": ("结束日期", "To"),
    "area": ("区域", "Area"),
    "area.street": ("街道 / 镇", "Street / town"),
    "area.committee": ("居委会", "Committee"),
    "area.all": ("全部", "All"),
    "district": ("普陀区", "Putuo district"),
    "metric": ("着色指标", "Colour by"),
    "metric.coverage": ("走访覆盖率", "Visit coverage"),
    "metric.issues_per_100": ("每百户未结诉求", "Open issues per 100 households"),
    "metric.overdue": ("超期诉求", "Overdue issues"),
    "metric.bivariate": ("覆盖率 × 诉求", "Coverage × issues"),
    "scheme": ("分级方式", "Classes"),
    "scheme.fixed": ("固定阈值", "Fixed thresholds"),
    "scheme.quantiles": ("分位数", "Quantiles"),
    "scheme.natural_breaks": ("自然断点", "Natural breaks"),
    "basemap": ("底图", "Basemap"),
    "basemap.none": ("无（仅边界）", "None (outlines)"),
    "basemap.osm": ("OpenStreetMap（需联网）", "OpenStreetMap (online)"),
    "basemap.tianditu": ("天地图（需联网与密钥）", "Tianditu (online, key)"),
    "basemap.amap": ("高德（需联网，GCJ-02）", "AMap/Gaode (online, GCJ-02)"),
    "households": ("户数", "Households"),
    "visited": ("已见面户数", "Households met"),
    "coverage": ("覆盖率", "Coverage"),
    "residents": ("居民", "Residents"),
    "residents_covered": ("已覆盖居民", "Residents covered"),
    "open_issues": ("未结诉求", "Open issues"),
    "overdue_issues": ("超期诉求", "Overdue issues"),
    "no_households": ("无在住户", "No occupied households"),
    "grids": ("网格数", "Grids"),
    "selected": ("选中网格", "Selected grid"),
    "open_grid": ("打开网格页 →", "Open grid page →"),
    "click_hint": ("点击地图上的网格查看详情。", "Click a grid on the map to see its summary."),
    "bad_id": ("找不到编号为 {id} 的{what}，请检查链接。", "No {what} with id {id}: please check the link."),
    "what.grid": ("网格", "grid"),
    "what.street": ("街道", "street"),
    "what.committee": ("居委会", "committee"),
    "what.building": ("楼栋", "building"),
    "what.household": ("住户", "household"),
    "building.first_run": (
        "首次启动：正在生成演示用的普陀区数据（约 50 万户），请稍候……",
        "First start: building the demo Putuo district (about 500,000 households)…",
    ),
    "db.error": ("数据库无法打开：{msg}", "The database cannot be opened: {msg}"),
    "as_of": ("数据截至", "Data as of"),
    "summary": ("汇总", "Summary"),
    "period.bad": ("结束日期早于开始日期。", "The end date is before the start date."),
    # --- grid page (issue 4) ---
    "grid.title": ("网格 · {name}", "Grid · {name}"),
    "grid.pick": ("选择网格", "Choose a grid"),
    "grid.pick_hint": (
        "在总览地图上点击网格进入，或在此选择：",
        "Click a grid on the district map, or choose one here:",
    ),
    "grid.staff_only": ("网格详情仅向工作人员开放。", "Grid details are for staff only."),
    "grid.period": ("统计周期 {start} – {end}", "Period {start} – {end}"),
    "grid.buildings": ("楼栋", "Buildings"),
    "grid.map_hint": ("点击楼栋，列出其住户。", "Click a building to list its households."),
    "grid.list_building": ("{name} 的住户", "Households of {name}"),
    "grid.list_grid": ("全网格住户", "All households of the grid"),
    "grid.whole_grid": ("← 全网格", "← Whole grid"),
    "grid.filters": ("筛选", "Filters"),
    "grid.list_hint": ("选中一行，打开该户的一户一表。", "Select a row to open the household's profile."),
    "grid.count": ("{n} 户（共 {total} 户）", "{n} of {total} households"),
    "grid.pick_household": (
        "在列表中选中一户，查看一户一表并登记走访。",
        "Select a household in the list to see its profile and record a visit.",
    ),
    "filter.not_met_this_year": ("今年未见面", "Not met this year"),
    "filter.vulnerable_not_met": ("重点人群 90 天未见面", "Vulnerable, not met for 90 days"),
    "filter.open_issue": ("有未结诉求待跟进", "Open issue awaiting follow-up"),
    "col.household_id": ("户编号", "Household"),
    "col.building": ("楼栋", "Building"),
    "col.unit": ("房号", "Unit"),
    "col.head_name": ("户主", "Head of household"),
    "col.phone": ("电话", "Phone"),
    "col.residents": ("人数", "Residents"),
    "col.tags": ("标签", "Tags"),
    "col.last_visit": ("最近走访", "Last visit"),
    "col.last_outcome": ("最近结果", "Last outcome"),
    "col.days_since_met": ("未见面天数", "Days since met"),
    "col.open_issues": ("未结诉求", "Open issues"),
    "col.occupied": ("在住", "Occupied"),
    "col.visited_at": ("走访时间", "Time"),
    "col.worker": ("社工", "Worker"),
    "col.outcome": ("结果", "Outcome"),
    "col.channel": ("方式", "Channel"),
    "col.note": ("民情笔记", "Note"),
    "col.issue_id": ("编号", "No."),
    "col.opened_at": ("发现时间", "Opened"),
    "col.category": ("类别", "Category"),
    "col.title": ("内容", "Description"),
    "col.level": ("层级", "Level"),
    "col.status": ("状态", "Status"),
    "col.due_at": ("办理时限", "Due"),
    "col.closed_at": ("结案时间", "Closed"),
    "outcome.met": ("已见面", "Met"),
    "outcome.not_home": ("不在家", "Not home"),
    "outcome.refused": ("拒访", "Refused"),
    "outcome.vacant": ("空置", "Vacant"),
    "outcome.inaccessible": ("无法进入", "Inaccessible"),
    "channel.door": ("上门", "At the door"),
    "channel.phone": ("电话", "By phone"),
    "channel.online": ("线上", "Online"),
    "status.open": ("发现", "Found"),
    "status.dispatched": ("已派遣", "Dispatched"),
    "status.handled": ("已处置", "Handled"),
    "status.verified": ("已核查", "Verified"),
    "status.closed": ("已结案", "Closed"),
    "level.building": ("楼栋", "Building"),
    "level.grid": ("网格", "Grid"),
    "level.committee": ("居委会", "Committee"),
    "level.street": ("街道", "Street"),
    "level.district": ("区", "District"),
    "tag.alone_elderly": ("独居老人", "Elderly, alone"),
    "tag.very_old": ("高龄", "Very old"),
    "tag.disabled": ("残疾", "Disabled"),
    "tag.low_income": ("低保", "Low income"),
    "tag.small_children": ("有12岁以下儿童", "Children under 12"),
    "role.leader": ("网格长", "grid leader"),
    "profile.title": ("一户一表 · {unit}", "Household profile · {unit}"),
    "profile.head": ("户主", "Head of household"),
    "profile.phone": ("电话", "Phone"),
    "profile.residents": ("居住人数", "Residents"),
    "profile.vacant": ("空置", "Vacant"),
    "profile.tags": ("标签", "Tags"),
    "profile.no_tags": ("无", "None"),
    "profile.last_met": ("上次见面", "Last met"),
    "profile.never_met": ("从未见面", "Never met"),
    "profile.days_ago": ("{date}（{n} 天前）", "{date} ({n} days ago)"),
    "profile.visits": ("走访记录（{n}）", "Visit history ({n})"),
    "profile.no_visits": ("尚无走访记录。", "No visits yet."),
    "profile.issues": ("诉求（{n}）", "Issues ({n})"),
    "profile.no_issues": ("无诉求记录。", "No issues raised."),
    "profile.overdue": ("超期", "Overdue"),
    "unmask.button": ("显示完整姓名和电话（将被记录）", "Show full name and phone (logged)"),
    "unmask.shown": ("已显示完整个人信息；此次查看已记录。", "Full personal data shown; this was logged."),
    "unmask.hide": ("重新隐藏", "Mask again"),
    "unmask.masked": ("个人信息已脱敏。", "Personal data is masked."),
    "visit.title": ("登记走访", "Record a visit"),
    "visit.worker": ("走访社工", "Worker"),
    "visit.date": ("日期", "Date"),
    "visit.time": ("时间", "Time"),
    "visit.outcome": ("走访结果", "Outcome"),
    "visit.channel": ("走访方式", "Channel"),
    "visit.note": ("民情笔记", "Note"),
    "visit.needs": ("发现需求，登记为诉求", "Needs found: open an issue"),
    "visit.category": ("诉求类别", "Category"),
    "visit.level": ("处理层级", "Level"),
    "visit.issue_title": ("诉求内容（可选）", "Description (optional)"),
    "visit.submit": ("保存走访", "Save visit"),
    "visit.saved": ("已登记走访 #{id}。", "Visit #{id} recorded."),
    "visit.saved_issue": (
        "已登记走访 #{id}，并新建诉求 #{issue}。",
        "Visit #{id} recorded; issue #{issue} opened.",
    ),
    "visit.duplicate": (
        "这次走访已登记过（#{id}），没有重复保存。",
        "This visit was already recorded (#{id}); nothing was saved twice.",
    ),
    "visit.invalid": ("未保存，请修改：", "Not saved. Please fix:"),
    "visit.no_workers": (
        "本网格没有在岗社工，无法登记走访。",
        "No active worker is assigned to this grid: visits cannot be recorded.",
    ),
    "visit.not_allowed": ("当前角色不能登记走访。", "Your role may not record visits."),
    "visit.err.household_missing": ("请选择住户。", "Choose a household."),
    "visit.err.household_unknown": ("找不到住户 {id}。", "No household with id {id}."),
    "visit.err.worker_missing": ("请选择走访社工。", "Choose the worker who made the visit."),
    "visit.err.worker_unknown": ("找不到在岗社工 {id}。", "No active worker with id {id}."),
    "visit.err.outcome_missing": ("请选择走访结果。", "Choose an outcome."),
    "visit.err.outcome_unknown": ("“{value}”不是有效的走访结果。", "{value!r} is not an outcome."),
    "visit.err.channel_missing": ("请选择走访方式。", "Choose a channel."),
    "visit.err.channel_unknown": ("“{value}”不是有效的走访方式。", "{value!r} is not a channel."),
    "visit.err.time_missing": ("请填写走访日期和时间。", "Give the date and time of the visit."),
    "visit.err.time_bad": (
        "“{value}”不是有效的时间（YYYY-MM-DD HH:MM）。",
        "{value!r} is not a time (YYYY-MM-DD HH:MM).",
    ),
    "visit.err.time_future": (
        "走访时间 {at} 晚于现在（{now}）。",
        "The time {at} is in the future (now {now}).",
    ),
    "visit.err.time_too_old": (
        "走访时间 {at} 早于 {days} 天前。",
        "The time {at} is more than {days} days ago.",
    ),
    "visit.err.time_outside_day": (
        "走访时间 {at} 不在工作时间 {start}–{end} 内。",
        "The time {at} is outside the working day {start}–{end}.",
    ),
    "visit.err.note_too_long": (
        "民情笔记有 {n} 字，最多 {max} 字。",
        "The note has {n} characters; at most {max}.",
    ),
    "visit.err.category_missing": ("请填写诉求类别。", "Give the category of the need found."),
    "visit.err.level_bad": (
        "走访发现的诉求只能在楼栋或网格层级处理。",
        "A need found on a visit starts at building or grid level.",
    ),
    "visit.err.title_too_long": (
        "诉求内容有 {n} 字，最多 {max} 字。",
        "The description has {n} characters; at most {max}.",
    ),
    "visit.err.key_bad": ("表单标识无效，请刷新页面。", "The form's key is invalid; reload the page."),
}


def lang() -> str:
    """Return the current language code (``zh`` unless the user switched)."""
    value = st.session_state.get("lang")
    if value not in LANGS:
        q = st.query_params.get("lang")
        value = q if q in LANGS else "zh"
        st.session_state["lang"] = value
    return str(value)


def t(key: str, **kw: object) -> str:
    """Translate ``key`` into the current language."""
    zh, en = TEXT.get(key, (key, key))
    text = en if lang() == "en" else zh
    return text.format(**kw) if kw else text


def fmt_int(n: float | int) -> str:
    """Format a count with thousands separators (same in both languages)."""
    return f"{int(n):,}"


def fmt_pct(x: float | None) -> str:
    """Format a share as a percentage, or the 'no households' label for NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return t("no_households")
    return f"{x * 100:.1f}%"


def fmt_date(d: dt.date) -> str:
    """Format a date for the current language."""
    return f"{d.year}年{d.month}月{d.day}日" if lang() == "zh" else d.isoformat()
