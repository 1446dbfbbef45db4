"""Build the synthetic district into a database (the `sibai demo` command and the app's first start)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from geo import words
from geo.clock import last_full_day
from geo.progress import Progress
from geo.settings import DEFAULT_DB
from geo.store import Store
from geo.synth import build_district


def _step(name: str, lang: str) -> str:
    """Return a build step (``households``, ``checks`` ...) in ``lang``; one without a word keeps its name."""
    key = f"demo.step.{name}"
    return words.text(key, lang) if key in words.WORDS else name


def install_demo(
    store: Store,
    *,
    scale: str = "full",
    seed: int = 42,
    as_of: dt.date | None = None,
    progress: Progress | None = None,
    lang: str = "en",
) -> dict[str, int]:
    """Generate the synthetic district and replace the store's data with it, atomically.

    Generation takes the first 40 % of the progress bar, writing the rest;
    its messages are in ``lang`` (the command line's English by default, the
    UI language on the app's first start). Returns the row count of every table.
    """
    as_of = as_of or last_full_day()

    def generating(fraction: float, message: str) -> None:
        if progress is not None:
            progress(0.4 * fraction, words.text("demo.generating", lang, what=_step(message, lang)))

    def writing(fraction: float, message: str) -> None:
        if progress is not None:
            progress(0.4 + 0.6 * fraction, words.text("demo.writing", lang, what=_step(message, lang)))

    frames = build_district(scale=scale, seed=seed, as_of=as_of, progress=generating)
    store.replace_all(
        frames,
        meta={"as_of": as_of.isoformat(), "scale": scale, "seed": seed, "source": "synthetic"},
        progress=writing,
    )
    return {name: len(frame) for name, frame in frames.items()}


def first_start_due(db: str, *, default: str | os.PathLike[str] | None = None) -> bool:
    """Return True when the app may build the demo district into ``db`` on its own.

    Only the embedded default file qualifies, and only while it does not exist:
    a database that someone created or imported into (even one with no grids
    yet, half-way through a real district's import) is never replaced by a page
    request. Any other database gets its district from ``sibai demo`` or
    ``sibai import``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> first_start_due(str(d / "putuo.gpkg"), default=d / "putuo.gpkg")
    True
    >>> first_start_due(str(d / "other.gpkg"), default=d / "putuo.gpkg")
    False
    >>> _ = (d / "putuo.gpkg").write_bytes(b"")
    >>> first_start_due(str(d / "putuo.gpkg"), default=d / "putuo.gpkg")
    False
    >>> first_start_due("postgresql://localhost/sibai", default=d / "putuo.gpkg")
    False
    """
    if "://" in db and not db.startswith("sqlite:///"):
        return False
    path = Path(db.removeprefix("sqlite:///")).resolve()
    return path == Path(default or DEFAULT_DB).resolve() and not path.exists()


def install_first_start(db: str, *, scale: str, progress: Progress | None = None, lang: str = "en") -> None:
    """Build the demo district and its demo accounts into the new file ``db``, all or nothing.

    The district is written to a temporary file beside ``db`` that takes its
    name only when complete, so a start that is stopped half-way leaves no file
    behind and the next start builds again; a file that appeared meanwhile (a
    concurrent start, an import) is never replaced.
    """
    from geo.auth import create_demo_accounts
    from geo.store import open_store

    path = Path(db.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.building")
    companions = [part, *(Path(f"{part}{suffix}") for suffix in ("-wal", "-shm", "-journal", "-writelock"))]
    for leftover in companions:
        leftover.unlink(missing_ok=True)
    try:
        with open_store(str(part), create=True) as s:
            install_demo(s, scale=scale, progress=progress, lang=lang)
            # Demo only: one account per role, so the first start can be signed in to
            # (names and password in README.md and docs/security.md).
            create_demo_accounts(s)
            s.checkpoint()
        if path.exists():
            return
        os.replace(part, path)
    finally:
        for leftover in companions:
            leftover.unlink(missing_ok=True)
