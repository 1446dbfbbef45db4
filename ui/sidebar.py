"""The shared sidebar, drawn once by app.py: language, period, area filter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from geo.periods import PERIODS, period_range
from geo.public import published_period
from ui import auth, data
from ui.i18n import ANY, LANGS, lang, relabel, t


@dataclass(frozen=True)
class Filters:
    """What the sidebar selected."""

    period: str
    start: dt.date
    end: dt.date
    street_id: str | None
    committee_id: str | None


def _set_query(key: str, value: str | None, known: dict[str, str]) -> None:
    if value:
        st.query_params[key] = value
    elif st.query_params.get(key) in known:
        # Cleared in the sidebar. An unknown id stays, so the page can say what was wrong.
        del st.query_params[key]


def _first_value(key: str, value: str) -> None:
    """Give the keyed selector ``key`` its first value through the session state, once.

    Not also as the widget's default: a language switch sets every chosen value
    again (``ui.i18n.relabel``), and a widget with both a default and a value set
    that way makes Streamlit warn in the server's log on each switch.
    """
    if key not in st.session_state:
        st.session_state[key] = value


def _period(*, public: bool) -> tuple[str, dt.date, dt.date]:
    """Draw the period picker and the dates it stands for; return the period and its first and last day."""
    sb = st.sidebar
    today = data.today()
    _first_value("period", "ytd")
    period = sb.selectbox(
        t("period"),
        PERIODS,
        format_func=lambda p: t(f"period.{p}"),
        key="period",
    )
    start, end = period_range("ytd", today=today)
    if period == "custom":
        c1, c2 = sb.columns(2)
        start = c1.date_input(t("period.from"), value=start, key="period_from", max_value=today)
        end = c2.date_input(t("period.to"), value=today, key="period_to", max_value=today)
        if end < start:
            sb.error(t("period.bad"))
            end = start
    else:
        start, end = period_range(period, today=today)
    as_of = today
    if public:
        start, end = published_period(period, today=today, start=start, end=end)
        as_of = end
    sb.caption(f"{start.isoformat()} – {end.isoformat()} · {t('as_of')} {as_of.isoformat()}")
    return period, start, end


def render(*, public: bool = False) -> Filters:
    """Draw the sidebar and return the filters (also kept in ``st.session_state``).

    On the public page (``public``) the period is the published one
    (``geo.public.published_period``: whole weeks up to the last Sunday), and
    the sidebar's "as of" is that Sunday, the date the page states.
    """
    sb = st.sidebar
    lang()
    sb.segmented_control(
        t("lang"),
        LANGS,
        format_func=lambda code: "中文" if code == "zh" else "English",
        key="lang",  # initial value: lang() has put it in the session state
        on_change=relabel,
    )
    period, start, end = _period(public=public)

    layers = data.layers()
    # Only areas the role sees whole (ui.auth); "all" is the whole district or the role's own area.
    vis_streets, vis_comms = auth.visible_streets(), auth.visible_committees()
    everything = vis_streets is None
    all_label = t("area.all") if everything else t("area.mine")
    s_rows = layers.streets if everything else layers.streets[layers.streets["street_id"].isin(vis_streets)]
    streets = dict(zip(s_rows["street_id"], s_rows["name"], strict=True))
    if st.session_state.get("street") not in (None, ANY, *streets):
        del st.session_state["street"]  # another account's choice, before a sign-in in this session
    q_street = st.query_params.get("street")
    if streets:
        _first_value("street", q_street if q_street and q_street in streets else ANY)
    # A picker with nothing to pick (the public; a committee or grid account) is not drawn: it would
    # only offer "all", and a widget drawn afresh after signing in shows its labels right.
    street = (
        sb.selectbox(
            t("area.street"),
            [ANY, *streets],
            format_func=lambda s: all_label if s == ANY else streets[s],
            key="street",
        )
        if streets
        else None
    )
    street = street or None  # ANY: every street
    comms = layers.committees
    if vis_comms is not None:
        comms = comms[comms["committee_id"].isin(vis_comms)]
    if street:
        comms = comms[comms["street_id"] == street]
    committees = dict(zip(comms["committee_id"], comms["name"], strict=True))
    if st.session_state.get("committee") not in (None, ANY, *committees):
        del st.session_state["committee"]
    q_comm = st.query_params.get("committee")
    if committees:
        _first_value("committee", q_comm if q_comm and q_comm in committees else ANY)
    committee = (
        sb.selectbox(
            t("area.committee"),
            [ANY, *committees],
            format_func=lambda c: all_label if c == ANY else committees[c],
            key="committee",
        )
        if committees
        else None
    )
    committee = committee or None
    _set_query("street", street, streets)
    _set_query("committee", committee, committees)
    return Filters(period=period, start=start, end=end, street_id=street, committee_id=committee)


def current(*, public: bool = False) -> Filters:
    """Return the sidebar's filters, drawing the sidebar if app.py has not yet in this run.

    On a deep link's very first request Streamlit may run a page file directly,
    before ``app.py`` has registered navigation; the page then still gets its
    filters (and the first-start build) instead of failing.
    """
    filters = st.session_state.get("filters")
    if isinstance(filters, Filters):
        return filters
    data.ensure_database()
    filters = render(public=public)
    st.session_state["filters"] = filters
    return filters
