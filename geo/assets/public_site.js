/* Sibai Grid Map: the public summary site (our own code, not third-party).
 *
 * Needs Leaflet (window.L), the map library of the district map (window.SibaiMap,
 * sibai_map.js: decoding the outlines, the hatched fill, escaping) and the
 * published figures (window.SIBAI_PUBLIC, written by geo/site.py from
 * geo/public.py's PublicSummary.to_json). Draws the
 * map of committees, streets or grids coloured by coverage, the tables and
 * every label, in Chinese or English (#en in the address). Loads nothing: it
 * works from file:// and offline. Every text from the data reaches the page
 * through textContent or esc(), never as markup.
 *
 * A page without the tables (the app's public page embeds the map alone) gets
 * the map only; <body data-default-lang="en"> starts it in English.
 */
(function (root) {
  "use strict";
  var D = root.SIBAI_PUBLIC;
  var L = root.L;
  var M = root.SibaiMap;
  var doc = root.document;
  var COLOUR = /^#[0-9a-fA-F]{6}$/;
  var HIDDEN = "*";
  var state = { lang: "zh", view: "committees", street: "", map: null, layers: {}, legend: null };

  function esc(value) {
    return M.esc(value); // only the map's tooltips use it, and the map needs M
  }

  function T(key, params) {
    var table = D.text[state.lang] || D.text.zh;
    var s = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : key;
    if (params) {
      s = s.replace(/\{(\w+)\}/g, function (m, name) {
        return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : m;
      });
    }
    return s;
  }

  function count(value) {
    if (value === null || value === undefined) {
      return HIDDEN;
    }
    return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  function pct(value) {
    return value === null || value === undefined ? HIDDEN : value + "%";
  }

  function date(iso) {
    if (state.lang === "en") {
      return iso;
    }
    var p = iso.split("-");
    return Number(p[0]) + "年" + Number(p[1]) + "月" + Number(p[2]) + "日";
  }

  /* The parameters of every label that has some (the same as geo/site.py's). */
  function params() {
    var d = D.district;
    return {
      date: date(D.end),
      start: date(D.start),
      end: date(D.end),
      residents: count(d.residents_visited),
      visits: count(d.visits),
      solved: count(d.solved),
      k: D.k,
      base: D.base,
      n: D.min_households,
      b: D.min_buildings,
    };
  }

  function setText(el, text) {
    if (el && el.textContent !== text) {
      el.textContent = text;
    }
  }

  function renderTexts() {
    var p = params();
    var nodes = doc.querySelectorAll("[data-t]");
    for (var i = 0; i < nodes.length; i++) {
      setText(nodes[i], T(nodes[i].getAttribute("data-t"), p));
    }
    var d = D.district;
    setText(doc.getElementById("m-coverage"), pct(d.coverage));
    setText(doc.getElementById("m-residents_visited"), count(d.residents_visited));
    setText(doc.getElementById("m-visits"), count(d.visits));
    setText(doc.getElementById("m-solved"), count(d.solved));
    doc.documentElement.setAttribute("lang", state.lang === "en" ? "en" : "zh-CN");
    doc.title = T("title") + " · " + T("district");
  }

  /* ------------------------------------------------------------- tables */

  function cell(tr, tag, text, numeric) {
    var el = doc.createElement(tag);
    el.textContent = text;
    if (numeric) {
      el.className = "num";
    }
    if (text === HIDDEN) {
      el.className += " hidden";
      el.title = T("note.hidden", params());
    }
    tr.appendChild(el);
    return el;
  }

  function groupKeys() {
    var keys = [];
    for (var g = 0; g < D.groups.length; g++) {
      keys.push("solved_" + D.groups[g]);
    }
    return keys;
  }

  function fillTable(table, rows, first) {
    var thead = doc.createElement("thead");
    var head = doc.createElement("tr");
    for (var f = 0; f < first.length; f++) {
      cell(head, "th", T(first[f].label), false);
    }
    var labels = ["coverage", "residents_visited", "visits", "solved"];
    for (var h = 0; h < labels.length; h++) {
      cell(head, "th", T(labels[h]), true);
    }
    for (var g = 0; g < D.groups.length; g++) {
      cell(head, "th", T("group." + D.groups[g]), true);
    }
    thead.appendChild(head);
    var tbody = doc.createElement("tbody");
    var groups = groupKeys();
    for (var r = 0; r < rows.length; r++) {
      var row = rows[r];
      var tr = doc.createElement("tr");
      for (var c = 0; c < first.length; c++) {
        cell(tr, "td", first[c].value(row), false);
      }
      cell(tr, "td", pct(row.coverage), true);
      cell(tr, "td", count(row.residents_visited), true);
      cell(tr, "td", count(row.visits), true);
      cell(tr, "td", count(row.solved), true);
      for (var k = 0; k < groups.length; k++) {
        cell(tr, "td", count(row[groups[k]]), true);
      }
      tbody.appendChild(tr);
    }
    table.textContent = "";
    table.appendChild(thead);
    table.appendChild(tbody);
  }

  function rowsOf(level) {
    var t = D[level];
    var rows = [];
    for (var i = 0; i < t.id.length; i++) {
      var row = { i: i };
      for (var key in t) {
        if (Object.prototype.hasOwnProperty.call(t, key)) {
          row[key] = t[key][i];
        }
      }
      rows.push(row);
    }
    return rows;
  }

  function renderTables() {
    var streets = doc.getElementById("t-streets");
    if (streets) {
      fillTable(streets, rowsOf("streets"), [{ label: "street", value: function (r) { return r.name; } }]);
    }
    var select = doc.getElementById("street-filter");
    var committees = doc.getElementById("t-committees");
    if (!committees) {
      return;
    }
    if (select) {
      select.textContent = "";
      var all = doc.createElement("option");
      all.value = "";
      all.textContent = T("all");
      select.appendChild(all);
      for (var s = 0; s < D.streets.id.length; s++) {
        var opt = doc.createElement("option");
        opt.value = D.streets.id[s];
        opt.textContent = D.streets.name[s];
        select.appendChild(opt);
      }
      select.value = state.street;
    }
    var rows = rowsOf("committees").filter(function (r) {
      return !state.street || D.streets.id[r.street] === state.street;
    });
    fillTable(committees, rows, [
      { label: "street", value: function (r) { return r.street >= 0 ? D.streets.name[r.street] : ""; } },
      { label: "committee", value: function (r) { return r.name; } },
    ]);
  }

  function renderGroups() {
    var box = doc.getElementById("groups");
    if (!box) {
      return;
    }
    box.textContent = "";
    var d = D.district;
    var total = d.solved || 0;
    for (var g = 0; g < D.groups.length; g++) {
      var value = d["solved_" + D.groups[g]];
      var line = doc.createElement("div");
      line.className = "bar";
      var label = doc.createElement("span");
      label.className = "bar-label";
      label.textContent = T("group." + D.groups[g]);
      var track = doc.createElement("span");
      track.className = "bar-track";
      var fill = doc.createElement("span");
      fill.className = "bar-fill";
      fill.style.width = total > 0 && value !== null ? Math.round((100 * value) / total) + "%" : "0";
      track.appendChild(fill);
      var num = doc.createElement("span");
      num.className = "bar-value";
      num.textContent = count(value);
      line.appendChild(label);
      line.appendChild(track);
      line.appendChild(num);
      box.appendChild(line);
    }
  }

  /* ---------------------------------------------------------------- map */

  /* The outlines of one kind (streets, committees, grids), decoded as the district map's
     (docs/maps.md); the feature's `properties.i` is its row in the geometry table. */
  function features(kind) {
    return M.decode(D.geometry, kind);
  }

  function indexOf(ids) {
    var out = {};
    for (var i = 0; i < ids.length; i++) {
      out[ids[i]] = i;
    }
    return out;
  }

  function hatch(map) {
    return M.hatchFill(map, L.geoJSON()) || "#d9d9d9";
  }

  function fillFor(cls) {
    if (cls === null || cls === undefined || cls < 0) {
      return state.hatch;
    }
    var c = D.legend.colours[cls];
    return COLOUR.test(String(c)) ? c : "#cccccc";
  }

  function tooltip(kind, i) {
    var html = "";
    function row(label, value) {
      html += "<br>" + esc(label) + (state.lang === "en" ? ": " : "：") + esc(value);
    }
    if (kind === "grids") {
      var g = D.geometry.grids;
      var cls = state.gridCls[g.id[i]];
      html = "<b>" + esc(g.name[i]) + "</b>";
      var ci = g.committee[i];
      row(T("committee"), ci >= 0 ? D.geometry.committees.name[ci] : "");
      row(T("coverage"), cls === undefined || cls < 0 ? T("not_published") : D.legend.labels[cls]);
      return '<div class="tip">' + html + "</div>";
    }
    var level = kind === "streets" ? D.streets : D.committees;
    var j = state.pos[kind][D.geometry[kind].id[i]];
    if (j === undefined) {
      return '<div class="tip"><b>' + esc(D.geometry[kind].name[i]) + "</b></div>";
    }
    html = "<b>" + esc(level.name[j]) + "</b>";
    if (kind === "committees" && level.street[j] >= 0) {
      row(T("street"), D.streets.name[level.street[j]]);
    }
    row(T("coverage"), level.coverage[j] === null ? T("not_published") : pct(level.coverage[j]));
    row(T("residents_visited"), count(level.residents_visited[j]));
    row(T("visits"), count(level.visits[j]));
    row(T("solved"), count(level.solved[j]));
    return '<div class="tip">' + html + "</div>";
  }

  function classOf(kind, i) {
    var id = D.geometry[kind].id[i];
    if (kind === "grids") {
      return state.gridCls[id];
    }
    var j = state.pos[kind][id];
    return j === undefined ? -1 : D[kind].cls[j];
  }

  function makeLayer(kind) {
    var layer = L.geoJSON(features(kind), {
      smoothFactor: 0.5,
      style: function (f) {
        var cls = classOf(kind, f.properties.i);
        return {
          weight: kind === "grids" ? 0.5 : 0.9,
          color: "#5f5f5f",
          opacity: 0.8,
          fillOpacity: cls >= 0 ? 0.78 : 0.9,
          fillColor: fillFor(cls),
        };
      },
    });
    layer.bindTooltip(
      function (f) {
        return f.feature ? tooltip(kind, f.feature.properties.i) : "";
      },
      { sticky: true }
    );
    return layer;
  }

  function legendFill(div) {
    div.textContent = "";
    var title = doc.createElement("div");
    title.className = "legend-title";
    title.textContent = T("legend");
    div.appendChild(title);
    var items = [];
    for (var i = 0; i < D.legend.colours.length; i++) {
      items.push([D.legend.colours[i], D.legend.labels[i], false]);
    }
    items.push(["", T("not_published"), true]);
    for (var k = 0; k < items.length; k++) {
      var line = doc.createElement("div");
      var sw = doc.createElement("span");
      sw.className = items[k][2] ? "swatch swatch-hatch" : "swatch";
      if (!items[k][2]) {
        sw.style.background = COLOUR.test(items[k][0]) ? items[k][0] : "#cccccc";
      }
      line.appendChild(sw);
      line.appendChild(doc.createTextNode(items[k][1]));
      div.appendChild(line);
    }
  }

  function tabs() {
    var box = doc.getElementById("map-tabs");
    if (!box) {
      return;
    }
    box.textContent = "";
    var kinds = ["committees", "streets", "grids"];
    for (var i = 0; i < kinds.length; i++) {
      var b = doc.createElement("button");
      b.type = "button";
      b.className = "tab" + (kinds[i] === state.view ? " active" : "");
      b.setAttribute("data-view", kinds[i]);
      b.setAttribute("aria-pressed", kinds[i] === state.view ? "true" : "false");
      b.textContent = T("map." + kinds[i]);
      b.addEventListener("click", onTab);
      box.appendChild(b);
    }
  }

  function onTab(e) {
    show(e.currentTarget.getAttribute("data-view"));
    tabs();
  }

  function show(kind) {
    var map = state.map;
    if (!map) {
      return;
    }
    state.view = kind;
    for (var k in state.layers) {
      if (Object.prototype.hasOwnProperty.call(state.layers, k) && k !== "outline" && map.hasLayer(state.layers[k])) {
        map.removeLayer(state.layers[k]);
      }
    }
    if (!state.layers[kind]) {
      state.layers[kind] = makeLayer(kind); // grids are built only when asked for
    }
    state.layers[kind].addTo(map);
    if (state.layers.outline) {
      state.layers.outline.bringToFront();
    }
    map.getContainer().setAttribute("data-view", kind);
  }

  function drawMap() {
    var box = doc.getElementById("map");
    if (!box || !L || !M || !D.geometry) {
      return;
    }
    var g = D.geometry;
    state.pos = { streets: indexOf(D.streets.id), committees: indexOf(D.committees.id) };
    state.gridCls = {};
    for (var i = 0; i < D.grids.id.length; i++) {
      state.gridCls[D.grids.id[i]] = D.grids.cls[i];
    }
    var map = L.map(box, { zoomSnap: 0.25, preferCanvas: false });
    map.attributionControl.setPrefix("Leaflet");
    L.control.scale({ imperial: false }).addTo(map);
    state.map = map;
    map.fitBounds(
      [
        [g.bbox[1], g.bbox[0]],
        [g.bbox[3], g.bbox[2]],
      ],
      { animate: false }
    );
    // Only a map with a view has its renderer's <svg> in the page, to hold the pattern.
    state.hatch = hatch(map);
    state.layers.outline = L.geoJSON(features("streets"), {
      interactive: false,
      style: function () {
        return { weight: 2.4, color: "#1a1a1a", fill: false, opacity: 1 };
      },
    }).addTo(map);
    show(state.view);
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "legend");
      legendFill(div);
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    legend.addTo(map);
    state.legend = legend;
  }

  function renderMap() {
    if (!state.map) {
      drawMap();
    } else if (state.legend && state.legend.getContainer()) {
      legendFill(state.legend.getContainer());
    }
    tabs();
  }

  /* -------------------------------------------------------------- start */

  function render() {
    var hash = root.location.hash;
    var fallback = doc.body.getAttribute("data-default-lang") === "en" ? "en" : "zh";
    state.lang = hash === "#en" ? "en" : hash === "#zh" ? "zh" : fallback;
    renderTexts();
    renderGroups();
    renderTables();
    renderMap();
    var button = doc.getElementById("lang");
    if (button) {
      button.setAttribute("href", state.lang === "en" ? "#zh" : "#en");
    }
    doc.body.setAttribute("data-lang", state.lang);
    doc.body.setAttribute("data-ready", "1");
    if (root.performance && root.performance.mark) {
      root.performance.mark("public:drawn");
    }
  }

  if (!D) {
    return;
  }
  var select = doc.getElementById("street-filter");
  if (select) {
    select.addEventListener("change", function () {
      state.street = select.value;
      renderTables();
    });
  }
  root.addEventListener("hashchange", render);
  render();
})(window);
