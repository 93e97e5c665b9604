"""Approve / Reject on an approval card (or in App Home), and the comment modal.

The click becomes the workflow's Update (channel "slack"); the clicked card is redrawn from the
workflow's answer at once, and every other copy follows through the card-update notifications.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from assistant.errors import AssistantError
from channels import decisions
from channels.identity import not_enrolled_text
from channels.slack import cards, home
from channels.slack.blocks import parse_button_value
from channels.slack.channel import SlackChannel

log = logging.getLogger(__name__)


def register(app: AsyncApp, slack: SlackChannel) -> None:
    @app.action(cards.APPROVE)
    @app.action(cards.REJECT)
    async def on_decision(ack, body: dict[str, Any]) -> None:
        await ack()
        action = body["actions"][0]
        decision = "approve" if action["action_id"] == cards.APPROVE else "reject"
        slack.background.spawn(decide(slack, body["user"]["id"], action.get("value", ""), decision,
                                      place=_place(body)), name="decision")

    @app.action(cards.COMMENT)
    async def on_comment(ack, body: dict[str, Any]) -> None:
        await ack()
        parsed = parse_button_value(body["actions"][0].get("value", ""))
        if parsed is None:
            return
        ref = {"a": parsed[0], "h": parsed[1], **_place(body)}
        title = next((b["text"]["text"] for b in (body.get("message") or {}).get("blocks", [])
                      if b.get("type") == "section" and b.get("text")), parsed[0])
        # The trigger id lives 3 seconds: open the modal right away, not in the background.
        await slack.client.views_open(trigger_id=body["trigger_id"], view=cards.comment_view(ref, title))

    @app.view(cards.COMMENT_VIEW)
    async def on_comment_submitted(ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view.get("state", {}).get("values", {})
        decision = ((values.get("decision", {}).get("value", {}).get("selected_option")) or {}).get("value")
        comment = (values.get("comment", {}).get("value", {}).get("value") or "").strip()
        if decision not in ("approve", "reject"):
            await ack(response_action="errors", errors={"decision": "Choose approve or reject"})
            return
        await ack()
        try:
            ref = json.loads(view.get("private_metadata") or "{}")
        except (ValueError, RecursionError):
            return
        value = json.dumps({"a": ref.get("a"), "h": ref.get("h")})
        place = {k: ref[k] for k in ("channel", "ts") if ref.get(k)}
        slack.background.spawn(decide(slack, body["user"]["id"], value, decision, comment=comment, place=place),
                               name="decision")


def _place(body: dict[str, Any]) -> dict[str, str]:
    """Where the clicked card is: a message (channel + ts) or App Home (nothing to update in place)."""
    container = body.get("container") or {}
    if container.get("type") == "message" and not container.get("is_ephemeral"):
        return {"channel": container.get("channel_id", ""), "ts": container.get("message_ts", "")}
    return {}


async def decide(slack: SlackChannel, slack_user: str, value: str, decision: str, *, comment: str = "",
                 place: dict[str, str]) -> None:
    parsed = parse_button_value(value)
    if parsed is None:
        log.warning("slack.bad_card_value user=%s", slack_user)
        return
    approval_id, params_hash = parsed
    user = await slack.user_for(slack_user)
    if user is None:
        await slack.client.chat_postMessage(channel=slack_user, text=not_enrolled_text("Slack"))
        return
    services = slack.services
    notice = ""
    try:
        await decisions.decide(services, user, approval_id=approval_id, decision=decision, params_hash=params_hash,
                               comment=comment, channel="slack")
        log.info("slack.decision approval=%s user=%s decision=%s", approval_id, user.id, decision)
    except AssistantError as exc:  # not an approver, already decided, stale, expired, or Temporal is down
        notice = exc.message
        log.info("slack.decision_refused approval=%s user=%s code=%s", approval_id, user.id, exc.code)
    try:
        card = await decisions.current_card(services, user, approval_id)
    except AssistantError as exc:  # e.g. not an approver of this request: nothing of theirs to redraw
        card = None
        notice = notice or exc.message
    if place.get("channel") and place.get("ts"):
        if card is not None:
            await slack.client.chat_update(channel=place["channel"], ts=place["ts"], **cards.card_post(card).kwargs())
        if notice:  # only the clicker sees why their click did not count
            await slack.client.chat_postEphemeral(channel=place["channel"], user=slack_user, text=notice)
    else:
        await home.publish(slack, slack_user, user, notice=notice)
