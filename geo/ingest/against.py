"""Rows against the database: references, duplicates in the file and in the database, places, overlaps.

Pure: everything the database holds comes in :class:`Refs`, which the store
fetches (:func:`geo.store.imports.load_refs`; :mod:`geo.importing` turns it
into :class:`Refs`). :func:`check_against` gives each row its fate in a
:class:`Verdict`: accepted, rejected, or unchanged (the database already
holds it as it is).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs as gcrs
from geo.ingest.checks import Checked
from geo.ingest.messages import Finding, found, quote, rejected_rows
from geo.ingest.specs import REF_WHAT, SPECS

OVERLAP_M2 = 1.0
"""Grids overlapping by more than this many square metres are reported."""


@dataclass
class Refs:
    """What the database holds that a file's rows are checked against.

    ``ids[kind]``: the ids of that kind the database knows. ``existing``:
    rows of the imported kind that share a key with the file (the store
    fetches only those), with the same columns as :attr:`Checked.values`.
    For buildings, ``grids`` (``grid_id`` and geometry) places buildings; for
    grids, ``grids`` holds the other grids, for overlap checks. For issues,
    ``building_grid``, ``household_building`` and ``addresses`` (building
    name → ids) resolve where an issue is.
    """

    ids: Mapping[str, Iterable[str]] = field(default_factory=dict)
    existing: pd.DataFrame | None = None
    existing_geometry: np.ndarray | None = None
    grids: gpd.GeoDataFrame | None = None
    building_grid: Mapping[str, str] | None = None
    household_building: Mapping[str, str] | None = None
    addresses: Mapping[str, Sequence[str]] | None = None
    taken_ids: Collection[int] | None = None
    """Visit or issue ids the file brings that the database already uses."""
    idem_keys: Collection[str] | None = None
    """Idempotency keys of visits the file brings that the database already holds."""


Status = Literal["accept", "reject", "unchanged"]


@dataclass
class Verdict:
    """What becomes of each row: ``status[i]`` is ``accept``, ``reject`` or ``unchanged``."""

    status: np.ndarray
    findings: list[Finding]
    values: pd.DataFrame
    geometry: np.ndarray | None = None

    @property
    def accepted(self) -> pd.DataFrame:
        """Return the rows to write, with the table's columns (a GeoDataFrame for layers)."""
        mask = self.status == "accept"
        cols = [c for c in self.values.columns if not SPECS_VIRTUAL.get(c)]
        frame = self.values.loc[mask, cols].reset_index(drop=True)
        if self.geometry is not None:
            return gpd.GeoDataFrame(
                frame, geometry=gpd.GeoSeries(self.geometry[mask], crs=gcrs.WGS84), crs=gcrs.WGS84
            ).rename_geometry("geom")
        return frame


SPECS_VIRTUAL = {f.name: True for s in SPECS.values() for f in s.fields if f.virtual}


def check_against(checked: Checked, refs: Refs) -> Verdict:
    """Check references, duplicates (in the file and against the database) and places.

    Pure: everything the database holds comes in ``refs``. Rows that failed
    :func:`check_rows` stay rejected; of the others, a row equal to one the
    database holds is ``unchanged``, a row whose key the database holds with
    other values is rejected, the rest are accepted.
    """
    spec = checked.spec
    v = checked.values.copy()
    findings = list(checked.findings)
    geometry = None if checked.geometry is None else checked.geometry.copy()
    n = len(checked)
    if checked.kind == "issues":
        _place_issues(v, refs, findings)
    if checked.kind == "buildings":
        assert geometry is not None
        _place_buildings(v, geometry, refs, findings)
    for fld in spec.fields:
        if fld.ref is None or fld.name not in v:
            continue
        if fld.ref == "households" and checked.kind == "issues" and refs.household_building is not None:
            known: Any = refs.household_building
        elif fld.ref == "buildings" and checked.kind == "issues" and refs.building_grid is not None:
            known = refs.building_grid
        else:
            known = set(refs.ids.get(fld.ref, ()))
        col = v[fld.name]
        codes, uniq = pd.factorize(col.to_numpy(dtype=object), use_na_sentinel=True)
        unknown_u = np.array([u not in known for u in uniq.tolist()], dtype=bool)
        if len(uniq) and unknown_u.any():
            mask = (codes >= 0) & unknown_u[np.maximum(codes, 0)]
            zh, en = REF_WHAT[fld.ref]
            extra = {"what": en, "what_zh": zh}
            findings.append(
                Finding(
                    "unknown_ref", fld.name, np.flatnonzero(mask), col.to_numpy(dtype=object)[mask], extra
                )
            )
    bad = rejected_rows(findings, n)
    if checked.kind == "grids" and geometry is not None:
        _overlaps(v, geometry, bad, refs, findings)
    status = np.where(bad, "reject", "accept").astype(object)
    _dedupe(checked, v, geometry, status, refs, findings)
    return Verdict(status, findings, v, geometry)


