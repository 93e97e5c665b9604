"""Kill the worker at random points, again and again: every request completes, every effect once.

The worker runs in its own process. It is SIGKILLed at random moments (mid workflow task, mid
activity, mid connector call) and, besides, its connectors crash the process right after their side
effect and before the activity completes, with some probability. Temporal retries; the connectors'
idempotency keys (workflow id + step) make each retry find what the first attempt did.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from temporalio.service import RPCError

from app.local_stack import child_env
from assistant.audit import AuditLog
from assistant.db import make_engine, reading
from assistant.errors import AssistantError
from assistant.settings import PROJECT_DIR
from tests.workflows.conftest import access, expense, it_ticket, rig_settings, time_off
from workflows.client import RequestsClient
from workflows.connectors.embedded.schema import (
    calendar_events,
    expense_claims,
    hr_leave,
    idp_changes,
    itsm_tickets,
)
from workflows.connectors.embedded.systems import EmbeddedHR
from workflows.models import Decision, DecisionInput, NewRequest, RequestKind, RequestState, RequestStatus
from workflows.notify.outbox import Outbox
from workflows.request_workflow import RequestOptions

ITERATIONS = int(os.environ.get("AIOS_KILL_ITERATIONS", "24"))
EFFECT_TABLES = {
    RequestKind.TIME_OFF: (hr_leave, calendar_events),
    RequestKind.ACCESS: (idp_changes,),
    RequestKind.EXPENSE: (expense_claims,),
    RequestKind.IT_TICKET: (itsm_tickets,),
}


class WorkerProcess:
    def __init__(self, settings, queue: str, log_dir: Path) -> None:
        self.settings, self.queue, self.log_dir = settings, queue, log_dir
        self.process: subprocess.Popen | None = None
        self.starts = self.kills = self.crashes = 0

    async def start(self, crash_probability: float, seed: int) -> None:
        log = self.log_dir / f"worker-{self.starts}.log"
        self.starts += 1
        with open(log, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.workflows.chaos_worker", self.queue, str(crash_probability), str(seed)],
                env=child_env(self.settings), cwd=PROJECT_DIR, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while "chaos-worker ready" not in log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log.read_text()[-3000:]}")
            await asyncio.sleep(0.05)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
            self.kills += 1
        elif self.process is not None:
            self.crashes += 1  # it died by itself, right after a connector's side effect
        self.process.wait()


def requests_for(i: int) -> list[tuple[str, object]]:
    """Two requests per round, every kind in turn (one-day leaves on distinct Mondays)."""
    if i % 2 == 0:
        systems = [("github", "read"), ("vpn", "standard"), ("jira", "write"), ("datadog", "read"), ("aws", "read")]
        system, level = systems[i // 2 % len(systems)]
        start = date(2027, 1, 4) + timedelta(days=7 * i)
        return [("alice", time_off(1, start=start)), ("alice", access(system, level))]
    return [("carol", expense("5000" if i % 4 == 1 else "500")), ("dave", it_ticket())]


async def approve_forever(client: RequestsClient, ids: list[str], stop: asyncio.Event) -> None:
    """Whoever must decide clicks Approve (again and again, like impatient people do)."""
    while not stop.is_set():
        async def one(request_id: str) -> None:
            try:
                status = await client.status_any(request_id)
                step = status.current_approval
                if step is None:
                    return
                who = next(a.user for a in step.approvers if not step.has_decided(a.user))
                await client.decide(DecisionInput(approval_id=step.approval_id, approver=who,
                                                  decision=Decision.APPROVE, params_hash=status.params_hash))
            except (AssistantError, RPCError, StopIteration):
                pass  # the worker is down, or someone else was quicker: next round
        await asyncio.gather(*(one(i) for i in list(ids)))
        await asyncio.sleep(0.2)


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_killing_the_worker_at_random_points_never_loses_or_repeats_an_effect(temporal_env, tmp_path):
    settings = rig_settings(tmp_path)
    settings.temporal.address = temporal_env.client.service_client.config.target_host
    queue = f"chaos-{uuid.uuid4().hex[:8]}"
    client = RequestsClient(temporal_env.client, task_queue=queue, rpc_timeout=3, task_timeout=1,
                            options=RequestOptions(activity_timeout_seconds=2, max_retry_interval_seconds=1))
    client.status_any = lambda rid: temporal_env.client.get_workflow_handle(rid).query(
        "status", result_type=RequestStatus, rpc_timeout=timedelta(seconds=3))
    rng = random.Random(4242)
    worker = WorkerProcess(settings, queue, tmp_path)
    ids: list[str] = []
    kinds: dict[str, RequestKind] = {}
    stop = asyncio.Event()
    driver = asyncio.create_task(approve_forever(client, ids, stop))
    t0 = time.monotonic()
    try:
        for i in range(ITERATIONS):
            await worker.start(crash_probability=0.25, seed=i)
            for requester, details in requests_for(i):
                rid = await client.submit(NewRequest(requester=requester, details=details, conversation_id=requester,
                                                     submission_key=uuid.uuid4().hex))
                ids.append(rid)
                kinds[rid] = RequestKind(details.kind)
            await asyncio.sleep(rng.uniform(0.05, 2.0))
            worker.kill()
        loop_seconds = time.monotonic() - t0
        await worker.start(crash_probability=0.0, seed=-1)
        finals: dict[str, RequestStatus] = {}
        deadline = time.monotonic() + 240
        while len(finals) < len(ids) and time.monotonic() < deadline:
            for rid in ids:
                if rid not in finals:
                    try:
                        status = await client.status_any(rid)
                    except Exception:  # noqa: BLE001 - try again
                        continue
                    if status.state in (RequestState.COMPLETED, RequestState.FAILED, RequestState.REJECTED,
                                        RequestState.EXPIRED, RequestState.CANCELLED):
                        finals[rid] = status
            await asyncio.sleep(0.5)
    finally:
        stop.set()
        await driver
        if worker.alive():
            worker.kill()

    print(f"kill loop: {ITERATIONS} iterations, {worker.kills} kills, {worker.crashes} crashes after a side "
          f"effect, {len(ids)} requests; loop {loop_seconds:.0f}s, all done {time.monotonic() - t0:.0f}s")
    assert worker.kills + worker.crashes >= ITERATIONS
    assert len(finals) == len(ids), f"unfinished: {sorted(set(ids) - set(finals))}"
    assert {s.state for s in finals.values()} == {RequestState.COMPLETED}, {
        r: (s.state, s.outcome) for r, s in finals.items() if s.state is not RequestState.COMPLETED}

    engine = make_engine(settings.core.database_url)
    with reading(engine) as conn:
        for rid, kind in kinds.items():
            for table in EFFECT_TABLES[kind]:
                n = conn.execute(select(func.count()).select_from(table).where(table.c.request_id == rid)).scalar_one()
                assert n == 1, f"{rid} ({kind}): {n} rows in {table.name}"
    time_off_days = sum(1 for k in kinds.values() if k is RequestKind.TIME_OFF)
    assert EmbeddedHR(engine).balance("alice", "vacation", 2027) == 25 - time_off_days  # deducted once each
    outbox = Outbox(engine)
    for rid in ids:
        requester = finals[rid].requester
        done = [n for n in outbox.inbox(requester, limit=10000) if n.request_id == rid and "Done:" in n.text]
        assert len(done) == 1, (rid, [n.text for n in done])
    audit = AuditLog(engine)
    assert audit.verify().ok
    calls = [r for r in audit.records() if r.event == "connector.call"]
    assert len(calls) == sum(len(EFFECT_TABLES[k]) for k in kinds.values())
