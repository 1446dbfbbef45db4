"""The per-rerun style payload: each grid's class, colour and tooltip figures, applied with ``setStyle``."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from geo.maps.classify import (
    BIVARIATE_COLOURS,
    EMPHASIS_COLOUR,
    METRICS,
    NO_DATA,
    NO_DATA_COLOUR,
    NO_HOUSEHOLDS_COLOUR,
    Lang,
    Metric,
    Scheme,
    _bivariate_index,
    _text,
    classify,
    classify_bivariate,
)

_METRIC_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "coverage": ("households", "coverage"),
    "open_issues_per_100": ("households", "open_issues"),
    "overdue_issues": ("households", "overdue_issues"),
    "bivariate": ("households", "coverage", "open_issues"),
}


def _metric_columns(metrics: pd.DataFrame, metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    missing = [c for c in _METRIC_COLUMNS[metric] if c not in metrics.columns]
    if missing:
        raise ValueError(
            f"metrics: missing column(s) {missing} needed for metric {metric!r}; "
            f"the frame is indexed by grid_id with households, visited, coverage, "
            f"residents, open_issues, overdue_issues"
        )


def _int_or_none(values: np.ndarray) -> list[int | None]:
    return [None if not math.isfinite(x) else round(x) for x in values.tolist()]


def style_payload(
    grid_ids: Sequence[str],
    metrics: pd.DataFrame,
    *,
    metric: Metric = "coverage",
    scheme: Scheme = "fixed",
    k: int = 5,
    lang: Lang = "zh",
    selected: str | None = None,
    geometry_hash: str | None = None,
    thresholds: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Build the small object that colours grids already in the browser.

    Arrays follow ``grid_ids`` (the payload's order). ``cls`` holds each
    grid's class: 0 … k-1, or -1 (no occupied households, drawn hatched) or
    -2 (no row in ``metrics``). Grids with no occupied households have no
    coverage and no issues-per-household rate, so they are never classed as
    0 %; the overdue-issues count is classed for every grid with a row.

    Parameters
    ----------
    grid_ids
        Grid ids in the order of :func:`geometry_payload`.
    metrics
        Indexed by grid_id; columns households, coverage, open_issues,
        overdue_issues (those the metric needs).
    metric, scheme, k, thresholds
        What to colour by and how to class it (see :func:`classify`).
    lang
        ``"zh"`` or ``"en"`` for the legend and tooltip labels.
    selected
        Grid to outline; must be one of ``grid_ids``.
    geometry_hash
        The payload's ``hash``; the browser ignores styles for other geometry.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"households": [10, 0], "coverage": [0.8, float("nan")],
    ...                   "open_issues": [1, 0], "overdue_issues": [0, 0]},
    ...                  index=["G1", "G2"])
    >>> s = style_payload(["G1", "G2", "G3"], m)
    >>> s["cls"], s["colours"][2]
    ([2, -1, -2], '#92c5de')
    """
    _metric_columns(metrics, metric)
    text = _text(lang)
    ids = [str(g) for g in grid_ids]
    sel = _selected_position(ids, selected)
    present, hh, coverage, open_issues, overdue, per_100 = _figures(metrics, ids)
    if metric == "bivariate":
        cls, colours, emphasis, items, bivariate = _bivariate_classes(coverage, per_100, scheme, text)
        class_names = bivariate.pop("names")
    else:
        values = {"coverage": coverage, "open_issues_per_100": per_100}.get(metric, overdue)
        classes = classify(values, scheme=scheme, k=k, metric=metric, thresholds=thresholds)
        cls = classes.index(values)
        colours = list(classes.colours)
        emphasis, bivariate = [], None
        items = [
            {"colour": c, "label": label} for c, label in zip(classes.colours, classes.labels, strict=True)
        ]
        class_names = [
            text["class_of"].format(label=label, i=i + 1, k=classes.k)
            for i, label in enumerate(classes.labels)
        ]
    cls = np.where(present, cls, NO_DATA)
    title = text[f"title_{metric}"]
    no_households = {"colour": NO_HOUSEHOLDS_COLOUR, "label": text["no_households"]}
    no_data = {"colour": NO_DATA_COLOUR, "label": text["no_data"]}
    return {
        "v": 1,
        "geom": geometry_hash,
        "metric": metric,
        "scheme": scheme,
        "cls": [int(c) for c in cls],
        "colours": colours,
        "class_names": class_names,
        "emphasis": emphasis,
        "emphasis_colour": EMPHASIS_COLOUR,
        "no_households": no_households,
        "no_data": no_data,
        "sel": sel,
        "households": _int_or_none(hh),
        "coverage": _int_or_none(coverage * 1000.0),
        "open_issues": _int_or_none(open_issues),
        "overdue_issues": _int_or_none(overdue),
        "labels": {
            key: text[key]
            for key in (
                "committee",
                "street",
                "households",
                "coverage",
                "open_issues",
                "overdue_issues",
                "no_households",
                "no_data",
                "sep",
                "class",
            )
        },
        "locale": text["locale"],
        "legend": {
            "title": title,
            "items": items,
            "bivariate": bivariate,
            "no_households": no_households,
            "no_data": no_data if bool((cls == NO_DATA).any()) else None,
        },
    }


