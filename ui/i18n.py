"""Chinese by default, English on request: the screens' side of the one catalogue, :mod:`geo.words`."""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

import streamlit as st

from geo import words
from geo.text import Plain, plain

LANGS = words.LANGS
Lang = Literal["zh", "en"]


def lang() -> Lang:
    """Return the current language code (``zh`` unless the user switched)."""
    value = st.session_state.get("lang")
    if value not in LANGS:
        q = st.query_params.get("lang")
        value = q if q in LANGS else "zh"
        st.session_state["lang"] = value
    return "en" if value == "en" else "zh"


def t(key: str, **kw: object) -> str:
    """Translate ``key`` into the current language, with each text value shown as plain text.

    The catalogue's own words may carry Markdown; values put into them (names,
    ids, numbers already formatted) go through :func:`geo.text.plain`, so a
    name like ``![x](http://…)`` shows as typed wherever the message is shown.
    The result is a :class:`geo.text.Plain` (typed ``str``): ``plain(t(...))``
    leaves it as is, and ``t(...) + " " + t(...)`` stays plain. A key missing
    from the catalogue shows as itself, as before (``tests/test_words.py``
    fails on any key the code names that the catalogue lacks).
    """
    values = {k: plain(v) if isinstance(v, str) else v for k, v in kw.items()}
    if key not in words.WORDS:
        return Plain(key.format(**values) if values else key)
    return Plain(words.text(key, lang(), **values))


def fmt_int(n: float | int) -> str:
    """Format a count with thousands separators (same in both languages)."""
    return f"{int(n):,}"


def fmt_pct(x: float | None) -> str:
    """Format a share as a percentage, or the 'no households' label for NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return t("no_households")
    return f"{x * 100:.1f}%"


def fmt_date(d: dt.date) -> str:
    """Format a date for the current language."""
    return f"{d.year}年{d.month}月{d.day}日" if lang() == "zh" else d.isoformat()
