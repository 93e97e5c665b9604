"""Typed requests and their state: the contract between the dialogue, the workflows and the API."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

REQUEST_ID_RE = re.compile(r"^REQ-[A-Z2-7]{6}$")


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

    def describe(self) -> str:
        when = (
            self.start_date.isoformat()
            if self.start_date == self.end_date
            else f"{self.start_date.isoformat()} to {self.end_date.isoformat()}"
        )
        return f"{self.leave_type} leave, {when} ({self.days} day{'s' if self.days != 1 else ''})"


class AccessDetails(_Details):
    kind: Literal["access"] = "access"
    system: str = Field(min_length=1, max_length=64, description="catalog system id")
    level: str = Field(min_length=1, max_length=32)
    justification: str = Field(min_length=1, max_length=1000)

    def describe(self) -> str:
        return f"{self.level} access to {self.system}"


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
    Union[TimeOffDetails, AccessDetails, ExpenseDetails, ITTicketDetails],
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

    @field_validator("history")
    @classmethod
    def _bounded(cls, v: list[HistoryEntry]) -> list[HistoryEntry]:
        return v[-200:]

    def describe(self) -> str:
        return self.details.describe()


class CancelInput(BaseModel):
    by: str = Field(min_length=1)
    reason: str = ""


class RequestSummary(BaseModel):
    """One line of a list, from Temporal visibility (no per-workflow query needed)."""

    request_id: str
    kind: RequestKind
    requester: str
    state: RequestState
    created_at: datetime | None = None
