"""Teams through the real gateway: personal chats, channel mentions, buttons, identity, redeliveries."""

from __future__ import annotations

import json

from channels.rendering import Button, Message, Source
from tests.channels.teams.conftest import AAD, STRANGER
from tests.fakes.teams_driver import personal_conversation
from tests.prometheus import local


def card_text(card: dict) -> str:
    return json.dumps(card)


async def test_a_personal_chat_message_gets_a_card_reply(teams_rig):
    r = await teams_rig.driver.say(AAD["alice"], "how many vacation days do I get?")
    assert r.status_code == 202
    await teams_rig.settle()
    assert teams_rig.turn.seen == [("alice", "how many vacation days do I get?", "teams")]
    [card] = teams_rig.connector.cards(personal_conversation(AAD["alice"]))
    assert "echo: how many vacation days do I get?" in card_text(card)
    # Replies carry the bot's own token (checked by the fake Bot Connector).
    assert all(c.token_claims and c.token_claims["appid"] for c in teams_rig.connector.calls)


async def test_a_channel_mention_is_answered_in_a_personal_chat_with_a_pointer_in_the_thread(teams_rig):
    """An answer is made for one person (their groups' documents, their requests): never into a channel."""
    r = await teams_rig.driver.mention(AAD["alice"], "where is the VPN guide?")
    assert r.status_code == 202
    await teams_rig.settle()
    assert teams_rig.turn.seen == [("alice", "where is the VPN guide?", "teams")]  # the mention is removed
    [created] = teams_rig.connector.of("create")
    assert [m["aadObjectId"] for m in created.body["members"]] == [AAD["alice"]]
    messages = [c for c in teams_rig.connector.calls if c.body and c.body.get("type") == "message"]
    in_channel = [c for c in messages if c.conversation.startswith("19:general@thread.tacv2")]
    private = [c for c in messages if not c.conversation.startswith("19:general@thread.tacv2")]
    assert "echo: where is the VPN guide?" in card_text(private[0].body)
    [pointer] = in_channel
    assert pointer.op == "reply" and "answered you in a personal chat" in card_text(pointer.body)
    assert "echo" not in card_text(pointer.body)

    # The next mention reuses the personal chat that was opened.
    await teams_rig.driver.mention(AAD["alice"], "and the wifi?")
    await teams_rig.settle()
    assert len(teams_rig.connector.of("create")) == 1


async def test_a_mention_from_someone_the_bot_cannot_reach_privately_gets_no_answer_in_the_channel(teams_rig):
    teams_rig.connector.refuse_new_chats = True
    await teams_rig.driver.mention(AAD["bob"], "what do I need to approve?")
    await teams_rig.settle()
    assert teams_rig.turn.seen == []  # nothing personal is even worked out
    [pointer] = [c for c in teams_rig.connector.calls if c.body and c.body.get("type") == "message"]
    assert pointer.conversation.startswith("19:general@thread.tacv2")
    assert "message me directly" in card_text(pointer.body)


async def test_someone_not_in_the_directory_is_told_politely(teams_rig):
    await teams_rig.driver.say(STRANGER, "hello")
    await teams_rig.settle()
    assert teams_rig.turn.seen == []
    [card] = teams_rig.connector.cards()
    assert "not linked to anyone in the company directory" in card_text(card)
    assert teams_rig.connector.of("member")  # the bot asked Teams who this is before giving up


async def test_an_account_unknown_to_the_directory_maps_by_its_upn(teams_rig):
    other = "11111111-2222-4333-8444-555555555555"
    teams_rig.connector.members[f"29:{other}-mri"] = {
        "id": f"29:{other}-mri", "aadObjectId": other, "userPrincipalName": "Carol@example.com",
        "email": "carol.diaz@mail.example", "name": "Carol Diaz"}
    await teams_rig.driver.say(other, "hi")
    await teams_rig.settle()
    assert teams_rig.turn.seen == [("carol", "hi", "teams")]


