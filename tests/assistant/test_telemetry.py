"""Tracing is off unless configured, the standard variables configure it, and logs carry trace ids."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap

import pytest

from app.local_stack import make_settings
from app.up import temporal_service
from assistant.errors import ConfigurationError
from assistant.logs import JsonFormatter
from assistant.settings.telemetry import OtelSettings
from assistant.telemetry import exporter_names
from assistant.trace_store import StoredSpan, TraceStore, render
from knowledge.answering.answerer import MISSES_THE_VALUE, reason_label


def test_no_exporter_unless_configured(tmp_path, monkeypatch):
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                 "OTEL_SDK_DISABLED", "AIOS_TRACES_KEEP"):
        monkeypatch.delenv(name, raising=False)
    settings = make_settings(tmp_path)
    assert exporter_names(settings) == []
    assert not any(k.startswith("OTEL_") for k in settings.to_env())  # children inherit nothing unset
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    settings.otel = OtelSettings()
    assert exporter_names(settings) == ["otlp"]
    settings.telemetry.traces_keep = 10
    assert exporter_names(settings) == ["otlp", "local"]
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    settings.otel = OtelSettings()
    assert exporter_names(settings) == ["local"]  # `none` is about the backend, the local store stays asked for
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    settings.otel = OtelSettings()
    assert exporter_names(settings) == []
    monkeypatch.delenv("OTEL_SDK_DISABLED")
    for unknown in ("zipkin", "local"):  # the local store is asked for with AIOS_TRACES_KEEP only
        monkeypatch.setenv("OTEL_TRACES_EXPORTER", f"otlp,{unknown}")
        settings.otel = OtelSettings()
        with pytest.raises(ConfigurationError, match=unknown):
            exporter_names(settings)


def test_the_embedded_temporal_server_gets_no_otel_variables(tmp_path, monkeypatch):
    """Temporal's Go server reads OTEL_* too, and refuses to start on values it does not know."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    service = temporal_service(make_settings(tmp_path), ready=lambda: None)
    assert service.env is not None and not any(k.startswith("OTEL_") for k in service.env)
    assert service.env["PATH"] == __import__("os").environ["PATH"]


def test_off_means_nothing_installed(tmp_path):
    """A gateway and a knowledge service built without tracing settings add no middleware, no httpx hook
    and no Temporal interceptor (in a fresh process: this one may trace for the shared stack)."""
    code = textwrap.dedent(f"""
        import httpx
        from opentelemetry import trace
        from app.local_stack import make_settings
        from assistant import telemetry
        from channels.app import create_app
        from workflows.client import tracing_interceptors
        settings = make_settings(__import__("pathlib").Path({str(tmp_path)!r}))
        assert telemetry.configure_tracing(settings, "gateway") is None
        app = create_app(settings)
        names = [m.cls.__name__ for m in app.user_middleware]
        assert "OpenTelemetryMiddleware" not in names, names
        assert not telemetry.enabled() and tracing_interceptors() == []
        assert type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider"
        assert not hasattr(httpx.AsyncClient.send, "__wrapped__")
        assert telemetry.context_carrier() == {{}}
        settings.telemetry.traces_keep = 5
        assert telemetry.configure_tracing(settings, "gateway") is not None
        assert "OpenTelemetryMiddleware" in [m.cls.__name__ for m in create_app(settings).user_middleware]
        assert telemetry.enabled() and tracing_interceptors()
        print("ok")
    """)
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("OTEL_", "AIOS_TRACES"))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]


def test_json_log_lines_carry_the_event_its_pairs_and_the_trace(tmp_path):
    code = textwrap.dedent(f"""
        import logging
        from app.local_stack import make_settings
        from assistant import telemetry
        from assistant.logs import configure_logging
        settings = make_settings(__import__("pathlib").Path({str(tmp_path)!r}))
        settings.telemetry.log_format = "json"
        settings.telemetry.traces_keep = 5
        configure_logging(settings, "gateway")
        telemetry.configure_tracing(settings, "gateway")
        with telemetry.span("work") as s:
            logging.getLogger("channels.x").info("request.submitted id=%s kind=%s", "REQ-ABC234", "access")
            print("ids", format(s.get_span_context().trace_id, "032x"), format(s.get_span_context().span_id, "016x"))
    """)
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("OTEL_", "AIOS_"))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    trace_id, span_id = done.stdout.split()[1:3]
    lines = [json.loads(x) for x in done.stderr.splitlines() if x.startswith("{") and "request.submitted" in x]
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line["event"] == "request.submitted" and line["id"] == "REQ-ABC234" and line["kind"] == "access"
    assert (line["trace_id"], line["span_id"]) == (trace_id, span_id)
    assert line["service"] == "aios-gateway" and line["level"] == "info" and line["ts"].endswith("Z")


def test_json_formatter_takes_the_request_id_from_temporal_loggers():
    record = logging.LogRecord("workflows.x", logging.INFO, __file__, 1, "request.state request=%s", ("R",), None)
    record.temporal_workflow = {"workflow_id": "REQ-ABC234", "workflow_type": "RequestWorkflow"}
    line = json.loads(JsonFormatter("aios-worker").format(record))
    assert line["request_id"] == "REQ-ABC234" and line["event"] == "request.state" and "trace_id" not in line


def span(trace: str, sid: str, parent: str | None, name: str, start: int, **attributes) -> StoredSpan:
    return StoredSpan(trace, sid, parent, name, "aios-gateway", start, start + 1_000_000, "ok", attributes)


def test_local_store_keeps_the_newest_traces_and_finds_them_by_id(tmp_path):
    store = TraceStore(tmp_path / "traces.db", keep=2)
    for n in range(3):
        trace = f"{n:032x}"
        store.add([span(trace, f"{1:016x}", None, "POST /api/chat", 0, **{"aios.conversation_id": "alice"}),
                   span(trace, f"{2:016x}", f"{1:016x}", "connector itsm", 10, **{"aios.request_id": f"REQ-{n}"})])
    assert store.find(f"{0:032x}") == []  # pruned: only the newest two are kept
    assert store.find("REQ-2") == [f"{2:032x}"]
    assert store.find("alice", limit=5) == [f"{2:032x}", f"{1:032x}"]
    lines = render(store.spans(f"{2:032x}"))
    assert lines[0].startswith(f"trace {2:032x}") and "2 spans" in lines[0]
    assert lines[1].startswith("  POST /api/chat") and lines[2].startswith("    connector itsm")
    assert "aios.request_id=REQ-2" in lines[2]


def test_groundedness_reasons_become_bounded_labels():
    assert reason_label("unsupported: 'the VPN is free for Alice'") == "unsupported"
    label = reason_label("names a link or address no passage has: 'http://x'")
    assert label == "names_a_link_or_address_no_passage_has"
    assert reason_label(MISSES_THE_VALUE) == MISSES_THE_VALUE == "draft_misses_the_value"  # the dashboards' label
