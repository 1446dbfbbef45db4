"""Write the public summary as a static site that needs no Python, no server and no network.

``sibai export-public OUTDIR`` writes::

    OUTDIR/
      index.html              the page (Chinese, with an English switch: index.html#en)
      data/public.js          the figures, as window.SIBAI_PUBLIC = {...}: file:// pages cannot fetch()
      data/public.json        the same object, for machines
      data/streets.csv        the published tables (UTF-8 with BOM, for Excel); empty = hidden
      data/committees.csv
      assets/leaflet.js, assets/leaflet.css, assets/images/  (copied from xstatic-leaflet)
      assets/public.js, assets/public.css                  (ours: geo/assets/public_site.*)
      assets/sibai_map.js     (ours: the district map's library, which draws this map too)
      .sibai-public           marks the folder as an export, so a later export may replace it

The page opens from a file, from any web server or CDN, and offline: every
path is relative and nothing refers to another host (Leaflet's own files keep
their licence link and the SVG namespace, which are text, never requested),
and its Content Security Policy has the browser refuse any other request.
The figures are :meth:`geo.public.PublicSummary.to_json`, the same object the
app's public page draws, so the site shows exactly what the page shows.

Examples
--------
>>> import datetime as dt, pandas as pd
>>> from geo.public import public_summary
>>> s = public_summary(
...     pd.DataFrame({"households": [400], "residents": [900], "visited": [380],
...                   "residents_visited": [870], "visits": [640], "buildings": [6]},
...                  index=pd.Index(["G1"], name="grid_id")),
...     pd.DataFrame({"grid_id": [], "group": []}),
...     pd.DataFrame({"grid_id": ["G1"], "committee_id": ["C1"], "name": ["一号"]}),
...     pd.DataFrame({"committee_id": ["C1"], "street_id": ["S1"], "name": ["一村"]}),
...     pd.DataFrame({"street_id": ["S1"], "name": ["长寿路街道"]}),
...     start=dt.date(2026, 1, 1), end=dt.date(2026, 11, 22))
>>> files = site_files(s)
>>> sorted(name for name in files if not name.startswith("assets/images/"))  # doctest: +NORMALIZE_WHITESPACE
['.sibai-public', 'assets/leaflet.css', 'assets/leaflet.js', 'assets/public.css', 'assets/public.js',
 'assets/sibai_map.js', 'data/committees.csv', 'data/public.js', 'data/public.json', 'data/streets.csv',
 'index.html']
>>> external_urls(files)
[]
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from geo.maps import ASSETS_DIR, find_external_urls, leaflet_links, payload_json
from geo.progress import Progress
from geo.public import COUNT_COLUMNS, PublicSummary, text
from geo.public import labels as public_labels
from geo.text import plain

__all__ = [
    "INERT_URLS",
    "MARKER",
    "SiteReport",
    "external_urls",
    "index_html",
    "map_html",
    "site_files",
    "write_site",
]


MARKER: Final = ".sibai-public"
"""The file that marks a folder as a public export (so a later export may replace it)."""

#: Text inside Leaflet's own files that looks like a URL but is never requested:
#: its licence header and default attribution link (the site replaces the
#: attribution with plain text), the SVG namespace, a bug link in a CSS
#: comment, and the source-map comment (DevTools only, relative).
INERT_URLS: Final = frozenset(
    {
        "https://leafletjs.com",
        "http://www.w3.org/2000/svg",
        "https://bugzilla.mozilla.org/show_bug.cgi?id=888319",
        "//#",
    }
)
_THIRD_PARTY: Final = frozenset({"assets/leaflet.js", "assets/leaflet.css"})

#: The site's Content Security Policy: scripts and styles from its own folder only,
#: images from it or inline; the browser itself refuses any other request.
SITE_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'"
)
#: The page's map document has everything inline: it may load nothing at all.
MAP_CSP: Final = (
    "default-src 'none'; script-src 'unsafe-inline' data:; style-src 'unsafe-inline' data:; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)


@dataclass(frozen=True)
class SiteReport:
    """What :func:`write_site` wrote."""

    path: Path
    files: tuple[str, ...]
    bytes: int


# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------


def _t(key: str, labels: Mapping[str, str]) -> str:
    """A ``data-t`` element's initial text, escaped (the script re-renders it on a language switch)."""
    return f'data-t="{plain(key)}">{plain(labels[key])}'


