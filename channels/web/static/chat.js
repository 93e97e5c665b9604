// The web chat widget: sign in (the company's provider, or a pasted token in dev mode), chat through
// POST /api/chat, click buttons. Signed in through the provider, the session cookie authenticates
// and every change carries the session's CSRF token.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const auth = window.AiosAuth;  // static/auth.js
  let busy = false;

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: Object.assign(auth.headers(method), body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    let data = null;
    try { data = await res.json(); } catch (_) { /* empty body */ }
    if (res.status === 401) { logout((data && data.error && data.error.message) || "Please log in again."); }
    if (!res.ok) {
      const msg = (data && data.error && data.error.message) || ("HTTP " + res.status);
      throw new Error(msg);
    }
    return data;
  }

  function add(cls, text) {
    const li = document.createElement("li");
    li.className = cls;
    li.textContent = text;
    $("log").appendChild(li);
    li.scrollIntoView({ block: "end" });
    return li;
  }

  // A quoted table as a real table: its column headings, its rows, the passage it is quoted from.
  // `answer`: the row the reply leads with; the same row in the quoted table is marked.
  function table(block, answer) {
    const t = document.createElement("table");
    t.className = "quoted";
    const head = t.createTHead().insertRow();
    for (const c of block.columns) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = c;
      head.appendChild(th);
    }
    const body = t.createTBody();
    for (const r of block.rows) {
      const tr = body.insertRow();
      for (const v of r) tr.insertCell().textContent = v;
      if (answer && block.rows.length > 1 && r.join("\u0000") === answer) tr.className = "answer";
    }
    if (block.citation) t.createCaption().textContent = block.citation;
    return t;
  }

  // The conversation as shown, kept for this tab so a reload shows it again (per person).
  let historyKey = "";
  function remember(entry) {
    if (!historyKey) return;
    const kept = JSON.parse(sessionStorage.getItem(historyKey) || "[]");
    kept.push(entry);
    sessionStorage.setItem(historyKey, JSON.stringify(kept.slice(-200)));
  }
  function replay() {
    for (const e of JSON.parse(sessionStorage.getItem(historyKey) || "[]")) {
      if (e.message) render(e.message); else add(e.cls, e.text);
    }
  }

  // `into`: an element to fill (a streamed answer being finished) instead of a new one.
  function render(message, into) {
    const blocks = message.blocks || [];
    const li = into || add("bot", "");
    li.replaceChildren();
    li.className = "bot";
    if (!blocks.length) li.textContent = message.text || "";
    const lead = blocks.length && blocks[0].type === "table" && blocks[0].rows.length === 1
      ? blocks[0].rows[0].join("\u0000") : null;
    for (const b of blocks) {
      if (b.type === "table") {
        li.appendChild(table(b, lead));
      } else {
        const p = document.createElement("p");
        p.textContent = b.text;
        li.appendChild(p);
      }
    }
    if (message.buttons && message.buttons.length) {
      const row = document.createElement("div");
      row.className = "buttons";
      for (const b of message.buttons) {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.title;
        btn.addEventListener("click", () => {
          row.querySelectorAll("button").forEach((x) => (x.disabled = true));
          send({ payload: b.payload }, b.title);
        });
        row.appendChild(btn);
      }
      li.appendChild(row);
    }
    if (message.sources && message.sources.length) {
      const ol = document.createElement("ol");
      ol.className = "sources";
      ol.setAttribute("aria-label", "Sources");
      for (const s of message.sources) {
        const item = document.createElement("li");
        const label = s.title + (s.section ? " \u2014 " + s.section : "");
        if (s.chunk_id) {
          const a = document.createElement("a");
          a.href = "/doc?d=" + encodeURIComponent(s.document_id) + "&c=" + encodeURIComponent(s.chunk_id);
          a.target = "_blank";
          // Our own page: it keeps the opener, so a dev-mode token in sessionStorage goes with it.
          a.rel = "opener";
          a.textContent = label;
          item.appendChild(a);
        } else {
          item.textContent = label;
        }
        ol.appendChild(item);
      }
      li.appendChild(ol);
    }
    if (message.answer_id) li.appendChild(feedback(message.answer_id));
    li.scrollIntoView({ block: "end" });
    return li;
  }

  // Thumbs up/down on an answer, and an optional comment (asked for after a thumbs down).
  function feedback(answerId) {
    const box = document.createElement("div");
    box.className = "feedback";
    const status = document.createElement("span");
    status.className = "feedback-status";
    status.setAttribute("role", "status");
    const rate = async (rating, comment) => {
      try {
        await api("POST", "/api/answers/" + encodeURIComponent(answerId) + "/feedback", { rating, comment: comment || "" });
        status.textContent = comment ? "Thanks, noted." : "Thanks for the feedback.";
      } catch (err) { status.textContent = err.message; }
    };
    for (const [rating, label] of [["up", "Helpful"], ["down", "Not helpful"]]) {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "thumb " + rating;
      btn.textContent = label;  // words, not emoji: a server's browser may have no emoji font
      btn.setAttribute("aria-pressed", "false");
      btn.addEventListener("click", async () => {
        box.querySelectorAll(".thumb").forEach((x) => x.setAttribute("aria-pressed", String(x === btn)));
        await rate(rating, "");
        if (rating === "down" && !box.querySelector("form")) {
          const form = document.createElement("form");
          const input = document.createElement("input");
          input.maxLength = 1000;
          input.placeholder = "What was wrong or missing? (optional)";
          input.setAttribute("aria-label", "Comment on this answer");
          const sendBtn = document.createElement("button");
          sendBtn.type = "submit";
          sendBtn.textContent = "Send";
          form.append(input, sendBtn);
          form.addEventListener("submit", (e) => { e.preventDefault(); rate("down", input.value.trim()); form.remove(); });
          box.appendChild(form);
          input.focus();
        }
      });
      box.appendChild(btn);
    }
    box.appendChild(status);
    return box;
  }

  // A knowledge answer streamed through POST /api/knowledge/ask: sentences appear as they are
  // written and checked; the final event replaces them with the answer as the chat shows it.
  // window.aiosTimings: when Enter was pressed and when the first words appeared (the benchmark).
  async function stream(ask, timing) {
    const li = add("bot streaming", "");
    li.setAttribute("aria-busy", "true");
    const text = document.createElement("p");
    li.appendChild(text);
    const res = await fetch("/api/knowledge/ask", {
      method: "POST", credentials: "same-origin",
      headers: Object.assign(auth.headers("POST"), { "Content-Type": "application/json" }),
      body: JSON.stringify({ question: ask.question, previous_question: ask.previous_question, stream: true }),
    });
    if (!res.ok) {
      let data = null;
      try { data = await res.json(); } catch (_) { /* no body */ }
      li.remove();
      throw new Error((data && data.error && data.error.message) || ("HTTP " + res.status));
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let final = null;
    const seen = (event) => {
      if (event.type === "passages") text.textContent = text.textContent || "Reading the documents\u2026";
      if (event.type === "delta") {
        if (!timing.first) timing.first = performance.now();
        if (text.textContent.endsWith("\u2026")) text.textContent = "";
        text.textContent += event.text;
      }
      if (event.type === "answer") final = event.answer;
      if (event.type === "error") throw new Error(event.error.message);
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line) seen(JSON.parse(line));
      }
    }
    if (buffer.trim()) seen(JSON.parse(buffer));
    li.removeAttribute("aria-busy");
    if (!final) throw new Error("the answer stopped before it was complete; please ask again");
    if (!timing.first) timing.first = performance.now();
    timing.done = performance.now();
    timing.service = final.timings || {};  // the knowledge service's own figures (ttft_ms, total_ms...)
    render(final.message, li);
    remember({ message: final.message });
  }

  window.aiosTimings = [];

  async function send(body, shown) {
    if (busy) return;
    busy = true;
    $("send").disabled = true;
    const timing = { enter: performance.now() };
    add("me", shown);
    remember({ cls: "me", text: shown });
    const pending = add("pending", "\u2026");
    try {
      const data = await api("POST", "/api/chat", Object.assign({ stream: true }, body));
      pending.remove();
      if (!data.messages.length) add("bot", "(no reply)");
      for (const m of data.messages) {
        if (m.stream) {
          timing.question = m.stream.question;
          await stream(m.stream, timing);
          window.aiosTimings.push(timing);
        } else {
          render(m);
          remember({ message: m });
        }
      }
      refreshRequests();
      approvals.refresh();
    } catch (err) {
      pending.remove();
      add("error", err.message);
    } finally {
      busy = false;
      $("send").disabled = false;
      $("message").focus();
    }
  }

  async function refreshRequests() {
    try {
      const data = await api("GET", "/api/requests");
      const ul = $("requests");
      ul.replaceChildren();
      if (!data.requests.length) { ul.innerHTML = "<li class='state'>None yet</li>"; return; }
      for (const r of data.requests) {
        const li = document.createElement("li");
        li.textContent = r.request_id + " \u00b7 " + r.kind.replace("_", " ") + " ";
        const st = document.createElement("span");
        st.className = "state";
        st.textContent = r.state.replace("_", " ");
        li.appendChild(st);
        ul.appendChild(li);
      }
    } catch (_) { /* the list is a convenience; the chat says what matters */ }
  }

  // Approval cards: the pending list, cards and messages from the inbox, Approve/Reject with a comment.
  // Every copy of a card (list and chat log) is keyed by approval id and updated together.
  const approvals = (() => {
    let last = 0;
    let running = false;
    let timer = null;

    function when(iso) {
      return iso ? new Date(iso).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" }) : "";
    }

    function closedText(card) {
      if (card.status_text) return card.status_text + (card.decided_at ? " \u00b7 " + when(card.decided_at) : "");
      return card.status;
    }

    function cardElement(card) {
      const box = document.createElement("div");
      box.className = "card";
      box.dataset.approvalId = card.approval_id;
      const h = document.createElement("h3");
      h.textContent = card.title;
      box.appendChild(h);
      const meta = document.createElement("p");
      meta.className = "meta";
      meta.textContent = card.request_id + (card.stages > 1 ? " \u00b7 approval " + card.stage + " of " + card.stages + " (" + card.stage_name + ")" : "")
        + (card.deadline ? " \u00b7 decide before " + when(card.deadline) : "");
      box.appendChild(meta);
      const dl = document.createElement("dl");
      for (const [k, v] of card.facts || []) {
        const dt = document.createElement("dt"); dt.textContent = k;
        const dd = document.createElement("dd"); dd.textContent = v;
        dl.append(dt, dd);
      }
      box.appendChild(dl);
      if (card.note) {
        const note = document.createElement("p"); note.className = "note"; note.textContent = card.note;
        box.appendChild(note);
      }
      const comment = document.createElement("textarea");
      comment.rows = 1; comment.maxLength = 1000; comment.placeholder = "Comment (optional)";
      comment.setAttribute("aria-label", "Comment");
      const actions = document.createElement("div");
      actions.className = "actions";
      const status = document.createElement("p");
      status.className = "status"; status.setAttribute("role", "status");
      for (const [decision, label] of [["approve", "Approve"], ["reject", "Reject"]]) {
        const b = document.createElement("button");
        b.type = "button"; b.textContent = label; b.className = decision;
        b.addEventListener("click", () => decide(card, decision, comment.value));
        actions.appendChild(b);
      }
      box.append(comment, actions, status);
      if (card.status !== "open") close(box, closedText(card), false);
      return box;
    }

    function close(box, text, isError) {
      box.classList.add("closed");
      box.querySelectorAll("button, textarea").forEach((x) => (x.disabled = true));
      const status = box.querySelector(".status");
      status.textContent = text;
      status.classList.toggle("error", !!isError);
    }

    function copies(approvalId) {
      return document.querySelectorAll('.card[data-approval-id="' + approvalId + '"]');
    }

    async function decide(card, decision, comment) {
      copies(card.approval_id).forEach((box) => box.querySelectorAll("button").forEach((x) => (x.disabled = true)));
      try {
        const res = await api("POST", "/api/approvals/" + encodeURIComponent(card.approval_id) + "/decision",
          { decision, comment, params_hash: card.params_hash });
        const verb = res.decision === "approve" ? "Approved" : "Rejected";
        copies(card.approval_id).forEach((box) => close(box, verb + " by you \u00b7 " + when(res.decided_at), false));
      } catch (err) {
        // 403/409/410: the buttons are stale; say why and leave them disabled.
        copies(card.approval_id).forEach((box) => close(box, err.message, true));
      }
      refresh();
    }

    async function refresh() {
      try {
        const data = await api("GET", "/api/approvals?status=pending");
        const ul = $("approvals");
        ul.replaceChildren();
        if (!data.approvals.length) { ul.innerHTML = "<li class='state'>Nothing right now</li>"; return; }
        for (const card of data.approvals) {
          const li = document.createElement("li");
          li.appendChild(cardElement(card));
          ul.appendChild(li);
        }
      } catch (_) { /* the list is a convenience */ }
    }

    function show(n) {
      if (n.kind === "message") {
        add("bot notice", n.text);
      } else if (n.kind === "card" && n.card) {
        const li = document.createElement("li");
        li.className = "card-item";
        li.appendChild(cardElement(n.card));
        $("log").appendChild(li);
        li.scrollIntoView({ block: "end" });
      } else if (n.kind === "card_update" && n.card) {
        copies(n.approval_id).forEach((box) => close(box, closedText(n.card), false));
      }
    }

    async function poll() {
      while (running) {
        try {
          const data = await api("GET", "/api/notifications?after=" + last + "&wait=20");
          if (!running) return;
          data.notifications.forEach(show);
          if (data.notifications.length) { refresh(); refreshRequests(); }
          last = data.last;
        } catch (_) {
          await new Promise((r) => setTimeout(r, 3000));
        }
      }
    }

    async function start() {
      if (running) return;
      running = true;
      try {
        last = (await api("GET", "/api/notifications?tail=true")).last;  // only news from now on
      } catch (_) { /* poll() retries */ }
      refresh();
      timer = setInterval(refresh, 15000);
      poll();
    }

    function stop() {
      running = false;
      if (timer) clearInterval(timer);
      timer = null;
    }

    return { start, stop, refresh };
  })();

  async function start() {
    const me = await api("GET", "/api/me");
    $("who-name").textContent = me.name + " (" + me.id + ")";
    $("who").hidden = false;
    $("login").hidden = true;
    $("app").hidden = false;
    $("login-error").textContent = "";
    historyKey = "aios.history." + me.id;
    if (!$("log").children.length) {
      add("bot", "Hi " + me.name.split(" ")[0] + "! How can I help?");
      replay();
    }
    refreshRequests();
    approvals.start();
    loadDigest();
    $("message").focus();
  }

  // The weekly digest, on or off (PUT /api/me/digest): the person's own choice, read when it is sent.
  function showDigest(d) {
    $("digest").checked = d.enabled;
    $("digest").disabled = !d.running;
    $("digest-text").textContent = d.running
      ? "Send me a summary of my requests and approvals every " +
        d.weekday.charAt(0).toUpperCase() + d.weekday.slice(1) + " at " + d.local_time +
        " (" + d.timezone + ") in " + d.channel
      : "The weekly digest is switched off for everyone";
  }
  async function loadDigest() {
    try { showDigest(await api("GET", "/api/me/digest")); } catch (err) { $("digest-text").textContent = err.message; }
  }
  $("digest").addEventListener("change", async () => {
    try { showDigest(await api("PUT", "/api/me/digest", { enabled: $("digest").checked })); }
    catch (err) { $("digest-text").textContent = err.message; loadDigest(); }
  });

  async function login(t) {
    auth.useToken(t);
    try {
      await start();
    } catch (err) {
      await auth.signOut(false);
      $("login-error").textContent = err.message;
    }
  }

  async function logout(reason) {
    approvals.stop();
    if (!reason && historyKey) sessionStorage.removeItem(historyKey);  // signing out forgets the conversation here
    historyKey = "";
    if (await auth.signOut(!reason)) return;
    $("app").hidden = true;
    $("who").hidden = true;
    $("login").hidden = false;
    $("log").replaceChildren();
    $("login-error").textContent = reason || "";
  }

  $("login-form").addEventListener("submit", (e) => { e.preventDefault(); login($("token").value); });
  $("logout").addEventListener("click", () => logout(""));
  $("refresh").addEventListener("click", refreshRequests);
  $("panels-toggle").addEventListener("click", () => {
    const open = $("panels").classList.toggle("open");
    $("app").classList.toggle("panels-open", open);
    $("panels-toggle").setAttribute("aria-expanded", String(open));
    if (open) { refreshRequests(); approvals.refresh(); }
  });
  $("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("message").value.trim();
    if (!text) return;
    $("message").value = "";
    send({ message: text }, text);
  });
  if (auth.framed) document.body.classList.add("embedded");
  const signedIn = () => start().catch((err) => logout(err.message));
  auth.boot({ sso: $("sso"), ssoLink: $("sso-link"), tokenForm: $("login-form") }, signedIn).then((ok) => {
    if (ok) signedIn();
  });
})();
