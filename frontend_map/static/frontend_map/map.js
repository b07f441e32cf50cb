/* Tianjie parcel map: Leaflet + VectorGrid over the project's own MVT endpoints; no internet needed.
 * Parcel identification is a server-side point query (/api/parcels/at/), scoped like the tiles;
 * VectorGrid's own click handling is broken on Leaflet >= 1.8 (Leaflet.VectorGrid issue #274). */
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("map-config").textContent);
  const statusEl = document.getElementById("status");
  const panel = document.getElementById("panel");
  const panelBody = document.getElementById("panel-body");

  function status(text, isError) {
    statusEl.textContent = text || "";
    statusEl.className = "status" + (isError ? " error" : "");
  }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }

  const map = L.map("map", {preferCanvas: true, maxZoom: 20, zoomControl: true});
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("田界 Tianjie · CGCS2000");
  L.control.scale({metric: true, imperial: false}).addTo(map);
  map.fitBounds([[cfg.bbox[1], cfg.bbox[0]], [cfg.bbox[3], cfg.bbox[2]]]);

  const LAND_USE_COLOURS = {"011": "#8fc98f", "012": "#a8d5a0", "013": "#e3d38c", "021": "#f0b27a", "022": "#b5d99c"};

  const regions = L.vectorGrid.protobuf("/tiles/regions/{z}/{x}/{y}.mvt", {
    rendererFactory: L.canvas.tile, maxNativeZoom: 18, maxZoom: 20, interactive: false,
    vectorTileLayerStyles: {
      regions: (p) => ({
        weight: p.level === "township" || p.level === "county" ? 2.2 : p.level === "village" ? 1.4 : 0.8,
        color: p.level === "group" ? "#9e9e9e" : "#616161",
        dashArray: p.level === "group" ? "3 3" : null, fill: false,
      }),
    },
  }).addTo(map);

  const parcels = L.vectorGrid.protobuf("/tiles/parcels/{z}/{x}/{y}.mvt", {
    rendererFactory: L.canvas.tile, maxNativeZoom: 18, maxZoom: 20, interactive: false,
    vectorTileLayerStyles: {
      parcels: (p) => ({
        weight: 0.6, color: "#2e5d32", fill: true, fillOpacity: 0.55,
        fillColor: LAND_USE_COLOURS[p.tdlylx] || (p.dklb === "10" ? "#9ccc65" : "#cfd8dc"),
      }),
      groups: () => ({weight: 0.8, color: "#558b2f", fill: true, fillColor: "#aed581", fillOpacity: 0.35}),
    },
  }).addTo(map);
  parcels.on("tileerror", () => status("部分图块加载失败，请检查登录状态 / Some tiles failed to load; check you are logged in", true));
  parcels.on("load", () => status(""));

  // Imagery 影像 (MapProxy at /imagery/, checked per layer): base layers under the parcels.
  map.createPane("imagery");
  map.getPane("imagery").style.zIndex = 150;  // below the tile pane (200) where the vector grids draw
  const bases = {"无影像 No imagery": L.layerGroup()};
  (cfg.imagery || []).forEach((im) => {
    bases[im.title] = L.tileLayer(im.url, {
      pane: "imagery", bounds: im.bounds, maxNativeZoom: im.maxNativeZoom, maxZoom: 20, className: "imagery-layer",
    });
  });
  let activeBase = Object.values(bases)[cfg.imagery && cfg.imagery.length ? 1 : 0];
  activeBase.addTo(map);
  map.on("baselayerchange", (e) => { activeBase = e.layer; if (activeBase.setOpacity) activeBase.setOpacity(opacity.value / 100); });
  // Parcels on notice 公示中 for the user's collectives (their own and the neighbouring ones), linked to the notice.
  const onNotice = L.geoJSON(null, {
    style: {color: "#d32f2f", weight: 2.5, fillColor: "#ffd54f", fillOpacity: 0.5},
    onEachFeature: (f, l) => l.bindPopup(
      `<strong>公示中 On notice</strong><br><a href="/notices/${Number(f.properties.notice)}/">${esc(f.properties.title)}</a>` +
      `<br>地块 ${esc(f.properties.dkbm)}<br>截止 until ${esc(f.properties.ends_on)}`),
  }).addTo(map);
  if (cfg.notices) {
    fetch(cfg.notices, {credentials: "same-origin"}).then((r) => r.json()).then((fc) => {
      onNotice.addData(fc);
      document.getElementById("map").dataset.noticeFeatures = String(fc.features.length);
    });
  }
  L.control.layers(bases, {"地块 Parcels": parcels, "行政界线 Boundaries": regions, "公示中 On notice": onNotice},
    {collapsed: true, position: "topleft"}).addTo(map);

  const opacity = L.DomUtil.create("input");
  const OpacityControl = L.Control.extend({
    onAdd() {
      const box = L.DomUtil.create("label", "leaflet-bar opacity-control");
      box.innerHTML = "影像不透明度 <span class=\"en\">Imagery opacity</span> ";
      Object.assign(opacity, {type: "range", min: 0, max: 100, value: 100, id: "imagery-opacity"});
      opacity.setAttribute("aria-label", "影像不透明度 Imagery opacity");
      box.appendChild(opacity);
      L.DomEvent.disableClickPropagation(box);
      opacity.addEventListener("input", () => { if (activeBase.setOpacity) activeBase.setOpacity(opacity.value / 100); });
      return box;
    },
  });
  if (cfg.imagery && cfg.imagery.length) new OpacityControl({position: "bottomleft"}).addTo(map);

  // The cursor in CGCS2000: longitude/latitude, and easting/northing in the county's Gauss-Kruger zone.
  const PositionControl = L.Control.extend({
    onAdd() {
      const box = L.DomUtil.create("div", "leaflet-bar position-control");
      box.id = "cursor-position";
      box.textContent = "CGCS2000";
      return box;
    },
  });
  new PositionControl({position: "bottomright"}).addTo(map);
  const toPlane = cfg.plane && window.proj4 ? proj4("+proj=longlat +ellps=GRS80 +no_defs", cfg.plane.proj4) : null;
  map.on("mousemove", (e) => {
    const lon = e.latlng.lng, lat = e.latlng.lat;
    let text = `经度 ${lon.toFixed(6)}° 纬度 ${lat.toFixed(6)}°`;
    if (toPlane) {
      const [x, y] = toPlane.forward([lon, lat]);
      text += ` · X(北) ${y.toFixed(2)} Y(东) ${x.toFixed(2)} (EPSG:${cfg.plane.epsg})`;
    }
    document.getElementById("cursor-position").textContent = text;
  });

  let highlight = null;
  function showCard(card) {
    if (highlight) map.removeLayer(highlight);
    highlight = L.geoJSON(card.geometry, {style: {color: "#d84315", weight: 3, fill: false}}).addTo(map);
    const c = card.contractor;
    const s = card.four_sides;
    panelBody.innerHTML =
      `<h2>${esc(card.dkmc)} <small>地块 Parcel</small></h2><dl>` +
      `<dt>地块编码 <span class="en">Code</span></dt><dd data-field="dkbm">${esc(card.dkbm)}</dd>` +
      `<dt>四至 <span class="en">Bounds</span></dt><dd data-field="four-sides">东 ${esc(s.east)}；西 ${esc(s.west)}；南 ${esc(s.south)}；北 ${esc(s.north)}</dd>` +
      `<dt>实测面积 <span class="en">Area</span></dt><dd data-field="area">${esc(card.scmj)} m² / ${esc(card.scmjm)} 亩</dd>` +
      `<dt>地块类别 <span class="en">Class</span></dt><dd>${esc(card.land_class)}</dd>` +
      `<dt>利用类型 <span class="en">Land use</span></dt><dd>${esc(card.land_use_type)}</dd>` +
      `<dt>基本农田 <span class="en">Basic farmland</span></dt><dd>${card.basic_farmland ? "是 yes" : "否 no"}</dd>` +
      `<dt>发包方 <span class="en">Issuer</span></dt><dd>${esc(card.issuer.name)}</dd>` +
      `<dt>承包方 <span class="en">Contractor</span></dt><dd data-field="contractor">${c ? esc(c.name) : "—"}</dd>` +
      `<dt>证件号码 <span class="en">ID no.</span></dt><dd data-field="contractor-id">${c ? esc(c.id_number_masked) : "—"}</dd>` +
      `<dt>合同编码 <span class="en">Contract</span></dt><dd>${esc(card.contract_code || "—")}</dd>` +
      `</dl>`;
    panel.hidden = false;
  }

  async function getJSON(url) {
    const resp = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}});
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      const e = (data && data.error) || {};
      throw new Error((e.message || "请求失败") + (e.message_en ? " / " + e.message_en : " / request failed"));
    }
    return data;
  }

  map.on("click", async (ev) => {
    if (map.getZoom() < cfg.parcelMinZoom) {
      status(`请放大到 ${cfg.parcelMinZoom} 级以上再点选地块 / Zoom in to level ${cfg.parcelMinZoom} to pick a parcel`);
      return;
    }
    status("查询中… / Looking up…");
    try {
      showCard(await getJSON(`/api/parcels/at/?lon=${ev.latlng.lng.toFixed(9)}&lat=${ev.latlng.lat.toFixed(9)}`));
      status("");
    } catch (err) {
      status(err.message, true);
    }
  });

  document.getElementById("panel-close").addEventListener("click", () => {
    panel.hidden = true;
    if (highlight) map.removeLayer(highlight);
  });

  function zoomTo(card) {
    map.fitBounds([[card.bbox[1], card.bbox[0]], [card.bbox[3], card.bbox[2]]], {maxZoom: 18});
    showCard(card);
  }

  document.getElementById("search").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const q = document.getElementById("q").value.trim();
    if (!q) return;
    status("搜索中… / Searching…");
    try {
      const data = await getJSON(`/api/parcels/search/?q=${encodeURIComponent(q)}`);
      status("");
      if (!data.results.length) {
        status("没有找到匹配的地块 / No matching parcel", true);
      } else if (data.results.length === 1) {
        zoomTo(data.results[0]);
      } else {
        panelBody.innerHTML = `<h2>找到 ${data.results.length} 个地块 <small>${data.results.length} parcels</small></h2><ul>` +
          data.results.map((c, i) => `<li data-i="${i}">${esc(c.dkbm)} ${esc(c.dkmc)} · ${esc(c.contractor ? c.contractor.name : "")} · ${esc(c.scmjm)} 亩</li>`).join("") + "</ul>";
        panel.hidden = false;
        panelBody.querySelectorAll("li").forEach((li) => li.addEventListener("click", () => zoomTo(data.results[Number(li.dataset.i)])));
      }
    } catch (err) {
      status(err.message, true);
    }
  });

  window.tianjieMap = map;  // for tests and the browser console
})();
