"""Okta client against the local fake: SSWS auth, group search and members paged by Link headers."""

from __future__ import annotations

import pytest

from assistant.settings.workflows import OktaSettings
from tests.fakes.connectors.faults import serve
from tests.fakes.connectors.okta import create_fake_okta, rate_limited
from workflows.connectors.errors import ConnectorAuthError, ConnectorNotFound, ConnectorRateLimited
from workflows.connectors.models import MembershipRequest
from workflows.connectors.okta import OktaIdentity

USERS = [f"user{n}@example.com" for n in range(7)] + ["alice@example.com"]
GROUPS = [f"github-{x}" for x in ("read", "write", "admin")] + [f"team-{n}" for n in range(5)]


def membership(group: str = "github-write", key: str = "REQ-AAAAAA:identity") -> MembershipRequest:
    return MembershipRequest(key=key, request_id="REQ-AAAAAA", user="alice", email="alice@example.com", group=group)


@pytest.fixture
async def okta():
    app = create_fake_okta(token="ssws-secret", users=USERS, groups=GROUPS, page_limit=2)
    async with serve(app) as url:
        client = OktaIdentity(OktaSettings(org_url=url, api_token="ssws-secret"), timeout=1.0)
        yield app, client
        await client.aclose()


async def test_adds_a_member_once_and_reads_membership_across_pages(okta):
    app, client = okta
    gid = next(g for g, name in app.state.groups.items() if name == "github-write")
    for login in USERS[:5]:  # five members before alice: two pages of two, then one
        uid = next(u for u, lg in app.state.users.items() if lg == login)
        app.state.members[gid].append(uid)
    assert not await client.is_member("alice@example.com", "github-write")
    added = await client.add_member(membership())
    again = await client.add_member(membership())
    assert added.added and not again.added
    assert await client.is_member("alice@example.com", "github-write")
    assert len(app.state.members[gid]) == 6
    assert app.state.faults.count("PUT", "/users/") == 1
    assert app.state.faults.count("GET", f"/groups/{gid}/users") >= 3  # followed the Link headers


async def test_group_search_follows_pages_to_an_exact_name(okta):
    app, client = okta
    # "team-" names come after three github groups; page size 2 means the last is on page 3.
    assert await client.group_id("team-4") == next(g for g, n in app.state.groups.items() if n == "team-4")


async def test_errors(okta):
    app, client = okta
    with pytest.raises(ConnectorNotFound) as no_group:
        await client.add_member(membership("no-such-group"))
    assert not no_group.value.retryable

    app.state.faults.inject(404, message="Not found: Resource not found: nobody@example.com (User)",
                            path="/api/v1/users/")
    with pytest.raises(ConnectorNotFound) as no_user:
        await client.add_member(membership())
    assert "E0000007" in no_user.value.message

    app.state.faults.inject(429, message="API call exceeded rate limit due to too many requests.",
                            headers=rate_limited(reset_in=5))
    with pytest.raises(ConnectorRateLimited) as limited:
        await client.add_member(membership())
    assert limited.value.retryable and 3 <= (limited.value.retry_after or 0) <= 6

    bad = OktaIdentity(OktaSettings(org_url=str(client.http._client.base_url), api_token="nope"), timeout=1.0)
    with pytest.raises(ConnectorAuthError) as denied:
        await bad.add_member(membership())
    assert "Invalid token" in denied.value.message
    await bad.aclose()
