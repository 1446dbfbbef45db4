"""The file uploader in the page's language.

``st.file_uploader`` takes no texts for its drop zone: Streamlit draws its own
English "Upload" button and "200MB per file • CSV, …" line on every page.
:func:`file_uploader` draws the same widget and, before it, a style sheet for
this page that hides those two texts and shows catalogue words in their place
(CSS ``content``), so the drop zone keeps its layout and its click target.
The limit shown is the server's own ``server.maxUploadSize``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from geo import words
from geo.text import plain
from ui.i18n import lang

_ZONE = '[data-testid="stFileUploaderDropzone"]'
_BUTTON = f'{_ZONE} [data-testid="stBaseButton-secondary"]'
_LIMIT = '[data-testid="stFileUploaderDropzoneInstructions"]'


def css_string(text: str) -> str:
    """Return ``text`` as a CSS string literal that cannot end the string or the style sheet.

    >>> css_string('a"b</style>')
    '"a\\\\22 b\\\\3c /style\\\\3e "'
    """
    out = []
    for ch in text:
        out.append(f"\\{ord(ch):x} " if ch in '"\\<>\n\r' or ord(ch) < 0x20 else ch)
    return '"' + "".join(out) + '"'


def uploader_css(button: str, limit: str) -> str:
    """Return the style sheet that puts ``button`` and ``limit`` in place of Streamlit's English texts."""
    return (
        "<style>"
        f"{_BUTTON} {{font-size: 0;}}"
        # Streamlit's own word stays for screen readers (a button needs a name, WCAG 4.1.2), out of sight.
        f"{_BUTTON} * {{position: absolute; width: 1px; height: 1px; overflow: hidden;"
        " clip: rect(0 0 0 0); white-space: nowrap; font-size: 0.875rem;}"
        f"{_BUTTON}::after {{content: {css_string(button)}; font-size: 0.875rem;}}"
        f"{_LIMIT} > * {{display: none;}}"
        f"{_LIMIT}::after {{content: {css_string(limit)}; font-size: 0.875rem; opacity: 0.7;}}"
        "</style>"
    )


def file_uploader(label: str, *, types: Sequence[str], key: str, **kwargs: Any) -> Any:
    """Draw ``st.file_uploader`` with its button and size line in the page's language."""
    # Words from the catalogue as they are: css_string makes them safe for the style sheet (t() would
    # escape them for Markdown, which CSS would show literally).
    here = lang()
    kinds = ("、" if here == "zh" else ", ").join(x.upper() for x in types)
    limit = words.text("upload.limit", here, mb=st.get_option("server.maxUploadSize"), types=kinds)
    st.html(uploader_css(words.text("upload.button", here), limit))
    return st.file_uploader(plain(label), type=list(types), key=key, **kwargs)
