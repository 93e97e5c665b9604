"""Decisions as Temporal Updates on the dev server: refusals leave no trace, clicks count once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType

from assistant.db import reading
from assistant.errors import AssistantError, Conflict, Forbidden, Gone, NotFound, ServiceUnavailable
from tests.workflows.conftest import access, history_events, running_rig, time_off
from workflows.connectors.embedded.schema import hr_leave, idp_changes
from workflows.models import Decision, DecisionInput, RequestState


def rows(rig, table, request_id: str) -> int:
    with reading(rig.engine) as conn:
        query = select(func.count()).select_from(table).where(table.c.request_id == request_id)
        return conn.execute(query).scalar_one()


async def refused(rig, request_id: str, inp: DecisionInput, error: type[AssistantError], code: str) -> None:
    """The decision is refused with `error`, and the workflow's history did not change at all."""
    await rig.settled(request_id)
    before = await history_events(rig.temporal, request_id)
    with pytest.raises(error) as caught:
        await rig.requests.decide(inp)
    assert caught.value.code == code, caught.value.message
    after = await history_events(rig.temporal, request_id)
    assert len(after) == len(before), [EventType.Name(e.event_type) for e in after[len(before):]]


async def test_every_invalid_decision_is_refused_without_touching_history(rig):
    request_id = await rig.submit(access("github", "read"))
    status = await rig.pending_stage(request_id, 1)
    stage1 = rig.decision(status, "bob")

    # Someone outside the chain gets the answer a missing approval gets (no existence oracle).
    await refused(rig, request_id, stage1.model_copy(update={"approver": "dave"}), NotFound, "not_found")
    await refused(rig, request_id, stage1.model_copy(update={"approver": "alice"}), Forbidden, "forbidden")
    # carol approves stage 2, not the current stage 1.
    await refused(rig, request_id, stage1.model_copy(update={"approver": "carol"}), NotFound, "not_found")
    await refused(rig, request_id, stage1.model_copy(update={"params_hash": "0" * 16}), Conflict, "stale")
    await refused(rig, request_id, stage1.model_copy(update={"approval_id": f"{request_id}-2"}), NotFound,
                  "not_found")

    await rig.requests.decide(stage1)
    await rig.pending_stage(request_id, 2)
    # Stage 1 is decided: bob again (other decision) and anyone else are refused.
    await refused(rig, request_id, stage1.model_copy(update={"decision": Decision.REJECT}), Conflict,
                  "already_decided")
    await refused(rig, request_id, stage1.model_copy(update={"approver": "frank"}), NotFound, "not_found")


async def test_an_admin_cannot_approve_their_own_request(rig):
    request_id = await rig.submit(time_off(1), requester="erin")  # erin is an admin; frank approves
    status = await rig.pending_stage(request_id)
    assert [a.user for a in status.current_approval.approvers] == ["frank"]
    await refused(rig, request_id, rig.decision(status, "erin"), Forbidden, "forbidden")


async def test_no_decision_once_the_request_is_cancelled(rig):
    request_id = await rig.submit(time_off(1))
    status = await rig.pending_stage(request_id)
    await rig.requests.cancel(request_id, by="alice")
    with pytest.raises(Conflict):
        await rig.requests.decide(rig.decision(status, "bob"))


SHORT = """
policies:
  time_off: {expire_after: 2s, stages: [{name: manager, approvers: [manager]}]}
  access: {stages: []}
  expense: {stages: []}
  it_ticket: {stages: []}
"""


async def test_a_decision_after_the_deadline_is_gone(temporal_env, tmp_path):
    async with running_rig(temporal_env.client, tmp_path, policies=SHORT) as rig:
        request_id = await rig.submit(time_off(1))
        status = await rig.pending_stage(request_id)
        final = await rig.result(request_id, timeout=20)
        assert final.state is RequestState.EXPIRED
        with pytest.raises(Gone):
            await rig.requests.decide(rig.decision(status, "bob"))
        assert rows(rig, hr_leave, request_id) == 0


