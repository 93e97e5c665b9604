"""Append-only audit log in the SQL database, chained with a key kept outside it; signed checkpoints.

Each record's hash is an HMAC-SHA256, under the audit key (a file, never in the database), of its
content and the previous record's hash: altering, removing or reordering a record breaks the chain
from that point on, and whoever can write the database but cannot read the key cannot make a new
chain that holds. A one-row head table holds the last sequence number and hash. After appends, an
Ed25519-signed checkpoint of the head goes to an append-only file: whoever also has the key and
rewrites the database contradicts an earlier checkpoint, and cutting records off the end falls
below the latest one. Records written before the chain was keyed (plain SHA-256) stay valid up to
the switch-over point, which every checkpoint carries under its signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    RowMapping,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from assistant.audit_keys import (
    AuditFiles,
    AuditKeys,
    Checkpoint,
    audit_files,
    canonical,
    files_from_environment,
)
from assistant.db import reading, writing
from assistant.errors import ConfigurationError

__all__ = ["AuditFiles", "AuditLog", "AuditRecord", "Checkpoint", "VerifyReport", "audit_files", "canonical",
           "digest", "record_hash"]

log = logging.getLogger(__name__)

GENESIS = "0" * 64
metadata = MetaData()

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("key", String(200), unique=True, nullable=True),
    Column("at", String(40), nullable=False, index=True),  # the insights page reads periods
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
    legacy_until: int = 0
    checkpoints: int = 0
    latest_checkpoint: Checkpoint | None = None
    signed_seq: int | None = None
    key_file: Path | None = None
    checkpoint_file: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def checked(self) -> list[str]:
        """What was checked, one line each (for `aios audit verify`)."""
        lines = []
        keyed = self.records - min(self.legacy_until, self.records)
        if self.legacy_until:
            lines.append(f"records 1-{self.legacy_until}: plain SHA-256 chain (written before the chain was keyed)")
        if keyed:
            lines.append(f"records {self.legacy_until + 1}-{self.legacy_until + keyed}: HMAC-SHA256 chain, "
                         f"key {self.key_file}")
        latest = self.latest_checkpoint
        where = f"latest at record {latest.seq} ({latest.at})" if latest else "none yet"
        lines.append(f"{self.checkpoints} signed checkpoint(s) in {self.checkpoint_file}: {where}")
        if self.signed_seq is not None:
            lines.append(f"signed a new checkpoint at record {self.signed_seq}")
        return lines


def digest(value: Any) -> str:
    """A short, stable digest of any JSON-able value (connector requests and results)."""
    return hashlib.sha256(canonical(value).encode()).hexdigest()[:32]


def record_hash(seq: int, at: str, event: str, request_id: str | None, actor: str | None,
                channel: str | None, data_json: str, prev_hash: str, *, key: bytes | None = None) -> str:
    """HMAC-SHA256 of the record under `key`; plain SHA-256 (records before the switch-over) without one."""
    body = canonical([seq, at, event, request_id, actor, channel, data_json, prev_hash]).encode()
    if key is None:
        return hashlib.sha256(body).hexdigest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


class AuditLog:
    """The audit trail. Writers append; nobody updates or deletes (verify tells if someone did).

    `files` says where the key, the signing key and the checkpoints are; entry points pass
    `audit_files(settings)`. Without it they are found as the entry points would: from the
    AIOS_AUDIT_* environment, beside a SQLite database file by default.
    """

    def __init__(self, engine: Engine, *, files: AuditFiles | None = None) -> None:
        self.engine = engine
        self._keys = AuditKeys(files) if files is not None else None
        self._legacy_until: int | None = None

    @property
    def keys(self) -> AuditKeys:
        if self._keys is None:
            self._keys = AuditKeys(files_from_environment(self.engine))
        return self._keys

    @property
    def files(self) -> AuditFiles:
        return self.keys.files

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
        when = (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
        with writing(self.engine) as conn:
            if key is not None:
                existing = conn.execute(select(audit_log).where(audit_log.c.key == key)).mappings().first()
                if existing is not None:
                    return _record(existing)
            head = conn.execute(select(audit_head).where(audit_head.c.id == 1).with_for_update()).mappings().one()
            legacy_until = self._switch_over(conn, head)
            seq = head["seq"] + 1
            h = record_hash(seq, when, event, request_id, actor, channel, data_json, head["hash"],
                            key=self.keys.chain_key(create=True))
            conn.execute(insert(audit_log).values(
                seq=seq, key=key, at=when, event=event, request_id=request_id, actor=actor,
                channel=channel, data=data_json, prev_hash=head["hash"], hash=h,
            ))
            conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=h))
        log.debug("audit.appended seq=%s event=%s request=%s", seq, event, request_id)
        if seq % self.files.checkpoint_every == 0:
            # After the commit: a checkpoint never names a record that was rolled back.
            try:
                self.keys.write_checkpoint(seq, h, legacy_until)
            except (OSError, ConfigurationError) as exc:
                log.error("audit.checkpoint.failed seq=%s file=%s error=%s", seq, self.files.checkpoint_file, exc)
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

    def checkpoints(self) -> tuple[list[Checkpoint], list[str]]:
        """The checkpoints whose signature holds, and a problem for every line that does not."""
        return self.keys.checkpoints()

    def verify(self) -> VerifyReport:
        """Walk the chain (every record's hash and link, the head) and hold it against every signed checkpoint.

        On a log that was never checkpointed (written before checkpoints existed) this first records the
        switch-over point; after a clean result it signs a checkpoint of the head it checked.
        """
        files = self.files
        report = VerifyReport(key_file=files.key_file, checkpoint_file=files.checkpoint_file)
        if not self.keys.has_checkpoints():
            try:
                self._start_old_log()
            except (OSError, ConfigurationError) as exc:
                report.problems.append(f"cannot write the first checkpoint to {files.checkpoint_file}: {exc}")
        with reading(self.engine) as conn:
            rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings().all()
            head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).mappings().first()
        try:
            checkpoints, problems = self.checkpoints()
        except ConfigurationError as exc:
            checkpoints, problems = [], [str(exc)]
        report.problems.extend(problems)
        legacy_until = checkpoints[0].legacy_until if checkpoints else 0
        if any(cp.legacy_until != legacy_until for cp in checkpoints):
            report.problems.append("the checkpoints disagree on where the keyed chain starts (forged)")
        if rows and not checkpoints and not problems:
            report.problems.append(f"no checkpoint in {files.checkpoint_file} although the log holds keyed "
                                   "records (the file was lost or replaced)")
        report.legacy_until = legacy_until
        key = self._chain_key(rows, legacy_until, report)
        hashes = _walk_chain(rows, key, legacy_until, report)
        prev_seq = max(hashes)
        prev_hash = hashes[prev_seq]
        if head is None:
            report.problems.append("the audit head is missing")
        elif head["seq"] != prev_seq or head["hash"] != prev_hash:
            report.problems.append(
                f"the log ends at record {prev_seq} but the head says {head['seq']} (records cut off the end)"
            )
        report.head_hash = prev_hash
        report.problems.extend(_against_checkpoints(checkpoints, hashes, prev_seq))
        report.checkpoints = len(checkpoints)
        report.latest_checkpoint = max(checkpoints, key=lambda cp: cp.seq, default=None)

        latest = report.latest_checkpoint
        if report.ok and rows and (latest is None or latest.seq < prev_seq):
            try:
                self.keys.write_checkpoint(prev_seq, prev_hash, legacy_until)
                report.signed_seq = prev_seq
            except (OSError, ConfigurationError) as exc:
                log.warning("audit.checkpoint.failed seq=%s file=%s error=%s", prev_seq, files.checkpoint_file, exc)
        return report

    def _chain_key(self, rows: Sequence[RowMapping], legacy_until: int, report: VerifyReport) -> bytes | None:
        """The key that checks the keyed records (None: there are none, or it is missing: reported)."""
        if not rows or rows[-1]["seq"] <= legacy_until:
            return None
        try:
            key = self.keys.chain_key(create=False)
        except ConfigurationError as exc:
            report.problems.append(str(exc))
            return None
        if key is None:
            report.problems.append(f"the audit key {self.files.key_file} is missing: records "
                                   f"{legacy_until + 1}-{rows[-1]['seq']} cannot be checked")
        return key

    def export(self, out: IO[str], *, request_id: str | None = None) -> int:
        """Write every record as one JSON object per line; returns how many."""
        n = 0
        for record in self.records(request_id=request_id):
            out.write(json.dumps(record.as_json(), ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
        return n

    def _switch_over(self, conn: Connection, head: Any) -> int:
        """The last plain SHA-256 record: read from the first checkpoint, or recorded by writing it.

        Called with the head locked, so only one writer ever starts the checkpoint file.
        """
        if self._legacy_until is None:
            first = self.keys.first_checkpoint()
            if first is None:
                legacy_until = head["seq"] if self._is_plain(conn, head) else 0
                if head["seq"] and not legacy_until:
                    log.warning("audit.checkpoints.missing file=%s seq=%s: the log holds keyed records but no "
                                "checkpoint; starting the file again", self.files.checkpoint_file, head["seq"])
                first = self.keys.write_checkpoint(head["seq"], head["hash"], legacy_until)
            self._legacy_until = first.legacy_until
        return self._legacy_until

    def _start_old_log(self) -> None:
        """Record the switch-over point of a log that only holds plain SHA-256 records (or none)."""
        with writing(self.engine) as conn:
            head = conn.execute(select(audit_head).where(audit_head.c.id == 1).with_for_update()).mappings().first()
            if head is not None and (head["seq"] == 0 or self._is_plain(conn, head)):
                self._switch_over(conn, head)

    def _is_plain(self, conn: Connection, head: Any) -> bool:
        """Whether the head record is an old plain SHA-256 one (a log from before the keyed chain)."""
        if head["seq"] == 0:
            return False
        row = conn.execute(select(audit_log).where(audit_log.c.seq == head["seq"])).mappings().first()
        return row is not None and row["hash"] == head["hash"] and _row_hash(row, None) == row["hash"]


def _walk_chain(rows: Sequence[RowMapping], key: bytes | None, legacy_until: int,
                report: VerifyReport) -> dict[int, str]:
    """Every record's sequence, link and hash, problems into `report`; {seq: hash} from 0 (genesis) up."""
    prev_hash, prev_seq = GENESIS, 0
    hashes = {0: GENESIS}
    for row in rows:
        report.records += 1
        seq = row["seq"]
        if seq != prev_seq + 1:
            report.problems.append(f"record {seq}: expected sequence {prev_seq + 1} (records removed or reordered)")
        if row["prev_hash"] != prev_hash:
            report.problems.append(f"record {seq}: does not link to the record before it (removed or reordered)")
        checkable = seq <= legacy_until or key is not None
        if checkable and _row_hash(row, key if seq > legacy_until else None) != row["hash"]:
            report.problems.append(f"record {seq}: content does not match its hash (altered)")
        prev_hash, prev_seq = row["hash"], seq
        hashes[seq] = row["hash"]
    return hashes


def _against_checkpoints(checkpoints: list[Checkpoint], hashes: dict[int, str], last_seq: int) -> list[str]:
    problems = []
    beyond = [cp for cp in checkpoints if cp.seq > last_seq]
    if beyond:
        latest = max(beyond, key=lambda cp: cp.seq)
        problems.append(f"the log ends at record {last_seq} but the checkpoint of {latest.at} covers record "
                        f"{latest.seq} (records cut off the end)")
    differ = sorted((cp for cp in checkpoints if cp.seq <= last_seq and hashes.get(cp.seq) != cp.head_hash),
                    key=lambda cp: cp.seq)
    if differ:
        more = f"; {len(differ) - 1} later checkpoint(s) differ too" if len(differ) > 1 else ""
        problems.append(f"record {differ[0].seq}: differs from the signed checkpoint of {differ[0].at} "
                        f"(log rewritten){more}")
    return problems


def _row_hash(row: Any, key: bytes | None) -> str:
    return record_hash(row["seq"], row["at"], row["event"], row["request_id"], row["actor"], row["channel"],
                       row["data"], row["prev_hash"], key=key)


def _record(row: Any) -> AuditRecord:
    return AuditRecord(
        seq=row["seq"], at=row["at"], event=row["event"], request_id=row["request_id"], actor=row["actor"],
        channel=row["channel"], data=json.loads(row["data"]), prev_hash=row["prev_hash"], hash=row["hash"],
        key=row["key"],
    )