def norm_address(text: str) -> str:
    """Return an address as buildings are looked up by it: NFKC, no spaces, no leading 上海市普陀区."""
    t = unicodedata.normalize("NFKC", text)
    t = re.sub(r"\s+", "", t)
    return re.sub(r"^(上海市)?(普陀区)?", "", t)


def buildings_by_address(names: Mapping[str, str]) -> dict[str, list[str]]:
    """Return the building ids under each address, from each building's name (:func:`norm_address`).

    Examples
    --------
    >>> buildings_by_address({"B1": "上海市普陀区 曹杨路1号", "B2": "曹杨路1号", "B3": "兰溪路2号"})
    {'曹杨路1号': ['B1', 'B2'], '兰溪路2号': ['B3']}
    """
    out: dict[str, list[str]] = {}
    for building_id, name in names.items():
        out.setdefault(norm_address(str(name)), []).append(building_id)
    return out


def _place_issues(v: pd.DataFrame, refs: Refs, findings: list[Finding]) -> None:
    """Fill an issue's building from its household or address, and its grid from its building."""
    n = len(v)
    hb = refs.household_building or {}
    bg = refs.building_grid or {}
    for col in ("grid_id", "building_id", "household_id"):
        if col not in v:
            v[col] = pd.Series([None] * n, dtype=object)
    building = v["building_id"].to_numpy(dtype=object).copy()
    grid = v["grid_id"].to_numpy(dtype=object).copy()
    household = v["household_id"].to_numpy(dtype=object)
    if "address" in v and refs.addresses is not None:
        addr = v["address"].to_numpy(dtype=object)
        need = np.array(
            [
                a is not None and b is None and h is None
                for a, b, h in zip(addr, building, household, strict=True)
            ]
        )
        unknown, ambiguous = [], []
        for i in np.flatnonzero(need).tolist():
            hits = refs.addresses.get(norm_address(addr[i]), ())
            if len(hits) == 1:
                building[i] = hits[0]
            elif len(hits) > 1:
                ambiguous.append(i)
            elif grid[i] is None:
                unknown.append(i)
        if unknown:
            findings.append(Finding("address_unknown", "address", np.asarray(unknown), addr[unknown]))
        if ambiguous:
            findings.append(Finding("address_ambiguous", "address", np.asarray(ambiguous), addr[ambiguous]))
    mismatch_b: list[int] = []
    mismatch_g: list[int] = []
    for i in range(n):
        h = household[i]
        if h is not None and h in hb:
            if building[i] is None:
                building[i] = hb[h]
            elif building[i] != hb[h]:
                mismatch_b.append(i)
        b = building[i]
        if b is not None and b in bg:
            if grid[i] is None:
                grid[i] = bg[b]
            elif grid[i] != bg[b]:
                mismatch_g.append(i)
    if mismatch_b:
        findings.append(
            Finding("not_in_building", "household_id", np.asarray(mismatch_b), household[mismatch_b],
                    per_row=[{"building": building[i]} for i in mismatch_b])
        )  # fmt: skip
    if mismatch_g:
        findings.append(
            Finding("not_in_grid", "building_id", np.asarray(mismatch_g), building[mismatch_g],
                    per_row=[{"grid": grid[i]} for i in mismatch_g])
        )  # fmt: skip
    nowhere = np.array(
        [g is None and b is None and h is None for g, b, h in zip(grid, building, household, strict=True)]
    )
    already = np.zeros(n, dtype=bool)
    for f in findings:
        if f.code in ("address_unknown", "address_ambiguous") and f.positions is not None:
            already[f.positions] = True
    found(findings, "no_place", "grid_id", nowhere & ~already)
    v["building_id"] = pd.Series(building, dtype=object)
    v["grid_id"] = pd.Series(grid, dtype=object)


