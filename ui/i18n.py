"""Chinese by default, English on request: the screens' side of the one catalogue, :mod:`geo.words`."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Final, Literal

import streamlit as st

from geo import words
from geo.text import Plain, plain

LANGS = words.LANGS
Lang = Literal["zh", "en"]

ANY: Final = ""
"""The "all" / "any" option of a selector: text rather than None, so :func:`relabel` can send it again."""


_LAST_LANG = "_sibai_lang_last"  # the language of this session's last run (relabel skips "_" keys)


def lang() -> Lang:
    """Return the current language code (``zh`` unless the user switched).

    The sidebar's control can come back empty: a click on the language already
    chosen unselects a segmented control, and a page can lose the control's
    value in the browser. Neither is a choice of another language, so the
    session keeps the one it had (before: the page fell back to Chinese).
    """
    value = st.session_state.get("lang")
    if value not in LANGS:
        last, q = st.session_state.get(_LAST_LANG), st.query_params.get("lang")
        value = last if last in LANGS else q if q in LANGS else "zh"
        st.session_state["lang"] = value
    if st.session_state.get(_LAST_LANG) != value:  # t() calls this for every word: write on a change only
        st.session_state[_LAST_LANG] = value
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


def labels_held(key: str, label_keys: Sequence[str], show: Callable[[str], str] = str) -> list[str]:
    """Return the labels of ``label_keys`` in the page's language; the one held at ``key`` follows a switch.

    Tabs (``st.tabs(key=...)``) and a selector whose options are words hold the
    chosen label itself, so after a language switch the held label named none of
    the new ones and 盲区与周查 fell back to its first tab. A held label from
    another language is replaced by the same entry's label in this one.
    ``show`` is how the page puts each label on screen (e.g. ``plain``).
    """
    labels = [show(t(k)) for k in label_keys]
    held = st.session_state.get(key)
    if isinstance(held, str) and held not in labels:
        for k, label in zip(label_keys, labels, strict=True):
            if held in {show(words.text(k, other)) for other in LANGS}:
                st.session_state[key] = label
                break
    return labels
