"""Residents' issues (诉求): the lifecycle, the escalation ladder and its time limits, metrics.

Everything here is pure: states, events and frames in, states, events and
frames out. :mod:`geo.issues.workflow` applies these rules inside the store's
transactions (opening, moving, escalating); the store's reads and writes of
issues and their history are :mod:`geo.store.issue_log`, which decides
nothing. ``docs/issues.md`` explains the rules for people.

The lifecycle (发现 → 派遣 → 处置 → 核查 → 结案, and back)
----------------------------------------------------------

==========  ======================================  ================
action      from status                             to status
==========  ======================================  ================
dispatch    open                                    dispatched
handle      dispatched                              handled
verify      handled (never by whoever handled it)   verified
close       verified                                closed
reopen      handled, verified, closed               open
refer       open, dispatched                        same; one level up
==========  ======================================  ================

Two more actions are written by the system, never through a form: ``found``
(the issue was opened) and ``escalate`` (its time limit passed).

The escalation ladder
---------------------
building → grid → committee → street → district (小事不出楼，大事不出网格，难事不出居村).
An issue arriving at a level (found there, referred or escalated to it, or
reopened there) gets that level's time limit (settings ``issue_limits_days``:
3, 7, 15, 30 and 60 days). An issue that is not closed when its limit has
passed — one second after ``due_at``, not at it — moves one level up at the
moment the limit ran out, and gets the next level's full limit. At the top
(district) it stays, *overdue*. Escalation is a function of the history and
the clock alone, so applying it on read, now or later, once or many times,
gives the same result.

An issue with no recorded events (the synthetic district's, and those opened
before the history existed) counts as found at ``opened_at`` at its current
level and status.

Examples
--------
>>> limits = {"building": 3, "grid": 7, "committee": 15, "street": 30, "district": 60}
>>> t0 = dt.datetime(2024, 6, 3, 9, 0)
>>> s = found_state(t0, level="building", limits=limits)
>>> s.status, s.due_at
('open', datetime.datetime(2024, 6, 6, 9, 0))
>>> s, e = apply_action(s, "dispatch", actor="W0001", at=t0 + dt.timedelta(hours=1), limits=limits)
>>> e.from_status, e.to_status
('open', 'dispatched')
>>> later, steps = escalate(s, dt.datetime(2024, 6, 14, 9, 0, 1), limits=limits)
>>> [(x.from_level, x.to_level, str(x.at)) for x in steps]
[('building', 'grid', '2024-06-06 09:00:00'), ('grid', 'committee', '2024-06-13 09:00:00')]
>>> later.level, str(later.due_at)
('committee', '2024-06-28 09:00:00')
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.settings import Settings
from geo.store.schema import EVENT_ACTIONS, LEVELS, SOURCES, STATUSES

__all__ = [
    "ACTIONS",
    "EVENT_ACTIONS",
    "MAX_ACTOR",
    "MAX_CATEGORY",
    "MAX_NOTE",
    "MAX_REF",
    "MAX_TITLE",
    "OPEN_STATUSES",
    "RULES",
    "SYSTEM_ACTOR",
    "Board",
    "Event",
    "IssueFilters",
    "IssueInvalid",
    "IssueState",
    "NewIssue",
    "TransitionRefused",
    "allowed_actions",
    "apply_action",
    "check_action",
    "check_actor",
    "check_new_issues",
    "display_history",
    "display_rows",
    "effective_issues",
    "escalate",
    "escalate_frame",
    "escalation_steps_frame",
    "filter_issues",
    "found_state",
    "grid_map_metrics",
    "history_frame",
    "issue_board",
    "issue_metrics",
    "limits_days",
    "replay",
    "state_from_row",
]

ACTIONS = ("dispatch", "handle", "verify", "close", "reopen", "refer")
"""What a person can do to an issue (the forms and ``sibai issue move``)."""

SYSTEM_ACTOR = "system"
"""The actor of escalations by the clock; no person may act under this name."""

OPEN_STATUSES = ("open", "dispatched", "handled", "verified")
"""Statuses of an issue that is not closed (its clock runs)."""

MAX_ACTOR = 64
"""Longest actor name or id accepted."""

MAX_NOTE = 500
"""Longest note on a transition, in characters."""

MAX_TITLE = 200
"""Longest issue title, in characters."""

RULES: Mapping[str, tuple[tuple[str, ...], str | None]] = {
    "dispatch": (("open",), "dispatched"),
    "handle": (("dispatched",), "handled"),
    "verify": (("handled",), "verified"),
    "close": (("verified",), "closed"),
    "reopen": (("handled", "verified", "closed"), "open"),
    "refer": (("open", "dispatched"), None),
}
"""For each action: the statuses it may start from, and the status it leads to (``None``: unchanged)."""

_SECOND = np.timedelta64(1, "s")


class TransitionRefused(ValueError):
    """An impossible or forbidden transition: ``str()`` says why in English.

    ``code`` and ``params`` let a user interface say it in its own language
    (the issues page uses the i18n keys ``issues.err.<code>``).
    """

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params

    def about(self, issue_id: int) -> TransitionRefused:
        """Return the same refusal with ``issue #id:`` in front of the message."""
        return TransitionRefused(self.code, f"issue #{issue_id}: {self}", **self.params, issue=issue_id)

    def words(self, labels: Mapping[str, str], *, sep: str = ", ") -> dict[str, str]:
        """Return ``params`` for a translated message: codes put into words through ``labels``.

        ``action`` (and each of ``possible``) is looked up as ``action.<a>``;
        ``status``, ``expected`` (and each of ``needs``) as ``status.<s>``.

        Examples
        --------
        >>> r = TransitionRefused("wrong_status", "...", action="close", status="open",
        ...                       needs=("verified",), possible=("dispatch", "refer"))
        >>> r.words({"action.close": "结案", "status.open": "发现", "status.verified": "已核查",
        ...          "action.dispatch": "派遣", "action.refer": "上报"}, sep="、")
        {'action': '结案', 'status': '发现', 'needs': '已核查', 'possible': '派遣、上报'}
        """
        prefix = {"action": "action", "possible": "action", "status": "status", "expected": "status",
                  "needs": "status"}  # fmt: skip
        out: dict[str, str] = {}
        for key, value in self.params.items():
            if key not in prefix:
                out[key] = str(value)
            elif isinstance(value, tuple):
                out[key] = sep.join(labels.get(f"{prefix[key]}.{v}", str(v)) for v in value)
            else:
                out[key] = labels.get(f"{prefix[key]}.{value}", str(value))
        return out


@dataclass(frozen=True)
class Event:
    """One line of an issue's history: who did what, when, from which state to which."""

    at: dt.datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str
    from_level: str | None
    to_level: str
    note: str = ""