def _metric(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda c: np.column_stack(gcrs.metric_xy(c[:, 0], c[:, 1])))


def _place_buildings(v: pd.DataFrame, geometry: np.ndarray, refs: Refs, findings: list[Finding]) -> None:
    """Give buildings without a grid the grid they stand in; report buildings outside their grid."""
    n = len(v)
    if "grid_id" not in v:
        v["grid_id"] = pd.Series([None] * n, dtype=object)
    grids = refs.grids
    have = np.array([g is not None for g in geometry], dtype=bool)
    if grids is None or len(grids) == 0:
        found(findings, "outside_grids", "geometry", have & v["grid_id"].isna().to_numpy())
        return
    gid = grids["grid_id"].to_numpy(dtype=object)
    ggeom = np.asarray(grids.geometry.array, dtype=object)
    pts = np.empty(n, dtype=object)
    pts[have] = shapely.point_on_surface(geometry[have])
    tree = shapely.STRtree(ggeom)
    inside = np.full(n, None, dtype=object)
    idx_pt, idx_g = tree.query(pts[have], predicate="within")
    hp = np.flatnonzero(have)
    for a, b in zip(idx_pt.tolist(), idx_g.tolist(), strict=True):
        if inside[hp[a]] is None:
            inside[hp[a]] = gid[b]
    given = v["grid_id"].to_numpy(dtype=object).copy()
    known_grids = set(gid.tolist())
    placed = [i for i in range(n) if have[i] and given[i] is None and inside[i] is not None]
    lost = [i for i in range(n) if have[i] and given[i] is None and inside[i] is None]
    off = [
        i for i in range(n)
        if have[i] and given[i] is not None and given[i] in known_grids and inside[i] != given[i]
    ]  # fmt: skip
    for i in placed:
        given[i] = inside[i]
    if placed:
        findings.append(
            Finding(
                "placed", "grid_id", np.asarray(placed), None, per_row=[{"grid": inside[i]} for i in placed]
            )
        )
    if lost:
        findings.append(Finding("outside_grids", "geometry", np.asarray(lost)))
    elsewhere = [i for i in off if inside[i] is not None]
    nowhere = [i for i in off if inside[i] is None]
    if elsewhere:
        rows = [{"grid": given[i], "inside": inside[i]} for i in elsewhere]
        findings.append(Finding("outside_own_grid", "geometry", np.asarray(elsewhere), None, per_row=rows))
    if nowhere:
        rows = [{"grid": given[i]} for i in nowhere]
        findings.append(Finding("outside_every_grid", "geometry", np.asarray(nowhere), None, per_row=rows))
    v["grid_id"] = pd.Series(given, dtype=object)


def _overlaps(
    v: pd.DataFrame, geometry: np.ndarray, bad: np.ndarray, refs: Refs, findings: list[Finding]
) -> None:
    """Report grids that overlap another grid of the file or of the database by more than 1 m²."""
    ok = np.flatnonzero(~bad & np.array([g is not None for g in geometry], dtype=bool))
    if len(ok) == 0:
        return
    ids = v["grid_id"].to_numpy(dtype=object)
    mine = _metric(geometry[ok])
    others_ids = list(ids[ok])
    others = list(mine)
    if refs.grids is not None and len(refs.grids):
        file_ids = set(others_ids)
        keep = ~refs.grids["grid_id"].isin(file_ids).to_numpy()
        others_ids += refs.grids["grid_id"].to_numpy(dtype=object)[keep].tolist()
        others += list(_metric(np.asarray(refs.grids.geometry.array, dtype=object)[keep]))
    tree = shapely.STRtree(np.asarray(others, dtype=object))
    a_idx, b_idx = tree.query(mine, predicate="intersects")
    hits: dict[int, list[tuple[str, float]]] = {}
    for a, b in zip(a_idx.tolist(), b_idx.tolist(), strict=True):
        if b < len(ok) and b <= a:
            continue  # each pair inside the file once
        area = float(shapely.area(shapely.intersection(mine[a], others[b])))
        if area > OVERLAP_M2:
            hits.setdefault(int(ok[a]), []).append((str(others_ids[b]), area))
    if hits:
        pos = sorted(hits)
        per_row = [
            {"other": ", ".join(o for o, _ in hits[p]), "area": sum(a for _, a in hits[p])} for p in pos
        ]
        findings.append(Finding("overlap", "geometry", np.asarray(pos), None, per_row=per_row))


