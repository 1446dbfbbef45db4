"""The grid page's caching wrappers, event callbacks and display frames (app side).

Everything cached here is keyed on the store's change counters
(``data.store().versions()``), so a visit recorded on any server, or by the
CLI, shows on the next rerun. The core work is in :mod:`geo.households`,
:mod:`geo.visits` and :mod:`geo.store.records`; this module only fetches,
caches, translates and masks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from geo import households as hh
from geo import maps
from geo.access import restrict
from geo.areas import Crumb, breadcrumbs
from geo.figures import Figures, area_figures
from geo.privacy import mask_frame, mask_name, mask_phone, worker_label
from geo.store import Scope, StoreError
from geo.store import records as rec
from geo.text import plain
from geo.visits import (
    IssueDraft,
    Problem,
    VisitDraft,
    VisitInvalid,
    form_key,
    local_now,
    new_form_nonce,
    submit_visit,
)
from ui import auth, data
from ui.i18n import lang, t
from ui.office_data import own_workers

STAFF_ROLES = auth.STAFF
"""Roles that may open the grid page, record visits and unmask personal data (inside their scope)."""

MAP_KEY = "grid_building_map"
MAP_HEIGHT = 430
"""Pixels of the buildings map (``.st-key-buildings_map`` in ``ui/phone.css`` keeps them while it redraws)."""
TABLE_KEY = "grid_household_table"

COMMON_CATEGORIES = (
    "加装电梯",
    "物业管理",
    "停车难",
    "消防安全与楼道堆物",
    "养老服务",
    "儿童游乐场地",
    "环境卫生与垃圾分类",
    "噪音扰民",
    "房屋漏水与维修",
    "绿化修剪",
    "就医与健康",
    "就业与帮困",
    "邻里纠纷",
    "水电燃气",
)
"""Issue categories offered by the form (any other may be typed)."""


# ------------------------------------------------------------------ who


def role() -> str:
    """Return the session's role (from the signed-in account, :mod:`ui.auth`)."""
    return auth.role()


def user() -> str:
    """Return who is using the app, for the access log."""
    return auth.user()


def is_staff() -> bool:
    """Tell whether the session's role may see households, record visits and unmask."""
    return role() in STAFF_ROLES


def viewed(household_id: str, grid_id: str) -> None:
    """Log that the session opened a household's profile (once per household and session)."""
    seen = st.session_state.setdefault("_sibai_viewed", set())
    if household_id in seen:
        return
    seen.add(household_id)
    auth.audit("view_household", f"household:{household_id}", f"grid:{grid_id}")


# -------------------------------------------------------------- fetching


# The caller's scope is part of every cache key: one session's rows never reach another's.
@st.cache_data(max_entries=64, show_spinner=False)
def _records(grid_id: str, scope: Scope, data_version: int, db: str) -> rec.GridRecords:
    return rec.read_grid(data.store(), grid_id, scope=scope)


def records(grid_id: str) -> rec.GridRecords:
    """Return the grid's buildings, households, visit summary, issues and workers (fresh).

    Raises :class:`~geo.store.OutOfScope` for a grid outside the session's scope.
    """
    return _records(grid_id, auth.scope(), data.store().versions()[0], data.settings().db)


@st.cache_data(max_entries=256, show_spinner=False)
def _household_visits(household_id: str, scope: Scope, data_version: int, db: str) -> pd.DataFrame:
    return rec.read_household_visits(data.store(), household_id, scope=scope)


def household_visits(household_id: str) -> pd.DataFrame:
    """Return every visit of one household (fresh); :class:`~geo.store.OutOfScope` outside the scope."""
    return _household_visits(household_id, auth.scope(), data.store().versions()[0], data.settings().db)


@st.cache_resource(max_entries=64, show_spinner=False)
def _footprints(grid_id: str, scope: Scope, reset_version: int, db: str) -> gpd.GeoDataFrame:
    store = data.store()
    store.check_scope("grid", grid_id, scope=scope)
    return store.read_layer("buildings", scope=Scope.of(grids=[grid_id]), columns=["building_id", "name"])


def footprints(grid_id: str) -> gpd.GeoDataFrame:
    """Return the grid's building footprints (re-read only when data was replaced)."""
    return _footprints(grid_id, auth.scope(), data.store().versions()[1], data.settings().db)


def grid_ids() -> set[str]:
    """Return every grid id (for checking deep links)."""
    return set(data.layers().grids["grid_id"].tolist())


