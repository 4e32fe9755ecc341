// Layan web chat: talks to POST /api/chat and listens to GET /api/chat/inbox (server-sent
// events read through fetch, so the token travels in a header, never in a URL).
"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("text");
  const fileInput = document.getElementById("file");
  const sendButton = document.getElementById("send");
  const status = document.getElementById("status");
  const handoffBar = document.getElementById("handoff");
  const newButton = document.getElementById("new");
  const labels = JSON.parse(document.body.dataset.labels);
  let lang = document.body.dataset.lang;
  const texts = () => labels[lang] || labels[document.body.dataset.lang];
  // The token names the conversation and survives the browser closing; the history
  // of bubbles is kept only for this tab, so a shared computer does not show it to
  // the next person.
  const HISTORY_MAX = 100;
  let token = localStorage.getItem("layan.token") || "";
  let history = [];
  try { history = JSON.parse(sessionStorage.getItem("layan.history") || "[]"); } catch (e) { history = []; }

  function remember(entry) {
    history.push(entry);
    history = history.slice(-HISTORY_MAX);
    sessionStorage.setItem("layan.history", JSON.stringify(history));
  }

  // setLang relabels the page when the person changes language in the chat.
  function setLang(l) {
    if (!l || !labels[l] || l === lang) return;
    lang = l;
    localStorage.setItem("layan.lang", l);
    const t = texts();
    document.documentElement.lang = l;
    document.title = t.title;
    document.getElementById("title").textContent = t.title;
    document.getElementById("text-label").textContent = t.placeholder;
    document.getElementById("attach").title = t.attach;
    document.getElementById("attach-label").textContent = t.attach;
    newButton.textContent = t.new_chat;
    newButton.title = t.new_chat_hint;
    input.placeholder = t.placeholder;
    sendButton.textContent = t.send;
    setStatus(handoffBar.dataset.status || "");
  }

  // setStatus shows where a talk with staff stands (a reply's status): waiting for
  // staff, talking with one, or just ended; "" hides the bar. It sits above the
  // messages, so it never covers their buttons.
  const STATUS_LABELS = { "handoff:waiting": "status_waiting", "handoff:active": "status_active", "handoff:ended": "status_ended" };
  function setStatus(st) {
    const key = STATUS_LABELS[st];
    handoffBar.dataset.status = key ? st : "";
    handoffBar.textContent = key ? texts()[key] : "";
    handoffBar.hidden = !key;
    if (key) sessionStorage.setItem("layan.status", st); else sessionStorage.removeItem("layan.status");
  }

  // linkify turns text into nodes where every http(s) address is a link that opens
  // in a new tab, without access to this page; everything else stays plain text
  // (nothing is read as HTML).
  const URL_RE = /\bhttps?:\/\/[^\s<>"]+/gi;
  function linkify(text) {
    const out = document.createDocumentFragment();
    let at = 0;
    for (const m of text.matchAll(URL_RE)) {
      let url = m[0];
      // A sentence's punctuation after an address is not part of it.
      while (/[.,;:!?'\]]$/.test(url) || (url.endsWith(")") && url.split("(").length < url.split(")").length)) {
        url = url.slice(0, -1);
      }
      let href = null;
      try { href = new URL(url); } catch (e) { href = null; }
      if (!href || (href.protocol !== "http:" && href.protocol !== "https:")) continue;
      out.append(text.slice(at, m.index));
      const a = document.createElement("a");
      a.href = href.href;
      a.textContent = url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      out.append(a);
      at = m.index + url.length;
    }
    out.append(text.slice(at));
    return out;
  }

  // clock gives a message's time as the person reads it (14.05), or "".
  function clock(at) {
    const d = new Date(at);
    if (!at || isNaN(d)) return "";
    return String(d.getHours()).padStart(2, "0") + "." + String(d.getMinutes()).padStart(2, "0");
  }

  function bubble(entry) {
    const li = document.createElement("li");
    li.className = "msg " + entry.who + (entry.pushed ? " pushed" : "") + (entry.staff ? " staff" : "");
    li.append(linkify(entry.text || ""));
    if (entry.photo) {
      // A photo staff sent: read with the token (never in a URL), shown from memory.
      const img = document.createElement("img");
      img.className = "photo";
      img.alt = entry.text || "";
      li.appendChild(img);
      fetch(entry.photo, { headers: { "X-Chat-Token": token } })
        .then((res) => (res.ok ? res.blob() : Promise.reject(res.status)))
        .then((b) => { img.src = URL.createObjectURL(b); })
        .catch(() => { img.remove(); });
    }
    const when = clock(entry.at);
    if (when) li.dataset.time = when; // shown by the style sheet, not part of the text
    if ((entry.options && entry.options.length) || entry.askLocation) {
      const row = document.createElement("div");
      row.className = "options";
      if (entry.askLocation && navigator.geolocation) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "location";
        b.textContent = texts().share_location;
        b.addEventListener("click", shareLocation);
        row.appendChild(b);
      }
      for (const o of entry.options || []) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = o.label;
        b.dataset.option = o.id;
        b.addEventListener("click", () => send({ option: o.id }, o.label));
        row.appendChild(b);
      }
      li.appendChild(row);
    }
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  function show(entry) {
    if (!entry.at) entry.at = new Date().toISOString();
    remember(entry);
    bubble(entry);
  }

  // photoOf is where a reply's photo is read (a photo kept on the server), or "".
  function photoOf(r) {
    const ref = r.media && (r.media.Ref || r.media.ref);
    return ref && /^[0-9a-f]{32}\.(jpg|png|webp)$/.test(ref) ? "/api/chat/photo/" + ref : "";
  }

  // restored holds the texts of the server's history just shown: a pushed reply the
  // closed page never got is in the history too, and is not shown twice.
  let restored = [];

  function showReplies(replies, pushed) {
    for (const r of replies || []) {
      // Every reply while a person holds the talk says where it stands; the bot
      // answering the person by itself means the talk is over.
      if (r.status) setStatus(r.status);
      else if (!pushed && r.from !== "staff") setStatus("");
      const seen = pushed ? restored.indexOf(r.text) : -1;
      if (seen >= 0) { restored.splice(seen, 1); continue; }
      show({ who: "bot", staff: r.from === "staff", photo: photoOf(r), text: r.text, options: r.options || [], askLocation: !!r.ask_location, pushed: !!pushed });
    }
  }

  function notice(text) {
    status.textContent = text || "";
    status.hidden = !text;
  }

  function messageId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  function setToken(t) {
    if (t === token) return;
    token = t;
    if (t) localStorage.setItem("layan.token", t); else localStorage.removeItem("layan.token");
    sessionStorage.removeItem("layan.event");
    if (!t) localStorage.removeItem("layan.lang");
    listen();
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // untilOnline waits for the browser to be back online, or at most ms.
  function untilOnline(ms) {
    return new Promise((resolve) => {
      const done = () => { window.removeEventListener("online", done); resolve(); };
      window.addEventListener("online", done);
      setTimeout(done, ms);
    });
  }

  // post sends one message. A lost answer is retried with the same id, which the
  // server recognises, so nothing is done twice. While the network is down it keeps
  // trying (the notice says so); a server that keeps failing is given up after a
  // few tries.
  async function post(body) {
    let serverErrors = 0;
    for (let delay = 1000; ; delay = Math.min(delay * 2, 30000)) {
      let res;
      try {
        const headers = { "Content-Type": "application/json" };
        if (token) headers["X-Chat-Token"] = token;
        res = await fetch("/api/chat", { method: "POST", headers, body: JSON.stringify(body) });
      } catch (e) {
        notice(texts().offline);
        await untilOnline(delay);
        continue;
      }
      if (res.status === 401 && token) { setToken(""); continue; }
      if (res.status >= 500 && ++serverErrors < 4) { await sleep(delay); continue; }
      if (!res.ok) break;
      let data;
      try { data = await res.json(); } catch (e) { await sleep(delay); continue; }
      notice("");
      return data;
    }
    notice(texts().error);
    return null;
  }

  // Messages go out one at a time, in the order the person sent them; the first one
  // of a new visitor also fetches the token that the others need. A message of a
  // conversation the person has since left ("new conversation") is dropped, and so is
  // its answer.
  let queue = Promise.resolve();
  let conversation = 0;
  function send(fields, label) {
    const body = Object.assign({ id: messageId() }, fields);
    const mine = conversation;
    if (label) show({ who: "me", text: label });
    queue = queue.then(async () => {
      if (mine !== conversation) return;
      const data = await post(body);
      if (!data || mine !== conversation) return;
      setToken(data.token);
      setLang(data.lang);
      showReplies(data.replies, false);
    }).catch(() => notice(texts().error)); // one failure must not stop later messages
    return queue;
  }

  function shareLocation() {
    navigator.geolocation.getCurrentPosition(
      (pos) => send({ location: { lat: pos.coords.latitude, lon: pos.coords.longitude } }, "📍 " + texts().share_location),
      (err) => notice(err && err.code === 1 ? texts().location_denied : texts().no_location),
      { enableHighAccuracy: true, timeout: 15000 });
  }

  // A photo goes to /api/chat/upload as the raw body; the server judges its type.
  fileInput.addEventListener("change", () => {
    const file = fileInput.files[0];
    fileInput.value = "";
    if (!file || !token) return;
    show({ who: "me", text: "📷 " + file.name });
    const id = messageId();
    const mine = conversation;
    queue = queue.then(async () => {
      for (let delay = 1000; mine === conversation; delay = Math.min(delay * 2, 30000)) {
        try {
          const res = await fetch("/api/chat/upload?id=" + encodeURIComponent(id), {
            method: "POST", headers: { "X-Chat-Token": token }, body: file,
          });
          if (!res.ok) { notice(texts().error); return; }
          notice("");
          const data = await res.json();
          if (mine === conversation) showReplies(data.replies, false);
          return;
        } catch (e) {
          notice(texts().offline);
          await untilOnline(delay);
        }
      }
    }).catch(() => notice(texts().error));
  });

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text }, text);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });

  // listen keeps one live stream of pushed messages open for the current token. The
  // tab remembers the last event it showed, so that after a lost connection or a
  // reload it resumes there (another tab keeps its own place).
  let streamAbort = null;
  async function listen() {
    if (streamAbort) streamAbort.abort();
    if (!token) return;
    const ctl = new AbortController();
    streamAbort = ctl;
    let delay = 1000;
    while (!ctl.signal.aborted) {
      try {
        const headers = { "X-Chat-Token": token, "Accept": "text/event-stream" };
        const last = sessionStorage.getItem("layan.event");
        if (last) headers["Last-Event-ID"] = last;
        const res = await fetch("/api/chat/inbox", { headers, signal: ctl.signal });
        if (res.status === 401) { setToken(""); return; }
        if (!res.ok || !res.body) throw new Error("stream " + res.status);
        delay = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            const event = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            let id = "";
            for (const line of event.split("\n")) {
              if (line.startsWith("id: ")) id = line.slice(4);
              if (line.startsWith("data: ")) {
                showReplies(JSON.parse(line.slice(6)).replies, true);
                restored = []; // only what the closed page missed comes first
              }
            }
            if (id) sessionStorage.setItem("layan.event", id);
          }
        }
      } catch (e) {
        if (ctl.signal.aborted) return;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 30000);
    }
  }

  // begin opens a conversation in language l; the bot greets.
  function begin(l) { send({ option: "lang:" + l }); }

  // "New conversation" makes this browser forget the conversation (its token, its
  // history, its place in the stream), for the next person at a shared computer, and
  // starts a new one. The old conversation is not deleted on the server.
  newButton.addEventListener("click", () => {
    conversation++;
    if (streamAbort) streamAbort.abort();
    streamAbort = null;
    token = "";
    localStorage.removeItem("layan.token");
    sessionStorage.removeItem("layan.history");
    sessionStorage.removeItem("layan.event");
    history = [];
    restored = [];
    log.replaceChildren();
    notice("");
    setStatus("");
    begin(lang); // in the language the page shows
  });

  // restore shows a returning visitor their conversation: this tab's own bubbles
  // after a reload, else (a new tab, the browser opened again) the recent messages the
  // server keeps. With nothing to show, the bot greets them with the menu.
  async function restore() {
    if (history.length) {
      for (const entry of history) bubble(entry);
      setStatus(sessionStorage.getItem("layan.status") || "");
      return;
    }
    let data = null;
    try {
      const res = await fetch("/api/chat/history", { headers: { "X-Chat-Token": token } });
      if (res.status === 401) { setToken(""); begin(lang); return; }
      if (res.ok) data = await res.json();
    } catch (e) { data = null; }
    const msgs = (data && data.messages) || [];
    if (data) setLang(data.lang);
    // Where a talk with staff stood: the newest status said, unless the bot later
    // answered the person by itself (the talk is over) or it had just ended.
    let st = "";
    msgs.forEach((m, i) => {
      if (m.status) st = m.status;
      else if (m.from === "bot" && i > 0 && msgs[i - 1].from === "citizen") st = "";
    });
    setStatus(st === "handoff:ended" ? "" : st);
    restored = msgs.filter((m) => m.from !== "citizen").map((m) => m.text);
    msgs.forEach((m, i) => {
      // Only the newest message keeps its buttons: older ones answered other questions.
      const options = i === msgs.length - 1 ? (m.options || []) : [];
      show({ who: m.from === "citizen" ? "me" : "bot", staff: m.from === "staff", photo: m.photo || "", text: m.text, options, at: m.at });
    });
    if (!msgs.length) send({ option: "menu" });
  }

  if (token) {
    setLang(localStorage.getItem("layan.lang"));
    restore().finally(listen); // the history first, then what comes live
  } else {
    // First visit: open the conversation in the browser's language.
    begin((navigator.language || "").toLowerCase().startsWith("en") ? "en" : "id");
  }
})();
