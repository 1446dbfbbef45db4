"""The synthetic Putuo district: seeded, deterministic, at the programme's real scale.

``build_district(scale="full")`` returns every layer and table of the data model
as frames, ready for ``Store.replace_all``. The same ``seed`` and ``as_of`` give
the same district, row for row.

The district outline below is a **coarse approximation** of Putuo's boundary,
drawn by hand from the rough positions in ``shared/DOMAIN.md`` and scaled to the
district's published area (about 55.6 km²). It is not official and must not be
used as such. Street and committee boundaries are Voronoi partitions around
approximate centres; every personal name and phone number is made up.

Scales
------
``full``
    All ten streets and towns, about 270 committees, exactly 2,000 grids, about
    20,000 buildings, 500,000 households, 1.21 million residents, 2.7 million
    visits since 2023-01-01 and about 130,000 solved issues.
``street``
    One street (长寿路街道) at the same density.
``tiny``
    Two streets, four committees, twelve grids, about 70 buildings: for tests.

Examples
--------
>>> d = build_district(scale="tiny", seed=1, as_of=dt.date(2024, 6, 30))
>>> len(d["grids"]), d["grids"].crs.to_epsg()
(12, 4326)
>>> bool(d["households"]["household_id"].is_unique)
True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.clock import last_full_day
from geo.crs import METRIC
from geo.progress import Progress
from geo.settings import Settings
from geo.store.schema import LEVELS

START = dt.date(2023, 1, 1)
"""First day of generated visits and issues."""

# (name, approximate centre lon, lat, share of high-rise buildings)
STREETS: tuple[tuple[str, float, float, float], ...] = (
    ("长寿路街道", 121.440, 31.240, 0.06),
    ("曹杨新村街道", 121.410, 31.245, 0.01),
    ("长风新村街道", 121.400, 31.225, 0.07),
    ("宜川路街道", 121.442, 31.255, 0.03),
    ("甘泉路街道", 121.440, 31.270, 0.02),
    ("石泉路街道", 121.428, 31.256, 0.02),
    ("万里街道", 121.410, 31.280, 0.06),
    ("真如镇街道", 121.400, 31.260, 0.04),
    ("长征镇", 121.380, 31.240, 0.05),
    ("桃浦镇", 121.350, 31.285, 0.05),
)

# A hand-drawn approximation of the district boundary (lon, lat), SE → SW → NW → NE.
# NOT an official boundary; rescaled below to the published area.
OUTLINE_LONLAT: tuple[tuple[float, float], ...] = (
    (121.456, 31.238), (121.447, 31.232), (121.436, 31.236), (121.425, 31.229),
    (121.412, 31.221), (121.398, 31.220), (121.388, 31.226), (121.376, 31.227),
    (121.362, 31.233), (121.350, 31.242), (121.336, 31.254), (121.322, 31.266),
    (121.321, 31.282), (121.332, 31.296), (121.350, 31.300), (121.368, 31.295),
    (121.386, 31.291), (121.404, 31.292), (121.420, 31.287), (121.436, 31.280),
    (121.449, 31.268), (121.456, 31.253),
)  # fmt: skip
DISTRICT_AREA_KM2 = 55.6

_TO_M = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)
_TO_LL = Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)

ESTATE_STEMS = (
    "曹杨一村", "曹杨二村", "曹杨三村", "曹杨四村", "曹杨五村", "曹杨六村", "曹杨七村", "曹杨八村",
    "兰溪", "杏山", "桂巷", "梅岭", "枣阳", "花溪", "金沙", "天山", "华阴", "白玉", "强家角",
    "武宁", "宜川一村", "宜川二村", "宜川三村", "陕北", "西康", "新会", "中远两湾城", "普雄",
    "甘泉一村", "甘泉二村", "甘泉三村", "合阳", "黄陵", "志丹", "宜君", "石泉一村", "石泉二村",
    "石泉三村", "管弄", "铜川", "万里城", "富平", "大华", "真如", "清涧", "铜川", "梅川",
    "阳光建华城", "桃浦新村", "桃浦二村", "真建", "建德花园", "中环", "金鼎", "红旗", "光新",
    "长风一村", "长风二村", "长风三村", "长风四村", "华东", "云岭", "金沙江", "怒江", "丹巴",
    "李子园", "槎溪", "兴力", "敦煌", "新杨", "绿洲", "嘉定", "祁连", "古浪", "朱家湾", "大渡河",
)  # fmt: skip
ESTATE_SUFFIX = ("居民区", "第二居民区", "第三居民区", "新村居民区", "花园居民区", "苑居民区")
ROADS = (
    "兰溪路", "杏山路", "梅岭北路", "枣阳路", "花溪路", "武宁路", "宜川路", "陕西北路", "西康路",
    "甘泉路", "志丹路", "石泉路", "铜川路", "真北路", "大渡河路", "金沙江路", "云岭东路",
    "长寿路", "常德路", "中潭路", "光新路", "怒江路", "交通路", "桃浦路", "祁连山路", "新村路",
    "曹杨路", "岚皋路", "延长西路", "中山北路", "梅川路", "白玉路", "凯旋北路", "古浪路",
)  # fmt: skip
SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯俊佳欣怡晨雪梅琳德福生荣海波龙芬珍琴云莲凤宏志峰亮"
)
PHONE_PREFIX = (
    "138",
    "139",
    "137",
    "136",
    "135",
    "150",
    "151",
    "158",
    "159",
    "186",
    "187",
    "189",
    "133",
    "177",
)
CATEGORIES: tuple[tuple[str, float], ...] = (
    ("加装电梯", 0.08),
    ("物业管理", 0.13),
    ("停车难", 0.09),
    ("消防安全与楼道堆物", 0.07),
    ("养老服务", 0.10),
    ("儿童游乐场地", 0.03),
    ("环境卫生与垃圾分类", 0.11),
    ("噪音扰民", 0.06),
    ("房屋漏水与维修", 0.10),
    ("绿化修剪", 0.04),
    ("就医与健康", 0.05),
    ("就业与帮困", 0.04),
    ("邻里纠纷", 0.05),
    ("水电燃气", 0.05),
)
NOTES = (
    "老人身体尚可，子女每周探望",
    "反映楼道灯不亮",
    "咨询加装电梯进度",
    "家中有学龄前儿童，希望增加游乐设施",
    "独居老人，已登记助餐服务",
    "反映楼下夜间噪音",
    "希望小区增加停车位",
    "已告知垃圾分类投放时间",
    "家属在外地，留了紧急联系人",
    "反映屋顶漏水，已报物业",
    "低保复核材料已收到",
    "对社区服务表示满意",
)
ISSUE_TEXT = ("请尽快处理", "多次反映", "居民联名反映", "走访时发现", "热线转来", "随申办上报")

# Level of each issue (lowest first) and median days to close at that level.
LEVEL_SHARE = (0.45, 0.28, 0.17, 0.07, 0.03)
LEVEL_MEDIAN_DAYS = (2.0, 5.0, 10.0, 20.0, 40.0)
LIMIT_DAYS = {"building": 3, "grid": 7, "committee": 15, "street": 30, "district": 60}

HOLIDAYS = (
    ("2023-01-21", "2023-01-27"), ("2023-10-01", "2023-10-06"),
    ("2024-02-10", "2024-02-17"), ("2024-10-01", "2024-10-07"),
    ("2025-01-28", "2025-02-04"), ("2025-10-01", "2025-10-08"),
    ("2026-02-15", "2026-02-23"), ("2026-10-01", "2026-10-07"),
)  # fmt: skip


@dataclass(frozen=True)
class Scale:
    """How big a district to build."""

    streets: tuple[int, ...]
    committees: int
    grids: int
    buildings_per_km2: float
    min_buildings: int


SCALES = {
    "full": Scale(tuple(range(10)), 270, 2000, 355.0, 3),
    "street": Scale((0,), 27, 200, 355.0, 3),
    "tiny": Scale((0, 3), 4, 12, 0.0, 5),
}


def outline() -> shapely.Polygon:
    """Return the approximate district outline in EPSG:32651 metres (55.6 km²)."""
    lon, lat = np.array(OUTLINE_LONLAT).T
    x, y = _TO_M.transform(lon, lat)
    poly = shapely.Polygon(np.column_stack([x, y]))
    factor = float(np.sqrt(DISTRICT_AREA_KM2 * 1e6 / poly.area))
    c = poly.centroid
    return shapely.affinity.scale(poly, factor, factor, origin=c)


def build_district(
    *,
    scale: str = "full",
    seed: int = 42,
    as_of: dt.date | None = None,
    progress: Progress | None = None,
) -> dict[str, pd.DataFrame]:
    """Build the synthetic district as frames keyed by table name.

    Parameters
    ----------
    scale
        ``full``, ``street`` or ``tiny``.
    seed
        Seed of the random generator: the same seed gives the same district.
    as_of
        Last day of generated activity (default: yesterday in the district, ``geo.clock.last_full_day``).
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; use one of {', '.join(SCALES)}")
    as_of = as_of or last_full_day()
    if as_of < START:
        raise ValueError(f"as-of date {as_of} is before the programme's start {START}")
    sc = SCALES[scale]
    rng = np.random.default_rng(seed)
    step = progress or (lambda _f, _m: None)

    step(0.0, "areas")
    streets, committees, grids = _areas(sc, rng)
    step(0.15, "buildings")
    buildings = _buildings(sc, grids, streets, committees, rng)
    step(0.3, "households")
    households = _households(buildings, rng)
    step(0.45, "workers")
    workers, grid_workers = _workers(committees, grids, rng)
    step(0.5, "visits")
    visits, visit_seconds = _visits(households, buildings, grids, grid_workers, as_of, rng)
    step(0.85, "issues")
    issues = _issues(households, buildings, visits, visit_seconds, as_of, rng)
    step(1.0, "done")

    def layer(frame: pd.DataFrame, geoms: list[shapely.Geometry]) -> gpd.GeoDataFrame:
        arr = np.asarray(geoms, dtype=object)
        lonlat = shapely.transform(arr, lambda xy: np.column_stack(_TO_LL.transform(xy[:, 0], xy[:, 1])))
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(lonlat, crs="EPSG:4326"), crs="EPSG:4326")

    return {
        "streets": layer(streets.drop(columns="geom_m"), streets["geom_m"].tolist()),
        "committees": layer(committees.drop(columns="geom_m"), committees["geom_m"].tolist()),
        "grids": layer(grids.drop(columns="geom_m"), grids["geom_m"].tolist()),
        "buildings": layer(buildings.drop(columns=["geom_m", "x", "y"]), buildings["geom_m"].tolist()),
        "households": households.drop(columns=["grid_idx"]),
        "workers": workers,
        "grid_workers": grid_workers,
        "visits": visits,
        "issues": issues,
    }


