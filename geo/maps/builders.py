"""Build every folium map of the product; builders return maps and never show them."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.map import Layer
from folium.template import Template

from geo import words
from geo.maps.assets import _SCHEME_RE, ASSETS_DIR, leaflet_links
from geo.maps.classify import FIXED_THRESHOLDS, Basemap, Lang, Metric, Scheme, _text
from geo.maps.component import basemap_tiles
from geo.maps.labels import BADGE_HEIGHT, badge_width, hide_below_css, label_min_zooms
from geo.maps.payload import _check_grids, geometry_payload, payload_json
from geo.maps.style import style_payload
from geo.office.lagging import DEFAULT_BELOW
from geo.text import plain

if TYPE_CHECKING:
    from geo.route import Walk
    from geo.walks import WalkInputs


class Verbatim(Element):
    """A part of a page already rendered from its template: written out as it is, never read as one again.

    branca renders each macro of an element (header, html, script) and wraps
    the text in ``Element(text)``, whose constructor compiles that text as a
    Jinja template that the page renders a second time. Text from the data
    inside it (a building's or grid's name in a tooltip, in GeoJSON, in the
    geometry payload) was therefore run as a template: a building named
    ``{{ 7*7 }}`` showed as 49, and Jinja without a sandbox reaches Python
    (server-side template injection from an imported name).
    :func:`_render_verbatim` puts the rendered text in one of these instead.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Verbatim"
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


def _render_verbatim(self: MacroElement, **kwargs: Any) -> None:
    """``MacroElement.render`` of branca 0.8, with the rendered macros kept as :class:`Verbatim` text."""
    figure = self.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("You cannot render this Element if it is not in a Figure.")
    macros = self._template.module.__dict__
    for part, target in (("header", figure.header), ("html", figure.html), ("script", figure.script)):
        macro = macros.get(part)
        if macro is not None:
            target.add_child(Verbatim(macro(self, kwargs)), name=self.get_name())
    for element in self._children.values():
        element.render(**kwargs)


def _render_popup_verbatim(self: folium.Popup, **kwargs: Any) -> None:
    """``folium.Popup.render`` of folium 0.20, with its rendered script kept as :class:`Verbatim` text."""
    for child in self._children.values():
        child.render(**kwargs)
    figure = self.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("You cannot render this Element if it is not in a Figure.")
    figure.script.add_child(Verbatim(self._template.render(this=self, kwargs=kwargs)), name=self.get_name())


# Every folium element of every map (folium's own and ours) renders through these: this module is
# the only one that imports folium, and every map is built here before anything renders it.
MacroElement.render = _render_verbatim  # type: ignore[method-assign]
folium.Popup.render = _render_popup_verbatim  # type: ignore[method-assign]


@functools.cache
def _library() -> str:
    return (ASSETS_DIR / "sibai_map.js").read_text(encoding="utf-8")


