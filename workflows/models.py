"""Typed requests and their state: the contract between the dialogue, the workflows and the API."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

REQUEST_ID_RE = re.compile(r"^REQ-[A-Z2-7]{6}$")
APPROVAL_ID_PATTERN = r"^(REQ-[A-Z2-7]{6})-([1-9][0-9]?)$"
APPROVAL_ID_RE = re.compile(APPROVAL_ID_PATTERN)


class RequestKind(StrEnum):
    TIME_OFF = "time_off"
    ACCESS = "access"
    EXPENSE = "expense"
    IT_TICKET = "it_ticket"


class RequestState(StrEnum):
    SUBMITTED = "submitted"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def is_open(self) -> bool:
        return self in (RequestState.SUBMITTED, RequestState.PENDING_APPROVAL, RequestState.APPROVED)


LEAVE_TYPES = ("vacation", "sick", "personal", "parental")
URGENCIES = ("low", "medium", "high", "critical")
EXPENSE_CATEGORIES = ("travel", "meals", "lodging", "equipment", "software", "training", "office", "other")


class _Details(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def working_days(start: date, end: date) -> int:
    """Monday to Friday inside start..end, both included (public holidays are HR's business)."""
    return sum(1 for i in range((end - start).days + 1) if (start + timedelta(days=i)).weekday() < 5)


class TimeOffDetails(_Details):
    kind: Literal["time_off"] = "time_off"
    start_date: date
    end_date: date
    leave_type: Literal["vacation", "sick", "personal", "parental"]
    note: str = Field("", max_length=500)

    @model_validator(mode="after")
    def _order(self) -> TimeOffDetails:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    @property
    def working_days(self) -> int:
        return working_days(self.start_date, self.end_date)

    def span(self) -> str:
        """"5 days, 3 working days" when a weekend is inside, else "3 days"."""
        text = f"{self.days} day{'s' if self.days != 1 else ''}"
        if self.working_days != self.days:
            text += f", {self.working_days} working day{'s' if self.working_days != 1 else ''}"
        return text

    def describe(self) -> str:
        when = (
            self.start_date.isoformat()
            if self.start_date == self.end_date
            else f"{self.start_date.isoformat()} to {self.end_date.isoformat()}"
        )
        return f"{self.leave_type} leave, {when} ({self.span()})"


class AccessDetails(_Details):
    kind: Literal["access"] = "access"
    system: str = Field(min_length=1, max_length=64, description="catalog system id")
    level: str = Field(min_length=1, max_length=32)
    justification: str = Field(min_length=1, max_length=1000)
    system_name: str | None = Field(None, max_length=128, description="the catalog's display name, for messages")

    def describe(self) -> str:
        return f"{self.level} access to {self.system_name or self.system}"


class ExpenseDetails(_Details):
    kind: Literal["expense"] = "expense"
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    category: str = Field(min_length=1, max_length=32)
    expense_date: date
    description: str = Field(min_length=1, max_length=1000)

    def describe(self) -> str:
        return f"{self.category} expense of {self.amount:.2f} {self.currency} on {self.expense_date.isoformat()}"


class ITTicketDetails(_Details):
    kind: Literal["it_ticket"] = "it_ticket"
    summary: str = Field(min_length=1, max_length=1000)
    urgency: Literal["low", "medium", "high", "critical"]

    def describe(self) -> str:
        return f"IT issue ({self.urgency}): {self.summary}"


RequestDetails = Annotated[
    TimeOffDetails | AccessDetails | ExpenseDetails | ITTicketDetails,
    Field(discriminator="kind"),
]


class NewRequest(BaseModel):
    """What the dialogue submits once the user confirmed a form."""

    model_config = ConfigDict(frozen=True)

    requester: str = Field(min_length=1, max_length=64)
    details: RequestDetails
    conversation_id: str = Field(min_length=1, max_length=128)
    submission_key: str = Field(
        min_length=1, max_length=128,
        description="identifies this confirmation (e.g. the confirming message id); a retried "
        "submit with the same key maps to the same request",
    )
    channel: Literal["web", "slack", "teams", "api"] = "web"

    @property
    def kind(self) -> RequestKind:
        return RequestKind(self.details.kind)

    def request_id(self) -> str:
        return request_id_for(self.conversation_id, self.submission_key)


def request_id_for(conversation_id: str, submission_key: str) -> str:
    """Deterministic, short, human-typable request id (also the workflow id)."""
    digest = hashlib.sha256(f"{conversation_id}\0{submission_key}".encode()).digest()
    return "REQ-" + base64.b32encode(digest).decode()[:6]


def normalize_request_id(text: str) -> str | None:
    """'req-abc234', 'REQ ABC234', '#REQ-ABC234' -> 'REQ-ABC234'; None when there is no id."""
    m = re.search(r"\breq[\s\-_#]*([a-z2-7]{6})\b", text.strip(), re.IGNORECASE)
    if not m:
        return None
    candidate = "REQ-" + m.group(1).upper()
    return candidate if REQUEST_ID_RE.match(candidate) else None


class HistoryEntry(BaseModel):
    at: datetime
    event: str
    actor: str | None = None
    detail: str = ""


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class StageOutcome(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class ApproverRef(BaseModel):
    """One person who may decide a stage, and why they were asked."""

    user: str
    name: str = ""
    relation: str = Field("", description="from the requester's side: 'your manager', 'the GitHub owner'")
    on_behalf_of: str | None = Field(None, description="set when this is a delegate of that approver")
    note: str = Field("", description="e.g. the delegation note shown on the card (for the delegate only)")
    escalation: bool = False
    until: datetime | None = Field(None, description="a delegate's: when the delegation ends")
    ended_at: datetime | None = Field(None, description="a delegate's: when the workflow learnt that the "
                                      "delegation ended early (revoked or replaced)")

    @property
    def seat(self) -> str:
        """Whose vote this is: a delegate votes in the seat of the person they stand in for."""
        return self.on_behalf_of or self.user

    def may_decide(self, at: datetime) -> bool:
        """False for a delegate whose delegation ended (revoked, replaced, or past its `until`)."""
        if self.on_behalf_of is None:
            return True
        return self.ended_at is None and (self.until is None or at < self.until)

    def for_requester(self) -> ApproverRef:
        """What the requester may see: not the delegator's private note, only who decides for whom."""
        if self.on_behalf_of is None:
            return self.model_copy(update={"note": ""})
        return self.model_copy(update={"note": f"{self.on_behalf_of} is away; {self.user} decides for them"})


class StageDecision(BaseModel):
    approver: str
    decision: Decision
    comment: str = ""
    at: datetime
    channel: str = "web"
    on_behalf_of: str | None = None


class ApprovalStep(BaseModel):
    """One stage of approval as it stands: who is asked, since when, and what they decided."""

    approval_id: str
    stage: int = Field(ge=1)
    stages: int = Field(ge=1)
    name: str
    required: int = Field(1, ge=1)
    approvers: list[ApproverRef] = Field(default_factory=list)
    requested_at: datetime
    deadline: datetime
    reminders_sent: int = 0
    last_reminder_at: datetime | None = None
    escalated_at: datetime | None = None
    decisions: list[StageDecision] = Field(default_factory=list)
    outcome: StageOutcome = StageOutcome.PENDING
    closed_at: datetime | None = None

    def approver(self, user: str) -> ApproverRef | None:
        return next((a for a in self.approvers if a.user == user), None)

    def approvals(self) -> set[str]:
        return {d.on_behalf_of or d.approver for d in self.decisions if d.decision is Decision.APPROVE}

    def has_decided(self, user: str) -> bool:
        ref = self.approver(user)
        seat = ref.seat if ref else user
        return any(d.approver == user or (d.on_behalf_of or d.approver) == seat for d in self.decisions)


class EffectResult(BaseModel):
    """What a connector did on approval (a ticket number, a leave record, a membership)."""

    step: str
    system: str
    reference: str
    summary: str


class RequestStatus(BaseModel):
    """What a query returns: the request as the requester and approvers see it."""

    request_id: str
    kind: RequestKind
    requester: str
    state: RequestState
    details: RequestDetails
    channel: str = "web"
    created_at: datetime
    updated_at: datetime
    history: list[HistoryEntry] = Field(default_factory=list)
    params_hash: str = ""
    expires_at: datetime | None = None
    approvals: list[ApprovalStep] = Field(default_factory=list)
    effects: list[EffectResult] = Field(default_factory=list)
    outcome: str = Field("", description="one line for the requester once the request is closed")

    @field_validator("history")
    @classmethod
    def _bounded(cls, v: list[HistoryEntry]) -> list[HistoryEntry]:
        return v[-200:]

    def describe(self) -> str:
        return self.details.describe()

    @property
    def current_approval(self) -> ApprovalStep | None:
        step = self.approvals[-1] if self.approvals else None
        return step if step is not None and step.outcome is StageOutcome.PENDING else None

    def approval(self, approval_id: str) -> ApprovalStep | None:
        return next((a for a in self.approvals if a.approval_id == approval_id), None)

    def deciders(self) -> list[str]:
        return sorted({d.approver for a in self.approvals for d in a.decisions})

    def for_requester(self) -> RequestStatus:
        """The status without what only approvers may read (a delegator's private note)."""
        approvals = [a.model_copy(update={"approvers": [r.for_requester() for r in a.approvers]})
                     for a in self.approvals]
        return self.model_copy(update={"approvals": approvals})


class CancelInput(BaseModel):
    by: str = Field(min_length=1)
    reason: str = ""
    channel: str = "web"


class DelegationChange(BaseModel):
    """Sent to running requests when `user`'s delegation to `delegate` ends early or is replaced."""

    user: str = Field(min_length=1, max_length=64, description="the approver who delegated")
    delegate: str = Field(min_length=1, max_length=64)
    until: datetime | None = Field(None, description="None: ended now; else the same delegate, now until then")
    by: str | None = Field(None, description="who changed it (audit)")


class DecisionInput(BaseModel):
    """One click: who decided which approval, what, and for which shown parameters."""

    approval_id: str = Field(pattern=APPROVAL_ID_PATTERN)
    approver: str = Field(min_length=1, max_length=64)
    decision: Decision
    comment: str = Field("", max_length=1000)
    params_hash: str = Field(min_length=1, max_length=64)
    channel: str = "web"


class DecisionResult(BaseModel):
    request_id: str
    approval_id: str
    approver: str
    decision: Decision
    decided_at: datetime
    stage_outcome: StageOutcome
    state: RequestState


def approval_id_for(request_id: str, stage: int) -> str:
    return f"{request_id}-{stage}"


def request_id_of(approval_id: str) -> str | None:
    """'REQ-ABC234-2' -> 'REQ-ABC234'; None when it is not an approval id."""
    m = APPROVAL_ID_RE.match(approval_id)
    return m.group(1) if m else None


def params_hash(requester: str, details: BaseModel) -> str:
    """Hash of the parameters an approver is shown; a decision must carry the one it saw."""
    body = json.dumps({"requester": requester, "details": details.model_dump(mode="json")},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()[:16]


class RequestSummary(BaseModel):
    """One line of a list, from Temporal visibility (no per-workflow query needed)."""

    request_id: str
    kind: RequestKind
    requester: str
    state: RequestState
    created_at: datetime | None = None
    closed_at: datetime | None = None
