"""The knowledge service: one process owns the store, the embedder and the answer model."""

from __future__ import annotations

import asyncio
import hmac
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import AssistantError, Unauthorized
from assistant.settings import Settings
from knowledge.runtime import KnowledgeRuntime
from knowledge.seed import seed_if_empty
from knowledge.service import routes
from knowledge.service.jobs import Jobs
from assistant.settings.knowledge import service_token

log = logging.getLogger(__name__)

TOKEN_HEADER = "x-aios-knowledge-token"
ACTOR_HEADER = "x-aios-actor"


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def create_app(settings: Settings, *, runtime: KnowledgeRuntime | None = None,
               seed_dir: Path | None = None) -> FastAPI:
    """The service for `settings`; tests may pass a runtime they built (and close it themselves)."""
    settings.core.check_secure()
    token = service_token(settings.core.secret_key.get_secret_value())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own = runtime is None
        rt = runtime or await asyncio.to_thread(
            KnowledgeRuntime.open, settings.knowledge, settings.core.var_dir,
            database_url=settings.core.database_url,
        )
        app.state.runtime = rt
        try:
            if seed_dir is not None:
                await asyncio.to_thread(seed_if_empty, rt.store, seed_dir)
            await _warm_up(rt)
            log.info("knowledge.service.started url=%s documents=%d", settings.knowledge.url,
                     rt.store.registry.count())
            yield
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
            if not hmac.compare_digest(given.encode(), token.encode()):
                err = Unauthorized("missing or wrong service token", code="invalid_service_token")
                return _error(err.status, err.code, err.message)
        length = request.headers.get("content-length")
        limit = settings.knowledge.max_upload_bytes + 1024 * 1024  # the file plus the form around it
        if length is not None and length.isdigit() and int(length) > limit:
            return _error(413, "document_too_large",
                          f"the upload is over the limit of {settings.knowledge.max_upload_bytes // 1048576} MB")
        return await call_next(request)

    @app.exception_handler(AssistantError)
    async def on_error(request: Request, exc: AssistantError) -> JSONResponse:
        status = exc.status if exc.status < 500 or exc.status == 503 else 500
        return _error(status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg')}"
                           for e in exc.errors()[:5])
        return _error(400, "invalid_request", detail or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, "not_found" if exc.status_code == 404 else "error", str(exc.detail))

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("knowledge.service.unhandled path=%s", request.url.path)
        return _error(500, "internal_error", "something went wrong in the knowledge service; it has been logged")

    app.include_router(routes.router)
    return app


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
