"""What every Teams handler does first: know the sender, and remember how to reach them later."""

from __future__ import annotations

import asyncio
import logging

from microsoft_agents.hosting.core import TurnContext

from assistant.directory import User
from channels.teams.channel import TeamsChannel

log = logging.getLogger(__name__)


async def sender(teams: TeamsChannel, context: TurnContext) -> User | None:
    """The directory user behind the activity; their personal-chat reference is stored for proactive use."""
    user = await teams.user_for(context)
    activity = context.activity
    if user is not None and activity.conversation is not None and activity.conversation.conversation_type in (
            None, "personal"):
        reference = activity.get_conversation_reference()
        reference.activity_id = None
        await asyncio.to_thread(teams.references.save, user.id, reference,
                                tenant_id=activity.conversation.tenant_id)
    return user
