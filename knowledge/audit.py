"""Who added or removed which document: the shared, hash-chained audit log of the core database, or
an append-only JSON-lines file when the knowledge service runs without one."""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from assistant import schema
from assistant.audit import AuditLog
from assistant.db import make_engine

log = logging.getLogger(__name__)


class AuditSink(Protocol):
    def record(self, event: str, actor: str, details: dict[str, Any]) -> None: ...


class JsonlAudit:
    """One JSON object per line, appended and fsynced; never rewritten."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def record(self, event: str, actor: str, details: dict[str, Any]) -> None:
        entry = {"at": datetime.now(UTC).isoformat(), "event": event, "actor": actor, "details": details}
        line = json.dumps(entry, sort_keys=True, default=str) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as out:
            out.write(line)
            out.flush()
            os.fsync(out.fileno())
        log.info("knowledge.audit event=%s actor=%s", event, actor)

    def entries(self) -> list[dict[str, Any]]:
        """Every recorded entry, oldest first (for tests and support)."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build_audit(database_url: str | None, fallback: Path, *, auto_upgrade: bool | None = None) -> AuditSink:
    """The shared hash-chained audit log of the core database, else (no database) the JSON-lines file."""
    if not database_url:
        return JsonlAudit(fallback)
    engine = make_engine(database_url)
    schema.prepare(engine, "core", auto=auto_upgrade)
    log.info("knowledge.audit.shared url=%s", engine.url.render_as_string(hide_password=True))
    return AuditLog(engine)
