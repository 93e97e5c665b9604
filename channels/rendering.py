"""Rasa's replies as channel-neutral messages: text, buttons and cited sources."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Button(BaseModel):
    title: str
    payload: str


class Source(BaseModel):
    index: int | None = None
    document_id: str
    title: str
    section: str | None = None
    score: float | None = None


class Message(BaseModel):
    text: str = ""
    buttons: list[Button] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)


def from_rasa(replies: list[dict[str, Any]]) -> list[Message]:
    """One message per Rasa reply; a custom payload may carry `sources` (document citations)."""
    out: list[Message] = []
    for reply in replies:
        custom = reply.get("custom") if isinstance(reply.get("custom"), dict) else {}
        text = reply.get("text") or custom.get("text") or ""
        buttons = [
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in reply.get("buttons") or custom.get("buttons") or []
            if isinstance(b, dict) and b.get("payload")
        ]
        sources = [Source.model_validate(s) for s in custom.get("sources") or [] if isinstance(s, dict)]
        if text or buttons or sources:
            out.append(Message(text=text, buttons=buttons, sources=sources))
    return out
