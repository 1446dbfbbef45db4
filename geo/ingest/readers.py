"""Reading a file into text cells under field names: CSV, Excel workbooks and GIS layers (to WGS84).

:func:`read_file` finds the header (skipping title rows), maps the file's
headers to fields, keeps the rows as they were for the rejects file, and for
GIS files brings the geometry to EPSG:4326 (GCJ-02, UTM 51N, CGCS2000 and
declared CRSs; a file-wide latitude/longitude swap is undone and reported).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs as gcrs
from geo.ingest.messages import Finding, IngestError
from geo.ingest.sources import FORMAT_NAMES, Format, Source, decode_text, sniff_delimiter, sniff_format
from geo.ingest.specs import HEADERS, KINDS, SPECS, header_lookup, norm_header

CHINA_BOUNDS = (73.0, 18.0, 135.0, 54.0)
"""(west, south, east, north): coordinates outside are refused."""

HEADER_SCAN_ROWS = 20
"""The header is looked for in this many first rows (title rows above it are skipped)."""

csv.field_size_limit(1 << 30)  # a 10 MB cell is read, then refused with a message, never a crash


@dataclass
class Original:
    """The rows as they were in the file: a 2-D array of cells under the file's own headers.

    Kept as one array (not a frame) because a frame of a million rows costs a
    second to build and is needed only for the few rows that are rejected.
    """

    headers: list[str]
    grid: np.ndarray
    geometry: Any = None
    """GIS files: the features as read, before any change of coordinates."""

    @property
    def columns(self) -> list[str]:
        """Return the headers (and ``geometry`` for GIS files)."""
        return [*self.headers, "geometry"] if self.geometry is not None else list(self.headers)

    def rows(self, positions: np.ndarray) -> pd.DataFrame:
        """Return the rows at ``positions`` as a frame."""
        pos = np.asarray(positions, dtype=np.int64)
        frame = pd.DataFrame(
            {h: pd.Series(self.grid[pos, j], dtype=object) for j, h in enumerate(self.headers)},
            index=pd.RangeIndex(len(pos)),
        )
        if self.geometry is not None:
            frame["geometry"] = np.asarray(self.geometry, dtype=object)[pos]
        return frame


@dataclass
class RawFile:
    """A file as read: every cell as text under its field name, and what is needed to reject rows.

    ``cells`` holds one object column of ``str`` per mapped field (canonical
    names); ``original`` the rows as they were (original headers and values)
    for the rejects file; ``rows`` the spreadsheet row (or feature) number of
    each; ``formulas`` the positions of formula cells per field; ``ragged`` the
    positions of rows with more cells than the header; ``geometry`` the
    features already in WGS84 (layers only).
    """

    source: Source
    kind: str
    format: Format
    cells: pd.DataFrame
    original: Original
    rows: np.ndarray
    mapping: dict[str, str]
    header_row: int = 1
    encoding: str | None = None
    delimiter: str = ","
    formulas: dict[str, dict[int, str]] = field(default_factory=dict)
    ragged: dict[int, int] = field(default_factory=dict)
    geometry: gpd.GeoSeries | None = None
    notes: list[Finding] = field(default_factory=list)
    layer: str | None = None
    sheet: str | None = None
    crs: Any = None
    swapped: bool = False

    @property
    def columns_of(self) -> dict[str, str]:
        """Map each field to the file's own header for it."""
        return {v: k for k, v in self.mapping.items()}


