"""The request workflow: one durable workflow per request, driven by its kind's approval policy.

Deterministic by construction: people, policy and systems are reached only through activities;
time is `workflow.now()`; waits are durable timers. Changing this code for running workflows goes
through `workflow.patched(...)`, and tests/workflows/test_replay.py replays committed histories.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, Field

    from workflows import metrics
    from workflows import search_attributes as sa
    from workflows.activities import models as act
    from workflows.approvals import CARD_STATUS, EFFECTS, card_for, decision_problem, delegation_ended_text, people
    from workflows.models import (
        ApprovalStep,
        ApproverRef,
        CancelInput,
        Decision,
        DecisionInput,
        DecisionResult,
        DelegationChange,
        EffectResult,
        HistoryEntry,
        RequestDetails,
        RequestKind,
        RequestState,
        RequestStatus,
        StageDecision,
        StageOutcome,
        approval_id_for,
        params_hash,
    )
    from workflows.notify.models import CardOut, CardStatus, CardUpdate, MessageOut, NotifyBatch
    from workflows.plan import ApprovalPlan, StagePlan


class RequestOptions(BaseModel):
    """Timeouts the submitter's settings give the workflow (kept in history with the request)."""

    activity_timeout_seconds: float = Field(30.0, gt=0)
    max_retry_interval_seconds: float = Field(60.0, gt=0)
    effect_give_up_seconds: float = Field(86400.0, gt=0, description="stop retrying a company system after")


class RequestInput(BaseModel):
    request_id: str
    requester: str
    details: RequestDetails
    conversation_id: str
    channel: str = "web"
    options: RequestOptions = Field(default_factory=RequestOptions)


# Delegates whose delegation ends (revoked, replaced, or its `until` passed) lose their card on
# running requests: a timer at `until`, and a notification. Workflows of older code replay without.
DELEGATION_ENDS = "delegation-ends"

TERMINAL = {
    RequestState.CANCELLED,
    RequestState.REJECTED,
    RequestState.EXPIRED,
    RequestState.COMPLETED,
    RequestState.FAILED,
}


