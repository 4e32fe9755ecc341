// The queue of people waiting for staff, kept current by the staff API's live
// stream: on every change the lists are fetched again from the server.
(function () {
  "use strict";
  var box = document.getElementById("queue");
  if (!box || !window.EventSource) return;
  var busy = false;
  function refresh() {
    if (busy) return;
    busy = true;
    fetch(box.dataset.src, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () {})
      .finally(function () { busy = false; });
  }
  var first = true;
  new EventSource(box.dataset.stream).addEventListener("queue", function () {
    if (first) { first = false; return; } // the page already shows the queue as it was
    refresh();
  });
})();
