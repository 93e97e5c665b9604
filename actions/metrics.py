"""Prometheus metrics of the action server, on their own registry and loopback port (`AIOS_METRICS_ACTIONS_ADDRESS`)."""

from __future__ import annotations

import logging
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, start_http_server
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection

from assistant.settings.metrics import host_port

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
ACTION_SECONDS = Histogram(
    "aios_action_seconds", "Time per custom action run for Rasa", ["action"], registry=REGISTRY,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
ACTION_FAILURES = Counter(
    "aios_action_failures_total", "Custom action runs that raised (Rasa then answers with nothing)", ["action"],
    registry=REGISTRY,
)


class MeasuredExecutor(ActionExecutor):
    """rasa-sdk's executor, timing every run by action name (unknown names are counted as `unknown`)."""

    async def run(self, action_call: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        name = str(action_call.get("next_action") or "")
        label = name if name in self.actions else "unknown"
        started = time.perf_counter()
        try:
            return await super().run(action_call, *args, **kwargs)
        except ActionExecutionRejection:
            raise  # a form rejecting its input hands the turn back to Rasa: not a failure
        except Exception:
            ACTION_FAILURES.labels(action=label).inc()
            raise
        finally:
            ACTION_SECONDS.labels(action=label).observe(time.perf_counter() - started)


def serve(address: str) -> None:
    """Serve REGISTRY at http://<address>/metrics (a daemon thread); "" serves nothing."""
    found = host_port(address)
    if found is None:
        return
    start_http_server(found[1], addr=found[0], registry=REGISTRY)
    log.info("actions.metrics url=http://%s/metrics", address)
