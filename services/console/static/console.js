// The console's only script: keeps a half-filled form across a login, wires live queue
// nudges to htmx, the signature pad, and a page waiting for a restarting stage.
// Plain ES2017, no build step.
(function () {
  "use strict";
  var KEPT = "tuntas.kept.";

  function keep(form) {
    var key = KEPT + form.dataset.keep;
    var saved = {};
    try { saved = JSON.parse(sessionStorage.getItem(key) || "{}"); } catch (e) { saved = {}; }
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.type === "hidden" || !(el.name in saved)) return;
      if (el.type === "checkbox") { if (!el.checked) el.checked = !!saved[el.name]; }
      else if (!el.value) el.value = saved[el.name];
    });
    function save() {
      var data = {};
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || el.type === "file" || el.type === "hidden") return;
        data[el.name] = el.type === "checkbox" ? el.checked : el.value;
      });
      sessionStorage.setItem(key, JSON.stringify(data));
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
  }

  function clearKept(prefix) {
    for (var i = sessionStorage.length - 1; i >= 0; i--) {
      var name = sessionStorage.key(i);
      if (name && name.indexOf(KEPT + prefix) === 0) sessionStorage.removeItem(name);
    }
  }

  function live(url) {
    if (!window.EventSource || !document.querySelector("[hx-trigger*='queue-']")) return;
    var source = new EventSource(url);
    var later = {};
    source.addEventListener("queue", function (event) {
      var name = "queue-" + event.data;
      if (!window.htmx) return;
      window.htmx.trigger(document.body, name);
      // The stage owning the queue may apply the same event a moment after the console saw
      // it (its own consumer): look again shortly, once per burst of nudges.
      clearTimeout(later[name]);
      later[name] = setTimeout(function () {
        window.htmx.trigger(document.body, name);
        later[name] = setTimeout(function () { window.htmx.trigger(document.body, name); }, 5000);
      }, 1500);
    });
  }

  function signature(form) {
    var canvas = document.getElementById("signature-pad");
    if (!canvas || !window.SignaturePad) return;
    var pad = new window.SignaturePad(canvas);
    document.getElementById("signature-clear").addEventListener("click", function () { pad.clear(); });
    form.addEventListener("submit", function () {
      document.getElementById("signature").value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
    });
  }

  // A page read that met a restarting stage: ask for it again now and then, and show it once
  // it answers (a page that changes only when its content is there, not on a timer).
  function comeBack(el) {
    var every = 1000 * Number(el.dataset.comeBack);
    function again() {
      fetch(location.href, { credentials: "same-origin" }).then(function (answer) {
        if (answer.ok) location.reload(); else setTimeout(again, every);
      }, function () { setTimeout(again, every); });
    }
    setTimeout(again, every);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-clear-kept]").forEach(function (el) { clearKept(el.dataset.clearKept); });
    document.querySelectorAll("form[data-keep]").forEach(keep);
    document.querySelectorAll("form[data-signature-form]").forEach(signature);
    var refusal = document.getElementById("refusal");
    if (refusal) refusal.focus();
    if (document.body.dataset.live) live(document.body.dataset.live);
    document.querySelectorAll("[data-come-back]").forEach(comeBack);
  });
})();
