"""Classify grid metrics into coloured classes: fixed thresholds, quantiles, natural breaks, bivariate.

The metric names, palettes (ColorBrewer), class thresholds and the maps' words live here;
every other module of the package reads them from here.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from geo import words
from geo.settings import Settings

Metric = Literal["coverage", "open_issues_per_100", "overdue_issues", "bivariate"]
Scheme = Literal["fixed", "quantiles", "natural_breaks"]
Lang = Literal["zh", "en"]
Basemap = Literal["none", "osm", "tianditu", "amap"]

#: Metrics a grid can be coloured by.
METRICS: Final = ("coverage", "open_issues_per_100", "overdue_issues", "bivariate")
#: Classification schemes: fixed thresholds, quantiles, natural breaks (Fisher–Jenks).
SCHEMES: Final = ("fixed", "quantiles", "natural_breaks")
#: Basemaps; every one but ``"none"`` loads tiles from the internet.
BASEMAPS: Final = ("none", "osm", "tianditu", "amap")


#: Fill of grids with no occupied households (drawn hatched over this grey).
NO_HOUSEHOLDS_COLOUR: Final = "#d9d9d9"
#: Fill of grids that have no row in the metrics (drawn faint and dashed).
NO_DATA_COLOUR: Final = "#ffffff"
#: Outline of the bivariate cell "low coverage and many open issues".
EMPHASIS_COLOUR: Final = "#b2182b"

#: Class index of a grid with no occupied households / with no metrics row.
NO_HOUSEHOLDS: Final = -1
NO_DATA: Final = -2

# Class colours are chosen so that people with the common colour-vision deficiencies
# (protanopia, deuteranopia, tritanopia) can still tell every two classes apart:
# tests/test_maps.py simulates each (Machado et al. 2009) and requires a CIEDE2000
# difference of at least 8 between every pair. docs/maps.md says where they come from.

# Coverage: ColorBrewer RdBu (Cynthia Brewer, Apache-2.0 licensed colour specifications),
# a diverging scheme ColorBrewer marks colour-blind safe: low coverage red, high blue.
# 1-6 classes are ColorBrewer's own k-class schemes; its 7-class scheme puts three pale
# tints in the middle that protanopes cannot tell apart, so 7 classes take colours
# 1, 3, 4, 6, 8, 9 and 11 of the 11-class scheme instead.
_RDBU: Final[dict[int, tuple[str, ...]]] = {
    1: ("#f7f7f7",),
    2: ("#ef8a62", "#67a9cf"),
    3: ("#ef8a62", "#f7f7f7", "#67a9cf"),
    4: ("#ca0020", "#f4a582", "#92c5de", "#0571b0"),
    5: ("#ca0020", "#f4a582", "#f7f7f7", "#92c5de", "#0571b0"),
    6: ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac"),
    7: ("#67001f", "#d6604d", "#f4a582", "#f7f7f7", "#92c5de", "#4393c3", "#053061"),
}
# Issue counts: matplotlib's inferno (van der Walt & Smith, CC0), made perceptually
# uniform with lightness rising monotonically, so its order survives every common
# colour-vision deficiency; more issues, darker. k classes are k evenly spaced samples
# from 1.0 (pale yellow) down to 0.1 (the last tenth is too close to black to see
# outlines on); one class takes the sample at 0.6. ColorBrewer's YlOrRd, used before,
# has yellow-orange steps that deuteranopes see as one from six classes on.
_INFERNO: Final[dict[int, tuple[str, ...]]] = {
    1: ("#dd513a",),
    2: ("#fcffa4", "#160b39"),
    3: ("#fcffa4", "#cc4248", "#160b39"),
    4: ("#fcffa4", "#f37819", "#932667", "#160b39"),
    5: ("#fcffa4", "#fb9906", "#cc4248", "#751b6e", "#160b39"),
    6: ("#fcffa4", "#fcae12", "#e75e2e", "#ab2f5e", "#62146e", "#160b39"),
    7: ("#fcffa4", "#fbbe23", "#f37819", "#cc4248", "#932667", "#57106e", "#160b39"),
}
# Bivariate 3x3, indexed [issues][coverage deficit]: row 0 few issues ... row 2 many;
# column 0 high coverage ... column 2 low. Made by Joshua Stevens' method ("Bivariate
# choropleth maps: a how-to guide", 2015): two three-step ramps from #f3f3f3, multiplied;
# the ramps end in ColorBrewer RdBu's #d6604d (coverage deficit) and #4393c3 (issues),
# colours that stay apart with every common colour-vision deficiency (Stevens' own
# blue-red scheme loses two of its reds for protanopes). The darkest cell, index 8,
# is low coverage AND many open issues.
BIVARIATE_COLOURS: Final = (
    "#e8e8e8", "#daa298", "#cc5b49",
    "#94bad1", "#8b8289", "#824942",
    "#408cba", "#3c627a", "#38373b",
)  # fmt: skip

#: Fixed class thresholds (lower edges of classes 2..k, classes closed on the left).
FIXED_THRESHOLDS: Final[dict[str, tuple[float, ...]]] = {
    # Read once per process, as the app reads its settings (ui.data.settings).
    "coverage": tuple(Settings.from_env().coverage_classes),
    "open_issues_per_100": (1.0, 2.0, 5.0),
    "overdue_issues": (1.0, 2.0, 5.0),
}
#: Fixed low/medium/high thresholds of the bivariate view.
BIVARIATE_THRESHOLDS: Final[dict[str, tuple[float, ...]]] = {
    "coverage": (0.5, 0.9),
    "open_issues_per_100": (1.0, 3.0),
}
# Fisher-Jenks is O(k n^2) in pure Python (mapclassify without numba takes ~8 s
# for 2,000 values), so larger inputs are classified on a quantile sketch.
_JENKS_SKETCH: Final = 128

_TEXT: Final[dict[str, dict[str, str]]] = words.by_lang("maps.")


@dataclass(frozen=True)
class Classes:
    """Classes of one metric: where they break, what they are called, their colours.

    ``breaks`` are the ``k - 1`` inner boundaries. With ``right_closed=False``
    (fixed thresholds) class ``i`` is ``[breaks[i-1], breaks[i])``; with
    ``right_closed=True`` (quantiles, natural breaks, as in mapclassify) it is
    ``(breaks[i-1], breaks[i]]``. The first class is open below, the last above.

    Examples
    --------
    >>> c = Classes("coverage", "fixed", (0.5, 0.9), False, ("<50%", "50–90%", "≥90%"),
    ...             ("#fc8d59", "#ffffbf", "#91bfdb"))
    >>> c.index([0.2, 0.5, 0.9, float("nan")]).tolist()
    [0, 1, 2, -1]
    """

    metric: str
    scheme: str
    breaks: tuple[float, ...]
    right_closed: bool
    labels: tuple[str, ...]
    colours: tuple[str, ...]

    def __post_init__(self) -> None:
        k = len(self.colours)
        if len(self.labels) != k or (k and len(self.breaks) != k - 1):
            raise ValueError(
                f"{k} colours need {k} labels and {max(k - 1, 0)} breaks, "
                f"got {len(self.labels)} labels and {len(self.breaks)} breaks"
            )

    @property
    def k(self) -> int:
        """Return the number of classes."""
        return len(self.colours)

    def index(self, values: Iterable[float] | np.ndarray) -> np.ndarray:
        """Return each value's class (0 … k-1), and -1 where it is NaN."""
        v = np.asarray(values, dtype=float)
        side: Literal["left", "right"] = "left" if self.right_closed else "right"
        out = np.searchsorted(np.asarray(self.breaks, dtype=float), v, side=side)
        out = out.astype(np.int64)
        out[~np.isfinite(v)] = NO_HOUSEHOLDS
        return out


