"""The public summary: nothing personal in any output, small counts that cannot be worked out.

Known names, phones, rooms, notes, issue titles and a building name are seeded
into a tiny district, then every public output is scanned for them (and for
every household, building and worker id and every phone number of the
register): the exported files, the public page under AppTest, and the page as
a real browser receives it. The small-count rules are checked on hand-built
cases whose results are worked out in the comments, and on random
hierarchies against a linear-programming attacker.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit
from conftest import external_requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

from geo import public, site
from geo.cli import main as sibai
from geo.coverage import coverage_by_area
from geo.demo import install_demo
from geo.live import coverage_index_from_store, households_with_grid, read_areas
from geo.privacy import audit_suppression, suppress_linked, suppress_nested, suppress_small
from geo.store import Scope, gpkg, open_store

APP = str(Path(__file__).resolve().parents[1] / "app.py")
AS_OF = dt.date(2026, 11, 26)  # a Thursday: the public data is as of Sunday 22 November
SUNDAY = dt.date(2026, 11, 22)

SEEDS = {
    "name": ("欧阳泄露", "Leaky Zhangsan"),
    "phone": ("13912345678", "02162549876"),
    "unit": ("17-1703室", "Room-4242"),
    "note": ("泄露笔记王阿姨需助餐", "note-leak-ZQX"),
    "title": ("泄露诉求标题QWE",),
    "building": ("泄露路999弄77号",),
    "worker": ("社工泄露者",),
    "worker_phone": ("13700001111",),
}
SEEDED = tuple(v for values in SEEDS.values() for v in values)
# Tags, as stored and as staff screens show them ("disabled" alone is too common a word to look for).
TAG_CODES = ("alone_elderly", "very_old", "low_income", "small_children")
TAG_LABELS = ("独居老人", "高龄", "残疾", "低保")
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")


# --------------------------------------------------------------------------- fixtures


def _seed(path: Path) -> None:
    """Write the known personal values into rows that the public figures count."""
    con = sqlite3.connect(path)
    gpkg.add_sql_functions(con)  # the layers' R-tree triggers call ST_MinX & co.
    hh = [r[0] for r in con.execute("SELECT household_id FROM households WHERE occupied = 1 LIMIT 10")]
    for i, h in enumerate(hh):
        con.execute(
            "UPDATE households SET head_name = ?, phone = ?, unit = ?, tags = ? WHERE household_id = ?",
            (
                SEEDS["name"][i % 2],
                SEEDS["phone"][i % 2],
                SEEDS["unit"][i % 2],
                "alone_elderly,low_income",
                h,
            ),
        )
    met = [
        r[0]
        for r in con.execute(
            "SELECT visit_id FROM visits WHERE outcome = 'met' AND visited_at >= '2026-01-01' "
            "AND visited_at < '2026-11-23' ORDER BY visit_id LIMIT 40"
        )
    ]
    for i, v in enumerate(met):
        con.execute("UPDATE visits SET note = ? WHERE visit_id = ?", (SEEDS["note"][i % 2], v))
    con.execute(
        "UPDATE issues SET title = ? WHERE issue_id IN (SELECT issue_id FROM issues WHERE status = 'closed' "
        "AND closed_at >= '2026-01-01' AND closed_at < '2026-11-23' ORDER BY issue_id LIMIT 15)",
        SEEDS["title"],
    )
    con.execute("UPDATE buildings SET name = ? WHERE building_id = 'B000001'", SEEDS["building"])
    con.execute(
        "UPDATE workers SET name = ?, phone = ? WHERE worker_id = 'W0001'",
        (*SEEDS["worker"], *SEEDS["worker_phone"]),
    )
    con.commit()
    con.close()


@pytest.fixture(autouse=True)
def _fresh_app_caches() -> Iterator[None]:
    """The app caches its store and indexes per process: start afresh and leave nothing behind."""
    streamlit.cache_data.clear()
    streamlit.cache_resource.clear()
    yield
    streamlit.cache_data.clear()
    streamlit.cache_resource.clear()


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("public") / "tiny.gpkg"
    with open_store(str(path), create=True) as store:
        install_demo(store, scale="tiny", seed=7, as_of=AS_OF)
    _seed(path)
    return str(path)


@pytest.fixture(scope="module")
def personal(seeded_db: str) -> list[str]:
    """Every string that must never be published: the seeds, and ids and phones of the register."""
    with open_store(seeded_db) as store:
        hh = store.read_table("households", columns=["household_id", "phone"], scope=Scope.everything())
        buildings = store.read_table("buildings", columns=["building_id"], scope=Scope.everything())
        workers = store.read_table("workers", columns=["worker_id", "phone"], scope=Scope.everything())
    values = [*SEEDED, *TAG_CODES, *TAG_LABELS]
    values += hh["household_id"].tolist() + buildings["building_id"].tolist() + workers["worker_id"].tolist()
    values += [p for p in hh["phone"].tolist() + workers["phone"].tolist() if p]
    return sorted(set(values))


@pytest.fixture(scope="module")
def export(seeded_db: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "site"
    assert sibai(["export-public", str(out), "--db", seeded_db, "--quiet"]) == 0
    return out


def _hits(blob: bytes | str, values: Iterable[str]) -> list[str]:
    """Return the values found in ``blob`` (base64 data URIs, Leaflet's own code, are left out)."""
    text = blob.decode("utf-8", errors="ignore") if isinstance(blob, bytes) else blob
    text = _DATA_URI.sub("", text)
    return [v for v in values if v in text]


def _app(db: str, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    monkeypatch.setenv("SIBAI_DB", db)
    monkeypatch.setenv("SIBAI_TODAY", AS_OF.isoformat())  # figures are for the district's day
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page("pages/public.py")
    return at


def _page_bytes(at: AppTest) -> bytes:
    """Everything the page sends to a browser, as AppTest sees it: each element's protobuf."""
    blobs = [
        el.proto.SerializeToString()
        for part in (at.main, at.sidebar)
        for el in part
        if getattr(el, "proto", None) is not None
    ]
    return b"\n".join(blobs)


# ----------------------------------------------------------------- nothing personal


def test_the_scan_finds_what_was_seeded(seeded_db: str, personal: list[str]) -> None:
    # The positive control: the seeds are in the register, and the scanner finds them there.
    with open_store(seeded_db) as store:
        dump = "\n".join(
            store.read_table(name, scope=Scope.everything()).to_csv(index=False)
            for name in ("households", "visits", "issues", "workers")
        )
        dump += (
            store.read_layer("buildings", scope=Scope.everything())
            .drop(columns="geometry")
            .to_csv(index=False)
        )
    assert _hits(dump, SEEDED) == list(SEEDED)
    stored = [p for p in personal if p not in TAG_LABELS]  # the labels are the screens', not the register's
    assert _hits(dump, stored) == stored


def test_exported_files_hold_nothing_personal(export: Path, personal: list[str]) -> None:
    files = {p.relative_to(export).as_posix(): p.read_bytes() for p in export.rglob("*") if p.is_file()}
    assert {"index.html", "data/public.js", "data/public.json", "data/committees.csv"} <= set(files)
    for name, content in files.items():
        assert _hits(content, personal) == [], name
    assert site.external_urls(files) == []
    assert sum(len(c) for c in files.values()) < 1_500_000


def test_public_page_holds_nothing_personal(seeded_db: str, personal: list[str], monkeypatch) -> None:
    at = _app(seeded_db, monkeypatch)
    at.run()
    assert not at.exception
    assert at.title[0].value == "四百走访公示"
    blob = _page_bytes(at)
    assert b"SIBAI_PUBLIC" in blob  # the map (and its data) is part of what is scanned
    assert _hits(blob, personal) == []
    # The English page too.
    at = _app(seeded_db, monkeypatch, lang="en")
    at.run()
    assert at.title[0].value == "Sibai household visits: public summary"
    assert _hits(_page_bytes(at), personal) == []


def test_public_page_reads_no_household_rows(seeded_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from geo.coverage import CoverageIndex
    from geo.store import Store

    at = _app(seeded_db, monkeypatch)
    at.run()  # warms the app's shared caches (the coverage engine is built once per process)
    read: list[str] = []
    levels: list[str] = []
    real_read_table, real_read_layer, real_coverage = (
        Store.read_table,
        Store.read_layer,
        CoverageIndex.coverage,
    )

    def read_table(self, name, **kw):  # type: ignore[no-untyped-def]
        read.append(name)
        return real_read_table(self, name, **kw)

    def read_layer(self, name, **kw):  # type: ignore[no-untyped-def]
        read.append(name)
        return real_read_layer(self, name, **kw)

    def coverage(self, start, end, *, level="grid", now=None):  # type: ignore[no-untyped-def]
        levels.append(level)
        return real_coverage(self, start, end, level=level, now=now)

    monkeypatch.setattr(Store, "read_table", read_table)
    monkeypatch.setattr(Store, "read_layer", read_layer)
    monkeypatch.setattr(CoverageIndex, "coverage", coverage)
    at.run()
    assert not at.exception
    assert read == [] and levels == []  # the summary is cached until the data or the day changes
    streamlit.cache_data.clear()  # build it again, under watch
    at.run()
    assert not at.exception
    assert "issues" in read  # the page did run its query
    assert not {"households", "visits", "buildings", "workers"} & set(read)
    assert levels and set(levels) <= {"grid", "committee", "street", "district"}


def test_page_and_site_show_the_same_figures(seeded_db: str, export: Path, monkeypatch) -> None:
    published = json.loads((export / "data" / "public.json").read_text(encoding="utf-8"))
    # The page's figures come from the app's live index; the export's from an index of the
    # period's visits alone. One builder, the same data file.
    with open_store(seeded_db) as store:
        index, _ = coverage_index_from_store(store, scope=Scope.everything())
        page_summary = public.summary_from_store(store, index=index, today=AS_OF)
    assert page_summary.to_json() == published
    at = _app(seeded_db, monkeypatch)
    at.run()
    d = published["district"]
    assert [m.value for m in at.metric] == [
        f"{d['coverage']}%",
        f"{d['residents_visited']:,}",
        f"{d['visits']:,}",
        f"{d['solved']:,}",
    ]
    assert published["end"] == SUNDAY.isoformat()
    assert (
        at.main.caption[1].value
        == "数据截至 2026年11月22日（周日） · 统计范围：2026年1月1日 至 2026年11月22日"
    )
    streets = at.main.dataframe[1].value
    assert streets.iloc[:, 0].tolist() == published["streets"]["name"]
    assert streets.iloc[:, 2].tolist() == [
        "*" if v is None else f"{v:,}" for v in published["streets"]["residents_visited"]
    ]


@pytest.mark.browser
def test_public_page_in_the_browser_holds_nothing_personal(
    seeded_db: str, personal: list[str], page, streamlit_server
) -> None:
    base = streamlit_server(seeded_db)
    outside = external_requests(page)
    frames: list[bytes] = []

    def on_socket(ws) -> None:  # type: ignore[no-untyped-def]
        ws.on(
            "framereceived",
            lambda payload: frames.append(payload if isinstance(payload, bytes) else payload.encode()),
        )

    page.on("websocket", on_socket)
    page.goto(base + "/")  # the first session of a server starts at the app's entry page
    page.get_by_text("公示").first.wait_for(timeout=60_000)
    page.goto(base + "/public")
    page.get_by_role("heading", name="四百走访公示").wait_for(timeout=60_000)
    page.frame_locator("iframe").first.locator("body[data-ready='1']").wait_for(timeout=30_000)
    page.get_by_text("本页只有汇总数字").wait_for(timeout=30_000)
    time.sleep(0.5)
    html = page.content()
    html += "".join(f.content() for f in page.frames if f != page.main_frame)
    assert "SIBAI_PUBLIC" in html
    assert _hits(html, personal) == []
    received = b"\n".join(frames)
    with open_store(seeded_db) as store:
        committee = str(store.read_table("committees", scope=Scope.everything())["name"].iloc[-1])
    assert committee.encode() in received  # the tables' data did come through the socket
    assert _hits(received, personal) == []
    assert outside == []


# ----------------------------------------------------------------- small counts


def test_suppress_linked_hand_cases() -> None:
    # Lone unknown, then a small sum: 23 = 1 + 2 + 20, and 1 + 2 = 3 would be given away.
    assert suppress_linked([23, 1, 2, 20], [(0, [1, 2, 3])]).tolist() == [False, True, True, True]
    # Two lines sharing a cell: X = a + b, Y = b + c with a = 3. Hiding b (6) leaves Y's line
    # with one unknown and no positive cell, so the zero c is hidden rather than the total Y.
    got = suppress_linked([9, 3, 6, 6, 0], [(0, [1, 2]), (3, [2, 4])])
    assert got.tolist() == [False, True, True, False, True]
    # A parent with one child: Z = Q + R with R = 3 hides Q (12); P = Q then gives Q back,
    # and with no other child the parent's total P goes.
    got = suppress_linked([12, 12, 15, 3], [(0, [1]), (2, [1, 3])])
    assert got.tolist() == [True, True, False, True]
    # A missing cell is an unknown already: 35 - 20 gives only the sum of NaN and 3.
    got = suppress_linked([35, np.nan, 3, 20], [(0, [1, 2, 3])])
    assert got.tolist() == [False, False, True, False]
    # Zeros and counts of k or more are published; k = 1 hides nothing.
    assert suppress_linked([10, 0, 10], [(0, [1, 2])]).tolist() == [False, False, False]
    assert suppress_linked([4, 1, 3], [(0, [1, 2])], k=1).tolist() == [False, False, False]


def test_suppress_linked_also_hides_what_it_is_told() -> None:
    # 10 is not small, but stands for fewer than k of something: hidden, and its line protected.
    got = suppress_linked([30, 10, 20], [(0, [1, 2])], also_hide=[False, True, False])
    assert got.tolist() == [False, True, True]
    with pytest.raises(ValueError, match="also_hide has 2 cells, values 3"):
        suppress_linked([30, 10, 20], [(0, [1, 2])], also_hide=[False, True])


def test_people_of_few_households_are_hidden() -> None:
    case = _hand_case()
    # C1: 2 households met, 7 residents in them, 9 visits: counts of 5 or more, but of 2 households.
    case["counts"].loc["G1", ["visited", "residents_visited", "visits"]] = [2, 7, 9]
    s = public.public_summary(
        case["counts"], case["solved"], case["grids"], case["committees"], case["streets"],
        start=dt.date(2026, 1, 1), end=SUNDAY,
    )  # fmt: skip
    c = s.level("committee")
    assert np.isnan(c.loc["C1", "residents_visited"]) and np.isnan(c.loc["C1", "visits"])
    assert np.isnan(c.loc["C3", "residents_visited"])  # S1's total would otherwise give C1's 7 back
    assert c.loc["C2", "residents_visited"] == 40


def test_suppress_linked_errors() -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        suppress_linked([1], [], k=0)
    with pytest.raises(ValueError, match="out of range"):
        suppress_linked([1, 1], [(0, [2])])
    with pytest.raises(ValueError, match="does not add up: 10 != 9"):
        suppress_linked([10, 4, 5], [(0, [1, 2])])


def _nested(rows: list[tuple[str, str | None, int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["id", "parent", "a", "b", "total"]).set_index("id")


def test_suppress_nested_blocks_differencing_across_rows_and_levels() -> None:
    raw = _nested(
        [
            ("D", None, 19, 16, 35),
            ("S1", "D", 9, 6, 15),
            ("S2", "D", 10, 10, 20),
            ("C1", "S1", 2, 6, 8),
            ("C2", "S1", 7, 0, 7),
            ("C3", "S2", 10, 10, 20),
        ]
    )
    got = suppress_nested(raw, ["a", "b", "total"], parent="parent", totals={"total": ["a", "b"]})
    # C1.a = 2 is small. Its row (8 = 2 + 6) hides C1.b; the street's a (9 = 2 + 7) hides
    # C2.a; the street's b (6 = 6 + 0) has then one unknown and no positive cell left, so
    # C2.b (a zero) is hidden; C2's row (7 = a + b) now has two unknowns. Nothing else.
    nan = np.nan
    expected = raw.astype({"a": float, "b": float, "total": float})
    expected.loc["C1", ["a", "b"]] = nan
    expected.loc["C2", ["a", "b"]] = nan
    assert_frame_equal(got, expected)
    # The attacker's best: C1.a is between 1 and 7 (a + b = 8, the street's a is 9, ...), not below 5.
    audit = audit_suppression(raw, got, ["a", "b", "total"], parent="parent", totals={"total": ["a", "b"]})
    assert audit.set_index(["row", "column"])[["low", "high"]].to_dict("index") == {
        ("C1", "a"): {"low": 2.0, "high": 8.0},
        ("C1", "b"): {"low": 0.0, "high": 6.0},
        ("C2", "a"): {"low": 1.0, "high": 7.0},
        ("C2", "b"): {"low": 0.0, "high": 6.0},
    }
    assert not audit["disclosed"].any()
    # Row-by-row suppression alone (the existing rule) leaves C1.a open to the street's total.
    by_row = suppress_small(raw, ["a", "b"], total_column="total")
    leaky = audit_suppression(raw, by_row, ["a", "b", "total"], parent="parent", totals={"total": ["a", "b"]})
    assert leaky.set_index(["row", "column"]).loc[("C1", "a"), "disclosed"]


def test_suppress_nested_checks_its_input() -> None:
    raw = _nested([("S", None, 5, 5, 10), ("C1", "S", 5, 4, 9)])
    with pytest.raises(
        ValueError, match=r"row 'S', column 'b' is 5, but the cells it should add up sum to 4"
    ):
        suppress_nested(raw, ["a", "b", "total"], parent="parent")
    orphan = _nested([("C1", "S9", 5, 5, 10)])
    with pytest.raises(ValueError, match="parent 'S9', which is no row"):
        suppress_nested(orphan, ["a"], parent="parent")
    with pytest.raises(ValueError, match=r"totals name column\(s\) \['c'\]"):
        suppress_nested(
            orphan.assign(parent=None), ["a", "total"], parent="parent", totals={"total": ["a", "c"]}
        )
    with pytest.raises(ValueError, match="must not be negative"):
        suppress_nested(_nested([("C1", None, -1, 5, 4)]), ["a"], parent="parent")


@st.composite
def hierarchies(draw: st.DrawFn) -> tuple[pd.DataFrame, int]:
    """A district over 1-3 streets over 1-4 committees, counts a and b with their total, and k."""
    k = draw(st.integers(2, 6))
    cell = st.integers(0, 3 * k)
    rows = []
    streets = []
    for s in range(draw(st.integers(1, 3))):
        kids = [(f"C{s}{c}", draw(cell), draw(cell)) for c in range(draw(st.integers(1, 4)))]
        rows += [(cid, f"S{s}", a, b, a + b) for cid, a, b in kids]
        a, b = sum(x[1] for x in kids), sum(x[2] for x in kids)
        streets.append((f"S{s}", "D", a, b, a + b))
    a, b = sum(x[2] for x in streets), sum(x[3] for x in streets)
    return _nested([("D", None, a, b, a + b), *streets, *rows]), k


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hierarchies())
def test_suppress_nested_properties(case: tuple[pd.DataFrame, int]) -> None:
    raw, k = case
    cols = ["a", "b", "total"]
    got = suppress_nested(raw, cols, parent="parent", totals={"total": ["a", "b"]}, k=k)
    values, shown = raw[cols].astype(float), got[cols]
    # No small count is published, every published count is the true one, every small count is hidden.
    assert not ((shown > 0) & (shown < k)).any().any()
    assert ((shown == values) | shown.isna()).all().all()
    assert shown[(values > 0) & (values < k)].isna().all().all()
    # An attacker with every published figure and every sum cannot pin a hidden count below k.
    audit = audit_suppression(raw, got, cols, parent="parent", totals={"total": ["a", "b"]}, k=k)
    assert not audit["disclosed"].any(), audit[audit["disclosed"]]


def _hand_case() -> dict[str, pd.DataFrame]:
    """Two streets, four committees, one grid each (see the test below for the expected figures)."""
    counts = pd.DataFrame(
        {
            "households": [150, 500, 80, 1000],
            "residents": [300, 1100, 160, 2400],
            "visited": [60, 480, 20, 700],
            "residents_visited": [3, 40, 12, 100],
            "visits": [4, 50, 20, 150],
            "buildings": [3, 1, 2, 10],
        },
        index=pd.Index(["G1", "G2", "G3", "G4"], name="grid_id"),
    )
    solved_groups = {"G1": (2, 0, 6), "G2": (7, 5, 0), "G3": (0, 0, 0), "G4": (10, 10, 10)}
    rows = [
        (g, grp)
        for g, ns in solved_groups.items()
        for grp, n in zip(public.GROUPS, ns, strict=True)
        for _ in range(n)
    ]
    return {
        "counts": counts,
        "solved": pd.DataFrame(rows, columns=["grid_id", "group"]),
        "grids": pd.DataFrame(
            {
                "grid_id": ["G1", "G2", "G3", "G4"],
                "committee_id": ["C1", "C2", "C3", "C4"],
                "name": list("甲乙丙丁"),
            }
        ),
        "committees": pd.DataFrame(
            {
                "committee_id": ["C1", "C2", "C3", "C4"],
                "street_id": ["S1", "S1", "S1", "S2"],
                "name": list("一二三四"),
            }
        ),
        "streets": pd.DataFrame({"street_id": ["S1", "S2"], "name": ["东街道", "西街道"]}),
    }


def test_public_summary_hand_case() -> None:
    case = _hand_case()
    s = public.public_summary(
        case["counts"], case["solved"], case["grids"], case["committees"], case["streets"],
        start=dt.date(2026, 1, 1), end=SUNDAY, k=5,
    )  # fmt: skip
    cols = ["coverage", *public.COUNT_COLUMNS]
    got = s.areas.set_index("id")[cols]
    nan = np.nan
    # Raw (residents visited, visits, solved = housing + environment + community):
    #   C1 3, 4, 8 = 2 + 0 + 6    C2 40, 50, 12 = 7 + 5 + 0    C3 12, 20, 0    C4 100, 150, 30 = 10 + 10 + 10
    # Small: C1's 3 residents, 4 visits, 2 housing. Then, by the lines they sit on:
    #   C1's row (8 = 2 + 0 + 6) hides C1's 6 community;
    #   S1's residents (55 = 3 + 40 + 12) hides C3's 12, S1's visits (74 = 4 + 50 + 20) C3's 20;
    #   S1's housing (9 = 2 + 7 + 0) hides C2's 7; S1's community (6 = 6 + 0 + 0) has one unknown and
    #   no positive cell left, so C2's 0 goes. Every line then has two unknowns or none.
    # Published counts are rounded to 5 (halves up): 8 -> 10, 12 -> 10, 74 -> 75, 9 -> 10, 6 -> 5, ...
    # Coverage is visited / households, rounded down, for 100 households or more:
    #   C1 60/150 = 40 %, C2 480/500 = 96 %, C3 has 80 households (none), C4 70 %,
    #   S1 560/730 = 76.7 % -> 76, S2 70 %, district 1,260/1,730 = 72.8 % -> 72.
    expected = pd.DataFrame(
        {
            "coverage": [72.0, 76.0, 70.0, 40.0, 96.0, nan, 70.0],
            "residents_visited": [155.0, 55.0, 100.0, nan, 40.0, nan, 100.0],
            "visits": [225.0, 75.0, 150.0, nan, 50.0, nan, 150.0],
            "solved": [50.0, 20.0, 30.0, 10.0, 10.0, 0.0, 30.0],
            "solved_housing": [20.0, 10.0, 10.0, nan, nan, 0.0, 10.0],
            "solved_environment": [15.0, 5.0, 10.0, 0.0, 5.0, 0.0, 10.0],
            "solved_community": [15.0, 5.0, 10.0, nan, nan, 0.0, 10.0],
        },
        index=pd.Index(["district", "S1", "S2", "C1", "C2", "C3", "C4"], name="id"),
    )
    assert_frame_equal(got, expected)
    assert s.areas["cls"].tolist() == [1, 2, 1, 0, 3, -1, 1]
    # Grids: a class only, and only with 100+ households in 2+ buildings
    # (G2 is one building, G3 has 80 households).
    assert s.grids[["grid_id", "cls"]].values.tolist() == [["G1", 0], ["G2", -1], ["G3", -1], ["G4", 1]]
    data = s.to_json()
    assert data["committees"]["residents_visited"] == [None, 40, None, 100]
    assert data["committees"]["street"] == [0, 0, 0, 1]
    assert data["district"]["coverage"] == 72
    # What each area publishes: no household count, nothing else.
    published = {"id", "name", "coverage", "cls", *public.COUNT_COLUMNS}
    assert set(data["streets"]) == published
    assert set(data["committees"]) == published | {"street"}
    assert set(data["district"]) == published - {"id"}
    assert set(data["grids"]) == {"id", "cls"}


def test_public_summary_k_and_base() -> None:
    case = _hand_case()
    s = public.public_summary(
        case["counts"], case["solved"], case["grids"], case["committees"], case["streets"],
        start=dt.date(2026, 1, 1), end=SUNDAY, k=1, base=1,
    )  # fmt: skip
    # k = 1 hides nothing and base = 1 rounds nothing: the raw sums come back.
    assert s.level("committee")["residents_visited"].tolist() == [3.0, 40.0, 12.0, 100.0]
    assert s.level("district")["visits"].tolist() == [224.0]
    with pytest.raises(ValueError, match=r"unknown group\(s\) \['parking'\]"):
        public.public_summary(
            case["counts"], pd.DataFrame({"grid_id": ["G1"], "group": ["parking"]}), case["grids"],
            case["committees"], case["streets"], start=dt.date(2026, 1, 1), end=SUNDAY,
        )  # fmt: skip


def test_coarse_categories_cover_the_synthetic_ones() -> None:
    from geo.synth import CATEGORIES

    groups = dict(
        zip(
            [c for c, _ in CATEGORIES],
            public.coarse_category(pd.Series([c for c, _ in CATEGORIES])),
            strict=True,
        )
    )
    assert groups == {
        "加装电梯": "housing",
        "物业管理": "housing",
        "停车难": "environment",
        "消防安全与楼道堆物": "environment",
        "养老服务": "community",
        "儿童游乐场地": "community",
        "环境卫生与垃圾分类": "environment",
        "噪音扰民": "environment",
        "房屋漏水与维修": "housing",
        "绿化修剪": "environment",
        "就医与健康": "community",
        "就业与帮困": "community",
        "邻里纠纷": "community",
        "水电燃气": "housing",
    }


@pytest.mark.parametrize(
    ("today", "start", "end"),
    [
        (dt.date(2026, 11, 26), dt.date(2026, 1, 1), dt.date(2026, 11, 22)),  # Thursday
        (dt.date(2026, 11, 23), dt.date(2026, 1, 1), dt.date(2026, 11, 22)),  # Monday: last week is complete
        (dt.date(2026, 11, 22), dt.date(2026, 1, 1), dt.date(2026, 11, 15)),  # Sunday: this week is not
        (dt.date(2027, 1, 3), dt.date(2026, 1, 1), dt.date(2026, 12, 27)),  # the Sunday before is last year's
        (dt.date(2027, 1, 4), dt.date(2027, 1, 1), dt.date(2027, 1, 3)),
    ],
)
def test_reporting_period(today: dt.date, start: dt.date, end: dt.date) -> None:
    assert public.reporting_period(today) == (start, end)


# ----------------------------------------------------------------- counts from the store


def test_grid_counts_agree_with_the_reference_and_between_indexes(seeded_db: str) -> None:
    start, end = dt.date(2026, 1, 1), SUNDAY
    with open_store(seeded_db) as store:
        live, _ = coverage_index_from_store(store, scope=Scope.everything())
        period = public._period_index(store, start=start, end=end)
        households = households_with_grid(store, scope=Scope.everything())
        visits = store.read_table(
            "visits", columns=["household_id", "visited_at", "outcome"], scope=Scope.everything()
        )
        areas = read_areas(store)
    from_live = public.grid_counts(live, start=start, end=end)
    assert_frame_equal(public.grid_counts(period, start=start, end=end), from_live)
    reference = coverage_by_area(households, visits, None, areas, start=start, end=end)
    assert from_live["households"].tolist() == reference["households"].tolist()
    assert from_live["visited"].tolist() == reference["visited"].tolist()
    assert from_live["residents_visited"].tolist() == reference["residents_covered"].tolist()
    # Visits: met visits in the period, counted at each household's grid.
    met = visits[
        (visits["outcome"] == "met")
        & (visits["visited_at"] >= "2026-01-01")
        & (visits["visited_at"] < "2026-11-23")
    ]
    per_grid = met["household_id"].map(households.set_index("household_id")["grid_id"]).value_counts()
    assert from_live["visits"].tolist() == per_grid.reindex(from_live.index, fill_value=0).tolist()
    buildings = households[households["occupied"] == 1].groupby("grid_id")["building_id"].nunique()
    assert from_live["buildings"].tolist() == buildings.reindex(from_live.index, fill_value=0).tolist()


@pytest.mark.postgres
def test_the_same_summary_from_postgis(seeded_db: str, pg_url: str) -> None:
    with open_store(pg_url, create=True) as store:
        install_demo(store, scale="tiny", seed=7, as_of=AS_OF)
        from_pg = public.summary_from_store(store).to_json()
    with open_store(seeded_db) as store:
        from_sqlite = public.summary_from_store(store).to_json()
    assert from_pg == from_sqlite


def test_solved_issues_count_only_issues_closed_in_the_period(seeded_db: str) -> None:
    with open_store(seeded_db) as store:
        issues = store.read_table("issues", scope=Scope.everything())
        summary = public.summary_from_store(store, today=AS_OF)
    closed = issues[
        (issues["status"] == "closed")
        & (issues["closed_at"] >= "2026-01-01")
        & (issues["closed_at"] < "2026-11-23")
    ]
    groups = public.coarse_category(closed["category"]).value_counts()
    d = summary.district
    # District figures are large, so none is hidden; each is rounded to the nearest 5, halves up.
    assert d["solved"] == np.floor(len(closed) / 5 + 0.5) * 5
    for g in public.GROUPS:
        assert d[f"solved_{g}"] == np.floor(groups.get(g, 0) / 5 + 0.5) * 5
    # Issues still open, or closed after the Sunday, do not count.
    assert len(closed) < int((issues["status"] == "closed").sum())


# ----------------------------------------------------------------- the command and the site


def test_export_public_command(seeded_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "www"
    assert sibai(["export-public", str(out), "--db", seeded_db, "--today", "2026-11-30"]) == 0
    captured = capsys.readouterr()
    assert "data as of 2026-11-29" in captured.out
    assert "100%" in captured.err  # the progress bar
    assert json.loads((out / "data" / "public.json").read_text(encoding="utf-8"))["end"] == "2026-11-29"
    # An earlier export is replaced, whole.
    (out / "stale.txt").write_text("old")
    assert sibai(["export-public", str(out), "--db", seeded_db, "--quiet"]) == 0
    assert not (out / "stale.txt").exists()
    assert json.loads((out / "data" / "public.json").read_text(encoding="utf-8"))["end"] == "2026-11-22"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["www"]  # no staging folder left behind


def test_export_public_refuses_other_folders(
    seeded_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "report.docx").write_text("keep me")
    assert sibai(["export-public", str(busy), "--db", seeded_db, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"sibai export-public: error: {busy} is not empty and holds no earlier public export" in err
    assert sorted(p.name for p in busy.iterdir()) == ["report.docx"]
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert sibai(["export-public", str(a_file), "--db", seeded_db, "--quiet"]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err
    assert sibai(["export-public", str(tmp_path / "x"), "--db", str(tmp_path / "none.gpkg"), "--quiet"]) == 1
    assert "database file not found" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy", "file.txt"]


def test_hostile_area_names_stay_text(tmp_path: Path) -> None:
    case = _hand_case()
    hostile = "<img src=x onerror=alert(1)>"
    committees = case["committees"].assign(name=[hostile, "二", "=HYPERLINK(1)", "四"])
    s = public.public_summary(
        case["counts"], case["solved"], case["grids"], committees, case["streets"],
        start=dt.date(2026, 1, 1), end=SUNDAY,
    )  # fmt: skip
    files = site.site_files(s)
    for name in ("index.html", "data/public.js"):
        assert b"<img" not in files[name], name
    assert "\\u003cimg src=x" in files["data/public.js"].decode()
    assert "<img" not in site.map_html(s)
    committees_csv = files["data/committees.csv"].decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in committees_csv  # a spreadsheet will not run it
    assert committees_csv.splitlines()[0] == (
        "id,name,street_id,coverage_pct,residents_visited,visits,solved,"
        "solved_housing,solved_environment,solved_community"
    )


def test_map_document_loads_nothing() -> None:
    case = _hand_case()
    s = public.public_summary(
        case["counts"], case["solved"], case["grids"], case["committees"], case["streets"],
        start=dt.date(2026, 1, 1), end=SUNDAY,
    )  # fmt: skip
    doc = site.map_html(s, lang="en")
    from geo.maps import find_external_urls

    assert find_external_urls(doc) == []
    assert 'data-default-lang="en"' in doc


# ------------------------------------------------------- issue 14: the sidebar's period, one as-of date


def test_published_periods_are_whole_weeks_to_the_last_sunday() -> None:
    monday = dt.date(2026, 12, 7)
    assert public.published_period("ytd", today=monday) == public.reporting_period(monday)
    assert public.published_period("week", today=monday) == (dt.date(2026, 11, 30), dt.date(2026, 12, 6))
    assert public.published_period("month", today=monday) == (dt.date(2026, 12, 1), dt.date(2026, 12, 6))
    # A custom period is widened to whole weeks and never passes the last Sunday.
    got = public.published_period(
        "custom", today=monday, start=dt.date(2026, 11, 5), end=dt.date(2026, 11, 18)
    )
    assert got == (dt.date(2026, 11, 2), dt.date(2026, 11, 22))
    for start in (dt.date(2026, 10, 1) + dt.timedelta(days=d) for d in range(0, 60, 3)):
        s, e = public.published_period("custom", today=monday, start=start, end=start + dt.timedelta(days=9))
        assert s.weekday() == 0 and e.weekday() == 6 and e <= dt.date(2026, 12, 6) and s <= e


def test_public_page_follows_the_sidebar_period_with_one_as_of_date(
    seeded_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(seeded_db, monkeypatch)
    at.run()
    assert not at.exception
    year = {m.label: m.value for m in at.metric}
    sunday = public.last_sunday(AS_OF)
    assert any(f"{sunday.year}年{sunday.month}月{sunday.day}日" in c.value for c in at.caption)
    assert next(c.value for c in at.sidebar.caption if "数据截至" in c.value).endswith(sunday.isoformat())
    at = _app(seeded_db, monkeypatch)
    at.session_state["period"] = "month"  # chosen in the sidebar
    at.run()
    assert not at.exception
    month = {m.label: m.value for m in at.metric}
    assert month != year
    start, end = public.published_period("month", today=AS_OF)
    assert any(
        f"{start.month}月{start.day}日" in c.value and f"{end.month}月{end.day}日" in c.value
        for c in at.caption
    )
    with open_store(seeded_db) as store:
        expected = public.summary_from_store(store, today=AS_OF, period=(start, end))
    assert month == dict(public.headline(expected, lang="zh"))
