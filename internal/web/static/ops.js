// The operations page's script: the live access log over Server-Sent
// Events, one "access" event per request (named by its route, which holds
// its method): the newest 100 requests oldest first, then each new one.
// Rows are shown newest first, the newest 100 kept. A reconnection
// replays the newest 100 again; rows already shown are skipped by request
// id.
"use strict";
(function () {
  var body = document.getElementById("accesslog");
  if (!body || !window.EventSource) return;
  var note = document.querySelector("[data-accesslog-note]");
  var shown = new Set();
  var es = new EventSource(body.dataset.stream);
  function cell(tr, text) {
    var td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    tr.appendChild(td);
  }
  es.addEventListener("access", function (ev) {
    var e;
    try { e = JSON.parse(ev.data); } catch (_) { return; }
    if (shown.has(e.request_id)) return;
    shown.add(e.request_id);
    var tr = document.createElement("tr");
    tr.dataset.requestId = e.request_id;
    cell(tr, new Date(e.time).toLocaleTimeString());
    cell(tr, e.route);
    cell(tr, e.status);
    cell(tr, e.duration_ms.toFixed(1) + " ms");
    cell(tr, e.process);
    body.insertBefore(tr, body.firstChild);
    while (body.children.length > 100) {
      shown.delete(body.lastChild.dataset.requestId);
      body.removeChild(body.lastChild);
    }
  });
  es.addEventListener("open", function () {
    body.dataset.live = "on";
    note.textContent = "Live: the newest requests, then new ones as they happen.";
  });
  es.addEventListener("end", function () {
    note.textContent = "The server is shutting down; reconnecting…";
  });
  es.addEventListener("error", function () {
    body.dataset.live = "off";
    note.textContent = es.readyState === EventSource.CLOSED
      ? "The access log was refused (is this session still an administrator's?). Reload to try again."
      : "The access log is not reachable; reconnecting…";
  });
})();
