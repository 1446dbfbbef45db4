"""What an import did: counts, messages per row in either language, and the rejects file.

The rejects file holds the rejected rows as they were in the file, in the
file's own format, with ``_row``, ``_column`` and ``_reason`` added; it is
written by :mod:`geo.writers`, so a CSV's formula-like cells are neutralised
and come back unchanged when the fixed file is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import writers
from geo.ingest.against import Verdict
from geo.ingest.checks import Checked
from geo.ingest.messages import Finding, one_line
from geo.ingest.readers import RawFile
from geo.ingest.specs import KIND_NAMES


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do): counts, messages and the rejected rows."""

    kind: str
    file: str
    format: str
    total: int
    accepted: int
    rejected: int
    unchanged: int
    findings: list[Finding]
    status: np.ndarray
    raw: RawFile
    dry_run: bool = False
    written: bool = False
    seconds: float = 0.0

    @classmethod
    def build(cls, checked: Checked, verdict: Verdict, *, dry_run: bool = False) -> ImportReport:
        """Count the verdict of every row."""
        s = verdict.status
        return cls(
            kind=checked.kind,
            file=checked.raw.source.name,
            format=checked.raw.format,
            total=len(s),
            accepted=int((s == "accept").sum()),
            rejected=int((s == "reject").sum()),
            unchanged=int((s == "unchanged").sum()),
            findings=verdict.findings,
            status=s,
            raw=checked.raw,
            dry_run=dry_run,
        )

    def summary(self, lang: str = "en") -> str:
        """Return the one-line summary.

        >>> r = ImportReport("visits", "v.csv", "csv", 5, 3, 1, 1, [], np.array([]), None, dry_run=True)
        >>> r.summary()
        'v.csv → visits: 3 accepted, 1 rejected, 1 unchanged (of 5 rows) — dry run, nothing written'
        >>> r.summary("zh")
        'v.csv → 走访记录：接受 3 行，拒绝 1 行，未变 1 行（共 5 行）——试运行，未写入'
        """
        if lang == "zh":
            name = KIND_NAMES.get(self.kind, self.kind)
            text = (
                f"{self.file} → {name}：接受 {self.accepted:,} 行，拒绝 {self.rejected:,} 行，"
                f"未变 {self.unchanged:,} 行（共 {self.total:,} 行）"
            )
            return text + ("——试运行，未写入" if self.dry_run else "")
        text = (
            f"{self.file} → {self.kind}: {self.accepted:,} accepted, {self.rejected:,} rejected, "
            f"{self.unchanged:,} unchanged (of {self.total:,} rows)"
        )
        return text + (" — dry run, nothing written" if self.dry_run else "")

    def _header(self, column: str | None, lang: str) -> str:
        if column is None:
            return ""
        own = self.raw.columns_of.get(column) if self.raw is not None else None
        if column == "geometry":
            return "geometry" if lang == "en" else "几何"
        return f"{one_line(own)} ({column})" if own and own != column else column

    def problems(self, lang: str = "en", *, limit: int | None = None) -> pd.DataFrame:
        """Return one line per finding and row: ``row``, ``column``, ``severity``, ``code``, ``message``."""
        out: list[tuple[Any, ...]] = []
        for f in self.findings:
            sev = "warning" if f.is_warning else "error"
            if f.positions is None:
                out.append((None, "", sev, f.code, _localise(f, None, lang)))
                continue
            for i, p in enumerate(f.positions.tolist()):
                out.append(
                    (int(self.raw.rows[p]), self._header(f.column, lang), sev, f.code, _localise(f, i, lang))
                )
                if limit is not None and len(out) >= limit:
                    break
            if limit is not None and len(out) >= limit:
                break
        frame = pd.DataFrame(out, columns=["row", "column", "severity", "code", "message"])
        frame["row"] = frame["row"].astype("Int64")
        return frame.sort_values("row", kind="stable", na_position="first").reset_index(drop=True)

    def warnings(self, lang: str = "en") -> list[str]:
        """Return the warnings as lines (file-wide ones, then ``row N, column: message``)."""
        lines = []
        for f in self.findings:
            if not f.is_warning:
                continue
            if f.positions is None:
                lines.append(_localise(f, None, lang))
                continue
            for i, p in enumerate(f.positions.tolist()):
                col = self._header(f.column, lang)
                where = f"row {int(self.raw.rows[p])}" if lang == "en" else f"第 {int(self.raw.rows[p])} 行"
                lines.append(f"{where}{', ' + col if col else ''}: {_localise(f, i, lang)}")
        return lines

    def rejects_frame(self, lang: str = "en") -> pd.DataFrame:
        """Return the rejected rows as they were in the file, with ``_row``, ``_column`` and ``_reason``.

        A row with several problems lists each column and reason, joined by ``; ``.
        """
        rejected = np.flatnonzero(self.status == "reject")
        cols: dict[int, list[str]] = {int(p): [] for p in rejected}
        reasons: dict[int, list[str]] = {int(p): [] for p in rejected}
        for f in self.findings:
            if f.positions is None or f.is_warning:
                continue
            for i, p in enumerate(f.positions.tolist()):
                if p in reasons:
                    col = self._header(f.column, lang)
                    if col and col not in cols[p]:
                        cols[p].append(col)
                    text = _localise(f, i, lang)
                    reasons[p].append(f"{col}: {text}" if col else text)
        frame = self.raw.original.rows(rejected)
        frame["_row"] = self.raw.rows[rejected]
        frame["_column"] = ["; ".join(cols[int(p)]) for p in rejected]
        frame["_reason"] = ["; ".join(reasons[int(p)]) for p in rejected]
        return frame


def _localise(f: Finding, i: int | None, lang: str) -> str:
    if f.code == "unknown_ref" and lang == "zh":
        params = dict(f.extra)
        params["what"] = params.get("what_zh", params.get("what"))
        g = Finding(f.code, f.column, f.positions, f.values, params, f.per_row, f.quote)
        return g.text(i, lang)
    return f.text(i, lang)


def rejects_bytes(report: ImportReport, *, lang: str = "en") -> tuple[str, bytes]:
    """Return the rejects file, in the input's format: ``(file name, bytes)``.

    CSV keeps the input's encoding and delimiter; a workbook gets one sheet;
    GIS files keep their format, with features in the coordinates they came in.
    """
    frame = report.rejects_frame(lang)
    raw = report.raw
    stem = raw.source.name.rsplit(".", 1)[0] if "." in raw.source.name else raw.source.name
    if raw.format == "csv":
        # Formula-like cells are neutralised, so opening the rejects in Excel runs nothing;
        # importing the fixed file removes the apostrophe again.
        safe = frame.map(writers.neutralise) if len(frame) else frame
        data = writers.csv_bytes(
            safe, sep=raw.delimiter, encoding=raw.encoding or "utf-8-sig", errors="replace"
        )
        return f"{stem}.rejects.csv", data
    if raw.format == "xlsx":
        return f"{stem}.rejects.xlsx", writers.xlsx_bytes(frame, sheet=raw.sheet or "rejects")
    geom = frame.pop("geometry") if "geometry" in frame.columns else None
    gdf = gpd.GeoDataFrame(
        frame, geometry=gpd.GeoSeries(list(geom) if geom is not None else [None] * len(frame)), crs=raw.crs
    )
    return writers.layer_bytes(gdf, raw.format, stem=f"{stem}.rejects", layer=raw.layer or raw.kind)
