"""A component down means a readable 503, and nothing is lost once it is back."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conversation import Conversation, request_id_in, working_day_after


@pytest.mark.timeout(900)
async def test_form_survives_action_server_and_rasa_restarts(stack):
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    start = working_day_after(today, 70)
    await stack.reset_conversation("alice")
    async with stack.client("alice") as http:
        convo = Conversation(http)
        asked = await convo.say(f"I need time off starting {start:%b %-d}")
        assert "until which day" in asked.text.lower(), convo.transcript()

        await stack.stop("actions")
        r = await http.post("/api/chat", json={"message": "just that day"})
        assert r.status_code == 503
        assert "try again" in r.json()["error"]["message"].lower()
        health = await http.get("/healthz")
        assert health.status_code == 503 and not health.json()["components"]["actions"]["ok"]
        await stack.start("actions")

        await stack.stop("rasa")
        r = await http.post("/api/chat", json={"message": "just that day"})
        assert r.status_code == 503
        await stack.start("rasa")
        assert (await http.get("/healthz")).status_code == 200

        # The conversation picks up where it was: the form still waits for the end date.
        await convo.click("Just")
        assert "what kind of leave" in convo.turns[-1].text.lower(), convo.transcript()
        await convo.click("Vacation")
        await convo.say("no")
        done = await convo.click("Yes")
        assert request_id_in(done.text), convo.transcript()
