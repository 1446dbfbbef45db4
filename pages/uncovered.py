"""盲区与周查 · Uncovered areas, pace against the yearly goal, and the weekly check (一周一查)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from geo.office import DEFAULT_BELOW, burn_up_chart
from geo.store.assessment import SPOT_RESULTS
from geo.text import plain
from ui import auth, data, sidebar
from ui import office_data as od
from ui.downloads import button, csv, download_pair, xlsx
from ui.i18n import fmt_date, fmt_int, fmt_pct, labels_held, lang, t

auth.require("uncovered")  # sign-in, page rights and the link's areas (ui/auth.py)
if (denied := od.take_denied()) is not None:  # a form's write the store refused (outside the scope)
    auth.deny(*denied, page="uncovered")

f = sidebar.current()
today = data.today()

st.title(t("office.title"), anchor=False)
st.caption(t("office.caption", start=f.start.isoformat(), end=f.end.isoformat(), today=fmt_date(today)))

#: The page's tabs, and the weekly check's sheets: their session state holds the open one's label.
TABS = ("spots", "pace", "week", "unmet")
TABS_KEY, WEEK_TABS_KEY = "office_tab", "office_week_sheet"
SHEETS = ("office.by_grid", "office.by_worker", "office.anomalies", "office.spot_checks")

SPOT_COLUMNS = [
    "spot",
    "grids",
    "households",
    "unvisited",
    "coverage",
    "residents",
    "area_km2",
    "committee_names",
    "grid_names",
    "grid_ids",
]
# On screen the tables keep to what fits 1280 px; the downloads carry every column above.
SPOT_ON_SCREEN = ["spot", "grids", "households", "unvisited", "coverage", "area_km2", "committee_names"]
LAG_ON_SCREEN = ["rank", "grid_name", "households", "unvisited", "coverage", "overdue_issues", "street_name"]
PACE_ON_SCREEN = [
    "households",
    "coverage",
    "expected",
    "behind",
    "needed_per_week",
    "recent_per_week",
    "projected",
]
# The week beside the year: visits and first meetings this week, then where the year stands.
WEEK_GRIDS_ON_SCREEN = [
    "grid_id",
    "grid_name",
    "visits_week",
    "newly_met_week",
    "coverage_gained_week",
    "coverage_year",
    "overdue",
    "anomalies_week",
]
WEEK_WORKERS_ON_SCREEN = [
    "worker_id",
    "worker_name",
    "committee_name",
    "visits_week",
    "newly_met_week",
    "newly_met_year",
    "overdue",
    "anomalies_week",
]
SPOTS_ON_SCREEN = [
    "visit_id",
    "visited_at",
    "worker_name",
    "building_name",
    "unit",
    "head_name",
    "phone",
    "result",
]
#: Short headers on screen (the full header is the column's tooltip), for whichever of these a table shows.
SHORT = {
    c: f"office.short.{c}"
    for c in [
        *("households", "unvisited", "expected", "needed_per_week", "recent_per_week", "projected"),
        *("visits_week", "newly_met_week", "newly_met_year", "coverage_gained_week", "coverage_year"),
        *("overdue", "anomalies_week"),
    ]
}
LAG_COLUMNS = [
    "rank",
    "grid_name",
    "households",
    "unvisited",
    "coverage",
    "overdue_issues",
    "committee_name",
    "street_name",
    "grid_id",
]


# ----------------------------------------------------------- blind spots
def _blind_spots() -> None:
    pct = st.slider(
        t("office.below"),
        5,
        100,
        int(DEFAULT_BELOW * 100),
        5,
        format="%d%%",
        key="office_below",
        persist_state="page",
    )
    below = pct / 100
    u = od.uncovered(f.start, f.end, below, f.street_id, f.committee_id)
    with st.container(horizontal=True, gap="medium"):
        st.metric(t("office.n_spots"), fmt_int(len(u.spots)), width=160)
        st.metric(t("office.n_lagging"), fmt_int(len(u.lagging)), width=160)
        st.metric(t("office.spot_households"), fmt_int(u.spots["households"].sum()), width=180)
        st.metric(t("office.spot_unvisited"), fmt_int(u.spots["unvisited"].sum()), width=180)
    st.iframe(od.blind_spot_map_html(f.start, f.end, below, f.street_id, f.committee_id), height=540)
    st.caption(t("office.map_hint"))
    st.header(t("office.spots"), anchor=False)
    od.table(u.spots, SPOT_ON_SCREEN, key="office_spots", short=SHORT)
    st.header(t("office.lagging"), anchor=False)
    if u.lagging.empty:
        st.info(t("office.none_lagging"))
    else:
        od.table(u.lagging, LAG_ON_SCREEN, key="office_lagging", short=SHORT)
    with st.container(horizontal=True):
        spots_at = f"blind-spots-{f.end.isoformat()}"
        button(
            t("office.download_xlsx"),
            xlsx({t("office.spots"): u.spots[SPOT_COLUMNS], t("office.lagging"): u.lagging[LAG_COLUMNS]}),
            file_name=f"{spots_at}.xlsx",
            rows=len(u.spots) + len(u.lagging),
            key="dl_spots_xlsx",
        )
        button(
            t("office.download_csv"),
            csv(u.spots[SPOT_COLUMNS]),
            file_name=f"{spots_at}.csv",
            rows=len(u.spots),
            mime="text/csv",
            key="dl_spots_csv",
        )
        button(
            f"{t('office.download_csv')} · {t('office.n_lagging')}",
            csv(u.lagging[LAG_COLUMNS]),
            file_name=f"lagging-grids-{f.end.isoformat()}.csv",
            rows=len(u.lagging),
            mime="text/csv",
            key="dl_lagging_csv",
        )


# ------------------------------------------------------------------ pace
def _pace() -> None:
    own = od.area_pace(f.street_id, f.committee_id)
    with st.container(horizontal=True, gap="medium"):
        st.metric(t("office.coverage_so_far"), fmt_pct(float(own["coverage"])), width=160)
        st.metric(t("office.expected"), fmt_pct(float(own["expected"])), width=160)
        st.metric(t("office.needed_per_week"), fmt_int(own["needed_per_week"]), width=180)
        st.metric(t("office.recent_per_week"), fmt_int(own["recent_per_week"]), width=180)
    st.header(t("office.burn_up"), anchor=False)
    st.altair_chart(burn_up_chart(od.burn_up(f.street_id, f.committee_id), lang=lang()))
    level = st.segmented_control(
        t("office.level"),
        ["street", "committee", "grid"],
        default="grid" if f.committee_id else "committee" if f.street_id else "street",
        format_func=lambda x: t(f"office.level.{x}"),
        key="office_pace_level",
        persist_state="page",
    )
    rows = od.pace_rows(level or "grid", f.street_id, f.committee_id)
    st.caption(f"{t('office.behind_count')}: {fmt_int(rows['behind'].sum())} / {fmt_int(len(rows))}")
    st.header(t("office.pace_table"), anchor=False)
    od.table(
        rows,
        [f"{level or 'grid'}_id", f"{level or 'grid'}_name", *PACE_ON_SCREEN],
        key="office_pace",
        short=SHORT,
    )
    download_pair(
        {t("office.pace_table"): rows}, rows, stem=f"pace-{level}-{today.isoformat()}", key="dl_pace"
    )


# ---------------------------------------------------------- weekly check
def _weekly_check() -> None:
    week_end = st.date_input(
        t("office.week_ending"), value=today, max_value=today, key="office_week_end", persist_state="page"
    )
    if not isinstance(week_end, dt.date):
        week_end = today
    check = od.weekly(week_end, f.street_id, f.committee_id)
    st.caption(t("office.week_caption", start=check.week_start.isoformat(), end=check.week_end.isoformat()))
    tot = check.totals()
    with st.container(horizontal=True, gap="medium"):
        st.metric(t("office.visits_week"), fmt_int(tot["visits_week"]), width=140)
        st.metric(t("office.newly_met_week"), fmt_int(tot["newly_met_week"]), width=150)
        st.metric(t("office.coverage_gained"), fmt_pct(tot["coverage_gained_week"]), width=150)
        st.metric(
            t("office.issues_week"),
            f"{fmt_int(tot['opened_week'])} / {fmt_int(tot['closed_week'])}",
            width=190,
        )
        st.metric(t("office.overdue"), fmt_int(tot["overdue"]), width=140)
        st.metric(t("office.anomalies"), fmt_int(tot["anomalies"]), width=140)
    anomalies = od.anomaly_rows(check)
    spots = od.spot_check_rows(check)
    supervisor = od.may_record_checks()
    names = labels_held("office_week_csv_of", SHEETS)
    sheets = dict(zip(names, (check.grids, check.workers, anomalies, spots), strict=True))
    # Only the open sheet is drawn (the grids' and the workers' tables are the largest part of the page).
    g_tab, w_tab, a_tab, s_tab = st.tabs(
        labels_held(WEEK_TABS_KEY, SHEETS, plain), on_change="rerun", key=WEEK_TABS_KEY
    )
    if g_tab.open:
        with g_tab:
            od.table(check.grids, WEEK_GRIDS_ON_SCREEN, key="office_week_grids", short=SHORT)
    if w_tab.open:
        with w_tab:
            od.table(check.workers, WEEK_WORKERS_ON_SCREEN, key="office_week_workers", short=SHORT)
    if a_tab.open:
        with a_tab:
            _anomalies(anomalies, supervisor, week_end)
    if s_tab.open:
        with s_tab:
            _spot_checks(spots, supervisor)
    for kind, text in od.take_messages():
        (st.success if kind == "success" else st.error)(text)
    with st.container(horizontal=True):
        button(
            t("office.download_xlsx"),
            xlsx(sheets),
            file_name=f"weekly-check-{week_end.isoformat()}.xlsx",
            rows=sum(len(v) for v in sheets.values()),
            key="dl_week_xlsx",
        )
        which = st.selectbox(
            t("office.csv_of"), list(sheets), key="office_week_csv_of", label_visibility="collapsed"
        )
        button(
            t("office.download_csv"),
            csv(sheets[which]),
            file_name=f"weekly-check-{week_end.isoformat()}-{list(sheets).index(which) + 1}.csv",
            rows=len(sheets[which]),
            mime="text/csv",
            key="dl_week_csv",
        )


def _anomalies(anomalies: pd.DataFrame, supervisor: bool, week_end: dt.date) -> None:
    """The week's anomaly flags and, for a supervisor, the form to review one."""
    if anomalies.empty:
        st.info(t("office.no_anomalies"))
    else:
        od.table(anomalies, key="office_week_anomalies", drop_empty=True)
    if not anomalies.empty and not supervisor:
        st.caption(t("office.supervisors_only"))
    elif not anomalies.empty:
        with st.form("office_review", clear_on_submit=True):
            st.markdown(f"**{t('office.review')}**")
            st.selectbox(
                t("office.flag"),
                list(range(len(anomalies))),
                format_func=lambda i: od.anomaly_label(anomalies.iloc[i]),
                key="office_review_pick",
            )
            st.radio(
                t("office.decision"),
                ["confirmed", "dismissed"],
                horizontal=True,
                format_func=lambda d: t(f"office.decision.{d}"),
                key="office_review_decision",
            )
            st.text_input(t("office.note"), max_chars=500, key="office_review_note")
            st.form_submit_button(
                t("office.save"),
                key="office_review_save",
                on_click=od.save_review,
                args=(anomalies, week_end),
            )


