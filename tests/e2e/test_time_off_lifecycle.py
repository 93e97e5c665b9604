"""The issue's end-to-end path: alice files, lists and cancels a request; bob cannot cancel it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.e2e.conversation import Conversation, request_id_in, working_day_after
from workflows.models import RequestState, TimeOffDetails
from workflows.request_workflow import RequestWorkflow


async def test_alice_files_lists_and_cancels_bob_cannot(stack):
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    start, end = today + timedelta(days=15), today + timedelta(days=17)
    for user in ("alice", "bob"):
        await stack.reset_conversation(user)

    async with stack.client("alice") as alice_http, stack.client("bob") as bob_http:
        alice, bob = Conversation(alice_http), Conversation(bob_http)
        await alice.say(f"hi, I'd like to take vacation from {start:%B %-d} to {end:%B %-d}")
        await alice.say("no note")
        confirm = alice.turns[-1]
        assert "shall i submit" in confirm.text.lower(), alice.transcript()
        done = await alice.click("Yes")
        request_id = request_id_in(done.text)
        assert request_id, alice.transcript()

        # The workflow holds exactly the typed request alice confirmed.
        status = await stack.temporal.get_workflow_handle(request_id).query(RequestWorkflow.status)
        assert status.requester == "alice"
        assert status.state in (RequestState.SUBMITTED, RequestState.PENDING_APPROVAL)
        assert status.details == TimeOffDetails(start_date=start, end_date=end, leave_type="vacation", note="")

        # Listed in chat and through the API.
        listing = await alice.say("show me my requests")
        assert request_id in listing.text, alice.transcript()
        r = await alice_http.get("/api/requests")
        assert request_id in [x["request_id"] for x in r.json()["requests"]]
        r = await alice_http.get(f"/api/requests/{request_id}")
        assert r.status_code == 200 and r.json()["state"] in ("submitted", "pending_approval")

        # Bob can neither see nor cancel it.
        assert (await bob_http.get(f"/api/requests/{request_id}")).status_code == 404
        refused = await bob.say(f"cancel {request_id}")
        assert "can't find" in refused.text.lower(), bob.transcript()
        status = await stack.temporal.get_workflow_handle(request_id).query(RequestWorkflow.status)
        assert status.state in (RequestState.SUBMITTED, RequestState.PENDING_APPROVAL)  # bob changed nothing

        # Alice can, once.
        cancelled = await alice.say(f"please cancel {request_id}")
        assert "cancelled" in cancelled.text.lower(), alice.transcript()
        status = await stack.temporal.get_workflow_handle(request_id).query(RequestWorkflow.status)
        assert status.state is RequestState.CANCELLED
        assert status.history[-1].actor == "alice"
        again = await alice.say(f"cancel {request_id}")
        assert "can't be cancelled" in again.text.lower(), alice.transcript()

        checked = await alice.say(f"what's the status of {request_id.lower()}?")
        assert "cancelled" in checked.text.lower(), alice.transcript()


async def test_a_confirmation_is_filed_once(stack):
    """Clicking Yes twice (a double click, a retried request) never files two requests."""
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    day = working_day_after(today, 60)
    await stack.reset_conversation("alice")
    async with stack.client("alice") as http:
        convo = Conversation(http)
        await convo.say(f"I need {day:%b %-d} off, vacation")
        await convo.click("Just")
        await convo.say("no")
        first = await convo.click("Yes")
        second = await http.post("/api/chat", json={"payload": "/affirm"})
    assert request_id_in(first.text)
    assert "nothing waiting for a yes or no" in second.json()["messages"][0]["text"].lower()
