"""Inputs and outputs of the activities, and their names (the workflow calls them by name)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from workflows.models import ApproverRef, RequestDetails

PLAN = "policy.plan"
RESOLVE = "policy.resolve_approvers"
AUDIT = "audit.record"
NOTIFY = "notify.deliver"
RECORD_LEAVE = "hr.record_leave"
OUT_OF_OFFICE = "calendar.create_out_of_office"
ADD_MEMBER = "identity.add_member"
CREATE_TICKET = "itsm.create_ticket"
FILE_EXPENSE = "expenses.file_expense"


class PlanInput(BaseModel):
    request_id: str
    requester: str
    details: RequestDetails


class ResolveInput(BaseModel):
    request_id: str
    requester: str
    details: RequestDetails
    specs: list[str]
    at: datetime
    escalation: bool = False
    first_match: bool = Field(False, description="only the first spec that names anyone (fallbacks)")


class ResolvedApprovers(BaseModel):
    approvers: list[ApproverRef] = Field(default_factory=list)


class AuditInput(BaseModel):
    key: str
    event: str
    request_id: str
    actor: str | None = None
    channel: str | None = None
    at: datetime | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class AuditOutput(BaseModel):
    seq: int


class NotifyOutput(BaseModel):
    posted: int


class EffectInput(BaseModel):
    """Carry out one approved request's step on a company system, at most once per `key`."""

    key: str
    step: str
    request_id: str
    requester: str
    details: RequestDetails
