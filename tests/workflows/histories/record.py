"""Record the committed workflow histories the replay test runs through the current code.

    .venv/bin/python -m tests.workflows.histories.record [digest]

Only re-record when no workflow of the old shape can still be running anywhere (before the first
deployment, or after they all finished); otherwise keep the old files and guard the change with
`workflow.patched`, then add a new history next to the old ones.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from app.local_stack import make_settings, start_temporal
from assistant.directory import Directory
from tests.workflows.conftest import access, expense, it_ticket, running_rig, start_skipping, time_off
from workflows import search_attributes as sa
from workflows.models import DelegationChange, RequestState

HERE = Path(__file__).parent
QUICK = """
policies:
  time_off:
    expire_after: 6s
    stages: [{name: manager, approvers: [manager], reminders: [1s], escalate_after: 2s,
              escalate_to: [manager_of_manager]}]
  access: {stages: []}
  expense: {stages: []}
  it_ticket: {stages: []}
"""


async def save(rig, name: str, request_id: str) -> None:
    history = await rig.temporal.get_workflow_handle(request_id).fetch_history()
    (HERE / f"{name}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")
    print(f"recorded {name}: {len(history.events)} events")


async def delegation_histories(env) -> None:
    """A delegate withdrawn by a revocation (signal), and by the delegation's `until` (timer)."""
    with tempfile.TemporaryDirectory() as tmp:
        async with running_rig(env.client, Path(tmp)) as rig:
            rig.delegations.set("frank", "carol", ends_at=datetime.now(UTC) + timedelta(days=3))
            revoked = await rig.submit(time_off(1), requester="dave")
            await rig.pending_stage(revoked)
            await rig.settled(revoked)
            rig.delegations.revoke("frank")
            await rig.requests.delegation_changed(DelegationChange(user="frank", delegate="carol", by="frank"))
            await rig.wait_for(revoked, lambda s: s.history[-1].event == "delegation_ended")
            await rig.settled(revoked)
            await rig.decide(revoked, "frank")
            await rig.result(revoked)
            await save(rig, "time_off_delegate_revoked_then_approved", revoked)

            rig.delegations.set("frank", "carol", ends_at=datetime.now(UTC) + timedelta(seconds=2))
            expired = await rig.submit(time_off(1), requester="dave")
            await rig.pending_stage(expired)
            await rig.wait_for(expired, lambda s: s.history[-1].event == "delegation_ended", timeout=15)
            await rig.settled(expired)
            await rig.decide(expired, "frank", "reject", comment="not that week")
            await rig.result(expired)
            await save(rig, "time_off_delegation_expired_then_rejected", expired)


async def digest_history(settings) -> None:
    """alice's weekly digest: planned, asleep until her local Monday 09:00, sent, continued as new (on a
    time-skipping server; the requests it reports on are on a dev server, which has visibility)."""
    from tests.workflows.test_digest import digest_worker, digests, planned, skip_to
    from workflows.digest.models import workflow_id
    from workflows.digest.sync import keep_digests

    skipping = await start_skipping(settings)
    dev = await start_temporal(make_settings(Path(tempfile.mkdtemp())))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with (running_rig(dev.client, Path(tmp)) as rig,
                        digest_worker(skipping.client, rig.settings, requests=rig.requests) as queue):
                await keep_digests(skipping.client, Directory.load(rig.settings.core.directory_file),
                                   task_queue=queue)
                plan = await planned(skipping.client, "alice")
                first = (await skipping.client.get_workflow_handle(workflow_id("alice")).describe()).run_id
                await rig.submit(time_off(2), requester="alice")
                await skip_to(skipping, plan.send_at + timedelta(minutes=1))
                for _ in range(400):
                    if digests(rig, "alice"):
                        break
                    await asyncio.sleep(0.05)
                handle = skipping.client.get_workflow_handle(workflow_id("alice"), run_id=first)
                for _ in range(400):  # the first run ends by continuing as new
                    if (await handle.describe()).status is not WorkflowExecutionStatus.RUNNING:
                        break
                    await asyncio.sleep(0.05)
                history = await handle.fetch_history()
                (HERE / "weekly_digest_sent.json").write_text(
                    json.dumps(json.loads(history.to_json()), indent=1) + "\n")
                print(f"recorded weekly_digest_sent: {len(history.events)} events")
    finally:
        await dev.shutdown()
        await skipping.shutdown()


async def main(only: str | None = None) -> None:
    settings = make_settings(Path(tempfile.mkdtemp()))
    if only in (None, "digest"):
        await digest_history(settings)
    if only == "digest":
        return
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter, dev_server_existing_path=str(settings.temporal.cli_path),
        ui=False, search_attributes=list(sa.ALL), dev_server_log_level="error")
    try:
        await delegation_histories(env)
        with tempfile.TemporaryDirectory() as tmp:
            async with running_rig(env.client, Path(tmp)) as rig:
                happy = await rig.submit(time_off(2))
                await rig.decide(happy, "bob", comment="have fun")
                await rig.result(happy)
                await save(rig, "time_off_approved", happy)

                rejected = await rig.submit(access("aws", "admin"))
                await rig.decide(rejected, "bob")
                await rig.pending_stage(rejected, 2)
                await rig.decide(rejected, "carol", "reject", comment="read is enough")
                await rig.result(rejected)
                await save(rig, "access_rejected_at_stage_2", rejected)

                cancelled = await rig.submit(time_off(1))
                await rig.pending_stage(cancelled)
                await rig.requests.cancel(cancelled, by="alice", reason="plans changed")
                await rig.result(cancelled)
                await save(rig, "time_off_cancelled", cancelled)

                middle = await rig.submit(access("github", "write"))
                await rig.decide(middle, "bob")
                await rig.pending_stage(middle, 2)
                await rig.settled(middle)
                await save(rig, "access_mid_approval", middle)

                auto = await rig.submit(expense("42"))
                await rig.result(auto)
                await save(rig, "expense_auto_approved", auto)

                ticket = await rig.submit(it_ticket())
                await rig.result(ticket)
                await save(rig, "it_ticket_completed", ticket)
        with tempfile.TemporaryDirectory() as tmp:
            async with running_rig(env.client, Path(tmp), policies=QUICK) as rig:
                escalated = await rig.submit(time_off(1))
                await rig.wait_for(escalated, lambda s: s.current_approval is not None
                                   and s.current_approval.escalated_at is not None, timeout=30)
                await rig.decide(escalated, "frank")
                await rig.result(escalated)
                await save(rig, "time_off_escalated_then_approved", escalated)

                expired = await rig.submit(time_off(1))
                final = await rig.result(expired, timeout=60)
                assert final.state is RequestState.EXPIRED
                await save(rig, "time_off_reminded_escalated_expired", expired)
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else None))
