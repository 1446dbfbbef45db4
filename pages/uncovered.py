"""盲区与周查 · Uncovered areas, pace against the yearly goal, and the weekly check (一周一查)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from geo.office import DEFAULT_BELOW, burn_up_chart
from geo.store.assessment import SPOT_RESULTS
from geo.text import plain
from ui import auth, data, sidebar
from ui import office_data as od
from ui.downloads import csv, download_pair, log_export, xlsx
from ui.i18n import fmt_date, fmt_int, fmt_pct, lang, t

auth.require("uncovered")  # sign-in, page rights and the link's areas (ui/auth.py)
if (denied := od.take_denied()) is not None:  # a form's write the store refused (outside the scope)
    auth.deny(*denied, page="uncovered")

f = sidebar.current()
today = data.today()

st.title(t("office.title"), anchor=False)
st.caption(t("office.caption", start=f.start.isoformat(), end=f.end.isoformat(), today=fmt_date(today)))
tab_spots, tab_pace, tab_week, tab_unmet = st.tabs(
    [t("office.tab.spots"), t("office.tab.pace"), t("office.tab.week"), t("office.tab.unmet")]
)

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
with tab_spots:
    pct = st.slider(t("office.below"), 5, 100, int(DEFAULT_BELOW * 100), 5, format="%d%%", key="office_below")
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
    od.table(u.spots, SPOT_COLUMNS, key="office_spots")
    st.header(t("office.lagging"), anchor=False)
    if u.lagging.empty:
        st.info(t("office.none_lagging"))
    else:
        od.table(u.lagging, LAG_COLUMNS, key="office_lagging")
    with st.container(horizontal=True):
        st.download_button(
            t("office.download_xlsx"),
            xlsx({t("office.spots"): u.spots[SPOT_COLUMNS], t("office.lagging"): u.lagging[LAG_COLUMNS]}),
            file_name=f"blind-spots-{f.end.isoformat()}.xlsx",
            on_click=log_export,
            args=(f"blind-spots-{f.end.isoformat()}.xlsx", len(u.spots) + len(u.lagging)),
            key="dl_spots_xlsx",
        )
        st.download_button(
            t("office.download_csv"),
            csv(u.spots[SPOT_COLUMNS]),
            file_name=f"blind-spots-{f.end.isoformat()}.csv",
            on_click=log_export,
            args=(f"blind-spots-{f.end.isoformat()}.csv", len(u.spots)),
            mime="text/csv",
            key="dl_spots_csv",
        )
        st.download_button(
            f"{t('office.download_csv')} · {t('office.n_lagging')}",
            csv(u.lagging[LAG_COLUMNS]),
            file_name=f"lagging-grids-{f.end.isoformat()}.csv",
            on_click=log_export,
            args=(f"lagging-grids-{f.end.isoformat()}.csv", len(u.lagging)),
            mime="text/csv",
            key="dl_lagging_csv",
        )

# ------------------------------------------------------------------ pace
with tab_pace:
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
    )
    rows = od.pace_rows(level or "grid", f.street_id, f.committee_id)
    st.caption(f"{t('office.behind_count')}: {fmt_int(rows['behind'].sum())} / {fmt_int(len(rows))}")
    st.header(t("office.pace_table"), anchor=False)
    od.table(rows, key="office_pace")
    download_pair(
        {t("office.pace_table"): rows}, rows, stem=f"pace-{level}-{today.isoformat()}", key="dl_pace"
    )

# ---------------------------------------------------------- weekly check
with tab_week:
    week_end = st.date_input(t("office.week_ending"), value=today, max_value=today, key="office_week_end")
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
    sheets = {
        t("office.by_grid"): check.grids,
        t("office.by_worker"): check.workers,
        t("office.anomalies"): anomalies,
        t("office.spot_checks"): spots,
    }
    g_tab, w_tab, a_tab, s_tab = st.tabs([plain(name) for name in sheets])
    with g_tab:
        od.table(check.grids, key="office_week_grids")
    with w_tab:
        od.table(check.workers, key="office_week_workers")
    with a_tab:
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
    with s_tab:
        st.caption(t("office.spot_hint"))
        od.table(spots, key="office_week_spots")
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
                st.button(
                    t("office.reveal"), on_click=od.reveal_contact, args=(int(visit),), key="office_reveal"
                )
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
    for kind, text in od.take_messages():
        (st.success if kind == "success" else st.error)(text)
    with st.container(horizontal=True):
        st.download_button(
            t("office.download_xlsx"),
            xlsx(sheets),
            file_name=f"weekly-check-{week_end.isoformat()}.xlsx",
            on_click=log_export,
            args=(f"weekly-check-{week_end.isoformat()}.xlsx", sum(len(v) for v in sheets.values())),
            key="dl_week_xlsx",
        )
        which = st.selectbox(
            t("office.csv_of"), list(sheets), key="office_week_csv_of", label_visibility="collapsed"
        )
        st.download_button(
            t("office.download_csv"),
            csv(sheets[which]),
            file_name=f"weekly-check-{week_end.isoformat()}-{list(sheets).index(which) + 1}.csv",
            on_click=log_export,
            args=(
                f"weekly-check-{week_end.isoformat()}-{list(sheets).index(which) + 1}.csv",
                len(sheets[which]),
            ),
            mime="text/csv",
            key="dl_week_csv",
        )

# ------------------------------------------------------ not met for months
with tab_unmet:
    months = int(st.number_input(t("office.months"), 1, 36, 12, key="office_months"))
    per_grid = od.not_met_by_grid(months, f.street_id, f.committee_id)
    st.metric(t("office.unmet_total"), fmt_int(per_grid["not_met"].sum()))
    st.header(t("office.unmet_grids"), anchor=False)
    od.table(per_grid, key="office_unmet_grids")
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
