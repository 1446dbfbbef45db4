"""Excel, CSV and GIS layers out: the one place files are written, with one formula rule.

Three callers share it: the lists people download (:mod:`geo.export`), the
rejects file of an import (:func:`geo.ingest.rejects_bytes`) and the tables and
layers exported to be imported again (:mod:`geo.roundtrip`).

The formula rule
----------------
A spreadsheet runs a cell as a formula when its text starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return ("CSV injection", OWASP). A
text is **formula-like** when it starts with one of these *after any run of
leading apostrophes*; :func:`neutralise` puts exactly one more apostrophe in
front of every formula-like text and leaves everything else (other text,
numbers, missing values) alone. Counting the apostrophes already there is
what makes the rule invertible: :func:`restore` drops exactly one apostrophe
from a text that is apostrophes followed by a formula start, so
``restore(neutralise(x)) == x`` for every ``x``, and our own CSV exports import
back unchanged (``'=x`` goes out as ``''=x`` and comes back as ``'=x``). A
neutralised text never starts with a formula character. The rule is applied
once per value: it is not idempotent.

Where it applies: every text cell of every CSV, and the cells of the
workbooks people read (:func:`geo.export.to_xlsx_bytes`). In every workbook,
text is written as a text cell, never as a formula; the data workbooks that
imports read back (:func:`xlsx_bytes`: rejects and round-trip exports) keep
their text verbatim, because a text cell is never run and the workbook reader
does not :func:`restore`.

Examples
--------
>>> [neutralise(v) for v in ["=1+1", "'=x", "ok", "'ok", -3, None]]
["'=1+1", "''=x", 'ok', "'ok", -3, None]
>>> [restore(neutralise(v)) for v in ["=1+1", "'=x", "ok", "'ok"]]
['=1+1', "'=x", 'ok', "'ok"]
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = [
    "FORMULA_STARTS",
    "clean_text",
    "csv_bytes",
    "formula_like",
    "layer_bytes",
    "neutralise",
    "restore",
    "sheet_title",
    "text_cell",
    "write_atomic",
    "xlsx_bytes",
    "xlsx_value",
]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Characters that make a spreadsheet run text as a formula (OWASP "CSV injection")."""

_FORMULA_LIKE = re.compile(r"^'*[=+\-@\t\r]")
_NEUTRALISED = re.compile(r"^'+[=+\-@\t\r]")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def formula_like(text: str) -> bool:
    """Tell whether ``text`` starts with a formula character after any leading apostrophes.

    >>> formula_like("=1"), formula_like("''+86"), formula_like("'ok"), formula_like("王伟")
    (True, True, False, False)
    """
    return _FORMULA_LIKE.match(text) is not None


def neutralise(value: Any) -> Any:
    """Return ``value`` with one more apostrophe in front if it is formula-like text (the module's rule).

    >>> [neutralise(v) for v in ["=1+2", "+86 138", "-x", "@SUM(A1)", "\\tx", "\\rx", "王伟", -3, None]]
    ["'=1+2", "'+86 138", "'-x", "'@SUM(A1)", "'\\tx", "'\\rx", '王伟', -3, None]
    """
    return "'" + value if isinstance(value, str) and formula_like(value) else value


def restore(value: Any) -> Any:
    """Undo :func:`neutralise`: drop the one apostrophe it put before a formula character.

    >>> restore("'=1+1"), restore("''=x"), restore("'ok"), restore(3)
    ('=1+1', "'=x", "'ok", 3)
    """
    return value[1:] if isinstance(value, str) and _NEUTRALISED.match(value) else value


def clean_text(text: str) -> str:
    """Replace the control characters XML (and so ``.xlsx``) cannot hold with U+FFFD.

    >>> clean_text("长寿路\\x07街道")
    '长寿路\\ufffd街道'
    """
    return _ILLEGAL_XML.sub("\ufffd", text)


