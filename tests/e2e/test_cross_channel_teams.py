"""Teams on the real stack, and one approval decided in Teams while its card sits in Slack."""

from __future__ import annotations

import json

import httpx

from tests.e2e.conversation import request_id_in
from tests.fakes.chat_conversations import TeamsConversation, slack_text
from tests.fakes.chat_stack import SLACK_IDS
from tests.fakes.server import eventually
from tests.fakes.slack_api import dm
from workflows.request_workflow import RequestWorkflow


async def pending_stage(http: httpx.AsyncClient, approval_id: str) -> dict:
    """The approver's card once the workflow has asked for it (the policy step runs first)."""

    async def found():
        return [c for c in (await http.get("/api/approvals")).json()["approvals"] if c["approval_id"] == approval_id]

    cards = await eventually(found, timeout=60)
    assert cards, f"{approval_id} never reached the approver"
    return cards[0]


async def test_a_teams_message_is_answered_by_the_assistant(stack, chat):
    await stack.reset_conversation("frank")
    async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http:
        frank = TeamsConversation(chat, chat.app, chat.teams_driver(http), "frank")
        await frank.say("hi")
        assert frank.replies and frank.text.strip()


async def test_a_card_in_slack_decided_in_teams_is_updated_in_both(stack, chat):
    """dave's stage-2 card goes to Slack (his preferred channel); he approves from Teams instead."""
    for user in ("alice", "dave"):
        await stack.reset_conversation(user)
    async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http, stack.client("alice") as alice_web, \
            stack.client("bob") as bob_web:
        await alice_web.post("/api/chat", json={"message": "I paid 1200 euros for a taxi to the airport yesterday"})
        r = await alice_web.post("/api/chat", json={"message": "taxi to CDG for the Lyon client visit"})
        yes = next(b["payload"] for m in r.json()["messages"] for b in m["buttons"]
                   if b["title"].lower().startswith("yes"))
        r = await alice_web.post("/api/chat", json={"payload": yes})
        request_id = request_id_in(" ".join(m["text"] for m in r.json()["messages"]))
        assert request_id, r.text
        await pending_stage(bob_web, f"{request_id}-1")
        assert (await bob_web.post(f"/api/approvals/{request_id}-1/decision",
                                   json={"decision": "approve"})).status_code == 200

        channel = dm(SLACK_IDS["dave"])

        def card_in_slack():
            return [ts for (ch, ts), m in chat.slack.messages.items()
                    if ch == channel and f"{request_id}-2" in json.dumps(m["blocks"])]

        [ts] = await eventually(card_in_slack, timeout=60)

        dave = TeamsConversation(chat, chat.app, chat.teams_driver(http), "dave")
        await dave.say("what is waiting for my approval?")
        assert request_id in dave.text, dave.text
        await dave.click(f"Approve {request_id}")
        assert "Approved" in dave.text, dave.text
        status = await stack.temporal.get_workflow_handle(request_id).query(RequestWorkflow.status)
        decision = status.approvals[-1].decisions[0]
        assert (decision.approver, decision.channel) == ("dave", "teams")

        # In Teams: the list's buttons are gone. In Slack: the card shows the outcome, without buttons.
        assert any("dave chose" in json.dumps(c.body).lower() or "Dave chose" in json.dumps(c.body)
                   for c in chat.connector.of("update"))

        def redrawn():
            m = chat.slack.message(channel, ts)
            return not any(b["type"] == "actions" for b in m["blocks"]) and "Approved" in slack_text(m)

        assert await eventually(redrawn, timeout=60), slack_text(chat.slack.message(channel, ts))
