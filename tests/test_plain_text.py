"""User text reaches the screen only as plain text (issue 19: Markdown and script from data).

Two halves: :func:`geo.text.plain` itself (every attack string shows literally
in HTML and in Markdown), and a static check over ``pages/``, ``ui/`` and
``app.py`` that every argument given to a Streamlit element that renders
Markdown (messages, headings, captions, button and link labels, help texts)
is built only from catalogue words (``t``), constants, formatted numbers and
values passed through ``plain``. A page that hands a name, a note or a URL
parameter to ``st.warning`` as it is fails here.
"""

from __future__ import annotations

import ast
import html
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.text import Plain, plain, spoken

ROOT = Path(__file__).resolve().parents[1]

ATTACKS = [
    "<script>alert(1)</script>",
    "楼<img src=x onerror=alert(1)>",
    "[会话已过期，请点此重新登录](https://evil.example/login)",
    "![x](http://evil.example/t.png)",
    "javascript:alert(1)",
    "&lt;b&gt;entity&lt;/b&gt; &amp; &#60;",
    "**bold** _it_ `code` # head ~~s~~ $x$ :red[red] :material/home:",
    "www.evil.example http://evil.example a@b.example",
    "| a | b |\n|---|---|",
]


def _one_line(text: str) -> str:
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def _shown(out: str) -> str:
    """Return what a reader sees: references decoded, the invisible joiners gone."""
    return html.unescape(out).replace("\u2060", "")


@pytest.mark.parametrize("attack", ATTACKS)
def test_plain_keeps_no_markup_character(attack: str) -> None:
    out = plain(attack)
    assert isinstance(out, Plain)
    # No character that HTML or Markdown reads as markup survives where it would be read so.
    shown = out.replace("&#", "").replace(";", "")
    for ch in "<>[]`*_~$|\\\"'":
        assert ch not in shown
    assert not re.search(r":[A-Za-z_]", out)
    assert not re.match(r"\s*([-+#=]|\d+[.)])", out)
    # An HTML parser gives the text back exactly as typed (newlines fold to spaces).
    assert _shown(out) == _one_line(attack)


@given(st.text())
def test_plain_round_trips_through_html_and_is_idempotent(text: str) -> None:
    out = plain(text)
    assert _shown(out) == _one_line(text).replace("\u2060", "")
    # GFM autolink literals find no URL or address: each is broken by the joiner.
    assert not re.search(r"(?i)https?://|www\.|@[-\w]", html.unescape(out))
    assert plain(out) == out
    assert "<" not in out and ">" not in out and "\n" not in out


@pytest.mark.parametrize("attack", ATTACKS)
def test_spoken_names_keep_no_markup_character_and_no_reference(attack: str) -> None:
    # A collapsed label is the widget's accessible name, read out as it is: no "&#42;".
    out = spoken(attack)
    assert isinstance(out, Plain)
    assert "&#" not in out and "&" not in out
    for ch in "<>[]`*_~$|\\\"'":
        assert ch not in out
    assert not re.search(r":[A-Za-z_]", out)
    assert not re.match(r"\s*([-+#=]|\d+[.)])", out)


@given(st.text())
def test_spoken_names_read_as_the_text_typed(text: str) -> None:
    # Full-width twins fold back to the characters typed (NFKC), the joiners are invisible.
    out = spoken(text).replace("\u2060", "")
    assert unicodedata.normalize("NFKC", out) == unicodedata.normalize(
        "NFKC", _one_line(text).replace("\u2060", "")
    )
    assert "<" not in out and ">" not in out and "\n" not in out


def test_a_masked_name_is_spoken_with_its_asterisk() -> None:
    assert spoken("1-201 · 戴*雪 · H0000024") == "1-201 · 戴＊雪 · H0000024"


# ------------------------------------------------------------------ static check of the screens

# Methods of st (and of st.sidebar, columns, containers) whose text is Markdown.
MESSAGES = {
    "markdown", "write", "warning", "info", "error", "success", "caption",
    "subheader", "header", "title", "toast",
}  # fmt: skip
LABELLED = {
    "button", "page_link", "expander", "popover", "link_button", "download_button",
    "checkbox", "toggle", "metric", "radio", "selectbox", "multiselect", "text_input",
    "text_area", "number_input", "date_input", "time_input", "slider", "select_slider",
    "file_uploader", "segmented_control", "pills", "form_submit_button", "tabs",
}  # fmt: skip
# ``labels_held`` returns catalogue words (``t`` of the keys it is given), as ``t`` does.
SAFE_CALLS = {
    "t", "plain", "spoken", "labels_held", "fmt_int", "fmt_pct", "fmt_date", "isoformat", "len", "int",
    "round",
}  # fmt: skip


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _safe(node: ast.expr) -> bool:
    """Return True when ``node`` is built only from catalogue words, constants and plain text."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.JoinedStr):
        return all(_safe(v) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        # A format spec (":,", ":.1%", ":%Y-%m-%d") formats a number or a date: digits only.
        return node.format_spec is not None or _safe(node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _safe(node.left) and _safe(node.right)
    if isinstance(node, ast.IfExp):
        return _safe(node.body) and _safe(node.orelse)
    if isinstance(node, ast.List | ast.Tuple):
        return all(_safe(e) for e in node.elts)
    if isinstance(node, ast.ListComp):
        return _safe(node.elt)
    if isinstance(node, ast.Call):
        name = _name(node.func)
        if name in SAFE_CALLS:
            return True
        if name == "join" and isinstance(node.func, ast.Attribute) and _safe(node.func.value):
            (arg,) = node.args
            if isinstance(arg, ast.GeneratorExp | ast.ListComp):
                return _safe(arg.elt)
            return _safe(arg)
    return False


def _text_args(call: ast.Call) -> list[ast.expr]:
    name = _name(call.func)
    keywords = [k.value for k in call.keywords if k.arg in ("label", "help", "body", "placeholder", "value")]
    if name in MESSAGES:
        return [*call.args[:1], *keywords]
    if name == "page_link":
        return [k.value for k in call.keywords if k.arg in ("label", "help")]
    if name == "metric":
        return [*call.args[:1], *[k.value for k in call.keywords if k.arg in ("label", "help")]]
    if name == "tabs":
        return list(call.args[:1])
    return [*call.args[:1], *[k.value for k in call.keywords if k.arg in ("label", "help")]]


def _screen_files() -> list[Path]:
    return [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]


def _unsafe_calls(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        if name not in MESSAGES | LABELLED:
            continue
        for arg in _text_args(node):
            if not _safe(arg):
                found.append((node.lineno, f"{name}({ast.unparse(arg)[:60]})"))
    return found


def test_the_check_catches_data_passed_as_markdown() -> None:
    bad = "st.warning(name)\nst.subheader(row['name'])\nst.caption(' › '.join(c.name for c in trail))\n"
    good = (
        "st.warning(t('bad_id', id=value))\nst.subheader(plain(row['name']))\n"
        "st.caption(' › '.join(plain(c.name) for c in trail))\nst.write(f\"{t('a')}: {n:,}\")\n"
    )
    assert [line for line, _ in _unsafe_calls(bad)] == [1, 2, 3]
    assert _unsafe_calls(good) == []


@pytest.mark.parametrize("path", _screen_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_screens_put_data_on_screen_only_through_plain(path: Path) -> None:
    assert _unsafe_calls(path.read_text(encoding="utf-8")) == []
