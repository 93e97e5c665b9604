"""Typed requests and results of every connector capability (one model in, one model out)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str = Field(min_length=1, max_length=200, description="idempotency key: workflow id + step")
    request_id: str


class LeaveRequest(_In):
    user: str
    email: str
    start: date
    end: date
    leave_type: str
    note: str = ""


class LeaveRecord(BaseModel):
    reference: str
    user: str
    days: float
    balance_after: float | None = None


class OutOfOfficeRequest(_In):
    user: str
    email: str
    timezone: str = "UTC"
    start: date
    end: date
    subject: str


class CalendarEvent(BaseModel):
    reference: str
    user: str


class MembershipRequest(_In):
    user: str
    email: str
    group: str


class Membership(BaseModel):
    reference: str
    user: str
    group: str
    added: bool = Field(description="False when the user already was a member")


class TicketRequest(_In):
    requester: str
    email: str
    summary: str
    description: str
    urgency: str


class Ticket(BaseModel):
    reference: str
    url: str = ""


class ExpenseClaim(_In):
    user: str
    amount: Decimal
    currency: str
    category: str
    expense_date: date
    description: str


class FiledExpense(BaseModel):
    reference: str
    status: str = "filed"


class Person(BaseModel):
    id: str
    name: str
    email: str
    manager: str | None = None
    roles: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    timezone: str = "UTC"
