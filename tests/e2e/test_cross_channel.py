"""One person, one identity, three channels: the issue's scenario on the real stack.

alice asks in Slack for Salesforce access, bob approves in Teams, carol approves in the web widget,
alice is told in Slack, and the audit log shows all three channels.
"""

from __future__ import annotations

import json

import httpx

from assistant.audit import AuditLog
from assistant.db import make_engine
from tests.e2e.conversation import request_id_in
from tests.fakes.chat_conversations import SlackConversation, TeamsConversation, slack_text
from tests.fakes.chat_stack import AAD_IDS, SLACK_IDS
from tests.fakes.server import eventually
from tests.fakes.slack_api import dm
from tests.fakes.teams_driver import personal_conversation
from workflows.models import RequestState
from workflows.request_workflow import RequestWorkflow


async def test_slack_request_teams_approval_web_approval_slack_outcome(stack, chat):
    for user in ("alice", "bob", "carol"):
        await stack.reset_conversation(user)
    app = chat.app
    async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http, stack.client("carol") as carol:
        slack, teams = chat.slack_driver(http), chat.teams_driver(http)
        await teams.install(AAD_IDS["bob"])  # bob has the assistant in Teams (his preferred channel)
        await app.state.teams.background.drain(60)

        alice = SlackConversation(chat, app, slack, "alice")
        await alice.say("please add me to salesforce")
        assert "Which access level on Salesforce" in alice.text, alice.text
        await alice.click("Write")
        assert "Why do you need it" in alice.text, alice.text
        await alice.say("to check customer contracts before renewals")
        assert "Shall I submit" in alice.text and "Salesforce" in alice.text, alice.text
        await alice.click("Yes, submit")
        request_id = request_id_in(alice.text)
        assert request_id, alice.text

        # bob's card arrives in Teams; he approves there (Action.Execute -> Temporal Update).
        conversation = personal_conversation(AAD_IDS["bob"])

        def bobs_card():
            return [(aid, body) for (cid, aid), body in chat.connector.activities.items()
                    if cid == conversation and f"{request_id}-1" in json.dumps(body)]

        [(activity_id, body)] = await eventually(bobs_card, timeout=60)
        card = body["attachments"][0]["content"]
        r = await teams.execute(AAD_IDS["bob"], "approval.approve", card["actions"][0]["data"], reply_to=activity_id)
        assert r.status_code == 200 and "Approved" in json.dumps(r.json()["value"]), r.text

        # carol (web widget) sees stage 2 and approves it there.
        async def carols():
            pending = (await carol.get("/api/approvals")).json()["approvals"]
            return [c for c in pending if c["approval_id"] == f"{request_id}-2"]

        [stage2] = await eventually(carols, timeout=60)
        r = await carol.post(f"/api/approvals/{request_id}-2/decision",
                             json={"decision": "approve", "params_hash": stage2["params_hash"]})
        assert r.status_code == 200, r.text

        # alice is told in Slack that it is done.
        def told():
            return [m for (ch, _), m in chat.slack.messages.items() if ch == dm(SLACK_IDS["alice"])
                    and slack_text(m).startswith(f"{request_id} (") and "): Done:" in slack_text(m)]

        messages = await eventually(told, timeout=60)
        assert messages, [slack_text(m) for m in chat.slack.messages.values()]
        status = await stack.temporal.get_workflow_handle(request_id).query(RequestWorkflow.status)
        assert status.state is RequestState.COMPLETED, (status, [slack_text(m) for m in messages])
        assert status.channel == "slack"

        # bob's card in Teams was redrawn by the workflow's card update as well.
        assert await eventually(lambda: [c for c in chat.connector.of("update") if c.activity_id == activity_id],
                                timeout=30)

        # The audit log: filed in Slack, decided in Teams and in the web widget.
        audit = AuditLog(make_engine(stack.settings.core.database_url))
        records = await eventually(lambda: [r for r in audit.records(request_id=request_id)
                                            if r.event == "approval.decided"] and list(
            audit.records(request_id=request_id)), timeout=30)
        channels = {r.event: set() for r in records}
        for r in records:
            channels[r.event].add(r.channel)
        assert "slack" in channels["request.submitted"]
        decided = [(r.actor, r.channel) for r in records if r.event == "approval.decided"]
        assert ("bob", "teams") in decided and ("carol", "web") in decided
        assert {"slack", "teams", "web"} <= {r.channel for r in records}


async def test_a_conversation_started_in_slack_continues_in_teams(stack, chat):
    """Rasa's conversation is keyed by the directory user: the form started in Slack goes on in Teams."""
    await stack.reset_conversation("alice")
    app = chat.app
    async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http:
        in_slack = SlackConversation(chat, app, chat.slack_driver(http), "alice")
        in_teams = TeamsConversation(chat, app, chat.teams_driver(http), "alice")
        await in_slack.say("my laptop won't boot after the update")
        assert "How urgent" in in_slack.text, in_slack.text
        await in_teams.say("high")
        assert "Shall I submit" in in_teams.text and "laptop" in in_teams.text, in_teams.text
        await in_teams.click("Yes, submit")
        request_id = request_id_in(in_teams.text)
        assert request_id, in_teams.text
        status = await stack.temporal.get_workflow_handle(request_id).query(RequestWorkflow.status)
        assert status.requester == "alice" and status.channel == "teams"
        listing = await in_slack.say("show me my requests")
        assert request_id in listing, listing
