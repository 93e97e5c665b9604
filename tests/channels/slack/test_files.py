"""Sharing a file with the assistant: only admins, only after confirming, the bot token only to Slack."""

from __future__ import annotations

import json

from tests.channels.slack.conftest import ALICE, ERIN, SlackRig
from tests.fakes.slack_api import dm
from tests.fakes.slack_driver import SlackDriver


def share(driver: SlackDriver, user: str, file: dict) -> dict:
    return driver.dm_event(user, "", subtype="file_share", files=[file])


def last(rig: SlackRig, user: str) -> tuple[str, dict]:
    return max(((ts, m) for (ch, ts), m in rig.fake.messages.items() if ch == dm(user)), key=lambda x: x[0])


async def test_a_non_admin_is_told_they_cannot_add_documents(slack_rig):
    f = slack_rig.fake.add_file("F0NOTES001", "notes.md", b"# notes")
    await slack_rig.driver.event(share(slack_rig.driver, ALICE, f))
    await slack_rig.settle()
    _, message = last(slack_rig, ALICE)
    assert "Only knowledge admins" in json.dumps(message["blocks"])
    assert not slack_rig.fake.called("files.info") and not slack_rig.fake.called("files.download")


async def test_an_admin_confirms_then_the_file_is_fetched_from_slack_with_the_bot_token(slack_rig):
    f = slack_rig.fake.add_file("F0POLICY01", "policy.md", b"# Policy\n\nBe kind.")
    await slack_rig.driver.event(share(slack_rig.driver, ERIN, f))
    await slack_rig.settle()
    ts, offer = last(slack_rig, ERIN)
    assert "Add *policy.md*" in json.dumps(offer["blocks"])
    assert not slack_rig.fake.called("files.download")  # nothing is fetched before the confirmation

    await slack_rig.driver.click(ALICE, dm(ERIN), ts, action_id="kb_add_file")  # not an admin: refused
    await slack_rig.settle()
    assert not slack_rig.fake.called("files.download")

    await slack_rig.driver.click(ERIN, dm(ERIN), ts, action_id="kb_add_file")
    await slack_rig.settle()
    [download] = slack_rig.fake.called("files.download")
    assert download.token == "xoxb-test-aios-bot-token"
    # No knowledge service runs in this rig: the admin is told it was not added, and why.
    assert "was not added" in json.dumps(slack_rig.fake.message(dm(ERIN), ts)["blocks"])


async def test_the_bot_token_is_never_sent_to_another_host(slack_rig):
    f = slack_rig.fake.add_file("F0EVIL0001", "evil.md", b"x")
    f["url_private_download"] = "https://attacker.example/collect"
    await slack_rig.driver.event(share(slack_rig.driver, ERIN, f))
    await slack_rig.settle()
    ts, _ = last(slack_rig, ERIN)
    await slack_rig.driver.click(ERIN, dm(ERIN), ts, action_id="kb_add_file")
    await slack_rig.settle()
    assert not slack_rig.fake.called("files.download")
    assert "could not download" in json.dumps(slack_rig.fake.message(dm(ERIN), ts)["blocks"])


async def test_cancel_leaves_the_file_alone(slack_rig):
    f = slack_rig.fake.add_file("F0DRAFT001", "draft.md", b"x")
    await slack_rig.driver.event(share(slack_rig.driver, ERIN, f))
    await slack_rig.settle()
    ts, _ = last(slack_rig, ERIN)
    await slack_rig.driver.click(ERIN, dm(ERIN), ts, action_id="kb_cancel_file")
    await slack_rig.settle()
    assert "Not added" in json.dumps(slack_rig.fake.message(dm(ERIN), ts)["blocks"])
    assert not slack_rig.fake.called("files.info")
