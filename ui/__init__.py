"""App-side helpers shared by the pages: caching wrappers, language, sidebar.

This package is the only place (besides pages) that imports streamlit; the
core in ``geo/`` never does.
"""
