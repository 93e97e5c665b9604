"""An approval click from any chat channel: the workflow Update, and the card as it now stands.

Channel-agnostic: Slack and Teams parse their payloads, call these, and render the card they get.
The workflow's Update validator is the authority (own request, not an approver, stale, expired).
"""

from __future__ import annotations

from datetime import datetime, timezone

from assistant.directory import User
from assistant.errors import NotFound
from workflows.notify.models import ApprovalCard, CardStatus
from channels.services import GatewayServices
from workflows.approvals import card_for, delegation_ended_text
from workflows.models import Decision, DecisionInput, DecisionResult, StageOutcome, request_id_of

_OUTCOME = {StageOutcome.APPROVED: CardStatus.APPROVED, StageOutcome.REJECTED: CardStatus.REJECTED,
            StageOutcome.EXPIRED: CardStatus.EXPIRED, StageOutcome.CANCELLED: CardStatus.CANCELLED}


async def decide(services: GatewayServices, user: User, *, approval_id: str, decision: Decision | str,
                 params_hash: str, comment: str = "", channel: str) -> DecisionResult:
    """Submit `user`'s decision as shown on a card; raises Forbidden / Conflict / Gone / NotFound."""
    approval_id = approval_id.upper()
    if request_id_of(approval_id) is None:
        raise NotFound(f"{approval_id!r} is not an approval id")
    client = await services.requests()
    return await client.decide(DecisionInput(
        approval_id=approval_id, approver=user.id, decision=Decision(decision), comment=comment.strip()[:1000],
        params_hash=params_hash, channel=channel))


async def current_card(services: GatewayServices, user: User, approval_id: str) -> ApprovalCard:
    """The card for `user` as the workflow now stands (open, their part done, or the outcome)."""
    request_id = request_id_of(approval_id.upper())
    if request_id is None:
        raise NotFound(f"{approval_id!r} is not an approval id")
    client = await services.requests()
    status = await client.for_approver(request_id, viewer=user.id)
    step = status.approval(approval_id.upper())
    if step is None or step.approver(user.id) is None:
        raise NotFound(f"no approval {approval_id} for you")
    requester = services.directory.find(status.requester)
    card = card_for(status, step, step.approver(user.id), requester.name if requester else status.requester)
    final = step.decisions[-1] if step.decisions else None
    if step.outcome is not StageOutcome.PENDING:
        text = f"{'Approved' if step.outcome is StageOutcome.APPROVED else step.outcome.value.capitalize()}"
        if final is not None and step.outcome in (StageOutcome.APPROVED, StageOutcome.REJECTED):
            text += f" by {final.approver}" + (f': "{final.comment}"' if final.comment else "")
        return card.model_copy(update={"status": _OUTCOME[step.outcome], "status_text": text,
                                       "decided_by": final.approver if final else None,
                                       "decided_at": final.at if final else None})
    if step.has_decided(user.id):
        mine = next((d for d in step.decisions if user.id in (d.approver, d.on_behalf_of)), step.decisions[-1])
        return card.model_copy(update={"status": CardStatus.DONE, "decided_by": mine.approver,
                                       "decided_at": mine.at,
                                       "status_text": f"You {mine.decision.value}d; waiting for others"})
    ref = step.approver(user.id)
    if not ref.may_decide(datetime.now(timezone.utc)):
        # The delegation ended: the card is withdrawn, as the workflow withdrew its posted copies.
        return card.model_copy(update={"status": CardStatus.CANCELLED, "status_text": delegation_ended_text(ref)})
    if datetime.now(timezone.utc) >= step.deadline:
        return card.model_copy(update={"status": CardStatus.EXPIRED, "status_text": "Expired without a decision"})
    return card
