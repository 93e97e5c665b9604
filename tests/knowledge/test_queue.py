"""One model, one queue: concurrent callers are served one at a time; a full queue says "busy" at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from assistant.errors import Busy
from knowledge.llm import GenerationQueue, build_chat_model

PROMPT = [{"role": "user", "content": "Write a long story about a lighthouse keeper and the sea."}]


@pytest.fixture(scope="module")
def tight_queue(knowledge_base_settings):
    """The real GGUF model with room for one running and one waiting generation."""
    queue = GenerationQueue(build_chat_model(knowledge_base_settings.knowledge), max_waiting=1, timeout=120)
    yield queue
    queue.close()


async def collect(queue, max_tokens):
    return "".join([p async for p in queue.stream(PROMPT, max_tokens=max_tokens, temperature=0.0)])


async def test_a_full_queue_is_busy_immediately(tight_queue):
    running = tight_queue.stream(PROMPT, max_tokens=400, temperature=0.0)
    assert await anext(running)  # generating now
    waiting = tight_queue.submit(PROMPT, max_tokens=4, temperature=0.0)  # queued behind it
    t0 = time.perf_counter()
    with pytest.raises(Busy) as info:
        await collect(tight_queue, 4)
    assert time.perf_counter() - t0 < 0.5  # refused at once, not after waiting
    assert info.value.status == 429 and "try again" in info.value.message
    await running.aclose()  # the first caller leaves; the waiting one gets the model
    assert "".join([p async for p in waiting])
    assert await collect(tight_queue, 4)  # room again


async def test_concurrent_callers_are_serialised_and_all_answered(tight_queue, generation):
    # Six callers at once on the session queue (capacity 1 running + 4 waiting): five are served
    # in turn on the one Llama object (which would crash if two ran at once), the sixth is busy.
    results = await asyncio.gather(*(collect(generation, 12) for _ in range(6)), return_exceptions=True)
    answers = [r for r in results if isinstance(r, str)]
    assert len(answers) == 5 and all(answers)
    assert sum(isinstance(r, Busy) for r in results) == 1
    assert len(set(answers)) == 1  # temperature 0: the same prompt gives the same text


async def test_a_caller_that_goes_away_frees_the_model(tight_queue):
    stream = tight_queue.stream(PROMPT, max_tokens=400, temperature=0.0)
    async for _ in stream:
        break
    await stream.aclose()
    for _ in range(50):
        if tight_queue.in_flight == 0:
            break
        await asyncio.sleep(0.1)
    assert tight_queue.in_flight == 0  # generation stopped early instead of running to 400 tokens


async def test_one_person_cannot_fill_the_queue(generation):
    """Review reproduction: five parallel questions from one person made everyone else "busy"."""
    running = generation.submit(PROMPT, max_tokens=200, temperature=0.0, asker="mallory")
    first = running.__aiter__()
    assert await anext(first)  # mallory's first question is being answered
    waiting = generation.submit(PROMPT, max_tokens=2, temperature=0.0, asker="mallory")
    with pytest.raises(Busy) as info:  # a third from mallory, at once
        generation.submit(PROMPT, max_tokens=2, temperature=0.0, asker="mallory")
    assert info.value.code == "one_at_a_time" and info.value.status == 429
    others = [generation.submit(PROMPT, max_tokens=2, temperature=0.0, asker=who) for who in ("alice", "bob")]
    running.cancel()
    await first.aclose()
    for generation_ in (waiting, *others):
        assert "".join([p async for p in generation_])  # everyone else got an answer


class OrderModel:
    """The ChatModel contract; records whose question it answers, in order."""

    name, parallel = "order.gguf", 1

    def __init__(self) -> None:
        self.order: list[str] = []
        self.release = False

    def stream(self, messages, *, max_tokens, temperature, cancelled):
        self.order.append(messages[0]["content"])
        while not self.release and not cancelled():
            time.sleep(0.01)
        yield "ok"

    def close(self) -> None:
        pass


async def test_waiting_questions_are_served_round_robin_by_person():
    model = OrderModel()
    queue = GenerationQueue(model, max_waiting=10, timeout=30)
    try:
        def ask(who: str, n: int):
            return queue.submit([{"role": "user", "content": f"{who}{n}"}], max_tokens=1, temperature=0.0,
                                asker=who)
        busy = ask("zed", 0)  # occupies the model while the others queue up
        while not model.order:
            await asyncio.sleep(0.01)
        queued = [ask("ann", 1), ask("bea", 1), ask("cid", 1)]
        with pytest.raises(Busy):
            ask("ann", 2)  # ann already waits
        model.release = True
        for g in (busy, *queued):
            assert "".join([p async for p in g]) == "ok"
        assert model.order == ["zed0", "ann1", "bea1", "cid1"]
    finally:
        queue.close()
