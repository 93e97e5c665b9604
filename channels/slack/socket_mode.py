"""Socket Mode: events over a WebSocket the gateway opens to Slack (no public URL needed)."""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from channels.slack.channel import SlackChannel

log = logging.getLogger(__name__)


class SocketMode:
    def __init__(self, slack: SlackChannel) -> None:
        token = slack.settings.slack.app_token
        self.handler = AsyncSocketModeHandler(slack.app, token.get_secret_value() if token else None,
                                              web_client=slack.client)

    async def start(self) -> None:
        await self.handler.connect_async()
        log.info("slack.socket_mode_connected")

    async def stop(self) -> None:
        await self.handler.close_async()
