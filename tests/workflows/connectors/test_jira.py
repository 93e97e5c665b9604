"""Jira Service Management client against the local fake: create once per key (an exact label), errors."""

from __future__ import annotations

import pytest

from assistant.settings.workflows import JiraSettings
from tests.fakes.connectors.faults import serve
from tests.fakes.connectors.jira import create_fake_jira
from workflows.connectors.errors import (
    ConnectorAuthError,
    ConnectorNotFound,
    ConnectorPermanentError,
    ConnectorRateLimited,
    ConnectorUnavailable,
)
from workflows.connectors.jira import JiraServiceManagement
from workflows.connectors.models import TicketRequest


def ticket(key: str = "REQ-AAAAAA:itsm", summary: str = "laptop fan is loud") -> TicketRequest:
    return TicketRequest(key=key, request_id=key.split(":")[0], requester="alice", email="alice@example.com",
                         summary=summary, description=summary, urgency="high")


@pytest.fixture
async def jira():
    app = create_fake_jira(email="bot@example.com", token="t0k3n", page_limit=3)
    async with serve(app) as url:
        client = JiraServiceManagement(JiraSettings(base_url=url, email="bot@example.com", api_token="t0k3n"),
                                       timeout=1.0)
        yield app, client
        await client.aclose()


async def test_creates_a_customer_request_once_per_key(jira):
    app, client = jira
    first = await client.create_ticket(ticket())
    again = await client.create_ticket(ticket())
    assert first == again and first.reference == "IT-1"
    assert len(app.state.requests) == 1
    stored = app.state.requests[0]
    assert stored["reporter"] == "alice@example.com" and stored["summary"] == "laptop fan is loud"
    assert stored["labels"] == ["aios-REQ-AAAAAA-itsm"]
    assert first.url.endswith("/servicedesk/customer/portal/1/IT-1")


async def test_a_summary_naming_another_requests_key_does_not_stop_that_ticket(jira):
    """Review reproduction: the key lived in the summary, which people write; a summary quoting
    another request's marker made that request "find" the wrong ticket and never get its own."""
    app, client = jira
    sneaky = await client.create_ticket(ticket(
        "REQ-BBBBBB:itsm", summary="see [REQ-CCCCCC:itsm] aios-REQ-CCCCCC-itsm labels=aios-REQ-CCCCCC-itsm"))
    own = await client.create_ticket(ticket("REQ-CCCCCC:itsm"))
    assert own != sneaky and len(app.state.requests) == 2
    assert await client.create_ticket(ticket("REQ-CCCCCC:itsm")) == own  # and still exactly once


async def test_a_lost_response_after_the_create_does_not_make_a_second_ticket(jira):
    app, client = jira
    app.state.faults.inject(502, method="POST", after=True)
    with pytest.raises(ConnectorUnavailable):
        await client.create_ticket(ticket())
    retried = await client.create_ticket(ticket())  # what Temporal's retry does
    assert retried.reference == "IT-1" and len(app.state.requests) == 1


async def test_errors_are_classified_for_temporal(jira):
    app, client = jira
    faults = app.state.faults
    faults.inject(429, message="Rate limit exceeded.", headers={"Retry-After": "7"})
    with pytest.raises(ConnectorRateLimited) as limited:
        await client.create_ticket(ticket())
    assert limited.value.retryable and limited.value.retry_after == 7.0
    assert "Rate limit exceeded." in limited.value.message

    faults.inject(delay=2.0)  # longer than the client's 1 s timeout
    with pytest.raises(ConnectorUnavailable) as slow:
        await client.create_ticket(ticket())
    assert slow.value.retryable

    faults.inject(503)
    with pytest.raises(ConnectorUnavailable):
        await client.create_ticket(ticket())

    bad = JiraServiceManagement(JiraSettings(base_url=str(client.http._client.base_url), email="bot@example.com",
                                             api_token="wrong"), timeout=1.0)
    with pytest.raises(ConnectorAuthError) as denied:
        await bad.create_ticket(ticket())
    assert not denied.value.retryable and "authenticated" in denied.value.message
    await bad.aclose()

    client.settings = client.settings.model_copy(update={"service_desk_id": "99"})
    with pytest.raises(ConnectorNotFound) as missing:
        await client.create_ticket(ticket())
    assert not missing.value.retryable and "service desk 99" in missing.value.message

    client.settings = client.settings.model_copy(update={"service_desk_id": "1", "request_type_id": "5"})
    with pytest.raises(ConnectorPermanentError) as invalid:
        await client.create_ticket(ticket())
    assert not invalid.value.retryable
    assert app.state.requests == []