@dataclass(frozen=True)
class IssueState:
    """Where an issue stands: what the state machine and the clock need to know."""

    status: str
    level: str
    due_at: dt.datetime
    """End of the time limit at the current level."""
    last_at: dt.datetime
    """Time of the latest event (or of opening): no transition may be dated before it."""
    closed_at: dt.datetime | None = None
    handled_by: str | None = None
    """Who handled it, since it was last (re)opened; the verifier must be someone else."""

    @property
    def is_open(self) -> bool:
        """Tell whether the issue is not closed."""
        return self.status != "closed"


# ------------------------------------------------------------------ limits


def limits_days(settings: Settings | None = None) -> dict[str, int]:
    """Return the time limit in days of every level, from ``settings`` (default: the environment).

    Examples
    --------
    >>> limits_days(Settings())["committee"]
    15
    """
    cfg = settings or Settings.from_env()
    return _checked_limits(dict(cfg.issue_limits_days))


def _checked_limits(limits: Mapping[str, int]) -> dict[str, int]:
    missing = [lv for lv in LEVELS if lv not in limits]
    if missing:
        raise ValueError(f"issue time limits: no limit for level(s) {', '.join(missing)}")
    bad = [f"{lv}={limits[lv]}" for lv in LEVELS if int(limits[lv]) <= 0]
    if bad:
        raise ValueError(f"issue time limits must be at least 1 day; got {', '.join(bad)}")
    return {lv: int(limits[lv]) for lv in LEVELS}


def _due(at: dt.datetime, level: str, limits: Mapping[str, int]) -> dt.datetime:
    return at + dt.timedelta(days=int(limits[level]))


