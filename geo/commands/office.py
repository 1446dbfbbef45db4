"""The street office's commands: blind spots, pace, the weekly check, households not met, the ledger.

Every list goes to CSV (stdout, or ``--out F``) or to Excel (``--out F.xlsx``
or ``--format xlsx --out F``), formula-safe, with headers in ``--lang`` (zh
by default). See ``docs/office.md``.

.. code-block:: text

    sibai blind-spots   [--from D --to D] [--below 0.5] [--street S | --committee C] [--format ...]
    sibai pace          [--as-of D] [--level street|committee|grid] [--behind-only]
    sibai weekly-check  [--week-ending D] [--street S | --committee C] [--table grids|workers|...]
    sibai not-met       [--as-of D] [--months 12] [--street S | --committee C]
    sibai ledger        [--as-of D] [--worker W] [--deductions "behind_pace=2,..."]
    sibai staffing      [--level committee|street|district]
    sibai spot-check    --visit ID --result confirmed|failed|unreachable [--by NAME] [--note TEXT]
    sibai review-anomaly --kind K (--visit ID | --grid G --week-ending D) --decision confirmed|dismissed
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from geo.commands import Add, date_arg, open_district

if TYPE_CHECKING:
    from geo.coverage import CoverageIndex
    from geo.store import Scope, Store


class OfficeError(ValueError):
    """A problem with the command's input, reported on one line (a ``ValueError``, as ``geo.cli`` expects)."""


def _everything() -> Scope:
    """Return the CLI's scope: the whole district (an operator's tool on the server, ``docs/security.md``)."""
    from geo.store import Scope

    return Scope.everything()


def _share(text: str) -> float:
    """Parse a coverage threshold: ``0.5`` or ``50%``.

    >>> _share("50%"), _share("0.25")
    (0.5, 0.25)
    """
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share; expected e.g. 0.5 or 50%") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is outside 0-1 (0-100%)")
    return value


def _as_of(store: Store, given: dt.date | None) -> dt.date:
    """The reporting day: as given, else the demo's as-of date (if earlier than today), else today."""
    if given is not None:
        return given
    today = dt.date.today()
    meta = store.meta().get("as_of")
    return min(dt.date.fromisoformat(meta), today) if meta else today


def _grids(store: Store, street: str | None, committee: str | None) -> list[str] | None:
    from geo.store import Scope

    if not (street or committee):
        return None
    scope = Scope.of(streets=[street] if street else [], committees=[committee] if committee else [])
    ids = store.grid_ids(scope)
    if not ids:
        what = f"committee {committee!r}" if committee else f"street {street!r}"
        raise OfficeError(f"no {what} in this district (or it has no grids)")
    return sorted(ids or [])


def _index(store: Store) -> CoverageIndex:
    from geo.live import LiveCoverage

    # The whole district's index, from the snapshot beside the database when it is current.
    return LiveCoverage(store).current()


def _emit(sheets: Mapping[str, pd.DataFrame], args: argparse.Namespace, *, table: str | None = None) -> int:
    """Write ``sheets`` as asked: CSV to stdout or a file, or Excel to a file."""
    from geo import export

    fmt = args.format or (Path(args.out).suffix.lstrip(".").lower() if args.out else "csv")
    if fmt not in ("csv", "xlsx"):
        raise OfficeError(
            f"cannot write {fmt!r}: use --format csv or xlsx (or an --out file ending .csv/.xlsx)"
        )
    if fmt == "xlsx":
        if not args.out:
            raise OfficeError("Excel needs a file: add --out FILE.xlsx")
        path = export.write_export(dict(sheets), args.out, lang=args.lang, fmt="xlsx")
        rows = ", ".join(f"{name} {len(f):,}" for name, f in sheets.items())
        print(f"wrote {path} ({rows} rows)", file=sys.stderr)
        return 0
    name = table if table is not None else next(iter(sheets))
    frame = sheets[name]
    if args.out:
        path = export.write_export(frame, args.out, lang=args.lang, fmt="csv")
        print(f"wrote {path} ({len(frame):,} rows)", file=sys.stderr)
    else:
        sys.stdout.write(export.to_csv_bytes(frame, lang=args.lang).decode("utf-8-sig").replace("\r\n", "\n"))
    return 0


def _names(store: Store) -> pd.DataFrame:
    grids = store.read_table("grids", scope=_everything(), columns=["grid_id", "name", "committee_id"])
    comms = store.read_table("committees", scope=_everything(), columns=["committee_id", "name", "street_id"])
    streets = store.read_table("streets", scope=_everything(), columns=["street_id", "name"])
    grids["committee_name"] = grids["committee_id"].map(comms.set_index("committee_id")["name"])
    grids["street_id"] = grids["committee_id"].map(comms.set_index("committee_id")["street_id"])
    grids["street_name"] = grids["street_id"].map(streets.set_index("street_id")["name"])
    return grids


