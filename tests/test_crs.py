"""Tests for geo.crs, checked against the independent reference ``eviltransform``."""

from __future__ import annotations

import eviltransform
import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal, assert_geoseries_equal
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from shapely import LineString, MultiPolygon, Point, Polygon

from geo.crs import (
    CGCS2000,
    METRIC,
    WGS84,
    bd09_from_gcj02,
    bd09_from_wgs84,
    from_bd09,
    from_gcj02,
    gcj02_from_bd09,
    gcj02_from_wgs84,
    lonlat_from_metric,
    looks_swapped,
    metric_xy,
    to_bd09,
    to_gcj02,
    to_wgs84,
    wgs84_from_bd09,
    wgs84_from_gcj02,
)

# eviltransform uses the GRS80/WGS84 semi-major axis where the original
# algorithm (and geo.crs) uses Krasovsky's; the forward results differ by
# < 2e-7 degrees, well inside this tolerance.
REF_TOL = 1e-6

# eviltransform.gcj2wgs_exact stops its bisection once its GCJ-02 residual is
# below 1e-6 degrees, so its own answer is only good to about 1.1e-6 (measured
# over 20,000 random points in Shanghai). Comparing with it therefore needs a
# little slack; the inverse is also checked, much more tightly, by sending it
# back through eviltransform's forward transform (test_inverse_is_a_preimage).
REF_EXACT_TOL = 2e-6

SHANGHAI_POINTS = [
    (121.4737, 31.2304),  # People's Square
    (121.2, 31.1),
    (121.6, 31.4),
    (121.44, 31.24),  # 长寿路
    (121.35, 31.285),  # 桃浦镇
    (121.4, 31.225),  # 长风新村
]
CHINA_POINTS = [
    (116.3912, 39.9073),  # Beijing
    (113.2644, 23.1291),  # Guangzhou
    (104.0665, 30.5723),  # Chengdu
    (87.6168, 43.8256),  # Urumqi
    (126.6424, 45.7566),  # Harbin
    (91.1322, 29.6604),  # Lhasa
    (110.3312, 20.0311),  # Haikou
]
OUTSIDE_POINTS = [
    (2.3522, 48.8566),  # Paris
    (-74.006, 40.7128),  # New York
    (151.2093, -33.8688),  # Sydney
    (71.9, 31.0),  # just west of the box
    (121.47, 56.0),  # just north of the box
    (139.6917, 35.6895),  # Tokyo, east of the box
    (121.47, 0.5),  # south of the box
]

shanghai_lon = st.floats(121.2, 121.6)
shanghai_lat = st.floats(31.1, 31.4)
# China's box shrunk by 0.2 degrees so that shifted points stay inside it.
china_lon = st.floats(72.3, 137.6)
china_lat = st.floats(1.1, 55.6)


def outside_point() -> st.SearchStrategy[tuple[float, float]]:
    """Return a strategy for points outside China's rough box."""
    lon = st.floats(-180, 180)
    lat = st.floats(-90, 90)
    return st.tuples(lon, lat).filter(
        lambda p: not (72.004 <= p[0] <= 137.8347 and 0.8293 <= p[1] <= 55.8271)
    )


def ref_forward(lon: float, lat: float) -> tuple[float, float]:
    """Return eviltransform's GCJ-02 (lon, lat) for a WGS84 point."""
    gcj_lat, gcj_lon = eviltransform.wgs2gcj(lat, lon)
    return gcj_lon, gcj_lat


def ref_inverse(lon: float, lat: float) -> tuple[float, float]:
    """Return eviltransform's exact WGS84 (lon, lat) for a GCJ-02 point."""
    wgs_lat, wgs_lon = eviltransform.gcj2wgs_exact(lat, lon)
    return wgs_lon, wgs_lat


def ref_converged(lon: float, lat: float) -> bool:
    """Tell whether eviltransform's bisection met its own 1e-6 goal at a GCJ-02 point."""
    back_lon, back_lat = ref_forward(*ref_inverse(lon, lat))
    return abs(back_lon - lon) < 1e-6 and abs(back_lat - lat) < 1e-6


