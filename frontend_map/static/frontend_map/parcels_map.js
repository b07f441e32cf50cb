// A small map of some parcels (a notice's, a household's): the county's imagery (if any) under them,
// outlined in red. Each element with data-parcels-map="<id of a json_script>" gets one; the config gives
// the GeoJSON URL and the imagery layers. The element's data-features tells how many were drawn.
(function () {
  "use strict";
  function draw(el) {
    const config = JSON.parse(document.getElementById(el.dataset.parcelsMap).textContent);
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
    fetch(config.geojson, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (fc) {
      const layer = L.geoJSON(fc, {
        style: {color: "#d32f2f", weight: 3, fillColor: "#ffd54f", fillOpacity: 0.45},
        onEachFeature: function (f, l) {
          // labels stay on when there is room for them; otherwise they show on touch or hover
          const room = fc.features.length <= 12 && el.clientWidth >= 600;
          l.bindTooltip(f.properties.dkbm.slice(-5) + " " + (f.properties.dkmc || ""), {permanent: room});
        }
      }).addTo(map);
      if (fc.features.length) { map.fitBounds(layer.getBounds().pad(0.5)); } else { map.setView([25, 110], 12); }
      el.dataset.features = String(fc.features.length);
    });
    el.tianjieMap = map;
  }
  document.querySelectorAll("[data-parcels-map]").forEach(draw);
})();
