"""``sibai route GRID_ID``: today's walk for a grid, as JSON or CSV."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from typing import Any


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
    """Plan the walk and print it."""
    from geo.cli import CliError
    from geo.store import open_store
    from geo.walks import plan_grid_walk, walk_inputs

    if args.end <= args.start:
        raise CliError(f"the walk ends ({args.end}) before it starts ({args.start})")
    with open_store(args.db) as store:
        inputs = walk_inputs(store, args.grid_id)
    walk, _ = plan_grid_walk(
        inputs, on=args.date, start=args.start, end=args.end, minutes_per_visit=args.minutes_per_visit
    )
    if args.format == "json":
        sys.stdout.write(walk.to_json() + "\n")
    else:
        out = walk.stops[["order", "building_id", "arrive", "leave", "walk_m"]].copy()
        out["household_ids"] = [" ".join(ids) for ids in walk.stops["household_ids"]]
        out.to_csv(sys.stdout, index=False, float_format="%.0f")
    return 0


def add_commands(add: Callable[..., Any]) -> None:
    """Add ``route`` to the ``sibai`` command."""
    p = add("route", "plan today's walk for a grid (ends by 15:30 by default)", cmd_route)
    p.add_argument("grid_id", metavar="GRID_ID")
    p.add_argument("--date", type=_date, default=dt.date.today(), help="the day (default: today)")
    p.add_argument("--worker", default=None, help="the worker walking (recorded in the output only)")
    p.add_argument("--start", type=_clock, default="13:00", metavar="HH:MM")
    p.add_argument("--end", type=_clock, default="15:30", metavar="HH:MM")
    p.add_argument("--minutes-per-visit", type=float, default=8.0, metavar="N")
    p.add_argument("--format", choices=["json", "csv"], default="json")
