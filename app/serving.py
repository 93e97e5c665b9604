"""Run an ASGI app on real HTTP inside the current event loop (tests, benchmarks, fakes)."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

import uvicorn


def free_port() -> int:
    """A port nothing listens on, below the kernel's ephemeral range.

    A port from bind(0) is an ephemeral one: by the time a service binds it, the busy machine may
    have used it as the source port of some outgoing connection (and the service fails to start).
    Ports under the range are never handed out that way.
    """
    low, _ = _ephemeral_range()
    for _ in range(50):
        port = random.randint(max(1024, low - 20000), low - 1)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


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
