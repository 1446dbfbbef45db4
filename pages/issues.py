"""诉求 · Issues: where every resident's issue stands on the escalation ladder, its history, the forms.

Deep links: ``/issues?issue=123`` opens an issue, ``?grid=G0001`` lists one
grid's issues; the sidebar's street and committee narrow the area. The rules
are in ``geo.issues``, opening and moving in ``geo.issues.workflow``, the reads in ``geo.store.issue_log``.
"""

from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

from geo import issues as rules
from geo import maps
from geo.access import restrict
from geo.areas import area_bounds, breadcrumbs, grids_in_area
from geo.issues import workflow
from geo.store import LEVELS, SOURCES, STATUSES, OutOfScope, number_id
from geo.store import issue_log as log
from geo.text import plain
from ui import auth, data, gridmap, issue_data, sidebar
from ui.i18n import fmt_int, lang, t

auth.require("issues")  # sign-in, page rights and the link's areas (ui/auth.py)

LIST_LIMIT = 2000  # most rows the list shows, the most urgent first


def _clear_grid() -> None:
    st.query_params.pop("grid", None)


def _open_issue(key: str, ids: list[int]) -> None:
    rows = st.session_state[key].selection.rows
    if rows and 0 <= rows[0] < len(ids):
        st.query_params["issue"] = str(ids[rows[0]])


f = sidebar.current()
store = data.store()
layers = data.layers()
limits = rules.limits_days(data.settings())
now = data.now()  # to the minute, as shown: the figures below are shared with the map and grid page
labels = (
    {f"status.{s}": t(f"status.{s}") for s in STATUSES}
    | {f"level.{lv}": t(f"level.{lv}") for lv in LEVELS}
    | {f"source.{s}": t(f"issues.source.{s}") for s in SOURCES}
    | {f"action.{a}": t(f"issues.action.{a}") for a in rules.EVENT_ACTIONS}
    | {
        "implied": t("issues.implied"),
        "pending": t("issues.pending"),
        "escalate_note": t("issues.escalate_note"),
    }
)
grid_names = dict(zip(layers.grids["grid_id"], layers.grids["name"], strict=True))
issues, events = issue_data.issue_data(f)

st.title(t("issues.title"), anchor=False)
st.caption(t("issues.caption", now=f"{now:%Y-%m-%d %H:%M}"))

# ------------------------------------------------------------------ filters
c1, c3, c4 = st.columns([2, 3, 2])
levels = c1.multiselect(t("issues.f.level"), LEVELS, format_func=lambda v: t(f"level.{v}"), key="iss_level",
                        placeholder=t("issues.f.any"))  # fmt: skip
categories_all = sorted({str(c) for c in issues["category"].dropna()})
categories = c3.multiselect(
    t("issues.f.category"), categories_all, key="iss_category", placeholder=t("issues.f.any")
)
sources = c4.multiselect(t("issues.f.source"), SOURCES, format_func=lambda v: t(f"issues.source.{v}"),
                         key="iss_source", placeholder=t("issues.f.any"))  # fmt: skip
# Statuses as pills: they wrap onto a new line where a multiselect's chips were clipped (issue 14).
statuses = st.pills(t("issues.f.status"), STATUSES, selection_mode="multi", default=list(rules.OPEN_STATUSES),
                    format_func=lambda v: t(f"status.{v}"), key="iss_status") or []  # fmt: skip
timing = st.pills(t("issues.f.timing"), rules.TIMINGS, selection_mode="multi",
                  format_func=lambda v: t(f"issues.timing.{v}"), key="iss_timing")  # fmt: skip
grid_id = st.query_params.get("grid")
if grid_id and grid_id not in grid_names:
    st.warning(t("bad_id", id=grid_id, what=t("what.grid")))
    grid_id = None
filters = rules.IssueFilters(
    levels=tuple(levels),
    statuses=tuple(statuses),
    categories=tuple(categories),
    sources=tuple(sources),
    timing=tuple(timing or ()),
    grid_id=grid_id,
)
board = rules.issue_board(issues, events, filters, now=now, limits=limits, start=f.start, end=f.end)

