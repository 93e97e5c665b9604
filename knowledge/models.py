"""Models at the knowledge boundaries: documents, chunks, search hits and answers."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from knowledge.errors import InvalidDocument

_SLUG = re.compile(r"[^a-z0-9]+")
DOC_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
GROUP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# A table row as it travels in text: one line, each cell with its column's heading ("Years of
# service: 3 to 5 years; Vacation days per year: 27 days"), as ingestion writes it
# (`knowledge.parsing.types.table_row`). Answers quote such rows on lines of their own, and the
# channels draw them as tables (`channels.rendering`).
TABLE_ROW = re.compile(r"^[^:;\n]{1,60}: [^;\n]+(?:; [^:;\n]{1,60}: [^;\n]+)+$")


def document_id_for(filename: str) -> str:
    """Stable id from a file name, so uploading `vpn-guide.pdf` again makes a new version of the same document."""
    stem = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    slug = _SLUG.sub("-", stem.lower()).strip("-")[:64].strip("-")
    if not slug:
        raise InvalidDocument(f"cannot derive a document id from the file name {filename!r}")
    return slug


def acl_key(groups: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    """Canonical form of a group set: sorted, unique, comma-separated."""
    cleaned = sorted({g.strip() for g in groups if g and g.strip()})
    for group in cleaned:
        if not GROUP.match(group):
            raise InvalidDocument(f"invalid group name {group!r} (letters, digits, '.', '_', '-')",
                                  code="invalid_groups")
    if not cleaned:
        raise InvalidDocument("a document needs at least one group that may read it", code="invalid_groups")
    return ",".join(cleaned)


class DocumentInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    filename: str
    media_type: str
    groups: list[str]
    version: int
    sha256: str = Field(description="hash of the uploaded file")
    content_sha256: str = Field(description="hash of the extracted text: same text, same document")
    size: int
    chunks: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    @property
    def acl(self) -> str:
        return ",".join(self.groups)


class IngestResult(BaseModel):
    id: str
    title: str
    chunks: int
    version: int
    status: Literal["created", "replaced", "unchanged"]


class Chunk(BaseModel):
    """One indexed passage with everything needed to cite it and to check who may read it."""

    model_config = ConfigDict(frozen=True)

    id: str
    document_id: str
    version: int
    title: str
    section: str
    headings: str
    position: int
    text: str
    content_hash: str
    groups: str


class SearchHit(BaseModel):
    chunk: Chunk
    score: float = Field(description="reciprocal-rank-fusion score")
    similarity: float = Field(description="cosine similarity of the passage to the query (0 when lexical only)")
    lexical: float = Field(0.0, description="BM25 score")


class SearchResult(BaseModel):
    document_id: str
    title: str
    section: str
    text: str
    score: float
    chunk_id: str


class Passage(BaseModel):
    """A numbered passage shown to the model and to the user; `index` is the citation number."""

    index: int
    chunk_id: str
    document_id: str
    title: str
    section: str
    text: str
    score: float


class Citation(BaseModel):
    index: int
    chunk_id: str
    document_id: str
    title: str
    section: str | None = None
    score: float | None = None


class Answer(BaseModel):
    kind: Literal["answer", "fallback", "dont_know"]
    text: str
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    grounded: bool = False
    model: str = ""
    timings: dict[str, float] = Field(default_factory=dict)
