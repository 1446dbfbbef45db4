"""Imports of files shaped like the real ones (issue 16): GeoJSON as GIS tools and DataV write it,
exit codes a script can rely on, ids that Excel mangled, mixed encodings, laundered field names.

Every fixture is built here in ``tmp_path``; imports go into a copy of a tiny demo district
(seed 7, as of 2026-11-26), like ``tests/test_ingest.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import test_ingest
from test_ingest import NOW, reasons

from geo.cli import main
from geo.importing import import_file
from geo.ingest import Source, check_rows, read_file, rejects_bytes
from geo.store import Scope, open_store

# The tiny district of tests/test_ingest.py (seed 7, as of 2026-11-26) and a fresh copy per test.
tiny_db = test_ingest.tiny_db
db = test_ingest.db

SQUARE = [[[121.40, 31.24], [121.41, 31.24], [121.41, 31.25], [121.40, 31.25], [121.40, 31.24]]]


def counts(db: str) -> tuple[dict[str, int], tuple[int, int]]:
    with open_store(db) as store:
        return store.counts(), store.versions()


# --------------------------------------------------------------------------- GeoJSON as it comes


def street(street_id: Any, name: str, *, key: str = "street_id", **extra: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {key: street_id, "name": name, **extra},
        "geometry": {"type": "MultiPolygon", "coordinates": [SQUARE]},
    }


def datav(adcode: int, name: str) -> dict[str, Any]:
    """A feature as DataV.GeoAtlas writes it: adcode, name, center, centroid, parent, acroutes…"""
    return street(
        adcode,
        name,
        key="adcode",
        center=[121.405, 31.245],
        centroid=[121.4051, 31.2449],
        childrenNum=0,
        level="street",
        parent={"adcode": 310107},
        subFeatureIndex=0,
        acroutes=[100000, 310000, 310107],
    )


@pytest.mark.parametrize(
    "shape",
    ["collection without a name", "single feature", "collection with a name"],
)
def test_geojson_without_a_name_or_as_a_single_feature_imports(shape: str, db: str) -> None:
    feature = street("S90", "测试街道")
    doc: dict[str, Any] = (
        feature if shape == "single feature" else {"type": "FeatureCollection", "features": [feature]}
    )
    if shape == "collection with a name":
        doc["name"] = "streets_export"
    data = json.dumps(doc, ensure_ascii=False).encode()
    with open_store(db) as store:
        report = import_file(store, "streets", data, name="s.geojson", now=NOW)
        names = store.read_layer("streets", scope=Scope.everything()).set_index("street_id")["name"]
    assert (report.accepted, report.rejected) == (1, 0)
    assert names["S90"] == "测试街道"


def test_datav_bare_array_of_features_is_gis_data(db: str, tmp_path: Path) -> None:
    # DataV's format: a JSON array of Features (no FeatureCollection), nested properties.
    doc = [datav(310107990, "测试街道"), datav(310107991, "")]
    data = json.dumps(doc, ensure_ascii=False).encode()
    raw = read_file(Source("putuo.json", data), "streets", columns={"adcode": "street_id"})
    assert raw.format == "geojson"
    assert raw.cells.to_dict("list") == {"street_id": ["310107990", "310107991"], "name": ["测试街道", ""]}
    with open_store(db) as store:
        report = import_file(
            store, "streets", data, name="putuo.json", columns={"adcode": "street_id"}, now=NOW
        )
    assert (report.accepted, report.rejected) == (1, 1)
    assert reasons(report) == {2: "name: is required but empty"}
    name, rejects = rejects_bytes(report)
    assert name == "putuo.rejects.geojson"
    back = json.loads(rejects)
    assert [str(f["properties"]["adcode"]) for f in back["features"]] == ["310107991"]


def test_a_bare_array_as_households_is_refused_as_gis_data() -> None:
    data = json.dumps([datav(310107990, "测试街道")], ensure_ascii=False).encode()
    with pytest.raises(Exception, match=r"this is a GeoJSON file, not a table"):
        read_file(Source("putuo.json", data), "households")


# --------------------------------------------------------------------------- exit codes


ONE_BAD_VISIT = (
    "户号,社工编号,走访时间,结果\n"
    "H0000001,W0001,2026-11-20 10:00,见面\n"
    "H9999999,W0001,2026-11-20 11:00,见面\n"
)


@pytest.mark.parametrize("where", ["missing folder", "a folder", "default is a folder"])
def test_an_unwritable_rejects_file_stops_the_import_before_anything_is_written(
    where: str, db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "v.csv"
    src.write_text(ONE_BAD_VISIT, encoding="utf-8")
    options = {
        "missing folder": ["--rejects", str(tmp_path / "nonexistent" / "dir" / "r.csv")],
        "a folder": ["--rejects", str(tmp_path)],
        "default is a folder": [],
    }[where]
    if where == "default is a folder":
        (tmp_path / "v.rejects.csv").mkdir()
    before = counts(db)
    code = main(["import", "visits", str(src), "--db", db, "--quiet", *options])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "cannot write the rejects file" in err and "nothing was imported" in err
    assert "Traceback" not in err and err.count("\n") == 1
    assert counts(db) == before


def test_exit_codes_all_stored_some_rejected_nothing_written(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "v.csv"
    src.write_text(ONE_BAD_VISIT, encoding="utf-8")
    rejects = tmp_path / "out" / "r.csv"
    rejects.parent.mkdir()
    visits = counts(db)[0]["visits"]
    assert main(["import", "visits", str(src), "--db", db, "--quiet", "--rejects", str(rejects)]) == 3
    assert counts(db)[0]["visits"] == visits + 1
    assert rejects.read_text(encoding="utf-8-sig").splitlines()[1].startswith("H9999999,")
    good = tmp_path / "good.csv"
    good.write_text(ONE_BAD_VISIT.rsplit("H9999999", 1)[0].replace("10:00", "12:00"), encoding="utf-8")
    assert main(["import", "visits", str(good), "--db", db, "--quiet"]) == 0
    assert main(["import", "visits", str(tmp_path / "nope.csv"), "--db", db, "--quiet"]) == 1
    assert counts(db)[0]["visits"] == visits + 2
    assert "Traceback" not in capsys.readouterr().err


# --------------------------------------------------------------------------- what Excel does to ids


def test_ids_in_scientific_notation_are_rejected_with_what_happened_not_as_duplicates(db: str) -> None:
    # What Excel writes to CSV for 18-digit household numbers and 11-digit phones in General cells.
    text = (
        "户号,楼栋编号,人数,联系电话\n"
        "3.10107E+14,B000001,2,13812345678\n"
        "3.10107E+14,B000001,3,13812345679\n"
        "3.10107E+14,B000002,1,13812345670\n"
        "H7000001,B000001,2,1.38123E+10\n"
        "H7000002,B000001,2,13812345671\n"
    )
    with open_store(db) as store:
        report = import_file(store, "households", text.encode("gbk"), name="户籍.csv", now=NOW)
    got = reasons(report)
    assert sorted(got) == [2, 3, 4, 5] and report.accepted == 1
    sci = "is a number in Excel's scientific notation"
    for row in (2, 3, 4):
        assert got[row].startswith(f"户号 (household_id): '3.10107E+14' {sci}")
        assert "Format the column as Text" in got[row] and "also appears" not in got[row]
    assert got[5].startswith(f"联系电话 (phone): '1.38123E+10' {sci}")


def test_ids_that_lost_their_leading_zeros_are_rejected() -> None:
    text = "工号,姓名,居委会编号\n000123,张三,C001\n123,李四,C001\n000124,王五,C001\n"
    raw = read_file(Source("w.csv", text.encode()), "workers")
    checked = check_rows(raw, now=NOW)
    bad = [(f.code, raw.rows[f.positions].tolist()) for f in checked.findings if f.positions is not None]
    assert bad == [("lost_zeros", [3])]


def test_full_width_digits_in_ids_phones_and_room_numbers_are_made_half_width(db: str) -> None:
    text = "户号,楼栋编号,室号,人数,联系电话\nＨ７０００００１,B000001,３－３０１,２,１３８１２３４５６７８\n"
    with open_store(db) as store:
        report = import_file(store, "households", text.encode("utf-8-sig"), name="h.csv", now=NOW)
        assert report.accepted == 1, reasons(report)
        stored = store.read_table("households", scope=Scope.everything()).set_index("household_id")
    assert (stored.loc["H7000001", "unit"], stored.loc["H7000001", "phone"]) == ("3-301", "13812345678")


# --------------------------------------------------------------------------- GIS files through ogr2ogr


def test_ogr2ogr_laundered_field_names_map_to_our_fields(db: str, tmp_path: Path) -> None:
    """A Shapefile's cut names (``building_i``) carried on into a GeoPackage and a CSV by ogr2ogr."""
    import geopandas as gpd
    import shapely

    with open_store(db) as store:
        grids = store.read_layer("grids", scope=Scope.everything())
    spot = grids.geometry.iloc[0].representative_point()
    gpkg = tmp_path / "buildings.gpkg"
    gpd.GeoDataFrame(
        {"building_i": ["B900001"], "grid_id": [grids["grid_id"].iloc[0]], "name": ["测试楼"], "floors": [6]},
        geometry=[shapely.Point(spot.x, spot.y).buffer(0.0001)],
        crs="EPSG:4326",
    ).to_file(gpkg, layer="buildings", driver="GPKG")
    csv = "household_,building_i,residents,head_name\nH7000009,B000001,2,张三\n"
    with open_store(db) as store:
        built = import_file(store, "buildings", gpkg, now=NOW)
        homes = import_file(store, "households", csv.encode(), name="ogr2ogr.csv", now=NOW)
    assert (built.accepted, built.rejected) == (1, 0), reasons(built)
    assert (homes.accepted, homes.rejected) == (1, 0), reasons(homes)


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("name", ["李四", "李四光"])  # 李四 in UTF-8 is also valid GBK: 鏉庡洓
def test_a_gbk_file_with_utf8_rows_pasted_in_is_refused_not_stored_as_mojibake(name: str, db: str) -> None:
    head = "户号,楼栋编号,人数,户主\nH7000001,B000001,2,张三\n".encode("gbk")
    pasted = f"H7000002,B000001,3,{name}\n".encode()  # a row copied from a UTF-8 file
    before = counts(db)
    with open_store(db) as store, pytest.raises(Exception) as err:
        import_file(store, "households", head + pasted, name="户籍.csv", now=NOW)
    assert str(err.value).startswith(
        "户籍.csv: mixes two text encodings: line 3 is UTF-8 but line 1 is GB18030/GBK"
    )
    assert counts(db) == before
    with open_store(db) as store:  # the same rows in one encoding go in
        report = import_file(store, "households", head + pasted.decode().encode("gbk"), name="h.csv", now=NOW)
    assert report.accepted == 2


