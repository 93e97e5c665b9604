"""Answers at once: llama.cpp's own server with parallel slots against one in-process stream.

In one run and interleaved round by round (this machine is noisy): the in-process backend answers
one question (it can only do one at a time), then llama-server answers `concurrency` questions at
once. Reported: aggregate tokens/s of each and their ratio, and time to first token at that
concurrency. Tokens are the streamed pieces (one per token for both backends).
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import httpx

from app import llm_server
from app.bench.knowledge.stats import median, pct, table
from app.local_stack import free_port, make_settings
from assistant.settings import Settings
from knowledge.llm import GenerationQueue, build_chat_model
from knowledge.llm.base import Message

PROMPTS = ("Write a story about a lighthouse keeper who finds a message in a bottle.",
           "Explain to a new employee how to plan a team offsite, step by step.",
           "Describe a day in the life of a baker in a small mountain village.",
           "Write a letter welcoming a new colleague to the finance team.")


async def _stream(queue: GenerationQueue, prompt: str, tokens: int) -> tuple[float, int, float]:
    """(seconds to the first piece, pieces, seconds in all) of one answer."""
    messages: list[Message] = [{"role": "user", "content": prompt}]
    t0 = time.perf_counter()
    first, pieces = float("nan"), 0
    async for _ in queue.stream(messages, max_tokens=tokens, temperature=0.0):
        if pieces == 0:
            first = time.perf_counter() - t0
        pieces += 1
    return first, pieces, time.perf_counter() - t0


async def concurrent_answers(settings: Settings, var_dir: Path, *, concurrency: int = 4, rounds: int = 3,
                             tokens: int = 96) -> str:
    server_settings = make_settings(var_dir)
    server_settings.knowledge = settings.knowledge.model_copy(update={
        "llm_backend": "llama-server", "llama_server_port": free_port(), "llama_server_slots": concurrency})
    log = (var_dir / "llama-server.log").open("w")
    proc = subprocess.Popen(  # noqa: ASYNC220 - returns at once; the server is waited for below
        llm_server.command(server_settings), stdout=log, stderr=subprocess.STDOUT)
    local = GenerationQueue(build_chat_model(settings.knowledge.model_copy(update={"llm_backend": "llama"})),
                            max_waiting=concurrency, timeout=600)
    served = GenerationQueue(build_chat_model(server_settings.knowledge,
                                              secret_key=server_settings.core.secret_key.get_secret_value()),
                             max_waiting=concurrency, timeout=600)
    try:
        await _wait_healthy(f"{server_settings.knowledge.llama_server_url}/health", proc)
        await _stream(served, PROMPTS[0], 4)
        await _stream(local, PROMPTS[0], 4)
        one: list[tuple[float, int, float]] = []
        many: list[tuple[float, int, float]] = []
        many_walls: list[float] = []
        for r in range(rounds):
            one.append(await _stream(local, PROMPTS[r % len(PROMPTS)], tokens))
            t0 = time.perf_counter()
            many += await asyncio.gather(*(_stream(served, PROMPTS[i % len(PROMPTS)], tokens)
                                           for i in range(concurrency)))
            many_walls.append(time.perf_counter() - t0)
    finally:
        local.close()
        served.close()
        proc.terminate()
        proc.wait(30)
        log.close()
    solo_rate = sum(n for _, n, _ in one) / sum(s for _, _, s in one)
    server_rate = sum(n for _, n, _ in many) / sum(many_walls)
    ttft = [f for f, _, _ in many]
    rows = [("in-process llama.cpp, 1 at a time", 1, round(solo_rate, 1), round(median([f for f, _, _ in one]) * 1000),
             round(pct([f for f, _, _ in one], 95) * 1000), "1.00"),
            (f"llama-server, {concurrency} slots", concurrency, round(server_rate, 1), round(median(ttft) * 1000),
             round(pct(ttft, 95) * 1000), f"{server_rate / solo_rate:.2f}")]
    return table(f"\n== Concurrent answers ({rounds} interleaved rounds, up to {tokens} tokens each)",
                 ["backend", "questions at once", "tokens/s (all)", "TTFT p50 ms", "TTFT p95 ms", "ratio"], rows)


async def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama-server exited with code {proc.returncode}")
            try:
                if (await http.get(url, timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("llama-server did not become healthy")
            await asyncio.sleep(0.3)