# ------------------------------------------------------------------ metrics
m = board.metrics
fig = issue_data.area_figures(f, grid_id, now)  # the area's figures: the same as on the map and grid page
median, share = m["median_days_to_close"], m["share_within_committee"]
cols = st.columns(6)
cols[0].metric(t("issues.m.open"), fmt_int(fig.open_issues), help=t("issues.m.help"))
cols[1].metric(t("issues.m.overdue"), fmt_int(fig.overdue_issues))
cols[2].metric(t("issues.m.timed_out"), fmt_int(m["timed_out"]))
cols[3].metric(t("issues.m.resolved"), fmt_int(m["resolved"]))
cols[4].metric(t("issues.m.median"), "—" if pd.isna(median) else f"{median:.1f}")
cols[5].metric(t("issues.m.within"), "—" if pd.isna(share) else f"{share * 100:.1f}%")

# ------------------------------------------------------------------ map and ladder
# The map, then the ladder, each the page's width: side by side, the ladder's columns were cut (issue 14).
st.header(t("issues.map"), anchor=False)
issue_metrics: list[maps.Metric] = ["open_issues_per_100", "overdue_issues"]
metric = st.segmented_control(
    t("issues.map_metric"),
    issue_metrics,
    default="open_issues_per_100",
    format_func=lambda v: t("metric.issues_per_100" if v == "open_issues_per_100" else "metric.overdue"),
    key="iss_map_metric",
)
geometry = gridmap.geometry()
coverage = data.coverage_index().coverage(f.start, f.end, level="grid")
coverage = restrict(coverage, auth.visible_grids())  # other grids are drawn without figures
style = maps.style_payload(
    geometry.grid_ids,
    rules.grid_map_metrics(board.by_grid, coverage),
    metric=metric or "open_issues_per_100",
    # Classes drawn from the data (fixed ones leave a district with few issues one pale class).
    scheme=data.settings().issue_map_scheme,
    k=data.settings().issue_map_classes,
    lang=lang(),
    selected=grid_id,
    geometry_hash=geometry.hash,
)
view = area_bounds(layers.grids, layers.committees, street_id=f.street_id, committee_id=f.committee_id)
gridmap.show(
    maps.gridmap_args(geometry.path, style, height=420, lang=lang(), view=view,
                      view_token=f.committee_id or f.street_id or "district"),
    key="issues_map",
)  # fmt: skip
clicked = gridmap.new_click("issues_map")
if clicked:
    in_area = grids_in_area(
        layers.grids, layers.committees, street_id=f.street_id, committee_id=f.committee_id
    )
    if clicked in set(in_area) and auth.sees("grid", clicked) and clicked != grid_id:
        st.query_params["grid"] = clicked
        st.rerun()
st.caption(t("issues.map_hint"))
st.header(t("issues.by_level"), anchor=False)
st.dataframe(
    board.by_level.rename(index=lambda lv: t(f"level.{lv}")),
    column_config={
        "_index": st.column_config.TextColumn(t("col.level")),
        "open": st.column_config.NumberColumn(t("issues.m.open")),
        "overdue": st.column_config.NumberColumn(t("issues.m.overdue")),
        "timed_out": st.column_config.NumberColumn(t("issues.m.timed_out")),
        "resolved": st.column_config.NumberColumn(t("issues.m.resolved")),
    },
)
ladder = " · ".join(f"{t(f'level.{lv}')} {t('issues.days', n=limits[lv])}" for lv in LEVELS)
st.caption(t("issues.ladder", limits=ladder))

# ------------------------------------------------------------------ list
st.header(t("issues.list"), anchor=False)
if grid_id:
    st.button(t("issues.grid_only", name=grid_names[grid_id]), on_click=_clear_grid, icon=":material/close:")
shown = rules.display_rows(board.rows, labels=labels, grid_names=grid_names, limit=LIST_LIMIT)
caption = t("issues.count", n=fmt_int(len(board.rows)), total=fmt_int(len(issues)))
if len(board.rows) > LIST_LIMIT:
    caption += " " + t("issues.truncated", n=fmt_int(LIST_LIMIT))
st.caption(f"{plain(caption)} {t('issues.pick')}")
if len(shown) == 0:
    st.info(t("issues.none"))
