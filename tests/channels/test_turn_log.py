"""Every chat turn is written to the turn log once, whichever channel it came from, with its outcome and
never its text (channels/turns.py). The turns that reach Rasa, with their intent, are checked on the
real stack in tests/e2e/test_turn_log.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.local_stack import make_settings
from assistant.errors import RateLimited, ServiceUnavailable
from assistant.settings import GatewaySettings
from channels.conversation import converse, turn
from channels.services import GatewayServices
from channels.turns import chat_turns

SECRET_TEXT = "my badge number is 4711"


@pytest.fixture
async def services(tmp_path):
    settings = make_settings(tmp_path)  # nothing listens on the action server's port: turns fail
    services = GatewayServices.build(settings)
    yield services
    await services.close()


def logged(services: GatewayServices) -> list[dict]:
    with services.engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(chat_turns).order_by(chat_turns.c.id)).mappings()]


async def test_a_failed_web_turn_is_logged_as_an_error_without_its_text(services):
    alice = services.directory.get("alice")
    with pytest.raises(ServiceUnavailable):
        await turn(services, alice, SECRET_TEXT, channel="web")
    [row] = logged(services)
    assert (row["user_id"], row["channel"], row["outcome"], row["intent"]) == ("alice", "web", "error", None)
    assert 0 <= row["seconds"] < 30 and row["created_at"] > 0
    assert not any(SECRET_TEXT in str(value) for value in row.values())


async def test_a_chat_app_turn_is_logged_once_and_the_person_still_hears_back(services):
    bob = services.directory.get("bob")
    messages = await converse(turn, services, bob, "hello", channel="slack", slow_after=10)
    assert "restarting" in messages[0].text
    assert [(r["user_id"], r["channel"], r["outcome"]) for r in logged(services)] == [("bob", "slack", "error")]


async def test_a_message_refused_by_the_per_person_limit_is_not_a_turn(tmp_path):
    settings = make_settings(tmp_path)
    settings.gateway = GatewaySettings(port=settings.gateway.port, turns_per_minute=1)
    services = GatewayServices.build(settings)
    try:
        carol = services.directory.get("carol")
        with pytest.raises(ServiceUnavailable):
            await turn(services, carol, "one", channel="teams")
        with pytest.raises(RateLimited):
            await turn(services, carol, "two", channel="teams")
        assert [r["outcome"] for r in logged(services)] == ["error"]
    finally:
        await services.close()
