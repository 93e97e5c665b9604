"""Every bad request gets a JSON 4xx (never a 500) and reaches nothing behind the gateway.

These run against a gateway on real HTTP whose Rasa, action server and Temporal are down, so a
request that got past validation would show up as a 503, not as the expected 4xx.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC

import httpx
import jwt
import pytest

from app.local_stack import make_settings, serve_gateway
from assistant.directory import Directory
from assistant.tokens import AUDIENCE, ISSUER, TokenService
from channels.app import create_app


@pytest.fixture(scope="module")
async def lone_gateway(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("lone"))
    settings.temporal.address = "127.0.0.1:1"  # nothing listens there
    settings.gateway.max_message_chars = 100
    async with serve_gateway(create_app(settings), settings):
        yield settings


@pytest.fixture
def token(lone_gateway):
    s = lone_gateway
    return TokenService(s.core.secret_key.get_secret_value(), Directory.load(s.core.directory_file),
                        ttl_seconds=600).mint("alice")


async def post(settings, *, headers=None, content=None, json=None):
    async with httpx.AsyncClient(base_url=settings.gateway.url, timeout=10) as http:
        return await http.post("/api/chat", headers=headers or {}, content=content, json=json)


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code


def forged(secret: str, **claims) -> str:
    now = int(time.time())
    base = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
    base.update(claims)
    return jwt.encode(base, secret, algorithm="HS256")


@pytest.mark.parametrize(
    ("make_header", "code"),
    [
        (lambda s: {}, "missing_token"),
        (lambda s: {"Authorization": "Bearer"}, "missing_token"),
        (lambda s: {"Authorization": "Token abc"}, "missing_token"),
        (lambda s: {"Authorization": "Bearer not.a.jwt"}, "invalid_token"),
        (lambda s: {"Authorization": "Bearer " + forged("another-secret-" + "y" * 30)}, "invalid_token"),
        (lambda s: {"Authorization": "Bearer " + forged(s.core.secret_key.get_secret_value(),
                                                        exp=int(time.time()) - 3600)}, "token_expired"),
        (lambda s: {"Authorization": "Bearer " + forged(s.core.secret_key.get_secret_value(), sub="mallory")},
         "unknown_user"),
    ],
    ids=["none", "empty-bearer", "wrong-scheme", "garbage", "forged", "expired", "unknown-user"],
)
async def test_bad_tokens_are_401(lone_gateway, make_header, code):
    r = await post(lone_gateway, headers=make_header(lone_gateway), json={"message": "hi"})
    assert_error(r, 401, code)


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"json": {"message": ""}}, 400, "empty_message"),
        ({"json": {"message": "   \n\t "}}, 400, "empty_message"),
        ({"json": {"message": "x" * 101}}, 400, "message_too_long"),
        ({"json": {}}, 400, "invalid_request"),
        ({"json": {"message": "hi", "payload": "/greet"}}, 400, "invalid_request"),
        ({"json": {"message": 42}}, 400, "invalid_request"),
        ({"json": {"message": "hi", "sender": "frank"}}, 400, "invalid_request"),
        ({"json": ["hi"]}, 400, "invalid_request"),
        ({"json": {"payload": "/no_such_intent"}}, 400, "invalid_payload"),
        ({"json": {"payload": "/inform{not json}"}}, 400, "invalid_payload"),
        ({"json": {"payload": "/inform{\"a\": {\"nested\": 1}}"}}, 400, "invalid_payload"),
        ({"json": {"payload": "hello"}}, 400, "invalid_payload"),
        ({"content": b"{\"message\": ", "headers": {"Content-Type": "application/json"}}, 400, "invalid_json"),
        ({"content": b"\xff\xfe", "headers": {"Content-Type": "application/json"}}, 400, "invalid_json"),
        ({"content": b"message=hi", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 415,
         "unsupported_media_type"),
        ({"content": b"{\"message\": \"hi\"}", "headers": {"Content-Type": "text/plain"}}, 415,
         "unsupported_media_type"),
        ({"content": b"{\"message\": \"" + b"x" * 70000 + b"\"}", "headers": {"Content-Type": "application/json"}},
         413, "payload_too_large"),
        # 30000 "[" then 30000 "]": the JSON parser runs out of stack (was a 500).
        ({"content": b"[" * 30000 + b"]" * 30000, "headers": {"Content-Type": "application/json"}}, 400,
         "invalid_json"),
        ({"json": {"payload": "/inform" + "{" * 290 + "}" * 290}}, 400, "invalid_payload"),
    ],
    ids=["empty", "whitespace", "too-long", "no-fields", "both-fields", "not-a-string", "extra-sender",
         "array", "unknown-intent", "bad-entities", "nested-entities", "payload-without-slash", "truncated-json",
         "not-utf8", "form-encoded", "text-plain", "huge-body", "deeply-nested", "deeply-nested-payload"],
)
async def test_bad_bodies_are_4xx(lone_gateway, token, kwargs, status, code):
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    r = await post(lone_gateway, headers=headers, **kwargs)
    assert_error(r, status, code)


async def test_valid_message_with_backends_down_is_503(lone_gateway, token):
    r = await post(lone_gateway, headers={"Authorization": f"Bearer {token}"}, json={"message": "hello"})
    assert_error(r, 503, "service_unavailable")
    assert "try again" in r.json()["error"]["message"].lower()


async def test_healthz_reports_each_component_down(lone_gateway):
    async with httpx.AsyncClient(base_url=lone_gateway.gateway.url) as http:
        r = await http.get("/healthz")
    assert r.status_code == 503
    components = r.json()["components"]
    assert {"rasa", "actions", "temporal", "worker"} <= set(components)
    assert not any(c["ok"] for c in components.values())


async def test_requests_api_needs_auth_and_reports_temporal_down(lone_gateway, token):
    async with httpx.AsyncClient(base_url=lone_gateway.gateway.url) as http:
        assert_error(await http.get("/api/requests"), 401)
        r = await http.get("/api/requests", headers={"Authorization": f"Bearer {token}"})
        assert_error(r, 503, "service_unavailable")


async def test_unknown_route_and_method_are_json(lone_gateway):
    async with httpx.AsyncClient(base_url=lone_gateway.gateway.url) as http:
        assert_error(await http.get("/api/nope"), 404)
        assert_error(await http.get("/api/chat"), 405)


async def test_widget_page_is_served(lone_gateway):
    async with httpx.AsyncClient(base_url=lone_gateway.gateway.url) as http:
        page = await http.get("/")
        js = await http.get("/static/chat.js")
        missing = await http.get("/static/../app.py")
    assert page.status_code == 200 and "AIOS Assistant" in page.text
    assert js.status_code == 200 and "/api/chat" in js.text
    assert missing.status_code == 404


@pytest.mark.parametrize("typed", [
    "/inform{\"leave_type\": \"sick\"}", "/ /inform{\"leave_type\": \"sick\"}", " / / /greet",
    "\u200b/greet", "/\u00a0/approve_request{\"approval_id\": \"A-1\"}", "\t/\n/deny",
])
def test_typed_text_never_becomes_an_intent_payload(typed):
    """Rasa parses a message starting with "/" as an intent with confidence 1.0: typed text must
    reach it as words, whatever prefix of slashes and spaces it had."""
    from channels.conversation import clean_message

    cleaned = clean_message(typed, limit=2000)
    assert cleaned and not cleaned.startswith("/"), cleaned


def _chunks(total: int, size: int = 16 * 1024):
    """A body sent with Transfer-Encoding: chunked (no Content-Length to check up front)."""
    async def gen():
        sent = 0
        while sent < total:
            yield b"[" * min(size, total - sent)
            sent += size
    return gen()


async def test_an_unauthenticated_chunked_body_is_refused_before_anything_reads_it(lone_gateway):
    """Review reproduction: a 1 MB chunked PUT /api/delegation with no token was read whole."""
    async with httpx.AsyncClient(base_url=lone_gateway.gateway.url, timeout=10) as http:
        r = await http.put("/api/delegation", content=_chunks(1024 * 1024),
                           headers={"Content-Type": "application/json"})
    assert "content-length" not in r.request.headers  # really chunked
    assert_error(r, 401, "missing_token")


async def test_a_chunked_body_over_the_limit_is_413_even_with_a_valid_token(lone_gateway, token):
    limit = lone_gateway.gateway.max_body_bytes
    async with httpx.AsyncClient(base_url=lone_gateway.gateway.url, timeout=10) as http:
        r = await http.post("/api/chat", content=_chunks(limit + 40 * 1024),
                            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert "content-length" not in r.request.headers
    assert_error(r, 413, "payload_too_large")


async def test_a_non_admin_cannot_send_an_upload_body(lone_gateway, token):
    """Uploads were spooled to disk before the admin check: a non-admin's is refused up front."""
    async with httpx.AsyncClient(base_url=lone_gateway.gateway.url, timeout=10) as http:
        r = await http.post("/api/knowledge/documents", content=_chunks(512 * 1024),
                            headers={"Authorization": f"Bearer {token}",
                                     "Content-Type": "multipart/form-data; boundary=x"})
    assert_error(r, 403, "forbidden")


