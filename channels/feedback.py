"""Knowledge answers as people received them, and what they thought of them (thumbs, a comment).

The gateway records every knowledge answer it relays (the question, the text, the cited passages,
the model) and gives it an id; feedback names that id, so what is stored is what the person really
saw, not what a client claims it saw. Only the person who asked may rate an answer; rating again
replaces their earlier rating. Admins list the feedback, newest first, filtered by rating and time
(the knowledge owners' review queue builds on this).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Column, Engine, Float, ForeignKey, MetaData, String, Table, Text, select

from assistant.db import reading, upsert, writing
from assistant.errors import NotFound

metadata = MetaData()

answers = Table(
    "answers", metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(128), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("question", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("sources", Text, nullable=False),  # JSON: the cited passages (document, title, section, chunk)
    Column("kind", String(16), nullable=False),  # answer, fallback, dont_know
    Column("model", String(200), nullable=False),
    Column("created_at", Float, nullable=False, index=True),
)

answer_feedback = Table(
    "answer_feedback", metadata,
    Column("answer_id", String(32), ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(128), nullable=False),
    Column("rating", String(8), nullable=False),  # up, down
    Column("comment", Text, nullable=False, server_default=""),
    Column("created_at", Float, nullable=False, index=True),
)

Rating = Literal["up", "down"]
MAX_COMMENT = 1000


@dataclass(frozen=True)
class FeedbackRow:
    answer_id: str
    user_id: str
    rating: str
    comment: str
    created_at: float
    question: str
    text: str
    sources: list[dict[str, Any]]
    kind: str
    model: str
    channel: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class AnswerLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, *, user_id: str, channel: str, question: str, text: str, sources: list[dict[str, Any]],
               kind: str, model: str, now: float | None = None) -> str:
        answer_id = secrets.token_hex(12)
        with writing(self.engine) as conn:
            conn.execute(answers.insert().values(
                id=answer_id, user_id=user_id, channel=channel[:16], question=question, text=text,
                sources=json.dumps(sources), kind=kind[:16], model=model[:200],
                created_at=time.time() if now is None else now))
        return answer_id

    def rate(self, answer_id: str, *, user_id: str, rating: Rating, comment: str = "",
             now: float | None = None) -> None:
        """`user_id`'s rating of their answer `answer_id` (404 for anyone else's, or an unknown id)."""
        with writing(self.engine) as conn:
            owner = conn.execute(select(answers.c.user_id).where(answers.c.id == answer_id)).scalar()
            if owner is None or owner != user_id:
                raise NotFound("no such answer of yours", code="answer_not_found")
            conn.execute(upsert(conn, answer_feedback, {
                "answer_id": answer_id, "user_id": user_id, "rating": rating, "comment": comment[:MAX_COMMENT],
                "created_at": time.time() if now is None else now}, keys=["answer_id"]))

    def feedback(self, *, rating: Rating | None = None, since: float | None = None, limit: int = 100,
                 offset: int = 0) -> list[FeedbackRow]:
        query = (select(answer_feedback, answers.c.question, answers.c.text, answers.c.sources, answers.c.kind,
                        answers.c.model, answers.c.channel)
                 .join(answers, answers.c.id == answer_feedback.c.answer_id)
                 .order_by(answer_feedback.c.created_at.desc()).limit(limit).offset(offset))
        if rating is not None:
            query = query.where(answer_feedback.c.rating == rating)
        if since is not None:
            query = query.where(answer_feedback.c.created_at >= since)
        with reading(self.engine) as conn:
            rows = conn.execute(query).all()
        return [FeedbackRow(answer_id=r.answer_id, user_id=r.user_id, rating=r.rating, comment=r.comment,
                            created_at=r.created_at, question=r.question, text=r.text,
                            sources=json.loads(r.sources), kind=r.kind, model=r.model, channel=r.channel)
                for r in rows]