def read_file(
    source: Source,
    kind: str,
    *,
    columns: Mapping[str, str] | None = None,
    crs: str | None = None,
    layer: str | None = None,
    sheet: str | None = None,
) -> RawFile:
    """Read ``source`` as a file of ``kind``; raise :class:`IngestError` if it cannot be.

    Parameters
    ----------
    source
        The file.
    kind
        One of :data:`KINDS`.
    columns
        Extra header mapping ``{header in the file: field}``, for headers
        :data:`HEADERS` does not know (e.g. a hotline system's export).
    crs
        The coordinate system of a GIS file, overriding the file's own:
        ``"EPSG:4326"``, ``"4490"``, ``"EPSG:32651"``, ``"gcj02"``, ``"bd09"``…
    layer, sheet
        Which layer of a GeoPackage, which sheet of a workbook.

    >>> raw = read_file(Source("w.csv", "工号,姓名,居委会编号\\nW1,张三,C001\\n".encode()), "workers")
    >>> raw.cells.to_dict("list"), raw.rows.tolist()
    ({'worker_id': ['W1'], 'name': ['张三'], 'committee_id': ['C001']}, [2])
    """
    if kind not in SPECS:
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    fmt = sniff_format(source)
    spec = SPECS[kind]
    layer_formats = ("gpkg", "geojson", "shapefile")
    if spec.layer and fmt not in layer_formats:
        raise IngestError(
            source.name,
            "wrong_kind",
            what=FORMAT_NAMES[fmt][1],
            expected="a GIS file (GeoPackage, zipped Shapefile or GeoJSON)",
        )
    if not spec.layer and fmt in layer_formats:
        raise IngestError(
            source.name, "wrong_kind", what=FORMAT_NAMES[fmt][1], expected="a table (.csv or .xlsx)"
        )
    # Field names cut to a Shapefile's 10 bytes survive ogr2ogr into GeoPackage, GeoJSON and CSV.
    lookup = header_lookup(kind, columns, dbf=True)
    if fmt == "csv":
        return _read_csv(source, kind, lookup)
    if fmt == "xlsx":
        return _read_xlsx(source, kind, lookup, sheet=sheet)
    return _read_layer(source, kind, lookup, fmt, crs=crs, layer=layer)


def _map_header(
    source: Source, kind: str, header: Sequence[object], lookup: Mapping[str, str]
) -> tuple[dict[int, str], list[str]]:
    """Return ``{column index: field}`` and the unused headers; raise on clashes and missing fields."""
    taken: dict[str, int] = {}
    out: dict[int, str] = {}
    unused: list[str] = []
    names = [str(h).strip() if h is not None else "" for h in header]
    for i, h in enumerate(names):
        target = lookup.get(norm_header(h)) if h else None
        if target is None:
            if h:
                unused.append(h)
            continue
        if target in taken:
            raise IngestError(source.name, "same_column", a=names[taken[target]], b=h, field=target)
        taken[target] = i
        out[i] = target
    spec = SPECS[kind]
    missing = [f for f in spec.fields if f.required and f.name not in taken]
    if missing:
        aliases = HEADERS[kind]
        raise IngestError(
            source.name,
            "missing_columns",
            missing=", ".join(f"{f.name} ({aliases[f.name][0]})" for f in missing),
            found=", ".join(h for h in names if h) or "(nothing)",
        )
    return out, unused


def _find_header(rows: Sequence[Sequence[object]], lookup: Mapping[str, str]) -> int:
    """Return the index of the header among the first rows: the first that names two fields."""
    best = None
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cells = [c for c in row if c is not None and str(c).strip()]
        hits = sum(1 for c in cells if norm_header(c) in lookup)
        if hits >= 2 or (hits >= 1 and hits == len(cells)):
            return i
        if best is None and cells:
            best = i
    return best if best is not None else 0


def _has_header(rows: Sequence[Sequence[object]], lookup: Mapping[str, str]) -> bool:
    """Tell whether one of ``rows`` names at least two fields (a header, not a cover page)."""
    return any(sum(1 for c in row if c is not None and norm_header(c) in lookup) >= 2 for row in rows)


