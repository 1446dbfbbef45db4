/* Sibai Grid Map: browser side of geo/maps.py (our own code, not third-party).
 *
 * Needs Leaflet (window.L) and nothing else. Defines window.SibaiMap once:
 *   gridLayer(payload, style, opts)   -> L.GeoJSON of every grid, coloured by `style`
 *   outlineLayer(payload, kind, opts) -> non-interactive street or committee outlines
 *   restyle(style, layer?)            -> re-colour grid layers without touching geometry
 *   decode(payload, kind)             -> GeoJSON FeatureCollection from the compact payload
 *   hatchFill(map, layer)             -> the hatched fill of "no figure" areas for `layer`'s renderer
 *   esc(text)                         -> text escaped for HTML
 *
 * The district map (gridmap.js, folium maps) and the public site (public_site.js,
 * which loads this file first) share it.
 *
 * Every text from the data reaches the DOM through esc() or textContent, never as
 * markup. The formats of `payload` and `style` are documented in docs/maps.md.
 */
(function (root) {
  "use strict";
  if (root.SibaiMap) {
    return;
  }
  var L = root.L;
  var ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  var COLOUR = /^#[0-9a-fA-F]{6}$/;
  var layers = [];
  var lastStyle = null;
  var applied = 0;

  function esc(value) {
    return String(value).replace(/[&<>"']/g, function (c) {
      return ESC[c];
    });
  }

  function mark(name) {
    if (root.performance && root.performance.mark) {
      root.performance.mark(name);
    }
  }

  function safeColour(value, fallback) {
    return COLOUR.test(String(value)) ? String(value) : fallback;
  }

  /* One feature's polygons: [[ring, ...], ...]; a ring is flat integers
     [x0, y0, dx1, dy1, ...] in units of 10^-precision degrees, x0/y0 relative
     to payload.origin, the closing point left out. */
  function decodeGeometry(parts, payload) {
    if (!parts || !parts.length) {
      return null;
    }
    var scale = Math.pow(10, payload.precision);
    var ox = payload.origin[0];
    var oy = payload.origin[1];
    var polygons = [];
    for (var p = 0; p < parts.length; p++) {
      var rings = [];
      for (var r = 0; r < parts[p].length; r++) {
        var flat = parts[p][r];
        var x = ox;
        var y = oy;
        var ring = [];
        for (var t = 0; t < flat.length; t += 2) {
          x += flat[t];
          y += flat[t + 1];
          ring.push([x / scale, y / scale]);
        }
        ring.push(ring[0]);
        rings.push(ring);
      }
      polygons.push(rings);
    }
    return { type: "MultiPolygon", coordinates: polygons };
  }

  function decode(payload, kind) {
    var table = payload[kind || "grids"];
    var features = [];
    for (var i = 0; i < table.id.length; i++) {
      features.push({
        type: "Feature",
        id: table.id[i],
        properties: { i: i },
        geometry: decodeGeometry(table.geom[i], payload),
      });
    }
    return { type: "FeatureCollection", features: features };
  }

  function canvasHatch(renderer) {
    var tile = document.createElement("canvas");
    tile.width = 6;
    tile.height = 6;
    var c = tile.getContext("2d");
    c.fillStyle = "#f0f0f0";
    c.fillRect(0, 0, 6, 6);
    c.strokeStyle = "#969696";
    c.lineWidth = 1.5;
    c.beginPath();
    c.moveTo(-1, 7);
    c.lineTo(7, -1);
    c.moveTo(5, 7);
    c.lineTo(7, 5);
    c.moveTo(-1, 1);
    c.lineTo(1, -1);
    c.stroke();
    return renderer._ctx.createPattern(tile, "repeat");
  }

  /* Fill of areas with no figure to colour by (grids with no occupied households, areas
     whose coverage is not published): an SVG pattern or a canvas one, or null when the
     renderer is neither. */
  function hatchFill(map, layer) {
    var renderer = map.getRenderer(layer);
    if (L.Canvas && renderer instanceof L.Canvas && renderer._ctx) {
      return canvasHatch(renderer);
    }
    var svg = renderer && renderer._container;
    if (!svg || !L.SVG || !(renderer instanceof L.SVG)) {
      return null;
    }
    var id = "sibai-hatch-" + L.stamp(renderer);
    if (!svg.querySelector("#" + id)) {
      var defs = L.SVG.create("defs");
      var pattern = L.SVG.create("pattern");
      pattern.setAttribute("id", id);
      pattern.setAttribute("patternUnits", "userSpaceOnUse");
      pattern.setAttribute("width", "6");
      pattern.setAttribute("height", "6");
      pattern.setAttribute("patternTransform", "rotate(45)");
      var bg = L.SVG.create("rect");
      bg.setAttribute("width", "6");
      bg.setAttribute("height", "6");
      bg.setAttribute("fill", "#f0f0f0");
      var line = L.SVG.create("line");
      line.setAttribute("x1", "0");
      line.setAttribute("y1", "0");
      line.setAttribute("x2", "0");
      line.setAttribute("y2", "6");
      line.setAttribute("stroke", "#969696");
      line.setAttribute("stroke-width", "2");
      pattern.appendChild(bg);
      pattern.appendChild(line);
      defs.appendChild(pattern);
      svg.insertBefore(defs, svg.firstChild);
    }
    return "url(#" + id + ")";
  }

  function featureStyle(style, i, hatch) {
    var cls = at(style.cls, i, -2);
    var s = {
      weight: 0.6,
      color: "#5f5f5f",
      opacity: 0.7,
      fillOpacity: 0.78,
      dashArray: null,
    };
    if (cls >= 0) {
      s.fillColor = safeColour(style.colours[cls], "#cccccc");
    } else if (cls === -1) {
      s.fillColor = hatch || safeColour(style.no_households.colour, "#d9d9d9");
      s.fillOpacity = 0.9;
    } else {
      s.fillColor = safeColour(style.no_data.colour, "#ffffff");
      s.fillOpacity = 0.35;
      s.dashArray = "3 3";
    }
    if (style.emphasis && style.emphasis.indexOf(cls) >= 0) {
      s.color = safeColour(style.emphasis_colour, "#b2182b");
      s.weight = 2;
      s.opacity = 1;
    }
    if (i === style.sel) {
      s.color = "#000000";
      s.weight = 4;
      s.opacity = 1;
      s.dashArray = null;
    }
    return s;
  }

  /* arrays[i], or `missing` when the style carries no such array (a blank style). */
  function at(array, i, missing) {
    return array && i < array.length ? array[i] : missing;
  }

  function fmtInt(value, locale) {
    return Number(value).toLocaleString(locale);
  }

  function tooltipHtml(payload, style, i) {
    var g = payload.grids;
    var lab = style.labels || {};
    var ci = g.committee[i];
    var committee = ci >= 0 ? payload.committees.name[ci] : "";
    var si = ci >= 0 ? payload.committees.street[ci] : -1;
    var street = si >= 0 ? payload.streets.name[si] : "";
    var hh = at(style.households, i, null);
    var cov = at(style.coverage, i, null);
    var html =
      '<div class="sibai-tip"><b>' + esc(g.name[i]) + "</b> <small>" + esc(g.id[i]) + "</small>";
    function row(label, value) {
      html += "<br>" + esc(label) + lab.sep + esc(value);
    }
    row(lab.committee, committee);
    row(lab.street, street);
    if (hh === null || hh === undefined) {
      row(lab.households, lab.no_data);
    } else {
      row(lab.households, fmtInt(hh, style.locale));
      row(lab.coverage, hh === 0 || cov === null ? lab.no_households : (cov / 10).toFixed(1) + "%");
      row(lab.open_issues, fmtInt(at(style.open_issues, i, 0), style.locale));
      row(lab.overdue_issues, fmtInt(at(style.overdue_issues, i, 0), style.locale));
    }
    // The grid's class in words: colour is never the only way to read the map.
    var cls = at(style.cls, i, -2);
    var name = cls >= 0 ? at(style.class_names, cls, "") : "";
    if (name) {
      row(lab["class"], name);
    }
    return html + "</div>";
  }

  function addText(parent, tag, text, css) {
    var el = document.createElement(tag);
    el.textContent = text;
    if (css) {
      el.style.cssText = css;
    }
    parent.appendChild(el);
    return el;
  }

  function swatch(parent, colour, hatched) {
    var sw = document.createElement("span");
    sw.style.cssText =
      "display:inline-block;width:14px;height:12px;margin-right:6px;" +
      "vertical-align:middle;border:1px solid #777;";
    if (hatched) {
      sw.style.background =
        "repeating-linear-gradient(45deg,#f0f0f0 0 3px,#969696 3px 4px)";
    } else {
      sw.style.background = safeColour(colour, "#cccccc");
    }
    parent.appendChild(sw);
    return sw;
  }

  function fillLegend(div, lg) {
    div.textContent = "";
    if (!lg) {
      div.style.display = "none";
      return;
    }
    div.style.cssText =
      "background:rgba(255,255,255,.92);padding:6px 8px;font:12px/1.5 sans-serif;" +
      "border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);color:#222;max-width:240px;";
    addText(div, "div", lg.title, "font-weight:bold;margin-bottom:2px;");
    if (lg.bivariate) {
      var b = lg.bivariate;
      var table = document.createElement("table");
      table.style.cssText = "border-collapse:collapse;";
      for (var r = b.rows.length - 1; r >= 0; r--) {
        var tr = document.createElement("tr");
        addText(tr, "th", b.rows[r], "font-weight:normal;text-align:right;padding-right:4px;");
        for (var c = 0; c < b.cols.length; c++) {
          var td = document.createElement("td");
          td.style.cssText = "padding:0;";
          var sw = swatch(td, b.colours[r * b.cols.length + c], false);
          sw.style.margin = "0";
          sw.style.width = "22px";
          sw.style.height = "18px";
          tr.appendChild(td);
        }
        table.appendChild(tr);
      }
      var foot = document.createElement("tr");
      addText(foot, "th", "", "");
      for (var k = 0; k < b.cols.length; k++) {
        addText(foot, "td", b.cols[k], "font-size:10px;text-align:center;");
      }
      table.appendChild(foot);
      div.appendChild(table);
      addText(div, "div", b.x_title + " · " + b.y_title, "font-size:10px;");
    } else {
      for (var i = 0; i < lg.items.length; i++) {
        var line = document.createElement("div");
        swatch(line, lg.items[i].colour, false);
        line.appendChild(document.createTextNode(lg.items[i].label));
        div.appendChild(line);
      }
    }
    var extra = [
      [lg.no_households, true],
      [lg.no_data, false],
    ];
    for (var e = 0; e < extra.length; e++) {
      if (extra[e][0]) {
        var ln = document.createElement("div");
        swatch(ln, extra[e][0].colour, extra[e][1]);
        ln.appendChild(document.createTextNode(extra[e][0].label));
        div.appendChild(ln);
      }
    }
  }

  function legendControl(layer) {
    var ctl = L.control({ position: "bottomright" });
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "sibai-legend");
      fillLegend(div, layer.sibai.style.legend);
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    return ctl;
  }

  /* Style the features (all, or those `only(cls, i)` picks), the legend and the
     container's data-sibai-* attributes. */
  function apply(layer, only) {
    var st = layer.sibai.style;
    var payload = layer.sibai.payload;
    if (!payload) {
      return;
    }
    var hatch = layer.sibai.hatch;
    var selected = null;
    layer.eachLayer(function (f) {
      var i = f.feature.properties.i;
      if (!only || only(at(st.cls, i, -2), i)) {
        f.setStyle(featureStyle(st, i, hatch));
      }
      if (i === st.sel) {
        selected = f;
      }
    });
    if (selected && layer._map) {
      selected.bringToFront();
    }
    var tip = layer.getTooltip();
    if (tip && tip.isOpen()) {
      tip.update();
    }
    var legend = layer.sibai.legend;
    if (legend && legend.getContainer()) {
      fillLegend(legend.getContainer(), st.legend);
    }
    applied += 1;
    mark("sibai:applied");
    if (layer._map) {
      // State for tests and benchmarks: what is drawn, which grid is selected.
      var box = layer._map.getContainer();
      box.setAttribute("data-sibai-metric", st.metric);
      box.setAttribute("data-sibai-selected", st.sel >= 0 ? payload.grids.id[st.sel] : "");
      box.setAttribute("data-sibai-applied", String(applied));
    }
  }

  function hatchedOnly(cls) {
    return cls === -1;
  }

  function matches(style, payload) {
    return (
      !!payload &&
      (!style.geom || !payload.hash || style.geom === payload.hash) &&
      (!style.cls || style.cls.length === payload.grids.id.length)
    );
  }

  function fill(layer, payload) {
    layer.sibai.payload = payload;
    if (lastStyle && matches(lastStyle, payload)) {
      layer.sibai.style = lastStyle;
    }
    mark("sibai:payload");
    layer.addData(decode(payload, "grids")); // styled by options.style
    mark("sibai:layers");
    if (layer._map) {
      apply(layer, hatchedOnly);
    }
  }

  /* `payload` is the payload object, or a URL (relative to the page) to fetch it
     from: the layer is on the map at once and fills when the data arrives. */
  function gridLayer(payload, style, opts) {
    opts = opts || {};
    var layer = L.geoJSON(null, {
      smoothFactor: 0.5,
      renderer: opts.canvas ? L.canvas({ padding: 0.3 }) : undefined,
      style: function (feature) {
        return featureStyle(layer.sibai.style, feature.properties.i, layer.sibai.hatch);
      },
    });
    layer.sibai = { payload: null, style: style, hatch: null, legend: null };
    // One tooltip for the layer, built when a grid is hovered.
    layer.bindTooltip(
      function (f) {
        return f.feature ? tooltipHtml(layer.sibai.payload, layer.sibai.style, f.feature.properties.i) : "";
      },
      { sticky: true }
    );
    layer.on("add", function (e) {
      var map = e.target._map;
      layer.sibai.hatch = hatchFill(map, layer);
      if (opts.legend !== false) {
        layer.sibai.legend = legendControl(layer).addTo(map);
      }
      apply(layer, hatchedOnly);
    });
    layer.on("remove", function () {
      if (layer.sibai.legend) {
        layer.sibai.legend.remove();
        layer.sibai.legend = null;
      }
    });
    if (opts.selectOnClick) {
      layer.on("click", function (e) {
        var st = {};
        for (var key in layer.sibai.style) {
          st[key] = layer.sibai.style[key];
        }
        st.sel = e.layer.feature.properties.i;
        restyle(st, layer);
      });
    }
    layers.push(layer);
    if (typeof payload === "string") {
      fetch(payload, { cache: "force-cache", credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) {
            throw new Error("geometry " + r.status + " " + payload);
          }
          return r.json();
        })
        .then(function (p) {
          fill(layer, p);
          layer.fire("sibai:loaded");
        })
        .catch(function (err) {
          layer.sibai.error = String(err);
          if (root.console) {
            root.console.error(err);
          }
        });
    } else {
      fill(layer, payload);
    }
    return layer;
  }

  /* Re-colour grid layers drawn from the geometry `style.geom` names (all the
     page's grid layers, or `layer`); remembered for layers still loading. */
  function restyle(style, layer) {
    if (typeof style === "string") {
      style = JSON.parse(style);
    }
    var targets = layer ? [layer] : layers;
    var n = 0;
    if (!layer) {
      lastStyle = style;
    }
    for (var t = 0; t < targets.length; t++) {
      var lyr = targets[t];
      if (!matches(style, lyr.sibai.payload)) {
        continue;
      }
      lyr.sibai.style = style;
      apply(lyr);
      n += 1;
    }
    return n;
  }

  function outlineLayer(payload, kind, opts) {
    opts = opts || {};
    return L.geoJSON(decode(payload, kind), {
      interactive: false,
      style: function () {
        return {
          fill: false,
          color: safeColour(opts.color, "#333333"),
          weight: opts.weight || 1,
          opacity: opts.opacity || 0.9,
          dashArray: opts.dashArray || null,
        };
      },
    });
  }

  root.SibaiMap = {
    decode: decode,
    esc: esc,
    hatchFill: hatchFill,
    gridLayer: gridLayer,
    outlineLayer: outlineLayer,
    restyle: restyle,
    tooltipHtml: tooltipHtml,
    layers: layers,
  };
})(window);