def grid_options() -> dict[str, str]:
    """Return ``grid_id -> "name (id)"`` of the grids inside the sidebar's area filter."""
    layers = data.layers()
    g = layers.grids
    g = restrict(g, auth.visible_grids(), on="grid_id")
    f = st.session_state.get("filters")
    if f is not None and f.committee_id:
        g = g[g["committee_id"] == f.committee_id]
    elif f is not None and f.street_id:
        g = g[g["street_id"] == f.street_id]
    return {str(i): f"{n}（{i}）" for i, n in zip(g["grid_id"], g["name"], strict=True)}


def figures(start: dt.date, end: dt.date, grid_id: str) -> Figures:
    """Return one grid's figures for the period, its issues counted now (``geo.figures``)."""
    at = data.now()
    return area_figures(data.figures_by_grid(start, end, at), [grid_id], end=end, now=at)


def open_only_grid() -> None:
    """Put the session's grid in the address when it sees exactly one and none is asked for.

    A grid leader has one grid: a picker with one choice is a wasted tap on a
    phone, so the page opens that grid (and its address says which).
    """
    if st.query_params.get("grid"):
        return
    visible = auth.visible_grids()
    if visible is not None and len(visible) == 1:
        st.query_params["grid"] = next(iter(visible))


# ------------------------------------------------------------ selection


def selection(recs: rec.GridRecords) -> hh.Selection:
    """Read ``?grid=&building=&household=`` and check them against the grid's frames."""
    q = st.query_params
    return hh.resolve_selection(
        q.get("grid") or None,
        q.get("building") or None,
        q.get("household") or None,
        grid_ids=grid_ids(),
        buildings=recs.buildings,
        households=recs.households,
    )


def _set_params(**values: str | None) -> None:
    for key, value in values.items():
        if value:
            st.query_params[key] = value
        elif key in st.query_params:
            del st.query_params[key]


def pick_grid() -> None:
    """Callback of the grid picker: open the chosen grid."""
    _set_params(grid=st.session_state.get("grid_pick"), building=None, household=None)


def on_map_click(grid_id: str) -> None:
    """Callback of the buildings map: select the clicked building (clears the household)."""
    value = st.session_state.get(MAP_KEY) or {}
    point = value.get("last_object_clicked") if isinstance(value, dict) else None
    if not point:
        return
    building = hh.building_at(footprints(grid_id), lat=float(point["lat"]), lng=float(point["lng"]))
    if building:
        _set_params(building=building, household=None)


def on_row_select(key: str, ids: Sequence[str], buildings: Sequence[str]) -> None:
    """Callback of the household table: open the selected household's profile."""
    state = st.session_state.get(key)
    rows = list(getattr(getattr(state, "selection", None), "rows", []) or [])
    if not rows and isinstance(state, dict):
        rows = list(state.get("selection", {}).get("rows", []))
    if rows and 0 <= rows[0] < len(ids):
        _set_params(household=ids[rows[0]], building=buildings[rows[0]])


def show_whole_grid() -> None:
    """Callback: back from one building to the whole grid."""
    _set_params(building=None, household=None)


def trail(sel: hh.Selection, recs: rec.GridRecords) -> list[Crumb]:
    """Return the breadcrumbs district → street → committee → grid → building → household."""
    layers = data.layers()
    base = breadcrumbs(layers.streets, layers.committees, layers.grids, grid_id=sel.grid_id)
    return hh.drill_trail(
        base,
        buildings=recs.buildings,
        households=recs.households,
        building_id=sel.building_id,
        household_id=sel.household_id,
    )


def go_to(**params: str) -> None:
    """Callback of the in-page breadcrumbs: show the grid, or one of its buildings."""
    _set_params(grid=params.get("grid"), building=params.get("building"), household=None)


def crumb_links(crumbs: Sequence[Crumb]) -> list[tuple[str, str, dict[str, str] | None]]:
    """Return ``(label, page, query_params)`` per crumb; the last crumb has no link (``page == ""``)."""
    out: list[tuple[str, str, dict[str, str] | None]] = []
    params: dict[str, str] = {}
    for i, c in enumerate(crumbs):
        label = t("district") if c.level == "district" else c.name
        if c.id:
            params = {**params, c.level: c.id}
        if i == len(crumbs) - 1:
            out.append((label, "", None))
        elif c.level in ("district", "street", "committee"):
            out.append((label, "pages/district_map.py", dict(params)))
        else:
            grid_params = {k: v for k, v in params.items() if k in ("grid", "building")}
            out.append((label, "pages/grid.py", grid_params))
    return out


