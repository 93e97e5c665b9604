// The sign-in popup of the embedded widget: give the widget (the opener, on this same origin) its
// session, then close. postMessage names this origin, so no other page can receive it.
(() => {
  "use strict";
  const session = document.getElementById("handoff").dataset.session;
  if (window.opener) {
    window.opener.postMessage({ type: "aios-session", session }, window.location.origin);
    window.close();
  }
})();
