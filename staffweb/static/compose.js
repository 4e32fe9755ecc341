// The broadcast form: characters counted as typed, a preview of each language as
// people will read it (the English one falls back to the Indonesian text, as the
// delivery does), and only the part of "when" that was chosen.
(function () {
  "use strict";
  var form = document.getElementById("compose");
  if (!form) return;
  var id = document.getElementById("text_id"), en = document.getElementById("text_en");
  function count(el) {
    var box = form.querySelector('.count[data-for="' + el.id + '"]');
    if (!box) return;
    var n = Array.from(el.value).length, max = parseInt(el.getAttribute("maxlength"), 10);
    box.textContent = box.dataset.template.replace("{n}", n).replace("{max}", max);
    box.classList.toggle("over", n > max);
  }
  function preview() {
    var pid = document.getElementById("preview-id"), pen = document.getElementById("preview-en");
    if (pid) pid.textContent = id.value;
    if (pen) pen.textContent = en.value || id.value;
  }
  [id, en].forEach(function (el) {
    if (!el) return;
    el.addEventListener("input", function () { count(el); preview(); });
    count(el);
  });
  preview();
  function when() {
    var picked = form.querySelector('input[name="when"]:checked');
    var value = picked ? picked.value : "now";
    form.querySelectorAll(".when-part").forEach(function (p) { p.hidden = p.dataset.when !== value; });
    var repeat = document.getElementById("repeat"), day = document.getElementById("day");
    if (repeat && day) day.disabled = repeat.value !== "weekly";
  }
  form.addEventListener("change", when);
  when();
})();
