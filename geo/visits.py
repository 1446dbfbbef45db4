"""Recording visits: validation with messages a person can act on, idempotency keys, one write path.

The page's form and the ``sibai visit add`` command share :func:`submit_visit`:
it validates a :class:`VisitDraft` (and the issue found on it), reports *every*
problem at once as :class:`Problem` values, and only when there is none stores
the visit through :func:`record_visit`, with the issue found on it, in one transaction.

Rules (times are Shanghai local time, settings ``day_start`` and ``office_close``):

* a household and a worker are required, and must exist (the worker active);
* an outcome is required, one of ``met, not_home, refused, vacant, inaccessible``;
  a channel is required, one of ``door, phone, online``;
* the time is required, not in the future, not more than
  ``max_backdate_days`` (366) days ago, and inside the working day
  ``day_start``–``office_close`` (08:30–17:30: visits end by 15:30 under the
  "330" method, and are written up until the office closes);
* the note is at most :data:`MAX_NOTE` characters;
* a need found on the visit needs a category, starts at level ``building``
  or ``grid`` (小事不出楼，大事不出网格) and has a title of at most
  :data:`MAX_TITLE` characters.

Examples
--------
>>> now = dt.datetime(2024, 6, 28, 16, 0)
>>> d = VisitDraft("H1", "W1", dt.datetime(2024, 6, 28, 17, 5), None)
>>> [p.code for p in validate_visit(d, now=now, known_households={"H1"}, known_workers={"W1"})]
['outcome_missing', 'time_future']
>>> print(validate_visit(d, now=now)[1])
time: 2024-06-28 17:05 is in the future (now 2024-06-28 16:00)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from geo.clock import local_now
from geo.issues import MAX_CATEGORY, NewIssue
from geo.issues.workflow import VISIT_LEVELS, visit_issue_opener
from geo.settings import Settings
from geo.store import CHANNELS, OUTCOMES, Scope, Store, records
from geo.store.records import NewVisit, Recorded, UnknownRecord, known_ids

__all__ = [
    "ISSUE_LEVELS",
    "MAX_NOTE",
    "MAX_TITLE",
    "IssueDraft",
    "Problem",
    "VisitDraft",
    "VisitInvalid",
    "default_visit_time",
    "form_key",
    "local_now",
    "new_form_nonce",
    "parse_visit_time",
    "record_visit",
    "run_visit_add",
    "submit_visit",
    "validate_issue",
    "validate_visit",
]

MAX_NOTE = 2000
"""Longest visit note (民情笔记) accepted, in characters."""

MAX_TITLE = 200
"""Longest issue title accepted, in characters."""

MAX_KEY = 128
"""Longest idempotency key accepted."""

ISSUE_LEVELS = VISIT_LEVELS
"""Levels at which a need found on a visit may be opened."""


def record_visit(
    store: Store, visit: NewVisit, *, idem_key: str | None = None, issue: NewIssue | None = None, scope: Scope
) -> Recorded:
    """Store a checked visit and the need found on it, in one transaction.

    The issue is checked and opened as every other issue is
    (:func:`geo.issues.workflow.visit_issue_opener`: the same checks and
    time limit, a ``found`` event by the visit's worker); an invalid one
    raises :class:`geo.issues.IssueInvalid` and nothing is written. The rest
    is :func:`geo.store.records.record_visit` (idempotency key, unknown
    household or worker).
    """
    opener = None if issue is None else visit_issue_opener(store, visit, issue, scope=scope)
    return records.record_visit(store, visit, idem_key=idem_key, open_issue=opener)


@dataclass(frozen=True)
class VisitDraft:
    """A visit as entered: any field may be missing or wrong until validated."""

    household_id: str | None
    worker_id: str | None
    visited_at: dt.datetime | None
    outcome: str | None
    channel: str | None = "door"
    note: str = ""


@dataclass(frozen=True)
class IssueDraft:
    """A need found on a visit (问需), to open as an issue."""

    category: str | None
    level: str | None = "building"
    title: str = ""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a draft: the field, a stable code, and the values for the message.

    ``str(problem)`` is the English message; user interfaces translate
    ``code`` with ``params`` (the page uses the i18n keys ``visit.err.<code>``).
    """

    field: str
    code: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.field}: {_MESSAGES[self.code].format(**self.params)}"