def _spot_checks(spots: pd.DataFrame, supervisor: bool) -> None:
    """The week's spot-check list and, for a supervisor, the form to record a check."""
    st.caption(t("office.spot_hint"))
    od.table(spots, SPOTS_ON_SCREEN, key="office_week_spots", short=SHORT)
    if len(spots) and not supervisor:
        st.caption(t("office.supervisors_only"))
    elif len(spots):
        st.markdown(f"**{t('office.record_check')}**")
        visit = st.selectbox(
            t("office.visit"),
            spots["visit_id"].astype(int).tolist(),
            format_func=lambda v: od.spot_label(spots, v),
            key="office_spot_visit",
        )
        contact = od.revealed_contact(int(visit))
        if contact is None:
            st.button(t("office.reveal"), on_click=od.reveal_contact, args=(int(visit),), key="office_reveal")
        else:
            st.text(contact)
        with st.form("office_spot", clear_on_submit=True):
            st.radio(
                t("office.result"),
                list(SPOT_RESULTS),
                horizontal=True,
                format_func=lambda r: od.value_label("result", r),
                key="office_spot_result",
            )
            st.text_input(t("office.note"), max_chars=500, key="office_spot_note")
            st.form_submit_button(t("office.save"), key="office_spot_save", on_click=od.save_spot_check)