def test_create_then_a_fatal_error_leaves_no_file_and_a_missing_file_mentions_create(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = tmp_path / "new.gpkg"
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert main(["import", "visits", str(empty), "--db", str(fresh), "--quiet", "--create"]) == 1
    assert "empty.csv: the file is empty" in capsys.readouterr().err
    assert not fresh.exists() and list(tmp_path.iterdir()) == [empty]
    src = tmp_path / "v.csv"
    src.write_text(ONE_BAD_VISIT, encoding="utf-8")
    assert main(["import", "visits", str(src), "--db", str(fresh), "--quiet", "--create", "--dry-run"]) == 3
    assert not fresh.exists()
    capsys.readouterr()
    assert main(["import", "visits", str(src), "--db", str(fresh), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"sibai import: error: database file not found: {fresh}") and "--create" in err
    assert not fresh.exists()


# --------------------------------------------------------------------------- workbooks


def workbook(sheets: dict[str, list[list[Any]]]) -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


COVER = [["普陀区走访登记表"], ["填表单位：长寿路街道"], ["填表说明：每户一行，走访时间必填"]]


def test_a_cover_page_in_front_is_passed_over_and_a_missing_header_names_the_other_sheets() -> None:
    visits = [["户号", "社工编号", "走访时间", "结果"], ["H0000001", "W0001", "2026-11-20 10:00", "见面"]]
    raw = read_file(Source("v.xlsx", workbook({"封面": COVER, "走访": visits})), "visits")
    assert raw.sheet == "走访" and raw.cells["household_id"].tolist() == ["H0000001"]
    with pytest.raises(Exception) as err:
        book = workbook({"封面": COVER, "说明": [["见封面"]], "Sheet3": [["x"]]})
        read_file(Source("v.xlsx", book), "visits")
    assert str(err.value).startswith("v.xlsx: sheet 封面 is missing required column(s): household_id (户号)")
    assert str(err.value).endswith("the workbook also has sheets: 说明, Sheet3 (choose one with --sheet)")


def test_an_out_of_range_date_cell_is_a_row_finding_not_openpyxl_s_warning(
    db: str, recwarn: pytest.WarningsRecorder
) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["户号", "社工编号", "走访时间", "结果"])
    ws.append(["H0000001", "W0001", 3_000_000, "见面"])  # a date cell beyond 9999-12-31
    ws["C2"].number_format = "yyyy-mm-dd hh:mm"
    ws.append(["H0000001", "W0001", dt.datetime(2026, 11, 20, 10), "见面"])
    import io

    buf = io.BytesIO()
    book.save(buf)
    with open_store(db) as store:
        report = import_file(store, "visits", buf.getvalue(), name="走访.xlsx", now=NOW)
    assert report.accepted == 1
    assert reasons(report) == {2: "走访时间 (visited_at): '3000000' is not a date (use 2023-02-15, "
                                  "2023/2/15, 2023年2月15日 or an Excel date)"}  # fmt: skip
    assert not [w for w in recwarn if "marked as a date" in str(w.message)]


def zipped_shapefile(folder: Path, frame: Any, *, encoding: str, ldid: int) -> bytes:
    """A Shapefile as an office sends it: no ``.cpg``, the ``.dbf`` header claiming code page ``ldid``."""
    import io
    import zipfile

    import pyogrio

    folder.mkdir()
    with pytest.warns(RuntimeWarning) if encoding == "ISO-8859-1" else _no_warning():
        pyogrio.write_dataframe(frame, folder / "grids.shp", encoding=encoding)
    (folder / "grids.cpg").unlink(missing_ok=True)
    dbf = bytearray((folder / "grids.dbf").read_bytes())
    dbf[29] = ldid  # 0x57: "ANSI" (ISO-8859-1 / Windows-1252)
    (folder / "grids.dbf").write_bytes(bytes(dbf))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f.name)
    return buf.getvalue()


