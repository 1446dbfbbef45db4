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
from geo.text import plain
from ui import arrivals, auth, data, errors, sidebar
from ui.i18n import lang, t

st.set_page_config(page_title="四百网格地图 · Sibai Grid Map", layout="wide")
HERE = Path(__file__).resolve().parent
# The phone layout (issue 18): pills wrap, 44 px taps, the menu closes after a choice.
st.html(HERE / "ui" / "phone.css")
PHONE_JS = (HERE / "ui" / "phone.js").read_text(encoding="utf-8")  # our own constant script
st.html(f"<script>{PHONE_JS}</script>", unsafe_allow_javascript=True)
lang()
# The words phone.js shows (current language, from the catalogue), read when it needs them.
st.html(
    f'<div id="sibai-words" hidden data-offline="{plain(t("offline.waiting"))}"'
    f' data-sending="{plain(t("offline.sending"))}"></div>'
)

try:
    data.ensure_database()
    data.store()
except StoreError as exc:
    st.error(t("db.error", msg=str(exc)))
    st.stop()

# (file, title key, url path): a screen appears once its file exists, so work on
# one screen never breaks navigation for the others. Who may open which is
# ui.auth.PAGES; a page the role may not use stays registered but hidden, so a
# deep link to it shows the sign-in form or "no access" at its own address
# (and, after signing in, the page itself with the link's parameters).
SCREENS = (
    ("pages/district_map.py", "nav.map", "map"),
    ("pages/grid.py", "nav.grid", "grid"),
    ("pages/walk.py", "nav.walk", "walk"),
    ("pages/uncovered.py", "nav.uncovered", "uncovered"),
    ("pages/issues.py", "nav.issues", "issues"),
    ("pages/workers.py", "nav.workers", "workers"),
    ("pages/public.py", "nav.public", "public"),
    ("pages/data.py", "nav.data", "data"),
    ("pages/audit.py", "nav.audit", "audit"),
)

auth.start_run()
staff = auth.is_staff()
home = "map" if staff else "public"
pages = [
    st.Page(
        file,
        title=t(title),
        url_path=url,
        visibility="visible" if auth.may_use(url) else "hidden",
    )
    for file, title, url in SCREENS
    if (HERE / file).exists()
]
pages.append(
    st.Page(
        auth.sign_in_page,
        title=t("nav.signin"),
        url_path="signin",
        visibility="hidden" if staff else "visible",
    )
)
by_url = {p.url_path: p for p in pages}


def _home() -> None:
    # "/" is no screen of its own: staff land on the map, everyone else on the public
    # summary, each at its own address, so that every screen keeps one address whoever
    # opens it (a default page would answer only at "/"). Links made for "/" keep their
    # parameters.
    st.switch_page(by_url[home], query_params=st.query_params.to_dict())


entry = st.Page(_home, title=t(f"nav.{home}"), url_path="home", default=True, visibility="hidden")
nav = st.navigation([entry, *pages])
here = nav.url_path or home  # the hidden entry page ("/") has the url_path ""
if (here == "signin" and staff) or (auth.just_signed_out() and here != home):
    st.switch_page(by_url[home])  # after signing in or out: home
auth.account_box()
st.session_state["filters"] = sidebar.render(public=here == "public")
auth.require(here)  # each page calls it too: Streamlit may run a page without app.py
with errors.caught():
    nav.run()
if staff:
    arrivals.page_drawn()  # the server's warm-up held back its other work for this first page
