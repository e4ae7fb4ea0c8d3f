/*!
 * Gehoor website chat widget — plain JavaScript, no build step.
 *
 * Embed:
 *   <script src="https://bot.example.nl/static/gehoor-widget.js" defer></script>
 *   <script>
 *     window.addEventListener("DOMContentLoaded", function () {
 *       GehoorWidget.init({ serverUrl: "https://bot.example.nl", touchpoint: "order_confirmation" });
 *     });
 *   </script>
 *
 * Talks to Rasa's socket.io channel (credentials.yml: session_persistence: true,
 * metadata_key: customData). socket.io-client is loaded from vendor/socket.io.min.js
 * next to this file (scripts/build-web.sh puts it there). Docs: docs/channels.md.
 */
(function () {
  "use strict";

  var VERSION = "0.1.0";
  var SCRIPT = document.currentScript;
  var BASE = SCRIPT && SCRIPT.src ? SCRIPT.src.replace(/[^/]*(\?.*)?$/, "") : "";
  var MAX_HISTORY = 200;
  var MAX_MESSAGE = 4000;

  var STRINGS = {
    nl: {
      launcher: "Feedback geven",
      title: "Feedback",
      subtitle: "Je praat met een bot",
      close: "Sluiten",
      newConversation: "Nieuw gesprek",
      newConversationDone: "Er is een nieuw gesprek gestart.",
      placeholder: "Typ je bericht…",
      inputLabel: "Je bericht",
      send: "Versturen",
      log: "Gesprek",
      options: "Antwoordopties",
      typing: "De bot typt…",
      you: "Jij",
      bot: "Bot",
      connecting: "Verbinden…",
      offline: "Geen verbinding. Je berichten worden verstuurd zodra de verbinding terug is.",
      reconnected: "Weer verbonden.",
      queued: "Wordt verstuurd…",
      greeting: "Hoi! Hoe ging het? Vertel het ons — typ hieronder je eerste bericht.",
      privacy: "Je antwoorden worden bewaard en gelezen door onze medewerkers.",
      tooLong: "Je bericht is te lang (maximaal 4000 tekens).",
      tooLongServer: "Niet verstuurd: dit bericht is te lang (maximaal {max} tekens). Schrijf het korter op.",
      rateLimited: "Je stuurt veel berichten kort na elkaar. Je bericht wordt over {seconds} seconden verstuurd.",
      notSent: "Niet verstuurd: de server weigerde dit bericht.",
      newMessage: "Nieuw bericht van de bot"
    },
    en: {
      launcher: "Give feedback",
      title: "Feedback",
      subtitle: "You are talking to a bot",
      close: "Close",
      newConversation: "New conversation",
      newConversationDone: "A new conversation has started.",
      placeholder: "Type your message…",
      inputLabel: "Your message",
      send: "Send",
      log: "Conversation",
      options: "Answer options",
      typing: "The bot is typing…",
      you: "You",
      bot: "Bot",
      connecting: "Connecting…",
      offline: "No connection. Your messages will be sent as soon as the connection is back.",
      reconnected: "Connected again.",
      queued: "Sending…",
      greeting: "Hi! How did it go? Tell us — type your first message below.",
      privacy: "Your answers are stored and read by our staff.",
      tooLong: "Your message is too long (at most 4000 characters).",
      tooLongServer: "Not sent: this message is too long (at most {max} characters). Please make it shorter.",
      rateLimited: "You are sending many messages in a row. Your message will be sent in {seconds} seconds.",
      notSent: "Not sent: the server refused this message.",
      newMessage: "New message from the bot"
    }
  };

  var CSS = [
    ":host{all:initial;--g-primary:#0b5cad;--g-primary-text:#fff;--g-bg:#fff;--g-text:#1c2430;--g-muted:#5b6675;",
    "--g-bot-bg:#f0f3f7;--g-border:#d9dee5;--g-focus:#ffbf47;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;",
    "font-size:16px;line-height:1.45;color:var(--g-text)}",
    "*{box-sizing:border-box}",
    ".sr-only{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}",
    "button{font:inherit;cursor:pointer}",
    ":focus-visible{outline:3px solid var(--g-focus);outline-offset:2px}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;display:flex;align-items:center;gap:10px;",
    "padding:12px 20px 12px 16px;border:0;border-radius:999px;background:var(--g-primary);color:var(--g-primary-text);",
    "font-weight:600;font-size:16px;box-shadow:0 6px 20px rgba(16,24,40,.25);transition:transform .15s ease}",
    ".launcher:hover{transform:translateY(-2px)}",
    ".launcher svg{width:22px;height:22px;flex:none}",
    ".launcher[aria-expanded=true]{display:none}",
    ".badge{display:none;min-width:10px;height:10px;border-radius:50%;background:#e5484d;border:2px solid var(--g-primary-text)}",
    ".badge.on{display:inline-block}",
    ".panel{position:fixed;right:20px;bottom:20px;z-index:2147483001;width:380px;height:min(620px,calc(100vh - 40px));",
    "display:flex;flex-direction:column;background:var(--g-bg);border-radius:16px;overflow:hidden;",
    "box-shadow:0 12px 40px rgba(16,24,40,.28),0 2px 6px rgba(16,24,40,.12)}",
    ".panel[hidden]{display:none}",
    ".header{display:flex;align-items:center;gap:12px;padding:14px 12px 14px 16px;background:var(--g-primary);color:var(--g-primary-text)}",
    ".avatar{flex:none;width:38px;height:38px;border-radius:50%;background:rgba(255,255,255,.18);display:flex;align-items:center;justify-content:center}",
    ".avatar svg{width:22px;height:22px}",
    ".titles{flex:1;min-width:0}",
    ".title{margin:0;font-size:17px;font-weight:700;line-height:1.2}",
    ".subtitle{margin:2px 0 0;font-size:13px;opacity:.9}",
    ".icon-btn{flex:none;display:flex;align-items:center;justify-content:center;width:40px;height:40px;border:0;border-radius:10px;",
    "background:transparent;color:inherit}",
    ".icon-btn:hover{background:rgba(255,255,255,.16)}",
    ".icon-btn svg{width:20px;height:20px}",
    ".status{padding:8px 16px;font-size:14px;background:#fff4d6;color:#5c4400;border-bottom:1px solid #f0dca0}",
    ".status[hidden]{display:none}",
    ".log{flex:1;overflow-y:auto;padding:16px 14px 8px;display:flex;flex-direction:column;gap:8px;background:var(--g-bg);overscroll-behavior:contain}",
    ".privacy{align-self:center;margin:0 8px 6px;font-size:12.5px;color:var(--g-muted);text-align:center}",
    ".msg{max-width:85%;padding:10px 14px;border-radius:16px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:normal}",
    ".msg.bot{align-self:flex-start;background:var(--g-bot-bg);border-bottom-left-radius:4px}",
    ".msg.user{align-self:flex-end;background:var(--g-primary);color:var(--g-primary-text);border-bottom-right-radius:4px}",
    ".msg.local{background:transparent;border:1px dashed var(--g-border);color:var(--g-text)}",
    ".msg.pending{opacity:.65}",
    ".msg.failed{opacity:.8;border:1px solid #e5484d}",
    ".msg .error{display:block;margin-top:4px;font-size:12px;font-weight:600}",
    ".msg .meta{display:block;font-size:11.5px;margin-top:2px;opacity:.85}",
    ".msg img{max-width:100%;border-radius:8px;display:block}",
    ".replies{display:flex;flex-wrap:wrap;gap:8px;margin:2px 0 4px;padding:0;align-self:stretch}",
    ".reply{min-width:44px;min-height:44px;padding:8px 14px;border:1.5px solid var(--g-primary);border-radius:999px;",
    "background:var(--g-bg);color:var(--g-primary);font-weight:600;font-size:15px}",
    ".reply:hover{background:var(--g-primary);color:var(--g-primary-text)}",
    ".replies.score .reply{padding:8px 0;width:44px}",
    ".typing{align-self:flex-start;display:flex;gap:5px;padding:14px 16px;background:var(--g-bot-bg);border-radius:16px;border-bottom-left-radius:4px}",
    ".typing[hidden]{display:none}",
    ".typing span{width:7px;height:7px;border-radius:50%;background:var(--g-muted);animation:g-blink 1.2s infinite ease-in-out}",
    ".typing span:nth-child(2){animation-delay:.2s}.typing span:nth-child(3){animation-delay:.4s}",
    "@keyframes g-blink{0%,80%,100%{opacity:.25;transform:translateY(0)}40%{opacity:1;transform:translateY(-3px)}}",
    "@media (prefers-reduced-motion:reduce){.typing span{animation:none}.launcher{transition:none}}",
    ".composer{display:flex;align-items:flex-end;gap:8px;padding:10px 12px 12px;border-top:1px solid var(--g-border);background:var(--g-bg)}",
    ".composer textarea{flex:1;resize:none;min-height:44px;max-height:140px;padding:10px 12px;border:1.5px solid var(--g-border);",
    "border-radius:12px;font:inherit;color:var(--g-text);background:var(--g-bg)}",
    ".composer textarea:focus{border-color:var(--g-primary);outline:none;box-shadow:0 0 0 3px rgba(11,92,173,.2)}",
    ".send{flex:none;width:44px;height:44px;border:0;border-radius:12px;background:var(--g-primary);color:var(--g-primary-text);",
    "display:flex;align-items:center;justify-content:center}",
    ".send svg{width:20px;height:20px}",
    ".send:disabled{opacity:.45;cursor:default}",
    ".footer{padding:0 12px 10px;font-size:11.5px;color:var(--g-muted);text-align:center;background:var(--g-bg)}",
    "@media (max-width:520px){.panel{right:0;bottom:0;width:100%;height:100%;border-radius:0}",
    ".launcher{right:14px;bottom:14px}.msg{max-width:90%}.header{padding-top:max(14px,env(safe-area-inset-top))}",
    ".composer{padding-bottom:max(12px,env(safe-area-inset-bottom))}}"
  ].join("");

  var ICONS = {
    chat: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-5A8 8 0 1 1 21 12z"/><path d="M8.5 11h.01M12 11h.01M15.5 11h.01"/></svg>',
    close: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" aria-hidden="true" focusable="false"><path d="M6 6l12 12M18 6L6 18"/></svg>',
    restart: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false"><path d="M3 12a9 9 0 1 0 3-6.7"/><path d="M3 4v5h5"/></svg>',
    send: '<svg viewBox="0 0 24 24" fill="currentColor" aria-hidden="true" focusable="false"><path d="M3.4 20.4 21 12 3.4 3.6l.1 6.5L15 12 3.5 13.9z"/></svg>'
  };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        if (key === "className") node.className = attrs[key];
        else node.setAttribute(key, attrs[key]);
      });
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function icon(name) {
    // Only our own constant SVG strings go through the parser; user and bot text never does.
    var tpl = document.createElement("template");
    tpl.innerHTML = ICONS[name];
    return tpl.content.firstChild;
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function storage() {
    try {
      var key = "__gehoor_test__";
      window.localStorage.setItem(key, "1");
      window.localStorage.removeItem(key);
      return window.localStorage;
    } catch (e) {
      var mem = {};
      return {
        getItem: function (k) { return Object.prototype.hasOwnProperty.call(mem, k) ? mem[k] : null; },
        setItem: function (k, v) { mem[k] = String(v); },
        removeItem: function (k) { delete mem[k]; }
      };
    }
  }

  function readJson(store, key, fallback) {
    try {
      var raw = store.getItem(key);
      return raw ? JSON.parse(raw) : fallback;
    } catch (e) {
      return fallback;
    }
  }

  function pickLanguage(wanted) {
    var lang = (wanted && wanted !== "auto" ? wanted : (navigator.language || "nl")).toLowerCase();
    return lang.indexOf("en") === 0 ? "en" : "nl";
  }

  function pageUrl() {
    // Origin and path only: query strings and fragments can carry personal data.
    return window.location.origin + window.location.pathname;
  }

  function loadSocketIo(src) {
    if (window.io && typeof window.io === "function") return Promise.resolve(window.io);
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.async = true;
      script.onload = function () { window.io ? resolve(window.io) : reject(new Error("socket.io did not load")); };
      script.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(script);
    });
  }

  function Widget(config) {
    this.config = config;
    this.lang = pickLanguage(config.language);
    this.t = Object.assign({}, STRINGS[this.lang], (config.strings || {})[this.lang] || {});
    this.store = storage();
    var server = String(config.serverUrl || "").replace(/\/+$/, "");
    this.prefix = "gehoor:" + server + ":";
    this.sessionId = this.store.getItem(this.prefix + "session");
    this.expireIfOld();
    this.history = readJson(this.store, this.prefix + "history", []);
    this.outbox = readJson(this.store, this.prefix + "outbox", []);
    this.inFlight = null;
    this.ready = false;
    this.everConnected = false;
    this.socket = null;
    this.build();
    this.renderHistory();
    if (readJson(this.store, this.prefix + "open", false) || config.open) this.open(false);
    this.connect();
  }

  Widget.prototype.expireIfOld = function () {
    var hours = Number(this.config.sessionTtlHours || 24);
    var last = Number(this.store.getItem(this.prefix + "touched") || 0);
    if (this.sessionId && last && Date.now() - last > hours * 3600 * 1000) this.forget();
  };

  Widget.prototype.forget = function () {
    ["session", "history", "outbox", "touched"].forEach(function (k) { this.store.removeItem(this.prefix + k); }, this);
    this.sessionId = null;
  };

  Widget.prototype.save = function () {
    if (this.history.length > MAX_HISTORY) this.history = this.history.slice(-MAX_HISTORY);
    this.store.setItem(this.prefix + "history", JSON.stringify(this.history));
    this.store.setItem(this.prefix + "outbox", JSON.stringify(this.outbox));
    this.store.setItem(this.prefix + "touched", String(Date.now()));
    if (this.sessionId) this.store.setItem(this.prefix + "session", this.sessionId);
  };

  // ------------------------------------------------------------------ DOM

  Widget.prototype.build = function () {
    var t = this.t;
    var colors = this.config.colors || {};
    this.host = el("div", { id: "gehoor-widget", "data-gehoor-version": VERSION });
    var root = this.host.attachShadow ? this.host.attachShadow({ mode: "open" }) : this.host;
    this.root = root;
    var style = el("style");
    style.textContent = CSS;
    root.appendChild(style);
    var vars = { primary: "--g-primary", primaryText: "--g-primary-text", background: "--g-bg", text: "--g-text",
                 botBubble: "--g-bot-bg", focus: "--g-focus" };
    Object.keys(vars).forEach(function (key) {
      if (colors[key] && /^[#a-zA-Z0-9(),.% -]+$/.test(colors[key])) this.host.style.setProperty(vars[key], colors[key]);
    }, this);

    this.launcher = el("button", { type: "button", className: "launcher", "aria-expanded": "false",
                                   "aria-controls": "gehoor-panel", "aria-haspopup": "dialog" });
    this.launcher.appendChild(icon("chat"));
    this.launcher.appendChild(el("span", null, this.config.launcherLabel || t.launcher));
    this.badge = el("span", { className: "badge", "aria-hidden": "true" });
    this.launcher.appendChild(this.badge);
    this.launcher.addEventListener("click", this.open.bind(this, true));
    root.appendChild(this.launcher);

    var panel = el("section", { id: "gehoor-panel", className: "panel", role: "dialog", "aria-modal": "false",
                                "aria-labelledby": "gehoor-title", "aria-describedby": "gehoor-subtitle", hidden: "" });
    panel.setAttribute("lang", this.lang);
    this.panel = panel;
    var header = el("header", { className: "header" });
    var avatar = el("div", { className: "avatar", "aria-hidden": "true" });
    avatar.appendChild(icon("chat"));
    header.appendChild(avatar);
    var titles = el("div", { className: "titles" });
    titles.appendChild(el("h2", { className: "title", id: "gehoor-title" }, this.config.title || t.title));
    titles.appendChild(el("p", { className: "subtitle", id: "gehoor-subtitle" }, this.config.subtitle || t.subtitle));
    header.appendChild(titles);
    this.restartButton = el("button", { type: "button", className: "icon-btn restart", title: t.newConversation,
                                        "aria-label": t.newConversation });
    this.restartButton.appendChild(icon("restart"));
    this.restartButton.addEventListener("click", this.restart.bind(this));
    header.appendChild(this.restartButton);
    this.closeButton = el("button", { type: "button", className: "icon-btn close", title: t.close, "aria-label": t.close });
    this.closeButton.appendChild(icon("close"));
    this.closeButton.addEventListener("click", this.close.bind(this));
    header.appendChild(this.closeButton);
    panel.appendChild(header);

    this.status = el("div", { className: "status", role: "status", hidden: "" });
    panel.appendChild(this.status);

    this.log = el("div", { className: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
                           "aria-label": t.log, tabindex: "0" });
    panel.appendChild(this.log);
    this.typing = el("div", { className: "typing", hidden: "", role: "status", "aria-label": t.typing });
    this.typing.appendChild(el("span"));
    this.typing.appendChild(el("span"));
    this.typing.appendChild(el("span"));

    var form = el("form", { className: "composer", novalidate: "" });
    var label = el("label", { className: "sr-only", for: "gehoor-input" }, t.inputLabel);
    this.input = el("textarea", { id: "gehoor-input", rows: "1", placeholder: t.placeholder, maxlength: String(MAX_MESSAGE),
                                  autocomplete: "off", enterkeyhint: "send" });
    this.sendButton = el("button", { type: "submit", className: "send", "aria-label": t.send, title: t.send });
    this.sendButton.appendChild(icon("send"));
    form.appendChild(label);
    form.appendChild(this.input);
    form.appendChild(this.sendButton);
    form.addEventListener("submit", this.onSubmit.bind(this));
    this.input.addEventListener("keydown", this.onKeydown.bind(this));
    this.input.addEventListener("input", this.autosize.bind(this));
    panel.appendChild(form);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); this.close(); }
    }.bind(this));
    root.appendChild(panel);

    this.announcer = el("div", { className: "sr-only", "aria-live": "assertive", role: "alert" });
    root.appendChild(this.announcer);
    (this.config.container || document.body).appendChild(this.host);
  };

  Widget.prototype.autosize = function () {
    this.input.style.height = "auto";
    this.input.style.height = Math.min(this.input.scrollHeight + 3, 140) + "px";
  };

  Widget.prototype.open = function (focus) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.badge.classList.remove("on");
    this.store.setItem(this.prefix + "open", "true");
    this.scrollDown();
    if (focus !== false) this.input.focus();
  };

  Widget.prototype.close = function () {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.store.setItem(this.prefix + "open", "false");
    this.launcher.focus();
  };

  Widget.prototype.scrollDown = function () {
    this.log.scrollTop = this.log.scrollHeight;
  };

  Widget.prototype.announce = function (text) {
    this.announcer.textContent = "";
    var node = this.announcer;
    window.setTimeout(function () { node.textContent = text; }, 50);
  };

  Widget.prototype.setStatus = function (text) {
    if (text) {
      this.status.textContent = text;
      this.status.hidden = false;
    } else {
      this.status.hidden = true;
      this.status.textContent = "";
    }
  };

  Widget.prototype.renderHistory = function () {
    while (this.log.firstChild) this.log.removeChild(this.log.firstChild);
    this.log.appendChild(el("p", { className: "privacy" }, this.config.privacyNote || this.t.privacy));
    var greeting = this.config.greeting === undefined ? this.t.greeting : this.config.greeting;
    if (greeting) this.log.appendChild(el("div", { className: "msg bot local" }, greeting));
    var last = this.history.length - 1;
    this.history.forEach(function (item, index) {
      this.renderItem(item, index === last);
    }, this);
    this.log.appendChild(this.typing);
    this.scrollDown();
  };

  Widget.prototype.renderItem = function (item, withButtons) {
    var t = this.t;
    var bubble = el("div", { className: "msg " + item.from + (item.pending ? " pending" : "") });
    if (item.id) bubble.setAttribute("data-id", item.id);
    bubble.appendChild(el("span", { className: "sr-only" }, (item.from === "user" ? t.you : t.bot) + ": "));
    if (item.image) {
      bubble.appendChild(el("img", { src: item.image, alt: item.text || "" }));
    } else {
      bubble.appendChild(document.createTextNode(item.text));
    }
    if (item.pending) bubble.appendChild(el("span", { className: "meta" }, t.queued));
    if (item.error) {
      bubble.classList.add("failed");
      bubble.appendChild(el("span", { className: "error", role: "alert" }, item.error));
    }
    this.log.insertBefore(bubble, this.typing.parentNode === this.log ? this.typing : null);
    if (withButtons && item.buttons && item.buttons.length) this.renderButtons(item.buttons);
    return bubble;
  };

  Widget.prototype.renderButtons = function (buttons) {
    this.removeButtons();
    var isScore = buttons.length >= 10 && buttons.every(function (b) { return /^\d{1,2}$/.test(String(b.title)); });
    var group = el("div", { className: "replies" + (isScore ? " score" : ""), role: "group", "aria-label": this.t.options });
    buttons.forEach(function (button) {
      var node = el("button", { type: "button", className: "reply" }, button.title);
      node.addEventListener("click", function () {
        this.send(String(button.payload), String(button.title));
      }.bind(this));
      group.appendChild(node);
    }, this);
    group.addEventListener("keydown", function (event) {
      var items = Array.prototype.slice.call(group.querySelectorAll("button"));
      var index = items.indexOf(event.target);
      var next = null;
      if (event.key === "ArrowRight" || event.key === "ArrowDown") next = items[(index + 1) % items.length];
      if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = items[(index - 1 + items.length) % items.length];
      if (event.key === "Home") next = items[0];
      if (event.key === "End") next = items[items.length - 1];
      if (next) { event.preventDefault(); next.focus(); }
    }.bind(this));
    this.log.insertBefore(group, this.typing.parentNode === this.log ? this.typing : null);
    this.replies = group;
  };

  Widget.prototype.removeButtons = function () {
    if (this.replies && this.replies.parentNode) this.replies.parentNode.removeChild(this.replies);
    this.replies = null;
  };

  Widget.prototype.showTyping = function (on) {
    this.typing.hidden = !on;
    if (on) this.scrollDown();
  };

  // ------------------------------------------------------------------ sending

  Widget.prototype.onKeydown = function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.onSubmit(event);
    }
  };

  Widget.prototype.onSubmit = function (event) {
    if (event) event.preventDefault();
    var text = this.input.value.replace(/\s+$/, "");
    if (!text.trim()) return;
    if (text.length > MAX_MESSAGE) { this.announce(this.t.tooLong); return; }
    this.input.value = "";
    this.autosize();
    this.send(text, text);
    this.input.focus();
  };

  Widget.prototype.metadata = function () {
    var data = { page_url: pageUrl(), touchpoint: this.config.touchpoint || "website",
                 browser_language: navigator.language || "", ui_language: this.lang, widget_version: VERSION };
    if (this.config.orderRef) data.order_ref = String(this.config.orderRef);
    return data;
  };

  Widget.prototype.send = function (message, shown) {
    this.removeButtons();
    var item = { id: randomId().slice(0, 24), from: "user", text: shown, message: message, ts: Date.now(), pending: true };
    this.history.forEach(function (h) { delete h.buttons; });
    this.history.push(item);
    this.outbox.push({ id: item.id, message: message, metadata: this.metadata() });
    this.save();
    this.renderItem(item, false);
    this.scrollDown();
    this.flush();
  };

  Widget.prototype.markSent = function (id) {
    this.outbox = this.outbox.filter(function (o) { return o.id !== id; });
    this.history.forEach(function (h) { if (h.id === id) delete h.pending; });
    var bubble = this.log.querySelector('[data-id="' + id + '"]');
    if (bubble) {
      bubble.classList.remove("pending");
      var meta = bubble.querySelector(".meta");
      if (meta) bubble.removeChild(meta);
    }
    this.save();
  };

  // The server refused the message for good (too long, malformed): it stays visible, marked
  // as not sent with the reason, and leaves the outbox (sending it again cannot help).
  Widget.prototype.markFailed = function (id, reason) {
    this.outbox = this.outbox.filter(function (o) { return o.id !== id; });
    this.history.forEach(function (h) { if (h.id === id) { delete h.pending; h.error = reason; } });
    var bubble = this.log.querySelector('[data-id="' + id + '"]');
    if (bubble) {
      var meta = bubble.querySelector(".meta");
      if (meta) bubble.removeChild(meta);
      bubble.classList.remove("pending");
      bubble.classList.add("failed");
      bubble.appendChild(el("span", { className: "error", role: "alert" }, reason));
    }
    this.announce(reason);
    this.save();
  };

  Widget.prototype.setPending = function (id, pending) {
    var bubble = this.log.querySelector('[data-id="' + id + '"]');
    if (!bubble) return;
    var meta = bubble.querySelector(".meta");
    bubble.classList.toggle("pending", pending);
    if (pending && !meta) bubble.appendChild(el("span", { className: "meta" }, this.t.queued));
    if (!pending && meta) bubble.removeChild(meta);
  };

  Widget.prototype.flush = function () {
    if (!this.ready || this.inFlight || !this.outbox.length || !this.socket || !this.socket.connected) return;
    var next = this.outbox[0];
    var socket = this.socket;
    var self = this;
    this.inFlight = next.id;
    this.setPending(next.id, false);
    this.showTyping(true);
    var payload = { session_id: this.sessionId, message: next.message, message_id: next.id, customData: next.metadata };
    // Rasa acknowledges after the bot has handled the message and sent its replies. Without an
    // acknowledgement the message stays queued and is sent again (same message_id: the channel
    // processes it only once).
    var emitter = typeof socket.timeout === "function" ? socket.timeout(Number(this.config.ackTimeoutMs || 45000)) : socket;
    emitter.emit("user_uttered", payload, function (err, result) {
      if (self.inFlight !== next.id) return;
      self.inFlight = null;
      self.showTyping(false);
      var refused = result && typeof result === "object" && result.ok === false ? result.error : null;
      if (refused === "rate_limited") {
        // Too many messages a minute: say so, keep it queued, send it when the server allows.
        var seconds = Math.min(60, Math.max(1, Math.ceil(Number(result.retry_after) || 5)));
        self.setPending(next.id, true);
        var note = self.t.rateLimited.replace("{seconds}", seconds);
        self.setStatus(note);
        window.setTimeout(function () {
          if (self.status.textContent === note) self.setStatus("");
          self.flush();
        }, seconds * 1000);
        return;
      }
      if (refused) {
        self.markFailed(next.id, refused === "too_long"
          ? self.t.tooLongServer.replace("{max}", String(result.max_chars || MAX_MESSAGE)) : self.t.notSent);
        self.flush();
        return;
      }
      // No acknowledgement in time, or the server could not handle it ({ok: false}, e.g. its
      // lock store was down): keep it queued and send it again.
      if ((err && typeof err === "object" && err instanceof Error) ||
          (result && typeof result === "object" && result.ok === false)) {
        window.setTimeout(function () { self.flush(); }, 1000);
        return;
      }
      self.markSent(next.id);
      self.flush();
    });
  };

  Widget.prototype.onBotMessage = function (data) {
    if (!data || typeof data !== "object") return;
    var buttons = data.quick_replies || data.buttons || [];
    var item = { from: "bot", ts: Date.now() };
    if (typeof data.text === "string") item.text = data.text;
    else if (data.attachment && data.attachment.type === "image" && data.attachment.payload &&
             /^https?:\/\//.test(String(data.attachment.payload.src || ""))) {
      item.image = String(data.attachment.payload.src);
      item.text = "";
    } else return;
    if (Array.isArray(buttons) && buttons.length) {
      item.buttons = buttons.filter(function (b) { return b && b.title !== undefined; }).map(function (b) {
        return { title: String(b.title), payload: String(b.payload !== undefined ? b.payload : b.title) };
      });
    }
    this.history.forEach(function (h) { delete h.buttons; });
    this.removeButtons();
    this.history.push(item);
    this.save();
    this.renderItem(item, true);
    this.scrollDown();
    if (this.panel.hidden) {
      this.badge.classList.add("on");
      this.announce(this.t.newMessage);
    }
  };

  Widget.prototype.restart = function () {
    this.forget();
    this.history = [];
    this.outbox = [];
    this.inFlight = null;
    this.ready = false;
    this.renderHistory();
    this.showTyping(false);
    this.announce(this.t.newConversationDone);
    if (this.socket) {
      // A new connection leaves the old session's socket.io room: late replies of the old
      // conversation do not show up in the new one.
      this.socket.disconnect();
      this.socket.connect();
    }
    this.input.focus();
  };

  // ------------------------------------------------------------------ connection

  Widget.prototype.connect = function () {
    var self = this;
    var vendor = this.config.socketIoSrc || BASE + "vendor/socket.io.min.js";
    this.setStatus(this.t.connecting);
    loadSocketIo(vendor).then(function (io) {
      // socket.io reads a URL path as a namespace: a server behind a path prefix
      // (https://acme.nl/bot) becomes origin + path "/bot/socket.io".
      var target = new URL(String(self.config.serverUrl || window.location.origin), window.location.href);
      var prefix = target.pathname.replace(/\/+$/, "");
      var options = { path: self.config.socketPath || prefix + "/socket.io", transports: ["websocket", "polling"], tryAllTransports: true,
                      reconnection: true, reconnectionDelay: 1000, reconnectionDelayMax: 10000 };
      if (self.config.token) options.auth = { token: self.config.token };
      var socket = io(target.origin, options);
      self.socket = socket;
      socket.on("connect", function () {
        self.ready = false;
        self.inFlight = null;
        socket.emit("session_request", { session_id: self.sessionId });
      });
      socket.on("session_confirm", function (sessionId) {
        var id = typeof sessionId === "string" ? sessionId : sessionId && sessionId.session_id;
        if (!id) return;
        self.sessionId = id;
        self.ready = true;
        self.save();
        self.setStatus("");
        if (self.wasOffline) self.announce(self.t.reconnected);
        self.wasOffline = false;
        self.everConnected = true;
        self.flush();
      });
      socket.on("bot_uttered", function (data) { self.onBotMessage(data); });
      socket.on("disconnect", function (reason) {
        self.ready = false;
        self.inFlight = null;
        self.showTyping(false);
        if (reason === "io client disconnect") return; // our own restart()
        self.wasOffline = true;
        self.outbox.forEach(function (o) { self.setPending(o.id, true); });
        self.setStatus(self.t.offline);
      });
      socket.on("connect_error", function () {
        self.wasOffline = true;
        self.setStatus(self.t.offline);
      });
      window.addEventListener("online", function () { if (!socket.connected) socket.connect(); });
    }).catch(function (error) {
      self.setStatus(self.t.offline);
      if (window.console) window.console.error("Gehoor widget: " + error.message);
    });
  };

  var instance = null;
  window.GehoorWidget = {
    version: VERSION,
    init: function (config) {
      if (instance) return instance;
      if (!config || !config.serverUrl) throw new Error("GehoorWidget.init needs {serverUrl}");
      instance = new Widget(config);
      return instance;
    },
    open: function () { if (instance) instance.open(true); },
    close: function () { if (instance) instance.close(); },
    newConversation: function () { if (instance) instance.restart(); }
  };
  if (window.GehoorWidgetConfig) window.GehoorWidget.init(window.GehoorWidgetConfig);
})();
