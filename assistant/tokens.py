"""Signed, expiring login tokens for directory users (HS256 JWT)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

from assistant.directory import Directory
from assistant.errors import BadRequest, Unauthorized
from assistant.revocations import Revocations

ISSUER = "aios"
AUDIENCE = "aios-gateway"
ALGORITHM = "HS256"
LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    issued_at: int
    expires_at: int
    token_id: str


class TokenService:
    """Mints and verifies gateway tokens. The user id inside is the only source of identity."""

    def __init__(self, secret: str, directory: Directory, *, ttl_seconds: int,
                 revocations: Revocations | None = None) -> None:
        if not secret:
            raise ValueError("token secret must not be empty")
        self._secret = secret
        self._directory = directory
        self._ttl = ttl_seconds
        self._revocations = revocations

    def mint(self, user_id: str, *, ttl_seconds: int | None = None, now: float | None = None) -> str:
        if user_id not in self._directory:
            raise BadRequest(f"unknown user {user_id!r}: not in the directory", code="unknown_user")
        ttl = self._ttl if ttl_seconds is None else ttl_seconds
        if ttl <= 0:
            raise BadRequest("token lifetime must be positive")
        issued = int(time.time() if now is None else now)
        claims = {
            "sub": user_id,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": issued,
            "exp": issued + ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> TokenClaims:
        """Claims of a valid token for a current directory user; Unauthorized otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["sub", "exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("your login token has expired; ask for a new one", code="token_expired") from None
        except jwt.InvalidTokenError:
            raise Unauthorized("invalid login token", code="invalid_token") from None
        user_id = claims["sub"]
        if not isinstance(user_id, str) or user_id not in self._directory:
            raise Unauthorized("this token's user is not in the directory", code="unknown_user")
        verified = TokenClaims(
            user_id=user_id,
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
            token_id=str(claims.get("jti", "")),
        )
        if self._revocations is not None and self._revocations.is_revoked(
                token_id=verified.token_id, user_id=user_id, issued_at=verified.issued_at):
            raise Unauthorized("this login token has been revoked; ask for a new one", code="token_revoked")
        return verified

    def inspect(self, token: str) -> TokenClaims:
        """The claims of a token this service signed, expired or not (to revoke it)."""
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                                issuer=ISSUER, options={"verify_exp": False, "require": ["sub", "exp", "iat"]})
        except jwt.InvalidTokenError:
            raise BadRequest("not a login token of this install", code="invalid_token") from None
        return TokenClaims(user_id=str(claims["sub"]), issued_at=int(claims["iat"]),
                           expires_at=int(claims["exp"]), token_id=str(claims.get("jti", "")))

    def verify_header(self, authorization: str | None) -> TokenClaims:
        if not authorization:
            raise Unauthorized("missing Authorization header (expected: Bearer <token>)", code="missing_token")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Authorization header must be: Bearer <token>", code="missing_token")
        return self.verify(token.strip())
