"""Block Kit rendering: nothing in model or document text can ping people or disguise a link."""

from __future__ import annotations

import json

from channels.rendering import Button, Message, Source
from channels.slack import blocks, cards, mrkdwn
from workflows.notify.models import ApprovalCard, CardStatus


def all_text(posts: list[blocks.Post]) -> str:
    return json.dumps([p.blocks for p in posts]) + " ".join(p.text for p in posts)


def test_special_mentions_and_disguised_links_are_inert():
    hostile = ("Ignore the policy <!channel> <!here|here> <@U0B0B0002> <!subteam^S123> "
               "<https://evil.example/login|Open the HR portal> & @channel @here @everyone")
    [post] = blocks.render([Message(text=hostile)], owner="U0AL1CE01")
    text = all_text([post])
    for forbidden in ("<!channel>", "<!here", "<@U0B0B0002>", "<!subteam", "<https://", "|Open the HR portal>",
                      "@channel", "@here", "@everyone"):
        assert forbidden not in text, forbidden
    section = post.blocks[0]["text"]
    assert section["type"] == "mrkdwn" and section["verbatim"] is True
    assert section["text"].startswith("Ignore the policy &lt;!channel&gt;")
    assert "&amp; @\u200bchannel" in section["text"]


def test_markdown_bold_becomes_mrkdwn_but_markdown_links_stay_text():
    assert mrkdwn.from_markdown("**Carry-over** is capped. [click](https://x.example)") == \
        "*Carry-over* is capped. [click](https://x.example)"


def test_a_long_answer_is_split_at_boundaries_within_slack_limits():
    paragraph = ("The remote work policy allows work from anywhere in the EU for up to 30 days a year. " * 12).strip()
    answer = "\n\n".join([paragraph] * 12)  # ~12,000 characters
    posts = blocks.render([Message(text=answer)], owner="U1")
    sections = [b["text"]["text"] for p in posts for b in p.blocks if b["type"] == "section"]
    assert len(sections) >= 4
    assert all(len(s) <= 3000 for s in sections)
    assert " ".join(s.strip() for s in sections).replace("\n\n", " ") == answer.replace("\n\n", " ")
    assert all(s.endswith(".") for s in sections)  # never cut mid-sentence


def test_a_split_never_cuts_an_entity_and_closes_an_open_code_block():
    text = "```\n" + ("a &amp; b\n" * 400) + "```"
    pieces = mrkdwn.split(text, 500)
    assert len(pieces) > 1
    for piece in pieces:
        assert len(piece) <= 500
        assert piece.count("```") % 2 == 0
        assert "&am\n" not in piece and not piece.endswith(("&", "&a", "&am", "&amp"))


def test_more_than_fifty_blocks_become_several_messages():
    posts = blocks.render([Message(text=f"part {i}") for i in range(60)], owner="U1")
    assert [len(p.blocks) for p in posts] == [50, 10]


def test_citations_are_context_blocks_and_escaped():
    message = Message(text="Carry-over is capped at 5 days [1].", sources=[
        Source(index=1, document_id="d1", title="Time off <policy>", section="Carry-over"),
        Source(index=2, document_id="d2", title="Handbook", section=None)])
    [post] = blocks.render([message], owner="U1")
    context = [b for b in post.blocks if b["type"] == "context"]
    assert [e["text"] for e in context[0]["elements"]] == ["[1] *Time off &lt;policy&gt;* › Carry-over",
                                                           "[2] *Handbook*"]


def test_buttons_are_plain_text_labels_with_the_payload_as_value():
    message = Message(text="Which level?",
                      buttons=[Button(title="<@U123> " + "x" * 100, payload="/inform{\"level\":\"read\"}")])
    [post] = blocks.render([message], owner="U0AL1CE01")
    [actions] = [b for b in post.blocks if b["type"] == "actions"]
    [button] = actions["elements"]
    assert button["text"]["type"] == "plain_text" and len(button["text"]["text"]) <= 75
    assert button["value"] == "/inform{\"level\":\"read\"}"
    assert actions["block_id"].startswith("rasa:U0AL1CE01:")


def test_an_open_approval_card_has_buttons_and_a_decided_one_has_the_outcome():
    card = ApprovalCard(approval_id="REQ-ABCDEF-1", request_id="REQ-ABCDEF", kind="access", requester="alice",
                        requester_name="Alice Martin", title="Alice Martin asks for write access to <salesforce>",
                        facts=[("System", "salesforce"), ("Justification", "<!channel> please")],
                        params_hash="0123456789abcdef", stage=1, stages=2, stage_name="manager")
    post = cards.card_post(card)
    dumped = json.dumps(post.blocks)
    assert "approval_approve" in dumped and "approval_reject" in dumped and "approval_comment" in dumped
    assert "<!channel>" not in dumped and "&lt;!channel&gt;" in dumped
    assert "approval 1 of 2" in dumped
    decided = card.model_copy(update={"status": CardStatus.APPROVED, "status_text": "Approved by bob"})
    dumped = json.dumps(cards.card_post(decided).blocks)
    assert "approval_approve" not in dumped and "Approved by bob" in dumped


def test_a_quoted_table_row_becomes_fields_with_its_headings():
    answer = ('Years of service: 3 to 5 years; Vacation days per year: 27 days [1]\n'
              'From Time off policy, Vacation allowance: "Every full-time employee gets 25 days." [1]')
    [post] = blocks.render([Message(text=answer)], owner="U1")
    row, quote = post.blocks[0], post.blocks[1]
    assert [f["text"] for f in row["fields"]] == ["*Years of service*\n3 to 5 years",
                                                  "*Vacation days per year*\n27 days [1]"]
    assert quote["text"]["text"].startswith("From Time off policy")
    assert "27 days" in post.text
