"""Structure-aware chunking: never across sections, sized in model tokens, with overlap."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from knowledge.parsing.types import ParsedDocument
from knowledge.sentences import split_sentences

CountTokens = Callable[[Sequence[str]], list[int]]


@dataclass(frozen=True)
class ChunkDraft:
    position: int
    headings: tuple[str, ...]
    text: str
    tokens: int

    @property
    def section(self) -> str:
        return self.headings[-1] if self.headings else ""


def heading_line(title: str, headings: Sequence[str]) -> str:
    """What is embedded (and indexed) before a chunk's text, so a heading stays with its text."""
    trail = [h for h in headings if h and h != title]
    return " > ".join([title, *trail]) if trail else title


def chunk_document(doc: ParsedDocument, title: str, count_tokens: CountTokens, *, size: int,
                   overlap: int) -> list[ChunkDraft]:
    """Split each section into chunks of at most `size` tokens (heading line included)."""
    chunks: list[ChunkDraft] = []
    for section in doc.sections:
        prefix_tokens = count_tokens([heading_line(title, section.headings)])[0]
        budget = max(16, size - prefix_tokens)
        units = _units(split_sentences(section.text), count_tokens, budget)
        for text, tokens in _pack(units, budget, min(overlap, budget // 2)):
            chunks.append(ChunkDraft(len(chunks), section.headings, text, tokens + prefix_tokens))
    return chunks


def _units(sentences: list[str], count_tokens: CountTokens, budget: int) -> list[tuple[str, int]]:
    """Sentences with their token counts; a sentence longer than the budget is cut into word windows."""
    if not sentences:
        return []
    units: list[tuple[str, int]] = []
    for sentence, tokens in zip(sentences, count_tokens(sentences), strict=True):
        if tokens <= budget:
            units.append((sentence, tokens))
            continue
        words = sentence.split()
        per_word = max(1.0, tokens / max(1, len(words)))
        step = max(1, int(budget / per_word) - 1)
        pieces = [" ".join(words[i:i + step]) for i in range(0, len(words), step)]
        units.extend(zip(pieces, count_tokens(pieces), strict=True))
    return units


def _pack(units: list[tuple[str, int]], budget: int, overlap: int) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    current: list[tuple[str, int]] = []
    fresh = 0  # units in `current` not already emitted
    for unit in units:
        if current and sum(t for _, t in current) + unit[1] > budget:
            out.append(_join(current))
            current = _tail(current, overlap)
            fresh = 0
            while current and sum(t for _, t in current) + unit[1] > budget:
                current.pop(0)
        current.append(unit)
        fresh += 1
    if current and fresh:
        out.append(_join(current))
    return out


def _tail(units: list[tuple[str, int]], overlap: int) -> list[tuple[str, int]]:
    tail: list[tuple[str, int]] = []
    total = 0
    for unit in reversed(units):
        if total + unit[1] > overlap:
            break
        tail.insert(0, unit)
        total += unit[1]
    return tail


def _join(units: list[tuple[str, int]]) -> tuple[str, int]:
    return "\n".join(text for text, _ in units), sum(tokens for _, tokens in units)
