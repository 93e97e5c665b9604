"""Prometheus metrics of the knowledge service (its `/metrics`, behind the service token)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

_SECONDS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 60)

RETRIEVAL = Histogram("aios_knowledge_retrieval_seconds", "Retrieval (hybrid search and excerpts) per question",
                      buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5))
ANSWER = Histogram("aios_knowledge_answer_seconds", "Whole answer per question, by outcome", ["outcome"],
                   buckets=_SECONDS)
ANSWERS = Counter("aios_knowledge_answers_total",
                  "Questions by outcome: answered (the model's draft, grounded), quoted (the documents' own "
                  "words instead of an unsupported draft), dont_know, busy, error", ["outcome"])
GROUNDEDNESS_FAILURES = Counter("aios_knowledge_groundedness_failures_total",
                                "Model drafts the groundedness check refused, by reason", ["reason"])
QUEUE_DEPTH = Gauge("aios_llm_queue_depth", "Answers generating or waiting for the model")
QUEUE_CAPACITY = Gauge("aios_llm_queue_capacity", "Answers the queue holds (generating + waiting) before 'busy'")
QUEUE_WAIT = Histogram("aios_llm_queue_wait_seconds", "Time a question waited for a model slot", buckets=_SECONDS)
TTFT = Histogram("aios_llm_time_to_first_token_seconds",
                 "From the question's arrival to the model's first piece of text", buckets=_SECONDS)
TOKENS_PER_SECOND = Histogram("aios_llm_tokens_per_second", "Generation speed per answer (pieces after the first)",
                              buckets=(1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 250))
GENERATED_TOKENS = Counter("aios_llm_generated_tokens_total", "Pieces of text the model generated")
BUSY = Counter("aios_llm_busy_refusals_total", "Questions refused at once because the queue was full", ["reason"])


def watch_queue(depth: Callable[[], float], capacity: float) -> None:
    """The queue gauges read the running queue at scrape time (one queue per service)."""
    QUEUE_DEPTH.set_function(depth)
    QUEUE_CAPACITY.set(capacity)
