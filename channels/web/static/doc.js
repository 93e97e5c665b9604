// The document view of a citation: /doc?d=<document id>&c=<passage id>. The document's passages
// as the reader may see them (the gateway checks their groups: a document they may not read is a
// 404, shown as "not available"), with the cited passage highlighted and scrolled to.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const auth = window.AiosAuth;
  const params = new URLSearchParams(window.location.search);
  const documentId = params.get("d") || "";
  const cited = params.get("c") || "";

  async function show() {
    const res = await fetch("/api/knowledge/documents/" + encodeURIComponent(documentId) + "/passages",
      { credentials: "same-origin", headers: auth.headers("GET") });
    if (res.status === 401) { $("login").hidden = false; $("doc-state").textContent = "Please sign in."; return; }
    if (!res.ok) { $("doc-state").textContent = "This document is not available to you."; return; }
    const doc = await res.json();
    document.title = doc.title + " — AIOS Assistant";
    $("doc-title").textContent = doc.title;
    $("doc-state").textContent = "";
    let section = null;
    let target = null;
    for (const p of doc.passages) {
      if (p.section !== section) {
        section = p.section;
        const h = document.createElement("h3");
        h.textContent = section;
        $("passages").appendChild(h);
      }
      const div = document.createElement("div");
      div.className = "passage";
      div.id = "p-" + p.chunk_id;
      div.textContent = p.text;
      if (p.chunk_id === cited) {
        div.classList.add("cited");
        div.tabIndex = -1;
        div.setAttribute("aria-label", "The cited passage");
        target = div;
      }
      $("passages").appendChild(div);
    }
    if (target) { target.scrollIntoView({ block: "center" }); target.focus(); }
  }

  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    auth.useToken(document.getElementById("token").value);
    $("login").hidden = true;
    show();
  });
  auth.boot({ sso: $("sso"), ssoLink: $("sso-link"), tokenForm: $("login-form") }).then(show);
})();
