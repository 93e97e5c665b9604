"""The gateway ASGI app: web widget, HTTP API, health and metrics, and the chat channels."""

from __future__ import annotations

import json
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import AssistantError, Busy
from assistant.settings import Settings
from channels import metrics
from channels.api import approvals, chat, health, me, notifications, outbox, requests as requests_api
from channels.chat_apps import ChatApps
from channels.guard import BodyGuard
from channels.notify.hub import NotifyHub
from channels.services import GatewayServices
from channels.web import admin_routes
from channels.web import docs_routes, routes as web
from channels.api import knowledge as knowledge_api

log = logging.getLogger(__name__)

_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "payload_too_large",
                 415: "unsupported_media_type", 422: "invalid_request", 429: "busy", 503: "service_unavailable"}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def create_app(settings: Settings, *, services: GatewayServices | None = None) -> FastAPI:
    """The gateway for `settings`. Tests pass their own services (e.g. a shared Temporal client)."""
    settings.core.check_secure()
    settings.check_exposure()
    docs_on = settings.gateway.api_docs if settings.gateway.api_docs is not None else settings.core.mode == "dev"
    (log.info if settings.core.mode == "prod" else log.warning)("gateway.%s", settings.mode_banner())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own = services is None
        app.state.services = services or GatewayServices.build(settings)
        await app.state.notify.start()
        await chat_apps.start()
        try:
            yield
        finally:
            await app.state.notify.stop()
            await chat_apps.stop()
            if own:
                await app.state.services.close()

    app = FastAPI(title="AIOS Assistant gateway", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json" if docs_on else None)
    if services is not None:
        app.state.services = services
    # Slack and Teams (when configured): their notifiers join the web inbox in the dispatcher.
    chat_apps = ChatApps.build(settings, services_of=lambda: app.state.services)
    app.state.slack, app.state.teams = chat_apps.slack, chat_apps.teams
    app.state.notify = NotifyHub.build(settings, extra=chat_apps.notifiers)

    # Authenticate and bound every body before anything reads it (chunked bodies too).
    app.add_middleware(BodyGuard, settings=settings)

    @app.exception_handler(AssistantError)
    async def on_assistant_error(request: Request, exc: AssistantError) -> JSONResponse:
        metrics.ERRORS.labels(code=exc.code).inc()
        # Every 429 says when to come back (one person's limit, or the model's queue being full).
        headers = {"Retry-After": str(max(1, round(exc.retry_after)))} if isinstance(exc, Busy) else None
        return JSONResponse(exc.to_dict(), status_code=exc.status if exc.status < 500 or exc.status == 503 else 500,
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "invalid_json", "the request body is not valid JSON")
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg')}" for e in errors[:5]
        )
        return error_response(400, "invalid_request", detail or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        return error_response(exc.status_code, code, message)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Users never see internals; the log has the stack trace.
        log.exception("gateway.unhandled path=%s", request.url.path)
        metrics.ERRORS.labels(code="internal_error").inc()
        return error_response(500, "internal_error", "something went wrong on our side; it has been logged")

    app.include_router(health.router)
    app.include_router(chat.router)
    app.include_router(requests_api.router)
    app.include_router(me.router)
    app.include_router(approvals.router)
    app.include_router(notifications.router)
    app.include_router(web.router)
    if docs_on:
        app.include_router(docs_routes.router)
    app.include_router(knowledge_api.router)
    app.include_router(admin_routes.router)
    app.include_router(outbox.router)
    for router in chat_apps.routers:
        app.include_router(router)
    return app


__all__ = ["create_app"]
