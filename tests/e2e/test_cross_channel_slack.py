"""Slack on the real stack (gateway, Rasa, actions, Temporal, knowledge): the issue's Slack scenarios."""

from __future__ import annotations

import asyncio
import json

import httpx

from tests.e2e.conversation import request_id_in
from tests.fakes.chat_conversations import SlackConversation, slack_text
from tests.fakes.chat_stack import SLACK_IDS
from tests.fakes.server import eventually
from tests.fakes.slack_api import dm
from tests.fakes.slack_driver import new_event_id
from workflows import search_attributes as sa
from workflows.models import StageOutcome
from workflows.request_workflow import RequestWorkflow


async def pending_stage(http: httpx.AsyncClient, approval_id: str) -> dict:
    """The approver's card once the workflow has asked for it (the policy step runs first)."""

    async def found():
        return [c for c in (await http.get("/api/approvals")).json()["approvals"] if c["approval_id"] == approval_id]

    cards = await eventually(found, timeout=60)
    assert cards, f"{approval_id} never reached the approver"
    return cards[0]


async def alices_it_tickets(stack) -> set[str]:
    query = (f"WorkflowType = 'RequestWorkflow' AND {sa.REQUESTER.name} = 'alice' "
             f"AND {sa.KIND.name} = 'it_ticket'")
    return {wf.id async for wf in stack.temporal.list_workflows(query)}


async def test_a_dm_is_answered_by_the_assistant(stack, chat):
    await stack.reset_conversation("dave")
    async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http:
        dave = SlackConversation(chat, chat.app, chat.slack_driver(http), "dave")
        await dave.say("hi")
        assert dave.replies and dave.text.strip(), dave.replies


async def test_a_mention_is_answered_in_the_dm_with_a_pointer_in_the_thread(stack, chat):
    await stack.reset_conversation("dave")
    async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http:
        driver = chat.slack_driver(http)
        before = len(chat.slack.posts("C0FINANCE"))
        private_before = len(chat.slack.posts(dm(SLACK_IDS["dave"])))
        r, ts = await driver.mention(SLACK_IDS["dave"], "what can you do?", channel="C0FINANCE")
        assert r.status_code == 200
        await chat.app.state.slack.background.drain(120)
        [pointer] = chat.slack.posts("C0FINANCE")[before:]
        assert pointer["thread_ts"] == ts and "direct message" in slack_text(pointer)
        assert chat.slack.posts(dm(SLACK_IDS["dave"]))[private_before:]  # the answer itself


async def test_retries_of_the_confirming_message_file_one_request_and_reply_once(stack, chat):
    await stack.reset_conversation("alice")
    async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http:
        driver = chat.slack_driver(http)
        alice = SlackConversation(chat, chat.app, driver, "alice")
        await alice.say("my laptop won't boot after the update")
        await alice.click("High")
        assert "Shall I submit" in alice.text, alice.text
        before_ids = await alices_it_tickets(stack)

        channel = dm(SLACK_IDS["alice"])
        before = {ts for (ch, ts) in chat.slack.messages if ch == channel}
        event_id = new_event_id()
        event = driver.dm_event(SLACK_IDS["alice"], "yes")
        first = await asyncio.gather(driver.event(event, event_id=event_id),
                                     driver.event(event, event_id=event_id, retry=1))
        await asyncio.sleep(0.3)  # the first delivery is still being processed by Rasa
        later = [await driver.event(event, event_id=event_id, retry=n) for n in (2, 3)]
        assert [r.status_code for r in [*first, *later]] == [200] * 4
        await chat.app.state.slack.background.drain(120)
        posted = [slack_text(m) for (ch, ts), m in chat.slack.messages.items() if ch == channel and ts not in before]
        # One reply to "yes"; the ticket needs no approval, so the workflow may also have told alice
        # it is done (once: a second workflow would show as a second reply or notification).
        replies = [text for text in posted if "is filed as" in text]
        assert len(replies) == 1, posted
        request_id = request_id_in(replies[0])
        assert request_id, replies[0]
        # Notifications about alice's earlier requests (other tests share the stack) may land now too.
        others = [text for text in posted if text not in replies and not any(old in text for old in before_ids)]
        assert len(others) <= 1 and all(text.startswith(request_id) for text in others), posted
        handle = stack.temporal.get_workflow_handle(request_id)
        assert (await handle.query(RequestWorkflow.status)).requester == "alice"

        async def new_ones():
            return (await alices_it_tickets(stack)) - before_ids

        assert await eventually(new_ones, timeout=20) == {request_id}
        await asyncio.sleep(1.0)  # visibility lags a moment: nothing else shows up late
        assert await new_ones() == {request_id}


