"""Sentence splitting for chunking, passage excerpts and the groundedness check."""

from __future__ import annotations

import re

_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "approx.", "no.", "vs.", "mr.", "ms.", "dr.", "st.", "inc.", "p.m.", "a.m.")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_CITATION_TAIL = re.compile(r"^(\s*\[\d+(?:\s*,\s*\d+)*\])+")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`; lines (list items, table rows) are never joined."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        start = 0
        for match in _BOUNDARY.finditer(line):
            candidate = line[start:match.start()].strip()
            if candidate.lower().endswith(_ABBREVIATIONS) or _ends_with_initial(candidate):
                continue
            if candidate:
                out.append(candidate)
            start = match.end()
        rest = line[start:].strip()
        if rest:
            out.append(rest)
    return _attach_citations(out)


def _ends_with_initial(text: str) -> bool:
    return len(text) >= 2 and text[-1] == "." and text[-2].isupper() and (len(text) == 2 or text[-3] == " ")


def _attach_citations(sentences: list[str]) -> list[str]:
    """A citation written after the full stop ("... days. [2]") belongs to the sentence before it."""
    out: list[str] = []
    for sentence in sentences:
        match = _CITATION_TAIL.match(sentence)
        if match and out:
            out[-1] = f"{out[-1]} {match.group(0).strip()}"
            sentence = sentence[match.end():].strip()
        if sentence:
            out.append(sentence)
    return out
