"""The error contract every HTTP service of the assistant shares (gateway, knowledge service).

Every error is JSON `{"error": {"code", "message"}}`; bad input is a 4xx, never a 500; a 429 says
when to come back; an unexpected exception is logged with its stack trace and shown as a plain 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import AssistantError, Busy

STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "payload_too_large",
                415: "unsupported_media_type", 422: "invalid_request", 429: "busy", 503: "service_unavailable"}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI, *, log: logging.Logger, service: str, unexpected: str,
                           count: Callable[[str], None] | None = None) -> None:
    """The handlers for `app`: `unexpected` is what a person reads on a 500 (logged as
    `<service>.unhandled`); `count(code)` is called for every error answered (the gateway's metrics)."""

    def answer(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        if count is not None:
            count(code)
        return error_response(status, code, message, headers)

    @app.exception_handler(AssistantError)
    async def on_assistant_error(request: Request, exc: AssistantError) -> JSONResponse:
        # Every 429 says when to come back (one person's limit, or the model's queue being full).
        headers = {"Retry-After": str(max(1, round(exc.retry_after)))} if isinstance(exc, Busy) else None
        status = exc.status if exc.status < 500 or exc.status == 503 else 500
        return answer(status, exc.code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return answer(400, "invalid_json", "the request body is not valid JSON")
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg')}" for e in errors[:5]
        )
        return answer(400, "invalid_request", detail or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        return answer(exc.status_code, STATUS_CODES.get(exc.status_code, "error"), message)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # People never see internals; the log has the stack trace (there is no active exception
        # in a handler, so it is passed explicitly).
        log.error("%s.unhandled path=%s", service, request.url.path, exc_info=exc)
        return answer(500, "internal_error", unexpected)