def _no_warning() -> Any:
    import contextlib

    return contextlib.nullcontext()


@pytest.mark.parametrize("encoding", ["GBK", "ISO-8859-1"])
def test_a_shapefile_without_cpg_claiming_iso_8859_1_keeps_its_names_or_is_rejected(
    encoding: str, db: str, tmp_path: Path
) -> None:
    import geopandas as gpd
    import shapely

    with open_store(db) as store:
        committee = store.read_layer("committees", scope=Scope.everything())["committee_id"].iloc[0]
    frame = gpd.GeoDataFrame(
        {"grid_id": ["G900"], "committee_": [committee], "name": ["长寿路一号网格"]},
        geometry=[shapely.box(121.300, 31.300, 121.301, 31.301)],
        crs="EPSG:4326",
    )
    data = zipped_shapefile(tmp_path / "shp", frame, encoding=encoding, ldid=0x57)
    with open_store(db) as store:
        report = import_file(store, "grids", data, name="grids.zip", now=NOW)
        names = store.read_layer("grids", scope=Scope.everything()).set_index("grid_id")["name"]
    if encoding == "GBK":
        assert report.accepted == 1 and names["G900"] == "长寿路一号网格"
    else:  # the names were lost when the file was written: refuse them, never store '???????'
        assert report.accepted == 0 and "G900" not in names
        assert reasons(report)[1].startswith("name: '???????' is only question marks")


