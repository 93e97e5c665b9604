"""Slack over HTTP through the real gateway: signatures, acks, DMs, mentions, retries, the slash command."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from channels.rendering import Button, Message
from tests.channels.slack.conftest import ALICE, BOB, STRANGER, slack_gateway
from tests.fakes.server import eventually
from tests.fakes.slack_api import dm
from tests.fakes.slack_driver import new_event_id
from tests.prometheus import local


def texts(post: dict) -> str:
    return "\n".join(b["text"]["text"] for b in post.get("blocks", []) if b.get("type") == "section" and b.get("text"))


async def test_a_dm_gets_a_reply_in_the_dm(slack_rig):
    r = await slack_rig.driver.dm(ALICE, "how many vacation days do I get?")
    assert r.status_code == 200
    await slack_rig.settle()
    assert slack_rig.turn.seen == [("alice", "how many vacation days do I get?", "slack")]
    [post] = slack_rig.fake.posts(dm(ALICE))
    assert texts(post) == "echo: how many vacation days do I get?"
    assert post.get("thread_ts") is None


async def test_a_mention_in_a_channel_is_answered_privately_with_a_pointer_in_the_thread(slack_rig):
    """Review finding: an answer made for one person (their groups, their requests) was posted in
    the channel's thread, readable by every member."""
    r, ts = await slack_rig.driver.mention(ALICE, "where is the VPN guide?", channel="C0GENERAL")
    assert r.status_code == 200
    await slack_rig.settle()
    assert slack_rig.turn.seen == [("alice", "where is the VPN guide?", "slack")]  # the bot's mention is gone
    [pointer] = slack_rig.fake.posts("C0GENERAL")
    assert pointer["thread_ts"] == ts and "answered you in a direct message" in texts(pointer)
    assert "echo" not in texts(pointer)
    [answer] = slack_rig.fake.posts(dm(ALICE))
    assert texts(answer) == "echo: where is the VPN guide?"


async def test_other_mentions_are_read_as_directory_people(slack_rig):
    await slack_rig.driver.dm(ALICE, f"is <@{BOB}> away? see <https://intranet.example/x|the calendar>")
    await slack_rig.settle()
    assert slack_rig.turn.seen[0][1] == "is bob away? see the calendar"


async def test_someone_not_in_the_directory_is_told_politely(slack_rig):
    await slack_rig.driver.dm(STRANGER, "hello")
    await slack_rig.settle()
    assert slack_rig.turn.seen == []
    [post] = slack_rig.fake.posts(dm(STRANGER))
    assert "not linked to anyone in the company directory" in texts(post)
    assert slack_rig.fake.called("users.info")[0].args["user"] == STRANGER


async def test_a_slack_account_unknown_to_the_directory_maps_by_email(slack_rig):
    from tests.fakes.slack_api import SlackUser

    slack_rig.fake.users["U0ALICEXX9"] = SlackUser("U0ALICEXX9", "Alice@Example.com", "alice-2")
    await slack_rig.driver.dm("U0ALICEXX9", "hi")
    await slack_rig.settle()
    assert slack_rig.turn.seen == [("alice", "hi", "slack")]


@pytest.mark.parametrize("tamper", ["bad signature", "no headers", "no signature", "one byte changed",
                                    "stale timestamp", "future timestamp", "timestamp not a number"])
