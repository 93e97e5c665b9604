"""The request workflow with a real worker on the dev server: each kind's policy, end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from assistant.db import reading
from assistant.errors import Conflict
from tests.fakes.server import eventually
from tests.workflows.conftest import access, expense, it_ticket, running_rig, time_off
from workflows.connectors.embedded import EmbeddedIdentity
from workflows.connectors.embedded.schema import calendar_events, expense_claims, hr_leave, itsm_tickets
from workflows.connectors.embedded.systems import EmbeddedHR
from workflows.models import RequestState, StageOutcome
from workflows.notify.models import CardStatus


def count(rig, table, request_id: str) -> int:
    with reading(rig.engine) as conn:
        query = select(func.count()).select_from(table).where(table.c.request_id == request_id)
        return conn.execute(query).scalar_one()


async def mine(rig, approver: str, request_id: str) -> list[str]:
    """The approver's pending approvals of this request (other tests share the server)."""
    return [s.approval_id for st, s in await rig.requests.pending_for(approver) if st.request_id == request_id]


def texts(rig, user: str) -> list[str]:
    return [n.text for n in rig.outbox.inbox(user) if n.kind == "message"]


async def test_time_off_approved_by_manager_is_recorded_once_and_everyone_is_told(rig):
    hr = EmbeddedHR(rig.engine)
    before = hr.balance("alice", "vacation", 2027)
    request_id = await rig.submit(time_off(3))  # Mon 1 - Wed 3 March 2027: 3 working days
    status = await rig.pending_stage(request_id)
    step = status.current_approval
    assert [a.user for a in step.approvers] == ["bob"] and step.approvers[0].relation == "your manager"

    cards = await rig.cards("bob")
    assert [c.approval_id for c in cards] == [step.approval_id]
    assert cards[0].status is CardStatus.OPEN and cards[0].params_hash == status.params_hash
    assert ("Dates", "2027-03-01 to 2027-03-03") in [tuple(f) for f in cards[0].facts]

    await rig.decide(request_id, "bob", comment="enjoy")
    final = await rig.result(request_id)
    assert final.state is RequestState.COMPLETED
    assert [e.step for e in final.effects] == ["hr", "calendar"]
    assert count(rig, hr_leave, request_id) == 1 and count(rig, calendar_events, request_id) == 1
    assert hr.balance("alice", "vacation", 2027) == before - 3

    card = rig.outbox.cards("bob")[0]
    assert card.status is CardStatus.APPROVED and card.decided_by == "bob" and card.decided_at is not None
    told = texts(rig, "alice")
    assert any("waiting for bob (your manager)" in t for t in told)
    assert any('bob approved' in t and '"enjoy"' in t for t in told)
    assert "Done:" in told[-1] and "leave recorded" in told[-1]

    events = [r.event for r in rig.audit.records(request_id=request_id)]
    assert events == ["request.submitted", "approval.requested", "approval.decided", "connector.call",
                      "connector.call", "request.completed"]
    decided = next(r for r in rig.audit.records(request_id=request_id) if r.event == "approval.decided")
    assert decided.actor == "bob" and decided.channel == "web" and decided.data["decision"] == "approve"
    assert rig.audit.verify().ok


async def test_access_needs_manager_then_system_owner_and_grants_the_group(rig):
    request_id = await rig.submit(access("github", "write"))
    await rig.pending_stage(request_id, 1)
    assert await mine(rig, "carol", request_id) == []
    await rig.decide(request_id, "bob")
    second = await rig.pending_stage(request_id, 2)
    step = second.current_approval
    assert [(a.user, a.relation) for a in step.approvers] == [("carol", "the GitHub owner")]
    assert (step.stage, step.stages) == (2, 2)
    assert await mine(rig, "carol", request_id) == [step.approval_id]
    assert not await EmbeddedIdentity(rig.engine).is_member("alice@example.com", "github-write")

    await rig.decide(request_id, "carol")
    final = await rig.result(request_id)
    assert final.state is RequestState.COMPLETED
    assert await EmbeddedIdentity(rig.engine).is_member("alice@example.com", "github-write")
    assert "github-write" in final.outcome


async def test_rejection_ends_the_request_without_effects_and_says_why(rig):
    request_id = await rig.submit(access("aws", "admin"))
    await rig.decide(request_id, "bob")
    await rig.pending_stage(request_id, 2)
    await rig.decide(request_id, "carol", "reject", comment="use the read role")
    final = await rig.result(request_id)
    assert final.state is RequestState.REJECTED
    assert final.outcome == "Rejected by carol: use the read role"
    assert final.effects == []
    assert not await EmbeddedIdentity(rig.engine).is_member("alice@example.com", "aws-admin")
    assert any("carol rejected" in t and "use the read role" in t for t in texts(rig, "alice"))
    assert rig.outbox.cards("carol")[0].status is CardStatus.REJECTED


