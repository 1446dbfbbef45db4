"""The audit trail: logging, reading, append-only guards in the database, pruning, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from geo.cli import main
from geo.settings import Settings
from geo.store import Store, audit, records

T = dt.datetime(2024, 6, 28, 9, 0)
DAY = dt.timedelta(days=1)


def _open(request: pytest.FixtureRequest, tmp_path: Path, **settings: object) -> Store:
    db = str(tmp_path / "a.gpkg") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    store = Store(db, create=True, settings=Settings(**settings))  # type: ignore[arg-type]
    store.create_schema()
    return store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = _open(request, tmp_path, audit_keep_days=30)
    yield s
    s.close()


def _fill(store: Store) -> None:
    """Five rows: 40, 31, 30 days ago, yesterday and now (T)."""
    for who, action, at in (
        ("wang", "login", T - 40 * DAY),
        ("li", "unmask", T - 31 * DAY),
        ("wang", "view_household", T - 30 * DAY),
        ("zhao", "export", T - DAY),
        ("wang", "unmask", T),
    ):
        audit.log(store, who=who, role="grid", action=action, target=f"x:{who}", at=at)


def test_rows_are_read_newest_first_and_filtered(store: Store) -> None:
    version = store.versions()
    _fill(store)
    assert store.versions() == version  # the log is no data a cache depends on
    frame = audit.read(store)
    assert list(frame.columns) == list(audit.COLUMNS)
    assert frame["action"].tolist() == ["unmask", "export", "view_household", "unmask", "login"]
    assert frame["at"].tolist() == [T, T - DAY, T - 30 * DAY, T - 31 * DAY, T - 40 * DAY]
    assert frame["audit_id"].tolist() == [5, 4, 3, 2, 1]
    assert audit.read(store, who="wang")["action"].tolist() == ["unmask", "view_household", "login"]
    assert audit.read(store, action="unmask")["who"].tolist() == ["wang", "li"]
    assert audit.read(store, limit=2)["audit_id"].tolist() == [5, 4]
    # since: from that moment (a date: its midnight); until: a date includes the whole day.
    assert audit.read(store, since=(T - DAY).date())["audit_id"].tolist() == [5, 4]
    assert audit.read(store, since=T - DAY + dt.timedelta(seconds=1))["audit_id"].tolist() == [5]
    assert audit.read(store, until=(T - 31 * DAY).date())["audit_id"].tolist() == [2, 1]
    between = audit.read(store, since=(T - 31 * DAY).date(), until=(T - DAY).date())
    assert between["audit_id"].tolist() == [4, 3, 2]
    # The foundation's names still work: oldest first.
    assert records.read_audit(store)["audit_id"].tolist() == [1, 2, 3, 4, 5]
    assert records.AUDIT is audit.AUDIT


def test_an_unknown_action_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown audit action 'unmaks'"):
        audit.log(store, who="u", role="grid", action="unmaks", target="household:H1")
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.read(store, action="nope")
    assert audit.read(store).empty


def test_reading_before_anything_was_logged_gives_an_empty_frame(tmp_path: Path) -> None:
    with Store(str(tmp_path / "e.gpkg"), create=True) as s:
        s.create_schema()
        frame = audit.read(s)
    assert frame.empty and list(frame.columns) == list(audit.COLUMNS)


def _refused(store: Store, sql: str) -> str:
    with pytest.raises(sa.exc.DBAPIError) as info, store.engine.begin() as conn:
        conn.exec_driver_sql(sql)
    return str(info.value)


def test_the_database_refuses_update_and_delete(store: Store) -> None:
    _fill(store)
    before = audit.read(store)
    assert "append-only" in _refused(store, "UPDATE audit SET who = 'nobody' WHERE audit_id = 5")
    assert "append-only" in _refused(store, "UPDATE audit SET at = at")
    # Deleting is refused too, even for rows old enough to prune: only prune() may remove them.
    assert "append-only" in _refused(store, "DELETE FROM audit WHERE audit_id = 5")
    assert "append-only" in _refused(store, "DELETE FROM audit WHERE audit_id = 1")
    assert "append-only" in _refused(store, "DELETE FROM audit")
    if store.backend == "postgresql":
        assert "append-only" in _refused(store, "TRUNCATE audit")
    pd.testing.assert_frame_equal(audit.read(store), before)


def test_prune_deletes_only_rows_past_retention_and_logs_itself(store: Store) -> None:
    _fill(store)
    # Settings say 30 days: rows 40 and 31 days old go; 30 days old (the cutoff itself) stays.
    assert audit.prune(store, now=T, by="cli:ops") == 2
    frame = audit.read(store)
    assert frame["audit_id"].tolist() == [6, 5, 4, 3]
    row = frame.iloc[0]
    assert row[["who", "role", "action", "target"]].tolist() == ["cli:ops", "cli", "audit_prune", "audit"]
    assert row["detail"] == "deleted 2 row(s) before 2024-05-29 09:00:00 (kept 30 days)"
    assert row["at"] == T
    # The cutoff is cleared again: deleting outside prune stays refused.
    assert "append-only" in _refused(store, "DELETE FROM audit WHERE audit_id = 3")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT cutoff FROM audit_retention WHERE id = 1").scalar() is None
    # An explicit keep_days overrides the setting; nothing to do is still logged.
    assert audit.prune(store, keep_days=1, now=T) == 1  # 30 days old; 1 day old is the cutoff itself
    assert audit.prune(store, keep_days=1, now=T) == 0
    actions = ["audit_prune", "audit_prune", "audit_prune", "unmask", "export"]
    assert audit.read(store)["action"].tolist() == actions
    with pytest.raises(ValueError, match="at least 1"):
        audit.prune(store, keep_days=0, now=T)


def test_prune_default_comes_from_the_settings(tmp_path: Path) -> None:
    with Store(str(tmp_path / "d.gpkg"), create=True) as s:
        s.create_schema()
        audit.log(s, who="a", role="grid", action="login", target="user:a", at=T - 1096 * DAY)
        audit.log(s, who="b", role="grid", action="login", target="user:b", at=T - 1094 * DAY)
        assert s.settings.audit_keep_days == 1095
        assert audit.prune(s, now=T) == 1
        assert audit.read(s)["who"].tolist() == ["cli", "b"]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_an_audit_table_from_before_the_guards_gets_them(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = str(tmp_path / "old.gpkg") if backend == "sqlite" else request.getfixturevalue("pg_url")
    with Store(db, create=True) as s:
        s.create_schema()
        # As the foundation's records.py created it: no triggers.
        audit.AUDIT.create(s.engine)
        with s.engine.begin() as conn:
            row = {"at": audit._bind(s, T), "who": "old", "role": "grid", "action": "unmask",
                   "target": "household:H1", "detail": ""}  # fmt: skip
            conn.execute(audit.AUDIT.insert().values(**row))
    with Store(db) as s:  # a new process: the first log adds the guards
        audit.log(s, who="new", role="grid", action="unmask", target="household:H2", at=T)
        assert "append-only" in _refused(s, "UPDATE audit SET who = 'x'")
        assert "append-only" in _refused(s, "DELETE FROM audit")
        assert audit.read(s)["who"].tolist() == ["new", "old"]


def test_writes_commit_with_their_audit_row_or_not_at_all(store: Store) -> None:
    """audit.insert joins the caller's transaction: a rollback takes the row with it."""
    with pytest.raises(RuntimeError), store.engine.connect() as conn:
        conn.execution_options(sibai_write=True)
        with conn.begin():
            audit.insert(store, conn, who="u", role="grid", action="export", target="file:x.csv", at=T)
            raise RuntimeError("the export failed")
    assert audit.read(store).empty
    # The table created inside the rolled-back transaction is gone too; the next log creates it again.
    assert audit.log(store, who="u", role="grid", action="export", target="file:y.csv", at=T) == 1
    assert audit.read(store)["target"].tolist() == ["file:y.csv"]


