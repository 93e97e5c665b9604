"""The workflow client API against the real Temporal dev server and a real worker."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest

from assistant.errors import Conflict, NotFound
from tests.fakes.server import eventually
from workflows.client import RequestsClient
from workflows.models import (
    ITTicketDetails,
    NewRequest,
    RequestState,
    TimeOffDetails,
    normalize_request_id,
    request_id_for,
)


@pytest.fixture
def client(temporal_env, worker, settings) -> RequestsClient:
    return RequestsClient(temporal_env.client, task_queue=settings.temporal.task_queue)


def time_off(requester: str = "alice", key: str | None = None) -> NewRequest:
    return NewRequest(
        requester=requester,
        details=TimeOffDetails(start_date=date(2026, 12, 3), end_date=date(2026, 12, 7), leave_type="vacation"),
        conversation_id=requester,
        submission_key=key or uuid.uuid4().hex,
    )


async def test_submit_persists_typed_request_and_state(client):
    request = time_off()
    request_id = await client.submit(request)
    assert request_id == request.request_id()
    status = await client.status(request_id, viewer="alice")
    assert status.state in (RequestState.SUBMITTED, RequestState.PENDING_APPROVAL)
    assert status.details == request.details
    assert status.requester == "alice"
    assert status.history[0].event == "submitted"


async def test_retried_submit_is_one_request(client, temporal_env):
    request = time_off(key="same-confirmation")
    first, second = await asyncio.gather(client.submit(request), client.submit(request))
    assert first == second

    async def runs():
        return [wf async for wf in temporal_env.client.list_workflows(f"WorkflowId = '{first}'")]

    assert len(await eventually(runs)) == 1


async def test_list_is_per_requester(client):
    mine = await client.submit(time_off("alice"))
    theirs = await client.submit(time_off("dave"))
    alice = await eventually(lambda: _ids(client, "alice", mine))
    assert mine in alice and theirs not in alice


async def _ids(client, user, must_have):
    ids = [r.request_id for r in await client.list_for(user)]
    return ids if must_have in ids else []


async def test_only_the_requester_cancels_and_only_once(client):
    request_id = await client.submit(time_off("alice"))
    with pytest.raises(NotFound):
        await client.cancel(request_id, by="bob")
    status = await client.status(request_id, viewer="alice")
    assert status.state in (RequestState.SUBMITTED, RequestState.PENDING_APPROVAL)  # bob changed nothing
    cancelled = await client.cancel(request_id, by="alice", reason="plans changed")
    assert cancelled.state is RequestState.CANCELLED
    with pytest.raises(Conflict):
        await client.cancel(request_id, by="alice")


async def test_status_of_someone_elses_request_is_not_found(client):
    request_id = await client.submit(NewRequest(
        requester="carol", details=ITTicketDetails(summary="printer jammed", urgency="low"),
        conversation_id="carol", submission_key=uuid.uuid4().hex,
    ))
    with pytest.raises(NotFound) as theirs:
        await client.status(request_id, viewer="alice")
    missing = "REQ-" + request_id[4:][::-1]
    with pytest.raises(NotFound) as nobodys:
        await client.status(missing, viewer="alice")
    # One answer for both: nobody learns which ids are someone else's (review finding 11).
    assert theirs.value.message == f"no request {request_id} of yours"
    assert nobodys.value.message == f"no request {missing} of yours"
    with pytest.raises(NotFound) as approvers:
        await client.for_approver(request_id, viewer="alice")
    assert approvers.value.message == f"no request {request_id} of yours"
    with pytest.raises(NotFound):
        await client.status("not-an-id", viewer="alice")


def test_request_ids_are_deterministic_and_typable():
    a = request_id_for("alice", "msg-1")
    assert a == request_id_for("alice", "msg-1") != request_id_for("alice", "msg-2")
    assert normalize_request_id(f"status of {a.lower()}") == a
    assert normalize_request_id(a.replace("-", " ")) == a
    assert normalize_request_id("cancel my vacation") is None