_NAT = np.iinfo(np.int64).min


def _key_codes(frames: Sequence[pd.DataFrame], key: Sequence[str]) -> list[pd.DataFrame]:
    """Turn the key columns of several frames into shared integer codes (-1 for empty).

    Hashing integers is far cheaper than hashing a million strings twice (once to
    find duplicates, once to match the database), and the codes agree across frames.
    """
    out: list[dict[str, np.ndarray]] = [{} for _ in frames]
    for k in key:
        parts = []
        for f in frames:
            s = f[k] if k in f else pd.Series([None] * len(f), dtype=object)
            if pd.api.types.is_datetime64_any_dtype(s):
                ints = s.to_numpy(dtype="datetime64[s]").view("int64")
                if (ints == _NAT).any():
                    with_none = ints.astype(object)
                    with_none[ints == _NAT] = None
                    parts.append(with_none)
                else:
                    parts.append(ints)
            else:
                parts.append(s.to_numpy(dtype=object))
        if all(p.dtype.kind == "i" for p in parts):
            codes, _ = pd.factorize(np.concatenate(parts))
        else:
            codes, _ = pd.factorize(np.concatenate([p.astype(object) for p in parts]), use_na_sentinel=True)
        start = 0
        for i, p in enumerate(parts):
            out[i][k] = np.asarray(codes[start : start + len(p)], dtype=np.int64)
            start += len(p)
    return [pd.DataFrame(o, index=pd.RangeIndex(len(f))) for o, f in zip(out, frames, strict=True)]


def _null_key(keys: pd.DataFrame) -> np.ndarray:
    return (
        np.asarray((keys.to_numpy() < 0).any(axis=1))
        if len(keys.columns)
        else np.zeros(len(keys), dtype=bool)
    )


def _compare_cols(v: pd.DataFrame) -> list[str]:
    skip = {"visit_id", "issue_id", "ref"}
    return [c for c in v.columns if c not in skip and not SPECS_VIRTUAL.get(c)]


