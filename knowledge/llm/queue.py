"""One model, a bounded queue in front of it: callers wait their turn or hear "busy" at once.

The model runs only in this queue's worker threads (one for llama.cpp, which crashes when two
threads use one `Llama`); pieces of text travel back to the caller's event loop as they appear.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from assistant.errors import AssistantError, Busy, ServiceUnavailable
from knowledge import metrics
from knowledge.llm.base import ChatModel, Message

log = logging.getLogger(__name__)

_END = object()
BUSY_MESSAGE = "I'm busy answering other questions right now; please try again in a moment."
ONE_AT_A_TIME = "I'm still working on your previous question; please wait for its answer before asking another."


@dataclass
class _Job:
    messages: list[Message]
    max_tokens: int
    temperature: float
    loop: asyncio.AbstractEventLoop
    asker: str
    out: asyncio.Queue = field(default_factory=asyncio.Queue)
    cancelled: bool = False
    submitted: float = field(default_factory=time.time)  # wall clock: spans are drawn from these
    started: float | None = None

    def send(self, item: object) -> None:
        try:
            self.loop.call_soon_threadsafe(self.out.put_nowait, item)
        except RuntimeError:  # the caller's loop is gone; nobody is listening
            self.cancelled = True


class GenerationQueue:
    """`capacity` = generations running + waiting; one more is refused with Busy (HTTP 429).

    Fair between people: each person may have one question waiting (besides one being answered),
    and the workers take the waiting questions round-robin by person, so nobody's burst can make
    everyone else wait or hear "busy".
    """

    def __init__(self, model: ChatModel, *, max_waiting: int, timeout: float) -> None:
        self.model = model
        self.workers = max(1, model.parallel)
        self.capacity = self.workers + max_waiting
        self.timeout = timeout
        self._waiting: OrderedDict[str, deque[_Job]] = OrderedDict()  # asker -> jobs, in turn order
        self._cond = threading.Condition()
        self._closing = False
        self._lock = self._cond  # one lock guards the queues and the counts
        self._in_flight = 0
        self._threads = [threading.Thread(target=self._work, name=f"llm-worker-{i}", daemon=True)
                         for i in range(self.workers)]
        for thread in self._threads:
            thread.start()
        metrics.watch_queue(lambda: self._in_flight, self.capacity)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def submit(self, messages: list[Message], *, max_tokens: int, temperature: float,
               asker: str = "") -> Generation:
        """Queue one answer for `asker`; raises Busy at once when the queue is full or the asker
        already has a question waiting. Iterate the result for text."""
        job = _Job(messages, max_tokens, temperature, asyncio.get_running_loop(), asker)
        with self._cond:
            if asker and any(not j.cancelled for j in self._waiting.get(asker, ())):
                log.info("knowledge.llm.one_at_a_time asker=%s", asker)
                metrics.BUSY.labels(reason="one_at_a_time").inc()
                raise Busy(ONE_AT_A_TIME, code="one_at_a_time")
            if self._in_flight >= self.capacity:
                log.warning("knowledge.llm.busy in_flight=%d capacity=%d", self._in_flight, self.capacity)
                metrics.BUSY.labels(reason="full").inc()
                raise Busy(BUSY_MESSAGE)
            self._in_flight += 1
            # An anonymous caller (a benchmark, a warm-up) is a person of its own per question.
            self._waiting.setdefault(asker or f"#{id(job)}", deque()).append(job)
            self._cond.notify()
        return Generation(job, self.timeout)

    async def stream(self, messages: list[Message], *, max_tokens: int, temperature: float) -> AsyncIterator[str]:
        """Text pieces of one answer (submit and iterate in one step)."""
        generation = self.submit(messages, max_tokens=max_tokens, temperature=temperature)
        async for piece in generation:
            yield piece

    def _next(self) -> _Job | None:
        """The oldest question of the person whose turn it is (None when closing)."""
        with self._cond:
            while not self._waiting and not self._closing:
                self._cond.wait()
            if not self._waiting:
                return None
            asker, jobs = next(iter(self._waiting.items()))
            job = jobs.popleft()
            del self._waiting[asker]
            if jobs:  # their next question goes to the back of the line
                self._waiting[asker] = jobs
            return job

    def _work(self) -> None:
        while True:
            job = self._next()
            if job is None:
                return
            try:
                if not job.cancelled:
                    job.started = time.time()
                    metrics.QUEUE_WAIT.observe(job.started - job.submitted)
                    for piece in self.model.stream(job.messages, max_tokens=job.max_tokens,
                                                   temperature=job.temperature,
                                                   cancelled=lambda: job.cancelled):  # noqa: B023 - used in this iteration
                        job.send(piece)
                job.send(_END)
            except AssistantError as exc:
                job.send(exc)
            except Exception as exc:
                log.exception("knowledge.llm.failed")
                job.send(ServiceUnavailable("the answer model failed; please try again", code="model_error"))
                del exc
            finally:
                with self._lock:
                    self._in_flight -= 1

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=30)
        self.model.close()


class Generation:
    """One queued answer: iterate it for its text; `cancel()` stops it (or drops it from the queue)."""

    def __init__(self, job: _Job, timeout: float) -> None:
        self._job = job
        self._timeout = timeout

    def cancel(self) -> None:
        self._job.cancelled = True

    @property
    def submitted(self) -> float:
        """When it was queued (epoch seconds)."""
        return self._job.submitted

    @property
    def started(self) -> float | None:
        """When the model took it (epoch seconds); None while it waits, or if it never ran."""
        return self._job.started

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        deadline = time.monotonic() + self._timeout
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ServiceUnavailable("the answer took too long; please try again", code="model_timeout")
                try:
                    item = await asyncio.wait_for(self._job.out.get(), timeout=remaining)
                except TimeoutError:
                    continue
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.cancel()  # finished, failed, or the caller went away: stop generating