def _read_csv(source: Source, kind: str, lookup: Mapping[str, str]) -> RawFile:
    text, encoding = decode_text(source.data, name=source.name)
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delim = sniff_delimiter(first)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    if records and records[0] and records[0][0].startswith("\ufeff"):
        records[0][0] = records[0][0][1:]
    h = _find_header(records, lookup)
    if not records or not any(c.strip() for c in records[h]):
        raise IngestError(source.name, "empty")
    header = records[h]
    mapped, unused = _map_header(source, kind, header, lookup)
    body = records[h + 1 :]
    del records
    width = len(header)
    # C-level passes over a million rows: blank rows (no text, or only spaces) are skipped.
    n = len(body)
    filled = np.fromiter(map(any, body), dtype=bool, count=n)
    spaces = np.fromiter(map(str.isspace, map("".join, body)), dtype=bool, count=n)
    keep = np.flatnonzero(filled & ~spaces)
    if len(keep) == 0:
        raise IngestError(source.name, "header_only", row=h + 1)
    rows = keep.astype(np.int64) + h + 2
    kept = body if len(keep) == n else [body[i] for i in keep.tolist()]
    del body
    ragged: dict[int, int] = {}
    lens = np.fromiter(map(len, kept), dtype=np.int64, count=len(kept))
    for p in np.flatnonzero(lens != width).tolist():
        r = kept[p]
        if len(r) > width:
            if any(c.strip() for c in r[width:]):
                ragged[p] = len(r)
            kept[p] = r[:width]
        else:
            kept[p] = r + [""] * (width - len(r))
    grid = np.empty((len(kept), width), dtype=object)
    if width:
        grid[:] = kept
    del kept
    names = _unique_headers(header)
    original = Original(names, grid)
    cells = _cells(grid, mapped)
    raw = RawFile(
        source, kind, "csv", cells, original, rows, {names[j]: f for j, f in mapped.items()},
        header_row=h + 1, encoding=encoding, delimiter=delim, ragged=ragged,
    )  # fmt: skip
    _file_notes(raw, unused)
    if encoding not in ("utf-8", "utf-8-sig"):
        raw.notes.append(Finding("encoding_used", None, extra={"encoding": encoding.upper()}))
    return raw


def _cells(grid: np.ndarray, mapped: Mapping[int, str]) -> pd.DataFrame:
    """Return the mapped columns of ``grid`` as one object block (no per-column copies)."""
    idx = list(mapped)
    return pd.DataFrame(grid[:, idx], columns=[mapped[j] for j in idx], dtype=object)