# --------------------------------------------------------------- commands


def cmd_blind_spots(args: argparse.Namespace) -> int:
    from geo import office

    with open_district(args.db) as store:
        end = _as_of(store, args.to)
        start = args.from_ or dt.date(end.year, 1, 1)
        if end < start:
            raise OfficeError(f"the period ends ({end}) before it starts ({start})")
        keep = _grids(store, args.street, args.committee)
        index = _index(store)
        grids = store.read_layer("grids", scope=_everything())
        names = _names(store).set_index("grid_id")
    for col in ("committee_name", "street_name"):
        grids[col] = grids["grid_id"].map(names[col]).to_numpy(dtype=object)
    metrics = index.coverage(start, end, level="grid")
    if keep is not None:
        grids = grids[grids["grid_id"].isin(keep)]
        metrics = metrics[metrics.index.isin(keep)]
    spots = office.blind_spots(grids, metrics, below=args.below)
    lagging = office.lagging_grids(metrics, grids, below=args.below)
    if args.format == "geojson":
        text = spots.to_json(ensure_ascii=False, drop_id=True)
        if args.out:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
        else:
            sys.stdout.write(text + "\n")
        return 0
    print(
        f"{len(spots)} blind spot(s) from {len(lagging)} grid(s) below {args.below:.0%} coverage, "
        f"{start} – {end}",
        file=sys.stderr,
    )
    sheets = {"blind_spots": pd.DataFrame(spots.drop(columns="geometry")), "lagging_grids": lagging}
    return _emit(sheets, args, table="lagging_grids" if args.table == "lagging" else "blind_spots")


def cmd_pace(args: argparse.Namespace) -> int:
    from geo import office

    with open_district(args.db) as store:
        as_of = _as_of(store, args.as_of)
        index = _index(store)
        names = _names(store)
        goal = store.settings.coverage_goal
    p = office.pace_from_index(
        index, as_of=as_of, level=args.level, goal=goal, calendar=office.WorkCalendar.default()
    )
    p = p[p["households"] > 0]
    if args.behind_only:
        p = p[p["behind"]]
    if args.level == "grid":
        label = names.set_index("grid_id")[["name", "committee_name", "street_name"]].rename(
            columns={"name": "grid_name"}
        )
    elif args.level == "committee":
        label = names.drop_duplicates("committee_id").set_index("committee_id")[
            ["committee_name", "street_name"]
        ]
    else:
        label = names.drop_duplicates("street_id").set_index("street_id")[["street_name"]]
    out = label.reindex(p.index).join(p)
    out.index.name = f"{args.level}_id"
    out = out.reset_index().sort_values(["behind", "gap"], ascending=[False, True], kind="stable")
    return _emit({"pace": out}, args)


def cmd_weekly_check(args: argparse.Namespace) -> int:
    from geo import office
    from geo.live_office import office_frames_from_store

    with open_district(args.db) as store:
        week_end = _as_of(store, args.week_ending)
        keep = _grids(store, args.street, args.committee)
        start = min(dt.date(week_end.year, 1, 1), week_end - dt.timedelta(days=6))
        frames = office_frames_from_store(store, scope=_everything(), start=start, end=week_end)
        rules = office.CheckRules.from_settings(store.settings, spot_checks=args.spot_checks, seed=args.seed)
    check = office.weekly_check(
        frames, week_ending=week_end, grid_ids=keep, rules=rules, calendar=office.WorkCalendar.default()
    )
    tot = check.totals()
    print(
        f"weekly check {check.week_start} – {check.week_end}: {int(tot['visits_week']):,} visits, "
        f"{int(tot['newly_met_week']):,} households first met, {int(tot['anomalies']):,} anomaly flag(s), "
        f"{len(check.spot_checks)} spot check(s)",
        file=sys.stderr,
    )
    sheets = {
        "grids": check.grids,
        "workers": check.workers,
        "anomalies": check.anomalies,
        "spot-checks": check.spot_checks,
    }
    return _emit(sheets, args, table=args.table)


