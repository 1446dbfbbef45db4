"""Small helpers shared by the store, coverage and CLI tests (plain pandas, no store).

Import with ``from frames import ...`` (``tests/`` is on ``sys.path`` through
``conftest.py``).
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import shapely

from geo.coverage import Areas, areas_from_frames
from geo.store import TABLES
from geo.store.schema import TIME_COLUMNS

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def normalise(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Return ``frame`` with comparable dtypes, whatever produced it.

    Times are parsed from ``YYYY-MM-DD HH:MM:SS`` text (or kept) as
    ``datetime64[s]``; every other column is rebuilt from its Python values and
    left to pandas' inference, so a number stored as text stays text and fails
    the comparison. Geometry columns are left alone.
    """
    out = {}
    for col in frame.columns:
        s = frame[col]
        if isinstance(s.dtype, gpd.array.GeometryDtype):
            out[col] = s
        elif col in TIME_COLUMNS.get(table, ()):
            if pd.api.types.is_datetime64_any_dtype(s):
                out[col] = s.astype("datetime64[s]")
            else:
                out[col] = pd.to_datetime(s, format=TIME_FORMAT).astype("datetime64[s]")
        else:
            values = [None if (v is None or v is pd.NA or v != v) else v for v in s.tolist()]
            out[col] = pd.Series(values, dtype=object).infer_objects()
    result = pd.DataFrame(out, index=pd.RangeIndex(len(frame)))
    if isinstance(frame, gpd.GeoDataFrame):
        result = gpd.GeoDataFrame(result, geometry=frame.geometry.name, crs=frame.crs)
    return result


def as_multipolygons(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Promote Polygons to one-part MultiPolygons, the layers' declared type."""
    return gpd.GeoSeries(
        [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in geoms],
        crs=geoms.crs,
        index=geoms.index,
    )


def coverage_inputs(
    district: dict[str, pd.DataFrame],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Areas]:
    """Turn district frames into the inputs of :func:`geo.coverage.coverage_by_area`.

    Households gain their grid through their building; times become datetimes.
    """
    grid_of = dict(zip(district["buildings"]["building_id"], district["buildings"]["grid_id"], strict=True))
    hh = district["households"][["household_id", "building_id", "occupied", "residents"]].copy()
    hh["grid_id"] = [grid_of[b] for b in hh["building_id"]]
    visits = normalise(district["visits"][["visit_id", "household_id", "visited_at", "outcome"]], "visits")
    cols = ["issue_id", "grid_id", "building_id", "level", "opened_at", "due_at", "closed_at", "status"]
    issues = normalise(district["issues"][cols], "issues")
    areas = areas_from_frames(district["grids"], district["committees"])
    return hh, visits, issues, areas


def with_new_rows(district: dict[str, pd.DataFrame], **rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Return a copy of ``district`` with ``rows`` appended to the named tables."""
    out = dict(district)
    for name, extra in rows.items():
        assert name in TABLES, name
        out[name] = pd.concat([district[name], extra], ignore_index=True)
    return out


def day(text: str) -> dt.date:
    """Parse ``YYYY-MM-DD``."""
    return dt.date.fromisoformat(text)
