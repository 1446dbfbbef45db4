"""Number labels that never overlap: each label gets the first zoom at which it has room.

The blind-spot map numbers up to a few hundred spots; at the district's zoom
their badges piled on top of each other (issue 14). Labels are placed in
order of importance (spot 1 first): a label is shown from the lowest zoom at
which its badge, in Web Mercator pixels, overlaps no badge placed before it
that is shown at that zoom. Distances double with each zoom level while the
badges keep their size, so a pair apart at one zoom stays apart at every
higher one: checking each earlier label at the first zoom where both show is
enough. The map hides a label below its zoom (:func:`hide_below_css`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

#: Zoom levels a label can first show at (Leaflet's default maximum is 18).
ZOOMS: Final = (0, 18)
#: A number badge in pixels: its height, the width of a digit (bold 12 px) and of the padding
#: around the digits, and the room kept clear between two badges.
BADGE_HEIGHT, DIGIT_WIDTH, BADGE_PADDING, GAP = 18, 8, 12, 2


def badge_width(text: str) -> int:
    """Return the width in pixels of a badge showing ``text``.

    >>> badge_width("7"), badge_width("153")
    (20, 36)
    """
    return BADGE_PADDING + DIGIT_WIDTH * len(text)


def world_pixels(lon: np.ndarray, lat: np.ndarray, zoom: float) -> tuple[np.ndarray, np.ndarray]:
    """Return Web Mercator pixel coordinates at ``zoom``, as Leaflet's ``project`` gives them.

    >>> x, y = world_pixels(np.array([0.0]), np.array([0.0]), 0)
    >>> float(x[0]), float(y[0])
    (128.0, 128.0)
    """
    scale = 256.0 * 2.0**zoom
    lat_r = np.radians(np.clip(lat, -85.0511, 85.0511))
    x = (np.asarray(lon, dtype=float) + 180.0) / 360.0 * scale
    y = (1.0 - np.log(np.tan(lat_r) + 1.0 / np.cos(lat_r)) / np.pi) / 2.0 * scale
    return x, y


def overlapping(
    lon: np.ndarray, lat: np.ndarray, widths: np.ndarray, zoom: float, *, gap: float = GAP
) -> np.ndarray:
    """Return a boolean matrix: do badges ``i`` and ``j`` (centred on their points) overlap at ``zoom``?

    >>> overlapping(np.array([121.40, 121.4001]), np.array([31.25, 31.25]), np.array([20, 20]), 12).tolist()
    [[False, True], [True, False]]
    """
    x, y = world_pixels(lon, lat, zoom)
    w = np.asarray(widths, dtype=float)
    dx = np.abs(x[:, None] - x[None, :])
    dy = np.abs(y[:, None] - y[None, :])
    out = (dx < (w[:, None] + w[None, :]) / 2 + gap) & (dy < BADGE_HEIGHT + gap)
    np.fill_diagonal(out, False)
    return out


def label_min_zooms(
    lon: Sequence[float] | np.ndarray,
    lat: Sequence[float] | np.ndarray,
    texts: Sequence[str],
    *,
    min_zoom: int = ZOOMS[0],
    max_zoom: int = ZOOMS[1],
) -> np.ndarray:
    """Return, for labels in order of importance, the lowest zoom at which each can show.

    At every zoom, the labels shown (those whose value is at most that zoom)
    do not overlap, except at ``max_zoom``, where every label shows (two
    labels on the same point cannot be kept apart).

    Parameters
    ----------
    lon, lat
        Where each label is centred (WGS84), the most important first.
    texts
        What each label shows (its badge's width follows its length).

    Examples
    --------
    Spot 2 is 95 m east of spot 1: its badge needs zoom 15 to clear spot 1's.

    >>> lon, lat = [121.40, 121.401, 121.45], [31.25, 31.25, 31.25]
    >>> label_min_zooms(lon, lat, ["1", "2", "3"], min_zoom=10).tolist()
    [10, 15, 10]
    """
    x_lon = np.asarray(lon, dtype=float)
    y_lat = np.asarray(lat, dtype=float)
    widths = np.array([badge_width(t) for t in texts], dtype=float)
    n = len(x_lon)
    zooms = np.full(n, max_zoom, dtype=np.int64)
    if n == 0:
        return zooms
    # clash[z - min_zoom, i, j]: badges i and j overlap at zoom z.
    clash = np.stack([overlapping(x_lon, y_lat, widths, z) for z in range(min_zoom, max_zoom + 1)])
    for i in range(n):
        earlier = np.arange(i)
        for z in range(min_zoom, max_zoom + 1):
            both = np.maximum(zooms[:i], z) - min_zoom  # the first zoom at which i and each earlier one show
            if not clash[both, i, earlier].any():
                zooms[i] = z
                break
    return zooms


def hide_below_css(map_class: str, label_class: str, zooms: Sequence[int] | np.ndarray) -> str:
    """Return CSS that hides a label of class ``{label_class}-{m}`` while the map's zoom is below ``m``.

    The map's container carries the class ``{map_class}-{zoom}`` (set by the map's script).

    >>> hide_below_css("z", "lz", [10, 12])
    '.z-10 .lz-12,.z-11 .lz-12{display:none}'
    """
    used = sorted({int(z) for z in zooms})
    rules = [f".{map_class}-{z} .{label_class}-{m}" for m in used[1:] for z in range(used[0], m)]
    return ",".join(rules) + "{display:none}" if rules else ""