def check_forward(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    got = np.column_stack(gcj02_from_wgs84(lon, lat))
    expected = np.array([ref_forward(x, y) for x, y in points])
    assert_allclose(got, expected, rtol=0, atol=REF_TOL)


def check_inverse(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    got = np.column_stack(wgs84_from_gcj02(lon, lat))
    expected = np.array([ref_inverse(x, y) for x, y in points])
    assert_allclose(got, expected, rtol=0, atol=REF_EXACT_TOL)


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize("points", [SHANGHAI_POINTS, CHINA_POINTS], ids=["shanghai", "china"])
def test_forward_matches_reference_on_fixed_points(points: list[tuple[float, float]]) -> None:
    check_forward(points)


def test_forward_hand_value_peoples_square() -> None:
    lon, lat = gcj02_from_wgs84(121.4737, 31.2304)
    # GCJ-02 puts central Shanghai about 430 m east and 220 m south.
    assert (round(float(lon), 6), round(float(lat), 6)) == (121.478223, 31.228458)


@settings(max_examples=300)
@given(st.lists(st.tuples(shanghai_lon, shanghai_lat), min_size=1, max_size=20))
def test_forward_matches_reference_in_shanghai(points: list[tuple[float, float]]) -> None:
    check_forward(points)


@settings(max_examples=300)
@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=20))
def test_forward_matches_reference_in_china(points: list[tuple[float, float]]) -> None:
    check_forward(points)


def test_outside_china_unchanged_fixed() -> None:
    lon, lat = np.array(OUTSIDE_POINTS).T
    for transform in (gcj02_from_wgs84, wgs84_from_gcj02):
        got_lon, got_lat = transform(lon, lat)
        assert_array_equal(got_lon, lon)
        assert_array_equal(got_lat, lat)
    assert [ref_forward(x, y) for x, y in OUTSIDE_POINTS] == OUTSIDE_POINTS


