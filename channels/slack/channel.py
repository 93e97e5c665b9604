"""The Slack side of the gateway: the bolt app, its Web API client and what its listeners share."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from assistant.directory import User
from assistant.settings import Settings
from channels.background import Background
from channels.conversation import TurnFn
from channels.conversation import turn as chat_turn
from channels.dedup import EventClaims
from channels.identity import ChannelIdentity
from channels.notify.copies import CardCopies
from channels.services import GatewayServices

log = logging.getLogger(__name__)



@dataclass(eq=False, repr=False)
class SlackChannel:
    settings: Settings
    services_of: Callable[[], GatewayServices]
    app: AsyncApp
    client: AsyncWebClient
    identity: ChannelIdentity
    claims: EventClaims
    copies: CardCopies
    background: Background = field(default_factory=lambda: Background("slack"))
    turn: TurnFn = chat_turn  # one turn through Rasa; tests of the Slack side alone may swap it

    @property
    def services(self) -> GatewayServices:
        return self.services_of()

    async def user_for(self, slack_user_id: str) -> User | None:
        """The directory user behind a Slack user id (directory ids, else their Slack e-mail)."""
        return await self.identity.resolve(slack_user_id, email=self._email_of)

    async def slack_id_for(self, user: User) -> str | None:
        """The Slack user id of a directory user (directory, learned link, else looked up by e-mail)."""
        known = await self.identity.external_id(user)
        if known:
            return known
        try:
            found = await self.client.users_lookupByEmail(email=user.email)
        except SlackApiError as exc:
            if exc.response.get("error") == "users_not_found":
                return None
            raise
        return (found.get("user") or {}).get("id")

    async def _email_of(self, slack_user_id: str) -> str | None:
        try:
            info = await self.client.users_info(user=slack_user_id)
        except SlackApiError as exc:
            log.warning("slack.users_info_failed user=%s error=%s", slack_user_id, exc.response.get("error"))
            return None
        user = info.get("user") or {}
        if user.get("is_bot") or user.get("deleted"):
            return None
        return (user.get("profile") or {}).get("email")

    async def close(self) -> None:
        await self.background.close()


def build_slack(settings: Settings, *, services_of: Callable[[], GatewayServices], engine: Engine,
                directory) -> SlackChannel:
    """The Slack app for `settings.slack` (no network until the first request or Socket Mode start)."""
    from channels.slack.listeners import register_all

    s = settings.slack
    client = AsyncWebClient(token=s.bot_token.get_secret_value() if s.bot_token else None,
                            base_url=s.api_url if s.api_url.endswith("/") else s.api_url + "/",
                            timeout=max(1, int(s.http_timeout_seconds)))
    app = AsyncApp(
        name="aios-assistant",
        client=client,
        signing_secret=s.signing_secret.get_secret_value() if s.signing_secret else "",
        process_before_response=False,  # ack first, work after (Slack's 3-second rule)
        request_verification_enabled=not s.socket_mode,
        url_verification_enabled=True,
    )
    slack = SlackChannel(
        settings=settings, services_of=services_of, app=app, client=client,
        identity=ChannelIdentity(directory, engine, channel="slack",
                                 cache_seconds=s.identity_cache_seconds),
        claims=EventClaims(engine, ttl_seconds=s.dedup_ttl_seconds),
        copies=CardCopies(engine),
    )
    register_all(app, slack)
    return slack
