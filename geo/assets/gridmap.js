/* The district-map component: a bidirectional Streamlit component (v1 protocol)
 * around SibaiMap. Our own code; see docs/maps.md.
 *
 * args from Python (geo.maps.gridmap_args):
 *   geometry  relative URL of the payload file (geometry/<hash>.json), fetched
 *             once and kept while the component lives; only a new URL refetches
 *   style     style payload (geo.maps.style_payload) as compact JSON text;
 *             applied with setStyle
 *   height    frame height in px
 *   tiles     online basemap layers ([] offline)
 *   names     {grids, committees, streets} for the layer switcher
 *   view      {bounds: [minx, miny, maxx, maxy], token} to zoom to; a view is
 *             applied only when its token changes, so reruns keep pan and zoom
 * value to Python on a grid click: {grid: "<grid_id>", click: "<frame>:<n>", seq: n}
 *   `click` is unique across frames: the page opens a new frame whenever it
 *   comes back to a map, and a bare counter would start again at 1 there,
 *   so the page could not tell a new click from the last one it handled.
 */
(function () {
  "use strict";
  var map = null;
  var grids = null;
  var control = null;
  var geometryUrl = null;
  var latest = null;
  var viewToken = null;
  var seq = 0;
  // One id per frame, so that click ids never repeat across frames (see above).
  var frameId = Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);

  function send(type, data) {
    var msg = { isStreamlitMessage: true, type: type };
    for (var key in data) {
      msg[key] = data[key];
    }
    window.parent.postMessage(msg, "*");
  }

  function fit(bounds) {
    map.fitBounds(
      [
        [bounds[1], bounds[0]],
        [bounds[3], bounds[2]],
      ],
      { animate: false }
    );
  }

  function applyView(args) {
    var view = args.view;
    if (view && view.bounds && view.token !== viewToken) {
      viewToken = view.token;
      fit(view.bounds);
    }
  }

  function build(payload, args) {
    var names = args.names || {};
    if (grids) {
      map.removeLayer(grids);
    }
    grids = SibaiMap.gridLayer(payload, args.style, { canvas: args.renderer === "canvas" });
    grids.on("click", function (e) {
      var i = e.layer.feature.properties.i;
      var style = {};
      for (var key in grids.sibai.style) {
        style[key] = grids.sibai.style[key];
      }
      style.sel = i; // instant feedback; Python confirms on the rerun
      SibaiMap.restyle(style, grids);
      seq += 1;
      send("streamlit:setComponentValue", {
        value: { grid: payload.grids.id[i], click: frameId + ":" + seq, seq: seq },
        dataType: "json",
      });
    });
    var committees = SibaiMap.outlineLayer(payload, "committees", {
      color: "#4d4d4d",
      weight: 0.9,
      dashArray: "4 3",
    });
    var streets = SibaiMap.outlineLayer(payload, "streets", { color: "#1a1a1a", weight: 2.4 });
    grids.addTo(map);
    committees.addTo(map);
    streets.addTo(map);
    if (control) {
      control.remove();
    }
    var overlays = {};
    overlays[SibaiMap.esc(names.grids || "grids")] = grids;
    overlays[SibaiMap.esc(names.committees || "committees")] = committees;
    overlays[SibaiMap.esc(names.streets || "streets")] = streets;
    control = L.control.layers({}, overlays, { collapsed: false }).addTo(map);
    if (!viewToken) {
      fit(payload.bbox);
    }
    applyView(args);
    document.body.setAttribute("data-grids", String(payload.grids.id.length));
  }

  function load(args) {
    var url = args.geometry;
    geometryUrl = url;
    fetch(url, { cache: "force-cache", credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) {
          throw new Error("geometry " + r.status);
        }
        return r.json();
      })
      .then(function (payload) {
        if (url === geometryUrl) {
          build(payload, latest);
        }
      })
      .catch(function (err) {
        document.body.setAttribute("data-error", String(err));
      });
  }

  // The basemap can change on any rerun: swap tile layers when the list changes.
  var tileLayers = [];
  var tilesKey = null;
  function setTiles(tiles) {
    var key = JSON.stringify(tiles);
    if (key === tilesKey) {
      return;
    }
    tilesKey = key;
    tileLayers.forEach(function (layer) {
      map.removeLayer(layer);
    });
    tileLayers = tiles.map(function (t) {
      return L.tileLayer(t.url, {
        attribution: t.attr,
        subdomains: t.subdomains,
        maxZoom: t.max_zoom,
      }).addTo(map);
    });
    tileLayers.forEach(function (layer) {
      layer.bringToBack();
    });
    document.body.setAttribute("data-tiles", String(tiles.length));
  }

  function render(args) {
    if (typeof args.style === "string") {
      args.style = JSON.parse(args.style);
    }
    latest = args;
    var el = document.getElementById("map");
    var height = Number(args.height) || 600;
    el.style.height = height + "px";
    if (!map) {
      map = L.map(el, { zoomControl: true });
      map.attributionControl.setPrefix("Leaflet");
      L.control.scale({ imperial: false }).addTo(map);
      map.setView([31.258, 121.39], 12);
    }
    setTiles(args.tiles || []);
    send("streamlit:setFrameHeight", { height: height });
    if (args.geometry !== geometryUrl) {
      load(args);
    } else if (grids) {
      SibaiMap.restyle(args.style, grids);
      applyView(args);
    }
  }

  window.addEventListener("message", function (event) {
    if (event.source === window.parent && event.data && event.data.type === "streamlit:render") {
      render(event.data.args || {});
    }
  });
  send("streamlit:componentReady", { apiVersion: 1 });
})();
