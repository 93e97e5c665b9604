"""The Teams side of the gateway: the Agents SDK application and adapter, and what its handlers share."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import (
    AgentApplication,
    ClaimsIdentity,
    MemoryStorage,
    TurnContext,
    TurnState,
)
from microsoft_agents.hosting.core.authorization import AccessTokenProviderBase, AnonymousTokenProvider
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from microsoft_agents.hosting.fastapi import CloudAdapter
from sqlalchemy import Engine

from assistant.directory import Directory, User
from assistant.settings import Settings
from channels.background import Background
from channels.conversation import TurnFn
from channels.conversation import turn as chat_turn
from channels.dedup import EventClaims
from channels.identity import ChannelIdentity
from channels.notify.copies import CardCopies
from channels.services import GatewayServices
from channels.teams.auth import BotTokenValidator
from channels.teams.connector import ConnectorFactory, msal_tokens
from channels.teams.jwks import SigningKeys
from channels.teams.references import ConversationReferences
from channels.teams.sent import SentCards

log = logging.getLogger(__name__)



class _Connections:
    """The SDK's connection manager, reduced to the one app registration this bot has."""

    def __init__(self, tokens: AccessTokenProviderBase | None) -> None:
        self._tokens = tokens or AnonymousTokenProvider()

    def get_connection(self, connection_name: str) -> AccessTokenProviderBase:
        return self._tokens

    def get_default_connection(self) -> AccessTokenProviderBase:
        return self._tokens

    def get_token_provider(self, claims_identity: ClaimsIdentity, service_url: str) -> AccessTokenProviderBase:
        return self._tokens

    def get_token_provider_from_activity(self, claims_identity: ClaimsIdentity,
                                         activity: Activity) -> AccessTokenProviderBase:
        return self._tokens

    def get_default_connection_configuration(self):
        return self._tokens.configuration


@dataclass(eq=False, repr=False)
class TeamsChannel:
    settings: Settings
    services_of: Callable[[], GatewayServices]
    agent: AgentApplication[TurnState]
    adapter: CloudAdapter
    factory: ConnectorFactory
    validator: BotTokenValidator
    identity: ChannelIdentity
    claims: EventClaims
    copies: CardCopies
    references: ConversationReferences
    background: Background = field(default_factory=lambda: Background("teams"))
    sent: SentCards = field(default_factory=SentCards)
    turn: TurnFn = chat_turn  # one turn through Rasa; tests of the Teams side alone may swap it

    @property
    def services(self) -> GatewayServices:
        return self.services_of()

    @property
    def app_id(self) -> str:
        return self.settings.teams.app_id or ""

    def use_tokens(self, tokens: AccessTokenProviderBase | None) -> None:
        """Outbound token provider (MSAL from settings by default; tests sign their own)."""
        self.factory.tokens = tokens

    async def user_for(self, context: TurnContext) -> User | None:
        """The directory user who sent this activity: by AAD object id, else by their UPN / e-mail."""
        sender = context.activity.from_property
        if sender is None:
            return None
        external = sender.aad_object_id or sender.id

        async def email(_: str) -> str | None:
            # The SDK's service registry is keyed by the abstract class.
            client = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
            if client is None or not hasattr(client, "get_conversation_member"):
                return None
            try:
                member = await client.get_conversation_member(context.activity.conversation.id, sender.id)
            except Exception as exc:  # noqa: BLE001 - no e-mail known means "not enrolled", not an error
                log.warning("teams.member_lookup_failed error=%s", type(exc).__name__)
                return None
            return member.user_principal_name or member.email

        return await self.identity.resolve(external, email=email)

    async def close(self) -> None:
        await self.background.close()


def build_teams(settings: Settings, *, services_of: Callable[[], GatewayServices], engine: Engine,
                directory: Directory) -> TeamsChannel:
    """The Teams bot for `settings.teams` (no network until the first activity)."""
    from channels.teams.handlers import register_all

    t = settings.teams
    tokens = msal_tokens(t)
    factory = ConnectorFactory(t, tokens)
    adapter = CloudAdapter(channel_service_client_factory=factory)
    agent: AgentApplication[TurnState] = AgentApplication[TurnState](
        storage=MemoryStorage(), connection_manager=_Connections(tokens), start_typing_timer=False,
        remove_recipient_mention=True)

    def http() -> httpx.AsyncClient:
        return services_of().http

    teams = TeamsChannel(
        settings=settings, services_of=services_of, agent=agent, adapter=adapter, factory=factory,
        validator=BotTokenValidator(t, SigningKeys(t.jwks_url, http, timeout=t.http_timeout_seconds,
                                                   max_age=t.jwks_refresh_seconds)),
        identity=ChannelIdentity(directory, engine, channel="teams",
                                 cache_seconds=t.identity_cache_seconds),
        claims=EventClaims(engine, ttl_seconds=t.dedup_ttl_seconds),
        copies=CardCopies(engine),
        references=ConversationReferences(engine),
    )
    register_all(agent, teams)
    return teams