def cmd_not_met(args: argparse.Namespace) -> int:
    from geo import office
    from geo.store import assessment as records

    with open_district(args.db) as store:
        as_of = _as_of(store, args.as_of)
        keep = _grids(store, args.street, args.committee)
        index = _index(store)
        ids = office.not_met_households(index, as_of=as_of, months=args.months)
        hh = pd.DataFrame(
            {
                "household_id": index.household_ids.to_numpy(dtype=object),
                "grid_id": index.grid_ids.to_numpy(dtype=object)[index.h_grid],
                "occupied": index.occupied.astype(int),
                "residents": index.residents,
            }
        )
        hh = hh[hh["household_id"].isin(set(ids.tolist()))]
        if keep is not None:
            hh = hh[hh["grid_id"].isin(keep)]
        last = records.last_met_at(store, hh["household_id"], scope=_everything(), until=as_of)
        listed = office.households_not_met(hh, last, as_of=as_of, months=args.months)
        contacts = records.read_household_contacts(store, listed["household_id"], scope=_everything())
    from geo.privacy import mask_frame

    out = listed.merge(mask_frame(contacts), on="household_id", how="left").drop(columns="occupied")
    print(
        f"{len(out):,} occupied household(s) not met since {office.not_met_since(as_of, months=args.months)}",
        file=sys.stderr,
    )
    return _emit({"not_met": out}, args)


def cmd_ledger(args: argparse.Namespace) -> int:
    from geo import assess, office
    from geo.store import assessment as records

    rules = assess.Deductions.parse(args.deductions or "")
    with open_district(args.db) as store:
        as_of = _as_of(store, args.as_of)
        index = _index(store)
        gw = store.read_table("grid_workers", scope=_everything())
        workers = store.read_table(
            "workers", scope=_everything(), columns=["worker_id", "name", "committee_id", "active"]
        )
        committees = store.read_table("committees", scope=_everything(), columns=["committee_id", "name"])
        issues = store.read_table(
            "issues", scope=_everything(), columns=["issue_id", "grid_id", "level", "due_at", "closed_at"]
        )
        spots = records.read_spot_checks(store, scope=_everything())
        reviews = records.read_anomaly_reviews(store, scope=_everything())
        goal = store.settings.coverage_goal
    history = assess.pace_history(
        index,
        as_of=as_of,
        goal=goal,
        slack=rules.pace_slack,
        calendar=office.WorkCalendar.default(),
        every=rules.pace_every,
    )
    book = assess.ledger(
        grid_workers=gw,
        as_of=as_of,
        pace_rows=history,
        issues=issues,
        spot_checks=spots,
        anomaly_reviews=reviews,
        rules=rules,
    )
    stand = assess.standings(book, workers, rules=rules, committees=committees)
    if args.worker:
        if args.worker not in set(workers["worker_id"]):
            raise OfficeError(f"no worker with id {args.worker!r}")
        book = book[book["worker_id"] == args.worker]
        stand = stand[stand["worker_id"] == args.worker]
    return _emit({"standings": stand, "ledger": book}, args, table="ledger" if args.worker else "standings")


def cmd_staffing(args: argparse.Namespace) -> int:
    from geo import assess
    from geo.live import households_with_grid

    with open_district(args.db) as store:
        workers = store.read_table(
            "workers", scope=_everything(), columns=["worker_id", "committee_id", "active"]
        )
        hh = households_with_grid(store, scope=_everything())
        grids = store.read_table("grids", scope=_everything(), columns=["grid_id", "committee_id"])
        committees = store.read_table(
            "committees", scope=_everything(), columns=["committee_id", "name", "street_id"]
        )
        streets = store.read_table("streets", scope=_everything(), columns=["street_id", "name"])
        goal = store.settings.workers_per_10k
    out = assess.staffing(workers, hh, grids, committees, level=args.level, per_10k=goal, streets=streets)
    return _emit({"staffing": out}, args)


def cmd_spot_check(args: argparse.Namespace) -> int:
    from geo.store import assessment as records

    with open_district(args.db) as store:
        cid = records.record_spot_check(
            store,
            visit_id=args.visit,
            result=args.result,
            checked_by=args.by,
            note=args.note,
            scope=_everything(),
        )
    print(f"recorded spot check #{cid}: visit {args.visit} {args.result}")
    return 0


def cmd_review_anomaly(args: argparse.Namespace) -> int:
    from geo.store import assessment as records

    if args.visit is None and (args.grid is None or args.week_ending is None):
        raise OfficeError("give --visit ID, or --grid G with --week-ending D for a grid's flag")
    with open_district(args.db) as store:
        occurred = args.week_ending
        if args.visit is not None and occurred is None:
            v = store.read_table(
                "visits", scope=_everything(), columns=["visited_at"], where=records.visit_is(args.visit)
            )
            if v.empty:
                raise OfficeError(f"no visit with id {args.visit}")
            occurred = pd.Timestamp(v["visited_at"].iloc[0]).date()
        rid = records.record_anomaly_review(
            store,
            kind=args.kind,
            decision=args.decision,
            occurred_on=occurred,
            visit_id=args.visit,
            grid_id=args.grid,
            reviewed_by=args.by,
            note=args.note,
            scope=_everything(),
        )
    print(f"recorded review #{rid}: {args.kind} {args.decision}")
    return 0


# ------------------------------------------------------------- registration


