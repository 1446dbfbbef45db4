"""网格 · Grid drill-down: buildings by coverage, households, the one-sheet profile, recording visits.

Deep links: ``/grid?grid=G0001&building=B000001&household=H0000001``. The core
is in ``geo.households``, ``geo.visits`` and ``geo.store.records``; fetching,
caching, masking and translation in ``ui/grid_data.py``.
"""

from __future__ import annotations

import datetime as dt
import functools

import streamlit as st
from streamlit_folium import st_folium

from geo.households import FILTERS
from geo.store import CHANNELS, OUTCOMES, OutOfScope
from geo.text import plain
from geo.visits import (
    ISSUE_LEVELS,
    MAX_NOTE,
    MAX_TITLE,
    IssueDraft,
    VisitDraft,
    default_visit_time,
    local_now,
)
from ui import auth, cards, data, sidebar
from ui import grid_data as gd
from ui.i18n import fmt_int, fmt_pct, t

auth.require("grid")  # sign-in, page rights and the link's areas (ui/auth.py)

filters = sidebar.current()
today = data.today()
settings = data.settings()

if not gd.is_staff():
    st.info(t("grid.staff_only"))
    st.stop()

gd.open_only_grid()
try:
    recs = gd.records(st.query_params.get("grid") or "")
except OutOfScope as exc:  # a forged link or session value: the store refuses, say so and stop
    auth.deny(exc.kind, str(exc.record_id), page="grid")
sel = gd.selection(recs)
for message in gd.bad_id_messages(sel):
    st.warning(plain(message))

if sel.grid_id is None:
    st.title(t("grid.pick"), anchor=False)
    options = gd.grid_options()
    st.selectbox(
        t("grid.pick_hint"),
        list(options),
        index=None,
        format_func=lambda g: options[g],
        key="grid_pick",
        on_change=gd.pick_grid,
    )
    st.stop()

grid_id = sel.grid_id
crumbs = gd.trail(sel, recs)
with st.container(horizontal=True, gap="small", vertical_alignment="center"):
    links = gd.crumb_links(crumbs)
    for i, (label, page, params) in enumerate(links):
        last = i == len(links) - 1
        text = plain(label if last else f"{label} ›")
        if last:  # where we are: text, not a disabled button (too faint to read, and not a control)
            st.markdown(plain(text))
        elif page == "pages/district_map.py":
            st.page_link(page, label=plain(text), query_params=params)
        else:
            st.button(
                plain(text),
                key=f"crumb_{i}",
                type="tertiary",
                on_click=gd.go_to,
                kwargs=params or {},
            )

st.title(t("grid.title", name=crumbs[3].name), anchor=False)
fig = gd.figures(filters.start, filters.end, grid_id)
with st.container(horizontal=True, gap="medium"):
    st.metric(t("households.occupied"), fmt_int(fig.households), width=105)
    st.metric(t("visited"), fmt_int(fig.visited), width=105)
    st.metric(t("coverage"), fmt_pct(fig.coverage), width=105)
    st.metric(t("open_issues"), fmt_int(fig.open_issues), width=105)
    st.metric(t("overdue_issues"), fmt_int(fig.overdue_issues), width=105)
st.caption(
    t("grid.period", start=filters.start.isoformat(), end=filters.end.isoformat())
    + " · "
    + t("figures.as_of", at=f"{fig.as_of:%Y-%m-%d %H:%M}")
)

left, right = st.columns([2, 5], gap="medium")  # every column of the list in sight at 1280 px
with left:
    st.header(t("grid.buildings"), anchor=False)
    # streamlit-folium gives a map whose script changed a new frame, 0 px tall until it has
    # loaded, at a new zoom. The chosen building is therefore a layer added to the map on the page
    # (feature_group_to_add), so a tap keeps the map as it is; another period or a recorded visit
    # still redraws it, and its place is kept meanwhile (ui/phone.css has the same height).
    with st.container(key="buildings_map"):
        st_folium(
            gd.building_map(grid_id, filters.start, filters.end),
            key=gd.MAP_KEY,
            height=gd.MAP_HEIGHT,
            use_container_width=True,
            feature_group_to_add=gd.chosen_building(grid_id, sel),
            returned_objects=["last_object_clicked"],
            on_change=functools.partial(gd.on_map_click, grid_id),
        )
    st.caption(t("grid.map_hint"))

