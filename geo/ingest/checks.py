"""Every row on its own: types, required values, lengths, ranges, dates, rules between fields, geometry.

:func:`check_rows` turns a :class:`~geo.ingest.readers.RawFile` into
:class:`Checked` rows: typed values and the findings so far. Nothing here
needs the database; :func:`geo.ingest.check_against` does the rest.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.ingest.messages import Finding, IngestError, found, rejected_rows
from geo.ingest.readers import CHINA_BOUNDS, RawFile, in_bounds
from geo.ingest.specs import MAX_ID, SPECS, Field, Spec
from geo.ingest.values import strip_uniques, typed_column
from geo.writers import restore

DIGIT_FIELDS = frozenset({"phone", "unit"})
"""Text fields whose full-width digits and dashes become half-width (NFKC), like ids': ``３－３０１``."""

NAME_FIELDS = frozenset({"name", "head_name", "address"})
"""Text fields that hold Chinese names: only question marks there mean lost text (a note may be ``??``)."""

_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d*)?[eE][+-]?\d+")
"""What Excel shows (and writes to CSV) for a long number in a General cell: ``3.10107E+14``."""


@dataclass
class Checked:
    """Typed rows of one file, and the problems found in them so far."""

    raw: RawFile
    values: pd.DataFrame
    """One column per field present (or defaulted): ids and text as ``str``/None,
    integers as ``Int64``, floats, times as ``datetime64[s]``."""
    findings: list[Finding]
    geometry: np.ndarray | None = None
    date_only: dict[str, np.ndarray] = field(default_factory=dict)
    now: dt.datetime | None = None

    @property
    def given(self) -> frozenset[str]:
        """Return the fields the file itself brings (not defaulted): only these are compared."""
        cols = set(self.raw.cells.columns)
        if "vacant" in cols:
            cols.add("occupied")
        return frozenset(cols)

    @property
    def kind(self) -> str:
        """Return the kind of rows."""
        return self.raw.kind

    @property
    def spec(self) -> Spec:
        """Return the rules of the kind."""
        return SPECS[self.raw.kind]

    def __len__(self) -> int:
        return len(self.raw.rows)

    def bad_mask(self) -> np.ndarray:
        """Return which rows have a rejecting finding so far."""
        return rejected_rows(self.findings, len(self))


def check_rows(
    raw: RawFile,
    *,
    now: dt.datetime,
    source: str | None = None,
    issue_limits: Mapping[str, int] | None = None,
) -> Checked:
    """Check every row of ``raw`` on its own: types, required values, ranges, dates, geometry.

    Parameters
    ----------
    raw
        A file read by :func:`read_file`.
    now
        Local time (Shanghai, no zone): later times are refused as "in the future".
    source
        For issues: the channel (``hotline``, ``online``…) of rows that name none.
    issue_limits
        For issues without a time limit: days per level (default
        ``Settings().issue_limits_days``) to set ``due_at``.
    """
    spec = SPECS[raw.kind]
    n = len(raw.rows)
    if raw.kind == "issues" and "source" not in raw.cells.columns and not source:
        raise IngestError(
            raw.source.name,
            "missing_columns",
            missing="source (来源) — or name the channel with --source hotline|online|visit",
            found=", ".join(str(c) for c in raw.original.columns if c != "geometry"),
        )
    findings: list[Finding] = list(raw.notes)
    values: dict[str, Any] = {}
    date_only: dict[str, np.ndarray] = {}
    now64 = np.datetime64(now.replace(tzinfo=None, microsecond=0), "s")
    for fld in spec.fields:
        if fld.name in raw.cells.columns:
            values[fld.name] = _column(raw, fld, source, findings, date_only, now64)
            continue
        default = source if (fld.name == "source" and source) else fld.default
        if default is not None:
            values[fld.name] = pd.Series([default] * n, dtype=object)
    frame = pd.DataFrame(values, index=pd.RangeIndex(n))
    _formulas(raw, findings)
    if raw.ragged:
        width = len(raw.original.headers)
        pos = np.fromiter(raw.ragged.keys(), dtype=np.int64)
        findings.append(
            Finding("ragged", None, pos, None, {"m": width}, per_row=[{"n": raw.ragged[int(p)]} for p in pos])
        )
    checked = Checked(raw, frame, findings, date_only=date_only, now=now)
    _CROSS_CHECKS.get(raw.kind, lambda _c, **_k: None)(checked, issue_limits=issue_limits)
    if spec.layer:
        assert raw.geometry is not None
        checked.geometry = _check_geometry(raw.geometry, findings)
    return checked


