"""What every connector activity does around the call: who the person is, errors, the audit record."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from assistant import telemetry
from assistant.audit import AuditLog, digest
from workflows import metrics
from workflows.activities.models import EffectInput
from workflows.connectors.base import DirectoryConnector
from workflows.connectors.errors import ConnectorError
from workflows.connectors.models import Person

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


def to_application_error(exc: ConnectorError) -> ApplicationError:
    """Permanent failures are non-retryable; a rate limit asks Temporal to wait what the vendor said."""
    delay = timedelta(seconds=exc.retry_after) if exc.retry_after else None
    return ApplicationError(exc.message, type=exc.code, non_retryable=not exc.retryable, next_retry_delay=delay)


class ConnectorActivities:
    def __init__(self, directory: DirectoryConnector, audit: AuditLog) -> None:
        self.directory = directory
        self.audit = audit

    async def person(self, user_id: str) -> Person:
        person = await self.directory.person(user_id)
        if person is None:
            raise ApplicationError(f"{user_id} is not in the directory", type="unknown_user", non_retryable=True)
        return person

    async def call(self, inp: EffectInput, system: str, request: R,
                   fn: Callable[[R], Awaitable[T]]) -> T:
        info = activity.info()
        started = time.monotonic()
        try:
            where = {"aios.connector.system": system, "aios.connector.step": inp.step,
                     "aios.request_id": inp.request_id}
            with telemetry.span(f"connector {system}", where, kind=telemetry.SpanKind.CLIENT):
                result = await fn(request)  # a vendor's HTTP calls are child spans (httpx)
        except ConnectorError as exc:
            metrics.connector_call(system, "retryable_error" if exc.retryable else "permanent_error",
                                   timedelta(seconds=time.monotonic() - started))
            activity.logger.warning("connector.failed system=%s step=%s attempt=%s retryable=%s error=%s",
                                    system, inp.step, info.attempt, exc.retryable, exc.message)
            if not exc.retryable:
                await asyncio.to_thread(
                    self.audit.append, "connector.failed", request_id=inp.request_id, actor="system",
                    key=f"{inp.key}:failed",
                    data={"system": system, "step": inp.step, "request_digest": digest(request.model_dump(mode="json")),
                          "error": exc.code, "message": exc.message})
            raise to_application_error(exc) from exc
        metrics.connector_call(system, "ok", timedelta(seconds=time.monotonic() - started))
        await asyncio.to_thread(
            self.audit.append, "connector.call", request_id=inp.request_id, actor="system", key=f"{inp.key}:audit",
            data={"system": system, "step": inp.step, "attempt": info.attempt,
                  "request_digest": digest(request.model_dump(mode="json")),
                  "result_digest": digest(result.model_dump(mode="json"))})
        return result