def _count(value: object) -> str:
    return "*" if value is None else f"{int(value):,}"  # type: ignore[call-overload]


# --------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------


def _asset(name: str) -> str:
    return (ASSETS_DIR / name).read_text(encoding="utf-8")


def data_js(data: Mapping[str, Any]) -> str:
    """Return the data file's script: ``window.SIBAI_PUBLIC = {...};`` (safe inside HTML)."""
    return f"window.SIBAI_PUBLIC = {payload_json(data)};\n"


def index_html(summary: PublicSummary, *, lang: str = "zh", data: Mapping[str, Any] | None = None) -> str:
    """Return the site's ``index.html``, with the headline figures already in it.

    The text is rendered here in ``lang`` so the page shows its figures
    before any script runs (and without scripts); ``assets/public.js`` then
    draws the map and tables and switches language.
    """
    data = summary.to_json() if data is None else data
    labels = public_labels(summary, lang=lang, data=data)
    d = data["district"]
    metrics = "".join(
        f'<div class="metric"><div class="label" {_t(key, labels)}</div>'
        f'<div class="value" id="m-{key}">{plain(value)}</div></div>'
        for key, value in (
            ("coverage", "*" if d["coverage"] is None else f"{d['coverage']}%"),
            ("residents_visited", _count(d["residents_visited"])),
            ("visits", _count(d["visits"])),
            ("solved", _count(d["solved"])),
        )
    )
    notes = "".join(
        f"<p {_t(key, labels)}</p>"
        for key in (
            "note.hidden",
            "note.rounding",
            "note.coverage",
            "note.residents",
            "note.grids",
            "note.privacy",
        )
    )
    html_lang = "en" if lang == "en" else "zh-CN"
    title = plain(f"{labels['title']} · {labels['district']}")
    return f"""<!doctype html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta http-equiv="Content-Security-Policy" content="{SITE_CSP}">
<title>{title}</title>
<link rel="stylesheet" href="assets/leaflet.css">
<link rel="stylesheet" href="assets/public.css">
</head>
<body data-default-lang="{plain(lang)}">
<div class="wrap">
<header>
<div>
<h1 {_t("title", labels)}</h1>
<p class="caption" {_t("subtitle", labels)}</p>
<p class="caption" id="as-of" {_t("as_of", labels)}</p>
<p class="caption" {_t("period", labels)}</p>
</div>
<a id="lang" href="#en" {_t("lang", labels)}</a>
</header>
<main>
<section class="metrics">{metrics}</section>
<p class="headline" id="headline" {_t("headline", labels)}</p>
<h2 {_t("map", labels)}</h2>
<div class="tabs" id="map-tabs"></div>
<div id="map"></div>
<p class="caption" {_t("map.hint", labels)}</p>
<h2 {_t("by_group", labels)}</h2>
<div class="bars" id="groups"></div>
<h2 {_t("by_street", labels)}</h2>
<div class="table-box"><table id="t-streets"></table></div>
<h2 {_t("by_committee", labels)}</h2>
<label class="filter"><span {_t("street", labels)}</span> <select id="street-filter"></select></label>
<div class="table-box scroll"><table id="t-committees"></table></div>
<noscript><p>data/streets.csv · data/committees.csv</p></noscript>
</main>
<footer>{notes}</footer>
</div>
<script src="assets/leaflet.js"></script>
<script src="assets/sibai_map.js"></script>
<script src="data/public.js"></script>
<script src="assets/public.js"></script>
</body>
</html>
"""


def map_html(summary: PublicSummary, *, lang: str = "zh", height: int = 560) -> str:
    """Return the site's map alone as one self-contained document (for the app's public page).

    Leaflet is inlined as ``data:`` URIs, the figures, our scripts (the map
    library ``sibai_map.js`` and the site's) and style as inline elements:
    the document loads nothing, wherever it is shown.
    """
    text(lang)
    js, css = leaflet_links("inline")
    data = summary.to_json()
    library = _asset("sibai_map.js")
    script = _asset("public_site.js")
    style = _asset("public_site.css")
    return f"""<!doctype html>
<html lang="{"en" if lang == "en" else "zh-CN"}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{MAP_CSP}">
<link rel="stylesheet" href="{css}">
<style>{style}
.map-only #map {{ height: {int(height)}px; }}</style>
</head>
<body class="map-only" data-default-lang="{plain(lang)}">
<div class="tabs" id="map-tabs"></div>
<div id="map"></div>
<script src="{js}"></script>
<script>{library}</script>
<script>{data_js(data)}</script>
<script>{script}</script>
</body>
</html>
"""


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------


