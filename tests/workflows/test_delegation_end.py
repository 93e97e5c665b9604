"""A delegation's end reaches running requests: the delegate can no longer decide and loses the card."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from assistant.errors import Forbidden
from tests.fakes.server import eventually
from tests.workflows.conftest import time_off
from workflows.models import DelegationChange, RequestState
from workflows.notify.models import CardStatus

ENDED = "frank's delegation to carol ended; frank decides"


async def carol_card(rig, request_id: str):
    cards = [c for c in await rig.cards("carol") if c.request_id == request_id]
    assert cards, "carol never got the card"
    return cards[0]


async def withdrawn(rig, request_id: str) -> bool:
    card = next((c for c in rig.outbox.cards("carol") if c.request_id == request_id), None)
    return card is not None and card.status is CardStatus.CANCELLED


async def delegated_request(rig, *, until: datetime) -> str:
    """frank (dave's manager) delegated to carol; dave files a request; carol holds an open card."""
    rig.delegations.set("frank", "carol", ends_at=until, note="surgery")
    request_id = await rig.submit(time_off(1), requester="dave")
    status = await rig.pending_stage(request_id)
    assert {a.user for a in status.current_approval.approvers} == {"frank", "carol"}
    assert (await carol_card(rig, request_id)).status is CardStatus.OPEN
    return request_id


async def frank_decides_and_it_completes(rig, request_id: str) -> None:
    await rig.decide(request_id, "frank")
    final = await rig.result(request_id)
    assert final.state is RequestState.COMPLETED
    assert [(d.approver, d.on_behalf_of) for d in final.approvals[0].decisions] == [("frank", None)]


async def test_a_revoked_delegate_cannot_decide_and_the_card_is_withdrawn(rig):
    request_id = await delegated_request(rig, until=datetime.now(UTC) + timedelta(days=3))
    await rig.settled(request_id)
    status = await rig.status(request_id)

    assert rig.delegations.revoke("frank")
    signalled = await rig.requests.delegation_changed(DelegationChange(user="frank", delegate="carol", by="frank"))
    assert request_id in signalled

    assert await eventually(lambda: withdrawn(rig, request_id), timeout=10)
    card = await carol_card(rig, request_id)
    assert card.status_text == ENDED
    with pytest.raises(Forbidden) as refused:
        await rig.requests.decide(rig.decision(status, "carol", "reject"))
    assert "delegation to you ended" in refused.value.message
    assert request_id not in [st.request_id for st, _ in await rig.requests.pending_for("carol")]
    assert any("Your delegation to carol ended" in n.text for n in rig.outbox.inbox("frank"))
    assert "delegation_ended" in [h.event for h in (await rig.status(request_id)).history]
    # frank still holds his card and decides.
    assert [c.status for c in rig.outbox.cards("frank") if c.request_id == request_id] == [CardStatus.OPEN]
    await frank_decides_and_it_completes(rig, request_id)


async def test_a_delegate_whose_delegation_expired_seconds_ago_cannot_decide(rig):
    until = datetime.now(UTC) + timedelta(seconds=3)
    request_id = await delegated_request(rig, until=until)
    status = await rig.status(request_id)
    # No signal: the workflow checks `until` against its own clock, and withdraws the card then.
    await asyncio.sleep((until - datetime.now(UTC)).total_seconds() + 4)
    with pytest.raises(Forbidden):
        await rig.requests.decide(rig.decision(status, "carol", "reject"))
    assert await eventually(lambda: withdrawn(rig, request_id), timeout=10)
    assert (await carol_card(rig, request_id)).status_text == ENDED
    await frank_decides_and_it_completes(rig, request_id)


async def test_a_replacement_with_the_same_delegate_keeps_them_until_the_new_end(rig):
    request_id = await delegated_request(rig, until=datetime.now(UTC) + timedelta(seconds=3))
    await rig.settled(request_id)
    later = datetime.now(UTC) + timedelta(days=2)
    rig.delegations.set("frank", "carol", ends_at=later)
    await rig.requests.delegation_changed(DelegationChange(user="frank", delegate="carol", until=later))
    await asyncio.sleep(4)  # past the first `until`
    await rig.decide(request_id, "carol")
    final = await rig.result(request_id)
    assert final.state is RequestState.COMPLETED
    assert final.approvals[0].decisions[0].on_behalf_of == "frank"


async def test_the_requester_does_not_see_the_delegators_private_note(rig):
    request_id = await delegated_request(rig, until=datetime.now(UTC) + timedelta(days=3))
    assert "surgery" in (await carol_card(rig, request_id)).note  # the delegate is told
    seen = await rig.requests.status(request_id, viewer="dave")
    notes = {a.user: a.note for a in seen.current_approval.approvers}
    assert "surgery" not in str(seen.model_dump())
    assert notes == {"frank": "", "carol": "frank is away; carol decides for them"}
    cancelled = await rig.requests.cancel(request_id, by="dave")
    assert "surgery" not in str(cancelled.model_dump())
