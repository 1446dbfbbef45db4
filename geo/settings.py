"""Typed, documented settings for the whole product.

Every setting has a default here, can be overridden by an environment variable
``SIBAI_<NAME>`` (upper case), and is documented in ``docs/settings.md`` (a
test checks that the two agree). Secrets never live here: they come from the
environment or ``.streamlit/secrets.toml``.

Examples
--------
>>> s = Settings.from_env({"SIBAI_DAY_END": "16:00"})
>>> s.day_end
'16:00'
>>> s.db == str(DEFAULT_DB)
True
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

PROJECT_ROOT = Path(__file__).resolve().parents[1]
"""The repository root (``geo/`` lives directly below it)."""

DEFAULT_DB = PROJECT_ROOT / "data" / "putuo.gpkg"
"""The embedded default database, built on first start from the synthetic district."""


@dataclass(frozen=True)
class Settings:
    """All tunable settings; see ``docs/settings.md`` for each one."""

    db: str = str(DEFAULT_DB)
    """Database: a file path (SQLite in GeoPackage form) or a ``postgresql://`` URL."""

    demo_scale: str = "full"
    """Scale of the demo district the app builds on first start (``full``, ``street``, ``tiny``)."""

    today: str = ""
    """Pin the reporting day (``YYYY-MM-DD``) instead of the clock: for demos, screenshots and tests."""

    timezone: str = "Asia/Shanghai"
    """Time zone of all stored times (stored without a zone, as local time)."""

    metric_crs: str = "EPSG:32651"
    """Projected CRS for work in metres (UTM zone 51N covers Shanghai)."""

    day_start: str = "08:30"
    """Start of the working day; visits recorded earlier are refused by forms."""

    walk_start: str = "13:00"
    """When an afternoon's walk starts by default (the walk page, ``sibai route``, the demo's visits)."""

    day_end: str = "15:30"
    """End of the visiting window (the "330" method); walks must end by then."""

    office_close: str = "17:30"
    """Latest time a visit can be recorded as having happened (after-hours write-ups)."""

    coverage_goal: float = 1.0
    """Share of occupied households to be met within the year (全年全覆盖)."""

    coverage_classes: tuple[float, ...] = (0.5, 0.75, 0.9)
    """Fixed class breaks for coverage maps: < 50 %, 50-75 %, 75-90 %, >= 90 %."""

    issue_map_scheme: Literal["quantiles", "natural_breaks"] = "quantiles"
    """How the issues page's map classes its grids: ``quantiles`` or ``natural_breaks`` (Fisher-Jenks)."""

    issue_map_classes: int = 5
    """Classes on the issues page's map: grids without open issues, then the rest by ``issue_map_scheme``."""

    issue_limits_days: tuple[tuple[str, int], ...] = (
        ("building", 3),
        ("grid", 7),
        ("committee", 15),
        ("street", 30),
        ("district", 60),
    )
    """Time limit in days for an issue at each level of the escalation ladder."""

    public_min_count: int = 5
    """Counts below this are suppressed on public outputs (k-anonymity threshold)."""

    workers_per_10k: float = 20.0
    """Staffing goal: grassroots workers per 10,000 residents."""

    busy_timeout_ms: int = 30_000
    """How long a SQLite writer waits for a lock before giving up."""

    cache_dir: str = ""
    """PostgreSQL: a folder for the coverage snapshot (none by default; SQLite keeps it beside its file)."""

    login_max_failures: int = 5
    """Consecutive failed sign-ins after which an account is locked for ``login_lock_minutes``."""

    login_lock_minutes: int = 15
    """How long a locked account refuses every sign-in (``sibai user passwd`` unlocks it at once)."""

    session_idle_minutes: int = 30
    """A signed-in session ends after this many minutes without activity."""

    session_max_hours: int = 10
    """A signed-in session ends this many hours after sign-in, active or not."""

    audit_keep_days: int = 1095
    """Audit rows older than this many days are removed by ``sibai audit prune`` (default three years)."""

    serve_host: str = "127.0.0.1"
    """Address ``sibai serve`` listens on: this machine only; ``0.0.0.0`` opens it to the network."""

    sso_claim: str = "email"
    """The OIDC identity claim (``st.user``) matched, case-insensitively, against a user's ``--sso``."""

    sso_provider: str = ""
    """The ``[auth.<provider>]`` section of ``secrets.toml`` to sign in with (empty: the plain ``[auth]``)."""

    extra: Mapping[str, str] = field(default_factory=dict)
    """Unrecognised ``SIBAI_*`` variables, kept for diagnostics."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``SIBAI_*`` environment variables over the defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        extra: dict[str, str] = {}
        fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "extra"}
        for key, raw in env.items():
            if not key.startswith("SIBAI_"):
                continue
            name = key[len("SIBAI_") :].lower()
            if name not in fields:
                extra[key] = raw
                continue
            default = getattr(cls, name)
            values[name] = _parse(name, raw, default)
        return cls(**values, extra=extra)

    def issue_limit_days(self, level: str) -> int:
        """Return the time limit in days for an issue at ``level``.

        >>> Settings().issue_limit_days("grid")
        7
        """
        return dict(self.issue_limits_days)[level]


def _parse(name: str, raw: str, default: object) -> object:
    """Convert an environment string to the type of ``default``."""
    try:
        if isinstance(default, bool):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, tuple) and default and isinstance(default[0], tuple):
            # Listed keys override the defaults; the others keep theirs, so that
            # "grid=5" does not leave the other levels without a limit.
            merged = dict(default)
            for item in raw.split(","):
                if not item.strip():
                    continue
                key, sep, value = item.partition("=")
                if not sep:
                    raise ValueError(f"expected key=days, got {item.strip()!r}")
                if key.strip() not in merged:
                    raise ValueError(f"unknown key {key.strip()!r}; use {', '.join(merged)}")
                merged[key.strip()] = int(value)
            return tuple(merged.items())
        if isinstance(default, tuple):
            return tuple(float(x) for x in raw.split(",") if x.strip())
    except ValueError as exc:
        raise ValueError(f"SIBAI_{name.upper()}={raw!r}: {exc}") from None
    return raw


def setting_names() -> list[str]:
    """Return the names of all documented settings (for the docs test)."""
    return [f.name for f in dataclasses.fields(Settings) if f.name != "extra"]