@given(st.lists(outside_point(), min_size=1, max_size=20))
def test_outside_china_unchanged(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    for transform in (gcj02_from_wgs84, wgs84_from_gcj02):
        got = np.column_stack(transform(lon, lat))
        assert_array_equal(got, np.array(points))


def test_nan_and_shapes() -> None:
    lon, lat = gcj02_from_wgs84([[121.4737, np.nan]], [[31.2304, 31.0]])
    assert lon.shape == lat.shape == (1, 2)
    assert np.isnan(lon[0, 1]) and lat[0, 1] == 31.0
    empty_lon, empty_lat = wgs84_from_gcj02([], [])
    assert empty_lon.shape == empty_lat.shape == (0,)


def test_inputs_are_not_modified() -> None:
    lon = np.array([121.4737, 121.5])
    lat = np.array([31.2304, 31.3])
    gcj02_from_wgs84(lon, lat)
    wgs84_from_gcj02(lon, lat)
    assert_array_equal(lon, [121.4737, 121.5])
    assert_array_equal(lat, [31.2304, 31.3])


# ---------------------------------------------------------------- inverse


@pytest.mark.parametrize("points", [SHANGHAI_POINTS, CHINA_POINTS], ids=["shanghai", "china"])
def test_inverse_matches_reference_on_fixed_points(points: list[tuple[float, float]]) -> None:
    check_inverse(points)


@settings(max_examples=200)
@given(st.lists(st.tuples(shanghai_lon, shanghai_lat), min_size=1, max_size=10))
def test_inverse_matches_reference_in_shanghai(points: list[tuple[float, float]]) -> None:
    check_inverse(points)


@settings(max_examples=200)
@given(st.tuples(china_lon, china_lat))
def test_inverse_matches_reference_in_china(point: tuple[float, float]) -> None:
    # eviltransform's bisection gives up after 30 halvings near some latitudes
    # (about 3 % of points in China) and returns an answer up to 1e-5 off;
    # those points are compared by test_inverse_is_a_preimage instead.
    assume(ref_converged(*point))
    check_inverse([point])


@settings(max_examples=300)
@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=20))
def test_inverse_is_a_preimage(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    wgs = np.column_stack(wgs84_from_gcj02(lon, lat))
    back = np.array([ref_forward(x, y) for x, y in wgs])
    assert_allclose(back, np.array(points), rtol=0, atol=REF_TOL)
    # ... and through our own forward transform it is exact.
    ours = np.column_stack(gcj02_from_wgs84(wgs[:, 0], wgs[:, 1]))
    assert_allclose(ours, np.array(points), rtol=0, atol=1e-9)


@settings(max_examples=300)
@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=20))
def test_round_trip_wgs_gcj_wgs(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    back = np.column_stack(wgs84_from_gcj02(*gcj02_from_wgs84(lon, lat)))
    assert_allclose(back, np.array(points), rtol=0, atol=1e-8)


def test_inverse_is_not_the_one_step_approximation() -> None:
    gcj_lon, gcj_lat = gcj02_from_wgs84(121.4737, 31.2304)
    # One step, w = g - offset(g), misses by about 1e-6 degrees (10 cm) here.
    lon_1, lat_1 = eviltransform.gcj2wgs(float(gcj_lat), float(gcj_lon))[::-1]
    assert abs(lon_1 - 121.4737) > 1e-7 or abs(lat_1 - 31.2304) > 1e-7
    lon, lat = wgs84_from_gcj02(gcj_lon, gcj_lat)
    assert abs(float(lon) - 121.4737) < 1e-12 and abs(float(lat) - 31.2304) < 1e-12


# ---------------------------------------------------------------- geometry


def sample_frame(crs: str = WGS84) -> gpd.GeoDataFrame:
    square = Polygon([(121.40, 31.22), (121.41, 31.22), (121.41, 31.23), (121.40, 31.23)])
    holed = Polygon(
        [(121.43, 31.25), (121.45, 31.25), (121.45, 31.27), (121.43, 31.27)],
        holes=[[(121.435, 31.255), (121.44, 31.255), (121.44, 31.26)]],
    )
    return gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2", "G3", "G4", "G5"]},
        geometry=[
            Point(121.4737, 31.2304),
            LineString([(121.40, 31.22), (121.45, 31.27), (121.46, 31.28)]),
            MultiPolygon([square, holed]),
            Point(121.35, 31.285, 12.5),
            None,
        ],
        crs=crs,
    )


@pytest.mark.parametrize("as_series", [False, True])
@pytest.mark.parametrize("transform", [to_gcj02, from_gcj02])
def test_geometry_transform_keeps_shape(transform, as_series: bool) -> None:
    frame = sample_frame()
    data = frame.geometry if as_series else frame
    got = transform(data)
    assert type(got) is type(data)
    got_geom = got.geometry if not as_series else got
    assert got.crs == WGS84
    assert shapely.get_type_id(got_geom.values).tolist() == [0, 1, 6, 0, -1]
    assert_array_equal(
        shapely.get_num_coordinates(got_geom.values), shapely.get_num_coordinates(frame.geometry)
    )
    assert_array_equal(shapely.has_z(got_geom.values), shapely.has_z(frame.geometry.values))
    # every vertex moved exactly as the point function moves it
    coords = shapely.get_coordinates(frame.geometry.values, include_z=True)
    point_fn = gcj02_from_wgs84 if transform is to_gcj02 else wgs84_from_gcj02
    exp_lon, exp_lat = point_fn(coords[:, 0], coords[:, 1])
    expected = np.column_stack([exp_lon, exp_lat, coords[:, 2]])
    assert_array_equal(shapely.get_coordinates(got_geom.values, include_z=True), expected)


def test_geometry_transform_returns_a_copy() -> None:
    frame = sample_frame()
    before = frame.copy()
    out = to_gcj02(frame)
    out.loc[0, "grid_id"] = "changed"
    assert_geodataframe_equal(frame, before)
    assert list(out.columns) == ["grid_id", "geometry"]


