"""Adaptive Cards for Teams: the assistant's replies (text, buttons, sources) and the approval card.

Text from the model or from documents is shown, never obeyed: Markdown links are broken up
(`[label](url)` cannot disguise a link) and nothing can mention people (Teams mentions need entities).
"""

from __future__ import annotations

import re
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes, Attachment

from channels.rendering import Message, TableRow, blocks_of
from workflows.notify.models import ApprovalCard, CardStatus

CARD = "application/vnd.microsoft.card.adaptive"
VERSION = "1.5"
TEXT_CHARS = 8000  # per TextBlock; a Teams message carries about 28 KB in all
BUTTON = "aios.button"  # Action.Submit data marker for Rasa's buttons
APPROVE, REJECT, REFRESH = "approval.approve", "approval.reject", "approval.refresh"
VERBS = re.compile(r"^approval\.(approve|reject|refresh)$")
ZWSP = "\u200b"

_STATUS = {CardStatus.APPROVED: "✅ Approved", CardStatus.REJECTED: "❌ Rejected", CardStatus.EXPIRED: "⌛ Expired",
           CardStatus.CANCELLED: "🚫 Cancelled", CardStatus.DONE: "☑️ Your part is done"}


def safe(text: str) -> str:
    """Untrusted text for a TextBlock (which renders no HTML): no Markdown link, inline or by reference."""
    text = text.replace("](", f"]{ZWSP}(")
    return re.sub(r"\]\s*\[", f"]{ZWSP}[", text)


def text_block(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


def adaptive(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None,
             **extra: Any) -> dict[str, Any]:
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                            "version": VERSION, "body": body, **extra}
    if actions:
        card["actions"] = actions
    return card


def attachment(card: dict[str, Any]) -> Attachment:
    return Attachment(content_type=CARD, content=card)


def reply_activities(messages: list[Message]) -> list[Activity]:
    """One card per Rasa reply (a card's TextBlocks render Markdown but never HTML): text, table rows as
    FactSets, sources, buttons."""
    out: list[Activity] = []
    for message in messages:
        body: list[dict[str, Any]] = []
        for part in blocks_of(message.text) if message.text else []:
            if isinstance(part, TableRow):  # a table row: a FactSet, heading and value side by side
                facts = [{"title": safe(h), "value": safe(v)} for h, v in part.cells[:10]]
                facts[-1]["value"] += safe(part.citation)
                body.append({"type": "FactSet", "facts": facts})
                continue
            text = safe(part)
            body += [text_block(text[i:i + TEXT_CHARS]) for i in range(0, len(text), TEXT_CHARS)]
        if message.sources:
            body.append(text_block("Sources", weight="Bolder", size="Small", spacing="Medium"))
            body += [text_block(safe(f"[{s.index}] {s.title}" if s.index is not None else s.title)
                                + (safe(f" › {s.section}") if s.section else ""), size="Small", isSubtle=True,
                                spacing="None") for s in message.sources]
        buttons = [b for b in message.buttons if b.payload]
        for i in range(0, len(buttons), 5):
            body.append({"type": "ActionSet", "actions": [
                {"type": "Action.Submit", "title": (b.title or b.payload)[:80],
                 "data": {"aios": BUTTON, "payload": b.payload, "title": (b.title or b.payload)[:80]}}
                for b in buttons[i:i + 5]]})
        out.append(Activity(type=ActivityTypes.message, attachments=[attachment(adaptive(body))]))
    return out


def chosen_card(card: dict[str, Any], *, who: str, title: str) -> dict[str, Any]:
    """A clicked reply card without its buttons, saying what was chosen."""
    body = [b for b in card.get("body", []) if b.get("type") != "ActionSet"]
    return {**card, "body": body + [text_block(safe(f"{who} chose {title}"), isSubtle=True, size="Small")]}


def approval_card(card: ApprovalCard, *, notice: str = "", teams_user_id: str | None = None) -> dict[str, Any]:
    """The card an approver sees; Action.Execute buttons while open, the outcome afterwards.

    With `teams_user_id`, Teams asks the bot for the current card whenever that person views it
    (Universal Actions `refresh`), so a card decided elsewhere never offers stale buttons.
    """
    data = {"approval_id": card.approval_id, "params_hash": card.params_hash}
    body: list[dict[str, Any]] = [text_block(safe(card.title), weight="Bolder", size="Medium")]
    if card.facts:
        body.append({"type": "FactSet", "facts": [{"title": safe(k), "value": safe(v)} for k, v in card.facts[:10]]})
    meta = [card.request_id]
    if card.stages > 1:
        meta.append(f"approval {card.stage} of {card.stages}" + (f" ({card.stage_name})" if card.stage_name else ""))
    if card.deadline is not None:
        meta.append(f"decide by {card.deadline:%Y-%m-%d %H:%M} UTC")
    body.append(text_block(safe(" · ".join(meta)), isSubtle=True, size="Small"))
    if card.note:
        body.append(text_block(safe(card.note), isSubtle=True, size="Small"))
    actions: list[dict[str, Any]] = []
    if card.status is CardStatus.OPEN:
        body.append({"type": "Input.Text", "id": "comment", "placeholder": "Comment (optional)", "isMultiline": True,
                     "maxLength": 1000})
        actions = [{"type": "Action.Execute", "title": "Approve", "verb": APPROVE, "style": "positive", "data": data},
                   {"type": "Action.Execute", "title": "Reject", "verb": REJECT, "style": "destructive", "data": data}]
    else:
        outcome = _STATUS.get(card.status, card.status.value)
        body.append(text_block(safe(f"**{outcome}**" + (f" — {card.status_text}" if card.status_text else "")),
                               color="Good" if card.status is CardStatus.APPROVED else "Default"))
    if notice:
        body.append(text_block(safe(f"⚠️ {notice}"), color="Warning"))
    extra: dict[str, Any] = {}
    if teams_user_id:
        extra["refresh"] = {"action": {"type": "Action.Execute", "verb": REFRESH, "data": data},
                            "userIds": [teams_user_id]}
    return adaptive(body, actions, **extra)
