"""``sibai serve``: start the app on its own server, caches warmed (``ui/server.py``, ``docs/cli.md``).

It listens on 127.0.0.1 unless told otherwise (``--host``, or the
``serve_host`` setting), and refuses to listen beyond this machine while demo
accounts, whose password is published, are enabled (``--allow-demo-accounts``
overrides that for a demo on a trusted network).

The core never imports streamlit: the launcher, which does, is imported only
inside the command, from the source checkout that holds ``app.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: The repository root: the folder that holds ``app.py``, ``pages/`` and ``ui/`` beside ``geo/``.
ROOT = Path(__file__).resolve().parents[2]


LOOPBACK = ("127.0.0.1", "localhost", "::1")
"""Addresses that only this machine can reach."""


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` is reachable from this machine only.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("127.0.1.1"), is_loopback("0.0.0.0"), is_loopback("::")
    (True, True, False, False)
    """
    return host in LOOPBACK or host.startswith("127.")


def check_exposure(db: str, host: str, *, allow_demo_accounts: bool) -> None:
    """Refuse to open the app beyond this machine while demo accounts (known passwords) are enabled."""
    from geo.cli import CliError

    if is_loopback(host) or allow_demo_accounts:
        return
    from geo.auth import enabled_demo_accounts
    from geo.store import open_store

    with open_store(db) as store:
        demo = enabled_demo_accounts(store) if store.has_schema() else []
    if demo:
        raise CliError(
            f"refusing to listen on {host}: demo accounts with a published password are enabled "
            f"({', '.join(demo)}); disable them (`sibai user disable NAME`) or, for a demo on a "
            "trusted network, add --allow-demo-accounts"
        )


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the Streamlit app on ``--db``, warming its caches once the server is up."""
    from geo.cli import CliError
    from geo.settings import Settings

    if not (ROOT / "app.py").is_file() or not (ROOT / "ui" / "server.py").is_file():
        raise CliError(
            f"no app next to the geo package ({ROOT / 'app.py'} is missing); "
            "run `python -m pip install -e .` in the repository and start it from there"
        )
    flags = list(args.streamlit_flags)
    if any(f == "--server.address" or f.startswith("--server.address=") for f in flags):
        raise CliError("give the address to listen on with --host, not --server.address")
    host = args.host or Settings.from_env().serve_host
    check_exposure(args.db, host, allow_demo_accounts=args.allow_demo_accounts)
    flags = ["--server.address", host, *flags]
    if not any(f.startswith("--server.fileWatcherType") for f in flags):
        # A server does not watch its own source for edits: after every run Streamlit's
        # watcher walks the path of every loaded module on the event loop (0.9 s of it
        # per page opened on the full district, measured with py-spy), which every
        # other session waits behind. `streamlit run app.py` still watches while developing.
        flags = ["--server.fileWatcherType", "none", *flags]
    if not any(f.startswith("--client.showErrorDetails") for f in flags):
        # A traceback names files on the server: visitors see the error's type only.
        flags = ["--client.showErrorDetails", "type", *flags]
    if args.port is not None:
        flags = ["--server.port", str(args.port), *flags]
    # The app reads its database from the settings (SIBAI_DB), once per server process.
    os.environ["SIBAI_DB"] = args.db
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # ``ui`` is the app's package, not an installed one
    from ui import server

    return server.main(flags, warm_up=not args.no_warm_up)


def add_commands(add: Callable[..., Any]) -> None:
    """Add ``serve`` to the ``sibai`` command."""
    p = add(
        "serve",
        "start the app (like `streamlit run app.py`) with its caches warmed as soon as the server is up",
        cmd_serve,
    )
    p.add_argument("--port", type=int, default=None, help="port to listen on (default: Streamlit's, 8501)")
    p.add_argument(
        "--host",
        default=None,
        help="address to listen on (default: the serve_host setting, 127.0.0.1: this machine only; "
        "0.0.0.0 opens it to the network)",
    )
    p.add_argument(
        "--allow-demo-accounts",
        action="store_true",
        help="listen beyond this machine even though demo accounts are enabled (a demo on a trusted network)",
    )
    p.add_argument(
        "--no-warm-up", action="store_true", help="start cold: pages build their data on first use"
    )
    p.add_argument(
        "streamlit_flags",
        nargs="*",
        metavar="-- STREAMLIT_FLAG",
        help="options of `streamlit run` after `--`, e.g. `-- --server.headless true`",
    )