def _text(lang: str) -> dict[str, str]:
    if lang not in _TEXT:
        raise ValueError(f"lang must be one of {sorted(_TEXT)}, got {lang!r}")
    return _TEXT[lang]


def _trim(x: float, digits: int) -> str:
    s = f"{x:.{digits}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def _fmt(metric: str, x: float) -> str:
    if metric == "coverage":
        return _trim(x * 100, 1) + "%"
    if metric == "overdue_issues":
        return str(round(x))
    return _trim(x, 1)


def _range(metric: str, a: float, b: float) -> str:
    if _fmt(metric, a) == _fmt(metric, b):
        return _fmt(metric, a)
    if metric == "coverage":
        return f"{_trim(a * 100, 1)}–{_trim(b * 100, 1)}%"
    return f"{_fmt(metric, a)}–{_fmt(metric, b)}"


def _palette(metric: str, k: int) -> tuple[str, ...]:
    if k == 0:
        return ()
    table = _RDBU if metric == "coverage" else _INFERNO
    if k not in table:
        raise ValueError(f"k must be between 1 and {max(table)}, got {k}")
    return table[k]


def _fixed_labels(metric: str, edges: Sequence[float]) -> tuple[str, ...]:
    f = functools.partial(_fmt, metric)
    integer = metric == "overdue_issues" and all(float(e).is_integer() for e in edges)
    if integer:
        # Counts: [a, b) holds a … b-1.
        bounds = [0, *(int(e) for e in edges)]
        labels = []
        for lo, hi in itertools.pairwise(bounds):
            labels.append(str(lo) if hi - lo == 1 else f"{lo}–{hi - 1}")
        labels.append(f"≥ {bounds[-1]}")
        return tuple(labels)
    labels = [f"< {f(edges[0])}"]
    labels += [_range(metric, a, b) for a, b in itertools.pairwise(edges)]
    labels.append(f"≥ {f(edges[-1])}")
    return tuple(labels)


