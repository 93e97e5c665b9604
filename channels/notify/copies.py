"""Where each approval card was posted in a chat channel, so every copy can be updated after a decision.

The outbox knows who got a card; this knows where it sits: a Slack message (channel + ts) or a
Teams activity (conversation reference + activity id). One approver may hold copies in several
channels (a fallback delivery, a card shown again on request); all of them are updated.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Engine, Float, MetaData, String, Table, Text, select

from assistant.db import reading, upsert, writing

metadata = MetaData()

card_copies = Table(
    "approval_card_copies", metadata,
    Column("approval_id", String(40), primary_key=True),
    Column("recipient", String(64), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("location", String(300), primary_key=True),
    Column("ref", Text, nullable=False),
    Column("posted_at", Float, nullable=False),
)


@dataclass(frozen=True)
class CardCopy:
    approval_id: str
    recipient: str
    channel: str
    location: str
    ref: dict[str, Any]


class CardCopies:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, approval_id: str, recipient: str, channel: str, location: str, ref: dict[str, Any]) -> None:
        """Remember one posted copy; posting the same location twice keeps one row."""
        with writing(self.engine) as conn:
            conn.execute(upsert(conn, card_copies, dict(
                approval_id=approval_id, recipient=recipient, channel=channel, location=location[:300],
                ref=json.dumps(ref), posted_at=time.time()),
                keys=["approval_id", "recipient", "channel", "location"], update=False))

    def find(self, approval_id: str, *, channel: str, recipient: str | None = None) -> list[CardCopy]:
        query = select(card_copies).where(card_copies.c.approval_id == approval_id, card_copies.c.channel == channel)
        if recipient is not None:
            query = query.where(card_copies.c.recipient == recipient)
        with reading(self.engine) as conn:
            return [CardCopy(approval_id=r["approval_id"], recipient=r["recipient"], channel=r["channel"],
                             location=r["location"], ref=json.loads(r["ref"]))
                    for r in conn.execute(query.order_by(card_copies.c.posted_at)).mappings().all()]
