"""Workflow test rigs: a real worker on its own task queue and its own SQL database, per test."""

from __future__ import annotations

import asyncio
import uuid
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from app.local_stack import make_settings
from assistant.audit import AuditLog, audit_files
from assistant.db import make_engine
from assistant.settings import Settings
from assistant.settings.workflows import WorkflowSettings
from workflows import search_attributes as sa
from workflows.client import RequestsClient
from workflows.connectors import Connectors
from workflows.delegations import Delegations
from workflows.models import (
    AccessDetails,
    Decision,
    DecisionInput,
    ExpenseDetails,
    ITTicketDetails,
    NewRequest,
    RequestStatus,
    TimeOffDetails,
)
from workflows.notify.outbox import Outbox
from workflows.request_workflow import RequestOptions
from workflows.worker import build_worker

FAST = RequestOptions(activity_timeout_seconds=5, max_retry_interval_seconds=1)


def time_off(days: int = 3, *, start: date | None = None, leave_type: str = "vacation") -> TimeOffDetails:
    start = start or date(2027, 3, 1)
    return TimeOffDetails(start_date=start, end_date=start + timedelta(days=days - 1), leave_type=leave_type)


def access(system: str = "github", level: str = "write") -> AccessDetails:
    return AccessDetails(system=system, level=level, justification="I maintain the billing service")


def expense(amount: str) -> ExpenseDetails:
    return ExpenseDetails(amount=Decimal(amount), currency="EUR", category="travel", expense_date=date(2027, 2, 3),
                          description="train to Lyon")


def it_ticket() -> ITTicketDetails:
    return ITTicketDetails(summary="laptop fan is very loud", urgency="high")


