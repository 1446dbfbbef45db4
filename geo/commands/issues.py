"""``sibai escalate`` and ``sibai issue show|move``: the escalation ladder from the command line.

``sibai escalate`` is meant for a timer (cron, a systemd timer): it records
every escalation the clock has made, and running it again changes nothing
more. See ``docs/issues.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from typing import Any

from geo import issues as rules
from geo.commands import open_district

Add = Callable[[str, str, Callable[[argparse.Namespace], int]], argparse.ArgumentParser]


def parse_now(text: str) -> dt.datetime:
    """Parse ``--now``: ``YYYY-MM-DD HH:MM`` (seconds optional), local time.

    Examples
    --------
    >>> parse_now("2024-06-28 16:00")
    datetime.datetime(2024, 6, 28, 16, 0)
    >>> parse_now("28/06/2024")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: '28/06/2024' is not a time; expected "YYYY-MM-DD HH:MM"
    """
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f'{text!r} is not a time; expected "YYYY-MM-DD HH:MM"')


def _stamp(value: Any) -> str:
    if value is None or value != value:
        return "—"
    return f"{value:%Y-%m-%d %H:%M:%S}"


def cmd_escalate(args: argparse.Namespace) -> int:
    from geo.clock import local_now
    from geo.issues.workflow import escalate_all

    with open_district(args.db) as store:
        now = args.now or local_now(store.settings)
        done = escalate_all(store, now=now)
    when = f"{now:%Y-%m-%d %H:%M}"
    if done.issues == 0:
        print(f"no issue is past its time limit at {when}: nothing changed")
        return 0
    steps = len(done.steps)
    print(f"escalated {done.issues} issue(s) at {when} ({steps} step(s) up the ladder):")
    for row in done.per_level().itertuples(index=False):
        print(f"  {row.from_level:>9} → {row.to_level:<9} {row.issues:6d}")
    return 0


def cmd_issue(args: argparse.Namespace) -> int:
    return int(args.issue_func(args))


def cmd_issue_show(args: argparse.Namespace) -> int:
    from geo.clock import local_now
    from geo.issues.workflow import issue_detail
    from geo.store import Scope

    with open_district(args.db) as store:
        now = args.now or local_now(store.settings)
        d = issue_detail(store, args.id, scope=Scope.everything(), now=now)  # operator tool: all
    r, s = d.row, d.state
    print(f"issue #{r['issue_id']}: {r['title']}")
    print(f"  category   {r['category']}   source {r['source']}")
    place = " / ".join(str(x) for x in (r["street_id"], r["committee_id"], r["grid_id"], r["building_id"],
                                         r["household_id"]) if x)  # fmt: skip
    print(f"  where      {place}")
    print(f"  opened     {_stamp(r['opened_at'])}")
    late = " — OVERDUE" if s.is_open and s.due_at < now else ""
    due = f", due {_stamp(s.due_at)}{late}" if s.is_open else ""
    print(f"  now        {s.status} at {s.level} level{due}")
    if s.closed_at is not None:
        print(f"  closed     {_stamp(s.closed_at)}")
    if d.timed_out:
        print(f"  missed     {d.timed_out} time limit(s) since it was last (re)opened")
    print(f"  next       {', '.join(d.actions) or 'nothing (closed issues can only be reopened)'}")
    print("history:")
    for e in d.history.itertuples(index=False):
        move = e.to_status if e.from_status in (None, e.to_status) else f"{e.from_status} → {e.to_status}"
        if e.from_level not in (None, e.to_level):
            move += f", {e.from_level} → {e.to_level}"
        elif e.action == "found":
            move += f" at {e.to_level} level"
        who = e.actor or "(not recorded)"
        flag = "" if e.recorded else "  [not recorded yet]" if e.action == "escalate" else "  [implied]"
        note = f" — {e.note}" if e.note else ""
        print(f"  {_stamp(e.at)}  {e.action:<9} {who:<12} {move}{note}{flag}")
    return 0


def cmd_issue_move(args: argparse.Namespace) -> int:
    from geo.issues.workflow import transition
    from geo.store import Scope

    with open_district(args.db) as store:
        # A refusal (geo.issues.TransitionRefused, a ValueError) prints as one line and exits 1.
        moved = transition(
            store,
            args.id,
            args.action,
            actor=args.actor,
            note=args.note or "",
            at=args.at,
            scope=Scope.everything(),  # operator tool: all
        )
    for e in moved.events[:-1]:
        print(
            f"issue #{moved.issue_id}: escalated {e.from_level} → {e.to_level} at {_stamp(e.at)} (time limit)"
        )
    e = moved.events[-1]
    s = moved.state
    change = f"{e.from_status} → {e.to_status}" if e.from_status != e.to_status else e.to_status
    if e.from_level != e.to_level:
        change += f", {e.from_level} → {e.to_level}"
    due = "" if s.status == "closed" else f"; due {_stamp(s.due_at)}"
    print(f"issue #{moved.issue_id}: {e.action} by {e.actor} at {_stamp(e.at)}: {change}{due}")
    return 0


def add_commands(add: Add) -> None:
    """Add ``escalate`` and ``issue show|move`` to the ``sibai`` command."""
    esc = add(
        "escalate",
        "move every open issue past its time limit up the ladder (safe to run repeatedly)",
        cmd_escalate,
    )
    esc.add_argument("--now", type=parse_now, default=None, metavar='"YYYY-MM-DD HH:MM"',
                     help="the moment to escalate to (default: now, local time)")  # fmt: skip

    issue = add("issue", "show an issue and its history, or move it through its lifecycle", cmd_issue)
    sub = issue.add_subparsers(dest="issue_command", required=True, metavar="show|move")
    db_help = "database file or postgresql:// URL (default: as for the command)"

    show = sub.add_parser("show", help="show an issue and its full history", description="show an issue")
    show.add_argument("id", type=int, metavar="ID")
    show.add_argument("--db", default=argparse.SUPPRESS, help=db_help)
    show.add_argument("--now", type=parse_now, default=None, metavar='"YYYY-MM-DD HH:MM"',
                      help="the moment to show it at (default: now)")  # fmt: skip
    show.set_defaults(issue_func=cmd_issue_show)

    move = sub.add_parser(
        "move", help="dispatch, handle, verify, close, reopen or refer an issue", description="move an issue"
    )
    move.add_argument("id", type=int, metavar="ID")
    move.add_argument("--action", required=True, choices=rules.ACTIONS)
    move.add_argument("--actor", required=True, metavar="W", help="who acts (a worker id or name)")
    move.add_argument("--note", default="", metavar="T")
    move.add_argument("--at", type=parse_now, default=None, metavar='"YYYY-MM-DD HH:MM"',
                      help="when it happened (default: now)")  # fmt: skip
    move.add_argument("--db", default=argparse.SUPPRESS, help=db_help)
    move.set_defaults(issue_func=cmd_issue_move)
