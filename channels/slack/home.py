"""The App Home tab: the person's open requests and what waits for their approval, with buttons."""

from __future__ import annotations

import logging
from typing import Any

from assistant.directory import User
from assistant.errors import AssistantError
from channels.identity import not_enrolled_text
from channels.slack import cards, mrkdwn
from channels.slack.blocks import context, section
from channels.slack.channel import SlackChannel
from workflows.approvals import card_for
from workflows.models import RequestSummary

log = logging.getLogger(__name__)

LIMIT = 10


def view(user: User | None, requests: list[RequestSummary] | None, approvals: list | None, *,
         notice: str = "") -> dict[str, Any]:
    """`requests` / `approvals` None means the workflow service could not be asked."""
    e = mrkdwn.escape
    blocks: list[dict[str, Any]] = []
    if user is None:
        return {"type": "home", "blocks": [section(e(not_enrolled_text("Slack")))]}
    blocks.append({"type": "header", "text": {"type": "plain_text", "text": f"Hi {mrkdwn.plain(user.first_name, 60)}"}})
    if notice:
        blocks.append(context(f":warning: {e(notice)}"))
    blocks.append(section("*Waiting for your approval*"))
    if approvals is None:
        blocks.append(context("Approvals are unavailable right now; try again in a moment."))
    elif not approvals:
        blocks.append(context("Nothing is waiting for you."))
    for card in (approvals or [])[:LIMIT]:
        blocks += cards.card_post(card).blocks + [{"type": "divider"}]
    blocks.append(section("*Your open requests*"))
    if requests is None:
        blocks.append(context("Your requests are unavailable right now; try again in a moment."))
    elif not requests:
        blocks.append(context("You have no open requests. Message me to file one."))
    for r in (requests or [])[:LIMIT]:
        when = f" · since {r.created_at:%Y-%m-%d}" if r.created_at else ""
        blocks.append(section(f"*{e(r.request_id)}* · {e(r.kind.value.replace('_', ' '))} · "
                              f"{e(r.state.value.replace('_', ' '))}{when}"))
    return {"type": "home", "blocks": blocks[:100]}


async def publish(slack: SlackChannel, slack_user: str, user: User | None, *, notice: str = "") -> None:
    """Render and publish the home tab of one Slack user."""
    requests = approvals = None
    if user is not None:
        services = slack.services
        try:
            client = await services.requests()
            requests = await client.list_for(user.id, open_only=True, limit=LIMIT)
            approvals = []
            for status, step in await client.pending_for(user.id, limit=LIMIT):
                requester = services.directory.find(status.requester)
                ref = step.approver(user.id)
                if ref is not None:  # always, for what pending_for returns
                    approvals.append(card_for(status, step, ref, requester.name if requester else status.requester))
        except AssistantError as exc:
            log.warning("slack.home_unavailable user=%s code=%s", user.id, exc.code)
    await slack.client.views_publish(user_id=slack_user, view=view(user, requests, approvals, notice=notice))
