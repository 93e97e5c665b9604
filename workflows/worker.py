"""The workflow worker: builds clients from settings and registers every workflow and activity."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from assistant.audit import AuditLog
from assistant.audit_keys import audit_files
from assistant.catalog import SystemCatalog
from assistant.directory import Directory
from assistant.schema import open_database
from assistant.settings import Settings
from workflows.activities.effects import (
    CalendarActivities,
    ExpenseActivities,
    HRActivities,
    IdentityActivities,
    ITSMActivities,
)
from workflows.activities.policy import PolicyActivities
from workflows.activities.records import AuditActivities, NotifyActivities
from workflows.approvers import ApproverResolver
from workflows.auto_approvals import AutoApprovalLedger
from workflows.client import RequestsClient, connect, tracing_interceptors
from workflows.connectors import Connectors, build_connectors
from workflows.delegations import Delegations
from workflows.digest.activities import DigestActivities
from workflows.digest.preferences import DigestPreferences
from workflows.digest.sync import sync_digests
from workflows.digest.workflow import DigestWorkflow
from workflows.metrics import prometheus_runtime
from workflows.notify.outbox import Outbox
from workflows.request_workflow import RequestWorkflow

log = logging.getLogger(__name__)


def build_activities(*, connectors: Connectors, audit: AuditLog, outbox: Outbox, delegations: Delegations,
                     catalog: SystemCatalog, policies_path: Path,
                     ledger: AutoApprovalLedger | None = None) -> list[Callable[..., Any]]:
    """Every activity, each a method of a class that was given its client."""
    d = connectors.directory
    policy = PolicyActivities(policies_path, ApproverResolver(d, catalog, delegations), ledger)
    hr = HRActivities(connectors.hr, d, audit)
    calendar = CalendarActivities(connectors.calendar, d, audit)
    identity = IdentityActivities(connectors.identity, catalog, d, audit)
    itsm = ITSMActivities(connectors.itsm, d, audit)
    expenses = ExpenseActivities(connectors.expenses, d, audit)
    return [
        policy.plan, policy.resolve_approvers,
        AuditActivities(audit).record, NotifyActivities(outbox).deliver,
        hr.record_leave, calendar.create_out_of_office, identity.add_member, itsm.create_ticket,
        expenses.file_expense,
    ]


def build_worker(client: Client, settings: Settings, *, task_queue: str | None = None,
                 connectors: Connectors | None = None, requests: RequestsClient | None = None) -> Worker:
    """A worker for `settings`: the SQL database, the directory and catalog, the chosen connectors.

    `requests`: where the weekly digest reads requests from (default: `client`'s server).
    """
    engine = open_database(settings)
    directory = Directory.load(settings.core.directory_file)
    catalog = SystemCatalog.load(settings.core.systems_file)
    if connectors is None:
        connectors = build_connectors(settings, engine, directory, catalog)
    activities = build_activities(
        connectors=connectors,
        audit=AuditLog(engine, files=audit_files(settings)),
        outbox=Outbox(engine),
        delegations=Delegations(engine),
        catalog=catalog,
        policies_path=settings.policies_file,
        ledger=AutoApprovalLedger(engine),
    )
    requests = requests or RequestsClient(client, task_queue=settings.temporal.task_queue)
    digest = DigestActivities(requests, directory, DigestPreferences(engine), settings.digest)
    return Worker(
        client,
        task_queue=task_queue or settings.temporal.task_queue,
        workflows=[RequestWorkflow, DigestWorkflow],
        activities=[*activities, digest.plan, digest.compose],
        max_concurrent_activities=50,
        interceptors=tracing_interceptors(client),  # unless the client brings its own
    )


async def run_worker(settings: Settings) -> None:
    address = settings.metrics.worker_address
    client = await connect(settings.temporal, runtime=prometheus_runtime(address) if address else None)
    worker = build_worker(client, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker.started task_queue=%s address=%s metrics=%s", settings.temporal.task_queue,
             settings.temporal.address, f"http://{address}/metrics" if address else "off")
    async with worker:
        await _sync_digests(client, settings)
        await stop.wait()
    log.info("worker.stopped")


async def _sync_digests(client: Client, settings: Settings) -> None:
    """One weekly digest workflow per directory person (idempotent; a failure leaves them as they were)."""
    try:
        await sync_digests(client, Directory.load(settings.core.directory_file), settings.digest,
                           task_queue=settings.temporal.task_queue)
    except Exception as exc:  # noqa: BLE001 - the worker serves requests without it; `aios digest sync` retries
        log.warning("digest.sync_failed error=%s", exc)
