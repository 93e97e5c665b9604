"""`/api/approvals`, `/api/notifications` and `/api/delegation` on the real gateway app, real worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from channels.app import create_app
from channels.services import GatewayServices
from tests.fakes.server import asgi_client, eventually
from tests.workflows.conftest import Rig, access, running_rig, time_off
from workflows.models import RequestState


class Gateway:
    def __init__(self, rig: Rig, app) -> None:
        self.rig = rig
        self.app = app

    def client(self, user: str | None = None) -> httpx.AsyncClient:
        return asgi_client(self.app, self.rig.settings, user)


@asynccontextmanager
async def gateway_for(rig: Rig) -> AsyncIterator[Gateway]:
    services = GatewayServices.build(rig.settings, temporal=rig.temporal)
    try:
        yield Gateway(rig, create_app(rig.settings, services=services))
    finally:
        await services.close()


@pytest.fixture
async def gw(temporal_env, tmp_path) -> AsyncIterator[Gateway]:
    async with running_rig(temporal_env.client, tmp_path) as rig, gateway_for(rig) as gateway:
        yield gateway


async def pending(http: httpx.AsyncClient, *request_ids: str) -> list[dict]:
    """The caller's pending cards, of these requests when given (other tests share the server)."""
    r = await http.get("/api/approvals", params={"status": "pending"})
    assert r.status_code == 200, r.text
    return [c for c in r.json()["approvals"] if not request_ids or c["request_id"] in request_ids]


