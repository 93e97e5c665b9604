"""The gateway ASGI app: web widget, HTTP API, health and metrics, and the chat channels."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from assistant import telemetry
from assistant.directory import Directory
from assistant.http_errors import install_error_handlers
from assistant.schema import open_database
from assistant.settings import Settings
from channels import metrics
from channels.api import approvals, chat, feedback, health, me, notifications, outbox
from channels.api import digest as digest_api
from channels.api import insights as insights_api
from channels.api import knowledge as knowledge_api
from channels.api import requests as requests_api
from channels.chat_apps import ChatApps
from channels.guard import BodyGuard
from channels.notify.hub import NotifyHub
from channels.services import GatewayServices
from channels.web import admin_routes, docs_routes, sso_routes
from channels.web import routes as web

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, services: GatewayServices | None = None) -> FastAPI:
    """The gateway for `settings`. Tests pass their own services (e.g. a shared Temporal client)."""
    settings.core.check_secure()
    settings.check_exposure()
    settings.gateway.embedding_origins()  # a malformed origin stops the start, not the first page view
    settings.oidc.check(settings.core.mode)
    docs_on = settings.gateway.api_docs if settings.gateway.api_docs is not None else settings.core.mode == "dev"
    (log.info if settings.core.mode == "prod" else log.warning)("gateway.%s", settings.mode_banner())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own = services is None
        app.state.services = services or GatewayServices.build(settings, engine=engine, directory=directory)
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
    # One database engine and one directory for the whole gateway (the services' own when given).
    engine = services.engine if services is not None else open_database(settings)
    directory = services.directory if services is not None else Directory.load(settings.core.directory_file)
    # Slack and Teams (when configured): their notifiers join the web inbox in the dispatcher.
    chat_apps = ChatApps.build(settings, services_of=lambda: app.state.services, engine=engine, directory=directory)
    app.state.slack, app.state.teams = chat_apps.slack, chat_apps.teams
    app.state.notify = NotifyHub(settings, engine, directory, extra=chat_apps.notifiers)

    # Authenticate and bound every body before anything reads it (chunked bodies too).
    app.add_middleware(BodyGuard, settings=settings)
    telemetry.instrument_asgi(app)  # outermost: the span covers the guard's refusals too

    install_error_handlers(app, log=log, service="gateway",
                           unexpected="something went wrong on our side; it has been logged",
                           count=lambda code: metrics.ERRORS.labels(code=code).inc())

    routers = [health, chat, requests_api, me, digest_api, approvals, notifications, web, sso_routes,
               *([docs_routes] if docs_on else []), knowledge_api, feedback, admin_routes, outbox, insights_api]
    for module in routers:
        app.include_router(module.router)
    for router in chat_apps.routers:
        app.include_router(router)
    return app


__all__ = ["create_app"]
