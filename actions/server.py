"""The action server: every action built with its services, served by rasa-sdk's Sanic app to Rasa only."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import HTTPResponse, Request, Sanic
from sanic.response import json as json_response

from actions.approvals import ActionDecideRequest, ActionPendingApprovals
from actions.common import ActionServices
from actions.dialogue import ActionClarify, ActionOutOfScope
from actions.form_flow import form_actions
from actions.knowledge import ActionAnswerKnowledge
from actions.metrics import MeasuredExecutor, serve
from actions.requests import (
    ActionCancelRequest,
    ActionCheckRequestStatus,
    ActionListMyRequests,
    ActionSummarizeWeek,
)
from actions.routing import ActionStartRequest
from assistant import telemetry
from assistant.catalog import SystemCatalog
from assistant.directory import Directory
from assistant.settings import Settings
from workflows.client import RequestsClient, connect

log = logging.getLogger(__name__)


def build_services(settings: Settings) -> ActionServices:
    async def requests_factory() -> RequestsClient:
        client = await connect(settings.temporal)
        return RequestsClient(client, task_queue=settings.temporal.task_queue,
                              rpc_timeout=settings.temporal.rpc_timeout_seconds)

    return ActionServices(
        settings,
        Directory.load(settings.core.directory_file),
        SystemCatalog.load(settings.core.systems_file),
        requests_factory=requests_factory,
    )


class TracedExecutor(MeasuredExecutor):
    """rasa-sdk's executor, with a span per action that continues the turn's trace.

    Rasa 3.6 (open source) sends no trace context to its action server, so the gateway puts it in
    the message's metadata, which every action of the turn reads from the tracker.
    """

    async def run(self, action_call: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        tracker = action_call.get("tracker") or {}
        latest = tracker.get("latest_message") or {}
        parent = telemetry.with_context((latest.get("metadata") or {}).get(telemetry.TRACE_METADATA_KEY))
        name = str(action_call.get("next_action") or "?")
        attributes = {"aios.action": name, "aios.conversation_id": tracker.get("sender_id"),
                      "aios.nlu.intent": (latest.get("intent") or {}).get("name")}
        with telemetry.span(f"action {name}", attributes, kind=telemetry.SpanKind.SERVER, context=parent):
            return await super().run(action_call, *args, **kwargs)


def build_executor(services: ActionServices) -> ActionExecutor:
    executor = TracedExecutor()
    actions = [
        *form_actions(services),
        ActionCheckRequestStatus(services),
        ActionListMyRequests(services),
        ActionCancelRequest(services),
        ActionSummarizeWeek(services),
        ActionPendingApprovals(services),
        ActionDecideRequest(services),
        ActionAnswerKnowledge(services),
        ActionStartRequest(services),
        ActionClarify(services),
        ActionOutOfScope(services),
    ]
    for action in actions:
        executor.register_action(action)
    return executor


def create_action_app(settings: Settings, services: ActionServices | None = None) -> Sanic:
    """rasa-sdk's app, answering only Rasa: every route but `/health` needs the actions token."""
    app = create_app(build_executor(services or build_services(settings)), cors_origins=[])
    expected = f"Bearer {settings.actions_token()}".encode()

    @app.on_request
    async def authenticate(request: Request) -> HTTPResponse | None:
        if request.path == "/health":
            return None
        if not hmac.compare_digest(request.headers.get("authorization", "").encode(), expected):
            return json_response({"error": "unauthorized"}, status=401)
        return None

    return app


def run_action_server(settings: Settings) -> None:
    app = create_action_app(settings)
    serve(settings.metrics.actions_address)
    log.info("actions.started url=%s", settings.actions.url)
    app.run(host=settings.actions.host, port=settings.actions.port, single_process=True,
            access_log=False, motd=False)
