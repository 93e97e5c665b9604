"""Approvals in conversation: what waits for me, deciding by text (asking which when ambiguous), the week."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

from tests.e2e.conversation import Conversation
from workflows.client import RequestsClient
from workflows.models import NewRequest, RequestState, RequestStatus, TimeOffDetails


async def file_time_off(stack, requester: str, days_ahead: int) -> str:
    client = RequestsClient(stack.temporal, task_queue=stack.settings.temporal.task_queue)
    start = date.today() + timedelta(days=days_ahead)
    return await client.submit(NewRequest(
        requester=requester, conversation_id=requester, submission_key=uuid.uuid4().hex,
        details=TimeOffDetails(start_date=start, end_date=start, leave_type="personal")))


async def wait_pending(stack, request_id: str) -> None:
    client = RequestsClient(stack.temporal, task_queue=stack.settings.temporal.task_queue)
    for _ in range(100):
        if any(s.request_id == request_id for s, _ in await client.pending_for("frank")):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{request_id} never reached frank")


async def test_frank_lists_decides_by_text_and_gets_his_week(stack):
    # carol and dave report to frank: two requests wait for him.
    first = await file_time_off(stack, "carol", 40)
    second = await file_time_off(stack, "dave", 41)
    for request_id in (first, second):
        await wait_pending(stack, request_id)
    await stack.reset_conversation("frank")
    async with stack.client("frank") as http:
        frank = Conversation(http)
        listing = await frank.say("do I have anything to approve")
        assert first in listing.text and second in listing.text, frank.transcript()
        assert any(b["title"] == f"Approve {first}" for b in listing.buttons), frank.transcript()

        ambiguous = await frank.say("approve it")
        assert "which request" in ambiguous.text.lower(), frank.transcript()

        done = await frank.say(f"approve {first}")
        assert f"approved {first}".lower() in done.text.lower(), frank.transcript()
        rejected = await frank.say(f"reject {second} because we are short-staffed that day")
        assert f"rejected {second}".lower() in rejected.text.lower(), frank.transcript()

        again = await frank.say(f"approve {first}")
        assert f"already approved {first}".lower() in again.text.lower(), frank.transcript()

        week = await frank.say("summarize my week")
        assert "you decided" in week.text.lower() and first in week.text and second in week.text, frank.transcript()

    for request_id, state in ((first, RequestState.COMPLETED), (second, RequestState.REJECTED)):
        final = await stack.temporal.get_workflow_handle(request_id, result_type=RequestStatus).result()
        assert final.state is state
    final = await stack.temporal.get_workflow_handle(second, result_type=RequestStatus).result()
    assert "short-staffed" in final.approvals[0].decisions[0].comment