async def test_a_repeated_click_returns_the_first_result(rig):
    request_id = await rig.submit(time_off(1))
    status = await rig.pending_stage(request_id)
    first = await rig.requests.decide(rig.decision(status, "bob"))
    again = await rig.requests.decide(rig.decision(status, "bob"))
    assert again == first
    final = await rig.result(request_id)
    accepted = [e for e in await history_events(rig.temporal, request_id)
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED]
    assert len(accepted) == 1
    # After the workflow closed, the same click still answers with the same decision.
    late = await rig.requests.decide(rig.decision(status, "bob"))
    assert (late.decision, late.decided_at) == (first.decision, first.decided_at)
    assert final.state is RequestState.COMPLETED and rows(rig, hr_leave, request_id) == 1


async def test_concurrent_clicks_of_one_approver_make_one_decision_and_one_effect(rig):
    request_id = await rig.submit(time_off(2))
    status = await rig.pending_stage(request_id)
    results = await asyncio.gather(*(rig.requests.decide(rig.decision(status, "bob")) for _ in range(10)))
    assert len({(r.decided_at, r.decision) for r in results}) == 1
    final = await rig.result(request_id)
    assert len(final.approvals[0].decisions) == 1
    assert rows(rig, hr_leave, request_id) == 1


ANY_OF_TWO = """
policies:
  access: {stages: [{name: owners, approvers: ["user:bob", "user:carol"]}]}
  time_off: {stages: []}
  expense: {stages: []}
  it_ticket: {stages: []}
"""


async def test_concurrent_clicks_of_two_approvers_make_one_decision(temporal_env, tmp_path):
    async with running_rig(temporal_env.client, tmp_path, policies=ANY_OF_TWO) as rig:
        request_id = await rig.submit(access("vpn", "standard"))
        status = await rig.pending_stage(request_id)
        calls = [rig.requests.decide(rig.decision(status, who)) for who in ("bob", "carol") for _ in range(5)]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        winners = {r.approver for r in outcomes if not isinstance(r, Exception)}
        losers = [r for r in outcomes if isinstance(r, Exception)]
        assert len(winners) == 1
        assert losers and all(isinstance(e, Conflict) for e in losers)
        final = await rig.result(request_id)
        assert [d.approver for d in final.approvals[0].decisions] == list(winners)
        assert rows(rig, idp_changes, request_id) == 1


@pytest.mark.slow
async def test_approve_reject_race_a_hundred_times_ends_in_exactly_one_state(temporal_env, tmp_path):
    async with running_rig(temporal_env.client, tmp_path, policies=ANY_OF_TWO) as rig:
        ids = await asyncio.gather(*(rig.submit(access("vpn", "standard")) for _ in range(100)))
        # One poller at a time: queries cost worker time.
        statuses = [await rig.pending_stage(i, timeout=120) for i in ids]

        async def click(inp):
            # Like a person whose click timed out on a busy machine: click again (same update id).
            for _ in range(10):
                try:
                    return await rig.requests.decide(inp)
                except ServiceUnavailable:
                    continue
            raise AssertionError("no answer after 10 clicks")

        async def race(status):
            approve = click(rig.decision(status, "bob", "approve"))
            reject = click(rig.decision(status, "carol", "reject"))
            return await asyncio.gather(approve, reject, return_exceptions=True)

        outcomes = []
        for batch in range(0, len(statuses), 10):  # ten races at a time: a 2-core machine, not a cluster
            outcomes += await asyncio.gather(*(race(s) for s in statuses[batch:batch + 10]))
        finals = [await rig.result(i, timeout=120) for i in ids]
        tally = {"completed": 0, "rejected": 0}
        for request_id, (approve, reject), final in zip(ids, outcomes, finals, strict=True):
            won = [r for r in (approve, reject) if not isinstance(r, Exception)]
            assert len(won) == 1, (approve, reject)
            assert len(final.approvals[0].decisions) == 1
            expected = RequestState.COMPLETED if won[0].decision is Decision.APPROVE else RequestState.REJECTED
            assert final.state is expected
            assert rows(rig, idp_changes, request_id) == (1 if expected is RequestState.COMPLETED else 0)
            tally[final.state.value] += 1
        print(f"race: {tally}")
