"""Rasa's replies as channel-neutral messages: text, buttons and cited sources."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field, PrivateAttr

from knowledge.models import TABLE_ROW, Answer


class Button(BaseModel):
    title: str
    payload: str


class Source(BaseModel):
    index: int | None = None
    document_id: str
    title: str
    section: str | None = None
    score: float | None = None
    chunk_id: str | None = None  # the cited passage, for the document view (/doc)


class TextBlock(BaseModel):
    type: Literal["text"] = "text"
    text: str


class TableBlock(BaseModel):
    """Quoted table rows that share their column headings, as one table."""
    type: Literal["table"] = "table"
    columns: list[str]
    rows: list[list[str]]
    citation: str = ""  # "[1]": the passage the rows are quoted from


class StreamAsk(BaseModel):
    """A knowledge question the client streams the answer to itself (POST /api/knowledge/ask)."""
    question: str
    previous_question: str | None = None


class Message(BaseModel):
    text: str = ""
    buttons: list[Button] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    # The text again, as text and table blocks, when it quotes table rows (empty otherwise): the
    # widget draws real tables from it; `text` stays whole for clients that only read text.
    blocks: list[TextBlock | TableBlock] = Field(default_factory=list)
    # Only for clients that asked to stream (`"stream": true` in POST /api/chat): ask this instead.
    stream: StreamAsk | None = None
    # A knowledge answer the gateway recorded: the id that feedback on it names.
    answer_id: str | None = None
    # The knowledge answer behind this message (question, kind, model), for the gateway to record.
    _answer: dict[str, Any] | None = PrivateAttr(default=None)

    def answer_record(self) -> dict[str, Any] | None:
        return self._answer


ANSWER_KINDS = get_args(Answer.model_fields["kind"].annotation)  # answer, fallback, dont_know


def from_rasa(replies: list[dict[str, Any]]) -> list[Message]:
    """One message per Rasa reply; a custom payload may carry `sources` (document citations)."""
    out: list[Message] = []
    for reply in replies:
        custom: dict[str, Any] = reply["custom"] if isinstance(reply.get("custom"), dict) else {}
        text = reply.get("text") or custom.get("text") or ""
        buttons = [
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in reply.get("buttons") or custom.get("buttons") or []
            if isinstance(b, dict) and b.get("payload")
        ]
        sources = [Source.model_validate(s) for s in custom.get("sources") or [] if isinstance(s, dict)]
        stream = custom.get("stream")
        if isinstance(stream, dict) and isinstance(stream.get("question"), str):
            out.append(Message(stream=StreamAsk.model_validate(stream)))
        elif text or buttons or sources:
            message = Message(text=text, buttons=buttons, sources=sources, blocks=structured(text))
            if custom.get("kind") in ANSWER_KINDS and isinstance(custom.get("question"), str):
                message._answer = {"question": custom["question"], "kind": custom["kind"],
                                   "model": str(custom.get("model") or ""),
                                   "sources": [src.model_dump() for src in sources], "text": text}
            out.append(message)
    return out


# A quoted table row (knowledge.models.TABLE_ROW) ends with its citation: "Heading: value; Heading: value [1]".
_CITE = re.compile(r"(?: \[\d+\])+$")


@dataclass(frozen=True)
class TableRow:
    cells: list[tuple[str, str]]  # (column heading, value)
    citation: str  # " [1]", or ""


def table_row(line: str) -> TableRow | None:
    """A line that is one table row with its headings (two cells or more), else None."""
    line = line.strip()
    cite = _CITE.search(line)
    cells = line[:cite.start()] if cite else line
    if not TABLE_ROW.match(cells):
        return None
    pairs = [part.split(": ", 1) for part in cells.split("; ")]
    return TableRow([(h.strip(), v.strip()) for h, v in pairs], cite.group(0) if cite else "")


def blocks_of(text: str) -> list[str | TableRow]:
    """A message's text as runs of plain lines and table rows, in order (for channels with tables)."""
    out: list[str | TableRow] = []
    plain: list[str] = []
    for line in text.split("\n"):
        row = table_row(line)
        if row is None:
            plain.append(line)
            continue
        if "\n".join(plain).strip():
            out.append("\n".join(plain))
        plain = []
        out.append(row)
    if "\n".join(plain).strip():
        out.append("\n".join(plain))
    return out


def structured(text: str) -> list[TextBlock | TableBlock]:
    """`text` as text and table blocks when it quotes a table row, else [] (plain text needs none).

    Consecutive rows with the same headings and citation become one table.
    """
    parts = blocks_of(text)
    if not any(isinstance(part, TableRow) for part in parts):
        return []
    out: list[TextBlock | TableBlock] = []
    for part in parts:
        if not isinstance(part, TableRow):
            out.append(TextBlock(text=part.strip("\n")))
            continue
        columns, values, citation = [h for h, _ in part.cells], [v for _, v in part.cells], part.citation.strip()
        last = out[-1] if out else None
        if isinstance(last, TableBlock) and last.columns == columns and last.citation == citation:
            last.rows.append(values)
        else:
            out.append(TableBlock(columns=columns, rows=[values], citation=citation))
    return out
