"""Slack and Teams inside the gateway: built from settings, their routes, notifiers and lifecycle."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import APIRouter
from sqlalchemy import Engine

from assistant.directory import Directory
from assistant.settings import Settings
from channels.notify.base import Notifier
from channels.services import GatewayServices

if TYPE_CHECKING:  # imported at run time only when configured
    from channels.slack.channel import SlackChannel
    from channels.slack.socket_mode import SocketMode
    from channels.teams.channel import TeamsChannel

log = logging.getLogger(__name__)


@dataclass
class ChatApps:
    slack: SlackChannel | None = None
    teams: TeamsChannel | None = None
    notifiers: list[Notifier] = field(default_factory=list)
    _socket: SocketMode | None = None

    @classmethod
    def build(cls, settings: Settings, *, services_of: Callable[[], GatewayServices], engine: Engine,
              directory: Directory) -> ChatApps:
        """Slack when its credentials are set, Teams when its app id is (or it is enabled in dev mode)."""
        settings.slack.check()
        settings.teams.check(settings.core.mode)
        apps = cls()
        if not settings.slack.enabled and not settings.teams.active:
            return apps
        if settings.slack.enabled:
            from channels.slack.channel import build_slack
            from channels.slack.notifier import SlackNotifier

            apps.slack = build_slack(settings, services_of=services_of, engine=engine, directory=directory)
            apps.notifiers.append(SlackNotifier(apps.slack))
        if settings.teams.active:
            from channels.teams.channel import build_teams
            from channels.teams.notifier import TeamsNotifier

            if settings.teams.anonymous:
                log.warning("teams.anonymous: TEAMS_APP_ID is not set, so /api/messages accepts unauthenticated "
                            "activities (Bot Framework Emulator; dev mode only)")
            apps.teams = build_teams(settings, services_of=services_of, engine=engine, directory=directory)
            apps.notifiers.append(TeamsNotifier(apps.teams))
        return apps

    @property
    def routers(self) -> list[APIRouter]:
        from channels.slack.routes import router as slack_router
        from channels.teams.routes import router as teams_router

        return [slack_router, teams_router]

    async def start(self) -> None:
        if self.slack is not None and self.slack.settings.slack.socket_mode:
            from channels.slack.socket_mode import SocketMode

            self._socket = SocketMode(self.slack)
            await self._socket.start()

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.stop()
            self._socket = None
        for channel in (self.slack, self.teams):
            if channel is not None:
                await channel.close()
