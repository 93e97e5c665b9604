"""Logging for every service: text for people at a terminal (the dev default), or JSON lines.

Messages follow one convention, `event.name key=value ...` (STYLE.md); a JSON line carries the
event name and the pairs as fields, with the time, level, service, logger and the current trace and
span ids. Temporal's workflow and activity loggers add their workflow id, which becomes the request id.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from assistant import telemetry
from assistant.settings import Settings

_PAIR = re.compile(r"(?P<key>[a-z_][a-z0-9_.]*)=(?P<value>\S*)")
_RESERVED = {"ts", "level", "service", "logger", "event", "message", "trace_id", "span_id", "exception"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        event, _, rest = message.partition(" ")
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "service": self.service, "logger": record.name,
        }
        if _PAIR.fullmatch(event) is None and re.fullmatch(r"[a-z_][a-z0-9_.]*", event or ""):
            line["event"] = event
            for m in _PAIR.finditer(rest):
                key = m.group("key")
                line[key if key not in _RESERVED else f"{key}_"] = m.group("value")
        line["message"] = message
        for extra in ("temporal_workflow", "temporal_activity"):  # Temporal's loggers' context
            found = getattr(record, extra, None)
            if isinstance(found, dict) and found.get("workflow_id"):
                line.setdefault("request_id", found["workflow_id"])
                line.setdefault("workflow_type", found.get("workflow_type"))
        ids = telemetry.current_ids()
        if ids is not None:
            line["trace_id"], line["span_id"] = ids
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(settings: Settings, service: str) -> None:
    """The root logger of this process, as the settings say; like `logging.basicConfig`, a process whose
    root logger has handlers already (a test runner calling a command) keeps them."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        if settings.telemetry.log_format == "json":
            handler.setFormatter(JsonFormatter(f"aios-{service}"))
        else:
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
        root.setLevel(settings.core.log_level.upper())
    # One line per HTTP request drowns the output of `aios up` and the benchmarks.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
