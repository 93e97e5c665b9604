"""The app added to a personal chat (or a team): remember the conversation and say hello."""

from __future__ import annotations

from microsoft_agents.activity import ActivityTypes
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from channels.teams import replies
from channels.teams.channel import TeamsChannel
from channels.teams.handlers.common import sender

WELCOME = ("Hi {name}! I answer questions from the company's documents and file requests for you (time off, "
           "access, expenses, IT problems). Approval requests for you will show up here as cards.")


def register(agent: AgentApplication, teams: TeamsChannel) -> None:
    @agent.activity([ActivityTypes.conversation_update, ActivityTypes.installation_update])
    async def on_install(context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        if activity.type == ActivityTypes.installation_update and activity.action not in (None, "add", "add-upgrade"):
            return
        bot_id = activity.recipient.id if activity.recipient else None
        if activity.type == ActivityTypes.conversation_update and not any(
                m.id == bot_id for m in activity.members_added or []):
            return
        user = await sender(teams, context)
        personal = activity.conversation is not None and activity.conversation.conversation_type in (None, "personal")
        if user is not None and personal:
            await replies.say(context, WELCOME.format(name=user.first_name))