class _MapTweaks(MacroElement):
    """Plain-text Leaflet attribution (no external link) and a metric scale bar."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        if ({{ this._parent.get_name() }}.attributionControl) {
            {{ this._parent.get_name() }}.attributionControl.setPrefix("Leaflet");
        }
        L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


class _FitBounds(MacroElement):
    """Fit the view without animation.

    An animated fit while the map's iframe is still being sized (st_folium,
    components) can leave Leaflet's zoom animation unfinished, after which
    the map ignores every zoom.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.fitBounds({{ this.bounds_js }}, {animate: false});
        {% endmacro %}
        """
    )

    def __init__(self, bounds: Sequence[float]) -> None:
        super().__init__()
        self._name = "FitBounds"
        minx, miny, maxx, maxy = (float(b) for b in bounds)
        self.bounds_js = payload_json([[miny, minx], [maxy, maxx]])


#: Class of the blind-spot numbers; ``{SPOT_LABEL}-{z}`` says the first zoom a number shows at.
SPOT_LABEL: Final = "sibai-spot"
#: Class ``{MAP_ZOOM}-{z}`` on the map's container tells the CSS the map's zoom.
MAP_ZOOM: Final = "sibai-zoom"


class _ZoomClass(MacroElement):
    """Keep the class ``sibai-zoom-<z>`` on the map's container; ``css`` hides labels by that zoom."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
        {% macro script(this, kwargs) %}
        (function (map) {
            function tag() {
                var c = map.getContainer();
                c.className = c.className.replace(/\\bsibai-zoom-\\d+\\b/g, "").trim()
                    + " sibai-zoom-" + Math.floor(map.getZoom());
            }
            map.on("zoomend", tag);
            map.whenReady(tag);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, css: str) -> None:
        super().__init__()
        self._name = "ZoomClass"
        self.css = css  # built from class names and digits only


class GridLayer(Layer):
    """Every grid as one ``L.geoJSON`` layer, with its tooltip and legend.

    The script carries ``geo/assets/sibai_map.js`` and the style payload as
    script-safe JSON (see :func:`payload_json`), and either the geometry
    payload itself or a relative URL of its file (:func:`write_geometry`),
    which the browser then fetches once and may cache.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {%- if this.library %}{{ this.library }}{% endif %}
        var {{ this.get_name() }} = SibaiMap.gridLayer(
            {{ this.payload_js }}, {{ this.style_js }}, {{ this.options_js }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        payload: Mapping[str, Any] | str,
        style: Mapping[str, Any],
        *,
        name: str | None = None,
        legend: bool = True,
        select_on_click: bool = False,
        show: bool = True,
        inline_library: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GridLayer"
        if isinstance(payload, str) and (_SCHEME_RE.match(payload) or payload.startswith(("//", "\\"))):
            raise ValueError(f"payload URL must be relative to the app, got {payload!r}")
        # Without the inline copy the page must load sibai_map.js itself
        # (e.g. m.default_js.append(("sibai_map", prefix + "/sibai_map.js"))).
        self.library = _library() if inline_library else ""
        self.payload_js = payload_json(payload)
        self.style = style
        self.style_js = payload_json(style)
        self.options_js = payload_json({"legend": legend, "selectOnClick": select_on_click})


class OutlineLayer(Layer):
    """Street or committee outlines from a geometry payload (clicks pass through)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = SibaiMap.outlineLayer(
            {{ this.payload_js }}, {{ this.kind_js }}, {{ this.options_js }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        payload: Mapping[str, Any],
        kind: Literal["committees", "streets"],
        *,
        name: str | None = None,
        color: str = "#333333",
        weight: float = 1.0,
        dash_array: str | None = None,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "OutlineLayer"
        part = {k: payload[k] for k in ("precision", "origin")}
        part[kind] = {key: payload[kind][key] for key in ("id", "name", "geom")}
        self.payload_js = payload_json(part)
        self.kind_js = payload_json(kind)
        self.options_js = payload_json({"color": color, "weight": weight, "dashArray": dash_array})


class Restyle(MacroElement):
    """Re-colour grid layers already on the page with a :func:`style_payload`.

    For streamlit-folium: put it in a ``folium.FeatureGroup`` passed as
    ``feature_group_to_add``; the base map (and its geometry) stays as it is.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        if (window.SibaiMap) { window.SibaiMap.restyle({{ this.style_js }}); }
        {% endmacro %}
        """
    )

    def __init__(self, style: Mapping[str, Any]) -> None:
        super().__init__()
        self._name = "Restyle"
        self.style_js = payload_json(style)


def offline_map(
    *,
    location: Sequence[float] = (31.258, 121.39),
    zoom_start: int = 13,
    assets: str = "inline",
    **map_options: Any,
) -> folium.Map:
    """Return a folium map with no tiles whose page loads Leaflet only from ``assets``.

    folium's own list (Leaflet, jQuery, Bootstrap, Font Awesome and
    awesome-markers, all from CDNs) is replaced on this map by Leaflet alone,
    as ``data:`` URIs or from the app (:func:`leaflet_links`); Leaflet's
    linked "Leaflet" attribution becomes plain text. Markers with
    ``folium.Icon`` (awesome-markers) are therefore not available.

    Examples
    --------
    >>> from geo.maps import find_external_urls
    >>> m = offline_map()
    >>> find_external_urls(m.get_root().render())
    []
    >>> [name for name, _ in m.default_js]
    ['leaflet']
    """
    js, css = leaflet_links(assets)
    m = folium.Map(
        location=list(location),
        zoom_start=zoom_start,
        tiles=None,
        **map_options,
    )
    # Instance attributes: folium's add_js_link would edit the class-wide lists.
    m.default_js = [("leaflet", js)]
    m.default_css = [("leaflet_css", css)]
    _MapTweaks().add_to(m)
    return m


def base_map(
    *,
    bounds: Sequence[float] | None = None,
    basemap: Basemap = "none",
    assets: str = "inline",
    lang: Lang = "zh",
    tianditu_key: str | None = None,
    location: Sequence[float] = (31.258, 121.39),
    zoom_start: int = 13,
) -> folium.Map:
    """Return an offline map, with an online basemap only if one is asked for.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` in degrees to fit the view to.
    basemap
        ``"none"`` (no tiles, no request leaves the app), ``"osm"``,
        ``"tianditu"`` (needs ``tianditu_key``) or ``"amap"`` (GCJ-02 tiles:
        draw GCJ-02 geometry on it).
    assets
        Where Leaflet comes from (:func:`leaflet_links`).

    Examples
    --------
    >>> from geo.maps import find_external_urls
    >>> m = base_map(bounds=(121.32, 31.22, 121.45, 31.30))
    >>> find_external_urls(m.get_root().render())
    []
    >>> len(find_external_urls(base_map(basemap="osm").get_root().render()))
    1
    """
    _text(lang)
    m = offline_map(location=location, zoom_start=zoom_start, assets=assets)
    for t in basemap_tiles(basemap, lang=lang, tianditu_key=tianditu_key):
        folium.TileLayer(
            t["url"],
            attr=t["attr"],
            name=t["name"],
            subdomains=t["subdomains"],
            max_zoom=t["max_zoom"],
            overlay=t["overlay"],
        ).add_to(m)
    if bounds is not None:
        _FitBounds(bounds).add_to(m)
    return m


def _focus_bounds(grids: gpd.GeoDataFrame, focus: str) -> tuple[float, ...]:
    for column in ("grid_id", "committee_id", "street_id"):
        rows = grids[grids[column].astype(str) == str(focus)]
        if len(rows):
            return tuple(float(b) for b in rows.total_bounds)
    raise ValueError(f"focus {focus!r} is not a grid, committee or street in these grids")


def grid_map(
    grids: gpd.GeoDataFrame,
    metrics: pd.DataFrame,
    *,
    metric: Metric = "coverage",
    scheme: Scheme = "fixed",
    k: int = 5,
    basemap: Basemap = "none",
    selected: str | None = None,
    lang: Lang = "zh",
    streets: gpd.GeoDataFrame | None = None,
    committees: gpd.GeoDataFrame | None = None,
    payload: Mapping[str, Any] | None = None,
    assets: str = "inline",
    tianditu_key: str | None = None,
    focus: str | None = None,
    thresholds: Sequence[float] | None = None,
    geometry_crs: Literal["wgs84", "gcj02"] = "wgs84",
) -> folium.Map:
    """Return the district map: every grid coloured by ``metric``, with outlines.

    One GeoJSON layer holds every grid; its tooltip shows grid, committee,
    street, households, coverage and open issues (escaped, in ``lang``); the
    legend is a Leaflet control built from text nodes. Street and committee
    outlines are separate layers in the layer switcher. Grids with no
    occupied households are hatched grey, never 0 %.

    Parameters
    ----------
    grids
        The grids (see :func:`geometry_payload`).
    metrics
        Indexed by grid_id (see :func:`style_payload`).
    metric
        ``"coverage"``, ``"open_issues_per_100"``, ``"overdue_issues"`` or
        ``"bivariate"`` (3×3 coverage × open issues per 100 households; the
        cell "low coverage and many issues" is darkest and outlined red).
    scheme, k, thresholds
        Classification (see :func:`classify`).
    basemap, assets, tianditu_key
        See :func:`base_map`. ``"amap"`` needs GCJ-02 geometry: pass grids
        converted with ``geo.crs`` and ``geometry_crs="gcj02"``.
    selected
        Grid id to outline in black.
    lang
        ``"zh"`` (default) or ``"en"``.
    streets, committees
        Optional outline geometry; by default the union of their grids.
    payload
        A cached :func:`geometry_payload` of ``grids`` (saves rebuilding it).
    focus
        A grid, committee or street id to zoom to (default: every grid).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> grids = gpd.GeoDataFrame(
    ...     {"grid_id": ["G1"], "committee_id": ["C1"], "street_id": ["S1"],
    ...      "name": ["<b>一号</b>"], "committee_name": ["一村"], "street_name": ["长寿路街道"]},
    ...     geometry=[box(121.40, 31.24, 121.41, 31.25)], crs="EPSG:4326")
    >>> metrics = pd.DataFrame({"households": [10], "coverage": [0.4], "open_issues": [0],
    ...                         "overdue_issues": [0]}, index=["G1"])
    >>> page = grid_map(grids, metrics, lang="en").get_root().render()
    >>> "<b>一号" in page, "\\\\u003cb\\\\u003e一号" in page
    (False, True)
    """
    if geometry_crs not in ("wgs84", "gcj02"):
        raise ValueError(f"geometry_crs must be 'wgs84' or 'gcj02', got {geometry_crs!r}")
    if (basemap == "amap") != (geometry_crs == "gcj02"):
        raise ValueError(
            "AMap tiles are GCJ-02 and every other basemap is WGS84: use basemap='amap' "
            "with geometry_crs='gcj02' (grids converted by geo.crs), and only then"
        )
    text = _text(lang)
    grids = _check_grids(grids)
    if payload is None:
        payload = geometry_payload(grids, streets=streets, committees=committees)
    elif list(payload["grids"]["id"]) != grids["grid_id"].astype(str).tolist():
        raise ValueError("payload was built from other grids (ids or their order differ)")
    style = style_payload(
        payload["grids"]["id"],
        metrics,
        metric=metric,
        scheme=scheme,
        k=k,
        lang=lang,
        selected=selected,
        geometry_hash=str(payload["hash"]),
        thresholds=thresholds,
    )
    bounds = _focus_bounds(grids, focus) if focus is not None else tuple(payload["bbox"])
    m = base_map(bounds=bounds, basemap=basemap, assets=assets, lang=lang, tianditu_key=tianditu_key)
    GridLayer(payload, style, name=plain(text["grids"])).add_to(m)
    OutlineLayer(
        payload,
        "committees",
        name=plain(text["committees"]),
        color="#4d4d4d",
        weight=0.9,
        dash_array="4 3",
    ).add_to(m)
    OutlineLayer(payload, "streets", name=plain(text["streets"]), color="#1a1a1a", weight=2.4).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


# ----------------------------------------------------------- the office's map


_MAP_TEXT = words.by_lang("uncovered.map.")


def blind_spot_map(
    grids: gpd.GeoDataFrame,
    metrics: pd.DataFrame,
    spots: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    assets: str = "inline",
    payload: dict[str, Any] | None = None,
    bounds: Sequence[float] | None = None,
    below: float = DEFAULT_BELOW,
) -> Any:
    """Return an offline folium map: grids coloured by coverage, blind spots outlined and numbered.

    The grids are the district map's layer (:func:`grid_map`: classes,
    legend, escaped tooltips, "no households" hatching), with ``below`` added
    as a class break; each blind spot is drawn as a thick red outline with a
    tooltip of numbers only and its number at a point inside it. Names never
    travel in the spots' GeoJSON, so imported text cannot reach the page.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from geo.maps import find_external_urls
    >>> g = gpd.GeoDataFrame({"grid_id": ["A", "B"], "name": ["<b>甲</b>", "乙"],
    ...     "committee_id": ["C1", "C1"], "street_id": ["S1", "S1"], "committee_name": ["一村", "一村"],
    ...     "street_name": ["长寿路街道"] * 2},
    ...     geometry=[box(121.40, 31.24, 121.41, 31.25), box(121.41, 31.24, 121.42, 31.25)], crs="EPSG:4326")
    >>> m = pd.DataFrame({"households": [10, 10], "visited": [1, 9], "coverage": [0.1, 0.9],
    ...                   "open_issues": [0, 0], "overdue_issues": [0, 0]}, index=["A", "B"])
    >>> from geo.office.blind_spots import blind_spots
    >>> page = blind_spot_map(g, m, blind_spots(g, m)).get_root().render()
    >>> find_external_urls(page), "<b>甲" in page, '"unvisited"' in page
    ([], False, True)
    """

    text = _MAP_TEXT["en" if lang == "en" else "zh"]
    lang_ = "en" if lang == "en" else "zh"
    if payload is None:
        payload = geometry_payload(grids)
    breaks = sorted({*FIXED_THRESHOLDS["coverage"], float(below)} - {0.0, 1.0})
    style = style_payload(
        payload["grids"]["id"],
        metrics,
        metric="coverage",
        scheme="fixed",
        lang=lang_,  # type: ignore[arg-type]
        geometry_hash=str(payload["hash"]),
        thresholds=breaks,
    )
    box = tuple(bounds) if bounds is not None else tuple(float(b) for b in payload["bbox"])
    m = base_map(bounds=box, assets=assets, lang=lang_)  # type: ignore[arg-type]
    GridLayer(payload, style, name=plain(_text(lang_)["grids"])).add_to(m)
    if "streets" in payload:
        OutlineLayer(
            payload, "streets", name=plain(_text(lang_)["streets"]), color="#1a1a1a", weight=2.0
        ).add_to(m)
    if len(spots):
        shapes = gpd.GeoDataFrame(
            {
                "spot": spots["spot"].astype(int).to_numpy(),
                "grids": spots["grids"].astype(int).to_numpy(),
                "households": spots["households"].astype(int).to_numpy(),
                "unvisited": spots["unvisited"].astype(int).to_numpy(),
            },
            geometry=spots.geometry.to_crs("EPSG:4326").simplify(0.00001).to_numpy(),
            crs="EPSG:4326",
        )
        group = folium.FeatureGroup(name=plain(text["layer"]))
        folium.GeoJson(
            shapes.to_json(),
            style_function=lambda _f: {"color": "#b2182b", "weight": 3.5, "fill": False, "dashArray": None},
            highlight_function=lambda _f: {"weight": 5.5},
            tooltip=folium.GeoJsonTooltip(
                fields=["spot", "grids", "households", "unvisited"],
                aliases=[plain(text[k]) for k in ("spot", "grids", "households", "unvisited")],
            ),
        ).add_to(group)
        # Numbers in spot order (spot 1 has the most households not met); each shows from the
        # first zoom at which it overlaps no number before it (issue 14: they piled up).
        points = shapely.point_on_surface(shapes.geometry.to_numpy())
        numbers = [str(int(n)) for n in shapes["spot"].tolist()]
        lon, lat = shapely.get_x(points), shapely.get_y(points)
        zooms = label_min_zooms(lon, lat, numbers)
        for number, x, y, zoom in zip(numbers, lon.tolist(), lat.tolist(), zooms.tolist(), strict=True):
            width = badge_width(number)
            folium.Marker(
                [y, x],
                icon=folium.DivIcon(
                    html=(
                        '<div style="font:bold 12px sans-serif;color:#fff;background:#b2182b;'
                        f"border-radius:9px;padding:1px 0;width:{width}px;text-align:center;"
                        f'box-sizing:border-box;height:{BADGE_HEIGHT}px;line-height:16px">{number}</div>'
                    ),
                    icon_size=(width, BADGE_HEIGHT),
                    icon_anchor=(width // 2, BADGE_HEIGHT // 2),
                    class_name=f"{SPOT_LABEL} {SPOT_LABEL}-{zoom}",
                ),
            ).add_to(group)
        group.add_to(m)
        _ZoomClass(hide_below_css(MAP_ZOOM, SPOT_LABEL, zooms)).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


# ------------------------------------------------------------ a grid's buildings


_MAP_LABELS: Final = words.by_lang("households.map.")


def building_map(
    buildings: gpd.GeoDataFrame,
    metrics: pd.DataFrame,
    *,
    grid: gpd.GeoDataFrame,
    committee_name: str = "",
    selected: str | None = None,
    lang: str = "zh",
    assets: str = "inline",
    select_on_click: bool = True,
) -> Any:
    """Return a folium map of a grid's buildings coloured by their coverage, offline.

    The district map's classes, colours, legend, tooltip and "no occupied
    households" hatching are reused as they are (:func:`grid_map`): each
    building is drawn as a "grid" of that machinery, its grid and committee
    standing in for committee and street in the tooltip. The grid's outline is
    drawn dashed around them.

    Parameters
    ----------
    buildings
        ``building_id, name`` and footprints (EPSG:4326) of the grid's buildings.
    metrics
        Indexed by building_id: ``households, coverage, open_issues,
        overdue_issues`` (a :class:`~geo.coverage.CoverageIndex` building frame).
    grid
        One row: ``grid_id, name, committee_id`` and the grid's polygon.
    selected
        The building to outline.
    assets
        Where Leaflet comes from (:func:`leaflet_links`).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from geo.maps import find_external_urls
    >>> g = gpd.GeoDataFrame({"grid_id": ["G1"], "name": ["一村第1网格"], "committee_id": ["C1"]},
    ...                      geometry=[box(121.40, 31.24, 121.41, 31.25)], crs="EPSG:4326")
    >>> b = gpd.GeoDataFrame({"building_id": ["B1", "B2"], "name": ["<b>1号</b>", "2号"]},
    ...     geometry=[box(121.401, 31.241, 121.402, 31.242), box(121.404, 31.241, 121.405, 31.242)],
    ...     crs="EPSG:4326")
    >>> m = pd.DataFrame({"households": [10, 0], "coverage": [0.95, float("nan")], "open_issues": [1, 0],
    ...                   "overdue_issues": [0, 0]}, index=pd.Index(["B1", "B2"], name="building_id"))
    >>> page = building_map(b, m, grid=g, selected="B1").get_root().render()
    >>> find_external_urls(page), "<b>1号" in page
    ([], False)
    """
    if lang not in _MAP_LABELS:
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    if len(grid) != 1:
        raise ValueError(f"grid must be one row, got {len(grid)}")
    text = _MAP_LABELS[lang]
    g = grid.iloc[0]
    frame = gpd.GeoDataFrame(
        {
            "grid_id": buildings["building_id"].astype(str).to_numpy(),
            "name": buildings["name"].fillna(buildings["building_id"]).astype(str).to_numpy(),
            "committee_id": str(g["grid_id"]),
            "committee_name": str(g["name"]),
            "street_id": str(g["committee_id"]),
            "street_name": committee_name or str(g["committee_id"]),
        },
        geometry=buildings.geometry.to_numpy(),
        crs=buildings.crs or "EPSG:4326",
    )
    outline = gpd.GeoDataFrame(
        {"committee_id": [str(g["grid_id"])], "street_id": [str(g["committee_id"])]},
        geometry=[grid.geometry.iloc[0]],
        crs=grid.crs or "EPSG:4326",
    )
    payload = geometry_payload(
        frame, committees=outline, streets=outline.drop(columns="committee_id"), precision=6, simplify_m=None
    )
    sel = selected if selected in set(frame["grid_id"]) else None
    style = style_payload(
        payload["grids"]["id"],
        metrics,
        metric="coverage",
        scheme="fixed",
        lang=lang,  # type: ignore[arg-type]
        selected=sel,
        geometry_hash=str(payload["hash"]),
    )
    style["labels"] = {**style["labels"], "committee": text["committee"], "street": text["street"]}
    bounds = tuple(float(x) for x in grid.total_bounds)
    m = base_map(bounds=bounds, assets=assets, lang=lang)  # type: ignore[arg-type]
    # The grid layer carries the SibaiMap library, so it goes first; the
    # outline on top lets clicks through.
    GridLayer(payload, style, name=plain(text["grids"]), select_on_click=select_on_click).add_to(m)
    OutlineLayer(
        payload,
        "committees",
        name=plain(text["outline"]),
        color="#333333",
        weight=2.0,
        dash_array="6 4",
    ).add_to(m)
    return m


SELECTED_OUTLINE = {"color": "#000000", "weight": 4, "opacity": 1, "fill": False}
"""The chosen building's outline, as ``sibai_map.js`` draws a selection; no fill, so taps go through."""


def selection_outline(buildings: gpd.GeoDataFrame, building_id: str | None) -> folium.FeatureGroup:
    """Return a layer with the outline of building ``building_id`` (empty for none), for a buildings map.

    streamlit-folium adds it to the map already on the page
    (``st_folium(feature_group_to_add=…)``) without redrawing that map: the
    map drawn with ``selected=None`` keeps its frame, zoom and position while
    a person taps one building after another (a map whose script changes is a
    new frame). Only the geometry travels: no name, nothing from the data as text.
    """
    group = folium.FeatureGroup(name="selection", control=False)
    if building_id is None:
        return group
    chosen = buildings[buildings["building_id"].astype(str) == str(building_id)]
    if len(chosen):
        shapes = gpd.GeoDataFrame(geometry=chosen.geometry.to_numpy(), crs=chosen.crs or "EPSG:4326")
        folium.GeoJson(
            shapes.to_crs(4326).to_json(drop_id=True),
            name="selected",
            style_function=lambda _feature: dict(SELECTED_OUTLINE),
        ).add_to(group)
    return group


# ------------------------------------------------------------------ walks


STOP_STYLE = (
    "background:{colour};color:#fff;border-radius:50%;width:22px;height:22px;"
    "line-height:22px;text-align:center;font:bold 12px sans-serif"
)
"""A numbered stop marker: plain HTML, no icon font from a CDN."""

COLOURS = ("#c0392b", "#2471a3", "#1e8449", "#946008", "#7d3c98", "#117a65", "#a04000", "#2e4053")
"""One colour per worker on a team map, in worker order (repeats after eight).

Each is dark enough for the white stop numbers drawn on it (at least 4.5:1, WCAG 1.4.3)."""


def _stop_points(walk: Walk, inputs: WalkInputs) -> tuple[list[float], list[float]]:
    """Return lon, lat of the office then each stop of ``walk``."""
    from geo.crs import lonlat_from_metric

    pts = inputs.buildings.drop_duplicates("building_id").set_index("building_id")
    pts = pts.loc[walk.stops["building_id"], ["x", "y"]]
    lon, lat = lonlat_from_metric([inputs.office_xy[0], *pts["x"]], [inputs.office_xy[1], *pts["y"]])
    return [float(v) for v in lon], [float(v) for v in lat]


def walk_map(
    walks: Walk | Mapping[str, Walk],
    inputs: WalkInputs,
    *,
    assets: str = "inline",
    labels: Mapping[str, str] | None = None,
) -> folium.Map:
    """Return an offline map: building footprints, the office, and each walk's numbered stops and path.

    ``walks`` is one walk or several by worker (team mode): each gets a
    colour of :data:`COLOURS` in order; ``labels`` names them in the layer
    control. Footprints of buildings on a walk are tinted in its colour.
    """
    from geo.route import Walk

    named = {"": walks} if isinstance(walks, Walk) else dict(walks)
    all_lon, all_lat = [], []
    for walk in named.values():
        lon, lat = _stop_points(walk, inputs)
        all_lon += lon
        all_lat += lat
    m = offline_map(location=(float(np.mean(all_lat)), float(np.mean(all_lon))), zoom_start=17, assets=assets)
    colour_of = {
        b: COLOURS[i % len(COLOURS)] for i, w in enumerate(named.values()) for b in w.stops["building_id"]
    }
    if inputs.footprints is not None and len(inputs.footprints):
        fp = inputs.footprints[["building_id", "name", "geometry"]].copy()
        # The tooltip is HTML: a building's name is data (imports, forms), shown as plain text.
        fp["name"] = [plain(n) for n in fp["name"]]
        fp["colour"] = [colour_of.get(b, "#9e9e9e") for b in fp["building_id"]]
        folium.GeoJson(
            fp.to_json(),
            name="footprints",
            style_function=lambda f: {
                "color": "#616161",
                "weight": 1,
                "fillColor": f["properties"]["colour"],
                "fillOpacity": 0.25,
            },
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        ).add_to(m)
    folium.CircleMarker(
        (all_lat[0], all_lon[0]), radius=7, color="#1a1a1a", fill=True, fill_opacity=1.0, tooltip="office"
    ).add_to(m)
    for i, (who, walk) in enumerate(named.items()):
        colour = COLOURS[i % len(COLOURS)]
        lon, lat = _stop_points(walk, inputs)
        group = folium.FeatureGroup(name=plain((labels or {}).get(who, who) or "walk"))
        path = list(zip(lat, lon, strict=True))
        if len(path) > 1:
            folium.PolyLine(path, color=colour, weight=3, opacity=0.85).add_to(group)
        for n, (la, lo) in enumerate(path[1:], start=1):
            folium.Marker(
                (la, lo),
                icon=folium.DivIcon(
                    html=f'<div class="sibai-stop" style="{STOP_STYLE.format(colour=colour)}">{n}</div>',
                    icon_size=(22, 22),
                    icon_anchor=(11, 11),
                ),
            ).add_to(group)
        group.add_to(m)
    if len(all_lat) > 1:
        m.fit_bounds([[min(all_lat), min(all_lon)], [max(all_lat), max(all_lon)]], padding=(24, 24))
    return m