async def test_a_button_click_decides_the_workflow_and_updates_the_card(stack, chat):
    """dave (finance, prefers Slack) gets the second stage of a large expense and approves it in Slack."""
    for user in ("alice", "bob"):
        await stack.reset_conversation(user)
    async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http, stack.client("alice") as alice_web, \
            stack.client("bob") as bob_web:
        r = await alice_web.post("/api/chat", json={"message": "I paid 1450 euros for a taxi to the airport yesterday"})
        assert r.status_code == 200, r.text
        r = await alice_web.post("/api/chat", json={"message": "taxi to CDG for the Lyon client visit"})
        messages = r.json()["messages"]
        yes = next(b["payload"] for m in messages for b in m["buttons"] if b["title"].lower().startswith("yes"))
        r = await alice_web.post("/api/chat", json={"payload": yes})
        request_id = request_id_in(" ".join(m["text"] for m in r.json()["messages"]))
        assert request_id, r.text
        await pending_stage(bob_web, f"{request_id}-1")
        r = await bob_web.post(f"/api/approvals/{request_id}-1/decision", json={"decision": "approve"})
        assert r.status_code == 200, r.text

        channel = dm(SLACK_IDS["dave"])

        def daves_card():
            return [(ts, m) for (ch, ts), m in chat.slack.messages.items()
                    if ch == channel and f"{request_id}-2" in json.dumps(m["blocks"])]

        [(ts, card)] = await eventually(daves_card, timeout=60)
        assert any(b["type"] == "actions" for b in card["blocks"])
        driver = chat.slack_driver(http)
        r = await driver.click(SLACK_IDS["dave"], channel, ts, action_id="approval_approve")
        assert r.status_code == 200
        for _ in range(100):
            status = await stack.temporal.get_workflow_handle(request_id).query(RequestWorkflow.status)
            if status.approvals[-1].outcome is StageOutcome.APPROVED:
                break
            await asyncio.sleep(0.1)
        decision = status.approvals[-1].decisions[0]
        assert (decision.approver, decision.channel) == ("dave", "slack")
        await chat.app.state.slack.background.drain(60)
        card = chat.slack.message(channel, ts)
        assert not any(b["type"] == "actions" for b in card["blocks"]) and "Approved" in slack_text(card)


