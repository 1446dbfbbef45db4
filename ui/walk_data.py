"""Caching, pinning, labels and the tick form of the today's-walk page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from geo.areas import grids_in_area
from geo.route import TeamPlan, Walk, reason_text
from geo.store import Scope
from geo.store.walking import set_duty
from geo.text import plain, spoken
from geo.visits import local_now, new_form_nonce
from geo.walks import (
    DETOUR_FACTOR,
    WalkInputs,
    WalkStart,
    door_labels,
    plan_grid_walk,
    plan_team_walk,
    print_html,
    record_ticks,
    team_inputs,
    team_table,
    walk_inputs,
    walk_outcomes,
    walk_start,
    walk_svg,
    walk_table,
)
from geo.words import WORDS
from ui import auth, cards, data
from ui.grid_data import leaflet_assets as leaflet_assets  # one served copy of Leaflet for st_folium
from ui.grid_data import problem_text
from ui.i18n import lang, t
from ui.office_data import own_workers as own_workers  # the walk page's name rule
from ui.sidebar import Filters

OUTCOMES = ("met", "not_home", "refused", "inaccessible", "vacant")
"""What a worker may tick per household (nothing ticked: not visited)."""


def _allowed(ids: list[str]) -> list[str]:
    """Keep the grid ids the session may see."""
    allowed = data.store().grid_ids(auth.scope())
    return ids if allowed is None else [g for g in ids if g in set(allowed)]


def grids_in_view(f: Filters) -> pd.DataFrame:
    """Return the grids of the sidebar's area that the session may see."""
    layers = data.layers()
    ids = grids_in_area(layers.grids, layers.committees, street_id=f.street_id, committee_id=f.committee_id)
    keep = set(_allowed(list(ids)))
    return layers.grids[layers.grids["grid_id"].isin(keep)][["grid_id", "name"]]


def committees_in_view(f: Filters) -> pd.DataFrame:
    """Return the committees of the sidebar's area whose grids the session may all see."""
    layers = data.layers()
    grids = grids_in_view(f)
    mine = set(grids["grid_id"])
    per = layers.grids.groupby("committee_id")["grid_id"].apply(set)
    ok = [c for c, g in per.items() if g and g <= mine]
    return layers.committees[layers.committees["committee_id"].isin(ok)][["committee_id", "name"]]


DEFAULT_MINUTES = 8


def current_settings() -> tuple[dt.date, dt.time, dt.time, int]:
    """Return the walk's day, start, end and minutes per door: as chosen, else the defaults."""
    ss = st.session_state
    day = ss.get("walk_day") or data.today()
    start = ss.get("walk_start") or default_start(day).start
    end = ss.get("walk_end") or clock(data.settings().day_end)
    minutes = ss.get("walk_minutes") or DEFAULT_MINUTES
    return day, start, end, int(minutes)


def stay_open(key: str) -> None:
    """Keep the expander ``key`` open: the ``on_change`` of a widget inside it.

    The day-and-times expander is drawn lazily (``on_change="rerun"``) and its label shows
    the choices inside it: a new choice makes it a new element, which would fold shut
    under the person's hand.
    """
    st.session_state[key] = True


def settings_label() -> str:
    """Return the label of the day-and-times expander, showing the current choice."""
    day, start, end, minutes = current_settings()
    return t(
        "walk.settings",
        day=str(day),
        start=start.strftime("%H:%M"),
        end=end.strftime("%H:%M"),
        n=int(minutes),
    )


def default_start(day: dt.date) -> WalkStart:
    """Return when ``day``'s walk starts unless the user says otherwise (from the local time now)."""
    s = data.settings()
    return walk_start(local_now(s), day, day_start=s.day_start, day_end=s.day_end, usual=s.walk_start)


def clock(text: str) -> dt.time:
    """Parse ``HH:MM``."""
    return dt.time.fromisoformat(text)


@st.cache_data(show_spinner=False, max_entries=64)
def _inputs(kind: str, area_id: str, day: dt.date, version: int, scope: Scope) -> WalkInputs:
    if kind == "team":
        return team_inputs(data.store(), area_id, scope=scope, day=day)
    return walk_inputs(data.store(), area_id, scope=scope, day=day)


def inputs(kind: str, area_id: str, day: dt.date) -> WalkInputs:
    """Return the area's inputs (``kind`` ``grid`` or ``team``), fresh after every write."""
    return _inputs(kind, area_id, day, data.store().versions()[0], auth.scope())


