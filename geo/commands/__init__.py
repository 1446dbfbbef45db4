"""Subcommands of ``sibai`` beyond the foundation's, one module per domain noun.

Each module defines ``add_commands(add)``; ``geo.cli`` finds the modules here
by itself, so a new command needs no edit elsewhere. Errors a person can act on
are raised as ``geo.cli.CliError`` (or ``ValueError`` / ``StoreError``): the
CLI prints one line and exits 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geo.store import Store

Add = Callable[[str, str, Callable[[argparse.Namespace], int]], argparse.ArgumentParser]
"""What ``add_commands`` receives: ``add(name, help, func)`` returns the command's parser."""

DB_HELP = "database file or postgresql:// URL (default: as for the command)"


class NoDistrict(LookupError):
    """The database a command was pointed at holds no district (no sibai tables)."""


def open_district(db: str) -> Store:
    """Open an existing database that holds a district; raise :class:`NoDistrict` otherwise.

    Every command that reads or changes a district opens it here, so a wrong
    ``--db`` gets the same one-line answer from each of them.
    """
    from geo.store import open_store

    store = open_store(db)
    if not store.has_schema():
        store.close()
        # Name the file or database, never a URL (it may carry a password).
        where = str(store.path) if store.path is not None else f"database {store.engine.url.database}"
        raise NoDistrict(f"{where} holds no district (no sibai tables); build one with `sibai demo --db ...`")
    return store


def date_arg(text: str) -> dt.date:
    """Parse a ``YYYY-MM-DD`` argument (argparse prints the error on one line).

    Examples
    --------
    >>> date_arg("2026-11-26")
    datetime.date(2026, 11, 26)
    """
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; expected YYYY-MM-DD") from None


def subcommands(
    parent: argparse.ArgumentParser, *, metavar: str, func_key: str
) -> Callable[[str, str, Callable[[argparse.Namespace], int]], argparse.ArgumentParser]:
    """Return ``sub(name, help, func)`` adding a verb under ``parent`` (``sibai user add``…).

    Each verb takes ``--db``; the chosen verb's function is stored in the
    namespace under ``func_key`` for the command's own dispatcher.
    """
    sub = parent.add_subparsers(dest=f"{func_key}_verb", required=True, metavar=metavar)

    def add(name: str, help_: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--db", default=argparse.SUPPRESS, help=DB_HELP)
        p.set_defaults(**{func_key: func})
        return p

    return add