else:
    table_key = f"iss_table:{hash(filters)}:{f.street_id}:{f.committee_id}"
    st.dataframe(
        shown,
        key=table_key,
        hide_index=True,
        height=min(38 + 35 * len(shown), 420),
        on_select=functools.partial(_open_issue, table_key, shown["issue_id"].tolist()),
        selection_mode="single-row",
        # What fits 1280 px; the issue's page below shows its category, source and times.
        column_order=("issue_id", "title", "grid", "level", "status", "due_at", "overdue"),
        column_config={
            "issue_id": st.column_config.NumberColumn(t("col.issue_id"), format="%d", width="small"),
            "title": st.column_config.TextColumn(t("col.title"), width=150),
            "category": st.column_config.TextColumn(t("col.category")),
            "source": st.column_config.TextColumn(t("issues.col.source")),
            "grid": st.column_config.TextColumn(t("issues.col.grid"), width=150),
            "level": st.column_config.TextColumn(t("col.level"), width="small"),
            "status": st.column_config.TextColumn(t("col.status"), width="small"),
            "opened_at": st.column_config.DatetimeColumn(t("col.opened_at"), format="YYYY-MM-DD HH:mm"),
            "due_at": st.column_config.DatetimeColumn(t("col.due_at"), format="YYYY-MM-DD HH:mm"),
            "overdue": st.column_config.CheckboxColumn(t("issues.col.overdue"), width="small"),
            "timed_out": st.column_config.NumberColumn(t("issues.col.timed_out"), width="small"),
        },
    )

# ------------------------------------------------------------------ register one
with st.expander(t("issues.new")):
    area_grids = grids_in_area(
        layers.grids, layers.committees, street_id=f.street_id, committee_id=f.committee_id
    )
    area_grids = restrict(area_grids, auth.visible_grids())  # one look-up, not one per grid
    with st.form("iss_new", clear_on_submit=True):
        c1, c2 = st.columns(2)
        new_source = c1.selectbox(
            t("issues.new.source"),
            SOURCES,
            index=SOURCES.index("hotline"),
            format_func=lambda v: t(f"issues.source.{v}"),
            key="iss_new_source",
        )
        new_grid = c2.selectbox(
            t("issues.new.grid"), list(area_grids), format_func=lambda g: grid_names[g], key="iss_new_grid"
        )
        new_category = c1.selectbox(
            t("issues.new.category"),
            categories_all,
            index=None,
            accept_new_options=True,
            key="iss_new_category",
        )
        new_level = c2.selectbox(
            t("issues.new.level"), LEVELS[1:], format_func=lambda v: t(f"level.{v}"), key="iss_new_level"
        )
        new_title = st.text_input(t("issues.new.title"), max_chars=rules.MAX_TITLE, key="iss_new_title")
        new_actor = st.text_input(t("issues.new.actor"), max_chars=rules.MAX_ACTOR, key="iss_new_actor")
        registered = st.form_submit_button(t("issues.new.submit"), key="iss_new_submit")
    if registered:
        try:
            opened = workflow.open_issue(
                store,
                category=new_category or "",
                source=new_source,
                grid_id=new_grid,
                level=new_level,
                title=new_title,
                actor=new_actor,
                now=log.local_now(data.settings()),  # the moment it is opened, to the second
                scope=auth.scope(),
            )
        except OutOfScope as exc:
            auth.deny(exc.kind, str(exc.record_id), page="issues")
        except ValueError as exc:
            st.error(t("issues.new.invalid", msg=str(exc)))
        else:
            st.session_state["iss_flash"] = t("issues.new.saved", id=opened.issue_id)
            st.query_params["issue"] = str(opened.issue_id)
            st.rerun()

# ------------------------------------------------------------------ one issue
flash = st.session_state.pop("iss_flash", None)
raw_id = st.query_params.get("issue")
if not raw_id:
    st.stop()
st.divider()
issue_id = number_id(raw_id) or -1  # "²" or a 30-digit number: no such issue
try:
    detail = workflow.issue_detail(store, issue_id, scope=auth.scope(), now=now)
except OutOfScope:
    auth.deny("issue", str(issue_id), page="issues")
except LookupError:
    st.warning(t("issues.bad_issue", id=raw_id))
    st.stop()
row = detail.row
if (f.committee_id and row["committee_id"] != f.committee_id) or (
    f.street_id and row["street_id"] != f.street_id
):
    st.warning(t("issues.out_of_scope", id=issue_id))
    st.stop()
