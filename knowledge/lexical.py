"""BM25 (bm25s) over the active chunks, with a per-query mask so unreadable chunks score zero."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN

log = logging.getLogger("knowledge.lexical")
logging.getLogger("bm25s").setLevel(logging.WARNING)

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_STOP = frozenset(STOPWORDS_EN) | {"i", "get", "do", "does", "can", "how", "what", "my", "we", "our"}


def stem(word: str) -> str:
    """A light English stemmer: plural and possessive forms share one term."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP]


class LexicalIndex:
    """Immutable once built; rebuilding from cached terms is cheap compared with re-tokenising."""

    def __init__(self, corpus_terms: Sequence[Sequence[str]]) -> None:
        self.size = len(corpus_terms)
        self._bm25: bm25s.BM25 | None = None
        if self.size:
            self._bm25 = bm25s.BM25()
            # A document without terms still needs a token, or bm25s cannot index it.
            self._bm25.index([list(t) or [""] for t in corpus_terms], show_progress=False)

    def top(self, query: str, mask: np.ndarray | None, n: int) -> list[tuple[int, float]]:
        """Rows and BM25 scores of the best `n` positive-scoring rows allowed by `mask`."""
        if self._bm25 is None or n <= 0:
            return []
        ids = self._bm25.get_tokens_ids(terms(query))
        if not ids:
            return []
        scores = self._bm25.get_scores_from_ids(ids, weight_mask=mask)
        n = min(n, self.size)
        rows = np.argpartition(-scores, n - 1)[:n]
        rows = rows[np.argsort(-scores[rows])]
        return [(int(r), float(scores[r])) for r in rows if scores[r] > 0]