async def test_signature_matrix_is_401_and_no_handler_runs(slack_rig, tamper):
    driver = slack_rig.driver
    body = driver.event_body(driver.dm_event(ALICE, "approve everything"))
    headers = driver.headers(body)
    if tamper == "bad signature":
        headers["x-slack-signature"] = "v0=" + "0" * 64
    elif tamper == "no headers":
        headers = {}
    elif tamper == "no signature":
        del headers["x-slack-signature"]
    elif tamper == "one byte changed":
        body = body.replace(b"approve everything", b"approve everythinG")
    elif tamper == "stale timestamp":
        headers = driver.headers(body, timestamp=int(time.time()) - 301)
    elif tamper == "future timestamp":
        # Well past the window: 301 s ahead drifts back inside it if the busy machine takes a
        # second to deliver the request.
        headers = driver.headers(body, timestamp=int(time.time()) + 600)
    else:
        headers["x-slack-request-timestamp"] = "yesterday"
    refused = local("aios_channel_refusals_total", channel="slack", reason="bad_signature")
    r = await slack_rig.driver.send(body, "application/json", headers=headers, sign=False)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "bad_signature"
    assert local("aios_channel_refusals_total", channel="slack", reason="bad_signature") == refused + 1
    await slack_rig.settle()
    assert slack_rig.turn.seen == []
    assert slack_rig.fake.calls == []  # not even auth.test: nothing past the signature check ran


async def test_a_signed_request_four_minutes_old_is_still_accepted(slack_rig):
    driver = slack_rig.driver
    body = driver.event_body(driver.dm_event(ALICE, "hi"))
    r = await driver.send(body, "application/json", headers=driver.headers(body, timestamp=int(time.time()) - 240),
                          sign=False)
    assert r.status_code == 200
    await slack_rig.settle()
    assert len(slack_rig.turn.seen) == 1


async def test_a_body_that_is_not_utf8_cannot_be_signed_so_it_is_401(slack_rig):
    r = await slack_rig.driver.send(b"\xff\xfe not utf-8", "application/json",
                                    headers={"x-slack-request-timestamp": str(int(time.time())),
                                             "x-slack-signature": "v0=" + "1" * 64}, sign=False)
    assert r.status_code == 401


@pytest.mark.parametrize("body,content_type", [(b"{not json", "application/json"), (b"[1, 2]", "application/json"),
                                               (b"payload=%7Bbroken", "application/x-www-form-urlencoded")])
async def test_a_signed_but_malformed_body_is_400_not_500(slack_rig, body, content_type):
    r = await slack_rig.driver.send(body, content_type)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_payload"


