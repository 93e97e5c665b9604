"""The knowledge service: one process owns the store, the embedder and the answer model."""

from __future__ import annotations

import asyncio
import hmac
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request

from assistant import telemetry
from assistant.errors import AssistantError, Unauthorized
from assistant.http_errors import error_response, install_error_handlers
from assistant.settings import Settings
from assistant.settings.knowledge import service_token
from knowledge.runtime import KnowledgeRuntime
from knowledge.seed import seed_if_empty
from knowledge.service import routes
from knowledge.service.jobs import Jobs

log = logging.getLogger(__name__)

TOKEN_HEADER = "x-aios-knowledge-token"
ACTOR_HEADER = "x-aios-actor"


def create_app(settings: Settings, *, runtime: KnowledgeRuntime | None = None,
               seed_dir: Path | None = None) -> FastAPI:
    """The service for `settings`; tests may pass a runtime they built (and close it themselves)."""
    settings.core.check_secure()
    token = service_token(settings.core.secret_key.get_secret_value())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own = runtime is None
        rt = runtime if runtime is not None else await asyncio.to_thread(
            KnowledgeRuntime.open, settings.knowledge, settings.core.var_dir,
            database_url=settings.core.database_url, secret_key=settings.core.secret_key.get_secret_value(),
        )
        app.state.runtime = rt
        try:
            if seed_dir is not None:
                await asyncio.to_thread(seed_if_empty, rt.store, seed_dir)
            await _warm_up(rt)
            log.info("knowledge.service.started url=%s documents=%d", settings.knowledge.url,
                     rt.store.registry.count())
            refresher = asyncio.create_task(_follow_other_replicas(rt, settings.knowledge.refresh_seconds))
            try:
                yield
            finally:
                refresher.cancel()
        finally:
            if own:
                rt.close()

    app = FastAPI(title="AIOS knowledge service", version="0.1.0", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)
    app.state.jobs = Jobs()
    app.state.settings = settings
    if runtime is not None:
        app.state.runtime = runtime

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if request.url.path != "/healthz":
            given = request.headers.get(TOKEN_HEADER, "")
            if request.url.path == "/metrics" and not given:  # a scraper sends the token as a bearer
                given = request.headers.get("authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(given.encode(), token.encode()):
                err = Unauthorized("missing or wrong service token", code="invalid_service_token")
                return error_response(err.status, err.code, err.message)
        length = request.headers.get("content-length")
        limit = settings.knowledge.max_upload_bytes + 1024 * 1024  # the file plus the form around it
        if length is not None and length.isdigit() and int(length) > limit:
            megabytes = settings.knowledge.max_upload_bytes // 1048576
            return error_response(413, "document_too_large", f"the upload is over the limit of {megabytes} MB")
        return await call_next(request)

    telemetry.instrument_asgi(app)  # outermost: a server span per request, child of the caller's

    install_error_handlers(app, log=log, service="knowledge.service",
                           unexpected="something went wrong in the knowledge service; it has been logged")

    app.include_router(routes.router)
    return app


async def _follow_other_replicas(rt: KnowledgeRuntime, every: float) -> None:
    """Reload the snapshot (chunks and the BM25 index) when another replica changed the store."""
    while True:
        await asyncio.sleep(every)
        try:
            if await asyncio.to_thread(rt.store.refresh):
                log.info("knowledge.store.refreshed documents=%d", len(rt.store.snapshot.documents()))
        except Exception:
            log.exception("knowledge.store.refresh_failed")


async def _warm_up(rt: KnowledgeRuntime) -> None:
    """First queries pay for lazy initialisation (torch, HNSW pages, model weights); pay it now."""
    await asyncio.to_thread(rt.retriever.search, "warm up", ["all-staff"], k=1)
    if rt.generator is None:
        return
    try:
        async for _ in rt.generator.stream([{"role": "user", "content": "Hi"}], max_tokens=1, temperature=0.0):
            pass
    except AssistantError as exc:  # e.g. a separate inference server that is not up yet
        log.warning("knowledge.service.warm_up_failed error=%s", exc.message)


__all__ = ["ACTOR_HEADER", "TOKEN_HEADER", "create_app"]
