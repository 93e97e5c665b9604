"""@mentions in channels: answered privately in the person's DM, with a pointer in the thread.

An answer is made for one person: a knowledge answer filtered by their groups, their requests,
what waits for their approval. Posted in a channel it would be read by every member.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from channels.slack import replies
from channels.slack.channel import SlackChannel
from channels.slack.listeners import messages
from channels.slack.listeners.dedup import event_key
from channels.slack.replies import Where


def register(app: AsyncApp, slack: SlackChannel) -> None:
    @app.event("app_mention")
    async def on_mention(body: dict[str, Any], event: dict[str, Any], context) -> None:
        if event.get("bot_id") or not event.get("user"):
            return
        slack.background.spawn(_answer_privately(slack, event, key=event_key(body),
                                                 bot_user_id=context.bot_user_id), name="mention")


async def _answer_privately(slack: SlackChannel, event: dict[str, Any], *, key: str | None,
                            bot_user_id: str | None) -> None:
    # Posting to a user id lands in the app's DM with them (Slack opens it).
    private = {**event, "channel": event["user"], "thread_ts": None}
    await messages.handle(slack, private, key=key, bot_user_id=bot_user_id)
    thread = Where(channel=event["channel"], owner=event["user"],
                   thread_ts=event.get("thread_ts") or event.get("ts"))
    await replies.say(slack, thread, f"<@{event['user']}> I've answered you in a direct message.")
