"""The approval plan of one request: the policy, evaluated for it, as the workflow follows it.

The plan is computed by an activity when the request starts and kept in the workflow's history, so
a policy edit applies to new requests and never changes one already running.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class StagePlan(BaseModel):
    name: str
    approvers: list[str] = Field(min_length=1, description="approver specs: manager, role:finance_approver, ...")
    required: int = Field(1, ge=1, description="distinct approvals needed (1 = any of them)")
    reminders_seconds: list[float] = Field(default_factory=list, description="after the stage opened")
    escalate_after_seconds: float | None = None
    escalate_to: list[str] = Field(default_factory=list)
    deadline_seconds: float | None = Field(None, description="the stage expires the request after this")


class ApprovalPlan(BaseModel):
    policy_version: str
    requester_name: str = ""
    auto_approve_reason: str | None = None
    stages: list[StagePlan] = Field(default_factory=list)
    expire_after_seconds: float = Field(7 * 86400, gt=0)
    fallback: list[str] = Field(default_factory=list, description="approvers when a stage resolves to nobody")
