"""``sibai visit add``: record one visit through the same validation as the grid page."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from geo.store import CHANNELS, OUTCOMES


def cmd_visit_add(args: argparse.Namespace) -> int:
    """Validate and record one visit; print one line saying what happened."""
    from geo.visits import run_visit_add

    print(
        run_visit_add(
            db=args.db,
            household=args.household,
            worker=args.worker,
            outcome=args.outcome,
            at=args.at,
            channel=args.channel,
            note=args.note,
            key=args.key,
        )
    )
    return 0


def add_commands(add: Callable[..., Any]) -> None:
    """Add ``visit add`` to the ``sibai`` command."""
    visit = add("visit", "record visits", lambda _a: 2)
    actions = visit.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser(
        "add",
        help="record one visit (validated; idempotent with --key)",
        description="record one visit (validated; idempotent with --key)",
    )
    p.add_argument("--db", default=visit.get_default("db"), help="database file or postgresql:// URL")
    p.add_argument("--household", required=True, metavar="H", help="household id, e.g. H0000001")
    p.add_argument("--worker", required=True, metavar="W", help="worker id, e.g. W0001")
    p.add_argument("--outcome", required=True, choices=OUTCOMES)
    p.add_argument("--at", default=None, metavar='"YYYY-MM-DD HH:MM"', help="local time (default: now)")
    p.add_argument("--channel", default="door", choices=CHANNELS)
    p.add_argument("--note", default="", metavar="TEXT", help="visit note (民情笔记)")
    p.add_argument(
        "--key", default=None, metavar="K", help="idempotency key: the same key never records twice"
    )
    p.set_defaults(func=cmd_visit_add)
