// A small map of some parcels (a notice's, a household's, a survey's old and new boundaries): the county's
// imagery (if any) under them. Each element with data-parcels-map="<id of a json_script>" gets one. The
// config gives either `geojson` (one layer, outlined in red) or `layers`: [{url, style, byStatus, label}],
// drawn in order, the map fitted to all of them. data-features tells how many features the first layer
// has (data-features-1, -2 … the others) once drawn.
(function () {
  "use strict";
  const RED = {color: "#d32f2f", weight: 3, fillColor: "#ffd54f", fillOpacity: 0.45};

  function draw(el) {
    const config = JSON.parse(document.getElementById(el.dataset.parcelsMap).textContent);
    const specs = config.layers || [{url: config.geojson, style: RED}];
    const map = L.map(el, {zoomControl: true});
    const bases = {};
    (config.imagery || []).forEach(function (layer, i) {
      const t = L.tileLayer(layer.url, {maxZoom: 21, maxNativeZoom: layer.maxNativeZoom, bounds: layer.bounds});
      bases[layer.title] = t;
      if (i === 0) t.addTo(map);
    });
    if (Object.keys(bases).length > 1) L.control.layers(bases, {}).addTo(map);
    if (L.vectorGrid) {  // the user's own parcels for context (the tiles are scoped like everywhere else)
      L.vectorGrid.protobuf("/tiles/parcels/{z}/{x}/{y}.mvt", {
        rendererFactory: L.canvas.tile, maxNativeZoom: 18, maxZoom: 21, interactive: false,
        vectorTileLayerStyles: {
          parcels: () => ({weight: 0.8, color: "#ffffff", fill: false}),
          groups: () => ({weight: 0.8, color: "#ffffff", fill: false}),
        },
      }).addTo(map);
    }
    L.control.scale({imperial: false}).addTo(map);
    const get = (url) => fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); });
    Promise.all(specs.map(function (s) { return get(s.url); })).then(function (collections) {
      let bounds = null;
      collections.forEach(function (fc, i) {
        const spec = specs[i];
        const layer = L.geoJSON(fc, {
          style: function (f) {
            const extra = spec.byStatus && f.properties.status ? spec.byStatus[f.properties.status] : {};
            return Object.assign({}, spec.style || RED, extra);
          },
          pointToLayer: function (f, latlng) { return L.circleMarker(latlng, {radius: 4}); },
          onEachFeature: function (f, l) {
            // labels stay on when there is room for them; otherwise they show on touch or hover
            const room = fc.features.length <= 12 && el.clientWidth >= 600 && spec.label !== false;
            const text = f.properties.label || ((f.properties.dkbm || "").slice(-5) + " " + (f.properties.dkmc || ""));
            if (text.trim()) l.bindTooltip(text, {permanent: room});
          }
        }).addTo(map);
        if (fc.features.length) { bounds = bounds ? bounds.extend(layer.getBounds()) : layer.getBounds(); }
        el.dataset[i === 0 ? "features" : "features-" + i] = String(fc.features.length);
      });
      if (bounds) { map.fitBounds(bounds.pad(0.5)); } else { map.setView([25, 110], 12); }
    });
    el.tianjieMap = map;
  }
  document.querySelectorAll("[data-parcels-map]").forEach(draw);
})();
