"""今日走访 · Today's walk: the most urgent households that fit before 15:30, in walking order."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from geo.walks import walk_map, walk_table
from ui import data, sidebar
from ui import walk_data as wd
from ui.downloads import download_pair
from ui.i18n import t

f = sidebar.current()
layers = data.layers()
st.title(t("nav.walk"))

grids = wd.grids_in_view(f)
asked = st.query_params.get("grid")
if asked and asked not in set(layers.grids["grid_id"]):
    st.warning(t("bad_id", id=asked, what=t("what.grid")))
    asked = None
ids = grids["grid_id"].tolist()
names = dict(zip(grids["grid_id"], grids["name"], strict=True))
grid_id = st.selectbox(
    t("walk.grid"),
    ids,
    index=ids.index(asked) if asked in ids else 0,
    format_func=lambda g: names[g],
    key="walk_grid",
)
st.query_params["grid"] = grid_id
c1, c2, c3, c4 = st.columns(4)
day = c1.date_input(t("walk.day"), value=data.today(), key="walk_day")
start = c2.time_input(t("walk.start"), value=wd.clock("13:00"), step=900, key="walk_start")
end = c3.time_input(t("walk.end"), value=wd.clock(data.settings().day_end), step=900, key="walk_end")
minutes = c4.number_input(t("walk.minutes"), min_value=2, max_value=60, value=8, step=1, key="walk_minutes")
if end <= start:
    st.error(t("walk.bad_time"))
    st.stop()

inputs, walk, priority = wd.plan(grid_id, day, start.strftime("%H:%M"), end.strftime("%H:%M"), float(minutes))
table = walk_table(walk, inputs)
m1, m2, m3 = st.columns(3)
m1.metric(t("walk.households"), len(walk.household_ids))
m2.metric(t("walk.distance"), f"{walk.distance_m / 1000:.1f} km")
m3.metric(t("walk.finish"), walk.finish)
st_folium(
    walk_map(walk, inputs, assets=wd.leaflet_assets()),
    height=420,
    use_container_width=True,
    returned_objects=[],
    key=f"walk_map_{grid_id}",
)
st.dataframe(wd.localised(table), hide_index=True, use_container_width=True)
download_pair(
    {"walk": table, "priority": priority.head(200)}, table, stem=f"walk_{grid_id}_{day}", key="dl_walk"
)
with st.expander(t("walk.why")):
    st.dataframe(wd.localised(priority.head(50)[["household_id", "priority", "reason"]]), hide_index=True)