def _unique_headers(header: Sequence[object]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(header):
        name = str(h).strip() if h is not None and str(h).strip() else f"column{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _file_notes(raw: RawFile, unused: Sequence[str]) -> None:
    if raw.header_row > 1:
        raw.notes.append(Finding("title_rows", None, extra={"row": raw.header_row}))
    ignored = [u for u in unused if not u.startswith("_")]
    if ignored:
        raw.notes.append(Finding("ignored_columns", None, extra={"columns": ", ".join(ignored)}))


def _cell_text(value: object) -> str:
    """Render a spreadsheet or GIS attribute value as the text a person typed.

    >>> when = dt.datetime(2023, 2, 15, 9, 5)
    >>> [_cell_text(v) for v in (None, 3, 3.0, 2.5, True, when, when.date())]
    ['', '3', '3', '2.5', '1', '2023-02-15 09:05:00', '2023-02-15']
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if value != value:
            return ""
        f = float(value)
        return str(int(f)) if f.is_integer() and abs(f) < 2**53 else repr(f)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _pick_sheet(
    source: Source, book: Any, names: list[str], lookup: Mapping[str, str], *, sheet: str | None
) -> tuple[str, dict[str, list[tuple[Any, ...]]], dict[tuple[str, str], str]]:
    """Return the sheet to read (``sheet``, else the first with a header, else the first with data).

    Also the rows of every sheet read on the way, and the cells holding
    dates out of range (:func:`_bad_date_cells`).
    """
    if sheet is not None and sheet not in names:
        raise IngestError(source.name, "no_sheet", sheet=sheet, sheets=", ".join(names))
    chosen = sheet
    bad_dates: dict[tuple[str, str], str] = {}
    first_with_data: str | None = None
    grids: dict[str, list[tuple[Any, ...]]] = {}
    for name in [sheet] if sheet else names:
        ws = book[name]
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()  # trust the rows, not a stale or missing <dimension>: one pass
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rows = [tuple(r) for r in ws.iter_rows()]
        bad_dates.update(_bad_date_cells(name, caught))
        grids[name] = rows
        if chosen is None and any(any(c.value is not None for c in r) for r in rows):
            first_with_data = first_with_data or name
            # A cover page (封面, 填表说明) comes first in many registers: take the first sheet
            # with a header, else the first with data.
            if _has_header([[c.value for c in r] for r in rows[:HEADER_SCAN_ROWS]], lookup):
                chosen = name
                break
    chosen = chosen or first_with_data
    if chosen is None:
        raise IngestError(source.name, "empty")
    return chosen, grids, bad_dates


def _read_xlsx(source: Source, kind: str, lookup: Mapping[str, str], *, sheet: str | None) -> RawFile:
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and data validation it drops
            book = openpyxl.load_workbook(io.BytesIO(source.data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise IngestError(
            source.name, "unreadable", detail=f"not a usable Excel workbook ({_short(exc)})"
        ) from None
    try:
        names = list(book.sheetnames)
        chosen, grids, bad_dates = _pick_sheet(source, book, names, lookup, sheet=sheet)
        cells_rows = grids[chosen]
    finally:
        book.close()
    values = [[c.value for c in r] for r in cells_rows]
    h = _find_header(values, lookup)
    header = values[h]
    try:
        mapped, unused = _map_header(source, kind, header, lookup)
    except IngestError as exc:
        others = [n for n in names if n != chosen]
        if exc.code != "missing_columns" or not others:
            raise
        raise IngestError(
            source.name, "missing_columns_sheet", sheet=chosen, others=", ".join(others), **exc.params
        ) from None
    width = max((len(r) for r in values), default=0)
    body = cells_rows[h + 1 :]
    keep = [i for i, r in enumerate(body) if any(c.value is not None and str(c.value).strip() for c in r)]
    if not keep:
        raise IngestError(source.name, "header_only", row=_row_of(cells_rows[h], h + 1))
    header_names = _unique_headers(list(header) + [None] * (width - len(header)))
    orig = np.empty((len(keep), width), dtype=object)
    text = np.empty((len(keep), width), dtype=object)
    formulas: dict[str, dict[int, str]] = {}
    row_numbers = np.empty(len(keep), dtype=np.int64)
    for p, i in enumerate(keep):
        r = body[i]
        row_numbers[p] = _row_of(r, h + 2 + i)
        for j in range(width):
            c = r[j] if j < len(r) else None
            v = getattr(c, "value", None)
            orig[p, j] = v
            text[p, j] = _cell_text(v)
            if bad_dates and getattr(c, "data_type", None) == "e":
                # openpyxl made an out-of-range date serial '#VALUE!' (and warned): keep the number,
                # so the row is rejected with it (bad_date) instead of a raw UserWarning on stderr.
                serial = bad_dates.get((chosen, str(getattr(c, "coordinate", ""))))
                if serial is not None:
                    orig[p, j] = text[p, j] = serial
            if getattr(c, "data_type", None) == "f" and j in mapped:
                formulas.setdefault(mapped[j], {})[p] = f"{getattr(c, 'coordinate', '?')}: {v}"
    original = Original(header_names, orig)
    cells = _cells(text, mapped)
    raw = RawFile(
        source, kind, "xlsx", cells, original, row_numbers, {header_names[j]: f for j, f in mapped.items()},
        header_row=_row_of(cells_rows[h], h + 1), formulas=formulas, sheet=chosen,
    )  # fmt: skip
    _file_notes(raw, unused)
    others = [n for n in names if n != chosen and grids.get(n, [1])]
    if others and sheet is None:
        raw.notes.append(Finding("other_sheets", None, extra={"sheet": chosen, "others": ", ".join(others)}))
    return raw


_BAD_DATE_WARNING = re.compile(r"Cell (\w+) is marked as a date but the serial value (\S+) is outside")


def _bad_date_cells(sheet: str, caught: Sequence[warnings.WarningMessage]) -> dict[tuple[str, str], str]:
    """Return ``{(sheet, cell): serial}`` from openpyxl's warnings about dates out of range; re-warn others.

    >>> w = warnings.WarningMessage(UserWarning("Cell C2 is marked as a date but the serial value "
    ...     "3000000 is outside the limits for dates."), UserWarning, "x.py", 1)
    >>> _bad_date_cells("走访", [w])
    {('走访', 'C2'): '3000000'}
    """
    out: dict[tuple[str, str], str] = {}
    for w in caught:
        m = _BAD_DATE_WARNING.search(str(w.message))
        if m is not None:
            out[(sheet, m.group(1))] = m.group(2)
        elif not issubclass(w.category, UserWarning):  # styles, data validation: dropped as before
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


def _row_of(cells: Sequence[Any], fallback: int) -> int:
    for c in cells:
        row = getattr(c, "row", None)
        if isinstance(row, int):
            return row
    return fallback


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _dbf_encoding(data: bytes) -> str | None:
    """Return the encoding of a zipped Shapefile's attributes when it declares none (``.cpg``)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        if any(n.lower().endswith(".cpg") for n in names):
            return None
        dbf = [n for n in names if n.lower().endswith(".dbf")]
        if not dbf:
            return None
        raw = z.read(dbf[0])
    if len(raw) < 32:
        return None
    header_len = int.from_bytes(raw[8:10], "little")
    body = raw[32:]
    try:
        body.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        raw[32 : header_len + 65536].decode("gb18030")
        return "GB18030"
    except UnicodeDecodeError:
        return None


def _feature_collection(source: Source) -> bytes:
    """Return a GeoJSON file's bytes, a bare array of Features (DataV's format) made a FeatureCollection.

    >>> _feature_collection(Source("a.json", b' [{"type": "Feature"}]'))
    b'{"type": "FeatureCollection", "features":  [{"type": "Feature"}]}'
    """
    data = source.data
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.lstrip()[:1] != b"[":
        return data
    return b'{"type": "FeatureCollection", "features": ' + data + b"}"


def _read_layer(
    source: Source,
    kind: str,
    lookup: Mapping[str, str],
    fmt: Format,
    *,
    crs: str | None,
    layer: str | None,
) -> RawFile:
    import pyogrio

    data = _feature_collection(source) if fmt == "geojson" else source.data
    buf = io.BytesIO(data)
    kwargs: dict[str, Any] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL: "non conformant file extension"
            layers = [str(n) for n, _t in pyogrio.list_layers(buf)]
            if fmt == "geojson":
                # One layer, named by the file's top-level "name" or else by the random name of
                # pyogrio's in-memory copy, which the next read does not share: read it unnamed.
                layers = [n for n in layers if not n.startswith("pyogrio_")] or [kind]
            chosen = layer
            if layer is not None and layer not in layers:
                raise IngestError(source.name, "no_layer", layer=layer, layers=", ".join(layers))
            if chosen is None:
                if kind in layers:
                    chosen = kind
                elif len(layers) == 1:
                    chosen = layers[0]
                else:
                    raise IngestError(source.name, "layers", layers=", ".join(layers))
            if fmt == "shapefile":
                enc = _dbf_encoding(source.data)
                if enc:
                    kwargs["encoding"] = enc
            buf.seek(0)
            frame = pyogrio.read_dataframe(buf, layer=None if fmt == "geojson" else chosen, **kwargs)
    except IngestError:
        raise
    except Exception as exc:  # GDAL errors come in several classes
        raise IngestError(source.name, "unreadable", detail=f"not usable GIS data ({_short(exc)})") from None
    if len(frame) == 0:
        raise IngestError(source.name, "no_features")
    geom_name = frame.geometry.name
    attrs = frame.drop(columns=[geom_name])
    header = [str(c) for c in attrs.columns]
    mapped, unused = _map_header(source, kind, header, lookup)
    original = Original(header, attrs.astype(object).to_numpy(dtype=object), geometry=frame.geometry.array)
    cells = pd.DataFrame(
        {
            f: pd.Series([_cell_text(v) for v in attrs.iloc[:, j].astype(object).tolist()], dtype=object)
            for j, f in mapped.items()
        }
    )
    raw = RawFile(
        source, kind, fmt, cells, original, np.arange(1, len(frame) + 1, dtype=np.int64),
        {header[j]: f for j, f in mapped.items()}, header_row=0, layer=chosen,
        encoding=kwargs.get("encoding"),
    )  # fmt: skip
    raw.crs = frame.crs
    _file_notes(raw, unused)
    raw.geometry = _to_wgs84(raw, frame.geometry, crs)
    return raw


def _to_wgs84(raw: RawFile, geoms: gpd.GeoSeries, given: str | None) -> gpd.GeoSeries:
    """Bring a layer's geometry to EPSG:4326 and undo a file-wide latitude/longitude swap."""
    import pyproj

    name = raw.source.name
    geoms = geoms.reset_index(drop=True)
    shifted = gcrs.shifted_crs(given)
    if shifted is not None:
        out = gcrs.to_wgs84(geoms, crs=shifted)
        _shift_office(raw, shifted)  # a committee's office point is in the file's system too
        raw.notes.append(Finding("crs_converted", None, extra={"crs": gcrs.SHIFTED[shifted]}))
    else:
        try:
            source_crs = pyproj.CRS.from_user_input(_epsg_text(given)) if given is not None else geoms.crs
        except pyproj.exceptions.CRSError:
            raise IngestError(name, "bad_crs", crs=given) from None
        if source_crs is None:
            xy = shapely.get_coordinates(np.asarray(geoms.array, dtype=object))
            lonlat = in_bounds(xy[:, 0], xy[:, 1]) | in_bounds(xy[:, 1], xy[:, 0])
            if len(xy) == 0 or not lonlat.mean() > 0.5:
                raise IngestError(name, "no_crs")
            raw.notes.append(Finding("crs_assumed", None))
            source_crs = pyproj.CRS.from_epsg(4326)
        code = source_crs.to_epsg()
        labelled = geoms.set_crs(source_crs, allow_override=True)
        if code in (4326, 4490, 32651):
            out = gcrs.to_wgs84(labelled)
        else:
            try:
                out = labelled.to_crs(gcrs.WGS84)
            except Exception as exc:  # pyproj cannot transform
                raise IngestError(name, "bad_crs", crs=f"{source_crs.to_string()} ({_short(exc)})") from None
        if code not in (4326, 4490):
            raw.notes.append(Finding("crs_converted", None, extra={"crs": source_crs.to_string()}))
    arr = np.asarray(out.array, dtype=object)
    xy = shapely.get_coordinates(arr)
    if len(xy) and gcrs.looks_swapped(xy[:, 0], xy[:, 1], bounds=CHINA_BOUNDS):
        arr = shapely.transform(arr, lambda c: c[:, ::-1])
        raw.swapped = True
        raw.notes.append(Finding("swapped_file", None))
    return gpd.GeoSeries(arr, crs=gcrs.WGS84)


def _shift_office(raw: RawFile, crs: str) -> None:
    """Shift the office points (text cells) of a GCJ-02 or BD-09 file back to WGS84, like its geometry."""
    if not {"office_lon", "office_lat"} <= set(raw.cells.columns):
        return
    lon = pd.to_numeric(raw.cells["office_lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(raw.cells["office_lat"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)  # anything else is left for the checks to report
    x, y = gcrs.wgs84_from_shifted(crs, lon[ok], lat[ok])
    for col, values in (("office_lon", x), ("office_lat", y)):
        cells = raw.cells[col].to_numpy(dtype=object).copy()
        cells[ok] = [repr(float(v)) for v in values]
        raw.cells[col] = pd.Series(cells, dtype=object, index=raw.cells.index)


def _epsg_text(text: str) -> str:
    t = text.strip()
    return f"EPSG:{t}" if t.isdigit() else t


def in_bounds(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Tell which points ``(x, y)`` lie within :data:`CHINA_BOUNDS` as longitude and latitude."""
    w, s, e, n = CHINA_BOUNDS
    return np.asarray((x >= w) & (x <= e) & (y >= s) & (y <= n))
