"""The worker's Prometheus metrics: the Temporal SDK's exporter, and the workflows' own aios_* metrics.

Workflow code records through `workflow.metric_meter()` and activities through `activity.metric_meter()`:
the SDK skips recording while a workflow replays, so a worker restart counts nothing twice. The SDK
runtime serves them with its own metrics (temporal_workflow_*, temporal_activity_*, ...) on one
endpoint (`AIOS_METRICS_WORKER_ADDRESS`): counters end in `_total`, durations are in seconds.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

# Counters (exported with `_total`): name -> labels.
REQUESTS_STARTED = "aios_requests_started"
REQUESTS_ENDED = "aios_requests_ended"
REMINDERS = "aios_approval_reminders"
ESCALATIONS = "aios_approval_escalations"
EXPIRIES = "aios_approval_expiries"
CONNECTOR_CALLS = "aios_connector_calls"
# Histograms (seconds).
DECISION_SECONDS = "aios_request_decision_seconds"
COMPLETION_SECONDS = "aios_request_completion_seconds"
CONNECTOR_SECONDS = "aios_connector_call_seconds"

_HUMAN = [1, 10, 60, 300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 86400, 2 * 86400, 3 * 86400, 7 * 86400, 14 * 86400]
BUCKETS: dict[str, list[float]] = {
    DECISION_SECONDS: [float(b) for b in _HUMAN],
    COMPLETION_SECONDS: [float(b) for b in _HUMAN],
    CONNECTOR_SECONDS: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
}

# What the worker's endpoint exports, by Prometheus family name, for the dashboards and alerts
# (tests/workflows/test_metrics.py holds this list against a real scrape).
EXPORTED: dict[str, str] = {
    f"{REQUESTS_STARTED}_total": "counter", f"{REQUESTS_ENDED}_total": "counter",
    f"{REMINDERS}_total": "counter", f"{ESCALATIONS}_total": "counter", f"{EXPIRIES}_total": "counter",
    f"{CONNECTOR_CALLS}_total": "counter",
    DECISION_SECONDS: "histogram", COMPLETION_SECONDS: "histogram", CONNECTOR_SECONDS: "histogram",
}
# The SDK's own metrics the dashboards use.
SDK_EXPORTED: dict[str, str] = {
    "temporal_workflow_completed_total": "counter",
    "temporal_workflow_task_schedule_to_start_latency": "histogram",
    "temporal_workflow_task_execution_latency": "histogram",
    "temporal_activity_execution_latency": "histogram",
    "temporal_activity_schedule_to_start_latency": "histogram",
    "temporal_activity_execution_failed_total": "counter",
    "temporal_worker_task_slots_available": "gauge",
}

_RUNTIMES: dict[str, Runtime] = {}


def prometheus_runtime(address: str) -> Runtime:
    """The SDK runtime serving Prometheus on `address` (host:port), one per address and process.

    Kept for the life of the process: a runtime dropped while the interpreter shuts down can abort it
    (temporalio/sdk-python#300)."""
    if address not in _RUNTIMES:
        _RUNTIMES[address] = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(
            bind_address=address, counters_total_suffix=True, durations_as_seconds=True,
            histogram_bucket_overrides=BUCKETS)))
    return _RUNTIMES[address]


# ---- recorded by workflow code (replay-safe) ---------------------------------------------------

def request_started(kind: str) -> None:
    workflow.metric_meter().create_counter(REQUESTS_STARTED, "Requests submitted", "1").add(1, {"kind": kind})


def request_ended(kind: str, state: str, took: timedelta) -> None:
    """A request closed in `state` (completed, rejected, cancelled, expired, failed) `took` after submission."""
    meter = workflow.metric_meter()
    meter.create_counter(REQUESTS_ENDED, "Requests closed, by final state", "1").add(
        1, {"kind": kind, "state": state})
    meter.create_histogram_timedelta(COMPLETION_SECONDS, "From submission to the request's end", "s").record(
        took, {"kind": kind, "state": state})


def decided(kind: str, stage: str, took: timedelta) -> None:
    """An approval stage got its deciding decision `took` after it was requested."""
    workflow.metric_meter().create_histogram_timedelta(
        DECISION_SECONDS, "From an approval being requested to its deciding decision", "s").record(
        took, {"kind": kind, "stage": stage})


def approval_event(name: str, kind: str, stage: str) -> None:
    """A reminder, an escalation or an expiry (REMINDERS, ESCALATIONS, EXPIRIES) of an approval stage."""
    workflow.metric_meter().create_counter(name, "Approval stage timers that fired", "1").add(
        1, {"kind": kind, "stage": stage})


# ---- recorded by activities ---------------------------------------------------------------------

def connector_call(vendor: str, outcome: str, took: timedelta) -> None:
    """One call to a company system: ok, retryable_error or permanent_error."""
    meter = activity.metric_meter()
    meter.create_counter(CONNECTOR_CALLS, "Calls to company systems, by outcome", "1").add(
        1, {"vendor": vendor, "outcome": outcome})
    meter.create_histogram_timedelta(CONNECTOR_SECONDS, "Time per call to a company system", "s").record(
        took, {"vendor": vendor, "outcome": outcome})
