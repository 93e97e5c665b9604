"""The small client API the dialogue and the gateway use to start, read and cancel requests."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from assistant import telemetry
from assistant.errors import AssistantError, Conflict, Forbidden, Gone, NotFound, ServiceUnavailable
from assistant.settings import TemporalSettings
from workflows import search_attributes as sa
from workflows.approvals import Rejection, decision_problem, no_approval_text
from workflows.models import (
    REQUEST_ID_RE,
    ApprovalStep,
    CancelInput,
    DecisionInput,
    DecisionResult,
    DelegationChange,
    NewRequest,
    RequestKind,
    RequestState,
    RequestStatus,
    RequestSummary,
    request_id_of,
)
from workflows.request_workflow import RequestInput, RequestOptions, RequestWorkflow

log = logging.getLogger(__name__)

# Per entry of a list (pending approvals, App Home): one stuck workflow must not stall the page.
LIST_QUERY_TIMEOUT = timedelta(seconds=2)

# Validator rejections (ApplicationError.type) and the errors they become at the edges.
_REJECTIONS: dict[str, type[AssistantError]] = {
    "forbidden": Forbidden, "not_pending": Conflict, "not_ready": Conflict, "already_decided": Conflict,
    "stale": Conflict, "expired": Gone, "not_found": NotFound,
}


def tls_config(settings: TemporalSettings) -> TLSConfig | bool:
    """mTLS when configured (the frontend's CA, and this service's certificate and key); else plain."""
    if not settings.tls:
        return False
    assert settings.tls_ca_file is not None
    cert, key = settings.tls_cert_file, settings.tls_key_file
    return TLSConfig(server_root_ca_cert=settings.tls_ca_file.read_bytes(),
                     client_cert=cert.read_bytes() if cert else None,
                     client_private_key=key.read_bytes() if key else None, domain=settings.tls_server_name)


def tracing_interceptors(client: Client | None = None) -> list[TracingInterceptor]:
    """Temporal's OpenTelemetry interceptor when this process traces (workflow and activity spans join
    the trace that started or signalled them); none when it does not, or when `client` has one."""
    if not telemetry.enabled():
        return []
    if client is not None and any(isinstance(i, TracingInterceptor) for i in client.config()["interceptors"]):
        return []
    return [TracingInterceptor()]


async def connect(settings: TemporalSettings, *, runtime: Runtime | None = None) -> Client:
    """A Temporal client with the pydantic converter every workflow of ours uses; `runtime`: the SDK
    runtime it runs on (the worker's exports Prometheus metrics, see workflows/metrics.py)."""
    try:
        return await Client.connect(
            settings.address,
            namespace=settings.namespace,
            data_converter=pydantic_data_converter,
            tls=tls_config(settings),
            runtime=runtime,
            interceptors=tracing_interceptors(),
        )
    except RuntimeError as exc:  # temporalio raises RuntimeError when it cannot connect
        raise ServiceUnavailable("the workflow service is not reachable") from exc


class RequestsClient:
    """Typed request in, request id out; status, lists and cancel for one caller."""

    def __init__(self, client: Client, *, task_queue: str, rpc_timeout: float = 10.0,
                 options: RequestOptions | None = None, task_timeout: float = 10.0) -> None:
        self._client = client
        self._task_queue = task_queue
        self._rpc_timeout = timedelta(seconds=rpc_timeout)
        self._options = options or RequestOptions()
        self._task_timeout = timedelta(seconds=task_timeout)

    @property
    def temporal(self) -> Client:
        return self._client

    async def submit(self, request: NewRequest) -> str:
        """Start the workflow for a confirmed request; the same submission twice is one request."""
        request_id = request.request_id()
        try:
            await self._client.start_workflow(
                RequestWorkflow.run,
                RequestInput(
                    request_id=request_id,
                    requester=request.requester,
                    details=request.details,
                    conversation_id=request.conversation_id,
                    channel=request.channel,
                    options=self._options,
                ),
                id=request_id,
                task_queue=self._task_queue,
                task_timeout=self._task_timeout,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=sa_initial(request),
                rpc_timeout=self._rpc_timeout,
            )
            log.info("request.submitted id=%s kind=%s requester=%s", request_id, request.kind, request.requester)
        except WorkflowAlreadyStartedError:
            log.info("request.duplicate_submit id=%s", request_id)
        except RPCError as exc:
            raise _unavailable(exc) from exc
        return request_id

    async def status(self, request_id: str, *, viewer: str) -> RequestStatus:
        """The request as its requester sees it. Other users get NotFound (no existence leak)."""
        status = await self._visible(request_id, lambda s: s.requester == viewer)
        return status.for_requester()

    async def _visible(self, request_id: str, may_see) -> RequestStatus:
        """The request if `may_see` it; else the same NotFound as for a request that does not exist,
        so nobody learns which request ids are taken."""
        try:
            status = await self._query(request_id)
        except NotFound:
            if not REQUEST_ID_RE.match(request_id):
                raise  # a malformed id says so: that tells nothing about other people's requests
            raise NotFound(f"no request {request_id} of yours") from None
        if not may_see(status):
            raise NotFound(f"no request {request_id} of yours")
        return status

    async def _query(self, request_id: str, *, timeout: timedelta | None = None) -> RequestStatus:
        if not REQUEST_ID_RE.match(request_id):
            raise NotFound(f"{request_id!r} is not a request id (they look like REQ-ABC234)")
        handle = self._client.get_workflow_handle(request_id)
        try:
            return await handle.query(RequestWorkflow.status, rpc_timeout=timeout or self._rpc_timeout)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise NotFound(f"no request {request_id}") from exc
            raise _unavailable(exc) from exc
        except WorkflowFailureError as exc:  # pragma: no cover - queries do not fail workflows
            raise Conflict(str(exc)) from exc

    async def list_for(self, requester: str, *, open_only: bool = False, limit: int = 20) -> list[RequestSummary]:
        """The caller's requests, newest first, from visibility."""
        query = f"WorkflowType = 'RequestWorkflow' AND {sa.REQUESTER.name} = {_quote(requester)}"
        if open_only:
            states = ", ".join(_quote(s.value) for s in RequestState if s.is_open)
            query += f" AND {sa.STATE.name} IN ({states})"
        out: list[RequestSummary] = []
        try:
            async for wf in self._client.list_workflows(query, limit=limit, rpc_timeout=self._rpc_timeout):
                attrs = wf.typed_search_attributes
                state = attrs.get(sa.STATE)
                if wf.status is not None and wf.status != WorkflowExecutionStatus.RUNNING and state in (
                    None, RequestState.SUBMITTED.value, RequestState.PENDING_APPROVAL.value
                ):
                    # Terminated or timed-out executions never updated their state attribute.
                    state = RequestState.FAILED.value
                out.append(RequestSummary(
                    request_id=wf.id,
                    kind=RequestKind(attrs.get(sa.KIND) or "it_ticket"),
                    requester=attrs.get(sa.REQUESTER) or requester,
                    state=RequestState(state or RequestState.SUBMITTED.value),
                    created_at=wf.start_time,
                    closed_at=wf.close_time,
                ))
        except RPCError as exc:
            raise _unavailable(exc) from exc
        out.sort(key=lambda r: r.created_at or 0, reverse=True)
        return out

    async def cancel(self, request_id: str, *, by: str, reason: str = "", channel: str = "web") -> RequestStatus:
        """Cancel the caller's own pending request. Forbidden for anyone else; Conflict if decided."""
        current = await self.status(request_id, viewer=by)  # NotFound for other people's requests
        if current.state not in (RequestState.SUBMITTED, RequestState.PENDING_APPROVAL):
            # The workflow's validator is the authority (races); this gives the clear answer early.
            raise Conflict(f"request is already {current.state.value}")
        handle = self._client.get_workflow_handle(request_id)
        try:
            status = await handle.execute_update(
                RequestWorkflow.cancel,
                CancelInput(by=by, reason=reason, channel=channel),
                id=f"cancel-{request_id}-{by}",
                rpc_timeout=self._rpc_timeout,
            )
            return status.for_requester()
        except WorkflowUpdateFailedError as exc:
            raise _rejection(exc) from exc
        except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
            raise _no_answer() from exc
        except RPCError as exc:
            raise _unavailable(exc) from exc


    async def decide(self, inp: DecisionInput) -> DecisionResult:
        """One approver's click. The same approver clicking again gets the first result back."""
        request_id = request_id_of(inp.approval_id)
        if request_id is None:
            raise NotFound(f"{inp.approval_id!r} is not an approval id")
        handle = self._client.get_workflow_handle(request_id)
        try:
            result = await handle.execute_update(
                RequestWorkflow.decide, inp, id=decision_update_id(inp.approval_id, inp.approver),
                rpc_timeout=self._rpc_timeout,
            )
        except WorkflowUpdateFailedError as exc:
            raise _rejection(exc) from exc
        except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
            raise _no_answer() from exc
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                # Unknown, or already closed: the final state says which answer is right.
                try:
                    final = await self._final(request_id)
                except NotFound as missing:
                    raise NotFound(no_approval_text(inp.approval_id), code="not_found") from missing
                return self._closed_decision(final, inp)
            raise _unavailable(exc) from exc
        if result.decision != inp.decision:
            raise Conflict(f"you already {result.decision.value}d this request at {result.decided_at:%H:%M} UTC",
                           code="already_decided")
        return result

    async def _final(self, request_id: str) -> RequestStatus:
        """A closed request's last state, from its completion event (no worker needed)."""
        handle = self._client.get_workflow_handle(request_id, result_type=RequestStatus)
        try:
            return await handle.result(rpc_timeout=self._rpc_timeout)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise NotFound(f"no request {request_id}") from exc
            raise _unavailable(exc) from exc
        except WorkflowFailureError as exc:  # terminated by an operator: nothing to decide any more
            raise Gone(f"request {request_id} was stopped") from exc

    def _closed_decision(self, status: RequestStatus, inp: DecisionInput) -> DecisionResult:
        step = status.approval(inp.approval_id)
        mine = next((d for d in step.decisions if d.approver == inp.approver), None) if step else None
        if step is not None and mine is not None:
            if mine.decision != inp.decision:
                raise Conflict(f"you already {mine.decision.value}d this request", code="already_decided")
            return DecisionResult(request_id=status.request_id, approval_id=step.approval_id, approver=mine.approver,
                                  decision=mine.decision, decided_at=mine.at, stage_outcome=step.outcome,
                                  state=status.state)
        problem = decision_problem(status, inp, status.updated_at) or Rejection(
            type="already_decided", message=f"this request is already {status.state.value}")
        raise _REJECTIONS.get(problem.type, Conflict)(problem.message, code=problem.type)

    async def current_params_hash(self, request_id: str) -> str:
        """The parameters hash a decision must carry, for callers that did not show a card."""
        return (await self._query(request_id)).params_hash

    async def for_approver(self, request_id: str, *, viewer: str) -> RequestStatus:
        """A request as one of its approvers (past or present) sees it; NotFound for anyone else."""
        return await self._visible(request_id, lambda s: viewer == s.requester
                                   or any(a.approver(viewer) for a in s.approvals))

    async def pending_for(self, approver: str, *, limit: int = 50) -> list[tuple[RequestStatus, ApprovalStep]]:
        """What waits for this approver: a visibility query, then each request's current state."""
        query = (f"WorkflowType = 'RequestWorkflow' AND {sa.APPROVERS.name} = {_quote(approver)} "
                 f"AND {sa.STATE.name} = {_quote(RequestState.PENDING_APPROVAL.value)}")
        out: list[tuple[RequestStatus, ApprovalStep]] = []
        now = datetime.now(UTC)
        for status in await self._query_many(await self._ids(query, limit)):
            step = status.current_approval
            ref = step.approver(approver) if step is not None else None
            if step is not None and ref is not None and ref.may_decide(now) and not step.has_decided(approver):
                out.append((status, step))
        out.sort(key=lambda pair: pair[1].requested_at)
        return out

    async def delegation_changed(self, change: DelegationChange, *, limit: int = 500) -> list[str]:
        """Tell every open request where `change.delegate` may decide that the delegation ended or
        changed; returns the request ids signalled. The workflows check the delegation as it is now."""
        query = (f"WorkflowType = 'RequestWorkflow' AND ExecutionStatus = 'Running' "
                 f"AND {sa.APPROVERS.name} = {_quote(change.delegate)} "
                 f"AND {sa.STATE.name} = {_quote(RequestState.PENDING_APPROVAL.value)}")
        request_ids = await self._ids(query, limit)

        async def signal(request_id: str) -> str | None:
            handle = self._client.get_workflow_handle(request_id)
            try:
                await handle.signal(RequestWorkflow.delegation_changed, change, rpc_timeout=self._rpc_timeout)
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    return None  # closed since the visibility query
                raise _unavailable(exc) from exc
            return request_id

        signalled = [r for r in await asyncio.gather(*(signal(i) for i in request_ids)) if r is not None]
        log.info("delegation.signalled user=%s delegate=%s ended=%s requests=%d", change.user, change.delegate,
                 change.until is None, len(signalled))
        return signalled

    async def decided_by(self, approver: str, *, limit: int = 50) -> list[RequestStatus]:
        """Requests this person decided on (any stage), newest first."""
        query = f"WorkflowType = 'RequestWorkflow' AND {sa.DECIDERS.name} = {_quote(approver)}"
        return await self._query_many(await self._ids(query, limit))

    async def _query_many(self, request_ids: list[str]) -> list[RequestStatus]:
        """The entries of a list, queried together with a short timeout each: a request whose
        worker does not answer is left out (and logged), it does not stall the whole list."""
        results = await asyncio.gather(*(self._query(i, timeout=LIST_QUERY_TIMEOUT) for i in request_ids),
                                       return_exceptions=True)
        out = []
        for request_id, result in zip(request_ids, results, strict=True):
            if isinstance(result, RequestStatus):
                out.append(result)
            elif isinstance(result, ServiceUnavailable):
                log.warning("request.list_entry_unavailable id=%s", request_id)
            elif not isinstance(result, NotFound):
                raise result
        return out

    async def _ids(self, query: str, limit: int) -> list[str]:
        try:
            return [wf.id async for wf in self._client.list_workflows(query, limit=limit,
                                                                       rpc_timeout=self._rpc_timeout)]
        except RPCError as exc:
            raise _unavailable(exc) from exc


def decision_update_id(approval_id: str, approver: str) -> str:
    """Approval + approver: a repeated click is the same update, answered with the first result."""
    return f"decide-{approval_id}-{approver}"


def sa_initial(request: NewRequest) -> TypedSearchAttributes:
    return TypedSearchAttributes([
        SearchAttributePair(sa.REQUESTER, request.requester),
        SearchAttributePair(sa.KIND, request.kind.value),
        SearchAttributePair(sa.STATE, RequestState.SUBMITTED.value),
    ])


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _rejection(exc: WorkflowUpdateFailedError) -> Exception:
    cause = exc.cause
    if isinstance(cause, ApplicationError) and cause.type in _REJECTIONS:
        return _REJECTIONS[cause.type](cause.message, code=cause.type)
    return Conflict(str(cause or exc))


def _no_answer() -> ServiceUnavailable:
    # The update is durable once admitted: the same click later is answered with its result.
    log.warning("temporal.update_timeout")
    return ServiceUnavailable("the request service is slow to answer; try again in a moment")


def _unavailable(exc: RPCError) -> ServiceUnavailable:
    log.warning("temporal.rpc_error status=%s message=%s", exc.status, exc.message)
    return ServiceUnavailable("the workflow service is not answering; try again in a moment")
