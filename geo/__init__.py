"""Sibai Grid Map core: pure functions over frames, and the store that feeds them.

Nothing in this package imports streamlit; the app (``app.py``, ``pages/``,
``ui/``) wraps these functions with caching and widgets.
"""

__version__ = "0.1.0"
