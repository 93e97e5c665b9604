// The web chat widget: log in with a token, chat through POST /api/chat, click buttons.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "aios.token";
  let token = sessionStorage.getItem(TOKEN_KEY) || "";
  let busy = false;

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: Object.assign({ Authorization: "Bearer " + token }, body ? { "Content-Type": "application/json" } : {}),
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

  function render(message) {
    const li = add("bot", message.text || "");
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
      for (const s of message.sources) {
        const item = document.createElement("li");
        item.textContent = s.title + (s.section ? " \u2014 " + s.section : "");
        ol.appendChild(item);
      }
      li.appendChild(ol);
    }
  }

  async function send(body, shown) {
    if (busy) return;
    busy = true;
    $("send").disabled = true;
    add("me", shown);
    const pending = add("pending", "\u2026");
    try {
      const data = await api("POST", "/api/chat", body);
      pending.remove();
      if (!data.messages.length) add("bot", "(no reply)");
      data.messages.forEach(render);
      refreshRequests();
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

  async function login(t) {
    token = t.trim();
    try {
      const me = await api("GET", "/api/me");
      sessionStorage.setItem(TOKEN_KEY, token);
      $("who-name").textContent = me.name + " (" + me.id + ")";
      $("who").hidden = false;
      $("login").hidden = true;
      $("app").hidden = false;
      $("login-error").textContent = "";
      if (!$("log").children.length) add("bot", "Hi " + me.name.split(" ")[0] + "! How can I help?");
      refreshRequests();
      $("message").focus();
    } catch (err) {
      $("login-error").textContent = err.message;
    }
  }

  function logout(reason) {
    token = "";
    sessionStorage.removeItem(TOKEN_KEY);
    $("app").hidden = true;
    $("who").hidden = true;
    $("login").hidden = false;
    $("log").replaceChildren();
    $("login-error").textContent = reason || "";
  }

  $("login-form").addEventListener("submit", (e) => { e.preventDefault(); login($("token").value); });
  $("logout").addEventListener("click", () => logout(""));
  $("refresh").addEventListener("click", refreshRequests);
  $("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("message").value.trim();
    if (!text) return;
    $("message").value = "";
    send({ message: text }, text);
  });
  if (token) login(token);
})();