# ------------------------------------------------------------------- areas
def _largest_remainder(weights: np.ndarray, total: int, minimum: int = 1) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights``, each at least ``minimum``."""
    w = np.asarray(weights, dtype=float)
    base = np.full(len(w), minimum, dtype=int)
    rest = total - base.sum()
    if rest < 0:
        raise ValueError("total too small for the minimum per part")
    share = w / w.sum() * rest
    out = base + np.floor(share).astype(int)
    short = total - out.sum()
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    out[order[:short]] += 1
    return out


def _points_in(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``n`` random points inside ``poly`` (rejection sampling)."""
    minx, miny, maxx, maxy = poly.bounds
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        m = max(4 * (n - have), 16)
        xy = np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)])
        keep = xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]
        out.append(keep)
        have += len(keep)
    return np.concatenate(out)[:n]


def _partition(
    poly: shapely.Geometry, n: int, rng: np.random.Generator, lloyd: int = 2
) -> list[shapely.Geometry]:
    """Split ``poly`` into ``n`` compact cells (Voronoi with Lloyd relaxation)."""
    if n == 1:
        return [poly]
    pts = _points_in(poly, n, rng)
    cells: list[shapely.Geometry] = []
    for it in range(lloyd + 1):
        vor = shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=poly)
        parts = np.asarray(shapely.get_parts(vor), dtype=object)
        # Match cells to their generating points so ids stay stable.
        order = np.empty(len(pts), dtype=int)
        for i, p in enumerate(pts):
            hit = np.flatnonzero(shapely.contains_xy(parts, p[0], p[1]))
            order[i] = hit[0] if len(hit) else i
        clipped = shapely.intersection(parts[order], poly)
        cells = [_polygonal(c) for c in clipped]
        if it < lloyd:
            cent = shapely.point_on_surface(np.asarray(cells, dtype=object))
            cxy = shapely.get_coordinates(shapely.centroid(np.asarray(cells, dtype=object)))
            inside = shapely.contains_xy(poly, cxy[:, 0], cxy[:, 1])
            fallback = shapely.get_coordinates(cent)
            pts = np.where(inside[:, None], cxy, fallback)
    return cells


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep the largest polygon of a clip result (drops slivers and stray lines)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]
    if not parts:
        return shapely.Polygon()
    return max(parts, key=lambda p: p.area)


