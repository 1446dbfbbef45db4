"""审计日志 · Audit trail: who signed in, viewed, unmasked, exported or imported what, when (district).

The trail is written by :mod:`geo.store.audit` (append-only, kept for settings
``audit_keep_days``); this page filters it by date, user and action, shows it
and exports it as Excel or CSV, each export itself an ``audit_export`` row.
Values (names typed at a failed sign-in, targets) are shown in a table only,
never as Markdown.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from geo import auth as core
from geo.store import audit as trail
from geo.text import plain
from ui import auth, data
from ui.downloads import button, csv, xlsx
from ui.i18n import ANY, fmt_int, lang, t

auth.require("audit")  # sign-in, page rights and the link's areas (ui/auth.py)

LIMIT = 5000  # rows shown and exported at most, the newest first
COLUMNS = ("at", "who", "role", "action", "target", "detail")

today = data.today()
store = data.store()
st.title(t("audit.title"), anchor=False)
st.caption(t("audit.caption", days=fmt_int(data.settings().audit_keep_days)))

c1, c2, c3, c4 = st.columns([2, 2, 3, 3])
since = c1.date_input(t("audit.from"), value=today - dt.timedelta(days=30), max_value=today, key="audit_from")
until = c2.date_input(t("audit.to"), value=today, max_value=today, key="audit_to")
who = c3.text_input(t("audit.who"), key="audit_who", max_chars=256, placeholder=t("audit.any")).strip()
action = (
    c4.selectbox(
        t("audit.action"),
        [ANY, *trail.ACTIONS],
        format_func=lambda a: t("audit.any") if a == ANY else t(f"audit.action.{a}"),
        key="audit_action",
    )
    or None
)
rows = trail.read(
    store,
    since=since if isinstance(since, dt.date) else None,
    until=until if isinstance(until, dt.date) else None,
    who=who or None,
    action=action,
    limit=LIMIT,
)
shown = rows[list(COLUMNS)].copy()
shown["action"] = [t(f"audit.action.{a}") for a in shown["action"]]
shown["role"] = [core.role_text(r, lang()) for r in shown["role"]]
shown["detail"] = [core.detail_text(d, lang()) for d in shown["detail"]]
shown = shown.rename(columns={c: t(f"audit.col.{c}") for c in COLUMNS})

note = t("audit.count", n=fmt_int(len(rows)))
if len(rows) >= LIMIT:
    note += " " + t("audit.limit", n=fmt_int(LIMIT))
st.caption(plain(note))
if rows.empty:
    st.info(t("audit.none"))
else:
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={t("audit.col.at"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")},
        key="audit_table",
    )
    stem = f"audit-{since}-{until}"
    detail = f"{len(rows)} rows; who={who or '*'}; action={action or '*'}"
    with st.container(horizontal=True):
        button(
            t("office.download_xlsx"),
            xlsx({t("audit.title"): shown}),
            file_name=f"{stem}.xlsx",
            key="audit_xlsx",
            action="audit_export",
            detail=detail,
        )
        button(
            t("office.download_csv"),
            csv(shown),
            file_name=f"{stem}.csv",
            mime="text/csv",
            key="audit_csv",
            action="audit_export",
            detail=detail,
        )
