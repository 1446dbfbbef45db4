"""导入/导出 · Data: bring registers and boundaries in (checked row by row), take every table out.

The core is ``geo.importing.import_file`` (files → checked rows → one
transaction) and ``geo.roundtrip.export_bytes``; see ``docs/import.md``. User
data (file names, cell values, reasons) is shown only as plain text or in
tables, never as Markdown or HTML.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.importing import import_file
from geo.ingest import KINDS, LAYER_KINDS, IngestError, rejects_bytes
from geo.roundtrip import export_bytes, exportable, formats_for
from geo.store import StoreError
from ui import auth, data
from ui.downloads import button
from ui.i18n import fmt_int, lang, t
from ui.uploads import file_uploader

auth.require("data")  # sign-in, page rights and the link's areas (ui/auth.py)

# Roles that may import: the district only (the page itself is the district's, ui.auth.PAGES).
IMPORT_ROLES = frozenset({"district"})

UPLOAD_TYPES = ["csv", "xlsx", "gpkg", "geojson", "json", "zip"]
CRS_CHOICES = ["", "EPSG:4326", "EPSG:4490", "EPSG:32651", "gcj02", "bd09"]
SOURCE_CHOICES = ["", "hotline", "online", "visit"]

# Labels are looked up when the script runs: widgets keep them (AppTest formats outside the script).
KIND_LABELS = {k: t(f"data.kind.{k}") for k in KINDS}
CRS_LABELS = {c: c or t("data.crs.file") for c in CRS_CHOICES}
SOURCE_LABELS = {s: t(f"data.source.{s or 'file'}") for s in SOURCE_CHOICES}
HEADER_LABELS = {h: t(f"data.headers.{h}") for h in ("zh", "en")}
FORMAT_LABELS = {"csv": "CSV", "xlsx": "Excel (.xlsx)", "gpkg": "GeoPackage (.gpkg)", "geojson": "GeoJSON"}

st.title(t("data.title"))
tab_in, tab_out = st.tabs([t("data.import"), t("data.export")])

with tab_in:
    if auth.role() not in IMPORT_ROLES:
        st.info(t("data.not_allowed"))
    else:
        st.caption(t("data.import_hint"))
        kind = st.selectbox(t("data.kind"), KINDS, format_func=KIND_LABELS.__getitem__, key="data_kind")
        upload = file_uploader(t("data.file"), types=UPLOAD_TYPES, key="data_file")
        # Only the options that apply to this kind are drawn: a greyed-out control is
        # unreadable (2.6:1) and answers nothing.
        c1, c2, c3 = st.columns(3)
        crs = (
            c1.selectbox(t("data.crs"), CRS_CHOICES, format_func=CRS_LABELS.__getitem__, key="data_crs")
            if kind in LAYER_KINDS
            else None
        )
        source = (
            c2.selectbox(
                t("data.source"), SOURCE_CHOICES, format_func=SOURCE_LABELS.__getitem__, key="data_source"
            )
            if kind == "issues"
            else None
        )
        dry_run = c3.checkbox(t("data.dry_run"), key="data_dry_run")
        if st.button(t("data.start"), type="primary", disabled=upload is None, key="data_start") and upload:
            bar = st.progress(0.0, text=t("data.progress", pct=0))
            st.session_state.pop("data_error", None)
            st.session_state.pop("data_report", None)
            try:
                st.session_state["data_report"] = import_file(
                    data.store(),
                    kind,
                    upload.getvalue(),
                    name=upload.name,
                    dry_run=dry_run,
                    crs=(crs or None) if kind in LAYER_KINDS else None,
                    source=(source or None) if kind == "issues" else None,
                    progress=lambda f, _m: bar.progress(
                        min(f, 1.0), text=t("data.progress", pct=round(f * 100))
                    ),
                )
            except IngestError as exc:
                st.session_state["data_error"] = exc.text(lang())
            except (StoreError, ValueError) as exc:
                st.session_state["data_error"] = str(exc)
            done = st.session_state.get("data_report")
            auth.audit(
                "import",
                f"{kind}:{upload.name}",
                f"dry run: {dry_run}; "
                + (
                    f"accepted {done.accepted}, rejected {done.rejected}, unchanged {done.unchanged}"
                    if done is not None
                    else "failed"
                ),
            )
            bar.empty()

        if "data_error" in st.session_state:
            st.error(t("data.failed"))
            st.text(st.session_state["data_error"])
        report = st.session_state.get("data_report")
        if report is not None:
            m1, m2, m3 = st.columns(3)
            m1.metric(t("data.accepted"), fmt_int(report.accepted))
            m2.metric(t("data.rejected"), fmt_int(report.rejected))
            m3.metric(t("data.unchanged"), fmt_int(report.unchanged))
            if report.dry_run:
                st.info(t("data.dry_run_done"))
            elif report.rejected:
                st.warning(t("data.partly" if report.accepted else "data.nothing"))
            else:
                st.success(t("data.done"))
            st.text(report.summary(lang()))
            if report.rejected:
                name, payload = rejects_bytes(report, lang=lang())
                button(  # the rejected rows are household data too
                    t("data.rejects"), payload, file_name=name, rows=report.rejected, key="data_rejects"
                )
            problems = report.problems(lang(), limit=2000)
            problems["severity"] = [t(f"data.sev.{s}") for s in problems["severity"]]
            problems["row"] = [
                "" if pd.isna(r) else str(r) for r in problems["row"]
            ]  # file-wide notes: no row
            if len(problems):
                st.header(t("data.problems"))
                st.dataframe(
                    problems.drop(columns=["code"]).rename(
                        columns={
                            "row": t("data.col.row"),
                            "column": t("data.col.column"),
                            "severity": t("data.col.severity"),
                            "message": t("data.col.message"),
                        }
                    ),
                    hide_index=True,
                    width="stretch",
                )

with tab_out:
    st.caption(t("data.export_hint"))
    name = st.selectbox(t("data.table"), exportable(), format_func=KIND_LABELS.__getitem__, key="data_table")
    o1, o2 = st.columns(2)
    fmt = o1.radio(
        t("data.format"),
        formats_for(name),
        format_func=FORMAT_LABELS.__getitem__,
        horizontal=True,
        key=f"data_format_{name}",
    )
    headers = o2.radio(
        t("data.headers"),
        ["zh", "en"],
        format_func=HEADER_LABELS.__getitem__,
        horizontal=True,
        key="data_headers",
    )
    if st.button(t("data.prepare"), key="data_prepare"):
        try:
            st.session_state["data_export"] = (
                name,
                fmt,
                headers,
                *export_bytes(data.store(), name, fmt, scope=auth.scope(), headers=headers),
            )
        except (StoreError, ValueError) as exc:
            st.session_state.pop("data_export", None)
            st.error(t("data.export_failed"))
            st.text(str(exc))
    ready = st.session_state.get("data_export")
    if ready is not None and ready[:3] == (name, fmt, headers):
        button(
            t("data.download", file=ready[3]),
            ready[4],
            file_name=ready[3],
            key="data_download",
            target=f"table:{name}",
            detail=f"{ready[3]}; headers {headers}",
        )
