"""Events API retries (same `event_id`) are acknowledged and dropped, even while the first still runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from channels import metrics
from channels.slack.channel import SlackChannel

log = logging.getLogger(__name__)


def event_key(body: dict[str, Any]) -> str | None:
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"slack:{body.get('team_id', '')}:{body['event_id']}"
    return None


def register(app: AsyncApp, slack: SlackChannel) -> None:
    @app.middleware
    async def drop_redeliveries(req: AsyncBoltRequest, body: dict[str, Any],
                                next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        key = event_key(body)
        if key is not None and not await asyncio.to_thread(slack.claims.claim, key):
            retry = (req.headers.get("x-slack-retry-num") or ["-"])[0]
            log.info("slack.event.duplicate event_id=%s retry=%s", body.get("event_id"), retry)
            metrics.CHANNEL_DUPLICATES.labels(channel="slack").inc()
            return BoltResponse(status=200, body="")
        return await next()
