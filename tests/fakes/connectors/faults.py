"""What the local fake vendor servers share: failure injection and serving on real loopback HTTP.

The fakes implement the documented endpoints, payloads, auth and errors of each vendor API so the
real clients can be tested offline. Faults: a status with the vendor's error body, a delay longer
than the client's timeout, or a failure after the side effect happened (the response is lost).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from app.serving import serve_local


@dataclass
class Fault:
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int = 1
    method: str | None = None
    path: str | None = None
    after: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.times > 0 and (self.method is None or self.method == method)
                and (self.path is None or re.search(self.path, path) is not None))


class FaultPlan:
    """Faults to inject, first match wins; `calls` records every request the fake saw."""

    def __init__(self, error_body: Callable[[int, str], Any]) -> None:
        self.faults: list[Fault] = []
        self.calls: list[tuple[str, str]] = []
        self._error_body = error_body

    def inject(self, status: int | None = None, *, message: str = "injected failure", **kw: Any) -> Fault:
        body = kw.pop("body", None)
        if status is not None and body is None:
            body = self._error_body(status, message)
        fault = Fault(status=status, body=body, **kw)
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def count(self, method: str, path_pattern: str) -> int:
        return sum(1 for m, p in self.calls if m == method and re.search(path_pattern, p))

    def install(self, app: FastAPI) -> None:
        @app.middleware("http")
        async def inject_faults(request: Request, call_next):
            method, path = request.method, request.url.path
            self.calls.append((method, path))
            fault = next((f for f in self.faults if f.matches(method, path)), None)
            if fault is None:
                return await call_next(request)
            fault.times -= 1
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.after:
                await call_next(request)  # the side effect happens, the answer is lost
            if fault.status is None:
                return await call_next(request)
            if fault.body is None:
                return Response(status_code=fault.status, headers=fault.headers)
            return JSONResponse(fault.body, status_code=fault.status, headers=fault.headers)


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Run `app` on a free loopback port for the duration; yields its base URL."""
    async with serve_local(app) as url:
        yield url
