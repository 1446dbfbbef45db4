"""The street office screens' caching wrappers and display frames (app side).

Everything cached here is keyed on the store's change counters
(``data.store().versions()``), so a visit, an issue or a spot-check result
recorded anywhere shows on the next rerun. The work itself is in
:mod:`geo.office`, :mod:`geo.live_office`, :mod:`geo.assess`, :mod:`geo.export` and
:mod:`geo.store.assessment`; this module fetches, caches, names, masks and
translates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import assess, export, maps, office, privacy
from geo.access import (
    aggregates_in_sight,
    pace_of_own_grids,
    restrict,
    staffing_in_sight,
    workers_in_sight,
)
from geo.areas import grids_in_area
from geo.live_office import LiveOffice
from geo.privacy import mask_frame
from geo.store import OutOfScope, Scope, StoreError
from geo.store import assessment as records
from ui import auth, data
from ui.i18n import lang, t


@st.cache_resource(show_spinner=False)
def calendar() -> office.WorkCalendar:
    """Return the working-day calendar (weekends and public holidays)."""
    return office.WorkCalendar.default()


def rules() -> office.CheckRules:
    """Return the weekly check's thresholds (the visiting window from the settings)."""
    return office.CheckRules.from_settings(data.settings())


def _deductions() -> tuple[assess.Deductions, ValueError | None]:
    raw = data.settings().extra.get("SIBAI_DEDUCTIONS", "")
    try:
        return assess.Deductions.parse(raw), None
    except ValueError as exc:
        return assess.Deductions(), exc


def deductions() -> tuple[assess.Deductions, str | None]:
    """Return the ledger's deductions (``SIBAI_DEDUCTIONS``) and a message if that setting is bad."""
    rules_, bad = _deductions()
    return rules_, None if bad is None else t("office.bad_deductions", msg=str(bad))


def _versions() -> tuple[int, int]:
    return data.store().versions()


def area_grids(street_id: str | None, committee_id: str | None) -> list[str] | None:
    """Return the grid ids of the sidebar's area within the role's scope (None: the whole district)."""
    visible = auth.visible_grids()
    if not (street_id or committee_id):
        return None if visible is None else sorted(visible)
    layers = data.layers()
    ids = grids_in_area(layers.grids, layers.committees, street_id=street_id, committee_id=committee_id)
    return restrict(ids, visible).tolist()


# ------------------------------------------------------------------ frames


@st.cache_resource(show_spinner=False, max_entries=32)
def live_office(scope: Scope) -> LiveOffice:
    """Return this server process's office frames of ``scope``, kept in step with the change counters.

    One per scope (the scope is the cache key), so one role's rows never reach another's session.
    """
    return LiveOffice(data.store(), scope=scope)


def frames(as_of: dt.date, scope: Scope | None = None) -> office.OfficeFrames:
    """Return the frames of ``scope`` (default: the session's), visits from 1 January on.

    From the week before ``as_of`` when that is earlier.
    """
    sc = auth.scope() if scope is None else scope
    return live_office(sc).current(min(dt.date(as_of.year, 1, 1), as_of - dt.timedelta(days=6)))


# ------------------------------------------------------------ blind spots


@dataclass(frozen=True)
class Uncovered:
    """Blind spots and lagging grids of an area and period."""

    spots: gpd.GeoDataFrame
    lagging: pd.DataFrame
    metrics: pd.DataFrame


@st.cache_resource(show_spinner=False, max_entries=8)
def _uncovered(
    versions: tuple[int, int], start: dt.date, end: dt.date, below: float, grids: tuple[str, ...] | None
) -> Uncovered:
    del versions
    layers = data.layers()
    metrics = data.coverage_index().coverage(start, end, level="grid")
    g = layers.grids if grids is None else layers.grids[layers.grids["grid_id"].isin(grids)]
    m = metrics if grids is None else metrics[metrics.index.isin(grids)]
    spots = office.blind_spots(g, m, below=below)
    lag = office.lagging_grids(m, g, below=below)
    return Uncovered(spots, lag, metrics)


