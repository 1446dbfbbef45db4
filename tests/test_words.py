"""The one catalogue of words (geo/words.py): both languages, matching placeholders, distinct labels."""

from __future__ import annotations

import re
import string
from collections import defaultdict
from pathlib import Path

import pytest

from geo import words

ROOT = Path(__file__).resolve().parents[1]

OPTION_GROUPS = (
    "period",
    "metric",
    "scheme",
    "basemap",
    "area",
    "status",
    "outcome",
    "channel",
    "level",
    "tag",
    "auth.role",
    "audit.action",
    "issues.action",
    "issues.source",
    "issues.timing",
    "office.level",
    "office.tab",
    "walk.mode",
    "data.kind",
    "data.source",
    "households.tag",
    "public.group_name",
)
"""Groups whose words are the options of one selector (or one set of tabs)."""


def _fields(word: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(word) if name is not None}


def _groups() -> dict[str, dict[str, tuple[str, str]]]:
    out: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    for key, pair in words.WORDS.items():
        group, _, name = key.rpartition(".")
        out[group][name] = pair
    return out


def table_groups() -> list[str]:
    """Every group of column labels (``*.col``, ``col``, export headers) and of selector options."""
    groups = _groups()
    found = [g for g in groups if g == "col" or g.endswith(".col")]
    found += [g for g in groups if g.startswith("export.value.")]
    found += [g for g in OPTION_GROUPS if g in groups]
    return sorted(found)


def test_every_key_has_both_languages() -> None:
    bad = {
        k: p
        for k, p in words.WORDS.items()
        if len(p) != 2 or not all(isinstance(w, str) and w.strip() for w in p)
    }
    assert bad == {}


def test_placeholders_match_between_languages() -> None:
    bad = {k: (_fields(zh), _fields(en)) for k, (zh, en) in words.WORDS.items() if _fields(zh) != _fields(en)}
    assert bad == {}


def test_known_table_groups_are_found() -> None:
    # If a refactor renamed these, the label check below would quietly check less.
    assert {"walk.col", "col", "export.col", "audit.col", "issues.col", "period", "area"} <= set(
        table_groups()
    )


@pytest.mark.parametrize("group", table_groups())
def test_no_two_columns_or_options_share_a_label(group: str) -> None:
    table = _groups()[group]
    for i, lang in enumerate(words.LANGS):
        seen: dict[str, list[str]] = defaultdict(list)
        for name, pair in table.items():
            seen[pair[i]].append(name)
        assert {w: n for w, n in seen.items() if len(n) > 1} == {}, lang


def test_the_walk_stop_table_has_distinct_english_headers() -> None:
    # The crash of issue 14: 户数 and 户号 both read "Households" in English.
    assert words.text("walk.col.households", "en") != words.text("walk.col.household_id", "en")


_LITERAL = re.compile(r"""\b(?:t|text)\(\s*["']([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+|[a-z][a-z0-9_]*)["']""")
_PREFIX = re.compile(r"""\bt\(\s*f["']([a-z][a-z0-9_.]*\.)\{""")


def _sources() -> list[Path]:
    return [*ROOT.glob("ui/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py"]


def test_every_key_the_screens_name_exists() -> None:
    missing = set()
    for path in _sources():
        for key in _LITERAL.findall(path.read_text(encoding="utf-8")):
            if key not in words.WORDS:
                missing.add((path.name, key))
    assert missing == set()


def test_every_key_prefix_the_screens_build_has_words() -> None:
    missing = set()
    for path in _sources():
        for prefix in _PREFIX.findall(path.read_text(encoding="utf-8")):
            if not any(k.startswith(prefix) for k in words.WORDS):
                missing.add((path.name, prefix))
    assert missing == set()


def test_every_key_geo_names_exists() -> None:
    found = set()
    for path in ROOT.glob("geo/**/*.py"):
        for key in re.findall(r"""words\.text\(\s*["']([^"']+)["']""", path.read_text(encoding="utf-8")):
            found.add(key)
            assert key in words.WORDS, (path.name, key)
    for prefix in re.findall(
        r"""words\.(?:pairs|nested|by_lang)\(\s*["']([^"']+)["']""",
        "".join(p.read_text(encoding="utf-8") for p in ROOT.glob("geo/**/*.py")),
    ):
        assert words.pairs(prefix), prefix


def test_text_fills_values_and_refuses_unknown_keys() -> None:
    assert words.text("audit.count", "zh", n=3) == "共 3 条"
    assert words.text("audit.count", "en", n=3) == "3 rows"
    with pytest.raises(KeyError):
        words.text("no.such.key", "en")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_demo_build_reports_progress_in_one_language(tmp_path: Path, lang: str) -> None:
    # The first start's bar mixed 首次启动 with "writing households": every step is a word now.
    import datetime as dt

    from geo.demo import install_demo
    from geo.store import open_store

    messages: list[str] = []
    with open_store(str(tmp_path / "d.gpkg"), create=True) as store:
        install_demo(
            store,
            scale="tiny",
            seed=7,
            as_of=dt.date(2026, 11, 26),
            lang=lang,
            progress=lambda _f, m: messages.append(m),
        )
    assert messages
    if lang == "zh":
        assert [m for m in messages if re.search("[A-Za-z]", m)] == []
    else:
        assert [m for m in messages if re.search("[\u4e00-\u9fff]", m)] == []
        assert "writing households" in messages