async def test_approver_sees_the_card_decides_and_refusals_have_the_right_status(gw):
    rig = gw.rig
    request_id = await rig.submit(access("github", "write"))
    await rig.pending_stage(request_id)
    await rig.settled(request_id)
    async with gw.client("bob") as bob, gw.client("alice") as alice, gw.client("dave") as dave:
        [card] = await pending(bob, request_id)
        assert card["approval_id"] == f"{request_id}-1" and card["requester"] == "alice"
        assert card["title"] == "Alice Martin asks for write access to github"
        assert ["System", "github"] in card["facts"]
        assert await pending(dave, request_id) == [] and await pending(alice, request_id) == []
        url = f"/api/approvals/{card['approval_id']}/decision"
        body = {"decision": "approve", "comment": "ok", "params_hash": card["params_hash"]}

        r = await alice.post(url, json=body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert "own request" in r.json()["error"]["message"]
        r = await dave.post(url, json=body)
        missing = await dave.post("/api/approvals/REQ-ZZZZZZ-1/decision", json=body)
        # Someone else's approval and a missing one get one answer (no existence oracle).
        assert r.status_code == missing.status_code == 404, (r.text, missing.text)
        assert r.json()["error"]["message"].replace(request_id, "X") == \
            missing.json()["error"]["message"].replace("REQ-ZZZZZZ", "X")
        unhashed = await dave.post(url, json={"decision": "approve"})
        unhashed_missing = await dave.post("/api/approvals/REQ-ZZZZZZ-1/decision", json={"decision": "approve"})
        assert unhashed.status_code == unhashed_missing.status_code == 404
        assert unhashed.json()["error"]["message"].replace(request_id, "X") == \
            unhashed_missing.json()["error"]["message"].replace("REQ-ZZZZZZ", "X")
        r = await bob.post(url, json={**body, "params_hash": "0123456789abcdef"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "stale"
        r = await bob.post(url, json={"decision": "maybe"})
        assert r.status_code == 400
        r = await bob.post("/api/approvals/REQ-AAAAAA-9/decision", json=body)
        assert r.status_code == 404
        r = await bob.post("/api/approvals/not-an-id/decision", json=body)
        assert r.status_code == 404

        first = await bob.post(url, json=body)
        assert first.status_code == 200, first.text
        assert first.json()["decided_by"] == "bob" and first.json()["stage_outcome"] == "approved"
        again = await bob.post(url, json=body)  # a double click
        assert again.status_code == 200 and again.json()["decided_at"] == first.json()["decided_at"]
        other = await bob.post(url, json={**body, "decision": "reject"})
        assert other.status_code == 409

        await rig.pending_stage(request_id, 2)
        await rig.settled(request_id)
        async with gw.client("carol") as carol:
            [second] = await pending(carol, request_id)
            # Without params_hash (a script): decided on the parameters as they are.
            r = await carol.post(f"/api/approvals/{second['approval_id']}/decision", json={"decision": "approve"})
            assert r.status_code == 200
        final = await rig.result(request_id)
        assert final.state is RequestState.COMPLETED
        r = await bob.post(url, json=body)  # the workflow is closed; the same click gives the same answer
        assert r.status_code == 200 and r.json()["decided_at"] == first.json()["decided_at"]

        decided = [c for c in (await bob.get("/api/approvals", params={"status": "all"})).json()["approvals"]
                   if c["request_id"] == request_id]
        assert [(c["approval_id"], c["status"], c["decided_by"]) for c in decided] == [
            (f"{request_id}-1", "approved", "bob")]


async def test_the_requester_is_told_through_the_inbox(gw):
    rig = gw.rig
    request_id = await rig.submit(time_off(1))
    await rig.pending_stage(request_id)
    await rig.settled(request_id)
    async with gw.client("alice") as alice, gw.client("bob") as bob:
        first = (await alice.get("/api/notifications")).json()
        assert any("waiting for bob" in n["text"] for n in first["notifications"])
        [card] = await pending(bob, request_id)
        await bob.post(f"/api/approvals/{card['approval_id']}/decision",
                       json={"decision": "reject", "comment": "team offsite that week",
                             "params_hash": card["params_hash"]})
        await rig.result(request_id)
        later = (await alice.get("/api/notifications", params={"after": first["last"]})).json()
        assert [n["kind"] for n in later["notifications"]] == ["message"]
        assert "bob rejected" in later["notifications"][0]["text"]
        assert "team offsite" in later["notifications"][0]["text"]
        updates = [n for n in (await bob.get("/api/notifications")).json()["notifications"]
                   if n["kind"] == "card_update"]
        assert updates[-1]["card"]["status"] == "rejected" and updates[-1]["card"]["decided_by"] == "bob"


SHORT = """
policies:
  time_off: {expire_after: 2s, stages: [{name: manager, approvers: [manager]}]}
  access: {stages: []}
  expense: {stages: []}
  it_ticket: {stages: []}
"""


async def test_a_late_decision_is_410(temporal_env, tmp_path):
    async with running_rig(temporal_env.client, tmp_path, policies=SHORT) as rig, gateway_for(rig) as gw:
        request_id = await rig.submit(time_off(1))
        status = await rig.pending_stage(request_id)
        await rig.result(request_id)
        async with gw.client("bob") as bob:
            r = await bob.post(f"/api/approvals/{request_id}-1/decision",
                               json={"decision": "approve", "params_hash": status.params_hash})
        assert r.status_code == 410 and r.json()["error"]["code"] == "expired"


async def test_delegation_is_set_shown_used_and_ended(gw):
    rig = gw.rig
    until = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    async with gw.client("bob") as bob, gw.client("frank") as frank:
        assert (await bob.put("/api/delegation", json={"delegate": "bob", "until": until})).status_code == 400
        assert (await bob.put("/api/delegation", json={"delegate": "nobody", "until": until})).status_code == 400
        past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        assert (await bob.put("/api/delegation", json={"delegate": "frank", "until": past})).status_code == 400
        r = await bob.put("/api/delegation", json={"delegate": "frank", "until": until, "note": "on leave"})
        assert r.status_code == 200 and r.json()["delegation"]["delegate"] == "frank"
        assert (await bob.get("/api/delegation")).json()["delegation"]["note"] == "on leave"

        request_id = await rig.submit(time_off(1))
        await rig.pending_stage(request_id)
        await rig.settled(request_id)
        [card] = await pending(frank, request_id)
        assert "named you as delegate: on leave" in card["note"]

        assert (await bob.delete("/api/delegation")).json() == {"ended": True}
        assert (await bob.get("/api/delegation")).json() == {"delegation": None}
    events = [r.event for r in rig.audit.records()]
    assert "delegation.set" in events and "delegation.ended" in events


async def test_approvals_need_a_login(gw):
    async with gw.client() as anonymous:
        assert (await anonymous.get("/api/approvals")).status_code == 401
        assert (await anonymous.post("/api/approvals/REQ-AAAAAA-1/decision",
                                     json={"decision": "approve"})).status_code == 401
        assert (await anonymous.get("/api/notifications")).status_code == 401


async def test_the_inbox_long_poll_returns_when_something_arrives(gw):
    rig = gw.rig
    async with gw.client("alice") as alice:
        await gw.app.state.notify.start()
        try:
            everything = (await alice.get("/api/notifications", params={"limit": 500})).json()
            last = (await alice.get("/api/notifications", params={"tail": "true"})).json()["last"]
            assert last == everything["last"]
            waiting = asyncio.create_task(alice.get("/api/notifications", params={"after": last, "wait": 20}))
            await asyncio.sleep(0.3)
            assert not waiting.done()
            await rig.submit(time_off(1))
            r = await asyncio.wait_for(waiting, 15)
            assert r.json()["notifications"], r.text
        finally:
            await gw.app.state.notify.stop()


async def carol_card_withdrawn(rig, request_id: str) -> bool:
    return any(c.request_id == request_id and c.status.value == "cancelled" for c in rig.outbox.cards("carol"))


async def test_a_revoked_delegate_is_refused_and_the_requester_never_sees_the_note(gw):
    rig = gw.rig
    until = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    async with gw.client("frank") as frank, gw.client("carol") as carol, gw.client("dave") as dave:
        r = await frank.put("/api/delegation", json={"delegate": "carol", "until": until, "note": "surgery"})
        assert r.status_code == 200
        request_id = await rig.submit(time_off(1), requester="dave")
        await rig.pending_stage(request_id)
        await rig.settled(request_id)
        [card] = await pending(carol, request_id)
        assert "surgery" in card["note"]
        seen = await dave.get(f"/api/requests/{request_id}")
        assert seen.status_code == 200 and "surgery" not in seen.text
        assert "frank is away; carol decides for them" in seen.text

        assert (await frank.delete("/api/delegation")).json() == {"ended": True}
        assert await eventually(lambda: carol_card_withdrawn(rig, request_id), timeout=10)
        assert await pending(carol, request_id) == []
        url = f"/api/approvals/{card['approval_id']}/decision"
        r = await carol.post(url, json={"decision": "reject", "params_hash": card["params_hash"]})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text
        assert "delegation to you ended" in r.json()["error"]["message"]

        r = await frank.post(url, json={"decision": "approve", "params_hash": card["params_hash"]})
        assert r.status_code == 200, r.text
    assert (await rig.result(request_id)).state is RequestState.COMPLETED


async def test_a_delegation_replaced_by_another_delegate_ends_the_first(gw):
    rig = gw.rig
    until = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    async with gw.client("frank") as frank, gw.client("carol") as carol:
        await frank.put("/api/delegation", json={"delegate": "carol", "until": until})
        request_id = await rig.submit(time_off(1), requester="dave")
        await rig.pending_stage(request_id)
        await rig.settled(request_id)
        [card] = await pending(carol, request_id)
        assert (await frank.put("/api/delegation", json={"delegate": "bob", "until": until})).status_code == 200
        assert await eventually(lambda: carol_card_withdrawn(rig, request_id), timeout=10)
        r = await carol.post(f"/api/approvals/{card['approval_id']}/decision",
                             json={"decision": "reject", "params_hash": card["params_hash"]})
        assert r.status_code == 403, r.text


async def test_a_delegate_whose_delegation_expired_is_refused(gw):
    rig = gw.rig
    until = datetime.now(UTC) + timedelta(seconds=3)
    async with gw.client("frank") as frank, gw.client("carol") as carol:
        await frank.put("/api/delegation", json={"delegate": "carol", "until": until.isoformat()})
        request_id = await rig.submit(time_off(1), requester="dave")
        await rig.pending_stage(request_id)
        await rig.settled(request_id)
        [card] = await pending(carol, request_id)
        await asyncio.sleep((until - datetime.now(UTC)).total_seconds() + 4)
        r = await carol.post(f"/api/approvals/{card['approval_id']}/decision",
                             json={"decision": "reject", "params_hash": card["params_hash"]})
        assert r.status_code == 403, r.text
        assert await pending(carol, request_id) == []