def _output(p: argparse.ArgumentParser, *, formats: tuple[str, ...] = ("csv", "xlsx")) -> None:
    p.add_argument("--format", choices=formats, default=None, help="default: from --out's suffix, else csv")
    p.add_argument("--out", default=None, metavar="FILE", help="write here (default: CSV on stdout)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of headers and codes")


def _area(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--street", default=None, metavar="ID", help="only this street's grids")
    g.add_argument("--committee", default=None, metavar="ID", help="only this committee's grids")


def add_commands(add: Add) -> None:
    """Register the street office's subcommands."""
    _add_coverage_commands(add)
    _add_assessment_commands(add)


def _add_coverage_commands(add: Add) -> None:
    """Register blind-spots, pace, weekly-check and not-met."""
    p = add(
        "blind-spots",
        "list blind spots (adjacent low-coverage grids merged) and lagging grids",
        cmd_blind_spots,
    )
    p.add_argument(
        "--from",
        dest="from_",
        type=date_arg,
        default=None,
        metavar="YYYY-MM-DD",
        help="first day (default: 1 January of --to's year)",
    )
    p.add_argument(
        "--to", type=date_arg, default=None, metavar="YYYY-MM-DD", help="last day (default: as of)"
    )
    p.add_argument(
        "--below", type=_share, default=0.5, help="coverage threshold, e.g. 0.5 or 50%% (default 0.5)"
    )
    p.add_argument("--table", choices=["spots", "lagging"], default="spots", help="which list as CSV")
    _area(p)
    _output(p, formats=("csv", "xlsx", "geojson"))

    p = add("pace", "coverage so far against the pace needed to meet every household by year end", cmd_pace)
    p.add_argument("--as-of", type=date_arg, default=None, metavar="YYYY-MM-DD")
    p.add_argument("--level", choices=["street", "committee", "grid", "district"], default="grid")
    p.add_argument("--behind-only", action="store_true", help="only areas behind pace")
    _output(p)

    p = add(
        "weekly-check",
        "the weekly check (一周一查): per grid and worker, anomaly flags, spot checks",
        cmd_weekly_check,
    )
    p.add_argument(
        "--week-ending",
        type=date_arg,
        default=None,
        metavar="YYYY-MM-DD",
        help="last day of the week (default: as of)",
    )
    p.add_argument(
        "--table",
        choices=["grids", "workers", "anomalies", "spot-checks"],
        default="grids",
        help="which list as CSV (Excel gets all four)",
    )
    p.add_argument("--spot-checks", type=int, default=20, metavar="N", help="size of the spot-check list")
    p.add_argument("--seed", type=int, default=330, help="seed of the spot-check draw")
    _area(p)
    _output(p)

    p = add("not-met", "occupied households not met for --months months (masked)", cmd_not_met)
    p.add_argument("--as-of", type=date_arg, default=None, metavar="YYYY-MM-DD")
    p.add_argument("--months", type=int, default=12)
    _area(p)
    _output(p)


def _add_assessment_commands(add: Add) -> None:
    """Register ledger, staffing, spot-check and review-anomaly."""
    from geo.store.assessment import ANOMALY_KINDS, DECISIONS, SPOT_RESULTS

    p = add("ledger", "worker points ledger (驾照式扣分): standings, or one worker's deductions", cmd_ledger)
    p.add_argument("--as-of", type=date_arg, default=None, metavar="YYYY-MM-DD")
    p.add_argument("--worker", default=None, metavar="ID", help="one worker's ledger lines")
    p.add_argument(
        "--deductions",
        default=None,
        metavar="NAME=N,...",
        help="override costs, e.g. behind_pace=2,failed_spot_check=3",
    )
    _output(p)

    p = add("staffing", "active workers per 10,000 residents against the goal", cmd_staffing)
    p.add_argument("--level", choices=["committee", "street", "district"], default="committee")
    _output(p)

    p = add("spot-check", "record the result of a phone check of one visit", cmd_spot_check)
    p.add_argument("--visit", type=int, required=True, metavar="ID")
    p.add_argument("--result", choices=list(SPOT_RESULTS), required=True)
    p.add_argument("--by", default="", metavar="NAME", help="who checked")
    p.add_argument("--note", default="")

    p = add("review-anomaly", "record a supervisor's decision on an anomaly flag", cmd_review_anomaly)
    p.add_argument("--kind", choices=list(ANOMALY_KINDS), required=True)
    p.add_argument("--visit", type=int, default=None, metavar="ID")
    p.add_argument("--grid", default=None, metavar="ID", help="for a grid's flag (over_households)")
    p.add_argument("--week-ending", type=date_arg, default=None, metavar="YYYY-MM-DD")
    p.add_argument("--decision", choices=list(DECISIONS), required=True)
    p.add_argument("--by", default="", metavar="NAME")
    p.add_argument("--note", default="")
