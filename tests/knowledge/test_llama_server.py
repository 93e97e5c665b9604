"""llama.cpp's own server, the binary `make env` built and proved here: the knowledge backend answers
through it, several questions are generated at once in its slots, and it only answers with its key."""

from __future__ import annotations

import asyncio
import subprocess
import time

import httpx
import pytest

from app import llm_server
from app.local_stack import free_port, make_settings
from knowledge.llm import GenerationQueue, build_chat_model

QUESTION = [{"role": "user", "content": "Write a short story about a lighthouse keeper."}]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("llama-server"))
    settings.knowledge.llm_backend = "llama-server"
    settings.knowledge.llama_server_port = free_port()
    settings.knowledge.llama_server_slots = 4
    settings.knowledge.n_threads = 2
    log = (settings.core.var_dir / "llama-server.log").open("w")
    proc = subprocess.Popen(llm_server.command(settings), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (settings.core.var_dir / "llama-server.log").read_text()[-2000:]
            try:
                if httpx.get(f"{settings.knowledge.llama_server_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "llama-server did not become healthy in 120 s"
            time.sleep(0.2)
        yield settings
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def queue(settings) -> GenerationQueue:
    model = build_chat_model(settings.knowledge, secret_key=settings.core.secret_key.get_secret_value())
    assert model.parallel == 4
    return GenerationQueue(model, max_waiting=4, timeout=120)


async def test_four_questions_are_generated_at_once_in_the_servers_slots(server):
    q = queue(server)
    busy_slots: list[int] = []

    async def watch_slots(stop: asyncio.Event) -> None:
        key = llm_server.key_file(server).read_text().strip()
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
            while not stop.is_set():
                slots = (await http.get(f"{server.knowledge.llama_server_url}/slots", timeout=5)).json()
                busy_slots.append(sum(1 for s in slots if s.get("is_processing")))
                await asyncio.sleep(0.05)

    async def ask(asker: str) -> str:
        return "".join([p async for p in q.stream(QUESTION, max_tokens=48, temperature=0.0)])

    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_slots(stop))
    try:
        answers = await asyncio.gather(*(ask(f"person-{i}") for i in range(4)))
    finally:
        stop.set()
        await watcher
        q.close()
    assert all(a.strip() for a in answers), answers
    assert max(busy_slots) >= 3, busy_slots  # continuous batching: not one after the other


async def test_the_server_refuses_callers_without_its_key(server):
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{server.knowledge.llama_server_url}/v1/chat/completions",
                                   json={"messages": QUESTION, "max_tokens": 4})
    assert response.status_code == 401


def test_the_offload_decision_reaches_the_command_line(server):
    def flag(cmd: list[str]) -> str:
        return cmd[cmd.index("-ngl") + 1]

    assert flag(llm_server.command(server, supports_offload=lambda: True)) == "999"  # a CUDA build: every layer
    assert flag(llm_server.command(server, supports_offload=lambda: False)) == "0"
