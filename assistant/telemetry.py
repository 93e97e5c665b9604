"""Tracing with OpenTelemetry: one tracer provider per process, set up from settings, off by default.

Off, nothing is installed: the API's no-op tracer answers the project's few `span()` calls and no
middleware, HTTP hook or Temporal interceptor is added. On (an OTLP endpoint, an exporter, or the
local store of `aios trace`), every service exports its spans with its component's name, every httpx
call carries W3C trace context, and the gateway hands the context to Rasa in the message's metadata,
which the action server reads back, so a chat turn is one trace across the processes.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from assistant.errors import ConfigurationError
from assistant.settings import Settings

Context = otel_context.Context

__all__ = ["Context", "Span", "SpanKind", "configure_tracing", "context_carrier", "current_ids", "enabled",
           "end_span", "exporter_names", "inside", "instrument_asgi", "set_attributes", "span", "start_span",
           "with_context"]

log = logging.getLogger(__name__)

TRACER = "aios"
TRACE_METADATA_KEY = "trace_context"  # the W3C headers in a Rasa message's metadata


class SystemIdGenerator(IdGenerator):
    """Trace and span ids from the OS's randomness, leaving the `random` module's state alone (the SDK's
    default draws from it, which a seeded `random` in the same process would make repeat)."""

    _random = random.SystemRandom()

    def generate_span_id(self) -> int:
        while True:
            found = self._random.getrandbits(64)
            if found:
                return found

    def generate_trace_id(self) -> int:
        while True:
            found = self._random.getrandbits(128)
            if found:
                return found


def exporter_names(settings: Settings) -> list[str]:
    """Where this configuration sends spans; empty means tracing is off."""
    otel = settings.otel
    if otel.sdk_disabled:
        return []
    named = [n.strip().lower() for n in (otel.traces_exporter or "").split(",") if n.strip()]
    unknown = sorted(set(named) - {"otlp", "console", "none"})
    if unknown:
        raise ConfigurationError(f"OTEL_TRACES_EXPORTER: unknown exporter(s) {', '.join(unknown)} "
                                 "(this project ships otlp, console and none; the local store is AIOS_TRACES_KEEP)")
    if "none" in named:
        named = []
    elif not named and otel.endpoint:
        named = ["otlp"]
    if settings.telemetry.traces_keep > 0 and "local" not in named:
        named.append("local")
    return named


def _exporter(name: str, settings: Settings) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    if name == "local":
        from assistant.trace_store import LocalSpanExporter, TraceStore

        return LocalSpanExporter(TraceStore.for_settings(settings))
    # OTLP: the endpoint from settings (as the variables say it), headers, certificates and timeouts
    # from the standard variables, read by the exporter itself.
    otel = settings.otel
    if otel.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter(endpoint=otel.endpoint)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    if otel.exporter_otlp_traces_endpoint:
        return HttpExporter(endpoint=otel.exporter_otlp_traces_endpoint)
    if otel.exporter_otlp_endpoint:  # a base URL: the signal's path is appended, as the specification says
        return HttpExporter(endpoint=otel.exporter_otlp_endpoint.rstrip("/") + "/v1/traces")
    return HttpExporter()


def configure_tracing(settings: Settings, component: str) -> TracerProvider | None:
    """Install this process's tracer provider for `component` (gateway, actions, worker, knowledge...).

    Returns None, and installs nothing, when no exporter is configured. A process has one provider:
    a second call returns the first one's.
    """
    names = exporter_names(settings)
    if not names:
        return None
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    attributes: dict[str, str] = {"service.namespace": "aios", "aios.component": component}
    if not settings.otel.service_name:  # OTEL_SERVICE_NAME, when set, is the SDK's to apply
        attributes["service.name"] = f"aios-{component}"
    provider = TracerProvider(resource=Resource.create(attributes),  # sampler: OTEL_TRACES_SAMPLER
                              id_generator=SystemIdGenerator())
    for name in names:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name, settings)))
    trace.set_tracer_provider(provider)
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().instrument()  # a client span and W3C headers on every httpx call
    log.info("tracing.on component=%s exporters=%s", component, ",".join(names))
    return provider


def enabled() -> bool:
    """Whether this process exports spans (a provider was installed)."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