def bad_id_messages(sel: hh.Selection) -> list[str]:
    """Return a clear message per unknown id of the link."""
    return [t("bad_id", id=plain(i), what=t(f"what.{level}")) for level, i in sel.unknown]


# ------------------------------------------------------------------ map


@st.cache_resource(show_spinner=False)
def leaflet_assets() -> str:
    """Return the relative URL prefix under which the app serves Leaflet to st_folium's frame.

    Declaring a (never drawn) component on the folder built by
    :func:`geo.maps.build_assets` makes Streamlit serve it at
    ``/component/<name>/``; st_folium's frame lives at
    ``/component/streamlit_folium.st_folium/``, so ``../<name>`` reaches it.
    """
    folder = maps.build_assets()
    served = components.declare_component("sibai_grid_assets", path=str(folder))
    return f"../{served.name}"


def building_map(grid_id: str, start: dt.date, end: dt.date) -> Any:
    """Return the folium map of the grid's buildings coloured by coverage in the period.

    The chosen building is not part of it (:func:`chosen_building`): the same
    map for every choice keeps its frame, zoom and position in the browser.
    """
    layers = data.layers()
    grid = layers.grids[layers.grids["grid_id"] == grid_id]
    committee = str(grid["committee_name"].iloc[0]) if "committee_name" in grid else ""
    b = footprints(grid_id)
    m = data.coverage(start, end, "building")
    m = m[m.index.isin(b["building_id"])]
    return maps.building_map(
        b,
        m,
        grid=grid,
        committee_name=committee,
        lang=lang(),
        assets=leaflet_assets(),
        select_on_click=False,  # the chosen building is outlined after the run (chosen_building)
    )


def chosen_building(grid_id: str, sel: hh.Selection) -> Any:
    """Return the outline of the chosen building, added to the buildings map already on the page."""
    return maps.selection_outline(footprints(grid_id), sel.building_id)


# -------------------------------------------------------- display frames


def _tag_text(tags: Sequence[str], *, vacant: bool = False, issues: int = 0) -> str:
    sep = "、" if lang() == "zh" else ", "
    shown = [t("profile.vacant")] if vacant else []
    shown += [t(f"tag.{c}") if f"tag.{c}" in _KNOWN_TAGS else c for c in tags]
    shown += [f"{t('col.open_issues')} {issues}"] if issues else []
    return sep.join(shown)


_KNOWN_TAGS = {f"tag.{c}" for c in hh.TAG_LABELS}