def _areas(sc: Scale, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    district = outline()
    lon, lat = np.array([(s[1], s[2]) for s in STREETS]).T
    sx, sy = _TO_M.transform(lon, lat)
    vor = shapely.voronoi_polygons(shapely.MultiPoint(np.column_stack([sx, sy])), extend_to=district)
    parts = np.asarray(shapely.get_parts(vor), dtype=object)
    street_geoms = []
    for x, y in zip(sx, sy, strict=True):
        hit = np.flatnonzero(shapely.contains_xy(parts, x, y))
        street_geoms.append(_polygonal(shapely.intersection(parts[hit[0]], district)))

    chosen = list(sc.streets)
    areas = np.array([street_geoms[i].area for i in chosen])
    n_comm = _largest_remainder(areas, sc.committees, minimum=1 if len(chosen) > 1 else sc.committees)
    streets_rows: list[dict[str, object]] = []
    comm_rows: list[dict[str, Any]] = []
    grid_rows: list[dict[str, object]] = []
    stem_pool = list(dict.fromkeys(ESTATE_STEMS))
    used: set[str] = set()
    for k, si in enumerate(chosen):
        sid = f"S{si + 1:02d}"
        sgeom = street_geoms[si]
        if sc.buildings_per_km2 == 0:  # tiny: a small corner of the street
            c = sgeom.representative_point()
            sgeom = sgeom.intersection(c.buffer(400.0))
        streets_rows.append({"street_id": sid, "name": STREETS[si][0], "geom_m": sgeom})
        for cg in _partition(sgeom, int(n_comm[k]), rng):
            cid = f"C{len(comm_rows) + 1:03d}"
            name = _committee_name(stem_pool, used, rng, STREETS[si][0])
            office = cg.representative_point()
            comm_rows.append(
                {"committee_id": cid, "street_id": sid, "name": name, "geom_m": cg,
                 "office_x": office.x, "office_y": office.y}
            )  # fmt: skip
    carea = np.array([r["geom_m"].area for r in comm_rows])
    n_grid = _largest_remainder(carea, sc.grids, minimum=3)
    for ci, row in enumerate(comm_rows):
        for j, gg in enumerate(_partition(row["geom_m"], int(n_grid[ci]), rng, lloyd=1)):
            gid = f"G{len(grid_rows) + 1:04d}"
            grid_rows.append(
                {"grid_id": gid, "committee_id": row["committee_id"], "name": f"{row['name']}{j + 1}号网格",
                 "geom_m": gg}
            )  # fmt: skip
    committees = pd.DataFrame(comm_rows)
    ox, oy = committees.pop("office_x").to_numpy(), committees.pop("office_y").to_numpy()
    committees["office_lon"], committees["office_lat"] = _TO_LL.transform(ox, oy)
    committees = committees[["committee_id", "street_id", "name", "office_lon", "office_lat", "geom_m"]]
    return pd.DataFrame(streets_rows), committees, pd.DataFrame(grid_rows)


def _committee_name(pool: list[str], used: set[str], rng: np.random.Generator, street: str) -> str:
    # Named estates from the reporting sit in their real street.
    fixed = {"桃浦镇": "阳光建华城", "长征镇": "建德花园", "长寿路街道": "中远两湾城"}
    if street in fixed and f"{fixed[street]}居民区" not in used:
        name = f"{fixed[street]}居民区"
    else:
        for _ in range(1000):
            name = str(pool[rng.integers(len(pool))]) + str(ESTATE_SUFFIX[rng.integers(len(ESTATE_SUFFIX))])
            if name not in used:
                break
    used.add(name)
    return name


# --------------------------------------------------------------- buildings
def _buildings(
    sc: Scale,
    grids: pd.DataFrame,
    streets: pd.DataFrame,
    committees: pd.DataFrame,
    rng: np.random.Generator,
) -> pd.DataFrame:
    street_of_comm = dict(zip(committees["committee_id"], committees["street_id"], strict=True))
    highrise = {f"S{i + 1:02d}": s[3] for i, s in enumerate(STREETS)}
    rows_gid, rows_geom, rows_kind, rows_x, rows_y = [], [], [], [], []
    for gid, cid, geom in zip(grids["grid_id"], grids["committee_id"], grids["geom_m"], strict=True):
        n = max(sc.min_buildings, round(geom.area / 1e6 * sc.buildings_per_km2))
        if sc.buildings_per_km2 == 0:
            n = sc.min_buildings
        spacing = float(np.sqrt(geom.area / n)) * 0.9
        inner = geom.buffer(-spacing * 0.25)
        if inner.is_empty or inner.area < geom.area * 0.2:
            inner = geom
        xy = _lattice_in(inner, spacing, n, rng)
        p_high = highrise[street_of_comm[cid]]
        kinds = rng.choice(3, size=len(xy), p=[0.42, 1 - 0.42 - p_high, p_high])
        angle = rng.uniform(-0.5, 0.5)
        size = np.array([[22.0, 9.0], [40.0, 11.0], [26.0, 24.0]])[kinds]
        scale = min(1.0, spacing / 48.0)
        for (x, y), (w, h) in zip(xy, size * scale, strict=True):
            rect = shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            rows_geom.append(shapely.affinity.rotate(rect, angle, origin=(x, y), use_radians=True))
        rows_gid.extend([gid] * len(xy))
        rows_kind.extend(kinds.tolist())
        rows_x.extend(xy[:, 0].tolist())
        rows_y.extend(xy[:, 1].tolist())
    n = len(rows_gid)
    kind_names = np.array(["lane", "walkup", "highrise"])[rows_kind]
    floors = np.where(kind_names == "lane", 2 + rng.integers(0, 2, n),
                      np.where(kind_names == "walkup", 6, 18 + rng.integers(0, 15, n)))  # fmt: skip
    road = rng.integers(0, len(ROADS), n)
    lane_no = rng.integers(1, 1200, n)
    house_no = rng.integers(1, 60, n)
    names = [
        f"{ROADS[r]}{a}弄{b}号"
        for r, a, b in zip(road.tolist(), lane_no.tolist(), house_no.tolist(), strict=True)
    ]
    return pd.DataFrame(
        {
            "building_id": [f"B{i + 1:06d}" for i in range(n)],
            "grid_id": rows_gid,
            "name": names,
            "kind": kind_names,
            "floors": floors.astype(int),
            "geom_m": rows_geom,
            "x": rows_x,
            "y": rows_y,
        }
    )


def _lattice_in(poly: shapely.Geometry, spacing: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``n`` jittered lattice points inside ``poly`` (buildings never stack)."""
    minx, miny, maxx, maxy = poly.bounds
    for _ in range(6):
        gx = np.arange(minx + spacing / 2, maxx, spacing)
        gy = np.arange(miny + spacing / 2, maxy, spacing)
        xx, yy = np.meshgrid(gx, gy)
        xy = np.column_stack([xx.ravel(), yy.ravel()])
        xy = xy + rng.uniform(-0.15, 0.15, xy.shape) * spacing
        xy = xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]
        if len(xy) >= n:
            return xy[np.sort(rng.choice(len(xy), n, replace=False))]
        spacing *= 0.8
    extra = _points_in(poly, n - len(xy), rng)
    return np.concatenate([xy, extra])


# -------------------------------------------------------------- households
_TAG_CODES = ("alone_elderly", "very_old", "disabled", "low_income", "small_children")
_TAG_STRINGS = tuple(",".join(t for b, t in enumerate(_TAG_CODES) if code >> b & 1) for code in range(32))


def _households(buildings: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    kind = buildings["kind"].to_numpy()
    nb = len(kind)
    big = np.where(kind == "walkup", rng.integers(24, 37, nb), rng.integers(100, 201, nb))
    size = np.where(kind == "lane", rng.integers(4, 11, nb), big)
    nh = int(size.sum())
    b_idx = np.repeat(np.arange(nb), size)
    starts = np.repeat(np.cumsum(size) - size, size)
    k = np.arange(nh) - starts
    per_floor = np.where(kind == "lane", 3, np.where(kind == "walkup", 2, 8))[b_idx]
    per_entrance = np.where(kind == "walkup", 12, 10_000)[b_idx]
    entrance = k // per_entrance + 1
    within = k % per_entrance
    floor = within // per_floor + 1
    room = within % per_floor + 1
    kb = kind[b_idx]
    units = [
        (f"{e}-{f}{r:02d}" if kk == "walkup" else f"{f}{r:02d}" if kk == "highrise" else f"{f}楼{r}室")
        for e, f, r, kk in zip(entrance.tolist(), floor.tolist(), room.tolist(), kb.tolist(), strict=True)
    ]
    occupied = rng.random(nh) >= 0.05
    residents = rng.choice(np.arange(1, 7), nh, p=[0.21, 0.33, 0.27, 0.12, 0.05, 0.02])
    residents = np.where(occupied, residents, 0)
    alone = occupied & (residents == 1) & (rng.random(nh) < 0.30)
    very_old = occupied & (rng.random(nh) < np.where(alone, 0.35, 0.06))
    disabled = occupied & (rng.random(nh) < 0.03)
    low_income = occupied & (rng.random(nh) < 0.02)
    kids = occupied & (residents >= 3) & (rng.random(nh) < 0.40)
    code = alone * 1 + very_old * 2 + disabled * 4 + low_income * 8 + kids * 16
    tags = np.asarray(_TAG_STRINGS, dtype=object)[code]
    return _frame(
        {
            "household_id": [f"H{i + 1:07d}" for i in range(nh)],
            "building_id": buildings["building_id"].to_numpy()[b_idx],
            "unit": units,
            "occupied": occupied.astype(int),
            "residents": residents.astype(int),
            "head_name": np.where(occupied, np.asarray(_names(nh, rng), dtype=object), np.asarray(None)),
            "phone": np.where(occupied, np.asarray(_phones(nh, rng), dtype=object), np.asarray(None)),
            "tags": tags,
            "grid_idx": b_idx,  # building index for now; replaced by callers that need grids
        }
    )


def _frame(columns: dict[str, object]) -> pd.DataFrame:
    """Build a frame keeping text columns as plain Python objects.

    pandas 3 would otherwise convert millions of strings to Arrow and the
    store would convert them straight back: seconds wasted at full scale.
    """
    data = {
        k: pd.Series(v, dtype=object)
        if (
            isinstance(v, list)
            or getattr(v, "dtype", None) is np.dtype(object)
            or getattr(v, "dtype", np.dtype("i8")).kind == "U"
        )
        else v
        for k, v in columns.items()
    }
    return pd.DataFrame(data)


def _names(n: int, rng: np.random.Generator) -> list[str]:
    s = np.asarray(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    g1 = np.asarray(GIVEN)[rng.integers(0, len(GIVEN), n)]
    g2 = np.asarray(GIVEN)[rng.integers(0, len(GIVEN), n)]
    two = rng.random(n) < 0.7
    return [
        a + b + (c if t else "")
        for a, b, c, t in zip(s.tolist(), g1.tolist(), g2.tolist(), two.tolist(), strict=True)
    ]


def _phones(n: int, rng: np.random.Generator) -> list[str]:
    pre = np.asarray(PHONE_PREFIX)[rng.integers(0, len(PHONE_PREFIX), n)]
    tail = rng.integers(0, 100_000_000, n)
    return [f"{p}{t:08d}" for p, t in zip(pre.tolist(), tail.tolist(), strict=True)]


# ----------------------------------------------------------------- workers
def _workers(
    committees: pd.DataFrame, grids: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    w_rows: list[tuple[str, str, str]] = []
    gw_rows: list[tuple[str, str, str]] = []
    by_comm = grids.groupby("committee_id", sort=False)["grid_id"].apply(list)
    for cid in committees["committee_id"]:
        gids = by_comm.get(cid, [])
        n = max(2, len(gids) + int(rng.random() < 0.35))
        ids = [f"W{len(w_rows) + i + 1:04d}" for i in range(n)]
        w_rows.extend((wid, cid, "") for wid in ids)
        for j, gid in enumerate(gids):
            gw_rows.append((gid, ids[j % n], "leader"))
            gw_rows.append((gid, ids[(j + 1) % n], "member"))
    workers = pd.DataFrame(w_rows, columns=["worker_id", "committee_id", "phone"])
    workers["name"] = _names(len(workers), rng)
    workers["phone"] = _phones(len(workers), rng)
    workers["active"] = 1
    gw = pd.DataFrame(gw_rows, columns=["grid_id", "worker_id", "role"]).drop_duplicates(
        ["grid_id", "worker_id"]
    )
    return workers[["worker_id", "name", "committee_id", "phone", "active"]], gw.reset_index(drop=True)


# ------------------------------------------------------------------ visits
def _workdays(first: dt.date, last: dt.date) -> np.ndarray:
    days = np.arange(np.datetime64(first), np.datetime64(last) + 1, dtype="datetime64[D]")
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday (3)
    keep = weekday < 5
    for a, b in HOLIDAYS:
        keep &= ~((days >= np.datetime64(a)) & (days <= np.datetime64(b)))
    return days[keep]


def _year_of_visits(
    first: dt.date,
    last: dt.date,
    reach: np.ndarray,
    h_grid: np.ndarray,
    occupied: np.ndarray,
    never: np.ndarray,
    vulnerable: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return one year's visits as household positions, days (sorted per household) and outcome codes."""
    nh, ng = len(h_grid), len(reach)
    days = _workdays(first, last)
    elapsed = (last - first).days / 365.0 + 1 / 365.0
    year_reach = reach * rng.uniform(0.93, 1.05, ng)  # year-to-year variation
    reached = occupied & ~never & (rng.random(nh) < year_reach[h_grid] * elapsed)
    refused = reached & (rng.random(nh) < 0.02)
    inaccessible = reached & ~refused & (rng.random(nh) < 0.01)
    normal = reached & ~refused & ~inaccessible
    fails = np.minimum(rng.geometric(0.72, nh) - 1, 4)
    met = normal & (fails < 4)
    n_nothome = np.where(normal, fails, 0)
    extra = np.where(met & vulnerable, rng.poisson(1.5 * elapsed, nh), 0)
    extra += met & (rng.random(nh) < 0.3 * elapsed)
    vacant_visit = ~occupied & (rng.random(nh) < 0.5 * elapsed)
    # Outcome sequence per household: not_home x k, then met (+ extra met), or one refusal...
    n_total = n_nothome + met + extra + refused + inaccessible + vacant_visit
    idx = np.repeat(np.arange(nh), n_total)
    pos = np.arange(len(idx)) - np.repeat(np.cumsum(n_total) - n_total, n_total)
    out = np.full(len(idx), 1, dtype=np.int8)  # not_home
    out[pos >= n_nothome[idx]] = 0  # met (and extra follow-ups)
    out[refused[idx]] = 2
    out[inaccessible[idx]] = 4
    out[vacant_visit[idx]] = 3
    # Random workdays; weight busier weeks after holidays a little, then sort per household
    day = days[rng.integers(0, len(days), len(idx))]
    order = np.lexsort((day, idx))
    # Outcomes stay in household order so not_home comes before met.
    return idx, day[order], out


def _visits(
    households: pd.DataFrame,
    buildings: pd.DataFrame,
    grids: pd.DataFrame,
    grid_workers: pd.DataFrame,
    as_of: dt.date,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, np.ndarray]:
    nh = len(households)
    b_grid = pd.Index(grids["grid_id"]).get_indexer(buildings["grid_id"])
    h_grid = b_grid[households["grid_idx"].to_numpy()]
    ng = len(grids)
    # Each grid has a diligence: the share of its households reached in a year.
    reach = np.clip(rng.beta(8, 2, ng) * 1.02, 0.25, 0.99)
    lagging = rng.random(ng) < 0.08
    reach[lagging] *= rng.uniform(0.45, 0.75, lagging.sum())
    never = rng.random(nh) < 0.03  # some households are never reached
    occupied = households["occupied"].to_numpy().astype(bool)
    tags = households["tags"].to_numpy()
    vulnerable = np.asarray([t != "" and t != "small_children" for t in tags.tolist()])

    hh_parts, day_parts, outcome_parts = [], [], []
    for year in range(START.year, as_of.year + 1):
        first = dt.date(year, 1, 1)
        last = min(dt.date(year, 12, 31), as_of)
        idx, day_sorted, out = _year_of_visits(first, last, reach, h_grid, occupied, never, vulnerable, rng)
        hh_parts.append(idx)
        day_parts.append(day_sorted)
        outcome_parts.append(out)
    hh = np.concatenate(hh_parts)
    day = np.concatenate(day_parts)
    outcome = np.concatenate(outcome_parts)
    n = len(hh)
    # Time of day: most visits in the walk window (13:00-15:30); some mornings; a few late or at weekends.
    r = rng.random(n)
    walk_from, walk_to = _clock_seconds(Settings.walk_start), _clock_seconds(Settings.day_end)
    secs = np.where(
        r < 0.84, rng.integers(walk_from, walk_to, n),
        np.where(r < 0.99, rng.integers(9 * 3600, 41_400, n), rng.integers(55_800, 18 * 3600, n)),
    )  # fmt: skip
    weekend = rng.random(n) < 0.003
    day = np.where(weekend, day + ((5 - (day.astype("int64") + 3) % 7) % 7), day)
    day = np.minimum(day, np.datetime64(as_of))
    # Worker: the grid leader mostly, the member otherwise.
    lead = grid_workers[grid_workers["role"] == "leader"].set_index("grid_id")["worker_id"]
    memb = grid_workers[grid_workers["role"] == "member"].set_index("grid_id")["worker_id"]
    gids = grids["grid_id"].to_numpy()
    lead_arr = lead.reindex(gids).to_numpy()
    memb_arr = memb.reindex(gids).fillna(lead.reindex(gids)).to_numpy()
    g = h_grid[hh]
    worker = np.where(rng.random(n) < 0.8, lead_arr[g], memb_arr[g])
    c = rng.random(n)
    channel = np.where(c < 0.88, 0, np.where(c < 0.97, 1, 2))
    channel[outcome != 0] = 0  # only a met visit can be by phone or online
    note_pick = rng.integers(-7 * len(NOTES), len(NOTES), n)
    note = np.where(
        (outcome == 0) & (note_pick >= 0),
        np.asarray(NOTES, dtype=object)[np.maximum(note_pick, 0)],
        "",
    )
    # Sort by time so that visit ids follow time, as a live system's would.
    t = day.astype("datetime64[s]").astype("int64") + secs
    order = np.argsort(t, kind="stable")
    t = t[order]
    stamps = _stamp_strings(t)
    frame = _frame(
        {
            "visit_id": np.arange(1, n + 1),
            "household_id": households["household_id"].to_numpy()[hh[order]],
            "worker_id": worker[order],
            "visited_at": stamps,
            "outcome": np.asarray(["met", "not_home", "refused", "vacant", "inaccessible"], dtype=object)[
                outcome[order]
            ],
            "channel": np.asarray(["door", "phone", "online"], dtype=object)[channel[order]],
            "note": note[order],
        }
    )
    return frame, t


def _clock_seconds(clock: str) -> int:
    """Return seconds after midnight of ``HH:MM``.

    >>> _clock_seconds("15:30")
    55800
    """
    hours, minutes = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def _stamp_strings(seconds: np.ndarray) -> list[str]:
    """Format epoch seconds (local) as ``YYYY-MM-DD HH:MM:SS``, vectorised.

    >>> _stamp_strings(np.array([0, 1700000000]))
    ['1970-01-01 00:00:00', '2023-11-14 22:13:20']
    """
    sec = np.asarray(seconds, dtype=np.int64)
    days = (sec // 86400).astype("datetime64[D]")
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    y = years.astype(np.int64) + 1970
    mo = (months - years).astype(np.int64) + 1
    d = (days - months).astype(np.int64) + 1
    sod = sec % 86400
    h, mi, se = sod // 3600, sod // 60 % 60, sod % 60
    out = np.empty((len(sec), 19), dtype=np.uint8)
    zero = ord("0")
    for col, (value, width) in zip(
        (0, 5, 8, 11, 14, 17), ((y, 4), (mo, 2), (d, 2), (h, 2), (mi, 2), (se, 2)), strict=True
    ):
        for k in range(width):
            out[:, col + width - 1 - k] = zero + (value // 10**k) % 10
    out[:, 4] = out[:, 7] = ord("-")
    out[:, 10] = ord(" ")
    out[:, 13] = out[:, 16] = ord(":")
    return out.view("S19").ravel().astype("U19").tolist()


# ------------------------------------------------------------------ issues
def _issues(
    households: pd.DataFrame,
    buildings: pd.DataFrame,
    visits: pd.DataFrame,
    visit_seconds: np.ndarray,
    as_of: dt.date,
    rng: np.random.Generator,
) -> pd.DataFrame:
    years = (as_of - START).days / 365.0 + 1 / 365.0
    n = round(33_500 * years * len(households) / 500_000)
    if n == 0:
        cols = "issue_id grid_id building_id household_id category source level status"
        return pd.DataFrame(columns=[*cols.split(), "opened_at", "due_at", "closed_at", "title"])
    met = np.flatnonzero(visits["outcome"].to_numpy() == "met")
    src = rng.choice(3, n, p=[0.6, 0.25, 0.15])
    from_visit = src == 0
    hh_of_visit = visits["household_id"].to_numpy()
    pick = met[rng.integers(0, len(met), n)] if len(met) else np.zeros(n, dtype=int)
    h_idx = pd.Index(households["household_id"]).get_indexer(hh_of_visit[pick])
    other = rng.integers(0, len(households), n)
    h_idx = np.where(from_visit, h_idx, other)
    start = np.datetime64(START, "s").astype("int64")
    end = np.datetime64(as_of, "s").astype("int64") + 17 * 3600
    t_rand = rng.integers(start, end, n)
    opened = np.where(from_visit, visit_seconds[pick], t_rand)
    level = rng.choice(5, n, p=LEVEL_SHARE)
    median = np.asarray(LEVEL_MEDIAN_DAYS)[level]
    hard = rng.random(n) < 0.06
    days_to_close = rng.lognormal(np.log(median), 0.7) * np.where(hard, 12.0, 1.0)
    closed = opened + (days_to_close * 86400).astype("int64")
    is_closed = closed <= end
    limit = np.asarray([LIMIT_DAYS[lv] for lv in LEVELS])[level] * 86400
    due = opened + limit
    status_open = rng.choice(4, n, p=[0.35, 0.35, 0.2, 0.1])
    status = np.where(is_closed, 4, status_open)
    cats = np.asarray([c for c, _ in CATEGORIES], dtype=object)
    cat = rng.choice(len(cats), n, p=np.asarray([w for _, w in CATEGORIES]) / sum(w for _, w in CATEGORIES))
    text = np.asarray(ISSUE_TEXT, dtype=object)[rng.integers(0, len(ISSUE_TEXT), n)]
    h_building = households["building_id"].to_numpy()[h_idx]
    b_grid = pd.Series(buildings["grid_id"].to_numpy(), index=buildings["building_id"].to_numpy())
    grid = b_grid.reindex(h_building).to_numpy()
    with_household = from_visit | (rng.random(n) < 0.5)
    order = np.argsort(opened, kind="stable")

    def stamp(v: np.ndarray) -> np.ndarray:
        return np.asarray(_stamp_strings(v), dtype=object)

    closed_text = stamp(closed)
    return _frame(
        {
            "issue_id": np.arange(1, n + 1),
            "grid_id": grid[order],
            "building_id": h_building[order],
            "household_id": np.where(with_household, households["household_id"].to_numpy()[h_idx], None)[
                order
            ],
            "category": cats[cat][order],
            "source": np.asarray(["visit", "hotline", "online"], dtype=object)[src][order],
            "level": np.asarray(LEVELS, dtype=object)[level][order],
            "status": np.asarray(["open", "dispatched", "handled", "verified", "closed"], dtype=object)[
                status
            ][order],
            "opened_at": stamp(opened)[order],
            "due_at": stamp(due)[order],
            "closed_at": np.where(is_closed, closed_text, np.asarray(None))[order],
            "title": (cats[cat] + "：" + text)[order],
        }
    )
