"""Feedback on knowledge answers: the asker rates an answer they got; admins read the feedback.

  POST /api/answers/{answer_id}/feedback   {"rating": "up" | "down", "comment": "..."}   (the asker)
  GET  /api/feedback?rating=down&since=ISO&limit=50&offset=0                            (admins)
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from assistant.directory import User
from channels.auth import admin_user, current_user, services_of
from channels.feedback import MAX_COMMENT, Rating

router = APIRouter()


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Rating
    comment: str = Field("", max_length=MAX_COMMENT)


@router.post("/api/answers/{answer_id}/feedback")
async def rate(answer_id: Annotated[str, Field(max_length=32)], body: FeedbackIn, request: Request,
               user: User = Depends(current_user)) -> dict[str, Any]:
    answers = services_of(request).answers
    comment = body.comment.strip()
    await asyncio.to_thread(partial(answers.rate, answer_id[:32], user_id=user.id, rating=body.rating,
                                    comment=comment))
    return {"answer_id": answer_id, "rating": body.rating, "comment": comment}


@router.get("/api/feedback")
async def feedback(
    request: Request,
    rating: Rating | None = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    user: User = Depends(admin_user),
) -> dict[str, Any]:
    answers = services_of(request).answers
    rows = await asyncio.to_thread(partial(answers.feedback, rating=rating, limit=limit, offset=offset,
                                           since=since.timestamp() if since else None))
    return {"feedback": [row.to_dict() for row in rows]}
