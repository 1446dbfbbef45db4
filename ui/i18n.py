"""Chinese by default, English on request: every label in one table."""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

import streamlit as st

from geo.text import Plain, plain

LANGS = ("zh", "en")
Lang = Literal["zh", "en"]

TEXT: dict[str, tuple[str, str]] = {
    "app.title": ("四百网格地图", "Sibai Grid Map"),
    "app.subtitle": ("普陀区“四百”走访 · 社区微网格", "Putuo household visits · community micro-grids"),
    "nav.map": ("总览地图", "District map"),
    "nav.grid": ("网格", "Grid"),
    "nav.walk": ("今日走访", "Today's walk"),
    "walk.grid": ("网格", "Grid"),
    "walk.day": ("日期", "Day"),
    "walk.start": ("出发时间", "Start"),
    "walk.end": ("结束时间（330工作法）", "End (the 15:30 rule)"),
    "walk.minutes": ("每户分钟", "Minutes per household"),
    "walk.bad_time": ("结束时间必须晚于出发时间。", "The end must be after the start."),
    "walk.households": ("可走访户数", "Households in the walk"),
    "walk.distance": ("步行距离", "Walking distance"),
    "walk.finish": ("预计结束", "Finishes at"),
    "walk.why": ("为什么是这些住户（优先级）", "Why these households (priority)"),
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
    # --- street office: uncovered areas, pace, weekly check, workers (issue 7) ---
    "office.title": ("盲区与周查", "Uncovered areas and the weekly check"),
    "office.caption": (
        "覆盖率统计周期 {start} – {end}；进度按全年目标计算，截至 {today}。",
        "Coverage over {start} – {end}; pace against the yearly goal as of {today}.",
    ),
    "office.tab.spots": ("盲区", "Blind spots"),
    "office.tab.pace": ("年度进度", "Pace"),
    "office.tab.week": ("一周一查", "Weekly check"),
    "office.tab.unmet": ("久未见面", "Not met for a year"),
    "office.below": ("覆盖率低于", "Coverage below"),
    "office.n_spots": ("盲区", "Blind spots"),
    "office.n_lagging": ("落后网格", "Lagging grids"),
    "office.spot_households": ("盲区内在住户", "Households in blind spots"),
    "office.spot_unvisited": ("盲区内未见面户", "Not met in blind spots"),
    "office.map_hint": (
        "红色粗线为盲区（相邻的低覆盖网格合并）；数字为盲区编号。",
        "Thick red outlines are blind spots (adjacent low-coverage grids merged); numbers are their ids.",
    ),
    "office.spots": ("盲区清单", "Blind spots"),
    "office.lagging": ("落后网格（最差在前）", "Lagging grids, worst first"),
    "office.none_lagging": ("没有低于该覆盖率的网格。", "No grid is below this coverage."),
    "office.download_xlsx": ("下载 Excel", "Download Excel"),
    "office.download_csv": ("下载 CSV", "Download CSV"),
    "office.csv_of": ("CSV 内容", "CSV of"),
    "office.level": ("按", "By"),
    "office.level.street": ("街道", "Street"),
    "office.level.committee": ("居委会", "Committee"),
    "office.level.grid": ("网格", "Grid"),
    "office.coverage_so_far": ("今年覆盖率", "Coverage this year"),
    "office.expected": ("应达进度", "Pace needed"),
    "office.needed_per_week": ("每周需见面户数", "Households needed a week"),
    "office.recent_per_week": ("近4周每周新见面", "First met a week (4 weeks)"),
    "office.behind_count": ("落后进度", "Behind pace"),
    "office.burn_up": ("全年进度（燃尽图）", "Burn-up against the yearly goal"),
    "office.pace_table": ("进度明细（落后在前）", "Pace by area, behind first"),
    "office.week_ending": ("周查截止日", "Week ending"),
    "office.week_caption": (
        "本周 {start} – {end}，对比今年 1 月 1 日以来。",
        "This week {start} – {end}, beside the year since 1 January.",
    ),
    "office.visits_week": ("本周走访", "Visits this week"),
    "office.newly_met_week": ("本周新见面户", "First met this week"),
    "office.coverage_gained": ("本周覆盖率提升", "Coverage gained"),
    "office.issues_week": ("本周诉求 新增 / 办结", "Issues opened / closed"),
    "office.overdue": ("当前超期诉求", "Issues overdue"),
    "office.anomalies": ("异常提示", "Anomaly flags"),
    "office.by_grid": ("按网格", "By grid"),
    "office.by_worker": ("按社工", "By worker"),
    "office.spot_checks": ("电话抽查清单", "Spot checks by phone"),
    "office.spot_hint": (
        "随机抽取本周已见面的走访（固定种子，同一周结果相同），电话向居民核实。",
        "A seeded random draw of this week's met visits (the same week, the same list); confirm by phone.",
    ),
    "office.no_anomalies": ("本周没有异常提示。", "No anomaly flags this week."),
    "office.supervisors_only": (
        "抽查结果与异常复核由街道办（及区）记录；此处仅供查看。",
        "Spot-check results and anomaly reviews are recorded by the street office (and the district);"
        " shown here to read.",
    ),
    "office.record_check": ("登记抽查结果", "Record a check result"),
    "office.visit": ("走访编号", "Visit"),
    "office.result": ("抽查结果", "Result"),
    "office.note": ("备注", "Note"),
    "office.save": ("保存", "Save"),
    "office.saved": ("已保存（#{id}）。", "Saved (#{id})."),
    "office.review": ("核实异常", "Review a flag"),
    "office.reveal": (
        "显示户主姓名和电话以便电话核实（将被记录）",
        "Show the head's name and phone to call (logged)",
    ),
    "office.contact": (
        "户主 {name} · 电话 {phone}（此次查看已记录）",
        "Head {name} · phone {phone} (this view was logged)",
    ),
    "office.no_visit": ("找不到走访 #{id}。", "No visit #{id}."),
    "office.flag": ("异常", "Flag"),
    "office.decision": ("结论", "Decision"),
    "office.decision.confirmed": ("属实（扣分）", "Confirmed (deducts points)"),
    "office.decision.dismissed": ("不属实", "Dismissed"),
    "office.months": ("未见面月数", "Months without a meeting"),
    "office.unmet_grids": ("各网格久未见面户数", "Households not met, per grid"),
    "office.unmet_list": ("久未见面住户（已脱敏）", "Households not met (masked)"),
    "office.unmet_pick_area": (
        "在侧栏选择街道或居委会，列出具体住户。",
        "Choose a street or committee in the sidebar to list the households.",
    ),
    "office.unmet_total": ("久未见面户", "Households not met"),
    "office.bad_deductions": (
        "扣分设置 SIBAI_DEDUCTIONS 无效，已用默认值：{msg}",
        "SIBAI_DEDUCTIONS is invalid, defaults used: {msg}",
    ),
    "workers.title": ("社工考核", "Worker assessment"),
    "workers.caption": (
        "驾照式扣分：每人每年 {points} 分；截至 {today}。",
        "Driving-licence points: {points} a year each; as of {today}.",
    ),
    "workers.rules": ("扣分规则", "Deduction rules"),
    "workers.rule.behind_pace": (
        "负责网格在每{every}末进度落后（低于应达进度的 {pct}）：每格每次扣 {n} 分",
        "Grid led behind pace at a {every}'s end (below {pct} of the pace needed): {n} per grid each time",
    ),
    "workers.every.quarter": ("季度", "quarter"),
    "workers.every.month": ("月", "month"),
    "workers.rule.overdue_issue": (
        "负责网格内楼栋、网格层级诉求超期：每件扣 {n} 分",
        "Issue at building or grid level overdue in a grid led: {n} per issue",
    ),
    "workers.rule.failed_spot_check": ("电话抽查不属实：每次扣 {n} 分", "Spot check failed: {n} each"),
    "workers.rule.confirmed_anomaly": ("异常经核实属实：每次扣 {n} 分", "Anomaly confirmed: {n} each"),
    "workers.count": ("社工", "Workers"),
    "workers.warning": ("预警", "Warning"),
    "workers.exhausted": ("分值扣完", "No points left"),
    "workers.standings": ("扣分排行（分值最低在前）", "Standings, fewest points first"),
    "workers.pick": ("查看社工扣分记录", "Ledger of a worker"),
    "workers.history": ("{name} 的扣分记录", "Ledger of {name}"),
    "workers.no_deductions": ("今年没有扣分。", "No deductions this year."),
    "workers.staffing": (
        "配备比例（目标：每万人 {goal} 名社工）",
        "Staffing (goal: {goal} workers per 10,000 residents)",
    ),
    "workers.by_street": ("按街道", "By street"),
    "workers.by_committee": ("按居委会", "By committee"),
    "workers.district_ratio": ("全区每万人社工", "District workers per 10,000"),
    "workers.shortfall": ("缺口", "Shortfall"),
    # --- issues page (issue 8) ---
    "issues.title": ("诉求", "Issues"),
    "issues.caption": (
        "小事不出楼，大事不出网格，难事不出居村 · 截至 {now}",
        "Small matters stay in the building, bigger ones in the grid, hard ones in the committee"
        " · as of {now}",
    ),
    "issues.m.open": ("未结诉求", "Open"),
    "issues.m.overdue": ("超期", "Overdue"),
    "issues.m.timed_out": ("超时上移", "Moved up late"),
    "issues.m.resolved": ("本期结案", "Closed in period"),
    "issues.m.median": ("结案中位天数", "Median days to close"),
    "issues.m.within": ("居村内解决", "Solved within the committee"),
    "issues.m.help": (
        "超期：已在区级仍超过时限。超时上移：因超过时限被自动移交上一级、仍未结案的诉求。"
        "本期结案与居村内解决按侧栏统计周期计算。",
        "Overdue: past the limit at district level, the top of the ladder. Moved up late: open issues passed "
        "up a level because a time limit ran out. Closed in period and the share solved within the committee "
        "follow the sidebar's period.",
    ),
    "issues.f.level": ("层级", "Level"),
    "issues.f.status": ("状态", "Status"),
    "issues.f.category": ("类别", "Category"),
    "issues.f.source": ("来源", "Source"),
    "issues.f.timing": ("时限", "Time limit"),
    "issues.f.any": ("全部", "Any"),
    "issues.timing.overdue": ("已超期", "Overdue"),
    "issues.timing.timed_out": ("曾超时上移", "Moved up late"),
    "issues.timing.due_soon": ("24 小时内到期", "Due within 24 h"),
    "issues.source.visit": ("走访发现", "Found on a visit"),
    "issues.source.hotline": ("热线", "Hotline"),
    "issues.source.online": ("网上（随申办）", "Online (city app)"),
    "issues.map": ("未结诉求分布", "Open issues by grid"),
    "issues.map_metric": ("地图着色", "Colour by"),
    "issues.map_hint": (
        "地图按当前筛选的未结诉求着色；点击网格只看该网格。",
        "The map counts the open issues of the current filters; click a grid to list only its issues.",
    ),
    "issues.by_level": ("各层级（本区域）", "By level (this area)"),
    "issues.ladder": (
        "时限：{limits}。超过时限自动移交上一级。",
        "Time limits: {limits}. An issue past its limit moves up one level.",
    ),
    "issues.days": ("{n} 天", "{n} days"),
    "issues.list": ("诉求清单", "Issue list"),
    "issues.count": (
        "{n} 件（本区域未结及本期结案共 {total} 件）",
        "{n} of the area's {total} open issues and issues closed in the period",
    ),
    "issues.truncated": ("仅列出最紧急的 {n} 件。", "Listing the {n} most urgent."),
    "issues.grid_only": ("仅看网格：{name}（点击清除）", "Only grid {name} (click to clear)"),
    "issues.pick": (
        "在清单中选中一行，查看处理经过并办理。",
        "Select a row to see the issue's history and act on it.",
    ),
    "issues.none": ("没有符合条件的诉求。", "No issue matches these filters."),
    "issues.col.source": ("来源", "Source"),
    "issues.col.grid": ("网格", "Grid"),
    "issues.col.overdue": ("超期", "Overdue"),
    "issues.col.timed_out": ("超时上移次数", "Times moved up late"),
    "issues.col.at": ("时间", "Time"),
    "issues.col.step": ("环节", "Step"),
    "issues.col.actor": ("经办人", "By"),
    "issues.col.change": ("变化", "Change"),
    "issues.col.note": ("说明", "Note"),
    "issues.col.flag": ("备注", "Remark"),
    "issues.implied": ("系统推定（无记录）", "Implied (not recorded)"),
    "issues.pending": ("按时限推算，待写入", "By the clock, not yet recorded"),
    "issues.escalate_note": ("超过{level}级办理时限", "Time limit at {level} level passed"),
    "issues.action.found": ("发现", "Found"),
    "issues.action.dispatch": ("派遣", "Dispatch"),
    "issues.action.handle": ("处置", "Handle"),
    "issues.action.verify": ("核查", "Verify"),
    "issues.action.close": ("结案", "Close"),
    "issues.action.reopen": ("重新办理", "Reopen"),
    "issues.action.refer": ("上报上一级", "Refer up a level"),
    "issues.action.escalate": ("超时自动上移", "Moved up (time limit)"),
    "issues.detail": ("诉求 #{id}", "Issue #{id}"),
    "issues.where": ("位置", "Where"),
    "issues.opened": ("发现时间", "Found"),
    "issues.state": ("当前", "Now"),
    "issues.state_value": ("{status} · {level}级", "{status} · {level} level"),
    "issues.due": ("本级时限", "Due at this level"),
    "issues.overdue_flag": ("已超期", "overdue"),
    "issues.closed_at": ("结案时间", "Closed"),
    "issues.handled_by": ("处置人", "Handled by"),
    "issues.history": ("处理经过", "History"),
    "issues.form": ("办理", "Act on it"),
    "issues.form.action": ("办理环节", "Step"),
    "issues.form.actor": ("经办人", "Who"),
    "issues.form.note": ("说明（可选）", "Note (optional)"),
    "issues.form.submit": ("提交", "Submit"),
    "issues.form.verify_rule": (
        "核查须由处置人以外的人进行。",
        "Someone other than the person who handled it must verify it.",
    ),
    "issues.no_actions": (
        "该诉求已结案；如问题复发可重新办理。",
        "Closed; reopen it if the problem returns.",
    ),
    "issues.no_workers": (
        "该居委会没有在岗社工，无法办理。",
        "The committee has no active worker: nobody can act on this issue here.",
    ),
    "issues.moved": ("诉求 #{id}：已{action}。", "Issue #{id}: {action} recorded."),
    "issues.moved_up": (
        "办理前已按时限自动上移 {n} 级。",
        "The clock had moved it up {n} level(s) first.",
    ),
    "issues.bad_issue": ("找不到编号为 {id} 的诉求，请检查链接。", "No issue #{id}: please check the link."),
    "issues.out_of_scope": (
        "诉求 #{id} 不在侧栏所选区域内。",
        "Issue #{id} is outside the area chosen in the sidebar.",
    ),
    "issues.new": ("登记诉求（热线、网上、来访）", "Register an issue (hotline, online, walk-in)"),
    "issues.new.grid": ("网格", "Grid"),
    "issues.new.level": ("处理层级", "Level"),
    "issues.new.category": ("类别", "Category"),
    "issues.new.title": ("内容", "Description"),
    "issues.new.source": ("来源", "Source"),
    "issues.new.actor": ("登记人", "Recorded by"),
    "issues.new.submit": ("登记", "Register"),
    "issues.new.saved": ("已登记诉求 #{id}。", "Issue #{id} registered."),
    "issues.new.invalid": ("未登记：{msg}", "Not registered: {msg}"),
    "issues.err.wrong_status": (
        "无法{action}：该诉求当前为“{status}”，需为“{needs}”。现在可以：{possible}。",
        "Cannot {action}: the issue is {status}, and this step needs {needs}. Possible now: {possible}.",
    ),
    "issues.err.same_person": (
        "{actor} 是处置人，核查须由他人进行。",
        "{actor} handled this issue: someone else must verify it.",
    ),
    "issues.err.top_level": ("已在区级，无法再上报。", "Already at district level, the top of the ladder."),
    "issues.err.changed": (
        "该诉求刚被他人办理，现为“{status}”。请查看最新情况后再操作。",
        "Someone else acted first: the issue is now {status}. Look again before acting.",
    ),
    "issues.err.before_last": (
        "办理时间 {at} 早于该诉求的上一环节（{last}）。",
        "The time {at} is before the issue's last step ({last}).",
    ),
    "issues.err.actor_missing": ("请选择经办人。", "Choose who is acting."),
    "issues.err.actor_reserved": ("“system”为系统保留。", "'system' is reserved for the clock."),
    "issues.err.actor_too_long": ("经办人名称过长。", "The name of who is acting is too long."),
    "issues.err.note_too_long": ("说明有 {n} 字，最多 500 字。", "The note has {n} characters; at most 500."),
    "issues.err.system_action": ("该环节由系统自动记录。", "That step is recorded by the system."),
    "issues.err.unknown_action": ("未知的办理环节。", "Unknown step."),
    # --- data page: import / export (issue 10) ---
    "data.title": ("数据导入与导出", "Import and export data"),
    "data.import": ("导入", "Import"),
    "data.export": ("导出", "Export"),
    "data.import_hint": (
        "上传网格、楼栋（GeoPackage、压缩的 Shapefile、GeoJSON）或住户、社工、走访、诉求（Excel、CSV）。"
        "逐行检查：合格的行一次性写入，不合格的行连同原因放入“拒绝行”文件；重复导入同一文件不会重复写入。",
        "Upload grids or buildings (GeoPackage, zipped Shapefile, GeoJSON) or households, workers, visits "
        "or issues (Excel, CSV). Every row is checked: good rows are written in one go, rejected rows go to "
        "a rejects file with their reasons; importing the same file again adds nothing.",
    ),
    "data.not_allowed": ("当前角色不能导入数据。", "Your role may not import data."),
    "data.kind": ("数据类型", "What the file holds"),
    "data.kind.streets": ("街道 / 镇（图层）", "Streets / towns (layer)"),
    "data.kind.committees": ("居委会（图层）", "Committees (layer)"),
    "data.kind.grids": ("网格（图层）", "Grids (layer)"),
    "data.kind.buildings": ("楼栋（图层）", "Buildings (layer)"),
    "data.kind.households": ("住户", "Households"),
    "data.kind.workers": ("社工", "Workers"),
    "data.kind.grid_workers": ("网格分工", "Grid assignments"),
    "data.kind.visits": ("走访记录", "Visits"),
    "data.kind.issues": ("诉求", "Issues"),
    "data.file": ("选择文件", "Choose a file"),
    "data.crs": ("坐标系", "Coordinate system"),
    "data.crs.file": ("按文件（默认）", "From the file (default)"),
    "data.source": ("诉求来源", "Issue channel"),
    "data.source.file": ("按文件中的“来源”列", "From the file's source column"),
    "data.source.hotline": ("12345 热线", "Hotline (12345)"),
    "data.source.online": ("随申办 / 线上", "Online (随申办)"),
    "data.source.visit": ("走访发现", "Found on a visit"),
    "data.dry_run": ("试运行（只检查，不写入）", "Dry run (check only, write nothing)"),
    "data.start": ("开始导入", "Import"),
    "data.progress": ("导入中…… {pct}%", "Importing… {pct}%"),
    "data.failed": (
        "文件无法导入，数据库未作任何改动：",
        "The file cannot be imported; nothing was changed:",
    ),
    "data.accepted": ("接受", "Accepted"),
    "data.rejected": ("拒绝", "Rejected"),
    "data.unchanged": ("未变（已存在）", "Unchanged (already there)"),
    "data.done": ("导入完成。", "Import finished."),
    "data.partly": (
        "合格的行已导入；被拒绝的行请下载后修改再导入。",
        "The good rows were imported; download the rejected rows, fix them and import them again.",
    ),
    "data.nothing": (
        "没有写入新的行；被拒绝的行请下载后修改再导入。",
        "Nothing new was written; download the rejected rows, fix them and import them again.",
    ),
    "data.dry_run_done": (
        "试运行：已完成全部检查，未写入任何数据。",
        "Dry run: everything was checked, nothing written.",
    ),
    "data.rejects": (
        "下载拒绝行（含行号、列和原因）",
        "Download the rejected rows (with row, column and reason)",
    ),
    "data.problems": ("问题与提示", "Problems and notes"),
    "data.col.row": ("行号", "Row"),
    "data.col.column": ("列", "Column"),
    "data.col.severity": ("级别", "Severity"),
    "data.col.message": ("说明", "Message"),
    "data.sev.error": ("拒绝", "Rejected"),
    "data.sev.warning": ("提示", "Note"),
    "data.export_hint": (
        "每个表和图层都可以导出，格式与导入相同（图层：GeoPackage、GeoJSON；表：CSV、Excel），可原样导回。",
        "Every table and layer exports in the formats imports read (layers: GeoPackage, GeoJSON; "
        "tables: CSV, Excel), and imports back unchanged.",
    ),
    "data.table": ("表 / 图层", "Table / layer"),
    "data.format": ("格式", "Format"),
    "data.headers": ("列名", "Column names"),
    "data.headers.zh": ("中文", "Chinese"),
    "data.headers.en": ("英文", "English"),
    "data.prepare": ("生成导出文件", "Prepare the file"),
    "data.download": ("下载 {file}", "Download {file}"),
    "data.export_failed": ("无法导出：", "Cannot export:"),
}

