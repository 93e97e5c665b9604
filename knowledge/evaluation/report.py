"""Per-question outcomes and the summary metrics of an evaluation run."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from knowledge.evaluation.dataset import EvalQuestion


@dataclass
class Outcome:
    question: EvalQuestion
    ranked_documents: list[str]
    kind: str = ""
    answer: str = ""
    citations_valid: bool = True
    facts_found: int = 0
    forbidden_cited: list[str] = field(default_factory=list)
    seconds: float = 0.0
    pointed_to: str | None = None  # the document a "don't know" points to as the closest match
    cited: list[str] = field(default_factory=list)  # the documents an answer cites (a "don't know": none)
    model: str | None = None  # the model that wrote the answer

    @property
    def rank(self) -> int | None:
        doc = self.question.document
        return self.ranked_documents.index(doc) + 1 if doc in self.ranked_documents else None


@dataclass
class EvalReport:
    outcomes: list[Outcome]
    answered: bool

    def _answerable(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.question.answerable]

    def recall_at(self, k: int) -> float:
        rows = self._answerable()
        return sum(1 for o in rows if o.rank is not None and o.rank <= k) / len(rows) if rows else 0.0

    def mrr(self) -> float:
        rows = self._answerable()
        return statistics.fmean(1 / o.rank if o.rank else 0.0 for o in rows) if rows else 0.0

    def citation_validity(self) -> float:
        rows = [o for o in self.outcomes if o.kind in ("answer", "fallback") or o.pointed_to]
        return sum(o.citations_valid for o in rows) / len(rows) if rows else 1.0

    def fact_containment(self) -> float:
        rows = [o for o in self._answerable() if o.question.facts]
        return statistics.fmean(o.facts_found / len(o.question.facts) for o in rows) if rows else 0.0

    def right_document_rate(self) -> float:
        """Answerable questions whose answer cites the expected document (a "don't know" does not)."""
        rows = [o for o in self._answerable() if o.question.document]
        return sum(o.question.document in o.cited for o in rows) / len(rows) if rows else 0.0

    def dont_know_rate(self) -> float:
        rows = [o for o in self.outcomes if not o.question.answerable]
        return sum(o.kind == "dont_know" for o in rows) / len(rows) if rows else 0.0

    def false_dont_know_rate(self) -> float:
        rows = self._answerable()
        return sum(o.kind == "dont_know" for o in rows) / len(rows) if rows else 0.0

    def pointers(self) -> tuple[int, int, int]:
        """Answerable questions declined: how many, how many pointed to a closest match, and how
        many of those pointers are the expected document."""
        declined = [o for o in self._answerable() if o.kind == "dont_know"]
        pointed = [o for o in declined if o.pointed_to]
        return len(declined), len(pointed), sum(o.pointed_to == o.question.document for o in pointed)

    def forbidden_citations(self) -> int:
        return sum(len(o.forbidden_cited) for o in self.outcomes)

    def kinds(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.kind or "-"] = out.get(o.kind or "-", 0) + 1
        return out

    def summary(self) -> str:
        answerable = len(self._answerable())
        lines = [
            f"questions: {len(self.outcomes)} ({answerable} answerable, {len(self.outcomes) - answerable} not)",
            f"retrieval recall@1        {self.recall_at(1):.3f}",
            f"retrieval recall@5        {self.recall_at(5):.3f}",
            f"retrieval MRR             {self.mrr():.3f}",
            f"forbidden documents cited {self.forbidden_citations()}",
        ]
        if self.answered:
            seconds = [o.seconds for o in self.outcomes if o.kind in ("answer", "fallback")]
            models = sorted({o.model for o in self.outcomes if o.model})
            lines += [
                f"answer model              {', '.join(models) or '-'}",
                f"citation validity         {self.citation_validity():.3f}",
                f"fact containment          {self.fact_containment():.3f}",
                f"right document cited      {self.right_document_rate():.3f}",
                f"don't-know rate (unanswerable) {self.dont_know_rate():.3f}",
                f"don't-know rate (answerable)   {self.false_dont_know_rate():.3f}",
                "  of those, pointed to a closest match {1} of {0}, the expected document {2}".format(*self.pointers()),
                f"answer kinds              {self.kinds()}",
                f"seconds per answer (p50)  {statistics.median(seconds) if seconds else 0:.2f}",
            ]
        misses = [o for o in self._answerable() if o.rank is None or o.rank > 1]
        if misses:
            lines.append("retrieval misses (expected document not first):")
            lines += [f"  [{o.rank or '-'}] {o.question.question!r} -> {o.ranked_documents[:3]}" for o in misses]
        if self.answered:
            wrong = [o for o in self.outcomes if o.question.answerable and o.facts_found < len(o.question.facts)]
            if wrong:
                lines.append("answers missing facts:")
                lines += [f"  {o.question.question!r} ({o.kind}) facts={list(o.question.facts)}: "
                          f"{' '.join(o.answer.split())[:160]!r}" for o in wrong]
            bad = [o for o in self.outcomes if not o.question.answerable and o.kind != "dont_know"]
            if bad:
                lines.append("unanswerable questions that got an answer:")
                lines += [f"  {o.question.question!r} ({o.kind}): {' '.join(o.answer.split())[:160]!r}" for o in bad]
        return "\n".join(lines)
