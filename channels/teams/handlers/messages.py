"""Messages in a personal chat, or @mentions in a channel or group chat (the mention is removed; the
answer goes to the personal chat, the thread gets a pointer).

A click on one of Rasa's buttons (Action.Submit) arrives as a message with a value and no text.
"""

from __future__ import annotations

import logging

from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from assistant.errors import BadRequest
from channels.conversation import button_payload, clean_message
from channels.identity import not_enrolled_text
from channels.teams import cards, replies
from channels.teams.channel import TeamsChannel
from channels.teams.handlers.common import sender

log = logging.getLogger(__name__)


def register(agent: AgentApplication, teams: TeamsChannel) -> None:
    @agent.activity(ActivityTypes.message)
    async def on_message(context: TurnContext, state: TurnState) -> None:
        value = context.activity.value
        if isinstance(value, dict) and value.get("aios") == cards.BUTTON:
            await on_button(teams, context, value)
        elif context.activity.text is not None:
            await on_text(teams, context)


async def on_text(teams: TeamsChannel, context: TurnContext) -> None:
    user = await sender(teams, context)
    if user is None:
        await replies.say(context, not_enrolled_text("Teams"))
        return
    try:
        text = clean_message(context.activity.text or "", limit=teams.settings.gateway.max_message_chars)
    except BadRequest as exc:
        if exc.code != "empty_message":
            await replies.say(context, exc.message)
            return
        text = "help"
    await replies.answer(teams, context, user, text)


async def on_button(teams: TeamsChannel, context: TurnContext, value: dict) -> None:
    user = await sender(teams, context)
    if user is None:
        await replies.say(context, not_enrolled_text("Teams"))
        return
    try:
        payload = button_payload(teams.settings, str(value.get("payload", "")))
    except BadRequest as exc:
        log.warning("teams.bad_button_payload user=%s error=%s", user.id, exc.message)
        return
    card = teams.sent.pop(context.activity.reply_to_id)
    if card is not None:
        updated = Activity(type=ActivityTypes.message, id=context.activity.reply_to_id,
                           attachments=[cards.attachment(cards.chosen_card(
                               card, who=user.first_name, title=str(value.get("title") or payload)))])
        await context.update_activity(updated)
    await replies.answer(teams, context, user, payload)
