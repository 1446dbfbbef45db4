"""``sibai route GRID_ID`` (one walk) or ``sibai route --team COMMITTEE_ID`` (分片包干), as JSON or CSV."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from typing import Any

from geo.settings import Settings


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; expected YYYY-MM-DD") from None


def _clock(text: str) -> str:
    try:
        dt.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time; expected HH:MM") from None
    return text


def cmd_route(args: argparse.Namespace) -> int:
    """Plan the walk (or the team's walks) and print it."""
    from geo.cli import CliError
    from geo.store import Scope, open_store
    from geo.walks import plan_grid_walk, plan_team_walk, team_inputs, walk_inputs

    if args.end <= args.start:
        raise CliError(f"the walk ends ({args.end}) before it starts ({args.start})")
    if (args.grid_id is None) == (args.team is None):
        raise CliError("give either GRID_ID (one worker's walk) or --team COMMITTEE_ID, not both")
    opts = {
        "on": args.date,
        "start": args.start,
        "end": args.end,
        "minutes_per_visit": args.minutes_per_visit,
    }
    # The command line is an administrator's tool: it sees the whole district.
    with open_store(args.db) as store:
        if args.team is not None:
            inputs = team_inputs(store, args.team, scope=Scope.everything(), day=args.date)
        else:
            inputs = walk_inputs(store, args.grid_id, scope=Scope.everything())
    if args.team is not None:
        plan, _ = plan_team_walk(inputs, **opts)
        if args.format == "json":
            sys.stdout.write(plan.to_json() + "\n")
            return 0
        rows = []
        for worker_id, walk in plan.walks.items():
            out = walk.stops[["order", "building_id", "arrive", "leave", "walk_m"]].copy()
            out.insert(0, "worker_id", worker_id)
            out["household_ids"] = [" ".join(ids) for ids in walk.stops["household_ids"]]
            rows.append(out)
        import pandas as pd

        pd.concat(rows, ignore_index=True).to_csv(sys.stdout, index=False, float_format="%.0f")
        return 0
    walk, _ = plan_grid_walk(inputs, **opts)
    if args.format == "json":
        sys.stdout.write(walk.to_json() + "\n")
    else:
        out = walk.stops[["order", "building_id", "arrive", "leave", "walk_m"]].copy()
        out["household_ids"] = [" ".join(ids) for ids in walk.stops["household_ids"]]
        out.to_csv(sys.stdout, index=False, float_format="%.0f")
    return 0


def add_commands(add: Callable[..., Any]) -> None:
    """Add ``route`` to the ``sibai`` command."""
    p = add("route", "plan today's walk for a grid, or share a committee's among its workers", cmd_route)
    p.add_argument("grid_id", metavar="GRID_ID", nargs="?", default=None)
    p.add_argument(
        "--team",
        metavar="COMMITTEE_ID",
        default=None,
        help="share the committee's due households among its workers (the on-duty worker stays in)",
    )
    p.add_argument("--date", type=_date, default=dt.date.today(), help="the day (default: today)")
    p.add_argument("--worker", default=None, help="the worker walking (recorded in the output only)")
    defaults = Settings.from_env()
    p.add_argument("--start", type=_clock, default=defaults.walk_start, metavar="HH:MM")
    p.add_argument("--end", type=_clock, default=defaults.day_end, metavar="HH:MM")
    p.add_argument("--minutes-per-visit", type=float, default=8.0, metavar="N")
    p.add_argument("--format", choices=["json", "csv"], default="json")
