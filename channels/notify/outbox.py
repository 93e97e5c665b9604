"""The durable outbox and inbox of notifications, and every copy of each approval card (SQL)."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from assistant.db import reading, writing
from channels.notify.models import ApprovalCard, CardStatus, Notification, NotifyBatch

metadata = MetaData()

notifications = Table(
    "notifications", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("key", String(240), nullable=False, unique=True),
    Column("recipient", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("request_id", String(32), nullable=True),
    Column("approval_id", String(40), nullable=True),
    Column("text", Text, nullable=False, default=""),
    Column("card", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float, nullable=True, index=True),
    Column("channel", String(16), nullable=True),
)

approval_cards = Table(
    "approval_cards", metadata,
    Column("approval_id", String(40), primary_key=True),
    Column("recipient", String(64), primary_key=True),
    Column("request_id", String(32), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("card", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)


class Outbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_schema(self) -> Outbox:
        metadata.create_all(self.engine)
        return self

    def post(self, batch: NotifyBatch) -> int:
        """Store a batch; a repeated batch (activity retry) adds nothing. Returns rows added."""
        now = time.time()
        with writing(self.engine) as conn:
            if conn.execute(select(notifications.c.seq).where(
                    notifications.c.key.like(f"{_escape(batch.key)}:%", escape="\\"))).first() is not None:
                return 0
            rows: list[dict[str, Any]] = []
            for i, out in enumerate(batch.cards):
                card_json = out.card.model_dump_json()
                existing = conn.execute(select(approval_cards.c.recipient).where(
                    approval_cards.c.approval_id == out.card.approval_id,
                    approval_cards.c.recipient == out.recipient)).first()
                values = dict(request_id=out.card.request_id, status=out.card.status.value, card=card_json,
                              updated_at=now)
                if existing is None:
                    conn.execute(insert(approval_cards).values(approval_id=out.card.approval_id,
                                                               recipient=out.recipient, **values))
                else:
                    conn.execute(update(approval_cards).where(
                        approval_cards.c.approval_id == out.card.approval_id,
                        approval_cards.c.recipient == out.recipient).values(**values))
                rows.append(dict(key=f"{batch.key}:card:{i}", recipient=out.recipient, kind="card",
                                 request_id=out.card.request_id, approval_id=out.card.approval_id,
                                 text=out.card.title, card=card_json, created_at=now))
            for i, upd in enumerate(batch.updates):
                query = select(approval_cards).where(approval_cards.c.approval_id == upd.approval_id)
                if upd.recipient is not None:
                    query = query.where(approval_cards.c.recipient == upd.recipient)
                for j, row in enumerate(conn.execute(query).mappings().all()):
                    card = ApprovalCard.model_validate_json(row["card"])
                    if card.status is not CardStatus.OPEN:
                        continue  # the first final word stays (e.g. approved, then the request completes)
                    card = card.model_copy(update={"status": upd.status, "decided_by": upd.decided_by,
                                                   "decided_at": upd.decided_at, "status_text": upd.text})
                    card_json = card.model_dump_json()
                    conn.execute(update(approval_cards).where(
                        approval_cards.c.approval_id == row["approval_id"],
                        approval_cards.c.recipient == row["recipient"]).values(
                            status=card.status.value, card=card_json, updated_at=now))
                    rows.append(dict(key=f"{batch.key}:update:{i}:{j}", recipient=row["recipient"],
                                     kind="card_update", request_id=card.request_id,
                                     approval_id=card.approval_id, text=upd.text, card=card_json, created_at=now))
            for i, msg in enumerate(batch.messages):
                rows.append(dict(key=f"{batch.key}:msg:{i}", recipient=msg.recipient, kind="message",
                                 request_id=msg.request_id, approval_id=None, text=msg.text, card=None,
                                 created_at=now))
            if rows:
                conn.execute(insert(notifications), rows)
        return len(rows)

    def inbox(self, recipient: str, *, after: int = 0, limit: int = 100) -> list[Notification]:
        query = (select(notifications).where(notifications.c.recipient == recipient, notifications.c.seq > after)
                 .order_by(notifications.c.seq).limit(limit))
        with reading(self.engine) as conn:
            return [_notification(r) for r in conn.execute(query).mappings().all()]

    def latest_seq(self, recipient: str) -> int:
        query = (select(notifications.c.seq).where(notifications.c.recipient == recipient)
                 .order_by(notifications.c.seq.desc()).limit(1))
        with reading(self.engine) as conn:
            return conn.execute(query).scalar() or 0

    def cards(self, recipient: str, *, status: CardStatus | None = None, limit: int = 50) -> list[ApprovalCard]:
        query = select(approval_cards.c.card).where(approval_cards.c.recipient == recipient)
        if status is not None:
            query = query.where(approval_cards.c.status == status.value)
        query = query.order_by(approval_cards.c.updated_at.desc()).limit(limit)
        with reading(self.engine) as conn:
            return [ApprovalCard.model_validate_json(c) for c in conn.execute(query).scalars()]

    def card_copies(self, approval_id: str) -> dict[str, ApprovalCard]:
        query = select(approval_cards).where(approval_cards.c.approval_id == approval_id)
        with reading(self.engine) as conn:
            return {r["recipient"]: ApprovalCard.model_validate_json(r["card"])
                    for r in conn.execute(query).mappings().all()}

    def undelivered(self, *, limit: int = 200) -> list[Notification]:
        query = (select(notifications).where(notifications.c.delivered_at.is_(None))
                 .order_by(notifications.c.seq).limit(limit))
        with reading(self.engine) as conn:
            return [_notification(r) for r in conn.execute(query).mappings().all()]

    def mark_delivered(self, seq: int, channel: str) -> None:
        with writing(self.engine) as conn:
            conn.execute(update(notifications).where(notifications.c.seq == seq).values(
                delivered_at=time.time(), channel=channel))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _notification(row: Any) -> Notification:
    return Notification(
        seq=row["seq"], recipient=row["recipient"], kind=row["kind"], request_id=row["request_id"],
        approval_id=row["approval_id"], text=row["text"] or "",
        card=ApprovalCard.model_validate(json.loads(row["card"])) if row["card"] else None,
        created_at=row["created_at"], delivered_at=row["delivered_at"], channel=row["channel"],
    )