@st.cache_data(show_spinner=False, max_entries=32)
def _plan(
    kind: str, area_id: str, day: dt.date, start: str, end: str, minutes: float, version: int, scope: Scope
) -> tuple[Walk | TeamPlan, pd.DataFrame]:
    found = _inputs(kind, area_id, day, version, scope)
    opts: dict[str, Any] = {"on": day, "start": start, "end": end, "minutes_per_visit": minutes}
    if kind == "team":
        return plan_team_walk(found, **opts)
    return plan_grid_walk(found, **opts)


def plan(
    kind: str, area_id: str, day: dt.date, start: str, end: str, minutes: float
) -> tuple[Any, pd.DataFrame]:
    """Return the walk (or team plan) and the priority table, pinned for this session.

    A plan stays as first shown until :func:`replan`, so ticking stops (which
    changes priorities) does not reshuffle the walk being ticked.
    """
    pins = st.session_state.setdefault("walk_pins", {})
    key = (kind, area_id, day, start, end, minutes)
    if key not in pins:
        pins[key] = _plan(kind, area_id, day, start, end, minutes, data.store().versions()[0], auth.scope())
    return pins[key]


def replan() -> None:
    """Forget the pinned plans (button callback)."""
    st.session_state["walk_pins"] = {}


def save_duty(committee_id: str, day: dt.date, key: str) -> None:
    """Store the duty chosen in widget ``key`` (button callback), then plan again."""
    worker = st.session_state.get(key)
    if worker:
        set_duty(data.store(), committee_id, day, str(worker), set_by=auth.user())
        st.session_state["walk_flash"] = ("saved", t("walk.duty_saved", name=str(worker)))
        replan()


def distance_note(found: WalkInputs) -> str:
    """Say how distances were measured."""
    if found.network is not None:
        return t("walk.dist_network")
    # The command is for whoever runs the server (the data page's users); field staff get a plain word.
    return t("walk.dist_straight_admin" if auth.may_use("data") else "walk.dist_straight", f=DETOUR_FACTOR)


def why(priority: pd.DataFrame) -> pd.DataFrame:
    """Return priority rows with their reasons in the page's language (the codes dropped)."""
    out = priority.drop(columns="reason_codes")
    out["reason"] = [reason_text(c, lang=lang()) for c in priority["reason_codes"]]
    return out


