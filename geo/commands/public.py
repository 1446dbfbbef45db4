"""``sibai export-public OUTDIR``: the public summary as a static site (see ``docs/public.md``)."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from typing import Any


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; expected YYYY-MM-DD") from None


def cmd_export_public(args: argparse.Namespace) -> int:
    """Build the public summary of the database and write the static site."""
    from geo.cli import _progress
    from geo.commands import open_district
    from geo.public import summary_from_store
    from geo.site import write_site

    update, close = _progress(not args.quiet)
    try:
        with open_district(args.db) as store:
            summary = summary_from_store(
                store,
                today=args.today,
                progress=lambda f, m: update(0.85 * f, m),
            )
        report = write_site(args.outdir, summary, progress=lambda f, m: update(0.85 + 0.15 * f, m))
    finally:
        close()
    print(
        f"wrote the public summary (data as of {summary.end.isoformat()}, "
        f"{summary.start.isoformat()} to {summary.end.isoformat()}) to {report.path}: "
        f"{len(report.files)} files, {report.bytes / 1024:,.0f} KB; open {report.path / 'index.html'}"
    )
    return 0


def add_commands(add: Callable[..., Any]) -> None:
    """Add ``export-public`` to the ``sibai`` command."""
    p = add(
        "export-public",
        "write the public summary map as a static site (no personal data, small counts hidden)",
        cmd_export_public,
    )
    p.add_argument("outdir", metavar="OUTDIR", help="folder to write (new, empty, or an earlier export)")
    p.add_argument(
        "--today",
        type=_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="reporting day; the data is as of the Sunday before it "
        "(default: today, or a demo district's as-of day)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
