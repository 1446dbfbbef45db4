"""总览地图 · District map: every grid coloured by coverage or issues; click to drill down."""

from __future__ import annotations

import streamlit as st

from geo import maps
from geo.areas import UnknownArea, area_bounds, area_summary, breadcrumbs, grids_in_area
from geo.text import plain
from ui import auth, data, gridmap, sidebar
from ui.i18n import fmt_int, fmt_pct, lang, t

auth.require("map")  # sign-in, page rights and the link's areas (ui/auth.py)

METRIC_LABELS: dict[maps.Metric, str] = {
    "coverage": "metric.coverage",
    "open_issues_per_100": "metric.issues_per_100",
    "overdue_issues": "metric.overdue",
    "bivariate": "metric.bivariate",
}

f = sidebar.current()
layers = data.layers()
metrics = data.coverage_index().coverage(f.start, f.end, level="grid")
visible = auth.visible_grids()  # None: the district role sees every grid's figures
if visible is not None:
    metrics = metrics[metrics.index.isin(visible)]  # other grids are drawn without figures

# A click on the map (the component's value, kept under its key) selects a grid
# before anything is drawn, so one run shows it and mirrors it in the URL.
click = st.session_state.get("district_map")
if isinstance(click, dict) and click.get("grid") and click.get("seq") != st.session_state.get("map_seq"):
    st.session_state["map_seq"] = click.get("seq")
    if auth.sees("grid", str(click["grid"])):
        st.query_params["grid"] = str(click["grid"])
    else:
        st.toast(t("auth.map_foreign"))

# Deep links: ?grid=ID selects a grid; ?street= / ?committee= come through the sidebar.
selected = st.query_params.get("grid")
for key, level in (("grid", "grid"), ("street", "street"), ("committee", "committee")):
    value = st.query_params.get(key)
    if value and value not in set(getattr(layers, f"{level}s")[f"{level}_id"]):
        st.warning(t("bad_id", id=value, what=t(f"what.{level}")))
        if key == "grid":
            selected = None

st.title(t("app.title"))
st.caption(t("app.subtitle"))

c1, c2, c3 = st.columns([2, 2, 2])
metrics_offered = list(METRIC_LABELS)
metric = c1.selectbox(t("metric"), metrics_offered, format_func=lambda m: t(METRIC_LABELS[m]), key="metric")
schemes: list[maps.Scheme] = ["fixed", "quantiles", "natural_breaks"]
scheme = c2.selectbox(
    t("scheme"),
    schemes,
    format_func=lambda s: t(f"scheme.{s}"),
    key="scheme",
)
basemaps: list[maps.Basemap] = ["none", "osm", "tianditu", "amap"]
basemap = c3.selectbox(t("basemap"), basemaps, format_func=lambda b: t(f"basemap.{b}"), key="basemap")

geometry = gridmap.geometry(basemap=basemap)
focus = f.committee_id or f.street_id
bounds = area_bounds(layers.grids, layers.committees, street_id=f.street_id, committee_id=f.committee_id)
if bounds is None and visible is not None and visible:  # zoom to the role's own area
    x0, y0, x1, y1 = (float(b) for b in layers.grids[layers.grids["grid_id"].isin(visible)].total_bounds)
    bounds = (x0, y0, x1, y1)
view = gridmap.view_for(bounds, basemap=basemap)
style = maps.style_payload(
    geometry.grid_ids,
    metrics,
    metric=metric,
    scheme=scheme,
    lang=lang(),
    selected=selected,
    geometry_hash=geometry.hash,
)
map_col, side = st.columns([3, 1])
with map_col:
    gridmap.show(
        maps.gridmap_args(
            geometry.path,
            style,
            basemap=basemap,
            lang=lang(),
            tianditu_key=gridmap.tianditu_key(),
            view=view,
            view_token=f"{focus or ('district' if visible is None else 'mine')}:{basemap}",
        ),
        key="district_map",
    )
with side:
    if selected:
        row = layers.grids[layers.grids["grid_id"] == selected].iloc[0]
        try:
            trail = breadcrumbs(layers.streets, layers.committees, layers.grids, grid_id=selected)
        except UnknownArea:
            trail = []
        st.caption(" › ".join(plain(c.name) for c in trail))
        st.header(plain(row["name"]))
        m = metrics.loc[selected]
        st.metric(t("coverage"), fmt_pct(m["coverage"]))
        st.write(
            f"{t('households')}: {fmt_int(m['households'])} · {t('visited')}: {fmt_int(m['visited'])}  \n"
            f"{t('residents')}: {fmt_int(m['residents'])} · {t('open_issues')}: {fmt_int(m['open_issues'])}"
            f" · {t('overdue_issues')}: {fmt_int(m['overdue_issues'])}"
        )
        st.page_link("pages/grid.py", label=t("open_grid"), query_params={"grid": selected})
    else:
        ids = grids_in_area(
            layers.grids, layers.committees, street_id=f.street_id, committee_id=f.committee_id
        )
        if visible is not None:
            ids = ids[ids.isin(visible)]
        s = area_summary(metrics, ids)
        try:
            trail = breadcrumbs(
                layers.streets,
                layers.committees,
                layers.grids,
                street_id=f.street_id,
                committee_id=f.committee_id,
            )
        except UnknownArea:
            trail = []
        st.caption(" › ".join(plain(c.name) for c in trail))
        mine = visible is not None and not (f.street_id or f.committee_id)
        st.header(t("area.mine") if mine else plain(trail[-1].name) if trail else t("district"))
        st.metric(t("coverage"), fmt_pct(s["coverage"]))
        st.write(
            f"{t('grids')}: {fmt_int(s['grids'])} · {t('households')}: {fmt_int(s['households'])}  \n"
            f"{t('visited')}: {fmt_int(s['visited'])} · {t('open_issues')}: {fmt_int(s['open_issues'])}"
            f" · {t('overdue_issues')}: {fmt_int(s['overdue_issues'])}"
        )
        st.info(t("click_hint"))