def _next_level(level: str) -> str | None:
    i = LEVELS.index(level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


# ----------------------------------------------------------- state machine


def found_state(
    at: dt.datetime, *, level: str, limits: Mapping[str, int], status: str = "open"
) -> IssueState:
    """Return the state of an issue found at ``at`` on ``level`` (status ``open`` unless given).

    Examples
    --------
    >>> lim = dict.fromkeys(LEVELS, 2)
    >>> found_state(dt.datetime(2024, 1, 1), level="grid", limits=lim).due_at
    datetime.datetime(2024, 1, 3, 0, 0)
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    return IssueState(status=status, level=level, due_at=_due(at, level, limits), last_at=at)


def check_actor(actor: object) -> str:
    """Return ``actor`` stripped, or refuse a missing, reserved or too long one.

    Examples
    --------
    >>> check_actor("  W0001 ")
    'W0001'
    >>> check_actor("system")
    Traceback (most recent call last):
    ...
    geo.issues.TransitionRefused: 'system' is reserved for escalations by the clock; give a person
    """
    name = str(actor or "").strip()
    if not name:
        raise TransitionRefused("actor_missing", "who is acting? an actor is required")
    if name.lower() == SYSTEM_ACTOR:
        raise TransitionRefused(
            "actor_reserved", f"{SYSTEM_ACTOR!r} is reserved for escalations by the clock; give a person"
        )
    if len(name) > MAX_ACTOR:
        raise TransitionRefused(
            "actor_too_long", f"the actor has {len(name)} characters; at most {MAX_ACTOR}", n=len(name)
        )
    return name


def check_action(action: object) -> str:
    """Return ``action`` if a person may take it, or refuse it.

    Examples
    --------
    >>> check_action("close")
    'close'
    >>> check_action("escalate")
    Traceback (most recent call last):
    ...
    geo.issues.TransitionRefused: 'escalate' is recorded by the system, not done by hand; ...
    """
    if action in RULES:
        return str(action)
    if action in EVENT_ACTIONS:
        raise TransitionRefused(
            "system_action",
            f"{action!r} is recorded by the system, not done by hand; use one of {', '.join(ACTIONS)}",
            action=action,
        )
    raise TransitionRefused(
        "unknown_action",
        f"unknown action {action!r}; use one of {', '.join(ACTIONS)}",
        action=action,
    )


def allowed_actions(state: IssueState, *, actor: str | None = None) -> tuple[str, ...]:
    """Return the actions that ``actor`` (anyone, if ``None``) may take on an issue in ``state``.

    Examples
    --------
    >>> s = IssueState("handled", "grid", dt.datetime(2024, 1, 9), dt.datetime(2024, 1, 2),
    ...                handled_by="W1")
    >>> allowed_actions(s), allowed_actions(s, actor="W1")
    (('verify', 'reopen'), ('reopen',))
    """
    out = []
    for action, (sources, _) in RULES.items():
        if state.status not in sources:
            continue
        if action == "refer" and _next_level(state.level) is None:
            continue
        if action == "verify" and actor is not None and actor == state.handled_by:
            continue
        out.append(action)
    return tuple(out)


def _status_refusal(state: IssueState, action: str) -> TransitionRefused:
    sources, _ = RULES[action]
    nxt = allowed_actions(state)
    return TransitionRefused(
        "wrong_status",
        f"cannot {action} an issue that is {state.status}: {action} needs status "
        f"{' or '.join(sources)}; possible now: {', '.join(nxt) or 'nothing'}",
        action=action,
        status=state.status,
        needs=tuple(sources),
        possible=nxt,
    )


def apply_action(
    state: IssueState,
    action: str,
    *,
    actor: str,
    at: dt.datetime,
    limits: Mapping[str, int],
    note: str = "",
) -> tuple[IssueState, Event]:
    """Return the state after ``action`` and the event that records it, or refuse it.

    The clock is not applied here: escalate the state to ``at`` first
    (:func:`escalate`), as :func:`geo.issues.workflow.transition` does.

    Raises
    ------
    TransitionRefused
        For an unknown action, a missing actor, a time before the last
        event, a status the action cannot start from, a verifier who
        handled the issue, or a referral from the top of the ladder.

    Examples
    --------
    >>> lim = dict.fromkeys(LEVELS, 5)
    >>> s = IssueState("handled", "grid", dt.datetime(2024, 1, 9), dt.datetime(2024, 1, 4),
    ...                handled_by="W1")
    >>> apply_action(s, "verify", actor="W1", at=dt.datetime(2024, 1, 5), limits=lim)
    Traceback (most recent call last):
    ...
    geo.issues.TransitionRefused: W1 handled this issue: someone else must verify it
    >>> s2, e = apply_action(s, "verify", actor="W2", at=dt.datetime(2024, 1, 5), limits=lim)
    >>> s2.status, e.actor
    ('verified', 'W2')
    """
    check_action(action)
    who = check_actor(actor)
    text = str(note or "").strip()
    if len(text) > MAX_NOTE:
        raise TransitionRefused(
            "note_too_long", f"the note has {len(text)} characters; at most {MAX_NOTE}", n=len(text)
        )
    if at < state.last_at:
        raise TransitionRefused(
            "before_last",
            f"{at:%Y-%m-%d %H:%M:%S} is before the issue's last event ({state.last_at:%Y-%m-%d %H:%M:%S})",
            at=f"{at:%Y-%m-%d %H:%M:%S}",
            last=f"{state.last_at:%Y-%m-%d %H:%M:%S}",
        )
    sources, target = RULES[action]
    if state.status not in sources:
        raise _status_refusal(state, action)
    level = state.level
    new = dataclasses.replace(state, last_at=at)
    if action == "verify" and state.handled_by is not None and who == state.handled_by:
        raise TransitionRefused(
            "same_person", f"{who} handled this issue: someone else must verify it", actor=who
        )
    if action == "refer":
        up = _next_level(level)
        if up is None:
            raise TransitionRefused(
                "top_level", "the issue is already at district level, the top of the ladder", level=level
            )
        new = dataclasses.replace(new, level=up, due_at=_due(at, up, limits))
    elif action == "handle":
        new = dataclasses.replace(new, handled_by=who)
    elif action == "close":
        new = dataclasses.replace(new, closed_at=at)
    elif action == "reopen":
        new = dataclasses.replace(new, closed_at=None, handled_by=None, due_at=_due(at, level, limits))
    if target is not None:
        new = dataclasses.replace(new, status=target)
    event = Event(at, who, action, state.status, new.status, level, new.level, text)
    return new, event


def escalate(
    state: IssueState, now: dt.datetime, *, limits: Mapping[str, int]
) -> tuple[IssueState, list[Event]]:
    """Move an issue up the ladder for every time limit that passed before ``now``.

    A limit has passed when ``due_at < now`` (at ``due_at`` itself the issue
    is still on time). Each step is dated when the limit ran out and gives
    the next level its full limit. Closed issues never move; at the district
    level an issue stays, overdue.

    Examples
    --------
    >>> lim = {"building": 3, "grid": 7, "committee": 15, "street": 30, "district": 60}
    >>> s = IssueState("dispatched", "building", dt.datetime(2024, 1, 4), dt.datetime(2024, 1, 1))
    >>> escalate(s, dt.datetime(2024, 1, 4), limits=lim)[1]
    []
    >>> s2, steps = escalate(s, dt.datetime(2024, 1, 4, 0, 0, 1), limits=lim)
    >>> s2.level, s2.due_at, steps[0].at
    ('grid', datetime.datetime(2024, 1, 11, 0, 0), datetime.datetime(2024, 1, 4, 0, 0))
    """
    if not state.is_open:
        return state, []
    events: list[Event] = []
    level, due = state.level, state.due_at
    while due < now:
        up = _next_level(level)
        if up is None:
            break
        days = int(limits[level])
        events.append(
            Event(
                due,
                SYSTEM_ACTOR,
                "escalate",
                state.status,
                state.status,
                level,
                up,
                f"time limit of {days} days at {level} level passed",
            )
        )
        level, due = up, _due(due, up, limits)
    if not events:
        return state, []
    last = max(state.last_at, events[-1].at)
    return dataclasses.replace(state, level=level, due_at=due, last_at=last), events


# ---------------------------------------------------------------- history


def _ts(value: Any) -> dt.datetime:
    return pd.Timestamp(value).to_pydatetime().replace(microsecond=0)


def _opt_ts(value: Any) -> dt.datetime | None:
    if value is None or pd.isna(value):
        return None
    return _ts(value)


def events_from_frame(events: pd.DataFrame) -> list[Event]:
    """Return the rows of an events frame (ordered by ``at``, then ``event_id``) as :class:`Event`."""
    if events is None or len(events) == 0:
        return []
    frame = events
    keys = [c for c in ("at", "event_id") if c in frame.columns]
    frame = frame.sort_values(keys, kind="stable")
    out = []
    for r in frame.itertuples(index=False):
        out.append(
            Event(
                _ts(r.at),
                str(r.actor),
                str(r.action),
                None if r.from_status is None or pd.isna(r.from_status) else str(r.from_status),
                str(r.to_status),
                None if r.from_level is None or pd.isna(r.from_level) else str(r.from_level),
                str(r.to_level),
                "" if r.note is None or pd.isna(r.note) else str(r.note),
            )
        )
    return out


def _initial(
    opened_at: dt.datetime, events: Sequence[Event], *, status: str, level: str, limits: Mapping[str, int]
) -> tuple[IssueState, list[Event], Event]:
    """Return the state at opening, the events after it, and the opening event (recorded or implied)."""
    if events and events[0].action == "found":
        first = events[0]
        state = found_state(first.at, level=first.to_level, status=first.to_status, limits=limits)
        return state, list(events[1:]), first
    if events:
        status = events[0].from_status or status
        level = events[0].from_level or level
    state = found_state(opened_at, level=level, status=status, limits=limits)
    implied = Event(opened_at, "", "found", None, status, None, level, "")
    return state, list(events), implied


def _apply_recorded(state: IssueState, e: Event, limits: Mapping[str, int]) -> IssueState:
    """Apply a recorded event as it was recorded (history is trusted, not re-validated)."""
    new = dataclasses.replace(state, status=e.to_status, level=e.to_level, last_at=max(state.last_at, e.at))
    if e.to_level != state.level:
        new = dataclasses.replace(new, due_at=_due(e.at, e.to_level, limits))
    if e.action == "handle":
        new = dataclasses.replace(new, handled_by=e.actor)
    elif e.action == "reopen":
        new = dataclasses.replace(new, handled_by=None, closed_at=None, due_at=_due(e.at, e.to_level, limits))
    elif e.action == "found":
        new = dataclasses.replace(new, due_at=_due(e.at, e.to_level, limits), handled_by=None, closed_at=None)
    if e.to_status == "closed" and state.status != "closed":
        new = dataclasses.replace(new, closed_at=e.at)
    return new


def replay(
    events: Sequence[Event],
    *,
    opened_at: dt.datetime,
    status: str,
    level: str,
    now: dt.datetime,
    limits: Mapping[str, int],
) -> tuple[IssueState, list[Event]]:
    """Return an issue's state at ``now`` from its history alone, and the clock's unrecorded steps.

    The history is ``events`` (oldest first). Before each event, and at the
    end, the clock is applied (:func:`escalate`): escalations already
    recorded are found again as recorded events and never counted twice.
    ``status`` and ``level`` are used only when the history does not say
    where the issue started (no ``found`` event and no events at all: then
    it counts as found at ``opened_at`` at that level and status).

    Returns
    -------
    state, pending
        The state at ``now`` and the escalations the clock made that are not
        (yet) in ``events``.

    Examples
    --------
    >>> lim = {"building": 3, "grid": 7, "committee": 15, "street": 30, "district": 60}
    >>> t0 = dt.datetime(2024, 1, 1, 9, 0)
    >>> hist = [Event(t0, "W1", "found", None, "open", None, "building"),
    ...         Event(t0 + dt.timedelta(hours=2), "W1", "dispatch", "open", "dispatched",
    ...               "building", "building")]
    >>> s, pending = replay(hist, opened_at=t0, status="open", level="building",
    ...                     now=dt.datetime(2024, 1, 5), limits=lim)
    >>> s.status, s.level, [p.to_level for p in pending]
    ('dispatched', 'grid', ['grid'])
    """
    limits = _checked_limits(limits)
    state, rest, _ = _initial(opened_at, events, status=status, level=level, limits=limits)
    pending: list[Event] = []
    for e in rest:
        state, steps = escalate(state, e.at, limits=limits)
        pending.extend(steps)
        state = _apply_recorded(state, e, limits)
    state, steps = escalate(state, now, limits=limits)
    pending.extend(steps)
    return state, pending


def state_from_row(
    row: Mapping[str, Any], events: Sequence[Event], *, limits: Mapping[str, int]
) -> IssueState:
    """Return the stored state of an issue: its row, with who handled it and the last time from ``events``.

    A missing ``due_at`` counts as ``opened_at`` plus the level's limit.
    The clock is not applied (use :func:`escalate`).

    Examples
    --------
    >>> lim = dict.fromkeys(LEVELS, 3)
    >>> row = {"status": "handled", "level": "grid", "opened_at": dt.datetime(2024, 1, 1),
    ...        "due_at": None, "closed_at": None}
    >>> ev = [Event(dt.datetime(2024, 1, 2), "W7", "handle", "dispatched", "handled", "grid", "grid")]
    >>> s = state_from_row(row, ev, limits=lim)
    >>> s.due_at, s.handled_by, s.last_at
    (datetime.datetime(2024, 1, 4, 0, 0), 'W7', datetime.datetime(2024, 1, 2, 0, 0))
    """
    opened = _ts(row["opened_at"])
    level = str(row["level"])
    due = _opt_ts(row.get("due_at")) or _due(opened, level, limits)
    handled_by: str | None = None
    last = opened
    for e in events:
        last = max(last, e.at)
        if e.action == "handle":
            handled_by = e.actor
        elif e.action in ("reopen", "found"):
            handled_by = None
    return IssueState(
        status=str(row["status"]),
        level=level,
        due_at=due,
        last_at=last,
        closed_at=_opt_ts(row.get("closed_at")),
        handled_by=handled_by,
    )


HISTORY_COLUMNS = (
    "at",
    "actor",
    "action",
    "from_status",
    "to_status",
    "from_level",
    "to_level",
    "note",
    "recorded",
)


def history_frame(
    events: Sequence[Event],
    *,
    opened_at: dt.datetime,
    status: str,
    level: str,
    now: dt.datetime,
    limits: Mapping[str, int],
) -> pd.DataFrame:
    """Return an issue's full history as a frame, oldest first.

    Rows are the recorded ``events``, plus (``recorded`` false) the opening
    when it was never recorded and the escalations the clock made that are
    not recorded yet (they are, once ``sibai escalate`` runs or the issue
    next moves).

    Examples
    --------
    >>> lim = dict.fromkeys(LEVELS, 1)
    >>> h = history_frame([], opened_at=dt.datetime(2024, 1, 1), status="dispatched", level="street",
    ...                   now=dt.datetime(2024, 1, 3), limits=lim)
    >>> h[["action", "to_status", "to_level", "recorded"]].values.tolist()
    [['found', 'dispatched', 'street', False], ['escalate', 'dispatched', 'district', False]]
    """
    limits = _checked_limits(limits)
    _, _, first = _initial(opened_at, events, status=status, level=level, limits=limits)
    _, pending = replay(events, opened_at=opened_at, status=status, level=level, now=now, limits=limits)
    implied = not (events and events[0].action == "found")
    rows = [(e, True) for e in events] + [(p, False) for p in pending]
    if implied:
        rows.insert(0, (first, False))
    rows.sort(key=lambda r: r[0].at)
    data = [(*dataclasses.astuple(e), rec) for e, rec in rows]
    cols = list(zip(*data, strict=True)) if data else [() for _ in HISTORY_COLUMNS]
    pairs = zip(HISTORY_COLUMNS, cols, strict=True)
    frame = pd.DataFrame({name: pd.Series(list(v), dtype=object) for name, v in pairs})
    frame["at"] = pd.to_datetime(frame["at"]).astype("datetime64[s]")
    frame["recorded"] = frame["recorded"].astype(bool)
    return frame


# ---------------------------------------------------------------- frames


def _level_codes(levels: pd.Series) -> np.ndarray:
    codes = pd.Index(list(LEVELS)).get_indexer(levels.to_numpy(dtype=object)).astype(np.int64)
    if (codes < 0).any():
        bad = sorted({str(v) for v in levels[codes < 0].tolist()})
        raise ValueError(f"issues: unknown level(s) {', '.join(bad)}; use {', '.join(LEVELS)}")
    return codes


def _seconds(values: Any) -> np.ndarray:
    return np.asarray(pd.Series(values).to_numpy(dtype="datetime64[s]"))


class _Clock:
    """The clock applied to many issue rows at once: at most four rounds of numpy over the open rows."""

    def __init__(
        self, issues: pd.DataFrame, *, now: dt.datetime, limits: Mapping[str, int], collect: bool = False
    ) -> None:
        limits = _checked_limits(limits)
        self.is_open = issues["status"].to_numpy(dtype=object) != "closed"
        # Closed issues never move: the work is proportional to the open ones.
        self.pos = pos = np.flatnonzero(self.is_open)
        n = len(pos)
        codes = _level_codes(pd.Series(issues["level"].to_numpy(dtype=object)[pos]))
        lim = np.asarray([limits[lv] for lv in LEVELS], dtype=np.int64) * 86400
        opened = _seconds(issues["opened_at"])[pos].astype(np.int64)
        due_raw = (
            _seconds(issues["due_at"])[pos] if "due_at" in issues else np.full(n, np.datetime64("NaT", "s"))
        )
        due = np.where(np.isnat(due_raw), opened + lim[codes], due_raw.astype(np.int64))
        self.now = np.datetime64(now, "s").astype(np.int64)
        self.count = np.zeros(n, dtype=np.int64)
        self._parts: list[tuple[np.ndarray, ...]] = []
        lv = codes.copy()
        top = len(LEVELS) - 1
        for _ in range(top):
            m = (due < self.now) & (lv < top)
            if not m.any():
                break
            idx = np.flatnonzero(m)
            at = due[idx].copy()
            lv[idx] += 1
            due[idx] += lim[lv[idx]]
            self.count[idx] += 1
            if collect:
                self._parts.append((self.pos[idx], at, lv[idx] - 1, due[idx].copy()))
        self.level, self.due = lv, due

    def steps(self) -> tuple[np.ndarray, ...]:
        """Return the collected steps: row positions, times, from-level codes, due times after."""
        if not self._parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty, empty
        return tuple(np.concatenate([p[k] for p in self._parts]) for k in range(4))


def escalation_steps_frame(
    issues: pd.DataFrame, *, now: dt.datetime, limits: Mapping[str, int]
) -> pd.DataFrame:
    """Return every escalation the clock makes to ``issues`` rows up to ``now``, vectorised.

    ``issues`` needs ``issue_id, status, level, opened_at, due_at`` (a
    missing ``due_at`` counts as ``opened_at`` plus the level's limit).

    Returns
    -------
    pandas.DataFrame
        One row per step: ``issue_id, at, status, from_level, to_level,
        due_at`` (the due time after the step), ordered by issue and time.

    Examples
    --------
    >>> lim = {"building": 3, "grid": 7, "committee": 15, "street": 30, "district": 60}
    >>> iss = pd.DataFrame({"issue_id": [1, 2], "status": ["open", "closed"],
    ...                     "level": ["building", "building"],
    ...                     "opened_at": pd.to_datetime(["2024-01-01", "2024-01-01"]),
    ...                     "due_at": pd.to_datetime(["2024-01-04", "2024-01-04"])})
    >>> escalation_steps_frame(iss, now=dt.datetime(2024, 1, 12), limits=lim)[
    ...     ["issue_id", "from_level", "to_level"]].values.tolist()
    [[1, 'building', 'grid'], [1, 'grid', 'committee']]
    """
    clock = _Clock(issues, now=now, limits=limits, collect=True)
    levels = np.asarray(LEVELS, dtype=object)
    idx, at, frm, after = clock.steps()
    out = pd.DataFrame(
        {
            "issue_id": issues["issue_id"].to_numpy()[idx],
            "at": at.astype("datetime64[s]"),
            "status": issues["status"].to_numpy(dtype=object)[idx],
            "from_level": levels[frm],
            "to_level": levels[frm + 1],
            "due_at": after.astype("datetime64[s]"),
        }
    )
    return out.sort_values(["issue_id", "at"], kind="stable").reset_index(drop=True)


def escalate_frame(issues: pd.DataFrame, *, now: dt.datetime, limits: Mapping[str, int]) -> pd.DataFrame:
    """Return ``issues`` as they stand at ``now``: the clock applied to ``level`` and ``due_at``, vectorised.

    Adds ``escalated`` (steps the clock made that the rows do not hold yet)
    and ``overdue`` (not closed and ``due_at`` before ``now``, which after
    escalation only happens at the district level). The same result as
    :func:`escalate` on each row, for the whole district in milliseconds.

    Examples
    --------
    >>> lim = {"building": 3, "grid": 7, "committee": 15, "street": 30, "district": 60}
    >>> iss = pd.DataFrame({"issue_id": [1, 2], "status": ["open", "verified"],
    ...                     "level": ["building", "district"],
    ...                     "opened_at": pd.to_datetime(["2024-01-01", "2024-01-01"]),
    ...                     "due_at": pd.to_datetime(["2024-01-04", "2024-01-31"])})
    >>> out = escalate_frame(iss, now=dt.datetime(2024, 2, 5), limits=lim)
    >>> out[["level", "escalated", "overdue"]].values.tolist()
    [['street', 3, False], ['district', 0, True]]
    >>> str(out["due_at"].iloc[0])
    '2024-02-25 00:00:00'
    """
    clock = _Clock(issues, now=now, limits=limits)
    n, pos = len(issues), clock.pos
    # A shallow copy: the columns set below are new arrays, and the others are never written
    # (pandas' copy-on-write), so the caller's frame stays as it was without copying 100,000 rows.
    out = issues.copy(deep=False)
    level = issues["level"].to_numpy(dtype=object).copy()
    level[pos] = np.asarray(LEVELS, dtype=object)[clock.level]
    due = _seconds(issues["due_at"]).copy() if "due_at" in issues else np.full(n, np.datetime64("NaT", "s"))
    due[pos] = clock.due.astype("datetime64[s]")
    steps = np.zeros(n, dtype=np.int64)
    steps[pos] = clock.count
    overdue = np.zeros(n, dtype=bool)
    overdue[pos] = clock.due < clock.now
    out["level"] = pd.Series(level, index=out.index, dtype=object, copy=False)
    out["due_at"] = pd.Series(due, index=out.index, copy=False)
    out["escalated"] = steps
    out["overdue"] = overdue
    return out


def effective_issues(
    issues: pd.DataFrame,
    events: pd.DataFrame | None,
    *,
    now: dt.datetime,
    limits: Mapping[str, int],
) -> pd.DataFrame:
    """Return issues as they stand at ``now``, with what the lists and metrics need.

    Parameters
    ----------
    issues
        Rows of the ``issues`` table (``issue_id, status, level, opened_at,
        due_at, closed_at`` at least).
    events
        Recorded ``escalate``, ``reopen`` and ``found`` events of those issues
        (``issue_id, at, action``; others are ignored), or ``None``.

    Returns
    -------
    pandas.DataFrame
        ``issues`` after :func:`escalate_frame`, plus ``timed_out``: how many
        time limits the issue has missed since it was last found or
        reopened (recorded escalations and the clock's pending ones; 0 for
        closed issues), and ``days_open`` (to closing, or to ``now``).

    Examples
    --------
    >>> lim = {"building": 3, "grid": 7, "committee": 15, "street": 30, "district": 60}
    >>> iss = pd.DataFrame({"issue_id": [1], "status": ["open"], "level": ["grid"],
    ...                     "opened_at": pd.to_datetime(["2024-01-01"]),
    ...                     "due_at": pd.to_datetime(["2024-01-11"]), "closed_at": [pd.NaT]})
    >>> ev = pd.DataFrame({"issue_id": [1], "at": pd.to_datetime(["2024-01-04"]),
    ...                    "action": ["escalate"]})
    >>> effective_issues(iss, ev, now=dt.datetime(2024, 1, 12), limits=lim)[
    ...     ["level", "escalated", "timed_out", "days_open"]].values.tolist()
    [['committee', 1, 2, 11.0]]
    """
    out = escalate_frame(issues, now=now, limits=limits)
    recorded = np.zeros(len(out), dtype=np.int64)
    if events is not None and len(events):
        ev = events[events["action"].isin(["escalate", "reopen", "found"])]
        if len(ev):
            ev = ev.assign(at=_seconds(ev["at"])).sort_values(["issue_id", "at"], kind="stable")
            # Only escalations after the last (re)opening count: a reopened issue starts afresh.
            is_start = ev["action"].isin(["reopen", "found"]).to_numpy()
            grp = ev["issue_id"].to_numpy()
            start_no = pd.Series(is_start.astype(np.int64)).groupby(grp).cumsum().to_numpy()
            last_start = pd.Series(start_no).groupby(grp).transform("max").to_numpy()
            keep = (ev["action"].to_numpy() == "escalate") & (start_no == last_start)
            counts = pd.Series(keep.astype(np.int64)).groupby(grp).sum()
            recorded = counts.reindex(out["issue_id"].to_numpy()).fillna(0).to_numpy(dtype=np.int64)
    is_open = out["status"].to_numpy(dtype=object) != "closed"
    out["timed_out"] = np.where(is_open, recorded + out["escalated"].to_numpy(), 0)
    opened = _seconds(out["opened_at"])
    closed = _seconds(out["closed_at"]) if "closed_at" in out else np.full(len(out), np.datetime64("NaT"))
    end = np.where(np.isnat(closed), np.datetime64(now, "s"), closed)
    out["days_open"] = (end - opened) / np.timedelta64(86400, "s")
    return out


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class IssueFilters:
    """What the issues list shows: each tuple empty means "any"."""

    levels: tuple[str, ...] = ()
    statuses: tuple[str, ...] = OPEN_STATUSES
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    timing: tuple[str, ...] = ()
    """Any of ``overdue`` (past the limit at its level), ``timed_out`` (missed
    at least one limit), ``due_soon`` (limit ends within a day)."""
    grid_id: str | None = None

    def __post_init__(self) -> None:
        for name, allowed in (
            ("levels", LEVELS),
            ("statuses", STATUSES),
            ("sources", SOURCES),
            ("timing", TIMINGS),
        ):
            bad = [v for v in getattr(self, name) if v not in allowed]
            if bad:
                raise ValueError(f"{name}: unknown {', '.join(map(repr, bad))}; use {', '.join(allowed)}")


TIMINGS = ("overdue", "timed_out", "due_soon")
"""Time filters of the issues list."""

DUE_SOON = dt.timedelta(days=1)
"""How close the end of a time limit must be for ``due_soon``."""


def filter_issues(issues: pd.DataFrame, filters: IssueFilters, *, now: dt.datetime) -> pd.DataFrame:
    """Return the rows of effective ``issues`` that pass ``filters``, most urgent first.

    Order: overdue first, then by the end of the time limit (closed issues
    last, latest closed first).

    Examples
    --------
    >>> iss = pd.DataFrame({"issue_id": [1, 2, 3], "status": ["open", "closed", "handled"],
    ...     "level": ["grid", "grid", "district"], "category": ["停车难"] * 3,
    ...     "source": ["visit", "online", "hotline"], "grid_id": ["G1", "G1", "G2"],
    ...     "due_at": pd.to_datetime(["2024-01-09", "2024-01-02", "2024-01-03"]),
    ...     "closed_at": pd.to_datetime([None, "2024-01-02", None]),
    ...     "overdue": [False, False, True], "timed_out": [0, 0, 3]})
    >>> filter_issues(iss, IssueFilters(), now=dt.datetime(2024, 1, 8, 12))["issue_id"].tolist()
    [3, 1]
    >>> filter_issues(iss, IssueFilters(timing=("due_soon",)), now=dt.datetime(2024, 1, 8, 12))[
    ...     "issue_id"].tolist()
    [1]
    """
    m = np.ones(len(issues), dtype=bool)
    for col, values in (
        ("level", filters.levels),
        ("status", filters.statuses),
        ("category", filters.categories),
        ("source", filters.sources),
    ):
        if values:
            m &= issues[col].isin(list(values)).to_numpy()
    if filters.grid_id:
        m &= (issues["grid_id"] == filters.grid_id).to_numpy()
    if filters.timing:
        is_open = (issues["status"] != "closed").to_numpy()
        due = _seconds(issues["due_at"])
        t = np.datetime64(now, "s")
        soon = np.datetime64(now + DUE_SOON, "s")
        tm = np.zeros(len(issues), dtype=bool)
        if "overdue" in filters.timing:
            tm |= issues["overdue"].to_numpy(dtype=bool)
        if "timed_out" in filters.timing:
            tm |= issues["timed_out"].to_numpy() > 0
        if "due_soon" in filters.timing:
            tm |= is_open & (due >= t) & (due <= soon)
        m &= tm
    out = issues[m]
    closed = (out["status"] == "closed").to_numpy()
    # Open issues by the end of their limit; closed ones after them, latest closed first.
    due = np.where(closed, 0, _seconds(out["due_at"]).astype(np.int64))
    closed_at = np.where(closed, -_seconds(out["closed_at"]).astype(np.int64), 0)
    overdue = out["overdue"].to_numpy(dtype=bool)
    order = np.lexsort((out["issue_id"].to_numpy(), closed_at, due, ~overdue, closed))
    return out.iloc[order]


# ---------------------------------------------------------------- metrics

METRIC_COLUMNS = (
    "open",
    "overdue",
    "timed_out",
    "resolved",
    *(f"resolved_{lv}" for lv in LEVELS),
    "median_days_to_close",
    "share_within_committee",
)
"""The columns of :func:`issue_metrics`."""

_WITHIN_COMMITTEE = ("building", "grid", "committee")


def issue_metrics(
    issues: pd.DataFrame,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    by: str | None = None,
) -> pd.DataFrame:
    """Return issue figures for the other pages, for all issues or per ``by`` (e.g. ``grid_id``).

    ``issues`` are effective issues (:func:`effective_issues`), so *open*,
    *overdue* and *timed out* are as at the ``now`` they were computed for.
    *Resolved* counts issues closed between ``start`` and ``end`` (whole
    days, both included; no bound: any time), split by the level they were
    closed at — the highest they reached, as levels never go down.

    Columns: ``open`` (not closed), ``overdue`` (past the limit at the
    current level), ``timed_out`` (open and moved up at least once by a
    missed limit), ``resolved``, ``resolved_<level>`` per level,
    ``median_days_to_close`` (opening to closing, in days, of the resolved;
    NaN without any) and ``share_within_committee`` (resolved at building,
    grid or committee level ÷ resolved; NaN without any).

    Examples
    --------
    >>> iss = pd.DataFrame({"grid_id": ["G1", "G1", "G1", "G2"],
    ...     "status": ["closed", "closed", "open", "closed"],
    ...     "level": ["grid", "street", "district", "building"],
    ...     "opened_at": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", "2024-02-01"]),
    ...     "closed_at": pd.to_datetime(["2024-01-03", "2024-01-21", None, "2024-02-02"]),
    ...     "overdue": [False, False, True, False], "timed_out": [0, 0, 4, 0]})
    >>> m = issue_metrics(iss)
    >>> m[["open", "overdue", "resolved", "resolved_street", "median_days_to_close"]].values.tolist()
    [[1.0, 1.0, 3.0, 1.0, 2.0]]
    >>> round(float(m["share_within_committee"].iloc[0]), 4)
    0.6667
    >>> issue_metrics(iss, by="grid_id")["resolved"].to_dict()
    {'G1': 2, 'G2': 1}
    """
    is_open = (issues["status"] != "closed").to_numpy()
    closed_at = _seconds(issues["closed_at"])
    resolved = ~is_open & ~np.isnat(closed_at)
    if start is not None:
        resolved &= closed_at >= np.datetime64(start, "s")
    if end is not None:
        resolved &= closed_at < np.datetime64(end + dt.timedelta(days=1), "s")
    level = issues["level"].to_numpy(dtype=object)
    days = (closed_at - _seconds(issues["opened_at"])) / np.timedelta64(86400, "s")
    cols: dict[str, Any] = {
        "open": is_open,
        "overdue": is_open & issues["overdue"].to_numpy(dtype=bool),
        "timed_out": is_open & (issues["timed_out"].to_numpy() > 0),
        "resolved": resolved,
        **{f"resolved_{lv}": resolved & (level == lv) for lv in LEVELS},
        "_within": resolved & np.isin(level, _WITHIN_COMMITTEE),
    }
    flags = pd.DataFrame({k: np.asarray(v, dtype=np.int64) for k, v in cols.items()}, index=issues.index)
    days_resolved = pd.Series(np.where(resolved, days, np.nan), index=issues.index)
    if by is None:
        sums = flags.sum().to_frame().T
        sums.index = pd.Index(["all"])
        median = pd.Series([days_resolved.median()], index=sums.index)
    else:
        keys = issues[by]
        sums = flags.groupby(keys, sort=True).sum()
        median = days_resolved.groupby(keys, sort=True).median()
    out = sums.drop(columns="_within")
    out["median_days_to_close"] = median.reindex(out.index).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share_within_committee"] = np.where(
            sums["resolved"] > 0, sums["_within"] / sums["resolved"].where(sums["resolved"] > 0), np.nan
        )
    return out[list(METRIC_COLUMNS)]


# ---------------------------------------------------------------- the board


@dataclass(frozen=True)
class Board:
    """Everything the issues page shows for one set of filters."""

    rows: pd.DataFrame
    """The filtered list, most urgent first (effective issues)."""
    metrics: pd.Series
    """:func:`issue_metrics` of every issue in the area (not only the filtered ones)."""
    by_level: pd.DataFrame
    """Per level: open, overdue, timed out, resolved (in the area)."""
    by_grid: pd.DataFrame
    """Per grid of the area: ``open_issues`` and ``overdue_issues`` among the filtered rows."""
    categories: tuple[str, ...]
    """Categories present in the area, for the filter."""


def issue_board(
    issues: pd.DataFrame,
    events: pd.DataFrame | None,
    filters: IssueFilters,
    *,
    now: dt.datetime,
    limits: Mapping[str, int],
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Board:
    """Build the issues page's content: the clock applied, the filters, the metrics, the map counts.

    Examples
    --------
    >>> lim = {"building": 3, "grid": 7, "committee": 15, "street": 30, "district": 60}
    >>> iss = pd.DataFrame({"issue_id": [1, 2], "grid_id": ["G1", "G2"], "status": ["open", "closed"],
    ...     "level": ["building", "grid"], "category": ["停车难", "养老服务"], "source": ["visit", "online"],
    ...     "opened_at": pd.to_datetime(["2024-01-01", "2024-01-01"]),
    ...     "due_at": pd.to_datetime(["2024-01-04", "2024-01-08"]),
    ...     "closed_at": pd.to_datetime([None, "2024-01-05"])})
    >>> b = issue_board(iss, None, IssueFilters(), now=dt.datetime(2024, 1, 5), limits=lim)
    >>> b.rows["level"].tolist(), b.by_grid.to_dict("index")
    (['grid'], {'G1': {'open_issues': 1, 'overdue_issues': 0}})
    >>> int(b.metrics["timed_out"]), b.categories
    (1, ('停车难', '养老服务'))
    """
    eff = effective_issues(issues, events, now=now, limits=limits)
    rows = filter_issues(eff, filters, now=now)
    metrics = issue_metrics(eff, start=start, end=end).iloc[0]
    per_level = issue_metrics(eff, start=start, end=end, by="level")
    by_level = per_level[["open", "overdue", "timed_out", "resolved"]].reindex(list(LEVELS), fill_value=0)
    open_rows = rows[rows["status"] != "closed"]
    by_grid = pd.DataFrame(
        {
            "open_issues": open_rows.groupby("grid_id").size(),
            "overdue_issues": open_rows.groupby("grid_id")["overdue"].sum(),
        }
    ).astype(np.int64)
    by_grid.index.name = "grid_id"
    cats = tuple(sorted({str(c) for c in eff["category"].dropna().tolist()}))
    return Board(rows=rows, metrics=metrics, by_level=by_level, by_grid=by_grid, categories=cats)


# ---------------------------------------------------------------- display


def display_rows(
    rows: pd.DataFrame,
    *,
    labels: Mapping[str, str],
    grid_names: Mapping[str, str],
    limit: int | None = None,
) -> pd.DataFrame:
    """Return the issue list as shown: translated codes, grid names, the first ``limit`` rows.

    ``labels`` maps ``status.<s>``, ``level.<l>`` and ``source.<s>`` to the
    words to show (the page passes its translations); unknown codes show as
    they are. Titles stay plain text (the page shows them escaped).

    Examples
    --------
    >>> rows = pd.DataFrame({"issue_id": [4], "title": ["<b>漏水</b>"], "category": ["房屋漏水与维修"],
    ...     "source": ["hotline"], "grid_id": ["G1"], "level": ["grid"], "status": ["open"],
    ...     "opened_at": pd.to_datetime(["2024-01-01 09:00"]), "due_at": pd.to_datetime(["2024-01-08 09:00"]),
    ...     "overdue": [False], "timed_out": [1]})
    >>> display_rows(rows, labels={"source.hotline": "热线", "level.grid": "网格", "status.open": "发现"},
    ...              grid_names={"G1": "一村第1网格"}).iloc[0].tolist()[1:7]
    ['<b>漏水</b>', '房屋漏水与维修', '热线', '一村第1网格', '网格', '发现']
    """
    part = rows if limit is None else rows.iloc[:limit]

    def word(prefix: str, col: str) -> list[str]:
        return [labels.get(f"{prefix}.{v}", str(v)) for v in part[col].tolist()]

    return pd.DataFrame(
        {
            "issue_id": part["issue_id"].to_numpy(dtype=np.int64),
            "title": part["title"].astype(object).to_numpy(),
            "category": part["category"].astype(object).to_numpy(),
            "source": word("source", "source"),
            "grid": [grid_names.get(g, str(g)) for g in part["grid_id"].tolist()],
            "level": word("level", "level"),
            "status": word("status", "status"),
            "opened_at": part["opened_at"].to_numpy(dtype="datetime64[s]"),
            "due_at": part["due_at"].to_numpy(dtype="datetime64[s]"),
            "overdue": part["overdue"].to_numpy(dtype=bool),
            "timed_out": part["timed_out"].to_numpy(dtype=np.int64),
        }
    )


def display_history(history: pd.DataFrame, *, labels: Mapping[str, str]) -> pd.DataFrame:
    """Return an issue's history as shown: time, step, who, what changed, note, and a flag.

    ``labels`` maps ``action.<a>``, ``status.<s>``, ``level.<l>`` and the
    flags ``implied`` (an opening that was never recorded) and ``pending``
    (an escalation not recorded yet) to words; ``escalate_note`` (with
    ``{level}``) replaces the clock's English note on escalations.

    Examples
    --------
    >>> h = history_frame([], opened_at=dt.datetime(2024, 1, 1), status="open", level="building",
    ...                   now=dt.datetime(2024, 1, 5), limits=dict.fromkeys(LEVELS, 3))
    >>> display_history(h, labels={"action.found": "发现", "status.open": "发现", "level.building": "楼栋",
    ...                            "level.grid": "网格", "implied": "推定", "pending": "待写入"}
    ...                 )[["step", "change", "flag"]].values.tolist()
    [['发现', '发现 · 楼栋', '推定'], ['action.escalate', '楼栋 → 网格', '待写入']]
    """

    def word(key: str) -> str:
        return labels.get(key, key)

    changes, flags, notes = [], [], []
    for r in history.itertuples(index=False):
        clock = r.action == "escalate" and r.actor == SYSTEM_ACTOR and "escalate_note" in labels
        notes.append(labels["escalate_note"].format(level=word(f"level.{r.from_level}")) if clock else r.note)
        parts = []
        if r.from_status is None or r.from_status == r.to_status:
            if r.action == "found":
                parts.append(word(f"status.{r.to_status}"))
        else:
            parts.append(f"{word(f'status.{r.from_status}')} → {word(f'status.{r.to_status}')}")
        if r.from_level is None:
            parts.append(word(f"level.{r.to_level}"))
        elif r.from_level != r.to_level:
            parts.append(f"{word(f'level.{r.from_level}')} → {word(f'level.{r.to_level}')}")
        changes.append(" · ".join(parts))
        flags.append("" if r.recorded else word("pending" if r.action == "escalate" else "implied"))
    return pd.DataFrame(
        {
            "at": history["at"].to_numpy(dtype="datetime64[s]"),
            "step": [word(f"action.{a}") for a in history["action"].tolist()],
            "actor": history["actor"].astype(object).to_numpy(),
            "change": changes,
            "note": notes,
            "flag": flags,
        }
    )


def grid_map_metrics(by_grid: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """Return what the grid map colours: households and coverage per grid, with the listed issues' counts.

    ``coverage`` is indexed by ``grid_id`` with ``households`` and
    ``coverage`` (:meth:`geo.coverage.CoverageIndex.coverage`); ``by_grid``
    is :attr:`Board.by_grid`. Grids without listed open issues count 0.

    Examples
    --------
    >>> cov = pd.DataFrame({"households": [100, 50], "coverage": [0.9, 0.5]}, index=["G1", "G2"])
    >>> grid_map_metrics(pd.DataFrame({"open_issues": [3], "overdue_issues": [1]}, index=["G2"]),
    ...                  cov)[["open_issues", "overdue_issues"]].values.tolist()
    [[0, 0], [3, 1]]
    """
    out = coverage[["households", "coverage"]].copy()
    for col in ("open_issues", "overdue_issues"):
        out[col] = by_grid[col].reindex(out.index).fillna(0).astype(np.int64) if len(by_grid) else 0
    return out


# ----------------------------------------------------------------- opening

MAX_CATEGORY = 40
"""Longest category accepted, in characters."""

MAX_REF = 200
"""Longest external reference accepted, in characters."""


@dataclass(frozen=True)
class NewIssue:
    """An issue to open. ``grid_id`` may be left out when a building or household says where it is.

    ``level`` defaults to ``building`` when a building is known, else
    ``grid``. ``opened_at`` defaults to now; ``ref`` is an external
    reference (e.g. ``hotline:2024-001234``) that makes opening it twice a
    no-op. ``source`` defaults to ``visit``: a need found on a visit
    (:func:`geo.visits.record_visit`) gives only its category, level and
    title, and the visit says the rest.
    """

    category: str
    source: str = "visit"
    grid_id: str | None = None
    building_id: str | None = None
    household_id: str | None = None
    level: str | None = None
    title: str = ""
    opened_at: dt.datetime | None = None
    note: str = ""
    ref: str | None = None


class IssueInvalid(ValueError):
    """A new issue that cannot be opened: which one (``row``, counted from 1), which ``field``, why."""

    def __init__(self, row: int, field: str, message: str, *, single: bool = False) -> None:
        super().__init__(f"{field}: {message}" if single else f"issue {row}, {field}: {message}")
        self.row = row
        self.field = field


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def check_new_issues(drafts: Sequence[NewIssue], *, now: dt.datetime) -> list[IssueInvalid]:
    """Return every problem of ``drafts`` that needs no database, in draft order.

    Examples
    --------
    >>> now = dt.datetime(2026, 11, 30, 14, 0)
    >>> [str(p) for p in check_new_issues([NewIssue("停车难", source="fax", grid_id="G1")], now=now)]
    ["source: 'fax' is not a source; use visit, hotline, online"]
    >>> check_new_issues([NewIssue("停车难", grid_id="G1")], now=now)
    []
    """
    single = len(drafts) == 1
    problems = [p for n, d in enumerate(drafts, start=1) for p in _check_new(n, d, now, single)]
    refs = [_text(d.ref) for d in drafts if d.ref is not None]
    dup = sorted({r for r in refs if refs.count(r) > 1})
    if dup:
        problems.append(IssueInvalid(0, "ref", f"reference(s) given twice: {', '.join(dup)}", single=True))
    return problems


def _check_new(n: int, d: NewIssue, now: dt.datetime, single: bool) -> list[IssueInvalid]:
    """Check what needs no database; return every problem of issue ``n``."""
    out = []

    def bad(fld: str, msg: str) -> None:
        out.append(IssueInvalid(n, fld, msg, single=single))

    if not _text(d.category):
        bad("category", "a category is required (e.g. 加装电梯, 物业管理, 停车难)")
    elif len(_text(d.category)) > MAX_CATEGORY:
        bad("category", f"{len(_text(d.category))} characters; at most {MAX_CATEGORY}")
    if d.source not in SOURCES:
        bad("source", f"{d.source!r} is not a source; use {', '.join(SOURCES)}")
    if d.level is not None and d.level not in LEVELS:
        bad("level", f"{d.level!r} is not a level; use {', '.join(LEVELS)}")
    if d.level == "building" and not (_text(d.building_id) or _text(d.household_id)):
        bad("level", "an issue at building level needs its building (or household)")
    if not (_text(d.grid_id) or _text(d.building_id) or _text(d.household_id)):
        bad("grid_id", "where is it? give a grid, a building or a household")
    if len(_text(d.title)) > MAX_TITLE:
        bad("title", f"{len(_text(d.title))} characters; at most {MAX_TITLE}")
    if len(_text(d.note)) > MAX_NOTE:
        bad("note", f"{len(_text(d.note))} characters; at most {MAX_NOTE}")
    if d.ref is not None and (not _text(d.ref) or len(_text(d.ref)) > MAX_REF):
        bad("ref", f"an external reference has 1 to {MAX_REF} characters")
    if d.opened_at is not None and d.opened_at.replace(microsecond=0) > now:
        bad("opened_at", f"{d.opened_at:%Y-%m-%d %H:%M:%S} is in the future (now {now:%Y-%m-%d %H:%M:%S})")
    return out