def localised(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename columns into the UI language."""
    return frame.rename(columns={c: t(f"walk.col.{c}") for c in frame.columns if f"walk.col.{c}" in WORDS})


SCREEN_FIRST = ("worker_id", "worker", "order", "building", "arrive", "households", "done")
"""Stop-table columns shown first on screen: on a 390-px phone these fit, "recorded" included."""


def on_screen(table: pd.DataFrame) -> pd.DataFrame:
    """Return the stop table for the page: what a walker needs first, then the rest; localised.

    Downloads keep the table's own order; only the screen puts "leave" and
    metres after "recorded", which a phone would otherwise scroll out of view.
    """
    first = [c for c in SCREEN_FIRST if c in table.columns]
    return localised(table[first + [c for c in table.columns if c not in first]])


def tables(result: Any, found: WalkInputs, day: dt.date) -> pd.DataFrame:
    """Return the stop list (one walker) or every walker's stops (team), with what was recorded."""
    if isinstance(result, TeamPlan):
        return team_table(result, found, on=day)
    return walk_table(result, found, on=day)


def team_summary(plan: TeamPlan, found: WalkInputs) -> pd.DataFrame:
    """Return one row per worker, localised."""
    s = plan.summary()
    names = dict(zip(found.workers["worker_id"], found.workers["name"], strict=True))
    s.insert(1, "worker", [names.get(w, w) for w in s["worker_id"]])
    s["on_duty"] = ["✔" if d else "" for d in s["on_duty"]]
    s = s.round({"walk_min": 0, "distance_m": 0, "visit_min": 0})
    return localised(s)


def coverage(kind: str, area_id: str, day: dt.date) -> float | None:
    """Return the area's coverage from 1 January to ``day`` (the live index: moves on every visit)."""
    try:
        frame = data.coverage(dt.date(day.year, 1, 1), day, "committee" if kind == "team" else "grid")
        return float(frame.loc[area_id, "coverage"])
    except KeyError:
        return None


def printable(result: Any, found: WalkInputs, day: dt.date, title: str) -> bytes:
    """Return the self-contained printable page (SVG map and stop tables) as UTF-8 bytes."""
    names = dict(zip(found.workers["worker_id"], found.workers["name"], strict=True))
    if isinstance(result, TeamPlan):
        walks = {w: walk for w, walk in result.walks.items() if w not in result.on_duty}
        sections = [
            (f"{names.get(w, w)}（{w}）", localised(walk_table(walk, found, on=day).drop(columns=["walk_m"])))
            for w, walk in walks.items()
        ]
        svg = walk_svg(walks, found)
    else:
        sections = [("", localised(walk_table(result, found, on=day).drop(columns=["walk_m"])))]
        svg = walk_svg(result, found)
    return print_html(title, day.isoformat(), sections, svg).encode("utf-8")


def tick_form(
    walk: Walk, found: WalkInputs, day: dt.date, worker_id: str, key: str, *, priority: pd.DataFrame
) -> None:
    """Draw the after-walk form: a card per stop, an outcome per household; record through the validated path.

    Each stop is a card (``ui.cards``, as the grid page's households): its
    order, building and planned arrival, then per door the room, the masked
    head, what to ask about (``priority``'s ``reason``) and the answer pills.
    The pills' accessible name stays the door's label, which the offline
    banner (``ui/phone.js``) lists.
    """
    flash = st.session_state.pop(f"tick_flash_{key}", None)
    for kind, message in flash or []:
        {"success": st.success, "info": st.info, "error": st.error}[kind](plain(message))
    nonce = st.session_state.setdefault(f"tick_nonce_{key}", new_form_nonce())
    done = walk_outcomes(found, day)
    names = found.buildings.drop_duplicates("building_id").set_index("building_id")["name"]
    doors = door_labels(found)
    asks = dict(
        zip(priority["household_id"].astype(str), priority["reason"].fillna("").astype(str), strict=True)
    )
    # No frame around the form: on a 390-px phone its padding and the cards' would push
    # each door's last pill onto a row of its own.
    with st.form(f"tick_form_{key}", border=False):
        st.caption(t("walk.tick.hint"))
        for row in walk.stops.itertuples(index=False):
            label = t("walk.tick.stop", order=row.order, building=names.get(row.building_id, row.building_id),
                      arrive=row.arrive)  # fmt: skip
            with cards.card(label, key=f"stop_{key}_{row.order}"):
                for h in row.household_ids:
                    recorded = done.get(str(h), "")
                    door = doors.get(str(h), str(h)) + (  # room · masked head · id
                        f" · ✔ {t('outcome.' + recorded)}" if recorded else ""
                    )
                    # The door, then what to ask there, then its answers: the pills' own label
                    # would sit above the question, so it names them for screen readers only
                    # (spoken: an accessible name is read out as it is, references and all).
                    st.markdown(plain(door))
                    if asks.get(str(h)):
                        st.caption(plain(f"{t('walk.tick.ask')}{asks[str(h)]}"))
                    # Pills: one tap per door, and they wrap on a phone instead of a dropdown per row.
                    st.pills(
                        spoken(door),
                        OUTCOMES,
                        format_func=lambda o: t(f"outcome.{o}"),
                        key=f"tick_{key}_{h}",
                        label_visibility="collapsed",
                    )
        submitted = st.form_submit_button(t("walk.tick.submit"), type="primary")
    if not submitted:
        return
    ticks = {str(h): st.session_state.get(f"tick_{key}_{h}") or "" for h in walk.household_ids}
    report = record_ticks(
        data.store(),
        walk,
        ticks,
        day=day,
        worker_id=worker_id,
        nonce=str(nonce),
        now=local_now(data.settings()),
        scope=auth.scope(),
        known_workers=set(found.workers["worker_id"].astype(str)),
    )
    out: list[tuple[str, str]] = []
    if report.saved:
        out.append(("success", t("walk.tick.saved", n=len(report.saved))))
    if report.repeated:
        out.append(("info", t("walk.tick.repeated", n=len(report.repeated))))
    for h, problems in report.problems.items():
        for p in problems:
            out.append(("error", t("walk.tick.problem", household=h, problem=problem_text(p))))
    if not any(ticks.values()):
        out.append(("info", t("walk.tick.none")))
    st.session_state[f"tick_flash_{key}"] = out
    st.rerun()
