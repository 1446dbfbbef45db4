"""Excel and CSV downloads in the UI language: one helper for every list on every page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo import export
from ui.i18n import lang, t


def xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    """Return an Excel workbook of ``sheets`` in the UI language."""
    return export.to_xlsx_bytes(sheets, lang=lang())


def csv(frame: pd.DataFrame) -> bytes:
    """Return a CSV of ``frame`` in the UI language."""
    return export.to_csv_bytes(frame, lang=lang())


def download_pair(sheets: dict[str, pd.DataFrame], csv_frame: pd.DataFrame, *, stem: str, key: str) -> None:
    """Draw the Excel (all ``sheets``) and CSV (``csv_frame``) download buttons side by side."""
    with st.container(horizontal=True):
        st.download_button(
            t("office.download_xlsx"), xlsx(sheets), file_name=f"{stem}.xlsx", key=f"{key}_xlsx"
        )
        st.download_button(
            t("office.download_csv"),
            csv(csv_frame),
            file_name=f"{stem}.csv",
            mime="text/csv",
            key=f"{key}_csv",
        )
