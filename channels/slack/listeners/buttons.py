"""A click on one of Rasa's buttons: the message loses its buttons, the payload is the next turn."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.webhook.async_client import AsyncWebhookClient

from assistant.errors import BadRequest
from channels.conversation import button_payload
from channels.identity import not_enrolled_text
from channels.slack import blocks, replies
from channels.slack.blocks import RASA_BUTTON
from channels.slack.channel import SlackChannel
from channels.slack.replies import Where

log = logging.getLogger(__name__)


def register(app: AsyncApp, slack: SlackChannel) -> None:
    @app.action(re.compile(rf"^{RASA_BUTTON}_\d+$"))
    async def on_click(ack, body: dict[str, Any]) -> None:
        await ack()
        slack.background.spawn(handle(slack, body), name="button")


def where_of(body: dict[str, Any]) -> Where:
    container = body.get("container") or {}
    message = body.get("message") or {}
    return Where(channel=container.get("channel_id") or (body.get("channel") or {}).get("id", ""),
                 owner=body["user"]["id"], thread_ts=message.get("thread_ts"),
                 response_url=body.get("response_url") if container.get("is_ephemeral") else None)


async def handle(slack: SlackChannel, body: dict[str, Any]) -> None:
    action = body["actions"][0]
    clicker = body["user"]["id"]
    where = where_of(body)
    owner = str(action.get("block_id", "")).split(":")[1:2]
    if owner and owner[0] != clicker:
        await slack.client.chat_postEphemeral(channel=where.channel, user=clicker, thread_ts=where.thread_ts,
                                              text="These buttons belong to someone else's conversation.")
        return
    user = await slack.user_for(clicker)
    if user is None:
        await replies.say(slack, where, not_enrolled_text("Slack"))
        return
    services = slack.services
    try:
        payload = button_payload(services.settings, action.get("value", ""))
    except BadRequest as exc:
        log.warning("slack.bad_button_payload user=%s error=%s", user.id, exc.message)
        return
    title = (action.get("text") or {}).get("text") or payload
    await _mark_chosen(slack, body, where, who=user.first_name, title=title)
    await replies.answer(slack, user, payload, where)


async def _mark_chosen(slack: SlackChannel, body: dict[str, Any], where: Where, *, who: str, title: str) -> None:
    message = body.get("message") or {}
    kept = blocks.chosen(message.get("blocks") or [], who=who, title=title)
    text = message.get("text") or "The assistant replied"
    if where.response_url:
        webhook = AsyncWebhookClient(where.response_url, timeout=max(1, int(slack.settings.slack.http_timeout_seconds)))
        await webhook.send(replace_original=True, text=text, blocks=kept)
    elif message.get("ts"):
        await slack.client.chat_update(channel=where.channel, ts=message["ts"], text=text, blocks=kept)
