"""An unexpected error reaches the user as one sentence with a reference, never as a traceback."""

from __future__ import annotations

import logging
import re

import pytest
from streamlit.testing.v1 import AppTest


def _page_that_fails() -> None:
    import streamlit as st

    from ui import errors

    with errors.caught():
        st.write("before")
        raise KeyError("grid_id")  # a bug, not an expected input error


def _page_that_stops() -> None:
    import streamlit as st

    from ui import errors

    with errors.caught():
        st.write("before")
        st.stop()
    st.write("never")


def test_a_bug_shows_a_reference_and_logs_the_traceback(caplog: pytest.LogCaptureFixture) -> None:
    at = AppTest.from_function(_page_that_fails)
    with caplog.at_level(logging.ERROR, logger="sibai.app"):
        at.run()
    assert not at.exception  # no traceback element in the page
    assert [m.value for m in at.markdown] == ["before"]
    (message,) = [e.value for e in at.error]
    ref = re.search(r"参考号 ([0-9a-f]{8}) ", message)
    assert ref is not None, message
    (record,) = [r for r in caplog.records if r.name == "sibai.app"]
    assert ref.group(1) in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is KeyError


def test_streamlit_control_flow_passes_through() -> None:
    at = AppTest.from_function(_page_that_stops)
    at.run()
    assert not at.exception
    assert not at.error
    assert [m.value for m in at.markdown] == ["before"]