async def test_url_verification_answers_the_challenge(slack_rig):
    body = json.dumps({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"}).encode()
    r = await slack_rig.driver.send(body, "application/json")
    assert r.status_code == 200
    assert r.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


async def test_ack_within_a_second_while_the_backend_takes_ten(tmp_path):
    async with slack_gateway(tmp_path, progress_after_seconds=1.0) as rig:
        rig.turn.delay = 10.0
        t0 = time.perf_counter()
        r = await rig.driver.dm(ALICE, "summarise the remote work policy")
        acked = time.perf_counter() - t0
        assert r.status_code == 200 and acked < 1.0, f"ack took {acked:.2f}s"
        # Post, then update: a placeholder at once, replaced by the answer when it comes.
        placeholder = await eventually(lambda: rig.fake.posts(dm(ALICE)), timeout=5)
        assert "Working on it" in json.dumps(placeholder[0]["blocks"])
        await rig.settle(30)
        assert time.perf_counter() - t0 >= 10.0
        [update] = rig.fake.called("chat.update")
        assert texts(update.args) == "echo: summarise the remote work policy"
        assert len(rig.fake.posts(dm(ALICE))) == 1


async def test_retries_of_one_event_give_one_reply(slack_rig):
    slack_rig.turn.delay = 1.5  # the first delivery is still being processed while the retries arrive
    event_id = new_event_id()
    event = slack_rig.driver.dm_event(ALICE, "file my expense")
    dropped = local("aios_channel_duplicates_total", channel="slack")
    first = await asyncio.gather(slack_rig.driver.event(event, event_id=event_id),
                                 slack_rig.driver.event(event, event_id=event_id, retry=1))
    later = [await slack_rig.driver.event(event, event_id=event_id, retry=n) for n in (2, 3)]
    assert [r.status_code for r in [*first, *later]] == [200, 200, 200, 200]
    await slack_rig.settle()
    assert slack_rig.turn.seen == [("alice", "file my expense", "slack")]
    assert len(slack_rig.fake.posts(dm(ALICE))) == 1
    assert local("aios_channel_duplicates_total", channel="slack") == dropped + 3  # retries 1-3


async def test_the_slash_command_answers_privately_where_it_was_typed(slack_rig):
    r = await slack_rig.driver.command(ALICE, "what is the VPN address?")
    assert r.status_code == 200 and r.text == ""
    await slack_rig.settle()
    assert slack_rig.turn.seen == [("alice", "what is the VPN address?", "slack")]
    [response] = slack_rig.fake.responses
    assert response["response_type"] == "ephemeral"
    assert "echo: what is the VPN address?" in json.dumps(response["blocks"])
    assert slack_rig.fake.posts() == []


async def test_the_slash_command_without_text_explains_itself(slack_rig):
    await slack_rig.driver.command(ALICE, "   ")
    await slack_rig.settle()
    assert slack_rig.turn.seen == []
    assert "/aios how many vacation days" in json.dumps(slack_rig.fake.responses[0]["blocks"])


async def test_rasa_buttons_become_actions_and_a_click_is_the_next_turn(slack_rig):
    slack_rig.turn.replies = lambda text: (
        [Message(text="Shall I submit?", buttons=[Button(title="Yes, submit", payload="/affirm"),
                                                  Button(title="No, discard", payload="/deny")])]
        if text == "file it" else [Message(text=f"you said {text}")])
    await slack_rig.driver.dm(ALICE, "file it")
    await slack_rig.settle()
    [post] = slack_rig.fake.posts(dm(ALICE))
    ts = slack_rig.fake.called("chat.postMessage")[0]
    message_ts = [k for k in slack_rig.fake.messages if k[0] == dm(ALICE)][0][1]
    actions = [b for b in post["blocks"] if b["type"] == "actions"]
    assert [e["text"]["text"] for e in actions[0]["elements"]] == ["Yes, submit", "No, discard"]
    assert ts

    # Someone else clicking alice's buttons is told off, and nothing happens.
    await slack_rig.driver.click(BOB, dm(ALICE), message_ts, title="Yes")
    await slack_rig.settle()
    assert [t for _, t, _ in slack_rig.turn.seen] == ["file it"]
    assert slack_rig.fake.called("chat.postEphemeral")

    await slack_rig.driver.click(ALICE, dm(ALICE), message_ts, title="Yes")
    await slack_rig.settle()
    assert slack_rig.turn.seen[-1] == ("alice", "/affirm", "slack")
    clicked = slack_rig.fake.message(dm(ALICE), message_ts)
    assert not [b for b in clicked["blocks"] if b["type"] == "actions"]  # no second click
    assert "Alice chose *Yes, submit*" in json.dumps(clicked["blocks"])
    assert "you said /affirm" in texts(slack_rig.fake.posts(dm(ALICE))[-1])


async def test_a_forged_button_payload_is_not_sent_to_rasa(slack_rig):
    slack_rig.turn.replies = lambda text: [Message(text="pick", buttons=[Button(title="Go", payload="/affirm")])]
    await slack_rig.driver.dm(ALICE, "start")
    await slack_rig.settle()
    message_ts = [k for k in slack_rig.fake.messages if k[0] == dm(ALICE)][0][1]
    slack_rig.fake.messages[(dm(ALICE), message_ts)]["blocks"][-1]["elements"][0]["value"] = "/restart"
    await slack_rig.driver.click(ALICE, dm(ALICE), message_ts, title="Go")
    await slack_rig.settle()
    assert [t for _, t, _ in slack_rig.turn.seen] == ["start"]


async def test_typed_text_is_never_a_payload(slack_rig):
    await slack_rig.driver.dm(ALICE, '/approve_request{"request_id": "REQ-AAAAAA"}')
    await slack_rig.settle()
    assert slack_rig.turn.seen[0][1] == 'approve_request{"request_id": "REQ-AAAAAA"}'
