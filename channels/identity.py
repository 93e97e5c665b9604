"""Who is this Slack or Teams user in the company directory? One identity whatever the channel.

A channel user id maps to a directory user by the directory's channel ids (`channels: {slack: U...,
teams: <AAD object id>}`), else by the e-mail address the channel knows for them (Slack `users.info`,
the Teams member's UPN or e-mail). A mapping found by e-mail is remembered in SQL, so the assistant
can also reach that person proactively (approval cards, outcomes) after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import Column, Engine, Float, MetaData, String, Table, select

from assistant.db import reading, upsert, writing
from assistant.directory import Directory, User

log = logging.getLogger(__name__)

metadata = MetaData()

channel_links = Table(
    "channel_links", metadata,
    Column("channel", String(16), primary_key=True),
    Column("external_id", String(128), primary_key=True),
    Column("user_id", String(64), nullable=False, index=True),
    Column("updated_at", Float, nullable=False),
)

EmailLookup = Callable[[str], Awaitable[str | None]]


class ChannelIdentity:
    """Resolves one channel's user ids (e.g. "slack") to directory users, and back."""

    def __init__(self, directory: Directory, engine: Engine, *, channel: str, cache_seconds: float = 600) -> None:
        self.directory = directory
        self.engine = engine
        self.channel = channel
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[str | None, float]] = {}

    async def resolve(self, external_id: str, *, email: EmailLookup | None = None) -> User | None:
        """The directory user behind `external_id`, or None when they are not enrolled."""
        if not external_id:
            return None
        user = self.directory.by_channel_id(self.channel, external_id)
        if user is not None:
            return user
        cached = self._cache.get(external_id)
        if cached is not None and cached[1] > time.monotonic():
            return self.directory.find(cached[0]) if cached[0] else None
        user = await self._linked(external_id)
        if user is None and email is not None:
            address = await email(external_id)
            user = self.directory.by_email(address) if address else None
            if user is not None:
                await asyncio.to_thread(self._remember, external_id, user.id)
                log.info("identity.linked_by_email channel=%s external_id=%s user=%s",
                         self.channel, external_id, user.id)
        self._cache[external_id] = (user.id if user else None, time.monotonic() + self.cache_seconds)
        if user is None:
            log.info("identity.unknown channel=%s external_id=%s", self.channel, external_id)
        return user

    async def external_id(self, user: User) -> str | None:
        """How to reach `user` in this channel: the directory's id, else one learned from their messages."""
        if user.channels.get(self.channel):
            return user.channels[self.channel]
        return await asyncio.to_thread(self._learned_for, user.id)

    async def _linked(self, external_id: str) -> User | None:
        user_id = await asyncio.to_thread(self._learned, external_id)
        return self.directory.find(user_id) if user_id else None

    def _learned(self, external_id: str) -> str | None:
        query = select(channel_links.c.user_id).where(channel_links.c.channel == self.channel,
                                                      channel_links.c.external_id == external_id)
        with reading(self.engine) as conn:
            return conn.execute(query).scalar()

    def _learned_for(self, user_id: str) -> str | None:
        query = (select(channel_links.c.external_id)
                 .where(channel_links.c.channel == self.channel, channel_links.c.user_id == user_id)
                 .order_by(channel_links.c.updated_at.desc()).limit(1))
        with reading(self.engine) as conn:
            return conn.execute(query).scalar()

    def _remember(self, external_id: str, user_id: str) -> None:
        with writing(self.engine) as conn:
            conn.execute(upsert(conn, channel_links, dict(channel=self.channel, external_id=external_id,
                                                          user_id=user_id, updated_at=time.time()),
                                keys=["channel", "external_id"]))


NOT_ENROLLED = ("Sorry, I don't know you yet: your {channel} account is not linked to anyone in the company "
                "directory, so I can't help with requests or documents. Please ask your IT team to add you.")


def not_enrolled_text(channel: str) -> str:
    return NOT_ENROLLED.format(channel=channel)