def _column(
    raw: RawFile,
    fld: Field,
    source: str | None,
    findings: list[Finding],
    date_only: dict[str, np.ndarray],
    now64: np.datetime64,
) -> pd.Series:
    """Check and type the file's column of ``fld``: required, length, then the type's own rules."""
    nfkc = fld.type != "text" or fld.name in DIGIT_FIELDS
    codes, uniq = strip_uniques(raw.cells[fld.name], nfkc=nfkc, distinct=fld.type != "datetime")
    if raw.format == "csv" and fld.type in ("text", "id"):
        uniq = np.array([restore(u) for u in uniq.tolist()], dtype=object)
    if fld.name == "source" and source:
        uniq = np.where(uniq == "", source, uniq)
    empty_u = uniq == ""
    empty = empty_u[codes]
    if fld.required or (fld.name == "source" and raw.kind == "issues"):
        found(findings, "required", fld.name, empty)
    lens = np.fromiter((len(u) for u in uniq), dtype=np.int64, count=len(uniq))
    limit = MAX_ID if fld.type == "id" else fld.max_len
    long_u = lens > limit
    if long_u.any():
        pos = np.flatnonzero(long_u[codes])
        per_row = [{"n": int(lens[codes[p]])} for p in pos]
        findings.append(Finding("too_long", fld.name, pos, None, {"max": limit}, per_row=per_row))
        uniq = np.where(long_u, "", uniq)
    if fld.type == "id" or fld.name == "phone":
        uniq = _excel_numbers(fld, uniq, codes, findings)
    if fld.type == "id" or fld.name in NAME_FIELDS:
        lost_u = np.fromiter((_lost_text(t) for t in uniq.tolist()), dtype=bool, count=len(uniq))
        found(findings, "lost_text", fld.name, lost_u[codes], uniq[codes])
    values = typed_column(fld, uniq, codes, empty_u, findings, date_only, now64)
    if fld.default is not None and fld.type in ("text", "tags", "choice", "bool"):
        values = values.where(~pd.Series(empty, index=values.index), fld.default)
    return values


def _excel_numbers(fld: Field, uniq: np.ndarray, codes: np.ndarray, findings: list[Finding]) -> np.ndarray:
    """Reject ids and phones that Excel turned into numbers: scientific notation, lost leading zeros.

    Such a value is no longer the id (``3.10107E+14`` stands for a thousand
    households), so its rows are rejected with what happened, before duplicates
    are looked for (several of them would otherwise look like one id with
    conflicting rows). A value is taken to have lost its zeros when every other
    all-digit value that starts with ``0`` has one length and it is all digits,
    shorter and without the ``0``. Returns ``uniq`` with those values emptied.

    >>> findings = []
    >>> fld = Field("household_id", "id")
    >>> out = _excel_numbers(fld, np.array(["3.10107E+14", "0012", "12", "0034"], dtype=object),
    ...                      np.array([0, 1, 2, 3]), findings)
    >>> [(f.code, f.positions.tolist(), f.values) for f in findings], out.tolist()
    ([('sci_notation', [0], ['3.10107E+14']), ('lost_zeros', [2], ['12'])], ['', '0012', '', '0034'])
    """
    texts = uniq.tolist()
    sci_u = np.fromiter((bool(_SCIENTIFIC.fullmatch(t)) for t in texts), dtype=bool, count=len(texts))
    found(findings, "sci_notation", fld.name, sci_u[codes], uniq[codes])
    bad_u = sci_u
    if fld.type == "id":
        digits = np.fromiter((t.isascii() and t.isdigit() for t in texts), dtype=bool, count=len(texts))
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        zero_led = digits & np.fromiter((t.startswith("0") for t in texts), dtype=bool, count=len(texts))
        padded = np.unique(lengths[zero_led])
        if len(padded) == 1:
            short_u = digits & ~zero_led & (lengths < padded[0])
            found(findings, "lost_zeros", fld.name, short_u[codes], uniq[codes], length=int(padded[0]))
            bad_u = bad_u | short_u
    return np.where(bad_u, "", uniq) if bad_u.any() else uniq