# --------------------------------------------------------------------------- after the import


def test_a_street_without_committees_has_its_row_of_zeros_in_coverage_by_street(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = {"type": "FeatureCollection", "features": [street("S90", "桃浦镇")]}
    with open_store(db) as store:
        assert import_file(store, "streets", json.dumps(doc).encode(), name="s.geojson", now=NOW).accepted
        streets = sorted(store.read_layer("streets", scope=Scope.everything())["street_id"])
    args = ["coverage", "--db", db, "--from", "2026-01-01", "--to", "2026-11-26", "--level", "street"]
    assert main([*args, "--format", "json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert sorted(rows) == streets and "S90" in rows
    assert {k: rows["S90"][k] for k in ("households", "visited", "open_issues", "overdue_issues")} == {
        "households": 0,
        "visited": 0,
        "open_issues": 0,
        "overdue_issues": 0,
    }
    assert rows["S90"]["coverage"] is None  # no households: no coverage, never 0 %


def test_a_footpath_network_kilometres_from_every_building_is_imported_with_a_warning(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from geo.paths import osm_xml_from_ways, street_grid_ways
    from geo.walks import walk_inputs

    with open_store(db) as store:
        spots = walk_inputs(store, "G0003", scope=Scope.everything()).buildings
    x0, x1, y0, y1 = spots["x"].min(), spots["x"].max(), spots["y"].min(), spots["y"].max()
    for name, shift, warned in (("estate", 0.0, False), ("elsewhere", 8000.0, True)):
        ways = street_grid_ways((x0 - 200 + shift, x1 + 200 + shift), (y0 - 200, y1 + 200), spacing_m=60)
        osm = tmp_path / f"{name}.osm"
        osm.write_text(osm_xml_from_ways(ways), encoding="utf-8")
        assert main(["import-paths", str(osm), "--db", db, "--dry-run"]) == 0
        err = capsys.readouterr().err
        assert ("km from the nearest building, so no walk will use it" in err) is warned, err


def test_question_marks_reject_a_name_but_not_a_note() -> None:
    text = "户号,社工编号,走访时间,结果,备注\nH0000001,W0001,2026-11-20 10:00,见面,??\n"
    assert check_rows(read_file(Source("v.csv", text.encode()), "visits"), now=NOW).findings == []
    text = "工号,姓名,居委会编号\nW9,???,C001\n"
    found = check_rows(read_file(Source("w.csv", text.encode()), "workers"), now=NOW).findings
    assert [(f.code, f.column) for f in found] == [("lost_text", "name")]
