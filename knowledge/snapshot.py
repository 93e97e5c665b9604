"""An immutable view of the active chunks: what every query reads, swapped in one assignment."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np

from knowledge.chunking import heading_line
from knowledge.lexical import LexicalIndex, terms
from knowledge.models import Chunk


def indexed_text(chunk: Chunk) -> str:
    """The text embedded and indexed for a chunk: its heading trail, then its text."""
    return f"{heading_line(chunk.title, chunk.headings.split(' > ') if chunk.headings else [])}\n{chunk.text}"


class Snapshot:
    """Active chunks, their lexical index and which groups may read each collection.

    A new version of a document becomes visible only when a new snapshot replaces this one,
    so a query sees either the old chunks or the new ones, never both or neither.
    """

    def __init__(self, generation: int, chunks: list[Chunk], chunk_terms: list[tuple[str, ...]],
                 collections: dict[str, str]) -> None:
        self.generation = generation
        self.chunks = chunks
        self.terms = chunk_terms
        self.row_of = {c.id: i for i, c in enumerate(chunks)}
        self.collections = collections  # acl key -> Chroma collection name (only non-empty ones)
        self.rows_per_acl: dict[str, int] = {}
        acl_rows: dict[str, list[int]] = {}
        for i, chunk in enumerate(chunks):
            acl_rows.setdefault(chunk.groups, []).append(i)
        self._acl_rows = {k: np.asarray(v, dtype=np.int64) for k, v in acl_rows.items()}
        self.rows_per_acl = {k: len(v) for k, v in acl_rows.items()}
        self.lexical = LexicalIndex(chunk_terms)
        self._masks: dict[tuple[str, ...], np.ndarray] = {}
        self._lock = threading.Lock()

    @classmethod
    def empty(cls, generation: int) -> Snapshot:
        return cls(generation, [], [], {})

    @classmethod
    def build(cls, generation: int, chunks: Iterable[Chunk], collections: dict[str, str],
              known_terms: dict[str, tuple[str, ...]] | None = None) -> Snapshot:
        chunk_list = list(chunks)
        known_terms = known_terms or {}
        chunk_terms = [known_terms.get(c.id) or tuple(terms(indexed_text(c))) for c in chunk_list]
        used = {c.groups for c in chunk_list}
        return cls(generation, chunk_list, chunk_terms, {k: v for k, v in collections.items() if k in used})

    def replace_document(self, document_id: str, new_chunks: list[Chunk], collections: dict[str, str]) -> Snapshot:
        """A new snapshot with `document_id`'s chunks replaced by `new_chunks` (none: deleted)."""
        kept = [(c, t) for c, t in zip(self.chunks, self.terms, strict=True) if c.document_id != document_id]
        known = {c.id: t for c, t in kept}
        return Snapshot.build(self.generation, [c for c, _ in kept] + new_chunks, collections, known)

    def readable_acls(self, groups: Iterable[str]) -> list[str]:
        """ACL keys (collections) that share at least one group with the caller."""
        mine = set(groups)
        return [acl for acl in self.collections if mine.intersection(acl.split(","))]

    def mask(self, acls: list[str]) -> np.ndarray:
        """1.0 for rows the caller may read, 0.0 for the rest (applied before BM25 ranking)."""
        key = tuple(sorted(acls))
        with self._lock:
            cached = self._masks.get(key)
            if cached is None:
                cached = np.zeros(len(self.chunks), dtype=np.float32)
                for acl in key:
                    cached[self._acl_rows.get(acl, np.empty(0, dtype=np.int64))] = 1.0
                self._masks[key] = cached
        return cached

    def documents(self) -> set[str]:
        return {c.document_id for c in self.chunks}
