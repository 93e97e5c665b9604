"""The Teams notifier: approval cards and messages in the person's personal chat; every card copy updated."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import ClientResponseError
from microsoft_agents.activity import Activity, ActivityTypes

from assistant.directory import User
from channels.rendering import Message
from channels.teams import cards, proactive
from channels.teams.channel import TeamsChannel
from workflows.notify.models import Notification

log = logging.getLogger(__name__)


class TeamsNotifier:
    channel = "teams"

    def __init__(self, teams: TeamsChannel) -> None:
        self.teams = teams

    async def deliver(self, notification: Notification, user: User) -> None:
        if notification.kind == "card_update":
            await self._update_copies(notification, user)
            return
        reference = await proactive.reference_for(self.teams, user)  # Undeliverable: the dispatcher falls back
        if notification.kind == "card" and notification.card is not None:
            card = notification.card
            activity = Activity(type=ActivityTypes.message, summary=f"Approval needed: {card.title}"[:200],
                                attachments=[cards.attachment(cards.approval_card(
                                    card, teams_user_id=reference.user.id if reference.user else None))])
            activity_id = await proactive.send(self.teams, reference, activity)
            if activity_id:
                await asyncio.to_thread(
                    self.teams.copies.add, card.approval_id, user.id, self.channel,
                    f"{reference.conversation.id}:{activity_id}",
                    {"reference": reference.model_dump(mode="json", by_alias=True, exclude_none=True),
                     "activity_id": activity_id})
            log.info("teams.card_posted approval=%s user=%s", card.approval_id, user.id)
            return
        for activity in cards.reply_activities([Message(text=notification.text)]):
            await proactive.send(self.teams, reference, activity)

    async def _update_copies(self, notification: Notification, user: User) -> None:
        card = notification.card
        if card is None or notification.approval_id is None:
            return
        copies = await asyncio.to_thread(self.teams.copies.find, notification.approval_id, channel=self.channel,
                                         recipient=user.id)
        for copy in copies:
            reference = proactive.reference_of(copy.ref["reference"])
            activity = Activity(type=ActivityTypes.message, attachments=[cards.attachment(cards.approval_card(
                card, teams_user_id=reference.user.id if reference.user else None))])
            try:
                await proactive.update(self.teams, reference, copy.ref["activity_id"], activity)
            except ClientResponseError as exc:
                if exc.status not in (403, 404):  # the message or the chat is gone: nothing left to redraw
                    raise
                log.info("teams.card_copy_gone approval=%s user=%s status=%s", card.approval_id, user.id,
                         exc.status)
        if copies:
            log.info("teams.card_updated approval=%s user=%s copies=%d status=%s", card.approval_id, user.id,
                     len(copies), card.status.value)
