"""Worker assessment: a driving-licence points ledger (驾照式扣分) and staffing ratios.

Every worker starts the year with 12 points (:attr:`Deductions.points`) and
loses points, each on a dated ledger line, for:

- ``behind_pace``: a grid the worker leads (网格长, the named person of the
  block) is behind the yearly pace at a quarter's end (or every month's,
  ``pace_every``) — coverage below
  ``expected × (1 - pace_slack)`` (see :func:`geo.office.pace.pace`);
- ``overdue_issue``: an issue at a level the grid's workers answer for
  (building or grid: 小事不出楼，大事不出网格), in a grid the worker leads,
  passed its time limit without being closed — dated on its due day;
- ``failed_spot_check``: a phone check found a visit of theirs did not happen
  as recorded (dated on the visit; the latest check of a visit counts);
- ``confirmed_anomaly``: a supervisor confirmed an anomaly flag on their
  visit (dated on the flagged day; the latest review of a flag counts).

How many points each costs is configurable (:class:`Deductions`); the
balance never goes below 0. The ledger is computed from the data each time,
so it is always consistent with the visits, issues and reviews on record.

Staffing (:func:`staffing`) compares active workers with the goal of 20 per
10,000 residents (``Settings.workers_per_10k``).

Examples
--------
>>> led = pd.DataFrame({"grid_id": ["G1"], "worker_id": ["W1"], "role": ["leader"]})
>>> issues = pd.DataFrame({"issue_id": [7], "grid_id": ["G1"], "level": ["grid"],
...                        "due_at": pd.to_datetime(["2026-03-02 10:00"]), "closed_at": [pd.NaT]})
>>> book = ledger(grid_workers=led, issues=issues, as_of=dt.date(2026, 3, 31))
>>> book[["worker_id", "date", "reason", "ref", "points", "balance"]].values.tolist()
[['W1', Timestamp('2026-03-02 00:00:00'), 'overdue_issue', '7', -1, 11]]
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo import words
from geo.office.calendar import WorkCalendar
from geo.office.frames import WORKER_LEVELS
from geo.office.pace import pace

if TYPE_CHECKING:
    import altair as alt

    from geo.coverage import CoverageIndex

__all__ = [
    "REASONS",
    "Deductions",
    "checkpoints",
    "ledger",
    "ledger_chart",
    "pace_history",
    "staffing",
    "standings",
]

REASONS = ("behind_pace", "overdue_issue", "failed_spot_check", "confirmed_anomaly")
"""Reasons for a deduction, in the order a day's lines are listed."""

LEDGER_COLUMNS = ("worker_id", "date", "reason", "ref", "points", "balance")


