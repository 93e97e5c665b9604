// The assistant on any intranet page: add
//   <script src="https://assistant.example.com/embed.js" defer></script>
// and a chat bubble appears in the bottom right corner. It opens the assistant's /widget in a frame
// (the page's origin must be in AIOS_GATEWAY_EMBED_ORIGINS, or the browser refuses the frame). The
// bubble lives in a shadow root: the page's styles do not reach it, and its styles stay inside.
// Optional attributes on the script tag: data-label (the bubble's text), data-open="true".
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || window.__aiosWidget) return;
  window.__aiosWidget = true;
  const origin = new URL(script.src).origin;
  const label = script.dataset.label || "Ask the assistant";

  const host = document.createElement("div");
  host.id = "aios-assistant";
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `
    <style>
      :host { all: initial; }
      .bubble { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; border: 0; border-radius: 28px;
        padding: 14px 20px; background: #2952cc; color: #fff; font: 600 15px/1.2 system-ui, sans-serif;
        box-shadow: 0 4px 14px rgba(0,0,0,.25); cursor: pointer; }
      .bubble:focus-visible { outline: 3px solid #1a4f9c; outline-offset: 3px; }
      .panel { position: fixed; right: 20px; bottom: 84px; z-index: 2147483000; width: 400px; height: 600px;
        max-width: calc(100vw - 24px); max-height: calc(100vh - 110px); border: 1px solid #d0d5dd;
        border-radius: 12px; overflow: hidden; background: #fff; box-shadow: 0 8px 30px rgba(0,0,0,.25); }
      .panel[hidden] { display: none; }
      iframe { width: 100%; height: 100%; border: 0; }
      @media (max-width: 480px) { .panel { right: 8px; left: 8px; width: auto; bottom: 76px; } }
    </style>
    <div class="panel" id="panel" role="dialog" aria-label="AIOS Assistant" hidden></div>
    <button class="bubble" id="bubble" type="button" aria-expanded="false" aria-controls="panel"></button>`;
  const bubble = root.getElementById("bubble");
  const panel = root.getElementById("panel");
  bubble.textContent = label;

  function open(show) {
    if (show && !panel.firstChild) {
      const frame = document.createElement("iframe");
      frame.src = origin + "/widget";
      frame.title = "AIOS Assistant chat";
      frame.allow = "clipboard-write";
      panel.appendChild(frame);
    }
    panel.hidden = !show;
    bubble.setAttribute("aria-expanded", String(show));
    bubble.textContent = show ? "Close" : label;
    if (show) panel.firstChild.focus();
  }

  bubble.addEventListener("click", () => open(panel.hidden));
  root.addEventListener("keydown", (e) => { if (e.key === "Escape" && !panel.hidden) { open(false); bubble.focus(); } });
  (document.body || document.documentElement).appendChild(host);
  if (script.dataset.open === "true") open(true);
})();
