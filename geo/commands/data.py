"""``sibai import`` and ``sibai export``: real registers and boundaries in, every table out.

``sibai import KIND FILE`` checks every row, loads the accepted ones in one
transaction and writes the rejected ones, with row, column and reason, to a
rejects file in the input's format — before the transaction commits, so a
rejects file that cannot be written stops the import with nothing written.
The last line on stdout sums it up. Exit status: 0 when every row was
accepted or unchanged, 3 when some rows were rejected (the others were
written, unless ``--dry-run``; the rejects file is there), 1 when nothing was
written (the file, the database or the rejects file could not be used). See
``docs/import.md`` and ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXIT_REJECTED = 3
"""Exit status when some rows were rejected."""

MAX_WARNINGS_SHOWN = 20


def _mapping(text: str) -> tuple[str, str]:
    header, sep, field = text.partition("=")
    if not sep or not header.strip() or not field.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not HEADER=FIELD (e.g. 诉求内容=title)")
    return header.strip(), field.strip()


class DataError(ValueError):
    """A problem with the command's input, printed on one line (a ValueError, which ``sibai`` reports)."""


def _new_database_file(db: str | None) -> Path | None:
    """Return the SQLite file ``db`` names if it does not exist yet (None: PostgreSQL, or it exists)."""
    from geo.settings import Settings

    text = db or Settings.from_env().db
    if "://" in text and not text.startswith("sqlite:///"):
        return None
    path = Path(re.sub(r"^sqlite:///", "", text))
    return None if path.exists() else path


def _remove_database_file(path: Path) -> None:
    """Remove a database file this command created and its SQLite side files."""
    for p in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        p.unlink(missing_ok=True)


def _rejects_writer(args: argparse.Namespace, file: Path, written: list[Path]) -> Callable[[Any], None]:
    """Return the import's ``before_commit``: it writes the rejects file, noting it in ``written``."""
    from geo.ingest import rejects_bytes
    from geo.writers import write_atomic

    lang = args.lang

    def keep_rejects(report: Any) -> None:
        """Write the rejects file before the commit: if it cannot be written, nothing is imported."""
        if not report.rejected:
            return
        name, data = rejects_bytes(report, lang=lang)
        out = Path(args.rejects) if args.rejects else file.with_name(name)
        folder = out.parent if str(out.parent) else Path(".")
        try:
            if out.is_dir():
                raise IsADirectoryError(21, "it is a folder")
            if not folder.is_dir():
                raise FileNotFoundError(2, f"folder {folder} does not exist")
            write_atomic(data, out)
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise DataError(
                f"cannot write the rejects file {out} ({why}); nothing was imported: "
                "choose a writable place with --rejects"
            ) from None
        written.append(out)

    return keep_rejects


def _print_outcome(report: Any, lang: str, written: list[Path]) -> None:
    """Print the warnings and rejected rows on stderr and the summary on stdout."""
    warnings = report.warnings(lang)
    for line in warnings[:MAX_WARNINGS_SHOWN]:
        print(f"warning: {line}", file=sys.stderr)
    if len(warnings) > MAX_WARNINGS_SHOWN:
        print(f"warning: … and {len(warnings) - MAX_WARNINGS_SHOWN:,} more", file=sys.stderr)
    if report.rejected:
        out = written[0]
        problems = report.problems(lang, limit=MAX_WARNINGS_SHOWN)
        for row in problems[problems["severity"] == "error"].itertuples(index=False):
            where = f"row {row.row}" + (f", {row.column}" if row.column else "")
            print(f"rejected: {where}: {row.message}", file=sys.stderr)
        print(f"rejected rows written to {out}", file=sys.stderr)
    print(f"{report.summary(lang)} ({report.seconds:.1f} s)")


