"""The company's OpenID Connect provider, seen from the gateway: authorization code flow with PKCE.

Authlib speaks OAuth 2 (the authorization URL with its S256 code challenge, the code exchange);
joserfc checks the ID token: signature against the provider's published keys, issuer, audience
(and `azp` when there are several), expiry, issue time and the nonce of this sign-in. The
provider's discovery document and keys are fetched on first use and kept for an hour; a key id
the cached set lacks (the provider rotated its keys) fetches them again, at most once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from assistant.errors import ServiceUnavailable, Unauthorized
from assistant.settings.oidc import OidcSettings

log = logging.getLogger(__name__)

METADATA_SECONDS = 3600.0
KEY_REFETCH_SECONDS = 60.0
# Asymmetric signatures only: "none" and the HMAC algorithms (keyed with the client secret) are refused.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class SignInFailed(Unauthorized):
    code = "sign_in_failed"


@dataclass(frozen=True)
class Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    userinfo_endpoint: str | None


class OidcClient:
    """One provider (the configured issuer) for one client id."""

    def __init__(self, settings: OidcSettings, *, redirect_uri: str) -> None:
        self.settings = settings
        self.redirect_uri = redirect_uri
        self._http = httpx.AsyncClient(timeout=settings.timeout_seconds, verify=settings.ca_file or True)
        self._oauth = self._oauth_client()  # only builds authorization URLs: holds no one's tokens
        self._metadata: tuple[float, Metadata] | None = None
        self._keys: tuple[float, KeySet] | None = None
        self._lock = asyncio.Lock()

    def _oauth_client(self) -> AsyncOAuth2Client:
        settings = self.settings
        secret = settings.client_secret.get_secret_value() if settings.client_secret else None
        return AsyncOAuth2Client(
            client_id=settings.client_id, client_secret=secret, scope=settings.scopes,
            redirect_uri=self.redirect_uri, code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if secret else "none",
            timeout=settings.timeout_seconds, verify=settings.ca_file or True)

    async def close(self) -> None:
        await self._http.aclose()
        await self._oauth.aclose()

    async def metadata(self) -> Metadata:
        async with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata[0] > METADATA_SECONDS:
                doc = await self._get_json(self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration")
                try:
                    found = Metadata(issuer=doc["issuer"], authorization_endpoint=doc["authorization_endpoint"],
                                     token_endpoint=doc["token_endpoint"], jwks_uri=doc["jwks_uri"],
                                     end_session_endpoint=doc.get("end_session_endpoint"),
                                     userinfo_endpoint=doc.get("userinfo_endpoint"))
                except (KeyError, TypeError) as exc:
                    raise ServiceUnavailable(f"the sign-in provider's discovery document lacks {exc}") from exc
                if found.issuer.rstrip("/") != self.settings.issuer.rstrip("/"):
                    # OIDC Discovery 4.3: the document must be the issuer's own.
                    raise ServiceUnavailable(f"the sign-in provider says its issuer is {found.issuer!r}, "
                                             f"not the configured {self.settings.issuer!r}")
                self._metadata = (time.monotonic(), found)
            return self._metadata[1]

    async def authorization_url(self, *, state: str, nonce: str, verifier: str) -> str:
        meta = await self.metadata()
        url, _ = self._oauth.create_authorization_url(meta.authorization_endpoint, state=state, nonce=nonce,
                                                     code_verifier=verifier)
        return url

    async def exchange(self, code: str, *, verifier: str) -> dict[str, Any]:
        """The provider's tokens for an authorization code (refused: SignInFailed)."""
        meta = await self.metadata()
        try:
            # A client of its own per exchange: Authlib's client keeps the token it fetched.
            async with self._oauth_client() as oauth:
                token = await oauth.fetch_token(meta.token_endpoint, grant_type="authorization_code", code=code,
                                                code_verifier=verifier, redirect_uri=self.redirect_uri)
        except OAuthError as exc:
            log.info("oidc.exchange_refused error=%s", exc.error)
            raise SignInFailed(f"the sign-in provider refused the code ({exc.error})") from exc
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"the sign-in provider did not answer: {type(exc).__name__}") from exc
        if not isinstance(token, dict) or not isinstance(token.get("id_token"), str):
            raise SignInFailed("the sign-in provider returned no ID token")
        return dict(token)

    async def validate_id_token(self, id_token: str, *, nonce: str, now: float | None = None) -> dict[str, Any]:
        """The claims of `id_token` if it is this provider's, for this client, current, and for this nonce."""
        meta = await self.metadata()
        keys = await self._key_set(refresh=False)
        try:
            try:
                token = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
            except (JoseError, ValueError):
                fresh = await self._key_set(refresh=True)  # the provider may have rotated its keys
                if fresh is keys:
                    raise
                token = jwt.decode(id_token, fresh, algorithms=list(ALGORITHMS))
            registry = jwt.JWTClaimsRegistry(
                now=int(time.time() if now is None else now), leeway=self.settings.clock_skew_seconds,
                iss={"essential": True, "value": meta.issuer},
                aud={"essential": True, "value": self.settings.client_id},
                sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
                nonce={"essential": True, "value": nonce})
            registry.validate(token.claims)
        except (JoseError, ValueError) as exc:
            log.info("oidc.id_token_refused reason=%s", type(exc).__name__)
            raise SignInFailed(f"the ID token was refused: {exc}") from exc
        claims = dict(token.claims)
        audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audience) > 1 and claims.get("azp") != self.settings.client_id:
            raise SignInFailed("the ID token names several audiences and another authorized party")
        return claims

    async def with_userinfo(self, claims: dict[str, Any], access_token: str | None, *,
                            wanted: str) -> dict[str, Any]:
        """`claims`, completed from the UserInfo endpoint when the ID token lacks `wanted`.

        Providers that follow OIDC Core 5.4 strictly put scope claims (email, name) only in UserInfo
        when they also issue an access token. Its answer counts only for the same subject (5.3.2).
        """
        meta = await self.metadata()
        if wanted in claims or not access_token or not meta.userinfo_endpoint:
            return claims
        try:
            response = await self._http.get(meta.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"})
            response.raise_for_status()
            info = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceUnavailable(f"the sign-in provider's UserInfo did not answer: {type(exc).__name__}") from exc
        if not isinstance(info, dict) or info.get("sub") != claims.get("sub"):
            raise SignInFailed("the provider's UserInfo names another subject than the ID token")
        return {**info, **claims}

    async def end_session_url(self, *, id_token: str, post_logout_redirect_uri: str) -> str | None:
        meta = await self.metadata()
        if not meta.end_session_endpoint:
            return None
        params = {"post_logout_redirect_uri": post_logout_redirect_uri, "client_id": self.settings.client_id}
        if id_token:
            params["id_token_hint"] = id_token
        return str(httpx.URL(meta.end_session_endpoint, params=params))

    async def probe(self) -> str:
        """What `aios doctor` says of the provider: its discovery document and keys read, or why not."""
        meta = await self.metadata()
        keys = await self._key_set(refresh=False)
        logout = "an end-session endpoint" if meta.end_session_endpoint else "no end-session endpoint"
        return f"{meta.issuer}: discovery and {len(keys.keys)} signing key(s) read, {logout}"

    async def _key_set(self, *, refresh: bool) -> KeySet:
        meta = await self.metadata()
        async with self._lock:
            age = time.monotonic() - self._keys[0] if self._keys else None
            stale = age is None or age > METADATA_SECONDS or (refresh and age > KEY_REFETCH_SECONDS)
            if stale:
                doc = await self._get_json(meta.jwks_uri)
                try:
                    self._keys = (time.monotonic(), KeySet.import_key_set(doc))
                except (JoseError, ValueError, KeyError, TypeError) as exc:
                    raise ServiceUnavailable(f"the sign-in provider's keys could not be read: {exc}") from exc
            assert self._keys is not None
            return self._keys[1]

    async def _get_json(self, url: str) -> Any:
        try:
            response = await self._http.get(url)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceUnavailable(f"the sign-in provider did not answer {url}: {type(exc).__name__}") from exc
