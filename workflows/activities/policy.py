"""Activities that read policy and people: the plan of a request, the approvers of a stage."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from assistant.errors import ConfigurationError
from workflows.activities.models import PLAN, RESOLVE, PlanInput, ResolvedApprovers, ResolveInput
from workflows.approvers import ApproverResolver
from workflows.auto_approvals import AutoApprovalLedger
from workflows.plan import ApprovalPlan
from workflows.policy import PeriodCap, PolicySet


class PolicyActivities:
    def __init__(self, policies_path: Path, resolver: ApproverResolver,
                 ledger: AutoApprovalLedger | None = None) -> None:
        self.path = policies_path
        self.resolver = resolver
        self.ledger = ledger
        self._policies = PolicySet.load(policies_path)  # fail at start-up on a broken file
        self._mtime = policies_path.stat().st_mtime

    def policies(self) -> PolicySet:
        """The policy file as it is now: an edit applies to requests started after it."""
        mtime = self.path.stat().st_mtime
        if mtime != self._mtime:
            try:
                self._policies, self._mtime = PolicySet.load(self.path), mtime
                activity.logger.info("policy.reloaded version=%s", self._policies.version)
            except ConfigurationError as exc:
                activity.logger.error("policy.reload_failed error=%s (keeping version %s)", exc.message,
                                      self._policies.version)
        return self._policies

    @activity.defn(name=PLAN)
    async def plan(self, inp: PlanInput) -> ApprovalPlan:
        policies = await asyncio.to_thread(self.policies)
        person = await self.resolver.directory.person(inp.requester)
        reserve = None
        if self.ledger is not None:
            ledger = self.ledger

            def reserve(cap: PeriodCap, amount: Decimal) -> bool:
                return ledger.reserve(inp.request_id, inp.requester, amount, cap=cap.amount, period=cap.period)

        plan = await asyncio.to_thread(policies.plan, inp.details, reserve=reserve)
        plan.requester_name = person.name if person else inp.requester
        return plan

    @activity.defn(name=RESOLVE)
    async def resolve_approvers(self, inp: ResolveInput) -> ResolvedApprovers:
        try:
            approvers = []
            for specs in ([[s] for s in inp.specs] if inp.first_match else [inp.specs]):
                approvers = await self.resolver.resolve(specs, requester=inp.requester, details=inp.details,
                                                        at=inp.at, escalation=inp.escalation)
                if approvers:
                    break
        except ValueError as exc:
            raise ApplicationError(str(exc), type="bad_policy", non_retryable=True) from exc
        return ResolvedApprovers(approvers=approvers)
