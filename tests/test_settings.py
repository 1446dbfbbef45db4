"""Settings: every one documented, every type read from the environment, bad values named."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from geo import synth
from geo.settings import DEFAULT_DB, Settings, setting_names
from geo.store import LEVELS, Store

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
ROW = re.compile(r"^\|\s*`(?P<name>[a-z0-9_]+)`\s*\|\s*`(?P<env>[A-Z0-9_]+)`\s*\|")


def documented() -> dict[str, str]:
    """Setting name → environment variable, from the table in docs/settings.md."""
    rows = [ROW.match(line) for line in DOCS.read_text(encoding="utf-8").splitlines()]
    return {m["name"]: m["env"] for m in rows if m}


def test_every_setting_is_documented() -> None:
    docs = documented()
    missing = sorted(set(setting_names()) - set(docs))
    stale = sorted(set(docs) - set(setting_names()))
    assert missing == [], f"settings without a row in docs/settings.md: {missing}"
    assert stale == [], f"docs/settings.md documents settings that do not exist: {stale}"
    assert docs == {n: f"SIBAI_{n.upper()}" for n in setting_names()}


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s == Settings()
    assert s.db == str(DEFAULT_DB)
    assert DEFAULT_DB.parts[-2:] == ("data", "putuo.gpkg")
    assert s.extra == {}


@pytest.mark.parametrize(
    ("env", "name", "value"),
    [
        ({"SIBAI_DB": "/srv/sibai/putuo.gpkg"}, "db", "/srv/sibai/putuo.gpkg"),
        ({"SIBAI_DB": "postgresql://sibai@db/putuo"}, "db", "postgresql://sibai@db/putuo"),
        ({"SIBAI_DAY_END": "16:00"}, "day_end", "16:00"),
        ({"SIBAI_BUSY_TIMEOUT_MS": "200"}, "busy_timeout_ms", 200),
        ({"SIBAI_PUBLIC_MIN_COUNT": " 10 "}, "public_min_count", 10),
        ({"SIBAI_COVERAGE_GOAL": "0.95"}, "coverage_goal", 0.95),
        ({"SIBAI_WORKERS_PER_10K": "18"}, "workers_per_10k", 18.0),
        ({"SIBAI_COVERAGE_CLASSES": "0.6, 0.8,0.95"}, "coverage_classes", (0.6, 0.8, 0.95)),
        (
            {"SIBAI_ISSUE_LIMITS_DAYS": "building=2, district=90"},
            "issue_limits_days",
            (("building", 2), ("grid", 7), ("committee", 15), ("street", 30), ("district", 90)),
        ),
    ],
    ids=["path", "url", "text", "int", "int-spaces", "float", "float-from-int", "floats", "pairs"],
)
def test_from_env_reads_each_type(env: dict[str, str], name: str, value: object) -> None:
    got = Settings.from_env({**env, "PATH": "/usr/bin", "SIBAI": "no underscore"})
    assert got == dataclasses.replace(Settings(), **{name: value})
    assert type(getattr(got, name)) is type(value)


def test_unknown_sibai_variables_are_kept_aside() -> None:
    got = Settings.from_env({"SIBAI_COLOUR": "red", "SIBAI_DAY_END": "15:00", "HOME": "/root"})
    assert got.extra == {"SIBAI_COLOUR": "red"}
    assert got.day_end == "15:00"


def test_from_env_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SIBAI_BUSY_TIMEOUT_MS", "1234")
    assert Settings.from_env().busy_timeout_ms == 1234
    # The store takes its settings from there, and SQLite gets the timeout.
    with Store(str(tmp_path / "t.gpkg"), create=True) as store:
        assert store.settings.busy_timeout_ms == 1234
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234


@pytest.mark.parametrize(
    ("var", "raw", "problem"),
    [
        ("SIBAI_BUSY_TIMEOUT_MS", "soon", "invalid literal for int"),
        ("SIBAI_PUBLIC_MIN_COUNT", "2.5", "invalid literal for int"),
        ("SIBAI_COVERAGE_GOAL", "all", "could not convert string to float"),
        ("SIBAI_COVERAGE_CLASSES", "0.5,high", "could not convert string to float"),
        ("SIBAI_ISSUE_LIMITS_DAYS", "grid", "expected key=days, got 'grid'"),
        ("SIBAI_ISSUE_LIMITS_DAYS", "grid=seven", "invalid literal for int"),
        ("SIBAI_ISSUE_LIMITS_DAYS", "ward=3", "unknown key 'ward'"),
    ],
)
def test_a_bad_value_names_the_variable(var: str, raw: str, problem: str) -> None:
    with pytest.raises(ValueError) as err:
        Settings.from_env({var: raw})
    assert str(err.value).startswith(f"{var}={raw!r}: ")
    assert problem in str(err.value)
    assert "\n" not in str(err.value)


def test_issue_limits_cover_every_level_and_agree_with_the_demo_data() -> None:
    s = Settings()
    assert {level: s.issue_limit_days(level) for level in LEVELS} == synth.LIMIT_DAYS


def test_every_setting_is_read_somewhere() -> None:
    """A setting nothing reads is a promise the product does not keep: each is read outside settings.py."""
    import dataclasses
    import re
    from pathlib import Path

    from geo.settings import PROJECT_ROOT, Settings

    sources = [
        p
        for p in [*Path(PROJECT_ROOT, "geo").rglob("*.py"), *Path(PROJECT_ROOT, "ui").rglob("*.py"),
                  *Path(PROJECT_ROOT, "pages").glob("*.py"), *Path(PROJECT_ROOT).glob("*.py")]
        if p != Path(PROJECT_ROOT, "geo", "settings.py")
    ]  # fmt: skip
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources)
    unread = [f.name for f in dataclasses.fields(Settings) if not re.search(rf"\.{f.name}\b", text)]
    assert unread == []
