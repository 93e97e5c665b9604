"""One durable workflow per person (`weekly-digest-<user>`): sleep until their next local send time,
send the week's digest through the outbox, continue as new.

Deterministic: the clock is `workflow.now()`; the person's timezone, the settings and the opt-out
are read by activities, so a change in the directory or settings applies from the next plan (at once
after a `replan` signal, which `aios digest sync` and the worker's start send).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.models import NOTIFY, NotifyOutput
    from workflows.digest.models import (
        COMPOSE,
        PLAN,
        WORKFLOW,
        ComposeInput,
        Digest,
        DigestInput,
        DigestPlan,
        DigestResult,
        PlanInput,
        notify_key,
    )
    from workflows.notify.models import MessageOut, NotifyBatch

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                    maximum_interval=timedelta(minutes=1))
# A digest that could not go out for this long after its time (no worker, visibility or the database
# down) is dropped: by then it is old news, and next week's comes on time.
GIVE_UP = timedelta(hours=6)


@workflow.defn(name=WORKFLOW)
class DigestWorkflow:
    def __init__(self) -> None:
        self._replan = False
        self._plan: DigestPlan | None = None

    @workflow.run
    async def run(self, inp: DigestInput) -> DigestResult:
        while True:
            self._replan = False  # a signal during the plan below means one more plan
            plan = self._plan = await workflow.execute_activity(
                PLAN, PlanInput(user=inp.user, now=workflow.now(), last_week=inp.last_week), result_type=DigestPlan,
                start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY)
            if not plan.active or plan.send_at is None:
                workflow.logger.info("digest.stopped user=%s reason=%s", inp.user, plan.reason)
                return DigestResult(user=inp.user, last_week=inp.last_week, stopped=plan.reason)
            wait = plan.send_at - workflow.now()
            if wait <= timedelta(0):
                break
            try:
                await workflow.wait_condition(lambda: self._replan, timeout=wait)
            except TimeoutError:
                break
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(inp)
        await self._send(plan)
        workflow.continue_as_new(DigestInput(user=inp.user, last_week=plan.week))

    @workflow.signal
    def replan(self) -> None:
        """The directory or the digest settings may have changed: plan the next send again."""
        self._replan = True

    @workflow.query
    def next_send(self) -> DigestPlan | None:
        return self._plan

    async def _send(self, plan: DigestPlan) -> None:
        now = workflow.now()
        if plan.send_at is not None and now - plan.send_at > GIVE_UP:
            # The timer fired while no worker ran: a Monday digest on Thursday is old news.
            workflow.logger.warning("digest.late user=%s week=%s planned=%s", plan.user, plan.week, plan.send_at)
            return
        try:
            digest = await workflow.execute_activity(
                COMPOSE, ComposeInput(user=plan.user, week=plan.week, since=now - timedelta(days=7), until=now),
                result_type=Digest, start_to_close_timeout=timedelta(seconds=60), schedule_to_close_timeout=GIVE_UP,
                retry_policy=RETRY)
            if digest.text is None:
                workflow.logger.info("digest.skipped user=%s week=%s reason=%s", plan.user, plan.week, digest.skipped)
                return
            batch = NotifyBatch(key=notify_key(plan.user, plan.week),
                                messages=[MessageOut(recipient=plan.user, text=digest.text)])
            await workflow.execute_activity(NOTIFY, batch, result_type=NotifyOutput,
                                            start_to_close_timeout=timedelta(seconds=30),
                                            schedule_to_close_timeout=GIVE_UP, retry_policy=RETRY)
        except ActivityError as exc:
            workflow.logger.warning("digest.dropped user=%s week=%s error=%s", plan.user, plan.week, exc.cause or exc)
            return
        workflow.logger.info("digest.sent user=%s week=%s", plan.user, plan.week)
