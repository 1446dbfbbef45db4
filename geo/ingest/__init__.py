"""Files in → validated rows, and rejects with their reasons: nothing is lost, nothing half-read.

Real districts bring their own boundaries and registers, in the coordinate
systems, encodings and spreadsheet habits of Shanghai offices. This package
reads them and checks every row; :func:`geo.importing.import_file` runs the
steps and has the store load what passed.

Formats
-------
* **Layers** (``streets``, ``committees``, ``grids``, ``buildings``): GeoPackage,
  zipped Shapefile, GeoJSON (read with pyogrio). The CRS comes from the file or
  is given: EPSG:4326, EPSG:4490 (CGCS2000, taken as equal), EPSG:32651 (UTM
  51N) or ``"gcj02"`` (shifted back to WGS84); other CRSs a file declares are
  reprojected. A file whose latitude and longitude are swapped is swapped back
  and reported; a single feature that is swapped is rejected. Invalid polygons
  are repaired with ``shapely.make_valid`` when the result is still polygonal
  (reported), else rejected with GEOS' reason.
* **Tables** (``households``, ``workers``, ``grid_workers``, ``visits``,
  ``issues``): ``.xlsx`` (openpyxl) and ``.csv`` in UTF-8, UTF-8 with BOM,
  UTF-16 with BOM or GB18030/GBK, detected. Headers in Chinese or English
  (:data:`HEADERS`, documented in ``docs/import.md``); a title row above the
  header is skipped. Dates as ``2023-02-15``, ``2023/2/15``, ``2023年2月15日``,
  ``20230215`` or Excel dates, with an optional time.

Row numbers are spreadsheet rows: the header is row 1 when it is the first
line, blank lines count. For layers the row is the feature's number (1-based).

The steps are pure functions over frames, so the tests, the CLI and the page
share them: :func:`read_file` (fatal problems raise :class:`IngestError`) →
:func:`check_rows` (types, required values, ranges, geometry) →
:func:`check_against` (references, duplicates within the file and against the
database, spatial checks, given :class:`Refs` fetched by the store) →
:class:`ImportReport` (counts, messages and the rejects file).

Modules, in the order a file goes through them:

============  ================================================================
``messages``  every message (中文/English), :class:`IngestError`, findings at rows
``specs``     the fields of every kind and the headers that name them
``sources``   a file's bytes, its format (from its content) and text encoding
``readers``   CSV, Excel and GIS layers to text cells; coordinates to WGS84
``values``    cells to typed values: dates, numbers, yes/no, choices, tags
``checks``    each row on its own (:func:`check_rows`), geometry repair
``against``   rows against the database (:func:`check_against`)
``report``    counts, messages per row and the rejects file
============  ================================================================

Examples
--------
>>> import datetime as dt
>>> text = "户号,楼栋编号,人数,标签\\nH1,B1,3,独居老人\\nH2,B9,x,\\n"
>>> raw = read_file(Source("hh.csv", text.encode("gb18030")), "households")
>>> raw.encoding, raw.mapping
('gb18030', {'户号': 'household_id', '楼栋编号': 'building_id', '人数': 'residents', '标签': 'tags'})
>>> checked = check_rows(raw, now=dt.datetime(2024, 1, 1))
>>> verdict = check_against(checked, Refs(ids={"buildings": {"B1"}}))
>>> report = ImportReport.build(checked, verdict)
>>> report.accepted, report.rejected, report.unchanged
(1, 1, 0)
>>> print(report.rejects_frame().iloc[0]["_reason"])
人数 (residents): 'x' is not a whole number; 楼栋编号 (building_id): unknown building 'B9'
"""

from __future__ import annotations

from geo.ingest.against import Refs, Verdict, buildings_by_address, check_against
from geo.ingest.checks import Checked, check_rows
from geo.ingest.messages import MESSAGES, WARNING_CODES, Finding, IngestError, message
from geo.ingest.readers import RawFile, read_file
from geo.ingest.report import ImportReport, rejects_bytes
from geo.ingest.sources import Source, decode_text, sniff_format
from geo.ingest.specs import (
    HEADERS,
    KIND_NAMES,
    KINDS,
    LAYER_KINDS,
    SPECS,
    TABLE_KINDS,
    Field,
    Spec,
    header_aliases,
)
from geo.ingest.values import parse_datetimes
from geo.writers import neutralise as escape_csv
from geo.writers import restore as unescape_csv

__all__ = [
    "HEADERS",
    "KINDS",
    "KIND_NAMES",
    "LAYER_KINDS",
    "MESSAGES",
    "SPECS",
    "TABLE_KINDS",
    "WARNING_CODES",
    "Checked",
    "Field",
    "Finding",
    "ImportReport",
    "IngestError",
    "RawFile",
    "Refs",
    "Source",
    "Spec",
    "Verdict",
    "buildings_by_address",
    "check_against",
    "check_rows",
    "decode_text",
    "escape_csv",
    "header_aliases",
    "message",
    "parse_datetimes",
    "read_file",
    "rejects_bytes",
    "sniff_format",
    "unescape_csv",
]

# Tracebacks and messages name the error where callers import it from.
IngestError.__module__ = __name__