def test_geometry_round_trip() -> None:
    frame = sample_frame()
    back = from_gcj02(to_gcj02(frame))
    assert_geodataframe_equal(back, frame, check_less_precise=True)
    assert_allclose(
        shapely.get_coordinates(back.geometry.values),
        shapely.get_coordinates(frame.geometry.values),
        rtol=0,
        atol=1e-9,
    )


def test_geometry_keeps_custom_geometry_column_and_cgcs2000() -> None:
    frame = sample_frame(CGCS2000).rename_geometry("geom")
    out = to_gcj02(frame)
    assert out.geometry.name == "geom" and out.crs == WGS84
    assert frame.crs == CGCS2000


@pytest.mark.parametrize("transform", [to_gcj02, from_gcj02])
def test_geometry_transform_rejects_other_crs(transform) -> None:
    with pytest.raises(ValueError, match="EPSG:32651"):
        transform(sample_frame().to_crs(METRIC))
    with pytest.raises(ValueError, match="no CRS"):
        transform(sample_frame().set_crs(None, allow_override=True))


# ---------------------------------------------------------------- to_wgs84


def test_to_wgs84_from_utm_agrees_with_pyproj() -> None:
    frame = sample_frame()
    utm = frame.to_crs(METRIC)
    got = to_wgs84(utm)
    assert got.crs == WGS84
    coords = shapely.get_coordinates(utm.geometry.values)
    lon, lat = pyproj.Transformer.from_crs(32651, 4326, always_xy=True).transform(coords[:, 0], coords[:, 1])
    assert_allclose(
        shapely.get_coordinates(got.geometry.values),
        np.column_stack([lon, lat]),
        rtol=0,
        atol=1e-10,
    )
    assert_allclose(
        shapely.get_coordinates(got.geometry.values),
        shapely.get_coordinates(frame.geometry.values),
        rtol=0,
        atol=1e-8,
    )


def test_to_wgs84_relabels_cgcs2000_without_shift() -> None:
    frame = sample_frame(CGCS2000)
    got = to_wgs84(frame)
    assert got.crs == WGS84
    assert_geoseries_equal(got.geometry, frame.geometry.set_crs(WGS84, allow_override=True))
    assert frame.crs == CGCS2000  # the input keeps its label


def test_to_wgs84_identity_on_wgs84() -> None:
    frame = sample_frame()
    assert_geodataframe_equal(to_wgs84(frame), frame)


@pytest.mark.parametrize("crs", ["gcj02", "GCJ02", " gcj02 "])
def test_to_wgs84_from_gcj02_overrides_label(crs: str) -> None:
    frame = sample_frame()
    gcj = to_gcj02(frame)
    got = to_wgs84(gcj, crs=crs)
    assert_geodataframe_equal(got, from_gcj02(gcj))


@pytest.mark.parametrize("crs", [32651, "EPSG:32651", pyproj.CRS(32651)])
def test_to_wgs84_crs_argument_overrides_missing_label(crs: object) -> None:
    utm = sample_frame().to_crs(METRIC).set_crs(None, allow_override=True)
    got = to_wgs84(utm, crs=crs)
    assert_geodataframe_equal(got, to_wgs84(utm.set_crs(METRIC)))


def test_to_wgs84_rejects_other_crs() -> None:
    with pytest.raises(ValueError, match="EPSG:3857"):
        to_wgs84(sample_frame().to_crs(3857))
    with pytest.raises(ValueError, match="no CRS"):
        to_wgs84(sample_frame().set_crs(None, allow_override=True))
    with pytest.raises(ValueError, match="EPSG:2385"):
        to_wgs84(sample_frame(), crs=2385)
    with pytest.raises(ValueError, match="'not-a-crs' is not a coordinate reference system"):
        to_wgs84(sample_frame(), crs="not-a-crs")


# ---------------------------------------------------------------- metric


