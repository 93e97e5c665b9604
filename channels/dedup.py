"""At-most-once processing of redelivered channel events (Slack Events API retries, Teams resends).

The first delivery claims the event id in SQL (shared by every gateway replica); a retry that
arrives while the first is still being processed, or after it, finds the claim and is dropped.
A delivery whose processing fails releases its claim, so the sender's next retry does the work.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Column, Engine, Float, MetaData, String, Table, delete, insert
from sqlalchemy.exc import IntegrityError

from assistant.db import writing

log = logging.getLogger(__name__)

metadata = MetaData()

channel_events = Table(
    "channel_events", metadata,
    Column("key", String(200), primary_key=True),
    Column("claimed_at", Float, nullable=False, index=True),
)


class EventClaims:
    def __init__(self, engine: Engine, *, ttl_seconds: int = 3600) -> None:
        self.engine = engine
        self.ttl_seconds = ttl_seconds
        self._last_prune = 0.0

    def claim(self, key: str) -> bool:
        """True for the first delivery of `key`; False for every redelivery within the TTL."""
        now = time.time()
        self._prune(now)
        try:
            with writing(self.engine) as conn:
                conn.execute(insert(channel_events).values(key=key[:200], claimed_at=now))
        except IntegrityError:
            return False
        return True

    def release(self, key: str) -> None:
        with writing(self.engine) as conn:
            conn.execute(delete(channel_events).where(channel_events.c.key == key[:200]))

    def _prune(self, now: float) -> None:
        if now - self._last_prune < 60:
            return
        self._last_prune = now
        with writing(self.engine) as conn:
            gone = conn.execute(delete(channel_events).where(
                channel_events.c.claimed_at < now - self.ttl_seconds)).rowcount
        if gone:
            log.debug("dedup.pruned rows=%s", gone)