async def test_citations_and_buttons_render_and_a_click_is_the_next_turn(teams_rig):
    teams_rig.turn.replies = lambda text: (
        [Message(text="Carry-over is capped [1]. [Open](https://evil.example)", sources=[
            Source(index=1, document_id="d1", title="Time off policy", section="Carry-over")],
            buttons=[Button(title="Yes, submit", payload="/affirm"), Button(title="No", payload="/deny")])]
        if text == "start" else [Message(text=f"you said {text}")])
    await teams_rig.driver.say(AAD["alice"], "start")
    await teams_rig.settle()
    [card] = teams_rig.connector.cards()
    dumped = card_text(card)
    assert "[1] Time off policy \\u203a Carry-over" in dumped or "[1] Time off policy › Carry-over" in dumped
    assert "](https://evil.example)" not in dumped  # no disguised link
    [actions] = [b for b in card["body"] if b["type"] == "ActionSet"]
    yes = actions["actions"][0]
    assert yes["type"] == "Action.Submit" and yes["data"]["payload"] == "/affirm"
    sent_id = next(c for c in teams_rig.connector.calls if c.op in ("send", "reply") and c.body.get("attachments"))
    activity_id = next(k[1] for k in teams_rig.connector.activities)

    await teams_rig.driver.submit(AAD["alice"], yes["data"], reply_to=activity_id)
    await teams_rig.settle()
    assert teams_rig.turn.seen[-1] == ("alice", "/affirm", "teams")
    [update] = teams_rig.connector.of("update")
    updated = update.body["attachments"][0]["content"]
    assert not [b for b in updated["body"] if b["type"] == "ActionSet"]
    assert "Alice chose Yes, submit" in card_text(updated)
    assert sent_id


async def test_a_forged_button_payload_is_not_sent_to_rasa(teams_rig):
    await teams_rig.driver.submit(AAD["alice"], {"aios": "aios.button", "payload": "/restart", "title": "x"})
    await teams_rig.driver.submit(AAD["alice"], {"aios": "aios.button", "payload": "not a payload", "title": "x"})
    await teams_rig.settle()
    assert teams_rig.turn.seen == []


async def test_a_redelivered_activity_is_answered_once(teams_rig):
    teams_rig.turn.delay = 1.0
    activity = teams_rig.driver.activity(AAD["alice"], text="file my expense")
    dropped = local("aios_channel_duplicates_total", channel="teams")
    responses = [await teams_rig.driver.post(activity) for _ in range(3)]
    assert [r.status_code for r in responses] == [202, 202, 202]
    await teams_rig.settle()
    assert teams_rig.turn.seen == [("alice", "file my expense", "teams")]
    assert len(teams_rig.connector.cards()) == 1
    assert local("aios_channel_duplicates_total", channel="teams") == dropped + 2  # the two resends


async def test_messages_are_acknowledged_at_once_and_answered_later(teams_rig):
    import time

    teams_rig.turn.delay = 5.0
    t0 = time.perf_counter()
    r = await teams_rig.driver.say(AAD["alice"], "summarise the remote work policy")
    assert r.status_code == 202 and time.perf_counter() - t0 < 1.0
    await teams_rig.settle()
    kinds = [c.body.get("type") for c in teams_rig.connector.calls if c.body]
    assert kinds == ["typing", "message"]  # 'typing' while the slow answer is prepared


async def test_installing_the_app_stores_the_conversation_and_says_hello(teams_rig):
    r = await teams_rig.driver.install(AAD["bob"])
    assert r.status_code == 202
    await teams_rig.settle()
    [card] = teams_rig.connector.cards()
    assert "Hi Bob" in card_text(card)
    reference = teams_rig.teams.references.get("bob")
    assert reference.conversation.id == personal_conversation(AAD["bob"])
    assert reference.service_url == teams_rig.connector.service_url
