/* The privacy page: requests by mail link, their status by reference, and for signed-in users their
   consents, its verified history and their requests. No dependencies.
   Signing in: the dashboard calls window.privacyPage.signIn(getToken), getToken returning the user's
   bearer token (or a promise of it); or, embedding the page in a frame, posts
   {type: "privacy-page-token", token} from one of the origins in data-token-origins. */
(function (w, d) {
  "use strict";
  var main = d.getElementById("main");
  var api = (main.dataset.api || "/api").replace(/\/$/, "");
  var getToken = null, catalog = null;
  var STATUS = {
    "awaiting-verification": "Waiting for you to confirm it from our email",
    "awaiting-approval": "Confirmed; waiting for a member of our privacy team",
    "in-progress": "In progress", failed: "Delayed: our team is on it", completed: "Done",
    denied: "Declined (our email says why)", "closed-unverified": "Closed: it was never confirmed"
  };
  var SOURCES = { banner: "Cookie banner", dashboard: "Your account", api: "Our service", gpc: "Global Privacy Control signal", link: "Carried over at sign-in" };
  var REFERENCE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  function $(id) { return d.getElementById(id); }
  function el(tag, text, attrs) {
    var e = d.createElement(tag);
    if (text != null) e.textContent = text;
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }
  function day(iso) { return iso ? iso.slice(0, 10) : ""; }
  function say(box, text, kind) { box.textContent = ""; box.appendChild(el("p", text, { class: kind || "" })); }
  function randomKey() { return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).replace(/[^A-Za-z0-9-]/g, ""); }

  function call(method, path, body, signed) {
    var headers = {};
    if (body) headers["Content-Type"] = "application/json";
    var ready = signed && getToken ? Promise.resolve(getToken()) : Promise.resolve(null);
    return ready.then(function (token) {
      if (token) headers.Authorization = "Bearer " + token;
      if (method === "POST" && signed) headers["Idempotency-Key"] = randomKey();
      return fetch(api + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined, credentials: "omit" });
    }).then(function (r) {
      return r.json().then(function (data) { return { status: r.status, data: data }; }, function () { return { status: r.status, data: {} }; });
    });
  }
  function problem(r) {
    if (r.status === 422) return "Please check the fields: " + (r.data.errors || []).map(function (e) { return e.path.split("/").pop(); }).join(", ") + ".";
    if (r.status === 429) return "Too many requests for this address; please wait until an open one is answered.";
    if (r.status === 404) return "We found no request with that reference.";
    return (r.data.title || "Something went wrong") + ". Please try again later.";
  }
  function row(table, cells) {
    var tr = el("tr");
    cells.forEach(function (c) { var td = el("td"); if (c && c.nodeType) td.appendChild(c); else td.textContent = c == null ? "" : c; tr.appendChild(td); });
    table.tBodies[0].appendChild(tr);
  }
  function describe(value) {
    if (value == null) return "";
    if (typeof value !== "object") return String(value);
    if (Array.isArray(value)) return value.map(describe).join(", ");
    return value.text || value.description || Object.keys(value).map(function (k) { return describe(value[k]); }).filter(Boolean).join(" ");
  }

  /* Submitting a request: signed out by mail link; signed in, verified by the token. */
  $("request-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var f = e.target, out = $("request-result");
    var body = { type: f.type.value, jurisdiction: f.jurisdiction.value };
    if (!getToken) {
      if (!f.email.value || !f.email.checkValidity()) { say(out, "Please enter a valid email address.", "error"); f.email.setAttribute("aria-invalid", "true"); f.email.focus(); return; }
      f.email.removeAttribute("aria-invalid");
      body.email = f.email.value.trim();
      body.onBehalfOfChild = f.child.checked;
    }
    say(out, "Sending...");
    call("POST", getToken ? "/me/requests" : "/requests", body, !!getToken).then(function (r) {
      if (r.status !== 202) return say(out, problem(r), "error");
      if (r.data.message) return say(out, r.data.message, "ok");
      say(out, "We received your request (reference " + r.data.id + "). We will answer by " + day(r.data.dueAt) + " at the latest; our email confirms it.", "ok");
      myRequests();
    }, function () { say(out, "We could not reach our server. Please try again later.", "error"); });
  });

  /* Following a request by the reference from the mail. */
  function showStatus(data, out) {
    out.textContent = "";
    var list = el("dl");
    [["Reference", data.reference], ["Request", data.type === "access" ? "A copy of your personal data" : "Erasure of your personal data"],
     ["Status", STATUS[data.status] || data.status], ["Received", day(data.receivedAt)], ["Answer due by", day(data.dueAt)]].forEach(function (p) {
      list.appendChild(el("dt", p[0])); list.appendChild(el("dd", p[1]));
    });
    out.appendChild(list);
    if (data.exportReady) out.appendChild(el("p", getToken ? "Your archive is ready: download it from the table of your requests below." : "Your archive is ready: our email has the download link."));
  }
  $("status-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var input = e.target.reference, out = $("status-result"), reference = input.value.trim().toLowerCase();
    if (!REFERENCE.test(reference)) { input.setAttribute("aria-invalid", "true"); return say(out, "A reference has 36 characters, as in our email.", "error"); }
    input.removeAttribute("aria-invalid");
    call("GET", "/requests/" + reference + "/status").then(function (r) {
      r.status === 200 ? showStatus(r.data, out) : say(out, problem(r), "error");
    }, function () { say(out, "We could not reach our server. Please try again later.", "error"); });
  });

  /* Signed in: consents per purpose, the verified history, the requests. */
  function consents() {
    return Promise.all([call("GET", "/me/consents", null, true), catalog]).then(function (both) {
      var mine = both[0].data.purposes || {}, set = $("consent-purposes");
      [].slice.call(set.querySelectorAll("label,small")).forEach(function (n) { n.remove(); });
      (both[1].purposes || []).filter(function (p) { return !p.alwaysOn && !p.cookieCategory; }).forEach(function (p) {
        var id = "consent-" + p.id.replace(/[^a-z0-9-]/g, "-"), label = el("label", null, { for: id });
        var box = el("input", null, { type: "checkbox", id: id, name: p.id, "aria-describedby": id + "-d" });
        box.checked = !!(mine[p.id] && mine[p.id].granted && !mine[p.id].renewalRequired);
        label.appendChild(box); label.appendChild(d.createTextNode(p.title));
        set.appendChild(label); set.appendChild(el("small", p.description, { id: id + "-d", class: "help" }));
      });
    });
  }
  $("consent-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var decisions = {}, out = $("consent-result");
    [].forEach.call(e.target.querySelectorAll("input[type=checkbox]"), function (b) { decisions[b.name] = b.checked; });
    catalog.then(function (c) {
      var version = c.currentVersion && c.currentVersion.version;
      return call("POST", "/me/consents", { decisions: decisions, policyVersion: version }, true);
    }).then(function (r) {
      if (r.status === 200 || r.status === 201) { say(out, "Saved. Your history below shows the change.", "ok"); history(); }
      else if (r.status === 409) { catalog = loadCatalog(); say(out, "Our privacy policy changed meanwhile; please review and save again.", "error"); consents(); }
      else say(out, problem(r), "error");
    });
  });
  function history() {
    return Promise.all([call("GET", "/me/consents/proof", null, true), catalog]).then(function (both) {
      var r = both[0], titles = {};
      (both[1].purposes || []).forEach(function (p) { titles[p.id] = p.title; });
      var table = $("history"), v = r.data.verification || {};
      table.tBodies[0].textContent = "";
      say($("history-check"), v.valid ? "Verified: all " + v.eventCount + " entries are intact and in order." : "Verification found a problem; our privacy team has been told.", v.valid ? "ok" : "error");
      (r.data.events || []).forEach(function (ev) {
        var what = Object.keys(ev.decisions).map(function (p) { return (titles[p] || p) + ": " + (ev.decisions[p].granted ? "allowed" : "refused"); }).join(", ");
        row(table, [ev.recordedAt.replace("T", " ").slice(0, 16), SOURCES[ev.source] || ev.source, what, ev.policyVersion]);
      });
    });
  }
  function myRequests() {
    return call("GET", "/me/requests", null, true).then(function (r) {
      var table = $("my-requests");
      table.tBodies[0].textContent = "";
      (r.data.requests || []).forEach(function (q) {
        var cell = "";
        if (q.exportReady) {
          cell = el("button", "Download", { type: "button", "aria-label": "Download the archive of request " + q.id });
          cell.onclick = function () { download(q.id); };
        }
        row(table, [q.id, q.type === "access" ? "Copy" : "Erasure", STATUS[q.status] || q.status, day(q.dueAt), cell]);
      });
    });
  }
  function download(id) {
    call("GET", "/me/requests/" + id + "/export", null, true).then(function (r) {
      if (r.status !== 200) return say($("download-result"), problem(r), "error");
      say($("download-result"), "Your download starts now; the link works until " + r.data.expiresAt.replace("T", " ").slice(0, 16) + " UTC.", "ok");
      w.location.assign(r.data.url);
    });
  }
  function signIn(tokenSource) {
    getToken = typeof tokenSource === "function" ? tokenSource : function () { return tokenSource; };
    $("account").hidden = false;
    [].forEach.call(d.querySelectorAll(".signed-out"), function (n) { n.hidden = true; });
    return Promise.all([consents(), history(), myRequests()]);
  }
  w.addEventListener("message", function (e) {
    var allowed = (main.dataset.tokenOrigins || "").split(",").map(function (o) { return o.trim(); });
    if (e.data && e.data.type === "privacy-page-token" && typeof e.data.token === "string" && allowed.indexOf(e.origin) >= 0) signIn(e.data.token);
  });

  /* Public facts: purposes from the catalog; retention and sub-processors where those endpoints exist. */
  function loadCatalog() { return fetch(api + "/catalog", { credentials: "omit" }).then(function (r) { return r.ok ? r.json() : {}; }, function () { return {}; }); }
  catalog = loadCatalog();
  catalog.then(function (c) {
    if (c.policyUrl) $("policy-link").href = c.policyUrl;
    (c.purposes || []).filter(function (p) { return !p.cookieCategory; }).forEach(function (p) {
      var li = el("li"); li.appendChild(el("strong", p.title)); li.appendChild(d.createTextNode(": " + p.description)); $("purposes").appendChild(li);
    });
  });
  function facts(data) {
    (data.retention || []).forEach(function (x) { row($("retention"), [x.category || x.location || x.data, describe(x.period || x.kept || x.retention), x.reason || x.why]); });
    (data.subprocessors || []).forEach(function (s) { row($("subprocessors"), [s.name, s.purpose, describe(s.dataCategories), s.location, s.transferMechanism]); });
    $("retention-part").hidden = !(data.retention || []).length;
    $("subprocessors-part").hidden = !(data.subprocessors || []).length;
  }
  fetch(api + "/privacy-facts", { credentials: "omit" }).then(function (r) {
    if (r.ok) return r.json().then(facts);
    return fetch(api + "/retention", { credentials: "omit" }).then(function (t) { return t.ok ? t.json().then(function (x) { facts({ retention: x.rules || [] }); }) : null; });
  }).catch(function () { /* the facts stay hidden */ });

  w.privacyPage = { signIn: signIn };
})(window, document);
