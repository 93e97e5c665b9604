"""What a notification carries (no I/O here: workflow code builds these)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class CardStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    DONE = "done"  # the stage needs more approvers, but this recipient's part is done


class ApprovalCard(BaseModel):
    """The card an approver sees: the request's details, who asks, and the buttons' context."""

    approval_id: str
    request_id: str
    kind: str
    requester: str
    requester_name: str = ""
    title: str
    facts: list[tuple[str, str]] = Field(default_factory=list)
    params_hash: str
    stage: int = 1
    stages: int = 1
    stage_name: str = ""
    note: str = ""
    deadline: datetime | None = None
    status: CardStatus = CardStatus.OPEN
    decided_by: str | None = None
    decided_at: datetime | None = None
    status_text: str = ""


class MessageOut(BaseModel):
    recipient: str
    text: str
    request_id: str | None = None


class CardOut(BaseModel):
    recipient: str
    card: ApprovalCard


class CardUpdate(BaseModel):
    """Every copy of the approval's card (or one recipient's) gets this status."""

    approval_id: str
    status: CardStatus
    decided_by: str | None = None
    decided_at: datetime | None = None
    text: str = ""
    recipient: str | None = None


class NotifyBatch(BaseModel):
    """One workflow step's notifications, delivered together and at most once (by `key`)."""

    key: str
    messages: list[MessageOut] = Field(default_factory=list)
    cards: list[CardOut] = Field(default_factory=list)
    updates: list[CardUpdate] = Field(default_factory=list)


class Notification(BaseModel):
    """One row of a person's inbox."""

    seq: int
    recipient: str
    kind: Literal["message", "card", "card_update"]
    request_id: str | None = None
    approval_id: str | None = None
    text: str = ""
    card: ApprovalCard | None = None
    created_at: float = Field(description="epoch seconds, when the workflow posted it")
    delivered_at: float | None = None
    channel: str | None = None


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # every channel failed too often: an admin has to look (GET /api/admin/outbox?state=dead)


class Delivery(BaseModel):
    """Where one outbox row stands: what the dispatcher retries from and what an admin sees (no content)."""

    seq: int
    recipient: str
    kind: Literal["message", "card", "card_update"]
    request_id: str | None = None
    approval_id: str | None = None
    created_at: float
    state: DeliveryState
    attempts: int = Field(0, description="failed attempts in a row on `failing_channel`")
    failing_channel: str | None = None
    skipped: list[str] = Field(default_factory=list, description="channels given up on after too many failures")
    next_attempt_at: float = Field(0.0, description="epoch seconds; not tried again before")
    last_error: str | None = None
    delivered_at: float | None = None
    channel: str | None = Field(None, description="the channel that took it")
