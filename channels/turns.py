"""The turn log: one row per chat turn the gateway handled (who, channel, the intent Rasa read, ok or
error, how long it took), never the text. The insights page counts conversations, active people and
top intents from it (channels/insights.py)."""

from __future__ import annotations

import time
from typing import Literal

from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table

from assistant.db import writing

metadata = MetaData()

chat_turns = Table(
    "chat_turns", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), nullable=False, index=True),
    Column("channel", String(16), nullable=False),  # web, slack, teams
    Column("intent", String(64), nullable=True),  # None when Rasa was not reached or did not say
    Column("confidence", Float, nullable=True),
    Column("outcome", String(16), nullable=False),  # ok, error
    Column("seconds", Float, nullable=False),
    Column("created_at", Float, nullable=False, index=True),  # epoch seconds, when the turn started
)

Outcome = Literal["ok", "error"]


class TurnLog:
    """Appends turns; the insights page reads them with SQL (channels/insights.py)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, *, user_id: str, channel: str, outcome: Outcome, seconds: float, intent: str | None = None,
               confidence: float | None = None, at: float | None = None) -> None:
        """One turn; `at` is when it started (default: `seconds` ago)."""
        with writing(self.engine) as conn:
            conn.execute(chat_turns.insert().values(
                user_id=user_id[:128], channel=channel[:16], intent=intent[:64] if intent else None,
                confidence=confidence, outcome=outcome, seconds=max(0.0, seconds),
                created_at=time.time() - seconds if at is None else at))
