"""``sibai user add|list|disable|passwd``: local accounts from the command line.

Passwords are read as one line from standard input (``--password-stdin``),
never from an argument: arguments show in ``ps`` and in shell history. See
``docs/security.md``.

Examples
--------
.. code-block:: bash

    printf '%s\\n' "$PASSWORD" | sibai user add wang --role grid --area G0001 --password-stdin
    sibai user list --format csv
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import IO, Any

from geo.commands import Add, open_district, subcommands

ROLES = ("district", "street", "committee", "grid")


def cli_actor() -> str:
    """Return who runs the command, for the audit trail: ``cli:<operating-system user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no user name in the environment or the password database
        return "cli"


def read_password(stream: IO[str] | None = None) -> str:
    """Read one line from ``stream`` (standard input) as the password, without its line ending.

    Refuses a terminal: the option means *piped in*, and a silent wait for
    typing would look like a hang.

    Examples
    --------
    >>> import io
    >>> read_password(io.StringIO("s3cret-pass\\nignored\\n"))
    's3cret-pass'
    >>> read_password(io.StringIO(""))
    Traceback (most recent call last):
    ...
    ValueError: --password-stdin read nothing: pipe the password in, e.g. printf ...
    """
    stream = sys.stdin if stream is None else stream
    if stream is None or (hasattr(stream, "isatty") and stream.isatty()):
        raise ValueError(
            "--password-stdin reads the password from a pipe, not a terminal: "
            """printf '%s\\n' "$PW" | sibai user ..."""
        )
    line = stream.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise ValueError(
            "--password-stdin read nothing: pipe the password in, e.g. "
            """printf '%s\\n' "$PW" | sibai user ..."""
        )
    return password


def cmd_user(args: argparse.Namespace) -> int:
    return int(args.user_func(args))


def cmd_add(args: argparse.Namespace) -> int:
    from geo.auth import add_user

    if not args.password_stdin and not args.sso:
        raise ValueError("give --password-stdin (and pipe the password in), or --sso for single sign-on only")
    password = read_password() if args.password_stdin else None
    with open_district(args.db) as store:
        user = add_user(
            store, args.name, role=args.role, areas=args.area, password=password, sso=args.sso, by=cli_actor()
        )
    where = f" for {', '.join(user.areas)}" if user.areas else ""
    sso = f", single sign-on as {user.sso}" if user.sso else ""
    print(f"added user {user.name}: {user.role}{where}{sso}")
    return 0


def _plain(value: Any) -> Any:
    if value is None or value != value:  # None, NaN, NaT
        return None
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if hasattr(value, "item"):
        return value.item()
    return value


def cmd_list(args: argparse.Namespace) -> int:
    from geo.auth import list_users

    with open_district(args.db) as store:
        frame = list_users(store)
    records = [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]
    if args.format == "json":
        json.dump(records, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    elif args.format == "csv":
        from geo.export import neutralise

        out = frame.copy()
        for col in ("name", "areas", "sso"):
            out[col] = out[col].map(neutralise)
        out.to_csv(sys.stdout, index=False, date_format="%Y-%m-%d %H:%M:%S")
    else:
        if not records:
            print("no users yet: add one with `sibai user add NAME --role ... --password-stdin`")
            return 0
        cols = ["name", "role", "areas", "disabled", "sso", "created_at", "last_login"]
        rows = [
            [("yes" if r[c] else "") if c == "disabled" else str(r[c] or "") for c in cols] for r in records
        ]
        widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
        print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
        for row in rows:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    from geo.auth import disable_user

    with open_district(args.db) as store:
        disable_user(store, args.name, by=cli_actor())
    print(f"disabled user {args.name.strip().lower()}: no sign-in from now on")
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    from geo.auth import set_password

    password = read_password()
    with open_district(args.db) as store:
        set_password(store, args.name, password, by=cli_actor())
    print(f"set a new password for {args.name.strip().lower()} (and cleared any lockout)")
    return 0


def add_commands(add: Add) -> None:
    """Add ``user add|list|disable|passwd`` to the ``sibai`` command."""
    user = add("user", "manage local accounts: add, list, disable, set a password", cmd_user)
    sub_parser = subcommands(user, metavar="add|list|disable|passwd", func_key="user_func")

    a = sub_parser("add", "add a user with a role over one or more areas", cmd_add)
    a.add_argument("name", metavar="NAME")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--area", action="append", default=[], metavar="ID",
                   help="a street, committee or grid id (the role's level); repeat for several")  # fmt: skip
    a.add_argument(
        "--sso", default=None, metavar="EMAIL", help="the e-mail of the user's single-sign-on identity"
    )
    a.add_argument("--password-stdin", action="store_true", help="read the password as one line from stdin")

    ls = sub_parser("list", "list users (never their passwords)", cmd_list)
    ls.add_argument("--format", choices=["table", "csv", "json"], default="table")

    d = sub_parser("disable", "disable a user: no sign-in from now on", cmd_disable)
    d.add_argument("name", metavar="NAME")

    p = sub_parser("passwd", "set a user's password (and clear a lockout)", cmd_passwd)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--password-stdin", action="store_true", required=True,
                   help="read the password as one line from stdin")  # fmt: skip
