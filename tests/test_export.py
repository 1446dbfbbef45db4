"""Excel and CSV exports read back: values, Chinese, headers in the UI language, neutralised formulas."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo import export, writers
from geo.cli import main
from geo.demo import install_demo
from geo.export import FORMULA_STARTS, neutralise, to_csv_bytes, to_xlsx_bytes, write_export
from geo.store import open_store

HOSTILE = ['=HYPERLINK("http://evil","点我")', "+86 138 0000 0000", "-2+3", "@SUM(A1:A9)", "\tx", "\r=1"]


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "grid_id": ["G0001", "G0002", "G0003"],
            "grid_name": ["曹杨一村第3网格", HOSTILE[0], "长寿路\u0007街道"],  # a bell: illegal in XML
            "households": [120, 0, 35],
            "coverage": [0.8125, np.nan, 0.0],
            "gap": [-0.05, np.nan, 0.1],
            "points": [-2, -1, 0],
            "behind": [True, False, True],
            "visited_at": pd.to_datetime(["2026-11-23 14:05:09", None, "2026-11-24 09:00:00"]).astype(
                "datetime64[s]"
            ),
            "date": pd.to_datetime(["2026-03-31", "2026-06-30", None]).astype("datetime64[s]"),
            "kind": ["after_hours", "burst", "unknown_code"],
            "tags": ["alone_elderly,very_old", "", None],
        }
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_neutralise_prefixes_every_formula_start(text: str) -> None:
    assert neutralise(text) == "'" + text


@given(st.text(max_size=30))
def test_neutralised_text_never_starts_a_formula_and_only_gains_an_apostrophe(text: str) -> None:
    out = neutralise(text)
    assert not out.startswith(FORMULA_STARTS)
    assert out == text or out == "'" + text
    # One rule with imports (geo.writers): apostrophes before a formula start count, so it inverts.
    assert (out != text) == text.lstrip("'").startswith(FORMULA_STARTS)
    assert writers.restore(out) == text


def test_numbers_and_missing_values_are_left_alone() -> None:
    assert [neutralise(v) for v in (-3, -0.5, None, True)] == [-3, -0.5, None, True]


def test_xlsx_read_back_in_chinese() -> None:
    data = to_xlsx_bytes({"周查/网格[1]": frame(), "周查/网格[1] ": frame().head(1)}, lang="zh")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["周查_网格_1_", "周查_网格_1_ (2)"]
    ws = wb.worksheets[0]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0] == [
        "网格编号",
        "网格",
        "在住户数",
        "覆盖率",
        "进度差",
        "分值变化",
        "落后进度",
        "走访时间",
        "日期",
        "异常类型",
        "重点人群",
    ]
    assert rows[1] == [
        "G0001",
        "曹杨一村第3网格",
        120,
        0.8125,
        -0.05,
        -2,
        True,
        dt.datetime(2026, 11, 23, 14, 5, 9),
        dt.datetime(2026, 3, 31),
        "15:30后走访",
        "独居老人、高龄",
    ]
    # The formula is text with an apostrophe in front, never a formula; empty cells stay empty.
    assert rows[2][1] == "'" + HOSTILE[0] and ws["B3"].data_type == "s"
    assert rows[2][3] is None and rows[2][7] is None and rows[2][10] is None
    assert rows[3][1] == "长寿路\ufffd街道" and rows[3][9] == "unknown_code"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    # Formats: shares as percentages, times with seconds, whole days as dates; header frozen, filter on.
    assert ws["D2"].number_format == "0.0%" and ws["E2"].number_format == "0.0%"
    assert ws["H2"].number_format == "yyyy-mm-dd hh:mm:ss" and ws["I2"].number_format == "yyyy-mm-dd"
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:K4"
    assert ws["A1"].font.b


def test_xlsx_headers_and_codes_in_english() -> None:
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(frame(), lang="en"))).active
    assert [c.value for c in ws[1]][:4] == ["Grid id", "Grid", "Occupied households", "Coverage"]
    assert ws["J2"].value == "After 15:30" and ws["K2"].value == "Elderly, alone、Very old"
    assert ws["B3"].value == "'" + HOSTILE[0]


def test_csv_read_back() -> None:
    data = to_csv_bytes(frame(), lang="zh")
    assert data.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 only with the byte-order mark
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["网格编号", "网格", "在住户数", "覆盖率"]
    assert rows[1] == [
        "G0001",
        "曹杨一村第3网格",
        "120",
        "0.8125",
        "-0.05",
        "-2",
        "True",
        "2026-11-23 14:05:09",
        "2026-03-31",
        "15:30后走访",
        "独居老人、高龄",
    ]
    assert rows[2][1] == "'" + HOSTILE[0] and rows[2][3] == "" and rows[2][7] == ""
    text_cells = [cell for row in rows[1:] for cell in (row[1], row[9])]
    assert not any(c.startswith(FORMULA_STARTS) for c in text_cells)


def test_every_hostile_start_is_neutralised_in_both_formats() -> None:
    f = pd.DataFrame({"note": HOSTILE, "n": range(len(HOSTILE))})
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(f))).active
    # (XML reads a carriage return back as a line feed.)
    expected = ["'" + h.replace("\r", "\n") for h in HOSTILE]
    assert [ws.cell(row=r, column=1).value for r in range(2, 2 + len(HOSTILE))] == expected
    got = list(csv.reader(io.StringIO(to_csv_bytes(f).decode("utf-8-sig"), newline="")))
    assert [r[0] for r in got[1:]] == ["'" + h for h in HOSTILE]


def test_write_export_is_atomic_and_checks_its_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = write_export({"a": frame()}, tmp_path / "list.xlsx")
    assert openpyxl.load_workbook(out).sheetnames == ["a"]
    assert (
        write_export(frame(), tmp_path / "list.csv", lang="en")
        .read_bytes()
        .startswith(b"\xef\xbb\xbfGrid id")
    )
    with pytest.raises(ValueError, match="holds one table"):
        write_export({"a": frame(), "b": frame()}, tmp_path / "two.csv")
    with pytest.raises(ValueError, match=r"\.xlsx or \.csv"):
        write_export(frame(), tmp_path / "list.pdf")
    with pytest.raises(ValueError, match="does not exist"):
        write_export(frame(), tmp_path / "missing" / "list.xlsx")

    # A failure while writing leaves the old file as it was and no temporary file behind.
    target = tmp_path / "keep.csv"
    target.write_bytes(b"old")

    def boom(*_a: object, **_k: object) -> bytes:
        raise OSError("disk full")

    real_replace = writers.os.replace
    monkeypatch.setattr(writers.os, "replace", lambda *_a: boom())
    with pytest.raises(OSError, match="disk full"):
        write_export(frame(), target)
    monkeypatch.setattr(writers.os, "replace", real_replace)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv", "list.csv", "list.xlsx"]


def test_ten_thousand_rows_export_whole(tmp_path: Path) -> None:
    n = 10_000
    big = pd.DataFrame(
        {
            "household_id": [f"H{i:07d}" for i in range(n)],
            "head_name": ["王*华"] * n,
            "coverage": np.linspace(0, 1, n),
            "visited_at": pd.Timestamp("2026-11-26 14:00") + pd.to_timedelta(np.arange(n), unit="s"),
        }
    )
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(big)), read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == n + 1 and rows[-1][0] == "H0009999" and rows[-1][2] == 1.0


# --------------------------------------------------------------- the command

AS_OF = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("export") / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=5, as_of=AS_OF)
    return str(path)


def test_weekly_check_command_writes_every_list_to_excel(tiny_db: str, tmp_path: Path) -> None:
    out = tmp_path / "weekly.xlsx"
    assert main(["weekly-check", "--db", tiny_db, "--week-ending", "2026-11-26", "--out", str(out)]) == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["grids", "workers", "anomalies", "spot-checks"]
    grids = wb["grids"]
    assert [c.value for c in grids[1]][:3] == ["网格编号", "网格", "居委会编号"]
    assert grids.max_row == 13  # 12 grids and the header
    assert wb["spot-checks"]["A1"].value == "走访编号"


def test_blind_spots_command_csv_and_errors(tiny_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["blind-spots", "--db", tiny_db, "--below", "60%", "--lang", "en"]) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines[0].startswith("Blind spot,Grids,Grid ids,Grid names,Committees,")
    assert "blind spot(s)" in out.err
    assert main(["blind-spots", "--db", tiny_db, "--format", "xlsx"]) == 1
    assert "Excel needs a file" in capsys.readouterr().err
    assert main(["ledger", "--db", tiny_db, "--worker", "W9999"]) == 1
    assert "no worker with id 'W9999'" in capsys.readouterr().err


def test_column_labels_are_unique_in_each_language() -> None:
    # Two columns of one list must never show the same header (st.dataframe refuses duplicates).
    for k in (0, 1):
        labels = [pair[k] for pair in export.COLUMN_LABELS.values()]
        assert len(labels) == len(set(labels))
