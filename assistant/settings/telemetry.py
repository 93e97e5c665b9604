"""Settings of tracing and logs: the standard OpenTelemetry variables (OTEL_*) and the project's own."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OtelSettings(BaseSettings):
    """The OpenTelemetry variables that decide whether and where spans go.

    The SDK reads the others itself (OTEL_TRACES_SAMPLER and its argument, OTEL_RESOURCE_ATTRIBUTES,
    OTEL_EXPORTER_OTLP_HEADERS, timeouts, certificates, batch sizes). Unlike the specification's
    default, no exporter runs unless one is configured: tracing is off, and costs nothing, by default.
    """

    model_config = SettingsConfigDict(env_prefix="OTEL_", env_file=".env", extra="ignore")

    sdk_disabled: bool | None = Field(None, description="true: no tracing whatever else says")
    traces_exporter: str | None = Field(
        None, description="comma list of otlp, console, none; default otlp when an OTLP endpoint is set")
    exporter_otlp_endpoint: str | None = Field(
        None, description="OTLP base URL (http://collector:4318 for http/protobuf, :4317 for grpc)")
    exporter_otlp_traces_endpoint: str | None = Field(None, description="OTLP URL for traces only")
    exporter_otlp_protocol: Literal["http/protobuf", "grpc"] | None = Field(None, description="OTLP transport")
    exporter_otlp_traces_protocol: Literal["http/protobuf", "grpc"] | None = Field(
        None, description="OTLP transport for traces only")
    service_name: str | None = Field(
        None, description="service.name of every span; default aios-<component> (gateway, actions, worker...)")

    @property
    def protocol(self) -> str:
        return self.exporter_otlp_traces_protocol or self.exporter_otlp_protocol or "http/protobuf"

    @property
    def endpoint(self) -> str | None:
        return self.exporter_otlp_traces_endpoint or self.exporter_otlp_endpoint


class TelemetrySettings(BaseSettings):
    """The project's own: the log format and the local trace store behind `aios trace`."""

    model_config = SettingsConfigDict(env_prefix="AIOS_", env_file=".env", extra="ignore")

    log_format: Literal["text", "json"] = Field(
        "text", description="text (dev default) or json: one JSON object a line with trace and span ids")
    traces_keep: int = Field(
        0, ge=0, le=100_000,
        description="keep the spans of the last N traces in a local file for `aios trace` (0: off); "
                    "turns tracing on without a tracing backend")
    traces_file: Path | None = Field(None, description="the local trace store; default <var>/traces.db")
