"""The sentences of each retrieved passage that best match the question, within a token budget.

Short prompts keep the time to first token low on a CPU, and give a small model less to get wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knowledge.embeddings import Embedder
from knowledge.sentences import split_sentences


@dataclass(frozen=True)
class Excerpt:
    text: str
    sentences: list[str]
    vectors: np.ndarray  # one unit vector per sentence of the whole passage (for the groundedness check)
    best: str  # the single sentence closest to the question


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
        order = np.argsort(-(vecs @ question))
        chosen: list[int] = []
        used = 0
        for i in order:
            if chosen and used + toks[i] > budget:
                continue
            chosen.append(int(i))
            used += toks[i]
        chosen.sort()
        picked = [sentences[i] for i in chosen]
        out.append(Excerpt(" ".join(picked), picked, vecs, sentences[int(order[0])]))
        start = end
    return out
