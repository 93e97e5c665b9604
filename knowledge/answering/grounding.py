"""Is the model's answer supported by the passages it was given? Sentence by sentence.

A sentence is supported when it is close to some passage both in meaning (embedding similarity
with the passage's sentences) and in wording (share of its content words found in the passage),
and every number in it appears in that passage. Citations are rewritten to the supporting passage,
so every number in the final answer maps to a real retrieved chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from knowledge.embeddings import Embedder
from knowledge.lexical import terms
from knowledge.sentences import split_sentences

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_DONT_KNOW = re.compile(r"\b(i don'?t know|i do not know|not (?:mentioned|stated|specified)|no information)\b",
                        re.IGNORECASE)


@dataclass(frozen=True)
class SentenceSupport:
    text: str
    passage: int | None  # 1-based index of the best supporting passage
    score: float
    cited: tuple[int, ...]


@dataclass(frozen=True)
class Grounding:
    ok: bool
    text: str
    cited: list[int]
    sentences: list[SentenceSupport]
    reason: str = ""


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def check(answer: str, passage_texts: list[str], passage_vectors: list[np.ndarray], embedder: Embedder, *,
          threshold: float) -> Grounding:
    """Check `answer` against passages 1..n (texts and their sentence vectors)."""
    answer = answer.strip()
    if not answer:
        return Grounding(False, "", [], [], "empty answer")
    if _DONT_KNOW.search(answer):
        return Grounding(False, answer, [], [], "the model did not find the answer")
    sentences = [s for s in split_sentences(answer) if _CITATION.sub("", s).strip(" .")]
    if not sentences:
        return Grounding(False, answer, [], [], "empty answer")
    bare = [" ".join(_CITATION.sub(" ", s).split()) for s in sentences]
    vectors = embedder.embed(bare)
    passage_terms = [set(terms(t)) for t in passage_texts]
    passage_numbers = [numbers(t) for t in passage_texts]
    checks: list[SentenceSupport] = []
    for sentence, text, vector in zip(sentences, bare, vectors, strict=True):
        cited = tuple(int(n) for group in _CITATION.findall(sentence) for n in re.split(r"\s*,\s*", group))
        if any(n < 1 or n > len(passage_texts) for n in cited):
            return Grounding(False, answer, [], checks, f"cites a passage that does not exist: {cited}")
        scores = [_support(text, vector, passage_terms[i], passage_numbers[i], passage_vectors[i])
                  for i in range(len(passage_texts))]
        valid_cited = [n for n in cited if scores[n - 1] >= threshold]
        best = valid_cited[0] if valid_cited else int(np.argmax(scores)) + 1
        checks.append(SentenceSupport(text, best, scores[best - 1], cited))
    unsupported = [c for c in checks if c.score < threshold]
    if unsupported:
        return Grounding(False, answer, [], checks, f"unsupported: {unsupported[0].text!r}")
    final = " ".join(f"{c.text.rstrip()} [{c.passage}]" for c in checks)
    cited_order = list(dict.fromkeys(c.passage for c in checks if c.passage is not None))
    return Grounding(True, final, cited_order, checks)


def _support(text: str, vector: np.ndarray, passage_terms: set[str], passage_numbers: set[str],
             passage_vectors: np.ndarray) -> float:
    if not numbers(text) <= passage_numbers:
        return 0.0  # a number the passage does not contain is never supported
    words = set(terms(text))
    lexical = len(words & passage_terms) / len(words) if words else 0.0
    semantic = float(np.max(passage_vectors @ vector)) if len(passage_vectors) else 0.0
    return 0.5 * semantic + 0.5 * lexical
