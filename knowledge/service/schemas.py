"""Request bodies of the knowledge service (internal API: gateway and action server only)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=2000)
    groups: list[str] = Field(max_length=200)
    k: int = Field(5, ge=1, le=50)


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=2000)
    groups: list[str] = Field(max_length=200)
    previous_question: str | None = Field(None, max_length=2000)
    stream: bool = False
    asker: str = Field("", max_length=128, description="who asks: one waiting question per person")


class PassagesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document_id: str = Field(min_length=1, max_length=64)
    groups: list[str] = Field(max_length=200)
