"""The digest's activities: plan the next send on the person's clock, and compose the digest."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from temporalio import activity

from assistant.directory import Directory
from assistant.settings.digest import DigestSettings
from workflows.client import RequestsClient
from workflows.digest.models import COMPOSE, PLAN, ComposeInput, Digest, DigestPlan, PlanInput
from workflows.digest.preferences import DigestPreferences
from workflows.digest.text import digest_text
from workflows.digest.timing import next_send

LIST_LIMIT = 50


def zone(name: str) -> ZoneInfo:
    """The directory's IANA zone; UTC (and a warning) for a name this machine does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        activity.logger.warning("digest.unknown_timezone timezone=%r (UTC instead)", name)
        return ZoneInfo("UTC")


class DigestActivities:
    """Given the directory, the digest settings, the opt-outs and a requests client (visibility)."""

    def __init__(self, requests: RequestsClient, directory: Directory, preferences: DigestPreferences,
                 settings: DigestSettings) -> None:
        self.requests = requests
        self.directory = directory
        self.preferences = preferences
        self.settings = settings

    @activity.defn(name=PLAN)
    async def plan(self, inp: PlanInput) -> DigestPlan:
        """The next send on the person's clock as the directory has it now; inactive when the digest is
        switched off or the person left the directory (their workflow then ends). An opt-out does not
        end it: it is read at send time, so opting in again needs nothing else."""
        if not self.settings.enabled:
            return DigestPlan(user=inp.user, active=False, reason="the weekly digest is switched off")
        user = self.directory.find(inp.user)
        if user is None:
            return DigestPlan(user=inp.user, active=False, reason="not in the directory")
        tz = zone(user.timezone)
        at, week = next_send(inp.now, tz, weekday=self.settings.weekday_number, at=self.settings.at,
                             skip_week=inp.last_week)
        return DigestPlan(user=inp.user, active=True, send_at=at, week=week, timezone=str(tz.key),
                          local=at.astimezone(tz).strftime("%a %-d %b %H:%M %Z"))

    @activity.defn(name=COMPOSE)
    async def compose(self, inp: ComposeInput) -> Digest:
        """The digest's text from workflow state, or none when the person opted out (read now)."""
        user = self.directory.find(inp.user)
        if user is None:
            return Digest(user=inp.user, week=inp.week, skipped="not in the directory")
        user = replace(user, timezone=zone(user.timezone).key)  # times on a clock this machine knows
        if not await asyncio.to_thread(self.preferences.enabled, inp.user):
            return Digest(user=inp.user, week=inp.week, skipped="opted out")
        open_requests = await self.requests.list_for(inp.user, open_only=True, limit=LIST_LIMIT)
        waiting = await self.requests.pending_for(inp.user, limit=LIST_LIMIT)
        recent = await self.requests.list_for(inp.user, limit=LIST_LIMIT)
        # Visibility stamps close times with the server's clock, like `since` and `until`.
        finished = [r for r in recent if not r.state.is_open and r.closed_at is not None
                    and inp.since <= r.closed_at <= inp.until + timedelta(minutes=1)]
        text = digest_text(user, sent_at=inp.until, open_requests=open_requests, waiting=waiting, finished=finished)
        return Digest(user=inp.user, week=inp.week, text=text)
