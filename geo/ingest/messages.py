"""What an import says: every message in Chinese and English, the fatal error, and findings at rows.

A :class:`Finding` is one kind of problem (a message code) at some rows of a
file; :data:`WARNING_CODES` are the codes that keep their rows. Fatal problems
with a file as a whole raise :class:`IngestError`, which names the file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo import words

MAX_CELL_SHOWN = 60
"""Characters of an offending value quoted in a message."""


MESSAGES: dict[str, tuple[str, str]] = words.pairs("ingest.msg.")
"""Every message, ``code -> (中文, English)`` templates."""

WARNING_CODES = frozenset(
    {
        "repaired",
        "overlap",
        "outside_own_grid",
        "outside_every_grid",
        "placed",
        "swapped_file",
        "crs_assumed",
        "crs_converted",
        "ignored_columns",
        "title_rows",
        "other_sheets",
        "encoding_used",
    }
)
"""Codes that report something but keep the row."""


def message(code: str, lang: str = "en", **params: Any) -> str:
    """Return the message ``code`` in ``lang`` (``"zh"`` or ``"en"``) with ``params`` filled in.

    >>> message("required")
    'is required but empty'
    >>> message("too_long", "zh", n=10485760, max=2000)
    '有 10,485,760 个字符，最多 2,000 个'
    """
    zh, en = MESSAGES[code]
    return (zh if lang == "zh" else en).format(**params)


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def one_line(text: str) -> str:
    """Make user text safe for a one-line message: control characters become escapes.

    >>> print(one_line("备" + chr(10) + "注"))
    备\\n注
    """
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class IngestError(ValueError):
    """A file that cannot be imported at all (nothing was written); one clear line.

    ``str(err)`` names the file; ``err.code`` and ``err.params`` allow translation.
    """

    def __init__(self, file: str, code: str, **params: Any) -> None:
        self.file = one_line(file)
        self.code = code
        self.params = {k: one_line(v) if isinstance(v, str) else v for k, v in params.items()}
        super().__init__(f"{self.file}: {message(code, 'en', **self.params)}")

    def text(self, lang: str = "en") -> str:
        """Return the message in ``lang``."""
        return f"{self.file}: {message(self.code, lang, **self.params)}"


@dataclass
class Finding:
    """One kind of problem found at some rows (or the whole file when ``positions`` is None).

    ``values[i]`` is the offending value at ``positions[i]``; ``extra`` the
    message's other parameters (the same for every row), ``per_row`` those that
    differ per row.
    """

    code: str
    column: str | None
    positions: np.ndarray | None = None
    values: Sequence[Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    per_row: Sequence[Mapping[str, Any]] | None = None
    quote: bool = True
    """Quote the values (they are what a person typed); geometry reasons are not quoted."""

    @property
    def is_warning(self) -> bool:
        """Tell whether the rows are kept despite this finding."""
        return self.code in WARNING_CODES

    def text(self, i: int | None = None, lang: str = "en") -> str:
        """Return the message for the ``i``-th position (or the file-wide one)."""
        params = dict(self.extra)
        if i is not None and self.values is not None:
            params["value"] = quote(self.values[i]) if self.quote else str(self.values[i])
        if i is not None and self.per_row is not None:
            params.update(self.per_row[i])
        return message(self.code, lang, **params)


def quote(value: Any) -> str:
    if (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float | np.floating) and value != value)
    ):
        return "(empty)"
    if isinstance(value, np.datetime64) and np.isnat(value):
        return "(empty)"
    if isinstance(value, np.datetime64 | pd.Timestamp | dt.datetime):
        return str(pd.Timestamp(value))
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if len(text) > MAX_CELL_SHOWN:
        text = text[: MAX_CELL_SHOWN - 1] + "…"
    return repr(text)


def found(
    findings: list[Finding],
    code: str,
    column: str | None,
    mask_or_pos: np.ndarray,
    values: Sequence[Any] | np.ndarray | None = None,
    **extra: Any,
) -> None:
    """Record ``code`` at the rows selected by a boolean mask (over all rows) or positions."""
    pos = (
        np.flatnonzero(mask_or_pos) if mask_or_pos.dtype == bool else np.asarray(mask_or_pos, dtype=np.int64)
    )
    if len(pos) == 0:
        return
    vals: Sequence[Any] | None = None
    if values is not None:
        arr = np.asarray(values, dtype=object)
        vals = list(arr[pos] if len(arr) != len(pos) or mask_or_pos.dtype == bool else arr)
    findings.append(Finding(code, column, pos, vals, dict(extra)))


def rejected_rows(findings: Sequence[Finding], n: int) -> np.ndarray:
    """Return which of ``n`` rows some finding rejects (warnings keep their rows)."""
    bad = np.zeros(n, dtype=bool)
    for f in findings:
        if f.positions is not None and not f.is_warning:
            bad[f.positions] = True
    return bad
