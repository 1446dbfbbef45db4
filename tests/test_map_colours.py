"""The maps' class colours stay apart for people with the common colour-vision deficiencies.

Each palette (coverage and issue classes for every number of classes a map can
have, and the bivariate 3 × 3) is looked at as a person with typical vision,
protanopia, deuteranopia and tritanopia sees it (Machado et al. 2009, complete
deficiency), and every two of its classes must differ by at least
:data:`MIN_DELTA_E00` (CIEDE2000). Text drawn on a colour (a walk's numbered
stops) must keep WCAG's 4.5:1. The simulation and the difference formula live
in ``tests/colour_vision.py`` and are checked here against published values.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from colour_vision import ciede2000, contrast, difference, lab, simulate

import geo.maps as gm
from geo.maps.builders import COLOURS, STOP_STYLE
from geo.maps.classify import BIVARIATE_COLOURS

DEFICIENCIES = (None, "protanopia", "deuteranopia", "tritanopia")
MIN_DELTA_E00 = 8.0
"""The smallest CIEDE2000 difference allowed between two classes, as each viewer sees them.

ΔE00 ≈ 1 is a just-noticeable difference between two large patches side by
side under controlled light. A map asks more: a grid is a small patch, often
far from the legend swatch it is matched with, on a phone in daylight, so we
require eight times that. Every class is also written out (legend and
tooltip), so colour is never the only way to read it (WCAG 1.4.1).
"""
MIN_TEXT_CONTRAST = 4.5  # WCAG 2.1 AA, 1.4.3, normal-size text


def _palettes() -> dict[str, tuple[str, ...]]:
    """Return every palette a map can show, by name, taken through the public classifier."""
    out: dict[str, tuple[str, ...]] = {}
    values = np.arange(100, dtype=float)
    for metric in ("coverage", "open_issues_per_100", "overdue_issues"):
        for k in range(2, 8):
            classes = gm.classify(
                values / 100 if metric == "coverage" else values, scheme="quantiles", k=k, metric=metric
            )
            assert classes.k == k
            out[f"{metric}-{k}"] = classes.colours
    out["bivariate"] = tuple(BIVARIATE_COLOURS)
    return out


PALETTES = _palettes()


@pytest.mark.parametrize("name", sorted(PALETTES))
@pytest.mark.parametrize("deficiency", DEFICIENCIES, ids=lambda d: d or "typical")
def test_every_two_classes_stay_apart(name: str, deficiency: str | None) -> None:
    colours = PALETTES[name]
    assert len(set(colours)) == len(colours)
    close = {
        (a, b): round(difference(a, b, deficiency), 1)
        for a, b in itertools.combinations(colours, 2)
        if difference(a, b, deficiency) < MIN_DELTA_E00
    }
    assert close == {}, f"{name} with {deficiency or 'typical vision'}: pairs below ΔE00 {MIN_DELTA_E00}"


def test_text_on_colours_keeps_its_contrast() -> None:
    """A walk's stop numbers are white on the walker's colour."""
    text = re.search(r"(?<![-\w])color:(#[0-9a-f]{3,6})", STOP_STYLE)
    assert text is not None
    ink = text.group(1)
    ink = "#" + "".join(ch * 2 for ch in ink[1:]) if len(ink) == 4 else ink
    low = {c: round(contrast(ink, c), 2) for c in COLOURS if contrast(ink, c) < MIN_TEXT_CONTRAST}
    assert low == {}


# ------------------------------------------------------------ the helpers against published values


@pytest.mark.parametrize(
    ("lab1", "lab2", "expected"),
    [  # six of the 34 pairs in Sharma, Wu & Dalal (2005), Table 1
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
        ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
        ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
    ],
)
def test_ciede2000_matches_sharmas_table(lab1: tuple, lab2: tuple, expected: float) -> None:
    assert ciede2000(np.array(lab1), np.array(lab2)) == pytest.approx(expected, abs=1e-4)


def test_simulation_and_contrast_match_known_values() -> None:
    # Machado's matrices keep white white (rows sum to 1) and map pure red to a dark
    # olive for protanopes (colorspacious 1.1.2's sRGB1+CVD, severity 100, gives the same).
    for deficiency in DEFICIENCIES:
        assert simulate("#ffffff", deficiency) == pytest.approx(np.ones(3), abs=1e-3)
    assert lab(simulate("#ffffff", None)) == pytest.approx([100.0, 0.0, 0.0], abs=1e-3)
    assert simulate("#ff0000", "protanopia") == pytest.approx([0.152286, 0.114503, 0.0], abs=1e-6)
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