def _vector_equal(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Compare two columns element by element; empty equals empty, floats to 1e-9."""
    if pd.api.types.is_datetime64_any_dtype(a) and pd.api.types.is_datetime64_any_dtype(b):
        xi = a.to_numpy(dtype="datetime64[s]").view("int64")
        yi = b.to_numpy(dtype="datetime64[s]").view("int64")
        return np.asarray(xi == yi)
    if pd.api.types.is_datetime64_any_dtype(a) or pd.api.types.is_datetime64_any_dtype(b):
        x = pd.to_datetime(pd.Series(a.to_numpy(dtype=object)), errors="coerce").to_numpy(
            dtype="datetime64[s]"
        )
        y = pd.to_datetime(pd.Series(b.to_numpy(dtype=object)), errors="coerce").to_numpy(
            dtype="datetime64[s]"
        )
        return np.asarray(x.view("int64") == y.view("int64"))
    if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
        x = pd.to_numeric(pd.Series(a.to_numpy(dtype=object)), errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(pd.Series(b.to_numpy(dtype=object)), errors="coerce").to_numpy(dtype=float)
        both = np.isnan(x) & np.isnan(y)
        with np.errstate(invalid="ignore"):
            return np.asarray(both | (np.abs(x - y) <= 1e-9 * np.maximum(1.0, np.abs(x))))
    x = a.astype(object).to_numpy(dtype=object)
    y = b.astype(object).to_numpy(dtype=object)
    x = np.where(pd.isna(x), None, x)
    y = np.where(pd.isna(y), None, y)
    if pd.api.types.is_integer_dtype(a) or pd.api.types.is_integer_dtype(b):
        x = np.array([None if e is None else int(e) for e in x], dtype=object)
        y = np.array([None if e is None else _maybe_int(e) for e in y], dtype=object)
    return np.asarray(x == y, dtype=bool)


def _maybe_int(e: Any) -> Any:
    try:
        return int(e)
    except (TypeError, ValueError):
        return e


def _geometry_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    none = shapely.is_missing(a) | shapely.is_missing(b)
    out = np.asarray(shapely.is_missing(a) & shapely.is_missing(b))
    ok = ~none
    if ok.any():
        out[ok] = shapely.equals_exact(shapely.normalize(a[ok]), shapely.normalize(b[ok]), tolerance=1e-9)
    return out


def _dedupe(
    checked: Checked,
    v: pd.DataFrame,
    geometry: np.ndarray | None,
    status: np.ndarray,
    refs: Refs,
    findings: list[Finding],
) -> None:
    """Mark duplicates within the file, and rows the database already holds (same or different).

    Issues with a case number (``ref``) are matched by ``(source, ref)``, the
    others by their content; visits by household, worker and time.
    """
    kind = checked.kind
    cols = [c for c in _compare_cols(v) if c in checked.given]
    groups: list[tuple[list[str], np.ndarray]] = []
    if kind == "issues" and "ref" in v:
        has_ref = v["ref"].notna().to_numpy()
        groups = [(["source", "ref"], has_ref), (list(checked.spec.key), ~has_ref)]
    else:
        groups = [(list(checked.spec.key), np.ones(len(v), dtype=bool))]
    for key, subset in groups:
        _dedupe_file(checked, v, geometry, status, findings, key, subset, cols)
        _against_db(v, geometry, status, refs, findings, key, subset, cols)
    if kind == "visits":
        _visit_ids(v, status, refs, findings)
    if kind == "issues":
        _taken_ids(v, "issue_id", status, refs, findings)


def _dedupe_file(
    checked: Checked,
    v: pd.DataFrame,
    geometry: np.ndarray | None,
    status: np.ndarray,
    findings: list[Finding],
    key: list[str],
    subset: np.ndarray,
    cols: list[str],
) -> None:
    """The same key twice in the file: identical rows keep their first, conflicting rows all go."""
    live = np.flatnonzero((status == "accept") & subset)
    if len(live) < 2:
        return
    (keys,) = _key_codes([v.iloc[live]], key)
    dup_any = keys.duplicated(keep=False).to_numpy() & ~_null_key(keys)
    if not dup_any.any():
        return
    members_of = keys[dup_any].groupby(key, dropna=False, sort=False).indices
    rows = checked.raw.rows
    dup_rows = np.flatnonzero(dup_any)
    exact_pos: list[int] = []
    exact_first: list[int] = []
    conflict_pos: list[int] = []
    conflict_rows: list[dict[str, str]] = []
    for members in members_of.values():
        pos = live[dup_rows[members]]
        first = int(pos[0])
        others = pos[1:]
        same = np.ones(len(others), dtype=bool)
        for c in cols:
            same &= _vector_equal(v[c].iloc[others].reset_index(drop=True),
                                  v[c].iloc[np.full(len(others), first)].reset_index(drop=True))  # fmt: skip
        if geometry is not None:
            same &= _geometry_equal(geometry[others], geometry[np.full(len(others), first)])
        if same.all():
            exact_pos.extend(others.tolist())
            exact_first.extend([int(rows[first])] * len(others))
        else:
            for p in pos.tolist():
                conflict_pos.append(p)
                conflict_rows.append(
                    {
                        "others": ", ".join(str(int(rows[q])) for q in pos if q != p),
                        "key": _key_text(v, key, p),
                    }
                )
    if exact_pos:
        findings.append(
            Finding(
                "dup_in_file",
                _key_column(key),
                np.asarray(exact_pos),
                None,
                per_row=[{"other": o} for o in exact_first],
            )
        )
        status[exact_pos] = "reject"
    if conflict_pos:
        findings.append(
            Finding("dup_conflict", _key_column(key), np.asarray(conflict_pos), None, per_row=conflict_rows)
        )
        status[conflict_pos] = "reject"


def _key_column(key: Sequence[str]) -> str | None:
    """Name the key's column in messages; a key of several columns is spelled out in the message."""
    return key[0] if len(key) == 1 else None


def _key_text(v: pd.DataFrame, key: Sequence[str], p: int) -> str:
    parts = []
    for k in key:
        x = v[k].iat[p] if k in v else None
        parts.append(str(pd.Timestamp(x)) if isinstance(x, np.datetime64) else str(x))
    return " / ".join(parts)


def _against_db(
    v: pd.DataFrame,
    geometry: np.ndarray | None,
    status: np.ndarray,
    refs: Refs,
    findings: list[Finding],
    key: list[str],
    subset: np.ndarray,
    cols: list[str],
) -> None:
    """Rows whose key the database holds: ``unchanged`` when equal, rejected when not."""
    db = refs.existing
    if db is None or len(db) == 0 or any(k not in db.columns for k in key):
        return
    live = np.flatnonzero((status == "accept") & subset)
    if len(live) == 0:
        return
    file_keys, db_keys = _key_codes([v.iloc[live], db], key)
    keep = ~_null_key(file_keys)
    file_keys = file_keys[keep]
    file_keys["_pos"] = live[keep]
    db_keys["_db"] = np.arange(len(db))
    db_keys = db_keys[~_null_key(db_keys)]
    merged = file_keys.merge(db_keys, on=key, how="inner")
    if merged.empty:
        return
    merged = merged.drop_duplicates("_pos")
    pos = merged["_pos"].to_numpy()
    dbi = merged["_db"].to_numpy()
    dcols = [c for c in cols if c in db.columns]
    differs: dict[str, np.ndarray] = {}
    for c in dcols:
        eq = _vector_equal(v[c].iloc[pos].reset_index(drop=True), db[c].iloc[dbi].reset_index(drop=True))
        if not eq.all():
            differs[c] = ~eq
    geo_diff = None
    if geometry is not None and refs.existing_geometry is not None:
        geo_diff = ~_geometry_equal(geometry[pos], np.asarray(refs.existing_geometry, dtype=object)[dbi])
    any_diff = np.zeros(len(pos), dtype=bool)
    for d in differs.values():
        any_diff |= d
    if geo_diff is not None:
        any_diff |= geo_diff
    status[pos[~any_diff]] = "unchanged"
    if any_diff.any():
        rows: list[dict[str, str]] = []
        for j in np.flatnonzero(any_diff).tolist():
            p, q = int(pos[j]), int(dbi[j])
            parts = [
                f"{c} {quote(db[c].iat[q])} in the database, {quote(v[c].iat[p])} in the file"
                for c, m in differs.items()
                if m[j]
            ]
            if geo_diff is not None and geo_diff[j]:
                parts.append("the geometry differs")
            text = "; ".join(parts[:3]) + (f"; +{len(parts) - 3} more" if len(parts) > 3 else "")
            rows.append({"diff": text, "key": _key_text(v, key, p)})
        bad = pos[any_diff]
        status[bad] = "reject"
        findings.append(Finding("conflict_db", _key_column(key), bad, None, per_row=rows))


def _visit_ids(v: pd.DataFrame, status: np.ndarray, refs: Refs, findings: list[Finding]) -> None:
    """Refuse visit ids and idempotency keys the database (or an earlier row) holds for another visit."""
    _taken_ids(v, "visit_id", status, refs, findings)
    if "idem_key" not in v:
        return
    keys = v["idem_key"].to_numpy(dtype=object)
    live = np.flatnonzero(status == "accept")
    used = [p for p in live.tolist() if keys[p] is not None and keys[p] in (refs.idem_keys or {})]
    sub = pd.Series(keys[live], dtype=object)
    dup = live[(sub.notna() & sub.duplicated(keep="first")).to_numpy()]
    bad = sorted(set(used) | set(dup.tolist()))
    if bad:
        status[bad] = "reject"
        findings.append(Finding("idem_taken", "idem_key", np.asarray(bad), keys[bad]))


def _taken_ids(v: pd.DataFrame, col: str, status: np.ndarray, refs: Refs, findings: list[Finding]) -> None:
    """Refuse ids the database holds for another record, and ids given twice in the file."""
    if col not in v:
        return
    ids = v[col].to_numpy(dtype=object)
    live = np.flatnonzero(status == "accept")
    have = np.array([ids[p] is not None and ids[p] is not pd.NA for p in live], dtype=bool)
    live = live[have]
    taken = refs.taken_ids or set()
    bad = [p for p in live.tolist() if int(ids[p]) in taken]
    sub = pd.Series([int(ids[p]) for p in live], dtype="int64")
    dup = live[sub.duplicated(keep="first").to_numpy()] if len(live) else np.zeros(0, dtype=np.int64)
    bad = sorted(set(bad) | set(dup.tolist()))
    if bad:
        status[bad] = "reject"
        findings.append(Finding("id_taken", col, np.asarray(bad), ids[bad]))
