"""How requests read in a person's summaries (the chat's weekly summary, the pushed weekly digest)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from assistant.directory import User
from workflows.models import RequestSummary

KIND_LABELS = {"time_off": "time off", "access": "access", "expense": "expense", "it_ticket": "IT ticket"}
STATE_LABELS = {
    "submitted": "submitted",
    "pending_approval": "waiting for approval",
    "approved": "approved, being carried out",
    "rejected": "rejected",
    "cancelled": "cancelled",
    "expired": "expired without a decision",
    "completed": "done",
    "failed": "failed",
}


def local_time(at: datetime, user: User | None) -> str:
    """`at` on the person's own clock, e.g. 'Mon 1 Mar 09:00' (UTC without a person)."""
    tz = ZoneInfo(user.timezone) if user else UTC
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(tz).strftime("%a %-d %b %H:%M")


def describe_summary(item: RequestSummary, user: User | None) -> str:
    """'REQ-ABC234: time off, waiting for approval, filed Mon 1 Mar 09:00'."""
    when = f", filed {local_time(item.created_at, user)}" if item.created_at else ""
    kind, state = KIND_LABELS.get(item.kind, item.kind), STATE_LABELS.get(item.state, item.state)
    return f"{item.request_id}: {kind}, {state}{when}"
