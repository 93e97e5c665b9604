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
from workflows.client import connect
from workflows.connectors import Connectors, build_connectors
from workflows.delegations import Delegations
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
                 connectors: Connectors | None = None) -> Worker:
    """A worker for `settings`: the SQL database, the directory and catalog, the chosen connectors."""
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
    return Worker(
        client,
        task_queue=task_queue or settings.temporal.task_queue,
        workflows=[RequestWorkflow],
        activities=activities,
        max_concurrent_activities=50,
    )


async def run_worker(settings: Settings) -> None:
    client = await connect(settings.temporal)
    worker = build_worker(client, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker.started task_queue=%s address=%s", settings.temporal.task_queue, settings.temporal.address)
    async with worker:
        await stop.wait()
    log.info("worker.stopped")