@contextmanager
def span(name: str, attributes: Mapping[str, Any] | None = None, *, kind: SpanKind = SpanKind.INTERNAL,
         context: otel_context.Context | None = None) -> Iterator[Span]:
    """A span around a block (no-op when tracing is off); None-valued attributes are left out.

    An exception leaving the block marks the span as an error with the exception's type only:
    exception messages may quote what a person typed.
    """
    tracer = trace.get_tracer(TRACER)
    with tracer.start_as_current_span(name, context=context, kind=kind, record_exception=False,
                                      set_status_on_exception=False) as current:
        set_attributes(attributes or {}, current)
        try:
            yield current
        except BaseException as exc:
            _failed(current, type(exc).__name__)
            raise


def _failed(target: Span, error: str) -> None:
    """Mark `target` as an error of type `error` (a type name only: messages may quote people's text)."""
    if target.is_recording():
        target.set_status(Status(StatusCode.ERROR, error))
        target.set_attribute("error.type", error)


def set_attributes(attributes: Mapping[str, Any], target: Span | None = None) -> None:
    """Attributes on `target` (default: the current span), skipping None values."""
    target = target or trace.get_current_span()
    if not target.is_recording():
        return
    for key, value in attributes.items():
        if value is not None:
            target.set_attribute(key, value)


def context_carrier() -> dict[str, str]:
    """The current trace context as W3C headers (`traceparent`, `tracestate`); empty when off."""
    carrier: dict[str, str] = {}
    if enabled():
        propagate.inject(carrier)
    return carrier


def with_context(carrier: Mapping[str, Any] | None) -> otel_context.Context | None:
    """The context a carrier (headers, a message's metadata) names; None when it names none."""
    if not carrier or not enabled():
        return None
    headers = {k: v for k, v in carrier.items() if isinstance(k, str) and isinstance(v, str) and len(v) <= 512}
    found = propagate.extract(headers)
    return found if trace.get_current_span(found).get_span_context().is_valid else None


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span as hex, for log lines; None outside a span."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


# Probes, scrapes and long polls would drown the traces people look for.
UNTRACED_PATHS = r"/healthz,/livez,/readyz,/metrics,/health$,/api/notifications,/static/"


def instrument_asgi(app: Any, *, excluded: str = UNTRACED_PATHS) -> None:
    """A server span per request on a Starlette/FastAPI app (outermost middleware), when tracing is on.

    Incoming W3C headers make it a child of the caller's span.
    """
    if not enabled():
        return
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    # No span per ASGI message: a streamed answer would make one per piece of text.
    app.add_middleware(OpenTelemetryMiddleware, excluded_urls=excluded, exclude_spans=["receive", "send"])


def start_span(name: str, attributes: Mapping[str, Any] | None = None, *,
               context: otel_context.Context | None = None, start: float | None = None) -> Span:
    """A span that is not made current (for async generators, whose yields cross contexts, and for
    spans drawn afterwards from recorded times: `start` in epoch seconds). End it with `end_span`."""
    started = trace.get_tracer(TRACER).start_span(
        name, context=context, start_time=int(start * 1e9) if start is not None else None)
    set_attributes(attributes or {}, started)
    return started


def end_span(target: Span, *, end: float | None = None, error: str | None = None) -> None:
    """End a span from `start_span` (at `end`, epoch seconds), as an error of type `error` if given."""
    if error is not None:
        _failed(target, error)
    target.end(end_time=int(end * 1e9) if end is not None else None)


def inside(target: Span) -> otel_context.Context:
    """A context whose current span is `target` (the parent for spans started under it)."""
    return trace.set_span_in_context(target)
