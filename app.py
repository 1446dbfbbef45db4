"""Sibai Grid Map (四百网格地图): the Streamlit entry point.

Run with ``streamlit run app.py``. This file only wires things together:
page config, language, the first-start build of the demo district, the shared
sidebar and the navigation. Screens live in ``pages/``; caching wrappers in
``ui/data.py``; everything else in the ``geo`` package.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from geo.store import StoreError
from ui import data, sidebar
from ui.i18n import lang, t

st.set_page_config(page_title="四百网格地图 · Sibai Grid Map", layout="wide")
lang()

try:
    data.ensure_database()
    data.store()
except StoreError as exc:
    st.error(t("db.error", msg=str(exc)))
    st.stop()

# (file, title key, url path): a screen appears once its file exists, so work on
# one screen never breaks navigation for the others.
SCREENS = (
    ("pages/district_map.py", "nav.map", "map"),
    ("pages/grid.py", "nav.grid", "grid"),
    ("pages/walk.py", "nav.walk", "walk"),
    ("pages/uncovered.py", "nav.uncovered", "uncovered"),
    ("pages/issues.py", "nav.issues", "issues"),
    ("pages/workers.py", "nav.workers", "workers"),
    ("pages/public.py", "nav.public", "public"),
    ("pages/data.py", "nav.data", "data"),
)
HERE = Path(__file__).resolve().parent
pages = [
    st.Page(file, title=t(title), url_path=url, default=(i == 0))
    for i, (file, title, url) in enumerate(SCREENS)
    if (HERE / file).exists()
]
nav = st.navigation(pages)
st.session_state["filters"] = sidebar.render()
nav.run()
