"""User text as plain text: the one way data (names, notes, ids, URL parameters) reaches a screen.

Names and notes come from imports, forms and the address bar, so they may
hold ``<img onerror=…>``, ``[a link](http://…)``, ``![an image](…)`` or
``javascript:`` URLs. Everything that puts such text into a Markdown or HTML
context (Streamlit's ``st.markdown``/``st.warning``/headings/button labels,
folium tooltips, popups and layer names, printable pages) passes it through
:func:`plain` first.

:func:`plain` replaces every character that means something to HTML or to
Streamlit's Markdown (CommonMark with GFM autolinks, ``:colour[…]`` and
``:material/…:`` directives, ``$…$`` maths) where it would mean it by its
numeric character reference: ``<``, ``[``, ``*`` … everywhere, ``-``, ``#``,
``1.`` only at the start, ``:`` only before a letter. Both HTML and CommonMark
turn a character reference back into the literal character and never into
markup, so one escaped string reads the same in either context: a name shows
exactly as it was typed, and does nothing.

Plain-text widgets (``st.dataframe`` cells, ``st.text``, ``st.code``, select
box options) show text as it is and take the raw value, not :func:`plain`'s
output.

The result is a :class:`Plain` string, and :func:`plain` of a :class:`Plain`
returns it unchanged, so wrapping twice never shows ``&#38;#60;``.

One exception: a widget's label drawn collapsed (``label_visibility="collapsed"``)
is heard, not seen. Streamlit gives the label's raw string to screen readers
as the widget's accessible name, so :func:`plain`'s references would be read
out ("戴&#42;雪"). :func:`spoken` makes such a label inert without references:
each special character becomes its full-width twin (``*`` → ``＊``), which a
screen reader reads the same and neither Markdown nor HTML reads as markup.
"""

from __future__ import annotations

import re

__all__ = ["Plain", "plain", "spoken"]

# Escaped wherever they stand: HTML's five, and what Streamlit's Markdown reads inline
# (emphasis, code, links and images via "[", tables, strikethrough, maths, escapes).
_ALWAYS = "&<>\"'\\`*_[]|~$"
_TABLE = {ord(ch): f"&#{ord(ch)};" for ch in _ALWAYS}
# Only where they start a block (a value may land at the start of a line): lists, headings,
# block quotes, setext underlines and ordered lists ("1." / "1)").
_LEADING = re.compile(r"^(\s*)([-+#=]|\d+[.)])")
# ":smile:" emoji and ":red[…]" / ":material/…:" directives start with ":" and a letter.
_SHORTCODE = re.compile(r":(?=[A-Za-z_])")
# GFM's autolink literals are found in the text *after* references are decoded, so no
# escaping stops "http://…", "www.…" or "a@b.c" from becoming a link. A WORD JOINER
# (invisible, neither space nor punctuation) where the pattern needs "://", "www." or
# a domain after "@" breaks the pattern and leaves the text looking the same.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?i:(?<=www))(?=\.)|(?<=@)")
_JOINER = "\u2060"
# Full-width forms (U+FF01..U+FF5E) of the ASCII characters that mean something to Markdown or HTML.
_SPOKEN = {ord(ch): chr(ord(ch) + 0xFEE0) for ch in _ALWAYS}


def _leading(match: re.Match[str]) -> str:
    space, mark = match.groups()
    return space + mark[:-1] + f"&#{ord(mark[-1])};"


def _leading_spoken(match: re.Match[str]) -> str:
    space, mark = match.groups()
    return space + mark[:-1] + chr(ord(mark[-1]) + 0xFEE0)


def _unlinked_line(value: object) -> str:
    """Return ``value`` as one line (line breaks as spaces) with GFM's autolinks broken by joiners."""
    text = "" if value is None else str(value)
    text = text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    return _AUTOLINK.sub(_JOINER, text)


class Plain(str):
    """A string already escaped by :func:`plain`: safe in Markdown and HTML alike.

    Adding text keeps it plain: the other side is escaped unless it is a
    :class:`Plain` already, so ``t("a") + " " + t("b")`` is never escaped twice.

    >>> plain("<a>") + " & " + plain("<b>")
    '&#60;a&#62; &#38; &#60;b&#62;'
    >>> type("x " + plain("y")).__name__
    'Plain'
    """

    __slots__ = ()

    def __add__(self, other: str) -> Plain:
        if not isinstance(other, str):
            return NotImplemented
        return Plain(str.__add__(self, plain(other)))

    def __radd__(self, other: str) -> Plain:
        if not isinstance(other, str):
            return NotImplemented
        return Plain(str.__add__(plain(other), self))


def plain(value: object) -> Plain:
    """Return ``value`` as text that Markdown and HTML show literally and never interpret.

    ``None`` becomes the empty string; numbers and other objects their ``str``.
    Line breaks become spaces: one value is one line (a note's paragraphs would
    otherwise start Markdown blocks). An invisible WORD JOINER (U+2060) goes
    into ``://``, ``www.`` and after ``@``, which stops autolinks.

    Examples
    --------
    >>> plain('楼<img src=x onerror=alert(1)>')
    '楼&#60;img src=x onerror=alert(1)&#62;'
    >>> plain("![x](http://evil/t.png)")
    '!&#91;x&#93;(http:\u2060//evil/t.png)'
    >>> plain("1. 13:05 :red[x] - workers.xlsx")
    '1&#46; 13:05 &#58;red&#91;x&#93; - workers.xlsx'
    >>> plain(plain("a&b")) == plain("a&b")
    True
    >>> plain(None), plain(42)
    ('', '42')
    """
    if isinstance(value, Plain):
        return value
    text = _unlinked_line(value).translate(_TABLE)
    return Plain(_LEADING.sub(_leading, _SHORTCODE.sub("&#58;", text), count=1))


def spoken(value: object) -> Plain:
    """Return ``value`` as an accessible name: inert in Markdown and HTML, with no character references.

    For a widget label drawn collapsed only (see the module's docstring): the
    special characters :func:`plain` writes as references become their
    full-width twins instead, which read the same aloud.

    >>> spoken("1-201 · 戴*雪 · H0000024")
    '1-201 · 戴＊雪 · H0000024'
    >>> spoken("[x](javascript:alert(1)) <b>")
    '［x］(javascript：alert(1)) ＜b＞'
    >>> spoken("1. 13:05")
    '1． 13:05'
    """
    text = _SHORTCODE.sub("：", _unlinked_line(value).translate(_SPOKEN))
    return Plain(_LEADING.sub(_leading_spoken, text, count=1))
