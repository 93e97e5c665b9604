"""Inputs and outputs of the weekly digest's workflow and activities, and their names (no I/O here)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

PLAN = "digest.plan"
COMPOSE = "digest.compose"
WORKFLOW = "WeeklyDigest"


def workflow_id(user: str) -> str:
    """The one digest workflow of a person (what `aios digest sync` starts and signals)."""
    return f"weekly-digest-{user}"


def notify_key(user: str, week: str) -> str:
    """The outbox key of one person's digest of one week: the outbox stores a key once, so no week
    gets two digests (an activity retry, a changed send time, a restarted workflow)."""
    return f"digest:{user}:{week}"


class DigestInput(BaseModel):
    user: str
    last_week: str | None = Field(None, description="the ISO week (2027-W09) of the last digest sent, if any")


class DigestResult(BaseModel):
    """How a digest workflow ended: the person left the directory, or the digest was switched off."""

    user: str
    last_week: str | None = None
    stopped: str


class PlanInput(BaseModel):
    user: str
    now: datetime = Field(description="the workflow's time (a time-skipping test server's, in tests)")
    last_week: str | None = None


class DigestPlan(BaseModel):
    """When the person's next digest goes out, on their clock as the directory has it now."""

    user: str
    active: bool
    reason: str = ""
    send_at: datetime | None = Field(None, description="UTC")
    local: str = Field("", description="the same moment on the person's clock, e.g. 'Mon 1 Mar 09:00 CET'")
    week: str = Field("", description="the ISO week of the send date on the person's clock")
    timezone: str = ""


class ComposeInput(BaseModel):
    user: str
    week: str
    since: datetime
    until: datetime


class Digest(BaseModel):
    """The digest's text, or why there is none (the person opted out, or left the directory)."""

    user: str
    week: str
    text: str | None = None
    skipped: str = ""
