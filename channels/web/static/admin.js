// The knowledge admin page: upload (drag and drop), list and delete documents through /api/knowledge.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const auth = window.AiosAuth;  // static/auth.js
  let polling = null;

  function errorOf(data, status) {
    return (data && data.error && data.error.message) || ("HTTP " + status);
  }

  async function api(method, path) {
    const res = await fetch(path, { method, credentials: "same-origin", headers: auth.headers(method) });
    let data = null;
    try { data = await res.json(); } catch (_) { /* empty body */ }
    if (res.status === 401) logout(errorOf(data, res.status));
    if (!res.ok) throw new Error(errorOf(data, res.status));
    return data;
  }

  // XMLHttpRequest rather than fetch: it reports upload progress.
  function upload(file, groups, onProgress) {
    return new Promise((resolve, reject) => {
      const form = new FormData();
      form.append("file", file, file.name);
      if (groups) form.append("groups", groups);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/knowledge/documents");
      for (const [name, value] of Object.entries(auth.headers("POST"))) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
      xhr.onload = () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data);
        else reject(new Error(errorOf(data, xhr.status)));
      };
      xhr.onerror = () => reject(new Error("network error"));
      xhr.send(form);
    });
  }

  function uploadRow(name) {
    const li = document.createElement("li");
    const label = document.createElement("span");
    const status = document.createElement("span");
    const bar = document.createElement("progress");
    bar.max = 1; bar.value = 0;
    label.textContent = name + ": ";
    status.textContent = "uploading";
    li.append(label, status, bar);
    $("uploads").prepend(li);
    return { li, status, bar };
  }

  async function pollIngestions(rows) {
    try {
      const data = await api("GET", "/api/knowledge/ingestions");
      for (const job of data.ingestions) {
        const row = rows.get(job.filename);
        if (!row || row.done) continue;
        if (job.stage === "embedding" && job.total) {
          row.status.textContent = `embedding ${job.done}/${job.total} chunks`;
          row.bar.value = job.done / job.total;
        } else if (job.stage !== "done" && job.stage !== "failed") {
          row.status.textContent = job.stage;
        }
      }
    } catch (_) { /* the upload itself reports errors */ }
  }

  async function uploadAll(files) {
    const groups = $("groups").value.trim();
    const rows = new Map();
    const list = Array.from(files);
    list.forEach((f) => rows.set(f.name, uploadRow(f.name)));
    polling = setInterval(() => pollIngestions(rows), 700);
    try {
      for (const file of list) {
        const row = rows.get(file.name);
        try {
          const result = await upload(file, groups, (p) => {
            row.bar.value = p;
            if (p >= 1) row.status.textContent = "indexing";
          });
          row.done = true;
          row.bar.remove();
          const verb = { created: "added", replaced: "replaced", unchanged: "unchanged (same content)" }[result.status] || "done";
          row.status.textContent = `${verb}: ${result.title} (${result.chunks} chunks, version ${result.version})`;
          row.li.className = "ok";
        } catch (err) {
          row.done = true;
          row.bar.remove();
          row.status.textContent = "refused: " + err.message;
          row.li.className = "failed";
        }
      }
    } finally {
      clearInterval(polling);
      refresh();
    }
  }

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  async function refresh() {
    $("list-error").textContent = "";
    try {
      const data = await api("GET", "/api/knowledge/documents");
      const body = $("documents");
      body.replaceChildren();
      for (const doc of data.documents) {
        const tr = document.createElement("tr");
        const when = new Date(doc.updated_at).toLocaleString();
        tr.append(cell(doc.title), cell(doc.id), cell(doc.groups.join(", ")), cell("v" + doc.version, "num"),
                  cell(String(doc.chunks), "num"), cell(`${when} by ${doc.updated_by}`));
        const td = document.createElement("td");
        const del = document.createElement("button");
        del.type = "button";
        del.className = "danger";
        del.textContent = "Delete";
        del.addEventListener("click", async () => {
          if (!confirm(`Delete "${doc.title}"? Answers will stop citing it.`)) return;
          try { await api("DELETE", "/api/knowledge/documents/" + encodeURIComponent(doc.id)); }
          catch (err) { $("list-error").textContent = err.message; }
          refresh();
        });
        td.appendChild(del);
        tr.appendChild(td);
        body.appendChild(tr);
      }
    } catch (err) {
      $("list-error").textContent = err.message;
    }
  }

  async function loadFeedback() {
    $("feedback-error").textContent = "";
    const rating = $("feedback-rating").value;
    try {
      const data = await api("GET", "/api/feedback" + (rating ? "?rating=" + rating : ""));
      const body = $("feedback");
      body.replaceChildren();
      for (const f of data.feedback) {
        const tr = document.createElement("tr");
        const sources = f.sources.map((s) => s.title + (s.section ? " \u2014 " + s.section : "")).join("; ");
        const answer = f.text.length > 240 ? f.text.slice(0, 240) + "\u2026" : f.text;
        tr.append(cell(new Date(f.created_at * 1000).toLocaleString()), cell(f.user_id), cell(f.question),
                  cell(answer), cell(f.rating === "up" ? "helpful" : "not helpful"), cell(f.comment),
                  cell(sources), cell(f.model));
        body.appendChild(tr);
      }
      if (!data.feedback.length) {
        const tr = document.createElement("tr");
        const td = cell("No feedback yet.");
        td.colSpan = 8;
        tr.appendChild(td);
        body.appendChild(tr);
      }
    } catch (err) {
      $("feedback-error").textContent = err.message;
    }
  }

  $("refresh").addEventListener("click", refresh);
  $("feedback-rating").addEventListener("change", loadFeedback);
  $("files").addEventListener("change", (e) => { uploadAll(e.target.files); e.target.value = ""; });
  const drop = $("drop");
  drop.addEventListener("click", (e) => { if (e.target.tagName !== "LABEL") $("files").click(); });
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") $("files").click(); });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer && e.dataTransfer.files.length) uploadAll(e.dataTransfer.files);
  });

  const logout = auth.adminPage({
    fetchMe: () => api("GET", "/api/me"),
    refusal: (me) => `${me.name} is not an admin: this page is for knowledge admins.`,
    ready: () => { refresh(); loadFeedback(); },
  });
})();
