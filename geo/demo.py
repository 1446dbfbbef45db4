"""Build the synthetic district into a database (the `sibai demo` command and the app's first start)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from geo.store import Store
from geo.synth import build_district

Progress = Callable[[float, str], object]
"""A progress callback: fraction done in [0, 1] and a short message (its return value is ignored)."""


def install_demo(
    store: Store,
    *,
    scale: str = "full",
    seed: int = 42,
    as_of: dt.date | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Generate the synthetic district and replace the store's data with it, atomically.

    Generation takes the first 40 % of the progress bar, writing the rest.
    Returns the row count of every table.
    """
    as_of = as_of or dt.date.today()

    def generating(fraction: float, message: str) -> None:
        if progress is not None:
            progress(0.4 * fraction, f"generating {message}")

    def writing(fraction: float, message: str) -> None:
        if progress is not None:
            progress(0.4 + 0.6 * fraction, f"writing {message}")

    frames = build_district(scale=scale, seed=seed, as_of=as_of, progress=generating)
    store.replace_all(
        frames,
        meta={"as_of": as_of.isoformat(), "scale": scale, "seed": seed, "source": "synthetic"},
        progress=writing,
    )
    return {name: len(frame) for name, frame in frames.items()}