async def test_an_admin_shares_a_file_and_it_joins_the_knowledge_base(stack, chat):
    async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http, stack.client("erin") as erin_web:
        driver = chat.slack_driver(http)
        chat.slack.add_file("F0PARKING1", "parking-policy.md",
                            b"# Parking policy\n\nEmployees park in garage B on levels 2 and 3. "
                            b"Visitors use level 1. Bicycles go in the cage next to the lift.\n")
        erin, channel = SLACK_IDS["erin"], dm(SLACK_IDS["erin"])
        share = driver.dm_event(erin, "", subtype="file_share", files=[chat.slack.files["F0PARKING1"]])
        assert (await driver.event(share)).status_code == 200
        await chat.app.state.slack.background.drain(60)
        [(ts, offer)] = [(ts, m) for (ch, ts), m in chat.slack.messages.items()
                         if ch == channel and "parking-policy.md" in slack_text(m) and "Add" in json.dumps(m)]
        await driver.click(erin, channel, ts, action_id="kb_add_file")
        await chat.app.state.slack.background.drain(180)
        assert "Added" in slack_text(chat.slack.message(channel, ts)), slack_text(chat.slack.message(channel, ts))
        assert chat.slack.called("files.download")
        docs = (await erin_web.get("/api/knowledge/documents")).json()["documents"]
        assert any("parking" in json.dumps(d).lower() for d in docs)

        # A non-admin sharing a file is told they can't; nothing is downloaded.
        alice = SLACK_IDS["alice"]
        downloads = len(chat.slack.called("files.download"))
        before = set(chat.slack.messages)
        await driver.event(driver.dm_event(alice, "", subtype="file_share", files=[chat.slack.files["F0PARKING1"]]))
        await chat.app.state.slack.background.drain(60)
        new = [m for key, m in chat.slack.messages.items() if key not in before and key[0] == dm(alice)]
        assert any("Only knowledge admins" in slack_text(m) for m in new), [slack_text(m) for m in new]
        assert len(chat.slack.called("files.download")) == downloads


async def test_a_knowledge_answer_in_slack_cites_its_sources(stack, chat):
    await stack.reset_conversation("carol")
    async with httpx.AsyncClient(base_url=stack.url, timeout=180) as http:
        carol = SlackConversation(chat, chat.app, chat.slack_driver(http), "carol")
        await carol.say("how many vacation days can I carry over to next year?")
        blocks = [b for m in carol.replies for b in m["blocks"]]
        assert any(b["type"] == "context" and "[1]" in json.dumps(b) for b in blocks), carol.replies
        assert "<!" not in json.dumps(blocks)


async def test_forged_or_stale_requests_are_401_on_the_real_stack(stack, chat):
    import time

    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as http:
        driver = chat.slack_driver(http)
        calls = len(chat.slack.calls)
        body = driver.event_body(driver.dm_event(SLACK_IDS["alice"], "cancel all my requests"))
        cases = {
            "bad signature": (body, {**driver.headers(body), "x-slack-signature": "v0=" + "0" * 64}),
            "missing headers": (body, {}),
            "one byte changed": (body.replace(b"cancel", b"Cancel"), driver.headers(body)),
            "stale timestamp": (body, driver.headers(body, timestamp=int(time.time()) - 301)),
        }
        for case, (payload, headers) in cases.items():
            r = await driver.send(payload, "application/json", headers=headers, sign=False)
            assert r.status_code == 401, case
        await chat.app.state.slack.background.drain(30)
        assert len(chat.slack.calls) == calls  # no reply, no lookup: nothing behind the check ran


async def test_the_ack_comes_within_a_second_while_the_backend_takes_ten(stack, chat):
    """The real turn through Rasa, made to take 10 s more: Slack's request is acknowledged at once."""
    import time

    await stack.reset_conversation("frank")
    slack = chat.app.state.slack
    real_turn = slack.turn

    async def slow_turn(*args, **kwargs):
        await asyncio.sleep(10)
        return await real_turn(*args, **kwargs)

    slack.turn = slow_turn
    try:
        async with httpx.AsyncClient(base_url=stack.url, timeout=60) as http:
            driver = chat.slack_driver(http)
            channel = dm(SLACK_IDS["frank"])
            before = {ts for (ch, ts) in chat.slack.messages if ch == channel}
            t0 = time.perf_counter()
            r = await driver.dm(SLACK_IDS["frank"], "hello")
            assert r.status_code == 200 and time.perf_counter() - t0 < 1.0
            await slack.background.drain(120)
            assert time.perf_counter() - t0 >= 10
            new = [m for (ch, ts), m in chat.slack.messages.items() if ch == channel and ts not in before]
            assert new and all("Working on it" not in slack_text(m) for m in new)  # the placeholder was replaced
            assert any(c.method == "chat.update" and c.args["channel"] == channel for c in chat.slack.calls)
    finally:
        slack.turn = real_turn
