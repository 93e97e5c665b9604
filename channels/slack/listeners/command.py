"""`/aios <text>`: one turn, answered privately (ephemeral) where the command was typed."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from assistant.errors import BadRequest
from channels.conversation import clean_message
from channels.identity import not_enrolled_text
from channels.slack import replies
from channels.slack.channel import SlackChannel
from channels.slack.replies import Where

HELP = ("Ask me anything about company policies, or tell me what you need: time off, access to a system, "
        "an expense, an IT problem. For example: `{command} how many vacation days do I get?`")


def register(app: AsyncApp, slack: SlackChannel) -> None:
    @app.command(slack.settings.slack.command)
    async def on_command(ack, command: dict[str, Any]) -> None:
        await ack()
        slack.background.spawn(handle(slack, command), name="command")


async def handle(slack: SlackChannel, command: dict[str, Any]) -> None:
    where = Where(channel=command.get("channel_id", ""), owner=command.get("user_id", ""),
                  response_url=command.get("response_url"))
    user = await slack.user_for(command.get("user_id", ""))
    if user is None:
        await replies.say(slack, where, not_enrolled_text("Slack"))
        return
    try:
        text = clean_message(command.get("text") or "", limit=slack.settings.gateway.max_message_chars)
    except BadRequest as exc:
        await replies.say(slack, where, HELP.format(command=slack.settings.slack.command)
                          if exc.code == "empty_message" else exc.message)
        return
    await replies.answer(slack, user, text, where)
