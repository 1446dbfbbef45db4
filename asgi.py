"""The app's own server: Streamlit's ``st.App`` running ``app.py``, with the sign-in routes beside it.

``sibai serve`` runs this file (``streamlit run asgi.py`` does the same; any
ASGI server can serve ``asgi:app``). See ``ui/server.py`` and ``ui/routes.py``.
"""

import streamlit as st

from ui import routes, server

server.hide_script_path()
app = st.App(server.APP, routes=routes.routes(), middleware=routes.middleware())
