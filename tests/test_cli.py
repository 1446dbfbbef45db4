"""The ``sibai`` command: demo, coverage, check; and bad input that writes nothing.

Commands run in-process through :func:`geo.cli.main`; one run goes through the
installed ``sibai`` console script in a subprocess, to prove it exists.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from frames import coverage_inputs

from geo.cli import main
from geo.coverage import coverage_by_area
from geo.store import open_store
from geo.synth import build_district

AS_OF = "2024-06-30"
SEED = 11
PERIOD = ["--from", "2024-01-01", "--to", "2024-06-30"]


def sibai_executable() -> str:
    """The ``sibai`` console script of this Python's environment."""
    found = shutil.which("sibai", path=os.path.dirname(sys.executable)) or shutil.which("sibai")
    assert found, "the sibai console script is not installed (pip install -e .)"
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The tiny demo district, built once by the installed ``sibai`` command."""
    path = tmp_path_factory.mktemp("cli") / "putuo.gpkg"
    args = ["demo", "--scale", "tiny", "--seed", str(SEED), "--as-of", AS_OF, "--db", str(path)]
    proc = subprocess.run(
        [sibai_executable(), *args], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    assert proc.returncode == 0, proc.stderr
    return path, proc


@pytest.fixture(scope="module")
def reference() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, object]:
    """Coverage inputs computed from the generator's frames, without any store."""
    return coverage_inputs(build_district(scale="tiny", seed=SEED, as_of=dt.date.fromisoformat(AS_OF)))


def copy_db(src: Path, dst_dir: Path) -> Path:
    dst = dst_dir / src.name
    shutil.copy(src, dst)  # demo checkpoints the WAL, so the file alone is the database
    return dst


def test_console_script_builds_the_demo_with_progress(demo) -> None:
    path, proc = demo
    assert proc.stdout.startswith(
        f"built the tiny synthetic district into {path}: streets 2, committees 4, grids 12"
    )
    assert "100%" in proc.stderr  # the progress bar, on stderr
    with open_store(str(path)) as store:
        assert store.meta() | {"schema_version": "1"} == {
            "schema_version": "1",
            "as_of": AS_OF,
            "scale": "tiny",
            "seed": str(SEED),
            "source": "synthetic",
        }
        assert store.counts()["grids"] == 12


