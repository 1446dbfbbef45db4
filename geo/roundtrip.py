"""Every table and layer back out, in the formats imports read, so that export → import is lossless.

Layers go to GeoPackage or GeoJSON (pyogrio, EPSG:4326); tables to CSV
(UTF-8 with a BOM, so Excel shows Chinese correctly) or XLSX (openpyxl).
Headers are the field names of ``docs/data-model.md`` or, with
``headers="zh"``, the first Chinese header of ``docs/import.md``: either
imports back. Times are written ``YYYY-MM-DD HH:MM:SS`` (XLSX: date cells).
Exporting a table and importing it into an empty database gives the same rows,
ids included (tested on both backends in ``tests/test_ingest.py``).

Spreadsheet safety is :mod:`geo.writers`' one rule: in XLSX every text is a
text cell, never a formula. In CSV, a text that Excel would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, after
any apostrophes) gets one more leading apostrophe; imports remove exactly one
again, so the data survive the round trip unchanged.

Examples
--------
>>> csv_safe(["=1+1", "'=x", "ok", None, "+86 21"])
["'=1+1", "''=x", 'ok', None, "'+86 21"]
>>> [csv_unsafe(s) for s in csv_safe(["=1+1", "'=x", "ok", None])]
['=1+1', "'=x", 'ok', None]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa

from geo import writers
from geo.ingest import HEADERS
from geo.store import LAYERS, TABLES, Scope, Store, schema

__all__ = [
    "EXCEL_MAX_ROWS",
    "FORMATS",
    "csv_safe",
    "csv_unsafe",
    "export_bytes",
    "export_file",
    "export_frame",
    "exportable",
    "formats_for",
]

ExportFormat = Literal["csv", "xlsx", "gpkg", "geojson"]

FORMATS: dict[str, ExportFormat] = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".gpkg": "gpkg",
    ".geojson": "geojson",
    ".json": "geojson",
}
"""File suffix → export format."""

EXCEL_MAX_ROWS = 1_048_575
"""Data rows an Excel sheet holds below its header."""


def exportable() -> tuple[str, ...]:
    """Return every table and layer that can be exported, in import order."""
    return (*LAYERS, *TABLES)


def formats_for(name: str) -> tuple[ExportFormat, ...]:
    """Return the formats ``name`` exports to (its first is the default).

    >>> formats_for("grids"), formats_for("visits")
    (('gpkg', 'geojson'), ('csv', 'xlsx'))
    """
    if name in LAYERS:
        return ("gpkg", "geojson")
    if name in TABLES:
        return ("csv", "xlsx")
    raise ValueError(f"cannot export {name!r}; choose one of {', '.join(exportable())}")


def csv_safe(values: Sequence[Any]) -> list[Any]:
    """Prefix one apostrophe to texts a spreadsheet would run as formulas (see the module notes)."""
    return [writers.neutralise(v) for v in values]


def csv_unsafe(value: Any) -> Any:
    """Undo :func:`csv_safe` for one value: drop one apostrophe before a formula character."""
    return writers.restore(value)


def export_frame(store: Store, name: str, *, scope: Scope) -> pd.DataFrame:
    """Read ``name`` for export: every column, ids included (issues with their case numbers).

    Only the rows in ``scope`` (:meth:`geo.store.Store.scope_filter`). Layers
    come as GeoDataFrames in EPSG:4326; integer columns as ``Int64``.
    """
    formats_for(name)
    if name in LAYERS:
        frame: pd.DataFrame = store.read_layer(name, scope=scope)
    else:
        frame = store.read_table(name, scope=scope)
    if name == "issues":
        from geo.store.imports import read_issue_refs

        refs = read_issue_refs(store, scope=scope)
        if len(refs):
            ref = refs.set_index(refs["issue_id"].astype("int64"))["ref"]
            source_ref = ref.reindex(frame["issue_id"].astype("int64").to_numpy())
            frame["ref"] = pd.Series(source_ref.to_numpy(dtype=object), dtype=object, index=frame.index)
    t = schema.table(name)
    for c in t.columns:
        if c.name in frame.columns and isinstance(c.type, sa.Integer) and c.name not in ("fid",):
            frame[c.name] = pd.array(
                [None if v is None or v is pd.NA else int(v) for v in frame[c.name].tolist()], dtype="Int64"
            )
        elif c.name in frame.columns and isinstance(c.type, sa.Float):
            frame[c.name] = pd.to_numeric(frame[c.name], errors="coerce").astype(float)
    return frame


def _headers(name: str, columns: Sequence[str], headers: str) -> list[str]:
    if headers == "en":
        return list(columns)
    aliases = HEADERS[name]
    return [aliases[c][0] if c in aliases else c for c in columns]


def export_bytes(
    store: Store, name: str, fmt: str | None = None, *, scope: Scope, headers: str = "en"
) -> tuple[str, bytes]:
    """Export ``name`` as ``(file name, bytes)`` in ``fmt`` (default: its first format).

    Parameters
    ----------
    scope
        Only rows inside this area.
    headers
        ``"en"``: field names (``household_id``); ``"zh"``: Chinese headers (``户号``).

    Raises
    ------
    ValueError
        For an unknown table, a format it does not export to, or a table too
        long for one Excel sheet.
    """
    allowed = formats_for(name)
    chosen = fmt or allowed[0]
    if chosen not in allowed:
        raise ValueError(f"{name} export to {' or '.join(allowed)}, not {chosen}")
    if headers not in ("en", "zh"):
        raise ValueError(f"headers must be 'en' or 'zh', not {headers!r}")
    frame = export_frame(store, name, scope=scope)
    if chosen in ("gpkg", "geojson"):
        gdf = frame if isinstance(frame, gpd.GeoDataFrame) else gpd.GeoDataFrame(frame)
        attrs = [c for c in gdf.columns if c != gdf.geometry.name]
        out = gpd.GeoDataFrame(
            dict(zip(_headers(name, attrs, headers), (gdf[c] for c in attrs), strict=True)),
            geometry=gdf.geometry.array,
            crs="EPSG:4326",
        )
        return writers.layer_bytes(out, chosen, stem=name, layer=name)
    frame.columns = _headers(name, list(frame.columns), headers)
    times = {HEADERS[name][c][0] if headers == "zh" else c for c in schema.TIME_COLUMNS.get(name, ())}
    if chosen == "xlsx":
        if len(frame) > EXCEL_MAX_ROWS:
            raise ValueError(
                f"{name} has {len(frame):,} rows, more than an Excel sheet holds ({EXCEL_MAX_ROWS:,}); "
                "export it as CSV"
            )
        return f"{name}.xlsx", writers.xlsx_bytes(frame, sheet=name)
    return f"{name}.csv", _csv_bytes(frame, times)


def _csv_bytes(frame: pd.DataFrame, times: set[str]) -> bytes:
    out = pd.DataFrame(index=frame.index)
    for c in frame.columns:
        s = frame[c]
        if c in times or pd.api.types.is_datetime64_any_dtype(s):
            arr = pd.to_datetime(s).to_numpy(dtype="datetime64[s]")
            text = np.where(np.isnat(arr), "", np.datetime_as_string(arr, unit="s"))
            out[c] = pd.Series([t.replace("T", " ") for t in text.tolist()], dtype=object, index=frame.index)
        elif pd.api.types.is_float_dtype(s):
            out[c] = pd.Series(
                [repr(x) if x == x else "" for x in s.tolist()], dtype=object, index=frame.index
            )
        elif s.dtype == object or pd.api.types.is_string_dtype(s):
            values = [None if (v is None or v is pd.NA or v != v) else v for v in s.tolist()]
            out[c] = pd.Series(csv_safe(values), dtype=object, index=frame.index)
        else:
            out[c] = s
    return writers.csv_bytes(out)


def export_file(
    store: Store,
    name: str,
    path: str | Path,
    *,
    scope: Scope,
    fmt: str | None = None,
    headers: str = "en",
) -> Path:
    """Export ``name`` to ``path``; the format comes from ``fmt`` or the file's suffix.

    Examples
    --------
    >>> import tempfile, datetime as dt
    >>> from geo.demo import install_demo
    >>> from geo.store import Scope, open_store
    >>> folder = Path(tempfile.mkdtemp())
    >>> with open_store(str(folder / "d.gpkg"), create=True) as store:
    ...     _ = install_demo(store, scale="tiny", as_of=dt.date(2024, 6, 30))
    ...     out = export_file(store, "workers", folder / "workers.csv", scope=Scope.everything())
    >>> out.read_text(encoding="utf-8-sig").splitlines()[0]
    'worker_id,name,committee_id,phone,active'
    """
    path = Path(path)
    chosen = fmt or FORMATS.get(path.suffix.lower())
    if chosen is None:
        raise ValueError(
            f"cannot tell the format of {path.name}: use a file ending in "
            f"{', '.join(sorted(FORMATS))}, or give --format"
        )
    _name, data = export_bytes(store, name, chosen, scope=scope, headers=headers)
    path.write_bytes(data)
    return path