with right:
    building_name = crumbs[4].name if sel.building_id else None
    title = t("grid.list_building", name=building_name) if building_name else t("grid.list_grid")
    st.header(plain(title), anchor=False)
    if sel.building_id:
        st.button(t("grid.whole_grid"), on_click=gd.show_whole_grid, type="tertiary")
    chosen = st.pills(
        t("grid.filters"),
        FILTERS,
        selection_mode="multi",
        format_func=lambda f: t(f"filter.{f}"),
        key="grid_filters",
    )
    shown, listed, total = gd.household_rows(recs, sel, chosen or [], today)
    st.caption(f"{t('grid.count', n=fmt_int(len(shown)), total=fmt_int(total))} · {t('grid.list_hint')}")
    table_key = f"{gd.TABLE_KEY}:{grid_id}:{sel.building_id}:{sel.household_id}:{','.join(chosen or [])}"
    # On a phone, cards instead of the table (ui/phone.css shows one or the other by width).
    with st.container(key="phone_cards"):
        for item in gd.household_cards(shown, listed, building_name):
            with cards.card(item["title"], item["ask"]):
                st.button(
                    t("card.open"),
                    key=f"card_{item['id']}",
                    on_click=gd.open_household,
                    args=(item["id"], item["building_id"]),
                    width="stretch",
                )
    with st.container(key="wide_table"):
        st.dataframe(
            shown,
            key=table_key,
            height=380,
            hide_index=True,
            column_config=gd.household_columns(),
            placeholder="—",
            on_select=functools.partial(
                gd.on_row_select, table_key, listed["household_id"].tolist(), listed["building_id"].tolist()
            ),
            selection_mode="single-row",
        )

st.divider()
if sel.household_id is None:
    st.info(t("grid.pick_household"))
    st.stop()

hid = sel.household_id
profile = gd.profile(recs, hid, today)
gd.viewed(hid, grid_id)
left, right = st.columns([3, 2], gap="large")
with left:
    st.header(t("profile.title", unit=crumbs[-1].name), anchor=False)
    st.markdown(
        "  \n".join(f"**{plain(label)}**　{plain(value)}" for label, value in gd.profile_facts(profile))
    )
    if gd.unmasked(hid):
        st.caption(t("unmask.shown"))
        st.button(t("unmask.hide"), on_click=gd.mask_again, key=f"mask_{hid}")
    else:
        st.button(t("unmask.button"), on_click=gd.unmask, args=(hid, grid_id), key=f"unmask_{hid}")
    st.markdown(f"**{t('profile.visits', n=len(profile.visits))}**")
    if len(profile.visits):
        st.dataframe(gd.visit_rows(profile), hide_index=True, height=min(38 + 35 * len(profile.visits), 320))
    else:
        st.caption(t("profile.no_visits"))
    st.markdown(f"**{t('profile.issues', n=len(profile.issues))}**")
    if len(profile.issues):
        st.dataframe(gd.issue_rows(profile), hide_index=True)
    else:
        st.caption(t("profile.no_issues"))

with right:
    st.header(t("visit.title"), anchor=False)
    flash = st.session_state.pop("visit_flash", None)
    if flash:
        (st.success if flash[0] == "saved" else st.info)(flash[1])
    workers = gd.workers(recs)
    if not workers:
        st.warning(t("visit.no_workers"))
        st.stop()
    nonce = gd.form_nonce(hid)
    now = local_now(settings)
    start = default_visit_time(
        now, day_start=settings.day_start, day_end=settings.day_end, office_close=settings.office_close
    )
    with st.form(f"visit_form_{hid}"):
        worker = st.selectbox(
            t("visit.worker"), list(workers), format_func=lambda w: workers[w], key=f"v_worker_{hid}"
        )
        c1, c2 = st.columns(2)
        day = c1.date_input(t("visit.date"), value=start.date(), max_value=now.date(), key=f"v_date_{hid}")
        at = c2.time_input(t("visit.time"), value=start.time(), step=60, key=f"v_time_{hid}")
        outcome = st.radio(
            t("visit.outcome"),
            OUTCOMES,
            index=None,
            horizontal=True,
            format_func=lambda o: t(f"outcome.{o}"),
            key=f"v_outcome_{hid}",
        )
        channel = st.radio(
            t("visit.channel"),
            CHANNELS,
            horizontal=True,
            format_func=lambda c: t(f"channel.{c}"),
            key=f"v_channel_{hid}",
        )
        note = st.text_area(t("visit.note"), max_chars=MAX_NOTE, key=f"v_note_{hid}")
        with st.expander(t("visit.needs")):
            needs = st.checkbox(t("visit.needs"), key=f"v_needs_{hid}")
            category = st.selectbox(
                t("visit.category"),
                gd.categories(recs),
                index=None,
                accept_new_options=True,
                key=f"v_category_{hid}",
            )
            level = st.radio(
                t("visit.level"),
                ISSUE_LEVELS,
                horizontal=True,
                format_func=lambda lv: t(f"level.{lv}"),
                key=f"v_level_{hid}",
            )
            issue_title = st.text_input(t("visit.issue_title"), max_chars=MAX_TITLE, key=f"v_title_{hid}")
        submitted = st.form_submit_button(t("visit.submit"), type="primary")
    if submitted:
        draft = VisitDraft(
            hid,
            worker,
            dt.datetime.combine(day, at) if isinstance(day, dt.date) and at is not None else None,
            outcome,
            channel,
            note or "",
        )
        issue = IssueDraft(category, level, issue_title or "") if needs else None
        kind, message = gd.submit(recs, draft, issue, nonce)
        if kind == "invalid":
            st.error(f"{t('visit.invalid')}\n\n{plain(message)}")
        else:
            st.session_state["visit_flash"] = (kind, message)
            st.rerun()
