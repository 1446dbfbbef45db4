"""Sibai Grid Map (四百网格地图): the Streamlit entry point.

Run with ``streamlit run app.py``. This file only wires things together:
page config, language, the first-start build of the demo district, the shared
sidebar and the navigation. Screens live in ``pages/``; caching wrappers in
``ui/data.py``; everything else in the ``geo`` package.
"""

from __future__ import annotations

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

pages = [
    st.Page("pages/district_map.py", title=t("nav.map"), url_path="map", default=True),
    st.Page("pages/grid.py", title=t("nav.grid"), url_path="grid"),
]
nav = st.navigation(pages)
st.session_state["filters"] = sidebar.render()
nav.run()
