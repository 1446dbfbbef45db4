"""公示 · Public summary: visits and problems solved in the sidebar's period, by area; nothing personal.

Open to anyone (no login). Shows exactly what ``sibai export-public`` publishes:
one builder (geo.public.summary_from_store, cached in ui.data) makes the figures of both.
"""

from __future__ import annotations

import streamlit as st

from geo import public, site
from geo.text import plain
from ui import auth, data, sidebar
from ui.i18n import ANY, lang

auth.require("public")  # sign-in, page rights and the link's areas (ui/auth.py)

f = sidebar.current(public=True)  # the published period: whole weeks to the last Sunday
summary = data.public_summary(f.start, f.end)
labels = public.labels(summary, lang=lang())
right = {name: st.column_config.TextColumn(alignment="right") for name in public.number_labels(lang())}

st.title(plain(labels["title"]))
st.caption(plain(labels["subtitle"]))
st.caption(f"{plain(labels['as_of'])} · {plain(labels['period'])}")

for column, (label, value) in zip(st.columns(4), public.headline(summary, lang=lang()), strict=True):
    column.metric(plain(label), value)
st.write(plain(labels["headline"]))

st.header(plain(labels["map"]))
st.iframe(site.map_html(summary, lang=lang(), height=520), height=570)
st.caption(plain(labels["map.hint"]))

st.header(plain(labels["by_group"]))
st.dataframe(public.group_table(summary, lang=lang()), hide_index=True, column_config=right)

st.header(plain(labels["by_street"]))
st.dataframe(
    public.table(summary, "street", lang=lang()), hide_index=True, width="stretch", column_config=right
)

st.header(plain(labels["by_committee"]))
streets = summary.level("street")["name"]
street = (
    st.selectbox(
        plain(labels["street"]),
        [ANY, *streets.index],
        format_func=lambda s: labels["all"] if s == ANY else str(streets[s]),
        key="public_street",
    )
    or None
)
st.dataframe(
    public.table(summary, "committee", lang=lang(), street=street),
    hide_index=True,
    width="stretch",
    column_config=right,
)

for key in ("note.hidden", "note.rounding", "note.coverage", "note.residents", "note.grids", "note.privacy"):
    st.caption(plain(labels[key]))
