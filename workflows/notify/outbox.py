"""The durable outbox and inbox of notifications, and every copy of each approval card (SQL)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)

from assistant.db import reading, serialize, writing
from workflows.notify.models import (
    ApprovalCard,
    CardStatus,
    Delivery,
    DeliveryState,
    Notification,
    NotifyBatch,
)

log = logging.getLogger(__name__)

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
    # Added after the first release (`_upgrade` adds them to older databases):
    Column("batch_key", String(200), nullable=True),  # NotifyBatch.key: a repeated batch is found by equality
    Column("state", String(16), nullable=False, server_default=DeliveryState.PENDING.value),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Float, nullable=False, server_default="0"),
    Column("failing_channel", String(16), nullable=True),
    Column("skipped", String(64), nullable=False, server_default=""),
    Column("last_error", Text, nullable=True),
    # The gateway replica delivering the row, until when (migration 0002): see `claim`.
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", Float, nullable=False, server_default="0"),
    Index("ix_notifications_batch_key", "batch_key"),
    Index("ix_notifications_due", "state", "next_attempt_at"),
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

    def post(self, batch: NotifyBatch) -> int:
        """Store a batch; a repeated batch (activity retry) adds nothing. Returns rows added."""
        now = time.time()
        with writing(self.engine) as conn:
            serialize(conn, f"outbox:{batch.key}")  # an activity's retry racing its first attempt
            if conn.execute(select(notifications.c.seq).where(notifications.c.batch_key == batch.key)
                            .limit(1)).first() is not None:
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
                conn.execute(insert(notifications), [{**row, "batch_key": batch.key} for row in rows])
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

    def _due_query(self, *, now: float, limit: int, per_recipient: int) -> Select:
        """Everyone's oldest due row before anyone's second, so one person's backlog (or a channel
        that keeps failing them) cannot fill a round."""
        rank = func.row_number().over(partition_by=notifications.c.recipient,
                                      order_by=notifications.c.seq).label("rank")
        ranked = (select(notifications.c.seq, rank)
                  .where(notifications.c.state == DeliveryState.PENDING.value,
                         notifications.c.next_attempt_at <= now, notifications.c.lease_until <= now)
                  .subquery())
        return (select(ranked.c.seq).where(ranked.c.rank <= per_recipient)
                .order_by(ranked.c.rank, ranked.c.seq).limit(limit))

    def due(self, *, now: float, limit: int = 200, per_recipient: int = 5) -> list[tuple[Notification, Delivery]]:
        """Pending rows whose time has come and that no replica holds, in delivery order (no claim)."""
        with reading(self.engine) as conn:
            seqs = list(conn.execute(self._due_query(now=now, limit=limit, per_recipient=per_recipient)).scalars())
            return self._rows(conn, seqs)

    def claim(self, owner: str, *, now: float, lease_seconds: float, limit: int = 200,
              per_recipient: int = 5) -> list[tuple[Notification, Delivery]]:
        """Take the due rows for `owner` until `now + lease_seconds`: no other replica gets them meanwhile.

        PostgreSQL locks the candidates with FOR UPDATE SKIP LOCKED (a row another replica is claiming
        is skipped, one it has just claimed fails the lease test when re-checked); SQLite's write lock
        serialises claims. A replica that dies mid-round leaves leases that expire, and the rows are
        delivered by whoever claims next: delivery is at least once, once per row unless a replica
        dies between sending and recording.
        """
        with writing(self.engine) as conn:
            candidates = list(conn.execute(self._due_query(now=now, limit=limit, per_recipient=per_recipient))
                              .scalars())
            if not candidates:
                return []
            locked = set(conn.execute(
                select(notifications.c.seq)
                .where(notifications.c.seq.in_(candidates), notifications.c.state == DeliveryState.PENDING.value,
                       notifications.c.lease_until <= now)
                .with_for_update(skip_locked=True)).scalars())
            seqs = [seq for seq in candidates if seq in locked]
            if seqs:
                conn.execute(update(notifications).where(notifications.c.seq.in_(seqs))
                             .values(lease_owner=owner, lease_until=now + lease_seconds))
            return self._rows(conn, seqs)

    def release(self, owner: str, seqs: list[int]) -> int:
        """Give back claimed rows not handled (a round cut short); they are due again at once."""
        with writing(self.engine) as conn:
            return conn.execute(update(notifications).where(
                notifications.c.seq.in_(seqs), notifications.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=0)).rowcount

    @staticmethod
    def _rows(conn: Connection, seqs: list[int]) -> list[tuple[Notification, Delivery]]:
        if not seqs:
            return []
        found = {r["seq"]: r for r in conn.execute(select(notifications).where(notifications.c.seq.in_(seqs)))
                 .mappings().all()}
        return [(_notification(found[s]), _delivery(found[s])) for s in seqs if s in found]

    def backlog(self, *, now: float) -> tuple[int, float]:
        """How many rows wait for delivery, and the age in seconds of the oldest (0 when none)."""
        query = (select(func.count(), func.min(notifications.c.created_at))
                 .where(notifications.c.state == DeliveryState.PENDING.value))
        with reading(self.engine) as conn:
            count, oldest = conn.execute(query).one()
        return int(count or 0), max(0.0, now - oldest) if oldest is not None else 0.0

    def deliveries(self, state: DeliveryState, *, limit: int = 100) -> list[Delivery]:
        """Rows in `state`, newest first (for admins)."""
        query = (select(notifications).where(notifications.c.state == state.value)
                 .order_by(notifications.c.seq.desc()).limit(limit))
        with reading(self.engine) as conn:
            return [_delivery(r) for r in conn.execute(query).mappings().all()]

    def mark_delivered(self, seq: int, channel: str, *, now: float | None = None, owner: str | None = None) -> bool:
        """Record the delivery; with `owner`, only while that replica still holds the row's lease."""
        return self._finish(seq, owner, state=DeliveryState.DELIVERED.value,
                            delivered_at=time.time() if now is None else now, channel=channel)

    def retry_later(self, seq: int, *, at: float, attempts: int, failing_channel: str | None,
                    skipped: list[str], error: str, owner: str | None = None) -> bool:
        """Record a failed attempt; the row is due again at `at`."""
        return self._finish(seq, owner, next_attempt_at=at, attempts=attempts, failing_channel=failing_channel,
                            skipped=",".join(skipped), last_error=error[:1000])

    def mark_dead(self, seq: int, *, error: str, attempts: int = 0, failing_channel: str | None = None,
                  skipped: list[str] | None = None, owner: str | None = None) -> bool:
        """Give up on a row: no more attempts; it stays listed for admins."""
        return self._finish(seq, owner, state=DeliveryState.DEAD.value, attempts=attempts,
                            failing_channel=failing_channel, skipped=",".join(skipped or []), last_error=error[:1000])

    def _finish(self, seq: int, owner: str | None, **values: Any) -> bool:
        """Update a row and end its lease. False when `owner` no longer holds it (the lease expired and
        another replica claimed it): that replica's word counts, not this one's."""
        query = update(notifications).where(notifications.c.seq == seq)
        if owner is not None:
            query = query.where(notifications.c.lease_owner == owner)
        with writing(self.engine) as conn:
            changed = conn.execute(query.values(lease_owner=None, lease_until=0, **values)).rowcount
        if not changed and owner is not None:
            log.warning("notify.lease_lost seq=%s owner=%s", seq, owner)
        return bool(changed)

    def prune(self, *, delivered_before: float, chunk: int = 1000) -> int:
        """Delete rows delivered before `delivered_before`, in short transactions. Returns rows deleted.

        The newest row always stays: SQLite would otherwise hand its seq out again, and a widget that
        already saw that seq (`after=N`) would miss the new row.
        """
        deleted = 0
        while True:
            with writing(self.engine) as conn:
                newest = conn.execute(select(func.max(notifications.c.seq))).scalar() or 0
                old = (select(notifications.c.seq)
                       .where(notifications.c.delivered_at < delivered_before,
                              notifications.c.state == DeliveryState.DELIVERED.value,
                              notifications.c.seq < newest)
                       .limit(chunk))
                count = conn.execute(delete(notifications).where(notifications.c.seq.in_(old))).rowcount
            deleted += count
            if count < chunk:
                return deleted


def _notification(row: Any) -> Notification:
    return Notification(
        seq=row["seq"], recipient=row["recipient"], kind=row["kind"], request_id=row["request_id"],
        approval_id=row["approval_id"], text=row["text"] or "",
        card=ApprovalCard.model_validate(json.loads(row["card"])) if row["card"] else None,
        created_at=row["created_at"], delivered_at=row["delivered_at"], channel=row["channel"],
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        seq=row["seq"], recipient=row["recipient"], kind=row["kind"], request_id=row["request_id"],
        approval_id=row["approval_id"], created_at=row["created_at"], state=DeliveryState(row["state"]),
        attempts=row["attempts"], failing_channel=row["failing_channel"],
        skipped=[c for c in (row["skipped"] or "").split(",") if c], next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"], delivered_at=row["delivered_at"], channel=row["channel"],
    )
