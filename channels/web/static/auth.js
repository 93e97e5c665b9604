// Signing in on the web pages (chat and admin): the company's provider through the gateway's
// /auth/* routes (a session cookie; every change carries the session's CSRF token), or, in dev
// mode, a token pasted from `aios token`. window.AiosAuth is what the pages use.
(() => {
  "use strict";
  const TOKEN_KEY = "aios.token";
  let token = sessionStorage.getItem(TOKEN_KEY) || "";
  let csrf = "";

  // Headers that authenticate a request of `method`.
  function headers(method) {
    if (token) return { Authorization: "Bearer " + token };
    return method === "GET" ? {} : { "X-CSRF-Token": csrf };
  }

  // Show the sign-in the gateway offers; resolves true once signed in (session or stored token).
  // `els`: {sso, ssoLink, tokenForm}, elements of the page's login section.
  async function boot(els) {
    const config = await (await fetch("/auth/config")).json();
    els.sso.hidden = !config.sso;
    els.tokenForm.hidden = !config.tokens;
    els.ssoLink.href = "/auth/login?next=" + encodeURIComponent(window.location.pathname + window.location.search);
    if (config.sso && !token) {
      const res = await fetch("/auth/session", { credentials: "same-origin" });
      if (res.ok) {
        csrf = (await res.json()).csrf;
        return true;
      }
    }
    if (!config.tokens) token = "";
    return Boolean(token);
  }

  function useToken(t) {
    token = t.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
  }

  // Forget the sign-in here; `everywhere`: also end the session at the gateway and the provider
  // (the page then goes to the provider's sign-out and back).
  async function signOut(everywhere) {
    if (csrf && everywhere) {
      const res = await fetch("/auth/logout", { method: "POST", credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, Accept: "application/json" } });
      csrf = "";
      if (res.ok) { window.location.assign((await res.json()).redirect); return true; }
    }
    csrf = "";
    token = "";
    sessionStorage.removeItem(TOKEN_KEY);
    return false;
  }

  window.AiosAuth = { headers, boot, useToken, signOut };
})();
