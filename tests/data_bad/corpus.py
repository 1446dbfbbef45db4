"""A corpus of bad (and awkward) import files, built by a seeded generator into a folder.

Nothing here is committed as data: :func:`build_corpus` writes every file
into a temporary folder (the tests' ``tmp_path``), from a seed and the tiny
demo district's grids, so the files are the same on every run. Each
:class:`Case` names the file, what it is imported as, and what the import
must say: the one-line fatal message, or the exact reason of every rejected
row and the counts. See ``README.md`` beside this file.
"""

from __future__ import annotations

import io
import random
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import shapely

from geo import crs as gcrs

SEED = 20230215
BIG_CELL = 10 * 1024 * 1024  # a 10 MB note


@dataclass(frozen=True)
class Case:
    """One file of the corpus and what importing it must give.

    ``fatal`` is the start of the one-line error (nothing written); otherwise
    ``rejects`` maps each rejected row to its exact ``_reason`` and the counts
    must match. ``warnings`` lists the starts of warning lines that must appear.
    """

    name: str
    kind: str
    file: str
    fatal: str | None = None
    rejects: dict[int, str] = field(default_factory=dict)
    accepted: int = 0
    unchanged: int = 0
    warnings: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)


def _csv(rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    return "\r\n".join(",".join(str(c) for c in r) for r in rows).encode(encoding) + b"\r\n"


def _layer(gdf: gpd.GeoDataFrame, path: Path, driver: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's notes on field names
        pyogrio.write_dataframe(gdf, path, driver=driver, layer=path.stem if driver == "GPKG" else None)


def _shapefile_zip(gdf: gpd.GeoDataFrame, path: Path, *, encoding: str, keep: tuple[str, ...]) -> None:
    folder = path.with_suffix("")
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", RuntimeWarning
        )  # "committee_id" is cut to "committee_", as in real files
        pyogrio.write_dataframe(gdf, folder / "layer.shp", driver="ESRI Shapefile", encoding=encoding)
    with zipfile.ZipFile(path, "w") as z:
        for f in sorted(folder.iterdir()):
            if f.suffix in keep:
                z.write(f, f.name)


def _inside(grid: shapely.Geometry, rng: random.Random, size: float = 0.00008) -> shapely.Polygon:
    """A small square footprint inside ``grid`` (degrees)."""
    minx, miny, maxx, maxy = grid.bounds
    while True:
        x = rng.uniform(minx, maxx)
        y = rng.uniform(miny, maxy)
        box = shapely.box(x, y, x + size, y + size)
        if grid.contains(box):
            return box


def _swap(g: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(g, lambda c: c[:, ::-1])


CASES: tuple[Case, ...] = (
    Case(
        "wrong_encoding",
        "households",
        "wrong_encoding.csv",
        fatal="wrong_encoding.csv: line 3 is neither UTF-8 nor GB18030/GBK text (byte 0xe9; it looks like",
    ),
    Case(
        "gbk_with_title_row",
        "households",
        "gbk_title.csv",
        accepted=3,
        warnings=(
            "the header is on row 2; the rows above were skipped",
            "columns not used: 序号",
            "text encoding: GB18030",
        ),
    ),
    Case(
        "missing_columns",
        "households",
        "missing_columns.csv",
        fatal="missing_columns.csv: missing required column(s): residents (人数); "
        "the file has: 户号, 楼栋编号, 户主",
    ),
    Case(
        "wrong_types",
        "households",
        "wrong_types.csv",
        accepted=1,
        rejects={
            2: "人数 (residents): '三' is not a whole number",
            3: "在住 (occupied): 'maybe' is not yes/no (1/0)",
            4: "标签 (tags): 'VIP' is not a known tag "
            "(alone_elderly, very_old, disabled, low_income, small_children)",
            5: "人数 (residents): '-1' is below 0",
            6: "楼栋编号 (building_id): unknown building 'B999999'",
            7: "户号 (household_id): is required but empty; 人数 (residents): '2.5' is not a whole number",
        },
    ),
    Case(
        "duplicates",
        "visits",
        "duplicates.csv",
        accepted=1,
        unchanged=1,
        rejects={
            3: "duplicates row 2",
            4: "H0000003 / W0001 / 2026-11-02 10:00:00 also appears in row(s) 5 with other values",
            5: "H0000003 / W0001 / 2026-11-02 10:00:00 also appears in row(s) 4 with other values",
            7: "{conflict_key} is already in the database with other values: "
            "outcome {db_outcome} in the database, {file_outcome} in the file",
        },
    ),
    Case("empty", "visits", "empty.csv", fatal="empty.csv: the file is empty"),
    Case(
        "header_only",
        "visits",
        "header_only.csv",
        fatal="header_only.csv: has a header (row 1) but no data rows",
    ),
    Case(
        "ten_megabyte_cell",
        "visits",
        "big_cell.csv",
        accepted=1,
        rejects={3: "备注 (note): has 10,485,760 characters; at most 2,000"},
    ),
    Case(
        "formula_cells",
        "households",
        "formulas.xlsx",
        accepted=1,
        rejects={3: "人数 (residents): cell D3 holds a formula (=1+2), not a value: paste values only"},
    ),
    Case(
        "wrong_kind_image",
        "households",
        "households.csv",
        fatal="households.csv: this is a PNG image, not a table or GIS file",
    ),
    Case(
        "wrong_kind_old_excel",
        "households",
        "old.xls",
        fatal="old.xls: this is an old Excel 97-2003 workbook (.xls); save it as .xlsx, "
        "not a table or GIS file",
    ),
    Case(
        "wrong_kind_gis_for_a_table",
        "visits",
        "grids.gpkg",
        fatal="grids.gpkg: this is a GeoPackage, not a table (.csv or .xlsx)",
    ),
    Case(
        "wrong_kind_table_for_a_layer",
        "grids",
        "grids.csv",
        fatal="grids.csv: this is a CSV table, not a GIS file (GeoPackage, zipped Shapefile or GeoJSON)",
    ),
    Case(
        "dates_refs_and_future",
        "visits",
        "dates.csv",
        accepted=4,
        rejects={
            6: "走访时间 (visited_at): '2030-01-01 09:00' is in the future (now 2026-11-27 08:00:00)",
            7: "户号 (household_id): unknown household 'H9999999'",
            8: "社工编号 (worker_id): unknown worker 'W9999'",
            9: "结果 (outcome): 'maybe' is not one of met, not_home, refused, vacant, inaccessible",
            10: "走访时间 (visited_at): '2023-02-30' is not a date "
            "(use 2023-02-15, 2023/2/15, 2023年2月15日 or an Excel date)",
            11: "走访时间 (visited_at): '1999-01-01' is before 2000: check the year",
        },
    ),
    Case(
        "ragged_row",
        "workers",
        "ragged.csv",
        accepted=1,
        rejects={3: "the row has 5 cells but the header only 3"},
    ),
    Case(
        "swapped_file",
        "buildings",
        "swapped.geojson",
        accepted=3,
        warnings=("the file's latitude and longitude were swapped; they have been swapped back",),
    ),
    Case(
        "one_swapped_feature",
        "buildings",
        "one_swapped.geojson",
        accepted=3,
        rejects={4: "geometry: the coordinates look like latitude/longitude swapped ({where})"},
    ),
    Case(
        "self_intersecting",
        "grids",
        "bowtie.gpkg",
        accepted=2,
        rejects={
            3: "geometry: the geometry is invalid and cannot be repaired: Self-intersection[121.441 31.25]"
        },
        warnings=(
            "row 1, geometry: the geometry was invalid (Self-intersection[121.4405 31.2505]) "
            "and has been repaired",
        ),
    ),
    Case(
        "overlapping_grids",
        "grids",
        "overlap.geojson",
        accepted=1,
        warnings=("row 1, geometry: overlaps grid G0001 by ",),
    ),
    Case(
        "buildings_outside_grids",
        "buildings",
        "outside.geojson",
        accepted=2,
        rejects={2: "geometry: lies outside every grid and names no grid"},
        warnings=(
            "row 1, grid_id: placed in grid G0001 by its location",
            "row 3, geometry: lies outside its grid G0002 (it stands in grid G0001)",
        ),
    ),
    Case(
        "points_not_polygons",
        "buildings",
        "points.geojson",
        rejects={1: "geometry: the geometry is a Point, not a polygon"},
    ),
    Case("gbk_shapefile_without_cpg", "grids", "gbk_shapefile.zip", accepted=1),
    Case(
        "gcj02",
        "buildings",
        "gcj02.geojson",
        accepted=1,
        options={"crs": "gcj02"},
        warnings=("coordinates converted from GCJ-02 to WGS84",),
    ),
    Case(
        "utm",
        "grids",
        "utm.gpkg",
        accepted=1,
        warnings=("coordinates converted from EPSG:32651 to WGS84",),
    ),
    Case(
        "no_crs_lonlat",
        "grids",
        "no_prj.zip",
        accepted=1,
        warnings=(
            "the file has no coordinate reference system; its coordinates look like longitude/latitude "
            "and are read as WGS84 (EPSG:4326)",
        ),
    ),
    Case(
        "no_crs_metres",
        "grids",
        "no_prj_metres.zip",
        fatal="no_prj_metres.zip: has no coordinate reference system and its coordinates are not "
        "longitude/latitude: give one with --crs",
    ),
)
"""Every case, in a stable order."""


def build_corpus(
    folder: Path, *, grids: gpd.GeoDataFrame, visits: pd.DataFrame, seed: int = SEED
) -> dict[str, Any]:
    """Write every file of :data:`CASES` into ``folder``; return values the expectations need.

    ``grids`` and ``visits`` are the tiny demo district's (EPSG:4326 grids; the
    stored visits), so that references and places are real.
    """
    rng = random.Random(seed)
    out: dict[str, Any] = {}
    g1 = grids.set_index("grid_id").geometry["G0001"]
    builders: list[Callable[[], None]] = []

    def write(name: str, data: bytes) -> None:
        (folder / name).write_bytes(data)

    # ---- tables
    builders.append(
        lambda: write(
            "wrong_encoding.csv",
            b"household_id,building_id,residents,head_name\r\nH8000001,B000001,2,Li\r\n"
            b"H8000002,B000001,3,Caf\xe9\r\n",
        )
    )
    builders.append(
        lambda: write(
            "gbk_title.csv",
            _csv(
                [
                    ["普陀区住户登记表（2024年）", "", "", "", "", ""],
                    ["序号", "户号", "楼栋编号", "人数", "户主", "标签"],
                    [1, "H8000011", "B000001", 2, "张伟", "独居老人、高龄"],
                    [2, "H8000012", "B000002", 4, "王芳", "有小孩"],
                    [3, "H8000013", "B000003", 0, "", ""],
                ],
                "gbk",
            ),
        )
    )
    builders.append(
        lambda: write(
            "missing_columns.csv", _csv([["户号", "楼栋编号", "户主"], ["H8000021", "B000001", "李"]])
        )
    )
    builders.append(
        lambda: write(
            "wrong_types.csv",
            _csv(
                [
                    ["户号", "楼栋编号", "人数", "在住", "标签"],
                    ["H8000031", "B000001", "三", "1", ""],
                    ["H8000032", "B000001", "2", "maybe", ""],
                    ["H8000033", "B000001", "2", "是", "VIP"],
                    ["H8000034", "B000001", "-1", "否", ""],
                    ["H8000035", "B999999", "1", "1", ""],
                    ["", "B000001", "2.5", "1", ""],
                    ["H8000036", "B000002", "3", "在住", "低保、残疾"],
                ]
            ),
        )
    )
    existing = visits.sort_values("visit_id").iloc[[0, 1]]
    e0, e1 = existing.iloc[0], existing.iloc[1]
    flipped = "met" if e1["outcome"] != "met" else "not_home"
    out["conflict_key"] = f"{e1['household_id']} / {e1['worker_id']} / {e1['visited_at']}"
    out["db_outcome"] = repr(e1["outcome"])
    out["file_outcome"] = repr(flipped)

    def duplicates() -> None:
        rows = [
            ["household_id", "worker_id", "visited_at", "outcome"],
            ["H0000002", "W0001", "2026-11-02 09:00:00", "met"],
            ["H0000002", "W0001", "2026-11-02 09:00:00", "met"],
            ["H0000003", "W0001", "2026-11-02 10:00:00", "met"],
            ["H0000003", "W0001", "2026-11-02 10:00:00", "not_home"],
            [e0["household_id"], e0["worker_id"], e0["visited_at"], e0["outcome"]],
            [e1["household_id"], e1["worker_id"], e1["visited_at"], flipped],
        ]
        write("duplicates.csv", _csv(rows))

    builders.append(duplicates)
    builders.append(lambda: write("empty.csv", b""))
    builders.append(lambda: write("header_only.csv", "户号,社工编号,走访时间,结果\r\n".encode()))

    def big_cell() -> None:
        note = "".join(rng.choice("走访记录居民反映电梯") for _ in range(BIG_CELL))
        text = (
            "户号,社工编号,走访时间,结果,备注\r\n"
            "H0000004,W0001,2026-11-03 09:00,见面,正常\r\n"
            f'H0000005,W0001,2026-11-03 09:30,见面,"{note}"\r\n'
        )
        write("big_cell.csv", text.encode())

    builders.append(big_cell)

    def formulas() -> None:
        book = openpyxl.Workbook()
        ws = book.active
        ws.append(["序号", "户号", "楼栋编号", "人数"])
        ws.append(["=ROW()-1", "H8000041", "B000001", 2])
        ws.append(["=ROW()-1", "H8000042", "B000001", "=1+2"])
        buf = io.BytesIO()
        book.save(buf)
        write("formulas.xlsx", buf.getvalue())

    builders.append(formulas)
    builders.append(
        lambda: write("households.csv", b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(64)))
    )
    builders.append(lambda: write("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64)))

    def gis_for_table() -> None:
        gdf = grids.iloc[[0]][["grid_id", "committee_id", "name", "geometry"]]
        _layer(gpd.GeoDataFrame(gdf, crs=4326), folder / "grids.gpkg", "GPKG")

    builders.append(gis_for_table)
    builders.append(
        lambda: write("grids.csv", _csv([["grid_id", "committee_id", "name"], ["G9", "C001", "x"]]))
    )
    builders.append(
        lambda: write(
            "dates.csv",
            _csv(
                [
                    ["户号", "社工编号", "走访时间", "结果", "方式"],
                    ["H0000010", "W0002", "2023/2/15 9:30", "见面", "上门"],
                    ["H0000011", "W0002", "2023年2月15日", "不在家", "电话"],
                    ["H0000012", "W0002", "44972.5", "拒访", ""],
                    ["H0000013", "W0002", "20230215", "空置", "door"],
                    ["H0000014", "W0002", "2030-01-01 09:00", "见面", ""],
                    ["H9999999", "W0002", "2023-02-15", "见面", ""],
                    ["H0000015", "W9999", "2023-02-15", "见面", ""],
                    ["H0000016", "W0002", "2023-02-15", "maybe", ""],
                    ["H0000017", "W0002", "2023-02-30", "见面", ""],
                    ["H0000018", "W0002", "1999-01-01", "见面", ""],
                ]
            ),
        )
    )
    builders.append(
        lambda: write(
            "ragged.csv",
            _csv(
                [
                    ["工号", "姓名", "居委会编号"],
                    ["W8001", "周敏", "C001"],
                    ["W8002", "吴刚", "C001", "x", "y"],
                ]
            ),
        )
    )

    # ---- layers
    boxes = [_inside(g1, rng) for _ in range(4)]

    def buildings(
        geoms: list[shapely.Geometry], ids: list[str], grid_ids: list[Any] | None
    ) -> gpd.GeoDataFrame:
        data: dict[str, Any] = {"building_id": ids, "name": [f"兰溪路{i}号" for i in range(len(ids))]}
        if grid_ids is not None:
            data["grid_id"] = grid_ids
        return gpd.GeoDataFrame(data, geometry=geoms, crs=4326)

    builders.append(
        lambda: _layer(
            buildings([_swap(b) for b in boxes[:3]], ["B8001", "B8002", "B8003"], ["G0001"] * 3),
            folder / "swapped.geojson",
            "GeoJSON",
        )
    )
    swapped_one = _swap(boxes[3])
    b = swapped_one.bounds
    out["where"] = f"{b[0]:.5f} {b[1]:.5f}"
    builders.append(
        lambda: _layer(
            buildings([*boxes[:3], swapped_one], ["B8011", "B8012", "B8013", "B8014"], ["G0001"] * 4),
            folder / "one_swapped.geojson",
            "GeoJSON",
        )
    )

    def bowtie() -> None:
        tie = shapely.Polygon([(121.440, 31.250), (121.441, 31.251), (121.441, 31.250), (121.440, 31.251)])
        flat = shapely.Polygon([(121.44, 31.25), (121.441, 31.25), (121.442, 31.25)])
        far = shapely.box(121.5, 31.3, 121.501, 31.301)
        gdf = gpd.GeoDataFrame(
            {
                "grid_id": ["G9001", "G9002", "G9003"],
                "committee_id": ["C001"] * 3,
                "name": ["甲", "乙", "丙"],
            },
            geometry=[tie, far, flat],
            crs=4326,
        )
        _layer(gdf, folder / "bowtie.gpkg", "GPKG")

    builders.append(bowtie)
    # A grid drawn inside G0001 (shifted copy, clipped): it overlaps G0001 only.
    over = shapely.intersection(g1, shapely.affinity.translate(g1, 0.0003, 0.0))
    metric = shapely.transform(over, lambda c: np.column_stack(gcrs.metric_xy(c[:, 0], c[:, 1])))
    out["area"] = float(shapely.area(metric))
    builders.append(
        lambda: _layer(
            gpd.GeoDataFrame(
                {"grid_id": ["G9101"], "committee_id": ["C001"], "name": ["重叠网格"]},
                geometry=[over],
                crs=4326,
            ),
            folder / "overlap.geojson",
            "GeoJSON",
        )
    )
    builders.append(
        lambda: _layer(
            buildings(
                [boxes[0], shapely.box(121.0, 31.0, 121.0001, 31.0001), boxes[1]],
                ["B8021", "B8022", "B8023"],
                [None, None, "G0002"],
            ),
            folder / "outside.geojson",
            "GeoJSON",
        )
    )
    builders.append(
        lambda: _layer(
            gpd.GeoDataFrame({"building_id": ["B8031"]}, geometry=[shapely.Point(121.44, 31.25)], crs=4326),
            folder / "points.geojson",
            "GeoJSON",
        )
    )
    grid_box = shapely.box(121.50, 31.30, 121.501, 31.301)
    builders.append(
        lambda: _shapefile_zip(
            gpd.GeoDataFrame(
                {"网格编号": ["G9201"], "居委会编号": ["C001"], "网格名称": ["曹杨一村第3网格"]},
                geometry=[grid_box],
                crs=4326,
            ),
            folder / "gbk_shapefile.zip",
            encoding="GBK",
            keep=(".shp", ".shx", ".dbf", ".prj"),
        )
    )
    out["gcj02_original"] = boxes[2]

    def gcj() -> None:
        gdf = buildings([boxes[2]], ["B8041"], ["G0001"])
        _layer(gcrs.to_gcj02(gdf), folder / "gcj02.geojson", "GeoJSON")

    builders.append(gcj)
    builders.append(
        lambda: _layer(
            gpd.GeoDataFrame(
                {"grid_id": ["G9301"], "committee_id": ["C001"], "name": ["UTM"]},
                geometry=[grid_box.buffer(0)],
                crs=4326,
            ).to_crs(32651),
            folder / "utm.gpkg",
            "GPKG",
        )
    )
    builders.append(
        lambda: _shapefile_zip(
            gpd.GeoDataFrame(
                {"grid_id": ["G9401"], "committee_id": ["C001"], "name": ["noprj"]},
                geometry=[grid_box],
                crs=4326,
            ),
            folder / "no_prj.zip",
            encoding="UTF-8",
            keep=(".shp", ".shx", ".dbf", ".cpg"),
        )
    )
    builders.append(
        lambda: _shapefile_zip(
            gpd.GeoDataFrame(
                {"grid_id": ["G9501"], "committee_id": ["C001"], "name": ["m"]}, geometry=[grid_box], crs=4326
            ).to_crs(32651),
            folder / "no_prj_metres.zip",
            encoding="UTF-8",
            keep=(".shp", ".shx", ".dbf", ".cpg"),
        )
    )
    for build in builders:
        build()
    return out