def _upper_labels(metric: str, lo: float, uppers: Sequence[float]) -> tuple[str, ...]:
    """Label right-closed classes [lo, u0], (u0, u1], … ."""
    if metric == "overdue_issues":
        labels = []
        prev = None
        for u in uppers:
            a = round(lo) if prev is None else math.floor(prev) + 1
            b = math.floor(u)
            labels.append(str(b) if a >= b else f"{a}–{b}")
            prev = u
        return tuple(labels)
    edges = [lo, *uppers]
    return tuple(_range(metric, a, b) for a, b in itertools.pairwise(edges))


def _data_breaks(finite: np.ndarray, scheme: str, k: int) -> np.ndarray:
    """Return the upper bounds (mapclassify ``bins``) of at most ``k`` classes."""
    import mapclassify

    unique = np.unique(finite)
    k = min(k, len(unique))
    if k <= 1:
        return unique[-1:]
    with warnings.catch_warnings():
        # mapclassify warns about ties and a missing numba; both are handled here.
        warnings.simplefilter("ignore")
        if scheme == "quantiles":
            bins = mapclassify.Quantiles(finite, k=k).bins
        else:
            sample = finite
            if len(finite) > _JENKS_SKETCH:
                sample = np.quantile(finite, np.linspace(0.0, 1.0, _JENKS_SKETCH))
            k = min(k, len(np.unique(sample)))
            bins = mapclassify.FisherJenks(sample, k=k).bins
    bins = np.unique(np.asarray(bins, dtype=float))
    bins[-1] = unique[-1]
    return bins


