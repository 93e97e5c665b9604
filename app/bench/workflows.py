"""The approvals benchmark: how fast a click resumes the workflow and reaches the requester.

Everything real and local: a Temporal dev server, the worker, the gateway on HTTP. For each request
the approver clicks through `POST /api/approvals/{id}/decision`; "resumed" is when that call returns
(the workflow has run the Update), "notified" is when the worker wrote the requester's message.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from assistant.settings import Settings


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


@dataclass
class BenchReport:
    resumed_ms: list[float] = field(default_factory=list)
    notified_ms: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, float | int]:
        out: dict[str, float | int] = {"requests": len(self.resumed_ms)}
        for name, values in (("click_to_resumed_ms", self.resumed_ms), ("click_to_notified_ms", self.notified_ms)):
            out[f"{name}_p50"] = round(statistics.median(values), 1)
            out[f"{name}_p95"] = round(pct(values, 95), 1)
            out[f"{name}_max"] = round(max(values), 1)
        return out

    def summary(self) -> str:
        d = self.as_dict()
        verdict = "OK" if d["click_to_notified_ms_p95"] < 500 else "OVER the 500 ms target"
        return (f"approvals bench, {d['requests']} decisions on the local dev server\n"
                f"  click -> workflow resumed : p50 {d['click_to_resumed_ms_p50']} ms, "
                f"p95 {d['click_to_resumed_ms_p95']} ms, max {d['click_to_resumed_ms_max']} ms\n"
                f"  click -> requester notified: p50 {d['click_to_notified_ms_p50']} ms, "
                f"p95 {d['click_to_notified_ms_p95']} ms, max {d['click_to_notified_ms_max']} ms  ({verdict})")


async def run_bench(base: Settings, *, requests: int = 40, warmup: int = 3) -> BenchReport:
    from app.local_stack import make_settings, serve_gateway
    from assistant.tokens import TokenService
    from channels.app import create_app
    from channels.services import GatewayServices
    from workflows import search_attributes as sa
    from workflows.client import RequestsClient
    from workflows.models import NewRequest, RequestStatus, TimeOffDetails
    from workflows.worker import build_worker

    report = BenchReport()
    with tempfile.TemporaryDirectory(prefix="aios-bench-") as tmp:
        settings = make_settings(Path(tmp))
        settings.temporal.cli_path = base.temporal.cli_path
        env = await WorkflowEnvironment.start_local(
            data_converter=pydantic_data_converter, dev_server_existing_path=str(settings.temporal.cli_path),
            ui=False, search_attributes=list(sa.ALL), dev_server_log_level="error")
        services = GatewayServices.build(settings, temporal=env.client)
        app = create_app(settings, services=services)
        outbox = app.state.notify.outbox
        token = TokenService(settings.core.secret_key.get_secret_value(), services.directory,
                             ttl_seconds=3600).mint("bob")
        try:
            async with build_worker(env.client, settings), serve_gateway(app, settings), httpx.AsyncClient(
                    base_url=settings.gateway.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as bob:
                client = RequestsClient(env.client, task_queue=settings.temporal.task_queue)
                for i in range(warmup + requests):
                    start = date(2027, 1, 4) + timedelta(days=i)
                    request_id = await client.submit(NewRequest(
                        requester="alice", conversation_id="bench", submission_key=uuid.uuid4().hex,
                        details=TimeOffDetails(start_date=start, end_date=start, leave_type="sick")))
                    status = await _pending(env.client, request_id, RequestStatus)
                    await _quiet(env.client, request_id)
                    approval_id = status.current_approval.approval_id
                    t0 = time.time()
                    r = await bob.post(f"/api/approvals/{approval_id}/decision",
                                       json={"decision": "approve", "params_hash": status.params_hash})
                    t1 = time.time()
                    r.raise_for_status()
                    notified = await _notified(outbox, request_id)
                    if i >= warmup:
                        report.resumed_ms.append((t1 - t0) * 1000)
                        report.notified_ms.append((notified - t0) * 1000)
        finally:
            await services.close()
            await env.shutdown()
    return report


async def _pending(temporal, request_id: str, result_type):
    for _ in range(400):
        try:
            status = await temporal.get_workflow_handle(request_id).query("status", result_type=result_type)
            if status.current_approval is not None:
                return status
        except Exception:  # noqa: BLE001 - not started yet
            pass
        await asyncio.sleep(0.02)
    raise RuntimeError(f"{request_id} never waited for approval")


async def _quiet(temporal, request_id: str) -> None:
    """Start the clock only once the workflow just waits (its notifications are out)."""
    for _ in range(400):
        desc = await temporal.get_workflow_handle(request_id).describe()
        raw = desc.raw_description
        if not raw.pending_activities and not raw.HasField("pending_workflow_task"):
            return
        await asyncio.sleep(0.02)


async def _notified(outbox, request_id: str) -> float:
    """When the worker wrote 'bob approved ...' into alice's inbox (its own timestamp)."""
    for _ in range(2000):
        for note in await asyncio.to_thread(outbox.inbox, "alice", after=0, limit=100000):
            if note.request_id == request_id and "approved" in note.text and note.kind == "message" \
                    and "bob approved" in note.text:
                return note.created_at
        await asyncio.sleep(0.005)
    raise RuntimeError(f"alice was never told about {request_id}")
