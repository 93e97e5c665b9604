"""Durable timers: reminders, the 48 h escalation and the 7-day expiry, in seconds by time skipping."""

from __future__ import annotations

from datetime import timedelta

from tests.workflows.conftest import running_rig, time_off
from workflows.models import RequestState, StageOutcome
from workflows.notify.models import CardStatus


def messages(rig, user: str) -> list[str]:
    return [n.text for n in rig.outbox.inbox(user) if n.kind == "message"]


async def test_reminder_after_a_day_and_escalation_to_the_managers_manager_after_48h(skipping, tmp_path):
    async with running_rig(skipping.client, tmp_path) as rig:
        request_id = await rig.submit(time_off(2))
        opened = await rig.pending_stage(request_id)
        assert [a.user for a in opened.current_approval.approvers] == ["bob"]

        await skipping.sleep(timedelta(hours=24, minutes=1))
        reminded = await rig.wait_for(request_id, lambda s: s.current_approval.reminders_sent == 1)
        assert reminded.state is RequestState.PENDING_APPROVAL
        assert reminded.current_approval.escalated_at is None
        assert any(t.startswith("Reminder:") and request_id in t for t in messages(rig, "bob"))

        await skipping.sleep(timedelta(hours=24))
        escalated = await rig.wait_for(request_id, lambda s: s.current_approval.escalated_at is not None)
        step = escalated.current_approval
        assert step.escalated_at - step.requested_at >= timedelta(hours=48)
        assert [(a.user, a.escalation) for a in step.approvers] == [("bob", False), ("frank", True)]
        frank_cards = await rig.cards("frank")
        assert [c.approval_id for c in frank_cards] == [step.approval_id]
        assert any("escalated to frank" in t for t in messages(rig, "alice"))
        events = [r.event for r in rig.audit.records(request_id=request_id)]
        assert events.count("approval.reminder") == 1 and events.count("approval.escalated") == 1


async def test_without_a_decision_the_request_expires_after_seven_days(skipping, tmp_path):
    async with running_rig(skipping.client, tmp_path) as rig:
        request_id = await rig.submit(time_off(1))
        await rig.pending_stage(request_id)
        await skipping.sleep(timedelta(days=7, minutes=1))
        final = await rig.wait_for(request_id, lambda s: s.state is RequestState.EXPIRED
                                   and s.history[-1].event == "expired")
        await rig.settled(request_id)
        assert final.approvals[0].outcome is StageOutcome.EXPIRED
        assert final.history[-1].at - final.created_at >= timedelta(days=7)
        assert [h.event for h in final.history].count("escalated") == 1
        for user in ("bob", "frank"):
            card = (await rig.cards(user))[0]
            assert card.status is CardStatus.EXPIRED, user
        assert "expired without a decision" in messages(rig, "alice")[-1]
        assert [r.event for r in rig.audit.records(request_id=request_id)][-1] == "request.expired"
        assert rig.audit.verify().ok


QUICK = """
policies:
  time_off:
    expire_after: 1h
    stages: [{name: manager, approvers: [manager], reminders: [1s], escalate_after: 2s,
              escalate_to: [manager_of_manager]}]
  access: {stages: []}
  expense: {stages: []}
  it_ticket: {stages: []}
"""


async def test_the_escalation_target_can_decide(temporal_env, tmp_path):
    """Updates on the dev server (the time-skipping server has gaps with them), with short timers."""
    async with running_rig(temporal_env.client, tmp_path, policies=QUICK) as rig:
        request_id = await rig.submit(time_off(1))
        await rig.wait_for(request_id, lambda s: s.current_approval is not None
                           and s.current_approval.escalated_at is not None, timeout=30)
        pending = [s.approval_id for st, s in await rig.requests.pending_for("frank") if st.request_id == request_id]
        assert pending == [f"{request_id}-1"]
        await rig.decide(request_id, "frank")
        final = await rig.result(request_id)
        assert final.state is RequestState.COMPLETED
        assert final.approvals[0].decisions[0].approver == "frank"
        assert (await rig.cards("bob"))[0].decided_by == "frank"