# ------------------------------------------------------ not met for months
def _not_met() -> None:
    months = int(st.number_input(t("office.months"), 1, 36, 12, key="office_months", persist_state="page"))
    per_grid = od.not_met_by_grid(months, f.street_id, f.committee_id)
    st.metric(t("office.unmet_total"), fmt_int(per_grid["not_met"].sum()))
    st.header(t("office.unmet_grids"), anchor=False)
    od.table(per_grid, key="office_unmet_grids", short=SHORT)
    listed = od.not_met_list(months, f.street_id, f.committee_id)
    sheets_unmet = {t("office.unmet_grids"): per_grid}
    if listed is None:
        st.info(t("office.unmet_pick_area"))
    else:
        st.header(t("office.unmet_list"), anchor=False)
        od.table(listed, key="office_unmet_list")
        sheets_unmet[t("office.unmet_list")] = listed
    download_pair(
        sheets_unmet,
        listed if listed is not None else per_grid,
        stem=f"not-met-{today.isoformat()}",
        key="dl_unmet",
    )


# Only the open tab runs and is sent to the browser. With all four drawn on every open,
# the page was about 1.9 MB (the blind-spot map's 2,000 polygons and the weekly check's
# tables) and Chromium's drawing of it most of a warm open (docs/benchmarks.md). A choice
# made in a tab outlives its closing (the widgets' persist_state="page").
tabs = st.tabs(
    labels_held(TABS_KEY, [f"office.tab.{name}" for name in TABS]), on_change="rerun", key=TABS_KEY
)
for tab, draw in zip(tabs, (_blind_spots, _pace, _weekly_check, _not_met), strict=True):
    if tab.open:
        with tab:
            draw()