def _lost_text(text: str) -> bool:
    """Tell whether ``text`` is what is left of Chinese text saved in an encoding without it: ``?????``.

    >>> [_lost_text(t) for t in ("???????", "??1???", "长寿路?", "?", "A??B??C")]
    [True, True, False, False, True]
    """
    n = text.count("?")
    return n >= 2 and 2 * n >= len(text) and text.isascii() and not text.isspace()


def _formulas(raw: RawFile, findings: list[Finding]) -> None:
    """Report formula cells (workbooks) as formulas, not as bad numbers or dates as well."""
    for fld_name, positions in raw.formulas.items():
        pos = np.fromiter(positions.keys(), dtype=np.int64)
        cells = [positions[int(p)].split(": ", 1) for p in pos]
        for i, f in enumerate(findings):
            if f.column == fld_name and f.positions is not None:
                findings[i] = _without(f, np.isin(f.positions, pos))
        findings.append(
            Finding("formula", fld_name, pos, None, per_row=[{"cell": c[0], "value": c[1]} for c in cells])
        )


def _without(f: Finding, drop: np.ndarray) -> Finding:
    """Return ``f`` without the positions marked in ``drop``."""
    assert f.positions is not None
    keep = ~drop
    return Finding(
        f.code,
        f.column,
        f.positions[keep],
        None if f.values is None else [v for v, k in zip(f.values, keep, strict=True) if k],
        f.extra,
        None if f.per_row is None else [r for r, k in zip(f.per_row, keep, strict=True) if k],
        f.quote,
    )


def _check_committees(c: Checked, **_kw: Any) -> None:
    v = c.values
    if "office_lon" not in v or "office_lat" not in v:
        return
    lon = v["office_lon"].to_numpy(dtype=float)
    lat = v["office_lat"].to_numpy(dtype=float)
    w, s, e, n = CHINA_BOUNDS
    swapped = (lat >= w) & (lat <= e) & (lon >= s) & (lon <= n)
    pos = np.flatnonzero(swapped)
    if len(pos):
        c.findings.append(
            Finding(
                "office_swapped",
                "office_lon",
                pos,
                None,
                per_row=[{"lon": lon[p], "lat": lat[p]} for p in pos],
            )
        )


def _check_households(c: Checked, **_kw: Any) -> None:
    v = c.values
    if "vacant" in v:
        vac = v.pop("vacant")
        if "occupied" not in c.raw.cells.columns:
            v["occupied"] = vac.map(lambda x: 1 if x is None else 1 - int(x)).astype(object)


def _check_issues(c: Checked, *, issue_limits: Mapping[str, int] | None = None, **_kw: Any) -> None:
    v = c.values
    status = v.get("status")
    closed = v.get("closed_at")
    opened = v["opened_at"]
    if status is not None and closed is not None:
        is_closed = (status == "closed").to_numpy()
        has_time = closed.notna().to_numpy()
        found(c.findings, "closed_needs_time", "closed_at", is_closed & ~has_time)
        found(
            c.findings,
            "closed_but_open",
            "status",
            ~is_closed & has_time & status.notna().to_numpy(),
            status.to_numpy(),
        )
    elif status is not None:
        found(c.findings, "closed_needs_time", "closed_at", (status == "closed").to_numpy())
    elif closed is not None and closed.notna().any():
        v["status"] = np.where(closed.notna(), "closed", "open").astype(object)
    if closed is not None:
        early = np.flatnonzero((closed < opened).fillna(False).to_numpy(dtype=bool))
        if len(early):
            c.findings.append(
                Finding("before_open", "closed_at", early, closed.to_numpy()[early],
                        per_row=[{"opened": str(opened.iat[p])} for p in early])
            )  # fmt: skip
    limits = dict(issue_limits) if issue_limits is not None else _default_limits()
    level = v["level"] if "level" in v else pd.Series(["grid"] * len(v), dtype=object)
    days = level.map(lambda x: limits.get(x, 7) if x is not None else 7).to_numpy(dtype="int64")
    default_due = opened.to_numpy(dtype="datetime64[s]") + days * np.timedelta64(86400, "s")
    if "due_at" not in v:
        v["due_at"] = pd.Series(default_due, dtype="datetime64[s]")
    else:
        due = v["due_at"].to_numpy(dtype="datetime64[s]").copy()
        due[np.isnat(due)] = default_due[np.isnat(due)]
        v["due_at"] = pd.Series(due, dtype="datetime64[s]")


