"""Chinese by default, English on request: the screens' side of the one catalogue, :mod:`geo.words`."""

from __future__ import annotations

import datetime as dt
import math
from typing import Final, Literal

import streamlit as st

from geo import words
from geo.text import Plain, plain

LANGS = words.LANGS
Lang = Literal["zh", "en"]

ANY: Final = ""
"""The "all" / "any" option of a selector: text rather than None, so :func:`relabel` can send it again."""


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


def relabel() -> None:
    """Send every chosen option again after a language switch, so the browser shows it in the new language.

    The browser keeps a selector's choice as the label it showed, and a keyed
    widget keeps its identity when its labels change: without this an English
    page goes on showing 今年以来 or 全部 (issue 14). A value set through the
    session state is sent to the browser again, formatted in the new language.
    Only text values and non-empty lists of text are set again: those are what
    selectors hold (with :data:`ANY` for "all"); buttons, uploads, dates and
    numbers carry no words and some may not be set at all.
    """
    state = st.session_state
    for key in list(state.keys()):
        if key == "lang" or not isinstance(key, str) or key.startswith("_"):
            continue
        value = state[key]
        if isinstance(value, str) or (
            isinstance(value, list) and value and all(isinstance(v, str) for v in value)
        ):
            state[key] = value
