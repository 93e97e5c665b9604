"""The approval card in Block Kit: the request, Approve / Reject / Comment while open, the outcome after."""

from __future__ import annotations

import json
from typing import Any

from channels.slack import mrkdwn
from channels.slack.blocks import Post, button, button_value, context, section
from workflows.notify.models import ApprovalCard, CardStatus

APPROVE = "approval_approve"
REJECT = "approval_reject"
COMMENT = "approval_comment"
COMMENT_VIEW = "approval_comment_view"

_STATUS = {
    CardStatus.APPROVED: ":white_check_mark: Approved",
    CardStatus.REJECTED: ":x: Rejected",
    CardStatus.EXPIRED: ":hourglass: Expired",
    CardStatus.CANCELLED: ":no_entry_sign: Cancelled",
    CardStatus.DONE: ":ballot_box_with_check: Your part is done",
}


def card_post(card: ApprovalCard, *, notice: str = "") -> Post:
    """The whole card as a message; the buttons only while it is open."""
    e = mrkdwn.escape
    blocks: list[dict[str, Any]] = [section(f"*{e(card.title)}*")]
    if card.facts:
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{e(k)}*\n{e(v)}"[:2000], "verbatim": True} for k, v in card.facts[:10]]})
    meta = [f"{e(card.request_id)}"]
    if card.stages > 1:
        meta.append(f"approval {card.stage} of {card.stages}" + (f" ({e(card.stage_name)})" if card.stage_name else ""))
    if card.deadline is not None:
        meta.append(f"decide by {card.deadline:%Y-%m-%d %H:%M} UTC")
    blocks.append(context(" · ".join(meta)))
    if card.note:
        blocks.append(context(e(card.note)))
    if card.status is CardStatus.OPEN:
        value = button_value(card.approval_id, card.params_hash)
        blocks.append({"type": "actions", "block_id": f"approval:{card.approval_id}", "elements": [
            button("Approve", APPROVE, value, style="primary"),
            button("Reject", REJECT, value, style="danger"),
            button("Comment…", COMMENT, value),
        ]})
    else:
        outcome = _STATUS.get(card.status, card.status.value)
        detail = e(card.status_text) if card.status_text else ""
        blocks.append(section(f"*{outcome}*" + (f" — {detail}" if detail else "")))
    if notice:
        blocks.append(context(f":warning: {e(notice)}"))
    state = "" if card.status is CardStatus.OPEN else f" [{card.status.value}]"
    return Post(text=e(f"Approval needed: {card.title}{state}"), blocks=blocks)


def comment_view(card_ref: dict[str, str], title: str) -> dict[str, Any]:
    """A modal to approve or reject with a comment; the card's place rides in private_metadata."""
    return {
        "type": "modal",
        "callback_id": COMMENT_VIEW,
        "private_metadata": json.dumps(card_ref, separators=(",", ":"))[:3000],
        "title": {"type": "plain_text", "text": "Decide with a comment"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(mrkdwn.escape(title)[:3000]),
            {"type": "input", "block_id": "decision", "label": {"type": "plain_text", "text": "Decision"},
             "element": {"type": "radio_buttons", "action_id": "value", "options": [
                 {"text": {"type": "plain_text", "text": "Approve"}, "value": "approve"},
                 {"text": {"type": "plain_text", "text": "Reject"}, "value": "reject"}]}},
            {"type": "input", "block_id": "comment", "label": {"type": "plain_text", "text": "Comment"},
             "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 1000}},
        ],
    }
