"""The request workflow: one durable workflow per employee request."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows.models import (
        CancelInput,
        HistoryEntry,
        RequestDetails,
        RequestKind,
        RequestState,
        RequestStatus,
    )
    from pydantic import BaseModel


class RequestInput(BaseModel):
    request_id: str
    requester: str
    details: RequestDetails
    conversation_id: str
    channel: str = "web"


TERMINAL = {
    RequestState.CANCELLED,
    RequestState.REJECTED,
    RequestState.EXPIRED,
    RequestState.COMPLETED,
    RequestState.FAILED,
}


@workflow.defn(name="RequestWorkflow")
class RequestWorkflow:
    """Holds the request and its state; approvals and connectors extend it."""

    def __init__(self) -> None:
        self._status: RequestStatus | None = None

    @workflow.run
    async def run(self, request: RequestInput) -> RequestStatus:
        now = workflow.now()
        self._status = RequestStatus(
            request_id=request.request_id,
            kind=RequestKind(request.details.kind),
            requester=request.requester,
            state=RequestState.SUBMITTED,
            details=request.details,
            channel=request.channel,
            created_at=now,
            updated_at=now,
            history=[HistoryEntry(at=now, event="submitted", actor=request.requester,
                                  detail=f"from {request.channel}")],
        )
        workflow.upsert_search_attributes([
            sa.REQUESTER.value_set(request.requester),
            sa.KIND.value_set(request.details.kind),
            sa.STATE.value_set(RequestState.SUBMITTED.value),
        ])
        await workflow.wait_condition(lambda: self._state in TERMINAL)
        return self._status

    @property
    def _state(self) -> RequestState:
        assert self._status is not None
        return self._status.state

    def _transition(self, state: RequestState, event: str, *, actor: str | None, detail: str = "") -> None:
        assert self._status is not None
        now: datetime = workflow.now()
        self._status.state = state
        self._status.updated_at = now
        self._status.history.append(HistoryEntry(at=now, event=event, actor=actor, detail=detail))
        workflow.upsert_search_attributes([sa.STATE.value_set(state.value)])

    @workflow.query
    def status(self) -> RequestStatus:
        if self._status is None:
            raise ApplicationError("request not initialised yet", type="not_ready")
        return self._status

    @workflow.update
    def cancel(self, inp: CancelInput) -> RequestStatus:
        self._transition(RequestState.CANCELLED, "cancelled", actor=inp.by, detail=inp.reason)
        assert self._status is not None
        return self._status

    @cancel.validator
    def _validate_cancel(self, inp: CancelInput) -> None:
        # Validators reject without writing anything to history.
        if self._status is None:
            raise ApplicationError("request not initialised yet", type="not_ready")
        if inp.by != self._status.requester:
            raise ApplicationError("only the requester can cancel this request", type="forbidden")
        if self._state not in (RequestState.SUBMITTED, RequestState.PENDING_APPROVAL):
            raise ApplicationError(
                f"request is already {self._state.value}", type="not_pending"
            )
