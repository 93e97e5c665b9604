"""Append-only, hash-chained audit log in the SQL database; verification and export.

Each record's hash covers its content and the previous record's hash, so altering, removing or
reordering any record breaks the chain from that point on. A one-row head table holds the last
sequence number and hash, which also catches records cut off the end.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO, Any

from sqlalchemy import (
    Column,
    Engine,
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

log = logging.getLogger(__name__)

GENESIS = "0" * 64
metadata = MetaData()

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("key", String(200), unique=True, nullable=True),
    Column("at", String(40), nullable=False),
    Column("event", String(64), nullable=False),
    Column("request_id", String(32), nullable=True, index=True),
    Column("actor", String(64), nullable=True),
    Column("channel", String(16), nullable=True),
    Column("data", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: str
    event: str
    request_id: str | None
    actor: str | None
    channel: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str
    key: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "event": self.event, "request_id": self.request_id,
                "actor": self.actor, "channel": self.channel, "data": self.data,
                "prev_hash": self.prev_hash, "hash": self.hash}


@dataclass
class VerifyReport:
    records: int = 0
    problems: list[str] = field(default_factory=list)
    head_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return not self.problems


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(value: Any) -> str:
    """A short, stable digest of any JSON-able value (connector requests and results)."""
    return hashlib.sha256(canonical(value).encode()).hexdigest()[:32]


def record_hash(seq: int, at: str, event: str, request_id: str | None, actor: str | None,
                channel: str | None, data_json: str, prev_hash: str) -> str:
    body = canonical([seq, at, event, request_id, actor, channel, data_json, prev_hash])
    return hashlib.sha256(body.encode()).hexdigest()


class AuditLog:
    """The audit trail. Writers append; nobody updates or deletes (verify tells if someone did)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_schema(self) -> AuditLog:
        metadata.create_all(self.engine)
        with writing(self.engine) as conn:
            if conn.execute(select(audit_head.c.id)).first() is None:
                conn.execute(insert(audit_head).values(id=1, seq=0, hash=GENESIS))
        return self

    def append(
        self,
        event: str,
        *,
        request_id: str | None = None,
        actor: str | None = None,
        channel: str | None = None,
        data: dict[str, Any] | None = None,
        key: str | None = None,
        at: datetime | None = None,
    ) -> AuditRecord:
        """Add one record. With a `key`, a repeated append (an activity retry) returns the first one."""
        data_json = canonical(data or {})
        when = (at or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="microseconds")
        with writing(self.engine) as conn:
            if key is not None:
                existing = conn.execute(select(audit_log).where(audit_log.c.key == key)).mappings().first()
                if existing is not None:
                    return _record(existing)
            head = conn.execute(select(audit_head).where(audit_head.c.id == 1).with_for_update()).mappings().one()
            seq = head["seq"] + 1
            h = record_hash(seq, when, event, request_id, actor, channel, data_json, head["hash"])
            conn.execute(insert(audit_log).values(
                seq=seq, key=key, at=when, event=event, request_id=request_id, actor=actor,
                channel=channel, data=data_json, prev_hash=head["hash"], hash=h,
            ))
            conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=h))
        log.debug("audit.appended seq=%s event=%s request=%s", seq, event, request_id)
        return AuditRecord(seq, when, event, request_id, actor, channel, json.loads(data_json), head["hash"], h, key)

    def record(self, event: str, actor: str, details: dict[str, Any]) -> None:
        """The small sink other parts use (e.g. knowledge's document added/removed)."""
        self.append(event, actor=actor, data=details)

    def records(self, *, request_id: str | None = None, after: int = 0) -> Iterator[AuditRecord]:
        query = select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq)
        if request_id is not None:
            query = query.where(audit_log.c.request_id == request_id)
        with reading(self.engine) as conn:
            rows = conn.execute(query).mappings().all()
        for row in rows:
            yield _record(row)

    def verify(self) -> VerifyReport:
        """Walk the chain: every record's hash, its link to the previous one, and the head."""
        report = VerifyReport()
        prev_hash, prev_seq = GENESIS, 0
        with reading(self.engine) as conn:
            rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings().all()
            head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).mappings().first()
        for row in rows:
            report.records += 1
            seq = row["seq"]
            if seq != prev_seq + 1:
                report.problems.append(f"record {seq}: expected sequence {prev_seq + 1} (records removed or reordered)")
            if row["prev_hash"] != prev_hash:
                report.problems.append(f"record {seq}: does not link to the record before it (removed or reordered)")
            expected = record_hash(seq, row["at"], row["event"], row["request_id"], row["actor"], row["channel"],
                                   row["data"], row["prev_hash"])
            if expected != row["hash"]:
                report.problems.append(f"record {seq}: content does not match its hash (altered)")
            prev_hash, prev_seq = row["hash"], seq
        if head is None:
            report.problems.append("the audit head is missing")
        elif head["seq"] != prev_seq or head["hash"] != prev_hash:
            report.problems.append(
                f"the log ends at record {prev_seq} but the head says {head['seq']} (records cut off the end)"
            )
        report.head_hash = prev_hash
        return report

    def export(self, out: IO[str], *, request_id: str | None = None) -> int:
        """Write every record as one JSON object per line; returns how many."""
        n = 0
        for record in self.records(request_id=request_id):
            out.write(json.dumps(record.as_json(), ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
        return n


def _record(row: Any) -> AuditRecord:
    return AuditRecord(
        seq=row["seq"], at=row["at"], event=row["event"], request_id=row["request_id"], actor=row["actor"],
        channel=row["channel"], data=json.loads(row["data"]), prev_hash=row["prev_hash"], hash=row["hash"],
        key=row["key"],
    )
