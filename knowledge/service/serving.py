"""Run an ASGI app on real HTTP inside the current event loop (benchmarks and tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn


@asynccontextmanager
async def serve_in_loop(app, host: str, port: int) -> AsyncIterator[uvicorn.Server]:  # noqa: ANN001 - any ASGI app
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                           lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield server
    finally:
        server.should_exit = True
        await task
