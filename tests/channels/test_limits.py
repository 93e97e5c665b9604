"""Per-person limits: one person's flood gets 429 with Retry-After; everyone else is served."""

from __future__ import annotations

import httpx
import pytest

from app.local_stack import make_settings, serve_gateway
from assistant.directory import Directory
from assistant.errors import RateLimited
from assistant.tokens import TokenService
from channels.app import create_app
from channels.limits import PersonLimiter


def test_the_window_slides_and_says_how_long_to_wait():
    limiter = PersonLimiter(limit=3, window=60, what="messages")
    for t in (0, 10, 20):
        limiter.check("alice", now=t)
    with pytest.raises(RateLimited) as err:
        limiter.check("alice", now=30)
    assert err.value.retry_after == 30 and err.value.status == 429 and "30 seconds" in err.value.message
    limiter.check("bob", now=30)  # someone else is not affected
    limiter.check("alice", now=60.5)  # the first one left the window


@pytest.fixture(scope="module")
async def limited(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("limits"))
    settings.temporal.address = "127.0.0.1:1"
    settings.gateway.turns_per_minute = 3
    settings.gateway.questions_per_minute = 2
    async with serve_gateway(create_app(settings), settings):
        yield settings


def _auth(settings, user: str) -> dict[str, str]:
    token = TokenService(settings.core.secret_key.get_secret_value(), Directory.load(settings.core.directory_file),
                         ttl_seconds=600).mint(user)
    return {"Authorization": f"Bearer {token}"}


async def test_a_flood_of_chat_turns_is_429_with_retry_after_for_that_person_only(limited):
    s = limited
    async with httpx.AsyncClient(base_url=s.gateway.url, timeout=10) as http:
        codes = [(await http.post("/api/chat", json={"message": "hi"}, headers=_auth(s, "dave"))).status_code
                 for _ in range(4)]
        assert codes[:3] == [503, 503, 503]  # counted (the backends are down in this rig)
        r = await http.post("/api/chat", json={"message": "hi"}, headers=_auth(s, "dave"))
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(r.headers["retry-after"]) <= 60
        other = await http.post("/api/chat", json={"message": "hi"}, headers=_auth(s, "frank"))
        assert other.status_code == 503  # frank is not limited by dave's flood


async def test_questions_have_their_own_limit(limited):
    s = limited
    async with httpx.AsyncClient(base_url=s.gateway.url, timeout=10) as http:
        codes = [(await http.post("/api/knowledge/ask", json={"question": "vpn?"},
                                  headers=_auth(s, "carol"))).status_code for _ in range(3)]
    assert codes[-1] == 429 and 429 not in codes[:2]
