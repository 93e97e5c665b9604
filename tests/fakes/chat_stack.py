"""Slack and Teams wired into the session's real stack: a fake Slack workspace, a fake Bot Connector and
a local JWKS, all on loopback, so end-to-end tests drive the real gateway, Rasa, actions and Temporal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx

from assistant.settings import Settings
from assistant.settings.slack import SlackSettings
from assistant.settings.teams import TeamsSettings
from tests.fakes.bot_connector import FakeConnector
from tests.fakes.bot_identity import APP_ID, ISSUER, TENANT, BotIdentity, LocalTokenProvider
from tests.fakes.server import serve
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack, SlackUser
from tests.fakes.slack_driver import SIGNING_SECRET, SlackDriver
from tests.fakes.teams_driver import TeamsDriver

SLACK_IDS = {"alice": "U0AL1CE01", "bob": "U0B0B0002", "carol": "U0CAR0L03", "dave": "U0DAVE004",
             "erin": "U0ER1N005", "frank": "U0FRANK06"}
AAD_IDS = {"alice": "8f1a9c2e-1b1d-4d6e-9a0a-0000000a11ce", "bob": "8f1a9c2e-1b1d-4d6e-9a0a-000000000b0b",
           "carol": "8f1a9c2e-1b1d-4d6e-9a0a-00000000ca01", "dave": "8f1a9c2e-1b1d-4d6e-9a0a-00000000da7e",
           "erin": "8f1a9c2e-1b1d-4d6e-9a0a-00000000e419", "frank": "8f1a9c2e-1b1d-4d6e-9a0a-00000000f4a2"}


@dataclass
class ChatFakes:
    slack: FakeSlack
    connector: FakeConnector
    identity: BotIdentity
    tokens: LocalTokenProvider
    jwks_url: str
    app: object | None = None  # the stack's gateway app, once attached

    def configure(self, settings: Settings) -> None:
        """Point the gateway's Slack and Teams settings at the fakes (before `create_app`)."""
        settings.core.allow_exposed_dev = True  # the fakes run on loopback, in dev mode
        settings.slack = SlackSettings(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET,
                                       api_url=f"{self.slack.url}/api/", http_timeout_seconds=10)
        settings.teams = TeamsSettings(app_id=APP_ID, tenant_id=TENANT, issuers=ISSUER, jwks_url=self.jwks_url,
                                       service_url=self.connector.service_url, http_timeout_seconds=10)

    def attach(self, app) -> None:
        """The bot's outbound Teams token comes from the local signing key instead of Entra ID."""
        app.state.teams.use_tokens(self.tokens)
        self.app = app

    def slack_driver(self, http: httpx.AsyncClient) -> SlackDriver:
        return SlackDriver(http, self.slack)

    def teams_driver(self, http: httpx.AsyncClient) -> TeamsDriver:
        return TeamsDriver(http, self.identity, self.connector)


@asynccontextmanager
async def chat_fakes() -> AsyncIterator[ChatFakes]:
    slack = FakeSlack()
    for uid, sid in SLACK_IDS.items():
        slack.users[sid] = SlackUser(sid, f"{uid}@example.com", uid)
    identity = BotIdentity()
    tokens = LocalTokenProvider(identity)
    connector = FakeConnector(tokens=tokens)
    async with AsyncExitStack() as stack:
        slack.url = await stack.enter_async_context(serve(slack.app()))
        connector.url = await stack.enter_async_context(serve(connector.app()))
        jwks = await stack.enter_async_context(serve(identity.app()))
        yield ChatFakes(slack=slack, connector=connector, identity=identity, tokens=tokens,
                        jwks_url=f"{jwks}/v1/.well-known/keys")
