"""A file to import, what format it is (from its content, never its name) and how its text is decoded."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Literal

from geo import words
from geo.ingest.messages import IngestError

Format = Literal["csv", "xlsx", "gpkg", "geojson", "shapefile"]


@dataclass(frozen=True)
class Source:
    """A file to import: its name (for messages) and its bytes.

    >>> Source.of(b"a,b\\n", name="x.csv").name
    'x.csv'
    """

    name: str
    data: bytes = field(repr=False)

    @classmethod
    def of(cls, file: Any, *, name: str | None = None) -> Source:
        """Return a source from a path, bytes or a binary file object (an upload)."""
        import os
        from pathlib import Path

        if isinstance(file, Source):
            return file
        if isinstance(file, bytes | bytearray | memoryview):
            return cls(name or "upload", bytes(file))
        if isinstance(file, str | os.PathLike):
            path = Path(file)
            if not path.exists():
                raise IngestError(str(path), "unreadable", detail="no such file")
            if path.is_dir():
                raise IngestError(str(path), "unreadable", detail="it is a folder")
            if path.suffix.lower() == ".shp":
                return cls(name or path.name, _zip_shapefile(path))
            return cls(name or path.name, path.read_bytes())
        data = file.read()
        return cls(name or str(getattr(file, "name", "upload")), bytes(data))


def _zip_shapefile(path: Any) -> bytes:
    """Zip a ``.shp`` with its sidecar files, so a Shapefile travels as one blob."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for sib in sorted(path.parent.glob(path.stem + ".*")):
            z.write(sib, sib.name)
    return buf.getvalue()


FORMAT_NAMES = words.pairs("ingest.format.")
"""Each format's name in messages, ``format -> (中文, English)``."""

_MAGIC = (
    (
        b"\xd0\xcf\x11\xe0",
        (
            "旧版 Excel 97-2003 工作簿（.xls），请另存为 .xlsx",
            "an old Excel 97-2003 workbook (.xls); save it as .xlsx",
        ),
    ),
    (b"%PDF", ("PDF 文档", "a PDF document")),
    (b"\x89PNG", ("PNG 图片", "a PNG image")),
    (b"\xff\xd8\xff", ("JPEG 图片", "a JPEG image")),
    (b"GIF8", ("GIF 图片", "a GIF image")),
    (b"\x1f\x8b", ("gzip 压缩文件", "a gzip archive")),
    (b"Rar!", ("RAR 压缩文件", "a RAR archive")),
    (b"7z\xbc\xaf", ("7z 压缩文件", "a 7z archive")),
)


def sniff_format(source: Source) -> Format:
    """Tell a file's format from its content (never from its name).

    Raises :class:`IngestError` for an empty file or a kind that is never
    imported (an old ``.xls``, a PDF, an image, another archive).

    >>> sniff_format(Source("a.txt", "户号,人数\\n".encode()))
    'csv'
    >>> sniff_format(Source("putuo.json", b'[{"type": "Feature", "properties": {"adcode": 310107}}]'))
    'geojson'
    >>> sniff_format(Source("a.csv", b"%PDF-1.7"))
    Traceback (most recent call last):
    ...
    geo.ingest.IngestError: a.csv: this is a PDF document, not a table or GIS file
    """
    data = source.data
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise IngestError(source.name, "empty")
    if data[:4] == b"PK\x03\x04":
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile as exc:
            raise IngestError(source.name, "unreadable", detail=f"a damaged ZIP archive ({exc})") from None
        lower = [n.lower() for n in names]
        if "[content_types].xml" in lower and any(n.startswith("xl/") for n in lower):
            return "xlsx"
        if any(n.endswith(".shp") for n in lower):
            return "shapefile"
        what = (
            "a Word document"
            if any(n.startswith("word/") for n in lower)
            else "a ZIP archive without a Shapefile"
        )
        raise IngestError(source.name, "wrong_kind", what=what, expected="a table or GIS file")
    if data[:16] == b"SQLite format 3\x00":
        return "gpkg"
    for magic, (_zh, en) in _MAGIC:
        if data.startswith(magic):
            raise IngestError(source.name, "wrong_kind", what=en, expected="a table or GIS file")
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] == b"{" and re.search(rb'"(type|features)"\s*:', head):
        return "geojson"
    features = re.search(rb'"type"\s*:\s*"Feature"', head)
    if head[:1] == b"[" and re.match(rb'\[\s*\{\s*"[^"]*"\s*:', head) and features:
        return "geojson"  # a bare array of Features (DataV's boundaries, 阿里云 DataV.GeoAtlas)
    return "csv"


# --------------------------------------------------------------------------- text


def decode_text(data: bytes, *, name: str = "file") -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030/GBK.

    Returns the text and the encoding used. Bytes that are none of these
    raise :class:`IngestError` naming the first bad line and charset-normalizer's
    guess, rather than importing garbled names.

    >>> decode_text("户号".encode("gbk"))
    ('户号', 'gb18030')
    >>> decode_text(b"\\xef\\xbb\\xbfid")
    ('id', 'utf-8-sig')
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data, "utf-8-sig", name), "utf-8-sig"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return _strict(data, "utf-16", name), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    if b"\x00" in data[:4096]:
        guess = _guess(data)
        if guess.startswith("utf_16"):
            return _strict(data, guess.replace("_", "-"), name), guess.replace("_", "-")
        raise IngestError(name, "binary")
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    else:
        _refuse_mixed(data, first_bad, name)
        return text, "gb18030"
    _refuse_mixed(data, first_bad, name)
    line = data[:first_bad].count(b"\n") + 1
    raise IngestError(name, "encoding", line=line, byte=f"{data[first_bad]:02x}", guess=_guess(data))


def _refuse_mixed(data: bytes, first_bad: int, name: str) -> None:
    """Refuse GB18030/GBK text with UTF-8 lines in it (rows pasted from another file).

    Read as GBK, the UTF-8 lines would be stored as mojibake (``鎴戜滑``), so the
    file is refused naming both kinds of line. A line counts as UTF-8 when it
    decodes as UTF-8 with at least two non-ASCII characters (GBK text almost
    never does).

    >>> try:
    ...     _refuse_mixed("户号,姓名\\n".encode("gbk") + "H1,张三\\n".encode(), 0, "m.csv")
    ... except IngestError as exc:
    ...     print(str(exc)[:75])
    m.csv: mixes two text encodings: line 2 is UTF-8 but line 1 is GB18030/GBK
    """
    utf8_lines: list[int] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            decoded = line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if sum(not c.isascii() for c in decoded) >= 2:
            utf8_lines.append(number)
    if utf8_lines:
        shown = ", ".join(map(str, utf8_lines[:5])) + (", …" if len(utf8_lines) > 5 else "")
        gbk_line = data[:first_bad].count(b"\n") + 1
        raise IngestError(name, "mixed_encoding", lines=shown, line=gbk_line)


def _strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IngestError(
            name, "encoding", line=line, byte=f"{data[exc.start]:02x}", guess=_guess(data)
        ) from None


def _guess(data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    return best.encoding if best is not None else "binary data"


def sniff_delimiter(first_line: str) -> str:
    """Return the delimiter a CSV's first line uses most (``,`` when none)."""
    counts = {d: first_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","
