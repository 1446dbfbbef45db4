"""Coordinate transforms between WGS84, CGCS2000, GCJ-02, BD-09 and UTM 51N, vectorised.

The product stores WGS84 (EPSG:4326). CGCS2000 (EPSG:4490) differs from it by
a few centimetres at most, so it is treated as equal: relabelled, never
shifted. Work in metres happens in UTM zone 51N (EPSG:32651), which covers
Shanghai. GCJ-02 (the "Mars" coordinates of Chinese web maps such as Amap and
Tencent) is only produced for display on GCJ-02 tiles and read back from
imports that come in it; it is never stored. BD-09 (Baidu Maps) is GCJ-02
shifted once more; imports that come in it are shifted back the same way.

Every function takes whole arrays and never loops over points in Python.

Examples
--------
>>> lon, lat = gcj02_from_wgs84([121.4737], [31.2304])
>>> print(lon.round(6), lat.round(6))
[121.478223] [31.228458]
>>> back_lon, back_lat = wgs84_from_gcj02(lon, lat)
>>> print(back_lon.round(9), back_lat.round(9))
[121.4737] [31.2304]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Final, TypeVar

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.settings import Settings

__all__ = [
    "BD09",
    "CGCS2000",
    "GCJ02",
    "METRIC",
    "SHIFTED",
    "WGS84",
    "bd09_from_gcj02",
    "bd09_from_wgs84",
    "from_bd09",
    "from_gcj02",
    "gcj02_from_bd09",
    "gcj02_from_wgs84",
    "lonlat_from_metric",
    "looks_swapped",
    "metric_xy",
    "shifted_crs",
    "to_bd09",
    "to_gcj02",
    "to_wgs84",
    "wgs84_from_bd09",
    "wgs84_from_gcj02",
    "wgs84_from_shifted",
]

WGS84: Final = "EPSG:4326"
"""Canonical storage CRS: longitude/latitude on WGS84."""

CGCS2000: Final = "EPSG:4490"
"""China Geodetic Coordinate System 2000; treated as equal to :data:`WGS84`."""

METRIC: Final = Settings.from_env().metric_crs
"""Projected CRS for work in metres (settings ``metric_crs``, UTM zone 51N), read once per process."""

GCJ02: Final = "gcj02"
"""Name accepted by :func:`to_wgs84` for frames whose coordinates are GCJ-02."""

BD09: Final = "bd09"
"""Name accepted by :func:`to_wgs84` for frames whose coordinates are BD-09 (Baidu)."""

SHIFTED: Final = {GCJ02: "GCJ-02", BD09: "BD-09"}
"""The shifted systems a source CRS may name (no EPSG code), with how people write them."""

# BD-09's published constants: a rotation and scaling of GCJ-02 about the
# origin by terms in sin/cos of (3000/180)·π times the coordinate, then a shift.
_BD_X_PI: Final = np.pi * 3000.0 / 180.0
_BD_SHIFT: Final = (0.0065, 0.006)

# The rough box of China used by the published GCJ-02 algorithm and by every
# reference implementation (eviltransform, coordtransform): outside it the
# offset is not applied.
_CHINA_BOX: Final = (72.004, 0.8293, 137.8347, 55.8271)

# Krasovsky 1940 ellipsoid, as in the original algorithm. (eviltransform uses
# 6378137 here; the two differ by < 1e-7 degrees, about 1 cm.)
_A: Final = 6378245.0
_EE: Final = 0.00669342162296594323

_INVERSE_STEP: Final = 1e-12
"""Fixed-point iteration stops when no point moves by more than this (degrees)."""

_INVERSE_MAX_ITER: Final = 30

_DEGREE_CODES: Final = frozenset({4326, 4490})
_SUPPORTED_CODES: Final = frozenset({4326, 4490, 32651})

FloatArray = NDArray[np.float64]
_Frame = TypeVar("_Frame", gpd.GeoDataFrame, gpd.GeoSeries)
_Shift = Callable[[ArrayLike, ArrayLike], tuple[FloatArray, FloatArray]]


def _as_float_arrays(a: ArrayLike, b: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Return two float64 arrays of a common broadcast shape (new memory)."""
    x, y = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)


