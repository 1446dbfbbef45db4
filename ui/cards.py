"""Cards: how a list reads on a phone (issue 18), one renderer for every list that becomes cards.

A card is a framed box with a bold title (where: building, room, masked name,
or a stop's order, building and planned time), a caption (what to ask about)
and then whatever the card's thumb presses, drawn by the caller inside the
``with`` block: the grid page's "open this household" button, the walk's
answer pills per door. Titles and captions are user data and go through
:func:`geo.text.plain`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from geo.text import plain


@contextmanager
def card(title: str, details: str = "", *, key: str | None = None) -> Iterator[None]:
    """Draw a card's frame, title and details; the body drawn inside the ``with`` goes below them.

    ``key`` names the card's container (CSS class ``st-key-<key>``), so tests
    and the phone stylesheet can find it.
    """
    with st.container(border=True, key=key):
        st.markdown(f"**{plain(title)}**")
        if details:
            st.caption(plain(details))
        yield
