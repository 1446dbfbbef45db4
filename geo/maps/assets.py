"""Self-hosted map assets: Leaflet (inlined or served), geometry files, the external-URL check."""

from __future__ import annotations

import base64
import functools
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from geo.maps.payload import payload_json

#: This module's own browser code and the folder built from it and Leaflet.
ASSETS_DIR: Final = Path(__file__).parents[1] / "assets"
#: Git-ignored; filled by :func:`build_assets` and :func:`write_geometry`.
GENERATED_DIR: Final = ASSETS_DIR / "_generated"


_URL_RE: Final = re.compile(r"""(?i)(?:https?:)?//[^\s"'<>()\\]+""")
_SCHEME_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _leaflet_dir() -> Path:
    import xstatic.pkg.leaflet as xleaflet

    return Path(xleaflet.BASE_DIR)


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@functools.cache
def _inline_leaflet() -> tuple[str, str]:
    src = _leaflet_dir()
    css = (src / "leaflet.css").read_text(encoding="utf-8")
    for png in sorted((src / "images").glob("*.png")):
        css = css.replace(f"url(images/{png.name})", f"url({_data_uri('image/png', png.read_bytes())})")
    js = _data_uri("text/javascript", (src / "leaflet.js").read_bytes())
    return js, _data_uri("text/css", css.encode("utf-8"))


def leaflet_links(assets: str = "inline") -> tuple[str, str]:
    """Return the ``(script, stylesheet)`` URLs of Leaflet for ``assets``.

    ``"inline"`` gives ``data:`` URIs of xstatic-leaflet's files (about
    200 KB + 25 KB, cached); any other value is a *relative* URL prefix of a
    folder built by :func:`build_assets` and served by the app, e.g.
    ``"app/static/sibai"`` (Streamlit static serving) or a component's path.
    Absolute URLs are refused: no page may ask another host for Leaflet.

    Examples
    --------
    >>> leaflet_links("app/static/sibai/")
    ('app/static/sibai/leaflet.js', 'app/static/sibai/leaflet.css')
    >>> leaflet_links("https://cdn.example.org/leaflet")
    Traceback (most recent call last):
    ...
    ValueError: assets must be 'inline' or a relative URL prefix served by the app, got 'https://cdn.example.org/leaflet'
    """
    if assets == "inline":
        return _inline_leaflet()
    if not assets or _SCHEME_RE.match(assets) or assets.startswith(("//", "\\")):
        raise ValueError(
            f"assets must be 'inline' or a relative URL prefix served by the app, got {assets!r}"
        )
    prefix = assets.rstrip("/")
    return f"{prefix}/leaflet.js", f"{prefix}/leaflet.css"


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # Atomic, so that several app processes may build the same folder.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def build_assets(dest: Path | str | None = None) -> Path:
    """Fill the folder the app serves with Leaflet and this module's browser code.

    Copies ``leaflet.js``, ``leaflet.css`` and ``images/`` from the
    xstatic-leaflet package and ``sibai_map.js``, ``gridmap.js`` and
    ``gridmap.html`` (as ``index.html``, the page of the district-map
    component) from ``geo/assets/``. Nothing third-party is committed: the
    default destination ``geo/assets/_generated/web`` is git-ignored.

    Examples
    --------
    >>> import tempfile
    >>> out = build_assets(Path(tempfile.mkdtemp()) / "web")
    >>> sorted(p.name for p in out.iterdir())
    ['gridmap.js', 'images', 'index.html', 'leaflet.css', 'leaflet.js', 'sibai_map.js']
    """
    out = Path(dest) if dest is not None else GENERATED_DIR / "web"
    src = _leaflet_dir()
    copies = {
        "leaflet.js": src / "leaflet.js",
        "leaflet.css": src / "leaflet.css",
        "sibai_map.js": ASSETS_DIR / "sibai_map.js",
        "gridmap.js": ASSETS_DIR / "gridmap.js",
        "index.html": ASSETS_DIR / "gridmap.html",
    }
    copies.update({f"images/{p.name}": p for p in (src / "images").glob("*.png")})
    for name, path in copies.items():
        _write_if_changed(out / name, path.read_bytes())
    return out


def write_geometry(payload: Mapping[str, Any], dest: Path | str | None = None) -> str:
    """Write a payload as ``geometry/<hash>.json`` in the served folder.

    Returns the path relative to that folder. The name changes whenever the
    geometry does, so the browser may cache the file for good.

    Examples
    --------
    >>> import tempfile
    >>> write_geometry({"hash": "abc", "v": 1}, tempfile.mkdtemp())
    'geometry/abc.json'
    """
    out = Path(dest) if dest is not None else GENERATED_DIR / "web"
    digest = str(payload["hash"])
    if not re.fullmatch(r"[0-9a-f]+", digest):
        raise ValueError(f"payload hash must be hexadecimal, got {digest!r}")
    rel = f"geometry/{digest}.json"
    _write_if_changed(out / rel, payload_json(payload).encode("utf-8"))
    return rel


def find_external_urls(page: str) -> list[str]:
    """Return every ``http(s)://`` or protocol-relative URL in an HTML page.

    Examples
    --------
    >>> find_external_urls('<script src="https://cdn.example.org/x.js"></script><p>ok</p>')
    ['https://cdn.example.org/x.js']
    """
    return _URL_RE.findall(page)
