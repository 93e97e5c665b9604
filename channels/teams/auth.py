"""Inbound requests from the Bot Connector: a JWT checked before any activity is read.

Checked: RS256 only (no `none`, no HMAC), a signing key from the configured JWKS (its
endorsements must include the activity's channel), issuer, audience = our app id, expiry and
not-before with the configured clock skew, and the `serviceurl` claim = the activity's serviceUrl.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

import jwt
from microsoft_agents.hosting.core import ClaimsIdentity

from assistant.errors import Unauthorized
from assistant.settings.teams import TeamsSettings
from channels import metrics
from channels.teams.jwks import SigningKeys

log = logging.getLogger(__name__)


class BotTokenValidator:
    def __init__(self, settings: TeamsSettings, keys: SigningKeys) -> None:
        self.settings = settings
        self.keys = keys

    async def validate(self, authorization: str | None, activity: dict[str, Any]) -> ClaimsIdentity:
        """The caller's claims; raises Unauthorized (401) for anything but a valid Bot Connector token."""
        if self.settings.anonymous:  # dev mode without an app id (Bot Framework Emulator); refused elsewhere
            return ClaimsIdentity({}, authentication_type="anonymous")
        token = _bearer(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise refuse("malformed token") from None
        if header.get("alg") != "RS256":
            raise refuse(f"algorithm {header.get('alg')!r} is not accepted")
        found = await self.keys.get(str(header.get("kid") or ""))
        if found is None:
            raise refuse("unknown signing key")
        key, endorsements = found
        channel_id = str(activity.get("channelId") or "")
        if endorsements and channel_id not in endorsements:
            raise refuse(f"the signing key is not endorsed for channel {channel_id!r}")
        try:
            claims = jwt.decode(token, key=key, algorithms=["RS256"], audience=self.settings.app_id,
                                issuer=self.settings.issuer_list, leeway=self.settings.leeway_seconds,
                                options={"require": ["exp", "iss", "aud"]})
        except jwt.PyJWTError as exc:
            raise refuse(type(exc).__name__) from None
        if not _same_service(claims.get("serviceurl"), activity.get("serviceUrl")):
            raise refuse("the serviceurl claim does not match the activity")
        return ClaimsIdentity(claims, authentication_type="Bearer", security_token=token)


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise refuse("no bearer token")
    return token.strip()


def _same_service(claim: Any, activity_url: Any) -> bool:
    if not isinstance(claim, str) or not isinstance(activity_url, str):
        return False
    a, b = urlparse(claim), urlparse(activity_url)
    return (a.scheme.lower(), (a.netloc or "").lower(), a.path.rstrip("/")) == (
        b.scheme.lower(), (b.netloc or "").lower(), b.path.rstrip("/"))


def refuse(reason: str) -> Unauthorized:
    log.warning("teams.token_refused reason=%s", reason)
    metrics.CHANNEL_REFUSALS.labels(channel="teams", reason="invalid_token").inc()
    return Unauthorized("the request does not carry a valid Bot Connector token", code="invalid_token")
