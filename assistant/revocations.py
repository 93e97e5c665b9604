"""Revoked login tokens: one token by its id, or every token of a person issued before a moment.

Checked on every request (the current state, not a copy), in the install's SQL database, so a
revocation made by `aios token revoke` holds at once for every gateway that shares the database.
"""

from __future__ import annotations

import time

from sqlalchemy import Column, Float, MetaData, String, Table, delete, select
from sqlalchemy.engine import Engine

from assistant.db import reading, upsert, writing

_meta = MetaData()
revoked_tokens = Table(
    "revoked_tokens", _meta,
    Column("token_id", String(64), primary_key=True),
    Column("user_id", String(128), nullable=False),
    Column("revoked_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),  # after it the row is useless: the token is dead anyway
)
user_cutoffs = Table(
    "token_user_cutoffs", _meta,
    Column("user_id", String(128), primary_key=True),
    Column("not_before", Float, nullable=False),
)


class Revocations:
    """Which tokens no longer count, whatever their signature and expiry say."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def revoke_token(self, token_id: str, user_id: str, expires_at: float) -> None:
        with writing(self._engine) as conn:
            conn.execute(upsert(conn, revoked_tokens, {"token_id": token_id, "user_id": user_id,
                                                         "revoked_at": time.time(), "expires_at": expires_at},
                                 keys=["token_id"]))
            conn.execute(delete(revoked_tokens).where(revoked_tokens.c.expires_at < time.time() - 86400))

    def revoke_user(self, user_id: str, *, now: float | None = None) -> float:
        """Every token of `user_id` issued up to now stops counting; returns the cut-off."""
        cutoff = time.time() if now is None else now
        with writing(self._engine) as conn:
            conn.execute(upsert(conn, user_cutoffs, {"user_id": user_id, "not_before": cutoff},
                                 keys=["user_id"]))
        return cutoff

    def is_revoked(self, *, token_id: str, user_id: str, issued_at: float) -> bool:
        with reading(self._engine) as conn:
            if token_id and conn.execute(select(revoked_tokens.c.token_id)
                                         .where(revoked_tokens.c.token_id == token_id)).first():
                return True
            cutoff = conn.execute(select(user_cutoffs.c.not_before)
                                  .where(user_cutoffs.c.user_id == user_id)).scalar()
        # iat has whole seconds: a token minted in the same second as the cut-off is revoked too.
        return cutoff is not None and issued_at <= cutoff