if flash:
    st.success(plain(flash))
s = detail.state
st.header(t("issues.detail", id=issue_id), anchor=False)
st.text(str(row["title"]))
trail = breadcrumbs(layers.streets, layers.committees, layers.grids, grid_id=str(row["grid_id"]))
place = [c.name for c in trail[1:]] + [str(row["building_id"] or "")]
actors = log.actors_for(store, str(row["committee_id"]), scope=auth.scope())
names = dict(zip(actors["worker_id"], actors["name"], strict=True))
late = f" · **{t('issues.overdue_flag')}**" if s.is_open and s.due_at < now else ""
facts = [
    (t("issues.where"), " / ".join(p for p in place if p)),
    (t("col.category"), row["category"]),
    (t("issues.col.source"), t(f"issues.source.{row['source']}")),
    (t("issues.opened"), f"{row['opened_at']:%Y-%m-%d %H:%M}"),
    (t("issues.state"), t("issues.state_value", status=t(f"status.{s.status}"), level=t(f"level.{s.level}"))),
    (t("issues.closed_at"), f"{s.closed_at:%Y-%m-%d %H:%M}")
    if s.closed_at
    else (t("issues.due"), f"{s.due_at:%Y-%m-%d %H:%M}{late}"),
]
if s.handled_by:
    who = f"{s.handled_by} · {names[s.handled_by]}" if s.handled_by in names else s.handled_by
    facts.append((t("issues.handled_by"), who))
# The status the person was shown when they filled in the form: if someone else moved the issue
# meanwhile, the action is refused instead of applied to a state nobody looked at.
seen = st.session_state.get(f"iss_seen_{issue_id}", s.status)
st.session_state[f"iss_seen_{issue_id}"] = s.status
left, right = st.columns([3, 2], gap="large")
with left:
    st.markdown("  \n".join(f"**{plain(label)}**　{plain(value)}" for label, value in facts))
with right:
    st.markdown(f"**{t('issues.form')}**")
    if not detail.actions:
        st.info(t("issues.no_actions"))
    elif not names:
        st.warning(t("issues.no_workers"))
    else:
        with st.form(f"iss_move_{issue_id}", clear_on_submit=True):
            action = st.radio(
                t("issues.form.action"),
                detail.actions,
                horizontal=True,
                format_func=lambda a: t(f"issues.action.{a}"),
                key="iss_form_action",
            )
            actor = st.selectbox(
                t("issues.form.actor"),
                list(names),
                format_func=lambda w: f"{w} · {names[w]}",
                key="iss_form_actor",
            )
            note = st.text_area(
                t("issues.form.note"), max_chars=rules.MAX_NOTE, height=80, key="iss_form_note"
            )
            if "verify" in detail.actions:
                st.caption(t("issues.form.verify_rule"))
            submitted = st.form_submit_button(t("issues.form.submit"), type="primary", key="iss_form_submit")
        if submitted:
            try:
                moved = workflow.transition(
                    store, issue_id, action, actor=actor, note=note, expect_status=seen, scope=auth.scope()
                )
            except OutOfScope:
                auth.deny("issue", str(issue_id), page="issues")
            except rules.TransitionRefused as exc:
                sep = "、" if lang() == "zh" else ", "
                st.error(t(f"issues.err.{exc.code}", **exc.words(labels, sep=sep)))
            else:
                message = t("issues.moved", id=issue_id, action=t(f"issues.action.{action}"))
                if len(moved.events) > 1:
                    message += " " + t("issues.moved_up", n=len(moved.events) - 1)
                st.session_state["iss_flash"] = message
                st.rerun()

st.markdown(f"**{t('issues.history')}**")
st.dataframe(
    rules.display_history(detail.history, labels=labels),
    hide_index=True,
    column_config={
        "at": st.column_config.DatetimeColumn(t("issues.col.at"), format="YYYY-MM-DD HH:mm"),
        "step": st.column_config.TextColumn(t("issues.col.step")),
        "actor": st.column_config.TextColumn(t("issues.col.actor")),
        "change": st.column_config.TextColumn(t("issues.col.change")),
        "note": st.column_config.TextColumn(t("issues.col.note"), width="medium"),
        "flag": st.column_config.TextColumn(t("issues.col.flag")),
    },
)
