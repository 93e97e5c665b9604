"""Approve / Reject (and refresh) on an approval card: Action.Execute answered with the current card.

The decision is the workflow's Update (channel "teams"); the invoke response redraws the card at
once, and every other copy (other approvers, other channels) follows through the card updates.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from microsoft_agents.activity import AdaptiveCardInvokeResponse
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from assistant.errors import AssistantError
from channels import decisions
from channels.identity import not_enrolled_text
from channels.teams import cards
from channels.teams.channel import TeamsChannel
from channels.teams.handlers.common import sender

log = logging.getLogger(__name__)


def _message(text: str) -> AdaptiveCardInvokeResponse:
    return AdaptiveCardInvokeResponse(status_code=200, type="application/vnd.microsoft.activity.message", value=text)


def register(agent: AgentApplication, teams: TeamsChannel) -> None:
    @agent.adaptive_card.action_execute(cards.VERBS)
    async def on_execute(context: TurnContext, state: TurnState, data: Any) -> AdaptiveCardInvokeResponse:
        return await execute(teams, context, data if isinstance(data, dict) else {})


async def execute(teams: TeamsChannel, context: TurnContext, data: dict[str, Any]) -> AdaptiveCardInvokeResponse:
    value = context.activity.value if isinstance(context.activity.value, dict) else {}
    verb = (value.get("action") or {}).get("verb", "")
    approval_id, params_hash = str(data.get("approval_id") or ""), str(data.get("params_hash") or "")
    user = await sender(teams, context)
    if user is None:
        return _message(not_enrolled_text("Teams"))
    services = teams.services
    notice = ""
    if verb in (cards.APPROVE, cards.REJECT):
        decision = "approve" if verb == cards.APPROVE else "reject"
        try:
            await decisions.decide(services, user, approval_id=approval_id, decision=decision,
                                   params_hash=params_hash, comment=str(data.get("comment") or ""), channel="teams")
            log.info("teams.decision approval=%s user=%s decision=%s", approval_id, user.id, decision)
        except AssistantError as exc:
            notice = exc.message
            log.info("teams.decision_refused approval=%s user=%s code=%s", approval_id, user.id, exc.code)
    try:
        card = await decisions.current_card(services, user, approval_id)
    except AssistantError as exc:
        return _message(notice or exc.message)
    activity = context.activity
    if activity.reply_to_id and activity.conversation is not None:
        ref = activity.get_conversation_reference()
        ref.activity_id = activity.reply_to_id
        await asyncio.to_thread(teams.copies.add, card.approval_id, user.id, "teams",
                                f"{activity.conversation.id}:{activity.reply_to_id}",
                                {"reference": ref.model_dump(mode="json", by_alias=True, exclude_none=True),
                                 "activity_id": activity.reply_to_id})
    sender_id = activity.from_property.id if activity.from_property else None
    return AdaptiveCardInvokeResponse(status_code=200, type=cards.CARD,
                                      value=cards.approval_card(card, notice=notice, teams_user_id=sender_id))
