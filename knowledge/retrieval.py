"""Hybrid retrieval: vector search in the collections the caller may read, BM25 masked the same way,
fused by reciprocal rank. Unreadable chunks never enter a ranking."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from knowledge.fusion import reciprocal_rank_fusion
from knowledge.models import SearchHit
from knowledge.snapshot import Snapshot
from knowledge.store import KnowledgeStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retrieval:
    hits: list[SearchHit]
    best_similarity: float
    elapsed_ms: float
    vector: np.ndarray | None = None


class Retriever:
    def __init__(self, store: KnowledgeStore, *, rrf_k: int = 60, candidates: int = 20) -> None:
        self.store = store
        self.rrf_k = rrf_k
        self.candidates = candidates

    def search(self, query: str, groups: Iterable[str], *, k: int = 5) -> Retrieval:
        t0 = time.perf_counter()
        snap = self.store.snapshot  # one consistent view for the whole query
        groups = frozenset(groups)
        acls = snap.readable_acls(groups)
        if not acls or not query.strip():
            return Retrieval([], 0.0, (time.perf_counter() - t0) * 1000)
        n = max(self.candidates, k * 4)
        vector = self.store.embedder.embed_one(query)
        similarity = self._vector(snap, acls, vector, n)
        lexical = {snap.chunks[row].id: score for row, score in snap.lexical.top(query, snap.mask(acls), n)}
        vector_rank = sorted(similarity, key=lambda cid: -similarity[cid])
        lexical_rank = sorted(lexical, key=lambda cid: -lexical[cid])
        hits: list[SearchHit] = []
        for chunk_id, score in reciprocal_rank_fusion([vector_rank, lexical_rank], k=self.rrf_k):
            chunk = snap.chunks[snap.row_of[chunk_id]]
            if not groups.intersection(chunk.groups.split(",")):  # defence in depth; cannot happen
                log.error("knowledge.retrieval.acl_leak chunk=%s", chunk_id)
                continue
            hits.append(SearchHit(chunk=chunk, score=score, similarity=similarity.get(chunk_id, 0.0),
                                  lexical=lexical.get(chunk_id, 0.0)))
            if len(hits) == k:
                break
        best = max(similarity.values(), default=0.0)
        return Retrieval(hits, best, (time.perf_counter() - t0) * 1000, vector)

    def _vector(self, snap: Snapshot, acls: list[str], vector: np.ndarray, n: int) -> dict[str, float]:
        """Cosine similarity of the best `n` active chunks, over the caller's collections only."""
        found: dict[str, float] = {}
        for acl in acls:
            name = snap.collections[acl]
            want = min(n, snap.rows_per_acl.get(acl, 0))
            if want <= 0:
                continue
            # Over-fetch a little: chunks of a version being replaced may still be in Chroma.
            result = self.store.collection(name, acl).query(query_embeddings=[vector], n_results=want + 8,
                                                            include=["distances"])
            distances = result["distances"] or [[]]  # asked for with include=["distances"]
            for chunk_id, distance in zip(result["ids"][0], distances[0], strict=True):
                if chunk_id in snap.row_of:
                    found[chunk_id] = 1.0 - float(distance)
        return dict(sorted(found.items(), key=lambda kv: -kv[1])[:n])