def _default_limits() -> dict[str, int]:
    from geo.settings import Settings

    return dict(Settings().issue_limits_days)


_CROSS_CHECKS: dict[str, Callable[..., None]] = {
    "committees": _check_committees,
    "households": _check_households,
    "issues": _check_issues,
}


def _check_geometry(geoms: gpd.GeoSeries, findings: list[Finding]) -> np.ndarray:
    """Return 2-D MultiPolygons (None where rejected), repairing what ``make_valid`` can."""
    arr = shapely.force_2d(np.asarray(geoms.array, dtype=object))
    n = len(arr)
    out = np.empty(n, dtype=object)
    missing = shapely.is_missing(arr) | shapely.is_empty(arr)
    found(findings, "geom_missing", "geometry", missing)
    types = shapely.get_type_id(arr)
    poly_types = (int(shapely.GeometryType.POLYGON), int(shapely.GeometryType.MULTIPOLYGON))
    collection = types == int(shapely.GeometryType.GEOMETRYCOLLECTION)
    wrong = ~missing & ~np.isin(types, poly_types) & ~collection
    names = [
        shapely.GeometryType(t).name.title().replace("string", "String") if t >= 0 else "" for t in types
    ]
    found(findings, "geom_type", "geometry", wrong, names)
    if wrong.any():
        findings[-1].quote = False
    # Coordinates outside China: swapped features, or a wrong coordinate system.
    usable = ~missing & ~wrong
    bounds = shapely.bounds(arr)
    outside = usable & ~(in_bounds(bounds[:, 0], bounds[:, 1]) & in_bounds(bounds[:, 2], bounds[:, 3]))
    swapped = outside & in_bounds(bounds[:, 1], bounds[:, 0]) & in_bounds(bounds[:, 3], bounds[:, 2])
    where = [f"{bounds[i, 0]:.5f} {bounds[i, 1]:.5f}" for i in range(n)]
    for code, mask in (("geom_swapped", swapped), ("geom_outside", outside & ~swapped)):
        if mask.any():
            found(findings, code, "geometry", mask, where)
            findings[-1].quote = False
    usable &= ~outside
    valid = shapely.is_valid(arr)
    fix = usable & (~valid | collection)
    repaired: list[int] = []
    reasons: list[str] = []
    failed: list[int] = []
    failed_reasons: list[str] = []
    for i in np.flatnonzero(fix).tolist():
        reason = shapely.is_valid_reason(arr[i]) if not valid[i] else "a geometry collection"
        fixed = _polygonal(shapely.make_valid(arr[i]) if not valid[i] else arr[i])
        if fixed is None:
            failed.append(i)
            failed_reasons.append(reason)
        else:
            arr[i] = fixed
            repaired.append(i)
            reasons.append(reason)
    if failed:
        findings.append(Finding("geom_invalid", "geometry", np.asarray(failed), failed_reasons, quote=False))
    if repaired:
        findings.append(Finding("repaired", "geometry", np.asarray(repaired), reasons, quote=False))
    ok = usable.copy()
    ok[failed] = False
    for i in np.flatnonzero(ok).tolist():
        g = arr[i]
        out[i] = g if isinstance(g, shapely.MultiPolygon) else shapely.MultiPolygon([g])
    return out


def _polygonal(g: shapely.Geometry) -> shapely.Geometry | None:
    """Return the polygonal part of ``g`` as a (Multi)Polygon, or None when it has no area."""
    if isinstance(g, shapely.Polygon | shapely.MultiPolygon):
        parts = [g] if isinstance(g, shapely.Polygon) else list(g.geoms)
    elif isinstance(g, shapely.GeometryCollection):
        parts = []
        for p in g.geoms:
            if isinstance(p, shapely.Polygon):
                parts.append(p)
            elif isinstance(p, shapely.MultiPolygon):
                parts.extend(p.geoms)
    else:
        return None
    parts = [p for p in parts if not p.is_empty and p.area > 0]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
