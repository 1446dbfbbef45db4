"""Build the synthetic district into a database (the `sibai demo` command and the app's first start)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from geo.store import Store
from geo.synth import build_district

Progress = Callable[[float, str], None]


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
    report = progress or (lambda _f, _m: None)
    frames = build_district(
        scale=scale,
        seed=seed,
        as_of=as_of,
        progress=lambda f, m: report(0.4 * f, f"generating {m}"),
    )
    store.replace_all(
        frames,
        meta={"as_of": as_of.isoformat(), "scale": scale, "seed": seed, "source": "synthetic"},
        progress=lambda f, m: report(0.4 + 0.6 * f, f"writing {m}"),
    )
    return {name: len(frame) for name, frame in frames.items()}
