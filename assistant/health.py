"""Is each component up? Shared by the gateway's /healthz and the `aios up` supervisor."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from assistant.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ComponentHealth:
    name: str
    ok: bool
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "detail": self.detail}


async def check_http(name: str, http: httpx.AsyncClient, url: str, *, headers: dict | None = None,
                     timeout: float = 2.0) -> ComponentHealth:
    try:
        response = await http.get(url, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return ComponentHealth(name, False, f"unreachable ({type(exc).__name__})")
    if response.status_code != 200:
        return ComponentHealth(name, False, f"HTTP {response.status_code}")
    return ComponentHealth(name, True, "ok")


async def check_rasa(settings: Settings, http: httpx.AsyncClient) -> ComponentHealth:
    """Up and with a model loaded (the status API needs Rasa's token); with several Rasa processes,
    healthy while one is (the gateway moves conversations off a process that is down)."""
    states = [await _rasa_state(url, settings, http) for url in settings.rasa.replicas]
    up = sum(1 for ok, _ in states if ok)
    if len(states) == 1:
        return ComponentHealth("rasa", states[0][0], states[0][1])
    details = "; ".join(f"{url}: {detail}" for url, (_, detail) in zip(settings.rasa.replicas, states, strict=True))
    return ComponentHealth("rasa", up > 0, f"{up}/{len(states)} up ({details})")


async def _rasa_state(url: str, settings: Settings, http: httpx.AsyncClient) -> tuple[bool, str]:
    try:
        response = await http.get(f"{url}/status", params={"token": settings.rasa_auth_token()}, timeout=2.0)
    except httpx.HTTPError as exc:
        return False, f"unreachable ({type(exc).__name__})"
    if response.status_code != 200:
        return False, f"HTTP {response.status_code}"
    model = (response.json() or {}).get("model_file")
    return bool(model), "model loaded" if model else "no model loaded"


async def check_actions(settings: Settings, http: httpx.AsyncClient) -> ComponentHealth:
    return await check_http("actions", http, f"{settings.actions.url}/health")


async def check_temporal(client: Client | None, settings: Settings) -> ComponentHealth:
    if client is None:
        return ComponentHealth("temporal", False, "not connected")
    try:
        ok = await asyncio.wait_for(client.service_client.check_health(), timeout=2.0)
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the detail says which
        return ComponentHealth("temporal", False, f"unreachable ({type(exc).__name__})")
    return ComponentHealth("temporal", bool(ok), "ok" if ok else "not serving")


async def check_worker(client: Client | None, settings: Settings) -> ComponentHealth:
    """At least one worker polls the request task queue."""
    if client is None:
        return ComponentHealth("worker", False, "temporal not connected")
    request = DescribeTaskQueueRequest(
        namespace=settings.temporal.namespace,
        task_queue=TaskQueue(name=settings.temporal.task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    try:
        response = await client.workflow_service.describe_task_queue(request, timeout=_td(2.0))
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return ComponentHealth("worker", False, f"unknown ({type(exc).__name__})")
    pollers = len(response.pollers)
    return ComponentHealth("worker", pollers > 0, f"{pollers} poller(s)")


def _td(seconds: float):
    from datetime import timedelta

    return timedelta(seconds=seconds)
