"""A round-robin TCP balancer on loopback, for the scale profile of `aios up` (what a Kubernetes
Service or the nginx of deploy/compose.yaml does in a deployment).

Connection-level: each accepted connection goes to the next backend that accepts it; a backend
that refuses (down, restarting) is skipped for that connection. Bytes are copied both ways
untouched, so keep-alive, streamed answers and large uploads pass as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

log = logging.getLogger(__name__)


class Balancer:
    def __init__(self, name: str, host: str, port: int, backends: list[tuple[str, int]]) -> None:
        if not backends:
            raise ValueError(f"{name}: no backends")
        self.name, self.host, self.port, self.backends = name, host, port, backends
        self._next = itertools.cycle(range(len(backends)))
        self._server: asyncio.Server | None = None
        self.connections = [0] * len(backends)  # per backend, for tests and the log

    async def start(self) -> Balancer:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        log.info("balancer.started name=%s listen=%s:%s backends=%s", self.name, self.host, self.port,
                 ",".join(f"{h}:{p}" for h, p in self.backends))
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _ in range(len(self.backends)):
            i = next(self._next)
            host, port = self.backends[i]
            try:
                streams = await asyncio.wait_for(asyncio.open_connection(host, port), 3.0)
            except (OSError, TimeoutError):
                log.info("balancer.backend_down name=%s backend=%s:%s", self.name, host, port)
                continue
            self.connections[i] += 1
            return streams
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self._connect()
        if upstream is None:
            log.warning("balancer.no_backend name=%s", self.name)
            writer.close()
            return
        up_reader, up_writer = upstream
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass  # one side went away: close the other below
    finally:
        with contextlib.suppress(ConnectionError, RuntimeError):
            writer.close()