def _selected_position(ids: list[str], selected: str | None) -> int:
    """Return the position of the grid to outline, -1 for none."""
    if selected is None:
        return -1
    if str(selected) not in ids:
        raise ValueError(f"selected grid {selected!r} is not among the {len(ids)} grids")
    return {g: i for i, g in enumerate(ids)}[str(selected)]


def _figures(metrics: pd.DataFrame, ids: list[str]) -> tuple[np.ndarray, ...]:
    """Return present, households, coverage, open and overdue issues and issues per 100, in ``ids`` order."""
    frame = metrics.copy()
    frame.index = frame.index.astype(str)
    frame = frame[~frame.index.duplicated()].reindex(ids)
    present = frame["households"].notna().to_numpy()
    hh = frame["households"].to_numpy(dtype=float)
    occupied = present & (hh > 0)

    def column(name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.full(len(ids), np.nan)
        return frame[name].to_numpy(dtype=float)

    coverage = np.where(occupied, column("coverage"), np.nan)
    open_issues = column("open_issues")
    overdue = column("overdue_issues")
    with np.errstate(divide="ignore", invalid="ignore"):
        per_100 = np.where(occupied, open_issues / hh * 100.0, np.nan)
    return present, hh, coverage, open_issues, overdue, per_100


def _bivariate_classes(
    coverage: np.ndarray, per_100: np.ndarray, scheme: Scheme, text: dict[str, str]
) -> tuple[np.ndarray, list[str], list[int], list[dict[str, str]], dict[str, Any]]:
    """Return the bivariate view's classes, colours, emphasised cell, legend items (none) and legend.

    The legend also carries ``names``: each of the nine cells in words, for the
    tooltip ("" for a cell no grid can fall in).
    """
    cov_c, iss_c = classify_bivariate(coverage, per_100, scheme=scheme)
    cls = _bivariate_index(cov_c, iss_c, coverage, per_100)
    colours = list(BIVARIATE_COLOURS)
    bivariate: dict[str, Any] = {
        "rows": list(iss_c.labels),
        "cols": list(reversed(cov_c.labels)),
        "colours": colours,
        "x_title": text["bi_x"],
        "y_title": text["bi_y"],
    }
    # Too few distinct values for three levels: the levels in use (as _bivariate_index spreads them).
    spread = {1: [0], 2: [0, 2], 3: [0, 1, 2]}
    rows, cols = spread.get(iss_c.k, [0]), spread.get(cov_c.k, [0])
    if iss_c.k != 3 or cov_c.k != 3:
        bivariate["colours"] = [colours[3 * r + (2 - c)] for r in rows for c in reversed(cols)]
    names = [""] * len(colours)
    # strict=False: with no values at all a variable has no labels and names no cell.
    levels = zip(rows, iss_c.labels, strict=False)
    for (level, iss), (pos, cov) in itertools.product(levels, zip(cols, cov_c.labels, strict=False)):
        names[3 * level + (2 - pos)] = text["bi_class"].format(
            cov_level=text[f"cov_level.{2 - pos}"], cov=cov, iss_level=text[f"iss_level.{level}"], iss=iss
        )
    bivariate["names"] = names
    return cls, colours, [8], [], bivariate


def blank_style(*, lang: Lang = "zh", geometry_hash: str | None = None) -> dict[str, Any]:
    """Return a style that draws every grid as "no data", without a legend.

    For a map that must stay the same while colours change (streamlit-folium
    keys its iframe on the map's script): draw the grids with this, then
    colour them with :class:`Restyle`.

    Examples
    --------
    >>> blank_style(geometry_hash="abc")["geom"]
    'abc'
    """
    text = _text(lang)
    return {
        "v": 1,
        "geom": geometry_hash,
        "metric": "",
        "colours": [],
        "no_households": {"colour": NO_HOUSEHOLDS_COLOUR, "label": text["no_households"]},
        "no_data": {"colour": NO_DATA_COLOUR, "label": text["no_data"]},
        "sel": -1,
        "labels": {key: text[key] for key in ("committee", "street", "households", "no_data", "sep")},
        "locale": text["locale"],
        "legend": None,
    }