# ----------------------------------------------------------------------- CLI


def test_cli_lists_exports_and_prunes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "c.gpkg")
    with Store(db, create=True) as s:
        s.create_schema()
        _fill(s)
        audit.log(s, who="=cmd()", role="grid", action="login", target="user:x", at=T)
    assert main(["audit", "list", "--db", db, "--action", "unmask", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    got = [(r["audit_id"], r["who"], r["at"]) for r in rows]
    assert got == [(5, "wang", "2024-06-28 09:00:00"), (2, "li", "2024-05-28 09:00:00")]
    assert main(["audit", "list", "--db", db, "--since", "2024-06-27"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "audit_id,at,who,role,action,target,detail"
    # A spreadsheet would run "=cmd()": the CSV neutralises it.
    assert out[1:] == ["6,2024-06-28 09:00:00,'=cmd(),grid,login,user:x,",
                       "5,2024-06-28 09:00:00,wang,grid,unmask,x:wang,",
                       "4,2024-06-27 09:00:00,zhao,grid,export,x:zhao,"]  # fmt: skip

    xlsx = tmp_path / "audit.xlsx"
    assert main(["audit", "export", str(xlsx), "--db", db, "--lang", "en"]) == 0
    assert capsys.readouterr().out == f"wrote 6 audit row(s) to {xlsx}\n"
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet is not None and sheet.max_row == 7  # header + 6 rows
    with Store(db) as s:
        last = audit.read(s, limit=1).iloc[0]
    assert (last["action"], last["target"], last["detail"]) == ("audit_export", "file:audit.xlsx", "6 row(s)")
    assert last["who"].startswith("cli")

    assert main(["audit", "prune", "--db", db, "--keep-days", "1"]) == 0  # all but the export row (now)
    assert capsys.readouterr().out.startswith("deleted 6 audit row(s) older than 1 days")
    assert main(["audit", "prune", "--db", db, "--keep-days", "0"]) == 1
    assert capsys.readouterr().err == "sibai audit: error: --keep-days must be at least 1, got 0\n"
    assert main(["audit", "export", str(tmp_path / "a.txt"), "--db", db]) == 1
    assert "use a .xlsx or .csv file" in capsys.readouterr().err


@pytest.mark.postgres
def test_a_restricted_application_role_logs_but_cannot_tamper(pg_url: str) -> None:
    """The deployment docs/security.md recommends: the app may only SELECT and INSERT the trail."""
    with Store(pg_url) as owner:
        owner.create_schema()
        audit.log(
            owner, who="owner", role="cli", action="import", target="file:x.csv", at=T
        )  # creates guards
        app_role = f"sibai_app_{uuid.uuid4().hex[:10]}"
        with owner.engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE ROLE {app_role} LOGIN")
            conn.exec_driver_sql(f"GRANT SELECT, INSERT ON audit TO {app_role}")
            conn.exec_driver_sql(f"GRANT USAGE ON SEQUENCE audit_audit_id_seq TO {app_role}")
            conn.exec_driver_sql(f"GRANT SELECT ON audit_retention TO {app_role}")
        try:
            with Store(pg_url.replace("://postgres@", f"://{app_role}@")) as app:
                assert (
                    audit.log(app, who="wang", role="grid", action="unmask", target="household:H1", at=T) == 2
                )
                assert audit.read(app)["who"].tolist() == ["wang", "owner"]
                assert "permission denied" in _refused(app, "DELETE FROM audit")
                assert "permission denied" in _refused(app, "UPDATE audit_retention SET cutoff = now()")
        finally:
            with owner.engine.begin() as conn:
                conn.exec_driver_sql(f"DROP OWNED BY {app_role}")
                conn.exec_driver_sql(f"DROP ROLE {app_role}")
