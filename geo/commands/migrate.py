"""``sibai migrate``: upgrade a database made by an earlier version to the current schema, in place.

The app does the same at start (``Store.create_schema``); this is for a file
that the command line alone uses, or to see what changes. One transaction:
a failure leaves the file as it was (``docs/data-model.md``, "Upgrading").
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def cmd_migrate(args: argparse.Namespace) -> int:
    """Upgrade the district's database and print each change (or that there was none)."""
    from geo.commands import open_district
    from geo.store import schema

    with open_district(args.db) as store:
        done = store.upgrade()
    for step in done:
        print(step)
    print(
        f"upgraded to schema {schema.SCHEMA_VERSION}"
        if done
        else f"already at schema {schema.SCHEMA_VERSION}"
    )
    return 0


def add_commands(add: Callable[..., Any]) -> None:
    """Add ``migrate`` to the ``sibai`` command."""
    add("migrate", "upgrade a database made by an earlier version, in place (one transaction)", cmd_migrate)
