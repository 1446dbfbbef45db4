"""The one progress-callback type that long jobs (builds, imports, exports) report through.

A job calls ``progress(share, message)`` with ``share`` in [0, 1]; the app
draws a bar, the CLI prints a line, tests collect the calls. Whatever the
callback returns is ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

__all__ = ["Progress"]

Progress: TypeAlias = Callable[[float, str], object]