@dataclass(frozen=True)
class Deductions:
    """Points a year and what each failure costs.

    Examples
    --------
    >>> Deductions.parse("behind_pace=2, points=10").behind_pace
    2
    >>> Deductions.parse("speeding=3")
    Traceback (most recent call last):
    ...
    ValueError: unknown deduction 'speeding'; use points, behind_pace, ...
    """

    points: int = 12
    """Points each worker starts the year with."""
    behind_pace: int = 2
    """Per grid led that is behind pace at a checkpoint (see ``pace_every``)."""
    overdue_issue: int = 1
    """Per issue at the workers' levels in a grid led that went overdue."""
    failed_spot_check: int = 2
    """Per failed phone check of one of the worker's visits."""
    confirmed_anomaly: int = 1
    """Per anomaly flag on the worker's visits confirmed by a supervisor."""
    pace_slack: float = 0.25
    """A grid is behind pace for the ledger when below ``expected × (1 - pace_slack)``."""
    pace_every: str = "quarter"
    """Pace checkpoints: the end of every ``quarter`` or ``month``."""
    warn_at: int = 6
    """Standing ``warning`` at or below this many points (``exhausted`` at 0)."""

    @classmethod
    def parse(cls, text: str) -> Deductions:
        """Read ``name=value`` pairs separated by commas over the defaults."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for item in text.split(","):
            if not item.strip():
                continue
            key, sep, raw = item.partition("=")
            key = key.strip()
            if key not in known:
                raise ValueError(f"unknown deduction {key!r}; use {', '.join(known)}")
            if not sep:
                raise ValueError(f"expected name=value, got {item.strip()!r}")
            try:
                if key == "pace_every":
                    values[key] = raw.strip()
                else:
                    values[key] = float(raw) if key == "pace_slack" else int(raw)
            except ValueError:
                raise ValueError(f"{key}={raw.strip()!r} is not a number") from None
        out = replace(cls(), **values)
        out.check()
        return out

    def check(self) -> None:
        """Raise ``ValueError`` for a negative cost or a slack outside [0, 1)."""
        for name in ("points", "behind_pace", "overdue_issue", "failed_spot_check", "confirmed_anomaly"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if not 0.0 <= self.pace_slack < 1.0:
            raise ValueError(f"pace_slack must be in [0, 1), got {self.pace_slack}")
        if self.pace_every not in ("month", "quarter"):
            raise ValueError(f"pace_every must be 'month' or 'quarter', got {self.pace_every!r}")


def checkpoints(year: int, as_of: dt.date, *, every: str = "quarter") -> list[dt.date]:
    """Return the month or quarter ends of ``year`` up to ``as_of``.

    >>> checkpoints(2026, dt.date(2026, 7, 15))
    [datetime.date(2026, 3, 31), datetime.date(2026, 6, 30)]
    >>> len(checkpoints(2026, dt.date(2026, 7, 15), every="month"))
    6
    """
    if every not in ("month", "quarter"):
        raise ValueError(f"every must be 'month' or 'quarter', got {every!r}")
    out = []
    for month in range(3 if every == "quarter" else 1, 13, 3 if every == "quarter" else 1):
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        end = nxt - dt.timedelta(days=1)
        if end <= as_of:
            out.append(end)
    return out


def pace_history(
    index: CoverageIndex,
    *,
    as_of: dt.date,
    goal: float = 1.0,
    slack: float = 0.25,
    calendar: WorkCalendar | None = None,
    every: str = "quarter",
) -> pd.DataFrame:
    """Return each grid's pace at every quarter's (or month's) end of the year up to ``as_of``.

    Rows ``grid_id, date, coverage, expected, behind`` (grids with occupied
    households only), from :func:`geo.office.pace.pace` with ``slack``.
    """
    parts = []
    jan1 = dt.date(as_of.year, 1, 1)
    for end in checkpoints(as_of.year, as_of, every=every):
        p = pace(
            index.coverage(jan1, end, level="grid"),
            None,
            as_of=end,
            goal=goal,
            calendar=calendar,
            slack=slack,
        )
        p = p[p["households"] > 0]
        parts.append(
            pd.DataFrame(
                {
                    "grid_id": p.index.to_numpy(dtype=object),
                    "date": pd.Timestamp(end),
                    "coverage": p["coverage"].to_numpy(),
                    "expected": p["expected"].to_numpy(),
                    "behind": p["behind"].to_numpy(),
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            {
                "grid_id": pd.Series(dtype=object),
                "date": pd.Series(dtype="datetime64[s]"),
                "coverage": pd.Series(dtype=float),
                "expected": pd.Series(dtype=float),
                "behind": pd.Series(dtype=bool),
            }
        )
    out = pd.concat(parts, ignore_index=True)
    out["date"] = out["date"].astype("datetime64[s]")
    return out


def _events(worker: Iterable[Any], date: Any, reason: str, ref: Iterable[Any], points: int) -> pd.DataFrame:
    w = np.asarray(list(worker), dtype=object)
    return pd.DataFrame(
        {
            "worker_id": w,
            "date": pd.to_datetime(pd.Series(np.asarray(date)).reset_index(drop=True))
            .dt.normalize()
            .astype("datetime64[s]")
            .to_numpy(),
            "reason": reason,
            "ref": [str(r) for r in ref],
            "points": -int(points),
        }
    )


def _failed_spot_checks(
    spot_checks: pd.DataFrame, jan1: pd.Timestamp, end: pd.Timestamp, points: int
) -> pd.DataFrame:
    """Return a deduction for each visit whose latest spot check failed, dated on the visit, in the period."""
    # The latest check of a visit counts, dated on the visit: that is when the record was wrong.
    s = spot_checks.sort_values("check_id", kind="stable").drop_duplicates("visit_id", keep="last")
    s = s[s["result"] == "failed"]
    at = pd.to_datetime(s["visited_at"])
    s = s[(at >= jan1) & (at < end)]
    return _events(s["worker_id"], s["visited_at"], "failed_spot_check", s["visit_id"], points)


def _confirmed_anomalies(
    reviews: pd.DataFrame, jan1: pd.Timestamp, end: pd.Timestamp, points: int
) -> pd.DataFrame:
    """Return a deduction for each anomaly whose latest review confirmed it, in the period."""
    r = reviews.copy()
    r["_key"] = (
        r["kind"].astype(str)
        + "|"
        + r["visit_id"].astype(str)
        + "|"
        + r["grid_id"].astype(str)
        + "|"
        + pd.to_datetime(r["occurred_on"]).dt.strftime("%Y-%m-%d")
    )
    r = r.sort_values("review_id", kind="stable").drop_duplicates("_key", keep="last")
    r = r[(r["decision"] == "confirmed") & r["worker_id"].notna()]
    on = pd.to_datetime(r["occurred_on"])
    r = r[(on >= jan1) & (on < end)]
    ref = [
        f"{k}:{v}" if pd.notna(v) else f"{k}:{g}"
        for k, v, g in zip(r["kind"], r["visit_id"], r["grid_id"], strict=True)
    ]
    return _events(r["worker_id"], r["occurred_on"], "confirmed_anomaly", ref, points)


def ledger(
    *,
    grid_workers: pd.DataFrame,
    as_of: dt.date,
    pace_rows: pd.DataFrame | None = None,
    issues: pd.DataFrame | None = None,
    spot_checks: pd.DataFrame | None = None,
    anomaly_reviews: pd.DataFrame | None = None,
    rules: Deductions | None = None,
    levels: Iterable[str] = WORKER_LEVELS,
) -> pd.DataFrame:
    """Return every deduction of the year of ``as_of`` (1 January to ``as_of``), with balances.

    Parameters
    ----------
    grid_workers
        ``grid_id, worker_id, role``: the ``leader`` of a grid answers for its
        pace and its overdue issues.
    pace_rows
        ``grid_id, date, behind`` (:func:`pace_history`).
    issues
        ``issue_id, grid_id, level, due_at, closed_at``.
    spot_checks
        ``check_id, visit_id, worker_id, visited_at, result`` (:mod:`geo.store.assessment`).
    anomaly_reviews
        ``review_id, kind, visit_id, worker_id, grid_id, occurred_on, decision``.

    Returns
    -------
    pandas.DataFrame
        ``worker_id, date, reason, ref, points, balance``: one line per
        deduction (``points`` negative), by worker then date; ``balance`` is the
        worker's points after the line, never below 0. ``ref`` names the grid,
        issue or visit.
    """
    rules = rules or Deductions()
    rules.check()
    jan1 = pd.Timestamp(dt.date(as_of.year, 1, 1))
    end = pd.Timestamp(as_of + dt.timedelta(days=1))
    leaders = grid_workers[grid_workers["role"] == "leader"].drop_duplicates("grid_id")
    leader_of = pd.Series(leaders["worker_id"].to_numpy(dtype=object), index=leaders["grid_id"].to_numpy())
    parts: list[pd.DataFrame] = []

    if pace_rows is not None and len(pace_rows) and rules.behind_pace:
        p = pace_rows[pace_rows["behind"].astype(bool)]
        d = pd.to_datetime(p["date"])
        p = p[(d >= jan1) & (d < end)]
        who = p["grid_id"].map(leader_of)
        p, who = p[who.notna()], who[who.notna()]
        parts.append(_events(who, p["date"], "behind_pace", p["grid_id"], rules.behind_pace))

    if issues is not None and len(issues) and rules.overdue_issue:
        i = issues[issues["level"].isin(list(levels))]
        due = pd.to_datetime(i["due_at"])
        closed = pd.to_datetime(i["closed_at"])
        # Overdue by the end of as_of: due before that moment and not closed by its due time.
        went_overdue = due.notna() & (due >= jan1) & (due < end) & (closed.isna() | (closed > due))
        i, due = i[went_overdue], due[went_overdue]
        who = i["grid_id"].map(leader_of)
        keep = who.notna()
        parts.append(_events(who[keep], due[keep], "overdue_issue", i["issue_id"][keep], rules.overdue_issue))

    if spot_checks is not None and len(spot_checks) and rules.failed_spot_check:
        parts.append(_failed_spot_checks(spot_checks, jan1, end, rules.failed_spot_check))

    if anomaly_reviews is not None and len(anomaly_reviews) and rules.confirmed_anomaly:
        parts.append(_confirmed_anomalies(anomaly_reviews, jan1, end, rules.confirmed_anomaly))

    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(
            {
                "worker_id": pd.Series(dtype=object),
                "date": pd.Series(dtype="datetime64[s]"),
                "reason": pd.Series(dtype=object),
                "ref": pd.Series(dtype=object),
                "points": pd.Series(dtype="int64"),
                "balance": pd.Series(dtype="int64"),
            }
        )
    out = pd.concat(parts, ignore_index=True)
    out["_r"] = out["reason"].map({r: k for k, r in enumerate(REASONS)})
    out = out.sort_values(["worker_id", "date", "_r", "ref"], kind="stable").drop(columns="_r")
    spent = out.groupby("worker_id", sort=False)["points"].cumsum()
    out["balance"] = np.maximum(rules.points + spent.to_numpy(), 0).astype("int64")
    out["points"] = out["points"].astype("int64")
    for col in ("worker_id", "reason", "ref"):
        out[col] = out[col].astype(object)
    return out[list(LEDGER_COLUMNS)].reset_index(drop=True)


def standings(
    book: pd.DataFrame,
    workers: pd.DataFrame,
    *,
    rules: Deductions | None = None,
    committees: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return each worker's points left and what they lost them for, fewest points first.

    ``workers`` gives ``worker_id, name, committee_id`` (inactive workers,
    ``active == 0``, are left out); ``committees`` optionally
    ``committee_id, name`` (and ``street_name``).

    Columns: ``worker_id, worker_name, committee_id, committee_name,
    points_left``, one ``lost_<reason>`` per reason, ``deductions`` (lines)
    and ``standing`` (``ok``, ``warning`` at or below ``rules.warn_at``,
    ``exhausted`` at 0).

    Examples
    --------
    >>> book = pd.DataFrame({"worker_id": ["W1", "W1"], "reason": ["behind_pace", "overdue_issue"],
    ...                      "points": [-1, -1]})
    >>> w = pd.DataFrame({"worker_id": ["W1", "W2"], "name": ["王伟", "李娜"], "committee_id": ["C1", "C1"]})
    >>> standings(book, w)[["worker_id", "points_left", "lost_overdue_issue", "standing"]].values.tolist()
    [['W1', 10, 1, 'ok'], ['W2', 12, 0, 'ok']]
    """
    rules = rules or Deductions()
    w = workers
    if "active" in w:
        w = w[w["active"].astype(int) == 1]
    lost = (
        book.assign(lost=-book["points"]).pivot_table(
            index="worker_id", columns="reason", values="lost", aggfunc="sum", fill_value=0
        )
        if len(book)
        else pd.DataFrame()
    )
    counts = book.groupby("worker_id").size() if len(book) else pd.Series(dtype="int64")
    ids = w["worker_id"].to_numpy(dtype=object)
    out = pd.DataFrame(
        {
            "worker_id": ids,
            "worker_name": w["name"].to_numpy(dtype=object),
            "committee_id": w["committee_id"].to_numpy(dtype=object),
        }
    )
    if committees is not None:
        cname = committees.drop_duplicates("committee_id").set_index("committee_id")["name"]
        out["committee_name"] = out["committee_id"].map(cname).to_numpy(dtype=object)
    total = np.zeros(len(out), dtype=np.int64)
    for reason in REASONS:
        col = (
            lost[reason].reindex(ids).fillna(0).to_numpy(dtype=np.int64)
            if reason in lost
            else np.zeros(len(out), dtype=np.int64)
        )
        out[f"lost_{reason}"] = col
        total += col
    out["points_left"] = np.maximum(rules.points - total, 0)
    out["deductions"] = counts.reindex(ids).fillna(0).to_numpy(dtype=np.int64)
    out["standing"] = np.where(
        out["points_left"] == 0, "exhausted", np.where(out["points_left"] <= rules.warn_at, "warning", "ok")
    ).astype(object)
    cols = ["worker_id", "worker_name", "committee_id"]
    cols += ["committee_name"] if "committee_name" in out else []
    cols += ["points_left", *(f"lost_{r}" for r in REASONS), "deductions", "standing"]
    return out[cols].sort_values(["points_left", "worker_id"], kind="stable").reset_index(drop=True)


def staffing(
    workers: pd.DataFrame,
    households: pd.DataFrame,
    grids: pd.DataFrame,
    committees: pd.DataFrame,
    *,
    level: str = "committee",
    per_10k: float = 20.0,
    streets: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return active workers per 10,000 residents per committee, street or the district.

    Parameters
    ----------
    workers
        ``worker_id, committee_id`` (and ``active``): a worker counts where
        their committee is.
    households
        ``grid_id, occupied, residents``: residents of occupied households count.
    grids
        ``grid_id, committee_id``.
    committees
        ``committee_id, street_id`` (and ``name``).
    level
        ``committee``, ``street`` or ``district``.
    per_10k
        The goal (``Settings.workers_per_10k``).
    streets
        Optional ``street_id, name`` for street names.

    Returns
    -------
    pandas.DataFrame
        ``<level>_id``, ``name`` (and ``street_name`` for committees),
        ``residents, workers, per_10k`` (workers per 10,000 residents; NaN
        without residents), ``target`` (workers needed: residents × goal /
        10,000, rounded up), ``shortfall`` and ``meets``; fewest per 10,000
        first.

    Examples
    --------
    >>> w = pd.DataFrame({"worker_id": ["W1", "W2", "W3"], "committee_id": ["C1", "C1", "C2"]})
    >>> hh = pd.DataFrame({"grid_id": ["G1", "G2"], "occupied": [1, 1], "residents": [1500, 400]})
    >>> g = pd.DataFrame({"grid_id": ["G1", "G2"], "committee_id": ["C1", "C2"]})
    >>> c = pd.DataFrame({"committee_id": ["C1", "C2"], "street_id": ["S1", "S1"]})
    >>> staffing(w, hh, g, c)[["committee_id", "residents", "workers", "per_10k", "target", "shortfall"]]
      committee_id  residents  workers  per_10k  target  shortfall
    0           C1       1500        2    13.33       3          1
    1           C2        400        1    25.00       1          0
    """
    if level not in ("committee", "street", "district"):
        raise ValueError(f"unknown level {level!r}; use committee, street or district")
    w = workers
    if "active" in w:
        w = w[w["active"].astype(int) == 1]
    comm_street = pd.Series(
        committees["street_id"].to_numpy(dtype=object), index=committees["committee_id"].to_numpy()
    )
    grid_comm = pd.Series(grids["committee_id"].to_numpy(dtype=object), index=grids["grid_id"].to_numpy())
    occ = households["occupied"].astype(bool)
    res = households.loc[occ, ["grid_id", "residents"]]
    res_comm = res["grid_id"].map(grid_comm)

    def key(committee: pd.Series) -> pd.Series:
        if level == "committee":
            return committee
        if level == "street":
            return committee.map(comm_street)
        return pd.Series("district", index=committee.index, dtype=object)

    residents = res["residents"].groupby(key(res_comm).to_numpy()).sum()
    staff = w.groupby(key(w["committee_id"]).to_numpy()).size()
    if level == "committee":
        ids = pd.Index(committees["committee_id"].to_numpy(dtype=object))
    elif level == "street":
        ids = pd.Index(sorted(set(committees["street_id"].tolist())), dtype=object)
    else:
        ids = pd.Index(["district"], dtype=object)
    out = pd.DataFrame({f"{level}_id": ids.to_numpy(dtype=object)})
    if level == "committee" and "name" in committees:
        out["name"] = committees["name"].to_numpy(dtype=object)
        if streets is not None:
            sname = streets.set_index("street_id")["name"]
            out["street_name"] = committees["street_id"].map(sname).to_numpy(dtype=object)
    elif level == "street" and streets is not None:
        out["name"] = pd.Series(ids).map(streets.set_index("street_id")["name"]).to_numpy(dtype=object)
    out["residents"] = residents.reindex(ids).fillna(0).to_numpy(dtype=np.int64)
    out["workers"] = staff.reindex(ids).fillna(0).to_numpy(dtype=np.int64)
    r = out["residents"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["per_10k"] = np.round(np.where(r > 0, out["workers"] / np.maximum(r, 1) * 10_000, np.nan), 2)
    out["target"] = [math.ceil(x * per_10k / 10_000 - 1e-9) for x in r.tolist()]
    out["target"] = out["target"].astype("int64")
    out["shortfall"] = np.maximum(out["target"] - out["workers"], 0).astype("int64")
    out["meets"] = out["workers"] >= out["target"]
    return out.sort_values(["per_10k", f"{level}_id"], kind="stable", na_position="last").reset_index(
        drop=True
    )


_LEDGER_TEXT = words.by_lang("assess.ledger.")


def ledger_chart(
    book: pd.DataFrame,
    *,
    worker_id: str,
    as_of: dt.date,
    points: int = 12,
    reason_labels: dict[str, str] | None = None,
    lang: str = "zh",
) -> alt.LayerChart:
    """Return an Altair step chart of one worker's points through the year.

    Examples
    --------
    >>> book = pd.DataFrame({"worker_id": ["W1"], "date": pd.to_datetime(["2026-03-02"]),
    ...                      "reason": ["overdue_issue"], "ref": ["7"], "points": [-1], "balance": [11]})
    >>> spec = ledger_chart(book, worker_id="W1", as_of=dt.date(2026, 3, 31)).to_dict()
    >>> [d["balance"] for d in spec["datasets"][next(iter(spec["datasets"]))]]
    [12, 11, 11]
    """
    import altair as alt

    text = _LEDGER_TEXT["en" if lang == "en" else "zh"]
    mine = book[book["worker_id"] == worker_id]
    jan1 = pd.Timestamp(dt.date(as_of.year, 1, 1))
    steps = pd.DataFrame(
        {
            "date": [jan1, *pd.to_datetime(mine["date"]).tolist(), pd.Timestamp(as_of)],
            "balance": [
                points,
                *mine["balance"].astype(int).tolist(),
                int(mine["balance"].iloc[-1]) if len(mine) else points,
            ],
            "reason": ["", *[(reason_labels or {}).get(r, r) for r in mine["reason"]], ""],
        }
    )
    steps["date"] = steps["date"].dt.strftime("%Y-%m-%d")
    base = alt.Chart(steps, title=text["balance"]).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format=text["month"], labelAngle=0)),
        y=alt.Y("balance:Q", title=None, scale=alt.Scale(domain=[0, points])),
    )
    line = base.mark_line(interpolate="step-after", color="#2166ac")
    dots = (
        base.transform_filter("datum.reason != ''")
        .mark_point(color="#b2182b", filled=True)
        .encode(
            tooltip=[
                alt.Tooltip("date:T", title=text["date"]),
                alt.Tooltip("reason:N", title=text["reason"]),
                alt.Tooltip("balance:Q", title=text["balance"]),
            ]
        )
    )
    return line + dots
