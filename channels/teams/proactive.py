"""Messages the bot starts: approval cards and outcomes, sent into a person's personal chat.

The stored conversation reference is used when there is one; otherwise a personal chat is created
with the person's AAD object id in the tenant (Teams allows it once the app is installed for them).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from microsoft_agents.activity import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from microsoft_agents.hosting.core import ClaimsIdentity
from microsoft_agents.hosting.core.authorization import AuthenticationConstants

from assistant.directory import User
from channels.notify.base import Undeliverable
from channels.teams.channel import TeamsChannel

log = logging.getLogger(__name__)


async def reference_for(teams: TeamsChannel, user: User, *, seen: Activity | None = None) -> ConversationReference:
    """How to reach `user`: their stored personal chat, or a new one (Undeliverable when impossible).

    `seen` is an activity of theirs from elsewhere (a channel mention): its service URL and sender
    account start the personal chat when none is stored.
    """
    stored = await asyncio.to_thread(teams.references.get, user.id)
    if stored is not None:
        return stored
    tenant = teams.settings.teams.tenant_id
    sender = seen.from_property if seen is not None else None
    aad_id = (sender.aad_object_id if sender is not None else None) or await teams.identity.external_id(user)
    service_url = ((seen.service_url if seen is not None else None) or teams.settings.teams.service_url
                   or await asyncio.to_thread(teams.references.any_service_url, tenant))
    if not aad_id or not service_url or not teams.app_id:
        raise Undeliverable(f"no Teams conversation with {user.id} and no way to start one")
    bot = ChannelAccount(id=f"28:{teams.app_id}")
    member = ChannelAccount(id=sender.id if sender is not None and sender.id else aad_id, aad_object_id=aad_id)
    # tenant None is sent as no tenant (single-tenant bots); the SDK types it as always present.
    params = ConversationParameters(is_group=False, agent=bot, members=[member], tenant_id=tenant,  # type: ignore[arg-type]
                                    channel_data={"tenant": {"id": tenant}} if tenant else None)
    client = await _client(teams, service_url)
    try:
        created = await client.conversations.create_conversation(params)
    finally:
        await client.close()
    reference = ConversationReference(
        conversation=ConversationAccount(id=created.id, tenant_id=tenant, conversation_type="personal"),
        service_url=created.service_url or service_url, channel_id="msteams",  # type: ignore[arg-type]  # a ChannelId str
        user=member, agent=bot)
    await asyncio.to_thread(teams.references.save, user.id, reference, tenant_id=tenant)
    log.info("teams.conversation_created user=%s", user.id)
    return reference


async def send(teams: TeamsChannel, reference: ConversationReference, activity: Activity) -> str | None:
    """Send `activity` into the referenced conversation; the new activity's id."""
    _address(activity, reference)
    client = await _client(teams, reference.service_url)
    try:
        response = await client.conversations.send_to_conversation(reference.conversation.id, activity)
    finally:
        await client.close()
    return response.id if response else None


async def update(teams: TeamsChannel, reference: ConversationReference, activity_id: str, activity: Activity) -> None:
    """Replace a message the bot sent earlier (an approval card after the decision)."""
    activity.id = activity_id
    _address(activity, reference)
    client = await _client(teams, reference.service_url)
    try:
        await client.conversations.update_activity(reference.conversation.id, activity_id, activity)
    finally:
        await client.close()


def reference_of(ref: dict[str, Any]) -> ConversationReference:
    return ConversationReference.model_validate(ref)


def _address(activity: Activity, reference: ConversationReference) -> None:
    activity.conversation = reference.conversation
    activity.from_property = reference.agent
    activity.recipient = reference.user
    activity.channel_id = reference.channel_id
    activity.service_url = reference.service_url


async def _client(teams: TeamsChannel, service_url: str | None):
    if not service_url:
        raise Undeliverable("the conversation has no service URL")
    identity = ClaimsIdentity({"aud": teams.app_id, "appid": teams.app_id}, authentication_type="Bearer")
    return await teams.factory.create_connector_client(None, identity, service_url,
                                                       AuthenticationConstants.AGENTS_SDK_SCOPE)