@pytest.mark.parametrize(("amount", "approvers"), [("80", []), ("500", [["bob"]]), ("5000", [["bob"], ["dave"]])])
async def test_expense_thresholds_follow_the_policy(rig, amount, approvers):
    request_id = await rig.submit(expense(amount))
    for stage, who in enumerate(approvers, 1):
        status = await rig.pending_stage(request_id, stage)
        assert [a.user for a in status.current_approval.approvers] == who
        await rig.decide(request_id, who[0])
    final = await rig.result(request_id)
    assert final.state is RequestState.COMPLETED
    assert len(final.approvals) == len(approvers)
    assert count(rig, expense_claims, request_id) == 1
    if not approvers:
        assert final.history[1].actor == "policy" and "up to 100" in final.history[1].detail


async def test_it_ticket_needs_no_approval_and_gets_a_ticket_number(rig):
    request_id = await rig.submit(it_ticket())
    final = await rig.result(request_id)
    assert final.state is RequestState.COMPLETED and final.approvals == []
    assert final.effects[0].reference.startswith("INC")
    assert count(rig, itsm_tickets, request_id) == 1
    assert final.effects[0].reference in texts(rig, "alice")[-1]


async def test_requester_cancels_while_pending_and_the_card_says_so(rig):
    request_id = await rig.submit(time_off(2))
    status = await rig.pending_stage(request_id)
    await rig.requests.cancel(request_id, by="alice", reason="plans changed")
    final = await rig.result(request_id)
    assert final.state is RequestState.CANCELLED
    assert final.approvals[0].outcome is StageOutcome.CANCELLED
    card = rig.outbox.cards("bob")[0]
    assert card.status is CardStatus.CANCELLED and "Cancelled by alice" in card.status_text
    with pytest.raises(Conflict):
        await rig.requests.decide(rig.decision(status, "bob"))
    assert count(rig, hr_leave, request_id) == 0
    assert await eventually(lambda: [r.event for r in rig.audit.records(request_id=request_id)][-1]
                            == "request.cancelled")


async def test_delegate_gets_the_card_with_a_note_and_decides_for_the_approver(rig):
    rig.delegations.set("bob", "frank", ends_at=datetime.now(UTC) + timedelta(days=3), note="at a conference")
    request_id = await rig.submit(time_off(1))
    status = await rig.pending_stage(request_id)
    approvers = {a.user: a for a in status.current_approval.approvers}
    assert set(approvers) == {"bob", "frank"}
    assert approvers["frank"].on_behalf_of == "bob" and "at a conference" in approvers["frank"].note
    frank_card = (await rig.cards("frank"))[0]
    assert "named you as delegate" in frank_card.note
    await rig.decide(request_id, "frank")
    final = await rig.result(request_id)
    assert final.state is RequestState.COMPLETED
    assert final.approvals[0].decisions[0].on_behalf_of == "bob"
    # Both copies of the card show the delegate's decision.
    assert {c.decided_by for u in ("bob", "frank") for c in rig.outbox.cards(u)} == {"frank"}


async def test_system_owner_asking_for_their_own_system_goes_to_the_fallback(rig):
    request_id = await rig.submit(access("github", "admin"), requester="carol")
    first = await rig.pending_stage(request_id, 1)
    assert [a.user for a in first.current_approval.approvers] == ["frank"]
    await rig.decide(request_id, "frank")
    second = await rig.pending_stage(request_id, 2)
    # carol owns GitHub, but never approves her own request: her manager does.
    assert [a.user for a in second.current_approval.approvers] == ["frank"]


TWO_OF_THREE = """
policies:
  time_off: {stages: [{name: panel, approvers: ["role:approver"], required: 2}]}
  access: {stages: []}
  expense: {stages: []}
  it_ticket: {stages: []}
"""


async def test_n_of_m_stage_waits_for_enough_distinct_approvers(temporal_env, tmp_path):
    async with running_rig(temporal_env.client, tmp_path, policies=TWO_OF_THREE) as rig:
        request_id = await rig.submit(time_off(1))
        status = await rig.pending_stage(request_id)
        assert {a.user for a in status.current_approval.approvers} == {"bob", "carol", "dave", "frank"}
        assert status.current_approval.required == 2
        await rig.decide(request_id, "bob")
        after_one = await rig.wait_for(request_id, lambda s: len(s.approvals[0].decisions) == 1)
        assert after_one.state is RequestState.PENDING_APPROVAL
        copies = rig.outbox.card_copies
        assert await eventually(lambda: copies(status.current_approval.approval_id)["bob"].status is CardStatus.DONE)
        assert await mine(rig, "bob", request_id) == []
        await rig.decide(request_id, "dave")
        final = await rig.result(request_id)
        assert final.state is RequestState.COMPLETED
        assert {d.approver for d in final.approvals[0].decisions} == {"bob", "dave"}
