"""Microsoft Graph client against the local fake: client-credentials token, events, transactionId."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import SecretStr

from assistant.settings.workflows import GraphSettings
from tests.fakes.connectors.faults import serve
from tests.fakes.connectors.graph import create_fake_graph
from workflows.connectors.errors import (
    ConnectorAuthError,
    ConnectorNotFound,
    ConnectorRateLimited,
    ConnectorUnavailable,
)
from workflows.connectors.graph import GraphCalendar
from workflows.connectors.models import OutOfOfficeRequest


def ooo(email: str = "alice@example.com") -> OutOfOfficeRequest:
    return OutOfOfficeRequest(key="REQ-AAAAAA:calendar", request_id="REQ-AAAAAA", user="alice", email=email,
                              timezone="Europe/Paris", start=date(2027, 3, 1), end=date(2027, 3, 3),
                              subject="Out of office: Alice Martin (vacation)")


@pytest.fixture
async def graph():
    app = create_fake_graph(tenant="contoso", client_id="app-id", client_secret="s3cret",
                            users=["alice@example.com"])
    async with serve(app) as url:
        settings = GraphSettings(base_url=f"{url}/v1.0", token_url=f"{url}/contoso/oauth2/v2.0/token",
                                 client_id="app-id", client_secret="s3cret")
        client = GraphCalendar(settings, timeout=1.0)
        yield app, client, settings
        await client.aclose()


async def test_creates_an_all_day_out_of_office_event_once(graph):
    app, client, _ = graph
    first = await client.create_out_of_office(ooo())
    again = await client.create_out_of_office(ooo())
    assert first == again
    events = app.state.events["alice@example.com"]
    assert len(events) == 1
    event = events[0]
    assert event["showAs"] == "oof" and event["isAllDay"] is True
    assert event["start"] == {"dateTime": "2027-03-01T00:00:00", "timeZone": "Europe/Paris"}
    assert event["end"]["dateTime"] == "2027-03-04T00:00:00"  # all-day events end the next midnight
    assert app.state.tokens_issued == 1  # the token is reused


async def test_a_lost_response_is_absorbed_by_the_transaction_id(graph):
    app, client, _ = graph
    app.state.faults.inject(504, method="POST", path="/events", after=True)
    with pytest.raises(ConnectorUnavailable):
        await client.create_out_of_office(ooo())
    await client.create_out_of_office(ooo())
    assert len(app.state.events["alice@example.com"]) == 1


async def test_a_revoked_token_is_replaced_once(graph):
    app, client, _ = graph
    await client.create_out_of_office(ooo())
    app.state.tokens.clear()  # revoked server-side
    await client.create_out_of_office(ooo().model_copy(update={"key": "REQ-BBBBBB:calendar"}))
    assert app.state.tokens_issued == 2


async def test_errors(graph):
    app, client, settings = graph
    app.state.faults.inject(429, message="Too many requests", headers={"Retry-After": "3"}, path="/events")
    with pytest.raises(ConnectorRateLimited) as limited:
        await client.create_out_of_office(ooo())
    assert limited.value.retry_after == 3.0 and "ApplicationThrottled" in limited.value.message

    with pytest.raises(ConnectorNotFound) as missing:
        await client.create_out_of_office(ooo("ghost@example.com"))
    assert "ErrorItemNotFound" in missing.value.message

    app.state.faults.inject(delay=2.0, path="/events")
    with pytest.raises(ConnectorUnavailable):
        await client.create_out_of_office(ooo())

    wrong = GraphCalendar(settings.model_copy(update={"client_secret": SecretStr("bad")}), timeout=1.0)
    with pytest.raises(ConnectorAuthError) as denied:
        await wrong.create_out_of_office(ooo())
    assert "invalid_client" in denied.value.message and not denied.value.retryable
    await wrong.aclose()
