"""Delegation: an approver names a stand-in for a period; approval requests go to the stand-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Engine, Integer, MetaData, String, Table, Text, insert, select, update

from assistant.db import inserted_id, reading, serialize, writing

metadata = MetaData()

delegations = Table(
    "delegations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user", String(64), nullable=False, index=True),
    Column("delegate", String(64), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)


@dataclass(frozen=True)
class Delegation:
    id: int
    user: str
    delegate: str
    starts_at: datetime
    ends_at: datetime
    note: str

    def active(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


def as_utc(value: datetime) -> datetime:
    """The same moment in UTC; a naive time is taken as UTC (OverflowError when UTC cannot hold it)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Delegations:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def set(self, user: str, delegate: str, *, ends_at: datetime, starts_at: datetime | None = None,
            note: str = "") -> Delegation:
        """Replace the user's delegation with this one."""
        now = datetime.now(UTC)
        starts = as_utc(starts_at or now)
        with writing(self.engine) as conn:
            serialize(conn, f"delegations:{user}")  # one current delegation per person, whoever sets it
            conn.execute(update(delegations).where(delegations.c.user == user, delegations.c.revoked_at.is_(None))
                         .values(revoked_at=now))
            result = conn.execute(insert(delegations).values(
                user=user, delegate=delegate, starts_at=starts, ends_at=as_utc(ends_at), note=note, created_at=now))
        return Delegation(inserted_id(result), user, delegate, starts, as_utc(ends_at), note)

    def revoke(self, user: str) -> bool:
        with writing(self.engine) as conn:
            result = conn.execute(update(delegations).where(
                delegations.c.user == user, delegations.c.revoked_at.is_(None)).values(
                    revoked_at=datetime.now(UTC)))
        return result.rowcount > 0

    def current(self, user: str) -> Delegation | None:
        """The user's delegation that is not revoked (it may start later or have ended)."""
        return self._newest(user, revoked=False)

    def latest(self, user: str) -> Delegation | None:
        """The user's newest delegation, revoked or not (to tell running requests again that it ended)."""
        return self._newest(user, revoked=True)

    def _newest(self, user: str, *, revoked: bool) -> Delegation | None:
        query = select(delegations).where(delegations.c.user == user)
        if not revoked:
            query = query.where(delegations.c.revoked_at.is_(None))
        with reading(self.engine) as conn:
            row = conn.execute(query.order_by(delegations.c.id.desc()).limit(1)).mappings().first()
        if row is None:
            return None
        return Delegation(row["id"], row["user"], row["delegate"], as_utc(row["starts_at"]), as_utc(row["ends_at"]),
                          row["note"])

    def active_for(self, user: str, at: datetime) -> Delegation | None:
        d = self.current(user)
        return d if d is not None and d.active(as_utc(at)) else None