def test_check_passes_on_the_demo(demo, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = demo
    assert main(["check", "--db", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "all checks passed"
    assert len(out) == 24  # 12 references, 4 layers, 7 consistency checks, the verdict
    assert all(line.startswith("ok ") and line.endswith(" 0") for line in out[:-1])


@pytest.mark.parametrize("level", ["grid", "committee", "street", "district", "building"])
def test_coverage_csv_equals_the_engine(
    demo, reference, level: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = demo
    assert main(["coverage", "--db", str(path), *PERIOD, "--level", level]) == 0
    out = capsys.readouterr().out
    got = pd.read_csv(io.StringIO(out), dtype={"id": str}, keep_default_na=False, na_values=[""])
    assert list(got.columns[:5]) == ["id", "households", "visited", "coverage", "residents"]
    assert {"open_issues", "overdue_issues", "residents_covered"} <= set(got.columns)
    hh, visits, issues, areas = reference
    ref = coverage_by_area(
        hh, visits, issues, areas, start=dt.date(2024, 1, 1), end=dt.date(2024, 6, 30), level=level
    ).reset_index()
    assert got["id"].tolist() == ref[f"{level}_id"].tolist()
    for col in ("households", "visited", "residents", "residents_covered", "open_issues", "overdue_issues"):
        assert got[col].tolist() == ref[col].tolist(), col
    # Printed to four decimals.
    np.testing.assert_allclose(got["coverage"], ref["coverage"], rtol=0, atol=5e-5)
    assert got["coverage"].isna().tolist() == ref["coverage"].isna().tolist()


def test_coverage_json_parses_and_equals_the_engine(
    demo, reference, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = demo
    assert main(["coverage", "--db", str(path), *PERIOD, "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    hh, visits, issues, areas = reference
    ref = coverage_by_area(hh, visits, issues, areas, start=dt.date(2024, 1, 1), end=dt.date(2024, 6, 30))
    assert [r["id"] for r in records] == ref.index.tolist()
    for r in records:
        row = ref.loc[r["id"]]
        assert r["households"] == row["households"] and r["visited"] == row["visited"]
        assert r["open_issues"] == row["open_issues"]
        assert r["coverage"] == row["coverage"]  # full precision in JSON


def test_coverage_json_writes_null_for_no_households(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A period before the programme still has households: coverage 0, not null...
    path = tmp_path / "t.gpkg"
    assert main(["demo", "--quiet", "--scale", "tiny", "--as-of", AS_OF, "--db", str(path)]) == 0
    capsys.readouterr()
    assert (
        main(
            ["coverage", "--db", str(path), "--from", "2022-01-01", "--to", "2022-12-31", "--format", "json"]
        )
        == 0
    )
    assert {r["coverage"] for r in json.loads(capsys.readouterr().out)} == {0.0}
    # ...while a grid whose households are all vacant has none: null.
    with sqlite3.connect(path) as raw:
        raw.execute(
            "UPDATE households SET occupied = 0, residents = 0 WHERE building_id IN "
            "(SELECT building_id FROM buildings WHERE grid_id = 'G0001')"
        )
    assert main(["coverage", "--db", str(path), *PERIOD, "--format", "json"]) == 0
    by_id = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert by_id["G0001"]["coverage"] is None
    assert by_id["G0001"]["households"] == 0
    assert all(r["coverage"] is not None for k, r in by_id.items() if k != "G0001")


# -------------------------------------------------------------------- bad input


def run_bad(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["coverage", "--db", "mysql://root@localhost/putuo", *PERIOD], "unknown database scheme 'mysql'"),
        (
            ["demo", "--quiet", "--scale", "tiny", "--db", "mysql://root@localhost/putuo"],
            "unknown database scheme",
        ),
        (["coverage", "--db", "{tmp}/missing.gpkg", *PERIOD], "database file not found: {tmp}/missing.gpkg"),
        (["check", "--db", "{tmp}/missing.gpkg"], "database file not found: {tmp}/missing.gpkg"),
        (["check", "--db", "{tmp}"], "database path is a folder, not a file: {tmp}"),
        (["coverage", "--db", "postgresql://postgres@127.0.0.1:1/putuo", *PERIOD], "cannot reach PostgreSQL"),
        (
            ["demo", "--quiet", "--scale", "tiny", "--db", "postgresql://postgres@127.0.0.1:1/putuo"],
            "cannot reach",
        ),
        (
            ["coverage", "--db", "{demo}", "--from", "2024-06-30", "--to", "2024-01-01"],
            "the period ends (2024-01-01) before it starts (2024-06-30)",
        ),
        (
            ["demo", "--quiet", "--scale", "tiny", "--as-of", "2022-12-31", "--db", "{tmp}/new.gpkg"],
            "--as-of 2022-12-31 is before the programme's start 2023-01-01",
        ),
        (["coverage", "--db", "{tmp}/empty.gpkg", *PERIOD], "{tmp}/empty.gpkg holds no district"),
    ],
    ids=[
        "scheme-coverage",
        "scheme-demo",
        "missing-coverage",
        "missing-check",
        "folder",
        "unreachable-coverage",
        "unreachable-demo",
        "period-reversed",
        "as-of-too-early",
        "no-district",
    ],
)
def test_bad_input_gives_one_line_and_writes_nothing(
    demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv, message
) -> None:
    monkeypatch.chdir(tmp_path)  # a stray relative file would show up here
    sqlite3.connect(tmp_path / "empty.gpkg").close()  # a database file without a district
    demo_path, _ = demo
    before = demo_path.stat().st_mtime_ns, demo_path.stat().st_size
    listing = sorted(p.name for p in tmp_path.iterdir())
    fill = {"tmp": str(tmp_path), "demo": str(demo_path)}
    argv = [a.format(**fill) for a in argv]
    code, out, err = run_bad(argv, capsys)
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"sibai {argv[0]}: error: ")
    assert message.format(**fill) in err
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # nothing created
    assert (demo_path.stat().st_mtime_ns, demo_path.stat().st_size) == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["coverage", "--db", "x.gpkg", *PERIOD, "--level", "ward"],
            "argument --level: invalid choice: 'ward'",
        ),
        (
            ["coverage", "--db", "x.gpkg", "--from", "2024-13-01", "--to", "2024-12-31"],
            "argument --from: '2024-13-01' is not a date; expected YYYY-MM-DD",
        ),
        (
            ["coverage", "--db", "x.gpkg", "--from", "yesterday", "--to", "2024-12-31"],
            "'yesterday' is not a date",
        ),
        (["demo", "--db", "x.gpkg", "--scale", "huge"], "argument --scale: invalid choice: 'huge'"),
        (
            ["coverage", "--db", "x.gpkg", "--to", "2024-12-31"],
            "the following arguments are required: --from",
        ),
        (["report"], "invalid choice: 'report'"),
    ],
    ids=["level", "month-13", "not-a-date", "scale", "no-from", "command"],
)
def test_usage_errors_exit_2_and_write_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv, message
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_bad(argv, capsys)
    assert code == 2
    assert out == ""
    assert err.splitlines()[-1].startswith("sibai")  # argparse: usage, then the one line naming the problem
    assert message in err.splitlines()[-1]
    assert list(tmp_path.iterdir()) == []


def test_demo_into_a_locked_file_fails_and_keeps_the_district(
    demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = copy_db(demo[0], tmp_path)
    monkeypatch.setenv("SIBAI_BUSY_TIMEOUT_MS", "200")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        argv = ["demo", "--quiet", "--scale", "tiny", "--seed", "12", "--as-of", AS_OF, "--db", str(path)]
        code, out, err = run_bad(argv, capsys)
    finally:
        holder.rollback()
        holder.close()
    assert code == 1
    assert out == ""
    assert err == f"sibai demo: error: database file {path} is locked by another writer (waited 200 ms)\n"
    with open_store(str(path)) as store:
        assert store.meta()["seed"] == str(SEED)
        assert store.versions() == (1, 1)


def test_check_finds_a_planted_broken_reference(
    demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = copy_db(demo[0], tmp_path)
    with sqlite3.connect(path) as raw:  # foreign keys are off in a plain connection
        raw.execute(
            "INSERT INTO households (household_id, building_id, occupied, residents, tags) "
            "VALUES ('H9999999', 'B999999', 1, 2, '')"
        )
    assert main(["check", "--db", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    bad = [line for line in out if line.startswith("BAD")]
    assert len(bad) == 1
    assert bad[0].split() == ["BAD", "households.building_id", "→", "buildings", "1"]
    assert out[-1] == "1 check(s) found problems"


@pytest.mark.postgres
def test_the_cli_on_postgresql(pg_url: str, demo, capsys: pytest.CaptureFixture[str]) -> None:
    demo_args = ["demo", "--quiet", "--scale", "tiny", "--seed", str(SEED), "--as-of", AS_OF]
    assert main([*demo_args, "--db", pg_url]) == 0
    assert "built the tiny synthetic district" in capsys.readouterr().out
    assert main(["check", "--db", pg_url]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "all checks passed"
    # The same district gives the same coverage, byte for byte, on both backends.
    assert main(["coverage", "--db", pg_url, *PERIOD, "--level", "committee"]) == 0
    on_postgres = capsys.readouterr().out
    assert main(["coverage", "--db", str(demo[0]), *PERIOD, "--level", "committee"]) == 0
    assert capsys.readouterr().out == on_postgres
