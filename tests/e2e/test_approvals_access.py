"""The issue's access scenario through POST /api/chat and the approvals API, on the real stack.

alice asks for GitHub write access in chat; bob approves in chat, carol with the card's button (the
API); the identity system then has alice in github-write and alice is told. Self-approval and a
non-approver are refused (403 own request; 404 someone else's, as if it did not exist), a decision
on an expired request gets 410.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import uuid
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app.cli import app
from assistant.audit import AuditLog
from assistant.db import make_engine
from assistant.settings.workflows import WorkflowSettings
from tests.e2e.conversation import Conversation, request_id_in
from tests.prometheus import scrape, value
from tests.workflows.conftest import running_rig
from workflows.client import RequestsClient
from workflows.connectors.embedded import EmbeddedIdentity
from workflows.models import NewRequest, RequestState, RequestStatus, TimeOffDetails


async def until(fetch, check, timeout: float = 30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await fetch()
        if check(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.2)


async def request_state(http, request_id: str) -> dict:
    r = await http.get(f"/api/requests/{request_id}")
    return r.json() if r.status_code == 200 else {}


async def pending_cards(http) -> list[dict]:
    r = await http.get("/api/approvals", params={"status": "pending"})
    return r.json()["approvals"] if r.status_code == 200 else []


async def test_alice_gets_github_access_after_bob_and_carol_approve(stack, worker_metrics, tmp_path):
    for user in ("alice", "bob", "carol", "dave"):
        await stack.reset_conversation(user)
    gateway_before, worker_before = await scrape_gateway(stack), await scrape(f"http://{worker_metrics}/metrics")
    async with stack.client("alice") as alice_http, stack.client("bob") as bob_http, \
            stack.client("carol") as carol_http, stack.client("dave") as dave_http:
        alice, bob = Conversation(alice_http), Conversation(bob_http)
        await alice.say("I need write access to GitHub")
        await alice.say("to review pull requests for the mobile team")
        done = await alice.click("Yes, submit")
        request_id = request_id_in(done.text)
        assert request_id, alice.transcript()

        waiting = await until(lambda: request_state(alice_http, request_id),
                              lambda s: bool(s.get("approvals")))
        assert waiting["state"] == "pending_approval", waiting
        where = await alice.say(f"what's the status of {request_id}?")
        assert "waiting for bob, your manager" in where.text.lower(), alice.transcript()

        # The requester and someone outside the chain cannot decide.
        card = (await until(lambda: pending_cards(bob_http), lambda c: any(x["request_id"] == request_id for x in c)))
        card = next(c for c in card if c["request_id"] == request_id)
        url = f"/api/approvals/{card['approval_id']}/decision"
        body = {"decision": "approve", "params_hash": card["params_hash"]}
        own = await alice_http.post(url, json=body)
        assert own.status_code == 403 and "own request" in own.json()["error"]["message"]
        assert (await dave_http.post(url, json=body)).status_code == 404

        # bob approves in chat, from the pending list's button.
        listing = await bob.say("what do I need to approve")
        assert request_id in listing.text, bob.transcript()
        approved = await bob.click(f"Approve {request_id}")
        assert f"approved {request_id}".lower() in approved.text.lower(), bob.transcript()

        # carol approves with the card's button (the approvals API).
        cards = await until(lambda: pending_cards(carol_http), lambda c: any(x["request_id"] == request_id for x in c))
        second = next(c for c in cards if c["request_id"] == request_id)
        assert second["approval_id"] == f"{request_id}-2"
        r = await carol_http.post(f"/api/approvals/{second['approval_id']}/decision",
                                  json={"decision": "approve", "params_hash": second["params_hash"]})
        assert r.status_code == 200, r.text

        final = await stack.temporal.get_workflow_handle(request_id, result_type=RequestStatus).result()
        assert final.state is RequestState.COMPLETED
        identity = EmbeddedIdentity(make_engine(stack.settings.core.database_url))
        assert await identity.is_member("alice@example.com", "github-write")

        inbox = (await alice_http.get("/api/notifications")).json()["notifications"]
        mine = [n["text"] for n in inbox if n["request_id"] == request_id]
        assert any("bob approved" in t for t in mine) and any("carol approved" in t for t in mine)
        assert "Done:" in mine[-1] and "github-write" in mine[-1]
        told = await alice.say(f"status of {request_id}")
        assert "done" in told.text.lower() and "github-write" in told.text, alice.transcript()

        # A second click on the decided card: the buttons are stale and say so.
        stale = await bob_http.post(url, json={"decision": "reject", "params_hash": card["params_hash"]})
        assert stale.status_code == 409

    await metrics_show_the_scenario(stack, worker_metrics, gateway_before, worker_before)

    # The run's audit trail verifies; a tampered copy of it does not.
    db = Path(make_url(stack.settings.core.database_url).database)
    trail = [r.event for r in AuditLog(make_engine(f"sqlite:///{db}")).records(request_id=request_id)]
    assert trail == ["request.submitted", "approval.requested", "approval.decided", "approval.requested",
                     "approval.decided", "connector.call", "request.completed"]
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--db", f"sqlite:///{db}"])
    assert ok.exit_code == 0, ok.output
    copy = tmp_path / "copy.db"
    source = sqlite3.connect(db)
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    # The copy keeps the install's audit key and signed checkpoints (they live beside the database).
    for name in ("audit.key", "audit-signing.key", "audit-checkpoints.jsonl"):
        shutil.copy2(db.parent / name, tmp_path / name)
    target.execute("UPDATE audit_log SET actor = 'mallory' WHERE event = 'approval.decided' AND actor = 'carol'")
    target.commit()
    target.close()
    bad = runner.invoke(app, ["audit", "verify", "--db", f"sqlite:///{copy}"])
    assert bad.exit_code == 1 and "altered" in bad.output


async def scrape_gateway(stack):
    return await scrape(f"{stack.url}/metrics", token=stack.settings.metrics_token())


async def metrics_show_the_scenario(stack, worker_metrics, gateway_before, worker_before):
    """The gateway's /metrics (the scraper's token) and the worker's endpoint moved as the scenario did."""
    queue = {"task_queue": stack.settings.temporal.task_queue}

    def worker_delta(found, name, **labels):
        return value(found, name, **queue, **labels) - value(worker_before, name, **queue, **labels)

    def gateway_delta(found, name, **labels):
        return value(found, name, **labels) - value(gateway_before, name, **labels)

    worker_now = await scrape(f"http://{worker_metrics}/metrics")
    assert worker_delta(worker_now, "aios_requests_started_total", kind="access") == 1
    for stage in ("manager", "system owner"):  # bob, then carol: each stage's time to decision
        assert worker_delta(worker_now, "aios_request_decision_seconds_count", kind="access", stage=stage) == 1
    assert worker_delta(worker_now, "aios_requests_ended_total", kind="access", state="completed") == 1
    assert worker_delta(worker_now, "aios_connector_calls_total", vendor="embedded-identity", outcome="ok") == 1

    # Two approval cards (bob, carol) and alice's messages; delivery follows the outbox by a moment.
    gateway_now = await until(lambda: scrape_gateway(stack), lambda f: gateway_delta(
        f, "aios_notify_delivery_lag_seconds_count", kind="card") >= 2 and gateway_delta(
        f, "aios_notify_delivered_total") >= 5)
    assert gateway_delta(gateway_now, "aios_notify_delivery_lag_seconds_count", kind="card") >= 2
    assert gateway_delta(gateway_now, "aios_notify_delivered_total") >= 5
    assert gateway_delta(gateway_now, "aios_chat_turns_total", channel="web", outcome="ok") >= 7
    # alice's typed messages were read as some intent (the button clicks are not NLU).
    assert gateway_delta(gateway_now, "aios_nlu_intents_total") >= 4
    assert gateway_delta(gateway_now, "aios_nlu_confidence_count") >= 4