_MESSAGES = {
    "household_missing": "choose a household",
    "household_unknown": "no household with id {id}",
    "worker_missing": "choose the worker who made the visit",
    "worker_unknown": "no active worker with id {id}",
    "outcome_missing": "choose an outcome ({choices})",
    "outcome_unknown": "{value!r} is not an outcome; use one of {choices}",
    "channel_missing": "choose a channel ({choices})",
    "channel_unknown": "{value!r} is not a channel; use one of {choices}",
    "time_missing": "give the date and time of the visit",
    "time_bad": "{value!r} is not a time; expected YYYY-MM-DD HH:MM",
    "time_future": "{at} is in the future (now {now})",
    "time_too_old": "{at} is more than {days} days ago",
    "time_outside_day": "{at} is outside the working day {start}–{end}",
    "note_too_long": "the note has {n} characters; at most {max} are kept",
    "category_missing": "give the category of the need found",
    "category_too_long": "the category has {n} characters; at most {max}",
    "level_bad": "a need found on a visit is opened at level building or grid, not {value!r}",
    "title_too_long": "the title has {n} characters; at most {max}",
    "key_bad": "the idempotency key must be 1–{max} printable characters",
}


class VisitInvalid(ValueError):
    """A visit that cannot be recorded; ``problems`` says why (nothing was written)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _hhmm(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def _fmt(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def default_visit_time(
    now: dt.datetime,
    *,
    day_start: str = Settings.day_start,
    day_end: str = Settings.day_end,
    office_close: str = Settings.office_close,
) -> dt.datetime:
    """Return the time a new visit form starts with: now, or the last visiting-window end before it.

    During the working day that is ``now`` (to the minute); after the office
    closes it is today's ``day_end``; before the day starts, yesterday's.

    Examples
    --------
    >>> default_visit_time(dt.datetime(2024, 6, 28, 14, 7, 33))
    datetime.datetime(2024, 6, 28, 14, 7)
    >>> default_visit_time(dt.datetime(2024, 6, 28, 21, 0))
    datetime.datetime(2024, 6, 28, 15, 30)
    >>> default_visit_time(dt.datetime(2024, 6, 28, 7, 0))
    datetime.datetime(2024, 6, 27, 15, 30)
    """
    now = now.replace(second=0, microsecond=0)
    if now.time() < _hhmm(day_start):
        return dt.datetime.combine(now.date() - dt.timedelta(days=1), _hhmm(day_end))
    if now.time() > _hhmm(office_close):
        return dt.datetime.combine(now.date(), _hhmm(day_end))
    return now


def parse_visit_time(text: str | None, *, now: dt.datetime) -> dt.datetime:
    """Parse ``YYYY-MM-DD HH:MM`` (seconds optional); ``None`` or ``""`` mean ``now``.

    Raises :class:`VisitInvalid` for anything else.

    >>> parse_visit_time("2024-06-28 14:05", now=dt.datetime(2024, 6, 28, 16, 0))
    datetime.datetime(2024, 6, 28, 14, 5)
    """
    if text is None or not text.strip():
        return now.replace(microsecond=0)
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    raise VisitInvalid([Problem("time", "time_bad", {"value": text})])


def validate_visit(
    draft: VisitDraft,
    *,
    now: dt.datetime,
    day_start: str = Settings.day_start,
    office_close: str = Settings.office_close,
    max_backdate_days: int = 366,
    known_households: Collection[str] | None = None,
    known_workers: Collection[str] | None = None,
) -> list[Problem]:
    """Return every problem of ``draft`` (empty: it can be stored).

    ``known_households`` / ``known_workers`` are the ids that exist (workers:
    the active ones); ``None`` skips that check (:func:`submit_visit` then asks
    the store).
    """
    out: list[Problem] = []
    if not draft.household_id:
        out.append(Problem("household", "household_missing"))
    elif known_households is not None and draft.household_id not in known_households:
        out.append(Problem("household", "household_unknown", {"id": draft.household_id}))
    if not draft.worker_id:
        out.append(Problem("worker", "worker_missing"))
    elif known_workers is not None and draft.worker_id not in known_workers:
        out.append(Problem("worker", "worker_unknown", {"id": draft.worker_id}))
    out += _choice("outcome", draft.outcome, OUTCOMES)
    out += _choice("channel", draft.channel, CHANNELS)
    at = draft.visited_at
    if at is None:
        out.append(Problem("time", "time_missing"))
    else:
        at = at.replace(tzinfo=None)
        start, end = _hhmm(day_start), _hhmm(office_close)
        if at > now:
            out.append(Problem("time", "time_future", {"at": _fmt(at), "now": _fmt(now)}))
        elif at < now - dt.timedelta(days=max_backdate_days):
            out.append(Problem("time", "time_too_old", {"at": _fmt(at), "days": max_backdate_days}))
        if not start <= at.time() <= end:
            out.append(
                Problem("time", "time_outside_day", {"at": _fmt(at), "start": day_start, "end": office_close})
            )
    if len(draft.note or "") > MAX_NOTE:
        out.append(Problem("note", "note_too_long", {"n": len(draft.note), "max": MAX_NOTE}))
    return out


def _choice(name: str, value: str | None, choices: tuple[str, ...]) -> list[Problem]:
    listed = ", ".join(choices)
    if not value:
        return [Problem(name, f"{name}_missing", {"choices": listed})]
    if value not in choices:
        return [Problem(name, f"{name}_unknown", {"value": value, "choices": listed})]
    return []


def validate_issue(draft: IssueDraft) -> list[Problem]:
    """Return every problem of a need found on a visit.

    >>> [p.code for p in validate_issue(IssueDraft("", "street"))]
    ['category_missing', 'level_bad']
    """
    out: list[Problem] = []
    category = (draft.category or "").strip()
    if not category:
        out.append(Problem("category", "category_missing"))
    elif len(category) > MAX_CATEGORY:  # the rule of every issue (geo.issues): say it on the form
        out.append(Problem("category", "category_too_long", {"n": len(category), "max": MAX_CATEGORY}))
    if draft.level not in ISSUE_LEVELS:
        out.append(Problem("level", "level_bad", {"value": draft.level}))
    if len(draft.title or "") > MAX_TITLE:
        out.append(Problem("title", "title_too_long", {"n": len(draft.title), "max": MAX_TITLE}))
    return out


def _check_key(key: str | None) -> list[Problem]:
    if key is None:
        return []
    if not 1 <= len(key) <= MAX_KEY or not key.isprintable():
        return [Problem("key", "key_bad", {"max": MAX_KEY})]
    return []


# ------------------------------------------------------------ idempotency


def new_form_nonce() -> str:
    """Return a fresh random nonce for one rendering of a visit form (keep it in the session)."""
    return secrets.token_hex(8)


def form_key(nonce: str, draft: VisitDraft, issue: IssueDraft | None = None) -> str:
    """Return the idempotency key of a form submission: the form's nonce and a digest of its content.

    Submitting the same form twice with the same content gives the same key
    (one visit); changing anything and submitting again is a new visit.

    >>> d = VisitDraft("H1", "W1", dt.datetime(2024, 6, 28, 14, 0), "met")
    >>> form_key("ab", d) == form_key("ab", d), form_key("ab", d) == form_key("cd", d)
    (True, False)
    """
    parts = [
        draft.household_id,
        draft.worker_id,
        draft.visited_at.isoformat(timespec="seconds") if draft.visited_at else None,
        draft.outcome,
        draft.channel,
        draft.note,
    ]
    if issue is not None:
        parts += ["issue", issue.category, issue.level, issue.title]
    digest = hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()
    return f"form:{nonce}:{digest[:24]}"


# ----------------------------------------------------------------- writing


def submit_visit(
    store: Store,
    draft: VisitDraft,
    *,
    scope: Scope,
    idem_key: str | None = None,
    issue: IssueDraft | None = None,
    now: dt.datetime | None = None,
    known_households: Collection[str] | None = None,
    known_workers: Collection[str] | None = None,
) -> Recorded:
    """Validate a visit (and the need found on it) and store it, or raise :class:`VisitInvalid`.

    Parameters
    ----------
    store
        The database; its settings give the working day and issue time limits.
    scope
        The caller's area: a household or worker outside it counts as unknown.
    draft, issue
        What was entered.
    idem_key
        The idempotency key: a second submission with the same key writes
        nothing and returns the first visit (``created=False``).
    now
        The current local time (default :func:`local_now`).
    known_households, known_workers
        Ids known to exist (e.g. the grid's, already read); by default the
        store is asked about the draft's two ids.

    Returns
    -------
    Recorded
        ``(visit_id, created, issue_id)``.
    """
    settings = store.settings
    now = now or local_now(settings)

    def problems_with(households: Collection[str] | None, workers: Collection[str] | None) -> list[Problem]:
        found = validate_visit(
            draft,
            now=now,
            day_start=settings.day_start,
            office_close=settings.office_close,
            known_households=households,
            known_workers=workers,
        )
        return found + (validate_issue(issue) if issue is not None else []) + _check_key(idem_key)

    if not scope.is_everything and (known_households is None or known_workers is None):
        # A restricted caller may record visits only in its own area: ask up front, not only on failure.
        hh, ww = known_ids(
            store,
            scope=scope,
            households=[draft.household_id] if draft.household_id else [],
            workers=[draft.worker_id] if draft.worker_id else [],
        )
        known_households = hh if known_households is None else known_households
        known_workers = ww if known_workers is None else known_workers
    problems = problems_with(known_households, known_workers)
    if problems and (known_households is None or known_workers is None):
        # Report unknown ids together with the other problems.
        hh, ww = known_ids(
            store,
            scope=scope,
            households=[draft.household_id] if draft.household_id else [],
            workers=[draft.worker_id] if draft.worker_id else [],
        )
        problems = problems_with(
            hh if known_households is None else known_households,
            ww if known_workers is None else known_workers,
        )
    if problems:
        raise VisitInvalid(problems)
    assert draft.household_id and draft.worker_id and draft.visited_at and draft.outcome and draft.channel
    visit = NewVisit(
        household_id=draft.household_id,
        worker_id=draft.worker_id,
        visited_at=draft.visited_at.replace(tzinfo=None, microsecond=0),
        outcome=draft.outcome,
        channel=draft.channel,
        note=(draft.note or "").strip(),
    )
    new_issue = None
    if issue is not None:
        assert issue.category and issue.level
        new_issue = NewIssue(
            category=issue.category.strip(),
            level=issue.level,
            title=(issue.title or "").strip() or issue.category.strip(),
        )
    try:
        return record_visit(store, visit, idem_key=idem_key, issue=new_issue, scope=scope)
    except UnknownRecord as exc:
        raise VisitInvalid([Problem(exc.kind, f"{exc.kind}_unknown", {"id": exc.record_id})]) from None


def run_visit_add(
    *,
    db: str | None,
    household: str,
    worker: str,
    outcome: str,
    at: str | None = None,
    channel: str = "door",
    note: str = "",
    key: str | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Do what ``sibai visit add`` does and return its one-line report.

    Raises :class:`VisitInvalid` (a ``ValueError``) listing every problem, or
    a :class:`~geo.store.StoreError`; nothing is written then.
    """
    from geo.store import open_store

    with open_store(db) as store:
        now = now or local_now(store.settings)
        when = parse_visit_time(at, now=now)
        draft = VisitDraft(household, worker, when, outcome, channel, note or "")
        # The CLI is an operator's tool on the server: it sees the whole district.
        done = submit_visit(store, draft, scope=Scope.everything(), idem_key=key, now=now)
    if done.created:
        return f"recorded visit #{done.visit_id}: {household} {outcome} by {worker} at {_fmt(when)}"
    return f"visit #{done.visit_id} was already recorded with key {key!r}; nothing written"
