"""Who opted out of the weekly digest (SQL; the gateway writes it, the digest reads it at send time)."""

from __future__ import annotations

import time

from sqlalchemy import Boolean, Column, Engine, Float, MetaData, String, Table, select

from assistant.db import reading, upsert, writing

metadata = MetaData()

# Created by migration core/0005. No row: the default (the digest is on).
digest_preferences = Table(
    "digest_preferences", metadata,
    Column("user_id", String(128), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", Float, nullable=False),
)


class DigestPreferences:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def enabled(self, user_id: str) -> bool:
        """Whether `user_id` gets the weekly digest (yes unless they turned it off)."""
        query = select(digest_preferences.c.enabled).where(digest_preferences.c.user_id == user_id)
        with reading(self.engine) as conn:
            value = conn.execute(query).scalar()
        return True if value is None else bool(value)

    def set(self, user_id: str, enabled: bool) -> bool:
        """Turn the person's digest on or off; returns the new setting."""
        with writing(self.engine) as conn:
            conn.execute(upsert(conn, digest_preferences,
                                {"user_id": user_id, "enabled": enabled, "updated_at": time.time()},
                                keys=["user_id"]))
        return enabled
