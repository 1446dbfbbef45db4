"""Who is using the app: the signed-in user, their role and the scope they may read.

Placeholder for issue 5 (login, roles, audit): until sign-in lands, everyone is
the district role seeing everything. Pages and ``ui`` helpers must take the
caller's scope from :func:`scope` (never build ``Scope.everything()``
themselves), so that enforcing sign-in changes this one module.
"""

from __future__ import annotations

import streamlit as st

from geo.store import Scope


def role() -> str:
    """Return the session's role: ``district``, ``street``, ``committee``, ``grid`` or ``public``."""
    return str(st.session_state.get("role", "district"))


def user() -> str:
    """Return the signed-in user's name (for the audit trail)."""
    return str(st.session_state.get("user") or "anonymous")


def scope() -> Scope:
    """Return the area the session may read personal rows in."""
    return Scope.everything()
