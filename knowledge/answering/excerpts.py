"""The sentences of each retrieved passage that best match the question, within a token budget.

Short prompts keep the time to first token low on a CPU, and give a small model less to get wrong.
The sentence vectors are kept: the relevance gate and the groundedness check reuse them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knowledge.embeddings import Embedder
from knowledge.sentences import split_sentences


@dataclass(frozen=True)
class Excerpt:
    sentences: list[str]  # every sentence of the passage
    vectors: np.ndarray  # one unit vector per sentence
    question_similarity: np.ndarray  # each sentence's cosine similarity with the question
    best: str  # the single sentence closest to the question
    chosen: tuple[str, ...]  # the sentences that fit the budget, in document order

    @property
    def text(self) -> str:
        """The chosen sentences as one quote."""
        return " ".join(self.chosen)

    @property
    def relevance(self) -> float:
        return float(self.question_similarity.max()) if len(self.question_similarity) else 0.0


def excerpts(texts: list[str], question: np.ndarray, embedder: Embedder, *, budget: int) -> list[Excerpt]:
    per_passage = [split_sentences(t) or [t] for t in texts]
    flat = [s for sentences in per_passage for s in sentences]
    if not flat:
        return []
    vectors = embedder.embed(flat)
    tokens = embedder.count_tokens(flat)
    out: list[Excerpt] = []
    start = 0
    for sentences in per_passage:
        end = start + len(sentences)
        vecs, toks = vectors[start:end], tokens[start:end]
        similarity = vecs @ question
        order = np.argsort(-similarity)
        chosen: list[int] = []
        used = 0
        for i in order:
            if chosen and used + toks[i] > budget:
                continue
            chosen.append(int(i))
            used += toks[i]
        chosen.sort()
        out.append(Excerpt(sentences, vecs, similarity, sentences[int(order[0])],
                           tuple(sentences[i] for i in chosen)))
        start = end
    return out
