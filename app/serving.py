"""Run an ASGI app on real HTTP inside the current event loop (tests, benchmarks, fakes)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def serve_in_loop(app, host: str, port: int, *, lifespan: Literal["auto", "on", "off"] = "on",
                        ws: str = "auto") -> AsyncIterator[uvicorn.Server]:
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                           lifespan=lifespan, ws=ws))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def serve_local(app, *, port: int | None = None, lifespan: Literal["auto", "on", "off"] = "off",
                      ws: str = "auto") -> AsyncIterator[str]:
    """`app` on a loopback port (a free one unless given); yields its base URL."""
    port = port or free_port()
    async with serve_in_loop(app, "127.0.0.1", port, lifespan=lifespan, ws=ws):
        yield f"http://127.0.0.1:{port}"
