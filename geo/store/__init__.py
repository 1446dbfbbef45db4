"""The one gateway to data: ``open_store(db)`` returns a :class:`Store`.

A file path selects SQLite in GeoPackage form (the default, ``data/putuo.gpkg``);
a ``postgresql://`` URL selects PostgreSQL with PostGIS. Both offer the same API.
"""

from geo.store.core import OutOfScope, Scope, Store, StoreError, iso_local, number_id, parse_local
from geo.store.schema import CHANNELS, LAYERS, LEVELS, OUTCOMES, SOURCES, STATUSES, TABLES, TAGS


def open_store(db: str | None = None, *, create: bool = False) -> Store:
    """Open the database ``db`` (default: the ``SIBAI_DB`` setting).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.gpkg"
    >>> with open_store(str(path), create=True) as store:
    ...     store.create_schema()
    ...     store.counts()["grids"]
    0
    """
    from geo.settings import Settings

    return Store(db or Settings.from_env().db, create=create)


__all__ = [
    "CHANNELS",
    "LAYERS",
    "LEVELS",
    "OUTCOMES",
    "SOURCES",
    "STATUSES",
    "TABLES",
    "TAGS",
    "OutOfScope",
    "Scope",
    "Store",
    "StoreError",
    "iso_local",
    "number_id",
    "open_store",
    "parse_local",
]
