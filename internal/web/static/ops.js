// The operations page's script: the live access log over Server-Sent
// Events, newest first, the newest 100 kept.
"use strict";
(function () {
  var body = document.getElementById("accesslog");
  if (!body || !window.EventSource) return;
  var note = document.querySelector("[data-accesslog-note]");
  var es = new EventSource(body.dataset.stream);
  function cell(tr, text) {
    var td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    tr.appendChild(td);
  }
  function add(ev) {
    var e;
    try { e = JSON.parse(ev.data); } catch (_) { e = { path: ev.data }; }
    var tr = document.createElement("tr");
    cell(tr, e.time ? new Date(e.time).toLocaleTimeString() : "");
    cell(tr, e.method);
    cell(tr, e.path);
    cell(tr, e.status);
    cell(tr, e.duration_ms != null ? e.duration_ms + " ms" : e.duration);
    body.insertBefore(tr, body.firstChild);
    while (body.children.length > 100) body.removeChild(body.lastChild);
  }
  es.addEventListener("message", add);
  es.addEventListener("request", add);
  es.addEventListener("open", function () { note.textContent = "Live: the newest requests, then new ones as they happen."; });
  es.addEventListener("error", function () { note.textContent = "The access log is not reachable; retrying…"; });
})();
