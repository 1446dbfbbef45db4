"""``sibai audit list|export|prune``: read, export and trim the audit trail.

The trail is append-only (the database refuses changes and deletions);
``prune`` is the only way rows leave, and it logs itself. Exporting is logged
too (``audit_export``). See ``docs/security.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from geo.commands import Add, date_arg, subcommands
from geo.commands.user import cli_actor


def _plain(value: Any) -> Any:
    if value is None or value != value:
        return None
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if hasattr(value, "item"):
        return value.item()
    return value


def cmd_audit(args: argparse.Namespace) -> int:
    return int(args.audit_func(args))


def _read(args: argparse.Namespace) -> Any:
    from geo.commands import open_district
    from geo.store import audit

    with open_district(args.db) as store:
        return audit.read(store, since=args.since, until=args.until, who=args.who, action=args.action)


def cmd_list(args: argparse.Namespace) -> int:
    from geo.export import neutralise

    frame = _read(args)
    if args.format == "json":
        records = [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]
        json.dump(records, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        out = frame.copy()
        for col in ("who", "target", "detail"):
            out[col] = out[col].map(neutralise)
        out.to_csv(sys.stdout, index=False, date_format="%Y-%m-%d %H:%M:%S")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from geo.commands import open_district
    from geo.export import write_export
    from geo.store import audit

    with open_district(args.db) as store:
        frame = audit.read(store, since=args.since, until=args.until, who=args.who, action=args.action)
        path = write_export(frame, args.file, lang=args.lang)
        what = f"{len(frame)} row(s)"
        if args.since or args.until or args.who or args.action:
            what += f" (since={args.since or ''} until={args.until or ''} who={args.who or ''} " \
                    f"action={args.action or ''})"  # fmt: skip
        audit.log(store, who=cli_actor(), role="cli", action="audit_export", target=f"file:{path.name}",
                  detail=what)  # fmt: skip
    print(f"wrote {len(frame)} audit row(s) to {path}")
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    from geo.commands import open_district
    from geo.store import audit

    with open_district(args.db) as store:
        days = args.keep_days if args.keep_days is not None else store.settings.audit_keep_days
        deleted = audit.prune(store, keep_days=days, by=cli_actor())
    print(f"deleted {deleted} audit row(s) older than {days} days (the prune itself is logged)")
    return 0


def add_commands(add: Add) -> None:
    """Add ``audit list|export|prune`` to the ``sibai`` command."""
    from geo.store.audit import ACTIONS

    audit_p = add("audit", "list, export or prune the audit trail (who did what, when)", cmd_audit)
    sub_parser = subcommands(audit_p, metavar="list|export|prune", func_key="audit_func")

    def filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--since", type=date_arg, default=None, metavar="YYYY-MM-DD", help="from this day on")
        p.add_argument(
            "--until", type=date_arg, default=None, metavar="YYYY-MM-DD", help="up to this day, inclusive"
        )
        p.add_argument("--who", default=None, metavar="USER", help="only this actor")
        p.add_argument("--action", default=None, choices=ACTIONS, metavar="ACTION",
                       help=f"only this action: {', '.join(ACTIONS)}")  # fmt: skip

    ls = sub_parser("list", "print audit rows, newest first", cmd_list)
    filters(ls)
    ls.add_argument("--format", choices=["csv", "json"], default="csv")

    ex = sub_parser("export", "write audit rows to an .xlsx or .csv file (logged)", cmd_export)
    ex.add_argument("file", metavar="FILE.xlsx|FILE.csv")
    filters(ex)
    ex.add_argument("--lang", choices=["zh", "en"], default="zh", help="column headers' language")

    pr = sub_parser("prune", "delete audit rows older than the retention period (logged)", cmd_prune)
    pr.add_argument("--keep-days", type=int, default=None, metavar="N",
                    help="keep this many days (default: the audit_keep_days setting)")  # fmt: skip