def uncovered(
    start: dt.date, end: dt.date, below: float, street_id: str | None, committee_id: str | None
) -> Uncovered:
    """Return the blind spots and lagging grids of the sidebar's area and period."""
    grids = area_grids(street_id, committee_id)
    return _uncovered(_versions(), start, end, round(below, 2), tuple(grids) if grids is not None else None)


@st.cache_resource(show_spinner=False, max_entries=2)
def _payload(reset_version: int) -> dict[str, object]:
    layers = data.layers()
    return maps.geometry_payload(layers.grids, streets=layers.streets, committees=layers.committees)


@st.cache_data(show_spinner=False, max_entries=8)
def _map_html(
    versions: tuple[int, int],
    start: dt.date,
    end: dt.date,
    below: float,
    grids: tuple[str, ...] | None,
    language: str,
    visible: frozenset[str] | None = None,
) -> str:
    u = _uncovered(versions, start, end, below, grids)
    metrics = restrict(u.metrics, visible)
    layers = data.layers()
    bounds = None
    if grids is not None:
        sel = layers.grids[layers.grids["grid_id"].isin(grids)]
        if len(sel):
            bounds = tuple(float(b) for b in sel.total_bounds)
    m = maps.blind_spot_map(
        layers.grids,
        metrics,  # grids outside the role's scope are drawn without figures
        u.spots,
        lang=language,
        payload=_payload(versions[1]),
        bounds=bounds,
        below=below,
    )
    return str(m.get_root().render())


def blind_spot_map_html(
    start: dt.date, end: dt.date, below: float, street_id: str | None, committee_id: str | None
) -> str:
    """Return the self-contained HTML of the blind-spot map (Leaflet inlined, no other host)."""
    grids = area_grids(street_id, committee_id)
    return _map_html(
        _versions(),
        start,
        end,
        round(below, 2),
        tuple(grids) if grids is not None else None,
        lang(),
        auth.visible_grids(),
    )


# -------------------------------------------------------------------- pace


