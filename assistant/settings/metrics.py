"""Settings of the Prometheus endpoints that have no token of their own (worker, action server)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.settings.hosts import is_loopback


def host_port(address: str) -> tuple[str, int] | None:
    """`127.0.0.1:9464` -> ("127.0.0.1", 9464); "" -> None (off). Raises ValueError when malformed."""
    if not address:
        return None
    host, sep, port = address.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{address!r} is not host:port")
    return host, int(port)


class MetricsSettings(BaseSettings):
    """Where the worker and the action server serve /metrics. These endpoints take no token, so they
    stay on loopback (a Prometheus or an agent on the same host or pod) unless `network` says otherwise.
    The gateway's /metrics (a bearer token) and the knowledge service's (its service token) are served
    on their own ports with the rest of their API."""

    model_config = SettingsConfigDict(env_prefix="AIOS_METRICS_", env_file=".env", extra="ignore")

    worker_address: str = Field(
        "127.0.0.1:9464", description="host:port of the worker's Prometheus endpoint (the Temporal SDK's "
        "exporter: the SDK's own worker metrics and the workflows' aios_* metrics); empty: none")
    actions_address: str = Field(
        "127.0.0.1:9465", description="host:port of the action server's Prometheus endpoint (action latency "
        "and failures); empty: none")
    network: bool = Field(
        False, description="allow a non-loopback worker/actions metrics address (unauthenticated: a private "
        "network only, e.g. a pod network that only Prometheus reaches)")

    @model_validator(mode="after")
    def _addresses(self) -> MetricsSettings:
        for name in ("worker_address", "actions_address"):
            found = host_port(getattr(self, name))
            if found is not None and not self.network and not is_loopback(found[0]):
                raise ValueError(f"AIOS_METRICS_{name.upper()}={found[0]} is not loopback: these endpoints "
                                 "have no authentication; set AIOS_METRICS_NETWORK=true for a private network")
        return self
