"""An approval click from any chat channel: the workflow Update, and the card as it now stands.

Channel-agnostic: Slack and Teams parse their payloads, call these, and render the card they get.
The workflow's Update validator is the authority (own request, not an approver, stale, expired).
"""

from __future__ import annotations

from datetime import UTC, datetime

from assistant.directory import User
from assistant.errors import NotFound
from channels.services import GatewayServices
from workflows.approvals import CARD_STATUS, card_for, delegation_ended_text, no_approval_text
from workflows.models import Decision, DecisionInput, DecisionResult, StageOutcome, request_id_of
from workflows.notify.models import ApprovalCard, CardStatus


def _approval_id(approval_id: str) -> tuple[str, str]:
    """(APPROVAL-ID, REQUEST-ID) of a typed or clicked approval id; NotFound if it is not one."""
    approval_id = approval_id.upper()
    request_id = request_id_of(approval_id)
    if request_id is None:
        raise NotFound(f"{approval_id!r} is not an approval id (they look like REQ-ABC234-1)")
    return approval_id, request_id


async def decide(services: GatewayServices, user: User, *, approval_id: str, decision: Decision | str,
                 params_hash: str | None, comment: str = "", channel: str) -> DecisionResult:
    """Submit `user`'s decision (web, Slack, Teams); raises Forbidden / Conflict / Gone / NotFound.

    `params_hash` is the one on the card the person saw; None (a script that did not fetch the card)
    decides on the request's parameters as they are now.
    """
    approval_id, request_id = _approval_id(approval_id)
    client = await services.requests()
    if params_hash is None:
        try:
            params_hash = await client.current_params_hash(request_id)
        except NotFound as missing:  # the same answer as for someone else's approval
            raise NotFound(no_approval_text(approval_id)) from missing
    return await client.decide(DecisionInput(
        approval_id=approval_id, approver=user.id, decision=Decision(decision), comment=comment.strip()[:1000],
        params_hash=params_hash, channel=channel))


async def current_card(services: GatewayServices, user: User, approval_id: str) -> ApprovalCard:
    """The card for `user` as the workflow now stands (open, their part done, or the outcome)."""
    approval_id, request_id = _approval_id(approval_id)
    client = await services.requests()
    status = await client.for_approver(request_id, viewer=user.id)
    step = status.approval(approval_id)
    ref = step.approver(user.id) if step is not None else None
    if step is None or ref is None:
        raise NotFound(f"no approval {approval_id} for you")
    requester = services.directory.find(status.requester)
    card = card_for(status, step, ref, requester.name if requester else status.requester)
    final = step.decisions[-1] if step.decisions else None
    if step.outcome is not StageOutcome.PENDING:
        text = f"{'Approved' if step.outcome is StageOutcome.APPROVED else step.outcome.value.capitalize()}"
        if final is not None and step.outcome in (StageOutcome.APPROVED, StageOutcome.REJECTED):
            text += f" by {final.approver}" + (f': "{final.comment}"' if final.comment else "")
        return card.model_copy(update={"status": CARD_STATUS[step.outcome], "status_text": text,
                                       "decided_by": final.approver if final else None,
                                       "decided_at": final.at if final else None})
    if step.has_decided(user.id):
        mine = next((d for d in step.decisions if user.id in (d.approver, d.on_behalf_of)), step.decisions[-1])
        return card.model_copy(update={"status": CardStatus.DONE, "decided_by": mine.approver,
                                       "decided_at": mine.at,
                                       "status_text": f"You {mine.decision.value}d; waiting for others"})
    if not ref.may_decide(datetime.now(UTC)):
        # The delegation ended: the card is withdrawn, as the workflow withdrew its posted copies.
        return card.model_copy(update={"status": CardStatus.CANCELLED, "status_text": delegation_ended_text(ref)})
    if datetime.now(UTC) >= step.deadline:
        return card.model_copy(update={"status": CardStatus.EXPIRED, "status_text": "Expired without a decision"})
    return card
