"""Question in, grounded answer out: retrieve, quote, generate, check, or fall back."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from assistant import telemetry
from assistant.errors import Busy
from knowledge import metrics
from knowledge.answering import grounding
from knowledge.answering.excerpts import Excerpt, excerpts
from knowledge.answering.followup import search_query
from knowledge.answering.pinpoint import (
    MONTHS,
    VALUE_KINDS,
    WEEKDAYS,
    Pinpoint,
    pinpoint,
    states,
    states_anywhere,
    wanted,
)
from knowledge.answering.prompt import build_messages
from knowledge.lexical import terms
from knowledge.llm.queue import Generation, GenerationQueue
from knowledge.models import TABLE_ROW, Answer, Chunk, Citation, Passage, SearchHit
from knowledge.retrieval import Retriever
from knowledge.snapshot import indexed_text

log = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"[.!?](?:\s*\[\d+(?:\s*,\s*\d+)*\])?(?=\s)|\n")


def _complete_sentences(text: str) -> str:
    """The part of a draft that ends at its last finished sentence (or line)."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[:ends[-1]] if ends else ""


_NUMBER = re.compile(r"\d+(?:[.,:]\d+)?")  # numbers and clock times
# The months and weekdays of dates, for "when" questions (not the verb "may").
_DATE_WORD = re.compile(rf"\b(?:{MONTHS}|{WEEKDAYS})\b", re.I)


def _values(text: str, *, dates: bool) -> set[str]:
    found = set(_NUMBER.findall(text))
    if dates:
        found |= {w.lower()[:3] for w in _DATE_WORD.findall(text) if w != "may"}  # "Jan" = "January"
    return found


MISSES_THE_VALUE = "draft_misses_the_value"  # the groundedness-failure reason (a metric label)


def misses_the_value(draft: str, question: str, point: Pinpoint | None) -> bool:
    """A draft for a "how many / how long / when" question that states no value of that kind at all
    ("until when?" answered "they are paid out"), or none of the values of the sentence that answers
    it (e.g. the neighbouring table row's number): grounded, perhaps, but not the answer."""
    kind = wanted(question)
    if kind not in VALUE_KINDS:
        return False
    if not states(kind, draft):
        return True
    if point is None:
        return False
    # The values the sentence adds to the question ("27" in "3 to 5 years: 27 days" for "after 3 years";
    # for "when", also "January" in "within 30 days; later only at the renewal in January").
    dates = kind == "time"
    values = _values(point.sentence, dates=dates) - _values(question, dates=dates)
    return bool(values) and not values & _values(draft, dates=dates)


def quote_lines(where: str, excerpt: Excerpt, index: int) -> list[str]:
    """The supporting quote of a fallback: prose in quotation marks, each table row on its own line."""
    lines: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        if prose:
            lines.append(f'"{" ".join(prose)}" [{index}]')
            prose.clear()

    for sentence in excerpt.chosen:
        if TABLE_ROW.match(sentence.strip()):
            flush()
            lines.append(f"{sentence.strip()} [{index}]")
        else:
            prose.append(sentence)
    flush()
    # "From X:" leads the first line when it is prose, or stands alone above a table.
    if lines[0].startswith('"'):
        return [f"From {where}: {lines[0]}", *lines[1:]]
    return [f"From {where}:", *lines]


def query_coverage(query: str, chunk: Chunk) -> float:
    """Share of the question's content words that appear in a passage (with its headings)."""
    wanted = set(terms(query))
    return len(wanted & set(terms(indexed_text(chunk)))) / len(wanted) if wanted else 0.0


def _where(passage: Passage) -> str:
    """The name an answer gives a passage: "Title, Section"."""
    return f"{passage.title}, {passage.section}" if passage.section else passage.title


@dataclass(frozen=True)
class AnswerConfig:
    top_k: int = 5
    context_passages: int = 3
    prompt_passages: int = 1
    passage_tokens: int = 100
    min_relevance: float = 0.50
    relevance_floor: float = 0.40
    min_coverage: float = 0.6
    support_threshold: float = 0.62
    max_tokens: int = 96
    temperature: float = 0.0
    dont_know_contact: str = "People Ops or your manager"