def sheet_title(name: str, used: set[str] | None = None) -> str:
    """Return a valid Excel sheet title (31 characters, no ``[]:*?/\\``), unique within ``used``.

    >>> sheet_title("周查/网格[1]")
    '周查_网格_1_'
    """
    title = _SHEET_BAD.sub("_", str(name)).strip().strip("'") or "Sheet"
    title = title[:31]
    if used is not None:
        # Excel compares sheet names without regard to case.
        base, k = title, 2
        while title.casefold() in used:
            suffix = f" ({k})"
            title = base[: 31 - len(suffix)] + suffix
            k += 1
        used.add(title.casefold())
    return title


def text_cell(ws: Any, value: Any) -> Any:
    """Return ``value`` for a write-only sheet, as a text cell when openpyxl would take it for a formula."""
    if isinstance(value, str) and value.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


def xlsx_value(value: Any) -> Any:
    """Return a frame's cell as openpyxl takes it: None for missing, Python scalars, text cleaned."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bytes | shapely.Geometry):
        return str(value)
    return value


def xlsx_bytes(frame: pd.DataFrame, *, sheet: str) -> bytes:
    """Write ``frame`` as a plain one-sheet workbook that imports read back: text stays text, verbatim.

    >>> import openpyxl
    >>> data = xlsx_bytes(pd.DataFrame({"note": ["=1+1"], "n": [3]}), sheet="a/b")
    >>> ws = openpyxl.load_workbook(io.BytesIO(data))["a_b"]
    >>> [(c.value, c.data_type) for c in ws[2]]
    [('=1+1', 's'), (3, 'n')]
    """
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet(title=sheet_title(sheet))
    ws.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        ws.append([text_cell(ws, xlsx_value(v)) for v in row])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def csv_bytes(
    frame: pd.DataFrame, *, sep: str = ",", encoding: str = "utf-8-sig", errors: str = "strict"
) -> bytes:
    """Write ``frame`` (its text already :func:`neutralise`-d) as CSV with CRLF line ends.

    UTF-8 gets its byte-order mark: Excel opens a UTF-8 CSV correctly only with it.

    >>> csv_bytes(pd.DataFrame({"a": ["'=1", None], "b": [1, 2]}))
    b"\\xef\\xbb\\xbfa,b\\r\\n'=1,1\\r\\n,2\\r\\n"
    """
    buf = io.StringIO()
    frame.to_csv(buf, index=False, sep=sep, lineterminator="\r\n")
    if encoding == "utf-8":
        encoding = "utf-8-sig"
    return buf.getvalue().encode(encoding, errors=errors)


def layer_bytes(gdf: gpd.GeoDataFrame, fmt: str, *, stem: str, layer: str) -> tuple[str, bytes]:
    """Write a GeoDataFrame as GeoPackage, GeoJSON or zipped Shapefile: ``(file name, bytes)``."""
    import pyogrio

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's notes on laundered field names
        if fmt == "gpkg":
            path = Path(tmp) / f"{stem}.gpkg"
            from geo.store.gpkg import VERSION

            # The version the store writes: GDAL 3.7+ would write 1.4 with R-tree triggers
            # that GDAL 3.6's validator and reader do not know.
            pyogrio.write_dataframe(
                gdf,
                path,
                layer=layer,
                driver="GPKG",
                promote_to_multi=True,
                dataset_options={"VERSION": VERSION},
            )
            return path.name, path.read_bytes()
        if fmt == "geojson":
            path = Path(tmp) / f"{stem}.geojson"
            pyogrio.write_dataframe(gdf, path, driver="GeoJSON")
            return path.name, path.read_bytes()
        folder = Path(tmp) / "shp"
        folder.mkdir()
        pyogrio.write_dataframe(gdf, folder / f"{layer}.shp", driver="ESRI Shapefile", encoding="UTF-8")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(folder.iterdir()):
                z.write(f, f.name)
        return f"{stem}.zip", buf.getvalue()


def write_atomic(data: bytes, target: Path) -> Path:
    """Write ``data`` to ``target`` through a temporary file beside it: whole or not at all."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"cannot write {target}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
