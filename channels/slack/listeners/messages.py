"""Direct messages to the assistant: a chat turn, answered in the DM (or in the thread written in)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from assistant.errors import BadRequest
from channels.conversation import clean_message
from channels.identity import not_enrolled_text
from channels.slack import replies
from channels.slack.channel import SlackChannel
from channels.slack.inbound import to_plain
from channels.slack.listeners import files
from channels.slack.listeners.dedup import event_key
from channels.slack.replies import Where

log = logging.getLogger(__name__)


def register(app: AsyncApp, slack: SlackChannel) -> None:
    @app.event("message")
    async def on_message(body: dict[str, Any], event: dict[str, Any], context) -> None:
        # Bolt has acknowledged already; edits, deletions and bot messages are ignored.
        subtype = event.get("subtype")
        if event.get("channel_type") != "im" or event.get("bot_id") or not event.get("user"):
            return
        if subtype == "file_share":
            slack.background.spawn(files.offer(slack, event, key=event_key(body)), name="file-offer")
        elif subtype is None:
            slack.background.spawn(handle(slack, event, key=event_key(body), bot_user_id=context.bot_user_id),
                                   name="dm")


async def handle(slack: SlackChannel, event: dict[str, Any], *, key: str | None, bot_user_id: str | None) -> None:
    """One DM (or a mention, see mentions.py): who wrote it, what they said, the assistant's answer."""
    where = Where(channel=event["channel"], owner=event["user"], thread_ts=event.get("thread_ts"))
    try:
        user = await slack.user_for(event["user"])
        if user is None:
            await replies.say(slack, where, not_enrolled_text("Slack"))
            return
        text = to_plain(event.get("text") or "", slack.services.directory, bot_user_id=bot_user_id)
        try:
            text = clean_message(text, limit=slack.settings.gateway.max_message_chars)
        except BadRequest as exc:
            if exc.code == "empty_message":
                text = "help"
            else:
                await replies.say(slack, where, exc.message)
                return
        await replies.answer(slack, user, text, where)
    except Exception:
        if key is not None:  # let Slack's retry redo it
            await _release(slack, key)
        raise


async def _release(slack: SlackChannel, key: str) -> None:
    try:
        await asyncio.to_thread(slack.claims.release, key)
    except Exception:
        log.exception("slack.release_failed key=%s", key)