def pace_rows(level: str, street_id: str | None, committee_id: str | None) -> pd.DataFrame:
    """Return pace per area at ``level`` inside the sidebar's area, behind first, with names."""
    today = data.today()
    cfg = data.settings()
    p = office.pace_from_index(
        data.coverage_index(), as_of=today, level=level, goal=cfg.coverage_goal, calendar=calendar()
    )
    layers = data.layers()
    p = p[p["households"] > 0]
    if level == "grid":
        keep = area_grids(street_id, committee_id)
        g = layers.grids.set_index("grid_id")
        names = pd.DataFrame(
            {"grid_name": g["name"], "committee_name": g["committee_name"], "street_name": g["street_name"]}
        )
    elif level == "committee":
        c = layers.committees
        if committee_id:
            keep = [committee_id]
        elif street_id:
            keep = c.loc[c["street_id"] == street_id, "committee_id"].tolist()
        else:
            keep = None
        ci = c.set_index("committee_id")
        names = pd.DataFrame({"committee_name": ci["name"], "street_name": ci["street_name"]})
    else:
        keep = [street_id] if street_id else None
        names = pd.DataFrame({"street_name": layers.streets.set_index("street_id")["name"]})
    if keep is not None:
        p = p[p.index.isin(keep)]
    p = aggregates_in_sight(p, auth.sight(), level)  # only of areas wholly inside the role's scope
    out = names.reindex(p.index).join(p)
    out.index.name = f"{level}_id"
    out = out.reset_index().sort_values(["behind", "gap"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


def burn_up(street_id: str | None, committee_id: str | None) -> pd.DataFrame:
    """Return the burn-up series of the sidebar's area for this year."""
    return burn_up_of(area_grids(street_id, committee_id), as_of=data.today())


def burn_up_of(grids: list[str] | None, *, as_of: dt.date) -> pd.DataFrame:
    """Return the burn-up series of ``grids`` (None: the district) for the year of ``as_of``."""
    return office.burn_up(
        data.coverage_index(),
        as_of=as_of,
        grid_ids=grids,
        goal=data.settings().coverage_goal,
        calendar=calendar(),
    )


# ------------------------------------------------------------ weekly check


@st.cache_data(show_spinner=False, max_entries=8)
def _weekly(
    versions: tuple[int, int], scope: Scope, week_ending: dt.date, grids: tuple[str, ...] | None
) -> office.WeeklyCheck:
    del versions
    f = frames(week_ending, scope)
    return office.weekly_check(f, week_ending=week_ending, grid_ids=grids, rules=rules(), calendar=calendar())


def weekly(week_ending: dt.date, street_id: str | None, committee_id: str | None) -> office.WeeklyCheck:
    """Return the weekly check of the sidebar's area for the week ending ``week_ending``."""
    grids = area_grids(street_id, committee_id)
    check = _weekly(_versions(), auth.scope(), week_ending, tuple(grids) if grids is not None else None)
    own = own_workers()  # workers' names by the one rule: the signed-in worker's own in full
    return dataclasses.replace(
        check,
        workers=privacy.mask_worker_names(check.workers, own=own),
        anomalies=privacy.mask_worker_names(check.anomalies, own=own),
        spot_checks=privacy.mask_worker_names(check.spot_checks, own=own),
    )


def spot_check_rows(check: office.WeeklyCheck) -> pd.DataFrame:
    """Return the spot-check list with address and masked contact, and any result already recorded."""
    s = check.spot_checks
    scope = auth.scope()
    contacts = mask_frame(records.read_household_contacts(data.store(), s["household_id"], scope=scope))
    out = s.merge(contacts, on="household_id", how="left")
    done = records.read_spot_checks(data.store(), scope=scope)
    if len(done):
        last = done.sort_values("check_id").drop_duplicates("visit_id", keep="last")
        result = pd.Series(
            last["result"].to_numpy(dtype=object), index=last["visit_id"].astype("int64").to_numpy()
        )
        out["result"] = out["visit_id"].map(result).to_numpy(dtype=object)
    else:
        out["result"] = None
    cols = [
        "visit_id",
        "visited_at",
        "worker_name",
        "grid_name",
        "building_name",
        "unit",
        "head_name",
        "phone",
        "channel",
        "result",
        "household_id",
        "worker_id",
        "grid_id",
    ]
    return out[cols]


def anomaly_rows(check: office.WeeklyCheck) -> pd.DataFrame:
    """Return the anomaly flags with any decision already recorded."""
    a = check.anomalies.copy()
    done = records.read_anomaly_reviews(data.store(), scope=auth.scope())
    a["decision"] = None
    if len(done):
        last = done.sort_values("review_id").drop_duplicates(["kind", "visit_id", "grid_id"], keep="last")
        key = last["kind"].astype(str) + "|" + last["visit_id"].astype(str)
        decision = pd.Series(last["decision"].to_numpy(dtype=object), index=key.to_numpy())
        a["decision"] = (
            (a["kind"].astype(str) + "|" + a["visit_id"].astype(str)).map(decision).to_numpy(dtype=object)
        )
    return a


_MESSAGES = "office_messages"


def take_messages() -> list[tuple[str, str]]:
    """Return (and forget) the messages left by the form callbacks: ``(kind, text)``."""
    return list(st.session_state.pop(_MESSAGES, []))


def _say(kind: str, text: str) -> None:
    st.session_state.setdefault(_MESSAGES, []).append((kind, text))


_DENIED = "office_denied"


def _deny(exc: OutOfScope) -> None:
    # A form callback cannot stop the page: keep the refused record for the page to answer "no access".
    st.session_state[_DENIED] = (exc.kind, str(exc.record_id))


def take_denied() -> tuple[str, str] | None:
    """Return (and forget) ``(kind, id)`` of a write the store refused as outside the scope, if any."""
    denied = st.session_state.pop(_DENIED, None)
    return None if denied is None else (str(denied[0]), str(denied[1]))


def spot_label(spots: pd.DataFrame, visit_id: int) -> str:
    """Return a picker label for a spot-check visit: id, time, worker, address."""
    row = spots.loc[spots["visit_id"] == visit_id].iloc[0]
    when = pd.Timestamp(row["visited_at"]).strftime("%m-%d %H:%M")
    return f"#{visit_id} · {when} · {row['worker_name']} · {row['building_name']} {row['unit']}"


_REVEALED = "office_revealed"


def reveal_contact(visit_id: int) -> None:
    """Button callback: log that the session unmasked a spot-check household's contact, then show it."""
    store = data.store()
    hh = store.read_table(
        "visits", scope=auth.scope(), columns=["household_id"], where=records.visit_is(visit_id)
    )
    if hh.empty:
        _say("error", t("office.no_visit", id=visit_id))
        return
    household = str(hh["household_id"].iloc[0])
    auth.audit("unmask", f"household:{household}", f"spot check of visit {visit_id}")
    st.session_state[_REVEALED] = visit_id


def revealed_contact(visit_id: int) -> str | None:
    """Return the full head name and phone of a spot-check visit's household if unmasked on purpose."""
    if st.session_state.get(_REVEALED) != visit_id:
        return None
    store = data.store()
    scope = auth.scope()
    hh = store.read_table("visits", scope=scope, columns=["household_id"], where=records.visit_is(visit_id))
    contact = records.read_household_contacts(store, hh["household_id"], scope=scope)
    if contact.empty:
        return None
    row = contact.iloc[0]
    return t("office.contact", name=row["head_name"] or "", phone=row["phone"] or "")


def may_record_checks() -> bool:
    """Return True when the signed-in role records weekly-check results (street office, district)."""
    return records.supervises(auth.scope())


def save_spot_check() -> None:
    """Form callback: record the spot-check result chosen in the form (before the page redraws)."""
    s = st.session_state
    try:
        cid = record_spot_check(
            int(s["office_spot_visit"]), str(s["office_spot_result"]), s.get("office_spot_note") or ""
        )
        _say("success", t("office.saved", id=cid))
    except OutOfScope as exc:
        _deny(exc)
    except records.NotSupervisor:
        _say("error", t("office.supervisors_only"))
    except (ValueError, StoreError) as exc:
        _say("error", str(exc))


def save_review(anomalies: pd.DataFrame, week_ending: dt.date) -> None:
    """Form callback: record the decision on the anomaly chosen in the form."""
    s = st.session_state
    try:
        row = anomalies.iloc[int(s["office_review_pick"])]
        rid = record_review(
            row, str(s["office_review_decision"]), week_ending, s.get("office_review_note") or ""
        )
        _say("success", t("office.saved", id=rid))
    except OutOfScope as exc:
        _deny(exc)
    except records.NotSupervisor:
        _say("error", t("office.supervisors_only"))
    except (ValueError, StoreError, IndexError) as exc:
        _say("error", str(exc))


def record_spot_check(visit_id: int, result: str, note: str) -> int:
    """Record a spot-check result (a write: every cache keyed on the versions refreshes)."""
    return records.record_spot_check(
        data.store(),
        visit_id=visit_id,
        result=result,
        note=note,
        checked_by=auth.user(),
        scope=auth.scope(),
    )


def record_review(row: pd.Series, decision: str, week_ending: dt.date, note: str) -> int:
    """Record a supervisor's decision on one anomaly row."""
    visit = None if pd.isna(row["visit_id"]) else int(row["visit_id"])
    when = week_ending if pd.isna(row["visited_at"]) else pd.Timestamp(row["visited_at"]).date()
    return records.record_anomaly_review(
        data.store(),
        kind=str(row["kind"]),
        decision=decision,
        occurred_on=when,
        visit_id=visit,
        grid_id=None if visit is not None else str(row["grid_id"]),
        reviewed_by=auth.user(),
        note=note,
        scope=auth.scope(),
    )


# --------------------------------------------------------------- not met


def not_met_by_grid(months: int, street_id: str | None, committee_id: str | None) -> pd.DataFrame:
    """Return per-grid counts of households not met for ``months`` months, with names."""
    counts = office.not_met_by_grid(data.coverage_index(), as_of=data.today(), months=months)
    keep = area_grids(street_id, committee_id)
    if keep is not None:
        counts = counts[counts.index.isin(keep)]
    g = data.layers().grids.set_index("grid_id")
    out = (
        pd.DataFrame(
            {"grid_name": g["name"], "committee_name": g["committee_name"], "street_name": g["street_name"]}
        )
        .reindex(counts.index)
        .join(counts)
    )
    return out.reset_index()


@st.cache_data(show_spinner=False, max_entries=4)
def _not_met_list(
    versions: tuple[int, int], scope: Scope, as_of: dt.date, months: int, grids: tuple[str, ...]
) -> pd.DataFrame:
    del versions
    # The index's ids are the whole district's; the scoped frames keep only the session's households.
    ids = set(office.not_met_households(data.coverage_index(), as_of=as_of, months=months).tolist())
    f = frames(as_of, scope)
    hh = f.households[f.households["grid_id"].isin(grids) & f.households["household_id"].isin(ids)]
    last = records.last_met_at(data.store(), hh["household_id"], scope=scope, until=as_of)
    listed = office.households_not_met(hh, last, as_of=as_of, months=months)
    contacts = mask_frame(records.read_household_contacts(data.store(), listed["household_id"], scope=scope))
    g = data.layers().grids.set_index("grid_id")["name"]
    listed["grid_name"] = listed["grid_id"].map(g).to_numpy(dtype=object)
    out = listed.merge(contacts.drop(columns="building_id"), on="household_id", how="left")
    cols = [
        "household_id",
        "grid_name",
        "building_name",
        "unit",
        "head_name",
        "phone",
        "residents",
        "tags",
        "last_met_at",
        "days_since",
        "grid_id",
    ]
    return out[cols]


def not_met_list(months: int, street_id: str | None, committee_id: str | None) -> pd.DataFrame | None:
    """Return the masked list of households not met for ``months`` months (None for the whole district)."""
    grids = area_grids(street_id, committee_id)
    if grids is None:
        return None
    return _not_met_list(_versions(), auth.scope(), data.today(), months, tuple(grids))


# --------------------------------------------------------------- workers


@dataclass(frozen=True)
class Assessment:
    """The ledger of the year and each worker's standing."""

    book: pd.DataFrame
    standings: pd.DataFrame
    rules: assess.Deductions


@st.cache_resource(show_spinner=False, max_entries=8)
def _assessment(
    versions: tuple[int, int], scope: Scope, as_of: dt.date, rules: assess.Deductions
) -> Assessment:
    del versions
    cfg = data.settings()
    f = frames(as_of, scope)
    history = assess.pace_history(
        data.coverage_index(),
        as_of=as_of,
        goal=cfg.coverage_goal,
        slack=rules.pace_slack,
        calendar=calendar(),
        every=rules.pace_every,
    )
    store = data.store()
    book = assess.ledger(
        grid_workers=f.grid_workers,
        as_of=as_of,
        pace_rows=history,
        issues=f.issues,
        spot_checks=records.read_spot_checks(store, scope=scope),
        anomaly_reviews=records.read_anomaly_reviews(store, scope=scope),
        rules=rules,
    )
    layers = data.layers()
    stand = assess.standings(book, f.workers, rules=rules, committees=layers.committees)
    return Assessment(book, stand, rules)


def assessment() -> Assessment:
    """Return this year's ledger and standings."""
    rules_, _ = _deductions()
    return _assessment(_versions(), auth.scope(), data.today(), rules_)


@st.cache_data(show_spinner=False, max_entries=32)
def _grid_workers(scope: Scope, data_version: int, db: str) -> pd.DataFrame:
    return data.store().read_table("grid_workers", columns=["grid_id", "worker_id", "role"], scope=scope)


def own_workers() -> frozenset[str]:
    """Return the worker ids the signed-in account is (its grids' leaders for a grid account).

    Reads only the grid's duty rota, not the office frames: those take in the
    day's writes (issues re-read), which the grid page and the walk must not
    wait for after every recorded visit (docs/benchmarks.md, "Many users").
    """
    user = auth.current()
    if user is None:
        return frozenset()
    gw = _grid_workers(auth.scope(), _versions()[0], data.settings().db)
    return privacy.own_worker_ids(user.role, user.areas, gw)


def standings_in_area(a: Assessment, street_id: str | None, committee_id: str | None) -> pd.DataFrame:
    """Return the standings of workers whose committee is in the sidebar's area."""
    s = a.standings
    visible = auth.visible_grids()
    if visible is not None:  # the frames are read only for a role that does not see every grid
        s = workers_in_sight(s, frames(data.today()).grid_workers, visible)
    s = privacy.mask_worker_names(s, own=own_workers())  # the one rule for workers' names
    if committee_id:
        return s[s["committee_id"] == committee_id].reset_index(drop=True)
    if street_id:
        c = data.layers().committees
        return s[s["committee_id"].isin(c.loc[c["street_id"] == street_id, "committee_id"])].reset_index(
            drop=True
        )
    return s


#: The levels the workers screen shows staffing at (``staffing``'s ``level``).
STAFFING_LEVELS = ("district", "street", "committee")


@st.cache_data(show_spinner=False, max_entries=32)
def _staffing(versions: tuple[int, int], scope: Scope, as_of: dt.date, level: str) -> pd.DataFrame:
    del versions
    f = frames(as_of, scope)
    layers = data.layers()
    return assess.staffing(
        f.workers,
        f.households,
        f.grids,
        pd.DataFrame(layers.committees.drop(columns="geometry")),
        level=level,
        per_10k=data.settings().workers_per_10k,
        streets=pd.DataFrame(layers.streets.drop(columns="geometry")),
    )


def staffing(level: str, street_id: str | None) -> pd.DataFrame:
    """Return the staffing ratio per committee (in the sidebar's street) or per street."""
    out = _staffing(_versions(), auth.scope(), data.today(), level)
    layers = data.layers()
    if level == "committee" and street_id:
        keep = layers.committees.loc[layers.committees["street_id"] == street_id, "committee_id"]
        out = out[out["committee_id"].isin(keep)].reset_index(drop=True)
    return staffing_in_sight(out, auth.sight(), level)


# --------------------------------------------------------------- display


def shown(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Return ``frame`` (only ``columns``) with translated values and headers, for st.dataframe."""
    f = frame[columns] if columns else frame
    return export.localise(f, lang=lang())


#: How every share is shown on screen: one decimal and a percent sign (35.1%), as :func:`ui.i18n.fmt_pct`.
PERCENT_FORMAT = "%.1f%%"
#: Text longer than this many characters gets a column of LONG_TEXT_PX pixels (its full text on
#: hover), so a list of names cannot push the columns after it out of sight.
LONG_TEXT = 12
LONG_TEXT_PX = 160


def table(
    frame: pd.DataFrame,
    columns: list[str] | None = None,
    *,
    key: str,
    height: int | None = None,
    drop_empty: bool = False,
    short: dict[str, str] | None = None,
) -> None:
    """Draw ``frame`` translated, shares as percentages, times to the minute (user text stays text).

    ``drop_empty`` leaves out columns with no value at all (e.g. details of anomaly kinds not present).
    Shares are shown in one format everywhere (:data:`PERCENT_FORMAT`); long text is kept to a
    narrower column so that every column stays in sight at 1280 px. ``short`` maps a column to
    the catalogue key of a shorter header; the full header becomes its tooltip.
    """
    f = frame[columns] if columns else frame
    if not len(f):
        # Streamlit draws a table without rows with its own English word "empty".
        st.caption(t("table.empty"))
        return
    if drop_empty and len(f):
        f = f.loc[:, f.notna().any().to_numpy()]
    out = export.localise(f, lang=lang())
    config: dict[str, Any] = {}
    for col, label in zip(f.columns, out.columns, strict=True):
        s = f[col]
        if col in export.PERCENT_COLUMNS:
            # Streamlit's own "percent" format drops trailing zeros (35.12%, 25.2%): show
            # hundredths of the share with one printf format instead.
            out[label] = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float) * 100
            config[label] = st.column_config.NumberColumn(format=PERCENT_FORMAT)
        elif pd.api.types.is_float_dtype(s):
            digits = {"area_km2": 3, "metres": 0}.get(col, 1)
            config[label] = st.column_config.NumberColumn(format=f"%.{digits}f")
        elif pd.api.types.is_datetime64_any_dtype(s):
            whole_days = bool((s.dropna() == s.dropna().dt.normalize()).all())
            config[label] = st.column_config.DatetimeColumn(
                format="YYYY-MM-DD" if whole_days else "YYYY-MM-DD HH:mm"
            )
        elif pd.api.types.is_string_dtype(s) and (
            s.map(lambda v: len(v) if isinstance(v, str) else 0).max() > LONG_TEXT
        ):  # object or pandas 3's str dtype: is_string_dtype looks at an object column's values
            config[label] = st.column_config.TextColumn(width=LONG_TEXT_PX)
        if not (
            pd.api.types.is_numeric_dtype(out[label]) or pd.api.types.is_datetime64_any_dtype(out[label])
        ):
            # Streamlit draws a missing text as its own English word "None" (a spot check not yet
            # recorded): an empty cell says "nothing yet" in either language.
            out[label] = out[label].where(out[label].notna(), "")
        if short and col in short:
            # The short header on screen, the full one as its tooltip; the format above is kept.
            config[label] = {
                **config.get(label, st.column_config.Column()),
                "label": t(short[col]),
                "help": label,
            }
    st.dataframe(out, hide_index=True, key=key, column_config=config, height=height if height else "auto")


def area_pace(street_id: str | None, committee_id: str | None) -> pd.Series:
    """Return the pace of the sidebar's area itself (district, street or committee) as one row.

    With no area chosen, a role that does not see the whole district gets the
    pace of its own grids together.
    """
    visible = auth.visible_grids()
    if pace_of_own_grids(auth.sight(), street_id=street_id, committee_id=committee_id):
        as_of, cfg = data.today(), data.settings()
        jan1 = dt.date(as_of.year, 1, 1)
        cut = as_of - dt.timedelta(days=28)

        def mine(end: dt.date) -> pd.DataFrame:
            g = data.coverage_index().coverage(jan1, end, level="grid")
            g = restrict(g, visible)[["households", "visited"]].sum()
            return pd.DataFrame([g], index=["mine"])

        p = office.pace(
            mine(as_of),
            mine(cut) if cut >= jan1 else None,
            as_of=as_of,
            goal=cfg.coverage_goal,
            calendar=calendar(),
        )
        return p.loc["mine"]
    level, area = (
        ("committee", committee_id)
        if committee_id
        else ("street", street_id)
        if street_id
        else ("district", "district")
    )
    p = office.pace_from_index(
        data.coverage_index(),
        as_of=data.today(),
        level=level,
        goal=data.settings().coverage_goal,
        calendar=calendar(),
    )
    return p.loc[area]


def value_label(column: str, code: str) -> str:
    """Return a coded value (an anomaly kind, a check result ...) in the UI language."""
    pair = export.VALUE_LABELS.get(column, {}).get(code)
    return code if pair is None else pair[1 if lang() == "en" else 0]


def anomaly_label(row: pd.Series) -> str:
    """Return a one-line description of an anomaly row for a picker."""
    parts = [value_label("kind", str(row["kind"]))]
    if pd.notna(row["visit_id"]):
        parts.append(f"#{int(row['visit_id'])}")
    for col in ("worker_name", "grid_name"):
        if isinstance(row[col], str):
            parts.append(row[col])
    return " · ".join(parts)


# ---------------------------------------------------------------- warm-up


def warm_district() -> dict[str, float]:
    """Build what the whole district's office screens read first; return the seconds per step.

    For ``sibai serve``'s warm-up (no session needed): the office frames, this
    week's check, the ledger and the staffing tables of the district scope,
    which every district account shares, and Altair's chart schema. Each is
    the very cache entry the screens look up (盲区与周查 and 社工考核 opened
    cold took seconds for each).
    """
    everything, today = Scope.everything(), data.today()
    steps: dict[str, Callable[[], object]] = {
        "office frames": lambda: frames(today, everything),
        "weekly check": lambda: _weekly(_versions(), everything, today, None),
        "ledger": lambda: _assessment(_versions(), everything, today, _deductions()[0]),
        "staffing": lambda: [_staffing(_versions(), everything, today, lv) for lv in STAFFING_LEVELS],
        "charts": lambda: office.burn_up_chart(burn_up_of(None, as_of=today)).to_dict(),
    }
    seconds: dict[str, float] = {}
    for name, step in steps.items():
        started = time.perf_counter()
        step()
        seconds[name] = time.perf_counter() - started
    return seconds
