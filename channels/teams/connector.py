"""Outbound calls to the Bot Connector: clients with timeouts, and the bot's own access token.

The SDK's default factory opens sessions without a timeout and asks for a user-token client on
every turn; this one bounds every call and never signs people in (the assistant does not need it).
"""

from __future__ import annotations

import logging

from aiohttp import ClientSession, ClientTimeout
from microsoft_agents.hosting.core import ClaimsIdentity, TurnContext
from microsoft_agents.hosting.core.authorization import AccessTokenProviderBase, AuthenticationConstants
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from microsoft_agents.hosting.core.connector.client import UserTokenClient
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

from assistant.settings.teams import TeamsSettings

log = logging.getLogger(__name__)

SCOPE = AuthenticationConstants.AGENTS_SDK_SCOPE + "/.default"


def msal_tokens(settings: TeamsSettings) -> AccessTokenProviderBase | None:
    """Client-credentials tokens from Entra ID for the bot's app registration; None without a secret."""
    if settings.app_id is None or settings.app_password is None:
        return None
    from microsoft_agents.authentication.msal import MsalAuth
    from microsoft_agents.hosting.core import AgentAuthConfiguration

    return MsalAuth(AgentAuthConfiguration(
        client_id=settings.app_id, client_secret=settings.app_password.get_secret_value(),
        tenant_id=settings.tenant_id or "botframework.com", scopes=[SCOPE]))


class ConnectorFactory:
    """A ChannelServiceClientFactoryBase for the adapter (and for proactive sends)."""

    def __init__(self, settings: TeamsSettings, tokens: AccessTokenProviderBase | None) -> None:
        self.settings = settings
        self.tokens = tokens

    async def token(self) -> str:
        if self.tokens is None:
            return ""  # dev mode without a secret: the Emulator accepts unauthenticated replies
        return await self.tokens.get_access_token(AuthenticationConstants.AGENTS_SDK_SCOPE, [SCOPE])

    async def create_connector_client(self, context: TurnContext | None, claims_identity: ClaimsIdentity,
                                      service_url: str, audience: str, scopes: list[str] | None = None,
                                      use_anonymous: bool = False) -> ConnectorClientBase:
        if not service_url:
            raise TypeError("service_url is required")
        endpoint = service_url if service_url.endswith("/") else service_url + "/"
        session = ClientSession(base_url=endpoint,
                                timeout=ClientTimeout(total=self.settings.http_timeout_seconds))
        return TeamsConnectorClient(endpoint=endpoint, token=await self.token(), session=session)

    async def create_user_token_client(self, context: TurnContext, claims_identity: ClaimsIdentity,
                                       use_anonymous: bool = False) -> UserTokenClient:
        # Required by the adapter's turn pipeline; never called over the network here (no user sign-in).
        session = ClientSession(base_url=AuthenticationConstants.AGENTS_SDK_OAUTH_URL + "/",
                                timeout=ClientTimeout(total=self.settings.http_timeout_seconds))
        return UserTokenClient(AuthenticationConstants.AGENTS_SDK_OAUTH_URL, "", app_id=self.settings.app_id or "dev",
                               session=session)
