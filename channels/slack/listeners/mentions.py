"""@mentions in channels: answered in a thread under the message, so the channel stays readable."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from channels.slack.listeners import messages
from channels.slack.listeners.dedup import event_key
from channels.slack.runtime import SlackChannel


def register(app: AsyncApp, slack: SlackChannel) -> None:
    @app.event("app_mention")
    async def on_mention(body: dict[str, Any], event: dict[str, Any], context) -> None:
        if event.get("bot_id") or not event.get("user"):
            return
        threaded = {**event, "thread_ts": event.get("thread_ts") or event.get("ts")}
        slack.background.spawn(messages.handle(slack, threaded, key=event_key(body), bot_user_id=context.bot_user_id),
                               name="mention")