# Sign-in, roles, "no access" and the audit page (ui/auth.py, pages/audit.py).
TEXT.update(
    {
        "nav.audit": ("审计日志", "Audit trail"),
        "nav.signin": ("登录", "Sign in"),
        "area.mine": ("我的辖区", "My area"),
        "what.issue": ("诉求", "issue"),
        "auth.title": ("登录 · 四百网格地图", "Sign in · Sibai Grid Map"),
        "auth.hint": (
            "工作人员请用账号登录；公示页面无需登录。",
            "Staff sign in with their account; the public summary needs no sign-in.",
        ),
        "auth.name": ("用户名", "User name"),
        "auth.password": ("密码", "Password"),
        "auth.submit": ("登录", "Sign in"),
        "auth.sso": ("单点登录 / Single sign-on", "Single sign-on / 单点登录"),
        "auth.sign_out": ("退出登录", "Sign out"),
        "auth.signed_in_as": ("已登录：", "Signed in:"),
        "auth.signed_out": ("已退出登录。", "You are signed out."),
        "auth.public_caption": ("未登录：仅可查看公示。", "Not signed in: the public summary only."),
        "auth.already": ("您已登录（{name}）。", "You are signed in ({name})."),
        "auth.sign_in_needed": (
            "此页面仅向工作人员开放，请先登录。",
            "This page is for staff: please sign in first.",
        ),
        "auth.page_denied": (
            "无权访问：您的角色不能使用此页面。",
            "No access: your role may not use this page.",
        ),
        "auth.no_access": (
            "无权访问：该{what}不在您的管辖范围内，不显示任何数据。",
            "No access: this {what} is outside your area; nothing about it is shown.",
        ),
        "auth.clear_link": ("返回我的辖区", "Back to my area"),
        "auth.expired": (
            "登录已过期，请重新登录。",
            "Your session has expired: please sign in again.",
        ),
        "auth.disabled_now": (
            "账号已停用或不存在，已退出登录。",
            "Your account was disabled or removed: you are signed out.",
        ),
        "auth.err.bad_credentials": (
            "用户名或密码错误。连续失败多次后需等待一段时间才能再试。",
            "Wrong user name or password. After repeated failures, wait a while before trying again.",
        ),
        "auth.no_routes": (
            "此服务器未提供登录：请用 sibai serve 启动应用。",
            "This server offers no sign-in: start the app with sibai serve.",
        ),
        "auth.ended": (
            "登录已结束（已在别处退出、修改了密码或账号已停用），请重新登录。",
            "Your session has ended (signed out elsewhere, a new password, or a disabled account).",
        ),
        "auth.reload": ("请刷新页面后再登录。", "Reload the page to sign in."),
        "auth.err.disabled": (
            "该账号已停用，请联系区级管理员。",
            "This account is disabled: ask the district.",
        ),
        "auth.sso_unknown": (
            "单点登录身份 {identity} 没有对应的账号，请联系区级管理员开通。",
            "No account for the single sign-on identity {identity}: ask the district to add one.",
        ),
        "auth.sso_logout": ("退出单点登录", "Sign out of single sign-on"),
        "auth.role.district": ("区级", "District"),
        "auth.role.street": ("街道", "Street office"),
        "auth.role.committee": ("居委会", "Committee"),
        "auth.role.grid": ("网格长", "Grid leader"),
        "auth.role.public": ("公众", "Public"),
        "auth.map_foreign": (
            "该网格不在您的管辖范围内（地图上只显示辖区内的数值）。",
            "That grid is outside your area (the map shows figures for your area only).",
        ),
        "audit.title": ("审计日志", "Audit trail"),
        "audit.caption": (
            "登录、查看住户档案、显示个人信息、导出、导入和拒绝访问，每条均记录人员、角色、时间和对象；"
            "只增不改，保留 {days} 天。",
            "Sign-ins, household views, unmasking, exports, imports and refused access, each with who, role, "
            "when and what; append-only, kept for {days} days.",
        ),
        "audit.from": ("开始日期", "From"),
        "audit.to": ("结束日期", "To"),
        "audit.who": ("用户", "User"),
        "audit.action": ("操作", "Action"),
        "audit.any": ("全部", "Any"),
        "audit.count": ("共 {n} 条", "{n} rows"),
        "audit.limit": ("（仅显示最近 {n} 条）", "(the latest {n} shown)"),
        "audit.none": ("没有符合条件的记录。", "No rows match."),
        "audit.col.at": ("时间", "When"),
        "audit.col.who": ("用户", "Who"),
        "audit.col.role": ("角色", "Role"),
        "audit.col.action": ("操作", "Action"),
        "audit.col.target": ("对象", "Target"),
        "audit.col.detail": ("说明", "Detail"),
        "audit.action.login": ("登录", "sign-in"),
        "audit.action.login_failed": ("登录失败", "failed sign-in"),
        "audit.action.login_locked": ("账号锁定", "account locked"),
        "audit.action.logout": ("退出", "sign-out"),
        "audit.action.unmask": ("显示个人信息", "unmask"),
        "audit.action.view_household": ("查看住户档案", "household view"),
        "audit.action.export": ("导出", "export"),
        "audit.action.import": ("导入", "import"),
        "audit.action.user_add": ("新增账号", "user added"),
        "audit.action.user_disable": ("停用账号", "user disabled"),
        "audit.action.user_passwd": ("修改密码", "password changed"),
        "audit.action.denied": ("拒绝访问", "access refused"),
        "audit.action.audit_export": ("导出审计日志", "audit export"),
        "audit.action.audit_prune": ("清理过期日志", "audit pruned"),
    }
)


