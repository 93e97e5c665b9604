"""Is the model's answer supported by the passages it was given? Sentence by sentence.

A sentence is supported when one passage sentence backs it both in meaning (embedding similarity)
and in wording (share of its content words), with the same polarity (a "not" on one side only is a
contradiction), every number in it appears in that sentence, and the backing sentence is one of those
that answer the question (not an unrelated line copied from a passage). Restating the question is
not an answer. Citations are rewritten to the supporting passage, so every number in the final
answer maps to a real retrieved chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from knowledge.answering.excerpts import Excerpt
from knowledge.embeddings import Embedder
from knowledge.lexical import terms
from knowledge.sentences import split_sentences

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_DONT_KNOW = re.compile(r"\b(i don'?t know|i do not know|not (?:mentioned|stated|specified)|no information)\b",
                        re.IGNORECASE)
_LEAD_IN = re.compile(r"^\s*(?:the\s+)?answer(?:\s+to\s+(?:this|the|your)\s+question)?\s*(?:is)?\s*:?\s*",
                      re.IGNORECASE)
_NEGATION = re.compile(r"\b(not|no|never|none|cannot|can't|don't|doesn't|isn't|aren't|won't|without|nobody)\b",
                       re.IGNORECASE)
_FILLER = frozenset({"yes", "no", "you", "your", "answer", "question"})
# What a reader could follow or contact: it must come from a passage, word for word.
_REFERENCE = re.compile(r"(?:https?://|www\.)[^\s<>\]\)\"']+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?<![\w@])@[A-Za-z][\w.-]+",
                        re.IGNORECASE)
RELEVANCE_MARGIN = 0.2


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


_NUMBER_WORDS = {w: str(n) for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
# Words that carry no claim of their own: they must not make an invented sentence look supported.
_FUNCTION_WORDS = frozenset(
    "you your yours we our us they their them he she his her it its i me my a an the this that these those "
    "will would should shall can could may might must do does did done be been being is are was were am have "
    "has had get gets got also just only very more most less per up about before after into onto over under "
    "within from with without for of on in at to by as so than then there here".split()
)


def numbers(text: str) -> set[str]:
    """Numbers in digits or words ("three" and "3" are the same number)."""
    text = _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(1).lower()], text)
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def content_terms(text: str) -> set[str]:
    return set(terms(text)) - _FUNCTION_WORDS


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def clean(answer: str) -> str:
    """Drop boilerplate the small model likes to start with ("The answer is: ...")."""
    return _LEAD_IN.sub("", answer.strip(), count=1).strip().strip('"').strip()


def check(answer: str, question: str, passages: list[Excerpt], embedder: Embedder, *, threshold: float) -> Grounding:
    """Check `answer` to `question` against passages 1..n (every sentence of each, with its vector)."""
    answer = clean(answer)
    if not answer:
        return Grounding(False, "", [], [], "empty answer")
    if _DONT_KNOW.search(answer):
        return Grounding(False, answer, [], [], "the model did not find the answer")
    sentences = [s for s in split_sentences(answer) if _CITATION.sub("", s).strip(" .")]
    if not sentences:
        return Grounding(False, answer, [], [], "empty answer")
    # "you may carry over 5 days [1]." -> "you may carry over 5 days." (no space left before the stop)
    bare = [_SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(_CITATION.sub(" ", s).split())) for s in sentences]
    vectors = embedder.embed(bare)
    question_terms = content_terms(question)
    best_relevance = max((p.relevance for p in passages), default=0.0)
    checks: list[SentenceSupport] = []
    sources = " ".join(p.text + " " + " ".join(p.sentences) for p in passages).lower()
    for sentence, text, vector in zip(sentences, bare, vectors, strict=True):
        foreign = [r for r in _REFERENCE.findall(text) if r.rstrip(".,;:").lower() not in sources]
        if foreign:
            return Grounding(False, answer, [], checks, f"names a link or address no passage has: {foreign[0]!r}")
        cited = tuple(int(n) for group in _CITATION.findall(sentence) for n in re.split(r"\s*,\s*", group))
        if any(n < 1 or n > len(passages) for n in cited):
            return Grounding(False, answer, [], checks, f"cites a passage that does not exist: {cited}")
        words = content_terms(text)
        if words <= question_terms | _FILLER:
            return Grounding(False, answer, [], checks, f"restates the question: {text!r}")
        scores = [_support(text, words, vector, passage, best_relevance) for passage in passages]
        valid_cited = [n for n in cited if scores[n - 1] >= threshold]
        best = valid_cited[0] if valid_cited else int(np.argmax(scores)) + 1
        checks.append(SentenceSupport(text, best, scores[best - 1], cited))
    unsupported = [c for c in checks if c.score < threshold]
    if unsupported:
        return Grounding(False, answer, [], checks, f"unsupported: {unsupported[0].text!r}")
    final = " ".join(f"{c.text.rstrip()} [{c.passage}]" for c in checks)
    cited_order = list(dict.fromkeys(c.passage for c in checks if c.passage is not None))
    return Grounding(True, final, cited_order, checks)


def _support(text: str, words: set[str], vector: np.ndarray, passage: Excerpt, best_relevance: float) -> float:
    """How well the best single sentence of one passage backs `text` (0 when none can)."""
    if not len(passage.vectors):
        return 0.0
    wanted = numbers(text)
    semantic = passage.vectors @ vector
    best = 0.0
    for j, sentence in enumerate(passage.sentences):
        if not wanted <= numbers(sentence):
            continue  # a number the sentence does not contain is never supported by it
        if _negated(sentence) != _negated(text):
            continue  # "not" on one side only: a contradiction
        if passage.question_similarity[j] < best_relevance - RELEVANCE_MARGIN:
            continue  # true in the document, but not about what was asked
        lexical = len(words & content_terms(sentence)) / len(words) if words else 0.0
        best = max(best, 0.5 * float(semantic[j]) + 0.5 * lexical)
    return best
