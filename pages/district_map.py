"""总览地图 · District map: every grid coloured by coverage or issues; click to drill down."""

from __future__ import annotations

import streamlit as st

from geo import maps
from geo.access import restrict
from geo.areas import UnknownArea, area_bounds, breadcrumbs, grids_in_area
from geo.figures import area_figures
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
now = data.now()  # issue counts move with the escalation clock: taken at one moment, shown with it
metrics = data.figures_by_grid(f.start, f.end, now)
visible = auth.visible_grids()  # None: the district role sees every grid's figures
metrics = restrict(metrics, visible)  # other grids are drawn without figures

# A click on the map (the component's value, kept under its key) selects a grid
# before anything is drawn, so one run shows it and mirrors it in the URL.
clicked = gridmap.new_click("district_map")
if clicked:
    if auth.sees("grid", clicked):
        st.query_params["grid"] = clicked
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
    x0, y0, x1, y1 = (float(b) for b in restrict(layers.grids, visible, on="grid_id").total_bounds)
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
        fig = area_figures(metrics, [selected], end=f.end, now=now)
        st.metric(t("coverage"), fmt_pct(fig.coverage))
        st.write(
            f"{t('households.occupied')}: {fmt_int(fig.households)} · {t('visited')}: {fmt_int(fig.visited)}"
            f"  \n{t('residents')}: {fmt_int(m['residents'])}"
            f" · {t('open_issues')}: {fmt_int(fig.open_issues)}"
            f" · {t('overdue_issues')}: {fmt_int(fig.overdue_issues)}"
        )
        st.caption(t("figures.as_of", at=f"{fig.as_of:%Y-%m-%d %H:%M}"))
        st.page_link("pages/grid.py", label=t("open_grid"), query_params={"grid": selected})
    else:
        ids = grids_in_area(
            layers.grids, layers.committees, street_id=f.street_id, committee_id=f.committee_id
        )
        ids = restrict(ids, visible)
        fig = area_figures(metrics, ids, end=f.end, now=now)
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
        st.metric(t("coverage"), fmt_pct(fig.coverage))
        st.write(
            f"{t('grids')}: {fmt_int(len(ids))} · {t('households.occupied')}: {fmt_int(fig.households)}  \n"
            f"{t('visited')}: {fmt_int(fig.visited)} · {t('open_issues')}: {fmt_int(fig.open_issues)}"
            f" · {t('overdue_issues')}: {fmt_int(fig.overdue_issues)}"
        )
        st.caption(t("figures.as_of", at=f"{fig.as_of:%Y-%m-%d %H:%M}"))
        st.info(t("click_hint"))
