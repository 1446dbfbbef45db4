"""社工考核 · Worker assessment: the driving-licence points ledger and staffing ratios."""

from __future__ import annotations

import streamlit as st

from geo.assess import REASONS, ledger_chart
from geo.text import plain
from ui import auth, data, sidebar
from ui import office_data as od
from ui.downloads import download_pair
from ui.i18n import fmt_date, fmt_int, lang, t

auth.require("workers")  # sign-in, page rights and the link's areas (ui/auth.py)

LOST = [f"lost_{r}" for r in REASONS]
# What fits 1280 px; the download carries the committee ids and the number of deductions too.
STANDINGS_ON_SCREEN = ["worker_id", "worker_name", "committee_name", "points_left", *LOST, "standing"]

f = sidebar.current()
today = data.today()
a = od.assessment()
rules = a.rules
_, problem = od.deductions()

st.title(t("workers.title"), anchor=False)
st.caption(t("workers.caption", points=rules.points, today=fmt_date(today)))
if problem:
    st.warning(plain(problem))
with st.expander(t("workers.rules")):
    st.markdown(
        "\n".join(
            "- "
            + t(
                f"workers.rule.{r}",
                n=getattr(rules, r),
                pct=f"{(1 - rules.pace_slack) * 100:.0f}%",
                every=t(f"workers.every.{rules.pace_every}"),
            )
            for r in REASONS
        )
    )

stand = od.standings_in_area(a, f.street_id, f.committee_id)
with st.container(horizontal=True, gap="medium"):
    st.metric(t("workers.count"), fmt_int(len(stand)), width=140)
    st.metric(t("workers.warning"), fmt_int((stand["standing"] == "warning").sum()), width=140)
    st.metric(t("workers.exhausted"), fmt_int((stand["standing"] == "exhausted").sum()), width=140)

st.header(t("workers.standings"), anchor=False)
od.table(stand, STANDINGS_ON_SCREEN, key="workers_standings", short={c: f"workers.short.{c}" for c in LOST})

names = dict(zip(stand["worker_id"], stand["worker_name"], strict=True))
if names:
    worker = st.selectbox(
        t("workers.pick"), list(names), format_func=lambda w: f"{names[w]}（{w}）", key="workers_pick"
    )
    st.header(t("workers.history", name=names[worker]), anchor=False)
    mine = a.book[a.book["worker_id"] == worker]
    if mine.empty:
        st.info(t("workers.no_deductions"))
    else:
        # The chart above its ledger, each the page's full width, so that no column is cut off.
        st.altair_chart(
            ledger_chart(
                a.book,
                worker_id=worker,
                as_of=today,
                points=rules.points,
                lang=lang(),
                reason_labels={r: od.value_label("reason", r) for r in REASONS},
            )
        )
        od.table(mine, ["date", "reason", "ref", "points", "balance"], key="workers_ledger")

st.header(t("workers.staffing", goal=f"{data.settings().workers_per_10k:g}"), anchor=False)
district = od.staffing("district", None)
by_street = od.staffing("street", None)
by_committee = od.staffing("committee", f.street_id)
if len(district):  # empty for roles that do not see the whole district
    with st.container(horizontal=True, gap="medium"):
        st.metric(t("workers.district_ratio"), f"{float(district['per_10k'].iloc[0]):.1f}", width=180)
        st.metric(t("workers.shortfall"), fmt_int(district["shortfall"].iloc[0]), width=140)
s_tab, c_tab = st.tabs([t("workers.by_street"), t("workers.by_committee")])
with s_tab:
    od.table(by_street, key="workers_by_street")
with c_tab:
    od.table(by_committee, key="workers_by_committee")

sheets = {
    t("workers.standings"): stand,
    t("workers.pick"): a.book[a.book["worker_id"].isin(stand["worker_id"])],
    t("workers.by_street"): by_street,
    t("workers.by_committee"): by_committee,
}
download_pair(sheets, stand, stem=f"workers-{today.isoformat()}", key="dl_workers")
