"""Keep one digest workflow per directory person: start the missing ones, re-plan the running ones."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from assistant.directory import Directory
from assistant.settings.digest import DigestSettings
from workflows.digest.models import WORKFLOW, DigestInput, DigestPlan, workflow_id
from workflows.digest.workflow import DigestWorkflow

log = logging.getLogger(__name__)

RPC_TIMEOUT = timedelta(seconds=10)


@dataclass
class SyncReport:
    kept: list[str] = field(default_factory=list)  # people whose workflow runs (started now or before)
    stopping: list[str] = field(default_factory=list)  # running workflows told to re-plan, and so to end


async def sync_digests(client: Client, directory: Directory, settings: DigestSettings, *,
                       task_queue: str) -> SyncReport:
    """Idempotent: each person's `weekly-digest-<user>` is started when missing and signalled to
    re-plan either way (Signal-With-Start: one call, no race with a second worker doing the same).
    Running digest workflows of people no longer in the directory, or all of them when the digest
    is switched off, are signalled too: their next plan ends them."""
    report = SyncReport(kept=await keep_digests(client, directory, task_queue=task_queue) if settings.enabled else [])
    query = f"WorkflowType = '{WORKFLOW}' AND ExecutionStatus = 'Running'"
    running = [wf.id async for wf in client.list_workflows(query, rpc_timeout=RPC_TIMEOUT)]
    kept = {workflow_id(u) for u in report.kept}
    for wf_id in sorted(set(running) - kept):
        try:
            await client.get_workflow_handle(wf_id).signal(DigestWorkflow.replan, rpc_timeout=RPC_TIMEOUT)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            continue  # ended meanwhile
        report.stopping.append(wf_id)
    log.info("digest.synced kept=%d stopping=%d", len(report.kept), len(report.stopping))
    return report


async def keep_digests(client: Client, directory: Directory, *, task_queue: str) -> list[str]:
    """Start each person's digest workflow unless it runs, and have it re-plan either way; returns the people."""

    async def keep(user: str) -> None:
        await client.start_workflow(
            DigestWorkflow.run, DigestInput(user=user), id=workflow_id(user), task_queue=task_queue,
            start_signal="replan", id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE, rpc_timeout=RPC_TIMEOUT)

    people = sorted(u.id for u in directory)
    await asyncio.gather(*(keep(user) for user in people))
    return people


async def next_sends(client: Client, directory: Directory) -> dict[str, DigestPlan | None]:
    """Each person's planned next digest (None: no digest workflow, or it has not planned yet)."""

    async def one(user: str) -> DigestPlan | None:
        try:
            return await client.get_workflow_handle(workflow_id(user)).query(
                DigestWorkflow.next_send, rpc_timeout=RPC_TIMEOUT)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    people = sorted(u.id for u in directory)
    return dict(zip(people, await asyncio.gather(*(one(u) for u in people)), strict=True))
