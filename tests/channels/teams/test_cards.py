"""Approval cards in Teams with the real workflow: proactive delivery, Action.Execute, refreshed copies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.channels.teams.conftest import AAD, TeamsRig, teams_gateway
from tests.fakes.server import eventually
from tests.fakes.teams_driver import personal_conversation
from tests.fakes.temporal import own_temporal
from tests.workflows.conftest import Rig, access, rig_settings, running_rig
from workflows.models import Decision, StageOutcome

CARD = "application/vnd.microsoft.card.adaptive"


@asynccontextmanager
async def both(tmp_path, **teams_kw) -> AsyncIterator[tuple[Rig, TeamsRig]]:
    settings = rig_settings(tmp_path)
    async with own_temporal(tmp_path / "temporal") as temporal, \
            running_rig(temporal, tmp_path, settings=settings) as rig, \
            teams_gateway(tmp_path, settings=settings, temporal=temporal, **teams_kw) as teams:
        yield rig, teams


def approval_cards(teams: TeamsRig, request_id: str, conversation: str) -> list[tuple[str, dict]]:
    """(activity id, card) of the approval cards the bot sent into `conversation`."""
    return [(c.activity_id or "", c.body["attachments"][0]["content"]) for c in teams.connector.calls
            if c.op == "send" and c.conversation == conversation and c.body.get("attachments")
            and request_id in json.dumps(c.body)]


async def sent_card(teams: TeamsRig, request_id: str, conversation: str) -> tuple[str, dict]:
    found = await eventually(lambda: approval_cards(teams, request_id, conversation), timeout=20)
    assert found, f"no approval card in {conversation}: {teams.connector.calls}"
    [(_, card)] = found
    activity_id = next(k[1] for k, body in teams.connector.activities.items()
                       if k[0] == conversation and request_id in json.dumps(body))
    return activity_id, card


async def test_a_proactive_card_is_approved_with_action_execute_and_refreshed(tmp_path):
    async with both(tmp_path) as (rig, teams):
        assert (await teams.driver.install(AAD["bob"])).status_code == 202  # bob has the app: reference stored
        await teams.settle()
        request_id = await rig.submit(access("salesforce", "write"))
        conversation = personal_conversation(AAD["bob"])
        activity_id, card = await sent_card(teams, request_id, conversation)
        assert "Alice Martin asks for write access to salesforce" in json.dumps(card)
        verbs = [a["verb"] for a in card["actions"]]
        assert verbs == ["approval.approve", "approval.reject"]
        assert all(c.token_claims for c in teams.connector.calls)  # outbound calls carried the bot's token

        data = {**card["actions"][0]["data"], "comment": "fine for the renewal season"}
        r = await teams.driver.execute(AAD["bob"], "approval.approve", data, reply_to=activity_id)
        assert r.status_code == 200
        body = r.json()
        assert body["statusCode"] == 200 and body["type"] == CARD
        refreshed = json.dumps(body["value"])
        assert "Approved" in refreshed and "approval.approve" not in refreshed

        status = await rig.wait_for(request_id, lambda s: s.approvals[0].outcome is StageOutcome.APPROVED)
        d = status.approvals[0].decisions[0]
        assert (d.approver, d.decision, d.channel, d.comment) == ("bob", Decision.APPROVE, "teams",
                                                                  "fine for the renewal season")
        # The workflow's card update reaches the copy in Teams too (PUT on the same activity).
        updates = await eventually(lambda: [c for c in teams.connector.of("update") if c.activity_id == activity_id],
                                   timeout=15)
        assert updates and "approval.approve" not in json.dumps(updates[-1].body)

        # Asking again (a double click, a refresh) shows the same outcome; no second decision.
        r = await teams.driver.execute(AAD["bob"], "approval.refresh", card["actions"][0]["data"],
                                       reply_to=activity_id)
        assert "Approved" in json.dumps(r.json()["value"])
        r = await teams.driver.execute(AAD["bob"], "approval.approve", card["actions"][0]["data"],
                                       reply_to=activity_id)
        assert "Approved" in json.dumps(r.json()["value"])
        assert len((await rig.status(request_id)).approvals[0].decisions) == 1


async def test_without_a_stored_conversation_the_bot_starts_one(tmp_path):
    async with both(tmp_path) as (rig, teams):
        teams.settings.teams.service_url = teams.connector.service_url
        request_id = await rig.submit(access("github", "read"))
        created = await eventually(lambda: [c for c in teams.connector.of("create")
                                            if c.body["members"][0]["id"] == AAD["bob"]], timeout=20)
        assert created and created[0].body["tenantId"]
        # The reference is stored once the connector has answered the create call: wait for it.
        reference = await eventually(lambda: teams.teams.references.get("bob"), timeout=20)
        conversation = reference.conversation.id
        _, card = await sent_card(teams, request_id, conversation)
        assert card["actions"][0]["data"]["approval_id"] == f"{request_id}-1"

        # alice (she prefers Slack, which this gateway lacks) hears where her request stands in Teams.
        async def told():
            reference = teams.teams.references.get("alice")
            return reference and [c for c in teams.connector.cards(reference.conversation.id)
                                  if request_id in json.dumps(c) and "waiting for bob" in json.dumps(c)]

        assert await eventually(told, timeout=20)


async def test_a_refused_decision_redraws_the_card_with_the_reason(tmp_path):
    async with both(tmp_path) as (rig, teams):
        await teams.driver.install(AAD["bob"])
        await teams.settle()
        request_id = await rig.submit(access("github", "write"))
        activity_id, card = await sent_card(teams, request_id, personal_conversation(AAD["bob"]))
        stale = {**card["actions"][0]["data"], "params_hash": "0123456789abcdef"}
        r = await teams.driver.execute(AAD["bob"], "approval.approve", stale, reply_to=activity_id)
        value = json.dumps(r.json()["value"])
        assert "changed since it was shown" in value and "approval.approve" in value  # still open
        r = await teams.driver.execute(AAD["alice"], "approval.approve", card["actions"][0]["data"])
        assert r.json()["type"] == "application/vnd.microsoft.activity.message"
        assert "own request" in r.json()["value"] or "no approval" in r.json()["value"].lower()
        assert (await rig.status(request_id)).approvals[0].decisions == []


async def test_unreachable_in_teams_falls_back_to_the_web_inbox(tmp_path):
    async with both(tmp_path) as (rig, teams):
        request_id = await rig.submit(access("github", "write"))  # bob never installed; no service URL known
        cards = await eventually(lambda: rig.outbox.inbox("bob"), timeout=20)
        assert cards and cards[0].card and cards[0].card.request_id == request_id

        async def delivered():
            return [n for n in rig.outbox.inbox("bob") if n.delivered_at is not None]

        [note] = (await eventually(delivered, timeout=20))[:1]
        assert note.channel == "web"
        assert not teams.connector.of("send")


def test_a_quoted_table_row_becomes_a_factset():
    from channels.rendering import Message
    from channels.teams.cards import reply_activities

    [activity] = reply_activities([Message(text="Years of service: 3 to 5 years; Vacation days per year: 27 days [1]"
                                                 "\nThat is the allowance.")])
    body = activity.attachments[0].content["body"]
    assert body[0] == {"type": "FactSet", "facts": [{"title": "Years of service", "value": "3 to 5 years"},
                                                    {"title": "Vacation days per year", "value": "27 days [1]"}]}
    assert body[1]["type"] == "TextBlock" and body[1]["text"] == "That is the allowance."
