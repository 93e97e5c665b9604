"""Runs an evaluation set against a fresh, temporary store built from its documents."""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from assistant.directory import Directory
from assistant.settings import Settings
from knowledge.evaluation.dataset import EvalSet
from knowledge.evaluation.report import EvalReport, Outcome
from knowledge.folder import collect
from knowledge.models import Answer
from knowledge.runtime import KnowledgeRuntime

log = logging.getLogger(__name__)

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def citations_valid(answer: Answer) -> bool:
    """Every [n] in the text, and every listed citation, is one of the passages actually retrieved."""
    passages = {p.index: p for p in answer.passages}
    numbers = {int(n) for group in _CITATION.findall(answer.text) for n in re.split(r"\s*,\s*", group)}
    if not numbers or not numbers <= set(passages):
        return False
    return all(c.index in passages and passages[c.index].chunk_id == c.chunk_id for c in answer.citations)


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("\u2019", "'").split())


def run_eval(settings: Settings, eval_set: EvalSet, *, answers: bool = True,
             progress: Callable[[int, int], None] | None = None) -> EvalReport:
    directory = Directory.load(settings.core.directory_file)
    with tempfile.TemporaryDirectory(prefix="aios-eval-") as tmp:
        knowledge = settings.knowledge.model_copy(update={"store_dir": Path(tmp), "chroma_url": None})
        runtime = KnowledgeRuntime.open(knowledge, Path(tmp), with_model=answers)
        try:
            readers: dict[str, frozenset[str]] = {}
            for doc in collect([eval_set.documents_dir]):
                result = runtime.store.ingest(doc.path.name, doc.path.read_bytes(), actor="eval",
                                              groups=list(doc.groups) if doc.groups else None)
                readers[result.id] = frozenset(runtime.store.document(result.id).groups)
            outcomes = asyncio.run(_ask_all(runtime, eval_set, directory, readers, answers, progress))
        finally:
            runtime.close()
    return EvalReport(outcomes, answered=answers)


async def _ask_all(runtime: KnowledgeRuntime, eval_set: EvalSet, directory: Directory,
                   readers: dict[str, frozenset[str]], answers: bool,
                   progress: Callable[[int, int], None] | None) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for n, q in enumerate(eval_set.questions, start=1):
        groups = directory.get(q.user).groups
        retrieval = runtime.retriever.search(q.question, groups, k=5)
        ranked = list(dict.fromkeys(h.chunk.document_id for h in retrieval.hits))
        outcome = Outcome(q, ranked)
        outcome.forbidden_cited = [d for d in ranked if not readers.get(d, frozenset()) & groups]
        if answers and runtime.answerer is not None:
            t0 = time.perf_counter()
            answer = await runtime.answerer.answer(q.question, groups)
            outcome.seconds = time.perf_counter() - t0
            outcome.kind = answer.kind
            outcome.model = answer.model
            outcome.answer = answer.text
            outcome.citations_valid = (answer.kind == "dont_know" and not answer.citations) or citations_valid(answer)
            if answer.kind == "dont_know" and answer.citations:
                outcome.pointed_to = answer.citations[0].document_id
            elif answer.kind != "dont_know":
                outcome.cited = list(dict.fromkeys(c.document_id for c in answer.citations))
            outcome.facts_found = sum(_normal(f) in _normal(answer.text) for f in q.facts)
            cited = {c.document_id for c in answer.citations} | {p.document_id for p in answer.passages}
            outcome.forbidden_cited += [d for d in cited if not readers.get(d, frozenset()) & groups]
        outcomes.append(outcome)
        if progress:
            progress(n, len(eval_set.questions))
    return outcomes