@dataclass
class Rig:
    """One worker + client + database; helpers speak in the terms of the tests."""

    temporal: Client
    settings: Settings
    requests: RequestsClient
    queue: str
    outbox: Outbox
    audit: AuditLog
    delegations: Delegations

    @property
    def engine(self):
        return self.outbox.engine

    async def submit(self, details: Any, requester: str = "alice") -> str:
        return await self.requests.submit(NewRequest(
            requester=requester, details=details, conversation_id=requester, submission_key=uuid.uuid4().hex))

    async def status(self, request_id: str) -> RequestStatus:
        return await self.temporal.get_workflow_handle(request_id).query("status", result_type=RequestStatus)

    async def wait_for(self, request_id: str, check: Callable[[RequestStatus], bool], *,
                       timeout: float = 20.0) -> RequestStatus:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                status = await self.status(request_id)
                if check(status):
                    return status
            except Exception:  # noqa: BLE001 - the first workflow task may not have run yet
                status = None
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{request_id} did not reach the expected state; last: {status}")
            await asyncio.sleep(0.05)

    async def pending_stage(self, request_id: str, stage: int = 1, *, timeout: float = 20.0) -> RequestStatus:
        return await self.wait_for(request_id, lambda s: s.current_approval is not None
                                   and s.current_approval.stage == stage, timeout=timeout)

    async def settled(self, request_id: str, *, timeout: float = 20.0) -> None:
        """Wait until the workflow only waits (for a person or a timer): nothing left to run."""
        deadline = asyncio.get_running_loop().time() + timeout
        last = -1
        while asyncio.get_running_loop().time() < deadline:
            handle = self.temporal.get_workflow_handle(request_id)
            desc = await handle.describe()
            events = await history_events(self.temporal, request_id)
            raw = desc.raw_description
            idle = not raw.pending_activities and not raw.HasField("pending_workflow_task")
            if idle and len(events) == last:
                return
            last = len(events) if idle else -1
            await asyncio.sleep(0.1)
        raise AssertionError(f"{request_id} never settled")

    async def cards(self, user: str, *, n: int = 1, timeout: float = 10.0):
        """The user's cards once at least `n` arrived (notifications follow the state by a moment)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            cards = self.outbox.cards(user)
            if len(cards) >= n or asyncio.get_running_loop().time() > deadline:
                return cards
            await asyncio.sleep(0.05)

    async def result(self, request_id: str, timeout: float = 30.0) -> RequestStatus:
        handle = self.temporal.get_workflow_handle(request_id, result_type=RequestStatus)
        return await asyncio.wait_for(handle.result(), timeout)

    def decision(self, status: RequestStatus, approver: str, decision: str = "approve", *,
                 stage: int | None = None, params_hash: str | None = None, comment: str = "") -> DecisionInput:
        step = status.approvals[(stage or len(status.approvals)) - 1]
        return DecisionInput(approval_id=step.approval_id, approver=approver, decision=Decision(decision),
                             params_hash=params_hash or status.params_hash, comment=comment)

    async def decide(self, request_id: str, approver: str, decision: str = "approve", **kw):
        status = await self.wait_for(request_id, lambda s: s.current_approval is not None)
        return await self.requests.decide(self.decision(status, approver, decision, **kw))


def rig_settings(var_dir: Path, *, policies: str | None = None) -> Settings:
    settings = make_settings(var_dir)
    settings.core.database_url = f"sqlite:///{var_dir / 'aios.db'}"
    path = None
    if policies is not None:
        path = var_dir / "policies.yml"
        path.write_text(policies)
    settings.workflows = WorkflowSettings(policies_path=path, activity_timeout_seconds=5,
                                          max_retry_interval_seconds=1)
    return settings


@asynccontextmanager
async def running_rig(temporal: Client, var_dir: Path, *, policies: str | None = None,
                      connectors: Connectors | None = None, settings: Settings | None = None,
                      options: RequestOptions = FAST, queue: str | None = None) -> AsyncIterator[Rig]:
    settings = settings or rig_settings(var_dir, policies=policies)
    queue = queue or f"test-{uuid.uuid4().hex[:10]}"
    engine = make_engine(settings.core.database_url or "")
    worker = build_worker(temporal, settings, task_queue=queue, connectors=connectors)
    running = asyncio.create_task(worker.run())
    try:
        yield Rig(
            temporal=temporal, settings=settings, queue=queue,
            requests=RequestsClient(temporal, task_queue=queue, options=options),
            outbox=Outbox(engine), audit=AuditLog(engine, files=audit_files(settings)), delegations=Delegations(engine),
        )
    finally:
        await stop_worker(worker, running)
        engine.dispose()


WORKER_SHUTDOWN_SECONDS = 60


async def stop_worker(worker, running: asyncio.Task) -> None:
    """Shut the rig's worker down, bounded: the test's assertions are done by now.

    Rarely (about one full run in ten) the SDK's shutdown waited past pytest's timeout after a test
    that left a workflow running; a hang here says so with every task's stack instead of failing a
    test whose own checks passed.
    """
    try:
        await asyncio.wait_for(worker.shutdown(), WORKER_SHUTDOWN_SECONDS)
    except TimeoutError:
        stacks = "\n".join(f"{t.get_name()}: {t.get_stack(limit=5)}" for t in asyncio.all_tasks())
        warnings.warn(f"the test worker did not shut down in {WORKER_SHUTDOWN_SECONDS}s; tasks:\n{stacks}",
                      stacklevel=1)
        running.cancel()
    if running.done() and not running.cancelled() and running.exception() is not None:
        raise running.exception()


@pytest.fixture
async def rig(temporal_env, tmp_path) -> AsyncIterator[Rig]:
    """A worker with the default policies (data/policies.yml) on the shared dev server."""
    async with running_rig(temporal_env.client, tmp_path) as r:
        yield r


def history_length(events) -> int:
    return len(events)


async def history_events(temporal: Client, request_id: str) -> list:
    history = await temporal.get_workflow_handle(request_id).fetch_history()
    return list(history.events)


async def start_skipping(settings: Settings) -> WorkflowEnvironment:
    """A time-skipping test server with our search attributes."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(settings.temporal.test_server_path))
    types = {"KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
             "KEYWORD_LIST": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST}
    await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=env.client.namespace,
        search_attributes={k.name: types[k.indexed_value_type.name] for k in sa.ALL}))
    return env


@pytest.fixture
async def skipping(settings):
    """One time-skipping server per test: a workflow left waiting by another test (a request's timers,
    a digest's week) would hold its clock."""
    env = await start_skipping(settings)
    yield env
    await env.shutdown()
