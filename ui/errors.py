"""The last line of defence: a user never sees a traceback.

Pages handle the errors they expect (bad input, no access, a missing record)
with messages of their own. Anything else is a bug: :func:`caught` logs the
traceback on the server under a short reference and shows the user one
translated sentence with that reference, which they can quote to support.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from ui.i18n import t

log = logging.getLogger("sibai.app")


@contextmanager
def caught() -> Iterator[None]:
    """Run the block; turn an unexpected exception into a logged reference and a plain message.

    Streamlit's own control flow (``st.stop``, ``st.rerun``, page switches) raises
    ``BaseException`` subclasses, which pass through untouched.
    """
    try:
        yield
    except Exception:
        ref = secrets.token_hex(4)
        log.exception("unexpected error, reference %s", ref)
        st.error(t("error.unexpected", ref=ref))
