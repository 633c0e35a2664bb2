// Starling's page script: relative times, the compose counter, forms sent
// without a reload, and live timelines over Server-Sent Events. The pages
// work without it.
"use strict";
(function () {
  function ago(t) {
    var s = Math.max(0, (Date.now() - t) / 1000);
    if (s < 10) return "just now";
    if (s < 60) return Math.floor(s) + "s ago";
    if (s < 3600) return Math.floor(s / 60) + "m ago";
    if (s < 86400) return Math.floor(s / 3600) + "h ago";
    if (s < 2592000) return Math.floor(s / 86400) + "d ago";
    return Math.floor(s / 2592000) + "mo ago";
  }
  function refreshTimes() {
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var t = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(t)) el.textContent = ago(t);
    });
  }
  setInterval(refreshTimes, 30000);

  // The compose counter: characters left, announced politely.
  document.querySelectorAll("textarea[data-counter]").forEach(function (ta) {
    var out = document.getElementById(ta.dataset.counter);
    var max = parseInt(out.dataset.max, 10);
    ta.removeAttribute("maxlength"); // show the overflow instead of cutting it
    function update() {
      var left = max - Array.from(ta.value.trim()).length;
      out.textContent = left >= 0 ? left + " characters left" : -left + " characters too many";
      out.classList.toggle("over", left < 0);
    }
    out.setAttribute("aria-live", "polite");
    ta.addEventListener("input", update);
    update();
  });

  // Forms marked data-fetch are sent without leaving the page; the live
  // stream shows the result. A failure is shown next to its field.
  function showError(form, field, msg) {
    form.querySelectorAll("[data-fetch-error]").forEach(function (e) { e.remove(); });
    if (!msg) return;
    var p = document.createElement("p");
    p.className = "field-error";
    p.setAttribute("role", "alert");
    p.dataset.fetchError = "";
    p.textContent = msg;
    var input = field && form.querySelector("[name='" + field + "']");
    (input ? input.closest("label") || input : form.lastElementChild).insertAdjacentElement("afterend", p);
  }
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute("data-fetch")) return;
    ev.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    fetch(form.action, {
      method: "POST", body: new URLSearchParams(new FormData(form)),
      headers: { "X-Requested-With": "fetch" }, credentials: "same-origin"
    }).then(function (res) {
      if (res.ok) {
        showError(form);
        if (form.hasAttribute("data-reset")) { form.reset(); form.querySelectorAll("textarea").forEach(function (t) { t.dispatchEvent(new Event("input")); }); }
        var item = form.closest(".status");
        if (item && form.classList.contains("delete")) item.remove();
        return;
      }
      return res.json().then(function (b) { showError(form, b.error.field, b.error.message); });
    }).catch(function () {
      showError(form, "", "The server could not be reached; try again.");
    }).finally(function () { if (button) button.disabled = false; });
  });

  // Live timelines. EventSource reconnects by itself and sends
  // Last-Event-ID, so the server replays what was missed.
  var list = document.querySelector("ol.timeline[data-stream]");
  if (!list || !window.EventSource) return;
  var tpl = document.getElementById("status-template");
  var note = document.querySelector("[data-live-note]");
  var author = list.closest("[data-author]");
  author = author && author.dataset.author.toLowerCase();
  var me = (list.dataset.me || "").toLowerCase();
  function say(text) { if (note) { note.hidden = !text; note.textContent = text || ""; } }
  function render(s) {
    var li = tpl.content.firstElementChild.cloneNode(true);
    li.id = "s" + s.id;
    li.dataset.id = s.id;
    li.classList.add("new");
    var login = li.querySelector(".login");
    login.textContent = "@" + s.login;
    login.href = "/u/" + encodeURIComponent(s.login);
    li.querySelector(".when").href = "/s/" + s.id;
    var time = li.querySelector("time");
    time.setAttribute("datetime", s.posted);
    time.title = new Date(s.posted).toString();
    time.textContent = ago(Date.parse(s.posted));
    li.querySelector(".message").textContent = s.message;
    if (s.location) {
      var loc = li.querySelector(".location");
      loc.hidden = false;
      loc.lastElementChild.textContent = s.location.lat.toFixed(4) + ", " + s.location.lon.toFixed(4);
    }
    var del = li.querySelector("form.delete");
    if (me && s.login.toLowerCase() === me) { del.action = "/s/" + s.id + "/delete"; del.hidden = false; } else { del.remove(); }
    return li;
  }
  var es = new EventSource(list.dataset.stream);
  es.addEventListener("open", function () { say(""); list.dataset.live = "on"; });
  // A reload shows everything again from the server.
  function sayReload(text) {
    say(text + " ");
    var a = document.createElement("a");
    a.href = location.pathname + location.search;
    a.textContent = "Reload";
    if (note) note.appendChild(a);
  }
  es.addEventListener("error", function () {
    list.dataset.live = "off";
    // CLOSED: the server refused the stream (a rate limit, a session
    // that ended); EventSource does not try again.
    if (es.readyState === EventSource.CLOSED) sayReload("Live updates stopped.");
    else say("Reconnecting…");
  });
  es.addEventListener("status", function (ev) {
    var s = JSON.parse(ev.data);
    if (author && s.login.toLowerCase() !== author) return;
    if (document.getElementById("s" + s.id)) return;
    var empty = list.querySelector("[data-empty]");
    if (empty) empty.remove();
    // Newest first: before the first status with a smaller id.
    var before = Array.prototype.find.call(list.children, function (c) { return Number(c.dataset.id) < s.id; });
    list.insertBefore(render(s), before || null);
  });
  es.addEventListener("delete", function (ev) {
    var el = document.getElementById("s" + JSON.parse(ev.data).id);
    if (el) el.remove();
  });
  es.addEventListener("gap", function () { sayReload("Some updates were missed while offline."); });
  es.addEventListener("disconnect", function () { say("Reconnecting…"); });
})();
