"""Approval cards in Slack with the real workflow: a click is the Temporal Update, every copy is redrawn."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from tests.channels.slack.conftest import ALICE, BOB, CAROL, SlackRig, slack_gateway
from tests.fakes.server import eventually
from tests.fakes.slack_api import dm
from tests.fakes.temporal import own_temporal
from tests.workflows.conftest import Rig, access, expense, rig_settings, running_rig
from workflows.models import Decision, RequestState, StageOutcome


@pytest.fixture
async def both(tmp_path) -> AsyncIterator[tuple[Rig, SlackRig]]:
    settings = rig_settings(tmp_path)
    async with own_temporal(tmp_path / "temporal") as temporal, \
            running_rig(temporal, tmp_path, settings=settings) as rig, \
            slack_gateway(tmp_path, settings=settings, temporal=temporal) as slack:
        yield rig, slack


def card_ts(slack: SlackRig, user: str, request_id: str) -> str:
    for (channel, ts), message in slack.fake.messages.items():
        if channel == dm(user) and request_id in json.dumps(message["blocks"]):
            return ts
    raise AssertionError(f"no card for {request_id} in {user}'s DM")


def has_buttons(message: dict) -> bool:
    return any(b["type"] == "actions" for b in message["blocks"])


async def card_for(slack: SlackRig, user: str, request_id: str) -> str:
    async def posted():
        return any(request_id in json.dumps(p.get("blocks")) for p in slack.fake.posts(dm(user)))

    assert await eventually(posted, timeout=20), f"no card for {user}: {slack.fake.posts()}"
    return card_ts(slack, user, request_id)


async def test_approve_in_slack_decides_the_workflow_and_updates_the_card(both):
    rig, slack = both
    request_id = await rig.submit(access("github", "write"))
    # bob prefers Teams, which this gateway does not have: his card falls back to Slack.
    ts = await card_for(slack, BOB, request_id)
    message = slack.fake.message(dm(BOB), ts)
    assert has_buttons(message) and "Alice Martin asks for write access to github" in json.dumps(message)

    r = await slack.driver.click(BOB, dm(BOB), ts, action_id="approval_approve")
    assert r.status_code == 200
    status = await rig.wait_for(request_id, lambda s: s.approvals[0].outcome is StageOutcome.APPROVED)
    decision = status.approvals[0].decisions[0]
    assert (decision.approver, decision.decision, decision.channel) == ("bob", Decision.APPROVE, "slack")
    await slack.settle()

    async def redrawn():
        m = slack.fake.message(dm(BOB), ts)
        return not has_buttons(m) and "Approved" in json.dumps(m["blocks"])

    assert await eventually(redrawn, timeout=10)
    # The workflow's own card update reaches the same copy through the notifier (chat.update by ts).
    assert await eventually(lambda: len([c for c in slack.fake.called("chat.update") if c.args["ts"] == ts]) >= 2,
                            timeout=10)
    decided = await eventually(lambda: [r for r in rig.audit.records(request_id=request_id)
                                         if r.event == "approval.decided"])
    assert [(r.actor, r.channel) for r in decided] == [("bob", "slack")]


async def test_reject_with_a_comment_through_the_modal(both):
    rig, slack = both
    request_id = await rig.submit(expense("450.00"))
    ts = await card_for(slack, BOB, request_id)
    await slack.driver.click(BOB, dm(BOB), ts, action_id="approval_comment")
    [opened] = await eventually(lambda: slack.fake.called("views.open"), timeout=10)
    view = opened.args["view"]
    assert view["callback_id"] == "approval_comment_view"
    r = await slack.driver.submit_view(BOB, view, {
        "decision": {"value": {"type": "radio_buttons", "selected_option": {"value": "reject"}}},
        "comment": {"value": {"type": "plain_text_input", "value": "Please use the corporate card"}},
    })
    assert r.status_code == 200
    status = await rig.wait_for(request_id, lambda s: s.state is RequestState.REJECTED)
    assert status.approvals[0].decisions[0].comment == "Please use the corporate card"
    assert status.approvals[0].decisions[0].channel == "slack"

    async def redrawn():
        m = slack.fake.message(dm(BOB), ts)
        return not has_buttons(m) and "Rejected" in json.dumps(m["blocks"])

    assert await eventually(redrawn, timeout=10)


async def test_a_click_by_someone_who_is_not_the_approver_changes_nothing(both):
    rig, slack = both
    request_id = await rig.submit(access("github", "write"))
    ts = await card_for(slack, BOB, request_id)
    await slack.driver.click(CAROL, dm(BOB), ts, action_id="approval_approve")  # a forged click
    await slack.driver.click(ALICE, dm(BOB), ts, action_id="approval_approve")  # her own request
    await slack.settle()
    status = await rig.status(request_id)
    assert status.approvals[0].decisions == []
    notices = [c.args for c in slack.fake.called("chat.postEphemeral")]
    assert {n["user"] for n in notices} == {CAROL, ALICE}
    assert any("own request" in n["text"] for n in notices)
    assert has_buttons(slack.fake.message(dm(BOB), ts))


async def test_app_home_lists_pending_approvals_and_open_requests_and_decides(both):
    rig, slack = both
    request_id = await rig.submit(access("github", "write"))
    await card_for(slack, BOB, request_id)
    slack.fake.clear()
    await slack.driver.event({"type": "app_home_opened", "user": BOB, "channel": dm(BOB), "tab": "home"})
    await slack.settle()
    published = [c for c in slack.fake.called("views.publish") if c.args["user_id"] == BOB][-1]
    home = json.dumps(published.args["view"])
    assert published.args["user_id"] == BOB and request_id in home and "approval_approve" in home

    await slack.driver.event({"type": "app_home_opened", "user": ALICE, "channel": dm(ALICE), "tab": "home"})
    await slack.settle()
    alice_home = json.dumps(slack.fake.called("views.publish")[-1].args["view"])
    assert request_id in alice_home and "pending approval" in alice_home and "approval_approve" not in alice_home

    # A click in App Home (a view, not a message) decides and redraws bob's home.
    block = next(b for b in published.args["view"]["blocks"] if b.get("block_id") == f"approval:{request_id}-1")
    approve = next(e for e in block["elements"] if e["action_id"] == "approval_approve")
    slack.fake.clear()
    await slack.driver.interact({"type": "block_actions", "user": {"id": BOB}, "team": {"id": "T0AIOS000"},
                                 "container": {"type": "view", "view_id": "V0HOME"}, "trigger_id": "t1",
                                 "view": published.args["view"],
                                 "actions": [{**approve, "block_id": block["block_id"]}]})
    await rig.wait_for(request_id, lambda s: s.approvals[0].outcome is StageOutcome.APPROVED)
    await slack.settle()
    homes = [c for c in slack.fake.called("views.publish") if c.args["user_id"] == BOB]
    assert homes and "approval_approve" not in json.dumps(homes[-1].args["view"])  # nothing left to decide


async def test_the_requester_hears_the_outcome_in_slack(both):
    rig, slack = both
    request_id = await rig.submit(expense("450.00"))
    ts = await card_for(slack, BOB, request_id)
    await slack.driver.click(BOB, dm(BOB), ts, action_id="approval_approve")
    await rig.wait_for(request_id, lambda s: s.state in (RequestState.APPROVED, RequestState.COMPLETED))

    async def told():
        return [p for p in slack.fake.posts(dm(ALICE)) if request_id in json.dumps(p["blocks"])
                and "approved" in json.dumps(p["blocks"]).lower()]

    assert await eventually(told, timeout=20), slack.fake.posts(dm(ALICE))
