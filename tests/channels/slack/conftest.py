"""The real gateway with Slack configured against a fake Slack Web API on loopback.

`turn()` (the Rasa part) is replaced by a scripted fake here, where Rasa is not under test; the
end-to-end tests (tests/e2e/test_cross_channel*.py and test_real_stack.py) use the real stack.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from assistant.directory import User
from assistant.settings import Settings
from assistant.settings.slack import SlackSettings
from channels.app import create_app
from channels.rendering import Message
from channels.services import GatewayServices
from tests.fakes.server import serve
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack, SlackUser
from tests.fakes.slack_driver import SIGNING_SECRET, SlackDriver
from tests.workflows.conftest import rig_settings

DIRECTORY_SLACK = {"alice": "U0AL1CE01", "bob": "U0B0B0002", "carol": "U0CAR0L03", "dave": "U0DAVE004",
                   "erin": "U0ER1N005", "frank": "U0FRANK06"}
ALICE, BOB, CAROL, ERIN = (DIRECTORY_SLACK[u] for u in ("alice", "bob", "carol", "erin"))
STRANGER = "U0STRANGER"


def slack_settings(api_url: str, **kw) -> SlackSettings:
    return SlackSettings(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=f"{api_url}/api/",
                         http_timeout_seconds=5, **kw)


def fake_workspace() -> FakeSlack:
    fake = FakeSlack()
    for uid, sid in DIRECTORY_SLACK.items():
        fake.users[sid] = SlackUser(sid, f"{uid}@example.com", uid)
    fake.users[STRANGER] = SlackUser(STRANGER, "mallory@elsewhere.example", "mallory")
    return fake


@dataclass
class ScriptedTurn:
    """Stands in for `channels.api.chat.turn`: records each turn, answers from a script."""

    replies: Callable[[str], list[Message]] = lambda text: [Message(text=f"echo: {text}")]
    delay: float = 0.0
    seen: list[tuple[str, str, str]] = field(default_factory=list)  # (user, text, channel)

    async def __call__(self, services, user: User, text: str, *, channel: str) -> list[Message]:
        self.seen.append((user.id, text, channel))
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.replies(text)


@dataclass
class SlackRig:
    settings: Settings
    fake: FakeSlack
    driver: SlackDriver
    app: object
    turn: ScriptedTurn
    url: str

    @property
    def slack(self):
        return self.app.state.slack

    async def settle(self, timeout: float = 20.0) -> None:
        """Wait until everything the gateway started after its acks has finished."""
        await self.slack.background.drain(timeout)


@asynccontextmanager
async def slack_gateway(var_dir: Path, *, settings: Settings | None = None, temporal=None,
                        fake: FakeSlack | None = None, **slack_kw) -> AsyncIterator[SlackRig]:
    fake = fake or fake_workspace()
    async with serve(fake.app()) as fake_url:
        fake.url = fake_url
        settings = settings or rig_settings(var_dir)
        settings.slack = slack_settings(fake_url, **slack_kw)
        settings.core.allow_exposed_dev = True  # the channel's fake runs on loopback
        services = GatewayServices.build(settings, temporal=temporal)
        app = create_app(settings, services=services)
        turn = ScriptedTurn()
        app.state.slack.turn = turn
        try:
            async with serve(app, port=settings.gateway.port, lifespan="on") as url, httpx.AsyncClient(base_url=url,
                                                                                        timeout=30) as http:
                yield SlackRig(settings=settings, fake=fake, driver=SlackDriver(http, fake), app=app, turn=turn,
                               url=url)
                await app.state.slack.background.drain(30)
        finally:
            await services.close()


@pytest.fixture
async def slack_rig(tmp_path) -> AsyncIterator[SlackRig]:
    async with slack_gateway(tmp_path) as r:
        yield r
