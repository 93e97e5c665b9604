"""Answer a Teams user: one turn through Rasa, rendered as Adaptive Cards, sent in their conversation."""

from __future__ import annotations

import asyncio
import logging
import time

from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import TurnContext

from assistant.directory import User
from assistant.errors import AssistantError
from channels import metrics
from channels.rendering import Message
from channels.teams import cards
from channels.teams.runtime import TeamsChannel

log = logging.getLogger(__name__)

FAILED = "Sorry, something went wrong on my side and your message was not processed. Please try again."


async def say(context: TurnContext, text: str) -> None:
    for activity in cards.reply_activities([Message(text=text)]):
        await context.send_activity(activity)


async def answer(teams: TeamsChannel, context: TurnContext, user: User, text: str) -> None:
    """`text` (typed, or a button payload) through Rasa for `user`; the replies sent in this conversation."""
    t0 = time.perf_counter()
    work = asyncio.create_task(teams.turn(teams.services, user, text, channel="teams"))
    done, _ = await asyncio.wait({work}, timeout=teams.settings.teams.progress_after_seconds)
    if not done:
        await context.send_activity(Activity(type=ActivityTypes.typing))
    outcome = "error"
    try:
        messages = await work
        outcome = "ok"
    except AssistantError as exc:
        log.warning("teams.turn_failed user=%s code=%s", user.id, exc.code)
        messages = [Message(text=exc.message)]
    except Exception:  # noqa: BLE001 - the person gets an answer whatever broke; the log has the trace
        log.exception("teams.turn_crashed user=%s", user.id)
        messages = [Message(text=FAILED)]
    finally:
        metrics.CHAT_TURNS.labels(channel="teams", outcome=outcome).inc()
        metrics.CHAT_LATENCY.labels(channel="teams").observe(time.perf_counter() - t0)
    for activity in cards.reply_activities(messages):
        sent = await context.send_activity(activity)
        card = activity.attachments[0].content if activity.attachments else None
        if isinstance(card, dict) and any(b.get("type") == "ActionSet" for b in card.get("body", [])):
            teams.sent.add(getattr(sent, "id", None), card)
