"""今日走访 · Today's walk: one worker's route, or a committee's households shared among its workers.

The most urgent households that fit before 15:30, in walking order, on a map
with building footprints; Excel/CSV and a printable page; after the walk, tick
each door to record the visits. Core: ``geo.walks`` and ``geo.route``; caching,
pinning and the tick form: ``ui/walk_data.py``.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit_folium import st_folium

from geo.maps import walk_map
from geo.privacy import worker_name
from geo.route import TeamPlan
from geo.store import OutOfScope
from geo.text import plain
from ui import auth, data, sidebar
from ui import walk_data as wd
from ui.downloads import button, download_pair
from ui.i18n import fmt_pct, t

auth.require("walk")  # sign-in, page rights and the link's areas (ui/auth.py)

f = sidebar.current()
layers = data.layers()
st.title(t("nav.walk"))
flash = st.session_state.pop("walk_flash", None)
if flash:
    st.success(plain(flash[1]))

mode = st.radio(
    t("walk.mode"),
    ["one", "team"],
    format_func=lambda m: t(f"walk.mode.{m}"),
    horizontal=True,
    key="walk_mode",
)
if mode == "team":
    committees = wd.committees_in_view(f)
    ids = committees["committee_id"].tolist()
    names = dict(zip(committees["committee_id"], committees["name"], strict=True))
    label = t("walk.committee")
    asked = st.query_params.get("committee")
else:
    grids = wd.grids_in_view(f)
    ids = grids["grid_id"].tolist()
    names = dict(zip(grids["grid_id"], grids["name"], strict=True))
    label = t("walk.grid")
    asked = st.query_params.get("grid")
    if asked and asked not in set(layers.grids["grid_id"]):
        st.warning(t("bad_id", id=asked, what=t("what.grid")))
        asked = None
if not ids:
    st.info(t("walk.no_stops"))
    st.stop()
area_id = st.selectbox(
    plain(label),
    ids,
    index=ids.index(asked) if asked in ids else 0,
    format_func=lambda a: names[a],
    key=f"walk_{mode}_area",
)
st.query_params["committee" if mode == "team" else "grid"] = area_id
# The day and times are drawn only while their expander is open (its label shows them);
# closed, the choices made before hold (persist_state).
day, start, end, minutes = wd.current_settings()
settings = st.expander(plain(wd.settings_label()), key="walk_settings", on_change="rerun")
if settings.open:
    with settings:
        c1, c2, c3, c4 = st.columns(4)
        # A choice leaves the expander open (wd.stay_open) and holds once it is folded.
        held: dict[str, Any] = {
            "on_change": wd.stay_open,
            "args": ("walk_settings",),
            "persist_state": "page",
        }
        day = c1.date_input(t("walk.day"), value=data.today(), key="walk_day", **held)
        first = wd.default_start(day).start
        start = c2.time_input(t("walk.start"), value=first, step=900, key="walk_start", **held)
        last = wd.clock(data.settings().day_end)
        end = c3.time_input(t("walk.end"), value=last, step=900, key="walk_end", **held)
        minutes = c4.number_input(
            t("walk.minutes"),
            min_value=2,
            max_value=60,
            value=wd.DEFAULT_MINUTES,
            step=1,
            key="walk_minutes",
            **held,
        )
if wd.default_start(day).closed:
    st.info(t("walk.closed", end=data.settings().day_end))
if end <= start:
    st.error(t("walk.bad_time"))
    st.stop()

kind = "team" if mode == "team" else "grid"
try:
    found = wd.inputs(kind, area_id, day)
except OutOfScope as exc:
    st.error(plain(exc))
    st.stop()
own = wd.own_workers()  # one rule: the signed-in worker's own name in full, colleagues masked
workers = {
    w: worker_name(n, w, own=own)
    for w, n in zip(found.workers["worker_id"], found.workers["name"], strict=True)
}
if mode == "team":
    on_duty = found.workers.loc[found.workers["on_duty"], "worker_id"].tolist()
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.selectbox(
            t("walk.duty"),
            list(workers),
            index=list(workers).index(on_duty[0]) if on_duty else None,
            format_func=lambda w: f"{workers[w]}（{w}）",
            key=f"walk_duty_{area_id}_{day}",
        )
        st.button(
            t("walk.duty_save"),
            on_click=wd.save_duty,
            args=(area_id, day, f"walk_duty_{area_id}_{day}"),
            key="walk_duty_save",
        )

result, priority = wd.plan(kind, area_id, day, start.strftime("%H:%M"), end.strftime("%H:%M"), float(minutes))
table = wd.tables(result, found, day)
cover = wd.coverage(kind, area_id, day)
with st.container(horizontal=True, gap="medium"):
    if isinstance(result, TeamPlan):
        walkers = [w for w in result.walks if w not in result.on_duty]
        st.metric(t("walk.walkers"), len(walkers), width=110)
        st.metric(t("walk.households"), sum(len(result.walks[w].household_ids) for w in walkers), width=110)
        walks = {w: result.walks[w] for w in walkers}
    else:
        st.metric(t("walk.households"), len(result.household_ids), width=110)
        st.metric(t("walk.distance"), f"{result.distance_m / 1000:.1f} km", width=110)
        st.metric(t("walk.finish"), result.finish, width=110)
        walks = result
    st.metric(t("walk.coverage"), fmt_pct(cover) if cover is not None else "—", width=110)
st.caption(plain(wd.distance_note(found)))
if not len(table):
    st.info(t("walk.no_workers") if mode == "team" else t("walk.no_stops"))
    st.stop()
st_folium(
    walk_map(walks, found, assets=wd.leaflet_assets(), labels=workers),
    height=420,
    use_container_width=True,
    returned_objects=[],
    key=f"walk_map_{kind}_{area_id}",
)
if isinstance(result, TeamPlan):
    st.header(t("walk.team_summary"), anchor=False)
    st.dataframe(wd.team_summary(result, found), hide_index=True, width="stretch")
with st.container(key="wide_table"):  # on a phone the stops are the tick form's cards below (ui/phone.css)
    st.dataframe(wd.on_screen(table), hide_index=True, width="stretch")
stem = f"walk_{area_id}_{day}"
download_pair({"walk": table, "priority": wd.why(priority.head(200))}, table, stem=stem, key="dl_walk")
with st.container(horizontal=True):
    button(  # household ids and addresses: audited like every other download
        t("walk.print"),
        wd.printable(result, found, day, t("walk.print_title")),
        file_name=f"{stem}.html",
        rows=len(table),
        mime="text/html",
        key="dl_walk_print",
    )
    st.button(t("walk.replan"), on_click=wd.replan, key="walk_replan")

st.header(t("walk.tick.title"), anchor=False)
if isinstance(result, TeamPlan):
    whose = st.selectbox(
        t("walk.tick.whose"), walkers, format_func=lambda w: f"{workers[w]}（{w}）", key="walk_tick_whose"
    )
    wd.tick_form(result.walks[whose], found, day, whose, key=f"{area_id}_{day}_{whose}", priority=priority)
elif workers:
    walker = st.selectbox(
        t("walk.worker"), list(workers), format_func=lambda w: f"{workers[w]}（{w}）", key="walk_worker"
    )
    wd.tick_form(result, found, day, walker, key=f"{area_id}_{day}_{walker}", priority=priority)
why = st.expander(t("walk.why"), key="walk_why", on_change="rerun")
if why.open:  # a table drawn only when asked for
    with why:
        reasons = wd.why(priority.head(50))[["household_id", "priority", "reason"]]
        st.dataframe(wd.localised(reasons), hide_index=True)
