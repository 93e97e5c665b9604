"""The local trace store behind `aios trace`: the spans of the last N traces in a SQLite file.

For people without a tracing backend: every service of one machine exports into the same file
(`AIOS_TRACES_KEEP=N`, `<var>/traces.db`), which keeps only the newest N traces, and `aios trace`
prints a request's or a conversation's recent traces as span trees.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from assistant.settings import Settings

# Attributes that name what a trace is about (ours, and the Temporal interceptor's).
ID_ATTRIBUTES = ("aios.conversation_id", "aios.request_id", "temporalWorkflowID")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spans (
    trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_id TEXT, name TEXT NOT NULL,
    service TEXT NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, status TEXT NOT NULL,
    attributes TEXT NOT NULL, PRIMARY KEY (trace_id, span_id));
CREATE TABLE IF NOT EXISTS traces (trace_id TEXT PRIMARY KEY, seen REAL NOT NULL);
CREATE INDEX IF NOT EXISTS ix_traces_seen ON traces (seen);
CREATE TABLE IF NOT EXISTS trace_ids (id TEXT NOT NULL, trace_id TEXT NOT NULL, PRIMARY KEY (id, trace_id));
"""


@dataclass(frozen=True)
class StoredSpan:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    service: str
    start_ns: int
    end_ns: int
    status: str
    attributes: dict[str, Any]

    @property
    def ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


class TraceStore:
    """One SQLite file shared by the processes of a machine; keeps the newest `keep` traces."""

    def __init__(self, path: Path, *, keep: int) -> None:
        self.path = path
        self.keep = keep
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @classmethod
    def for_settings(cls, settings: Settings) -> TraceStore:
        t = settings.telemetry
        return cls(t.traces_file or settings.core.var_dir / "traces.db", keep=max(t.traces_keep, 1))

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def add(self, spans: Sequence[StoredSpan]) -> None:
        now = time.time()
        with self._lock, self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                (s.trace_id, s.span_id, s.parent_id, s.name, s.service, s.start_ns, s.end_ns, s.status,
                 json.dumps(s.attributes, default=str)) for s in spans])
            db.executemany("INSERT INTO traces VALUES (?, ?) ON CONFLICT (trace_id) DO UPDATE SET seen = excluded.seen",
                           [(t, now) for t in {s.trace_id for s in spans}])
            db.executemany("INSERT OR IGNORE INTO trace_ids VALUES (?, ?)", [
                (str(s.attributes[a]), s.trace_id) for s in spans for a in ID_ATTRIBUTES if s.attributes.get(a)])
            cutoff = db.execute("SELECT seen FROM traces ORDER BY seen DESC LIMIT 1 OFFSET ?", (self.keep,)).fetchone()
            if cutoff is not None:
                old = "SELECT trace_id FROM traces WHERE seen <= ?"
                for table in ("spans", "trace_ids"):
                    db.execute(f"DELETE FROM {table} WHERE trace_id IN ({old})", cutoff)
                db.execute("DELETE FROM traces WHERE seen <= ?", cutoff)

    def find(self, key: str, *, limit: int = 3) -> list[str]:
        """The newest traces that are `key` (a trace id) or are about it (a request or conversation id)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT t.trace_id FROM traces t WHERE t.trace_id = ? OR t.trace_id IN "
                "(SELECT trace_id FROM trace_ids WHERE id = ?) ORDER BY t.seen DESC LIMIT ?",
                (key.lower() if len(key) == 32 else key, key, limit)).fetchall()
        return [r[0] for r in rows]

    def spans(self, trace_id: str) -> list[StoredSpan]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM spans WHERE trace_id = ? ORDER BY start_ns", (trace_id,)).fetchall()
        return [StoredSpan(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], json.loads(row[8]))
                for row in rows]


class LocalSpanExporter(SpanExporter):
    """Finished spans into a `TraceStore` (runs on the SDK's batch thread)."""

    def __init__(self, store: TraceStore) -> None:
        self.store = store

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        stored = [stored_span(s) for s in spans if s.context is not None]
        try:
            self.store.add(stored)
        except sqlite3.Error as exc:  # the SDK logs a failed export; say which store
            raise RuntimeError(f"the local trace store {self.store.path} refused spans: {exc}") from exc
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def stored_span(s: ReadableSpan) -> StoredSpan:
    assert s.context is not None
    return StoredSpan(
        trace_id=format(s.context.trace_id, "032x"), span_id=format(s.context.span_id, "016x"),
        parent_id=format(s.parent.span_id, "016x") if s.parent is not None else None,
        name=s.name, service=str(s.resource.attributes.get("service.name", "?")),
        start_ns=s.start_time or 0, end_ns=s.end_time or s.start_time or 0,
        status=s.status.status_code.name.lower(), attributes=dict(s.attributes or {}))


def render(spans: Sequence[StoredSpan]) -> list[str]:
    """A trace as an indented tree: name, service, duration, the attributes that say what it was."""
    if not spans:
        return []
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[StoredSpan]] = {}
    for s in spans:
        children.setdefault(s.parent_id if s.parent_id in ids else None, []).append(s)
    first = min(s.start_ns for s in spans)
    whole = (max(s.end_ns for s in spans) - first) / 1e6
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(first / 1e9))
    lines = [f"trace {spans[0].trace_id}  {when}  {whole:.1f} ms  {len(spans)} spans"]

    def walk(parent: str | None, depth: int) -> None:
        for s in sorted(children.get(parent, []), key=lambda x: x.start_ns):
            shown = " ".join(f"{k}={v}" for k, v in sorted(s.attributes.items()) if k.startswith(("aios.", "gen_ai."))
                             or k in ("http.route", "http.status_code", "http.response.status_code"))
            flag = " ERROR" if s.status == "error" else ""
            lines.append(f"{'  ' * depth}{s.name}  [{s.service}]  +{(s.start_ns - first) / 1e6:.1f} ms  "
                         f"{s.ms:.1f} ms{flag}  {shown}".rstrip())
            walk(s.span_id, depth + 1)

    walk(None, 1)
    return lines
