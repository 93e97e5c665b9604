"""`GET /api/approvals`, `POST /api/approvals/{id}/decision` and the caller's delegation.

A click goes straight to the workflow as a Temporal Update; its validator is the authority (403 own
request or an ended delegation, 404 missing or not the caller's: one answer for both, 409 already
decided or stale parameters, 410 expired).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.directory import User
from assistant.errors import BadRequest
from channels import decisions
from channels.auth import current_user, services_of
from channels.notify.hub import NotifyHub
from workflows.approvals import card_for
from workflows.delegations import Delegation, as_utc
from workflows.models import Decision, DelegationChange
from workflows.notify.models import ApprovalCard, CardStatus

router = APIRouter()


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Decision
    comment: str = Field("", max_length=1000)
    params_hash: str | None = Field(
        None, max_length=64, description="hash of the parameters shown on the card; without it, the current ones")


class DecisionOut(BaseModel):
    approval_id: str
    request_id: str
    decision: Decision
    decided_by: str
    decided_at: datetime
    stage_outcome: str
    state: str


# A delegation is for an absence: one forgotten for years would keep someone else deciding.
MAX_DELEGATION = timedelta(days=366)


class DelegationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delegate: str = Field(min_length=1, max_length=64)
    until: datetime
    starts: datetime | None = None
    note: str = Field("", max_length=300)

    @field_validator("until", "starts")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        """UTC (naive times are UTC); a time UTC cannot hold (year 9999 at -23:59) is a 400, not a 500."""
        if value is None:
            return None
        try:
            return as_utc(value)
        except OverflowError:
            raise ValueError("the time is out of range") from None


def hub_of(request: Request) -> NotifyHub:
    return request.app.state.notify


@router.get("/api/approvals")
async def list_approvals(
    request: Request,
    user: User = Depends(current_user),
    status: Literal["pending", "all"] = Query("pending"),
    limit: int = Query(50, ge=1, le=200),
) -> dict[str, list[ApprovalCard]]:
    """Approvals assigned to the caller: pending ones live from the workflows; `all` adds decided cards."""
    client = await services_of(request).requests()
    pending = await client.pending_for(user.id, limit=limit)
    directory = services_of(request).directory
    cards = []
    for st, step in pending:
        requester = directory.find(st.requester)
        ref = step.approver(user.id)
        if ref is not None:  # always, for what pending_for returns
            cards.append(card_for(st, step, ref, requester.name if requester else st.requester))
    if status == "all":
        seen = {c.approval_id for c in cards}
        stored = await asyncio.to_thread(hub_of(request).outbox.cards, user.id, limit=limit)
        cards += [c for c in stored if c.approval_id not in seen and c.status is not CardStatus.OPEN]
    return {"approvals": cards[:limit]}


@router.post("/api/approvals/{approval_id}/decision")
async def decide(approval_id: str, body: DecisionBody, request: Request,
                 user: User = Depends(current_user)) -> DecisionOut:
    result = await decisions.decide(services_of(request), user, approval_id=approval_id, decision=body.decision,
                                    params_hash=body.params_hash, comment=body.comment, channel="web")
    return DecisionOut(approval_id=result.approval_id, request_id=result.request_id, decision=result.decision,
                       decided_by=result.approver, decided_at=result.decided_at,
                       stage_outcome=result.stage_outcome.value, state=result.state.value)


@router.get("/api/delegation")
async def get_delegation(request: Request, user: User = Depends(current_user)) -> dict:
    d = await asyncio.to_thread(hub_of(request).delegations.current, user.id)
    if d is None or d.ends_at <= datetime.now(UTC):
        return {"delegation": None}
    return {"delegation": {"delegate": d.delegate, "starts": d.starts_at, "until": d.ends_at, "note": d.note}}


@router.put("/api/delegation")
async def set_delegation(body: DelegationBody, request: Request, user: User = Depends(current_user)) -> dict:
    """Name a delegate for a period: new approval requests for the caller go to them too, with a note."""
    directory = services_of(request).directory
    if body.delegate == user.id or directory.find(body.delegate) is None:
        raise BadRequest("the delegate must be another person in the directory", code="invalid_delegate")
    until = body.until
    if until <= datetime.now(UTC):
        raise BadRequest("the delegation must end in the future", code="invalid_period")
    if until > datetime.now(UTC) + MAX_DELEGATION:
        raise BadRequest(f"a delegation lasts at most {MAX_DELEGATION.days} days; set it again later",
                         code="invalid_period")
    hub = hub_of(request)
    old = await asyncio.to_thread(hub.delegations.current, user.id)
    d = await asyncio.to_thread(lambda: hub.delegations.set(user.id, body.delegate, ends_at=until,
                                                             starts_at=body.starts, note=body.note))
    await asyncio.to_thread(lambda: hub.audit.append(
        "delegation.set", actor=user.id, channel="web",
        data={"delegate": d.delegate, "starts": d.starts_at.isoformat(), "until": d.ends_at.isoformat(),
              "note": d.note}))
    if old is not None and old.ends_at > datetime.now(UTC):
        # The replaced delegation's delegate keeps deciding on running requests only if this one
        # names them too and already runs; otherwise their seat goes back to the caller.
        same = old.delegate == d.delegate and d.active(datetime.now(UTC))
        await _tell_running_requests(request, old, until=d.ends_at if same else None, by=user.id)
    return {"delegation": {"delegate": d.delegate, "starts": d.starts_at, "until": d.ends_at, "note": d.note}}


@router.delete("/api/delegation")
async def end_delegation(request: Request, user: User = Depends(current_user)) -> dict:
    hub = hub_of(request)
    ended = await asyncio.to_thread(hub.delegations.revoke, user.id)
    if ended:
        await asyncio.to_thread(lambda: hub.audit.append("delegation.ended", actor=user.id, channel="web"))
    last = await asyncio.to_thread(hub.delegations.latest, user.id)
    if last is not None and last.ends_at > datetime.now(UTC):
        # Also on a repeated DELETE: a first one may have ended the delegation but not reached
        # every running request (the workflow service was down); telling them twice is harmless.
        await _tell_running_requests(request, last, until=None, by=user.id)
    return {"ended": ended}


async def _tell_running_requests(request: Request, d: Delegation, *, until: datetime | None, by: str) -> None:
    """Running requests copied the delegate onto their open stage: the end of the delegation must reach them."""
    client = await services_of(request).requests()
    await client.delegation_changed(DelegationChange(user=d.user, delegate=d.delegate, until=until, by=by))