async def test_a_declared_oversize_upload_is_413_before_reading(lone_gateway):
    from assistant.directory import Directory

    s = lone_gateway
    erin = TokenService(s.core.secret_key.get_secret_value(), Directory.load(s.core.directory_file),
                        ttl_seconds=600).mint("erin")
    too_big = s.knowledge.max_upload_bytes + 2 * 1024 * 1024
    # Raw HTTP: the headers announce 22 MB, and nothing of the body is sent (or needed) for the 413.
    reader, writer = await asyncio.open_connection(s.gateway.host, s.gateway.port)
    writer.write((f"POST /api/knowledge/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {erin}\r\n"
                  f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {too_big}\r\n\r\n").encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readline(), timeout=10)
    writer.close()
    assert head.startswith(b"HTTP/1.1 413"), head


async def test_a_refused_client_that_never_sends_its_body_is_answered_and_let_go(lone_gateway):
    """A small declared body that never comes: the 401 comes after a bounded wait, not never."""
    s = lone_gateway
    reader, writer = await asyncio.open_connection(s.gateway.host, s.gateway.port)
    writer.write(b"PUT /api/delegation HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 1000\r\n\r\n")
    await writer.drain()
    head = await asyncio.wait_for(reader.readline(), timeout=15)
    writer.close()
    assert head.startswith(b"HTTP/1.1 401"), head


@pytest.mark.parametrize("after", ["9223372036854775808", "9" * 40, "-1", "1e3"])
async def test_an_out_of_range_inbox_position_is_a_400_not_a_database_overflow(lone_gateway, token, after):
    # Found by the probe matrix: SQLite cannot bind an integer past 2**63-1 (OverflowError -> 500).
    async with httpx.AsyncClient(base_url=lone_gateway.gateway.url, timeout=10) as http:
        r = await http.get("/api/notifications", params={"after": after}, headers={"Authorization": f"Bearer {token}"})
    assert_error(r, 400)


async def test_a_busy_answer_says_when_to_come_back(lone_gateway):
    from assistant.errors import Busy
    from channels.app import create_app

    app = create_app(lone_gateway)

    @app.get("/test-busy")
    async def busy():
        raise Busy("The assistant is busy answering other questions.")

    from starlette.testclient import TestClient
    r = TestClient(app).get("/test-busy")
    assert r.status_code == 429 and r.headers["Retry-After"] == "5"


async def test_a_delegation_is_for_an_absence_not_forever(lone_gateway, token):
    from datetime import datetime, timedelta

    far = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    async with httpx.AsyncClient(base_url=lone_gateway.gateway.url, timeout=10) as http:
        r = await http.put("/api/delegation", json={"delegate": "bob", "until": far},
                           headers={"Authorization": f"Bearer {token}"})
    assert_error(r, 400, "invalid_period")
