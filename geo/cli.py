"""The ``sibai`` command: build the demo district, report coverage, check integrity.

Every command takes ``--db`` (default: the ``SIBAI_DB`` setting, else
``data/putuo.gpkg``). Errors print one line naming the problem and exit 1;
usage errors exit 2. See ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from geo.settings import Settings

EXIT_ERROR = 1


class CliError(Exception):
    """A problem to report on one line."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; expected YYYY-MM-DD") from None


def _progress(enabled: bool) -> tuple[Callable[[float, str], None], Callable[[], None]]:
    """Return a progress callback drawing a tqdm bar on stderr, and a closer."""
    if not enabled:
        return (lambda _f, _m: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=100, unit="%", file=sys.stderr, bar_format="{l_bar}{bar}| {elapsed}")

    def update(fraction: float, message: str) -> None:
        bar.set_description(message[:28].ljust(28))
        bar.update(max(0, round(fraction * 100) - bar.n))

    return update, bar.close


def cmd_demo(args: argparse.Namespace) -> int:
    from geo.auth import create_demo_accounts
    from geo.demo import install_demo
    from geo.store import open_store
    from geo.synth import START

    # Refuse bad input before the database file is created.
    if args.as_of is not None and args.as_of < START:
        raise CliError(f"--as-of {args.as_of} is before the programme's start {START}")
    update, close = _progress(not args.quiet)
    try:
        with open_store(args.db, create=True) as store:
            counts = install_demo(store, scale=args.scale, seed=args.seed, as_of=args.as_of, progress=update)
            accounts = create_demo_accounts(store)
    finally:
        close()
    summary = ", ".join(f"{k} {v:,}" for k, v in counts.items())
    print(f"built the {args.scale} synthetic district into {args.db}: {summary}")
    # Demo only: fixed, documented passwords (docs/security.md); a real deployment adds its own users.
    print("demo accounts (demo only; sign in on the app's login page):")
    for name, role, password, areas in accounts:
        print(f"  {name:<15} password {password}  {role:<9} {', '.join(areas) or '(whole district)'}")
    return 0


def _now(text: str) -> dt.datetime:
    from geo.commands.issues import parse_now

    return parse_now(text)


def cmd_coverage(args: argparse.Namespace) -> int:
    from geo.live import LiveCoverage

    if args.to < args.from_:
        raise CliError(f"the period ends ({args.to}) before it starts ({args.from_})")
    from geo.commands import open_district

    with open_district(args.db) as store:
        # The CLI is an operator's tool on the server: it reads the whole district (docs/security.md),
        # from the snapshot that the app keeps beside the database (built and saved if there is none).
        index = LiveCoverage(store).current()
    from geo.clock import local_now
    from geo.figures import counted_at

    # Issue counts move with the escalation clock: taken at one moment (the app's: now), printed with them.
    now = args.now or local_now(store.settings)
    frame = index.coverage(args.from_, args.to, level=args.level, now=now)
    frame = frame.reset_index().rename(columns={f"{args.level}_id": "id"})
    frame["as_of"] = f"{counted_at(args.to, now):%Y-%m-%d %H:%M:%S}"
    if args.format == "json":
        records: list[dict[str, Any]] = frame.to_dict("records")
        for r in records:
            if r["coverage"] != r["coverage"]:  # NaN: no occupied households
                r["coverage"] = None
        json.dump(records, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        frame.to_csv(sys.stdout, index=False, float_format="%.4f")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from geo.commands import open_district
    from geo.integrity import check_district

    with open_district(args.db) as store:
        result = check_district(store)
    width = max(len(c) for c in result["check"])
    for check, n in result.itertuples(index=False):
        print(f"{'ok ' if n == 0 else 'BAD'}  {check.ljust(width)}  {n}")
    bad = int((result["problems"] > 0).sum())
    print("all checks passed" if bad == 0 else f"{bad} check(s) found problems")
    return 0 if bad == 0 else EXIT_ERROR


#: Commands whose own module is all the parser needs. ``sibai serve`` starts the server before
#: anything imports the store's libraries (pandas, geopandas, SQLAlchemy: about a second, which
#: other commands' modules import), so that a restart answers the browser at once and the
#: browser loads the page while the server imports them (docs/benchmarks.md, "Restart").
ALONE = {"serve": "serve"}


def build_parser(*, only: str | None = None) -> argparse.ArgumentParser:
    """Return the argument parser of the ``sibai`` command (only module ``only``'s commands, if given)."""
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="sibai", description="Sibai Grid Map (四百网格地图) command line")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument(
            "--db",
            default=settings.db,
            help="database file or postgresql:// URL (default: %(default)s)",
        )
        p.set_defaults(func=func)
        return p

    if only is None:
        _add_builtin(add)
    for module in command_modules(only):
        module.add_commands(add)
    return parser


def _add_builtin(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add the commands defined in this module: ``demo``, ``coverage`` and ``check``."""
    demo = add("demo", "build the synthetic Putuo district (replaces the database's data)", cmd_demo)
    demo.add_argument("--scale", choices=["full", "street", "tiny"], default="full")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument(
        "--as-of", type=_date, default=None, help="last day of activity (default: yesterday: all of it past)"
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bar")

    cov = add("coverage", "print visit coverage per area for a period", cmd_coverage)
    cov.add_argument("--from", dest="from_", type=_date, required=True, metavar="YYYY-MM-DD")
    cov.add_argument("--to", type=_date, required=True, metavar="YYYY-MM-DD")
    cov.add_argument(
        "--level", choices=["grid", "committee", "street", "district", "building"], default="grid"
    )
    cov.add_argument("--format", choices=["csv", "json"], default="csv")
    cov.add_argument(
        "--now",
        type=_now,
        default=None,
        metavar='"YYYY-MM-DD HH:MM"',
        help="count issues as at this local time (default: now), as the app does",
    )

    add("check", "check integrity: references, geometries, counts", cmd_check)


def command_modules(only: str | None = None) -> list[Any]:
    """Return the modules of ``geo.commands`` (or just ``only``), each adding commands: ``add_commands(add)``.

    ``add(name, help, func)`` returns the subparser (with ``--db`` already on it);
    a module may also add nested subcommands through the parser it gets back.
    """
    import importlib
    import pkgutil

    import geo.commands

    if only is not None:
        return [importlib.import_module(f"geo.commands.{only}")]
    return [
        importlib.import_module(f"geo.commands.{info.name}")
        for info in sorted(pkgutil.iter_modules(geo.commands.__path__), key=lambda i: i.name)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sibai`` command; return its exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=ALONE.get(words[0]) if words else None)
    args = parser.parse_args(words)
    try:
        return int(args.func(args))
    except (CliError, _store_error(), ValueError, LookupError) as exc:  # evaluated only on an error
        print(f"sibai {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # a file that cannot be read or written: one line, never a traceback
        where = f" {exc.filename}" if exc.filename else ""
        print(f"sibai {args.command}: error:{where} {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"sibai {args.command}: interrupted; nothing was written", file=sys.stderr)
        return 130


def _store_error() -> type[Exception]:
    """Return ``geo.store.StoreError``, importing the store only when a command has failed."""
    from geo.store import StoreError

    return StoreError


if __name__ == "__main__":  # pragma: no cover
    # Run through the imported module, so that geo.cli.CliError raised by command
    # modules is the same class that main() catches (not __main__.CliError).
    import importlib

    sys.exit(importlib.import_module("geo.cli").main())
