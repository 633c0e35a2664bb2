// The chat page's script: the classic /a/message/new and
// /a/message/updates protocol (form posts with the _xsrf cookie's value),
// long-polling from the newest message held, so a dropped connection loses
// nothing. Messages are written as text, never as HTML.
"use strict";
(function () {
  var inbox = document.getElementById("inbox");
  var form = document.getElementById("messageform");
  if (!inbox) return;
  var room = inbox.dataset.room;
  var cursor = inbox.dataset.cursor || "";
  var err = document.getElementById("body-error");
  var note = document.querySelector("[data-live-note]");
  function xsrf() {
    var m = document.cookie.match("\\b_xsrf=([^;]*)\\b");
    return m ? m[1] : form ? form.elements._xsrf.value : "";
  }
  function show(m) {
    if (document.getElementById("m" + m.id)) return;
    var li = document.createElement("li");
    li.className = "message";
    li.id = "m" + m.id;
    var who = document.createElement("span");
    who.className = "who";
    if (m.login) {
      var a = document.createElement("a");
      a.href = "/u/" + encodeURIComponent(m.login);
      a.textContent = "@" + m.login;
      who.appendChild(a);
    } else { who.textContent = "anonymous"; }
    var body = document.createElement("span");
    body.className = "body";
    body.textContent = m.body;
    var t = document.createElement("time");
    t.setAttribute("datetime", m.posted);
    t.title = new Date(m.posted).toString();
    t.textContent = "just now";
    li.append(who, " ", body, " ", t);
    inbox.appendChild(li);
    inbox.scrollTop = inbox.scrollHeight;
  }
  function post(path, fields) {
    var body = new URLSearchParams(fields);
    body.set("_xsrf", xsrf());
    body.set("room", room);
    return fetch(path, { method: "POST", body: body, credentials: "same-origin" });
  }
  // No form: a signed-out reader of a room that wants a login.
  if (form) form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = form.elements.body;
    post("/a/message/new", { body: input.value }).then(function (res) {
      return res.json().then(function (b) {
        if (!res.ok) throw new Error(b.error ? b.error.message : "The message was not sent.");
        err.hidden = true;
        input.value = "";
        show(b);
      });
    }).catch(function (e) {
      err.textContent = e.message;
      err.hidden = false;
    });
  });
  // Long-polls from the newest message held. A held poll says nothing
  // until a message comes, so the page counts as live while one is out;
  // after a failure it asks the server something that answers at once
  // (GET /a/message/xsrf) to know it is back, then polls again from the
  // same cursor, so nothing is lost.
  var delay = 500;
  function down() {
    inbox.dataset.live = "off";
    note.textContent = "Reconnecting…";
    note.hidden = false;
    setTimeout(reconnect, delay);
    delay = Math.min(delay * 2, 10000);
  }
  function reconnect() {
    fetch("/a/message/xsrf", { credentials: "same-origin" }).then(function (res) {
      if (!res.ok) throw new Error("status " + res.status);
      delay = 500;
      poll();
    }).catch(down);
  }
  function poll() {
    inbox.dataset.live = "on";
    note.hidden = true;
    var fields = {};
    if (cursor) fields.cursor = cursor;
    post("/a/message/updates", fields).then(function (res) {
      if (!res.ok) throw new Error("status " + res.status);
      return res.json();
    }).then(function (b) {
      b.messages.forEach(function (m) { show(m); cursor = m.id; });
      setTimeout(poll, 0);
    }).catch(down);
  }
  poll();
})();
