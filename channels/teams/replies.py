"""Answer a Teams user: one turn through Rasa, rendered as Adaptive Cards, sent in their personal chat."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import ClientResponseError
from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import TurnContext

from assistant.directory import User
from channels.conversation import converse
from channels.notify.base import Undeliverable
from channels.rendering import Message
from channels.teams import cards, proactive
from channels.teams.channel import TeamsChannel

log = logging.getLogger(__name__)


async def say(context: TurnContext, text: str) -> None:
    for activity in cards.reply_activities([Message(text=text)]):
        await context.send_activity(activity)


def shared(activity: Activity) -> bool:
    """A channel or group chat: what is said there is read by every member."""
    conversation = activity.conversation
    return conversation is not None and conversation.conversation_type not in (None, "personal")


async def answer(teams: TeamsChannel, context: TurnContext, user: User, text: str) -> None:
    """`text` (typed, or a button payload) through Rasa for `user`; the replies sent to them.

    An answer is made for one person (documents filtered by their groups, their requests, what
    waits for their approval), so in a channel or group chat it goes to their personal chat and the
    thread gets a pointer.
    """
    if not shared(context.activity):
        await _answer(teams, user, text, send=lambda activity: _in_turn(context, activity))
        return
    try:
        reference = await proactive.reference_for(teams, user, seen=context.activity)
    except (Undeliverable, ClientResponseError) as exc:
        log.warning("teams.no_personal_chat user=%s error=%s", user.id, exc)
        await say(context, f"{user.first_name}, I answer in a personal chat, and I could not open one with you. "
                           "Please message me directly.")
        return
    await _answer(teams, user, text, send=lambda activity: proactive.send(teams, reference, activity))
    await say(context, f"{user.first_name}, I've answered you in a personal chat.")


async def _in_turn(context: TurnContext, activity: Activity) -> str | None:
    sent = await context.send_activity(activity)
    return getattr(sent, "id", None)


async def _answer(teams: TeamsChannel, user: User, text: str,
                  send: Callable[[Activity], Awaitable[str | None]]) -> None:
    messages = await converse(teams.turn, teams.services, user, text, channel="teams",
                              slow_after=teams.settings.teams.progress_after_seconds,
                              on_slow=lambda: send(Activity(type=ActivityTypes.typing)))
    for activity in cards.reply_activities(messages):
        sent_id = await send(activity)
        card = activity.attachments[0].content if activity.attachments else None
        if isinstance(card, dict) and any(b.get("type") == "ActionSet" for b in card.get("body", [])):
            teams.sent.add(sent_id, card)
