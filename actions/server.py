"""The action server: every action built with its services, served by rasa-sdk's Sanic app to Rasa only."""

from __future__ import annotations

import hmac
import logging

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import HTTPResponse, Request, Sanic
from sanic.response import json as json_response

from actions.approvals import ActionDecideRequest, ActionPendingApprovals
from actions.common import ActionServices
from actions.dialogue import ActionClarify, ActionOutOfScope
from actions.form_flow import form_actions
from actions.knowledge import ActionAnswerKnowledge
from actions.requests import (
    ActionCancelRequest,
    ActionCheckRequestStatus,
    ActionListMyRequests,
    ActionSummarizeWeek,
)
from actions.routing import ActionStartRequest
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


def build_executor(services: ActionServices) -> ActionExecutor:
    executor = ActionExecutor()
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
    log.info("actions.started url=%s", settings.actions.url)
    app.run(host=settings.actions.host, port=settings.actions.port, single_process=True,
            access_log=False, motd=False)
