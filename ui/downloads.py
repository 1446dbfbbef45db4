"""Excel and CSV downloads in the UI language: one helper for every list on every page, each audited.

The files are built when a person clicks, not on every run of the page:
:func:`xlsx` and :func:`csv` return the zero-argument callable that
``st.download_button`` runs on demand (in a thread of its own, so the language
is taken now). On the full district the weekly check's workbooks alone took
seconds per run (docs/benchmarks.md, "Every screen's first paint").

Every download goes through :func:`button`: the file's audit row is written
when the file is built, by the same callable, and the click does not rerun the
page. A click that reran the page raced Streamlit's own answer to the
download: the rerun empties the session's outgoing queue when it starts, and
an answer waiting there was lost, leaving the button spinning and disabled for
three minutes (the browser's time-out) — seen in CI on the weekly check.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pandas as pd
import streamlit as st

from geo import export
from geo.store import audit as trail
from geo.text import plain
from ui import auth, data
from ui.i18n import lang, t


def xlsx(sheets: dict[str, pd.DataFrame]) -> Callable[[], bytes]:
    """Return what builds an Excel workbook of ``sheets`` in the UI language, when called."""
    return partial(export.to_xlsx_bytes, dict(sheets), lang=lang())


def csv(frame: pd.DataFrame) -> Callable[[], bytes]:
    """Return what builds a CSV of ``frame`` in the UI language, when called."""
    return partial(export.to_csv_bytes, frame, lang=lang())


def audited(
    build: Callable[[], bytes | str] | bytes | str, *, action: str, target: str, detail: str
) -> Callable[[], bytes | str]:
    """Return what builds the file (``build()``, or the bytes themselves) and then writes its audit row.

    Who, which role and which store are taken now, in the page's run: the
    returned callable runs later, in a thread of Streamlit's own.
    """
    store, who, role = data.store(), auth.user(), auth.role()

    def build_and_log() -> bytes | str:
        payload = build() if callable(build) else build
        trail.log(store, who=who, role=role, action=action, target=target, detail=detail)
        return payload

    return build_and_log


def button(
    label: str,
    build: Callable[[], bytes | str] | bytes | str,
    *,
    file_name: str,
    key: str,
    mime: str | None = None,
    rows: int | None = None,
    action: str = "export",
    target: str | None = None,
    detail: str | None = None,
) -> None:
    """Draw one download button whose file is built, and audited, when a person clicks it.

    The audit row is ``action`` on ``target`` (``file:<file_name>`` unless
    given) with ``detail`` (``<rows> rows`` unless given).
    """
    st.download_button(
        plain(label),  # catalogue words stay as they are (t() made them plain); anything else is made so
        audited(
            build,
            action=action,
            target=target if target is not None else f"file:{file_name}",
            detail=detail if detail is not None else f"{rows} rows",
        ),
        file_name=file_name,
        mime=mime,
        key=key,
        on_click="ignore",
    )


def download_pair(sheets: dict[str, pd.DataFrame], csv_frame: pd.DataFrame, *, stem: str, key: str) -> None:
    """Draw the Excel (all ``sheets``) and CSV (``csv_frame``) download buttons side by side.

    Each download writes an ``export`` row to the audit trail.
    """
    rows = sum(len(f) for f in sheets.values())
    with st.container(horizontal=True):
        button(
            t("office.download_xlsx"), xlsx(sheets), file_name=f"{stem}.xlsx", rows=rows, key=f"{key}_xlsx"
        )
        button(
            t("office.download_csv"),
            csv(csv_frame),
            file_name=f"{stem}.csv",
            mime="text/csv",
            key=f"{key}_csv",
            rows=len(csv_frame),
        )
