// The insights page: what /api/admin/insights says about a period, as summary cards, charts drawn here
// as inline SVG (no library, nothing fetched elsewhere) and the tables behind them.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const auth = window.AiosAuth;  // static/auth.js
  // The SVG namespace, from the HTML parser: the script names no URL at all (test_pages_offline.py).
  const SVG = (() => { const t = document.createElement("div"); t.innerHTML = "<svg></svg>"; return t.firstChild.namespaceURI; })();
  const COLORS = { web: "#2952cc", slack: "#7a2e8e", teams: "#027a48" };
  const OTHER_COLORS = ["#b54708", "#475467", "#c11574"];
  const KINDS = { time_off: "Time off", access: "Access", expense: "Expense", it_ticket: "IT ticket", all: "All" };

  function errorOf(data, status) {
    return (data && data.error && data.error.message) || ("HTTP " + status);
  }

  async function api(path) {
    const res = await fetch(path, { credentials: "same-origin", headers: auth.headers("GET") });
    let data = null;
    try { data = await res.json(); } catch (_) { /* empty body */ }
    if (res.status === 401) logout(errorOf(data, res.status));
    if (!res.ok) throw new Error(errorOf(data, res.status));
    return data;
  }

  // Formats shared with the tests' reading of the page (tests/browser/test_insights.py).
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "\u2014";
    if (seconds < 120) return Math.round(seconds) + " s";
    if (seconds < 7200) return Math.round(seconds / 60) + " min";
    if (seconds < 172800) return (seconds / 3600).toFixed(1) + " h";
    return (seconds / 86400).toFixed(1) + " days";
  }
  const share = (x) => (x === null || x === undefined ? "\u2014" : Math.round(x * 100) + "%");
  const hours = (h) => h.toFixed(1) + " h";
  const when = (iso) => new Date(iso).toLocaleString();
  const color = (channel, i) => COLORS[channel] || OTHER_COLORS[i % OTHER_COLORS.length];

  function isoDay(d) {
    return [d.getFullYear(), String(d.getMonth() + 1).padStart(2, "0"), String(d.getDate()).padStart(2, "0")].join("-");
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  // The top of the y axis: a round number, even for small counts (its half is a tick too).
  function niceMax(value) {
    if (value <= 10) return Math.max(2, Math.ceil(value / 2) * 2);
    const step = Math.pow(10, Math.floor(Math.log10(value)));
    return Math.ceil(value / step) * step;
  }

  // A chart of one value per day and series: stacked bars, or lines (with `lines`); the SVG is an
  // image whose label says what it shows, the table under the charts holds every number.
  function dayChart(days, series, { label, lines = false, extra = null }) {
    const W = 560, H = 210, L = 34, R = 8, T = 10, B = 26;
    const n = days.length;
    const totals = days.map((_, i) => series.reduce((sum, s) => sum + s.values[i], 0));
    const top = niceMax(Math.max(...(lines ? series.concat(extra ? [extra] : []).flatMap((s) => s.values) : totals), 0));
    const x = (i) => L + ((W - L - R) * (i + 0.5)) / n;
    const y = (v) => H - B - ((H - B - T) * v) / top;
    const sum = totals.reduce((a, b) => a + b, 0);
    const busiest = totals.indexOf(Math.max(...totals));
    const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart",
      "aria-label": `${label}: ${sum} over ${n} days` + (sum ? `, most on ${days[busiest]} (${totals[busiest]})` : "") +
        ". The table of numbers per day is below." });
    for (const v of [0, top / 2, top]) {
      chart.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }),
                   svg("text", { x: L - 4, y: y(v) + 4, class: "axis", "text-anchor": "end" }, Number.isInteger(v) ? v : v.toFixed(1)));
    }
    const every = Math.max(1, Math.ceil(n / 8));
    days.forEach((day, i) => {
      if (i % every === 0 || i === n - 1) {
        chart.append(svg("text", { x: x(i), y: H - 8, class: "axis", "text-anchor": "middle" }, day.slice(5)));
      }
    });
    if (lines) {
      for (const s of extra ? series.concat([extra]) : series) {
        const points = s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ");
        chart.append(svg("polyline", { points, fill: "none", stroke: s.color, "stroke-width": 2,
                                       "stroke-dasharray": s.dashed ? "5 4" : "none" }));
        s.values.forEach((v, i) => {
          const dot = svg("circle", { cx: x(i), cy: y(v), r: n > 40 ? 1.5 : 3, fill: s.color });
          dot.append(svg("title", {}, `${days[i]}, ${s.name}: ${v}`));
          chart.append(dot);
        });
      }
    } else {
      const width = Math.max(1, ((W - L - R) / n) * 0.7);
      days.forEach((day, i) => {
        let base = 0;
        for (const s of series) {
          const v = s.values[i];
          if (!v) continue;
          const bar = svg("rect", { x: x(i) - width / 2, y: y(base + v), width, height: y(base) - y(base + v), fill: s.color });
          bar.append(svg("title", {}, `${day}, ${s.name}: ${v}`));
          chart.append(bar);
          base += v;
        }
      });
    }
    return chart;
  }

  // A ranking as a table whose bars are drawn in the cells: the text is the number itself.
  function barRows(tbody, rows, max) {
    tbody.replaceChildren();
    for (const [name, value] of rows) {
      const tr = el("tr");
      const th = el("th", name);
      th.scope = "row";
      const td = el("td");
      const bar = el("span", null, "bar");
      bar.style.width = (max ? (100 * value) / max : 0) * 0.8 + "%";
      td.append(bar, el("span", value, "value"));
      tr.append(th, td);
      tbody.append(tr);
    }
    if (!rows.length) emptyRow(tbody, 2, "Nothing in this period.");
  }

  function emptyRow(tbody, span, text) {
    const td = el("td", text, "hint");
    td.colSpan = span;
    const tr = el("tr");
    tr.append(td);
    tbody.append(tr);
  }

  function row(cells, cls) {
    const tr = el("tr", null, cls);
    cells.forEach(([text, kind]) => tr.append(el("td", text, kind)));
    return tr;
  }

  function renderDaily(c) {
    const days = c.days.map((d) => d.day);
    const series = (key) => c.channels.map((ch, i) => ({ name: ch, color: color(ch, i), values: c.days.map((d) => d[key][ch]) }));
    $("legend").replaceChildren(...c.channels.map((ch, i) => {
      const li = el("li");
      const swatch = el("span", null, "swatch");
      swatch.style.background = color(ch, i);
      li.append(swatch, el("span", ch));
      return li;
    }), (() => { const li = el("li"); li.append(el("span", null, "swatch all"), el("span", "all channels (people)")); return li; })());
    $("chart-conversations").replaceChildren(dayChart(days, series("conversations"), { label: "Conversations per day" }));
    $("chart-people").replaceChildren(dayChart(days, series("people"), {
      label: "Active people per day", lines: true,
      extra: { name: "all channels", color: "#1d2330", dashed: true, values: c.days.map((d) => d.people_all) } }));
    const head = el("tr");
    head.append(el("th", "Day"), ...c.channels.map((ch) => el("th", "Conversations, " + ch, "num")),
                ...c.channels.map((ch) => el("th", "People, " + ch, "num")), el("th", "People, all", "num"),
                el("th", "Turns", "num"));
    $("days").tHead.replaceChildren(head);
    const body = $("days").tBodies[0];
    body.replaceChildren(...c.days.map((d) => row([[d.day],
      ...c.channels.map((ch) => [d.conversations[ch], "num"]), ...c.channels.map((ch) => [d.people[ch], "num"]),
      [d.people_all, "num"], [c.channels.reduce((s, ch) => s + d.turns[ch], 0), "num"]])));
  }

  function render(r) {
    const c = r.conversations, a = r.answers, q = r.requests, total = q.total;
    $("from").value = r.period.from;
    $("to").value = r.period.to;
    $("period-text").textContent = `${r.period.from} to ${r.period.to} (days in ${r.period.timezone})`;
    $("sum-conversations").textContent = c.total.conversations;
    $("sum-people").textContent = c.total.people;
    $("sum-turns").textContent = `${c.total.turns} (${c.total.errors})`;
    $("sum-answered").textContent = a.kinds.answer + a.kinds.fallback;
    $("sum-unanswered").textContent = a.kinds.dont_know;
    $("sum-requests").textContent = total.submitted;
    $("sum-auto").textContent = share(total.share_auto_approved);
    $("sum-decision").textContent = duration(total.median_decision_seconds);
    $("sum-completion").textContent = duration(total.median_completion_seconds);
    $("sum-saved").textContent = hours(r.hours_saved.total);

    renderDaily(c);
    barRows($("intents").tBodies[0], r.intents.map((i) => [i.intent, i.turns]), Math.max(0, ...r.intents.map((i) => i.turns)));
    const outcomes = [["Answered by the model", a.kinds.answer], ["Answered with the documents' own passages", a.kinds.fallback],
                      ["Not answered", a.kinds.dont_know], ["Rated helpful", a.ratings.up], ["Rated not helpful", a.ratings.down]];
    barRows($("outcomes").tBodies[0], a.total ? outcomes : [], a.total);

    const unanswered = $("unanswered").tBodies[0];
    unanswered.replaceChildren(...a.unanswered.map((u) => row([[u.question], [u.asked, "num"], [when(u.last_asked)]])));
    if (!a.unanswered.length) emptyRow(unanswered, 3, "Every question found an answer.");

    const saved = r.hours_saved.by_kind;
    const kindRow = (k, cls) => row([[KINDS[k.kind] || k.kind], [k.submitted, "num"], [k.completed, "num"], [k.rejected, "num"],
      [k.expired, "num"], [k.cancelled, "num"], [k.failed, "num"], [k.open, "num"], [share(k.share_auto_approved), "num"],
      [duration(k.median_decision_seconds), "num"], [duration(k.median_completion_seconds), "num"],
      [hours(k.kind === "all" ? r.hours_saved.requests : saved[k.kind] || 0), "num"]], cls);
    $("requests").tBodies[0].replaceChildren(...q.kinds.map((k) => kindRow(k)), kindRow(total, "total"));

    const waiting = $("waiting").tBodies[0];
    waiting.replaceChildren(...r.waiting.map((w) => row([[w.request_id], [KINDS[w.kind] || w.kind], [w.requester],
      [w.stage], [w.approvers.join(", ")], [when(w.asked_at)], [duration(w.waiting_seconds), "num"],
      [w.escalated ? "yes" : "no"]])));
    if (!r.waiting.length) emptyRow(waiting, 8, "No approval is waiting.");

    const hs = r.hours_saved;
    const perKind = Object.entries(hs.minutes_per_kind).map(([k, m]) => `${m} min per ${(KINDS[k] || k).toLowerCase()}`);
    $("saved-explained").textContent = `About ${hours(hs.total)}: ${hours(hs.requests)} from completed requests ` +
      `(${perKind.join(", ") || "no minutes set"}) and ${hours(hs.answers)} from ${hs.answered_questions} answered ` +
      `questions (${hs.minutes_per_answer} min each). An estimate: the minutes per request and per answer are ` +
      "settings (AIOS_INSIGHTS_MINUTES_SAVED, AIOS_INSIGHTS_MINUTES_PER_ANSWER).";
    $("report").hidden = false;
  }

  async function load() {
    $("error").textContent = "";
    $("status").textContent = "Loading\u2026";
    const params = new URLSearchParams();
    if ($("from").value) params.set("from", $("from").value);
    if ($("to").value) params.set("to", $("to").value);
    const query = params.toString() ? "?" + params : "";
    try {
      render(await api("/api/admin/insights" + query));
      history.replaceState(null, "", window.location.pathname + query);
      $("status").textContent = "Updated.";
    } catch (err) {
      $("status").textContent = "";
      $("error").textContent = err.message;
    }
  }

  function pickRange() {
    const days = Number($("range").value);
    if (!days) return;
    const end = new Date();
    const start = new Date(end.getFullYear(), end.getMonth(), end.getDate() - days + 1);
    $("from").value = isoDay(start);
    $("to").value = isoDay(end);
    load();
  }

  // A period asked for in the address (?from=...&to=...), else the one picked.
  function fromAddress() {
    const asked = new URLSearchParams(window.location.search);
    if (asked.get("from") || asked.get("to")) {
      $("range").value = "custom";
      $("from").value = asked.get("from") || "";
      $("to").value = asked.get("to") || "";
    }
    load();
  }

  $("range").addEventListener("change", pickRange);
  for (const id of ["from", "to"]) $(id).addEventListener("input", () => { $("range").value = "custom"; });
  $("period").addEventListener("submit", (e) => { e.preventDefault(); load(); });

  const logout = auth.adminPage({
    fetchMe: () => api("/api/me"),
    refusal: (me) => `${me.name} is not an admin: this page is for the people who run the assistant.`,
    ready: fromAddress,
  });
})();
