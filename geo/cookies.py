"""The names of the app's own cookies, in a module that imports nothing.

The server's routes and middleware (``ui/routes.py``) read them on every
request, and the server must answer before the store's libraries are loaded
(a restart's first page: ``docs/benchmarks.md``). ``geo.sessions`` re-exports them.
"""

COOKIE = "sibai_session"
"""The session cookie (HttpOnly, SameSite=Lax): a signed token."""

CSRF_COOKIE = "sibai_csrf"
"""The double-submit cookie: the sign-in and sign-out forms carry the same value in a field."""
