"""``sibai serve``: start the app with warm caches (see ``ui/server.py`` and ``docs/cli.md``).

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


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the Streamlit app on ``--db``, warming its caches once the server is up."""
    from geo.cli import CliError

    if not (ROOT / "app.py").is_file() or not (ROOT / "ui" / "server.py").is_file():
        raise CliError(
            f"no app next to the geo package ({ROOT / 'app.py'} is missing); "
            "run `python -m pip install -e .` in the repository and start it from there"
        )
    flags = list(args.streamlit_flags)
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
        "--no-warm-up", action="store_true", help="start cold: pages build their data on first use"
    )
    p.add_argument(
        "streamlit_flags",
        nargs="*",
        metavar="-- STREAMLIT_FLAG",
        help="options of `streamlit run` after `--`, e.g. `-- --server.address 0.0.0.0`",
    )