def household_rows(
    recs: rec.GridRecords, sel: hh.Selection, filters: Sequence[str], today: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Return the table to show (masked, translated), the rows it shows, and the count before filters."""
    listed = hh.household_list(recs.households, recs.visit_summary, recs.issues, today=today)
    total = len(listed) if sel.building_id is None else int((listed["building_id"] == sel.building_id).sum())
    listed = hh.filter_households(listed, filters, today=today, building_id=sel.building_id)
    names = dict(zip(recs.buildings["building_id"], recs.buildings["name"], strict=True))
    masked = mask_frame(listed[["head_name"]], columns={"head_name": "name"})
    shown = pd.DataFrame(
        {
            "building": [str(names.get(b) or b) for b in listed["building_id"]],
            "unit": listed["unit"].astype(object).to_numpy(),
            "head_name": masked["head_name"].to_numpy(),
            # Date and outcome in one column, residents in the profile only: the table fits beside the
            # map at 1280 px (issue 14).
            "last_visit": [
                f"{at:%Y-%m-%d} {t(f'outcome.{o}') if o else ''}".strip() if pd.notna(at) else ""
                for at, o in zip(listed["last_visit_at"], listed["last_outcome"], strict=True)
            ],
            # Vacancy and open issues are said among the tags: columns of their own would push the
            # last one out of sight at 1280 px (issue 14).
            "tags": [
                _tag_text(x, vacant=not occ, issues=int(n))
                for x, occ, n in zip(listed["tags"], listed["occupied"], listed["open_issues"], strict=True)
            ],
        }
    )
    if sel.building_id is not None:
        shown = shown.drop(columns="building")
    return shown, listed, total


#: Household cards drawn on a phone; beyond these the filters and the building narrow the list.
MAX_CARDS = 40


def household_cards(shown: pd.DataFrame, listed: pd.DataFrame, building: str | None) -> list[dict[str, str]]:
    """Return the phone's household cards: where (building, room), who (masked), what to ask about.

    One dict per row of ``shown`` (at most :data:`MAX_CARDS`): ``id``, ``building_id``,
    ``title`` ("building · room · masked name") and ``ask`` (tags, open issues, days
    since last met), all plain text for :func:`geo.text.plain`.
    """
    cards = []
    for i, row in enumerate(shown.head(MAX_CARDS).itertuples(index=False)):
        where = [building or str(getattr(row, "building", "")), str(row.unit or ""), str(row.head_name or "")]
        ask = [str(row.tags)] if row.tags else []  # open issues included
        days, occupied = listed["days_since_met"].iloc[i], bool(listed["occupied"].iloc[i])
        if pd.notna(days):
            ask.append(f"{t('col.days_since_met')} {int(days)}")
        elif occupied:
            ask.append(t("card.never_met"))
        cards.append(
            {
                "id": str(listed["household_id"].iloc[i]),
                "building_id": str(listed["building_id"].iloc[i]),
                "title": " · ".join(w for w in where if w),
                "ask": " · ".join(ask),
            }
        )
    return cards


def open_household(household: str, building: str) -> None:
    """Callback of a household card: open that household's profile."""
    _set_params(household=household, building=building)


def household_columns() -> dict[str, Any]:
    """Return the column configuration of the household table (labels in the current language)."""
    cc = st.column_config
    return {
        "building": cc.TextColumn(t("col.building")),
        "unit": cc.TextColumn(t("col.unit")),
        "head_name": cc.TextColumn(t("col.head_name")),
        "last_visit": cc.TextColumn(t("col.last_visit")),
        "tags": cc.TextColumn(t("col.tags"), width="small"),
    }


def profile(recs: rec.GridRecords, household_id: str, today: dt.date) -> hh.HouseholdProfile:
    """Return the one-sheet profile of a household of the grid."""
    return hh.household_profile(
        household_id,
        households=recs.households,
        visits=household_visits(household_id),
        issues=recs.issues,
        workers=recs.workers,
        buildings=recs.buildings,
        today=today,
        now=local_now(data.settings()),
    )


def unmasked(household_id: str) -> bool:
    """Tell whether this session chose to see this household's personal data in full."""
    return bool(st.session_state.get("unmasked") == household_id and is_staff())


def unmask(household_id: str, grid_id: str) -> None:
    """Callback of the unmask button: log who unmasked what, then show it."""
    if not is_staff():
        return
    auth.audit("unmask", f"household:{household_id}", f"grid:{grid_id}; head_name, phone")
    st.session_state["unmasked"] = household_id


def mask_again() -> None:
    """Callback: hide the personal data again."""
    st.session_state.pop("unmasked", None)


def person(p: hh.HouseholdProfile) -> tuple[str, str]:
    """Return the head of household's name and phone, masked unless unmasked on purpose."""
    name, phone = p.household.get("head_name"), p.household.get("phone")
    if unmasked(str(p.household["household_id"])):
        return (str(name) if name else "—", str(phone) if phone else "—")
    return (mask_name(name) or "—", mask_phone(phone) or "—")


def profile_facts(p: hh.HouseholdProfile) -> list[tuple[str, str]]:
    """Return ``(label, value)`` lines of the profile's header (plain text, shown escaped)."""
    name, phone = person(p)
    tags = p.household.get("tags") or ()
    met = p.summary.get("last_met_at")
    if met is None or pd.isna(met):
        last = t("profile.never_met")
    else:
        last = t(
            "profile.days_ago",
            date=pd.Timestamp(met).strftime("%Y-%m-%d"),
            n=int(p.summary["days_since_met"]),
        )
    residents = int(p.household.get("residents") or 0)
    occupied = bool(int(p.household.get("occupied") or 0))
    return [
        (t("profile.head"), name),
        (t("profile.phone"), phone),
        (t("profile.residents"), str(residents) if occupied else t("profile.vacant")),
        (t("profile.tags"), _tag_text(tags) or t("profile.no_tags")),
        (t("profile.last_met"), last),
    ]


def visit_rows(p: hh.HouseholdProfile) -> pd.DataFrame:
    """Return the visit history to show: time, worker (masked name), outcome, channel, note."""
    v = p.visits
    own = own_workers()
    return pd.DataFrame(
        {
            t("col.visited_at"): [pd.Timestamp(x).strftime("%Y-%m-%d %H:%M") for x in v["visited_at"]],
            t("col.worker"): [
                worker_label(n, w, own=own) for w, n in zip(v["worker_id"], v["worker_name"], strict=True)
            ],
            t("col.outcome"): [t(f"outcome.{o}") for o in v["outcome"]],
            t("col.channel"): [t(f"channel.{c}") for c in v["channel"]],
            t("col.note"): v["note"].astype(object).to_numpy(),
        }
    )


def issue_rows(p: hh.HouseholdProfile) -> pd.DataFrame:
    """Return the household's issues to show: number, opened, category, text, level, status, due, closed."""
    i = p.issues

    def day(x: Any) -> str:
        return "" if x is None or pd.isna(x) else pd.Timestamp(x).strftime("%Y-%m-%d")

    status = [
        t(f"status.{s}") + (f" · {t('profile.overdue')}" if od else "")
        for s, od in zip(i["status"], i["overdue"], strict=True)
    ]
    return pd.DataFrame(
        {
            t("col.issue_id"): i["issue_id"].astype(object).to_numpy(),
            t("col.opened_at"): [day(x) for x in i["opened_at"]],
            t("col.category"): i["category"].astype(object).to_numpy(),
            t("col.title"): i["title"].astype(object).to_numpy(),
            t("col.level"): [t(f"level.{x}") for x in i["level"]],
            t("col.status"): status,
            t("col.due_at"): [day(x) for x in i["due_at"]],
            t("col.closed_at"): [day(x) for x in i["closed_at"]],
        }
    )


# ----------------------------------------------------------- recording


def workers(recs: rec.GridRecords) -> dict[str, str]:
    """Return the grid's active workers: ``worker_id -> label`` (:func:`worker_label`, leader marked)."""
    w = recs.workers
    w = w[w["active"].astype(int) == 1]
    own = own_workers()  # the one rule: the signed-in worker's own name in full, colleagues masked
    return {
        str(r.worker_id): worker_label(r.name, str(r.worker_id), own=own)
        + (f" · {t('role.leader')}" if r.role == "leader" else "")
        for r in w.itertuples(index=False)
    }


def categories(recs: rec.GridRecords) -> list[str]:
    """Return the categories the form offers: the common ones, then others used in this grid."""
    used = [str(c) for c in recs.issues["category"].dropna().unique().tolist()] if len(recs.issues) else []
    return list(dict.fromkeys([*COMMON_CATEGORIES, *sorted(used)]))


def form_nonce(household_id: str) -> str:
    """Return the idempotency nonce of this household's visit form in this session."""
    key = f"visit_nonce_{household_id}"
    if key not in st.session_state:
        st.session_state[key] = new_form_nonce()
    return str(st.session_state[key])


def submit(
    recs: rec.GridRecords,
    draft: VisitDraft,
    issue: IssueDraft | None,
    nonce: str,
) -> tuple[str, str]:
    """Validate and store a visit from the form; return ``(kind, message)``.

    ``kind`` is ``"saved"``, ``"duplicate"`` or ``"invalid"`` (the message then
    lists every problem, one per line). Nothing is written unless saved.
    """
    if not is_staff():
        return "invalid", t("visit.not_allowed")
    key = form_key(nonce, draft, issue)
    active = recs.workers[recs.workers["active"].astype(int) == 1]["worker_id"]
    try:
        done = submit_visit(
            data.store(),
            draft,
            scope=auth.scope(),
            idem_key=key,
            issue=issue,
            known_households=set(recs.households["household_id"].tolist()),
            known_workers=set(active.tolist()),
        )
    except VisitInvalid as exc:
        return "invalid", "\n".join(f"- {problem_text(p)}" for p in exc.problems)
    except StoreError as exc:
        return "invalid", f"- {exc}"
    if not done.created:
        return "duplicate", t("visit.duplicate", id=done.visit_id)
    if done.issue_id is not None:
        return "saved", t("visit.saved_issue", id=done.visit_id, issue=done.issue_id)
    return "saved", t("visit.saved", id=done.visit_id)


def problem_text(problem: Problem) -> str:
    """Translate one validation problem."""
    try:
        return t(f"visit.err.{problem.code}", **problem.params)
    except (KeyError, IndexError, ValueError):
        return str(problem)