def lang() -> Lang:
    """Return the current language code (``zh`` unless the user switched)."""
    value = st.session_state.get("lang")
    if value not in LANGS:
        q = st.query_params.get("lang")
        value = q if q in LANGS else "zh"
        st.session_state["lang"] = value
    return "en" if value == "en" else "zh"


def t(key: str, **kw: object) -> str:
    """Translate ``key`` into the current language, with each text value shown as plain text.

    The catalogue's own words may carry Markdown; values put into them (names,
    ids, numbers already formatted) go through :func:`geo.text.plain`, so a
    name like ``![x](http://…)`` shows as typed wherever the message is shown.
    The result is a :class:`geo.text.Plain` (typed ``str``): ``plain(t(...))``
    leaves it as is, and ``t(...) + " " + t(...)`` stays plain.
    """
    zh, en = TEXT.get(key, (key, key))
    text = en if lang() == "en" else zh
    if not kw:
        return Plain(text)
    return Plain(text.format(**{k: plain(v) if isinstance(v, str) else v for k, v in kw.items()}))


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


# Today's walk: team mode, ticking, printing (issue 6).
TEXT.update(
    {
        "walk.mode": ("规划方式", "Plan for"),
        "walk.mode.one": ("单人路线", "One walker"),
        "walk.mode.team": ("分片包干", "Whole team"),
        "walk.committee": ("居委会", "Committee"),
        "walk.worker": ("走访社工", "Worker walking"),
        "walk.duty": ("值班社工（留守居委接待）", "On office duty (stays in)"),
        "walk.duty_save": ("保存值班安排", "Save duty"),
        "walk.duty_saved": ("已保存：{name} 值班。", "Saved: {name} is on duty."),
        "walk.duty_from_rota": ("依据值班表", "from the rota"),
        "walk.duty_from_rotation": ("值班表未填，按轮值规则", "no rota row: by rotation"),
        "walk.walkers": ("走访社工", "Workers walking"),
        "walk.team_summary": ("分工", "Who walks where"),
        "walk.col.worker": ("社工", "Worker"),
        "walk.col.on_duty": ("值班", "On duty"),
        "walk.col.visit_min": ("走访(分钟)", "Visiting (min)"),
        "walk.col.walk_min": ("步行(分钟)", "Walking (min)"),
        "walk.col.distance_m": ("距离(米)", "Distance (m)"),
        "walk.col.finish": ("结束", "Finish"),
        "walk.col.done": ("已记录", "Recorded"),
        "walk.col.household_ids": ("户号", "Household ids"),
        "walk.col.worker_id": ("工号", "Worker id"),
        "walk.tick.title": ("走访后勾选结果", "After the walk: tick each door"),
        "walk.tick.whose": ("谁的路线", "Whose walk"),
        "walk.tick.hint": (
            "每户选择结果后点“记录”；按计划到达时间记为上门走访，与网格页登记同一校验。",
            "Pick an outcome per household, then Record: each becomes a door visit at its planned time, "
            "checked like the grid page's form.",
        ),
        "walk.tick.skip": ("—", "—"),
        "walk.tick.submit": ("记录走访结果", "Record results"),
        "offline.waiting": (
            "未保存：网络已断开。以下勾选保留在本机，网络恢复后自动提交一次：",
            "Not saved: no connection. These ticks are kept on this phone and sent once it returns:",
        ),
        "offline.sending": ("网络已恢复，正在提交……", "Back online: sending…"),
        "card.open": ("查看这一户", "Open this household"),
        "card.never_met": ("从未见面", "Never met"),
        "walk.tick.saved": ("已记录 {n} 户走访。", "Recorded {n} visit(s)."),
        "walk.tick.repeated": ("{n} 户已记录过，未重复记录。", "{n} already recorded: not recorded again."),
        "walk.tick.none": ("没有勾选任何住户。", "Nothing was ticked."),
        "walk.tick.problem": ("{household}：{problem}", "{household}: {problem}"),
        "walk.tick.stop": ("{order}. {building}　{arrive}", "{order}. {building}  {arrive}"),
        "walk.print": ("打印版（HTML）", "Printable page (HTML)"),
        "walk.replan": ("重新规划", "Plan again"),
        "walk.coverage": ("本年覆盖率", "Coverage this year"),
        "walk.dist_network": (
            "距离沿导入的步行路网计算。",
            "Distances follow the imported footpath network.",
        ),
        "walk.dist_straight": (
            "距离按直线×{f}估算（未导入步行路网：sibai import-paths）。",
            "Distances are straight line × {f} (no footpath network imported: sibai import-paths).",
        ),
        "walk.no_workers": (
            "没有可走访的社工（均在值班或未登记）。",
            "No worker to walk (all on duty or none listed).",
        ),
        "walk.no_stops": ("没有需要走访的住户。", "Nobody is due."),
        "walk.print_title": ("今日走访路线", "Today's walk"),
    }
)
TEXT.update(
    {
        "walk.settings": ("{day}　{start}–{end}　每户{n}分钟", "{day}  {start}–{end}  {n} min per household"),
    }
)

TEXT.update(
    {
        "error.unexpected": (
            "出错了，操作未完成。请刷新页面重试；如仍出错，请把参考号 {ref} 告诉系统管理员。",
            "Something went wrong and nothing was done. Reload the page and try again; if it happens again, "
            "give the administrator the reference {ref}.",
        ),
    }
)

TEXT.update(
    {
        "what.visit": ("走访记录", "visit"),
        "what.worker": ("社工", "worker"),
    }
)
