/* The cookie banner: one GET per page view, the server's ledger is the truth. No dependencies.
   Set-up: README.md, "For website developers". The function app serves this file with its CSS
   inlined where CSS_TEXT stands (functions/web/assets.py). */
(function (w, d) {
  "use strict";
  var me = d.currentScript, cfg = (me && me.dataset) || {};
  var api = (cfg.api || "/api").replace(/\/$/, ""), name = cfg.name || "privacyBanner";
  var cookieName = cfg.cookie || "privacy_visitor", store = w.localStorage;
  var KEYS = ["functional", "analytics", "marketing"];
  var CSS = CSS_TEXT;
  var TEXTS = {
    en: {
      title: "Cookies on this site", body: "We use necessary cookies to run the site. With your consent we also use cookies to remember your choices, measure visits and for marketing.",
      policy: "Privacy policy", accept: "Accept all", reject: "Reject all", customize: "Customize", save: "Save choices", back: "Back",
      prefs: "Cookie preferences", always: "Always on", changed: "Our privacy policy has changed since you last chose. Please choose again.",
      expired: "Your last choice has expired. Please choose again.", offline: "We could not reach our server. Nothing optional is loaded; your choice will be saved when it is back.",
      gpc: "Your browser sends a Global Privacy Control signal, so marketing cookies stay off.", override: "Allow marketing cookies on this site anyway (this overrides the signal for this site)",
      notices: "Notice", dismiss: "Dismiss", more: "Read more"
    },
    de: {
      title: "Cookies auf dieser Website", body: "Wir verwenden notwendige Cookies für den Betrieb der Website. Mit Ihrer Einwilligung verwenden wir außerdem Cookies, um Ihre Einstellungen zu speichern, Besuche zu messen und für Marketing.",
      policy: "Datenschutzerklärung", accept: "Alle akzeptieren", reject: "Alle ablehnen", customize: "Anpassen", save: "Auswahl speichern", back: "Zurück",
      prefs: "Cookie-Einstellungen", always: "Immer aktiv", changed: "Unsere Datenschutzerklärung hat sich seit Ihrer letzten Wahl geändert. Bitte wählen Sie erneut.",
      expired: "Ihre letzte Wahl ist abgelaufen. Bitte wählen Sie erneut.", offline: "Unser Server ist nicht erreichbar. Optionales wird nicht geladen; Ihre Wahl wird gespeichert, sobald er wieder erreichbar ist.",
      gpc: "Ihr Browser sendet ein Global-Privacy-Control-Signal, daher bleiben Marketing-Cookies aus.", override: "Marketing-Cookies auf dieser Website trotzdem erlauben (hebt das Signal für diese Website auf)",
      notices: "Hinweis", dismiss: "Schließen", more: "Mehr lesen"
    }
  };
  var lang = (cfg.lang || d.documentElement.lang || "en").slice(0, 2).toLowerCase();
  var t = Object.assign({}, TEXTS.en, TEXTS[lang] || {}, (w[name + "Texts"] || {})[lang] || {});
  var navGpc = navigator.globalPrivacyControl === true;

  /* Google Consent Mode v2: the default, synchronously, before any tag can read it. */
  w.dataLayer = w.dataLayer || [];
  var gtag = w.gtag || function () { w.dataLayer.push(arguments); };
  w.gtag = gtag;
  function modes(c) {
    var g = function (on) { return on ? "granted" : "denied"; };
    return {
      ad_storage: g(c.marketing), ad_user_data: g(c.marketing), ad_personalization: g(c.marketing),
      analytics_storage: g(c.analytics), functionality_storage: g(c.functional), personalization_storage: g(c.functional),
      security_storage: "granted"
    };
  }
  gtag("consent", "default", Object.assign(modes({}), { wait_for_update: 500 }));

  function load(key) { try { return JSON.parse(store.getItem(cookieName + ":" + key)); } catch (e) { return null; } }
  function keep(key, value) { try { value == null ? store.removeItem(cookieName + ":" + key) : store.setItem(cookieName + ":" + key, JSON.stringify(value)); } catch (e) { /* storage off: the server still knows */ } }
  function randomId() { return (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now()).replace(/-/g, ""); }

  function visitorId() {
    var found = d.cookie.match(new RegExp("(?:^|; )" + cookieName + "=([A-Za-z0-9_-]{16,64})"));
    var id = found ? found[1] : randomId();
    if (!found && !cfg.serverCookie) {
      d.cookie = cookieName + "=" + id + "; Path=/; Max-Age=34128000; SameSite=Lax" + (cfg.cookieDomain ? "; Domain=" + cfg.cookieDomain : "") + (location.protocol === "https:" ? "; Secure" : "");
    }
    return id;
  }
  var vid = visitorId(), url = api + "/cookies/" + vid;
  var state = { answer: null, granted: {}, ran: [], gpc: navGpc, reason: null };

  function call(method, body, key) {
    var init = { method: method, headers: {}, credentials: cfg.serverCookie ? "include" : "omit", cache: "no-store" };
    if (body) { init.headers["Content-Type"] = "application/json"; init.headers["Idempotency-Key"] = key; init.body = JSON.stringify(body); }
    return fetch(method === "GET" && navGpc ? url + "?gpc=1" : url, init).then(function (r) {
      return r.json().then(function (data) { return { status: r.status, data: data }; }, function () { return { status: r.status, data: {} }; });
    });
  }

  /* Scripts marked type="text/plain" data-category run once, in document order, when granted. */
  function runScripts() {
    var waiting = [].filter.call(d.querySelectorAll('script[type="text/plain"][data-category]'), function (s) {
      return state.granted[s.dataset.category] && state.ran.indexOf(s) < 0;
    });
    (function next(i) {
      var old = waiting[i];
      if (!old) return;
      state.ran.push(old);
      var s = d.createElement("script");
      [].forEach.call(old.attributes, function (a) { if (a.name !== "type" && a.name !== "data-category") s.setAttribute(a.name, a.value); });
      if (old.dataset.type) s.type = old.dataset.type;
      if (old.src) { s.async = false; s.onload = s.onerror = function () { next(i + 1); }; }
      else s.text = old.text;
      old.parentNode.insertBefore(s, old.nextSibling);
      if (!old.src) next(i + 1);
    })(0);
  }
  function apply(categories) {
    var before = state.granted, withdrawn = KEYS.filter(function (k) { return before[k] && !categories[k]; });
    state.granted = categories;
    gtag("consent", "update", modes(categories));
    if (withdrawn.length && typeof banner.onwithdraw === "function") banner.onwithdraw(withdrawn);
    if (typeof banner.onchange === "function") banner.onchange(Object.assign({}, categories));
    if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", runScripts); else runScripts();
  }

  /* The dialog: native <dialog> shown modal (focus moves in; the page is inert), Tab kept inside. */
  var dialog, opener, catalog;
  function el(tag, attrs, text) {
    var e = d.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function styles() {
    if (d.getElementById("pb-css")) return;
    var s = el("style", { id: "pb-css" }, CSS);
    if (me && me.nonce) s.nonce = me.nonce;
    d.head.appendChild(s);
  }
  function buttons(list) {
    var row = el("div", { class: "pb-row" });
    list.forEach(function (b) { var x = el("button", { type: "button" }, b[0]); x.onclick = b[1]; row.appendChild(x); });
    return row;
  }
  function frame(title) {
    styles();
    if (!dialog) {
      dialog = el("dialog", { class: "pb", "aria-labelledby": "pb-title", "aria-describedby": "pb-body", lang: lang });
      dialog.addEventListener("cancel", function (e) { if (!state.answer || state.reason) e.preventDefault(); });
      dialog.addEventListener("close", function () { if (opener && opener.focus) opener.focus(); });
      dialog.addEventListener("keydown", function (e) {
        if (e.key !== "Tab") return;
        var f = dialog.querySelectorAll("button,a[href],input:not([disabled])"), first = f[0], last = f[f.length - 1];
        if (e.shiftKey && d.activeElement === first) { last.focus(); e.preventDefault(); }
        else if (!e.shiftKey && d.activeElement === last) { first.focus(); e.preventDefault(); }
      });
      d.body.appendChild(dialog);
    }
    dialog.textContent = "";
    dialog.appendChild(el("h2", { id: "pb-title" }, title));
    return dialog;
  }
  function note(box, text) { if (text) box.appendChild(el("p", { class: "pb-note", role: "status" }, text)); }
  function open(box) {
    if (!box.open) { opener = d.activeElement; box.showModal(); if (w.performance && performance.mark) performance.mark("privacy-banner-shown"); }
    var first = box.querySelector("button,input:not([disabled])");
    if (first) first.focus();
  }
  function firstLayer(message) {
    if (d.readyState === "loading") return d.addEventListener("DOMContentLoaded", function () { firstLayer(message); });
    var box = frame(t.title), p = el("p", { id: "pb-body" }, t.body + " ");
    var link = el("a", { href: (state.answer && state.answer.policyUrl) || cfg.policyUrl || "#" }, t.policy);
    p.appendChild(link);
    box.appendChild(p);
    note(box, message);
    if (state.gpc) note(box, t.gpc);
    box.appendChild(buttons([
      [t.accept, function () { decide({ functional: true, analytics: true, marketing: true }, false); }],
      [t.reject, function () { decide({}, false); }],
      [t.customize, preferences]
    ]));
    open(box);
  }
  function preferences() {
    var shown = catalog ? Promise.resolve(catalog) : fetch(api + "/catalog", { credentials: "omit" }).then(function (r) { return r.ok ? r.json() : {}; }).catch(function () { return {}; });
    shown.then(function (c) {
      catalog = c;
      var box = frame(t.prefs), set = el("fieldset"), now = state.granted;
      box.appendChild(el("p", { id: "pb-body" }, t.body));
      (c.cookieCategories || [{ category: "necessary", alwaysOn: true }].concat(KEYS.map(function (k) { return { category: k }; }))).forEach(function (cat) {
        var id = "pb-" + cat.category, label = el("label", { for: id });
        var box2 = el("input", { type: "checkbox", id: id, name: cat.category, "aria-describedby": id + "-d" });
        box2.checked = cat.alwaysOn || !!now[cat.category];
        if (cat.alwaysOn || (cat.category === "marketing" && state.gpc)) { box2.disabled = true; box2.checked = !!cat.alwaysOn; }
        label.appendChild(box2);
        label.appendChild(d.createTextNode(cat.title || cat.category));
        set.appendChild(label);
        set.appendChild(el("small", { id: id + "-d" }, cat.alwaysOn ? t.always + ". " + (cat.description || "") : cat.description || ""));
      });
      box.appendChild(set);
      if (state.gpc) {
        note(box, t.gpc);
        var o = el("label", { for: "pb-override" }), ob = el("input", { type: "checkbox", id: "pb-override" });
        o.appendChild(ob); o.appendChild(d.createTextNode(t.override)); box.appendChild(o);
      }
      box.appendChild(buttons([
        [t.save, function () {
          var chosen = {}, override = state.gpc && box.querySelector("#pb-override").checked;
          KEYS.forEach(function (k) { var i = box.querySelector("#pb-" + k); chosen[k] = !!(i && i.checked); });
          if (override) chosen.marketing = true;
          decide(chosen, override);
        }],
        [t.back, function () { firstLayer(); }]
      ]));
      open(box);
    });
  }

  /* A decision: kept locally first (so a failure loses nothing), then sent with its own retry key. */
  function decide(chosen, override) {
    /* Sent as chosen: the server applies the GPC signal (and records it as such); only its answer
       turns anything on, so marketing stays off under GPC whatever is clicked. */
    var pending = {
      key: randomId(), version: state.answer && state.answer.currentPolicyVersion,
      body: { categories: KEYS.filter(function (k) { return chosen[k]; }), gpc: navGpc, gpcOverride: !!override && state.gpc }
    };
    keep("pending", pending);
    if (dialog && dialog.open) dialog.close();
    send(pending);
  }
  function send(pending) {
    if (!pending.version) {  /* the server never answered on this page: ask it first, then send */
      return call("GET").then(function (r) {
        if (r.status !== 200) throw new Error("status " + r.status);
        state.answer = r.data;
        pending.version = r.data.currentPolicyVersion;
        keep("pending", pending);
        send(pending);
      }).catch(function () { retry(pending); });
    }
    call("PUT", Object.assign({ policyVersion: pending.version }, pending.body), pending.key).then(function (r) {
      if (r.status === 200) { keep("pending", null); settled(r.data); }
      else if (r.status === 409 && r.data.currentPolicyVersion) {
        keep("pending", null);
        state.answer = Object.assign({}, state.answer, { currentPolicyVersion: r.data.currentPolicyVersion, currentPolicyRevision: r.data.currentPolicyRevision });
        state.reason = "policy-changed";
        firstLayer(t.changed);
      } else if (r.status >= 500 || r.status === 429) retry(pending);
      else keep("pending", null);
    }, function () { retry(pending); });
  }
  var retries = 0;
  function retry(pending) { if (retries++ < 6) setTimeout(function () { send(pending); }, 2000 * retries); }
  function settled(answer) {
    state.answer = answer;
    state.reason = answer.reconsentRequired ? answer.reason : null;
    state.gpc = navGpc || answer.gpcHonoured;
    keep("answer", answer);
    if (answer.receipt) keep("receipt", answer.receipt);
    if (!answer.reconsentRequired) apply(answer.categories);
  }

  /* Page load: the one GET. Until it answers nothing optional runs; if it fails, the banner shows. */
  function start() {
    call("GET").then(function (r) {
      if (r.status !== 200) throw new Error("status " + r.status);
      settled(r.data);
      var pending = load("pending");
      if (pending) { pending.version = pending.version || r.data.currentPolicyVersion; send(pending); }
      else if (r.data.reconsentRequired) firstLayer(r.data.reason === "policy-changed" ? t.changed : r.data.reason === "expired" ? t.expired : "");
      try { notices(r.data.notices || []); } catch (e) { /* a notice that fails to show never hides the choices */ }
    }).catch(function () {
      state.reason = "offline";  /* the local copy is only a cache: without the server nothing optional runs */
      firstLayer(t.offline);
    });
  }
  /* In-service notices (business transfer, policy change): the board travels in the one GET's answer. */
  function notices(board) {
    if (d.readyState === "loading") return d.addEventListener("DOMContentLoaded", function () { notices(board); });
    if (cfg.notices === "off") return;
    var seen = load("seen") || [];
    board.filter(function (n) { return seen.indexOf(n.id) < 0; }).slice(0, 1).forEach(function (n) {
      styles();
      var box = el("section", { class: "pb-notices", "aria-labelledby": "pb-n-" + n.id, lang: lang });
      box.appendChild(el("h2", { id: "pb-n-" + n.id }, n.title || t.notices));
      box.appendChild(el("p", null, n.text));
      if (n.link) box.appendChild(el("a", { href: n.link }, t.more));
      var b = el("button", { type: "button" }, t.dismiss);
      b.onclick = function () { keep("seen", seen.concat(n.id)); box.remove(); };
      box.appendChild(d.createElement("br"));
      box.appendChild(b);
      d.body.appendChild(box);
    });
  }

  var banner = w[name] = {
    visitorId: vid,
    show: function () { state.answer ? preferences() : firstLayer(state.reason === "offline" ? t.offline : ""); },
    categories: function () { return Object.assign({}, state.granted); },
    receipt: function () { return load("receipt"); },
    onchange: null,
    onwithdraw: null
  };
  d.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("[data-cookie-settings]");
    if (link) { e.preventDefault(); banner.show(); }
  });
  start();
})(window, document);