def _in_china(lon: FloatArray, lat: FloatArray) -> NDArray[np.bool_]:
    """Return which points lie inside the rough box of China (NaN counts as outside)."""
    west, south, east, north = _CHINA_BOX
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def _offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return the GCJ-02 offset (dlon, dlat) in degrees at WGS84 points inside China."""
    x = lon - 105.0
    y = lat - 35.0
    x_pi = x * np.pi
    y_pi = y * np.pi
    common = 20.0 * np.sin(6.0 * x_pi) + 20.0 * np.sin(2.0 * x_pi)
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (
            common
            + 20.0 * np.sin(y_pi)
            + 40.0 * np.sin(y_pi / 3.0)
            + 160.0 * np.sin(y_pi / 12.0)
            + 320.0 * np.sin(y_pi / 30.0)
        )
        * 2.0
        / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (
            common
            + 20.0 * np.sin(x_pi)
            + 40.0 * np.sin(x_pi / 3.0)
            + 150.0 * np.sin(x_pi / 12.0)
            + 300.0 * np.sin(x_pi / 30.0)
        )
        * 2.0
        / 3.0
    )
    rad_lat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def _gcj02_unmasked(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def _inverse(
    lon: ArrayLike,
    lat: ArrayLike,
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    *,
    first: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(p) = (lon, lat)`` for the points inside China's box; leave the others.

    Fixed-point iteration ``p <- p + ((lon, lat) - forward(p))`` for all points
    at once, from ``first(lon, lat)`` (default: the points themselves), until no
    point moves by more than 1e-12 degrees. Both shifts move a point by far
    less than their own size per step, so five or six rounds suffice.
    """
    out_lon, out_lat = _as_float_arrays(lon, lat)
    inside = _in_china(out_lon, out_lat)
    t_lon, t_lat = out_lon[inside], out_lat[inside]
    p_lon, p_lat = first(t_lon, t_lat) if first is not None else (t_lon.copy(), t_lat.copy())
    for _ in range(_INVERSE_MAX_ITER):
        f_lon, f_lat = forward(p_lon, p_lat)
        d_lon, d_lat = t_lon - f_lon, t_lat - f_lat
        p_lon, p_lat = p_lon + d_lon, p_lat + d_lat
        step = max(float(np.max(np.abs(d_lon), initial=0.0)), float(np.max(np.abs(d_lat), initial=0.0)))
        if step < _INVERSE_STEP:
            break
    out_lon[inside] = p_lon
    out_lat[inside] = p_lat
    return out_lon, out_lat


def gcj02_from_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Shift WGS84 longitudes and latitudes to GCJ-02.

    Points outside China's rough box (72.004–137.8347 E, 0.8293–55.8271 N)
    are returned unchanged, as in every reference implementation; so are NaN
    coordinates.

    Parameters
    ----------
    lon, lat
        WGS84 degrees; any shapes that broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude, new float64 arrays of the broadcast shape.

    Examples
    --------
    >>> lon, lat = gcj02_from_wgs84([121.4737, 2.35], [31.2304, 48.86])
    >>> print(lon.round(6), lat.round(6))
    [121.478223   2.35    ] [31.228458 48.86    ]
    """
    lon_out, lat_out = _as_float_arrays(lon, lat)
    inside = _in_china(lon_out, lat_out)
    dlon, dlat = _offset(lon_out[inside], lat_out[inside])
    lon_out[inside] += dlon
    lat_out[inside] += dlat
    return lon_out, lat_out


def wgs84_from_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Shift GCJ-02 longitudes and latitudes back to WGS84.

    Solves ``w + offset(w) = g`` by fixed-point iteration ``w <- g - offset(w)``
    for all points at once, until no point moves by more than 1e-12 degrees
    (the offset changes by less than 1 % of a step per step, so it converges
    in five or six rounds and the result is exact to far better than 1e-9
    degrees). Points whose GCJ-02 coordinates lie outside China's rough box
    are returned unchanged, mirroring :func:`gcj02_from_wgs84`.

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees; any shapes that broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitude and latitude, new float64 arrays of the broadcast shape.

    Examples
    --------
    >>> lon, lat = wgs84_from_gcj02([121.478223], [31.228458])
    >>> print(lon.round(5), lat.round(5))
    [121.4737] [31.2304]
    """
    return _inverse(lon, lat, _gcj02_unmasked)


