"""Excel and CSV downloads in the UI language: one helper for every list on every page, each audited.

The files are built when a person clicks, not on every run of the page:
:func:`xlsx` and :func:`csv` return the zero-argument callable that
``st.download_button`` runs on demand (in a thread of its own, so the language
is taken now). On the full district the weekly check's workbooks alone took
seconds per run (docs/benchmarks.md, "Every screen's first paint").
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pandas as pd
import streamlit as st

from geo import export
from ui import auth
from ui.i18n import lang, t


def xlsx(sheets: dict[str, pd.DataFrame]) -> Callable[[], bytes]:
    """Return what builds an Excel workbook of ``sheets`` in the UI language, when called."""
    return partial(export.to_xlsx_bytes, dict(sheets), lang=lang())


def csv(frame: pd.DataFrame) -> Callable[[], bytes]:
    """Return what builds a CSV of ``frame`` in the UI language, when called."""
    return partial(export.to_csv_bytes, frame, lang=lang())


def log_export(file_name: str, rows: int) -> None:
    """Button callback: write an ``export`` row to the audit trail (who, role, which file, how many rows)."""
    auth.audit("export", f"file:{file_name}", f"{rows} rows")


def download_pair(sheets: dict[str, pd.DataFrame], csv_frame: pd.DataFrame, *, stem: str, key: str) -> None:
    """Draw the Excel (all ``sheets``) and CSV (``csv_frame``) download buttons side by side.

    A click writes an ``export`` row to the audit trail.
    """
    rows = sum(len(f) for f in sheets.values())
    with st.container(horizontal=True):
        st.download_button(
            t("office.download_xlsx"),
            xlsx(sheets),
            file_name=f"{stem}.xlsx",
            key=f"{key}_xlsx",
            on_click=log_export,
            args=(f"{stem}.xlsx", rows),
        )
        st.download_button(
            t("office.download_csv"),
            csv(csv_frame),
            file_name=f"{stem}.csv",
            mime="text/csv",
            key=f"{key}_csv",
            on_click=log_export,
            args=(f"{stem}.csv", len(csv_frame)),
        )
