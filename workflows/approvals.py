"""Approval rules and texts that the workflow and the client share. Pure and deterministic."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from workflows.activities.models import ADD_MEMBER, CREATE_TICKET, FILE_EXPENSE, OUT_OF_OFFICE, RECORD_LEAVE
from workflows.models import (
    AccessDetails,
    ApprovalStep,
    ApproverRef,
    DecisionInput,
    ExpenseDetails,
    ITTicketDetails,
    RequestKind,
    RequestState,
    RequestStatus,
    StageOutcome,
    TimeOffDetails,
)
from workflows.notify.models import ApprovalCard, CardStatus

# How a card shows a finished approval step (one map: the workflow's card updates and the chat
# channels' re-rendered cards use it).
CARD_STATUS: dict[StageOutcome, CardStatus] = {
    StageOutcome.APPROVED: CardStatus.APPROVED,
    StageOutcome.REJECTED: CardStatus.REJECTED,
    StageOutcome.EXPIRED: CardStatus.EXPIRED,
    StageOutcome.CANCELLED: CardStatus.CANCELLED,
}

# What an approved request does, step by step: (step name, activity name).
EFFECTS: dict[RequestKind, list[tuple[str, str]]] = {
    RequestKind.TIME_OFF: [("hr", RECORD_LEAVE), ("calendar", OUT_OF_OFFICE)],
    RequestKind.ACCESS: [("identity", ADD_MEMBER)],
    RequestKind.EXPENSE: [("expenses", FILE_EXPENSE)],
    RequestKind.IT_TICKET: [("itsm", CREATE_TICKET)],
}


class Rejection(BaseModel):
    """Why a decision is refused: `type` maps to 403 forbidden, 404, 409 conflict or 410 gone."""

    type: str
    message: str


def decision_problem(status: RequestStatus, inp: DecisionInput, now: datetime) -> Rejection | None:
    """None when `inp` is a valid decision right now; else why not (checked in this order)."""
    step = status.approval(inp.approval_id)
    if inp.approver == status.requester:
        return Rejection(type="forbidden", message="you cannot decide on your own request")
    ref = step.approver(inp.approver) if step is not None else None
    if step is None or ref is None:
        # The same answer as for an approval that does not exist: no oracle for other people's requests.
        return Rejection(type="not_found", message=no_approval_text(inp.approval_id))
    if not ref.may_decide(now):
        # A delegate's right to decide is checked against the delegation as it is now.
        return Rejection(type="forbidden", message=delegation_ended_text(ref, you=True))
    if step.outcome is StageOutcome.EXPIRED or status.state is RequestState.EXPIRED:
        return Rejection(type="expired", message="this request expired without a decision")
    if step.outcome is not StageOutcome.PENDING:
        return Rejection(type="already_decided", message=closed_text(step, status))
    if now >= step.deadline:
        return Rejection(type="expired", message="the deadline for this decision has passed")
    if step.has_decided(inp.approver):
        return Rejection(type="already_decided", message="you already decided on this request")
    if inp.params_hash != status.params_hash:
        return Rejection(type="stale", message="the request changed since it was shown to you; look at it again")
    return None


def no_approval_text(approval_id: str) -> str:
    """The one answer for an approval that is missing and for one that is not the caller's."""
    return f"there is no approval {approval_id} for you"


def delegation_ended_text(ref: ApproverRef, *, you: bool = False) -> str:
    """"frank's delegation to carol ended; frank decides" (or "...to you..." for the delegate)."""
    return f"{ref.on_behalf_of}'s delegation to {'you' if you else ref.user} ended; {ref.on_behalf_of} decides"


def closed_text(step: ApprovalStep, status: RequestStatus) -> str:
    final = next((d for d in reversed(step.decisions)), None)
    if step.outcome is StageOutcome.CANCELLED or status.state is RequestState.CANCELLED:
        return f"{status.requester} cancelled this request"
    if final is not None:
        verb = "approved" if step.outcome is StageOutcome.APPROVED else "rejected"
        return f"already {verb} by {final.approver} at {final.at:%Y-%m-%d %H:%M} UTC"
    return f"this approval is already {step.outcome.value}"


def people(refs: list[ApproverRef]) -> str:
    """'bob (your manager)' / 'carol (the GitHub owner) or frank (your manager's manager)'."""
    parts = [f"{r.user} ({r.relation})" if r.relation else r.user for r in refs]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def facts(status: RequestStatus) -> list[tuple[str, str]]:
    d = status.details
    if isinstance(d, TimeOffDetails):
        out = [("Dates", f"{d.start_date.isoformat()} to {d.end_date.isoformat()}"), ("Type", d.leave_type),
               ("Days", str(d.days))]
        return out + ([("Note", d.note)] if d.note else [])
    if isinstance(d, AccessDetails):
        return [("System", d.system), ("Level", d.level), ("Justification", d.justification)]
    if isinstance(d, ExpenseDetails):
        return [("Amount", f"{d.amount:.2f} {d.currency}"), ("Category", d.category),
                ("Date", d.expense_date.isoformat()), ("Description", d.description)]
    if isinstance(d, ITTicketDetails):
        return [("Summary", d.summary), ("Urgency", d.urgency)]
    return []


def card_for(status: RequestStatus, step: ApprovalStep, ref: ApproverRef, requester_name: str) -> ApprovalCard:
    who = requester_name or status.requester
    return ApprovalCard(
        approval_id=step.approval_id, request_id=status.request_id, kind=status.kind.value,
        requester=status.requester, requester_name=who,
        title=f"{who} asks for {status.describe()}",
        facts=facts(status), params_hash=status.params_hash, stage=step.stage, stages=step.stages,
        stage_name=step.name, note=ref.note, deadline=step.deadline,
    )
