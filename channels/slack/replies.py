"""Answer a Slack user: one turn through Rasa, rendered as Block Kit, posted where they asked.

A slow turn (a knowledge question: retrieval and the model) first gets a placeholder message that
is then updated with the answer, so the person sees at once that they were heard.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.webhook.async_client import AsyncWebhookClient

from assistant.directory import User
from channels.conversation import converse
from channels.rendering import Message
from channels.slack import blocks
from channels.slack.blocks import Post
from channels.slack.channel import SlackChannel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Where:
    """Where a reply goes: a conversation (and thread), or a response_url for ephemeral replies."""

    channel: str
    owner: str  # the Slack user the reply is for (their buttons)
    thread_ts: str | None = None
    response_url: str | None = None


async def post(slack: SlackChannel, where: Where, message: Post) -> str | None:
    """Post one message; its ts (None for ephemeral replies, which cannot be updated by ts)."""
    if where.response_url:
        webhook = AsyncWebhookClient(where.response_url, timeout=max(1, int(slack.settings.slack.http_timeout_seconds)))
        await webhook.send(response_type="ephemeral", replace_original=False, **message.kwargs())
        return None
    response = await slack.client.chat_postMessage(channel=where.channel, thread_ts=where.thread_ts,
                                                   unfurl_links=False, unfurl_media=False, **message.kwargs())
    return response.get("ts")


async def say(slack: SlackChannel, where: Where, text: str) -> str | None:
    posts = blocks.render([Message(text=text)], owner=where.owner)
    return await post(slack, where, posts[0])


async def answer(slack: SlackChannel, user: User, text: str, where: Where) -> None:
    """`text` (typed, or a button payload) through Rasa for `user`; the replies posted at `where`."""
    placeholder: str | None = None

    async def show_placeholder() -> None:
        nonlocal placeholder
        placeholder = await post(slack, where, blocks.placeholder())

    # An ephemeral reply (response_url) cannot be updated by ts: no placeholder there.
    messages = await converse(slack.turn, slack.services, user, text, channel="slack",
                              slow_after=slack.settings.slack.progress_after_seconds,
                              on_slow=None if where.response_url else show_placeholder)
    posts = blocks.render(messages, owner=where.owner)
    if placeholder is not None:
        if not posts:
            await slack.client.chat_delete(channel=where.channel, ts=placeholder)
            return
        first, *posts = posts
        await slack.client.chat_update(channel=where.channel, ts=placeholder, **first.kwargs())
    for message in posts:
        await post(slack, where, message)
