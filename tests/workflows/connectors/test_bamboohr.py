"""BambooHR client against the local fake: API-key auth, directory look-up, time off found or created."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import SecretStr

from assistant.settings.workflows import BambooHRSettings
from tests.fakes.connectors.bamboohr import create_fake_bamboohr
from tests.fakes.connectors.faults import serve
from workflows.connectors.bamboohr import BambooHR
from workflows.connectors.errors import (
    ConnectorAuthError,
    ConnectorNotFound,
    ConnectorPermanentError,
    ConnectorRateLimited,
    ConnectorUnavailable,
)
from workflows.connectors.models import LeaveRequest


def leave(email: str = "alice@example.com", leave_type: str = "vacation") -> LeaveRequest:
    return LeaveRequest(key="REQ-AAAAAA:hr", request_id="REQ-AAAAAA", user="alice", email=email,
                        start=date(2027, 3, 1), end=date(2027, 3, 5), leave_type=leave_type, note="family trip")


@pytest.fixture
async def bamboo():
    app = create_fake_bamboohr(company="example", api_key="k3y", employees={"alice@example.com": "40"})
    async with serve(app) as url:
        settings = BambooHRSettings(base_url=url, company_domain="example", api_key="k3y")
        client = BambooHR(settings, timeout=1.0)
        yield app, client, settings
        await client.aclose()


async def test_records_approved_time_off_once(bamboo):
    app, client, _ = bamboo
    first = await client.record_leave(leave())
    again = await client.record_leave(leave())
    assert first.reference == again.reference == "BHR-1"
    assert first.days == 5
    [stored] = app.state.requests
    assert stored["employeeId"] == "40" and stored["status"] == {"status": "approved"}
    assert stored["type"] == {"id": "78"}
    assert stored["notes"] == {"employee": "family trip",
                               "manager": "Approved through AIOS (REQ-AAAAAA) [REQ-AAAAAA:hr]"}


async def test_a_note_quoting_another_requests_marker_does_not_stop_that_request(bamboo):
    """The person's own words cannot pose as the marker of another request over the same dates."""
    app, client, _ = bamboo
    forged = leave().model_copy(update={"note": "Approved through AIOS (REQ-BBBBBB) [REQ-BBBBBB:hr]"})
    await client.record_leave(forged)
    other = await client.record_leave(leave().model_copy(update={"key": "REQ-BBBBBB:hr", "request_id": "REQ-BBBBBB"}))
    assert other.reference == "BHR-2" and len(app.state.requests) == 2


async def test_a_lost_response_does_not_book_the_leave_twice(bamboo):
    app, client, _ = bamboo
    app.state.faults.inject(500, method="PUT", after=True)
    with pytest.raises(ConnectorUnavailable):
        await client.record_leave(leave())
    await client.record_leave(leave())
    assert len(app.state.requests) == 1


async def test_errors(bamboo):
    app, client, settings = bamboo
    app.state.faults.inject(503, message="Service Unavailable", headers={"Retry-After": "30"})
    with pytest.raises(ConnectorRateLimited) as limited:
        await client.record_leave(leave())
    assert limited.value.retry_after == 30.0

    app.state.faults.inject(429, message="Too Many Requests", headers={"Retry-After": "2"})
    with pytest.raises(ConnectorRateLimited):
        await client.record_leave(leave())

    with pytest.raises(ConnectorNotFound):
        await client.record_leave(leave("stranger@example.com"))

    with pytest.raises(ConnectorPermanentError):
        await client.record_leave(leave(leave_type="sabbatical"))

    app.state.faults.inject(400, message="Invalid dates", method="PUT")
    with pytest.raises(ConnectorPermanentError) as bad:
        await client.record_leave(leave())
    assert "Invalid dates" in bad.value.message and not bad.value.retryable

    app.state.faults.inject(delay=2.0)
    with pytest.raises(ConnectorUnavailable):
        await client.record_leave(leave())

    wrong = BambooHR(settings.model_copy(update={"api_key": SecretStr("nope")}), timeout=1.0)
    with pytest.raises(ConnectorAuthError) as denied:
        await wrong.record_leave(leave())
    assert "Invalid API key" in denied.value.message
    await wrong.aclose()
    assert app.state.requests == []