def _bd09_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return BD-09 coordinates of GCJ-02 points (the published formula, unmasked)."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + _BD_SHIFT[0], z * np.sin(theta) + _BD_SHIFT[1]


def _bd09_approximate_inverse(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return the published one-step inverse of BD-09 (good to about a centimetre)."""
    x, y = lon - _BD_SHIFT[0], lat - _BD_SHIFT[1]
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_from_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Shift GCJ-02 longitudes and latitudes to BD-09 (Baidu).

    Points outside China's rough box are returned unchanged, as by
    :func:`gcj02_from_wgs84`; so are NaN coordinates.

    Examples
    --------
    >>> lon, lat = bd09_from_gcj02([121.478223], [31.228458])
    >>> print(lon.round(6), lat.round(6))
    [121.484781] [31.234311]
    """
    lon_out, lat_out = _as_float_arrays(lon, lat)
    inside = _in_china(lon_out, lat_out)
    lon_out[inside], lat_out[inside] = _bd09_offset(lon_out[inside], lat_out[inside])
    return lon_out, lat_out


def gcj02_from_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Shift BD-09 longitudes and latitudes back to GCJ-02, exactly.

    The published inverse only approximates (to about a centimetre); here it
    is the first guess of a fixed-point iteration ``g <- g + (b - bd09(g))``
    that stops when no point moves by more than 1e-12 degrees. Points outside
    China's rough box are returned unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_from_bd09([121.484781], [31.234311])
    >>> print(lon.round(6), lat.round(6))
    [121.478223] [31.228458]
    """
    return _inverse(lon, lat, _bd09_offset, first=_bd09_approximate_inverse)


def bd09_from_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Shift WGS84 longitudes and latitudes to BD-09: to GCJ-02, then on to BD-09.

    Examples
    --------
    >>> lon, lat = bd09_from_wgs84([121.4737], [31.2304])
    >>> print(lon.round(6), lat.round(6))
    [121.484781] [31.234311]
    """
    return bd09_from_gcj02(*gcj02_from_wgs84(lon, lat))


def wgs84_from_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Shift BD-09 longitudes and latitudes back to WGS84 (both steps exact inverses).

    Examples
    --------
    >>> lon, lat = wgs84_from_bd09(*bd09_from_wgs84([121.4737], [31.2304]))
    >>> print(lon.round(9), lat.round(9))
    [121.4737] [31.2304]
    """
    return wgs84_from_gcj02(*gcj02_from_bd09(lon, lat))


def shifted_crs(crs: object) -> str | None:
    """Return ``"gcj02"`` or ``"bd09"`` when ``crs`` names one of them (any case), else None.

    >>> shifted_crs(" BD09 "), shifted_crs("EPSG:4326"), shifted_crs(4326)
    ('bd09', None, None)
    """
    if not isinstance(crs, str):
        return None
    name = crs.strip().lower()
    return name if name in SHIFTED else None


def wgs84_from_shifted(crs: str, lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Shift points given in ``crs`` (``"gcj02"`` or ``"bd09"``) back to WGS84."""
    return (wgs84_from_bd09 if shifted_crs(crs) == BD09 else wgs84_from_gcj02)(lon, lat)


def _epsg_of(crs: object) -> int | None:
    """Return the EPSG code of anything pyproj understands, or None."""
    if crs is None:
        return None
    return pyproj.CRS.from_user_input(crs).to_epsg()


def _require_degrees(frame: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> None:
    """Raise ValueError unless ``frame`` is labelled EPSG:4326 or EPSG:4490."""
    code = _epsg_of(frame.crs)
    if code not in _DEGREE_CODES:
        named = "no CRS" if frame.crs is None else f"CRS {frame.crs.to_string()}"
        raise ValueError(
            f"{what} needs WGS84 (EPSG:4326) or CGCS2000 (EPSG:4490) longitude/latitude, "
            f"but the data has {named}; call to_wgs84 first"
        )


def _with_geometry(frame: _Frame, geometry: NDArray[np.object_]) -> _Frame:
    """Return a copy of ``frame`` with new geometry values, labelled EPSG:4326."""
    if isinstance(frame, gpd.GeoSeries):
        return gpd.GeoSeries(geometry, index=frame.index, crs=WGS84, name=frame.name)
    out = frame.set_crs(WGS84, allow_override=True)  # a copy
    out[frame.geometry.name] = gpd.GeoSeries(geometry, index=frame.index, crs=WGS84)
    return out


def _shifted(frame: _Frame, shift: _Shift, what: str) -> _Frame:
    """Return a copy of a degree-labelled frame with ``shift`` applied to every vertex, labelled EPSG:4326.

    ``shift`` maps longitude and latitude arrays to new ones (the GCJ-02 offset
    one way or the other); z values, geometry types and vertex counts are
    kept. ``what`` names the caller in the error about a wrong CRS.
    """
    _require_degrees(frame, what)

    def move(coords: FloatArray) -> FloatArray:  # (N, 2) or (N, 3), all vertices of all geometries
        out = coords.copy()
        out[:, 0], out[:, 1] = shift(coords[:, 0], coords[:, 1])
        return out

    moved = shapely.transform(np.asarray(frame.geometry.values, dtype=object), move, include_z=True)
    return _with_geometry(frame, moved)


def to_gcj02(frame: _Frame) -> _Frame:
    """Return a copy of a WGS84 frame with its geometry shifted to GCJ-02.

    Use this only to draw on GCJ-02 tiles (Amap, Tencent); never store the
    result. The copy stays labelled EPSG:4326 because GCJ-02 has no EPSG
    code and web-map libraries need longitude/latitude degrees. Geometry type,
    vertex count and z values are kept.

    Parameters
    ----------
    frame
        GeoDataFrame or GeoSeries in EPSG:4326 or EPSG:4490.

    Returns
    -------
    GeoDataFrame or GeoSeries
        A copy of the same type.

    Raises
    ------
    ValueError
        If the frame has another CRS or none; the message names it.

    Examples
    --------
    >>> from shapely import Point
    >>> s = gpd.GeoSeries([Point(121.4737, 31.2304)], crs=WGS84)
    >>> print(shapely.set_precision(to_gcj02(s).iloc[0], 1e-6))
    POINT (121.478223 31.228458)
    """
    return _shifted(frame, gcj02_from_wgs84, "to_gcj02")


def from_gcj02(frame: _Frame) -> _Frame:
    """Return a copy of a frame with GCJ-02 geometry shifted back to WGS84.

    The frame's label must be EPSG:4326 or EPSG:4490 (that is how GCJ-02 data
    arrives: longitude/latitude degrees); its coordinates are taken to be
    GCJ-02. Geometry type, vertex count and z values are kept.

    Parameters
    ----------
    frame
        GeoDataFrame or GeoSeries whose coordinates are GCJ-02.

    Returns
    -------
    GeoDataFrame or GeoSeries
        A copy of the same type, labelled EPSG:4326.

    Raises
    ------
    ValueError
        If the frame has another CRS or none; the message names it.

    Examples
    --------
    >>> from shapely import Point
    >>> s = gpd.GeoSeries([Point(121.478223, 31.228458)], crs=WGS84)
    >>> print(shapely.set_precision(from_gcj02(s).iloc[0], 1e-5))
    POINT (121.4737 31.2304)
    """
    return _shifted(frame, wgs84_from_gcj02, "from_gcj02")


def to_bd09(frame: _Frame) -> _Frame:
    """Return a copy of a WGS84 frame shifted to BD-09, for Baidu's tiles only (like :func:`to_gcj02`)."""
    return _shifted(frame, bd09_from_wgs84, "to_bd09")


def from_bd09(frame: _Frame) -> _Frame:
    """Return a copy of a frame with BD-09 geometry shifted back to WGS84 (like :func:`from_gcj02`).

    Examples
    --------
    >>> from shapely import Point
    >>> s = gpd.GeoSeries([Point(121.484781, 31.234311)], crs=WGS84)
    >>> print(shapely.set_precision(from_bd09(s).iloc[0], 1e-5))
    POINT (121.4737 31.2304)
    """
    return _shifted(frame, wgs84_from_bd09, "from_bd09")


def to_wgs84(frame: _Frame, *, crs: object = None) -> _Frame:
    """Return a copy of a frame in WGS84 (EPSG:4326), the storage CRS.

    Accepted source systems: EPSG:4326; EPSG:4490 (CGCS2000, relabelled
    without any shift); EPSG:32651 (UTM 51N, reprojected with pyproj); and
    ``"gcj02"`` (shifted back with :func:`from_gcj02`); ``"bd09"`` (with
    :func:`from_bd09`).

    Parameters
    ----------
    frame
        GeoDataFrame or GeoSeries.
    crs
        The system the coordinates are really in: ``"gcj02"``, ``"bd09"`` or anything
        pyproj reads (``4490``, ``"EPSG:32651"``, a ``pyproj.CRS``). It
        overrides the frame's own label, which is how an import declares that
        data labelled EPSG:4326 is in fact GCJ-02. By default the frame's
        label is used.

    Returns
    -------
    GeoDataFrame or GeoSeries
        A copy of the same type, labelled EPSG:4326.

    Raises
    ------
    ValueError
        If the source system is missing or not one of the five above; the
        message names it.

    Examples
    --------
    >>> from shapely import Point
    >>> s = gpd.GeoSeries([Point(354633.649, 3456140.530)], crs=METRIC)
    >>> print(shapely.set_precision(to_wgs84(s).iloc[0], 1e-6))
    POINT (121.4737 31.2304)
    >>> to_wgs84(s.set_crs(CGCS2000, allow_override=True)).crs.to_epsg()
    4326
    """
    shifted = shifted_crs(crs)
    if shifted is not None:
        back = from_bd09 if shifted == BD09 else from_gcj02
        return back(frame.set_crs(WGS84, allow_override=True))
    try:
        source = frame.crs if crs is None else pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as err:
        raise ValueError(f"to_wgs84: {crs!r} is not a coordinate reference system") from err
    code = _epsg_of(source)
    if code not in _SUPPORTED_CODES:
        named = "no CRS" if source is None else f"CRS {source.to_string()}"
        raise ValueError(
            f"to_wgs84 supports EPSG:4326, EPSG:4490 (CGCS2000), EPSG:32651 (UTM 51N) "
            f"'gcj02' and 'bd09', but the data has {named}"
        )
    labelled = frame.set_crs(source, allow_override=True)
    if code in _DEGREE_CODES:
        return labelled.set_crs(WGS84, allow_override=True)
    return labelled.to_crs(WGS84)


@functools.cache
def _transformer(source: str, target: str) -> pyproj.Transformer:
    """Return a cached longitude-first transformer between two CRSs."""
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def metric_xy(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Project WGS84 longitudes and latitudes to metres in UTM 51N (EPSG:32651).

    Examples
    --------
    >>> x, y = metric_xy([121.4737], [31.2304])
    >>> print(x.round(1), y.round(1))
    [354633.6] [3456140.5]
    """
    lon_a, lat_a = _as_float_arrays(lon, lat)
    x, y = _transformer(WGS84, METRIC).transform(lon_a, lat_a)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def lonlat_from_metric(x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Unproject UTM 51N metres (EPSG:32651) to WGS84 longitudes and latitudes.

    Examples
    --------
    >>> lon, lat = lonlat_from_metric([354633.649], [3456140.530])
    >>> print(lon.round(6), lat.round(6))
    [121.4737] [31.2304]
    """
    x_a, y_a = _as_float_arrays(x, y)
    lon, lat = _transformer(METRIC, WGS84).transform(x_a, y_a)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def looks_swapped(
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    bounds: tuple[float, float, float, float] = (73, 18, 135, 54),
) -> bool:
    """Tell whether longitude and latitude look swapped for data in China.

    True when more than half of the points with finite coordinates fall inside
    ``bounds`` only after swapping the two axes. Imports use it to report
    "latitude/longitude swapped" instead of placing points in the sea.

    Parameters
    ----------
    lon, lat
        Coordinates as received, in degrees.
    bounds
        ``(west, south, east, north)``; the default is China's rough box.

    Examples
    --------
    >>> looks_swapped([31.23, 31.25], [121.47, 121.40])
    True
    >>> looks_swapped([121.47, 121.40], [31.23, 31.25])
    False
    >>> looks_swapped([], [])
    False
    """
    x, y = _as_float_arrays(lon, lat)
    west, south, east, north = bounds
    finite = np.isfinite(x) & np.isfinite(y)
    as_given = (x >= west) & (x <= east) & (y >= south) & (y <= north)
    as_swapped = (y >= west) & (y <= east) & (x >= south) & (x <= north)
    only_swapped = int(np.count_nonzero(as_swapped & ~as_given & finite))
    return only_swapped * 2 > int(np.count_nonzero(finite))
