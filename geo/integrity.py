"""Integrity checks of a district: references resolve, geometries are valid, counts agree."""

from __future__ import annotations

import pandas as pd
import shapely

from geo.store import LAYERS, Scope, Store

REFERENCES: tuple[tuple[str, str, str, str], ...] = (
    ("committees", "street_id", "streets", "street_id"),
    ("grids", "committee_id", "committees", "committee_id"),
    ("buildings", "grid_id", "grids", "grid_id"),
    ("households", "building_id", "buildings", "building_id"),
    ("workers", "committee_id", "committees", "committee_id"),
    ("grid_workers", "grid_id", "grids", "grid_id"),
    ("grid_workers", "worker_id", "workers", "worker_id"),
    ("visits", "household_id", "households", "household_id"),
    ("visits", "worker_id", "workers", "worker_id"),
    ("issues", "grid_id", "grids", "grid_id"),
    ("issues", "building_id", "buildings", "building_id"),
    ("issues", "household_id", "households", "household_id"),
)
"""(table, column, referenced table, referenced column) pairs that must resolve."""

CONSISTENCY: tuple[tuple[str, str], ...] = (
    ("grids without exactly one leader",
     "SELECT COUNT(*) FROM grids g WHERE (SELECT COUNT(*) FROM grid_workers w "
     "WHERE w.grid_id = g.grid_id AND w.role = 'leader') <> 1"),
    ("grids without households",
     "SELECT COUNT(*) FROM grids g WHERE NOT EXISTS (SELECT 1 FROM buildings b "
     "JOIN households h ON h.building_id = b.building_id WHERE b.grid_id = g.grid_id)"),
    ("vacant households with residents",
     "SELECT COUNT(*) FROM households WHERE occupied = 0 AND residents > 0"),
    ("closed issues without a closing time",
     "SELECT COUNT(*) FROM issues WHERE status = 'closed' AND closed_at IS NULL"),
    ("open issues with a closing time",
     "SELECT COUNT(*) FROM issues WHERE status <> 'closed' AND closed_at IS NOT NULL"),
    ("issues closed before they were opened",
     "SELECT COUNT(*) FROM issues WHERE closed_at < opened_at"),
    ("issues whose building is in another grid",
     "SELECT COUNT(*) FROM issues i JOIN buildings b ON b.building_id = i.building_id "
     "WHERE b.grid_id <> i.grid_id"),
)  # fmt: skip
"""(problem, SQL counting the rows that have it)."""


def check_district(store: Store) -> pd.DataFrame:
    """Return one row per check: ``check, problems`` (0 means fine)."""
    rows: list[tuple[str, int]] = []
    for table, col, ref, ref_col in REFERENCES:
        n = store.scalar(
            f"SELECT COUNT(*) FROM {table} t WHERE t.{col} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {ref} r WHERE r.{ref_col} = t.{col})"
        )
        rows.append((f"{table}.{col} → {ref}", int(n or 0)))
    for layer in LAYERS:
        gdf = store.read_layer(layer, scope=Scope.everything(), columns=[])  # an operator's check: all
        geoms = gdf.geometry.to_numpy()
        bad = int((~shapely.is_valid(geoms) | shapely.is_missing(geoms) | shapely.is_empty(geoms)).sum())
        rows.append((f"{layer}: invalid or empty geometry", bad))
    for label, sql in CONSISTENCY:
        rows.append((label, int(store.scalar(sql) or 0)))
    return pd.DataFrame(rows, columns=["check", "problems"])