SHORT = """
policies:
  time_off: {expire_after: 2s, stages: [{name: manager, approvers: [manager]}]}
  access: {stages: []}
  expense: {stages: []}
  it_ticket: {stages: []}
"""


async def test_a_decision_after_the_deadline_gets_410(stack, tmp_path):
    # A worker with a 2-second expiry on its own queue, writing to the stack's database.
    settings = stack.settings.model_copy(deep=True)
    (tmp_path / "policies.yml").write_text(SHORT)
    settings.workflows = WorkflowSettings(policies_path=tmp_path / "policies.yml")
    async with running_rig(stack.temporal, tmp_path, settings=settings) as rig:
        client: RequestsClient = rig.requests
        start = date.today() + timedelta(days=30)
        request_id = await client.submit(NewRequest(
            requester="alice", conversation_id="alice", submission_key=uuid.uuid4().hex,
            details=TimeOffDetails(start_date=start, end_date=start, leave_type="vacation")))
        status = await rig.pending_stage(request_id)
        assert (await rig.result(request_id)).state is RequestState.EXPIRED
    async with stack.client("bob") as bob_http:
        r = await bob_http.post(f"/api/approvals/{request_id}-1/decision",
                                json={"decision": "approve", "params_hash": status.params_hash})
    assert r.status_code == 410, r.text
    assert r.json()["error"]["code"] == "expired"
