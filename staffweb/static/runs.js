// Follows a broadcast's runs live: while one is being delivered (or a single run is
// still to come), the table is fetched again every two seconds; once nothing is left
// to follow, the whole page is loaded again.
(function () {
  "use strict";
  var table = document.getElementById("runs");
  if (!table) return;
  function live() {
    var body = document.getElementById("runs-body");
    return body && body.dataset.live === "1";
  }
  function tick() {
    if (!live()) return;
    fetch(table.dataset.src, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var tmp = document.createElement("table");
        tmp.innerHTML = html;
        var fresh = tmp.querySelector("tbody");
        var old = document.getElementById("runs-body");
        if (fresh && old) old.replaceWith(fresh);
        // Delivered: the page is shown anew, with the broadcast's state and what
        // can still be done with it.
        if (fresh && fresh.dataset.live !== "1") location.reload();
      })
      .catch(function () {})
      .finally(function () { setTimeout(tick, 2000); });
  }
  setTimeout(tick, 2000);
})();
