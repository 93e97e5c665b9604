"""The real gateway with Teams configured: a local JWKS (our own signing key) and a fake Bot Connector.

`turn()` (the Rasa part) is scripted here, where Rasa is not under test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from assistant.settings import Settings
from assistant.settings.teams import TeamsSettings
from channels.app import create_app
from channels.services import GatewayServices
from tests.channels.slack.conftest import ScriptedTurn
from tests.fakes.bot_connector import FakeConnector
from tests.fakes.bot_identity import APP_ID, ISSUER, TENANT, BotIdentity, LocalTokenProvider
from tests.fakes.server import serve
from tests.fakes.teams_driver import TeamsDriver
from tests.workflows.conftest import rig_settings

AAD = {"alice": "8f1a9c2e-1b1d-4d6e-9a0a-0000000a11ce", "bob": "8f1a9c2e-1b1d-4d6e-9a0a-000000000b0b",
       "carol": "8f1a9c2e-1b1d-4d6e-9a0a-00000000ca01", "dave": "8f1a9c2e-1b1d-4d6e-9a0a-00000000da7e"}
STRANGER = "0bad0bad-0000-4000-8000-00000000beef"


def teams_settings(jwks_url: str, **kw) -> TeamsSettings:
    return TeamsSettings(**{"app_id": APP_ID, "tenant_id": TENANT, "issuers": ISSUER, "jwks_url": jwks_url,
                            "http_timeout_seconds": 5, **kw})


@dataclass
class TeamsRig:
    settings: Settings
    identity: BotIdentity
    connector: FakeConnector
    driver: TeamsDriver
    app: object
    turn: ScriptedTurn
    tokens: LocalTokenProvider

    @property
    def teams(self):
        return self.app.state.teams

    async def settle(self, timeout: float = 20.0) -> None:
        await self.teams.background.drain(timeout)


@asynccontextmanager
async def teams_gateway(var_dir: Path, *, settings: Settings | None = None, temporal=None,
                        **teams_kw) -> AsyncIterator[TeamsRig]:
    identity = BotIdentity()
    tokens = LocalTokenProvider(identity)
    connector = FakeConnector(tokens=tokens)
    async with serve(identity.app()) as jwks_url, serve(connector.app()) as connector_url:
        connector.url = connector_url
        settings = settings or rig_settings(var_dir)
        settings.teams = teams_settings(f"{jwks_url}/v1/.well-known/keys", **teams_kw)
        settings.core.allow_exposed_dev = True  # the channel's fake runs on loopback
        services = GatewayServices.build(settings, temporal=temporal)
        app = create_app(settings, services=services)
        app.state.teams.use_tokens(tokens)
        turn = ScriptedTurn()
        app.state.teams.turn = turn
        try:
            async with serve(app, port=settings.gateway.port, lifespan="on") as url, \
                    httpx.AsyncClient(base_url=url, timeout=30) as http:
                yield TeamsRig(settings=settings, identity=identity, connector=connector,
                               driver=TeamsDriver(http, identity, connector), app=app, turn=turn, tokens=tokens)
                await app.state.teams.background.drain(30)
        finally:
            await services.close()


@pytest.fixture
async def teams_rig(tmp_path) -> AsyncIterator[TeamsRig]:
    async with teams_gateway(tmp_path) as r:
        yield r
