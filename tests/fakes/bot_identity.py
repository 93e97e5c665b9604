"""Bot Framework tokens signed by a locally generated RSA key, and the JWKS that publishes it.

Plays the Bot Connector's part for inbound requests (what the Bot Connector signs when it calls
the bot) and Entra ID's part for outbound ones (the token the bot sends with its replies).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

ISSUER = "https://api.botframework.com"
APP_ID = "8e0f3c6a-5d2b-4c1e-9f4a-a105a55157a7"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


class SigningKey:
    def __init__(self, *, endorsements: list[str] | None = None) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex
        self.endorsements = endorsements if endorsements is not None else ["msteams", "emulator"]

    def jwk(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256", "endorsements": self.endorsements}


class BotIdentity:
    """The keys a JWKS server publishes, and tokens made with them (or deliberately wrong ones)."""

    def __init__(self) -> None:
        self.key = SigningKey()
        self.keys = [self.key]
        self.jwks_requests = 0

    def app(self) -> Starlette:
        async def keys(request):
            self.jwks_requests += 1
            return JSONResponse({"keys": [k.jwk() for k in self.keys]})

        return Starlette(routes=[Route("/v1/.well-known/keys", keys)])

    def token(self, *, service_url: str, audience: str = APP_ID, issuer: str = ISSUER, expires_in: int = 3600,
              key: SigningKey | None = None, kid: str | None = None, alg: str = "RS256",
              claims: dict[str, Any] | None = None) -> str:
        now = int(time.time())
        payload = {"iss": issuer, "aud": audience, "iat": now - 10, "nbf": now - 10, "exp": now + expires_in,
                   "serviceurl": service_url, "appid": "d6d49420-f39b-4df7-a1dc-d59a935871db", **(claims or {})}
        if payload.get("serviceurl") is None:
            del payload["serviceurl"]
        key = key or self.key
        headers = {"kid": kid or key.kid, "typ": "JWT"}
        if alg == "none":
            return jwt.encode(payload, None, algorithm="none", headers=headers)
        if alg == "HS256":  # the classic confusion attack: the public key used as an HMAC secret
            public_pem = key.private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
            return _hs256(payload, public_pem, headers)
        return jwt.encode(payload, key.private, algorithm=alg, headers=headers)


class LocalTokenProvider:
    """The bot's outbound credential in tests (instead of MSAL against Entra ID): a token for the Bot Connector."""

    def __init__(self, identity: BotIdentity, *, app_id: str = APP_ID) -> None:
        self.identity = identity
        self.app_id = app_id
        self.issued = 0

    @property
    def configuration(self):
        from microsoft_agents.hosting.core import AgentAuthConfiguration

        return AgentAuthConfiguration(client_id=self.app_id)

    async def get_access_token(self, resource_url: str, scopes: list[str], force_refresh: bool = False) -> str:
        self.issued += 1
        now = int(time.time())
        return jwt.encode({"iss": f"https://sts.windows.net/{TENANT}/", "aud": resource_url, "appid": self.app_id,
                           "iat": now, "nbf": now, "exp": now + 3600}, self.identity.key.private, algorithm="RS256",
                          headers={"kid": self.identity.key.kid})

    def get_token_credential(self):  # pragma: no cover - not used by the bot
        raise NotImplementedError

    def verify(self, authorization: str | None) -> dict[str, Any] | None:
        """The claims of an outbound token the fake Bot Connector received, or None if it is not ours."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme != "Bearer":
            return None
        try:
            return jwt.decode(token, self.identity.key.private.public_key(), algorithms=["RS256"],
                              audience="https://api.botframework.com")
        except jwt.PyJWTError:
            return None


def _hs256(payload: dict[str, Any], secret: bytes, headers: dict[str, Any]) -> str:
    """PyJWT refuses a PEM as an HMAC secret (rightly); an attacker would not, so sign by hand."""
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({**headers, "alg": "HS256"}).encode())
    body = b64(json.dumps(payload).encode())
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"