def _safe_cell(value: object) -> object:
    """Keep a spreadsheet from reading text as a formula (=, +, -, @, tab, CR)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv(data: Mapping[str, Any], level: str) -> bytes:
    """One level's published figures as CSV; hidden figures are empty cells."""
    table = data[level]
    columns = [
        "id",
        "name",
        *(["street_id"] if level == "committees" else []),
        "coverage_pct",
        *COUNT_COLUMNS,
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for i in range(len(table["id"])):
        row: list[object] = [table["id"][i], table["name"][i]]
        if level == "committees":
            s = table["street"][i]
            row.append(data["streets"]["id"][s] if s >= 0 else "")
        row.append(table["coverage"][i])
        row += [table[c][i] for c in COUNT_COLUMNS]
        writer.writerow(["" if v is None else _safe_cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def _leaflet_files() -> dict[str, bytes]:
    import xstatic.pkg.leaflet as xleaflet

    src = Path(xleaflet.BASE_DIR)
    files = {
        "assets/leaflet.js": (src / "leaflet.js").read_bytes(),
        "assets/leaflet.css": (src / "leaflet.css").read_bytes(),
    }
    for png in sorted((src / "images").glob("*.png")):
        files[f"assets/images/{png.name}"] = png.read_bytes()
    return files


def site_files(summary: PublicSummary, *, lang: str = "zh") -> dict[str, bytes]:
    """Return every file of the site, by relative path (nothing is written)."""
    data = summary.to_json()
    files = {
        "index.html": index_html(summary, lang=lang, data=data).encode("utf-8"),
        "data/public.js": data_js(data).encode("utf-8"),
        "data/public.json": (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode(
            "utf-8"
        ),
        "data/streets.csv": _csv(data, "streets"),
        "data/committees.csv": _csv(data, "committees"),
        "assets/public.js": _asset("public_site.js").encode("utf-8"),
        "assets/public.css": _asset("public_site.css").encode("utf-8"),
        "assets/sibai_map.js": _asset("sibai_map.js").encode("utf-8"),
        **_leaflet_files(),
    }
    files[MARKER] = (json.dumps({"v": 1, "start": data["start"], "end": data["end"]}) + "\n").encode()
    return files


def external_urls(files: Mapping[str, bytes]) -> list[tuple[str, str]]:
    """Return ``(file, url)`` for every URL in the site's text files, Leaflet's inert ones excepted."""
    found = []
    for name, content in sorted(files.items()):
        if name.endswith(".png"):
            continue
        for url in find_external_urls(content.decode("utf-8", errors="replace")):
            if name in _THIRD_PARTY and url in INERT_URLS:
                continue
            found.append((name, url))
    return found


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ValueError(
            f"{out} is not empty and holds no earlier public export: choose a new or empty folder"
        )


def write_site(
    outdir: str | os.PathLike[str], summary: PublicSummary, *, progress: Progress | None = None
) -> SiteReport:
    """Write the site into ``outdir``, completely or not at all.

    The files are written into a new folder beside ``outdir`` and moved into
    place at the end; an earlier export in ``outdir`` (marked by
    :data:`MARKER`) is replaced, any other non-empty folder is refused.

    Raises
    ------
    ValueError
        If ``outdir`` is a file, or a non-empty folder that is not an earlier export.
    """
    report = progress or (lambda _f, _m: None)
    out = Path(outdir).resolve()
    _check_target(out)
    report(0.0, "rendering")
    files = site_files(summary)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        for i, (name, content) in enumerate(sorted(files.items())):
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            report(0.1 + 0.8 * (i + 1) / len(files), "writing")
        # mkdtemp makes the folder private; a public web folder must be readable by the server.
        os.chmod(staging, 0o755)  # noqa: S103
        old: Path | None = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
        try:
            staging.rename(out)
        except OSError:
            if old is not None:
                old.rename(out)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)
        raise
    report(1.0, "done")
    return SiteReport(path=out, files=tuple(sorted(files)), bytes=sum(len(c) for c in files.values()))
