// The pin of a complaint on a Leaflet map. The tiles come from the server named in
// data-tiles (STAFF_MAP_TILES); when they cannot load, the map still shows the pin
// and the page says so (the coordinates and a map link are in the text anyway).
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var lat = parseFloat(el.dataset.lat), lon = parseFloat(el.dataset.lon);
  var map = L.map(el, { scrollWheelZoom: false }).setView([lat, lon], 16);
  var failed = false;
  L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: "© OpenStreetMap" })
    .on("tileerror", function () {
      if (failed) return;
      failed = true;
      var note = document.getElementById("map-failed");
      if (note) note.hidden = false;
    })
    .addTo(map);
  L.marker([lat, lon], { keyboard: false }).addTo(map);
})();
