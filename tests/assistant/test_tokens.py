"""Login tokens: minted for directory users, refused when forged, expired or for unknown users."""

from __future__ import annotations

import time

import jwt
import pytest

from assistant.directory import Directory
from assistant.errors import BadRequest, ConfigurationError, Unauthorized
from assistant.settings import PROJECT_DIR, CoreSettings
from assistant.tokens import AUDIENCE, ISSUER, TokenService

SECRET = "s" * 40


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory.load(PROJECT_DIR / "data" / "directory.yml")


@pytest.fixture
def tokens(directory) -> TokenService:
    return TokenService(SECRET, directory, ttl_seconds=600)


def test_round_trip(tokens):
    claims = tokens.verify(tokens.mint("alice"))
    assert claims.user_id == "alice"
    assert claims.expires_at - claims.issued_at == 600


def test_unknown_user_cannot_get_a_token(tokens):
    with pytest.raises(BadRequest):
        tokens.mint("mallory")


def test_expired(tokens):
    token = tokens.mint("alice", ttl_seconds=60, now=time.time() - 3600)
    with pytest.raises(Unauthorized) as err:
        tokens.verify(token)
    assert err.value.code == "token_expired"


@pytest.mark.parametrize(
    "forge",
    [
        lambda: jwt.encode({"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "iat": int(time.time()),
                            "exp": int(time.time()) + 600}, "wrong-secret-" + "x" * 30, algorithm="HS256"),
        lambda: jwt.encode({"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "iat": int(time.time()),
                            "exp": int(time.time()) + 600}, None, algorithm="none"),
        lambda: jwt.encode({"sub": "alice", "iss": "someone-else", "aud": AUDIENCE, "iat": int(time.time()),
                            "exp": int(time.time()) + 600}, SECRET, algorithm="HS256"),
        lambda: jwt.encode({"sub": "alice", "iss": ISSUER, "aud": "other-app", "iat": int(time.time()),
                            "exp": int(time.time()) + 600}, SECRET, algorithm="HS256"),
        lambda: jwt.encode({"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "iat": int(time.time())},
                           SECRET, algorithm="HS256"),  # no expiry
        lambda: jwt.encode({"sub": "mallory", "iss": ISSUER, "aud": AUDIENCE, "iat": int(time.time()),
                            "exp": int(time.time()) + 600}, SECRET, algorithm="HS256"),
        lambda: "not-a-token",
        lambda: "",
    ],
    ids=["wrong-secret", "alg-none", "wrong-issuer", "wrong-audience", "no-expiry", "unknown-user", "garbage",
         "empty"],
)
def test_forged_tokens_are_refused(tokens, forge):
    with pytest.raises(Unauthorized):
        tokens.verify(forge())


def test_tampered_payload_is_refused(tokens):
    header, payload, signature = tokens.mint("alice").split(".")
    forged_payload = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b'"alice"', b'"frank"')
    ).decode()
    with pytest.raises(Unauthorized):
        tokens.verify(f"{header}.{forged_payload}.{signature}")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "bearer    "])
def test_bad_headers(tokens, header):
    with pytest.raises(Unauthorized):
        tokens.verify_header(header)


def test_prod_refuses_a_short_secret():
    with pytest.raises(ConfigurationError):
        CoreSettings(mode="prod", secret_key="short").check_secure()
    CoreSettings(mode="prod", secret_key="k" * 40).check_secure()
    CoreSettings(mode="dev", secret_key="short").check_secure()
