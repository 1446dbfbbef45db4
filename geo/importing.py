"""Importing a file: read → check → load, the steps the CLI, the data page and the tests share.

:func:`import_file` reads a file and checks every row on its own with
:mod:`geo.ingest` (pure), then, in the store's one write transaction
(:func:`geo.store.imports.loading`): fetches what the rows are checked against,
decides each row's fate with :func:`geo.ingest.check_against`, and has the
store load the accepted rows. The store loads and reads; the deciding is here
and in :mod:`geo.ingest`.

* A fatal problem (an unreadable file, the wrong kind of file, a missing
  required column, a database error) raises and changes nothing.
* Rows the database already holds unchanged are counted as ``unchanged`` and
  not written: importing the same file twice adds nothing, and when nothing is
  written at all not even the change counters move.
* ``dry_run`` does every check against the database and writes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Mapping
from typing import Any

from geo import ingest
from geo.clock import local_now
from geo.progress import Progress
from geo.store import Store
from geo.store import imports as store_imports

__all__ = ["Progress", "import_file"]


def import_file(
    store: Store,
    kind: str,
    file: Any,
    *,
    name: str | None = None,
    dry_run: bool = False,
    crs: str | None = None,
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
    sheet: str | None = None,
    source: str | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    before_commit: Callable[[ingest.ImportReport], object] | None = None,
) -> ingest.ImportReport:
    """Import one file of ``kind`` into ``store``; return what happened to every row.

    Parameters
    ----------
    store
        The database (the schema is created if the database is empty).
    kind
        One of :data:`geo.ingest.KINDS`: ``grids``, ``buildings``, ``households``,
        ``workers``, ``visits``, ``issues`` (and ``streets``, ``committees``,
        ``grid_workers`` for whole districts).
    file
        A path, bytes or a binary file object (an upload).
    name
        The file's name in messages (default: the path's name).
    dry_run
        Check everything, including against the database, and write nothing.
    crs
        The coordinate system of a GIS file when it has none or a wrong one:
        ``EPSG:4326``, ``EPSG:4490``, ``EPSG:32651``, ``gcj02`` or ``bd09``.
    columns
        Extra header mapping ``{header: field}``.
    layer, sheet
        Which layer of a GeoPackage, which sheet of a workbook.
    source
        For issues: the channel of rows that name none (``hotline``, ``online``).
    now
        Local time for the "in the future" check (default: now in Shanghai).
    progress
        Called with (fraction done, message).
    before_commit
        Called with the report once every row's fate is decided and the
        accepted rows are loaded, before the transaction commits (also on a
        dry run): the place to write the rejects file, so that a rejects file
        that cannot be written stops the import. If it raises, nothing is
        written and the exception propagates.

    Raises
    ------
    geo.ingest.IngestError
        The file cannot be imported at all; nothing was written.
    geo.store.StoreError
        The database refused the write; nothing was written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geo.store import open_store
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "x.gpkg"
    >>> text = "工号,姓名,居委会编号\\nW1,张三,C001\\n"
    >>> with open_store(str(db), create=True) as store:
    ...     report = import_file(store, "workers", text.encode(), name="w.csv")
    >>> report.summary()
    'w.csv → workers: 0 accepted, 1 rejected, 0 unchanged (of 1 rows)'
    >>> report.problems()["message"].tolist()
    ["unknown committee 'C001'"]
    """
    started = time.perf_counter()
    step = progress or (lambda _f, _m: None)
    step(0.0, "reading")
    src = ingest.Source.of(file, name=name)
    raw = ingest.read_file(src, kind, columns=columns, crs=crs, layer=layer, sheet=sheet)
    step(0.2, "checking rows")
    checked = ingest.check_rows(
        raw,
        now=now or local_now(store.settings),
        source=source,
        issue_limits=dict(store.settings.issue_limits_days),
    )
    step(0.35, "checking against the database")
    if dry_run or len(checked) == 0:
        verdict = ingest.check_against(checked, _refs(store_imports.read_refs(store, _incoming(checked))))
        report = ingest.ImportReport.build(checked, verdict, dry_run=dry_run)
        if before_commit is not None:
            before_commit(report)
    else:
        report = _check_and_load(store, checked, step, before_commit)
    report.seconds = time.perf_counter() - started
    step(1.0, "done")
    return report


def _check_and_load(
    store: Store,
    checked: ingest.Checked,
    step: Progress,
    before_commit: Callable[[ingest.ImportReport], object] | None,
) -> ingest.ImportReport:
    """Check ``checked`` against the database and load the accepted rows, in one transaction."""
    kind = checked.kind
    rows = _incoming(checked)
    with store_imports.loading(store, rows) as load:
        verdict = ingest.check_against(checked, _refs(load.refs(rows)))
        report = ingest.ImportReport.build(checked, verdict)
        if report.accepted:
            step(0.5, f"writing {report.accepted:,} {kind}")
            load.rows(kind, verdict.accepted, lambda f: step(0.5 + 0.45 * f, f"writing {kind}"))
        if before_commit is not None:
            before_commit(report)  # raising here rolls the load back
        report.written = report.accepted > 0
    return report


def _incoming(checked: ingest.Checked) -> store_imports.Incoming:
    """Return what the store needs of ``checked``: the kind, the values, the key and the references."""
    spec = checked.spec
    refs = {f.name: f.ref for f in spec.fields if f.ref is not None}
    return store_imports.Incoming(
        checked.kind, checked.values, key=spec.key[0] if spec.key else None, refs=refs
    )


def _refs(held: store_imports.Held) -> ingest.Refs:
    """Return what the store holds as :class:`geo.ingest.Refs`: buildings' names become addresses."""
    given = {f.name: getattr(held, f.name) for f in dataclasses.fields(held) if f.name != "building_names"}
    names = held.building_names
    return ingest.Refs(**given, addresses=None if names is None else ingest.buildings_by_address(names))
