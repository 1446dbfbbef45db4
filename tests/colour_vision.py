"""Colour-vision deficiency simulation and colour difference, from the published formulas.

Used by the palette tests (tests/test_maps.py) without a colour library:

- **Simulation**: Machado, Oliveira & Fernandes (2009), "A Physiologically-based
  Model for Simulation of Color Vision Deficiency", IEEE TVCG 15(6), the
  severity-1.0 matrices (complete protanopia, deuteranopia, tritanopia),
  applied to linear sRGB and clipped, as the paper and ``colorspacious``'s
  ``sRGB1+CVD`` space do.
- **Difference**: CIEDE2000 (CIE 142-2001) as written out by Sharma, Wu &
  Dalal (2005), "The CIEDE2000 Color-Difference Formula: Implementation Notes",
  on CIELAB under D65.
"""

from __future__ import annotations

import math

import numpy as np

MACHADO_2009 = {
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}
"""Machado et al. (2009) Table, severity 1.0, linear RGB -> linear RGB."""

# sRGB (IEC 61966-2-1) linear RGB -> XYZ, and the D65 white point.
_RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_WHITE = _RGB_TO_XYZ @ np.ones(3)


def linear_rgb(colour: str) -> np.ndarray:
    """Return ``#rrggbb`` as linear sRGB in [0, 1]."""
    srgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255.0
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def simulate(colour: str, deficiency: str | None) -> np.ndarray:
    """Return the linear sRGB a person with ``deficiency`` (None: typical vision) sees for ``colour``."""
    rgb = linear_rgb(colour)
    if deficiency is None:
        return rgb
    return np.clip(MACHADO_2009[deficiency] @ rgb, 0.0, 1.0)


def lab(rgb: np.ndarray) -> np.ndarray:
    """Return CIELAB (D65) of linear sRGB."""
    xyz = (_RGB_TO_XYZ @ rgb) / _WHITE
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> float:
    """Return ΔE00 between two CIELAB colours (kL = kC = kH = 1)."""
    (l1, a1, b1), (l2, a2, b2) = (float(v) for v in lab1), (float(v) for v in lab2)
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dl, dc = l2 - l1, c2p - c1p
    if c1p * c2p == 0:
        dh = 0.0
    elif abs(h2p - h1p) <= 180:
        dh = h2p - h1p
    else:
        dh = h2p - h1p - 360 if h2p > h1p else h2p - h1p + 360
    big_dh = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    l_bar, cp_bar = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_bar = (h1p + h2p) / 2
    else:
        h_bar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(h_bar - 30))
        + 0.24 * math.cos(math.radians(2 * h_bar))
        + 0.32 * math.cos(math.radians(3 * h_bar + 6))
        - 0.20 * math.cos(math.radians(4 * h_bar - 63))
    )
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    r_c = 2 * math.sqrt(cp_bar**7 / (cp_bar**7 + 25**7))
    r_t = -math.sin(math.radians(2 * 30 * math.exp(-(((h_bar - 275) / 25) ** 2)))) * r_c
    return math.sqrt(
        (dl / s_l) ** 2 + (dc / s_c) ** 2 + (big_dh / s_h) ** 2 + r_t * (dc / s_c) * (big_dh / s_h)
    )


def difference(c1: str, c2: str, deficiency: str | None) -> float:
    """Return ΔE00 between two ``#rrggbb`` colours as seen with ``deficiency``."""
    return ciede2000(lab(simulate(c1, deficiency)), lab(simulate(c2, deficiency)))


def luminance(colour: str) -> float:
    """Return WCAG 2.1 relative luminance of ``#rrggbb``."""
    return float(np.array([0.2126, 0.7152, 0.0722]) @ linear_rgb(colour))


def contrast(c1: str, c2: str) -> float:
    """Return the WCAG 2.1 contrast ratio of two colours (1 … 21)."""
    hi, lo = sorted((luminance(c1), luminance(c2)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
