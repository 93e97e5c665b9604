// Signing in on the web pages (chat, admin, document view, embedded widget): the company's provider
// through the gateway's /auth/* routes, or, in dev mode, a token pasted from `aios token`.
//   - on the gateway's own pages: a session cookie; every change carries the session's CSRF token;
//   - in the widget framed by another site (where the SameSite cookie is not sent): sign-in in a
//     popup, which hands the widget a session of its own (`Authorization: Session <id>`).
// window.AiosAuth is what the pages use.
(() => {
  "use strict";
  const TOKEN_KEY = "aios.token";
  const WIDGET_KEY = "aios.widget-session";
  let token = sessionStorage.getItem(TOKEN_KEY) || "";
  let widgetSession = sessionStorage.getItem(WIDGET_KEY) || "";
  let csrf = "";
  const framed = window.self !== window.top;

  // Headers that authenticate a request of `method`.
  function headers(method) {
    if (token) return { Authorization: "Bearer " + token };
    if (widgetSession) return { Authorization: "Session " + widgetSession };
    return method === "GET" ? {} : { "X-CSRF-Token": csrf };
  }

  // Show the sign-in the gateway offers; resolves true once signed in (session or stored token).
  // `els`: {sso, ssoLink, tokenForm}, elements of the page's login section; `onSignedIn`: called
  // when a sign-in completes later (the widget's popup).
  async function boot(els, onSignedIn) {
    const config = await (await fetch("/auth/config")).json();
    els.sso.hidden = !config.sso;
    els.tokenForm.hidden = !config.tokens;
    els.ssoLink.href = "/auth/login?next=" + encodeURIComponent(window.location.pathname + window.location.search);
    if (framed && config.sso) {
      els.ssoLink.addEventListener("click", (e) => {
        e.preventDefault();
        window.open("/auth/login?next=/auth/handoff", "aios-sign-in", "popup,width=520,height=680");
      });
      window.addEventListener("message", (e) => {
        if (e.origin !== window.location.origin || !e.data || e.data.type !== "aios-session") return;
        widgetSession = String(e.data.session);
        sessionStorage.setItem(WIDGET_KEY, widgetSession);
        if (onSignedIn) onSignedIn();
      });
    }
    if (!config.tokens) token = "";
    if (token || widgetSession) return true;
    if (config.sso) {
      const res = await fetch("/auth/session", { credentials: "same-origin" });
      if (res.ok) {
        csrf = (await res.json()).csrf;
        return true;
      }
    }
    return false;
  }

  function useToken(t) {
    token = t.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
  }

  // Forget the sign-in here; `everywhere`: also end the session at the gateway (and, for the
  // session cookie, at the provider: the page then goes to the provider's sign-out and back).
  async function signOut(everywhere) {
    if (everywhere && (csrf || widgetSession)) {
      const res = await fetch("/auth/logout", { method: "POST", credentials: "same-origin",
        headers: Object.assign(headers("POST"), { Accept: "application/json" }) });
      const redirect = res.ok ? (await res.json()).redirect : null;
      csrf = "";
      widgetSession = "";
      sessionStorage.removeItem(WIDGET_KEY);
      if (redirect) { window.location.assign(redirect); return true; }
    }
    csrf = "";
    token = "";
    widgetSession = "";
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(WIDGET_KEY);
    return false;
  }

  // An admin page (knowledge admin, insights): its sign-in form and "Log out" button; once someone is
  // signed in, `fetchMe()` says who, a non-admin is sent back with `refusal(me)`, and `ready()` runs.
  // Returns the page's `logout(message)` (for a 401 from its own API calls).
  function adminPage({ fetchMe, refusal, ready }) {
    const $ = (id) => document.getElementById(id);
    async function logout(message) {
      if (await signOut(!message)) return;
      $("app").hidden = true;
      $("who").hidden = true;
      $("login").hidden = false;
      $("login-error").textContent = message || "";
    }
    async function start() {
      try {
        const me = await fetchMe();
        if (!me.is_admin) {
          logout(refusal(me));
          return;
        }
        $("who-name").textContent = me.name;
        $("who").hidden = false;
        $("login").hidden = true;
        $("app").hidden = false;
        ready();
      } catch (err) {
        logout(err.message);
      }
    }
    $("login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      useToken($("token").value);
      start();
    });
    $("logout").addEventListener("click", () => logout(""));
    boot({ sso: $("sso"), ssoLink: $("sso-link"), tokenForm: $("login-form") }).then((signedIn) => {
      if (signedIn) start();
    });
    return logout;
  }

  window.AiosAuth = { headers, boot, useToken, signOut, framed, adminPage };
})();
