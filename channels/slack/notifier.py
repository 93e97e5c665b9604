"""The Slack notifier: approval cards and messages as DMs from the assistant; every card copy updated."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError

from assistant.directory import User
from channels.notify.base import Undeliverable
from channels.rendering import Message
from channels.slack import blocks, cards, home
from channels.slack.channel import SlackChannel
from workflows.notify.models import Notification

log = logging.getLogger(__name__)

# Errors no retry can fix: the person or the message is gone from Slack.
UNREACHABLE = {"channel_not_found", "user_not_found", "account_inactive", "user_disabled", "not_in_channel",
               "cannot_dm_bot", "is_archived"}
GONE = {"message_not_found", "cant_update_message", "channel_not_found", "is_archived"}


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", ""))


class SlackNotifier:
    channel = "slack"

    def __init__(self, slack: SlackChannel) -> None:
        self.slack = slack

    async def deliver(self, notification: Notification, user: User) -> None:
        if notification.kind == "card_update":
            await self._update_copies(notification, user)
            return
        slack_id = await self.slack.slack_id_for(user)
        if not slack_id:
            raise Undeliverable(f"{user.id} has no Slack account linked")
        try:
            await self._post(notification, user, slack_id)
        except SlackApiError as exc:
            if _error(exc) in UNREACHABLE:
                raise Undeliverable(f"Slack cannot reach {user.id}: {_error(exc)}") from exc
            raise

    async def _post(self, notification: Notification, user: User, slack_id: str) -> None:
        client = self.slack.client
        if notification.kind == "card" and notification.card is not None:
            card = notification.card
            sent = await client.chat_postMessage(channel=slack_id, unfurl_links=False, unfurl_media=False,
                                                 **cards.card_post(card).kwargs())
            channel, ts = sent["channel"], sent["ts"]
            await asyncio.to_thread(self.slack.copies.add, card.approval_id, user.id, self.channel,
                                    f"{channel}:{ts}", {"channel": channel, "ts": ts})
            log.info("slack.card_posted approval=%s user=%s", card.approval_id, user.id)
            await self._refresh_home(slack_id, user)
            return
        for post in blocks.render([Message(text=notification.text)], owner=slack_id):
            await client.chat_postMessage(channel=slack_id, unfurl_links=False, unfurl_media=False, **post.kwargs())

    async def _update_copies(self, notification: Notification, user: User) -> None:
        card = notification.card
        if card is None or notification.approval_id is None:
            return
        copies = await asyncio.to_thread(self.slack.copies.find, notification.approval_id, channel=self.channel,
                                         recipient=user.id)
        post = cards.card_post(card)
        for copy in copies:
            try:
                await self.slack.client.chat_update(channel=copy.ref["channel"], ts=copy.ref["ts"], **post.kwargs())
            except SlackApiError as exc:
                if _error(exc) not in GONE:
                    raise
                log.info("slack.card_copy_gone approval=%s user=%s error=%s", card.approval_id, user.id, _error(exc))
        if copies:
            log.info("slack.card_updated approval=%s user=%s copies=%d status=%s", card.approval_id, user.id,
                     len(copies), card.status.value)
            slack_id = await self.slack.identity.external_id(user)
            if slack_id:
                await self._refresh_home(slack_id, user)

    async def _refresh_home(self, slack_id: str, user: User) -> None:
        """In the background: the card itself went out; the home tab is a convenience."""
        self.slack.background.spawn(self._publish_home(slack_id, user), name="home-refresh")

    async def _publish_home(self, slack_id: str, user: User) -> None:
        try:
            await home.publish(self.slack, slack_id, user)
        except Exception:
            log.warning("slack.home_refresh_failed user=%s", user.id, exc_info=True)