def classify(
    values: Iterable[float] | np.ndarray,
    *,
    scheme: Scheme = "fixed",
    k: int = 5,
    metric: str = "coverage",
    thresholds: Sequence[float] | None = None,
) -> Classes:
    """Divide ``values`` of ``metric`` into classes with labels and colours.

    Parameters
    ----------
    values
        Metric values; NaN (no occupied households) is ignored.
    scheme
        ``"fixed"`` uses ``thresholds`` (default :data:`FIXED_THRESHOLDS`; ``k``
        is ignored); ``"quantiles"`` and ``"natural_breaks"`` (Fisher–Jenks)
        come from mapclassify and give at most ``k`` classes (fewer when there
        are fewer distinct values). For the issue metrics, zero is a class of
        its own and the data classes come from the values above it.
    k
        Number of classes for the data-driven schemes (1–7).
    metric
        ``"coverage"`` (values in [0, 1]), ``"open_issues_per_100"`` or
        ``"overdue_issues"``; decides the palette and the number format.
    thresholds
        Inner class edges for ``"fixed"``, increasing.

    Returns
    -------
    Classes

    Examples
    --------
    >>> c = classify([0.3, 0.6, 0.8, 0.95])
    >>> c.breaks, c.labels
    ((0.5, 0.75, 0.9), ('< 50%', '50–75%', '75–90%', '≥ 90%'))
    >>> c.index([0.3, 0.6, 0.8, 0.95]).tolist()
    [0, 1, 2, 3]
    >>> classify([0, 0, 1, 3, 7], metric="overdue_issues").labels
    ('0', '1', '2–4', '≥ 5')
    >>> classify([1, 2, 3, 4], scheme="quantiles", k=2, metric="open_issues_per_100").breaks
    (2.5,)
    >>> c = classify([0, 0, 0, 1, 2, 3, 4], scheme="quantiles", k=3, metric="open_issues_per_100")
    >>> c.breaks, c.labels
    ((0.0, 2.5), ('0', '1–2.5', '2.5–4'))
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if metric not in FIXED_THRESHOLDS:
        raise ValueError(f"metric must be one of {tuple(FIXED_THRESHOLDS)}, got {metric!r}")
    v = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
    if scheme == "fixed":
        edges = tuple(float(e) for e in (thresholds or FIXED_THRESHOLDS[metric]))
        if not edges or any(b <= a for a, b in itertools.pairwise(edges)):
            raise ValueError(f"thresholds must be increasing and not empty, got {edges}")
        labels = _fixed_labels(metric, edges)
        return Classes(metric, scheme, edges, False, labels, _palette(metric, len(labels)))
    if not 1 <= k <= 7:
        raise ValueError(f"k must be between 1 and 7, got {k}")
    finite = v[np.isfinite(v)]
    if len(finite) == 0:
        return Classes(metric, scheme, (), True, (), ())
    if metric != "coverage" and k > 1 and 0 < int((finite > 0).sum()) < len(finite):
        # Most grids have no open issue: a class of their own for the zeros, and the data
        # classes drawn from the others, else the zeros swallow every quantile (issue 14).
        nonzero = finite[finite > 0]
        uppers = _data_breaks(nonzero, scheme, k - 1)
        labels = ("0", *_upper_labels(metric, float(nonzero.min()), [float(u) for u in uppers]))
        breaks = (0.0, *(float(b) for b in uppers[:-1]))
        return Classes(metric, scheme, breaks, True, labels, _palette(metric, len(labels)))
    uppers = _data_breaks(finite, scheme, k)
    labels = _upper_labels(metric, float(finite.min()), [float(u) for u in uppers])
    breaks = tuple(float(b) for b in uppers[:-1])
    return Classes(metric, scheme, breaks, True, labels, _palette(metric, len(labels)))


def classify_bivariate(
    coverage: Iterable[float] | np.ndarray,
    issues_per_100: Iterable[float] | np.ndarray,
    *,
    scheme: Scheme = "fixed",
) -> tuple[Classes, Classes]:
    """Return low/medium/high classes of coverage and of open issues per 100 households.

    The fixed scheme uses :data:`BIVARIATE_THRESHOLDS`; the others give terciles
    (quantiles) or three natural breaks of each variable.

    Examples
    --------
    >>> cov, iss = classify_bivariate([0.2, 0.95], [0.0, 4.0])
    >>> cov.breaks, iss.breaks
    ((0.5, 0.9), (1.0, 3.0))
    """
    cov = classify(
        coverage,
        scheme=scheme,
        k=3,
        metric="coverage",
        thresholds=BIVARIATE_THRESHOLDS["coverage"],
    )
    iss = classify(
        issues_per_100,
        scheme=scheme,
        k=3,
        metric="open_issues_per_100",
        thresholds=BIVARIATE_THRESHOLDS["open_issues_per_100"],
    )
    return cov, iss


def _bivariate_index(cov: Classes, iss: Classes, c: np.ndarray, i: np.ndarray) -> np.ndarray:
    """Combine per-variable classes into 0..8: 3 * issue level + coverage deficit."""
    ci = cov.index(c)
    ii = iss.index(i)
    # Spread fewer than three classes over low/medium/high (two classes: low, high).
    spread = {0: [], 1: [0], 2: [0, 2], 3: [0, 1, 2]}
    cpos = np.asarray(spread[cov.k] or [0])
    ipos = np.asarray(spread[iss.k] or [0])
    deficit = 2 - cpos[np.clip(ci, 0, None)]
    level = ipos[np.clip(ii, 0, None)]
    out = 3 * level + deficit
    out[(ci < 0) | (ii < 0)] = NO_HOUSEHOLDS
    return out


def colour_for(value: float, classes: Classes) -> str:
    """Return the fill colour of one ``value``; NaN gets :data:`NO_HOUSEHOLDS_COLOUR`.

    Examples
    --------
    >>> c = classify([], metric="coverage")
    >>> colour_for(0.95, c), colour_for(0.1, c), colour_for(float("nan"), c)
    ('#0571b0', '#ca0020', '#d9d9d9')
    """
    i = int(classes.index([value])[0])
    return NO_HOUSEHOLDS_COLOUR if i < 0 else classes.colours[i]