@workflow.defn(name="RequestWorkflow")
class RequestWorkflow:
    def __init__(self) -> None:
        self._status: RequestStatus | None = None
        self._input: RequestInput | None = None
        self._plan: ApprovalPlan | None = None
        self._inbox: list[tuple[ApprovalStep, StageDecision]] = []
        self._seq = 0
        self._cancel_channel: str | None = None
        self._delegation_changes = 0
        self._withdrawn: set[tuple[str, str]] = set()  # (approval id, delegate) whose card was withdrawn

    # ---- main line -------------------------------------------------------------------------

    @workflow.run
    async def run(self, request: RequestInput) -> RequestStatus:
        self._input = request
        now = workflow.now()
        self._status = RequestStatus(
            request_id=request.request_id, kind=RequestKind(request.details.kind), requester=request.requester,
            state=RequestState.SUBMITTED, details=request.details, channel=request.channel,
            created_at=now, updated_at=now, params_hash=params_hash(request.requester, request.details),
            history=[HistoryEntry(at=now, event="submitted", actor=request.requester,
                                  detail=f"from {request.channel}")],
        )
        workflow.upsert_search_attributes([
            sa.REQUESTER.value_set(request.requester),
            sa.KIND.value_set(request.details.kind),
            sa.STATE.value_set(RequestState.SUBMITTED.value),
        ])
        metrics.request_started(request.details.kind)
        await self._audit("request.submitted", actor=request.requester, channel=request.channel,
                          data={"kind": request.details.kind, "details": request.details.model_dump(mode="json"),
                                "params_hash": self._status.params_hash})
        self._plan = plan = await self._activity(
            act.PLAN, act.PlanInput(request_id=request.request_id, requester=request.requester,
                                    details=request.details), ApprovalPlan)
        self._status.expires_at = now + timedelta(seconds=plan.expire_after_seconds)
        if self._state is RequestState.SUBMITTED:
            if plan.auto_approve_reason or not plan.stages:
                reason = plan.auto_approve_reason or "no approval needed for this kind of request"
                self._transition(RequestState.APPROVED, "approved", actor="policy", detail=reason)
                await self._audit("approval.auto_approved", actor="policy", data={"reason": reason,
                                                                                   "policy": plan.policy_version})
            else:
                self._transition(RequestState.PENDING_APPROVAL, "pending_approval", actor="policy",
                                 detail=f"{len(plan.stages)} approval stage{'s' if len(plan.stages) > 1 else ''}")
                await self._approve_all(plan)
        if self._state is RequestState.APPROVED:
            await self._carry_out()
        await self._close()
        return self._status

    async def _approve_all(self, plan: ApprovalPlan) -> None:
        for number, stage in enumerate(plan.stages, 1):
            outcome = await self._run_stage(number, len(plan.stages), stage, plan)
            if outcome is not StageOutcome.APPROVED:
                return
        if self._state is RequestState.PENDING_APPROVAL:
            self._transition(RequestState.APPROVED, "approved", actor=None, detail="all approvals given")

    async def _run_stage(self, number: int, total: int, stage: StagePlan, plan: ApprovalPlan) -> StageOutcome:
        approvers = await self._resolve(stage.approvers)
        if not approvers and plan.fallback:
            approvers = await self._resolve(plan.fallback, first_match=True)
        if self._state is not RequestState.PENDING_APPROVAL:
            return StageOutcome.CANCELLED
        if not approvers:
            self._fail(f"nobody may approve the {stage.name} stage of this request (check the policy)")
            return StageOutcome.REJECTED
        now = workflow.now()
        assert self._status is not None and self._status.expires_at is not None
        deadline = self._status.expires_at
        if stage.deadline_seconds is not None:
            deadline = min(deadline, now + timedelta(seconds=stage.deadline_seconds))
        seats = {a.seat for a in approvers}
        step = ApprovalStep(
            approval_id=approval_id_for(self._status.request_id, number), stage=number, stages=total,
            name=stage.name, required=min(stage.required, len(seats)), approvers=approvers,
            requested_at=now, deadline=deadline,
        )
        self._status.approvals.append(step)
        self._history("approval_requested", actor=None, detail=f"{stage.name}: waiting for {people(approvers)}")
        self._upsert_approvers(step)
        await asyncio.gather(
            self._notify(cards=approvers, step=step, messages=[self._to_requester(
                f"{self._status.request_id} is waiting for {people(approvers)}"
                + (f" (approval {number} of {total})" if total > 1 else "") + ".")]),
            self._audit("approval.requested", data={"approval_id": step.approval_id, "stage": stage.name,
                                                    "approvers": [a.user for a in approvers],
                                                    "deadline": deadline.isoformat()}),
        )
        reminders = [now + timedelta(seconds=s) for s in stage.reminders_seconds]
        escalate_at = (now + timedelta(seconds=stage.escalate_after_seconds)
                       if stage.escalate_after_seconds is not None and stage.escalate_to else None)
        await self._wait_for_outcome(step, stage, reminders, escalate_at)
        await self._drain_inbox()
        return step.outcome

    async def _wait_for_outcome(self, step: ApprovalStep, stage: StagePlan, reminders: list[datetime],
                                escalate_at: datetime | None) -> None:
        """Until the step has an outcome: decisions, expiry, ended delegations, escalation, reminders."""
        while True:
            await self._drain_inbox()
            if step.outcome is not StageOutcome.PENDING:
                return
            now = workflow.now()
            if now >= step.deadline:
                await self._expire(step)
                return
            ended = self._newly_ended(step, now)
            if ended:
                self._withdrawn.update((step.approval_id, r.user) for r in ended)
                if workflow.patched(DELEGATION_ENDS):
                    await self._withdraw(step, ended)
                continue
            if escalate_at is not None and step.escalated_at is None and now >= escalate_at:
                await self._escalate(step, stage)
                continue
            if step.reminders_sent < len(reminders) and now >= reminders[step.reminders_sent]:
                await self._remind(step)
                continue
            wake = [step.deadline]
            if escalate_at is not None and step.escalated_at is None:
                wake.append(escalate_at)
            if step.reminders_sent < len(reminders):
                wake.append(reminders[step.reminders_sent])
            ends = [r.until for r in step.approvers if r.on_behalf_of and r.until is not None and r.until > now
                    and (step.approval_id, r.user) not in self._withdrawn]
            if ends and workflow.patched(DELEGATION_ENDS):
                wake += ends
            changes = self._delegation_changes
            try:
                await workflow.wait_condition(
                    lambda: bool(self._inbox) or step.outcome is not StageOutcome.PENDING
                    or self._delegation_changes != changes,  # noqa: B023 - awaited in this iteration
                    timeout=min(wake) - now, timeout_summary=f"{step.approval_id} next timer",
                )
            except TimeoutError:
                pass

    async def _drain_inbox(self) -> None:
        """Follow up each decision: the audit record, every card copy, the requester told."""
        while self._inbox:
            step, d = self._inbox.pop(0)
            assert self._status is not None
            verb = "approved" if d.decision is Decision.APPROVE else "rejected"
            closed = step.outcome is not StageOutcome.PENDING
            comment = f': "{d.comment}"' if d.comment else ""
            if closed:
                updates = [CardUpdate(approval_id=step.approval_id, status=CARD_STATUS[step.outcome],
                                      decided_by=d.approver, decided_at=d.at,
                                      text=f"{verb.capitalize()} by {d.approver}{comment}")]
            else:
                updates = [CardUpdate(approval_id=step.approval_id, status=CardStatus.DONE, recipient=d.approver,
                                      decided_by=d.approver, decided_at=d.at, text=f"You {verb}; waiting for others")]
            tail = ""
            if d.decision is Decision.APPROVE and not closed:
                tail = f" {len(step.approvals())} of {step.required} approvals so far."
            elif d.decision is Decision.APPROVE and step.stage == step.stages:
                tail = " That was the last approval needed; carrying it out now."
            text = f"{d.approver} {verb} {self._status.request_id} ({self._status.describe()}){comment}.{tail}"
            await asyncio.gather(
                self._notify(updates=updates, messages=[self._to_requester(text)]),
                self._audit("approval.decided", actor=d.approver, channel=d.channel, at=d.at,
                            data={"approval_id": step.approval_id, "decision": d.decision.value,
                                  "comment": d.comment, "on_behalf_of": d.on_behalf_of,
                                  "params_hash": self._status.params_hash}),
            )

    async def _remind(self, step: ApprovalStep) -> None:
        assert self._status is not None
        step.reminders_sent += 1
        metrics.approval_event(metrics.REMINDERS, self._status.kind.value, step.name)
        step.last_reminder_at = workflow.now()
        waiting = [a for a in step.approvers if not step.has_decided(a.user) and a.may_decide(workflow.now())]
        self._history("reminder_sent", actor=None, detail=f"to {', '.join(a.user for a in waiting)}")
        text = (f"Reminder: {self._status.request_id} ({self._status.describe()}) from {self._status.requester} "
                f"is still waiting for your decision.")
        await asyncio.gather(
            self._notify(messages=[MessageOut(recipient=a.user, text=text, request_id=self._status.request_id)
                                   for a in waiting]),
            self._audit("approval.reminder", data={"approval_id": step.approval_id,
                                                   "to": [a.user for a in waiting], "n": step.reminders_sent}),
        )

    async def _escalate(self, step: ApprovalStep, stage: StagePlan) -> None:
        assert self._status is not None
        now = workflow.now()
        # A delegate whose delegation ended may come back in their own right (their old entry goes).
        added = [a for a in await self._resolve(stage.escalate_to, escalation=True)
                 if (known := step.approver(a.user)) is None or not known.may_decide(now)]
        step.escalated_at = workflow.now()
        if step.outcome is not StageOutcome.PENDING:
            return  # decided while the escalation targets were looked up
        metrics.approval_event(metrics.ESCALATIONS, self._status.kind.value, step.name)
        back = {a.user for a in added}
        if any(step.approver(u) is not None for u in back):
            step.approvers = [a for a in step.approvers if a.user not in back]
        step.approvers.extend(added)
        self._upsert_approvers(step)
        who = people(added) if added else "nobody (no one above to escalate to)"
        self._history("escalated", actor=None, detail=f"no decision in time; now also {who}")
        await asyncio.gather(
            self._notify(cards=added, step=step, messages=[self._to_requester(
                f"{self._status.request_id} had no decision in time and was escalated to {who}.")]),
            self._audit("approval.escalated", data={"approval_id": step.approval_id,
                                                    "to": [a.user for a in added]}),
        )

    def _newly_ended(self, step: ApprovalStep, now: datetime) -> list[ApproverRef]:
        """Delegates of this stage whose delegation ended and whose card is still out."""
        return [r for r in step.approvers if r.on_behalf_of and not r.may_decide(now)
                and (step.approval_id, r.user) not in self._withdrawn]

    async def _withdraw(self, step: ApprovalStep, ended: list[ApproverRef]) -> None:
        """Withdraw ended delegates' cards, with a note; tell the approver the request is theirs again."""
        assert self._status is not None
        for ref in ended:
            self._history("delegation_ended", actor=ref.on_behalf_of, detail=delegation_ended_text(ref))
        self._upsert_approvers(step)
        updates = [CardUpdate(approval_id=step.approval_id, status=CardStatus.CANCELLED, recipient=ref.user,
                              text=delegation_ended_text(ref)) for ref in ended]
        messages = [MessageOut(recipient=ref.on_behalf_of, request_id=self._status.request_id,
                               text=f"Your delegation to {ref.user} ended: {self._status.request_id} "
                                    f"({self._status.describe()}) from {self._status.requester} now waits for you.")
                    for ref in ended if ref.on_behalf_of and not step.has_decided(ref.on_behalf_of)]
        await asyncio.gather(
            self._notify(updates=updates, messages=messages),
            self._audit("approval.delegate_withdrawn", data={
                "approval_id": step.approval_id,
                "delegates": [{"delegate": r.user, "on_behalf_of": r.on_behalf_of,
                               "reason": "ended" if r.ended_at is not None else "expired"} for r in ended]}),
        )

    async def _expire(self, step: ApprovalStep) -> None:
        assert self._status is not None
        metrics.approval_event(metrics.EXPIRIES, self._status.kind.value, step.name)
        step.outcome = StageOutcome.EXPIRED
        step.closed_at = workflow.now()
        self._transition(RequestState.EXPIRED, "expired", actor=None,
                         detail=f"no decision by {step.deadline:%Y-%m-%d %H:%M} UTC")

    async def _carry_out(self) -> None:
        assert self._status is not None and self._input is not None
        options = self._input.options
        if self._plan is not None and self._plan.auto_approve_reason:
            await self._notify(messages=[self._to_requester(
                f"{self._status.request_id} is approved by policy ({self._plan.auto_approve_reason}); "
                "carrying it out now.")])
        for step_name, activity_name in EFFECTS[self._status.kind]:
            inp = act.EffectInput(key=f"{self._status.request_id}:{step_name}", step=step_name,
                                  request_id=self._status.request_id, requester=self._status.requester,
                                  details=self._status.details)
            try:
                result = await workflow.execute_activity(
                    activity_name, inp, result_type=EffectResult,
                    start_to_close_timeout=timedelta(seconds=options.activity_timeout_seconds),
                    schedule_to_close_timeout=timedelta(seconds=options.effect_give_up_seconds),
                    retry_policy=self._retry(),
                )
            except ActivityError as exc:
                cause = exc.cause
                reason = cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
                self._fail(f"{step_name} step failed: {reason}")
                return
            self._status.effects.append(result)
            self._history("carried_out", actor="system", detail=f"{result.summary} ({result.reference})")
        done = "; ".join(e.summary for e in self._status.effects)
        self._status.outcome = f"Done: {done}."
        self._transition(RequestState.COMPLETED, "completed", actor="system", detail=done)

    async def _close(self) -> None:
        """Tell everyone how it ended; close every still-open card."""
        assert self._status is not None
        s = self._status
        step = s.approvals[-1] if s.approvals else None
        if step is not None and step.outcome is StageOutcome.PENDING:
            step.outcome = StageOutcome.CANCELLED if s.state is RequestState.CANCELLED else StageOutcome.REJECTED
            step.closed_at = workflow.now()
        messages: list[MessageOut] = []
        updates: list[CardUpdate] = []
        if s.state is RequestState.COMPLETED:
            messages.append(self._to_requester(f"{s.request_id} ({s.describe()}): {s.outcome}"))
        elif s.state is RequestState.EXPIRED:
            s.outcome = "It expired without a decision; file it again if you still need it."
            messages.append(self._to_requester(f"{s.request_id} ({s.describe()}) expired without a decision."))
            if step is not None:
                updates.append(CardUpdate(approval_id=step.approval_id, status=CardStatus.EXPIRED,
                                          text="Expired without a decision"))
        elif s.state is RequestState.CANCELLED:
            s.outcome = "You cancelled it."
            last = s.history[-1]
            if step is not None:
                updates.append(CardUpdate(approval_id=step.approval_id, status=CardStatus.CANCELLED,
                                          decided_by=s.requester, decided_at=last.at,
                                          text=f"Cancelled by {s.requester}"))
        elif s.state is RequestState.REJECTED:
            d = step.decisions[-1] if step is not None and step.decisions else None
            s.outcome = "Rejected." if d is None else (
                f"Rejected by {d.approver}" + (f": {d.comment}" if d.comment else "."))
        elif s.state is RequestState.FAILED:
            messages.append(self._to_requester(f"{s.request_id} ({s.describe()}) could not be completed: {s.outcome}"))
            if step is not None and step.outcome is StageOutcome.REJECTED and not step.decisions:
                updates.append(CardUpdate(approval_id=step.approval_id, status=CardStatus.CANCELLED,
                                          text="Closed: the request failed"))
        events = {RequestState.EXPIRED: "request.expired", RequestState.CANCELLED: "request.cancelled",
                  RequestState.FAILED: "request.failed", RequestState.COMPLETED: "request.completed",
                  RequestState.REJECTED: "request.rejected"}
        cancelled = s.state is RequestState.CANCELLED
        metrics.request_ended(s.kind.value, s.state.value, workflow.now() - s.created_at)
        await asyncio.gather(
            self._notify(messages=messages, updates=updates) if messages or updates else _done(),
            self._audit(events[s.state], actor=s.requester if cancelled else None,
                        channel=self._cancel_channel if cancelled else None,
                        data={"outcome": s.outcome, "effects": [e.model_dump() for e in s.effects]}),
        )

    # ---- updates and queries ---------------------------------------------------------------

    @workflow.query
    def status(self) -> RequestStatus:
        if self._status is None:
            raise ApplicationError("request not initialised yet", type="not_ready")
        return self._status

    @workflow.update
    def decide(self, inp: DecisionInput) -> DecisionResult:
        assert self._status is not None
        step = self._status.approval(inp.approval_id)
        if step is None or step.outcome is not StageOutcome.PENDING or step.has_decided(inp.approver):
            # Two clicks validated in the same task: the first one won.
            raise ApplicationError("this approval was decided a moment ago", type="already_decided")
        ref = step.approver(inp.approver)
        now = workflow.now()
        if ref is not None and not ref.may_decide(now):
            # The delegation ended between the validator and this handler (a signal in the same task).
            raise ApplicationError(delegation_ended_text(ref, you=True), type="forbidden")
        d = StageDecision(approver=inp.approver, decision=inp.decision, comment=inp.comment, at=now,
                          channel=inp.channel, on_behalf_of=ref.on_behalf_of if ref else None)
        step.decisions.append(d)
        on_behalf = f" for {d.on_behalf_of}" if d.on_behalf_of else ""
        detail = f"{step.name}{on_behalf}" + (f": {inp.comment}" if inp.comment else "")
        if inp.decision is Decision.REJECT:
            step.outcome, step.closed_at = StageOutcome.REJECTED, now
            self._transition(RequestState.REJECTED, "rejected", actor=inp.approver, detail=detail)
        else:
            self._history("approved", actor=inp.approver, detail=detail)
            if len(step.approvals()) >= step.required:
                step.outcome, step.closed_at = StageOutcome.APPROVED, now
        if step.outcome is not StageOutcome.PENDING:
            metrics.decided(self._status.kind.value, step.name, now - step.requested_at)
        self._inbox.append((step, d))
        workflow.logger.info("request.decided approval=%s by=%s decision=%s outcome=%s", step.approval_id,
                             inp.approver, inp.decision.value, step.outcome.value)
        workflow.upsert_search_attributes([sa.DECIDERS.value_set(self._status.deciders())])
        return DecisionResult(request_id=self._status.request_id, approval_id=step.approval_id,
                              approver=inp.approver, decision=inp.decision, decided_at=now,
                              stage_outcome=step.outcome, state=self._status.state)

    @decide.validator
    def _validate_decide(self, inp: DecisionInput) -> None:
        # Validators reject without writing anything to history.
        if self._status is None:
            raise ApplicationError("request not initialised yet", type="not_ready")
        problem = decision_problem(self._status, inp, workflow.now())
        if problem is not None:
            raise ApplicationError(problem.message, type=problem.type)

    @workflow.signal
    def delegation_changed(self, change: DelegationChange) -> None:
        """An approver's delegation ended early or was replaced: the delegate's seat follows it now."""
        if self._status is None or (step := self._status.current_approval) is None:
            return
        for ref in step.approvers:
            if ref.user != change.delegate or ref.on_behalf_of != change.user or ref.ended_at is not None:
                continue
            if change.until is None:
                ref.ended_at = workflow.now()
            elif (step.approval_id, ref.user) not in self._withdrawn:
                ref.until = change.until
        self._delegation_changes += 1

    @workflow.update
    def cancel(self, inp: CancelInput) -> RequestStatus:
        assert self._status is not None
        self._cancel_channel = inp.channel
        self._transition(RequestState.CANCELLED, "cancelled", actor=inp.by, detail=inp.reason)
        step = self._status.current_approval
        if step is not None:
            step.outcome, step.closed_at = StageOutcome.CANCELLED, workflow.now()
        return self._status

    @cancel.validator
    def _validate_cancel(self, inp: CancelInput) -> None:
        if self._status is None:
            raise ApplicationError("request not initialised yet", type="not_ready")
        if inp.by != self._status.requester:
            raise ApplicationError("only the requester can cancel this request", type="forbidden")
        if self._state not in (RequestState.SUBMITTED, RequestState.PENDING_APPROVAL):
            raise ApplicationError(f"request is already {self._state.value}", type="not_pending")

    # ---- helpers ---------------------------------------------------------------------------

    @property
    def _state(self) -> RequestState:
        assert self._status is not None
        return self._status.state

    def _history(self, event: str, *, actor: str | None, detail: str = "") -> None:
        assert self._status is not None
        now = workflow.now()
        self._status.updated_at = now
        self._status.history.append(HistoryEntry(at=now, event=event, actor=actor, detail=detail))

    def _transition(self, state: RequestState, event: str, *, actor: str | None, detail: str = "") -> None:
        assert self._status is not None
        workflow.logger.info("request.state request=%s state=%s", self._status.request_id, state.value)
        self._status.state = state
        self._history(event, actor=actor, detail=detail)
        workflow.upsert_search_attributes([sa.STATE.value_set(state.value)])

    def _fail(self, reason: str) -> None:
        assert self._status is not None
        self._status.outcome = reason
        self._transition(RequestState.FAILED, "failed", actor="system", detail=reason)

    def _upsert_approvers(self, step: ApprovalStep) -> None:
        now = workflow.now()
        workflow.upsert_search_attributes([sa.APPROVERS.value_set([a.user for a in step.approvers
                                                                    if a.may_decide(now)])])

    def _key(self, what: str) -> str:
        assert self._status is not None
        self._seq += 1
        return f"{self._status.request_id}:{what}:{self._seq}"

    def _retry(self) -> RetryPolicy:
        assert self._input is not None
        return RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                           maximum_interval=timedelta(seconds=self._input.options.max_retry_interval_seconds))

    async def _activity(self, name: str, arg: Any, result_type: type) -> Any:
        assert self._input is not None
        return await workflow.execute_activity(
            name, arg, result_type=result_type,
            start_to_close_timeout=timedelta(seconds=self._input.options.activity_timeout_seconds),
            retry_policy=self._retry(),
        )

    async def _resolve(self, specs: list[str], *, escalation: bool = False,
                       first_match: bool = False) -> list[ApproverRef]:
        assert self._status is not None
        resolved = await self._activity(act.RESOLVE, act.ResolveInput(
            request_id=self._status.request_id, requester=self._status.requester, details=self._status.details,
            specs=specs, at=workflow.now(), escalation=escalation, first_match=first_match),
            act.ResolvedApprovers)
        return resolved.approvers

    async def _audit(self, event: str, *, actor: str | None = None, channel: str | None = None,
                     at: datetime | None = None, data: dict[str, Any] | None = None) -> None:
        assert self._status is not None
        await self._activity(act.AUDIT, act.AuditInput(
            key=self._key("audit"), event=event, request_id=self._status.request_id, actor=actor, channel=channel,
            at=at or workflow.now(), data=data or {}), act.AuditOutput)

    def _to_requester(self, text: str) -> MessageOut:
        assert self._status is not None
        return MessageOut(recipient=self._status.requester, text=text, request_id=self._status.request_id)

    async def _notify(self, *, messages: list[MessageOut] | None = None, cards: list[ApproverRef] | None = None,
                      step: ApprovalStep | None = None, updates: list[CardUpdate] | None = None) -> None:
        assert self._status is not None and self._plan is not None
        card_outs = [CardOut(recipient=ref.user, card=card_for(self._status, step, ref, self._plan.requester_name))
                     for ref in (cards or [])] if step is not None else []
        await self._activity(act.NOTIFY, NotifyBatch(key=self._key("notify"), messages=messages or [],
                                                      cards=card_outs, updates=updates or []), act.NotifyOutput)


async def _done() -> None:
    return None
