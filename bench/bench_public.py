"""Benchmark the public summary: the full district's export, the site's size, its first paint.

Run ``python bench/bench_public.py`` (uses ``/tmp/full.gpkg`` read-only if it
exists, else builds ``/tmp/public_full.gpkg`` with ``sibai demo``), or
``--db FILE``. Not a test: it prints each figure beside its target (issue 9)
and beside straightforward baselines measured in the same run, medians of
``--runs`` runs, for ``docs/public.md``.

``export``
    ``summary_from_store`` + ``write_site`` in this process, and the whole
    ``sibai export-public`` command in a subprocess (Python start included).
    Target ≤ 10 s. Baselines: (a) the same builder fed by the app's full
    coverage index built cold from the store (every visit since 2023, what
    the page does on a cold server); (b) a straightforward folium map of the
    same published figures (committee polygons as GeoJSON with a tooltip and
    a choropleth colour, ``Map.save``), with folium's default CDN assets and
    (c) with Leaflet inlined so it works offline (``geo.maps.offline_map``).
``size``
    Bytes of the exported folder (target ≤ 1.5 MB) against the folium files
    (whose CDN assets are not even counted in (b)).
``paint``
    Headless Chromium opens each page from ``file://`` with the network
    blocked, in a fresh context per run: first contentful paint and the
    moment the map is drawn (the site's ``public:drawn`` mark; for folium,
    every committee polygon in the DOM). Target first paint ≤ 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from geo.store import Scope

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo import maps, public, site  # noqa: E402
from geo.live import coverage_index_from_store  # noqa: E402
from geo.store import open_store  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FCP_JS = "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime ?? null"
TARGET_EXPORT_S = 10.0
TARGET_BYTES = 1_500_000
TARGET_PAINT_MS = 1000.0


def _median(values: list[float]) -> float:
    return float(np.median(np.asarray(values, dtype=float)))


def _timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def ensure_db(db: str | None) -> str:
    if db:
        return db
    if Path("/tmp/full.gpkg").exists():
        return "/tmp/full.gpkg"
    target = Path("/tmp/public_full.gpkg")
    if not target.exists():
        print("building the full district into /tmp/public_full.gpkg (sibai demo) ...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "geo.cli", "demo", "--db", str(target), "--quiet"], check=True, cwd=ROOT
        )
    return str(target)


def folium_map(summary: public.PublicSummary, layers: dict[str, Any], *, offline: bool) -> Any:
    """The straightforward folium map of the same published figures: committees as GeoJSON."""
    import folium

    committees = layers["committees"].merge(
        summary.level("committee")[["coverage", "residents_visited", "visits", "solved"]],
        left_on="committee_id",
        right_index=True,
    )
    committees = committees.astype(
        {c: "object" for c in ("coverage", "residents_visited", "visits", "solved")}
    )
    committees = committees.where(committees.notna(), "*")
    colours = dict(enumerate(public.COVERAGE_COLOURS))
    classes = dict(zip(summary.level("committee").index, summary.level("committee")["cls"], strict=True))
    if offline:
        m = maps.offline_map(location=(31.258, 121.39), zoom_start=12)
    else:
        m = folium.Map(location=(31.258, 121.39), zoom_start=12, tiles=None)
    folium.GeoJson(
        committees[["committee_id", "name", "coverage", "residents_visited", "visits", "solved", "geometry"]],
        style_function=lambda f: {
            "fillColor": colours.get(classes.get(f["properties"]["committee_id"], -1), "#d9d9d9"),
            "color": "#5f5f5f",
            "weight": 0.9,
            "fillOpacity": 0.78,
        },
        tooltip=folium.GeoJsonTooltip(["name", "coverage", "residents_visited", "visits", "solved"]),
    ).add_to(m)
    folium.GeoJson(layers["streets"][["street_id", "name", "geometry"]], style_function=lambda f: {
        "fill": False, "color": "#1a1a1a", "weight": 2.4}).add_to(m)  # fmt: skip
    return m


def bench_export(db: str, runs: int, out_root: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with open_store(db) as store:
        meta = store.meta()
        counts = store.counts()
        print(
            f"district: {counts['grids']:,} grids, {counts['households']:,} households, "
            f"{counts['visits']:,} visits, {counts['issues']:,} issues; as of {meta.get('as_of')}"
        )
        target = out_root / "site"

        def ours() -> site.SiteReport:
            summary = public.summary_from_store(store)
            return site.write_site(target, summary)

        times, report = _timed(ours, runs)
        results["export_s"] = times
        results["site_bytes"] = report.bytes
        results["site_files"] = len(report.files)

        cli_times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "geo.cli",
                    "export-public",
                    str(out_root / "cli"),
                    "--db",
                    db,
                    "--quiet",
                ],
                check=True,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
            cli_times.append(time.perf_counter() - t0)
        results["cli_s"] = cli_times

        def cold_index() -> public.PublicSummary:
            index, _ = coverage_index_from_store(store, scope=Scope.everything())
            return public.summary_from_store(store, index=index)

        times_a, summary_a = _timed(cold_index, max(1, min(runs, 3)))
        results["baseline_full_index_s"] = times_a
        assert summary_a.to_json() == public.summary_from_store(store).to_json(), "baseline (a) differs"

        layers = {
            "committees": store.read_layer("committees", scope=Scope.everything()),
            "streets": store.read_layer("streets", scope=Scope.everything()),
        }
        summary = public.summary_from_store(store)
        for name, offline in (("folium_cdn", False), ("folium_inline", True)):
            path = out_root / f"{name}.html"

            def build(offline: bool = offline, path: Path = path) -> None:
                # The straightforward version reads its layers too.
                fresh = {
                    "committees": store.read_layer("committees", scope=Scope.everything()),
                    "streets": store.read_layer("streets", scope=Scope.everything()),
                }
                folium_map(summary, fresh, offline=offline).save(str(path))

            t, _ = _timed(build, runs)
            results[f"{name}_s"] = t
            results[f"{name}_bytes"] = path.stat().st_size
            results[f"{name}_path"] = str(path)
            results[f"{name}_urls"] = len(maps.find_external_urls(path.read_text(encoding="utf-8")))
        results["n_committees"] = len(layers["committees"])
        results["n_streets"] = len(layers["streets"])
        results["site_path"] = str(target / "index.html")
        results["site_folder_bytes"] = _folder_bytes(target)
    return results


def bench_paint(results: dict[str, Any], runs: int) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    n_polygons = results["n_committees"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for name, path, ready in (
                ("site", results["site_path"], "site"),
                ("folium_inline", results["folium_inline_path"], "folium"),
                ("folium_cdn", results["folium_cdn_path"], "folium"),
            ):
                fcp, drawn = [], []
                for _ in range(runs):
                    context = browser.new_context(viewport={"width": 1400, "height": 1000})
                    page = context.new_page()
                    page.route(lambda url: not url.startswith(("file:", "data:")), lambda r: r.abort())
                    page.goto(Path(path).as_uri(), wait_until="load")
                    try:
                        if ready == "site":
                            page.wait_for_selector("body[data-ready='1']", timeout=15_000)
                            t = page.evaluate(
                                "() => performance.getEntriesByName('public:drawn')[0].startTime"
                            )
                        else:
                            page.wait_for_function(
                                "n => document.querySelectorAll('path.leaflet-interactive').length >= n",
                                arg=n_polygons,
                                timeout=8_000,
                            )
                            t = page.evaluate("() => performance.now()")
                        drawn.append(float(t))
                    except PlaywrightTimeout:  # the CDN map never draws offline
                        drawn.append(float("nan"))
                    paint = page.evaluate(FCP_JS)
                    fcp.append(float("nan") if paint is None else float(paint))
                    context.close()
                results[f"{name}_fcp_ms"] = fcp
                results[f"{name}_drawn_ms"] = drawn
        finally:
            browser.close()


def report(results: dict[str, Any]) -> None:
    def s(key: str) -> str:
        return f"{_median(results[key]):6.2f} s"

    def ms(key: str) -> str:
        v = np.asarray(results[key], dtype=float)
        if np.isnan(v).all():
            return "   never"
        return f"{np.nanmedian(v):6.0f} ms"

    kb = 1024
    ok = _median(results["export_s"]) <= TARGET_EXPORT_S
    print()
    print("| measure | ours | baseline | target |")
    print("| --- | --- | --- | --- |")
    print(
        f"| export, in process (summary + site), median of {len(results['export_s'])} | {s('export_s')} | "
        f"(a) full coverage index cold + same builder: {s('baseline_full_index_s')} | ≤ 10 s: "
        f"{'ok' if ok else 'MISSED'} |"
    )
    print(f"| `sibai export-public` in a subprocess (Python start included) | {s('cli_s')} | | ≤ 10 s |")
    print(
        f"| folium map of the same figures, built and saved | | (b) CDN assets: {s('folium_cdn_s')}; "
        f"(c) Leaflet inlined: {s('folium_inline_s')} | |"
    )
    size_ok = results["site_folder_bytes"] <= TARGET_BYTES
    print(
        f"| size of everything published | {results['site_folder_bytes'] / kb:,.0f} KB "
        f"({results['site_files']} files) | (b) {results['folium_cdn_bytes'] / kb:,.0f} KB + "
        f"{results['folium_cdn_urls']} CDN URLs; (c) {results['folium_inline_bytes'] / kb:,.0f} KB | "
        f"≤ 1,536 KB: {'ok' if size_ok else 'MISSED'} |"
    )
    paint_ok = np.nanmedian(results["site_fcp_ms"]) <= TARGET_PAINT_MS
    print(
        f"| first contentful paint, file://, offline, median of {len(results['site_fcp_ms'])} | "
        f"{ms('site_fcp_ms')} | (b) {ms('folium_cdn_fcp_ms')}; (c) {ms('folium_inline_fcp_ms')} | "
        f"≤ 1 s: {'ok' if paint_ok else 'MISSED'} |"
    )
    print(
        f"| map drawn (every committee), file://, offline | {ms('site_drawn_ms')} | "
        f"(b) {ms('folium_cdn_drawn_ms')}; (c) {ms('folium_inline_drawn_ms')} | |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", help="a built full district (default: /tmp/full.gpkg or /tmp/public_full.gpkg)"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", help="also write the raw figures here")
    args = parser.parse_args()
    db = ensure_db(args.db)
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.1f} (2 cores shared)")
    out_root = Path(tempfile.mkdtemp(prefix="sibai-bench-public-"))
    try:
        results = bench_export(db, args.runs, out_root)
        bench_paint(results, args.runs)
        report(results)
        print(f"\nload average at end: {os.getloadavg()[0]:.1f}")
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    finally:
        shutil.rmtree(out_root, ignore_errors=True)


if __name__ == "__main__":
    main()
