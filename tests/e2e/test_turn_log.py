"""The turn log on the real stack: a web turn and a Slack turn each leave one row, with the intent the
real Rasa read (from its reply header) and the outcome, and without the message's text."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import select

from assistant.db import make_engine
from channels.turns import chat_turns
from tests.fakes.chat_conversations import SlackConversation


async def test_web_and_slack_turns_are_logged_with_the_intent_rasa_read(stack, chat):
    await stack.reset_conversation("dave")
    since = time.time()
    async with stack.client("dave") as dave:
        assert (await dave.post("/api/chat", json={"message": "hello there"})).status_code == 200
    async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http:
        await SlackConversation(chat, chat.app, chat.slack_driver(http), "dave").say("hello there")
    engine = make_engine(stack.settings.core.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(chat_turns).where(chat_turns.c.user_id == "dave",
                                                         chat_turns.c.created_at >= since - 1)
                                .order_by(chat_turns.c.id)).mappings().all()
    finally:
        engine.dispose()
    assert [(r["channel"], r["intent"], r["outcome"]) for r in rows] == [("web", "greet", "ok"),
                                                                        ("slack", "greet", "ok")], rows
    assert all(0 < r["confidence"] <= 1 and r["seconds"] > 0 for r in rows), rows
    assert not any("hello" in str(v) for r in rows for v in r.values())