@dataclass(frozen=True)
class _Declined:
    """Nothing relevant enough to answer from; `closest` is worth pointing to when it is near."""
    closest: Passage | None


@dataclass
class _Prepared:
    hits: list[SearchHit]
    passages: list[Passage]
    excerpts: list[Excerpt]
    messages: list[Any]
    retrieval_ms: float
    query: str


def reason_label(reason: str) -> str:
    """A groundedness failure's reason as a metric label: its kind, never the quoted text after ':'."""
    return re.sub(r"[^a-z]+", "_", reason.split(":")[0].strip().lower()).strip("_")[:48] or "unknown"


class Answerer:
    def __init__(self, retriever: Retriever, generator: GenerationQueue, config: AnswerConfig) -> None:
        self.retriever = retriever
        self.generator = generator
        self.config = config

    @property
    def embedder(self):
        return self.retriever.store.embedder

    async def answer(self, question: str, groups: Iterable[str], *, previous_question: str | None = None,
                     asker: str = "") -> Answer:
        final: Answer | None = None
        async for event in self.stream(question, groups, previous_question=previous_question, asker=asker):
            if event["type"] == "answer":
                final = event["answer"]
        assert final is not None
        return final

    async def stream(self, question: str, groups: Iterable[str], *, previous_question: str | None = None,
                     asker: str = "") -> AsyncIterator[dict[str, Any]]:
        """Events: `passages` (what the model reads); `progress` (a piece was generated: a count, no text);
        `delta` (text, whole sentences that passed the groundedness check); `answer` (final, checked)."""
        t0, w0 = time.perf_counter(), time.time()
        # Not the current span: this generator's yields leave and re-enter the caller's context.
        answer_span = telemetry.start_span("knowledge.answer",
                                           {"aios.knowledge.followup": previous_question is not None})
        outcome = "error"
        try:
            async for event in self._stream(question, groups, previous_question, asker, answer_span, t0, w0):
                if event["type"] == "answer":
                    outcome = event["outcome"]
                    event = {"type": "answer", "answer": event["answer"]}
                yield event
        except Busy:
            outcome = "busy"
            raise
        except (GeneratorExit, asyncio.CancelledError):
            outcome = "cancelled"
            raise
        finally:
            metrics.ANSWERS.labels(outcome=outcome).inc()
            metrics.ANSWER.labels(outcome=outcome).observe(time.perf_counter() - t0)
            telemetry.set_attributes({"aios.knowledge.outcome": outcome}, answer_span)
            telemetry.end_span(answer_span, error="error" if outcome == "error" else None)

    async def _stream(self, question: str, groups: Iterable[str], previous_question: str | None, asker: str,
                      answer_span: telemetry.Span, t0: float, w0: float) -> AsyncIterator[dict[str, Any]]:
        parent = telemetry.inside(answer_span)
        prepared = await self._retrieve(question, groups, previous_question, parent, t0)
        if isinstance(prepared, _Declined):
            yield {"type": "answer", "answer": self._dont_know(t0, closest=prepared.closest), "outcome": "dont_know"}
            return
        # Queued before anything is sent, so a full queue is a clean "busy" for the caller.
        generation = self.generator.submit(prepared.messages, max_tokens=self.config.max_tokens,
                                           temperature=self.config.temperature, asker=asker)
        pieces: list[str] = []
        first: float | None = None
        t_gen = time.perf_counter()
        released, held = 0, False  # characters of the raw text already streamed; stop after a failure
        try:
            yield {"type": "passages", "passages": prepared.passages}
            async for piece in generation:
                if first is None:
                    first = time.perf_counter()
                pieces.append(piece)
                yield {"type": "progress", "tokens": len(pieces)}
                if held:
                    continue
                # Only whole sentences that pass the groundedness check go out as they come: nothing
                # streamed has to be taken back, and no link or claim arrives before it is checked.
                ready = _complete_sentences("".join(pieces))
                if len(ready) > released:
                    if await asyncio.to_thread(self._supported, ready, prepared):
                        yield {"type": "delta", "text": ready[released:]}
                        released = len(ready)
                    else:
                        held = True
        finally:
            generation.cancel()
        t_end = time.perf_counter()
        self._observe_generation(generation, parent, pieces=len(pieces), first=first, t0=t0, w0=w0, t_end=t_end)
        raw = "".join(pieces)
        with telemetry.span("knowledge.grounding", context=parent) as grounding_span:
            checked = await asyncio.to_thread(
                grounding.check, raw, prepared.query, prepared.excerpts, self.embedder,
                threshold=self.config.support_threshold,
            )
            telemetry.set_attributes({"aios.knowledge.grounded": checked.ok}, grounding_span)
        timings = {
            "retrieval_ms": prepared.retrieval_ms,
            "ttft_ms": ((first or t_end) - t0) * 1000,
            "generation_ms": (t_end - t_gen) * 1000,
            "pieces": float(len(pieces)),
            "total_ms": (time.perf_counter() - t0) * 1000,
        }
        answer, outcome = self._conclude(question, prepared, checked, timings, raw)
        yield {"type": "answer", "answer": answer, "outcome": outcome}

    async def _retrieve(self, question: str, groups: Iterable[str], previous_question: str | None,
                        parent: telemetry.Context, t0: float) -> _Prepared | _Declined:
        with telemetry.span("knowledge.retrieve", context=parent) as retrieve:
            prepared = await asyncio.to_thread(self._prepare, question, frozenset(groups), previous_question)
            telemetry.set_attributes({"aios.knowledge.declined": isinstance(prepared, _Declined),
                                      "aios.knowledge.passages": None if isinstance(prepared, _Declined)
                                      else len(prepared.passages)}, retrieve)
        metrics.RETRIEVAL.observe(time.perf_counter() - t0)
        return prepared

    def _conclude(self, question: str, prepared: _Prepared, checked: grounding.Grounding,
                  timings: dict[str, float], raw: str) -> tuple[Answer, str]:
        """The model's draft when the check passed and it states the value; else the documents' own words."""
        point = pinpoint(question, prepared.excerpts, [_where(p) for p in prepared.passages])
        if checked.ok and not misses_the_value(checked.text, question, point):
            return Answer(kind="answer", text=checked.text,
                          citations=self._citations(prepared.passages, checked.cited),
                          passages=prepared.passages, grounded=True, model=self.generator.model.name,
                          timings=timings), "answered"
        reason = checked.reason if not checked.ok else MISSES_THE_VALUE
        log.debug("knowledge.answer.fallback reason=%s raw=%r", reason, raw[:300])  # model text: not at INFO
        metrics.GROUNDEDNESS_FAILURES.labels(reason=reason_label(reason)).inc()
        return self._fallback(prepared, timings, point), "quoted"

    def _observe_generation(self, generation: Generation, parent: telemetry.Context, *, pieces: int,
                            first: float | None, t0: float, w0: float, t_end: float) -> None:
        """The queue wait and the generation as spans (drawn from their recorded times) and metrics."""
        def wall(t: float) -> float:
            return w0 + (t - t0)

        started = generation.started or wall(t_end)
        waited = telemetry.start_span("llm.queue_wait", context=parent, start=generation.submitted)
        telemetry.end_span(waited, end=started)
        generated = telemetry.start_span("llm.generate", {
            "gen_ai.request.model": self.generator.model.name, "gen_ai.usage.output_tokens": pieces,
            "gen_ai.server.time_to_first_token": round((first - t0), 4) if first is not None else None,
        }, context=parent, start=started)
        telemetry.end_span(generated, end=wall(t_end))
        metrics.GENERATED_TOKENS.inc(pieces)
        if first is not None:
            metrics.TTFT.observe(first - t0)
            if pieces > 1 and t_end > first:
                metrics.TOKENS_PER_SECOND.observe((pieces - 1) / (t_end - first))

    def _supported(self, text: str, prepared: _Prepared) -> bool:
        return grounding.check(text, prepared.query, prepared.excerpts, self.embedder,
                               threshold=self.config.support_threshold).ok

    def _prepare(self, question: str, groups: frozenset[str], previous: str | None) -> _Prepared | _Declined:
        query, context = search_query(question, previous)
        retrieval = self.retriever.search(query, groups, k=self.config.top_k)
        if not retrieval.hits:
            log.info("knowledge.answer.dont_know reason=no_hits")
            return _Declined(None)
        hits = retrieval.hits[:self.config.context_passages]
        vector = retrieval.vector if retrieval.vector is not None else self.embedder.embed_one(query)
        cut = excerpts([h.chunk.text for h in hits], vector, self.embedder, budget=self.config.passage_tokens)
        passages = [
            Passage(index=i, chunk_id=h.chunk.id, document_id=h.chunk.document_id, title=h.chunk.title,
                    section=h.chunk.section, text=e.text, score=round(h.score, 4))
            for i, (h, e) in enumerate(zip(hits, cut, strict=True), start=1)
        ]
        relevance = max([retrieval.best_similarity] + [e.relevance for e in cut])
        coverage = max(query_coverage(query, h.chunk) for h in hits)
        if not self._relevant(relevance, coverage):
            log.info("knowledge.answer.dont_know relevance=%.3f coverage=%.2f", relevance, coverage)
            return _Declined(passages[0] if relevance >= self.config.relevance_floor else None)
        kind = wanted(question)
        if kind in VALUE_KINDS and not states_anywhere(kind, cut):
            # Asked "how long / how many / when", and no sentence of the passages states such a
            # value: the documents talk about the topic but do not have the answer.
            log.info("knowledge.answer.dont_know reason=no_%s_stated", kind)
            return _Declined(passages[0])
        messages = build_messages(question, passages[:self.config.prompt_passages], previous_question=context)
        return _Prepared(hits, passages, cut, messages, retrieval.elapsed_ms, query)

    def _relevant(self, relevance: float, coverage: float) -> bool:
        """Something in the passages is about the question: close in meaning, or close enough and
        sharing most of the question's words."""
        cfg = self.config
        return relevance >= cfg.min_relevance or (relevance >= cfg.relevance_floor and coverage >= cfg.min_coverage)

    @staticmethod
    def _citations(passages: list[Passage], indexes: list[int]) -> list[Citation]:
        by_index = {p.index: p for p in passages}
        return [Citation(index=i, chunk_id=by_index[i].chunk_id, document_id=by_index[i].document_id,
                         title=by_index[i].title, section=by_index[i].section or None, score=by_index[i].score)
                for i in indexes if i in by_index]

    def _fallback(self, prepared: _Prepared, timings: dict[str, float], point: Pinpoint | None) -> Answer:
        """The documents' own words instead of a draft they do not support: the sentence or table row
        that answers the question first, then the passage it stands in, both cited."""
        if point is None:
            point = Pinpoint(0, prepared.excerpts[0].best, 0.0)
        passage, excerpt = prepared.passages[point.position], prepared.excerpts[point.position]
        lines = [f"{point.sentence} [{passage.index}]"]
        if excerpt.text.strip() != point.sentence.strip():
            lines += quote_lines(_where(passage), excerpt, passage.index)
        return Answer(kind="fallback", text="\n".join(lines),
                      citations=self._citations(prepared.passages, [passage.index]),
                      passages=prepared.passages, grounded=False, model=self.generator.model.name, timings=timings)

    def _dont_know(self, t0: float, *, closest: Passage | None = None) -> Answer:
        """No answer; with `closest`, a pointer to the nearest passage, clearly not an answer."""
        text = "I couldn't find a clear answer in the documents you have access to, so I won't guess. "
        shown = [closest] if closest is not None else []
        if closest is not None:
            text += f"The closest I found is {_where(closest)} [{closest.index}], but it may not answer your question. "
        text += f"You could ask {self.config.dont_know_contact}, or, for a technical problem, report an IT issue."
        return Answer(kind="dont_know", text=text, citations=self._citations(shown, [p.index for p in shown]),
                      passages=shown, timings={"total_ms": (time.perf_counter() - t0) * 1000})
