// One conversation with a person, live: new messages come on the staff API's stream
// of the conversation, replies are sent without leaving the page, and a change of
// state (taken, ended) shows the page anew.
(function () {
  "use strict";
  var chat = document.getElementById("chat");
  if (!chat) return;
  function scroll() { chat.scrollTop = chat.scrollHeight; }
  scroll();
  function stamp(at, by) {
    var d = new Date(at);
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    var s = two(d.getDate()) + "-" + two(d.getMonth() + 1) + "-" + d.getFullYear() + " " + two(d.getHours()) + "." + two(d.getMinutes());
    return by ? s + " · " + by : s;
  }
  if (window.EventSource) {
    var stream = new EventSource(chat.dataset.stream);
    stream.addEventListener("message", function (e) {
      var line = JSON.parse(e.data);
      var li = document.createElement("li");
      li.className = "msg " + (line.from === "citizen" ? "person" : line.from === "staff" ? "staff" : "bot");
      li.textContent = line.text || (line.media ? chat.dataset.photo : "");
      var small = document.createElement("small");
      small.textContent = stamp(line.at, line.by);
      li.appendChild(small);
      chat.appendChild(li);
      scroll();
    });
    stream.addEventListener("state", function () { stream.close(); location.reload(); });
  }
  var form = document.getElementById("reply");
  if (!form || !window.fetch) return;
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var box = document.getElementById("reply-text");
    if (!box.value.trim()) return;
    var button = document.getElementById("send");
    button.disabled = true;
    fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)),
      headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 204) { box.value = ""; return; }
        return r.text().then(function (html) { document.open(); document.write(html); document.close(); });
      })
      .catch(function () {})
      .finally(function () { button.disabled = false; box.focus(); });
  });
})();
