"""The outcome of `aios audit verify` as Prometheus metrics, for a textfile collector or a Pushgateway.

The verification runs as its own job (cron, a Kubernetes CronJob), not inside a service: it walks the
whole chain and signs checkpoints, which belong where the services that write the database cannot
write. A job has no endpoint to scrape, so it leaves its result where Prometheus finds it.
"""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway, write_to_textfile

from assistant.audit import VerifyReport

JOB = "aios_audit_verify"


def verify_registry(report: VerifyReport, *, now: float | None = None) -> CollectorRegistry:
    """A registry holding the gauges of one verification."""
    registry = CollectorRegistry()
    Gauge("aios_audit_chain_ok", "1 when the last `aios audit verify` found the audit chain intact, else 0",
          registry=registry).set(1 if report.ok else 0)
    Gauge("aios_audit_verify_problems", "Problems the last `aios audit verify` found", registry=registry).set(
        len(report.problems))
    Gauge("aios_audit_records", "Records in the audit chain at the last verification", registry=registry).set(
        report.records)
    Gauge("aios_audit_verify_timestamp_seconds", "When `aios audit verify` last ran (epoch seconds)",
          registry=registry).set(time.time() if now is None else now)
    return registry


def publish(report: VerifyReport, *, textfile: Path | None = None, pushgateway: str | None = None,
            timeout: float = 10.0) -> None:
    """Write the gauges to `textfile` (atomically: node_exporter's textfile collector) and/or push them
    to a Pushgateway (job `aios_audit_verify`)."""
    registry = verify_registry(report)
    if textfile is not None:
        write_to_textfile(str(textfile), registry)
    if pushgateway:
        push_to_gateway(pushgateway, job=JOB, registry=registry, timeout=timeout)
