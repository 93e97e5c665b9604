"""The scale profile's round-robin balancer: connections alternate over the backends, a backend that
refuses is skipped, and bytes pass both ways untouched (a streamed response included)."""

from __future__ import annotations

import asyncio

from app.balancer import Balancer
from app.engines import free_port


async def backend(name: bytes) -> tuple[asyncio.Server, int]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.readline()
        for piece in (name, b":", data):  # in pieces, like a streamed answer
            writer.write(piece)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def ask(port: int, line: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(line)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


async def test_round_robin_skips_a_backend_that_is_down():
    (a, port_a), (b, port_b) = await backend(b"A"), await backend(b"B")
    down = free_port()  # nothing listens there
    lb = await Balancer("test", "127.0.0.1", free_port(), [("127.0.0.1", port_a), ("127.0.0.1", down),
                                                            ("127.0.0.1", port_b)]).start()
    try:
        answers = [await ask(lb.port, f"hello {i}\n".encode()) for i in range(6)]
        assert [x[:1] for x in answers] == [b"A", b"B", b"A", b"B", b"A", b"B"]
        assert answers[0] == b"A:hello 0\n"
        assert lb.connections == [3, 0, 3]
        b.close()
        await b.wait_closed()
        assert {(await ask(lb.port, b"x\n"))[:1] for _ in range(3)} == {b"A"}  # B went away: A takes all
    finally:
        await lb.close()
        a.close()