def test_metric_xy_central_meridian_hand_value() -> None:
    # UTM zone 51's central meridian is 123 E; on the equator the false easting
    # and northing are exactly (500000, 0).
    x, y = metric_xy([123.0], [0.0])
    assert_allclose(np.column_stack([x, y]), [[500000.0, 0.0]], rtol=0, atol=1e-6)


def test_metric_xy_distance_in_putuo() -> None:
    # 0.01 degree of latitude at 31.25 N is about 1,109 m on the ground
    # (meridian arc, WGS84), times the UTM scale factor here (~0.99998).
    x, y = metric_xy([121.41, 121.41], [31.24, 31.25])
    assert abs(float(np.hypot(x[1] - x[0], y[1] - y[0])) - 1109.0) < 2.0


@given(st.lists(st.tuples(shanghai_lon, shanghai_lat), min_size=1, max_size=20))
def test_metric_round_trip(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    back = np.column_stack(lonlat_from_metric(*metric_xy(lon, lat)))
    assert_allclose(back, np.array(points), rtol=0, atol=1e-9)


def test_metric_xy_agrees_with_to_crs() -> None:
    frame = sample_frame().iloc[[0, 3]]
    coords = shapely.get_coordinates(frame.geometry.values)
    x, y = metric_xy(coords[:, 0], coords[:, 1])
    expected = shapely.get_coordinates(frame.to_crs(METRIC).geometry.values)
    assert_allclose(np.column_stack([x, y]), expected, rtol=0, atol=1e-6)


# ---------------------------------------------------------------- BD-09

# One BD-09 step is the same published formula in eviltransform, so the two agree
# to rounding: a tenth of a millimetre (1e-9 degrees) is a strict bound.
BD_TOL = 1e-9


def ref_gcj2bd(lon: float, lat: float) -> tuple[float, float]:
    bd_lat, bd_lon = eviltransform.gcj2bd(lat, lon)
    return bd_lon, bd_lat


@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=50))
def test_bd09_forward_matches_reference(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    got = np.column_stack(bd09_from_gcj02(lon, lat))
    assert_allclose(got, [ref_gcj2bd(x, y) for x, y in points], rtol=0, atol=BD_TOL)


@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=50))
def test_bd09_inverse_is_a_preimage_under_the_reference(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    gcj = np.column_stack(gcj02_from_bd09(lon, lat))
    assert_allclose([ref_gcj2bd(x, y) for x, y in gcj], np.column_stack([lon, lat]), rtol=0, atol=BD_TOL)
    # eviltransform's own inverse is the published one-step approximation, off by ~1e-6 degrees.
    approx = np.array([eviltransform.bd2gcj(y, x)[::-1] for x, y in points])
    assert_allclose(gcj, approx, rtol=0, atol=3e-6)


def test_bd09_inverse_is_not_the_one_step_approximation() -> None:
    lon, lat = bd09_from_gcj02([121.4737], [31.2304])
    approx = np.array(eviltransform.bd2gcj(float(lat[0]), float(lon[0]))[::-1])
    exact = np.column_stack(gcj02_from_bd09(lon, lat))[0]
    assert_allclose(exact, [121.4737, 31.2304], rtol=0, atol=1e-12)
    assert np.abs(approx - exact).max() > 1e-7  # centimetres, which the iteration removes


@given(st.lists(st.tuples(shanghai_lon, shanghai_lat), min_size=1, max_size=50))
def test_bd09_from_wgs84_matches_reference(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    got = np.column_stack(bd09_from_wgs84(lon, lat))
    # All of eviltransform (its WGS84 -> GCJ-02 step on another ellipsoid, see REF_TOL) ...
    expected = [eviltransform.wgs2bd(y, x)[::-1] for x, y in points]
    assert_allclose(got, expected, rtol=0, atol=REF_TOL)
    # ... and, to the millimetre, its BD-09 step after ours to GCJ-02.
    gcj = np.column_stack(gcj02_from_wgs84(lon, lat))
    assert_allclose(got, [ref_gcj2bd(x, y) for x, y in gcj], rtol=0, atol=BD_TOL)


@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=50))
def test_round_trip_wgs_bd_wgs(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    back = np.column_stack(wgs84_from_bd09(*bd09_from_wgs84(lon, lat)))
    assert_allclose(back, np.column_stack([lon, lat]), rtol=0, atol=1e-9)


def test_bd09_outside_china_and_nan_unchanged() -> None:
    lon, lat = np.array([*OUTSIDE_POINTS, (np.nan, 31.0)]).T
    for shift in (bd09_from_gcj02, gcj02_from_bd09, bd09_from_wgs84, wgs84_from_bd09):
        got_lon, got_lat = shift(lon, lat)
        assert_array_equal(got_lon, lon)
        assert_array_equal(got_lat, lat)


@pytest.mark.parametrize("crs", ["bd09", "BD09", " bd09 "])
def test_to_wgs84_from_bd09(crs: str) -> None:
    frame = sample_frame()
    bd = to_bd09(frame)
    assert_geodataframe_equal(to_wgs84(bd, crs=crs), from_bd09(bd))
    back = from_bd09(bd)
    assert np.nanmax(shapely.hausdorff_distance(back.geometry.values, frame.geometry.values)) < 1e-9


@pytest.mark.parametrize(("crs", "shift"), [("gcj02", gcj02_from_wgs84), ("bd09", bd09_from_wgs84)])
def test_import_shifts_a_committees_office_with_its_polygon(crs: str, shift, tmp_path) -> None:
    from geo import ingest

    office = (121.4401234567, 31.2501234567)
    square = Polygon([(121.43, 31.24), (121.45, 31.24), (121.45, 31.26), (121.43, 31.26)])
    ox, oy = (float(v[0]) for v in shift([office[0]], [office[1]]))
    moved = shapely.transform(square, lambda c: np.column_stack(shift(c[:, 0], c[:, 1])))
    frame = gpd.GeoDataFrame(
        {"committee_id": ["C001", "C002"], "street_id": ["S01", "S01"], "name": ["一居", "二居"],
         "office_lon": [ox, None], "office_lat": [oy, None]},
        geometry=[moved, moved], crs=WGS84,
    )  # fmt: skip
    frame.to_file(tmp_path / "c.geojson", driver="GeoJSON")
    raw = ingest.read_file(ingest.Source.of(tmp_path / "c.geojson"), "committees", crs=crs)
    assert shapely.hausdorff_distance(raw.geometry.iloc[0], square) < 1e-9
    lon, lat = (raw.cells[c].tolist() for c in ("office_lon", "office_lat"))
    assert_allclose([float(lon[0]), float(lat[0])], office, rtol=0, atol=1e-9)
    assert not any(isinstance(v, str) and v.strip() for v in (lon[1], lat[1]))  # no office: none made up


# ---------------------------------------------------------------- swapped axes


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        ([121.47, 121.40, 121.35], [31.23, 31.25, 31.28], False),
        ([31.23, 31.25, 31.28], [121.47, 121.40, 121.35], True),
        ([31.23, 31.25, 121.35], [121.47, 121.40, 31.28], True),  # 2 of 3 swapped
        ([31.23, 121.40, 121.35], [121.47, 31.25, 31.28], False),  # 1 of 3 swapped
        ([31.23, 121.40], [121.47, 31.25], False),  # a tie is not "most"
        ([31.23, np.nan, np.nan], [121.47, 31.25, np.nan], True),  # NaN ignored
        ([2.35, 48.86], [48.86, 2.35], False),  # Paris either way
        ([], [], False),
    ],
)
def test_looks_swapped(lon: list[float], lat: list[float], expected: bool) -> None:
    assert looks_swapped(lon, lat) is expected


def test_looks_swapped_custom_bounds() -> None:
    putuo = (121.32, 31.22, 121.45, 31.30)
    assert looks_swapped([31.25], [121.40], bounds=putuo) is True
    assert looks_swapped([31.25], [121.60], bounds=putuo) is False
