"""Web sessions after single sign-on, and the sign-ins under way, kept server-side in SQL.

The browser holds only a random session id in an HttpOnly cookie; the database keeps its hash, so a
copy of the table opens no session. Every gateway replica sharing the database sees the same
sessions, and signing out (or an expiry) holds at once for all of them. A sign-in under way (its
`state`, `nonce` and PKCE verifier) is a row that the callback takes exactly once.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Column, Engine, Float, MetaData, String, Table, Text, delete, select, update

from assistant.db import reading, writing
from assistant.settings.oidc import OidcSettings

metadata = MetaData()

web_sessions = Table(
    "web_sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", String(128), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("seen_at", Float, nullable=False, index=True),
    Column("id_token", Text, nullable=False, server_default=""),  # the hint for the provider's sign-out
)

web_logins = Table(
    "web_logins", metadata,
    Column("state", String(64), primary_key=True),
    Column("nonce", String(64), nullable=False),
    Column("verifier", String(128), nullable=False),
    Column("next_path", String(512), nullable=False),
    Column("created_at", Float, nullable=False, index=True),
)

# A sign-in must come back from the provider within this.
LOGIN_SECONDS = 600.0
# `seen_at` is written at most this often per session (idle timeouts are far longer).
TOUCH_SECONDS = 30.0


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class WebSession:
    user_id: str
    csrf: str
    created_at: float
    seen_at: float
    id_token: str


@dataclass(frozen=True)
class PendingLogin:
    state: str
    nonce: str
    verifier: str
    next_path: str


class Sessions:
    """Open, find (with idle and absolute timeouts), and end web sessions; hold sign-ins under way."""

    def __init__(self, engine: Engine, *, idle_seconds: float, max_seconds: float) -> None:
        self.engine = engine
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds

    @classmethod
    def configured(cls, engine: Engine, oidc: OidcSettings) -> Sessions:
        """The sessions with the timeouts of AIOS_OIDC_SESSION_*."""
        return cls(engine, idle_seconds=oidc.idle_seconds, max_seconds=oidc.max_seconds)

    def begin_login(self, next_path: str, *, now: float | None = None) -> PendingLogin:
        now = time.time() if now is None else now
        login = PendingLogin(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                             verifier=secrets.token_urlsafe(64), next_path=next_path)
        with writing(self.engine) as conn:
            conn.execute(delete(web_logins).where(web_logins.c.created_at < now - LOGIN_SECONDS))
            conn.execute(web_logins.insert().values(state=login.state, nonce=login.nonce, verifier=login.verifier,
                                                    next_path=next_path, created_at=now))
        return login

    def take_login(self, state: str, *, now: float | None = None) -> PendingLogin | None:
        """The sign-in that `state` names, removed so it can be used once; None if unknown or too old."""
        now = time.time() if now is None else now
        with writing(self.engine) as conn:
            row = conn.execute(select(web_logins).where(web_logins.c.state == state[:64])).first()
            if row is None:
                return None
            taken = conn.execute(delete(web_logins).where(web_logins.c.state == row.state)).rowcount
        if taken != 1 or row.created_at < now - LOGIN_SECONDS:
            return None  # another replica took it first, or it is stale
        return PendingLogin(state=row.state, nonce=row.nonce, verifier=row.verifier, next_path=row.next_path)

    def open(self, user_id: str, *, id_token: str = "", now: float | None = None) -> str:
        """A new session for `user_id`; returns the id for the cookie (only its hash is stored)."""
        now = time.time() if now is None else now
        session_id = secrets.token_urlsafe(32)
        with writing(self.engine) as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.seen_at < now - self.idle_seconds))
            conn.execute(web_sessions.insert().values(
                id_hash=_hash(session_id), user_id=user_id, csrf=secrets.token_urlsafe(32),
                created_at=now, seen_at=now, id_token=id_token))
        return session_id

    def find(self, session_id: str, *, now: float | None = None) -> WebSession | None:
        """The live session of `session_id` (its idle time restarts); None once it has expired."""
        now = time.time() if now is None else now
        key = _hash(session_id)
        with reading(self.engine) as conn:
            row = conn.execute(select(web_sessions).where(web_sessions.c.id_hash == key)).first()
        if row is None:
            return None
        if now - row.seen_at > self.idle_seconds or now - row.created_at > self.max_seconds:
            self.end(session_id)
            return None
        if now - row.seen_at > TOUCH_SECONDS:
            with writing(self.engine) as conn:
                conn.execute(update(web_sessions).where(web_sessions.c.id_hash == key).values(seen_at=now))
        return WebSession(user_id=row.user_id, csrf=row.csrf, created_at=row.created_at, seen_at=now,
                          id_token=row.id_token)

    def end(self, session_id: str) -> None:
        with writing(self.engine) as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == _hash(session_id)))

    def end_all(self, user_id: str) -> int:
        """Sign `user_id` out everywhere (e.g. with `aios token revoke --user`)."""
        with writing(self.engine) as conn:
            return conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id)).rowcount