def cmd_import(args: argparse.Namespace) -> int:
    from geo.cli import _progress
    from geo.commands.user import cli_actor
    from geo.importing import import_file
    from geo.store import audit, open_store

    file = Path(args.file)
    if not file.exists():
        raise DataError(f"no such file: {file}")
    lang = args.lang
    written: list[Path] = []

    keep_rejects = _rejects_writer(args, file, written)
    new_db = _new_database_file(args.db)
    if new_db is not None and not args.create:
        raise DataError(
            f"database file not found: {new_db} (add --create to start an empty one, "
            f"or build a district with `sibai demo --db {new_db}`)"
        )
    update, close = _progress(not args.quiet)
    committed = False
    try:
        with open_store(args.db, create=args.create) as store:
            try:
                report = import_file(
                    store,
                    args.kind,
                    file,
                    dry_run=args.dry_run,
                    crs=args.crs,
                    columns=dict(args.map or []),
                    layer=args.layer,
                    sheet=args.sheet,
                    source=args.source,
                    progress=update,
                    before_commit=keep_rejects,
                )
            except BaseException:
                for out in written:  # the import did not commit: its rejects file would mislead
                    out.unlink(missing_ok=True)
                raise
            committed = not args.dry_run and store.has_schema()
            if not args.dry_run:
                audit.log(
                    store,
                    who=cli_actor(),
                    role="cli",
                    action="import",
                    target=f"{args.kind}:{file.name}",
                    detail=report.summary("en"),
                )
    finally:
        close()
        if new_db is not None and not committed:
            _remove_database_file(new_db)  # nothing was stored: leave no empty, non-GeoPackage file
    _print_outcome(report, lang, written)
    return EXIT_REJECTED if report.rejected else 0


def cmd_export(args: argparse.Namespace) -> int:
    from geo.commands import open_district
    from geo.commands.user import cli_actor
    from geo.roundtrip import export_file
    from geo.store import Scope, audit

    with open_district(args.db) as store:
        # The CLI is an operator's tool on the server: it exports the whole district (docs/security.md).
        out = export_file(
            store, args.table, args.outfile, scope=Scope.everything(), fmt=args.format, headers=args.headers
        )
        audit.log(store, who=cli_actor(), role="cli", action="export", target=f"{args.table}:{out.name}")
    print(f"exported {args.table} to {out} ({out.stat().st_size:,} bytes)")
    return 0


def add_commands(add: Callable[[str, str, Callable[[argparse.Namespace], int]], Any]) -> None:
    """Add ``import`` and ``export`` to the ``sibai`` command."""
    from geo.ingest import KINDS
    from geo.roundtrip import exportable

    imp = add(
        "import",
        "import grids, buildings, households, workers, visits or issues from a file (checked row by row)",
        cmd_import,
    )
    imp.add_argument("kind", choices=KINDS, metavar="KIND", help=f"what the file holds: {', '.join(KINDS)}")
    imp.add_argument("file", metavar="FILE", help=".csv, .xlsx, .gpkg, .geojson or zipped Shapefile (.zip)")
    imp.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    imp.add_argument(
        "--crs",
        metavar="EPSG|gcj02|bd09",
        help="coordinate system of a GIS file: 4326, 4490, 32651, gcj02 or bd09",
    )
    imp.add_argument("--rejects", metavar="PATH", help="where to write rejected rows (default: beside FILE)")
    imp.add_argument("--layer", help="layer of a GeoPackage holding several")
    imp.add_argument("--sheet", help="sheet of a workbook (default: the first with data)")
    imp.add_argument(
        "--source",
        choices=["hotline", "online", "visit"],
        help="issues: the channel of rows that name none (热线 hotline, 随申办 online)",
    )
    imp.add_argument(
        "--map",
        type=_mapping,
        action="append",
        metavar="HEADER=FIELD",
        help="extra header mapping, repeatable (e.g. --map 诉求内容=title)",
    )
    imp.add_argument("--lang", choices=["en", "zh"], default="en", help="language of messages and rejects")
    imp.add_argument("--create", action="store_true", help="create the database file if it does not exist")
    imp.add_argument("--quiet", action="store_true", help="no progress bar")

    exp = add(
        "export", "export a table or layer to CSV/XLSX (tables) or GeoPackage/GeoJSON (layers)", cmd_export
    )
    exp.add_argument("table", choices=exportable(), metavar="TABLE", help=", ".join(exportable()))
    exp.add_argument("outfile", metavar="OUTFILE", help=".csv/.xlsx for tables, .gpkg/.geojson for layers")
    exp.add_argument("--format", choices=["csv", "xlsx", "gpkg", "geojson"], help="default: from OUTFILE")
    exp.add_argument(
        "--headers", choices=["en", "zh"], default="en", help="column names in English or Chinese"
    )
